// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the BPF packet parser include/nodepath/bpf/parse.h,
 * built for user space (it makes no helper calls).
 *
 * Input: one control byte, then the frame. The control byte picks the
 * VLAN tag a tc hook would have seen stripped (bit 0) and a
 * non-linear tail (bits 1-7, 32 bytes each) that ctx->len counts but
 * data_end does not, as for an skb whose payload sits in fragments.
 *
 * The frame is copied into a heap buffer that ends exactly where the frame
 * ends, with the Ethernet header at 2 mod 4 as the kernel places it, so
 * AddressSanitizer reports any read past data_end.
 *
 * Invariants checked on every input:
 *  - the result is 0 or one of the parser's drop reasons (a valid
 *    enum np_stat), and parsing the same frame twice gives the same answer;
 *  - a packet that parsed: l3_off is the Ethernet header plus the in-frame
 *    VLAN tags, inside the frame; the addresses are the header's;
 *  - with NP_PKT_F_L4: the L4 header lies inside the frame, after the
 *    whole IP header; l4_len is covered by ctx->len; the ports are the
 *    header's;
 *  - a non-first fragment carries no L4 header.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <nodepath/bpf/parse.h>
#include "fuzz/np_fuzz.h"

static int np_drop_from_parser(__u32 r)
{
	switch (r) {
	case NP_DROP_L2_TRUNC:
	case NP_DROP_L2_VLAN_DEPTH:
	case NP_DROP_IP4_TRUNC:
	case NP_DROP_IP4_VERSION:
	case NP_DROP_IP4_IHL:
	case NP_DROP_IP4_TOTLEN:
	case NP_DROP_IP4_FRAG_TINY:
	case NP_DROP_IP4_FRAG_OFF:
	case NP_DROP_IP6_TRUNC:
	case NP_DROP_IP6_VERSION:
	case NP_DROP_IP6_PAYLEN:
	case NP_DROP_IP6_EXT_TRUNC:
	case NP_DROP_IP6_EXT_CHAIN:
	case NP_DROP_IP6_FRAG_TINY:
	case NP_DROP_TCP_TRUNC:
	case NP_DROP_TCP_DOFF:
	case NP_DROP_UDP_TRUNC:
	case NP_DROP_UDP_LEN:
	case NP_DROP_ICMP_TRUNC:
		return 1;
	}
	return 0;
}

/* Bytes the parser must have checked at l4_off for protocol p. */
static __u32 np_l4_min(const struct np_pkt *pkt)
{
	switch (pkt->l4_proto) {
	case IPPROTO_TCP:
		return sizeof(struct tcphdr);
	case IPPROTO_UDP:
		return sizeof(struct udphdr);
	case IPPROTO_ICMP:
		return 8;
	case IPPROTO_ICMPV6:
		return 4;
	}
	return 0;
}

static void np_check_pkt(const struct np_pkt *pkt, const struct np_ctx *ctx, __u32 vlan_hw)
{
	const __u8 *d = ctx->data;
	__u32 cap = (__u32)((__u8 *)ctx->data_end - d);
	__u32 l3_min, l4_min;

	NP_CHECK(pkt->vlans >= vlan_hw && pkt->vlans <= NP_MAX_VLAN_DEPTH);
	if (!pkt->family) {
		/* Not IP: nothing past L2 was promised. */
		NP_CHECK(!pkt->l4_off && !(pkt->flags & NP_PKT_F_L4));
		return;
	}
	NP_CHECK(pkt->family == NP_AF_INET || pkt->family == NP_AF_INET6);
	NP_CHECK(pkt->l3_off == ETH_HLEN + 4 * (pkt->vlans - vlan_hw));
	if (pkt->family == NP_AF_INET) {
		const struct iphdr *ip = (const void *)(d + pkt->l3_off);

		NP_CHECK(pkt->l3_off + sizeof(*ip) <= cap);
		NP_CHECK(ip->version == 4);
		NP_CHECK(!memcmp(&pkt->saddr.v4, &ip->saddr, 4));
		NP_CHECK(!memcmp(&pkt->daddr.v4, &ip->daddr, 4));
		l3_min = (__u32)ip->ihl * 4;
		NP_CHECK(l3_min >= sizeof(*ip));
		NP_CHECK(pkt->l3_off + l3_min <= cap);
		NP_CHECK(bpf_ntohs(ip->tot_len) <= ctx->len - pkt->l3_off);
	} else {
		const struct ipv6hdr *ip6 = (const void *)(d + pkt->l3_off);

		NP_CHECK(pkt->l3_off + sizeof(*ip6) <= cap);
		NP_CHECK(ip6->version == 6);
		NP_CHECK(!memcmp(pkt->saddr.v6, &ip6->saddr, 16));
		NP_CHECK(!memcmp(pkt->daddr.v6, &ip6->daddr, 16));
		l3_min = sizeof(*ip6);
		NP_CHECK(sizeof(*ip6) + bpf_ntohs(ip6->payload_len) <= ctx->len - pkt->l3_off);
	}
	if ((pkt->flags & NP_PKT_F_FRAG) && !(pkt->flags & NP_PKT_F_FIRST_FRAG))
		NP_CHECK(!(pkt->flags & NP_PKT_F_L4));
	if (pkt->flags & NP_PKT_F_FIRST_FRAG)
		NP_CHECK(pkt->flags & NP_PKT_F_FRAG);
	if (!(pkt->flags & NP_PKT_F_L4))
		return;

	l4_min = np_l4_min(pkt);
	NP_CHECK(l4_min);
	NP_CHECK(pkt->l4_off >= pkt->l3_off + l3_min);
	NP_CHECK((__u32)pkt->l4_off + l4_min <= cap);
	NP_CHECK(pkt->l4_len >= l4_min);
	NP_CHECK(pkt->l4_off + pkt->l4_len <= ctx->len);
	if (pkt->l4_proto == IPPROTO_TCP) {
		const struct tcphdr *th = (const void *)(d + pkt->l4_off);

		NP_CHECK(th->doff >= 5 && (__u32)th->doff * 4 <= pkt->l4_len);
		NP_CHECK(pkt->sport == th->source && pkt->dport == th->dest);
	} else if (pkt->l4_proto == IPPROTO_UDP) {
		const struct udphdr *uh = (const void *)(d + pkt->l4_off);

		NP_CHECK(bpf_ntohs(uh->len) >= sizeof(*uh));
		if (!(pkt->flags & NP_PKT_F_FIRST_FRAG))
			NP_CHECK(bpf_ntohs(uh->len) <= pkt->l4_len);
		NP_CHECK(pkt->sport == uh->source && pkt->dport == uh->dest);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct np_pkt pkt, again;
	struct np_ctx ctx;
	__u32 vlan_hw, ret;
	size_t n;
	__u8 *buf;

	if (size < 1 || size > 0xffff)
		return 0;
	vlan_hw = data[0] & 1;
	n = size - 1;
	/* NET_IP_ALIGN: the frame starts at 2 mod 4 and ends the allocation. */
	buf = malloc(n + 2);
	if (!buf)
		return 0;
	memcpy(buf + 2, data + 1, n);

	memset(&ctx, 0, sizeof(ctx));
	ctx.data = buf + 2;
	ctx.data_end = buf + 2 + n;
	ctx.hook = vlan_hw ? NP_HOOK_TC_UPLINK_IN : NP_HOOK_XDP;
	ctx.len = (__u32)n + (__u32)(data[0] >> 1) * 32;
	ctx.vlan_hw = vlan_hw;

	ret = np_parse(&pkt, &ctx);
	NP_CHECK(ret == 0 || np_drop_from_parser(ret));
	NP_CHECK(ret < NP_STAT__MAX);
	NP_CHECK(np_parse(&again, &ctx) == ret);
	NP_CHECK(!memcmp(&pkt, &again, sizeof(pkt)));
	if (!ret)
		np_check_pkt(&pkt, &ctx, vlan_hw);

	free(buf);
	return 0;
}
