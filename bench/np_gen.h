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
#define NP_GEN_IPCSUM4 24 /* offset of the IPv4 header checksum */
#define NP_GEN_SLO4 28	  /* offset of the source address's last 16-bit word */
#define NP_GEN_SLO6 36

/*
 * The frame template, filled by np_gen.c before load (.bss). Flow i of
 * 0..flows-1 has source port sport + i % ports and the source address's
 * last 16-bit word saddr_lo + i / ports: up to 2^20 distinct tuples.
 */
struct np_gen_tmpl {
	__u8 hdr[64];	/* the header of flow 0, network byte order, as sent */
	__u32 flows;	/* distinct tuples */
	__u16 sport;	/* first source port, host order */
	__u16 csum;	/* UDP checksum of hdr (as stored) */
	__u32 ports;	/* source ports per source address, 1..flows */
	__u16 ip_csum;	/* IPv4 header checksum of hdr (as stored); 0 for IPv6 */
	__u16 saddr_lo; /* the source address's last 16-bit word, host order */
};

/* The reflector's destination and source MACs (.bss), and its device. */
struct np_gen_refl {
	__u16 mac[6]; /* destination then source MAC, network order */
	__u32 ifindex;
};

/* Per-CPU counters of the np_gen_cnt map, by index. */
enum {
	NP_GEN_CNT_TX = 0,	/* frames stamped and returned as XDP_TX */
	NP_GEN_CNT_SINK = 1,	/* frames np_gen_sink_drop dropped or np_gen_reflect sent */
	NP_GEN_CNT_TC_SINK = 2, /* packets np_gen_sink_tc dropped */
	NP_GEN_CNT__MAX = 3,
};

struct np_gen_cnt {
	__u64 packets;
	__u32 port; /* next flow's port index, < ports (generator only) */
	__u32 addr; /* next flow's address index (generator only) */
};

#endif /* NP_GEN_H */
