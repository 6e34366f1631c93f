// SPDX-License-Identifier: GPL-2.0
/* nodepath endpoint add | del | list */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <json-c/json.h>

#include "agent_client.h"
#include "cli.h"
#include "endpoint.h"
#include "node.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: nodepath [--node NS] endpoint add --netns POD_NS --ip V4[,V6]\n"
		   "                    [--dev veth|netkit|auto] [--netkit-mode l3|l2] [--name N]\n"
		   "       nodepath [--node NS] endpoint del --name N | --ip ADDR\n"
		   "       nodepath [--node NS] endpoint list [--json]\n\n"
		   "A pod's device pair: the host side (named N, default np<id>) in the node,\n"
		   "nic0 in POD_NS, with the node's uplink MTU, the pod's addresses (/32, /128)\n"
		   "and its default route via the node's pod gateway. The pod programs are\n"
		   "attached (tcx on the veth host side; netkit primary and peer hooks), and\n"
		   "`list` shows the packets and bytes they counted for each pod.\n\n"
		   "  --netns POD_NS     the pod's network namespace (must exist)\n"
		   "  --ip V4[,V6]       the pod's addresses, inside the node's pod range\n"
		   "                     (nodepath up --pod-cidr); plain addresses, no /len\n"
		   "  --dev KIND         veth, netkit, or auto (default: netkit when the kernel\n"
		   "                     has it, else veth; says which it picked)\n"
		   "  --netkit-mode M    l3 (default) or l2; with --dev netkit only\n"
		   "  --name N           endpoint and host-side device name, 1..15 of\n"
		   "                     [A-Za-z0-9_.-]\n"
		   "  --json             list as JSON\n"
		   "  -h, --help         this help\n");
}

enum { OPT_NETNS = 256, OPT_IP, OPT_DEV, OPT_NKMODE, OPT_NAME, OPT_JSON };

#define A_NETNS (1u << (OPT_NETNS - OPT_NETNS))
#define A_IP (1u << (OPT_IP - OPT_NETNS))
#define A_DEV (1u << (OPT_DEV - OPT_NETNS))
#define A_NKMODE (1u << (OPT_NKMODE - OPT_NETNS))
#define A_NAME (1u << (OPT_NAME - OPT_NETNS))
#define A_JSON (1u << (OPT_JSON - OPT_NETNS))

struct ep_args {
	struct np_ep_add_opts o;
	bool json;
	bool dev_given;
};

/* 0 ok, -1 help shown, else an exit status. */
static int parse(const char *cmd, int argc, char **argv, unsigned int allowed, struct ep_args *a)
{
	static const struct option opts[] = {
		{ "netns", required_argument, NULL, OPT_NETNS },
		{ "ip", required_argument, NULL, OPT_IP },
		{ "dev", required_argument, NULL, OPT_DEV },
		{ "netkit-mode", required_argument, NULL, OPT_NKMODE },
		{ "name", required_argument, NULL, OPT_NAME },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	char err[256];
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (c >= OPT_NETNS && !(allowed & (1u << (c - OPT_NETNS))))
			return np_usage_err(cmd, "option \"--%s\" does not apply here",
					    opts[c - OPT_NETNS].name);
		switch (c) {
		case OPT_NETNS:
			a->o.netns = optarg;
			break;
		case OPT_IP:
			a->o.ip = optarg;
			break;
		case OPT_DEV:
			if (np_ep_parse_kind(optarg, &a->o.kind, err, sizeof(err)))
				return np_usage_err(cmd, "%s", err);
			a->dev_given = true;
			break;
		case OPT_NKMODE:
			if (np_ep_parse_nk_mode(optarg, &a->o.nk_mode, err, sizeof(err)))
				return np_usage_err(cmd, "%s", err);
			break;
		case OPT_NAME:
			if (np_ep_check_name(optarg, err, sizeof(err)))
				return np_usage_err(cmd, "%s", err);
			a->o.name = optarg;
			break;
		case OPT_JSON:
			a->json = true;
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
	}
	if (optind < argc)
		return np_usage_err(cmd, "unexpected argument \"%s\"", argv[optind]);
	return 0;
}

static void addrs_text(const struct np_ep_addrs *ip, char *v4, char *v6)
{
	strcpy(v4, "-");
	strcpy(v6, "-");
	if (ip->has4)
		inet_ntop(AF_INET, &ip->ip4, v4, INET6_ADDRSTRLEN);
	if (ip->has6)
		inet_ntop(AF_INET6, &ip->ip6, v6, INET6_ADDRSTRLEN);
}

static const char *dev_text(const struct np_ep_info *e)
{
	if (e->kind != NP_EP_KIND_NETKIT)
		return "veth";
	return e->nk_mode == NP_NK_MODE_L2 ? "netkit-l2" : "netkit-l3";
}

static int cmd_add(struct np_cli *cli, int argc, char **argv)
{
	struct ep_args a = { 0 };
	char v4[INET6_ADDRSTRLEN], v6[INET6_ADDRSTRLEN];
	struct np_ep_info e;
	struct np_node n;
	char err[256];
	int ret;

	ret = parse("endpoint add", argc, argv, A_NETNS | A_IP | A_DEV | A_NKMODE | A_NAME, &a);
	if (ret)
		return ret < 0 ? NP_EXIT_OK : ret;
	if (!a.o.netns)
		return np_usage_err("endpoint add", "--netns POD_NS is required");
	if (!a.o.ip)
		return np_usage_err("endpoint add", "--ip V4[,V6] is required");
	if (a.o.nk_mode != NP_NK_MODE_NONE && a.o.kind != NP_EP_KIND_NETKIT)
		return np_usage_err("endpoint add", "--netkit-mode applies to --dev netkit only");
	/* The syntax here (exit 2); the node's range and what is taken in np_ep_add. */
	if (np_ep_parse_ips(a.o.ip, &e.ip, err, sizeof(err)))
		return np_usage_err("endpoint add", "%s", err);
	if (np_node_open(cli->node, NP_NODE_LOCK, &n))
		return NP_EXIT_FAIL;
	ret = np_ep_add(&n, &a.o, &e);
	np_node_close(&n);
	if (ret)
		return NP_EXIT_FAIL;
	/* The AF_XDP pool's workers open a tx socket on the new device (no agent: nothing). */
	np_agent_notify_ep(n.name, e.host_ifindex, 1);
	addrs_text(&e.ip, v4, v6);
	printf("endpoint %s (id %u) on node %s: %s %s (ifindex %d) <-> %s in netns %s, %s %s\n",
	       e.name, e.id, n.name, dev_text(&e), e.name, e.host_ifindex, NP_EP_POD_DEV, e.netns,
	       v4, v6);
	return NP_EXIT_OK;
}

static int cmd_del(struct np_cli *cli, int argc, char **argv)
{
	struct ep_args a = { 0 };
	struct np_ep_info e;
	struct np_node n;
	int ret;

	ret = parse("endpoint del", argc, argv, A_NAME | A_IP, &a);
	if (ret)
		return ret < 0 ? NP_EXIT_OK : ret;
	if (!a.o.name == !a.o.ip)
		return np_usage_err("endpoint del", "give either --name N or --ip ADDR");
	if (np_node_open(cli->node, NP_NODE_LOCK, &n))
		return NP_EXIT_FAIL;
	ret = np_ep_del(&n, a.o.name, a.o.ip, &e);
	np_node_close(&n);
	if (ret)
		return NP_EXIT_FAIL;
	/* The AF_XDP pool's workers close their tx socket on the device that went. */
	if (e.host_ifindex > 0)
		np_agent_notify_ep(n.name, e.host_ifindex, 0);
	printf("endpoint %s deleted from node %s: links, map entries and devices removed\n", e.name,
	       n.name);
	return NP_EXIT_OK;
}

static struct json_object *info_json(const struct np_ep_info *e)
{
	struct json_object *o = np_ep_info_json(e);

	json_object_object_add(o, "rx_packets",
			       json_object_new_int64((int64_t)e->stats.rx_packets));
	json_object_object_add(o, "rx_bytes", json_object_new_int64((int64_t)e->stats.rx_bytes));
	json_object_object_add(o, "tx_packets",
			       json_object_new_int64((int64_t)e->stats.tx_packets));
	json_object_object_add(o, "tx_bytes", json_object_new_int64((int64_t)e->stats.tx_bytes));
	return o;
}

static int cmd_list(struct np_cli *cli, int argc, char **argv)
{
	char v4[INET6_ADDRSTRLEN], v6[INET6_ADDRSTRLEN];
	struct ep_args a = { 0 };
	struct np_ep_info *v;
	struct np_node n;
	size_t count;
	int ret;

	ret = parse("endpoint list", argc, argv, A_JSON, &a);
	if (ret)
		return ret < 0 ? NP_EXIT_OK : ret;
	if (np_node_open(cli->node, 0, &n))
		return NP_EXIT_FAIL;
	ret = np_ep_list(&n, &v, &count);
	np_node_close(&n);
	if (ret)
		return NP_EXIT_FAIL;
	if (a.json) {
		struct json_object *arr = json_object_new_array();

		for (size_t i = 0; i < count; i++)
			json_object_array_add(arr, info_json(&v[i]));
		printf("%s\n",
		       json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN |
								   JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(arr);
		free(v);
		return NP_EXIT_OK;
	}
	printf("%-15s %4s %-20s %-9s %7s %-15s %-20s %10s %12s %10s %12s\n", "NAME", "ID", "NETNS",
	       "DEV", "IFINDEX", "IPV4", "IPV6", "RX_PKTS", "RX_BYTES", "TX_PKTS", "TX_BYTES");
	for (size_t i = 0; i < count; i++) {
		addrs_text(&v[i].ip, v4, v6);
		printf("%-15s %4u %-20s %-9s %7d %-15s %-20s %10llu %12llu %10llu %12llu\n",
		       v[i].name, v[i].id, v[i].netns, dev_text(&v[i]), v[i].host_ifindex, v4, v6,
		       (unsigned long long)v[i].stats.rx_packets,
		       (unsigned long long)v[i].stats.rx_bytes,
		       (unsigned long long)v[i].stats.tx_packets,
		       (unsigned long long)v[i].stats.tx_bytes);
	}
	if (!count)
		printf("(no endpoints on node %s)\n", n.name);
	free(v);
	return NP_EXIT_OK;
}

int np_cmd_endpoint(struct np_cli *cli, int argc, char **argv)
{
	const char *verb;

	if (argc < 2) {
		usage(stderr);
		return NP_EXIT_USAGE;
	}
	verb = argv[1];
	if (!strcmp(verb, "-h") || !strcmp(verb, "--help") || !strcmp(verb, "help")) {
		usage(stdout);
		return NP_EXIT_OK;
	}
	argc--;
	argv++;
	optind = 0;
	if (!strcmp(verb, "add"))
		return cmd_add(cli, argc, argv);
	if (!strcmp(verb, "del"))
		return cmd_del(cli, argc, argv);
	if (!strcmp(verb, "list"))
		return cmd_list(cli, argc, argv);
	return np_usage_err("endpoint", "unknown verb \"%s\" (add, del, list)", verb);
}
