// SPDX-License-Identifier: GPL-2.0
/*
 * nodepath's pod programs. One object, loaded once per node by `nodepath
 * up` (its maps shared with the uplink programs through the pins):
 *
 *  - np_pod_from, tcx ingress of a veth host side: traffic from the pod;
 *  - np_nk_peer, the netkit peer hook: traffic from the pod. netkit runs
 *    the peer hook's programs when the pod's device (the peer) transmits,
 *    with skb->dev already switched to the primary, so skb->ifindex is the
 *    host-side (primary) ifindex here as on veth;
 *  - np_nk_primary, the netkit primary hook: runs when the primary
 *    transmits, i.e. toward the pod (the stack's traffic, what other pods
 *    sent with bpf_redirect(), and the AF_XDP pool's frames, which it gives
 *    the protocol netkit does not set: bpf/xsk_nk.h); counts and passes.
 *
 * From a pod: the sender is found by skb->ifindex in np_ep_devs; ARP and
 * neighbour solicitations for the gateway are answered here; IP packets
 * must carry the pod's own source address; a destination that is a local
 * endpoint is delivered straight into that pod, anything else is forwarded
 * through the FIB with bpf_redirect_neigh(), and what the FIB cannot
 * resolve goes to the stack untouched.
 *
 * A netkit device, even in l3 mode, is an Ethernet device (l3 only means
 * NOARP and an all-zero address): its frames carry an Ethernet header, so
 * the same parser serves all three programs.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include <nodepath/abi.h>
#include <nodepath/bpf/ctx.h>
#include <nodepath/bpf/maps.h>
#include <nodepath/bpf/stats.h>
#include <nodepath/bpf/parse.h>
#include <nodepath/bpf/endpoint.h>
#include <nodepath/bpf/fib.h>
#include <nodepath/bpf/neigh.h>
#include <nodepath/bpf/lb.h>
#include <nodepath/bpf/xsk_nk.h>

/* Bytes made linear before parsing (as on the uplink). */
#define NP_POD_PULL_LEN 256

/* Load-time configuration, set through the skeleton before load. */
const volatile struct np_cfg cfg = {};

static __always_inline __be16 np_eth_proto(const struct np_ctx *ctx)
{
	struct ethhdr *eth = ctx->data;

	if ((void *)(eth + 1) > ctx->data_end)
		return 0;
	return eth->h_proto;
}

/* The ICMPv6 type right after the fixed IPv6 header, or -1. */
static __always_inline int np_icmp6_type(const struct np_ctx *ctx, const struct np_pkt *pkt)
{
	__u8 *t = ctx->data + ETH_HLEN + sizeof(struct ipv6hdr);

	if (pkt->l4_proto != IPPROTO_ICMPV6 || !(pkt->flags & NP_PKT_F_L4) ||
	    pkt->l4_off != ETH_HLEN + sizeof(struct ipv6hdr))
		return -1;
	if ((void *)(t + 1) > ctx->data_end)
		return -1;
	return *t;
}

/* Everything a pod sends, from either device kind. */
static __always_inline int np_from_pod(struct __sk_buff *skb, enum np_redir_mode mode)
{
	struct np_node_cfg *node;
	struct np_endpoint *ep;
	struct np_ep_dev *dev;
	struct np_ctx ctx;
	struct np_pkt pkt;
	__u32 v, want, lb, key = 0;

	np_ctx_from_skb(&ctx, skb, NP_HOOK_TC_POD_FROM);
	np_count(&ctx, NP_STAT_RX);

	dev = np_ep_by_dev(skb->ifindex);
	if (!dev)
		return np_drop(&ctx, NP_DROP_POD_UNKNOWN);
	node = bpf_map_lookup_elem(&np_node, &key);
	if (!node)
		return np_pod_to_stack(&ctx);

	want = ctx.len < NP_POD_PULL_LEN ? ctx.len : NP_POD_PULL_LEN;
	if (ctx.data + want > ctx.data_end) {
		bpf_skb_pull_data(skb, want);
		np_ctx_reload_skb(&ctx, skb);
	}

	v = np_parse(&pkt, &ctx);
	if (v)
		return np_drop(&ctx, v);
	/* A pod has no business with VLANs: let the stack judge (and drop). */
	if (pkt.vlans)
		return np_pod_to_stack(&ctx);
	if (!pkt.family) {
		if (np_eth_proto(&ctx) == bpf_htons(ETH_P_ARP))
			return np_arp_respond(skb, &ctx, dev, node->pod_gw4);
		return np_pod_to_stack(&ctx);
	}

	if (pkt.family == NP_AF_INET6) {
		if (np_icmp6_type(&ctx, &pkt) == NP_ND_NS)
			return np_ns_respond(skb, &ctx, dev, &pkt, node->pod_gw6);
		/* Link-local and unspecified sources: ND, DAD, MLD. */
		if (np_addr6_is_linklocal(pkt.saddr.v6) || np_addr6_is_zero(pkt.saddr.v6))
			return np_pod_to_stack(&ctx);
		if (!np_addr6_eq(pkt.saddr.v6, dev->ip6))
			return np_drop(&ctx, NP_DROP_POD_SPOOF);
	} else if (!np_addr4_eq((const __u8 *)&pkt.saddr.v4, dev->ip4)) {
		return np_drop(&ctx, NP_DROP_POD_SPOOF);
	}

	np_ep_count_tx(dev->id, ctx.len);
	/* Reverse NAT of a local backend's reply, or a service: DNAT only. */
	lb = np_lb(&ctx, &pkt, 0);
	if (np_lb_is_drop(lb))
		return np_drop(&ctx, lb);
	ep = np_ep_by_daddr(&pkt);
	if (ep)
		return np_ep_deliver(skb, &ctx, ep, mode);
	return np_fib_forward(skb, &ctx, &pkt);
}

SEC("tcx/ingress")
int np_pod_from(struct __sk_buff *skb)
{
	return np_from_pod(skb, NP_REDIR_PEER_VETH);
}

SEC("netkit/peer")
int np_nk_peer(struct __sk_buff *skb)
{
	return np_from_pod(skb, NP_REDIR_EGRESS);
}

SEC("netkit/primary")
int np_nk_primary(struct __sk_buff *skb)
{
	struct np_ctx ctx;

	/* A frame of the AF_XDP pool: give it its protocol (bpf/xsk_nk.h). */
	if (!skb->protocol)
		np_xsk_nk_proto(skb);
	np_ctx_from_skb(&ctx, skb, NP_HOOK_TC_POD_TO);
	np_count(&ctx, NP_STAT_RX);
	np_count(&ctx, NP_STAT_PASS);
	return NETKIT_PASS;
}

char LICENSE[] SEC("license") = "GPL";
