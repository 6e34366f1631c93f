// SPDX-License-Identifier: GPL-2.0
/* nodepath bench */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"
#include "cli.h"
#include "log.h"

static void bench_usage(FILE *f)
{
	fprintf(f,
		"usage: nodepath bench [SCENARIO...] [--rounds N] [--duration S] [--out DIR]\n"
		"                      [--json] [--smoke] [--lab-prefix XX] [--timeout S] "
		"[--list]\n\n"
		"Runs the benchmark scenarios (bench/scenarios/<name>.sh; all of them when none\n"
		"is named), each with its floor and baselines interleaved in every round, in\n"
		"labs of its own that it tears down, also when interrupted. Prints a table per\n"
		"scenario (median, min, max, unit, ratio to each baseline), the named ratios and\n"
		"the targets met or missed, and writes DIR/results.json, DIR/results.csv,\n"
		"DIR/plots/<scenario>.png (gnuplot) and DIR/<scenario>.log (each script's "
		"stderr).\n\n"
		"  --rounds N       interleaved rounds, 1..%d (default 4; 1 with --smoke)\n"
		"  --duration S     seconds per measurement, 0 < S <= %g (default 2; 0.5 with "
		"--smoke)\n"
		"  --out DIR        output directory (default <repo>/build/bench-results)\n"
		"  --json           print results.json instead of the tables (progress on stderr)\n"
		"  --smoke          tiny sizes, one short round: checks that scenarios run\n"
		"  --lab-prefix XX  two characters [a-z0-9] that start every lab name (default "
		"nb)\n"
		"  --timeout S      stop a scenario after S seconds (default 1800; 180 with "
		"--smoke)\n"
		"  --list           print the scenarios and exit\n"
		"Needs root (network namespaces, BPF). Exit: 0 all ok, 1 a scenario failed, 2 "
		"usage.\n",
		NP_BENCH_ROUNDS_MAX, NP_BENCH_DURATION_MAX);
}

/* The repository: $NP_TOP, else the directory above the binary's, else the cwd. */
static int find_top(char *top, size_t len, char *bin, size_t blen)
{
	const char *env = getenv("NP_TOP");
	char exe[PATH_MAX], probe[PATH_MAX + 32];
	struct stat st;
	ssize_t n;

	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0)
		return -errno;
	exe[n] = '\0';
	snprintf(bin, blen, "%s", exe);
	if (env && *env) {
		snprintf(top, len, "%s", env);
	} else {
		char *s = strrchr(exe, '/');

		if (s)
			*s = '\0';
		s = strrchr(exe, '/');
		if (s)
			*s = '\0';
		snprintf(top, len, "%s", exe);
		snprintf(probe, sizeof(probe), "%s/bench/scenarios", top);
		if (stat(probe, &st) && getcwd(top, len) == NULL)
			return -errno;
	}
	snprintf(probe, sizeof(probe), "%s/bench/scenarios", top);
	if (stat(probe, &st) || !S_ISDIR(st.st_mode))
		return -ENOENT;
	return 0;
}

static bool lab_prefix_ok(const char *s)
{
	if (strlen(s) != 2)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9')))
			return false;
	return true;
}

int np_cmd_bench(struct np_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "rounds", required_argument, NULL, 'r' },
		{ "duration", required_argument, NULL, 'd' },
		{ "out", required_argument, NULL, 'o' },
		{ "json", no_argument, NULL, 'j' },
		{ "smoke", no_argument, NULL, 's' },
		{ "lab-prefix", required_argument, NULL, 'l' },
		{ "timeout", required_argument, NULL, 't' },
		{ "list", no_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct np_bench_opts o = { .lab_prefix = "nb" };
	char top[PATH_MAX], bin[PATH_MAX], outdef[PATH_MAX + 32], cmd[4096] = "nodepath";
	bool list = false, have_rounds = false, have_dur = false, have_to = false;
	const char **sel = NULL;
	char **all = NULL;
	size_t n_all = 0;
	int c, ret = NP_EXIT_USAGE;

	(void)cli;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		char *end;

		switch (c) {
		case 'r': {
			unsigned long v;

			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno || *end || optarg[0] < '0' || optarg[0] > '9' || v < 1 ||
			    v > NP_BENCH_ROUNDS_MAX)
				return np_usage_err("bench", "--rounds \"%s\": expected 1..%d",
						    optarg, NP_BENCH_ROUNDS_MAX);
			o.rounds = v;
			have_rounds = true;
			break;
		}
		case 'd':
			errno = 0;
			o.duration = strtod(optarg, &end);
			if (errno || *end || end == optarg || !isfinite(o.duration) ||
			    o.duration <= 0 || o.duration > NP_BENCH_DURATION_MAX ||
			    !strchr("0123456789", optarg[0]))
				return np_usage_err(
					"bench", "--duration \"%s\": expected seconds, 0 < S <= %g",
					optarg, NP_BENCH_DURATION_MAX);
			have_dur = true;
			break;
		case 'o':
			if (!*optarg)
				return np_usage_err("bench", "--out: expected a directory");
			o.out = optarg;
			break;
		case 'j':
			o.json = true;
			break;
		case 's':
			o.smoke = true;
			break;
		case 'l':
			if (!lab_prefix_ok(optarg))
				return np_usage_err("bench",
						    "--lab-prefix \"%s\": expected two characters "
						    "[a-z0-9]",
						    optarg);
			o.lab_prefix = optarg;
			break;
		case 't': {
			unsigned long v;

			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno || *end || optarg[0] < '0' || optarg[0] > '9' || v < 10 ||
			    v > 86400)
				return np_usage_err("bench", "--timeout \"%s\": expected 10..86400",
						    optarg);
			o.timeout = v;
			have_to = true;
			break;
		}
		case 'L':
			list = true;
			break;
		case 'h':
			bench_usage(stdout);
			return NP_EXIT_OK;
		default:
			return np_usage_err("bench", "unknown option");
		}
	}
	if (!have_rounds)
		o.rounds = o.smoke ? 1 : 4;
	if (!have_dur)
		o.duration = o.smoke ? 0.5 : 2;
	if (!have_to)
		o.timeout = o.smoke ? 180 : 1800;

	if (find_top(top, sizeof(top), bin, sizeof(bin)))
		return np_fail("bench",
			       "no bench/scenarios next to %s or in the current directory; set "
			       "NP_TOP to the nodepath source tree",
			       bin);
	if (np_bench_list(top, &all, &n_all))
		return NP_EXIT_FAIL;
	if (list) {
		for (size_t i = 0; i < n_all; i++)
			printf("%s\n", all[i]);
		ret = NP_EXIT_OK;
		goto out;
	}
	sel = calloc(n_all + (size_t)argc, sizeof(*sel));
	if (!sel) {
		ret = np_fail("bench", "out of memory");
		goto out;
	}
	for (int i = optind; i < argc; i++) {
		size_t k;
		bool dup = false;

		for (k = 0; k < n_all && strcmp(all[k], argv[i]); k++)
			;
		if (k == n_all) {
			char known[1024] = "";

			for (size_t j = 0; j < n_all; j++)
				snprintf(known + strlen(known), sizeof(known) - strlen(known),
					 "%s%s", j ? ", " : "", all[j]);
			ret = np_usage_err("bench", "unknown scenario \"%s\"; known: %s", argv[i],
					   known);
			goto out;
		}
		for (size_t j = 0; j < o.n_scen; j++)
			dup |= !strcmp(sel[j], all[k]);
		if (!dup)
			sel[o.n_scen++] = all[k];
	}
	if (optind == argc)
		for (size_t k = 0; k < n_all; k++)
			sel[o.n_scen++] = all[k];
	if (!o.n_scen) {
		ret = np_fail("bench", "no scenarios in %s/bench/scenarios", top);
		goto out;
	}
	if (geteuid() != 0) {
		ret = np_fail("bench", "needs root (network namespaces, BPF)");
		goto out;
	}
	if (!o.out) {
		snprintf(outdef, sizeof(outdef), "%s/build/bench-results", top);
		o.out = outdef;
	}
	for (int i = 0; i < argc; i++)
		snprintf(cmd + strlen(cmd), sizeof(cmd) - strlen(cmd), " %s", argv[i]);
	o.top = top;
	o.bin = bin;
	o.command = cmd;
	o.scen = sel;
	ret = np_bench_run(&o) ? NP_EXIT_FAIL : NP_EXIT_OK;
out:
	free(sel);
	for (size_t i = 0; i < n_all; i++)
		free(all[i]);
	free(all);
	return ret;
}
