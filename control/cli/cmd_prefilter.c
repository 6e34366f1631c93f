// SPDX-License-Identifier: GPL-2.0
/* nodepath prefilter add | del | list */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "cli.h"
#include "input.h"
#include "log.h"
#include "node.h"
#include "prefilter.h"

static void pf_usage(FILE *f)
{
	fprintf(f,
		"usage: nodepath [--node NS] prefilter add CIDR [--allow] [--rate PPS [--burst "
		"N]]\n"
		"                                          [--yes-drop-everything]\n"
		"       nodepath [--node NS] prefilter del CIDR\n"
		"       nodepath [--node NS] prefilter list [--json]\n\n"
		"Source-prefix rules checked by XDP (and by tcx when XDP is off) on the uplink.\n"
		"The longest matching prefix decides: deny drops, --allow passes (an exception\n"
		"inside a broader deny); a rule with --rate passes up to PPS packets per second\n"
		"from its prefix and drops the rest.\n\n"
		"  CIDR                   ADDR/LEN, host bits zero: 198.18.0.0/24, fd00:18::/64\n"
		"  --allow                pass instead of drop\n"
		"  --rate PPS             1..%llu packets per second\n"
		"  --burst N              bucket depth in packets, 1..%llu (default: PPS/10, >= "
		"1)\n"
		"  --yes-drop-everything  needed for a deny or rate rule on 0.0.0.0/0 or ::/0\n"
		"  --json                 (list) machine-readable output\n",
		NP_PF_RATE_MAX, NP_PF_BURST_MAX);
}

/* add and del take exactly one operand after their options. 0 or NP_EXIT_USAGE. */
static int one_cidr_operand(const char *cmd, int argc, char **argv)
{
	if (optind >= argc)
		return np_usage_err(cmd, "which prefix? (CIDR, e.g. 198.18.0.0/24)");
	if (optind + 1 < argc)
		return np_usage_err(cmd, "unexpected argument \"%s\" (one CIDR per call)",
				    argv[optind + 1]);
	return 0;
}

static int parse_cidr_arg(const char *cmd, const char *s, struct np_cidr *c)
{
	char err[512];

	if (np_parse_cidr(s, c, err, sizeof(err)))
		return np_usage_err(cmd, "%s; nothing was changed", err);
	return 0;
}

static int pf_add(struct np_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "allow", no_argument, NULL, 'a' },
		{ "rate", required_argument, NULL, 'r' },
		{ "burst", required_argument, NULL, 'b' },
		{ "yes-drop-everything", no_argument, NULL, 'Y' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *cmd = "prefilter add";
	struct np_pf_req req;
	char err[256], note[512], txt[NP_CIDR_STRLEN], act[96];
	bool have_burst = false;
	uint64_t v64;
	struct np_node n;
	__u32 id = 0;
	int c, ret;

	memset(&req, 0, sizeof(req));
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			req.flags |= NP_PF_F_ALLOW;
			break;
		case 'r':
			if (np_parse_u64("--rate", optarg, 1, NP_PF_RATE_MAX, &v64, err,
					 sizeof(err)))
				return np_usage_err(cmd, "%s; nothing was changed", err);
			req.rate_pps = v64;
			break;
		case 'b':
			if (np_parse_u64("--burst", optarg, 1, NP_PF_BURST_MAX, &v64, err,
					 sizeof(err)))
				return np_usage_err(cmd, "%s; nothing was changed", err);
			req.burst = v64;
			have_burst = true;
			break;
		case 'Y':
			req.drop_everything_ok = true;
			break;
		case 'h':
			pf_usage(stdout);
			return NP_EXIT_OK;
		default:
			return np_usage_err(cmd, "unknown option");
		}
	}
	ret = one_cidr_operand(cmd, argc, argv);
	if (ret)
		return ret;
	if (have_burst && !req.rate_pps)
		return np_usage_err(cmd, "--burst needs --rate; nothing was changed");
	ret = parse_cidr_arg(cmd, argv[optind], &req.cidr);
	if (ret)
		return ret;

	if (np_node_open(cli->node, NP_NODE_LOCK, &n))
		return NP_EXIT_FAIL;
	ret = np_pf_add(&n, &req, &id, note, sizeof(note));
	np_node_close(&n);
	if (ret)
		return NP_EXIT_FAIL;
	{
		struct np_pf_rule r = { .id = id,
					.flags = req.flags,
					.rate_pps = req.rate_pps,
					.burst = req.rate_pps ? (req.burst ? req.burst
									   : np_pf_default_burst(
										     req.rate_pps))
							      : 0 };

		np_pf_action_str(&r, act, sizeof(act));
	}
	np_format_cidr(&req.cidr, txt, sizeof(txt));
	printf("prefilter: added %s (%s) as rule %u\n%s", txt, act, id, note);
	return NP_EXIT_OK;
}

static int pf_del(struct np_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *cmd = "prefilter del";
	char txt[NP_CIDR_STRLEN];
	struct np_cidr cidr;
	struct np_node n;
	__u32 id = 0;
	int c, ret;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			pf_usage(stdout);
			return NP_EXIT_OK;
		default:
			return np_usage_err(cmd, "unknown option");
		}
	}
	ret = one_cidr_operand(cmd, argc, argv);
	if (ret)
		return ret;
	ret = parse_cidr_arg(cmd, argv[optind], &cidr);
	if (ret)
		return ret;
	if (np_node_open(cli->node, NP_NODE_LOCK, &n))
		return NP_EXIT_FAIL;
	ret = np_pf_del(&n, &cidr, &id);
	np_node_close(&n);
	if (ret)
		return NP_EXIT_FAIL;
	np_format_cidr(&cidr, txt, sizeof(txt));
	printf("prefilter: deleted %s (rule %u)\n", txt, id);
	return NP_EXIT_OK;
}

static int pf_list(struct np_cli *cli, int argc, char **argv)
{
	struct np_pf_entry *v = NULL;
	char txt[NP_CIDR_STRLEN], act[96];
	bool json = false;
	struct np_node n;
	size_t cnt = 0;
	int ret;

	ret = np_cli_json_opts("prefilter list", argc, argv, pf_usage, &json);
	if (ret != NP_GO_ON)
		return ret;
	if (np_node_open(cli->node, 0, &n))
		return NP_EXIT_FAIL;
	ret = np_pf_list(&n, &v, &cnt);
	np_node_close(&n);
	if (ret)
		return NP_EXIT_FAIL;
	if (json) {
		struct json_object *arr = json_object_new_array();

		for (size_t i = 0; i < cnt; i++) {
			struct json_object *e = json_object_new_object();

			np_format_cidr(&v[i].cidr, txt, sizeof(txt));
			json_object_object_add(e, "id", json_object_new_int64(v[i].rule.id));
			json_object_object_add(e, "cidr", json_object_new_string(txt));
			json_object_object_add(
				e, "action",
				json_object_new_string(v[i].rule.flags & NP_PF_F_ALLOW ? "allow"
										       : "deny"));
			json_object_object_add(e, "rate_pps",
					       json_object_new_uint64(v[i].rule.rate_pps));
			json_object_object_add(e, "burst", json_object_new_uint64(v[i].rule.burst));
			json_object_object_add(e, "packets",
					       json_object_new_uint64(v[i].hits.packets));
			json_object_object_add(e, "bytes", json_object_new_uint64(v[i].hits.bytes));
			json_object_array_add(arr, e);
		}
		printf("%s\n",
		       json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN |
								   JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(arr);
	} else if (!cnt) {
		printf("no prefilter rules on node %s\n", n.name);
	} else {
		printf("%5s  %-43s  %-32s  %12s  %14s\n", "id", "cidr", "action", "packets",
		       "bytes");
		for (size_t i = 0; i < cnt; i++) {
			np_format_cidr(&v[i].cidr, txt, sizeof(txt));
			np_pf_action_str(&v[i].rule, act, sizeof(act));
			printf("%5u  %-43s  %-32s  %12llu  %14llu\n", v[i].rule.id, txt, act,
			       (unsigned long long)v[i].hits.packets,
			       (unsigned long long)v[i].hits.bytes);
		}
	}
	free(v);
	return NP_EXIT_OK;
}

int np_cmd_prefilter(struct np_cli *cli, int argc, char **argv)
{
	const char *verb = argc > 1 ? argv[1] : NULL;

	if (!verb)
		return np_usage_err("prefilter", "which verb? (add, del or list)");
	if (!strcmp(verb, "-h") || !strcmp(verb, "--help")) {
		pf_usage(stdout);
		return NP_EXIT_OK;
	}
	/* The verb's own argv: argv[0] = verb. */
	argc--;
	argv++;
	optind = 0;
	if (!strcmp(verb, "add"))
		return pf_add(cli, argc, argv);
	if (!strcmp(verb, "del"))
		return pf_del(cli, argc, argv);
	if (!strcmp(verb, "list"))
		return pf_list(cli, argc, argv);
	return np_usage_err("prefilter", "unknown verb \"%s\" (allowed: add, del, list)", verb);
}
