// SPDX-License-Identifier: GPL-2.0
/* nodepath: the command-line front end of libnodepath. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "log.h"

static const struct {
	const char *name;
	np_cmd_fn fn;
	const char *help;
} cmds[] = {
	{ "up", np_cmd_up, "load, attach and pin the datapath on a device" },
	{ "down", np_cmd_down, "detach and remove what `up` created" },
	{ "status", np_cmd_status, "show what is attached and how" },
	{ "xdp-mode", np_cmd_xdp_mode, "switch XDP live: native, generic or off" },
	{ "prefilter", np_cmd_prefilter, "source-prefix deny/allow rules: add, del, list" },
	{ "stats", np_cmd_stats, "datapath counters by hook and reason" },
	{ "doctor", np_cmd_doctor, "probe what the kernel and the device support" },
	{ "endpoint", np_cmd_endpoint, "pods' devices on the datapath: add, del, list" },
	{ "service", np_cmd_service, "load-balanced services: add, del, get, list" },
	{ "backend", np_cmd_backend, "a service's backends: add, del, set" },
	{ "agent", np_cmd_agent, "the AF_XDP worker pool: run it, status, stop" },
	{ "lab", np_cmd_lab, "a whole node in network namespaces: up, down, status" },
	{ "bench", np_cmd_bench, "benchmark scenarios: tables, ratios, results.json, plots" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: nodepath [--node NS] [-v]... <command> [options]\n"
		   "       nodepath <command> -h\n\n"
		   "  --node NS   act on the node in network namespace NS (default: this host)\n"
		   "  -v          more output; repeat for more\n"
		   "  -h          this help\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %-10s  %s\n", cmds[i].name, cmds[i].help);
	fprintf(f, "\nexit status: 0 ok, 1 rejected or failed, 2 usage error\n");
}

static void vreport(const char *cmd, const char *fmt, va_list ap)
{
	fprintf(stderr, "nodepath: %s%s", cmd ? cmd : "", cmd ? ": " : "");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

int np_usage_err(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(cmd, fmt, ap);
	va_end(ap);
	fprintf(stderr, "try 'nodepath %s -h'\n", cmd ? cmd : "");
	return NP_EXIT_USAGE;
}

int np_fail(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(cmd, fmt, ap);
	va_end(ap);
	return NP_EXIT_FAIL;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "node", required_argument, NULL, 'n' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct np_cli cli = { 0 };
	int c, v = 1;

	np_log_set_prog("nodepath");
	/* '+': stop at the command; its options belong to it. */
	while ((c = getopt_long(argc, argv, "+n:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			cli.node = optarg;
			break;
		case 'v':
			v++;
			break;
		case 'h':
			usage(stdout);
			return NP_EXIT_OK;
		default:
			usage(stderr);
			return NP_EXIT_USAGE;
		}
	}
	np_log_set_verbosity(v);
	np_log_hook_libs();

	if (optind >= argc) {
		usage(stderr);
		return NP_EXIT_USAGE;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(argv[optind], cmds[i].name))
			continue;
		argc -= optind;
		argv += optind;
		optind = 0; /* 0 also resets getopt's internal state */
		return cmds[i].fn(&cli, argc, argv);
	}
	return np_usage_err(NULL, "unknown command \"%s\" (try: nodepath -h)", argv[optind]);
}
