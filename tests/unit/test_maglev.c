// SPDX-License-Identifier: GPL-2.0
/*
 * Weighted Maglev tables (control/maglev.c): weights honoured, balance
 * within one slot of the share, minimal disruption on updates (remove, add,
 * weight change, random churn), determinism, bounds. The measured numbers
 * are printed as TAP comments; only the properties are asserted (never a
 * timing).
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "maglev.h"

#define M NP_MAGLEV_DEFAULT
#define NMAX 1000

/* Backend i: 198.19.(i / 250).(i % 250 + 1):8080, id i + 1. */
static void mk_one(struct np_maglev_backend *b, size_t i, __u32 weight)
{
	memset(b, 0, sizeof(*b));
	b->id = (__u32)i + 1;
	b->weight = weight;
	b->family = NP_AF_INET;
	b->port = htons(8080);
	b->addr[0] = 198;
	b->addr[1] = 19;
	b->addr[2] = (__u8)(i / 250);
	b->addr[3] = (__u8)(i % 250 + 1);
}

static void mk_backends(struct np_maglev_backend *be, size_t n, const __u32 *weights)
{
	for (size_t i = 0; i < n; i++)
		mk_one(&be[i], i, weights ? weights[i] : 1);
}

/* Slots per id (ids up to max_id); every slot must hold one of be[]'s ids. */
/* floor, ceil and |x| without libm (the tests link no -lm) */
static double dfloor(double x)
{
	return (double)(__s64)x - ((double)(__s64)x > x);
}

static double dceil(double x)
{
	return -dfloor(-x);
}

static double dabs(double x)
{
	return x < 0 ? -x : x;
}

static void count_ids(const __u32 *table, __u32 m, __u32 *cnt, __u32 max_id)
{
	memset(cnt, 0, (max_id + 1) * sizeof(*cnt));
	for (__u32 s = 0; s < m; s++) {
		assert_true(table[s] >= 1 && table[s] <= max_id);
		cnt[table[s]]++;
	}
}

/*
 * Every backend holds floor or ceil of its exact share m * w / sum(w), and
 * every slot holds one of them. Returns the largest |count - share|.
 */
static double check_balance(const struct np_maglev_backend *be, size_t n, const __u32 *table,
			    __u32 m)
{
	static __u32 cnt[NMAX * 4 + 2];
	double wsum = 0, worst = 0;
	__u32 max_id = 0, total = 0;

	for (size_t i = 0; i < n; i++) {
		wsum += be[i].weight;
		if (be[i].id > max_id)
			max_id = be[i].id;
	}
	assert_true(max_id < sizeof(cnt) / sizeof(cnt[0]));
	count_ids(table, m, cnt, max_id);
	for (size_t i = 0; i < n; i++) {
		double e = (double)m * be[i].weight / wsum;
		double d = dabs(cnt[be[i].id] - e);

		assert_true(cnt[be[i].id] >= dfloor(e) - 1e-9 && cnt[be[i].id] <= dceil(e) + 1e-9);
		if (d > worst)
			worst = d;
		total += cnt[be[i].id];
	}
	assert_int_equal(total, m);
	return worst;
}

/* Largest-remainder quotas (sum m): the quota each backend is held to. */
static void lrr_quota(const struct np_maglev_backend *be, size_t n, __u32 m, __u32 *q)
{
	__u64 wsum = 0, *rem = calloc(n, sizeof(*rem));
	__u32 total = 0;

	assert_non_null(rem);
	for (size_t i = 0; i < n; i++)
		wsum += be[i].weight;
	for (size_t i = 0; i < n; i++) {
		q[i] = (__u32)((__u64)m * be[i].weight / wsum);
		rem[i] = (__u64)m * be[i].weight % wsum;
		total += q[i];
	}
	while (total < m) {
		size_t best = 0;

		for (size_t i = 1; i < n; i++)
			if (rem[i] > rem[best])
				best = i;
		q[best]++;
		rem[best] = 0;
		total++;
	}
	free(rem);
}

static void test_prime(void **state)
{
	(void)state;
	assert_false(np_is_prime(0));
	assert_false(np_is_prime(1));
	assert_true(np_is_prime(2));
	assert_true(np_is_prime(251));
	assert_true(np_is_prime(16381));
	assert_true(np_is_prime(65537));
	assert_true(np_is_prime(131071));
	assert_false(np_is_prime(16383));
	assert_false(np_is_prime(16384));
	assert_false(np_is_prime(131073));
	assert_false(np_is_prime(251 * 257));
}

static void check_shares(const __u32 *w, size_t n)
{
	struct np_maglev_backend *be = calloc(n, sizeof(*be));
	__u32 *table = malloc(M * sizeof(*table)), *q = calloc(n, sizeof(*q));
	__u32 cnt[NMAX + 1];
	double sum = 0, worst;

	assert_true(be && table && q && n <= NMAX);
	mk_backends(be, n, w);
	for (size_t i = 0; i < n; i++)
		sum += w ? w[i] : 1;
	assert_int_equal(np_maglev_build(be, n, M, table), 0);
	worst = check_balance(be, n, table, M);
	count_ids(table, M, cnt, (__u32)n);
	lrr_quota(be, n, M, q);
	for (size_t i = 0; i < n; i++) {
		double want = (w ? w[i] : 1) / sum;
		double got = (double)cnt[i + 1] / M;

		if (n <= 4)
			printf("# weight %u: %u of %u slots, share %.5f, expected %.5f\n",
			       w ? w[i] : 1, cnt[i + 1], M, got, want);
		/* within 1 slot of the largest-remainder quota */
		assert_true(cnt[i + 1] + 1 >= q[i] && cnt[i + 1] <= q[i] + 1);
		/*
		 * Within 1% of the expected share where 1% is a slot or more
		 * (a share of 100 slots or more); a weight of 1 next to 65535
		 * has a share under one slot.
		 */
		if (want * M >= 100)
			assert_true(got >= want * 0.99 && got <= want * 1.01);
	}
	printf("# %zu backends: largest |slots - exact share| = %.3f\n", n, worst);
	free(q);
	free(table);
	free(be);
}

static void test_weights(void **state)
{
	static const __u32 w1234[] = { 1, 2, 3, 4 };
	static const __u32 w_skew[] = { 1, 100, 1000, 65535 };
	__u32 w[NMAX];

	(void)state;
	check_shares(w1234, 4);
	check_shares(w_skew, 4);
	for (size_t i = 0; i < NMAX; i++)
		w[i] = i ? (__u32)(i % 13 + 1) : 1000;
	check_shares(w, 10);
	check_shares(w, 100);
	check_shares(w, NMAX);
}

static void test_equal(void **state)
{
	(void)state;
	check_shares(NULL, 2);
	check_shares(NULL, 3);
	check_shares(NULL, 10);
	check_shares(NULL, 100);
	check_shares(NULL, NMAX);
}

static __u64 fnv_table(const __u32 *t, __u32 m)
{
	const unsigned char *b = (const void *)t;
	__u64 h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < (size_t)m * sizeof(*t); i++) {
		h ^= b[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/*
 * Where the classic weighted rounds already give every backend its share
 * within a slot (equal weights, mild weights), the from-scratch build is
 * still the one of issue 4: FNV-1a of the table bytes (little endian) as
 * measured with the issue-4 np_maglev_build.
 */
static void test_classic_unchanged(void **state)
{
	static const struct {
		size_t n;
		int mild; /* weights i % 7 + 1 instead of all 1 */
		__u64 fnv;
	} cases[] = {
		{ 1, 0, 0x8c48011c56793944ULL },   { 3, 0, 0xbbdfda85f5531d34ULL },
		{ 10, 0, 0xebec370aeda45454ULL },  { 50, 0, 0x868abbf3e034cfe6ULL },
		{ 100, 0, 0xbe97d16e64baccf0ULL }, { 1000, 0, 0x99020ee509638b60ULL },
		{ 3, 1, 0x5e559dea464997e6ULL },   { 10, 1, 0xc504574a794c21deULL },
		{ 50, 1, 0x7f38a9059faff7a1ULL },
	};
	struct np_maglev_backend *be = calloc(NMAX, sizeof(*be));
	__u32 *table = malloc(M * sizeof(*table)), w[NMAX];
	const __u16 one = 1;

	(void)state;
	assert_true(be && table);
	if (*(const __u8 *)&one != 1) {
		printf("# big-endian host: the recorded hashes do not apply\n");
		goto out;
	}
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		for (size_t i = 0; i < cases[c].n; i++)
			w[i] = cases[c].mild ? (__u32)(i % 7 + 1) : 1;
		mk_backends(be, cases[c].n, w);
		assert_int_equal(np_maglev_build(be, cases[c].n, M, table), 0);
		assert_true(fnv_table(table, M) == cases[c].fnv);
	}
out:
	free(be);
	free(table);
}

/*
 * Remove backend `gone` of n from a table built from scratch: exactly its
 * slots move, none of a remaining backend's, and the result is balanced.
 */
static void remove_one(size_t n, size_t gone)
{
	struct np_maglev_backend *be = calloc(n, sizeof(*be)), *less = calloc(n, sizeof(*less));
	__u32 *a = malloc(M * sizeof(*a)), *b = malloc(M * sizeof(*b));
	size_t k = 0, moved = 0, foreign = 0, own = 0;
	__u32 mv = 0;

	assert_true(be && less && a && b);
	mk_backends(be, n, NULL);
	for (size_t i = 0; i < n; i++)
		if (i != gone)
			less[k++] = be[i];
	assert_int_equal(np_maglev_build(be, n, M, a), 0);
	assert_int_equal(np_maglev_update(less, k, M, a, b, &mv), 0);
	for (__u32 s = 0; s < M; s++) {
		if (a[s] == be[gone].id)
			own++;
		if (a[s] != b[s]) {
			moved++;
			if (a[s] != be[gone].id)
				foreign++; /* a flow of a remaining backend moved */
		}
	}
	printf("# remove 1 of %zu: %zu of %u slots moved (%.4f; 1/N = %.4f), %zu of them "
	       "belonged to a remaining backend\n",
	       n, moved, M, (double)moved / M, 1.0 / n, foreign);
	assert_int_equal(mv, moved);
	assert_int_equal(foreign, 0);
	assert_int_equal(moved, own);
	check_balance(less, k, b, M);
	free(be);
	free(less);
	free(a);
	free(b);
}

static void test_remove(void **state)
{
	static const size_t ns[] = { 2, 3, 10, 100, 1000 };

	(void)state;
	for (size_t j = 0; j < sizeof(ns) / sizeof(ns[0]); j++) {
		remove_one(ns[j], 0);
		remove_one(ns[j], ns[j] - 1);
		remove_one(ns[j], ns[j] / 2);
	}
}

/* Add backend n to n from scratch: at most its share (rounded up) moves. */
static void add_one(size_t n, const __u32 *w)
{
	struct np_maglev_backend *be = calloc(n + 1, sizeof(*be));
	__u32 *a = malloc(M * sizeof(*a)), *b = malloc(M * sizeof(*b)), *q = calloc(n + 1, 4);
	size_t moved = 0, to_new = 0;
	double wsum = 0, e;

	assert_true(be && a && b && q);
	mk_backends(be, n + 1, w);
	for (size_t i = 0; i <= n; i++)
		wsum += be[i].weight;
	e = M * be[n].weight / wsum;
	assert_int_equal(np_maglev_build(be, n, M, a), 0);
	assert_int_equal(np_maglev_update(be, n + 1, M, a, b, NULL), 0);
	lrr_quota(be, n + 1, M, q);
	for (__u32 s = 0; s < M; s++) {
		if (a[s] != b[s])
			moved++;
		if (b[s] == be[n].id)
			to_new++;
	}
	printf("# add 1 to %zu: %zu of %u slots moved (%.4f; 1/(N+1) = %.4f), the new "
	       "backend got %zu (share %.2f, quota %u)\n",
	       n, moved, M, (double)moved / M, 1.0 / (n + 1), to_new, e, q[n]);
	assert_true(moved <= dceil(e));
	check_balance(be, n + 1, b, M);
	free(q);
	free(be);
	free(a);
	free(b);
}

static void test_add(void **state)
{
	__u32 w[NMAX + 1];

	(void)state;
	add_one(1, NULL);
	add_one(2, NULL);
	add_one(9, NULL);
	add_one(99, NULL);
	add_one(999, NULL);
	for (size_t i = 0; i <= NMAX; i++)
		w[i] = (__u32)(i % 5 + 1);
	add_one(9, w);
	add_one(99, w);
	w[99] = 1000; /* a heavy newcomer */
	add_one(99, w);
}

/*
 * Change the weight of backend c of n: the backends whose share shrinks
 * give up only their excess, the others keep every slot.
 */
static void reweigh(size_t n, size_t c, __u32 w_new)
{
	struct np_maglev_backend *be = calloc(n, sizeof(*be));
	__u32 *a = malloc(M * sizeof(*a)), *b = malloc(M * sizeof(*b));
	__u32 before[NMAX + 1], after[NMAX + 1];
	size_t moved = 0, need = 0;
	__u32 w_old;

	assert_true(be && a && b);
	mk_backends(be, n, NULL);
	w_old = be[c].weight;
	assert_int_equal(np_maglev_build(be, n, M, a), 0);
	be[c].weight = w_new;
	assert_int_equal(np_maglev_update(be, n, M, a, b, NULL), 0);
	check_balance(be, n, b, M);
	count_ids(a, M, before, (__u32)n);
	count_ids(b, M, after, (__u32)n);
	for (__u32 s = 0; s < M; s++)
		moved += a[s] != b[s];
	/* the least any balanced table needs: what the losers lose */
	for (size_t i = 1; i <= n; i++)
		if (before[i] > after[i])
			need += before[i] - after[i];
	printf("# %zu backends, weight of one %u -> %u: %zu of %u slots moved, backend "
	       "%u -> %u slots\n",
	       n, w_old, w_new, moved, M, before[c + 1], after[c + 1]);
	assert_int_equal(moved, need);
	/* and a slot only moves into a backend that gained */
	for (__u32 s = 0; s < M; s++)
		if (a[s] != b[s])
			assert_true(after[b[s]] > before[b[s]]);
	free(be);
	free(a);
	free(b);
}

static void test_weight_change(void **state)
{
	(void)state;
	reweigh(10, 3, 2);
	reweigh(10, 3, 5);
	reweigh(100, 50, 3);
	reweigh(100, 50, 100);
}

static __u64 rng_state = 0x853c49e6748fea9bULL;

static __u32 rnd(__u32 bound)
{
	rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
	return (__u32)((rng_state >> 33) % bound);
}

/*
 * 1000 random changes (add, remove, weight change, several at once) each
 * built from the previous table: always balanced; a step that only removes
 * moves only the removed backends' slots; listing order never matters.
 */
static void test_churn(void **state)
{
	enum { POOL = 200, MAXN = 64, STEPS = 1000 };
	struct np_maglev_backend pool[POOL], cur[MAXN], rev[MAXN];
	__u32 *a = malloc(M * sizeof(*a)), *b = malloc(M * sizeof(*b)), *c = malloc(M * 4);
	bool in[POOL] = { false };
	size_t n = 0, total_moved = 0;
	double worst = 0;

	(void)state;
	assert_true(a && b && c);
	for (size_t i = 0; i < POOL; i++)
		mk_one(&pool[i], i, 1);
	for (; n < 20; n++) {
		cur[n] = pool[n * 7 % POOL];
		in[n * 7 % POOL] = true;
	}
	assert_int_equal(np_maglev_build(cur, n, M, a), 0);
	for (int st = 0; st < STEPS; st++) {
		__u32 op = rnd(10), ops = 1 + rnd(3), mv;
		bool only_removes = true;
		size_t moved = 0, foreign = 0;
		bool gone[POOL + 2] = { false };

		for (__u32 o = 0; o < ops; o++) {
			if ((op < 4 && n < MAXN) || n < 2) {
				size_t i = rnd(POOL);

				while (in[i])
					i = (i + 1) % POOL;
				in[i] = true;
				cur[n] = pool[i];
				cur[n].weight = rnd(4) ? 1 + rnd(10) : 1 + rnd(NP_WEIGHT_MAX);
				n++;
				only_removes = false;
			} else if (op < 7) {
				size_t j = rnd((__u32)n);

				gone[cur[j].id] = true;
				in[cur[j].id - 1] = false;
				cur[j] = cur[--n];
			} else {
				cur[rnd((__u32)n)].weight = 1 + rnd(op == 9 ? 1000 : 10);
				only_removes = false;
			}
			op = rnd(10);
		}
		assert_int_equal(np_maglev_update(cur, n, M, a, b, &mv), 0);
		{
			double d = check_balance(cur, n, b, M);

			if (d > worst)
				worst = d;
		}
		for (__u32 s = 0; s < M; s++) {
			if (a[s] != b[s]) {
				moved++;
				foreign += !gone[a[s]];
			}
		}
		assert_int_equal(mv, moved);
		if (only_removes)
			assert_int_equal(foreign, 0);
		total_moved += moved;
		if (st % 50 == 0) {
			for (size_t i = 0; i < n; i++)
				rev[i] = cur[n - 1 - i];
			assert_int_equal(np_maglev_update(rev, n, M, a, c, NULL), 0);
			assert_memory_equal(b, c, M * sizeof(*b));
		}
		memcpy(a, b, M * sizeof(*a));
	}
	printf("# churn: %d steps, largest |slots - exact share| %.3f, %.1f slots moved per "
	       "step on average\n",
	       STEPS, worst, (double)total_moved / STEPS);
	free(a);
	free(b);
	free(c);
}

static void test_deterministic(void **state)
{
	struct np_maglev_backend be[50], rev[50];
	__u32 *a = malloc(M * sizeof(*a)), *b = malloc(M * sizeof(*b));
	__u32 w[50], mv = 1;

	(void)state;
	assert_true(a && b);
	for (size_t i = 0; i < 50; i++)
		w[i] = (__u32)(i % 7 + 1);
	mk_backends(be, 50, w);
	for (size_t i = 0; i < 50; i++)
		rev[i] = be[49 - i];
	assert_int_equal(np_maglev_build(be, 50, M, a), 0);
	assert_int_equal(np_maglev_build(be, 50, M, b), 0);
	assert_memory_equal(a, b, M * sizeof(*a));
	/* the order the caller lists them in does not matter */
	assert_int_equal(np_maglev_build(rev, 50, M, b), 0);
	assert_memory_equal(a, b, M * sizeof(*a));
	/* an update with nothing changed changes nothing (in place too) */
	assert_int_equal(np_maglev_update(rev, 50, M, a, b, &mv), 0);
	assert_memory_equal(a, b, M * sizeof(*a));
	assert_int_equal(mv, 0);
	assert_int_equal(np_maglev_update(be, 50, M, b, b, &mv), 0);
	assert_memory_equal(a, b, M * sizeof(*a));
	/* a previous table with nothing usable: the from-scratch table */
	memset(b, 0, M * sizeof(*b));
	assert_int_equal(np_maglev_update(be, 50, M, b, b, &mv), 0);
	assert_memory_equal(a, b, M * sizeof(*a));
	assert_int_equal(mv, M);
	for (__u32 s = 0; s < M; s++)
		b[s] = 1000 + s % 7; /* ids of backends gone */
	assert_int_equal(np_maglev_update(be, 50, M, b, b, NULL), 0);
	assert_memory_equal(a, b, M * sizeof(*a));
	free(a);
	free(b);
}

/* A backend removed and added back (with a new id) gets about its share back. */
static void test_readd(void **state)
{
	struct np_maglev_backend be[10];
	__u32 *a = malloc(M * sizeof(*a)), *b = malloc(M * sizeof(*b)), mv;

	(void)state;
	assert_true(a && b);
	mk_backends(be, 10, NULL);
	assert_int_equal(np_maglev_build(be, 10, M, a), 0);
	assert_int_equal(np_maglev_update(be, 9, M, a, b, &mv), 0); /* id 10 goes */
	be[9].id = 11;
	assert_int_equal(np_maglev_update(be, 10, M, b, a, &mv), 0);
	check_balance(be, 10, a, M);
	printf("# remove one of 10 and add it back: %u slots moved back (share %.1f)\n", mv,
	       M / 10.0);
	assert_true(mv <= M / 10 + 1);
	/* the old id is just a free slot to the update, the same as any other */
	be[9].id = 10;
	assert_int_equal(np_maglev_update(be, 10, M, a, b, &mv), 0);
	assert_true(mv <= M / 10 + 1);
	check_balance(be, 10, b, M);
	free(a);
	free(b);
}

static void test_one_backend(void **state)
{
	struct np_maglev_backend be;
	__u32 table[251];

	(void)state;
	mk_backends(&be, 1, NULL);
	be.id = 77;
	memset(table, 0xff, sizeof(table));
	assert_int_equal(np_maglev_build(&be, 1, 251, table), 0);
	for (size_t s = 0; s < 251; s++)
		assert_int_equal(table[s], 77);
}

static void test_rejects(void **state)
{
	struct np_maglev_backend be[300];
	__u32 table[257], prev[257] = { 0 };

	(void)state;
	mk_backends(be, 300, NULL);
	/* more backends than slots (-E2BIG, as documented in maglev.h) */
	assert_int_equal(np_maglev_build(be, 252, 251, table), -E2BIG);
	assert_int_equal(np_maglev_update(be, 252, 251, prev, table, NULL), -E2BIG);
	assert_int_equal(np_maglev_build(be, 251, 251, table), 0);
	/* M not prime, none */
	assert_int_equal(np_maglev_build(be, 2, 256, table), -EINVAL);
	assert_int_equal(np_maglev_update(be, 2, 256, prev, table, NULL), -EINVAL);
	assert_int_equal(np_maglev_build(be, 2, 1, table), -EINVAL);
	assert_int_equal(np_maglev_build(be, 0, 251, table), -EINVAL);
	assert_int_equal(np_maglev_update(be, 0, 251, prev, table, NULL), -EINVAL);
	/* all weights 0, one weight 0, weight too large */
	for (size_t i = 0; i < 3; i++)
		be[i].weight = 0;
	assert_int_equal(np_maglev_build(be, 3, 251, table), -EINVAL);
	mk_backends(be, 3, NULL);
	be[1].weight = 0;
	assert_int_equal(np_maglev_build(be, 2, 251, table), -EINVAL);
	be[1].weight = NP_WEIGHT_MAX + 1;
	assert_int_equal(np_maglev_update(be, 2, 251, prev, table, NULL), -EINVAL);
	/* duplicate key, duplicate id, id 0 */
	be[1] = be[0];
	be[1].id = 2;
	assert_int_equal(np_maglev_build(be, 2, 251, table), -EINVAL);
	mk_backends(be, 3, NULL);
	be[2].id = 1;
	assert_int_equal(np_maglev_build(be, 3, 251, table), -EINVAL);
	be[2].id = 0;
	assert_int_equal(np_maglev_update(be, 3, 251, prev, table, NULL), -EINVAL);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/*
 * Not a timing assertion: how long builds take (from scratch; an update
 * removing one backend; an update adding one), M in {16381, 131071}, 10,
 * 100 and 1000 backends, equal and skewed weights (one of 65535, the rest
 * 1..13).
 */
static void test_timing(void **state)
{
	static const __u32 ms[] = { NP_MAGLEV_DEFAULT, NP_MAGLEV_MAX };
	static const size_t ns[] = { 10, 100, 1000 };
	struct np_maglev_backend *be = calloc(NMAX + 1, sizeof(*be));
	__u32 *a = malloc(NP_MAGLEV_MAX * sizeof(*a)), *b = malloc(NP_MAGLEV_MAX * sizeof(*b));
	__u32 w[NMAX + 1];

	(void)state;
	assert_true(be && a && b);
	for (size_t mi = 0; mi < 2; mi++) {
		for (size_t ni = 0; ni < 3; ni++) {
			for (int skew = 0; skew < 2; skew++) {
				size_t n = ns[ni];
				double t0, t_build, t_del, t_add, t_w;

				for (size_t i = 0; i <= n; i++)
					w[i] = !skew ? 1 : i ? (__u32)(i % 13 + 1) : NP_WEIGHT_MAX;
				mk_backends(be, n + 1, w);
				t0 = now_ms();
				assert_int_equal(np_maglev_build(be, n, ms[mi], a), 0);
				t_build = now_ms() - t0;
				t0 = now_ms();
				assert_int_equal(
					np_maglev_update(be + 1, n - 1, ms[mi], a, b, NULL), 0);
				t_del = now_ms() - t0;
				t0 = now_ms();
				assert_int_equal(np_maglev_update(be, n + 1, ms[mi], a, b, NULL),
						 0);
				t_add = now_ms() - t0;
				be[n].weight = 100 * be[n].weight > NP_WEIGHT_MAX
						       ? NP_WEIGHT_MAX
						       : 100 * be[n].weight;
				t0 = now_ms();
				assert_int_equal(np_maglev_update(be, n + 1, ms[mi], b, a, NULL),
						 0);
				t_w = now_ms() - t0;
				printf("# M=%u, %zu backends, %s weights: build %.2f ms, "
				       "remove one %.2f ms, add one %.2f ms, its weight x100 "
				       "%.2f ms\n",
				       ms[mi], n, skew ? "skewed" : "equal", t_build, t_del, t_add,
				       t_w);
			}
		}
	}
	free(be);
	free(a);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prime),	      cmocka_unit_test(test_weights),
		cmocka_unit_test(test_equal),	      cmocka_unit_test(test_classic_unchanged),
		cmocka_unit_test(test_remove),	      cmocka_unit_test(test_add),
		cmocka_unit_test(test_weight_change), cmocka_unit_test(test_churn),
		cmocka_unit_test(test_deterministic), cmocka_unit_test(test_readd),
		cmocka_unit_test(test_one_backend),   cmocka_unit_test(test_rejects),
		cmocka_unit_test(test_timing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
