// SPDX-License-Identifier: GPL-2.0
/*
 * nodepath XDP on the uplink: parse -> prefilter -> XDP_DROP or XDP_PASS.
 * A passed packet carries struct np_meta in its metadata so that the tcx
 * uplink program does not judge it again.
 *
 * A plain SEC("xdp") program: libxdp runs it behind its dispatcher, where
 * XDP_PASS hands the packet to the next program in the chain.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include <nodepath/abi.h>
#include <nodepath/bpf/ctx.h>
#include <nodepath/bpf/maps.h>
#include <nodepath/bpf/stats.h>
#include <nodepath/bpf/parse.h>
#include <nodepath/bpf/prefilter.h>

/* Load-time configuration, set through the skeleton before load. */
const volatile struct np_cfg cfg = {};

/*
 * Leave the "judged" mark in front of the packet. A failure is counted and
 * otherwise harmless: tc then judges the packet a second time.
 */
static __always_inline void np_xdp_mark(struct xdp_md *xdp, const struct np_ctx *ctx)
{
	struct np_meta *meta;
	void *data;

	if (bpf_xdp_adjust_meta(xdp, -(int)sizeof(*meta))) {
		np_count(ctx, NP_STAT_META_FAIL);
		return;
	}
	/* adjust_meta invalidated every packet pointer: derive them again. */
	meta = (void *)(long)xdp->data_meta;
	data = (void *)(long)xdp->data;
	if ((void *)(meta + 1) > data) {
		np_count(ctx, NP_STAT_META_FAIL);
		return;
	}
	meta->magic = NP_META_MAGIC;
	meta->flags = NP_META_F_JUDGED;
}

SEC("xdp")
int np_xdp_uplink(struct xdp_md *xdp)
{
	struct np_ctx ctx;
	__u32 v;

	np_ctx_from_xdp(&ctx, xdp, NP_HOOK_XDP);
	np_count(&ctx, NP_STAT_RX);

	v = np_judge(&ctx, cfg.features);
	if (np_verdict_is_drop(v))
		return np_drop(&ctx, v);
	if (cfg.features & NP_FEAT_META)
		np_xdp_mark(xdp, &ctx);
	return np_pass(&ctx, v);
}

char LICENSE[] SEC("license") = "GPL";
