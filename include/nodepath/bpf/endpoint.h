/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Local endpoints (pods): look them up by address or by their host-side
 * device, count their traffic, and deliver a packet straight into one.
 * Shared by the uplink tcx program and the pod programs, tc only.
 *
 * Delivery rewrites the Ethernet addresses to what the pod expects
 * (destination pod_mac, source host_mac; both zero for a netkit l3 pair,
 * whose devices still carry an all-zero Ethernet header) and leaves the IP
 * header alone: one hop into the pod, no TTL change.
 */
#ifndef NP_ENDPOINT_H
#define NP_ENDPOINT_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#include <nodepath/abi.h>
#include <nodepath/bpf/ctx.h>
#include <nodepath/bpf/maps.h>
#include <nodepath/bpf/parse.h>
#include <nodepath/bpf/stats.h>

/*
 * Which redirect reaches the pod, by where the caller runs:
 *  - NP_REDIR_PEER_ALL: tc ingress of the uplink: bpf_redirect_peer() into
 *    the pod for veth and netkit alike (both have a peer device);
 *  - NP_REDIR_PEER_VETH: tc ingress of a veth host side: bpf_redirect_peer()
 *    to veth endpoints, bpf_redirect() (egress of the netkit primary, which
 *    hands it to its peer) to netkit endpoints;
 *  - NP_REDIR_EGRESS: the netkit hooks run in the device's transmit path,
 *    where bpf_redirect_peer() is refused: bpf_redirect() to the host side,
 *    whose transmit delivers into the pod, for every endpoint.
 */
enum np_redir_mode {
	NP_REDIR_PEER_ALL = 0,
	NP_REDIR_PEER_VETH = 1,
	NP_REDIR_EGRESS = 2,
};

/*
 * Hand a packet from a pod to the stack untouched (TC_ACT_OK, which is also
 * NETKIT_PASS): counted as NP_STAT_TO_STACK besides NP_STAT_PASS.
 */
static __always_inline int np_pod_to_stack(const struct np_ctx *ctx)
{
	np_count(ctx, NP_STAT_TO_STACK);
	np_count(ctx, NP_STAT_PASS);
	return TC_ACT_OK;
}

/* The endpoint that owns the destination address of pkt, or NULL. */
static __always_inline struct np_endpoint *np_ep_by_daddr(const struct np_pkt *pkt)
{
	struct np_ep_key k;

	__builtin_memset(&k, 0, sizeof(k));
	k.family = pkt->family;
	if (pkt->family == NP_AF_INET)
		__builtin_memcpy(k.addr, &pkt->daddr.v4, 4);
	else if (pkt->family == NP_AF_INET6)
		__builtin_memcpy(k.addr, pkt->daddr.v6, 16);
	else
		return (void *)0;
	return bpf_map_lookup_elem(&np_endpoints, &k);
}

/* The endpoint behind host-side device ifindex, or NULL. */
static __always_inline struct np_ep_dev *np_ep_by_dev(__u32 ifindex)
{
	return bpf_map_lookup_elem(&np_ep_devs, &ifindex);
}

static __always_inline void np_ep_count_rx(__u32 id, __u32 len)
{
	struct np_ep_stats *s = bpf_map_lookup_elem(&np_ep_stats, &id);

	if (!s)
		return;
	s->rx_packets++;
	s->rx_bytes += len;
}

static __always_inline void np_ep_count_tx(__u32 id, __u32 len)
{
	struct np_ep_stats *s = bpf_map_lookup_elem(&np_ep_stats, &id);

	if (!s)
		return;
	s->tx_packets++;
	s->tx_bytes += len;
}

/* Give the frame the Ethernet addresses of ep's pod. 0, or -1 (no header). */
static __always_inline int np_ep_set_macs(struct __sk_buff *skb, const struct np_endpoint *ep)
{
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = (void *)(long)skb->data;

	if ((void *)(eth + 1) > data_end)
		return -1;
	__builtin_memcpy(eth->h_dest, ep->pod_mac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, ep->host_mac, ETH_ALEN);
	return 0;
}

/*
 * Deliver the frame of ctx into ep's pod: rewrite the MACs, redirect as
 * mode says, count rx for ep and NP_STAT_TO_EP for the hook. Returns the
 * tc verdict (TC_ACT_REDIRECT, or TC_ACT_SHOT counted as NP_DROP_REDIRECT).
 */
static __always_inline int np_ep_deliver(struct __sk_buff *skb, const struct np_ctx *ctx,
					 const struct np_endpoint *ep, enum np_redir_mode mode)
{
	__u32 ifindex = ep->ifindex, id = ep->id;
	int peer;
	long ret;

	if (mode == NP_REDIR_PEER_ALL)
		peer = 1;
	else if (mode == NP_REDIR_PEER_VETH)
		peer = !(ep->flags & NP_EP_F_NETKIT);
	else
		peer = 0;

	if (np_ep_set_macs(skb, ep))
		return np_drop(ctx, NP_DROP_L2_TRUNC);
	if (peer)
		ret = bpf_redirect_peer(ifindex, 0);
	else
		ret = bpf_redirect(ifindex, 0);
	if (ret != TC_ACT_REDIRECT)
		return np_drop(ctx, NP_DROP_REDIRECT);
	np_ep_count_rx(id, ctx->len);
	np_count(ctx, NP_STAT_TO_EP);
	return TC_ACT_REDIRECT;
}

#endif /* NP_ENDPOINT_H */
