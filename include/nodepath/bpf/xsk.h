/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Steering into the AF_XDP worker pool (afxdp/), XDP only.
 *
 * After np_lb() has DNATed a packet of an NP_SVC_F_AFXDP service to a local
 * endpoint (NP_LB_LOCAL), the uplink XDP program redirects the frame into
 * np_xsk[rx queue], the rx socket of that queue's worker. In front of the
 * frame it leaves struct np_xsk_meta naming the endpoint's host-side device,
 * whose tx socket the worker hands the frame to; the frame already carries
 * the Ethernet addresses the pod expects, as tc's delivery would write them
 * (netkit l3: all zero, its devices' address; l2 and veth: the pod's and the
 * host side's).
 *
 * A queue without a worker (no np_xsk entry) makes bpf_redirect_map() return
 * its fallback, XDP_PASS: the frame is left untouched and the caller goes on
 * with the kernel path (the "judged" np_meta, tc delivers it).
 */
#ifndef NP_BPF_XSK_H
#define NP_BPF_XSK_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>

#include <nodepath/abi.h>
#include <nodepath/bpf/ctx.h>
#include <nodepath/bpf/maps.h>
#include <nodepath/bpf/parse.h>
#include <nodepath/bpf/stats.h>
#include <nodepath/bpf/lb.h>

/*
 * Redirect a packet np_lb() delivered to a local endpoint (NP_LB_LOCAL) into
 * the pool when its service asks for it; family, l4_proto: the packet's. Returns
 * XDP_REDIRECT (counted as NP_STAT_TO_XSK), or XDP_PASS with the frame
 * unchanged: not an AF_XDP service, no endpoint or one the pool cannot send
 * into (NP_EP_F_NO_XSK), a multi-buffer frame (the sockets take one buffer),
 * or no worker on this queue.
 *
 * A global function: the verifier checks it once, not on every path of the
 * program that reaches it. The endpoint is found by the backend address
 * np_lb() chose (the scratch's target), i.e. the packet's new destination.
 */
__noinline int np_xsk_steer(struct xdp_md *xdp, __u32 family, __u32 l4_proto)
{
	__u8 pod_mac[ETH_ALEN], host_mac[ETH_ALEN];
	struct np_lb_scratch *s;
	struct np_endpoint *ep;
	struct np_xsk_meta *m;
	struct ethhdr *eth;
	struct np_ep_key k;
	struct np_ctx ctx;
	__u32 zero = 0, ifindex, len;
	void *data;

	/*
	 * TCP and UDP only: for them np_lb() wrote svc_flags of this very
	 * packet (np_lb_service(): the service's; np_lb_revnat(): 0).
	 */
	if (!xdp || (l4_proto != IPPROTO_TCP && l4_proto != IPPROTO_UDP))
		return XDP_PASS;
	s = bpf_map_lookup_elem(&np_lb_scratch, &zero);
	if (!s || !(s->svc_flags & NP_SVC_F_AFXDP))
		return XDP_PASS;
	len = (__u32)bpf_xdp_get_buff_len(xdp);
	if (len != xdp->data_end - xdp->data)
		return XDP_PASS;

	__builtin_memset(&k, 0, sizeof(k));
	k.family = (__u8)family;
	__builtin_memcpy(k.addr, s->t.be_addr, 16);
	ep = bpf_map_lookup_elem(&np_endpoints, &k);
	/*
	 * veth and netkit alike (for netkit the primary hook restores the
	 * protocol of the frames, bpf/xsk_nk.h), unless the pool found that
	 * the kernel refuses an AF_XDP socket on the device (NP_EP_F_NO_XSK).
	 */
	if (!ep || (ep->flags & NP_EP_F_NO_XSK))
		return XDP_PASS;
	ifindex = ep->ifindex;
	__builtin_memcpy(pod_mac, ep->pod_mac, ETH_ALEN);
	__builtin_memcpy(host_mac, ep->host_mac, ETH_ALEN);

	if (bpf_redirect_map(&np_xsk, xdp->rx_queue_index, XDP_PASS) != XDP_REDIRECT)
		return XDP_PASS;
	/* From here on returning XDP_PASS abandons the redirect: kernel path. */
	if (bpf_xdp_adjust_meta(xdp, -(int)sizeof(*m)))
		return XDP_PASS;
	m = (void *)(long)xdp->data_meta;
	data = (void *)(long)xdp->data;
	eth = data;
	if ((void *)(m + 1) > data || (void *)(eth + 1) > (void *)(long)xdp->data_end) {
		/* Take the meta back so that the kernel path's mark fits. */
		bpf_xdp_adjust_meta(xdp, (int)sizeof(*m));
		return XDP_PASS;
	}
	m->magic = NP_XSK_META_MAGIC;
	m->ifindex = ifindex;
	__builtin_memcpy(eth->h_dest, pod_mac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, host_mac, ETH_ALEN);
	np_ctx_from_xdp(&ctx, xdp, NP_HOOK_XDP);
	ctx.len = len;
	np_count(&ctx, NP_STAT_TO_XSK);
	return XDP_REDIRECT;
}

#endif /* NP_BPF_XSK_H */
