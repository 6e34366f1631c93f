/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * The gateway's side of neighbour discovery for pods with an Ethernet
 * header (veth, netkit l2): an ARP request (RFC 826) or an IPv6 neighbour
 * solicitation (RFC 4861) for the pod's gateway address is answered in
 * place with the host side's MAC and sent straight back out of the device
 * it came from. Everything else goes to the stack.
 *
 * Replies are built on the stack and written over the frame with
 * bpf_skb_store_bytes(): no packet pointer outlives a helper call.
 */
#ifndef NP_NEIGH_H
#define NP_NEIGH_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include <nodepath/abi.h>
#include <nodepath/bpf/ctx.h>
#include <nodepath/bpf/parse.h>
#include <nodepath/bpf/stats.h>
#include <nodepath/bpf/endpoint.h>

#define NP_ARP_HRD_ETHER 1
#define NP_ARP_OP_REQUEST 1
#define NP_ARP_OP_REPLY 2

#define NP_ND_NS 135 /* ICMPv6 neighbour solicitation */
#define NP_ND_NA 136 /* ICMPv6 neighbour advertisement */
#define NP_ND_OPT_TLLA 2
/* NA flags: router, solicited, override. */
#define NP_ND_NA_FLAGS 0xe0000000U
#define NP_ND_HOP_LIMIT 255

/* An Ethernet frame carrying ARP for IPv4 over Ethernet: 42 bytes. */
struct np_arp_frame {
	struct ethhdr eth;
	__be16 htype;
	__be16 ptype;
	__u8 hlen;
	__u8 plen;
	__be16 op;
	__u8 sha[ETH_ALEN];
	__u8 spa[4];
	__u8 tha[ETH_ALEN];
	__u8 tpa[4];
} __attribute__((packed));

/* ICMPv6 NS/NA body with one link-layer address option: 32 bytes. */
struct np_nd_msg {
	__u8 type;
	__u8 code;
	__sum16 csum;
	__be32 flags; /* reserved in an NS */
	__u8 target[16];
	__u8 opt_type;
	__u8 opt_len; /* in 8-octet units */
	__u8 opt_mac[ETH_ALEN];
} __attribute__((packed));

/* An NA frame as sent: Ethernet, IPv6, the message. 86 bytes. */
struct np_nd_frame {
	struct ethhdr eth;
	struct ipv6hdr ip6;
	struct np_nd_msg msg;
} __attribute__((packed));

/* The IPv6 pseudo-header (RFC 8200 8.1) followed by the message. */
struct np_nd_csum {
	__u8 saddr[16];
	__u8 daddr[16];
	__be32 len;
	__be32 nexthdr;
	struct np_nd_msg msg;
};

/* Bytes of the NS needed: Ethernet, IPv6, the message without options. */
#define NP_ND_NS_LEN (sizeof(struct ethhdr) + sizeof(struct ipv6hdr) + 24)

static __always_inline int np_addr4_eq(const __u8 *a, const __u8 *b)
{
	__u32 x, y;

	__builtin_memcpy(&x, a, 4);
	__builtin_memcpy(&y, b, 4);
	return x == y;
}

static __always_inline int np_addr6_eq(const __u8 *a, const __u8 *b)
{
	__u64 x[2], y[2];

	__builtin_memcpy(x, a, 16);
	__builtin_memcpy(y, b, 16);
	return x[0] == y[0] && x[1] == y[1];
}

static __always_inline int np_addr6_is_zero(const __u8 *a)
{
	__u64 x[2];

	__builtin_memcpy(x, a, 16);
	return !x[0] && !x[1];
}

/* fe80::/10 */
static __always_inline int np_addr6_is_linklocal(const __u8 *a)
{
	return a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}

/* Send the rewritten frame back out of the device it came in on. */
static __always_inline int np_neigh_reply(const struct np_ctx *ctx, struct __sk_buff *skb,
					  __u32 stat)
{
	if (bpf_redirect(skb->ifindex, 0) != TC_ACT_REDIRECT)
		return np_drop(ctx, NP_DROP_REDIRECT);
	np_count(ctx, stat);
	return TC_ACT_REDIRECT;
}

/*
 * An ARP frame from the pod behind dev. gw: the pods' IPv4 gateway. A
 * request for gw is turned into the reply; other well-formed ARP goes to
 * the stack; a frame too short for ARP over Ethernet/IPv4, or of another
 * hardware or protocol type, is dropped (NP_DROP_ARP_BAD).
 */
static __always_inline int np_arp_respond(struct __sk_buff *skb, const struct np_ctx *ctx,
					  const struct np_ep_dev *dev, const __u8 *gw)
{
	struct np_arp_frame f;
	__u8 mac[ETH_ALEN];
	__u8 ip[4];

	if (bpf_skb_load_bytes(skb, 0, &f, sizeof(f)))
		return np_drop(ctx, NP_DROP_ARP_BAD);
	if (f.htype != bpf_htons(NP_ARP_HRD_ETHER) || f.ptype != bpf_htons(ETH_P_IP) ||
	    f.hlen != ETH_ALEN || f.plen != 4)
		return np_drop(ctx, NP_DROP_ARP_BAD);
	if (f.op != bpf_htons(NP_ARP_OP_REQUEST) || !np_addr4_eq(f.tpa, gw) ||
	    !(dev->flags & NP_EP_F_L2))
		return np_pod_to_stack(ctx);

	/* To the asker, from the gateway at the host side's MAC. */
	__builtin_memcpy(mac, f.sha, ETH_ALEN);
	__builtin_memcpy(ip, f.spa, 4);
	__builtin_memcpy(f.eth.h_dest, f.eth.h_source, ETH_ALEN);
	__builtin_memcpy(f.eth.h_source, dev->host_mac, ETH_ALEN);
	f.op = bpf_htons(NP_ARP_OP_REPLY);
	__builtin_memcpy(f.sha, dev->host_mac, ETH_ALEN);
	__builtin_memcpy(f.spa, gw, 4);
	__builtin_memcpy(f.tha, mac, ETH_ALEN);
	__builtin_memcpy(f.tpa, ip, 4);
	if (bpf_skb_store_bytes(skb, 0, &f, sizeof(f), 0))
		return np_drop(ctx, NP_DROP_ARP_BAD);
	return np_neigh_reply(ctx, skb, NP_STAT_ARP_REPLY);
}

/* Fold a 32-bit one's complement sum into the 16-bit checksum field. */
static __always_inline __sum16 np_csum_fold(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__sum16)~sum;
}

/*
 * An ICMPv6 message from the pod behind dev, parsed into pkt, whose type
 * is NS (the caller checked that the ICMPv6 header directly follows the
 * fixed IPv6 header). gw: the pods' IPv6 gateway. An NS for gw from a
 * configured address is answered with an NA (router, solicited, override;
 * the host side's MAC as target link-layer address). DAD probes (source
 * ::) and everything else go to the stack, which validates them further.
 */
static __always_inline int np_ns_respond(struct __sk_buff *skb, const struct np_ctx *ctx,
					 const struct np_ep_dev *dev, const struct np_pkt *pkt,
					 const __u8 *gw)
{
	struct np_nd_frame f;
	struct np_nd_csum c;
	__u32 len = NP_ND_NS_LEN;

	if (!(dev->flags & NP_EP_F_L2) || pkt->l4_len < 24)
		return np_pod_to_stack(ctx);
	if (bpf_skb_load_bytes(skb, 0, &f, NP_ND_NS_LEN))
		return np_pod_to_stack(ctx);
	if (f.ip6.hop_limit != NP_ND_HOP_LIMIT || f.msg.code != 0 || f.msg.type != NP_ND_NS ||
	    !np_addr6_eq(f.msg.target, gw) || np_addr6_is_zero(f.ip6.saddr.in6_u.u6_addr8))
		return np_pod_to_stack(ctx);

	/* The advertisement, with its checksum over the pseudo-header. */
	__builtin_memset(&c, 0, sizeof(c));
	__builtin_memcpy(c.saddr, gw, 16);
	__builtin_memcpy(c.daddr, &f.ip6.saddr, 16);
	c.len = bpf_htonl(sizeof(struct np_nd_msg));
	c.nexthdr = bpf_htonl(IPPROTO_ICMPV6);
	c.msg.type = NP_ND_NA;
	c.msg.flags = bpf_htonl(NP_ND_NA_FLAGS);
	__builtin_memcpy(c.msg.target, gw, 16);
	c.msg.opt_type = NP_ND_OPT_TLLA;
	c.msg.opt_len = 1;
	__builtin_memcpy(c.msg.opt_mac, dev->host_mac, ETH_ALEN);
	c.msg.csum = np_csum_fold((__u32)bpf_csum_diff((void *)0, 0, (__be32 *)&c, sizeof(c), 0));

	__builtin_memcpy(f.eth.h_dest, f.eth.h_source, ETH_ALEN);
	__builtin_memcpy(f.eth.h_source, dev->host_mac, ETH_ALEN);
	f.eth.h_proto = bpf_htons(ETH_P_IPV6);
	/* Version 6, traffic class and flow label 0. */
	f.ip6.version = 6;
	f.ip6.priority = 0;
	__builtin_memset(f.ip6.flow_lbl, 0, sizeof(f.ip6.flow_lbl));
	f.ip6.payload_len = bpf_htons(sizeof(struct np_nd_msg));
	f.ip6.nexthdr = IPPROTO_ICMPV6;
	f.ip6.hop_limit = NP_ND_HOP_LIMIT;
	__builtin_memcpy(&f.ip6.saddr, c.saddr, 16);
	__builtin_memcpy(&f.ip6.daddr, c.daddr, 16);
	__builtin_memcpy(&f.msg, &c.msg, sizeof(f.msg));

	len = sizeof(f);
	if (skb->len != len && bpf_skb_change_tail(skb, len, 0))
		return np_pod_to_stack(ctx);
	if (bpf_skb_store_bytes(skb, 0, &f, sizeof(f), 0))
		return np_drop(ctx, NP_DROP_REDIRECT);
	return np_neigh_reply(ctx, skb, NP_STAT_ND_REPLY);
}

#endif /* NP_NEIGH_H */
