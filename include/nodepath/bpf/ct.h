/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Connection tracking for the load balancer: np_ct (LRU hash, shared by XDP
 * and tc) holds one entry per direction of a flow to a service. TCP state
 * is kept just well enough to pick a timeout; an entry older than its
 * state's timeout counts as a miss on lookup (the LRU reclaims it later).
 */
#ifndef NP_CT_H
#define NP_CT_H

#include <linux/bpf.h>
#include <linux/in.h>
#include <linux/tcp.h>
#include <bpf/bpf_helpers.h>

#include <nodepath/abi.h>
#include <nodepath/bpf/ctx.h>
#include <nodepath/bpf/maps.h>
#include <nodepath/bpf/parse.h>
#include <nodepath/bpf/nat.h>

#define NP_NSEC 1000000000ULL
#define NP_CT_TO_NEW (60 * NP_NSEC)
#define NP_CT_TO_ESTABLISHED (6 * 3600 * NP_NSEC)
#define NP_CT_TO_CLOSING (10 * NP_NSEC)
#define NP_CT_TO_CLOSED (10 * NP_NSEC)
#define NP_CT_TO_UDP (60 * NP_NSEC)

/* TCP flag bits (byte 13 of the TCP header). */
#define NP_TCP_FIN 0x01
#define NP_TCP_SYN 0x02
#define NP_TCP_RST 0x04
#define NP_TCP_ACK 0x10

static __always_inline __u64 np_ct_timeout(__u8 proto, __u8 state)
{
	if (proto != IPPROTO_TCP)
		return NP_CT_TO_UDP;
	switch (state) {
	case NP_CT_NEW:
		return NP_CT_TO_NEW;
	case NP_CT_ESTABLISHED:
		return NP_CT_TO_ESTABLISHED;
	case NP_CT_CLOSING:
		return NP_CT_TO_CLOSING;
	}
	return NP_CT_TO_CLOSED;
}

/* The TCP flags byte of a parsed TCP packet, else 0. */
static __always_inline __u8 np_tcp_flags(const struct np_ctx *ctx, const struct np_pkt *pkt)
{
	int off = np_l4_off(pkt);
	__u8 *p;

	/* A later fragment has no TCP header (l4_off is 0). */
	if (pkt->l4_proto != IPPROTO_TCP || !(pkt->flags & NP_PKT_F_L4) || off < 0)
		return 0;
	p = ctx->data + off;
	if ((void *)(p + 14) > ctx->data_end)
		return 0;
	return p[13];
}

/* A SYN that opens a connection (no ACK). */
static __always_inline int np_tcp_is_syn(__u8 flags)
{
	return (flags & (NP_TCP_SYN | NP_TCP_ACK)) == NP_TCP_SYN;
}

/*
 * A client's packet that hits its FWD entry keeps the flow's REV entry in
 * step (np_ct_pair() in lb.h: refresh it, carry the TCP state over, write it
 * again if the LRU evicted it). That is one more lookup in a conntrack of
 * possibly millions of entries, so it is done only when due: when the
 * packet changed the TCP state, or when it is the flow's first packet in a
 * period of 2^NP_CT_PAIR_SHIFT ns (about 1.07 s; seen: the entry's last_ns
 * before this packet). REV's last_ns then trails FWD's by at most one
 * period: a flow's directions expire within a period of each other, and an
 * evicted REV is back within a period while the client sends.
 */
#define NP_CT_PAIR_SHIFT 30

static __always_inline __u32 np_ct_pair_due(__u64 seen, __u64 now, int state_changed)
{
	return state_changed || (seen >> NP_CT_PAIR_SHIFT) != (now >> NP_CT_PAIR_SHIFT);
}

/* The key of the packet's own tuple, in direction dir. */
static __always_inline void np_ct_key_pkt(struct np_ct_key *k, const struct np_pkt *pkt, __u8 dir)
{
	__builtin_memset(k, 0, sizeof(*k));
	k->family = pkt->family;
	k->proto = pkt->l4_proto;
	k->dir = dir;
	k->sport = pkt->sport;
	k->dport = pkt->dport;
	if (pkt->family == NP_AF_INET) {
		__builtin_memcpy(k->saddr, &pkt->saddr.v4, 4);
		__builtin_memcpy(k->daddr, &pkt->daddr.v4, 4);
	} else {
		__builtin_memcpy(k->saddr, pkt->saddr.v6, 16);
		__builtin_memcpy(k->daddr, pkt->daddr.v6, 16);
	}
}

/* The live entry for k, or NULL (missing, or past its timeout). */
static __always_inline struct np_ct_entry *np_ct_lookup(const struct np_ct_key *k, __u64 now)
{
	struct np_ct_entry *e = bpf_map_lookup_elem(&np_ct, k);

	if (!e)
		return (void *)0;
	if (now > e->last_ns && now - e->last_ns > np_ct_timeout(k->proto, e->state))
		return (void *)0;
	return e;
}

/*
 * Account one packet to e: reply is 1 for the backend's direction (REV).
 * SYN -> NEW; a reply, or the client's first non-SYN, -> ESTABLISHED;
 * FIN -> CLOSING; RST -> CLOSED.
 */
static __always_inline void np_ct_track(struct np_ct_entry *e, __u8 proto, __u8 flags, int reply,
					__u64 now)
{
	__u8 st = e->state;

	e->last_ns = now;
	if (proto != IPPROTO_TCP)
		return;
	if (flags & NP_TCP_RST)
		st = NP_CT_CLOSED;
	else if (flags & NP_TCP_FIN)
		st = st == NP_CT_CLOSED ? NP_CT_CLOSED : NP_CT_CLOSING;
	else if (st == NP_CT_NEW && (reply || !np_tcp_is_syn(flags)))
		st = NP_CT_ESTABLISHED;
	if (st != e->state)
		e->state = st;
}

#endif /* NP_CT_H */
