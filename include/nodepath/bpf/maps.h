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

#endif /* NP_MAPS_H */
