/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Forwarding a pod's packet that is for no local endpoint: ask the FIB, and
 * if it resolves the route, do what the stack's forwarding path would do
 * (decrement the TTL / hop limit) and send it with bpf_redirect_neigh(),
 * which fills in the Ethernet header from the neighbour table. Whatever the
 * FIB cannot resolve goes to the stack exactly as it came.
 *
 * The lookup is made as an input lookup on the device the packet came in
 * on (skb->ifindex: the veth host side, or the netkit primary), so the
 * stack's rules apply: forwarding must be enabled on that device (else
 * BPF_FIB_LKUP_RET_FWD_DISABLED, handed to the stack, which refuses too).
 * tot_len stays 0: the kernel then checks the MTU with is_skb_forwardable(),
 * which understands GSO packets; a too-big packet goes to the stack, which
 * answers with ICMP "fragmentation needed" / "packet too big".
 *
 * Callers guarantee an untagged Ethernet frame (the IP header at ETH_HLEN).
 */
#ifndef NP_FIB_H
#define NP_FIB_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include <nodepath/abi.h>
#include <nodepath/bpf/ctx.h>
#include <nodepath/bpf/parse.h>
#include <nodepath/bpf/stats.h>
#include <nodepath/bpf/endpoint.h>

/*
 * Decrement the IPv4 TTL and patch the header checksum (RFC 1624): the
 * TTL is the high byte of its 16-bit word, so that word drops by 0x0100 and
 * the checksum, its complement, grows by as much, with end-around carry.
 */
static __always_inline void np_ip4_dec_ttl(struct iphdr *ip)
{
	__u32 sum = (__u32)ip->check + (__u32)bpf_htons(0x0100);

	sum = (sum & 0xffff) + (sum >> 16);
	ip->check = (__sum16)sum;
	ip->ttl--;
}

/*
 * Forward the untagged IP frame of ctx through the FIB. Returns the tc
 * verdict, counted for ctx's hook: TC_ACT_REDIRECT (NP_STAT_TO_UPLINK),
 * TC_ACT_OK (NP_STAT_TO_STACK, no byte changed), or TC_ACT_SHOT
 * (NP_DROP_FIB, NP_DROP_REDIRECT).
 */
static __always_inline int np_fib_forward(struct __sk_buff *skb, const struct np_ctx *ctx,
					  const struct np_pkt *pkt)
{
	struct bpf_redir_neigh nh;
	struct bpf_fib_lookup p;
	struct ipv6hdr *ip6;
	void *data, *data_end;
	struct iphdr *ip;
	long rc;

	__builtin_memset(&p, 0, sizeof(p));
	p.ifindex = skb->ifindex;
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	if (pkt->family == NP_AF_INET) {
		ip = data + ETH_HLEN;
		if ((void *)(ip + 1) > data_end)
			return np_pod_to_stack(ctx);
		p.family = NP_AF_INET;
		p.tos = ip->tos;
		p.l4_protocol = ip->protocol;
		p.ipv4_src = ip->saddr;
		p.ipv4_dst = ip->daddr;
	} else {
		ip6 = data + ETH_HLEN;
		if ((void *)(ip6 + 1) > data_end)
			return np_pod_to_stack(ctx);
		p.family = NP_AF_INET6;
		p.flowinfo = *(__be32 *)ip6 & bpf_htonl(0x0fffffff);
		p.l4_protocol = pkt->l4_proto;
		__builtin_memcpy(p.ipv6_src, &ip6->saddr, 16);
		__builtin_memcpy(p.ipv6_dst, &ip6->daddr, 16);
	}

	rc = bpf_fib_lookup(skb, &p, sizeof(p), 0);
	switch (rc) {
	case BPF_FIB_LKUP_RET_SUCCESS:
	case BPF_FIB_LKUP_RET_NO_NEIGH:
		/* p.ifindex and the next hop are known: the neighbour helper resolves. */
		break;
	case BPF_FIB_LKUP_RET_BLACKHOLE:
	case BPF_FIB_LKUP_RET_UNREACHABLE:
	case BPF_FIB_LKUP_RET_PROHIBIT:
		return np_drop(ctx, NP_DROP_FIB);
	default:
		/* NOT_FWDED (local, no route), FWD_DISABLED, FRAG_NEEDED, ... */
		return np_pod_to_stack(ctx);
	}

	/* Forwarding: the TTL goes down by one, unless it runs out. */
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	if (pkt->family == NP_AF_INET) {
		ip = data + ETH_HLEN;
		if ((void *)(ip + 1) > data_end)
			return np_pod_to_stack(ctx);
		/* The stack sends ICMP time exceeded. */
		if (ip->ttl <= 1)
			return np_pod_to_stack(ctx);
		np_ip4_dec_ttl(ip);
	} else {
		ip6 = data + ETH_HLEN;
		if ((void *)(ip6 + 1) > data_end)
			return np_pod_to_stack(ctx);
		if (ip6->hop_limit <= 1)
			return np_pod_to_stack(ctx);
		ip6->hop_limit--;
	}

	np_fib_nh(&nh, &p);
	if (bpf_redirect_neigh(p.ifindex, &nh, sizeof(nh), 0) != TC_ACT_REDIRECT)
		return np_drop(ctx, NP_DROP_REDIRECT);
	np_count(ctx, NP_STAT_TO_UPLINK);
	return TC_ACT_REDIRECT;
}

#endif /* NP_FIB_H */
