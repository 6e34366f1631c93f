/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Per-CPU statistics and the single exit paths of the uplink programs:
 * every drop leaves through np_drop(), which counts it by reason.
 */
#ifndef NP_STATS_H
#define NP_STATS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include <nodepath/abi.h>
#include <nodepath/bpf/ctx.h>
#include <nodepath/bpf/maps.h>

/* Count one packet of ctx->len bytes under stat for the context's hook. */
static __always_inline void np_count(const struct np_ctx *ctx, __u32 stat)
{
	__u32 idx = NP_STAT_IDX(ctx->hook, stat);
	struct np_counter *c;

	c = bpf_map_lookup_elem(&np_stats, &idx);
	if (!c)
		return;
	/* Per-CPU cell: no other CPU writes it, so no atomics. */
	c->packets++;
	c->bytes += ctx->len;
}

/* Drop the packet, counted by reason (a NP_DROP_* value). */
static __always_inline int np_drop(const struct np_ctx *ctx, __u32 reason)
{
	np_count(ctx, reason);
	return np_ctx_is_xdp(ctx) ? XDP_DROP : TCX_DROP;
}

/*
 * Pass the packet on. outcome is NP_STAT_PASS or a more specific pass
 * outcome (NP_STAT_NOT_IP, NP_STAT_PF_ALLOW, ...), counted besides PASS.
 */
static __always_inline int np_pass(const struct np_ctx *ctx, __u32 outcome)
{
	if (outcome != NP_STAT_PASS)
		np_count(ctx, outcome);
	np_count(ctx, NP_STAT_PASS);
	return np_ctx_is_xdp(ctx) ? XDP_PASS : TCX_NEXT;
}

#ifdef NP_BPF_XDP
/*
 * XDP: send a frame whose MACs come from a FIB lookup out of its egress
 * ifindex: XDP_TX when that is the device it came in on (in), else
 * bpf_redirect(). On a veth uplink XDP_TX would strand the frame
 * (NP_FEAT_TX_REDIRECT): always redirect there. Counts NP_STAT_LB_TX.
 */
static __always_inline int np_xdp_fib_out(const struct np_ctx *ctx, __u32 ifindex, __u32 in)
{
	if (ifindex == in && !(ctx->features & NP_FEAT_TX_REDIRECT)) {
		np_count(ctx, NP_STAT_LB_TX);
		return XDP_TX;
	}
	if (bpf_redirect(ifindex, 0) != XDP_REDIRECT)
		return np_drop(ctx, NP_DROP_REDIRECT);
	np_count(ctx, NP_STAT_LB_TX);
	return XDP_REDIRECT;
}
#endif

#endif /* NP_STATS_H */
