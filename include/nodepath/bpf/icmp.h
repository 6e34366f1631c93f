/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * ICMP and ICMPv6 errors about a load-balanced flow, translated like the
 * flow itself so that the error reaches the socket that sent the packet it
 * quotes (PMTU discovery above all: frag-needed / packet-too-big).
 *
 * Errors handled: ICMP destination unreachable (every code, frag-needed
 * included), time exceeded, parameter problem; ICMPv6 destination
 * unreachable, packet too big, time exceeded, parameter problem. The quoted
 * (inner) packet must be TCP or UDP, not a non-first fragment, with its
 * first 8 L4 bytes present, and in the first buffer of an XDP frame. For
 * IPv6, up to NP_ICMP6_EXT_MAX extension headers (hop-by-hop, destination
 * options, fragment, AH) between the fixed header and TCP/UDP are skipped;
 * a quote with a routing header is left alone (its destination field is
 * not the flow's). An error is sent to the quoted packet's source: an
 * error whose outer destination is not the inner source is left alone.
 *
 * The inner tuple, reversed, is looked up as a CT key:
 *  - a REV entry: the quoted packet went from this node toward a backend
 *    (client -> backend, or node:port -> backend with SNAT), the error
 *    comes from the backend or a router on its way. The inner destination
 *    becomes the VIP and port; with SNAT the inner source and the outer
 *    destination become the client. An error the backend itself sent
 *    (outer source = the backend) gets the VIP as outer source, so the
 *    client never sees the backend's address.
 *  - a FWD entry: the quoted packet is a reverse-NATed reply (VIP ->
 *    client), the error comes from the client side, to the VIP. The inner
 *    source becomes the backend (with SNAT the inner destination the
 *    node's address and port) and the outer destination the backend.
 * DSR flows are not translated (the packet would need encapsulation).
 *
 * Checksums: the inner IPv4 header checksum, the inner TCP/UDP checksum
 * when the quote holds it (a UDP checksum of 0 stays 0), the outer IPv4
 * header checksum, and the ICMP checksum over everything changed inside it
 * (ICMPv6: and the pseudo-header's addresses). The rest of the message,
 * the MTU of a frag-needed or packet-too-big above all, is untouched.
 *
 * One code path for XDP and tc: the headers are loaded into a per-CPU
 * scratch buffer, rewritten there, and stored back with the load/store
 * helpers of the context (tc: BPF_F_RECOMPUTE_CSUM keeps skb->csum right).
 * Callers include this after the NP_LB_* results are defined (lb.h).
 */
#ifndef NP_ICMP_H
#define NP_ICMP_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include <nodepath/abi.h>
#include <nodepath/bpf/ctx.h>
#include <nodepath/bpf/maps.h>
#include <nodepath/bpf/parse.h>
#include <nodepath/bpf/csum.h>
#include <nodepath/bpf/ct.h>
#include <nodepath/bpf/nat.h>

#define NP_ICMP_UNREACH 3
#define NP_ICMP_TIME_EXCEEDED 11
#define NP_ICMP_PARAMPROB 12
#define NP_ICMP6_UNREACH 1
#define NP_ICMP6_PKT_TOOBIG 2
#define NP_ICMP6_TIME_EXCEEDED 3
#define NP_ICMP6_PARAMPROB 4
/* Extension headers of a quoted IPv6 packet walked to its L4 header. */
#define NP_ICMP6_EXT_MAX 4

/* Where the addresses lie in the fixed IP header (saddr; daddr follows). */
#define NP_ICMP_SA4 12
#define NP_ICMP_SA6 8

/* What np_icmp_find() found, for np_icmp_xlate(): the headers and the plan. */
#define NP_ICMP_SET_ISA (1U << 0) /* inner source (and source port) */
#define NP_ICMP_SET_IDA (1U << 1) /* inner destination (and port) */
#define NP_ICMP_SET_OSA (1U << 2) /* outer source */
#define NP_ICMP_SET_ODA (1U << 3) /* outer destination */

struct np_icmp_scratch {
	__u8 outer[40]; /* outer IP header, fixed part */
	__u8 icmp[8];	/* type, code, checksum, rest (MTU, pointer, unused) */
	__u8 inner[40]; /* quoted IP header, fixed part */
	__u8 l4[8];	/* quoted TCP/UDP: ports, then UDP length/checksum */
	__u8 tcheck[2]; /* quoted TCP checksum, if quoted */
	__u8 v6;
	__u8 has_tck;
	__u8 set; /* NP_ICMP_SET_* */
	__u8 iproto;
	__u8 pad[2];
	__u32 l4off;  /* the ICMP header */
	__u32 ioff;   /* the quoted IP header */
	__u32 il4off; /* the quoted L4 header */
	__be16 nsport;
	__be16 ndport;
	__u8 nisa[16];
	__u8 nida[16];
	__u8 nosa[16];
	__u8 noda[16];
	struct np_ct_key k;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct np_icmp_scratch);
} np_icmp_scratch SEC(".maps");

/*
 * The two steps are global functions: the verifier checks each once, not
 * again for every state the program reaches them in. They take the
 * program's own context.
 */
#ifdef NP_BPF_XDP
#define NP_ICMP_CTX struct xdp_md

static __always_inline long np_icmp_load(NP_ICMP_CTX *raw, __u32 off, void *to, __u32 len)
{
	return bpf_xdp_load_bytes(raw, off, to, len);
}

static __always_inline long np_icmp_store(NP_ICMP_CTX *raw, __u32 off, void *from, __u32 len)
{
	return bpf_xdp_store_bytes(raw, off, from, len);
}
#else
#define NP_ICMP_CTX struct __sk_buff

static __always_inline long np_icmp_load(NP_ICMP_CTX *raw, __u32 off, void *to, __u32 len)
{
	return bpf_skb_load_bytes(raw, off, to, len);
}

static __always_inline long np_icmp_store(NP_ICMP_CTX *raw, __u32 off, void *from, __u32 len)
{
	return bpf_skb_store_bytes(raw, off, from, len, BPF_F_RECOMPUTE_CSUM);
}
#endif

static __always_inline int np_icmp_is_err(__u8 family, __u8 type)
{
	if (family == NP_AF_INET)
		return type == NP_ICMP_UNREACH || type == NP_ICMP_TIME_EXCEEDED ||
		       type == NP_ICMP_PARAMPROB;
	return type == NP_ICMP6_UNREACH || type == NP_ICMP6_PKT_TOOBIG ||
	       type == NP_ICMP6_TIME_EXCEEDED || type == NP_ICMP6_PARAMPROB;
}

static __always_inline int np_icmp_addr_eq(const __u8 *a, const __u8 *b, int v6)
{
	const __u32 *x = (const __u32 *)a, *y = (const __u32 *)b;

	if (!v6)
		return x[0] == y[0];
	return x[0] == y[0] && x[1] == y[1] && x[2] == y[2] && x[3] == y[3];
}

static __always_inline void np_icmp_addr_cpy(__u8 *to, const __u8 *from, int v6)
{
	if (v6)
		__builtin_memcpy(to, from, 16);
	else
		__builtin_memcpy(to, from, 4);
}

/* Replace the address at field with a; returns the checksum delta. */
static __always_inline __u32 np_icmp_set_addr(__u8 *field, const __u8 *a, int v6)
{
	__u32 d = np_csum_delta_bytes(0, field, a, v6 ? 16 : 4);

	np_icmp_addr_cpy(field, a, v6);
	return d;
}

static __always_inline __u16 np_icmp_get16(const __u8 *p)
{
	return *(const __u16 *)p;
}

static __always_inline void np_icmp_put16(__u8 *p, __u16 v)
{
	*(__u16 *)p = v;
}

/*
 * Is the packet an ICMP/ICMPv6 error about a tracked flow? Loads its
 * headers into the scratch buffer and plans the translation there. Returns
 * NP_LB_NONE (not such an error: nothing to do), NP_LB_LOCAL (deliver as
 * any packet once translated) or NP_LB_FWD (the uplink sends it out).
 */
__noinline __u32 np_icmp_find(NP_ICMP_CTX *ctx, struct np_pkt *pkt, __u64 now)
{
	__u32 zero = 0, ilen, qlen;
	struct np_icmp_scratch *s;
	struct np_ct_entry *e;
	__u8 *isa, *osa, eh[4];
	int v6, l4, i;

	if (!ctx || !pkt)
		return NP_LB_NONE;
	v6 = pkt->family == NP_AF_INET6;
	l4 = np_l4_off(pkt);
	ilen = v6 ? 40 : 20;
	if (l4 < 0 || !(pkt->flags & NP_PKT_F_L4) || (pkt->flags & NP_PKT_F_FRAG))
		return NP_LB_NONE;
	if (pkt->l4_proto != (v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP))
		return NP_LB_NONE;
	if (pkt->l4_len < 8 + ilen + 8)
		return NP_LB_NONE;
	s = bpf_map_lookup_elem(&np_icmp_scratch, &zero);
	if (!s)
		return NP_LB_NONE;
	qlen = pkt->l4_len - 8;
	s->v6 = (__u8)v6;
	s->l4off = (__u32)l4;
	s->ioff = (__u32)l4 + 8;
	if (np_icmp_load(ctx, s->l4off, s->icmp, 8))
		return NP_LB_NONE;
	if (!np_icmp_is_err(pkt->family, s->icmp[0]))
		return NP_LB_NONE;
	if (v6) {
		if (np_icmp_load(ctx, s->ioff, s->inner, 40) ||
		    np_icmp_load(ctx, ETH_HLEN, s->outer, 40))
			return NP_LB_NONE;
		if ((s->inner[0] >> 4) != 6)
			return NP_LB_NONE;
		s->iproto = s->inner[6];
		/* Extension headers before the quoted L4 header: skipped. */
		for (i = 0; i < NP_ICMP6_EXT_MAX; i++) {
			if (s->iproto != IPPROTO_HOPOPTS && s->iproto != IPPROTO_DSTOPTS &&
			    s->iproto != IPPROTO_FRAGMENT && s->iproto != IPPROTO_AH)
				break;
			if (qlen < ilen + 8 || np_icmp_load(ctx, s->ioff + ilen, eh, 4))
				return NP_LB_NONE;
			if (s->iproto == IPPROTO_FRAGMENT) {
				/* A non-first fragment quotes no ports. */
				if (np_icmp_get16(eh + 2) & bpf_htons(NP_IP6_FRAG_OFFSET))
					return NP_LB_NONE;
				ilen += 8;
			} else if (s->iproto == IPPROTO_AH) {
				ilen += ((__u32)eh[1] + 2) * 4;
			} else {
				ilen += ((__u32)eh[1] + 1) * 8;
			}
			s->iproto = eh[0];
		}
		isa = s->inner + NP_ICMP_SA6;
		osa = s->outer + NP_ICMP_SA6;
	} else {
		if (np_icmp_load(ctx, s->ioff, s->inner, 20) ||
		    np_icmp_load(ctx, ETH_HLEN, s->outer, 20))
			return NP_LB_NONE;
		if ((s->inner[0] >> 4) != 4 || (s->inner[0] & 0x0f) < 5)
			return NP_LB_NONE;
		/* A non-first fragment quotes no ports. */
		if (np_icmp_get16(s->inner + 6) & bpf_htons(NP_IP4_OFFSET))
			return NP_LB_NONE;
		ilen = (__u32)(s->inner[0] & 0x0f) * 4;
		s->iproto = s->inner[9];
		isa = s->inner + NP_ICMP_SA4;
		osa = s->outer + NP_ICMP_SA4;
	}
	if (s->iproto != IPPROTO_TCP && s->iproto != IPPROTO_UDP)
		return NP_LB_NONE;
	if (qlen < ilen + 8)
		return NP_LB_NONE;
	s->il4off = s->ioff + ilen;
	if (np_icmp_load(ctx, s->il4off, s->l4, 8))
		return NP_LB_NONE;
	s->has_tck = 0;
	if (s->iproto == IPPROTO_TCP && qlen >= ilen + 18) {
		if (np_icmp_load(ctx, s->il4off + 16, s->tcheck, 2))
			return NP_LB_NONE;
		s->has_tck = 1;
	}
	/* An error goes to the source of the packet it quotes. */
	if (!np_icmp_addr_eq(osa + (v6 ? 16 : 4), isa, v6))
		return NP_LB_NONE;

	/* The quoted tuple reversed: REV (toward a backend), else FWD. */
	__builtin_memset(&s->k, 0, sizeof(s->k));
	s->k.family = pkt->family;
	s->k.proto = s->iproto;
	s->k.dir = NP_CT_DIR_REV;
	s->k.sport = np_icmp_get16(s->l4 + 2);
	s->k.dport = np_icmp_get16(s->l4);
	np_icmp_addr_cpy(s->k.saddr, isa + (v6 ? 16 : 4), v6);
	np_icmp_addr_cpy(s->k.daddr, isa, v6);
	e = np_ct_lookup(&s->k, now);
	if (e) {
		if (e->flags & NP_CT_F_DSR)
			return NP_LB_NONE;
		/* inner: client/node -> backend; becomes client -> VIP. */
		s->set = NP_ICMP_SET_IDA;
		__builtin_memcpy(s->nida, e->nat_addr, 16);
		s->ndport = e->nat_port;
		/* The backend's own error: from the VIP. */
		if (np_icmp_addr_eq(osa, s->k.saddr, v6)) {
			s->set |= NP_ICMP_SET_OSA;
			__builtin_memcpy(s->nosa, e->nat_addr, 16);
		}
		if (!(e->flags & NP_CT_F_SNAT))
			return NP_LB_LOCAL;
		s->set |= NP_ICMP_SET_ISA | NP_ICMP_SET_ODA;
		__builtin_memcpy(s->nisa, e->nat2_addr, 16);
		__builtin_memcpy(s->noda, e->nat2_addr, 16);
		s->nsport = e->nat2_port;
		return NP_LB_FWD;
	}
	s->k.dir = NP_CT_DIR_FWD;
	e = np_ct_lookup(&s->k, now);
	if (!e || (e->flags & NP_CT_F_DSR))
		return NP_LB_NONE;
	/* inner: VIP -> client; becomes backend -> client (or -> node:port). */
	s->set = NP_ICMP_SET_ISA | NP_ICMP_SET_ODA;
	__builtin_memcpy(s->nisa, e->nat_addr, 16);
	__builtin_memcpy(s->noda, e->nat_addr, 16);
	s->nsport = e->nat_port;
	if (e->flags & NP_CT_F_SNAT) {
		s->set |= NP_ICMP_SET_IDA;
		__builtin_memcpy(s->nida, e->nat2_addr, 16);
		s->ndport = e->nat2_port;
	}
	return (e->flags & NP_CT_F_LOCAL_BE) ? NP_LB_LOCAL : NP_LB_FWD;
}

/*
 * Carry out the plan of np_icmp_find(): rewrite the headers in the scratch
 * buffer with their checksums, store them back, and update the parse's
 * (outer) addresses. 0, or -1 when the packet could not be written.
 */
__noinline int np_icmp_xlate(NP_ICMP_CTX *ctx, struct np_pkt *pkt)
{
	__u32 zero = 0, d_in = 0, d_port = 0, d_out = 0, d_icmp;
	struct np_icmp_scratch *s;
	__u8 *isa, *osa;
	__u16 old, nw;
	int v6, alen;

	if (!ctx || !pkt)
		return -1;
	s = bpf_map_lookup_elem(&np_icmp_scratch, &zero);
	if (!s)
		return -1;
	v6 = s->v6;
	alen = v6 ? 16 : 4;
	isa = s->inner + (v6 ? NP_ICMP_SA6 : NP_ICMP_SA4);
	osa = s->outer + (v6 ? NP_ICMP_SA6 : NP_ICMP_SA4);

	/* The quoted IP header: addresses and (IPv4) its checksum. */
	if (s->set & NP_ICMP_SET_ISA)
		d_in += np_icmp_set_addr(isa, s->nisa, v6);
	if (s->set & NP_ICMP_SET_IDA)
		d_in += np_icmp_set_addr(isa + alen, s->nida, v6);
	d_icmp = d_in;
	if (!v6) {
		old = np_icmp_get16(s->inner + 10);
		nw = np_csum_apply(old, d_in);
		np_icmp_put16(s->inner + 10, nw);
		d_icmp = np_csum_delta16(d_icmp, old, nw);
	}
	/* The quoted ports and the quoted L4 checksum (pseudo-header too). */
	if (s->set & NP_ICMP_SET_ISA) {
		d_port = np_csum_delta16(d_port, np_icmp_get16(s->l4), s->nsport);
		np_icmp_put16(s->l4, s->nsport);
	}
	if (s->set & NP_ICMP_SET_IDA) {
		d_port = np_csum_delta16(d_port, np_icmp_get16(s->l4 + 2), s->ndport);
		np_icmp_put16(s->l4 + 2, s->ndport);
	}
	d_icmp += d_port;
	if (s->iproto == IPPROTO_UDP) {
		old = np_icmp_get16(s->l4 + 6);
		nw = np_csum_apply_udp4(old, d_in + d_port);
		np_icmp_put16(s->l4 + 6, nw);
		d_icmp = np_csum_delta16(d_icmp, old, nw);
	} else if (s->has_tck) {
		old = np_icmp_get16(s->tcheck);
		nw = np_csum_apply(old, d_in + d_port);
		np_icmp_put16(s->tcheck, nw);
		d_icmp = np_csum_delta16(d_icmp, old, nw);
	}
	/* The outer header: IPv4 header checksum; ICMPv6 pseudo-header. */
	if (s->set & NP_ICMP_SET_OSA)
		d_out += np_icmp_set_addr(osa, s->nosa, v6);
	if (s->set & NP_ICMP_SET_ODA)
		d_out += np_icmp_set_addr(osa + alen, s->noda, v6);
	if (v6)
		d_icmp += d_out;
	else
		np_icmp_put16(s->outer + 10, np_csum_apply(np_icmp_get16(s->outer + 10), d_out));
	np_icmp_put16(s->icmp + 2, np_csum_apply(np_icmp_get16(s->icmp + 2), d_icmp));

	if (v6) {
		if (np_icmp_store(ctx, ETH_HLEN, s->outer, 40) ||
		    np_icmp_store(ctx, s->ioff, s->inner, 40))
			return -1;
	} else {
		if (np_icmp_store(ctx, ETH_HLEN, s->outer, 20) ||
		    np_icmp_store(ctx, s->ioff, s->inner, 20))
			return -1;
	}
	if (np_icmp_store(ctx, s->l4off, s->icmp, 8) || np_icmp_store(ctx, s->il4off, s->l4, 8))
		return -1;
	if (s->has_tck && np_icmp_store(ctx, s->il4off + 16, s->tcheck, 2))
		return -1;
	if (v6) {
		__builtin_memcpy(pkt->saddr.v6, osa, 16);
		__builtin_memcpy(pkt->daddr.v6, osa + 16, 16);
	} else {
		__builtin_memcpy(&pkt->saddr.v4, osa, 4);
		__builtin_memcpy(&pkt->daddr.v4, osa + 4, 4);
	}
	return 0;
}

/*
 * An ICMP/ICMPv6 error about a tracked flow, translated: NP_LB_NONE
 * (nothing changed), NP_LB_LOCAL, NP_LB_FWD, or a drop reason.
 */
static __always_inline __u32 np_icmp_err(struct np_ctx *ctx, struct np_pkt *pkt, __u64 now)
{
	__u32 r = np_icmp_find(ctx->raw, pkt, now);
	int err;

	if (r == NP_LB_NONE)
		return r;
	err = np_icmp_xlate(ctx->raw, pkt);
	/* The packet may have moved: derive the pointers again. */
#ifdef NP_BPF_XDP
	np_ctx_from_xdp(ctx, ctx->raw, ctx->hook);
	ctx->len = (__u32)bpf_xdp_get_buff_len(ctx->raw);
#else
	np_ctx_reload_skb(ctx, ctx->raw);
#endif
	if (err)
		return NP_DROP_L2_TRUNC;
	return r;
}

#endif /* NP_ICMP_H */
