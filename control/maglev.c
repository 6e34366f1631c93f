// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "maglev.h"

bool np_is_prime(__u64 n)
{
	if (n < 2)
		return false;
	if (n < 4)
		return true;
	if (n % 2 == 0 || n % 3 == 0)
		return false;
	for (__u64 d = 5; d * d <= n; d += 6)
		if (n % d == 0 || n % (d + 2) == 0)
			return false;
	return true;
}

/* A 64-bit hash of the backend key: FNV-1a over the bytes, then a final mixer. */
static __u64 key_hash(const struct np_maglev_backend *b, __u64 seed)
{
	__u8 buf[1 + 2 + 16];
	__u64 h = 0xcbf29ce484222325ULL ^ seed;

	buf[0] = b->family;
	memcpy(buf + 1, &b->port, 2);
	memcpy(buf + 3, b->addr, 16);
	for (size_t i = 0; i < sizeof(buf); i++) {
		h ^= buf[i];
		h *= 0x100000001b3ULL;
	}
	/* FNV alone spreads the last bytes poorly: mix (64-bit finaliser). */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

static int key_cmp(const struct np_maglev_backend *a, const struct np_maglev_backend *b)
{
	int c;

	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	c = memcmp(a->addr, b->addr, sizeof(a->addr));
	if (c)
		return c;
	return memcmp(&a->port, &b->port, sizeof(a->port));
}

static int order_cmp(const void *pa, const void *pb)
{
	return key_cmp(*(const struct np_maglev_backend *const *)pa,
		       *(const struct np_maglev_backend *const *)pb);
}

struct perm {
	__u32 next;   /* the slot this backend tries next */
	__u32 skip;   /* 1..m-1 */
	__u32 credit; /* weight earned and not yet spent */
	__u32 weight;
	__u32 id;
};

#define SEED_OFFSET 0x6e702d6d61676c31ULL /* two unrelated seeds */
#define SEED_SKIP 0x9e3779b97f4a7c15ULL

int np_maglev_build(const struct np_maglev_backend *be, size_t n, __u32 m, __u32 *table)
{
	const struct np_maglev_backend **ord = NULL;
	struct perm *p = NULL;
	__u32 wmax = 0, filled = 0;
	__u8 *used = NULL;
	int err = 0;

	if (m < 2 || !np_is_prime(m) || !n)
		return -EINVAL;
	if (n > m)
		return -E2BIG;
	for (size_t i = 0; i < n; i++) {
		if (!be[i].weight || be[i].weight > NP_WEIGHT_MAX)
			return -EINVAL;
		if (be[i].weight > wmax)
			wmax = be[i].weight;
	}
	ord = malloc(n * sizeof(*ord));
	p = calloc(n, sizeof(*p));
	used = calloc(m, 1);
	if (!ord || !p || !used) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		ord[i] = &be[i];
	qsort(ord, n, sizeof(*ord), order_cmp);
	for (size_t i = 0; i < n; i++) {
		if (i && !key_cmp(ord[i - 1], ord[i])) {
			err = -EINVAL;
			goto out;
		}
		p[i].next = (__u32)(key_hash(ord[i], SEED_OFFSET) % m);
		p[i].skip = (__u32)(key_hash(ord[i], SEED_SKIP) % (m - 1)) + 1;
		p[i].weight = ord[i]->weight;
		p[i].id = ord[i]->id;
	}

	/*
	 * Rounds: each backend earns its weight; for every wmax earned it
	 * claims its next free slot. The heaviest claims one per round.
	 * Every permutation covers all m slots (skip < m, m prime), so a
	 * claim always finds a free slot while the table is not full.
	 */
	while (filled < m) {
		for (size_t i = 0; i < n && filled < m; i++) {
			struct perm *q = &p[i];

			q->credit += q->weight;
			while (q->credit >= wmax && filled < m) {
				q->credit -= wmax;
				while (used[q->next]) {
					q->next += q->skip;
					if (q->next >= m)
						q->next -= m;
				}
				used[q->next] = 1;
				table[q->next] = q->id;
				filled++;
			}
		}
	}
out:
	free(used);
	free(p);
	free(ord);
	return err;
}
