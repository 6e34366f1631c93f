/* SPDX-License-Identifier: GPL-2.0 */
/* np_progrun: what bench/np_progrun.c and bench/np_progrun.bpf.c share. */
#ifndef NP_PROGRUN_H
#define NP_PROGRUN_H

#include <linux/types.h>

/* Bytes of the template the wrapper writes on every run: Ethernet + IPv4 + UDP and more. */
#define NP_PR_HDR 64

/* Offsets inside an untagged Ethernet + IPv4 (IHL 5) + UDP frame. */
#define NP_PR_OFF_IPCSUM 24
#define NP_PR_OFF_SRC_LO 28 /* the source address's last 16-bit word */
#define NP_PR_OFF_SPORT 34
#define NP_PR_OFF_UDPCSUM 40

/*
 * The packet every run starts from (np_pr_tmpl[0]). Run i of a flow set
 * uses flow f = i % flows: UDP source port + f % NP_PR_PORTS, the source
 * address's last 16-bit word + f / NP_PR_PORTS; both checksums follow
 * incrementally (the template's are right for f = 0).
 */
#define NP_PR_PORTS 16384
struct np_pr_tmpl {
	__u32 flows; /* 1..1 << 20 */
	__u32 len;   /* frame length test_run was given */
	__u8 pkt[NP_PR_HDR];
};

#endif /* NP_PROGRUN_H */
