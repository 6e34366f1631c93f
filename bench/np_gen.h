/* SPDX-License-Identifier: GPL-2.0 */
/* np_gen: what the generator's BPF side (np_gen.bpf.c) and np_gen.c share. */
#ifndef NP_GEN_H
#define NP_GEN_H

#include <linux/types.h>

/* Header lengths: Ethernet 14, IPv4 20 or IPv6 40, UDP 8. */
#define NP_GEN_HDR4 42
#define NP_GEN_HDR6 62
#define NP_GEN_UDP4 34 /* offset of the UDP header */
#define NP_GEN_UDP6 54

/* The frame template, filled by np_gen.c before load (.bss). */
struct np_gen_tmpl {
	__u8 hdr[64]; /* the header, network byte order, as sent */
	__u32 flows;  /* source ports used: sport .. sport + flows - 1 */
	__u16 sport;  /* first source port, host order */
	__u16 csum;   /* UDP checksum of hdr (as stored); 0: none (IPv4) */
};

/* Per-CPU counters of the np_gen_cnt map, by index. */
enum {
	NP_GEN_CNT_TX = 0,   /* frames stamped and returned as XDP_TX */
	NP_GEN_CNT_SINK = 1, /* frames np_gen_sink_drop dropped */
	NP_GEN_CNT__MAX = 2,
};

struct np_gen_cnt {
	__u64 packets;
	__u64 flow; /* next flow index, < flows (generator only) */
};

#endif /* NP_GEN_H */
