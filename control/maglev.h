/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Weighted Maglev lookup tables (Eisenbud et al., NSDI 2016), built in user
 * space and handed to the BPF side as the inner array of np_maglev.
 *
 * Every backend walks its own permutation of the M slots (M prime): start at
 * offset = h1 % M, step skip = h2 % (M - 1) + 1, where h1 and h2 are two
 * independent hashes of the backend's stable key (family, address, port).
 * Backends take turns claiming their next free slot; a backend of weight w
 * earns w credits per round and claims a slot per w_max credits, so its
 * share of the table is w / sum(w) up to one slot per backend. The backends
 * are ordered by their key before the rounds start, so the table depends on
 * the set of backends only, never on the order the caller lists them.
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
	__u32 id;     /* what the table holds for this backend */
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
 * Fill table[0..m-1] with the ids of the n backends. 0, or -EINVAL (m not
 * prime or < 2, n == 0, a weight of 0 or above NP_WEIGHT_MAX, two backends
 * with the same key), -E2BIG (more backends than slots), -ENOMEM. Logs
 * nothing: the caller names the service.
 */
int np_maglev_build(const struct np_maglev_backend *be, size_t n, __u32 m, __u32 *table);

#endif /* NP_MAGLEV_H */
