// SPDX-License-Identifier: GPL-2.0
/*
 * nodepath tcx ingress on the uplink. Packets XDP already judged (they carry
 * the np_meta mark) go on untouched; the rest (XDP off, or in the gap of a
 * native <-> generic switch) get the very same parse + prefilter decision
 * and the very same load balancing as in XDP (lb.h; a remote backend or a
 * client outside is sent back out with bpf_redirect / bpf_redirect_neigh).
 * Then, judged here or by XDP, a packet for a local endpoint (a pod
 * address in np_endpoints) is delivered straight into the pod with
 * bpf_redirect_peer(); everything else goes on (TCX_NEXT) untouched.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>

#include <nodepath/abi.h>
#include <nodepath/bpf/ctx.h>
#include <nodepath/bpf/maps.h>
#include <nodepath/bpf/stats.h>
#include <nodepath/bpf/parse.h>
#include <nodepath/bpf/prefilter.h>
#include <nodepath/bpf/endpoint.h>
#include <nodepath/bpf/lb.h>
#include <nodepath/bpf/dsr.h>

/*
 * Bytes made linear before parsing: more than any header stack the parser
 * accepts in practice (Ethernet + 2 tags + IPv6 + a few extension headers +
 * TCP with options).
 */
#define NP_TC_PULL_LEN 256

/* Load-time configuration, set through the skeleton before load. */
const volatile struct np_cfg cfg = {};

/*
 * Make skb->data point at the Ethernet header again when the stack handed
 * this program a frame that starts at its network header.
 *
 * Generic XDP does that: netif_receive_generic_xdp() copies an skb that is
 * nonlinear, cloned or short of XDP_PACKET_HEADROOM (every veth frame from a
 * local socket) with skb_cow_data_for_xdp(), and the copy does not inherit
 * skb->mac_len (skb_copy_header() leaves it out). tcx ingress pushes
 * skb->mac_len bytes before running us, i.e. none: data is the IP header,
 * data_meta lies 14 bytes off, and the parser would call every such frame
 * "not IP". The Ethernet header is still in the headroom, where
 * skb_mac_header() points. bpf_skb_change_head() pushes ETH_HLEN bytes back
 * onto the frame (no copy: the headroom is there) and resets the MAC header
 * and mac_len, so the stack and the redirect helpers see a normal frame
 * again; the saved header is written back over the zeroes it leaves.
 *
 * Returns 1 when it moved data (packet pointers must be derived again),
 * 0 when the frame was fine, -1 when it could not be repaired.
 */
static __always_inline int np_tc_same14(const __u8 *a, const __u8 *b)
{
	__u32 d = 0;
	int i;

#pragma unroll
	for (i = 0; i < ETH_HLEN; i++)
		d |= a[i] ^ b[i];
	return !d;
}

static __always_inline int np_tc_mac_fixup(struct __sk_buff *skb)
{
	__u8 *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;
	__u8 mac[ETH_HLEN];

	if (data + ETH_HLEN > data_end)
		return 0;
	if (bpf_skb_load_bytes_relative(skb, 0, mac, ETH_HLEN, BPF_HDR_START_MAC))
		return 0;
	if (np_tc_same14(mac, data))
		return 0; /* data is the MAC header: the usual case */
	/* Only repair what is plainly an Ethernet header right before data. */
	if (((struct ethhdr *)mac)->h_proto != skb->protocol)
		return 0;
	if (bpf_skb_change_head(skb, ETH_HLEN, 0))
		return -1;
	if (bpf_skb_store_bytes(skb, 0, mac, ETH_HLEN, 0))
		return -1;
	return 1;
}

/* Did XDP leave its mark in front of this packet? */
static __always_inline int np_tc_marked(const struct __sk_buff *skb)
{
	struct np_meta *meta = (void *)(long)skb->data_meta;
	void *data = (void *)(long)skb->data;

	if ((void *)(meta + 1) > data)
		return 0;
	return meta->magic == NP_META_MAGIC && (meta->flags & NP_META_F_JUDGED);
}

/*
 * Deliver an IP packet that passed to the local endpoint owning its
 * destination. Returns TC_ACT_REDIRECT or TC_ACT_SHOT when it took the
 * packet, -1 when the packet is for no endpoint (nothing counted).
 */
static __always_inline int np_tc_deliver(struct __sk_buff *skb, const struct np_ctx *ctx,
					 const struct np_pkt *pkt)
{
	struct np_endpoint *ep;

	/* Untagged only: pods sit on no VLAN. */
	if (!pkt->family || pkt->vlans)
		return -1;
	ep = np_ep_by_daddr(pkt);
	if (!ep)
		return -1;
	return np_ep_deliver(skb, ctx, ep, NP_REDIR_PEER_ALL);
}

SEC("tcx/ingress")
int np_tc_uplink_in(struct __sk_buff *skb)
{
	struct np_ctx ctx;
	struct np_pkt pkt;
	__u32 v, want, lb;
	int marked, ret;

	np_ctx_from_skb(&ctx, skb, NP_HOOK_TC_UPLINK_IN);
	np_count(&ctx, NP_STAT_RX);

	/* Generic XDP may have left data at the IP header (see above). */
	if (np_tc_mac_fixup(skb))
		np_ctx_from_skb(&ctx, skb, NP_HOOK_TC_UPLINK_IN);

	marked = np_tc_marked(skb);
	np_count(&ctx, marked ? NP_STAT_SKIPPED : NP_STAT_JUDGED);

	/* The headers may lie partly in the non-linear part: pull them in. */
	want = ctx.len < NP_TC_PULL_LEN ? ctx.len : NP_TC_PULL_LEN;
	if (ctx.data + want > ctx.data_end) {
		/* On failure the parser sees only the linear part. */
		bpf_skb_pull_data(skb, want);
		np_ctx_reload_skb(&ctx, skb);
	}

	/* The very decision of np_judge(), keeping the parse for delivery. */
	v = np_parse(&pkt, &ctx);
	if (marked) {
		/* XDP passed it already: only delivery is left to do. */
		if (v)
			pkt.family = 0; /* not what XDP saw (pull failed): no delivery */
		v = NP_STAT_PASS;
	} else if (v) {
		return np_drop(&ctx, v);
	} else if (!pkt.family) {
		v = NP_STAT_NOT_IP;
	} else if (cfg.features & NP_FEAT_PREFILTER) {
		v = np_pf_decide(&ctx, &pkt);
		if (np_verdict_is_drop(v))
			return np_drop(&ctx, v);
	} else {
		v = NP_STAT_PASS;
	}

	/*
	 * Load balancing, unless XDP did it already: reverse NAT of a
	 * backend's reply, or a service's new or tracked flow. A remote
	 * backend (or a client outside, for a reply) is sent back out here.
	 */
	if (!marked && pkt.family) {
		/* DSR for a local endpoint: decapsulated, DNATed (dsr.h). */
		lb = np_dsr_rx(&ctx, &pkt);
		if (lb == NP_LB_NONE)
			lb = np_lb(&ctx, &pkt, 1);
		if (np_lb_is_drop(lb))
			return np_drop(&ctx, lb);
		if (lb == NP_LB_DSR)
			return np_dsr_tx(&ctx, &pkt);
		if (lb == NP_LB_FWD)
			return np_lb_tx(&ctx, &pkt);
	}

	ret = np_tc_deliver(skb, &ctx, &pkt);
	if (ret >= 0)
		return ret;
	return np_pass(&ctx, v);
}

char LICENSE[] SEC("license") = "GPL";
