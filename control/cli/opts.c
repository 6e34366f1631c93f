// SPDX-License-Identifier: GPL-2.0
/* Option parsing shared by several subcommands; see cli.h. */
#include <getopt.h>
#include <stdio.h>

#include "cli.h"

int np_cli_json_opts(const char *cmd, int argc, char **argv, void (*help)(FILE *f), bool *json)
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
			*json = true;
			break;
		case 'h':
			help(stdout);
			return NP_EXIT_OK;
		default:
			return np_usage_err(cmd, "unknown option");
		}
	}
	if (optind < argc)
		return np_usage_err(cmd, "unexpected argument \"%s\"", argv[optind]);
	return NP_GO_ON;
}
