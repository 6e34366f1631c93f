/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * The maps of abi.h, declared once for every BPF object. Each one is pinned
 * by name, so two objects opened with the same pin_root_path share them
 * (the uplink XDP and tcx programs share stats and the prefilter this way).
 *
 * User space may resize the prefilter maps (np_pf_v4, np_pf_v6, np_pf_hits,
 * np_pf_tb) with bpf_map__set_max_entries() before load; the sizes here are
 * the defaults.
 */
#ifndef NP_MAPS_H
#define NP_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include <nodepath/abi.h>

/* Sizes of the service maps abi.h leaves to the datapath. */
#define NP_AFF_DEFAULT 65536
#define NP_SRC_RANGE_DEFAULT 16384
#define NP_NODE_ADDR_MAX 64

/* One-entry node configuration written by `nodepath up`. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct np_node_cfg);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} np_node SEC(".maps");

/* Packets and bytes by NP_STAT_IDX(hook, stat), one copy per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, NP_STATS_ENTRIES);
	__type(key, __u32);
	__type(value, struct np_counter);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} np_stats SEC(".maps");

/* Source prefixes; LPM tries must not be preallocated. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, NP_PF_DEFAULT_SIZE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct np_lpm4_key);
	__type(value, struct np_pf_rule);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} np_pf_v4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, NP_PF_DEFAULT_SIZE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct np_lpm6_key);
	__type(value, struct np_pf_rule);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} np_pf_v6 SEC(".maps");

/* Per-rule hit counters by np_pf_rule.id. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, NP_PF_IDS(NP_PF_DEFAULT_SIZE));
	__type(key, __u32);
	__type(value, struct np_counter);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} np_pf_hits SEC(".maps");

/*
 * Token buckets by rule id. A shared (not per-CPU) array: the rate is a
 * node-wide limit, so the cell is guarded by its bpf_spin_lock.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NP_PF_IDS(NP_PF_DEFAULT_SIZE));
	__type(key, __u32);
	__type(value, struct np_tbucket);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} np_pf_tb SEC(".maps");

/* Pod addresses: one entry per address, how to deliver to its endpoint. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, NP_EP_MAX * 2);
	__type(key, struct np_ep_key);
	__type(value, struct np_endpoint);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} np_endpoints SEC(".maps");

/* Host-side ifindex -> the endpoint behind it (who is sending). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, NP_EP_MAX);
	__type(key, __u32);
	__type(value, struct np_ep_dev);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} np_ep_devs SEC(".maps");

/* Per-endpoint traffic by endpoint id, one copy per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, NP_EP_MAX);
	__type(key, __u32);
	__type(value, struct np_ep_stats);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} np_ep_stats SEC(".maps");

/* ---- Services ----------------------------------------------------------
 *
 * Every object that includes this file declares (and so pins and reuses)
 * all of these, with the same sizes everywhere: user space sets np_ct's
 * max_entries and the np_maglev inner template's from np_node_cfg for every
 * object it loads, before load.
 */

/* (family, proto, VIP or zero, port, scope) -> the service. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, NP_SVC_MAX);
	__type(key, struct np_svc_key);
	__type(value, struct np_svc);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} np_svc SEC(".maps");

/*
 * Service id -> its two Maglev tables (arrays of maglev_size backend ids) at
 * NP_MAGLEV_SLOT(id, flags): [2 * id] and [2 * id + 1], created with the
 * service. User space writes a change into the one not live and flips
 * NP_SVC_F_TABLE1 with one np_svc update. The template has BPF_F_INNER_MAP,
 * so inner maps of any size fit (their creator must pass that flag too).
 */
struct np_maglev_inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	/*
	 * any size: `up --maglev-size` (libbpf cannot resize an inner template);
	 * mmapable: user space writes a table with stores, not a syscall per slot
	 */
	__uint(map_flags, BPF_F_INNER_MAP | BPF_F_MMAPABLE);
	__uint(max_entries, NP_MAGLEV_DEFAULT);
	__type(key, __u32);
	__type(value, __u32);
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2 * NP_SVC_MAX);
	__type(key, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct np_maglev_inner);
} np_maglev SEC(".maps");

/*
 * Backend id -> address, port, state. An array: ids are dense, a lookup is
 * an index, not a hash; an entry with family 0 is no backend (np_lb_be()).
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NP_BACKEND_MAX);
	__type(key, __u32);
	__type(value, struct np_backend);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} np_backends SEC(".maps");

/* Connection tracking shared by XDP and tc: one entry per direction. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, NP_CT_DEFAULT);
	__type(key, struct np_ct_key);
	__type(value, struct np_ct_entry);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} np_ct SEC(".maps");

/* Session affinity: (service, client address) -> backend. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, NP_AFF_DEFAULT);
	__type(key, struct np_aff_key);
	__type(value, struct np_aff_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} np_affinity SEC(".maps");

/* Allowed source prefixes by service (prefixlen = 32 + CIDR length). */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, NP_SRC_RANGE_DEFAULT);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct np_srcr_key);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} np_src_range SEC(".maps");

/* Packets and bytes balanced, by service id, one copy per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, NP_SVC_MAX);
	__type(key, __u32);
	__type(value, struct np_counter);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} np_svc_stats SEC(".maps");

/* The node's own (uplink) addresses: where NodePort services answer. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, NP_NODE_ADDR_MAX);
	__type(key, struct np_ep_key);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} np_node_addr SEC(".maps");

/*
 * The ports of a fragmented datagram to or from a service, recorded by its
 * first fragment for the later ones (frag.h).
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, NP_FRAG_DEFAULT);
	__type(key, struct np_frag_key);
	__type(value, struct np_frag_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} np_frag SEC(".maps");

/*
 * The AF_XDP pool's rx sockets by uplink rx queue (afxdp/). The XDP
 * program redirects with XDP_PASS as the fallback action: a queue without
 * a live worker leaves the frame to the kernel path.
 */
struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, NP_XSK_MAX_QUEUES);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} np_xsk SEC(".maps");

#endif /* NP_MAPS_H */
