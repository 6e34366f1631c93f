// SPDX-License-Identifier: GPL-2.0
/* nodepath service add | del | get | list; nodepath backend add | del | set */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <json-c/json.h>

#include "cli.h"
#include "input.h"
#include "log.h"
#include "maglev.h"
#include "node.h"
#include "service.h"

static void svc_usage(FILE *f)
{
	fprintf(f,
		"usage: nodepath [--node NS] service add NAME --vip ADDR:PORT/tcp|udp\n"
		"               [--type clusterip|nodeport|loadbalancer|externalip]\n"
		"               [--backend ADDR:PORT[,weight=W]]... [--algo maglev|random]\n"
		"               [--mode snat|dsr] [--affinity SECONDS] [--source-range CIDR]...\n"
		"               [--etp cluster|local] [--afxdp]\n"
		"       nodepath [--node NS] service del NAME\n"
		"       nodepath [--node NS] service get NAME [--json]\n"
		"       nodepath [--node NS] service list [--json]\n\n"
		"  NAME             1..%d of a-z 0-9 . - (starting and ending alphanumeric)\n"
		"  --vip            198.18.100.10:80/tcp, [fd00:18:100::10]:80/tcp; nodeport:\n"
		"                   0.0.0.0:30080/tcp or [::]:30080/tcp (every node address)\n"
		"  --type           default clusterip\n"
		"  --backend        IPv6 in brackets; weight 1..%u (default 1); at most the\n"
		"                   node's Maglev table size (`up --maglev-size`)\n"
		"  --algo           default maglev\n"
		"  --mode           default snat; dsr (not clusterip): remote backends by\n"
		"                   IPIP/IP6IP6, replies straight to the client; backend port =\n"
		"                   VIP port\n"
		"  --affinity       keep a client on its backend, 1..%u seconds\n"
		"  --source-range   only these source prefixes may use it (up to %d)\n"
		"  --etp            externalTrafficPolicy (nodeport, loadbalancer, externalip)\n"
		"  --afxdp          local backends get it through the AF_XDP pool (`nodepath\n"
		"                   agent`); the kernel path while no worker runs\n",
		NP_SVC_NAME_MAX, NP_WEIGHT_MAX, NP_SVC_AFFINITY_MAX, NP_SVC_SRC_RANGES_MAX);
}

static void be_usage(FILE *f)
{
	fprintf(f,
		"usage: nodepath [--node NS] backend add NAME ADDR:PORT [--weight W] [--state S]\n"
		"       nodepath [--node NS] backend del NAME ADDR:PORT\n"
		"       nodepath [--node NS] backend set NAME ADDR:PORT [--weight W] [--state "
		"S]\n\n"
		"  --weight W   1..%u\n"
		"  --state S    active | terminating (open flows finish, no new ones) |\n"
		"               quarantined | maintenance (no flows at all)\n",
		NP_WEIGHT_MAX);
}

static int svc_add(struct np_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "vip", required_argument, NULL, 'V' },
		{ "type", required_argument, NULL, 't' },
		{ "backend", required_argument, NULL, 'b' },
		{ "algo", required_argument, NULL, 'a' },
		{ "mode", required_argument, NULL, 'm' },
		{ "affinity", required_argument, NULL, 'A' },
		{ "source-range", required_argument, NULL, 's' },
		{ "etp", required_argument, NULL, 'e' },
		{ "afxdp", no_argument, NULL, 'X' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *cmd = "service add", *vip = NULL;
	char err[512], a[NP_SVC_ADDRSTRLEN];
	struct np_svc_spec s;
	size_t cap = 0;
	struct np_node n;
	int c, ret = NP_EXIT_USAGE;

	memset(&s, 0, sizeof(s));
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'V':
			vip = optarg;
			break;
		case 't':
			if (np_svc_parse_type(optarg, &s.type, err, sizeof(err)))
				goto usage;
			break;
		case 'b':
			if (s.n_be == cap) {
				size_t nc = cap ? 2 * cap : 8;
				struct np_svc_backend *nb = realloc(s.be, nc * sizeof(*nb));

				if (!nb) {
					ret = np_fail(cmd, "out of memory");
					goto out;
				}
				s.be = nb;
				cap = nc;
			}
			if (np_svc_parse_backend(optarg, &s.be[s.n_be], err, sizeof(err)))
				goto usage;
			s.n_be++;
			break;
		case 'a':
			if (np_svc_parse_algo(optarg, &s.algo, err, sizeof(err)))
				goto usage;
			break;
		case 'm':
			if (np_svc_parse_mode(optarg, &s.mode, err, sizeof(err)))
				goto usage;
			break;
		case 'A':
			if (np_parse_u32("--affinity", optarg, 1, NP_SVC_AFFINITY_MAX,
					 &s.affinity_s, err, sizeof(err)))
				goto usage;
			break;
		case 's':
			if (s.n_src >= NP_SVC_SRC_RANGES_MAX) {
				snprintf(err, sizeof(err), "more than %d --source-range",
					 NP_SVC_SRC_RANGES_MAX);
				goto usage;
			}
			if (np_parse_cidr(optarg, &s.src[s.n_src], err, sizeof(err)))
				goto usage;
			s.n_src++;
			break;
		case 'e':
			if (np_svc_parse_etp(optarg, &s.etp_local, err, sizeof(err)))
				goto usage;
			s.etp_given = true;
			break;
		case 'X':
			s.afxdp = true;
			break;
		case 'h':
			svc_usage(stdout);
			ret = NP_EXIT_OK;
			goto out;
		default:
			ret = np_usage_err(cmd, "unknown option");
			goto out;
		}
	}
	if (optind >= argc) {
		ret = np_usage_err(cmd, "which service? (NAME)");
		goto out;
	}
	if (optind + 1 < argc) {
		ret = np_usage_err(cmd, "unexpected argument \"%s\"", argv[optind + 1]);
		goto out;
	}
	if (np_svc_check_name(argv[optind], err, sizeof(err)))
		goto usage;
	snprintf(s.name, sizeof(s.name), "%s", argv[optind]);
	if (!vip) {
		ret = np_usage_err(cmd, "--vip ADDR:PORT/tcp|udp is required; nothing was changed");
		goto out;
	}
	if (np_svc_parse_vip(vip, &s.vip, &s.proto, err, sizeof(err)))
		goto usage;
	/* the checks that need no node: a clear error before touching it */
	if (np_svc_check_spec(&s, NP_MAGLEV_MAX, err, sizeof(err))) {
		ret = np_fail(cmd, "%s; nothing was changed", err);
		goto out;
	}
	if (np_node_open(cli->node, NP_NODE_LOCK, &n)) {
		ret = NP_EXIT_FAIL;
		goto out;
	}
	ret = np_svc_add(&n, &s) ? NP_EXIT_FAIL : NP_EXIT_OK;
	np_node_close(&n);
	if (ret == NP_EXIT_OK) {
		np_svc_addr_str(&s.vip, s.proto, a, sizeof(a));
		printf("service %s: added as id %u, %s %s, %zu backend%s\n", s.name, s.id,
		       np_svc_type_name(s.type), a, s.n_be, s.n_be == 1 ? "" : "s");
	}
	goto out;
usage:
	ret = np_usage_err(cmd, "%s; nothing was changed", err);
out:
	np_svc_spec_free(&s);
	return ret;
}

static int one_name(const char *cmd, int argc, char **argv, bool *json)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "hj", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			if (!json)
				return np_usage_err(cmd, "unknown option --json");
			*json = true;
			break;
		case 'h':
			svc_usage(stdout);
			return -1;
		default:
			return np_usage_err(cmd, "unknown option");
		}
	}
	return 0;
}

static struct json_object *info_json(const struct np_svc_info *v)
{
	const struct np_svc_spec *s = &v->spec;
	struct json_object *o = json_object_new_object(), *bes = json_object_new_array(),
			   *src = json_object_new_array(), *fl = json_object_new_array();
	char a[NP_SVC_ADDRSTRLEN], c[NP_CIDR_STRLEN];

	np_svc_addr_str(&s->vip, s->proto, a, sizeof(a));
	json_object_object_add(o, "name", json_object_new_string(s->name));
	json_object_object_add(o, "id", json_object_new_int64(s->id));
	json_object_object_add(o, "type", json_object_new_string(np_svc_type_name(s->type)));
	json_object_object_add(o, "vip", json_object_new_string(a));
	json_object_object_add(o, "algo", json_object_new_string(np_svc_algo_name(s->algo)));
	json_object_object_add(o, "mode",
			       json_object_new_string(s->mode == NP_SVC_MODE_DSR ? "dsr" : "snat"));
	json_object_object_add(o, "affinity", json_object_new_int64(s->affinity_s));
	json_object_object_add(o, "afxdp", json_object_new_boolean(s->afxdp));
	json_object_object_add(o, "etp",
			       json_object_new_string(s->etp_local ? "local" : "cluster"));
	if (v->flags & NP_SVC_F_AFFINITY)
		json_object_array_add(fl, json_object_new_string("affinity"));
	if (v->flags & NP_SVC_F_ETP_LOCAL)
		json_object_array_add(fl, json_object_new_string("etp_local"));
	if (v->flags & NP_SVC_F_SRC_RANGE)
		json_object_array_add(fl, json_object_new_string("source_range"));
	if (v->flags & NP_SVC_F_AFXDP)
		json_object_array_add(fl, json_object_new_string("afxdp"));
	json_object_object_add(o, "flags", fl);
	for (size_t i = 0; i < s->n_src; i++) {
		np_format_cidr(&s->src[i], c, sizeof(c));
		json_object_array_add(src, json_object_new_string(c));
	}
	json_object_object_add(o, "source_ranges", src);
	json_object_object_add(o, "in_table", json_object_new_int64(v->count));
	for (size_t i = 0; i < s->n_be; i++) {
		const struct np_svc_backend *b = &s->be[i];
		struct json_object *e = json_object_new_object();

		np_svc_addr_str(&b->a, 0, a, sizeof(a));
		json_object_object_add(e, "id", json_object_new_int64(b->id));
		json_object_object_add(e, "addr", json_object_new_string(a));
		json_object_object_add(e, "weight", json_object_new_int64(b->weight));
		json_object_object_add(e, "state",
				       json_object_new_string(np_be_state_name(b->state)));
		json_object_object_add(e, "local",
				       json_object_new_boolean(b->flags & NP_BE_F_LOCAL));
		json_object_array_add(bes, e);
	}
	json_object_object_add(o, "backends", bes);
	json_object_object_add(o, "packets", json_object_new_uint64(v->stats.packets));
	json_object_object_add(o, "bytes", json_object_new_uint64(v->stats.bytes));
	return o;
}

static void info_print(const struct np_svc_info *v)
{
	const struct np_svc_spec *s = &v->spec;
	char a[NP_SVC_ADDRSTRLEN], c[NP_CIDR_STRLEN];

	np_svc_addr_str(&s->vip, s->proto, a, sizeof(a));
	printf("service %s (id %u): %s %s, algo %s, mode %s", s->name, s->id,
	       np_svc_type_name(s->type), a, np_svc_algo_name(s->algo),
	       s->mode == NP_SVC_MODE_DSR ? "dsr" : "snat");
	if (s->affinity_s)
		printf(", affinity %u s", s->affinity_s);
	if (s->etp_local)
		printf(", etp local");
	if (s->afxdp)
		printf(", afxdp");
	printf("\n  %u of %zu backends in the table; %llu packets, %llu bytes\n", v->count, s->n_be,
	       (unsigned long long)v->stats.packets, (unsigned long long)v->stats.bytes);
	for (size_t i = 0; i < s->n_src; i++) {
		np_format_cidr(&s->src[i], c, sizeof(c));
		printf("  source range %s\n", c);
	}
	for (size_t i = 0; i < s->n_be; i++) {
		const struct np_svc_backend *b = &s->be[i];

		np_svc_addr_str(&b->a, 0, a, sizeof(a));
		printf("  backend %-5u %-44s weight %-5u %-12s%s\n", b->id, a, b->weight,
		       np_be_state_name(b->state), b->flags & NP_BE_F_LOCAL ? " local" : "");
	}
}

static void json_print(struct json_object *o)
{
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
								 JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

static int svc_get_del(struct np_cli *cli, int argc, char **argv, bool del)
{
	const char *cmd = del ? "service del" : "service get";
	struct np_svc_info v;
	bool json = false;
	struct np_node n;
	int ret;

	ret = one_name(cmd, argc, argv, del ? NULL : &json);
	if (ret)
		return ret < 0 ? NP_EXIT_OK : ret;
	if (optind >= argc)
		return np_usage_err(cmd, "which service? (NAME)");
	if (optind + 1 < argc)
		return np_usage_err(cmd, "unexpected argument \"%s\"", argv[optind + 1]);
	if (np_node_open(cli->node, del ? NP_NODE_LOCK : 0, &n))
		return NP_EXIT_FAIL;
	ret = del ? np_svc_del(&n, argv[optind], &v) : np_svc_get(&n, argv[optind], &v);
	np_node_close(&n);
	if (ret)
		return NP_EXIT_FAIL;
	if (del)
		printf("service %s: deleted (id %u, %zu backends)\n", v.spec.name, v.spec.id,
		       v.spec.n_be);
	else if (json)
		json_print(info_json(&v));
	else
		info_print(&v);
	np_svc_spec_free(&v.spec);
	return NP_EXIT_OK;
}

static int svc_list(struct np_cli *cli, int argc, char **argv)
{
	struct np_svc_info *v = NULL;
	bool json = false;
	struct np_node n;
	size_t cnt = 0;
	int ret;

	ret = one_name("service list", argc, argv, &json);
	if (ret)
		return ret < 0 ? NP_EXIT_OK : ret;
	if (optind < argc)
		return np_usage_err("service list", "unexpected argument \"%s\"", argv[optind]);
	if (np_node_open(cli->node, 0, &n))
		return NP_EXIT_FAIL;
	ret = np_svc_list(&n, &v, &cnt);
	np_node_close(&n);
	if (ret)
		return NP_EXIT_FAIL;
	if (json) {
		struct json_object *arr = json_object_new_array();

		for (size_t i = 0; i < cnt; i++)
			json_object_array_add(arr, info_json(&v[i]));
		json_print(arr);
	} else if (!cnt) {
		printf("no services on node %s\n", n.name);
	} else {
		for (size_t i = 0; i < cnt; i++)
			info_print(&v[i]);
	}
	np_svc_info_free(v, cnt);
	return NP_EXIT_OK;
}

int np_cmd_service(struct np_cli *cli, int argc, char **argv)
{
	const char *verb = argc > 1 ? argv[1] : NULL;

	if (!verb)
		return np_usage_err("service", "which verb? (add, del, get or list)");
	if (!strcmp(verb, "-h") || !strcmp(verb, "--help")) {
		svc_usage(stdout);
		return NP_EXIT_OK;
	}
	argc--;
	argv++;
	optind = 0;
	if (!strcmp(verb, "add"))
		return svc_add(cli, argc, argv);
	if (!strcmp(verb, "del"))
		return svc_get_del(cli, argc, argv, true);
	if (!strcmp(verb, "get"))
		return svc_get_del(cli, argc, argv, false);
	if (!strcmp(verb, "list"))
		return svc_list(cli, argc, argv);
	return np_usage_err("service", "unknown verb \"%s\" (allowed: add, del, get, list)", verb);
}

static int be_cmd(struct np_cli *cli, int argc, char **argv, const char *verb)
{
	static const struct option opts[] = {
		{ "weight", required_argument, NULL, 'w' },
		{ "state", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	char cmd[32], err[512], a[NP_SVC_ADDRSTRLEN];
	struct np_svc_backend b;
	__u32 weight = 0;
	int state = -1, c, ret;
	struct np_node n;
	__u8 st;

	snprintf(cmd, sizeof(cmd), "backend %s", verb);
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'w':
			if (!strcmp(verb, "del"))
				return np_usage_err(cmd, "--weight does not apply to del");
			if (np_parse_u32("--weight", optarg, 1, NP_WEIGHT_MAX, &weight, err,
					 sizeof(err)))
				return np_usage_err(cmd, "%s; nothing was changed", err);
			break;
		case 's':
			if (!strcmp(verb, "del"))
				return np_usage_err(cmd, "--state does not apply to del");
			if (np_svc_parse_state(optarg, &st, err, sizeof(err)))
				return np_usage_err(cmd, "%s; nothing was changed", err);
			state = st;
			break;
		case 'h':
			be_usage(stdout);
			return NP_EXIT_OK;
		default:
			return np_usage_err(cmd, "unknown option");
		}
	}
	if (optind + 2 > argc)
		return np_usage_err(cmd, "expected NAME ADDR:PORT");
	if (optind + 2 < argc)
		return np_usage_err(cmd, "unexpected argument \"%s\"", argv[optind + 2]);
	if (np_svc_check_name(argv[optind], err, sizeof(err)) ||
	    np_svc_parse_backend(argv[optind + 1], &b, err, sizeof(err)))
		return np_usage_err(cmd, "%s; nothing was changed", err);
	if (strchr(argv[optind + 1], ',') && strcmp(verb, "add"))
		return np_usage_err(cmd, "give the weight with --weight W");
	if (!strcmp(verb, "set") && !weight && state < 0)
		return np_usage_err(cmd, "nothing to set (--weight W and/or --state S)");
	if (weight)
		b.weight = weight;
	if (state >= 0)
		b.state = (__u8)state;
	if (np_node_open(cli->node, NP_NODE_LOCK, &n))
		return NP_EXIT_FAIL;
	if (!strcmp(verb, "add"))
		ret = np_backend_add(&n, argv[optind], &b);
	else if (!strcmp(verb, "del"))
		ret = np_backend_del(&n, argv[optind], &b.a);
	else
		ret = np_backend_set(&n, argv[optind], &b.a, weight, state);
	np_node_close(&n);
	if (ret)
		return NP_EXIT_FAIL;
	np_svc_addr_str(&b.a, 0, a, sizeof(a));
	printf("service %s: backend %s %s\n", argv[optind], a,
	       !strcmp(verb, "add")   ? "added"
	       : !strcmp(verb, "del") ? "deleted"
				      : "updated");
	return NP_EXIT_OK;
}

int np_cmd_backend(struct np_cli *cli, int argc, char **argv)
{
	const char *verb = argc > 1 ? argv[1] : NULL;

	if (!verb)
		return np_usage_err("backend", "which verb? (add, del or set)");
	if (!strcmp(verb, "-h") || !strcmp(verb, "--help")) {
		be_usage(stdout);
		return NP_EXIT_OK;
	}
	argc--;
	argv++;
	optind = 0;
	if (!strcmp(verb, "add") || !strcmp(verb, "del") || !strcmp(verb, "set"))
		return be_cmd(cli, argc, argv, verb);
	return np_usage_err("backend", "unknown verb \"%s\" (allowed: add, del, set)", verb);
}
