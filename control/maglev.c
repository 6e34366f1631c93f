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

/* A backend, in key order (its index in that order is what owner[] holds). */
struct perm {
	__u32 offset; /* the first slot of its permutation */
	__u32 skip;   /* 1..m-1 */
	__u32 next;   /* the slot it tries next */
	__u32 claims; /* claims in the current turns */
	__u32 weight;
	__u32 id;
	__u32 have;   /* slots it holds */
	__u32 lo, hi; /* floor and ceil of its exact share m * weight / sum */
	__u32 target; /* lo or hi: what it ends with */
	__u64 rem;    /* (m * weight) % sum: the fraction of its share, scaled */
	__u32 inv;    /* skip^-1 mod m (release only) */
	__u32 cut;    /* release: the first position it gives up */
	__u32 fill;   /* release: positions collected */
	size_t base;  /* release: where they go */
};

#define FREE (-1)

struct id_ix {
	__u32 id;
	__u32 ix;
};

static int id_cmp(const void *pa, const void *pb)
{
	const struct id_ix *a = pa, *b = pb;

	return a->id < b->id ? -1 : a->id > b->id;
}

/* A candidate for one slot more or less: its fraction decides. */
struct cand {
	__u64 rem;
	__u32 ix;
};

static int cand_up_cmp(const void *pa, const void *pb)
{
	const struct cand *a = pa, *b = pb;

	/* raise: largest fraction first, then key order */
	if (a->rem != b->rem)
		return a->rem > b->rem ? -1 : 1;
	return a->ix < b->ix ? -1 : a->ix > b->ix;
}

static int cand_down_cmp(const void *pa, const void *pb)
{
	const struct cand *a = pa, *b = pb;

	/* lower: smallest fraction first, then key order */
	if (a->rem != b->rem)
		return a->rem < b->rem ? -1 : 1;
	return a->ix < b->ix ? -1 : a->ix > b->ix;
}

/* The k-th smallest (from 0) of a[0..n-1], distinct values; a is reordered. */
static __u32 select_kth(__u32 *a, size_t n, size_t k)
{
	size_t lo = 0, hi = n - 1;

	while (lo < hi) {
		__u32 pivot = a[lo + (hi - lo) / 2], t;
		size_t i = lo, j = hi;

		/* Hoare partition: a[lo..j] <= pivot <= a[i..hi] */
		while (i <= j) {
			while (a[i] < pivot)
				i++;
			while (a[j] > pivot)
				j--;
			if (i <= j) {
				t = a[i];
				a[i] = a[j];
				a[j] = t;
				i++;
				if (!j)
					break;
				j--;
			}
		}
		if (k <= j)
			hi = j;
		else if (k >= i)
			lo = i;
		else
			return a[k];
	}
	return a[k];
}

static __u32 pow_mod(__u64 b, __u64 e, __u64 m)
{
	__u64 r = 1;

	b %= m;
	while (e) {
		if (e & 1)
			r = r * b % m;
		b = b * b % m;
		e >>= 1;
	}
	return (__u32)r;
}

static void step(__u32 *slot, __u32 skip, __u32 m)
{
	*slot += skip;
	if (*slot >= m)
		*slot -= m;
}

/* A backend's next claim in the rounds: (round, key order) orders them. */
struct turn {
	__u64 round;
	__u32 ix;
};

static bool turn_before(const struct turn *a, const struct turn *b)
{
	return a->round != b->round ? a->round < b->round : a->ix < b->ix;
}

static void heap_down(struct turn *h, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, min = i;
		struct turn t;

		if (l < n && turn_before(&h[l], &h[min]))
			min = l;
		if (r < n && turn_before(&h[r], &h[min]))
			min = r;
		if (min == i)
			return;
		t = h[i];
		h[i] = h[min];
		h[min] = t;
		i = min;
	}
}

/*
 * Weighted turns: in every round each backend of ix[0..k-1] (in key order)
 * earns its weight in credits and claims its next free slot for every wmax
 * credits. No backend claims twice in a round (weight <= wmax), so its c-th
 * claim falls in round ceil(c * wmax / weight): a heap ordered by (round,
 * key order) replays the claims in the rounds' order without visiting the
 * backends that earn nothing in a round (skewed weights). budget: how many
 * claims in all; limit: a backend stops at its target. Every permutation
 * covers all m slots (skip < m, m prime), so a claim finds a free slot
 * while one is left.
 */
static int turns(struct perm *p, const __u32 *ix, size_t k, __u32 wmax, __u32 m, __u32 budget,
		 bool limit, __s32 *owner)
{
	struct turn *h = malloc(k * sizeof(*h));

	if (!h)
		return -ENOMEM;
	for (size_t j = 0; j < k; j++) {
		struct perm *q = &p[ix[j]];

		q->next = q->offset;
		q->claims = 0;
		h[j].round = ((__u64)wmax + q->weight - 1) / q->weight;
		h[j].ix = ix[j];
	}
	for (size_t j = k / 2; j-- > 0;)
		heap_down(h, k, j);
	for (__u32 c = 0; c < budget && k; c++) {
		struct perm *q = &p[h[0].ix];

		while (owner[q->next] != FREE)
			step(&q->next, q->skip, m);
		owner[q->next] = (__s32)h[0].ix;
		q->have++;
		q->claims++;
		if (limit && q->have >= q->target)
			h[0] = h[--k];
		else
			h[0].round = (((__u64)q->claims + 1) * wmax + q->weight - 1) / q->weight;
		heap_down(h, k, 0);
	}
	free(h);
	return 0;
}

/*
 * The classic weighted rounds on an empty table: all backends, in key
 * order, until the table is full; the heaviest claims a slot per round.
 */
static int rounds(struct perm *p, size_t n, __u32 m, __u32 wmax, __s32 *owner)
{
	__u32 *ix, filled = 0;
	size_t i;
	int err;

	/* equal weights: one claim each per round, in key order; no heap needed */
	for (i = 0; i < n && p[i].weight == wmax; i++)
		;
	if (i == n) {
		for (i = 0; i < n; i++)
			p[i].next = p[i].offset;
		for (i = 0; filled < m; filled++, i = i + 1 < n ? i + 1 : 0) {
			struct perm *q = &p[i];

			while (owner[q->next] != FREE)
				step(&q->next, q->skip, m);
			owner[q->next] = (__s32)i;
			q->have++;
		}
		return 0;
	}
	ix = malloc(n * sizeof(*ix));
	if (!ix)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		ix[i] = (__u32)i;
	err = turns(p, ix, n, wmax, m, m, false, owner);
	free(ix);
	return err;
}

/*
 * Targets: each backend keeps what it holds, clamped to [lo, hi]; then as
 * many as needed go one up (largest fraction first: free, they only fill
 * free slots) or one down (smallest fraction first: each costs a move) so
 * the targets sum to m. sum(lo) <= m <= sum(hi), so enough candidates exist.
 */
static int set_targets(struct perm *p, size_t n, __u32 m, __u64 wsum)
{
	struct cand *c = NULL;
	__u64 total = 0;
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		__u64 share = (__u64)m * p[i].weight;

		p[i].lo = (__u32)(share / wsum);
		p[i].rem = share % wsum;
		p[i].hi = p[i].lo + (p[i].rem ? 1 : 0);
		p[i].target = p[i].have < p[i].lo   ? p[i].lo
			      : p[i].have > p[i].hi ? p[i].hi
						    : p[i].have;
		total += p[i].target;
	}
	if (total == m)
		return 0;
	c = malloc(n * sizeof(*c));
	if (!c)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (total < m ? p[i].target < p[i].hi : p[i].target > p[i].lo) {
			c[k].rem = p[i].rem;
			c[k].ix = (__u32)i;
			k++;
		}
	}
	qsort(c, k, sizeof(*c), total < m ? cand_up_cmp : cand_down_cmp);
	for (size_t j = 0; j < k && total != m; j++) {
		if (total < m) {
			p[c[j].ix].target++;
			total++;
		} else {
			p[c[j].ix].target--;
			total--;
		}
	}
	free(c);
	return 0;
}

/* Where slot s comes in q's permutation: j with offset + j * skip == s (mod m). */
static __u32 perm_pos(const struct perm *q, __u32 s, __u32 m)
{
	return (__u32)((__u64)((s + m - q->offset) % m) * q->inv % m);
}

/*
 * Backends above their target free the slots that come last in their own
 * permutation: per backend, the cut is the (have - excess)-th smallest
 * position of its slots; it frees the slots at or after the cut. O(m).
 */
static int release(struct perm *p, size_t n, __u32 m, __s32 *owner)
{
	__u32 *pos = NULL;
	size_t over = 0;

	for (size_t i = 0; i < n; i++) {
		if (p[i].have > p[i].target) {
			p[i].inv = pow_mod(p[i].skip, m - 2, m);
			p[i].base = over;
			p[i].fill = 0;
			over += p[i].have;
		}
	}
	if (!over)
		return 0;
	pos = malloc(over * sizeof(*pos));
	if (!pos)
		return -ENOMEM;
	for (__u32 s = 0; s < m; s++) {
		struct perm *q = owner[s] == FREE ? NULL : &p[owner[s]];

		if (q && q->have > q->target)
			pos[q->base + q->fill++] = perm_pos(q, s, m);
	}
	for (size_t i = 0; i < n; i++)
		if (p[i].have > p[i].target)
			p[i].cut = select_kth(pos + p[i].base, p[i].have, p[i].target);
	for (__u32 s = 0; s < m; s++) {
		struct perm *q = owner[s] == FREE ? NULL : &p[owner[s]];

		if (q && q->have > q->target && perm_pos(q, s, m) >= q->cut)
			owner[s] = FREE;
	}
	for (size_t i = 0; i < n; i++)
		if (p[i].have > p[i].target)
			p[i].have = p[i].target;
	free(pos);
	return 0;
}

/*
 * The free slots go to the backends below target in weighted turns (wmax:
 * the heaviest of them), each claiming the next free slot of its own
 * permutation from its start, until it reaches its target.
 */
static int fill(struct perm *p, size_t n, __u32 m, __s32 *owner)
{
	__u32 *ix = NULL, wmax = 0, budget = 0;
	size_t k = 0;
	int err;

	for (size_t i = 0; i < n; i++)
		if (p[i].have < p[i].target)
			k++;
	if (!k)
		return 0;
	ix = malloc(k * sizeof(*ix));
	if (!ix)
		return -ENOMEM;
	k = 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i].have < p[i].target) {
			ix[k++] = (__u32)i;
			budget += p[i].target - p[i].have;
			if (p[i].weight > wmax)
				wmax = p[i].weight;
		}
	}
	err = turns(p, ix, k, wmax, m, budget, true, owner);
	free(ix);
	return err;
}

#define SEED_OFFSET 0x6e702d6d61676c31ULL /* two unrelated seeds */
#define SEED_SKIP 0x9e3779b97f4a7c15ULL

int np_maglev_update(const struct np_maglev_backend *be, size_t n, __u32 m, const __u32 *prev,
		     __u32 *table, __u32 *moved)
{
	const struct np_maglev_backend **ord = NULL;
	struct id_ix *ids = NULL;
	struct perm *p = NULL;
	__s32 *owner = NULL;
	__u32 wmax = 0, kept = 0, mv = 0;
	__u64 wsum = 0;
	int err = 0;

	if (m < 2 || !np_is_prime(m) || !n)
		return -EINVAL;
	if (n > m)
		return -E2BIG;
	for (size_t i = 0; i < n; i++) {
		if (!be[i].weight || be[i].weight > NP_WEIGHT_MAX || !be[i].id)
			return -EINVAL;
		if (be[i].weight > wmax)
			wmax = be[i].weight;
		wsum += be[i].weight;
	}
	ord = malloc(n * sizeof(*ord));
	ids = malloc(n * sizeof(*ids));
	p = calloc(n, sizeof(*p));
	owner = malloc(m * sizeof(*owner));
	if (!ord || !ids || !p || !owner) {
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
		p[i].offset = (__u32)(key_hash(ord[i], SEED_OFFSET) % m);
		p[i].skip = (__u32)(key_hash(ord[i], SEED_SKIP) % (m - 1)) + 1;
		p[i].weight = ord[i]->weight;
		p[i].id = ord[i]->id;
		ids[i].id = ord[i]->id;
		ids[i].ix = (__u32)i;
	}
	qsort(ids, n, sizeof(*ids), id_cmp);
	for (size_t i = 1; i < n; i++) {
		if (ids[i - 1].id == ids[i].id) {
			err = -EINVAL;
			goto out;
		}
	}

	/* what stays: slots of prev whose backend is still there */
	for (__u32 s = 0; s < m; s++) {
		struct id_ix key = { .id = prev ? prev[s] : 0 }, *f = NULL;

		if (key.id)
			f = bsearch(&key, ids, n, sizeof(*ids), id_cmp);
		owner[s] = f ? (__s32)f->ix : FREE;
		if (f) {
			p[f->ix].have++;
			kept++;
		}
	}
	if (!kept) {
		err = rounds(p, n, m, wmax, owner);
		if (err)
			goto out;
	}
	err = set_targets(p, n, m, wsum);
	if (!err)
		err = release(p, n, m, owner);
	if (!err)
		err = fill(p, n, m, owner);
	if (err)
		goto out;
	for (__u32 s = 0; s < m; s++) {
		__u32 id = p[owner[s]].id;

		if (!prev || prev[s] != id)
			mv++;
		table[s] = id;
	}
	if (moved)
		*moved = mv;
out:
	free(owner);
	free(p);
	free(ids);
	free(ord);
	return err;
}

int np_maglev_build(const struct np_maglev_backend *be, size_t n, __u32 m, __u32 *table)
{
	return np_maglev_update(be, n, m, NULL, table, NULL);
}
