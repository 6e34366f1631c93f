/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * A bounded packet parser: Ethernet, up to NP_MAX_VLAN_DEPTH 802.1Q/802.1ad
 * tags, IPv4, IPv6 with its extension chain, and the TCP/UDP/ICMP header.
 *
 * Plain C on UAPI headers: no BPF helper calls, so the same code builds for
 * user space (fuzzing). Two kinds of bounds are kept apart:
 *  - semantic bounds (tot_len, payload_len, UDP length, ...) are checked as
 *    scalar lengths against the frame length ctx->len and the IP payload;
 *  - access bounds are checked through the cursor against data_end, in the
 *    form the verifier understands (pointer + constant compared with
 *    data_end, on the very pointer that is then read).
 * Variable header lengths (IPv4 options, IPv6 extension headers) are skipped
 * with np_skip(), the length bounded by the 4- or 8-bit field it comes from;
 * TCP options are only checked to lie inside the IP payload.
 *
 * A user-space caller must place the frame as the kernel does (Ethernet
 * header at 2 mod 4, NET_IP_ALIGN) so that the IP headers are aligned.
 */
#ifndef NP_PARSE_H
#define NP_PARSE_H

#include <linux/types.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>

#include <nodepath/abi.h>
#include <nodepath/bpf/ctx.h>

/*
 * The loops below are unrolled for the verifier; gcc (a user-space build)
 * does not know the pragma.
 */
#ifdef __clang__
#define NP_UNROLL _Pragma("unroll")
#else
#define NP_UNROLL
#endif

#define NP_PKT_F_FRAG (1U << 0)	      /* a fragment (an atomic fragment is not) */
#define NP_PKT_F_FIRST_FRAG (1U << 1) /* the first fragment (offset 0, more follow) */
#define NP_PKT_F_L4 (1U << 2)	      /* the L4 header was checked; ports are valid */
/* A later fragment whose ports came from its first fragment (frag.h): no L4 header. */
#define NP_PKT_F_FRAG_PORTS (1U << 3)
/* np_lb_service(): the packet's service is an NP_SVC_F_AFXDP one (xsk.h). */
#define NP_PKT_F_AFXDP (1U << 4)

#define NP_IP4_MF 0x2000
#define NP_IP4_OFFSET 0x1fff
#define NP_IP6_FRAG_OFFSET 0xfff8 /* in 8-octet units, already shifted by 3 */
#define NP_IP6_FRAG_MF 0x0001

union np_addr {
	__be32 v4;
	__u8 v6[16];
};

/* What the parser learned; BPF-side only, not part of the ABI. */
struct np_pkt {
	__u8 family; /* NP_AF_INET, NP_AF_INET6, or 0: not IP */
	__u8 vlans;  /* VLAN tags seen, hardware-stripped ones included */
	__u8 l4_proto;
	__u8 flags; /* NP_PKT_F_* */
	__u16 l3_off;
	__u16 l4_off; /* 0 when no L4 header follows (non-first fragment, none) */
	__u32 l4_len; /* bytes from l4_off to the end of the IP payload */
	__be16 sport;
	__be16 dport;
	union np_addr saddr;
	union np_addr daddr;
	__be32 frag_id; /* a fragment's identification (IPv4: 16 bits), as a number */
};

struct np_cursor {
	void *pos;
};

struct np_vlan_hdr {
	__be16 tci;
	__be16 encap_proto;
};

/* The first 8 octets every IPv6 extension header has. */
struct np_ip6_ext {
	__u8 nexthdr;
	__u8 hdrlen;
	__be16 frag_off; /* fragment header only */
	__be32 word;
};

/*
 * Return a pointer to the next n bytes and move past them, or NULL if the
 * frame ends first. n must be a constant after inlining: the verifier
 * grants the range to the pointer compared against data_end.
 */
static __always_inline void *np_pull(struct np_cursor *cur, void *data_end, __u32 n)
{
	void *p = cur->pos;

	if (p + n > data_end)
		return (void *)0;
	cur->pos = p + n;
	return p;
}

/* Move past n bytes (n bounded by the caller) that are not read. */
static __always_inline int np_skip(struct np_cursor *cur, void *data_end, __u32 n)
{
	void *p = cur->pos + n;

	if (p > data_end)
		return -1;
	cur->pos = p;
	return 0;
}

static __always_inline int np_eth_is_vlan(__be16 proto)
{
	return proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD);
}

static __always_inline int np_ip6_is_ext(__u8 nh)
{
	switch (nh) {
	case IPPROTO_HOPOPTS:
	case IPPROTO_ROUTING:
	case IPPROTO_FRAGMENT:
	case IPPROTO_DSTOPTS:
	case IPPROTO_AH:
		return 1;
	}
	return 0;
}

/*
 * Check the L4 header at the cursor against the l4_len bytes of IP payload
 * left. tiny is the drop reason for a first fragment that lacks its whole
 * L4 header (0 when the packet is no first fragment). Returns 0 or a
 * drop reason.
 */
static __always_inline __u32 np_parse_l4(struct np_pkt *pkt, struct np_cursor *cur, void *data,
					 void *data_end, __u32 l4_len, __u32 tiny)
{
	struct tcphdr *th;
	struct udphdr *uh;
	__u32 doff, ulen;

	pkt->l4_off = (__u16)(cur->pos - data);
	pkt->l4_len = l4_len;

	switch (pkt->l4_proto) {
	case IPPROTO_TCP:
		if (l4_len < sizeof(*th))
			return tiny ? tiny : NP_DROP_TCP_TRUNC;
		th = np_pull(cur, data_end, sizeof(*th));
		if (!th)
			return tiny ? tiny : NP_DROP_TCP_TRUNC;
		doff = (__u32)th->doff * 4;
		if (doff < sizeof(*th))
			return NP_DROP_TCP_DOFF;
		if (doff > l4_len)
			return tiny ? tiny : NP_DROP_TCP_DOFF;
		pkt->sport = th->source;
		pkt->dport = th->dest;
		break;
	case IPPROTO_UDP:
		if (l4_len < sizeof(*uh))
			return tiny ? tiny : NP_DROP_UDP_TRUNC;
		uh = np_pull(cur, data_end, sizeof(*uh));
		if (!uh)
			return tiny ? tiny : NP_DROP_UDP_TRUNC;
		ulen = bpf_ntohs(uh->len);
		if (ulen < sizeof(*uh))
			return NP_DROP_UDP_LEN;
		/* A first fragment holds only part of the datagram. */
		if (!tiny && ulen > l4_len)
			return NP_DROP_UDP_LEN;
		pkt->sport = uh->source;
		pkt->dport = uh->dest;
		break;
	case IPPROTO_ICMP:
		/* type, code, checksum and the 4-byte rest of header */
		if (pkt->family != NP_AF_INET)
			return 0;
		if (l4_len < 8 || !np_pull(cur, data_end, 8))
			return tiny ? tiny : NP_DROP_ICMP_TRUNC;
		break;
	case IPPROTO_ICMPV6:
		/* type, code, checksum; the body depends on the type */
		if (pkt->family != NP_AF_INET6)
			return 0;
		if (l4_len < 4 || !np_pull(cur, data_end, 4))
			return tiny ? tiny : NP_DROP_ICMP_TRUNC;
		break;
	default:
		/* Another protocol (GRE, ESP, SCTP, ...): nothing checked. */
		return 0;
	}
	pkt->flags |= NP_PKT_F_L4;
	return 0;
}

static __always_inline __u32 np_parse_ip4(struct np_pkt *pkt, struct np_cursor *cur,
					  const struct np_ctx *ctx)
{
	__u32 avail = ctx->len - pkt->l3_off;
	__u32 hlen, tot, frag, off;
	struct iphdr *ip;

	ip = np_pull(cur, ctx->data_end, sizeof(*ip));
	if (!ip)
		return NP_DROP_IP4_TRUNC;
	if (ip->version != 4)
		return NP_DROP_IP4_VERSION;
	hlen = (__u32)ip->ihl * 4;
	if (hlen < sizeof(*ip) || hlen > avail)
		return NP_DROP_IP4_IHL;
	tot = bpf_ntohs(ip->tot_len);
	/* Bytes after tot_len (Ethernet padding) are allowed and ignored. */
	if (tot < hlen || tot > avail)
		return NP_DROP_IP4_TOTLEN;
	/* Options: hlen - 20 <= 40, read by nobody. */
	if (np_skip(cur, ctx->data_end, hlen - sizeof(*ip)))
		return NP_DROP_IP4_IHL;

	pkt->family = NP_AF_INET;
	pkt->l4_proto = ip->protocol;
	pkt->saddr.v4 = ip->saddr;
	pkt->daddr.v4 = ip->daddr;

	frag = bpf_ntohs(ip->frag_off);
	off = frag & NP_IP4_OFFSET;
	pkt->frag_id = bpf_htonl((__u32)bpf_ntohs(ip->id));
	if (off == 1)
		/* RFC 1858: would rewrite the TCP flags of the first fragment. */
		return NP_DROP_IP4_FRAG_OFF;
	if (off) {
		/* Not the first fragment: no L4 header, so no ports either. */
		pkt->flags |= NP_PKT_F_FRAG;
		return 0;
	}
	if (frag & NP_IP4_MF) {
		pkt->flags |= NP_PKT_F_FRAG | NP_PKT_F_FIRST_FRAG;
		return np_parse_l4(pkt, cur, ctx->data, ctx->data_end, tot - hlen,
				   NP_DROP_IP4_FRAG_TINY);
	}
	return np_parse_l4(pkt, cur, ctx->data, ctx->data_end, tot - hlen, 0);
}

static __always_inline __u32 np_parse_ip6(struct np_pkt *pkt, struct np_cursor *cur,
					  const struct np_ctx *ctx)
{
	__u32 avail = ctx->len - pkt->l3_off;
	__u32 rem, hl, tiny = 0, fo;
	struct np_ip6_ext *ext;
	struct ipv6hdr *ip6;
	__u8 nh;
	int i;

	ip6 = np_pull(cur, ctx->data_end, sizeof(*ip6));
	if (!ip6)
		return NP_DROP_IP6_TRUNC;
	if (ip6->version != 6)
		return NP_DROP_IP6_VERSION;
	rem = bpf_ntohs(ip6->payload_len);
	if (rem + sizeof(*ip6) > avail)
		return NP_DROP_IP6_PAYLEN;

	pkt->family = NP_AF_INET6;
	__builtin_memcpy(pkt->saddr.v6, &ip6->saddr, 16);
	__builtin_memcpy(pkt->daddr.v6, &ip6->daddr, 16);
	nh = ip6->nexthdr;

	/* rem: payload bytes after the headers walked so far. */
	NP_UNROLL
	for (i = 0; i < NP_MAX_IPV6_EXT; i++) {
		if (!np_ip6_is_ext(nh))
			break;
		/* Every extension header is at least 8 octets long. */
		if (rem < sizeof(*ext))
			return NP_DROP_IP6_EXT_TRUNC;
		ext = np_pull(cur, ctx->data_end, sizeof(*ext));
		if (!ext)
			return NP_DROP_IP6_EXT_TRUNC;
		if (nh == IPPROTO_FRAGMENT) {
			hl = sizeof(*ext);
			fo = bpf_ntohs(ext->frag_off);
			pkt->frag_id = ext->word;
			if (fo & NP_IP6_FRAG_OFFSET) {
				/* Not the first fragment: no L4 header follows. */
				pkt->flags |= NP_PKT_F_FRAG;
				pkt->l4_proto = ext->nexthdr;
				return 0;
			}
			if (fo & NP_IP6_FRAG_MF) {
				pkt->flags |= NP_PKT_F_FRAG | NP_PKT_F_FIRST_FRAG;
				tiny = NP_DROP_IP6_FRAG_TINY;
			}
			/* else an atomic fragment (RFC 6946): a whole packet. */
		} else if (nh == IPPROTO_AH) {
			/* AH counts 4-octet units, minus 2 (RFC 4302). */
			hl = ((__u32)ext->hdrlen + 2) * 4;
		} else {
			/* 8-octet units, not counting the first 8 (RFC 8200). */
			hl = ((__u32)ext->hdrlen + 1) * 8;
		}
		if (hl > rem)
			return NP_DROP_IP6_EXT_TRUNC;
		nh = ext->nexthdr;
		/* hl <= 2048: bounded by the 8-bit length field. */
		if (np_skip(cur, ctx->data_end, hl - sizeof(*ext)))
			return NP_DROP_IP6_EXT_TRUNC;
		rem -= hl;
	}
	if (np_ip6_is_ext(nh))
		return NP_DROP_IP6_EXT_CHAIN;

	pkt->l4_proto = nh;
	if (nh == IPPROTO_NONE)
		return 0;
	return np_parse_l4(pkt, cur, ctx->data, ctx->data_end, rem, tiny);
}

/*
 * Parse the frame of ctx into pkt. Returns 0 (pkt->family is 0 for a frame
 * that is not IP) or the NP_DROP_* reason that makes it malformed.
 */
static __always_inline __u32 np_parse(struct np_pkt *pkt, const struct np_ctx *ctx)
{
	struct np_cursor cur = { .pos = ctx->data };
	struct np_vlan_hdr *vh;
	struct ethhdr *eth;
	__be16 proto;
	__u32 vlans;
	int i;

	__builtin_memset(pkt, 0, sizeof(*pkt));
	eth = np_pull(&cur, ctx->data_end, sizeof(*eth));
	if (!eth)
		return NP_DROP_L2_TRUNC;
	proto = eth->h_proto;
	vlans = ctx->vlan_hw;

	NP_UNROLL
	for (i = 0; i < NP_MAX_VLAN_DEPTH; i++) {
		if (!np_eth_is_vlan(proto))
			break;
		if (vlans >= NP_MAX_VLAN_DEPTH)
			return NP_DROP_L2_VLAN_DEPTH;
		vh = np_pull(&cur, ctx->data_end, sizeof(*vh));
		if (!vh)
			return NP_DROP_L2_TRUNC;
		proto = vh->encap_proto;
		vlans++;
	}
	if (np_eth_is_vlan(proto))
		return NP_DROP_L2_VLAN_DEPTH;
	pkt->vlans = (__u8)vlans;
	pkt->l3_off = (__u16)(cur.pos - ctx->data);

	if (proto == bpf_htons(ETH_P_IP))
		return np_parse_ip4(pkt, &cur, ctx);
	if (proto == bpf_htons(ETH_P_IPV6))
		return np_parse_ip6(pkt, &cur, ctx);
	return 0;
}

#endif /* NP_PARSE_H */
