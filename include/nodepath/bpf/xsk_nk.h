/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * AF_XDP frames into a netkit pod, tc side (the netkit primary hook).
 *
 * The pool's worker (afxdp/worker.c) transmits a pod's frames on a copy-mode
 * AF_XDP socket bound to the pod's netkit primary. The kernel builds an skb
 * for each frame and calls the device's xmit directly, without setting
 * skb->protocol; veth's xmit derives it from the Ethernet header
 * (eth_type_trans()), netkit's does not: it only pulls the header and hands
 * the skb to the pod, whose stack then drops it for want of a protocol
 * (measured on Debian's 6.12 in the vm tier: a copy-mode socket binds and
 * sends, every frame completes, the pod's nic0 rx_dropped grows by one per
 * frame, its sockets see nothing).
 *
 * The primary hook runs before that hand-over, so it restores the protocol.
 * No helper sets skb->protocol directly; the VLAN helpers do it as a side
 * effect: pushing a second tag moves the first one into the frame and sets
 * the protocol to the tag's type, and popping both takes the protocol from
 * the frame's own ethertype (and puts the network header after the Ethernet
 * header). The frame leaves with the bytes it came with and no tag.
 *
 * Only skbs without a protocol come here: everything the stack or a redirect
 * sends has one.
 */
#ifndef NP_BPF_XSK_NK_H
#define NP_BPF_XSK_NK_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/*
 * Give a protocol-less skb (an AF_XDP frame sent on the netkit primary) the
 * protocol its Ethernet header names. Returns 0 with skb->protocol set to
 * IPv4 or IPv6, else -1 (left as it is: a frame of another ethertype, or a
 * helper refused).
 */
static __always_inline int np_xsk_nk_proto(struct __sk_buff *skb)
{
	__be16 type;

	/* IP only: a tagged frame would lose its own tag to the second pop. */
	if (bpf_skb_load_bytes(skb, 12, &type, sizeof(type)) ||
	    (type != bpf_htons(ETH_P_IP) && type != bpf_htons(ETH_P_IPV6)))
		return -1;
	if (bpf_skb_vlan_push(skb, bpf_htons(ETH_P_8021Q), 0))
		return -1;
	if (bpf_skb_vlan_push(skb, bpf_htons(ETH_P_8021Q), 0)) {
		bpf_skb_vlan_pop(skb);
		return -1;
	}
	/*
	 * The first pop clears the accelerated tag, takes the in-frame one out
	 * (protocol := the frame's ethertype) and accelerates it; the second
	 * clears that.
	 */
	if (bpf_skb_vlan_pop(skb) || bpf_skb_vlan_pop(skb))
		return -1;
	return skb->protocol == type ? 0 : -1;
}

#endif /* NP_BPF_XSK_NK_H */
