// SPDX-License-Identifier: GPL-2.0
/*
 * np_gen: a packet generator for BPF_PROG_TEST_RUN with
 * BPF_F_TEST_XDP_LIVE_FRAMES, and a no-op drop sink for the floor.
 *
 * The generator programs write the whole Ethernet + IPv4/IPv6 + UDP header
 * from the template on every run: live-frame pages are recycled with
 * whatever the receiver wrote into them (MAC rewrites, TTL, NAT), so a
 * frame must never be sent as it came back. The UDP source port walks over
 * tmpl.flows ports from tmpl.sport (a per-CPU flow index), the UDP checksum
 * follows it incrementally, and XDP_TX sends the frame out of the device
 * test_run was given (ctx.ingress_ifindex): on a veth, into the peer's ring.
 *
 * np_gen_sink_drop counts and drops everything: the cheapest receiver.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "np_gen.h"

/*
 * Written by np_gen.c before load. Not const: a const template would let
 * the compiler fold its (zero) initial value into the copy.
 */
struct np_gen_tmpl tmpl = {};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, NP_GEN_CNT__MAX);
	__type(key, __u32);
	__type(value, struct np_gen_cnt);
} np_gen_cnt SEC(".maps");

/* RFC 1624 eqn. 3: the checksum after one 16-bit word changed from m to m1. */
static __always_inline __u16 np_gen_csum_adj(__u16 csum, __u16 m, __u16 m1)
{
	__u32 s = (__u16)~csum + (__u16)~m + (__u32)m1;

	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	csum = ~s;
	return csum ? csum : 0xffff; /* 0 means "no checksum" in UDP */
}

/* The header in 8-byte words, then 2-byte ones (hlen is even, < 64). */
static __always_inline void np_gen_copy(void *dst, const void *src, const __u32 hlen)
{
	int i;

#pragma unroll
	for (i = 0; i < (int)hlen / 8; i++)
		((__u64 *)dst)[i] = ((const __u64 *)src)[i];
#pragma unroll
	for (i = hlen / 8 * 4; i < (int)hlen / 2; i++)
		((__u16 *)dst)[i] = ((const __u16 *)src)[i];
}

static __always_inline int np_gen_stamp(struct xdp_md *xdp, const __u32 hlen, const __u32 l4)
{
	void *data = (void *)(long)xdp->data;
	void *end = (void *)(long)xdp->data_end;
	__u32 key = NP_GEN_CNT_TX;
	struct np_gen_cnt *c;
	__u16 *udp, sport;

	if (data + hlen > end)
		return XDP_ABORTED;
	c = bpf_map_lookup_elem(&np_gen_cnt, &key);
	if (!c)
		return XDP_ABORTED;
	np_gen_copy(data, tmpl.hdr, hlen);

	sport = tmpl.sport + (__u16)c->flow;
	if (++c->flow >= tmpl.flows)
		c->flow = 0;
	c->packets++;

	udp = data + l4; /* source port, dest port, length, check */
	udp[0] = bpf_htons(sport);
	if (tmpl.csum)
		udp[3] = np_gen_csum_adj(tmpl.csum, bpf_htons(tmpl.sport), udp[0]);
	return XDP_TX;
}

SEC("xdp")
int np_gen_tx4(struct xdp_md *xdp)
{
	return np_gen_stamp(xdp, NP_GEN_HDR4, NP_GEN_UDP4);
}

SEC("xdp")
int np_gen_tx6(struct xdp_md *xdp)
{
	return np_gen_stamp(xdp, NP_GEN_HDR6, NP_GEN_UDP6);
}

SEC("xdp")
int np_gen_sink_drop(struct xdp_md *xdp)
{
	__u32 key = NP_GEN_CNT_SINK;
	struct np_gen_cnt *c;

	c = bpf_map_lookup_elem(&np_gen_cnt, &key);
	if (c)
		c->packets++;
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
