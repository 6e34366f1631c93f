// SPDX-License-Identifier: GPL-2.0
/* nodepath agent: the AF_XDP pool's agent, and its status/stop client verbs. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "agent.h"
#include "agent_client.h"
#include "cli.h"
#include "log.h"
#include "node.h"

static void agent_usage(FILE *f)
{
	fprintf(f,
		"usage: nodepath [--node NS] agent [--workers N] [--queues LIST] [--busy-poll]\n"
		"                  [--frame-size 2048|4096] [--ring-size N] [--loop uring|poll] "
		"[--copy]\n"
		"       nodepath [--node NS] agent status [--json]\n"
		"       nodepath [--node NS] agent stop\n\n"
		"Runs the AF_XDP worker pool of the node in the foreground: one worker process "
		"per\n"
		"uplink rx queue (pinned to CPU queue %% ncpus), restarted when it dies, and a "
		"control\n"
		"socket %s/<node>.sock. SIGTERM, SIGINT or `agent stop` drain the workers\n"
		"(services marked --afxdp go back to the kernel path) and stop them.\n\n"
		"  --workers N        the first N queues (default: all rx queues of the uplink)\n"
		"  --queues LIST      these rx queues, e.g. 0,1 or 0-3\n"
		"  --busy-poll        busy-poll the rx sockets (SO_PREFER_BUSY_POLL)\n"
		"  --frame-size N     UMEM frame size: 2048 (default) or 4096\n"
		"  --ring-size N      ring entries, a power of two in 64..%d (default %d)\n"
		"  --loop uring|poll  control loop on io_uring (default) or poll()\n"
		"  --copy             copy mode only (skip the zero-copy attempt)\n\n"
		"status: dropped = frames the worker dropped (by reason in --json), kern_drop =\n"
		"frames the kernel dropped before the worker saw them (rx ring full, no fill "
		"frame).\n",
		NP_AGENT_RUN_DIR, NP_XSK_RING_MAX, NP_XSK_RING_DEFAULT);
}

/* A decimal number (no sign, no junk). 0 or -EINVAL. */
static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	if (!*s || *s == '-' || *s == '+' || *s == ' ')
		return -EINVAL;
	errno = 0;
	*out = strtoul(s, &end, 10);
	if (errno || *end || *out > max)
		return -EINVAL;
	return 0;
}

static void status_text(struct json_object *o)
{
	struct json_object *ws, *v;
	size_t n;

#define S(obj, k) (json_object_object_get_ex((obj), (k), &v) ? json_object_get_string(v) : "?")
#define U(obj, k)                                                                                  \
	(json_object_object_get_ex((obj), (k), &v) ? (unsigned long long)json_object_get_uint64(v) \
						   : 0ULL)
	printf("agent of node %s: pid %s, %s, loop %s, uplink %s, frame %s, ring %s\n",
	       S(o, "node"), S(o, "pid"), S(o, "phase"), S(o, "loop"), S(o, "uplink"),
	       S(o, "frame_size"), S(o, "ring_size"));
	printf("control loop: %llu wakeups, %s per second lately; %llu requests\n",
	       U(o, "iterations"), S(o, "wakeups_per_s"), U(o, "requests"));
	if (!json_object_object_get_ex(o, "workers", &ws))
		return;
	n = json_object_array_length(ws);
	printf("%-5s %-8s %-4s %-9s %-5s %8s %12s %12s %10s %10s %8s %8s %10s\n", "queue", "pid",
	       "cpu", "state", "mode", "restarts", "rx", "tx", "fill_empty", "tx_full", "invalid",
	       "dropped", "kern_drop");
	for (size_t i = 0; i < n; i++) {
		struct json_object *w = json_object_array_get_idx(ws, i), *d;
		unsigned long long drops = 0;

		if (json_object_object_get_ex(w, "drops", &d)) {
			json_object_object_foreach(d, key, val)
			{
				(void)key;
				drops += json_object_get_uint64(val);
			}
		}
		printf("%-5s %-8s %-4s %-9s %-5s %8llu %12llu %12llu %10llu %10llu %8llu %8llu "
		       "%10llu\n",
		       S(w, "queue"), S(w, "pid"), S(w, "cpu"), S(w, "state"),
		       json_object_object_get_ex(w, "zerocopy", &v) && json_object_get_boolean(v)
			       ? "zc"
			       : "copy",
		       U(w, "restarts"), U(w, "rx"), U(w, "tx"), U(w, "fill_empty"),
		       U(w, "tx_ring_full"), U(w, "invalid_desc"), drops,
		       U(w, "rx_ring_full") + U(w, "rx_dropped"));
	}
#undef S
#undef U
}

static void status_usage(FILE *f)
{
	fprintf(f, "usage: nodepath [--node NS] agent status [--json]\n\n"
		   "Asks the node's running agent for its workers and counters.\n");
}

static int cmd_status(struct np_cli *cli, int argc, char **argv)
{
	struct json_object *o;
	struct np_node n;
	bool json = false;
	int ret;

	ret = np_cli_json_opts("agent status", argc, argv, status_usage, &json);
	if (ret != NP_GO_ON)
		return ret;
	if (np_node_open(cli->node, 0, &n))
		return NP_EXIT_FAIL;
	np_node_close(&n);
	ret = np_agent_request_json(n.name, "stats", 5000, &o);
	if (ret == -ENOENT || ret == -ECONNREFUSED)
		return np_fail("agent status", "no agent runs for node %s", n.name);
	if (ret)
		return NP_EXIT_FAIL;
	/* "ok" belongs to the socket protocol, not to the status (README: field names). */
	json_object_object_del(o, "ok");
	if (json)
		printf("%s\n", json_object_to_json_string_ext(
				       o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	else
		status_text(o);
	json_object_put(o);
	return NP_EXIT_OK;
}

static void stop_usage(FILE *f)
{
	fprintf(f, "usage: nodepath [--node NS] agent stop\n\n"
		   "Asks the node's agent to drain its workers, stop them and exit.\n");
}

static int cmd_stop(struct np_cli *cli, int argc, char **argv)
{
	struct json_object *o, *ok;
	struct np_node n;
	bool json = false;
	int ret;

	ret = np_cli_json_opts("agent stop", argc, argv, stop_usage, &json);
	if (ret != NP_GO_ON)
		return ret;
	if (np_node_open(cli->node, 0, &n))
		return NP_EXIT_FAIL;
	np_node_close(&n);
	ret = np_agent_request_json(n.name, "stop", 5000, &o);
	if (ret == -ENOENT || ret == -ECONNREFUSED)
		return np_fail("agent stop", "no agent runs for node %s", n.name);
	if (ret)
		return NP_EXIT_FAIL;
	ret = json_object_object_get_ex(o, "ok", &ok) && json_object_get_boolean(ok);
	json_object_put(o);
	if (!ret)
		return np_fail("agent stop", "the agent of node %s refused to stop", n.name);
	printf("agent of node %s: stopping (draining its workers)\n", n.name);
	return NP_EXIT_OK;
}

static int cmd_run(struct np_cli *cli, int argc, char **argv)
{
	enum { O_WORKERS = 256, O_QUEUES, O_BUSY, O_FRAME, O_RING, O_LOOP, O_COPY };
	static const struct option opts[] = {
		{ "workers", required_argument, NULL, O_WORKERS },
		{ "queues", required_argument, NULL, O_QUEUES },
		{ "busy-poll", no_argument, NULL, O_BUSY },
		{ "frame-size", required_argument, NULL, O_FRAME },
		{ "ring-size", required_argument, NULL, O_RING },
		{ "loop", required_argument, NULL, O_LOOP },
		{ "copy", no_argument, NULL, O_COPY },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct np_agent_opts o = {
		.frame_size = NP_XSK_FRAME_SIZE_MIN,
		.ring_size = NP_XSK_RING_DEFAULT,
		.loop = NP_AGENT_LOOP_URING,
	};
	const char *test_worker = getenv(NP_AGENT_TEST_WORKER_ENV);
	np_agent_worker_fn fn = NULL;
	unsigned long v;
	struct np_node n;
	int c, ret;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case O_WORKERS:
			if (parse_uint(optarg, NP_XSK_MAX_QUEUES, &v) || !v)
				return np_usage_err("agent",
						    "--workers \"%s\": give a number of workers "
						    "1..%d; nothing was changed",
						    optarg, NP_XSK_MAX_QUEUES);
			o.workers = (unsigned int)v;
			break;
		case O_QUEUES:
			o.queues = optarg;
			break;
		case O_BUSY:
			o.busy_poll = true;
			break;
		case O_FRAME:
			if (parse_uint(optarg, UINT32_MAX, &v) || np_xsk_frame_size_ok((__u32)v))
				return np_usage_err("agent",
						    "--frame-size \"%s\": allowed are 2048 and "
						    "4096; nothing was changed",
						    optarg);
			o.frame_size = (__u32)v;
			break;
		case O_RING:
			if (parse_uint(optarg, UINT32_MAX, &v) || np_xsk_ring_size_ok((__u32)v))
				return np_usage_err("agent",
						    "--ring-size \"%s\": give a power of two "
						    "64..%d (e.g. %d); nothing was changed",
						    optarg, NP_XSK_RING_MAX, NP_XSK_RING_DEFAULT);
			o.ring_size = (__u32)v;
			break;
		case O_LOOP:
			if (np_agent_parse_loop(optarg, &o.loop))
				return np_usage_err("agent",
						    "--loop \"%s\": allowed are uring and poll",
						    optarg);
			break;
		case O_COPY:
			o.force_copy = true;
			break;
		case 'h':
			agent_usage(stdout);
			return NP_EXIT_OK;
		case ':':
			return np_usage_err("agent", "option \"%s\" needs a value",
					    argv[optind - 1]);
		default:
			return np_usage_err("agent", "unknown option \"%s\"", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return np_usage_err("agent", "unexpected argument \"%s\" (verbs: status, stop)",
				    argv[optind]);
	if (o.workers && o.queues)
		return np_usage_err("agent", "give --workers or --queues, not both");
	if (test_worker) {
		/* Tests only (agent.h): workers that move no frames. */
		if (strcmp(test_worker, "fake") && strcmp(test_worker, "fail"))
			return np_usage_err("agent",
					    "%s=\"%s\": allowed are fake and fail (tests only)",
					    NP_AGENT_TEST_WORKER_ENV, test_worker);
		np_warn("agent: %s=%s: TEST-ONLY workers that move no frames",
			NP_AGENT_TEST_WORKER_ENV, test_worker);
		fn = np_agent_fake_worker;
	}
	if (np_node_open(cli->node, 0, &n))
		return NP_EXIT_FAIL;
	ret = np_agent_run(&n, &o, fn);
	np_node_close(&n);
	return ret ? NP_EXIT_FAIL : NP_EXIT_OK;
}

int np_cmd_agent(struct np_cli *cli, int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "status"))
		return cmd_status(cli, argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "stop"))
		return cmd_stop(cli, argc - 1, argv + 1);
	return cmd_run(cli, argc, argv);
}
