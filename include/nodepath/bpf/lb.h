/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Service load balancing, one copy for XDP and tc (the uplink programs and
 * the pod egress programs):
 *
 *  1. reverse NAT: a packet whose own tuple is a CT REV key is a reply of a
 *     backend: source := the VIP (and with SNAT, destination := the client);
 *     at the uplink looked up only for a destination that such a key can
 *     have (np_lb_rev_possible(): the SNAT address and port range, a pod);
 *  2. service lookup on (family, proto, daddr, dport): a VIP, or NodePort
 *     when daddr is one of the node's addresses;
 *  3. source ranges, CT FWD (an existing flow keeps its backend while that
 *     is active or terminating), else affinity, else Maglev or random
 *     selection in the service's table; CT FWD + REV entries for a new flow;
 *  4. DNAT to the backend; with snat_remote (the uplink hooks) and a backend
 *     on another node, also SNAT to the node's address and a port in
 *     [NP_SNAT_PORT_MIN, NP_SNAT_PORT_MAX].
 *
 * The result is NP_LB_NONE (not a service packet: nothing changed),
 * NP_LB_LOCAL (rewritten; deliver locally as any packet: the destination is
 * a local pod, or, at a pod's egress, wherever the FIB says), NP_LB_FWD
 * (rewritten for another host: the uplink sends it back out through the
 * FIB), NP_LB_DEFER (XDP only: a CHECKSUM_PARTIAL frame from a veth peer,
 * see np_l4_csum_partial(); XDP passes it unmarked and tc balances it with
 * the skb checksum helpers), or a drop reason (>= NP_STAT_DROP_FIRST).
 *
 * Only untagged frames are balanced (pkt->vlans == 0): services sit on no
 * VLAN. Non-first IPv4/IPv6 fragments carry no ports: they take the ports
 * their first fragment recorded in np_frag (frag.h) and the same decision,
 * rewritten in L3 only. One without a record (it came before its first
 * fragment, or the first was not balanced) whose destination is a VIP (np_svc
 * has a marker entry with proto 0 and port 0 for every VIP user space
 * serves) is dropped with NP_DROP_LB_FRAG; others go on untouched. ICMP and
 * ICMPv6 errors about a tracked flow are translated in their quoted headers
 * (icmp.h).
 */
#ifndef NP_LB_H
#define NP_LB_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include <nodepath/abi.h>
#include <nodepath/bpf/ctx.h>
#include <nodepath/bpf/maps.h>
#include <nodepath/bpf/parse.h>
#include <nodepath/bpf/stats.h>
#include <nodepath/bpf/ct.h>
#include <nodepath/bpf/nat.h>

#define NP_LB_NONE 0
#define NP_LB_LOCAL 1
#define NP_LB_FWD 2
/* XDP only: a CHECKSUM_PARTIAL frame, left untouched for tc to balance. */
#define NP_LB_DEFER 3
/* A DSR service's flow to a remote backend: dsr.h encapsulates it, unchanged. */
#define NP_LB_DSR 4

static __always_inline int np_lb_is_drop(__u32 r)
{
	return r >= NP_STAT_DROP_FIRST;
}

/* SNAT port candidates tried before giving up (NP_DROP_SNAT_PORTS). */
#define NP_SNAT_TRIES 8
#define NP_SNAT_RANGE (NP_SNAT_PORT_MAX - NP_SNAT_PORT_MIN + 1)

/* ---- hashing -------------------------------------------------------------- */

static __always_inline __u32 np_rotl32(__u32 x, int r)
{
	return (x << r) | (x >> (32 - r));
}

static __always_inline __u32 np_hash_word(__u32 h, __u32 w)
{
	w *= 0xcc9e2d51;
	w = np_rotl32(w, 15);
	w *= 0x1b873593;
	h ^= w;
	h = np_rotl32(h, 13);
	return h * 5 + 0xe6546b64;
}

static __always_inline __u32 np_hash_final(__u32 h)
{
	h ^= h >> 16;
	h *= 0x85ebca6b;
	h ^= h >> 13;
	h *= 0xc2b2ae35;
	h ^= h >> 16;
	return h;
}

static __always_inline __u32 np_hash_addr(__u32 h, const struct np_pkt *pkt, const union np_addr *a)
{
	const __u32 *w = (const __u32 *)a->v6;

	if (pkt->family == NP_AF_INET)
		return np_hash_word(h, a->v4);
	h = np_hash_word(h, w[0]);
	h = np_hash_word(h, w[1]);
	h = np_hash_word(h, w[2]);
	return np_hash_word(h, w[3]);
}

/* The flow's hash: the 5-tuple as the client sent it, and the service. */
static __always_inline __u32 np_lb_hash(const struct np_pkt *pkt, __u32 seed)
{
	__u32 h = seed;

	h = np_hash_word(h, ((__u32)pkt->l4_proto << 16) | pkt->family);
	h = np_hash_word(h, ((__u32)pkt->sport << 16) | pkt->dport);
	h = np_hash_addr(h, pkt, &pkt->saddr);
	h = np_hash_addr(h, pkt, &pkt->daddr);
	return np_hash_final(h);
}

/* ---- small helpers -------------------------------------------------------- */

static __always_inline void np_addr_copy(__u8 *dst, const struct np_pkt *pkt,
					 const union np_addr *a)
{
	if (pkt->family == NP_AF_INET)
		__builtin_memcpy(dst, &a->v4, 4);
	else
		__builtin_memcpy(dst, a->v6, 16);
}

static __always_inline void np_svc_count(const struct np_ctx *ctx, __u32 id)
{
	struct np_counter *c = bpf_map_lookup_elem(&np_svc_stats, &id);

	if (!c)
		return;
	c->packets++;
	c->bytes += ctx->len;
}

/* Backend id's entry; NULL for a free id (a zeroed entry: family 0). */
static __always_inline struct np_backend *np_lb_be(__u32 id)
{
	struct np_backend *be = bpf_map_lookup_elem(&np_backends, &id);

	return be && be->family ? be : (void *)0;
}

static __always_inline struct np_node_cfg *np_lb_node(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&np_node, &zero);
}

/* Is the packet's destination one of the node's addresses? */
static __always_inline int np_lb_is_node_addr(const struct np_pkt *pkt)
{
	struct np_ep_key k;

	__builtin_memset(&k, 0, sizeof(k));
	k.family = pkt->family;
	np_addr_copy(k.addr, pkt, &pkt->daddr);
	return bpf_map_lookup_elem(&np_node_addr, &k) != (void *)0;
}

/* Is the address a (4 words: IPv6) in the network net/len? len 0: no network. */
static __always_inline int np_lb_in_net(const void *a, const __u8 *net, __u32 len, int words)
{
	const __u32 *x = a, *n = (const void *)net;
	__u32 mask;
	int i;

	if (!len)
		return 0;
#pragma unroll
	for (i = 0; i < 4; i++) {
		if (i == words)
			break;
		mask = len >= 32 ? ~0U : len ? bpf_htonl(~0U << (32 - len)) : 0;
		if ((x[i] ^ n[i]) & mask)
			return 0;
		len = len > 32 ? len - 32 : 0;
	}
	return 1;
}

/*
 * At the uplink, could the packet be a backend's reply that a CT REV entry
 * translates? The REV entries an uplink ever uses are keyed by a destination
 * that is this node's SNAT address with a port of the SNAT range (the reply
 * of a remote backend to a flow the uplink SNATed), or a local pod (a pod's
 * egress DNATed its flow to a remote backend without SNAT; endpoints lie in
 * the node's pod ranges, endpoint.c). A local backend's reply to a client
 * leaves through the pod's egress program, never the uplink. Anything else
 * (a VIP, NodePort, any other destination) skips the CT REV lookup, which
 * on a conntrack of millions of flows costs cache and TLB misses.
 *
 * A global function: its branches would otherwise multiply the states the
 * verifier walks through the rest of np_lb() (+139k instructions for XDP).
 */
__noinline int np_lb_rev_possible(const struct np_pkt *pkt)
{
	struct np_node_cfg *node;
	__u16 dport;

	if (!pkt)
		return 0;
	node = np_lb_node();
	if (!node)
		return 1;
	dport = bpf_ntohs(pkt->dport);
	if (pkt->family == NP_AF_INET) {
		if (dport >= NP_SNAT_PORT_MIN && dport <= NP_SNAT_PORT_MAX &&
		    pkt->daddr.v4 == *(const __be32 *)node->node_addr4)
			return 1;
		return np_lb_in_net(&pkt->daddr.v4, node->pod_net4, node->pod_len4, 1);
	}
	if (dport >= NP_SNAT_PORT_MIN && dport <= NP_SNAT_PORT_MAX &&
	    np_lb_in_net(pkt->daddr.v6, node->node_addr6, 128, 4))
		return 1;
	return np_lb_in_net(pkt->daddr.v6, node->pod_net6, node->pod_len6, 4);
}

/* What a flow is sent to: filled from a CT hit or a new selection. */
struct np_lb_target {
	__u8 be_addr[16];
	__u8 snat_addr[16];
	__be16 be_port;
	__be16 snat_port;
	__u32 be_id;
	__u8 flags; /* NP_CT_F_* */
	__u8 pad[3];
};

/*
 * Scratch space of the load balancer: the BPF stack (512 bytes for the whole
 * call chain) cannot hold it next to the programs' own frames.
 */
struct np_lb_scratch {
	struct np_ct_key k;
	struct np_ct_entry e;
	struct np_lb_target t;
	/* np_ct_pair(): the other direction of the flow in k/e. */
	struct np_ct_key pk;
	struct np_ct_entry pe;
	__u32 pair;	 /* k/e hold a CT hit for np_ct_pair() */
	__u32 svc_flags; /* np_lb_service(): the service's NP_SVC_F_* (xsk.h) */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct np_lb_scratch);
} np_lb_scratch SEC(".maps");

/* ---- the two directions of a flow ------------------------------------------ */

/*
 * The other direction of the flow whose key and entry are in s->k and s->e:
 * its key into s->pk, the entry it should hold into s->pe (what
 * np_lb_ct_create() writes). FWD (client -> VIP, entry: the backend and the
 * SNAT address) <-> REV (backend -> client or SNAT address, entry: the VIP
 * and the client).
 */
static __always_inline void np_ct_peer(struct np_lb_scratch *s)
{
	int snat = s->e.flags & NP_CT_F_SNAT;

	__builtin_memset(&s->pk, 0, sizeof(s->pk));
	__builtin_memcpy(&s->pe, &s->e, sizeof(s->pe));
	__builtin_memset(s->pe.nat2_addr, 0, 16);
	s->pe.nat2_port = 0;
	s->pk.family = s->k.family;
	s->pk.proto = s->k.proto;
	if (s->k.dir == NP_CT_DIR_FWD) {
		s->pk.dir = NP_CT_DIR_REV;
		s->pk.sport = s->e.nat_port;
		__builtin_memcpy(s->pk.saddr, s->e.nat_addr, 16);
		if (snat) {
			s->pk.dport = s->e.nat2_port;
			__builtin_memcpy(s->pk.daddr, s->e.nat2_addr, 16);
			s->pe.nat2_port = s->k.sport;
			__builtin_memcpy(s->pe.nat2_addr, s->k.saddr, 16);
		} else {
			s->pk.dport = s->k.sport;
			__builtin_memcpy(s->pk.daddr, s->k.saddr, 16);
		}
		s->pe.nat_port = s->k.dport;
		__builtin_memcpy(s->pe.nat_addr, s->k.daddr, 16);
	} else {
		s->pk.dir = NP_CT_DIR_FWD;
		s->pk.dport = s->e.nat_port;
		__builtin_memcpy(s->pk.daddr, s->e.nat_addr, 16);
		if (snat) {
			s->pk.sport = s->e.nat2_port;
			__builtin_memcpy(s->pk.saddr, s->e.nat2_addr, 16);
			s->pe.nat2_port = s->k.dport;
			__builtin_memcpy(s->pe.nat2_addr, s->k.daddr, 16);
		} else {
			s->pk.sport = s->k.dport;
			__builtin_memcpy(s->pk.saddr, s->k.daddr, 16);
		}
		s->pe.nat_port = s->k.sport;
		__builtin_memcpy(s->pe.nat_addr, s->k.saddr, 16);
	}
}

/*
 * After a CT hit (s->k, s->e: the key and a copy of the entry, tracked),
 * keep the other direction in step: refresh its last_ns and carry the TCP
 * state over (FIN and RST end both directions), or write it again when the
 * LRU evicted it or it timed out. Both directions then expire together and
 * a live flow always has both: a FWD hit without its REV would send the
 * backend's answers out untranslated. Looking the other entry up also keeps
 * it recent in the LRU while the flow is used. A REV hit (a reply) always
 * does this; a FWD hit (the client's packet, the common case) only when
 * np_ct_pair_due() (ct.h): on a state change and once a period of about a
 * second. A live entry of another flow under that key (a later flow got the
 * tuple) is left alone.
 *
 * np_lb_revnat() and np_lb_service() mark a hit (s->pair) and np_lb() calls
 * this once they returned: from the program's frame, not theirs, so that
 * it adds no frame to the deepest call chain (the 512-byte stack of
 * np_pod_from). A global function: the verifier checks it once. Returns 1
 * when the entry was written again, else 0.
 */
__noinline int np_ct_pair(__u64 now)
{
	struct np_lb_scratch *s;
	struct np_ct_entry *p;
	__u32 zero = 0;

	s = bpf_map_lookup_elem(&np_lb_scratch, &zero);
	if (!s || !s->pair)
		return 0;
	s->pair = 0;
	if (s->e.flags & NP_CT_F_DSR)
		return 0;
	np_ct_peer(s);
	p = bpf_map_lookup_elem(&np_ct, &s->pk);
	if (p && !(now > p->last_ns && now - p->last_ns > np_ct_timeout(s->pk.proto, p->state))) {
		if (p->svc_id != s->pe.svc_id || p->backend_id != s->pe.backend_id ||
		    p->nat_port != s->pe.nat_port || p->nat2_port != s->pe.nat2_port)
			return 0;
		p->last_ns = now;
		if (p->state < s->e.state)
			p->state = s->e.state;
		return 0;
	}
	s->pe.last_ns = now;
	bpf_map_update_elem(&np_ct, &s->pk, &s->pe, BPF_ANY);
	return 1;
}

/* ---- step 1: reverse NAT -------------------------------------------------- */

static __noinline __u32 np_lb_revnat(struct np_ctx *ctx, struct np_pkt *pkt, __u64 now)
{
	struct np_lb_scratch *s;
	struct np_ct_entry *e;
	__u32 zero = 0;
	__u8 tflags;

	s = bpf_map_lookup_elem(&np_lb_scratch, &zero);
	if (!s)
		return NP_LB_NONE;
	s->svc_flags = 0; /* a reply: no service's flags (xsk.h) */
	np_ct_key_pkt(&s->k, pkt, NP_CT_DIR_REV);
	e = np_ct_lookup(&s->k, now);
	if (!e)
		return NP_LB_NONE;
	if (np_l4_csum_partial(ctx, pkt))
		return NP_LB_DEFER;
	tflags = np_tcp_flags(ctx, pkt);
	np_ct_track(e, pkt->l4_proto, tflags, 1, now);
	/* A copy: the entry may change under us while the packet is rewritten. */
	__builtin_memcpy(&s->e, e, sizeof(s->e));
	s->pair = 1;

	if (np_nat_rewrite(ctx, pkt, NP_NAT_SRC, s->e.nat_addr, s->e.nat_port))
		return NP_DROP_L2_TRUNC;
	if (s->e.flags & NP_CT_F_SNAT) {
		if (np_nat_rewrite(ctx, pkt, NP_NAT_DST, s->e.nat2_addr, s->e.nat2_port))
			return NP_DROP_L2_TRUNC;
	}
	np_count(ctx, NP_STAT_LB_REVNAT);
	return (s->e.flags & NP_CT_F_SNAT) ? NP_LB_FWD : NP_LB_LOCAL;
}

/* ---- step 2: the service ---------------------------------------------------- */

static __always_inline struct np_svc *np_lb_svc_lookup(const struct np_pkt *pkt, __u8 proto,
						       __be16 port)
{
	struct np_svc_key k;
	struct np_svc *s;

	__builtin_memset(&k, 0, sizeof(k));
	k.family = pkt->family;
	k.proto = proto;
	k.port = port;
	k.scope = NP_SVC_SCOPE_VIP;
	np_addr_copy(k.addr, pkt, &pkt->daddr);
	s = bpf_map_lookup_elem(&np_svc, &k);
	if (s || !port)
		return s;
	/*
	 * NodePort, at one of the node's own addresses. The port first: most
	 * packets to the node are for no NodePort and then take one lookup.
	 */
	__builtin_memset(k.addr, 0, sizeof(k.addr));
	k.scope = NP_SVC_SCOPE_NODEPORT;
	s = bpf_map_lookup_elem(&np_svc, &k);
	if (!s || !np_lb_is_node_addr(pkt))
		return (void *)0;
	return s;
}

static __always_inline int np_lb_src_ok(const struct np_pkt *pkt, __u32 svc_id)
{
	struct np_srcr_key k;

	__builtin_memset(&k, 0, sizeof(k));
	k.prefixlen = 32 + (pkt->family == NP_AF_INET ? 32 : 128);
	k.svc_id = bpf_htonl(svc_id);
	np_addr_copy(k.addr, pkt, &pkt->saddr);
	return bpf_map_lookup_elem(&np_src_range, &k) != (void *)0;
}

/* ---- step 3: choosing a backend -------------------------------------------- */

/* A backend id from the service's table: Maglev slot or a random one. */
static __always_inline __u32 np_lb_select(const struct np_pkt *pkt, __u32 svc_id, __u32 svc_flags,
					  __u8 algo, __u32 m)
{
	__u32 slot, *id, tid = NP_MAGLEV_SLOT(svc_id, svc_flags);
	void *table;

	/* the live one of the service's two tables (NP_SVC_F_TABLE1) */
	table = bpf_map_lookup_elem(&np_maglev, &tid);
	if (!table || !m)
		return 0;
	if (algo == NP_ALGO_RANDOM)
		slot = bpf_get_prandom_u32() % m;
	else
		slot = np_lb_hash(pkt, svc_id) % m;
	id = bpf_map_lookup_elem(table, &slot);
	return id ? *id : 0;
}

/* The affinity backend of the client, if recent and still active. */
static __always_inline __u32 np_lb_affinity_get(const struct np_pkt *pkt, __u32 svc_id,
						__u32 timeout_s, __u64 now)
{
	struct np_aff_val *v;
	struct np_backend *be;
	struct np_aff_key k;
	__u32 id;

	__builtin_memset(&k, 0, sizeof(k));
	k.svc_id = svc_id;
	k.family = pkt->family;
	np_addr_copy(k.addr, pkt, &pkt->saddr);
	v = bpf_map_lookup_elem(&np_affinity, &k);
	if (!v)
		return 0;
	if (now > v->last_ns && now - v->last_ns > (__u64)timeout_s * NP_NSEC)
		return 0;
	id = v->backend_id;
	be = np_lb_be(id);
	if (!be || be->state != NP_BE_ACTIVE)
		return 0;
	return id;
}

static __always_inline void np_lb_affinity_set(const struct np_pkt *pkt, __u32 svc_id, __u32 be_id,
					       __u64 now)
{
	struct np_aff_key k;
	struct np_aff_val v;

	__builtin_memset(&k, 0, sizeof(k));
	k.svc_id = svc_id;
	k.family = pkt->family;
	np_addr_copy(k.addr, pkt, &pkt->saddr);
	__builtin_memset(&v, 0, sizeof(v));
	v.last_ns = now;
	v.backend_id = be_id;
	bpf_map_update_elem(&np_affinity, &k, &v, BPF_ANY);
}

/*
 * A free SNAT port for the flow to be_addr:be_port: one whose REV key
 * (backend -> node:port) is unused. 0 when none of the candidates is.
 */
static __always_inline __be16 np_lb_snat_port(const struct np_pkt *pkt, const __u8 *node_addr,
					      const __u8 *be_addr, __be16 be_port, __u32 h,
					      __u64 now)
{
	struct np_ct_key k;
	__u32 i, port;

	__builtin_memset(&k, 0, sizeof(k));
	k.family = pkt->family;
	k.proto = pkt->l4_proto;
	k.dir = NP_CT_DIR_REV;
	k.sport = be_port;
	__builtin_memcpy(k.saddr, be_addr, 16);
	__builtin_memcpy(k.daddr, node_addr, 16);
#pragma unroll
	for (i = 0; i < NP_SNAT_TRIES; i++) {
		port = NP_SNAT_PORT_MIN + (h + i * 7919) % NP_SNAT_RANGE;
		k.dport = bpf_htons((__u16)port);
		if (!np_ct_lookup(&k, now))
			return k.dport;
	}
	return 0;
}

/* Write the CT FWD and REV entries of a new flow. */
static __always_inline void np_lb_ct_create(const struct np_pkt *pkt, __u32 svc_id,
					    struct np_lb_scratch *s, __u64 now)
{
	/* FWD: as the client sent it -> where it goes. */
	np_ct_key_pkt(&s->k, pkt, NP_CT_DIR_FWD);
	__builtin_memset(&s->e, 0, sizeof(s->e));
	s->e.last_ns = now;
	s->e.svc_id = svc_id;
	s->e.backend_id = s->t.be_id;
	s->e.state = NP_CT_NEW;
	s->e.flags = s->t.flags;
	s->e.nat_port = s->t.be_port;
	__builtin_memcpy(s->e.nat_addr, s->t.be_addr, 16);
	if (s->t.flags & NP_CT_F_SNAT) {
		s->e.nat2_port = s->t.snat_port;
		__builtin_memcpy(s->e.nat2_addr, s->t.snat_addr, 16);
	}
	bpf_map_update_elem(&np_ct, &s->k, &s->e, BPF_ANY);
	/* DSR: the backend's node answers the client itself. */
	if (s->t.flags & NP_CT_F_DSR)
		return;

	/* REV: as the backend answers -> the VIP (and the client). */
	__builtin_memset(&s->k, 0, sizeof(s->k));
	s->k.family = pkt->family;
	s->k.proto = pkt->l4_proto;
	s->k.dir = NP_CT_DIR_REV;
	s->k.sport = s->t.be_port;
	__builtin_memcpy(s->k.saddr, s->t.be_addr, 16);
	s->e.nat_port = pkt->dport;
	__builtin_memset(s->e.nat_addr, 0, 16);
	np_addr_copy(s->e.nat_addr, pkt, &pkt->daddr);
	if (s->t.flags & NP_CT_F_SNAT) {
		s->k.dport = s->t.snat_port;
		__builtin_memcpy(s->k.daddr, s->t.snat_addr, 16);
		s->e.nat2_port = pkt->sport;
		__builtin_memset(s->e.nat2_addr, 0, 16);
		np_addr_copy(s->e.nat2_addr, pkt, &pkt->saddr);
	} else {
		s->k.dport = pkt->sport;
		np_addr_copy(s->k.daddr, pkt, &pkt->saddr);
	}
	bpf_map_update_elem(&np_ct, &s->k, &s->e, BPF_ANY);
}

/* ---- steps 2-4 --------------------------------------------------------------- */

static __noinline __u32 np_lb_service(struct np_ctx *ctx, struct np_pkt *pkt, int snat_remote,
				      __u64 now)
{
	__u32 svc_id, svc_flags, aff_s, m, h;
	__u32 zero = 0;
	struct np_node_cfg *node;
	struct np_lb_scratch *s;
	struct np_backend *be;
	struct np_ct_entry *e;
	struct np_svc *svc;
	__u8 algo, tflags, st0;
	__u16 count;
	__u64 seen;

	if ((pkt->flags & NP_PKT_F_FRAG) && !(pkt->flags & (NP_PKT_F_L4 | NP_PKT_F_FRAG_PORTS))) {
		/* A non-first fragment of no known datagram: to a VIP at all? */
		if (np_lb_svc_lookup(pkt, 0, 0))
			return NP_DROP_LB_FRAG;
		return NP_LB_NONE;
	}
	svc = np_lb_svc_lookup(pkt, pkt->l4_proto, pkt->dport);
	if (!svc)
		return NP_LB_NONE;
	s = bpf_map_lookup_elem(&np_lb_scratch, &zero);
	if (!s)
		return NP_LB_NONE;
	svc_id = svc->id;
	svc_flags = svc->flags;
	s->svc_flags = svc_flags;
	/* the XDP program calls np_xsk_steer() for these only */
	if (svc_flags & NP_SVC_F_AFXDP)
		pkt->flags |= NP_PKT_F_AFXDP;
	aff_s = svc->affinity_s;
	count = svc->count;
	algo = svc->algo;

	if ((svc_flags & NP_SVC_F_SRC_RANGE) && !np_lb_src_ok(pkt, svc_id))
		return NP_DROP_SRC_RANGE;
	if (np_l4_csum_partial(ctx, pkt))
		return NP_LB_DEFER;
	tflags = np_tcp_flags(ctx, pkt);
	__builtin_memset(&s->t, 0, sizeof(s->t));

	/* A tracked flow keeps its backend while that takes flows. */
	np_ct_key_pkt(&s->k, pkt, NP_CT_DIR_FWD);
	e = np_ct_lookup(&s->k, now);
	if (e && np_tcp_is_syn(tflags) && e->state >= NP_CT_CLOSING)
		e = (void *)0; /* the port pair is reused by a new connection */
	if (e && e->svc_id == svc_id) {
		s->t.be_id = e->backend_id;
		be = np_lb_be(s->t.be_id);
		if (be && (be->state == NP_BE_ACTIVE || be->state == NP_BE_TERMINATING)) {
			seen = e->last_ns;
			st0 = e->state;
			np_ct_track(e, pkt->l4_proto, tflags, 0, now);
			__builtin_memcpy(&s->e, e, sizeof(s->e));
			s->t.flags = s->e.flags;
			s->t.be_port = s->e.nat_port;
			s->t.snat_port = s->e.nat2_port;
			__builtin_memcpy(s->t.be_addr, s->e.nat_addr, 16);
			__builtin_memcpy(s->t.snat_addr, s->e.nat2_addr, 16);
			/*
			 * The REV entry: there, refreshed, same state. Looked
			 * at when the state changed or the first time in a
			 * pair period (np_ct_pair_due()), not on every packet.
			 */
			s->pair = np_ct_pair_due(seen, now, st0 != s->e.state);
			np_count(ctx, NP_STAT_LB_CT_HIT);
			goto rewrite;
		}
	}

	/* A new flow. */
	if (!count)
		return NP_DROP_NO_BACKEND;
	node = np_lb_node();
	if (!node)
		return NP_DROP_NO_BACKEND;
	m = node->maglev_size ? node->maglev_size : NP_MAGLEV_DEFAULT;
	s->t.be_id = 0;
	if (svc_flags & NP_SVC_F_AFFINITY)
		s->t.be_id = np_lb_affinity_get(pkt, svc_id, aff_s, now);
	if (!s->t.be_id)
		s->t.be_id = np_lb_select(pkt, svc_id, svc_flags, algo, m);
	be = np_lb_be(s->t.be_id);
	/* User space keeps only active backends in the table; make sure. */
	if (!be || be->state != NP_BE_ACTIVE || be->family != pkt->family)
		return NP_DROP_NO_BACKEND;
	s->t.be_port = be->port;
	__builtin_memcpy(s->t.be_addr, be->addr, 16);
	if (be->flags & NP_BE_F_LOCAL) {
		s->t.flags = NP_CT_F_LOCAL_BE;
	} else if (snat_remote && (svc_flags & NP_SVC_F_DSR) && be->port == pkt->dport) {
		/* DSR: the packet goes by IPIP / IP6IP6, untouched (dsr.h). */
		s->t.flags = NP_CT_F_DSR;
	} else if (snat_remote) {
		s->t.flags = NP_CT_F_SNAT;
		if (pkt->family == NP_AF_INET)
			__builtin_memcpy(s->t.snat_addr, node->node_addr4, 4);
		else
			__builtin_memcpy(s->t.snat_addr, node->node_addr6, 16);
		h = np_lb_hash(pkt, 0x6e70534e);
		s->t.snat_port =
			np_lb_snat_port(pkt, s->t.snat_addr, s->t.be_addr, s->t.be_port, h, now);
		if (!s->t.snat_port)
			return NP_DROP_SNAT_PORTS;
	}
	if (svc_flags & NP_SVC_F_AFFINITY)
		np_lb_affinity_set(pkt, svc_id, s->t.be_id, now);
	np_lb_ct_create(pkt, svc_id, s, now);
	np_count(ctx, NP_STAT_LB_NEW);

rewrite:
	np_svc_count(ctx, svc_id);
	if (s->t.flags & NP_CT_F_DSR)
		return NP_LB_DSR;
	if (s->t.flags & NP_CT_F_SNAT) {
		if (np_nat_rewrite(ctx, pkt, NP_NAT_SRC, s->t.snat_addr, s->t.snat_port))
			return NP_DROP_L2_TRUNC;
	}
	if (np_nat_rewrite(ctx, pkt, NP_NAT_DST, s->t.be_addr, s->t.be_port))
		return NP_DROP_L2_TRUNC;
	return (s->t.flags & NP_CT_F_LOCAL_BE) ? NP_LB_LOCAL : NP_LB_FWD;
}

/* ICMP errors (icmp.h) return the NP_LB_* results defined above. */
#include <nodepath/bpf/icmp.h>

/*
 * Steps 1-4 for a parsed, passed packet. snat_remote: 1 on the uplink
 * (remote backends get SNAT + DNAT), 0 at a pod's egress (DNAT only).
 */
static __always_inline __u32 np_lb(struct np_ctx *ctx, struct np_pkt *pkt, int snat_remote)
{
	__u64 now;
	__u32 r;
	int first;

	if (pkt->vlans || (pkt->family != NP_AF_INET && pkt->family != NP_AF_INET6))
		return NP_LB_NONE;
	if (pkt->l4_proto == IPPROTO_ICMP || pkt->l4_proto == IPPROTO_ICMPV6)
		return np_icmp_err(ctx, pkt, bpf_ktime_get_ns());
	if (pkt->l4_proto != IPPROTO_TCP && pkt->l4_proto != IPPROTO_UDP)
		return NP_LB_NONE;
	now = bpf_ktime_get_ns();
	/* Fragments: a later one takes its first one's ports (frag.h). */
	first = (pkt->flags & NP_PKT_F_FRAG) ? np_frag_begin(pkt, now) : 0;
	r = NP_LB_NONE;
	/* At the uplink only replies to the SNAT address or a pod can be. */
	if ((pkt->flags & (NP_PKT_F_L4 | NP_PKT_F_FRAG_PORTS)) &&
	    (!snat_remote || np_lb_rev_possible(pkt)))
		r = np_lb_revnat(ctx, pkt, now);
	if (r == NP_LB_NONE)
		r = np_lb_service(ctx, pkt, snat_remote, now);
	/* A CT hit: keep the flow's other direction in step. */
	np_ct_pair(now);
	if (first && r != NP_LB_NONE && r != NP_LB_DEFER && !np_lb_is_drop(r))
		np_frag_commit(now);
	return r;
}

/* ---- sending a rewritten packet to another host (uplink) -------------------- */

/*
 * Fill a FIB lookup for the packet's (rewritten) addresses, as an input
 * lookup on ifindex.
 */
static __always_inline void np_lb_fib_params(struct bpf_fib_lookup *p, const struct np_pkt *pkt,
					     __u32 ifindex)
{
	__builtin_memset(p, 0, sizeof(*p));
	p->ifindex = ifindex;
	p->l4_protocol = pkt->l4_proto;
	p->sport = pkt->sport;
	p->dport = pkt->dport;
	if (pkt->family == NP_AF_INET) {
		p->family = NP_AF_INET;
		p->ipv4_src = pkt->saddr.v4;
		p->ipv4_dst = pkt->daddr.v4;
	} else {
		p->family = NP_AF_INET6;
		__builtin_memcpy(p->ipv6_src, pkt->saddr.v6, 16);
		__builtin_memcpy(p->ipv6_dst, pkt->daddr.v6, 16);
	}
}

#ifdef NP_BPF_XDP

/*
 * XDP: the FIB gives the next hop's MAC: XDP_TX when it leaves by the
 * device it came in on, else bpf_redirect(). Without a neighbour entry the
 * (already translated) packet goes to the stack, which forwards it.
 */
static __always_inline int np_lb_tx(struct np_ctx *ctx, const struct np_pkt *pkt)
{
	struct xdp_md *xdp = ctx->raw;
	struct bpf_fib_lookup p;
	__u32 in = xdp->ingress_ifindex;
	long rc;
	int r;

	np_lb_fib_params(&p, pkt, in);
	rc = bpf_fib_lookup(xdp, &p, sizeof(p), 0);
	if (rc == BPF_FIB_LKUP_RET_BLACKHOLE || rc == BPF_FIB_LKUP_RET_UNREACHABLE ||
	    rc == BPF_FIB_LKUP_RET_PROHIBIT)
		return np_drop(ctx, NP_DROP_FIB);
	if (rc != BPF_FIB_LKUP_RET_SUCCESS)
		return np_pass(ctx, NP_STAT_TO_STACK);
	r = np_nat_fwd_l2(ctx, pkt, p.dmac, p.smac);
	if (r < 0)
		return np_drop(ctx, NP_DROP_L2_TRUNC);
	if (r > 0)
		return np_pass(ctx, NP_STAT_TO_STACK);
	return np_xdp_fib_out(ctx, p.ifindex, in);
}

#else /* tc */

/*
 * tc: the same, with bpf_redirect() when the FIB knows the neighbour and
 * bpf_redirect_neigh() when it does not.
 */
static __always_inline int np_lb_tx(struct np_ctx *ctx, const struct np_pkt *pkt)
{
	struct __sk_buff *skb = ctx->raw;
	struct bpf_redir_neigh nh;
	struct bpf_fib_lookup p;
	long rc, ret;
	int r;

	np_lb_fib_params(&p, pkt, skb->ingress_ifindex ? skb->ingress_ifindex : skb->ifindex);
	rc = bpf_fib_lookup(skb, &p, sizeof(p), 0);
	if (rc == BPF_FIB_LKUP_RET_BLACKHOLE || rc == BPF_FIB_LKUP_RET_UNREACHABLE ||
	    rc == BPF_FIB_LKUP_RET_PROHIBIT)
		return np_drop(ctx, NP_DROP_FIB);
	if (rc != BPF_FIB_LKUP_RET_SUCCESS && rc != BPF_FIB_LKUP_RET_NO_NEIGH)
		return np_pass(ctx, NP_STAT_TO_STACK);
	np_ctx_reload_skb(ctx, skb);
	r = np_nat_fwd_l2(ctx, pkt, p.dmac, p.smac);
	if (r < 0)
		return np_drop(ctx, NP_DROP_L2_TRUNC);
	if (r > 0)
		return np_pass(ctx, NP_STAT_TO_STACK);
	if (rc == BPF_FIB_LKUP_RET_SUCCESS) {
		ret = bpf_redirect(p.ifindex, 0);
	} else {
		np_fib_nh(&nh, &p);
		ret = bpf_redirect_neigh(p.ifindex, &nh, sizeof(nh), 0);
	}
	if (ret != TC_ACT_REDIRECT)
		return np_drop(ctx, NP_DROP_REDIRECT);
	np_count(ctx, NP_STAT_LB_TX);
	return TC_ACT_REDIRECT;
}

#endif /* NP_BPF_XDP */

#endif /* NP_LB_H */
