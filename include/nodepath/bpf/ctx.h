/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * A tiny context shim: the helpers in include/nodepath/bpf/ take a struct
 * np_ctx instead of an xdp_md or __sk_buff, so one helper serves XDP and tc.
 *
 * Plain C on UAPI headers only (no helper calls), so the parser that uses it
 * also builds for user space (fuzzing).
 */
#ifndef NP_CTX_H
#define NP_CTX_H

#include <linux/types.h>
#include <linux/bpf.h>

#include <nodepath/abi.h>

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

struct np_ctx {
	void *data;	/* first byte of the Ethernet header */
	void *data_end; /* end of what may be read directly */
	__u32 hook;	/* enum np_hook: selects counters and return codes */
	__u32 len;	/* frame length; >= data_end - data (skb: non-linear part) */
	__u32 vlan_hw;	/* VLAN tags the stack already took off the frame (skb) */
	__u32 features; /* the program's cfg.features (NP_FEAT_*), set by the entry file */
	/* The program context (struct xdp_md or __sk_buff), for helper calls. */
	void *raw;
};

static __always_inline void np_ctx_from_xdp(struct np_ctx *c, const struct xdp_md *xdp, __u32 hook)
{
	c->data = (void *)(long)xdp->data;
	c->data_end = (void *)(long)xdp->data_end;
	c->hook = hook;
	/*
	 * The first buffer only. An xdp.frags program sets the whole frame
	 * length (bpf_xdp_get_buff_len) itself: no helper calls here.
	 */
	c->len = (__u32)(c->data_end - c->data);
	c->vlan_hw = 0;
	c->features = 0;
	c->raw = (void *)xdp;
}

static __always_inline void np_ctx_from_skb(struct np_ctx *c, const struct __sk_buff *skb,
					    __u32 hook)
{
	c->data = (void *)(long)skb->data;
	c->data_end = (void *)(long)skb->data_end;
	c->hook = hook;
	/* At tc ingress skb->len starts at the Ethernet header. */
	c->len = skb->len;
	/*
	 * The receive path moves the outermost tag into skb->vlan_tci before tc
	 * runs; count it so the tag depth limit means the same as in XDP.
	 */
	c->vlan_hw = skb->vlan_present ? 1 : 0;
	c->features = 0;
	c->raw = (void *)skb;
}

/* Re-derive the packet pointers after a helper that may move packet data. */
static __always_inline void np_ctx_reload_skb(struct np_ctx *c, const struct __sk_buff *skb)
{
	c->data = (void *)(long)skb->data;
	c->data_end = (void *)(long)skb->data_end;
	c->len = skb->len;
}

static __always_inline int np_ctx_is_xdp(const struct np_ctx *c)
{
	return c->hook == NP_HOOK_XDP;
}

/*
 * The next hop of a FIB result, for bpf_redirect_neigh(): a v4 route may
 * have a v6 next hop (p->family says which).
 */
static __always_inline void np_fib_nh(struct bpf_redir_neigh *nh, const struct bpf_fib_lookup *p)
{
	__builtin_memset(nh, 0, sizeof(*nh));
	if (p->family == NP_AF_INET6) {
		nh->nh_family = NP_AF_INET6;
		__builtin_memcpy(nh->ipv6_nh, p->ipv6_dst, 16);
	} else {
		nh->nh_family = NP_AF_INET;
		nh->ipv4_nh = p->ipv4_dst;
	}
}

#endif /* NP_CTX_H */
