// SPDX-License-Identifier: GPL-2.0
/*
 * nodepath tcx ingress on the uplink. Packets XDP already judged (they carry
 * the np_meta mark) go on untouched; the rest (XDP off, or in the gap of a
 * native <-> generic switch) get the very same parse + prefilter decision.
 * Then, judged here or by XDP, a packet for a local endpoint (a pod
 * address in np_endpoints) is delivered straight into the pod with
 * bpf_redirect_peer(); everything else goes on (TCX_NEXT) untouched.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include <nodepath/abi.h>
#include <nodepath/bpf/ctx.h>
#include <nodepath/bpf/maps.h>
#include <nodepath/bpf/stats.h>
#include <nodepath/bpf/parse.h>
#include <nodepath/bpf/prefilter.h>
#include <nodepath/bpf/endpoint.h>

/*
 * Bytes made linear before parsing: more than any header stack the parser
 * accepts in practice (Ethernet + 2 tags + IPv6 + a few extension headers +
 * TCP with options).
 */
#define NP_TC_PULL_LEN 256

/* Load-time configuration, set through the skeleton before load. */
const volatile struct np_cfg cfg = {};

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
	__u32 v, want;
	int marked, ret;

	np_ctx_from_skb(&ctx, skb, NP_HOOK_TC_UPLINK_IN);
	np_count(&ctx, NP_STAT_RX);

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

	ret = np_tc_deliver(skb, &ctx, &pkt);
	if (ret >= 0)
		return ret;
	return np_pass(&ctx, v);
}

char LICENSE[] SEC("license") = "GPL";
