/* SPDX-License-Identifier: GPL-2.0 */
/* The nodepath CLI: global options and the subcommand handlers. */
#ifndef NP_CLI_H
#define NP_CLI_H

#include <stdbool.h>
#include <stdio.h>

/* Exit statuses. */
#define NP_EXIT_OK 0
#define NP_EXIT_FAIL 1	/* the request was understood and rejected, or failed */
#define NP_EXIT_USAGE 2 /* the request itself is malformed */
#define NP_GO_ON (-1)	/* np_cli_json_opts(): parsed, the handler goes on */

struct np_cli {
	const char *node; /* --node NS, or NULL for the host itself */
};

/*
 * A handler gets argv[0] = its command name ("up", "prefilter", ...) and
 * parses the rest with getopt_long (optind is reset before each call). It
 * returns an NP_EXIT_* status. Handlers that act on a node enter it through
 * np_node_open() (control/node.h); `lab` does not.
 */
typedef int (*np_cmd_fn)(struct np_cli *cli, int argc, char **argv);

int np_cmd_up(struct np_cli *cli, int argc, char **argv);
int np_cmd_down(struct np_cli *cli, int argc, char **argv);
int np_cmd_status(struct np_cli *cli, int argc, char **argv);
int np_cmd_xdp_mode(struct np_cli *cli, int argc, char **argv);
int np_cmd_prefilter(struct np_cli *cli, int argc, char **argv);
int np_cmd_stats(struct np_cli *cli, int argc, char **argv);
int np_cmd_doctor(struct np_cli *cli, int argc, char **argv);
int np_cmd_lab(struct np_cli *cli, int argc, char **argv);
int np_cmd_endpoint(struct np_cli *cli, int argc, char **argv);
int np_cmd_service(struct np_cli *cli, int argc, char **argv);
int np_cmd_backend(struct np_cli *cli, int argc, char **argv);
int np_cmd_agent(struct np_cli *cli, int argc, char **argv);
int np_cmd_bench(struct np_cli *cli, int argc, char **argv);

/*
 * Report a usage error: prints "nodepath: <cmd>: <message>" and a hint to
 * run -h; returns NP_EXIT_USAGE so callers can `return np_usage_err(...)`.
 */
int np_usage_err(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Report a rejected/failed request; returns NP_EXIT_FAIL. */
int np_fail(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Parse the options of a command whose only options are --json and -h/--help
 * and that takes no operands: sets *json. Returns NP_GO_ON to go on, or the
 * status for the handler to return: NP_EXIT_OK after -h printed help(stdout),
 * NP_EXIT_USAGE (reported as for cmd).
 */
int np_cli_json_opts(const char *cmd, int argc, char **argv, void (*help)(FILE *f), bool *json);

#endif /* NP_CLI_H */
