/* SPDX-License-Identifier: GPL-2.0 */
/* Datapath statistics: stable names of enum np_stat and np_hook, per-CPU sums. */
#ifndef NP_STATS_H
#define NP_STATS_H

#include <stddef.h>

#include "nodepath/abi.h"

/* Lower-case, stable names indexed by enum np_stat ("rx", ..., "pf_deny", ...). */
extern const char *const np_stat_names[];
/* Number of entries in np_stat_names[]; a unit test checks it equals NP_STAT__MAX. */
extern const size_t np_stat_names_count;

/* Name of a statistic, or NULL when out of range. */
const char *np_stat_name(unsigned int stat);
/* True for drop reasons (NP_STAT_DROP_FIRST .. NP_STAT__MAX - 1). */
static inline int np_stat_is_drop(unsigned int stat)
{
	return stat >= NP_STAT_DROP_FIRST && stat < NP_STAT__MAX;
}

/* Hooks in use now ("xdp", "tc_uplink_in", "tc_pod_from", "tc_pod_to"). */
#define NP_HOOKS_USED NP_HOOK__MAX
const char *np_hook_name(unsigned int hook);

/*
 * Read the per-CPU np_stats map (fd) and sum it over all possible CPUs into
 * out[NP_STATS_ENTRIES], indexed by NP_STAT_IDX(hook, stat). 0 or -errno.
 */
int np_stats_read(int map_fd, struct np_counter *out);

/*
 * Read one per-CPU np_counter array element (np_stats or np_pf_hits) and
 * sum it over CPUs. 0 or -errno.
 */
int np_percpu_counter_sum(int map_fd, __u32 key, struct np_counter *sum);

#endif /* NP_STATS_H */
