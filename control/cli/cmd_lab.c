// SPDX-License-Identifier: GPL-2.0
/* nodepath lab up|down|status: a whole node in network namespaces. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "input.h"
#include "lab.h"

enum { OPT_NAME = 256, OPT_NODES, OPT_PODS, OPT_CLIENTS, OPT_JSON, OPT_POD_DEV, OPT_QUEUES };

static void usage(FILE *f)
{
	fprintf(f,
		"usage: nodepath lab up [--name N] [--nodes N] [--pods N] [--clients N]\n"
		"                       [--pod-dev auto|veth|netkit|none] [--queues N]\n"
		"       nodepath lab down [--name N]\n"
		"       nodepath lab status [--name N] [--json]\n\n"
		"A fabric bridge, clients, nodes and pods, each in its own network namespace\n"
		"(<name>-fabric, <name>-client<i>, <name>-node<N>, <name>-node<N>-pod<k>).\n"
		"The machine's own interfaces, routes and sysctls are never touched.\n\n"
		"  --name N      lab name, 1..%d characters of [a-z0-9] (default \"%s\")\n"
		"  --nodes N     nodes, 1..%d (default 2)\n"
		"  --pods N      pods per node, 1..%d (default 2)\n"
		"  --clients N   clients, 1..%d (default 1)\n"
		"  --pod-dev D   pods as endpoints of the datapath: auto (default: netkit\n"
		"                when the kernel has it, else veth), veth or netkit; each\n"
		"                node runs `nodepath up` on its uplink (XDP native, its pod\n"
		"                range). none: plain veth pods routed by the nodes' stack\n"
		"  --queues N    rx/tx queues of each node's uplink veth pair, 1..%d (default\n"
		"                1): one AF_XDP worker per queue (`nodepath agent`)\n"
		"  --json        status as JSON\n"
		"  -h, --help    this help\n",
		NP_LAB_NAME_MAX, NP_LAB_DEFAULT_NAME, NP_LAB_MAX_NODES, NP_LAB_MAX_PODS,
		NP_LAB_MAX_CLIENTS, NP_LAB_MAX_QUEUES);
}

static int parse_count(const char *cmd, const char *opt, const char *arg, unsigned int max,
		       unsigned int *out)
{
	char err[160];
	uint32_t v;

	if (np_parse_u32(opt, arg, 1, max, &v, err, sizeof(err)))
		return np_usage_err(cmd, "%s", err);
	*out = v;
	return 0;
}

/* Options of every verb; each verb says which ones it takes. */
struct lab_args {
	struct np_lab_opts o;
	bool json;
};

static int parse(const char *cmd, int argc, char **argv, unsigned int allowed, struct lab_args *a)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, OPT_NAME },
		{ "nodes", required_argument, NULL, OPT_NODES },
		{ "pods", required_argument, NULL, OPT_PODS },
		{ "clients", required_argument, NULL, OPT_CLIENTS },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "pod-dev", required_argument, NULL, OPT_POD_DEV },
		{ "queues", required_argument, NULL, OPT_QUEUES },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c, ret = 0;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (c >= OPT_NAME && !(allowed & (1u << (c - OPT_NAME))))
			return np_usage_err(cmd, "option \"--%s\" does not apply here",
					    opts[c - OPT_NAME].name);
		switch (c) {
		case OPT_NAME:
			if (!np_lab_name_ok(optarg))
				return np_usage_err(
					cmd,
					"--name \"%s\": a lab name is 1..%d characters of [a-z0-9]",
					optarg, NP_LAB_NAME_MAX);
			a->o.name = optarg;
			break;
		case OPT_NODES:
			ret = parse_count(cmd, "--nodes", optarg, NP_LAB_MAX_NODES, &a->o.nodes);
			break;
		case OPT_PODS:
			ret = parse_count(cmd, "--pods", optarg, NP_LAB_MAX_PODS, &a->o.pods);
			break;
		case OPT_CLIENTS:
			ret = parse_count(cmd, "--clients", optarg, NP_LAB_MAX_CLIENTS,
					  &a->o.clients);
			break;
		case OPT_JSON:
			a->json = true;
			break;
		case OPT_POD_DEV:
			if (np_lab_parse_pod_dev(optarg, &a->o.pod_dev))
				return np_usage_err(
					cmd, "--pod-dev \"%s\": allowed: auto, veth, netkit, none",
					optarg);
			break;
		case OPT_QUEUES:
			ret = parse_count(cmd, "--queues", optarg, NP_LAB_MAX_QUEUES, &a->o.queues);
			break;
		case 'h':
			usage(stdout);
			return -1;
		case ':':
			return np_usage_err(cmd, "option \"%s\" needs a value", argv[optind - 1]);
		default:
			if (optopt)
				return np_usage_err(cmd, "unknown option \"-%c\"", optopt);
			return np_usage_err(cmd, "unknown option \"%s\"", argv[optind - 1]);
		}
		if (ret)
			return ret;
	}
	if (optind < argc)
		return np_usage_err(cmd, "unexpected argument \"%s\"", argv[optind]);
	return 0;
}

#define A_NAME (1u << (OPT_NAME - OPT_NAME))
#define A_SHAPE                                                           \
	((1u << (OPT_NODES - OPT_NAME)) | (1u << (OPT_PODS - OPT_NAME)) | \
	 (1u << (OPT_CLIENTS - OPT_NAME)))
#define A_JSON (1u << (OPT_JSON - OPT_NAME))
#define A_POD_DEV (1u << (OPT_POD_DEV - OPT_NAME))
#define A_QUEUES (1u << (OPT_QUEUES - OPT_NAME))

static int root_check(const char *cmd)
{
	if (geteuid() != 0)
		return np_fail(cmd, "needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN to create network "
				    "namespaces)");
	return 0;
}

int np_cmd_lab(struct np_cli *cli, int argc, char **argv)
{
	struct lab_args a = {
		.o = { .name = NP_LAB_DEFAULT_NAME, .clients = 1, .nodes = 2, .pods = 2 }
	};
	const char *verb;
	int ret;

	if (argc < 2) {
		usage(stderr);
		return NP_EXIT_USAGE;
	}
	verb = argv[1];
	if (!strcmp(verb, "-h") || !strcmp(verb, "--help") || !strcmp(verb, "help")) {
		usage(stdout);
		return NP_EXIT_OK;
	}
	if (cli->node)
		return np_usage_err("lab", "--node does not apply to lab (use --name)");
	/* The verb's options follow it: parse argv[1..] with the verb as argv[0]. */
	argc--;
	argv++;
	optind = 0;

	if (!strcmp(verb, "up")) {
		ret = parse("lab up", argc, argv, A_NAME | A_SHAPE | A_POD_DEV | A_QUEUES, &a);
		if (ret)
			return ret < 0 ? NP_EXIT_OK : ret;
		if (root_check("lab up"))
			return NP_EXIT_FAIL;
		ret = np_lab_up(&a.o);
		if (ret == -EEXIST)
			return np_fail("lab up", "lab \"%s\" exists (nodepath lab down --name %s)",
				       a.o.name, a.o.name);
		return ret ? NP_EXIT_FAIL : NP_EXIT_OK;
	}
	if (!strcmp(verb, "down")) {
		ret = parse("lab down", argc, argv, A_NAME, &a);
		if (ret)
			return ret < 0 ? NP_EXIT_OK : ret;
		if (root_check("lab down"))
			return NP_EXIT_FAIL;
		ret = np_lab_down(a.o.name, false);
		if (ret == -ENOENT) {
			printf("no lab \"%s\"\n", a.o.name);
			return NP_EXIT_OK;
		}
		return ret ? NP_EXIT_FAIL : NP_EXIT_OK;
	}
	if (!strcmp(verb, "status")) {
		ret = parse("lab status", argc, argv, A_NAME | A_JSON, &a);
		if (ret)
			return ret < 0 ? NP_EXIT_OK : ret;
		ret = np_lab_status(a.o.name, a.json);
		if (ret == -ENOENT)
			return np_fail("lab status", "no lab \"%s\" (nodepath lab up --name %s)",
				       a.o.name, a.o.name);
		return ret ? NP_EXIT_FAIL : NP_EXIT_OK;
	}
	return np_usage_err("lab", "unknown verb \"%s\" (up, down, status)", verb);
}
