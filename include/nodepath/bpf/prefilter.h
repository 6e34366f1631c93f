/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * The source-prefix prefilter: longest-prefix match of the source address
 * in np_pf_v4 / np_pf_v6, then allow, deny or a token bucket.
 *
 * The helpers return a verdict as an enum np_stat value: below
 * NP_STAT_DROP_FIRST the packet passes and the value is the outcome to
 * count (NP_STAT_PASS when nothing more specific applies); from
 * NP_STAT_DROP_FIRST on it is the drop reason. The entry files map it to
 * their return codes through np_pass() / np_drop().
 */
#ifndef NP_PREFILTER_H
#define NP_PREFILTER_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include <nodepath/abi.h>
#include <nodepath/bpf/ctx.h>
#include <nodepath/bpf/maps.h>
#include <nodepath/bpf/parse.h>

/*
 * Clamps that keep the bucket arithmetic inside 64 bits: the depth
 * burst * NP_TB_SCALE stays below 2^62, and the refill elapsed * rate is
 * capped at that depth before it is computed (see np_tb_take()).
 */
#define NP_TB_BURST_MAX (1ULL << 32)
#define NP_TB_RATE_MAX (1ULL << 32)

static __always_inline int np_verdict_is_drop(__u32 v)
{
	return v >= NP_STAT_DROP_FIRST;
}

static __always_inline void np_pf_count_hit(const struct np_ctx *ctx, __u32 id)
{
	struct np_counter *c;

	c = bpf_map_lookup_elem(&np_pf_hits, &id);
	if (!c)
		return;
	c->packets++;
	c->bytes += ctx->len;
}

/*
 * Take one packet's worth of tokens from rule id's bucket. Returns 1 when
 * the packet is within the rate, 0 when it is over it (or the bucket is
 * missing: a rate rule whose id is out of range fails closed).
 *
 * A bucket whose last_ns is 0 (never used) refills from the boot of the
 * clock, i.e. it starts full.
 */
static __always_inline int np_tb_take(__u32 id, const struct np_pf_rule *r)
{
	__u64 rate = r->rate_pps, burst = r->burst;
	__u64 now, cap, fill_ns, elapsed;
	struct np_tbucket *tb;
	int ok = 0;

	tb = bpf_map_lookup_elem(&np_pf_tb, &id);
	if (!tb)
		return 0;
	if (rate > NP_TB_RATE_MAX)
		rate = NP_TB_RATE_MAX;
	if (burst > NP_TB_BURST_MAX)
		burst = NP_TB_BURST_MAX;
	if (!burst)
		burst = 1;
	cap = burst * NP_TB_SCALE;
	/*
	 * Time needed to fill an empty bucket: a longer gap adds nothing, so
	 * capping elapsed there first keeps elapsed * rate <= cap.
	 */
	fill_ns = cap / rate;
	/* No helper calls while the lock is held. */
	now = bpf_ktime_get_ns();

	bpf_spin_lock(&tb->lock);
	elapsed = now > tb->last_ns ? now - tb->last_ns : 0;
	if (elapsed > fill_ns)
		elapsed = fill_ns;
	tb->tokens += elapsed * rate;
	if (tb->tokens > cap)
		tb->tokens = cap;
	tb->last_ns = now;
	if (tb->tokens >= NP_TB_SCALE) {
		tb->tokens -= NP_TB_SCALE;
		ok = 1;
	}
	bpf_spin_unlock(&tb->lock);
	return ok;
}

/* The prefilter decision for a parsed IP packet. */
static __always_inline __u32 np_pf_decide(const struct np_ctx *ctx, const struct np_pkt *pkt)
{
	struct np_lpm4_key k4;
	struct np_lpm6_key k6;
	struct np_pf_rule *r;
	__u32 id;

	if (pkt->family == NP_AF_INET) {
		__builtin_memset(&k4, 0, sizeof(k4));
		k4.prefixlen = 32;
		__builtin_memcpy(k4.addr, &pkt->saddr.v4, sizeof(k4.addr));
		r = bpf_map_lookup_elem(&np_pf_v4, &k4);
	} else if (pkt->family == NP_AF_INET6) {
		__builtin_memset(&k6, 0, sizeof(k6));
		k6.prefixlen = 128;
		__builtin_memcpy(k6.addr, pkt->saddr.v6, sizeof(k6.addr));
		r = bpf_map_lookup_elem(&np_pf_v6, &k6);
	} else {
		return NP_STAT_NOT_IP;
	}
	if (!r)
		return NP_STAT_PASS;

	id = r->id;
	if (id)
		np_pf_count_hit(ctx, id);
	if (r->rate_pps)
		return np_tb_take(id, r) ? NP_STAT_PF_RATE_PASS : NP_DROP_PF_RATE;
	if (r->flags & NP_PF_F_ALLOW)
		return NP_STAT_PF_ALLOW;
	return NP_DROP_PF_DENY;
}

/*
 * Parse and judge the frame of ctx: the whole uplink decision, shared by
 * the XDP program and its tcx fallback. Malformed frames are dropped with
 * their parser reason whether or not the prefilter is on.
 */
static __always_inline __u32 np_judge(const struct np_ctx *ctx, __u32 features)
{
	struct np_pkt pkt;
	__u32 v;

	v = np_parse(&pkt, ctx);
	if (v)
		return v;
	if (!pkt.family)
		return NP_STAT_NOT_IP;
	if (!(features & NP_FEAT_PREFILTER))
		return NP_STAT_PASS;
	return np_pf_decide(ctx, &pkt);
}

#endif /* NP_PREFILTER_H */
