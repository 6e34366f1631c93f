// SPDX-License-Identifier: GPL-2.0
/*
 * np_progrun: re-stamping wrappers for BPF_PROG_TEST_RUN microbenchmarks.
 *
 * test_run with repeat runs a program again and again on the same buffer,
 * and keeps what the program did to it: a load balancer that rewrote the
 * destination would, from its second run on, measure another path. Each
 * wrapper therefore first puts the frame back as the template says (length,
 * metadata, the first NP_PR_HDR bytes, the flow's source port and address
 * with their checksums), then tail-calls the program under test in slot 0
 * of its program array. The floor is the same wrapper tail-calling a no-op
 * program (np_pr_xdp_noop / np_pr_tc_noop).
 *
 * The XDP wrapper is SEC("xdp.frags") so that np_xdp_uplink (frags-aware)
 * may share its program array; the tc wrapper is tcx ingress like
 * np_tc_uplink_in and np_pod_from.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "np_progrun.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct np_pr_tmpl);
} np_pr_tmpl SEC(".maps");

struct np_pr_buf {
	__u8 b[NP_PR_HDR];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct np_pr_buf);
} np_pr_scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} np_pr_cnt SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} np_pr_xdp_progs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} np_pr_tc_progs SEC(".maps");

/* One 16-bit word of a checksummed area went from old to new (RFC 1624, eqn. 3). */
static __always_inline __u16 np_pr_csum_fix(__u16 csum, __u16 old, __u16 new)
{
	__u32 s = (__u32)(__u16)~csum + (__u16)~old + new;

	s = (s >> 16) + (s & 0xffff);
	s = (s >> 16) + (s & 0xffff);
	return (__u16)~s;
}

static __always_inline __u16 np_pr_get16(const __u8 *p)
{
	return (__u16)(p[0] << 8 | p[1]);
}

static __always_inline void np_pr_put16(__u8 *p, __u16 v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

/*
 * Write the template into p (NP_PR_HDR bytes) with the next flow's source
 * port and address. Returns 0, or -1 without a template.
 */
static __always_inline int np_pr_stamp(__u8 *p)
{
	__u32 k = 0, f, *cnt;
	struct np_pr_tmpl *t;
	__u16 sp, sp1, lo, lo1, c;

	t = bpf_map_lookup_elem(&np_pr_tmpl, &k);
	cnt = bpf_map_lookup_elem(&np_pr_cnt, &k);
	if (!t || !cnt || !t->flows)
		return -1;
	__builtin_memcpy(p, t->pkt, NP_PR_HDR);
	f = (*cnt)++ % t->flows;
	sp = np_pr_get16(p + NP_PR_OFF_SPORT);
	lo = np_pr_get16(p + NP_PR_OFF_SRC_LO);
	sp1 = sp + (__u16)(f % NP_PR_PORTS);
	lo1 = lo + (__u16)(f / NP_PR_PORTS);
	np_pr_put16(p + NP_PR_OFF_SPORT, sp1);
	np_pr_put16(p + NP_PR_OFF_SRC_LO, lo1);
	c = np_pr_get16(p + NP_PR_OFF_IPCSUM);
	np_pr_put16(p + NP_PR_OFF_IPCSUM, np_pr_csum_fix(c, lo, lo1));
	c = np_pr_get16(p + NP_PR_OFF_UDPCSUM);
	c = np_pr_csum_fix(np_pr_csum_fix(c, sp, sp1), lo, lo1);
	np_pr_put16(p + NP_PR_OFF_UDPCSUM, c ? c : 0xffff);
	return 0;
}

SEC("xdp.frags")
int np_pr_xdp(struct xdp_md *ctx)
{
	__u32 k = 0, len;
	struct np_pr_tmpl *t;
	void *data, *end, *meta;

	t = bpf_map_lookup_elem(&np_pr_tmpl, &k);
	if (!t)
		return XDP_ABORTED;
	/* what the last run left: metadata, a longer head (encapsulation) */
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	meta = (void *)(long)ctx->data_meta;
	if (meta < data)
		bpf_xdp_adjust_meta(ctx, (int)(data - meta));
	len = (__u32)(end - data);
	if (len > t->len && len - t->len <= 128) {
		bpf_xdp_adjust_head(ctx, (int)(len - t->len));
	}
	asm volatile("" ::: "memory");
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	if (data + NP_PR_HDR > end)
		return XDP_ABORTED;
	if (np_pr_stamp(data))
		return XDP_ABORTED;
	bpf_tail_call(ctx, &np_pr_xdp_progs, 0);
	return XDP_ABORTED;
}

SEC("xdp.frags")
int np_pr_xdp_noop(struct xdp_md *ctx)
{
	return XDP_DROP;
}

SEC("tcx/ingress")
int np_pr_tc(struct __sk_buff *skb)
{
	struct np_pr_tmpl *t;
	struct np_pr_buf *b;
	__u32 k = 0;

	t = bpf_map_lookup_elem(&np_pr_tmpl, &k);
	b = bpf_map_lookup_elem(&np_pr_scratch, &k);
	if (!t || !b)
		return TC_ACT_SHOT;
	if (skb->len != t->len && bpf_skb_change_tail(skb, t->len, 0))
		return TC_ACT_SHOT;
	if (np_pr_stamp(b->b))
		return TC_ACT_SHOT;
	if (bpf_skb_store_bytes(skb, 0, b->b, NP_PR_HDR, 0))
		return TC_ACT_SHOT;
	bpf_tail_call(skb, &np_pr_tc_progs, 0);
	return TC_ACT_SHOT;
}

SEC("tcx/ingress")
int np_pr_tc_noop(struct __sk_buff *skb)
{
	return TC_ACT_SHOT;
}

char LICENSE[] SEC("license") = "GPL";
