/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Direct server return by IPIP (IPv4) and IP6IP6 (IPv6), both ends:
 *
 *  - the ingress node (np_dsr_tx, XDP and tc): lb.h chose a remote backend
 *    of a DSR service (NP_LB_DSR; the backend listens on the service port).
 *    The client's packet, untouched (client -> VIP:port, TTL / hop limit
 *    kept), goes inside an outer header toward the backend's address (the
 *    FIB routes it to the backend's node), with a source address picked by
 *    the flow hash so that the receiving NIC's RSS spreads the flows:
 *      IPv4: protocol IPPROTO_IPIP, source in 198.18.255.0/24
 *            (NP_DSR_SRC4_NET), TTL 64, TOS and DF copied from the inner
 *            header, ID 0;
 *      IPv6: next header IPPROTO_IPV6 (41), source fd00:18:ffff::/96 with
 *            the hash as its low 32 bits (NP_DSR_SRC6_W*), hop limit 64,
 *            traffic class copied, flow label = the hash's low 20 bits.
 *    The MACs come from the FIB: XDP_TX (or bpf_redirect), tc: bpf_redirect
 *    / bpf_redirect_neigh. No CT REV entry: the reply never comes back
 *    through this node.
 *
 *  - the backend's node (np_dsr_rx, tc only): an IPIP / IP6IP6 packet (outer
 *    header without options or extension headers, no fragment) whose outer
 *    destination is a local endpoint, and whose inner destination is a DSR
 *    service of this node (the service is configured on every node that has
 *    backends), is decapsulated; the inner destination address becomes the
 *    endpoint's (the port stays: no translation), and a CT REV entry
 *    (endpoint:port -> client) makes np_pod_from put the VIP back as the
 *    reply's source, after which the reply is forwarded by the FIB straight
 *    to the client. XDP does not decapsulate: it passes such packets
 *    unmarked (np_dsr_is_ipip) and tc does the work.
 *
 * An outer packet larger than the path MTU is not fragmented, and no ICMP
 * (frag-needed, Packet Too Big) is sent for it: the fabric must leave 20
 * (IPv4) or 40 (IPv6) bytes of room. The tc path, like the stack, lets the
 * device drop it; XDP's FIB lookup refuses it (NP_DROP_FIB).
 */
#ifndef NP_DSR_H
#define NP_DSR_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include <nodepath/abi.h>
#include <nodepath/bpf/ctx.h>
#include <nodepath/bpf/maps.h>
#include <nodepath/bpf/parse.h>
#include <nodepath/bpf/stats.h>
#include <nodepath/bpf/ct.h>
#include <nodepath/bpf/nat.h>
#include <nodepath/bpf/lb.h>

#define NP_DSR_HLEN 20	/* the outer IPv4 header, no options */
#define NP_DSR_HLEN6 40 /* the outer IPv6 header, no extension headers */
#define NP_DSR_SEED 0x6e704453

#ifndef BPF_F_ADJ_ROOM_DECAP_L3_IPV4
#define BPF_F_ADJ_ROOM_DECAP_L3_IPV4 (1ULL << 7)
#endif

/* An IPIP or IP6IP6 packet that np_dsr_rx() may want: XDP leaves it to tc. */
static __always_inline int np_dsr_is_ipip(const struct np_pkt *pkt)
{
	if (pkt->vlans)
		return 0;
	return (pkt->family == NP_AF_INET && pkt->l4_proto == IPPROTO_IPIP) ||
	       (pkt->family == NP_AF_INET6 && pkt->l4_proto == IPPROTO_IPV6);
}

/* The flow's outer source: 198.18.255.1 .. .254 by the flow hash. */
static __always_inline __be32 np_dsr_src4(const struct np_pkt *pkt)
{
	return bpf_htonl(NP_DSR_SRC4_NET + 1 + np_lb_hash(pkt, NP_DSR_SEED) % NP_DSR_SRC4_HOSTS);
}

/*
 * The outer header for the inner one at ip (bounds checked by the caller),
 * its checksum complete. 0, or -1 when the result would be too long.
 */
static __always_inline int np_dsr_outer(struct iphdr *o, const struct iphdr *in, __be32 src,
					__be32 dst)
{
	const __u16 *w = (const __u16 *)o;
	__u32 len = bpf_ntohs(in->tot_len) + NP_DSR_HLEN, s = 0;
	int i;

	if (len > 0xffff)
		return -1;
	__builtin_memset(o, 0, sizeof(*o));
	o->version = 4;
	o->ihl = 5;
	o->tos = in->tos;
	o->tot_len = bpf_htons((__u16)len);
	o->frag_off = in->frag_off & bpf_htons(0x4000); /* DF */
	o->ttl = 64;
	o->protocol = IPPROTO_IPIP;
	o->saddr = src;
	o->daddr = dst;
#pragma unroll
	for (i = 0; i < NP_DSR_HLEN / 2; i++)
		s += w[i];
	o->check = (__u16)~np_csum_fold16(s);
	return 0;
}

/*
 * The outer IPv6 header for the inner one at in (bounds checked by the
 * caller), the source fd00:18:ffff::<h>, the flow label h's low 20 bits.
 * 0, or -1 when the result would be too long.
 */
static __always_inline int np_dsr_outer6(struct ipv6hdr *o, const struct ipv6hdr *in, __u32 h,
					 const __u8 *dst)
{
	__u32 len = bpf_ntohs(in->payload_len) + NP_DSR_HLEN6, w0, *sw;

	if (len > 0xffff)
		return -1;
	__builtin_memset(o, 0, sizeof(*o));
	__builtin_memcpy(&w0, in, 4);
	/* version 6, the inner traffic class, the flow label */
	w0 = 0x60000000U | (bpf_ntohl(w0) & 0x0ff00000U) | (h & 0x000fffffU);
	w0 = bpf_htonl(w0);
	__builtin_memcpy(o, &w0, 4);
	o->payload_len = bpf_htons((__u16)len);
	o->nexthdr = IPPROTO_IPV6;
	o->hop_limit = 64;
	sw = (__u32 *)&o->saddr;
	sw[0] = bpf_htonl(NP_DSR_SRC6_W0);
	sw[1] = bpf_htonl(NP_DSR_SRC6_W1);
	sw[2] = bpf_htonl(NP_DSR_SRC6_W2);
	sw[3] = bpf_htonl(h ? h : 1);
	__builtin_memcpy(&o->daddr, dst, 16);
	return 0;
}

static __always_inline void np_dsr_fib_params6(struct bpf_fib_lookup *p, const struct ipv6hdr *o,
					       __u32 ifindex, __u16 tot_len)
{
	__builtin_memset(p, 0, sizeof(*p));
	p->family = NP_AF_INET6;
	p->ifindex = ifindex;
	p->l4_protocol = IPPROTO_IPV6;
	p->tot_len = tot_len;
	p->flowinfo = *(const __be32 *)o & bpf_htonl(0x0fffffffU);
	__builtin_memcpy(p->ipv6_src, &o->saddr, 16);
	__builtin_memcpy(p->ipv6_dst, &o->daddr, 16);
}

static __always_inline void np_dsr_fib_params(struct bpf_fib_lookup *p, __be32 src, __be32 dst,
					      __u32 ifindex, __u16 tot_len)
{
	__builtin_memset(p, 0, sizeof(*p));
	p->family = NP_AF_INET;
	p->ifindex = ifindex;
	p->l4_protocol = IPPROTO_IPIP;
	p->tot_len = tot_len;
	p->ipv4_src = src;
	p->ipv4_dst = dst;
}

#ifdef NP_BPF_XDP

/*
 * XDP, both families: FIB first (nothing changes when it fails), then
 * hlen bytes of headroom (the outer header's size), the Ethernet header
 * moved to the front, the outer header o written after it. Without a
 * neighbour entry the encapsulated packet goes to the stack, which
 * forwards it (and resolves the neighbour). hlen is a constant at every
 * call site, so the copies stay fixed-size once inlined.
 */
static __always_inline int np_dsr_xdp_out(struct np_ctx *ctx, struct bpf_fib_lookup *p,
					  const __u32 *o, const __u32 hlen)
{
	struct xdp_md *xdp = ctx->raw;
	struct ethhdr *eth, *old;
	__u32 *in;
	__u32 ifin = p->ifindex;
	void *data;
	long rc;

	rc = bpf_fib_lookup(xdp, p, sizeof(*p), 0);
	if (rc != BPF_FIB_LKUP_RET_SUCCESS && rc != BPF_FIB_LKUP_RET_NO_NEIGH)
		return np_drop(ctx, NP_DROP_FIB);

	if (bpf_xdp_adjust_head(xdp, -(int)hlen))
		return np_drop(ctx, NP_DROP_L2_TRUNC);
	data = (void *)(long)xdp->data;
	ctx->data = data;
	ctx->data_end = (void *)(long)xdp->data_end;
	eth = data;
	old = data + hlen;
	if ((void *)(old + 1) > ctx->data_end)
		return np_drop(ctx, NP_DROP_L2_TRUNC);
	__builtin_memcpy(eth, old, ETH_HLEN); /* 14 < hlen (20 or 40): no overlap */
	/* 32-bit words, as the IP header structs copy (hlen is a multiple of 4) */
	in = data + ETH_HLEN;
	if ((void *)in + hlen > ctx->data_end)
		return np_drop(ctx, NP_DROP_L2_TRUNC);
	__builtin_memcpy(in, o, hlen);
	if (rc == BPF_FIB_LKUP_RET_NO_NEIGH)
		return np_pass(ctx, NP_STAT_TO_STACK);

	__builtin_memcpy(eth->h_dest, p->dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, p->smac, ETH_ALEN);
	return np_xdp_fib_out(ctx, p->ifindex, ifin);
}

/* XDP, IPv4: the 20-byte outer IPv4 header (IPIP). */
static __always_inline int np_dsr_tx4(struct np_ctx *ctx, const struct np_pkt *pkt,
				      const struct np_lb_scratch *s)
{
	struct xdp_md *xdp = ctx->raw;
	struct bpf_fib_lookup p;
	struct iphdr *in, o;
	__be32 src, dst;

	__builtin_memcpy(&dst, s->t.be_addr, 4);
	src = np_dsr_src4(pkt);
	in = ctx->data + ETH_HLEN;
	if ((void *)(in + 1) > ctx->data_end)
		return np_drop(ctx, NP_DROP_L2_TRUNC);
	if (np_dsr_outer(&o, in, src, dst))
		return np_drop(ctx, NP_DROP_IP4_TOTLEN);
	np_dsr_fib_params(&p, src, dst, xdp->ingress_ifindex, bpf_ntohs(o.tot_len));
	return np_dsr_xdp_out(ctx, &p, (const __u32 *)&o, NP_DSR_HLEN);
}

/* XDP, IPv6: the 40-byte outer IPv6 header (IP6IP6). */
static __always_inline int np_dsr_tx6(struct np_ctx *ctx, const struct np_pkt *pkt,
				      const struct np_lb_scratch *s)
{
	struct xdp_md *xdp = ctx->raw;
	struct bpf_fib_lookup p;
	struct ipv6hdr *in, o;
	__u32 tot;

	in = ctx->data + ETH_HLEN;
	if ((void *)(in + 1) > ctx->data_end)
		return np_drop(ctx, NP_DROP_L2_TRUNC);
	if (np_dsr_outer6(&o, in, np_lb_hash(pkt, NP_DSR_SEED), s->t.be_addr))
		return np_drop(ctx, NP_DROP_IP6_PAYLEN);

	/* The whole outer packet, for the FIB's MTU check (a 16-bit field). */
	tot = bpf_ntohs(o.payload_len) + NP_DSR_HLEN6;
	if (tot > 0xffff)
		return np_drop(ctx, NP_DROP_IP6_PAYLEN);
	np_dsr_fib_params6(&p, &o, xdp->ingress_ifindex, (__u16)tot);
	return np_dsr_xdp_out(ctx, &p, (const __u32 *)&o, NP_DSR_HLEN6);
}

static __noinline int np_dsr_tx(struct np_ctx *ctx, const struct np_pkt *pkt)
{
	struct np_lb_scratch *s;
	__u32 zero = 0;

	s = bpf_map_lookup_elem(&np_lb_scratch, &zero);
	if (!s)
		return np_drop(ctx, NP_DROP_NO_BACKEND);
	if (pkt->family == NP_AF_INET6)
		return np_dsr_tx6(ctx, pkt, s);
	return np_dsr_tx4(ctx, pkt, s);
}

#else /* tc */

#include <nodepath/bpf/endpoint.h>

/*
 * tc: bpf_skb_adjust_room() makes the room after the MAC header (and
 * marks the skb as IPIP / IP6IP6-encapsulated for GSO), the outer header is
 * stored, the MACs from the FIB; bpf_redirect, or bpf_redirect_neigh when
 * the FIB knows no neighbour yet.
 */
static __noinline int np_dsr_tx(struct np_ctx *ctx, const struct np_pkt *pkt)
{
	struct __sk_buff *skb = ctx->raw;
	struct np_lb_scratch *s;
	struct bpf_redir_neigh nh;
	struct bpf_fib_lookup p;
	struct ipv6hdr *in6, o6;
	struct iphdr *in, o;
	struct ethhdr *eth;
	__u32 zero = 0, ifin;
	__be32 src, dst;
	long rc, ret;
	int v6 = pkt->family == NP_AF_INET6;

	s = bpf_map_lookup_elem(&np_lb_scratch, &zero);
	if (!s)
		return np_drop(ctx, NP_DROP_NO_BACKEND);
	ifin = skb->ingress_ifindex ? skb->ingress_ifindex : skb->ifindex;
	/* tot_len 0: the kernel checks the MTU on the skb (GSO aware). */
	if (v6) {
		in6 = ctx->data + ETH_HLEN;
		if ((void *)(in6 + 1) > ctx->data_end)
			return np_drop(ctx, NP_DROP_L2_TRUNC);
		if (np_dsr_outer6(&o6, in6, np_lb_hash(pkt, NP_DSR_SEED), s->t.be_addr))
			return np_drop(ctx, NP_DROP_IP6_PAYLEN);
		np_dsr_fib_params6(&p, &o6, ifin, 0);
	} else {
		__builtin_memcpy(&dst, s->t.be_addr, 4);
		src = np_dsr_src4(pkt);
		in = ctx->data + ETH_HLEN;
		if ((void *)(in + 1) > ctx->data_end)
			return np_drop(ctx, NP_DROP_L2_TRUNC);
		if (np_dsr_outer(&o, in, src, dst))
			return np_drop(ctx, NP_DROP_IP4_TOTLEN);
		np_dsr_fib_params(&p, src, dst, ifin, 0);
	}
	rc = bpf_fib_lookup(skb, &p, sizeof(p), 0);
	if (rc != BPF_FIB_LKUP_RET_SUCCESS && rc != BPF_FIB_LKUP_RET_NO_NEIGH)
		return np_drop(ctx, NP_DROP_FIB);

	if (v6) {
		if (bpf_skb_adjust_room(skb, NP_DSR_HLEN6, BPF_ADJ_ROOM_MAC,
					BPF_F_ADJ_ROOM_ENCAP_L3_IPV6))
			return np_drop(ctx, NP_DROP_L2_TRUNC);
		if (bpf_skb_store_bytes(skb, ETH_HLEN, &o6, sizeof(o6), 0))
			return np_drop(ctx, NP_DROP_L2_TRUNC);
	} else {
		if (bpf_skb_adjust_room(skb, NP_DSR_HLEN, BPF_ADJ_ROOM_MAC,
					BPF_F_ADJ_ROOM_ENCAP_L3_IPV4))
			return np_drop(ctx, NP_DROP_L2_TRUNC);
		if (bpf_skb_store_bytes(skb, ETH_HLEN, &o, sizeof(o), 0))
			return np_drop(ctx, NP_DROP_L2_TRUNC);
	}
	np_ctx_reload_skb(ctx, skb);
	eth = ctx->data;
	if ((void *)(eth + 1) > ctx->data_end)
		return np_drop(ctx, NP_DROP_L2_TRUNC);

	if (rc == BPF_FIB_LKUP_RET_SUCCESS) {
		__builtin_memcpy(eth->h_dest, p.dmac, ETH_ALEN);
		__builtin_memcpy(eth->h_source, p.smac, ETH_ALEN);
		ret = bpf_redirect(p.ifindex, 0);
	} else {
		np_fib_nh(&nh, &p);
		ret = bpf_redirect_neigh(p.ifindex, &nh, sizeof(nh), 0);
	}
	if (ret != TC_ACT_REDIRECT)
		return np_drop(ctx, NP_DROP_REDIRECT);
	np_count(ctx, NP_STAT_LB_TX);
	return TC_ACT_REDIRECT;
}

/* The inner destination's DSR service: a VIP, else a NodePort. */
static __always_inline struct np_svc *np_dsr_svc(const struct np_pkt *pkt)
{
	struct np_svc_key k;
	struct np_svc *s;

	__builtin_memset(&k, 0, sizeof(k));
	k.family = pkt->family;
	k.proto = pkt->l4_proto;
	k.port = pkt->dport;
	k.scope = NP_SVC_SCOPE_VIP;
	np_addr_copy(k.addr, pkt, &pkt->daddr);
	s = bpf_map_lookup_elem(&np_svc, &k);
	if (s)
		return s;
	__builtin_memset(k.addr, 0, sizeof(k.addr));
	k.scope = NP_SVC_SCOPE_NODEPORT;
	return bpf_map_lookup_elem(&np_svc, &k);
}

/*
 * Both families: the ports of the inner TCP or UDP header (proto) after an
 * l3len-byte IP header, and *pkt filled in but for its addresses. 0 or a
 * drop reason.
 */
static __always_inline __u32 np_dsr_inner_l4(struct np_ctx *ctx, struct np_pkt *pkt, __u8 family,
					     __u8 proto, __u32 l3len, __u32 l4len)
{
	__be16 *ports = ctx->data + ETH_HLEN + l3len;

	/* np_nat_rewrite() checks the whole L4 header it writes. */
	if ((void *)(ports + 2) > ctx->data_end)
		return proto == IPPROTO_TCP ? NP_DROP_TCP_TRUNC : NP_DROP_UDP_TRUNC;
	__builtin_memset(pkt, 0, sizeof(*pkt));
	pkt->family = family;
	pkt->l4_proto = proto;
	pkt->flags = NP_PKT_F_L4;
	pkt->l3_off = ETH_HLEN;
	pkt->l4_off = ETH_HLEN + l3len;
	pkt->l4_len = l4len;
	pkt->sport = ports[0];
	pkt->dport = ports[1];
	return 0;
}

/*
 * The inner packet after decapsulation, parsed just enough (and cheaply:
 * the full parser a second time costs the verifier dearly): IPv4 without
 * options, no fragment, TCP or UDP, lengths consistent. 0 or a drop reason.
 */
static __always_inline __u32 np_dsr_parse_inner(struct np_ctx *ctx, struct np_pkt *pkt)
{
	struct iphdr *ip = ctx->data + ETH_HLEN;
	__u32 tot, hl, v;

	if ((void *)(ip + 1) > ctx->data_end)
		return NP_DROP_IP4_TRUNC;
	if (ip->version != 4)
		return NP_DROP_IP4_VERSION;
	if (ip->ihl != 5)
		return NP_DROP_NO_BACKEND; /* options: not balanced by DSR */
	if (ip->frag_off & bpf_htons(NP_IP4_MF | NP_IP4_OFFSET))
		return NP_DROP_LB_FRAG;
	if (ip->protocol != IPPROTO_TCP && ip->protocol != IPPROTO_UDP)
		return NP_DROP_NO_BACKEND;
	hl = ip->protocol == IPPROTO_TCP ? 20 : 8;
	tot = bpf_ntohs(ip->tot_len);
	if (tot < sizeof(*ip) + hl || tot > ctx->len - ETH_HLEN)
		return NP_DROP_IP4_TOTLEN;
	v = np_dsr_inner_l4(ctx, pkt, NP_AF_INET, ip->protocol, sizeof(*ip), tot - sizeof(*ip));
	if (v)
		return v;
	pkt->saddr.v4 = ip->saddr;
	pkt->daddr.v4 = ip->daddr;
	return 0;
}

/*
 * The same for IPv6: no extension headers (a fragment header included:
 * not balanced by DSR), TCP or UDP right after the fixed header.
 */
static __always_inline __u32 np_dsr_parse_inner6(struct np_ctx *ctx, struct np_pkt *pkt)
{
	struct ipv6hdr *ip6 = ctx->data + ETH_HLEN;
	__u32 pl, hl, v;

	if ((void *)(ip6 + 1) > ctx->data_end)
		return NP_DROP_IP6_TRUNC;
	if (ip6->version != 6)
		return NP_DROP_IP6_VERSION;
	if (ip6->nexthdr == IPPROTO_FRAGMENT)
		return NP_DROP_LB_FRAG;
	if (ip6->nexthdr != IPPROTO_TCP && ip6->nexthdr != IPPROTO_UDP)
		return NP_DROP_NO_BACKEND; /* extension headers: not balanced by DSR */
	hl = ip6->nexthdr == IPPROTO_TCP ? 20 : 8;
	pl = bpf_ntohs(ip6->payload_len);
	if (pl < hl || pl + sizeof(*ip6) > ctx->len - ETH_HLEN)
		return NP_DROP_IP6_PAYLEN;
	v = np_dsr_inner_l4(ctx, pkt, NP_AF_INET6, ip6->nexthdr, sizeof(*ip6), pl);
	if (v)
		return v;
	__builtin_memcpy(pkt->saddr.v6, &ip6->saddr, 16);
	__builtin_memcpy(pkt->daddr.v6, &ip6->daddr, 16);
	return 0;
}

/*
 * The backend's node: decapsulate, DNAT to the local endpoint, CT REV.
 * NP_LB_NONE: not a DSR packet for this node (nothing changed); NP_LB_LOCAL:
 * *pkt is the inner packet, rewritten, for the local endpoint; else a drop
 * reason (the packet was for us but is no good).
 */
static __noinline __u32 np_dsr_rx(struct np_ctx *ctx, struct np_pkt *pkt)
{
	struct __sk_buff *skb = ctx->raw;
	struct np_lb_scratch *s;
	struct np_ct_entry *e;
	struct np_svc *svc;
	__u32 zero = 0, v;
	union np_addr be;
	__u64 now;
	__u8 tflags;
	int v6;

	if (!np_dsr_is_ipip(pkt) || (pkt->flags & NP_PKT_F_FRAG))
		return NP_LB_NONE;
	v6 = pkt->family == NP_AF_INET6;
	if (pkt->l4_off != ETH_HLEN + (v6 ? NP_DSR_HLEN6 : NP_DSR_HLEN))
		return NP_LB_NONE;
	if (!np_ep_by_daddr(pkt))
		return NP_LB_NONE;
	s = bpf_map_lookup_elem(&np_lb_scratch, &zero);
	if (!s)
		return NP_LB_NONE;
	be = pkt->daddr;

	if (v6) {
		if (bpf_skb_adjust_room(skb, -NP_DSR_HLEN6, BPF_ADJ_ROOM_MAC,
					BPF_F_ADJ_ROOM_DECAP_L3_IPV6))
			return NP_DROP_L2_TRUNC;
		np_ctx_reload_skb(ctx, skb);
		v = np_dsr_parse_inner6(ctx, pkt);
	} else {
		if (bpf_skb_adjust_room(skb, -NP_DSR_HLEN, BPF_ADJ_ROOM_MAC,
					BPF_F_ADJ_ROOM_DECAP_L3_IPV4))
			return NP_DROP_L2_TRUNC;
		np_ctx_reload_skb(ctx, skb);
		v = np_dsr_parse_inner(ctx, pkt);
	}
	if (v)
		return v;
	svc = np_dsr_svc(pkt);
	if (!svc || !(svc->flags & NP_SVC_F_DSR))
		return NP_DROP_NO_BACKEND;
	now = bpf_ktime_get_ns();
	tflags = np_tcp_flags(ctx, pkt);

	/* REV: endpoint:port -> client, as the endpoint answers. */
	__builtin_memset(&s->k, 0, sizeof(s->k));
	s->k.family = pkt->family;
	s->k.proto = pkt->l4_proto;
	s->k.dir = NP_CT_DIR_REV;
	s->k.sport = pkt->dport;
	s->k.dport = pkt->sport;
	np_addr_copy(s->k.saddr, pkt, &be);
	np_addr_copy(s->k.daddr, pkt, &pkt->saddr);
	e = np_ct_lookup(&s->k, now);
	if (e && np_tcp_is_syn(tflags) && e->state >= NP_CT_CLOSING)
		e = (void *)0;
	if (e) {
		np_ct_track(e, pkt->l4_proto, tflags, 0, now);
		np_count(ctx, NP_STAT_LB_CT_HIT);
	} else {
		__builtin_memset(&s->e, 0, sizeof(s->e));
		s->e.last_ns = now;
		s->e.svc_id = svc->id;
		s->e.state = NP_CT_NEW;
		s->e.flags = NP_CT_F_DSR | NP_CT_F_LOCAL_BE;
		s->e.nat_port = pkt->dport;
		np_addr_copy(s->e.nat_addr, pkt, &pkt->daddr);
		bpf_map_update_elem(&np_ct, &s->k, &s->e, BPF_ANY);
		np_count(ctx, NP_STAT_LB_NEW);
	}
	np_svc_count(ctx, svc->id);
	if (np_nat_rewrite(ctx, pkt, NP_NAT_DST, be.v6, pkt->dport))
		return NP_DROP_L2_TRUNC;
	return NP_LB_LOCAL;
}

#endif /* NP_BPF_XDP */

#endif /* NP_DSR_H */
