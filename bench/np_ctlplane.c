// SPDX-License-Identifier: GPL-2.0
/*
 * np_ctlplane: control-plane timings for bench/scenarios/control.sh, through
 * the library API (control/service.h) in one process, as an agent would
 * program a node: no CLI process per service.
 *
 *   np_ctlplane services --node NS --count N --backends B [--updates K] [--single]
 *       adds N ClusterIP services (svc-<i>, VIP 198.18.100.(i % 250 + 1) port
 *       1024 + i / 250, TCP, B backends 198.19.(i % 200).(j + 1):8080 each,
 *       Maglev) with one np_svc_add_many() call (--single: np_svc_add() per
 *       service) and prints "program_ms T" (specs built, checked and written);
 *       then K single updates (a backend
 *       added to, or the one added before removed from, a random service;
 *       alternating) and prints "update_p50_ms", "update_p99_ms",
 *       "update_max_ms" (each update timed alone; NP_CTL_TRACE=1 in the
 *       environment prints each one on stderr).
 *   np_ctlplane maglev --m M --backends B [--reps R]
 *       builds a weighted Maglev table of M slots for B backends R times and
 *       prints "maglev_ms" (median of the builds).
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>

#include "log.h"
#include "maglev.h"
#include "node.h"
#include "service.h"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The value at quantile q (nearest rank) of v[0..n-1], sorted in place. */
static double quantile(double *v, size_t n, double q)
{
	size_t k;

	qsort(v, n, sizeof(*v), cmp_double);
	k = (size_t)(q * n + 0.999999);
	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return v[k - 1];
}

static __u64 rnd_state = 0x9e3779b97f4a7c15ULL;
static __u32 rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return (__u32)(rnd_state >> 16);
}

static int mk_spec(struct np_svc_spec *s, unsigned int i, unsigned int nb)
{
	char vip[64], be[64], err[256];
	__u8 proto;

	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "svc-%u", i);
	snprintf(vip, sizeof(vip), "198.18.100.%u:%u/tcp", i % 250 + 1, 1024 + i / 250);
	if (np_svc_parse_vip(vip, &s->vip, &proto, err, sizeof(err)))
		goto bad;
	s->proto = proto;
	s->type = NP_SVC_T_CLUSTERIP;
	s->algo = NP_ALGO_MAGLEV;
	s->be = calloc(nb, sizeof(*s->be));
	if (!s->be)
		return -ENOMEM;
	for (unsigned int j = 0; j < nb; j++) {
		snprintf(be, sizeof(be), "198.19.%u.%u:8080", i % 200, j + 1);
		if (np_svc_parse_backend(be, &s->be[j], err, sizeof(err)))
			goto bad;
	}
	s->n_be = nb;
	if (np_svc_check_spec(s, NP_MAGLEV_MAX, err, sizeof(err)))
		goto bad;
	return 0;
bad:
	fprintf(stderr, "np_ctlplane: service %u: %s\n", i, err);
	return -EINVAL;
}

static int add_single(struct np_node *n, unsigned int count, unsigned int nb)
{
	struct np_svc_spec s;
	int ret;

	for (unsigned int i = 0; i < count; i++) {
		ret = mk_spec(&s, i, nb);
		if (!ret)
			ret = np_svc_add(n, &s);
		np_svc_spec_free(&s);
		if (ret) {
			fprintf(stderr, "np_ctlplane: adding service %u of %u failed: %s\n", i + 1,
				count, strerror(-ret));
			return ret;
		}
	}
	return 0;
}

static int add_many(struct np_node *n, unsigned int count, unsigned int nb)
{
	struct np_svc_spec *v = calloc(count, sizeof(*v));
	unsigned int made = 0;
	int ret = -ENOMEM;

	if (!v)
		return ret;
	for (; made < count; made++) {
		ret = mk_spec(&v[made], made, nb);
		if (ret)
			goto out;
	}
	ret = np_svc_add_many(n, v, count);
	if (ret)
		fprintf(stderr, "np_ctlplane: adding %u services failed: %s\n", count,
			strerror(-ret));
out:
	for (unsigned int i = 0; i < made; i++)
		np_svc_spec_free(&v[i]);
	free(v);
	return ret;
}

static int cmd_services(const char *ns, unsigned int count, unsigned int nb, unsigned int updates,
			bool single)
{
	struct np_node n;
	double t0, *lat = NULL;
	unsigned int *added = NULL;
	int ret;

	ret = np_node_open(ns, NP_NODE_LOCK, &n);
	if (ret)
		return ret;
	t0 = now_ms();
	ret = single ? add_single(&n, count, nb) : add_many(&n, count, nb);
	if (ret)
		goto out;
	printf("program_ms %.3f\n", now_ms() - t0);
	fflush(stdout);
	if (!updates)
		goto out;
	lat = calloc(updates, sizeof(*lat));
	added = calloc(updates, sizeof(*added));
	if (!lat || !added) {
		ret = -ENOMEM;
		goto out;
	}
	for (unsigned int k = 0; k < updates; k++) {
		struct np_svc_backend b = { 0 };
		char a[64], err[256], name[32];
		unsigned int i;

		/* even k: add backend nb + 1 to a random service; odd k: remove it again */
		i = k % 2 ? added[k - 1] : rnd() % count;
		added[k] = i;
		snprintf(name, sizeof(name), "svc-%u", i);
		snprintf(a, sizeof(a), "198.19.%u.%u:8080", i % 200, nb + 1);
		if (np_svc_parse_backend(a, &b, err, sizeof(err))) {
			fprintf(stderr, "np_ctlplane: %s\n", err);
			ret = -EINVAL;
			goto out;
		}
		t0 = now_ms();
		ret = k % 2 ? np_backend_del(&n, name, &b.a) : np_backend_add(&n, name, &b);
		lat[k] = now_ms() - t0;
		if (getenv("NP_CTL_TRACE"))
			fprintf(stderr, "update %u %s %s %.4f ms\n", k + 1, k % 2 ? "del" : "add",
				name, lat[k]);
		if (ret) {
			fprintf(stderr, "np_ctlplane: update %u (%s %s %s) failed: %s\n", k + 1,
				k % 2 ? "del" : "add", name, a, strerror(-ret));
			goto out;
		}
	}
	printf("update_p50_ms %.4f\n", quantile(lat, updates, 0.50));
	printf("update_p99_ms %.4f\n", quantile(lat, updates, 0.99));
	printf("update_max_ms %.4f\n", lat[updates - 1]);
out:
	free(lat);
	free(added);
	np_node_close(&n);
	return ret;
}

static int cmd_maglev(unsigned int m, unsigned int nb, unsigned int reps)
{
	struct np_maglev_backend *be = calloc(nb, sizeof(*be));
	__u32 *table = calloc(m, sizeof(*table));
	double *t = calloc(reps, sizeof(*t));
	int ret = -ENOMEM;

	if (!be || !table || !t)
		goto out;
	for (unsigned int j = 0; j < nb; j++) {
		be[j].id = j + 1;
		be[j].weight = 1;
		be[j].family = NP_AF_INET;
		be[j].port = htons(8080);
		be[j].addr[0] = 198;
		be[j].addr[1] = 19;
		be[j].addr[2] = j / 250;
		be[j].addr[3] = j % 250 + 1;
	}
	for (unsigned int r = 0; r < reps; r++) {
		double t0 = now_ms();

		ret = np_maglev_build(be, nb, m, table);
		t[r] = now_ms() - t0;
		if (ret) {
			fprintf(stderr, "np_ctlplane: maglev build (M=%u, %u backends): %s\n", m,
				nb, strerror(-ret));
			goto out;
		}
	}
	printf("maglev_ms %.4f\n", quantile(t, reps, 0.5));
out:
	free(be);
	free(table);
	free(t);
	return ret;
}

static int num(const char *opt, const char *s, unsigned long lo, unsigned long hi,
	       unsigned int *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || s[0] < '0' || s[0] > '9' || v < lo || v > hi) {
		fprintf(stderr, "np_ctlplane: %s \"%s\": expected %lu..%lu\n", opt, s, lo, hi);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "node", required_argument, NULL, 'n' },
		{ "count", required_argument, NULL, 'c' },
		{ "backends", required_argument, NULL, 'b' },
		{ "updates", required_argument, NULL, 'u' },
		{ "m", required_argument, NULL, 'm' },
		{ "reps", required_argument, NULL, 'r' },
		{ "single", no_argument, NULL, 's' },
		{ 0 },
	};
	unsigned int count = 0, nb = 10, updates = 0, m = NP_MAGLEV_DEFAULT, reps = 20;
	const char *node = NULL;
	bool single = false;
	int c;

	if (argc < 2 || (strcmp(argv[1], "services") && strcmp(argv[1], "maglev"))) {
		fprintf(stderr, "usage: np_ctlplane services --node NS --count N --backends B "
				"[--updates K] [--single]\n"
				"       np_ctlplane maglev [--m M] --backends B [--reps R]\n");
		return 2;
	}
	optind = 2;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			node = optarg;
			break;
		case 'c':
			if (num("--count", optarg, 1, NP_SVC_MAX - 1, &count))
				return 2;
			break;
		case 'b':
			if (num("--backends", optarg, 1, NP_MAGLEV_MAX, &nb))
				return 2;
			break;
		case 'u':
			if (num("--updates", optarg, 0, 1000000, &updates))
				return 2;
			break;
		case 'm':
			if (num("--m", optarg, NP_MAGLEV_MIN, NP_MAGLEV_MAX, &m))
				return 2;
			break;
		case 's':
			single = true;
			break;
		case 'r':
			if (num("--reps", optarg, 1, 100000, &reps))
				return 2;
			break;
		default:
			return 2;
		}
	}
	if (!strcmp(argv[1], "maglev"))
		return cmd_maglev(m, nb, reps) ? 1 : 0;
	if (!node || !count) {
		fprintf(stderr, "np_ctlplane: services needs --node NS and --count N\n");
		return 2;
	}
	return cmd_services(node, count, nb, updates, single) ? 1 : 0;
}
