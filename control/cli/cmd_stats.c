// SPDX-License-Identifier: GPL-2.0
/* nodepath stats */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <json-c/json.h>

#include "agent_client.h"
#include "cli.h"
#include "log.h"
#include "node.h"
#include "stats.h"

static void stats_usage(FILE *f)
{
	fprintf(f, "usage: nodepath [--node NS] stats [--json]\n\n"
		   "Datapath counters per hook (xdp, tc_uplink_in), summed over CPUs:\n"
		   "outcomes (rx, pass, skipped, judged, ...) and drops by reason.\n"
		   "Text shows the non-zero ones; --json shows all (packets).\n");
}

/* The AF_XDP pool's counters, when an agent runs for the node (silent when none does). */
static void afxdp_json(const char *node, struct json_object *o)
{
	struct json_object *ag;

	if (np_agent_request_json(node, "stats", 2000, &ag))
		return;
	/* The same fields as `agent status --json` ("ok" is the protocol's). */
	json_object_object_del(ag, "ok");
	json_object_object_add(o, "afxdp", ag);
}

static void afxdp_text(const char *node)
{
	struct json_object *ag, *ws, *v;
	size_t n;

	if (np_agent_request_json(node, "stats", 2000, &ag))
		return;
	if (json_object_object_get_ex(ag, "workers", &ws)) {
		n = json_object_array_length(ws);
		printf("afxdp: %zu worker%s (nodepath agent status for more)\n", n,
		       n == 1 ? "" : "s");
		for (size_t i = 0; i < n; i++) {
			struct json_object *w = json_object_array_get_idx(ws, i);
			const char *k[] = { "rx",	    "tx",	    "fill_empty",
					    "tx_ring_full", "invalid_desc", "rx_ring_full",
					    "rx_dropped" };

			printf("%-14s queue %-3d", "afxdp",
			       json_object_object_get_ex(w, "queue", &v) ? json_object_get_int(v)
									 : -1);
			for (size_t j = 0; j < sizeof(k) / sizeof(k[0]); j++)
				printf(" %s %llu", k[j],
				       json_object_object_get_ex(w, k[j], &v)
					       ? (unsigned long long)json_object_get_uint64(v)
					       : 0ULL);
			printf("\n");
		}
	}
	json_object_put(ag);
}

int np_cmd_stats(struct np_cli *cli, int argc, char **argv)
{
	struct np_counter *s;
	__u64 drops_total = 0;
	bool json = false;
	struct np_node n;
	int fd, ret;

	ret = np_cli_json_opts("stats", argc, argv, stats_usage, &json);
	if (ret != NP_GO_ON)
		return ret;
	if (np_node_open(cli->node, 0, &n))
		return NP_EXIT_FAIL;
	fd = n.pin_exists ? np_node_map_open(&n, NP_MAP_STATS) : -ENOENT;
	np_node_close(&n);
	if (fd == -ENOENT)
		return np_fail("stats", "node %s is not up: no %s in %s", n.name, NP_MAP_STATS,
			       n.pin_dir);
	if (fd < 0)
		return np_fail("stats", "open %s/%s: %s", n.pin_dir, NP_MAP_STATS, strerror(-fd));
	s = calloc(NP_STATS_ENTRIES, sizeof(*s));
	if (!s) {
		close(fd);
		return np_fail("stats", "out of memory");
	}
	ret = np_stats_read(fd, s);
	close(fd);
	if (ret) {
		free(s);
		return NP_EXIT_FAIL;
	}
	for (unsigned int h = 0; h < NP_HOOKS_USED; h++)
		for (unsigned int i = NP_STAT_DROP_FIRST; i < NP_STAT__MAX; i++)
			drops_total += s[NP_STAT_IDX(h, i)].packets;

	if (json) {
		struct json_object *o = json_object_new_object(), *hooks = json_object_new_object();

		for (unsigned int h = 0; h < NP_HOOKS_USED; h++) {
			struct json_object *ho = json_object_new_object();
			struct json_object *drops = json_object_new_object();

			for (unsigned int i = 0; i < NP_STAT__MAX; i++)
				json_object_object_add(
					np_stat_is_drop(i) ? drops : ho, np_stat_name(i),
					json_object_new_uint64(s[NP_STAT_IDX(h, i)].packets));
			json_object_object_add(ho, "drops", drops);
			json_object_object_add(hooks, np_hook_name(h), ho);
		}
		json_object_object_add(o, "hooks", hooks);
		json_object_object_add(o, "drops_total", json_object_new_uint64(drops_total));
		afxdp_json(n.name, o);
		printf("%s\n", json_object_to_json_string_ext(
				       o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
		free(s);
		return NP_EXIT_OK;
	}
	printf("%-14s %-16s %14s %16s\n", "hook", "counter", "packets", "bytes");
	for (unsigned int h = 0; h < NP_HOOKS_USED; h++) {
		for (unsigned int i = 0; i < NP_STAT__MAX; i++) {
			const struct np_counter *v = &s[NP_STAT_IDX(h, i)];

			if (!v->packets && !v->bytes)
				continue;
			printf("%-14s %s%-*s %14llu %16llu\n", np_hook_name(h),
			       np_stat_is_drop(i) ? "drop:" : "", np_stat_is_drop(i) ? 11 : 16,
			       np_stat_name(i), (unsigned long long)v->packets,
			       (unsigned long long)v->bytes);
		}
	}
	printf("drops total: %llu packets\n", (unsigned long long)drops_total);
	afxdp_text(n.name);
	free(s);
	return NP_EXIT_OK;
}
