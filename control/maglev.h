/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Weighted Maglev lookup tables (Eisenbud et al., NSDI 2016), built in user
 * space and handed to the BPF side as the inner array of np_maglev.
 *
 * Every backend walks its own permutation of the M slots (M prime): start at
 * offset = h1 % M, step skip = h2 % (M - 1) + 1, where h1 and h2 are two
 * independent hashes of the backend's stable key (family, address, port).
 *
 * Quotas: backend i's exact share is e_i = M * w_i / sum(w). A table is
 * balanced when every backend holds floor(e_i) or ceil(e_i) slots, so
 * within one slot of its share (and of its largest-remainder quota).
 * Both builds below return balanced tables.
 *
 * From scratch (no previous table): backends take turns claiming their next
 * free slot; a backend of weight w earns w credits per round and claims a
 * slot per w_max credits. The backends are ordered by their key before the
 * rounds start, so the table depends on the set of backends only, never on
 * the order the caller lists them. With skewed weights the rounds can miss
 * a share by more than a slot; the few slots over are then moved as in an
 * update (equal weights: never needed, the table is the classic one).
 *
 * Update (a previous table): every slot whose backend is still in the set
 * stays where it is unless that backend holds more than its share allows;
 * such a backend gives up the slots that come last in its own permutation.
 * The slots of removed backends and the ones given up go, in weighted turns,
 * to the backends below their share, each taking the next free slot of its
 * permutation. Among the balanced targets the one that moves the fewest
 * slots is chosen (ties: largest remainder of e_i first, then key order).
 * So removing one of N backends moves exactly its own slots, adding one
 * moves about the new one's share, a weight change about the share that
 * changes hands. The result depends on (previous table, backend set) and
 * not on the listing order; two tables with different histories may differ
 * in a few slots, a fresh build equals the build of a fresh node.
 */
#ifndef NP_MAGLEV_H
#define NP_MAGLEV_H

#include <stdbool.h>
#include <stddef.h>

#include "nodepath/abi.h"

/* Smallest table `up --maglev-size` accepts (NP_MAGLEV_MAX is the largest). */
#define NP_MAGLEV_MIN 251
/* Largest weight a backend may have (a weight of 0 is refused). */
#define NP_WEIGHT_MAX 65535

struct np_maglev_backend {
	__u32 id;     /* what the table holds for this backend (unique, not 0) */
	__u32 weight; /* 1..NP_WEIGHT_MAX */
	/* The stable key the permutation derives from. */
	__u8 family; /* NP_AF_INET or NP_AF_INET6 */
	__u8 pad;
	__be16 port;
	__u8 addr[16];
};

/* True when n is a prime number. */
bool np_is_prime(__u64 n);

/*
 * Fill table[0..m-1] with the ids of the n backends, from scratch. 0, or
 * -EINVAL (m not prime or < 2, n == 0, a weight of 0 or above NP_WEIGHT_MAX,
 * two backends with the same key or the same id, an id of 0), -E2BIG (more
 * backends than slots), -ENOMEM. Logs nothing: the caller names the service.
 */
int np_maglev_build(const struct np_maglev_backend *be, size_t n, __u32 m, __u32 *table);

/*
 * Like np_maglev_build, but starting from prev[0..m-1], the table in use
 * (ids of backends not in be[] and 0 count as free slots; prev may be NULL,
 * or equal to table). When no slot of prev belongs to a backend in be[], the
 * result is the from-scratch table. *moved (may be NULL): how many slots
 * now hold another id than in prev (m when prev is NULL). Same errors.
 */
int np_maglev_update(const struct np_maglev_backend *be, size_t n, __u32 m, const __u32 *prev,
		     __u32 *table, __u32 *moved);

#endif /* NP_MAGLEV_H */
