// SPDX-License-Identifier: GPL-2.0
/*
 * np_gen: a packet generator for BPF_PROG_TEST_RUN with
 * BPF_F_TEST_XDP_LIVE_FRAMES, and no-op drop sinks for floors and counts.
 *
 * The generator programs write the whole Ethernet + IPv4/IPv6 + UDP header
 * from the template on every run: live-frame pages are recycled with
 * whatever the receiver wrote into them (MAC rewrites, TTL, NAT), so a
 * frame must never be sent as it came back. Flows walk over tmpl.flows
 * tuples (a per-CPU index): the UDP source port over tmpl.ports ports from
 * tmpl.sport, then the source address's last 16-bit word up by one. The
 * IPv4 header checksum and the UDP checksum follow incrementally, so every
 * frame carries full, correct checksums. XDP_TX sends the frame out of the
 * device test_run was given (ctx.ingress_ifindex): on a veth, into the
 * peer's ring.
 *
 * np_gen_sink_drop counts and drops everything (XDP): the cheapest
 * receiver; np_gen_reflect sends everything back out (the XDP_TX floor). np_gen_sink_tc counts and drops UDP at tcx ingress, for a pod's
 * nic0, which packets redirected by bpf_redirect_peer reach without XDP.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "np_gen.h"

/*
 * Written by np_gen.c before load. Not const: a const template would let
 * the compiler fold its (zero) initial value into the copy.
 */
struct np_gen_tmpl tmpl = {};
struct np_gen_refl refl = {};

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
	return ~s;
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

static __always_inline int np_gen_stamp(struct xdp_md *xdp, const __u32 hlen, const __u32 l4,
					const __u32 slo, const int v4)
{
	void *data = (void *)(long)xdp->data;
	void *end = (void *)(long)xdp->data_end;
	__u32 key = NP_GEN_CNT_TX;
	__u16 *udp, *sw, *ipc, a0, a1, csum;
	struct np_gen_cnt *c;

	if (data + hlen > end)
		return XDP_ABORTED;
	c = bpf_map_lookup_elem(&np_gen_cnt, &key);
	if (!c)
		return XDP_ABORTED;
	np_gen_copy(data, tmpl.hdr, hlen);

	udp = data + l4; /* source port, dest port, length, check */
	sw = data + slo;
	udp[0] = bpf_htons(tmpl.sport + (__u16)c->port);
	csum = np_gen_csum_adj(tmpl.csum, bpf_htons(tmpl.sport), udp[0]);
	if (c->addr) {
		a0 = bpf_htons(tmpl.saddr_lo);
		a1 = bpf_htons(tmpl.saddr_lo + (__u16)c->addr);
		*sw = a1;
		csum = np_gen_csum_adj(csum, a0, a1);
		if (v4) {
			ipc = data + NP_GEN_IPCSUM4;
			*ipc = np_gen_csum_adj(tmpl.ip_csum, a0, a1);
		}
	}
	udp[3] = csum ? csum : 0xffff; /* 0 means "no checksum" in UDP */

	if (++c->port >= tmpl.ports) {
		c->port = 0;
		c->addr++;
	}
	if (c->addr * tmpl.ports + c->port >= tmpl.flows) {
		c->port = 0;
		c->addr = 0;
	}
	c->packets++;
	return XDP_TX;
}

SEC("xdp")
int np_gen_tx4(struct xdp_md *xdp)
{
	return np_gen_stamp(xdp, NP_GEN_HDR4, NP_GEN_UDP4, NP_GEN_SLO4, 1);
}

SEC("xdp")
int np_gen_tx6(struct xdp_md *xdp)
{
	return np_gen_stamp(xdp, NP_GEN_HDR6, NP_GEN_UDP6, NP_GEN_SLO6, 0);
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

/*
 * Counts and drops UDP (and IPIP, for DSR) only: ARP and neighbour discovery must go on, or the
 * forwarder in front (the node's stack, in the kube-proxy variants) never
 * resolves the pod's address.
 */
/*
 * The no-op reflector: what a datapath that sends a frame back out of a veth
 * uplink does at the least (NP_FEAT_TX_REDIRECT: a redirect to the uplink
 * itself, not XDP_TX), MACs from np_gen.c, nothing else touched.
 */
SEC("xdp")
int np_gen_reflect(struct xdp_md *xdp)
{
	void *data = (void *)(long)xdp->data;
	void *end = (void *)(long)xdp->data_end;
	__u32 key = NP_GEN_CNT_SINK;
	struct np_gen_cnt *c;
	__u16 *eth = data;

	if (data + 14 > end)
		return XDP_DROP;
	eth[0] = refl.mac[0];
	eth[1] = refl.mac[1];
	eth[2] = refl.mac[2];
	eth[3] = refl.mac[3];
	eth[4] = refl.mac[4];
	eth[5] = refl.mac[5];
	c = bpf_map_lookup_elem(&np_gen_cnt, &key);
	if (c)
		c->packets++;
	return bpf_redirect(refl.ifindex, 0);
}

SEC("tcx/ingress")
int np_gen_sink_tc(struct __sk_buff *skb)
{
	__u32 key = NP_GEN_CNT_TC_SINK;
	struct np_gen_cnt *c;
	__u8 proto = 0;

	if (skb->protocol == bpf_htons(ETH_P_IP))
		bpf_skb_load_bytes(skb, ETH_HLEN + 9, &proto, 1);
	else if (skb->protocol == bpf_htons(ETH_P_IPV6))
		bpf_skb_load_bytes(skb, ETH_HLEN + 6, &proto, 1);
	if (proto != IPPROTO_UDP && proto != IPPROTO_IPIP)
		return TCX_NEXT;
	c = bpf_map_lookup_elem(&np_gen_cnt, &key);
	if (c)
		c->packets++;
	return TC_ACT_SHOT;
}

char LICENSE[] SEC("license") = "GPL";
