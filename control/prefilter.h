/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Prefilter rules: source prefixes in the pinned LPM tries np_pf_v4 and
 * np_pf_v6, each with a rule id that indexes np_pf_hits and np_pf_tb. A
 * request is validated whole before the first map write, and the writes
 * never expose half a rule (counters and bucket first, the trie entry last).
 */
#ifndef NP_PREFILTER_H
#define NP_PREFILTER_H

#include <stdbool.h>
#include <stddef.h>

#include "input.h"
#include "node.h"

/* Bounds of --rate and --burst (packets per second, packets). */
#define NP_PF_RATE_MAX 100000000ULL
#define NP_PF_BURST_MAX 100000000ULL

struct np_pf_entry {
	struct np_cidr cidr;
	struct np_pf_rule rule;
	struct np_counter hits; /* summed over CPUs */
};

struct np_pf_req {
	struct np_cidr cidr;
	__u32 flags;		 /* NP_PF_F_ALLOW */
	__u64 rate_pps;		 /* 0: no rate limit */
	__u64 burst;		 /* 0: np_pf_default_burst(rate_pps) */
	bool drop_everything_ok; /* --yes-drop-everything */
};

/* Default bucket depth: a tenth of a second of the rate, at least 1 packet. */
__u64 np_pf_default_burst(__u64 rate_pps);
/* "deny", "allow", "rate 1000 pps, burst 100", "allow, rate ...": the action as text. */
void np_pf_action_str(const struct np_pf_rule *r, char *buf, size_t len);

/*
 * All rules, IPv4 then IPv6, by address then prefix length, with their
 * hits. *out is malloc()ed (NULL when there are none). 0 or -errno;
 * -ENOTCONN when the node is not up.
 */
int np_pf_list(struct np_node *n, struct np_pf_entry **out, size_t *count);

/*
 * Add a rule. Rejections (-EEXIST duplicate, -ENOSPC full table or no free
 * id, -EPERM a /0 deny without drop_everything_ok, -EINVAL) change nothing
 * and are logged. note receives overlap notes ("" when none). The new id is
 * returned in *id.
 */
int np_pf_add(struct np_node *n, const struct np_pf_req *req, __u32 *id, char *note,
	      size_t notelen);

/* Delete the rule for exactly this prefix; -ENOENT "no prefilter rule for X". */
int np_pf_del(struct np_node *n, const struct np_cidr *cidr, __u32 *id);

#endif /* NP_PREFILTER_H */
