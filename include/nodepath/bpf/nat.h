/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Address and port rewriting for the load balancer: replace the source or
 * the destination (address and port) of a TCP/UDP packet and keep the IPv4
 * header checksum and the L4 checksum right.
 *
 * One interface, two implementations chosen at compile time by the object:
 *  - XDP (an object that defines NP_BPF_XDP before its includes): direct
 *    packet writes and the RFC 1624 arithmetic of csum.h. A frame in XDP
 *    carries complete checksums (see the note on veth below).
 *  - tc: the L4 checksum through bpf_l4_csum_replace() (BPF_F_PSEUDO_HDR
 *    for the address, which the pseudo-header covers; BPF_F_IPV6 for IPv6,
 *    whose header has no checksum to compensate skb->csum; and
 *    BPF_F_MARK_MANGLED_0 for UDP). The helper looks at skb->ip_summed:
 *    for a CHECKSUM_PARTIAL skb (a veth frame from a local socket) the
 *    field holds the uncomplemented pseudo-header sum, so an address change
 *    is applied with the opposite sign and a port change not at all, as
 *    inet_proto_csum_replace4() does; for CHECKSUM_COMPLETE it also fixes
 *    skb->csum. Plain arithmetic on the field would corrupt both cases.
 *    The IPv4 header checksum and the bytes are written through
 *    bpf_l3_csum_replace() / bpf_skb_store_bytes().
 *
 * Veth with native (or generic) XDP: a frame a local socket sent in
 * CHECKSUM_PARTIAL state reaches XDP with only the pseudo-header sum in
 * its L4 checksum field; rewritten with the arithmetic above and sent with
 * XDP_TX it leaves with a wrong checksum (measured: the receiver counts
 * TCP InCsumErrors). np_l4_csum_partial() recognises such frames and lb.h
 * leaves them to tc (NP_LB_DEFER).
 *
 * Callers guarantee an untagged Ethernet frame (the IP header at
 * ETH_HLEN) whose L4 header the parser checked (NP_PKT_F_L4).
 */
#ifndef NP_NAT_H
#define NP_NAT_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include <nodepath/abi.h>
#include <nodepath/bpf/ctx.h>
#include <nodepath/bpf/parse.h>
#include <nodepath/bpf/csum.h>
#include <nodepath/bpf/frag.h>

#define NP_NAT_SRC 0
#define NP_NAT_DST 1

/* The L4 header must start within this many bytes (bounds the offset). */
#define NP_NAT_L4_OFF_MAX 511

/*
 * The parse's L4 offset in a form the verifier can bound (the mask,
 * which the compiler may not drop behind the barrier), or -1 past
 * NP_NAT_L4_OFF_MAX.
 */
static __always_inline int np_l4_off(const struct np_pkt *pkt)
{
	__u32 off = pkt->l4_off;

	if (off > NP_NAT_L4_OFF_MAX)
		return -1;
	barrier_var(off);
	return (int)(off & NP_NAT_L4_OFF_MAX);
}

static __always_inline __u32 np_nat_csum_off(__u8 proto)
{
	return proto == IPPROTO_TCP ? offsetof(struct tcphdr, check)
				    : offsetof(struct udphdr, check);
}

/* Record a rewrite in the parse, so later steps see the new tuple. */
static __always_inline void np_nat_note(struct np_pkt *pkt, int side, const __u8 *addr, __be16 port)
{
	if (side == NP_NAT_DST) {
		if (pkt->family == NP_AF_INET)
			__builtin_memcpy(&pkt->daddr.v4, addr, 4);
		else
			__builtin_memcpy(pkt->daddr.v6, addr, 16);
		pkt->dport = port;
	} else {
		if (pkt->family == NP_AF_INET)
			__builtin_memcpy(&pkt->saddr.v4, addr, 4);
		else
			__builtin_memcpy(pkt->saddr.v6, addr, 16);
		pkt->sport = port;
	}
}

#ifdef NP_BPF_XDP

/*
 * Does the L4 checksum field hold only the folded pseudo-header sum, as a
 * CHECKSUM_PARTIAL skb's does? Native XDP on veth sees such frames when the
 * peer's sender (a local socket) left the checksum to offload, and XDP
 * cannot read skb->ip_summed. A complete checksum that happens to equal the
 * sum (1 in 65536) is harmless: the frame is only handed on to tc, which
 * does the same work with the skb helpers (see np_lb()).
 */
static __always_inline int np_l4_csum_partial(const struct np_ctx *ctx, const struct np_pkt *pkt)
{
	int l4 = np_l4_off(pkt), alen = pkt->family == NP_AF_INET ? 4 : 16;
	__u16 *check;
	__u32 s;

	if (l4 < 0 || !(pkt->flags & NP_PKT_F_L4))
		return 0;
	check = ctx->data + l4 + np_nat_csum_off(pkt->l4_proto);
	if ((void *)(check + 1) > ctx->data_end)
		return 0;
	s = np_csum_add_bytes(0, pkt->saddr.v6, alen);
	s = np_csum_add_bytes(s, pkt->daddr.v6, alen);
	s += bpf_htons((__u16)pkt->l4_proto) + bpf_htons((__u16)pkt->l4_len);
	return *check == np_csum_fold16(s);
}

#else

static __always_inline int np_l4_csum_partial(const struct np_ctx *ctx, const struct np_pkt *pkt)
{
	/* tc: bpf_l4_csum_replace() reads skb->ip_summed itself. */
	return 0;
}

#endif /* NP_BPF_XDP */

#ifdef NP_BPF_XDP

/*
 * Replace one side of the tuple (addr: 4 or 16 bytes by family, port in
 * network order). 0, or -1 when the headers are not where the parse said.
 */
static __always_inline int np_nat_rewrite(struct np_ctx *ctx, struct np_pkt *pkt, int side,
					  const __u8 *addr, __be16 port)
{
	void *data = ctx->data, *data_end = ctx->data_end;
	int l4 = np_l4_off(pkt);
	__u32 d = 0;
	struct ipv6hdr *ip6;
	struct tcphdr *th;
	struct udphdr *uh;
	struct iphdr *ip;
	__be32 a4;
	__be16 *pp;
	__u8 *a6;

	/* A later fragment (no L4 header): the addresses only, frag.h. */
	if (!(pkt->flags & NP_PKT_F_L4))
		return np_frag_rewrite_l3(ctx, pkt, side == NP_NAT_DST, addr, port);
	if (l4 < 0)
		return -1;
	if (pkt->family == NP_AF_INET) {
		ip = data + ETH_HLEN;
		if ((void *)(ip + 1) > data_end)
			return -1;
		__builtin_memcpy(&a4, addr, 4);
		if (side == NP_NAT_DST) {
			d = np_csum_delta32(0, ip->daddr, a4);
			ip->daddr = a4;
		} else {
			d = np_csum_delta32(0, ip->saddr, a4);
			ip->saddr = a4;
		}
		ip->check = np_csum_apply(ip->check, d);
	} else {
		ip6 = data + ETH_HLEN;
		if ((void *)(ip6 + 1) > data_end)
			return -1;
		a6 = side == NP_NAT_DST ? (__u8 *)&ip6->daddr : (__u8 *)&ip6->saddr;
		d = np_csum_delta_bytes(0, a6, addr, 16);
		__builtin_memcpy(a6, addr, 16);
	}

	if (pkt->l4_proto == IPPROTO_TCP) {
		th = data + l4;
		if ((void *)(th + 1) > data_end)
			return -1;
		pp = side == NP_NAT_DST ? &th->dest : &th->source;
		d = np_csum_delta16(d, *pp, port);
		*pp = port;
		th->check = np_csum_apply(th->check, d);
	} else {
		uh = data + l4;
		if ((void *)(uh + 1) > data_end)
			return -1;
		pp = side == NP_NAT_DST ? &uh->dest : &uh->source;
		d = np_csum_delta16(d, *pp, port);
		*pp = port;
		/* IPv6 UDP always has a checksum; a zero one is broken anyway. */
		uh->check = np_csum_apply_udp4(uh->check, d);
	}
	np_nat_note(pkt, side, addr, port);
	return 0;
}

#else /* tc */

static __always_inline int np_nat_rewrite(struct np_ctx *ctx, struct np_pkt *pkt, int side,
					  const __u8 *addr, __be16 port)
{
	struct __sk_buff *skb = ctx->raw;
	int l4 = np_l4_off(pkt);
	__u32 csum, aoff, poff;
	__u64 mm = 0;
	__u8 old6[16], new6[16];
	__be32 old4, new4;
	__be16 oldp;
	__s64 diff;

	/* A later fragment (no L4 header): the addresses only, frag.h. */
	if (!(pkt->flags & NP_PKT_F_L4))
		return np_frag_rewrite_l3(ctx, pkt, side == NP_NAT_DST, addr, port);
	if (l4 < 0)
		return -1;
	if (pkt->l4_proto == IPPROTO_UDP)
		mm = BPF_F_MARK_MANGLED_0;
	csum = l4 + np_nat_csum_off(pkt->l4_proto);
	poff = l4 + (side == NP_NAT_DST ? 2 : 0);
	oldp = side == NP_NAT_DST ? pkt->dport : pkt->sport;

	if (pkt->family == NP_AF_INET) {
		aoff = ETH_HLEN + (side == NP_NAT_DST ? offsetof(struct iphdr, daddr)
						      : offsetof(struct iphdr, saddr));
		old4 = side == NP_NAT_DST ? pkt->daddr.v4 : pkt->saddr.v4;
		__builtin_memcpy(&new4, addr, 4);
		if (bpf_l4_csum_replace(skb, csum, old4, new4, BPF_F_PSEUDO_HDR | mm | 4))
			return -1;
		if (bpf_l3_csum_replace(skb, ETH_HLEN + offsetof(struct iphdr, check), old4, new4,
					4))
			return -1;
		if (bpf_skb_store_bytes(skb, aoff, &new4, 4, 0))
			return -1;
	} else {
		aoff = ETH_HLEN + (side == NP_NAT_DST ? offsetof(struct ipv6hdr, daddr)
						      : offsetof(struct ipv6hdr, saddr));
		if (side == NP_NAT_DST)
			__builtin_memcpy(old6, pkt->daddr.v6, 16);
		else
			__builtin_memcpy(old6, pkt->saddr.v6, 16);
		__builtin_memcpy(new6, addr, 16);
		diff = bpf_csum_diff((__be32 *)old6, 16, (__be32 *)new6, 16, 0);
		if (diff < 0)
			return -1;
		if (bpf_l4_csum_replace(skb, csum, 0, (__u64)diff,
					BPF_F_PSEUDO_HDR | BPF_F_IPV6 | mm))
			return -1;
		if (bpf_skb_store_bytes(skb, aoff, new6, 16, 0))
			return -1;
	}
	if (bpf_l4_csum_replace(skb, csum, oldp, port, mm | 2))
		return -1;
	if (bpf_skb_store_bytes(skb, poff, &port, 2, 0))
		return -1;
	/* The helpers may have moved the packet: derive the pointers again. */
	np_ctx_reload_skb(ctx, skb);
	np_nat_note(pkt, side, addr, port);
	return 0;
}

#endif /* NP_BPF_XDP */

/*
 * Forwarding to another host: TTL / hop limit down by one and the
 * Ethernet addresses from the FIB. Direct writes in both contexts: the IPv4
 * header checksum is complete in every skb state, and the TTL change and
 * its checksum change cancel out in a CHECKSUM_COMPLETE skb->csum.
 * Returns 0, 1 when the TTL runs out (the stack answers), -1 on bounds.
 */
static __always_inline int np_nat_fwd_l2(struct np_ctx *ctx, const struct np_pkt *pkt,
					 const __u8 *dmac, const __u8 *smac)
{
	void *data = ctx->data, *data_end = ctx->data_end;
	struct ethhdr *eth = data;
	struct ipv6hdr *ip6;
	struct iphdr *ip;
	__u32 d;

	if ((void *)(eth + 1) > data_end)
		return -1;
	if (pkt->family == NP_AF_INET) {
		ip = data + ETH_HLEN;
		if ((void *)(ip + 1) > data_end)
			return -1;
		if (ip->ttl <= 1)
			return 1;
		/* TTL is the high byte of its word (in memory order). */
		d = np_csum_delta16(0, bpf_htons((__u16)ip->ttl << 8),
				    bpf_htons((__u16)(ip->ttl - 1) << 8));
		ip->check = np_csum_apply(ip->check, d);
		ip->ttl--;
	} else {
		ip6 = data + ETH_HLEN;
		if ((void *)(ip6 + 1) > data_end)
			return -1;
		if (ip6->hop_limit <= 1)
			return 1;
		ip6->hop_limit--;
	}
	__builtin_memcpy(eth->h_dest, dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, smac, ETH_ALEN);
	return 0;
}

#endif /* NP_NAT_H */
