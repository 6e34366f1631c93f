// SPDX-License-Identifier: GPL-2.0
/*
 * np_ctlbench: latency of the AF_XDP agent's control loop (control/agent.c).
 *
 *   np_ctlbench --node NAME [--count K] [--conns C] [--idle SECS] [--json]
 *
 * Connects to NP_AGENT_RUN_DIR/<node>.sock (NAME: the node's name, "host"
 * or the netns), then:
 *  1. idle: reads the agent's loop iteration counter (`stats`), sleeps SECS,
 *     reads it again: the loop's wakeups per second with nothing to do;
 *  2. for `ping` and then `stats`: C connections (one thread each) send K/C
 *     requests each, one at a time (send, wait for the answer line), and
 *     every round trip is timed; prints p50, p99 and max in microseconds,
 *     requests per second, and the agent's wakeups per second (and requests
 *     per wakeup) over the run from the iteration counter.
 * Bounded: K <= 10^6, C <= 16, SECS <= 60. Run the agent with --loop uring and
 * --loop poll (the same workers) to compare the two loops.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "agent.h"

#define MAX_CONNS 16

struct thr {
	pthread_t t;
	const char *path;
	const char *req;
	unsigned int count;
	double *lat_us; /* count entries */
	int err;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int conn_open(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/* Send req + '\n', read one answer line into buf. 0 or -errno. */
static int roundtrip(int fd, const char *req, char *buf, size_t len)
{
	size_t rl = strlen(req), got = 0;
	char line[NP_AGENT_REQ_MAX];
	ssize_t n;

	snprintf(line, sizeof(line), "%s\n", req);
	if (send(fd, line, rl + 1, MSG_NOSIGNAL) != (ssize_t)(rl + 1))
		return -errno;
	for (;;) {
		if (got + 1 >= len)
			return -EMSGSIZE;
		n = recv(fd, buf + got, len - got - 1, 0);
		if (n <= 0)
			return n ? -errno : -ECONNRESET;
		got += (size_t)n;
		if (buf[got - 1] == '\n') {
			buf[got - 1] = '\0';
			return 0;
		}
	}
}

static int iterations(const char *path, unsigned long long *out)
{
	static char buf[1 << 16];
	const char *p;
	int fd, ret;

	fd = conn_open(path);
	if (fd < 0)
		return fd;
	ret = roundtrip(fd, "stats", buf, sizeof(buf));
	close(fd);
	if (ret)
		return ret;
	p = strstr(buf, "\"iterations\":");
	if (!p)
		return -EBADMSG;
	*out = strtoull(p + strlen("\"iterations\":"), NULL, 10);
	return 0;
}

static void *thr_main(void *arg)
{
	struct thr *t = arg;
	static __thread char buf[1 << 16];
	int fd = conn_open(t->path);

	if (fd < 0) {
		t->err = fd;
		return NULL;
	}
	for (unsigned int i = 0; i < t->count; i++) {
		double t0 = now_s();

		t->err = roundtrip(fd, t->req, buf, sizeof(buf));
		if (t->err)
			break;
		t->lat_us[i] = (now_s() - t0) * 1e6;
	}
	close(fd);
	return NULL;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

struct result {
	double p50, p99, max, rps, wps, per_wakeup;
};

static int run(const char *path, const char *req, unsigned int count, unsigned int conns,
	       struct result *r)
{
	struct thr th[MAX_CONNS] = { 0 };
	unsigned long long i0, i1;
	double *lat, t0, el;
	unsigned int per = count / conns, total = per * conns;
	int ret;

	lat = calloc(total, sizeof(*lat));
	if (!lat)
		return -ENOMEM;
	ret = iterations(path, &i0);
	if (ret)
		goto out;
	t0 = now_s();
	for (unsigned int c = 0; c < conns; c++) {
		th[c] = (struct thr){
			.path = path, .req = req, .count = per, .lat_us = lat + c * per
		};
		if (pthread_create(&th[c].t, NULL, thr_main, &th[c])) {
			ret = -EAGAIN;
			conns = c;
			break;
		}
	}
	for (unsigned int c = 0; c < conns; c++) {
		pthread_join(th[c].t, NULL);
		if (th[c].err && !ret)
			ret = th[c].err;
	}
	el = now_s() - t0;
	if (ret)
		goto out;
	ret = iterations(path, &i1);
	if (ret)
		goto out;
	qsort(lat, total, sizeof(*lat), cmp_d);
	r->p50 = lat[total / 2];
	r->p99 = lat[(size_t)((double)total * 0.99)];
	r->max = lat[total - 1];
	r->rps = total / el;
	/* minus the wakeup of the closing `stats` read */
	r->wps = (double)(i1 - i0) / el;
	r->per_wakeup = i1 > i0 ? (double)total / (double)(i1 - i0) : 0;
out:
	free(lat);
	return ret;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: np_ctlbench --node NAME [--count K] [--conns C] [--idle SECS] [--json]\n"
		"  --node NAME   the agent's node: its netns name, or \"host\"\n"
		"  --count K     requests per kind (ping, stats), default 20000, <= 1000000\n"
		"  --conns C     concurrent connections, default 1, <= %d\n"
		"  --idle SECS   idle period to count wakeups, default 3, <= 60\n",
		MAX_CONNS);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "node", required_argument, NULL, 'n' },
		{ "count", required_argument, NULL, 'k' },
		{ "conns", required_argument, NULL, 'c' },
		{ "idle", required_argument, NULL, 'i' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	static const char *const kinds[] = { "ping", "stats" };
	unsigned int count = 20000, conns = 1, idle = 3;
	unsigned long long i0, i1;
	const char *node = NULL;
	struct result r[2];
	char path[108];
	bool json = false;
	double idle_wps;
	int c, ret;

	while ((c = getopt_long(argc, argv, "n:k:c:i:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			node = optarg;
			break;
		case 'k':
			count = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		case 'c':
			conns = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		case 'i':
			idle = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!node || !count || count > 1000000 || !conns || conns > MAX_CONNS || count < conns ||
	    idle > 60) {
		usage(stderr);
		return 2;
	}
	if (np_agent_sock_path(node, path, sizeof(path))) {
		fprintf(stderr, "np_ctlbench: node name too long\n");
		return 2;
	}
	ret = iterations(path, &i0);
	if (ret) {
		fprintf(stderr, "np_ctlbench: agent at %s: %s\n", path, strerror(-ret));
		return 1;
	}
	sleep(idle);
	ret = iterations(path, &i1);
	if (ret) {
		fprintf(stderr, "np_ctlbench: agent at %s: %s\n", path, strerror(-ret));
		return 1;
	}
	idle_wps = idle ? (double)(i1 - i0 - 1) / idle : 0;
	for (int k = 0; k < 2; k++) {
		ret = run(path, kinds[k], count, conns, &r[k]);
		if (ret) {
			fprintf(stderr, "np_ctlbench: %s: %s\n", kinds[k], strerror(-ret));
			return 1;
		}
	}
	if (json) {
		printf("{\"node\":\"%s\",\"count\":%u,\"conns\":%u,\"idle_wakeups_per_s\":%.2f",
		       node, count, conns, idle_wps);
		for (int k = 0; k < 2; k++)
			printf(",\"%s\":{\"p50_us\":%.1f,\"p99_us\":%.1f,\"max_us\":%.1f,"
			       "\"req_per_s\":%.0f,\"wakeups_per_s\":%.0f,\"req_per_wakeup\":%.2f}",
			       kinds[k], r[k].p50, r[k].p99, r[k].max, r[k].rps, r[k].wps,
			       r[k].per_wakeup);
		printf("}\n");
		return 0;
	}
	printf("agent %s: idle %.2f wakeups/s (over %u s)\n", node, idle_wps, idle);
	for (int k = 0; k < 2; k++)
		printf("%-5s x%u over %u conn%s: p50 %.1f us, p99 %.1f us, max %.1f us, %.0f "
		       "req/s, "
		       "%.0f wakeups/s, %.2f req/wakeup\n",
		       kinds[k], count, conns, conns == 1 ? "" : "s", r[k].p50, r[k].p99, r[k].max,
		       r[k].rps, r[k].wps, r[k].per_wakeup);
	return 0;
}
