/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Fragments of a datagram to or from a service (IPv4 and IPv6).
 *
 * Only the first fragment (offset 0) carries the TCP/UDP header, so only
 * it can be balanced or reverse-NATed by its ports. When it is (lb.h
 * rewrote it), its ports are recorded in np_frag under the datagram's
 * identity (family, protocol, identification, source, destination as they
 * arrived). A later fragment (offset > 0) looks them up and then takes
 * exactly the decision a packet with those ports would: the same CT entry,
 * the same backend. Its rewrite is L3 only (the addresses, and the IPv4
 * header checksum): it has no L4 header, and the L4 checksum, which covers
 * the whole datagram, was already fixed in the first fragment.
 *
 * Limits: a later fragment that arrives before its first one finds no
 * record; to a VIP it is dropped with NP_DROP_LB_FRAG (lb.h, the VIP
 * marker), anything else goes on untouched. A record lives for
 * NP_FRAG_TIMEOUT (the reassembly timeouts: 30 s IPv4, 60 s IPv6) or until
 * the LRU reclaims it. Fragments of one datagram must reach the same node
 * (any fabric that hashes on addresses only does that).
 */
#ifndef NP_FRAG_H
#define NP_FRAG_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include <nodepath/abi.h>
#include <nodepath/bpf/ctx.h>
#include <nodepath/bpf/maps.h>
#include <nodepath/bpf/parse.h>
#include <nodepath/bpf/csum.h>

#define NP_FRAG_TIMEOUT (60 * 1000000000ULL)

/* A first fragment's record, kept aside until its decision is known. */
struct np_frag_scratch {
	struct np_frag_key k;
	struct np_frag_val v;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct np_frag_scratch);
} np_frag_scratch SEC(".maps");

static __always_inline void np_frag_key_pkt(struct np_frag_key *k, const struct np_pkt *pkt)
{
	__builtin_memset(k, 0, sizeof(*k));
	k->family = pkt->family;
	k->proto = pkt->l4_proto;
	k->id = pkt->frag_id;
	if (pkt->family == NP_AF_INET) {
		__builtin_memcpy(k->saddr, &pkt->saddr.v4, 4);
		__builtin_memcpy(k->daddr, &pkt->daddr.v4, 4);
	} else {
		__builtin_memcpy(k->saddr, pkt->saddr.v6, 16);
		__builtin_memcpy(k->daddr, pkt->daddr.v6, 16);
	}
}

/*
 * np_frag_begin() and np_frag_commit() are global functions: the verifier
 * checks each once, not again for every state the program calls them in.
 *
 * Before the decision on a TCP/UDP packet. A later fragment: take the ports
 * of its first fragment from np_frag (NP_PKT_F_FRAG_PORTS) when they are
 * known. A first fragment: keep its record aside and return 1; the caller
 * commits it with np_frag_commit() when the packet was rewritten.
 */
__noinline int np_frag_begin(struct np_pkt *pkt, __u64 now)
{
	struct np_frag_scratch *s;
	struct np_frag_val *v;
	__u32 zero = 0;

	if (!pkt || !(pkt->flags & NP_PKT_F_FRAG))
		return 0;
	s = bpf_map_lookup_elem(&np_frag_scratch, &zero);
	if (!s)
		return 0;
	np_frag_key_pkt(&s->k, pkt);
	if (!(pkt->flags & NP_PKT_F_L4)) {
		v = bpf_map_lookup_elem(&np_frag, &s->k);
		if (!v || (now > v->last_ns && now - v->last_ns > NP_FRAG_TIMEOUT))
			return 0;
		pkt->sport = v->sport;
		pkt->dport = v->dport;
		pkt->flags |= NP_PKT_F_FRAG_PORTS;
		return 0;
	}
	__builtin_memset(&s->v, 0, sizeof(s->v));
	s->v.sport = pkt->sport;
	s->v.dport = pkt->dport;
	return 1;
}

/* The first fragment was balanced or reverse-NATed: remember its ports. */
__noinline int np_frag_commit(__u64 now)
{
	struct np_frag_scratch *s;
	__u32 zero = 0;

	s = bpf_map_lookup_elem(&np_frag_scratch, &zero);
	if (!s)
		return 0;
	s->v.last_ns = now;
	bpf_map_update_elem(&np_frag, &s->k, &s->v, BPF_ANY);
	return 0;
}

/* Record an L3-only rewrite in the parse (addresses, and the ports used). */
static __always_inline void np_frag_note(struct np_pkt *pkt, int dst, const __u8 *addr, __be16 port)
{
	union np_addr *a = dst ? &pkt->daddr : &pkt->saddr;

	if (pkt->family == NP_AF_INET)
		__builtin_memcpy(&a->v4, addr, 4);
	else
		__builtin_memcpy(a->v6, addr, 16);
	if (dst)
		pkt->dport = port;
	else
		pkt->sport = port;
}

/*
 * The rewrite of a later fragment: the source (dst 0) or destination
 * (dst 1) address only (addr: 4 or 16 bytes by family, 4-byte aligned).
 * 0, or -1 when the header is not where the parse said. Inlined into the
 * NAT steps, whose stack is tight: no locals beyond registers.
 */
#ifdef NP_BPF_XDP

static __always_inline int np_frag_rewrite_l3(struct np_ctx *ctx, struct np_pkt *pkt, int dst,
					      const __u8 *addr, __be16 port)
{
	void *data = ctx->data, *data_end = ctx->data_end;
	struct ipv6hdr *ip6;
	struct iphdr *ip;
	__be32 *f4;

	if (pkt->family == NP_AF_INET) {
		ip = data + ETH_HLEN;
		if ((void *)(ip + 1) > data_end)
			return -1;
		f4 = dst ? &ip->daddr : &ip->saddr;
		ip->check =
			np_csum_apply(ip->check, np_csum_delta32(0, *f4, *(const __be32 *)addr));
		*f4 = *(const __be32 *)addr;
	} else {
		ip6 = data + ETH_HLEN;
		if ((void *)(ip6 + 1) > data_end)
			return -1;
		__builtin_memcpy(dst ? (__u8 *)&ip6->daddr : (__u8 *)&ip6->saddr, addr, 16);
	}
	np_frag_note(pkt, dst, addr, port);
	return 0;
}

#else /* tc */

static __always_inline int np_frag_rewrite_l3(struct np_ctx *ctx, struct np_pkt *pkt, int dst,
					      const __u8 *addr, __be16 port)
{
	struct __sk_buff *skb = ctx->raw;

	if (pkt->family == NP_AF_INET) {
		if (bpf_l3_csum_replace(skb, ETH_HLEN + offsetof(struct iphdr, check),
					dst ? pkt->daddr.v4 : pkt->saddr.v4, *(const __be32 *)addr,
					4))
			return -1;
		if (bpf_skb_store_bytes(skb,
					ETH_HLEN + (dst ? offsetof(struct iphdr, daddr)
							: offsetof(struct iphdr, saddr)),
					addr, 4, 0))
			return -1;
	} else {
		/* No header checksum: keep a CHECKSUM_COMPLETE skb->csum right. */
		if (bpf_skb_store_bytes(skb,
					ETH_HLEN + (dst ? offsetof(struct ipv6hdr, daddr)
							: offsetof(struct ipv6hdr, saddr)),
					addr, 16, BPF_F_RECOMPUTE_CSUM))
			return -1;
	}
	np_ctx_reload_skb(ctx, skb);
	np_frag_note(pkt, dst, addr, port);
	return 0;
}

#endif /* NP_BPF_XDP */

#endif /* NP_FRAG_H */
