// SPDX-License-Identifier: GPL-2.0
/*
 * nodepath XDP on the uplink: parse -> prefilter -> service load balancing
 * (lb.h: reverse NAT, DNAT to a local backend and XDP_PASS, or into the
 * AF_XDP pool for an --afxdp service (xsk.h), SNAT + DNAT to a remote one
 * and XDP_TX) -> XDP_DROP, XDP_PASS, XDP_TX or XDP_REDIRECT.
 * A passed packet carries struct np_meta in its metadata so that the tcx
 * uplink program does not judge it again.
 *
 * A plain XDP program: libxdp runs it behind its dispatcher, where XDP_PASS
 * hands the packet to the next program in the chain.
 *
 * It declares multi-buffer support (SEC("xdp.frags")): a frame may span
 * several buffers (jumbo frames, GRO-merged packets in generic mode), of which only
 * the first, data..data_end, is read directly. libbpf loads the program with
 * BPF_F_XDP_HAS_FRAGS and libxdp 1.3 takes that flag from the program and
 * loads its dispatcher with frags support when every program in it has it.
 * Without the flag the kernel refuses native XDP on a device whose MTU (on
 * veth: the peer's MTU) exceeds one page.
 *
 * The parser reads headers only in the first buffer, but checks the lengths
 * in the headers (tot_len, payload_len, UDP length) against the whole frame,
 * bpf_xdp_get_buff_len(). Should the headers of a multi-buffer frame not all
 * lie in its first buffer (a driver that splits headers from payload early,
 * or very long IPv6 extension chains), the parser stops short with a
 * malformed-packet verdict it cannot tell from a really malformed one: such a
 * frame is passed on unmarked, and the tcx program, which pulls the headers
 * into the linear part, judges it and drops it with the same reason if it
 * is malformed after all. Prefilter verdicts (deny, rate) still drop here.
 */
/* nat.h and lb.h: the XDP flavour (direct writes, XDP_TX). */
#define NP_BPF_XDP 1

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include <nodepath/abi.h>
#include <nodepath/bpf/ctx.h>
#include <nodepath/bpf/maps.h>
#include <nodepath/bpf/stats.h>
#include <nodepath/bpf/parse.h>
#include <nodepath/bpf/prefilter.h>
#include <nodepath/bpf/lb.h>
#include <nodepath/bpf/dsr.h>
#include <nodepath/bpf/xsk.h>

/* Load-time configuration, set through the skeleton before load. */
const volatile struct np_cfg cfg = {};

/*
 * Leave the "judged" mark in front of the packet. A failure is counted and
 * otherwise harmless: tc then judges the packet a second time. The metadata
 * lives in the headroom of the first buffer, so frags change nothing here.
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

/* A verdict of the parser (malformed packet), not of the prefilter. */
static __always_inline int np_xdp_is_parse_drop(__u32 v)
{
	return v != NP_DROP_PF_DENY && v != NP_DROP_PF_RATE;
}

SEC("xdp.frags")
int np_xdp_uplink(struct xdp_md *xdp)
{
	struct np_ctx ctx;
	struct np_pkt pkt;
	__u32 v, lb;
	int ret;

	np_ctx_from_xdp(&ctx, xdp, NP_HOOK_XDP);
	/* The whole frame, all buffers; data..data_end is the first one. */
	ctx.len = (__u32)bpf_xdp_get_buff_len(xdp);
	ctx.features = cfg.features;
	np_count(&ctx, NP_STAT_RX);

	/* np_judge(), keeping the parse for the load balancer. */
	v = np_parse(&pkt, &ctx);
	if (!v) {
		if (!pkt.family)
			v = NP_STAT_NOT_IP;
		else if (cfg.features & NP_FEAT_PREFILTER)
			v = np_pf_decide(&ctx, &pkt);
		else
			v = NP_STAT_PASS;
	}
	if (np_verdict_is_drop(v)) {
		/* Headers may run past the first buffer: tc judges (see top). */
		if (ctx.len > (__u32)(ctx.data_end - ctx.data) && np_xdp_is_parse_drop(v))
			return np_pass(&ctx, NP_STAT_PASS);
		return np_drop(&ctx, v);
	}

	/* DSR decapsulation is tc's (dsr.h): hand such packets on unmarked. */
	if (np_dsr_is_ipip(&pkt))
		return np_pass(&ctx, v);
	/*
	 * Load balancing: reverse NAT of a backend's reply, or a service's
	 * flow (DNAT to a local backend: passed to tc, which delivers it; a
	 * remote backend, or a client outside: XDP_TX / redirect).
	 */
	if (pkt.family) {
		lb = np_lb(&ctx, &pkt, 1);
		if (np_lb_is_drop(lb))
			return np_drop(&ctx, lb);
		if (lb == NP_LB_DSR) {
			ret = np_dsr_tx(&ctx, &pkt);
			if (ret == XDP_PASS && (cfg.features & NP_FEAT_META))
				np_xdp_mark(xdp, &ctx);
			return ret;
		}
		/* A CHECKSUM_PARTIAL frame (veth): tc balances it, unmarked. */
		if (lb == NP_LB_DEFER)
			return np_pass(&ctx, v);
		if (lb == NP_LB_FWD) {
			ret = np_lb_tx(&ctx, &pkt);
			/* Passed to the stack translated: tc must not balance it again. */
			if (ret == XDP_PASS && (cfg.features & NP_FEAT_META))
				np_xdp_mark(xdp, &ctx);
			return ret;
		}
		/* A local backend of an AF_XDP service: the pool, if it runs (xsk.h). */
		if (lb == NP_LB_LOCAL && (pkt.flags & NP_PKT_F_AFXDP) &&
		    np_xsk_steer(xdp, pkt.family, pkt.l4_proto) == XDP_REDIRECT)
			return XDP_REDIRECT;
	}
	if (cfg.features & NP_FEAT_META)
		np_xdp_mark(xdp, &ctx);
	return np_pass(&ctx, v);
}

char LICENSE[] SEC("license") = "GPL";
