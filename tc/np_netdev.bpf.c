// SPDX-License-Identifier: GPL-2.0
/*
 * nodepath tcx ingress on the uplink. Packets XDP already judged (they carry
 * the np_meta mark) go on untouched; the rest (XDP off, or in the gap of a
 * native <-> generic switch) get the very same parse + prefilter decision.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include <nodepath/abi.h>
#include <nodepath/bpf/ctx.h>
#include <nodepath/bpf/maps.h>
#include <nodepath/bpf/stats.h>
#include <nodepath/bpf/parse.h>
#include <nodepath/bpf/prefilter.h>

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

SEC("tcx/ingress")
int np_tc_uplink_in(struct __sk_buff *skb)
{
	struct np_ctx ctx;
	__u32 v, want;

	np_ctx_from_skb(&ctx, skb, NP_HOOK_TC_UPLINK_IN);
	np_count(&ctx, NP_STAT_RX);

	if (np_tc_marked(skb)) {
		np_count(&ctx, NP_STAT_SKIPPED);
		return np_pass(&ctx, NP_STAT_PASS);
	}
	np_count(&ctx, NP_STAT_JUDGED);

	/* The headers may lie partly in the non-linear part: pull them in. */
	want = ctx.len < NP_TC_PULL_LEN ? ctx.len : NP_TC_PULL_LEN;
	if (ctx.data + want > ctx.data_end) {
		/* On failure the parser sees only the linear part. */
		bpf_skb_pull_data(skb, want);
		np_ctx_reload_skb(&ctx, skb);
	}

	v = np_judge(&ctx, cfg.features);
	if (np_verdict_is_drop(v))
		return np_drop(&ctx, v);
	return np_pass(&ctx, v);
}

char LICENSE[] SEC("license") = "GPL";
