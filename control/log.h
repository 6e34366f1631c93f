/* SPDX-License-Identifier: GPL-2.0 */
/* The project's logger: one place for verbosity; libbpf and libxdp print through it. */
#ifndef NP_LOG_H
#define NP_LOG_H

#include <stdarg.h>

enum np_log_level {
	NP_LOG_ERR = 0,	  /* always shown */
	NP_LOG_WARN = 1,  /* always shown */
	NP_LOG_INFO = 2,  /* shown with -v */
	NP_LOG_DEBUG = 3, /* shown with -vv */
};

/* Default 1 (errors and warnings); each -v adds one. */
void np_log_set_verbosity(int v);
int np_log_get_verbosity(void);
/* The program name errors start with ("nodepath"). */
void np_log_set_prog(const char *prog);

/*
 * Errors read "nodepath: <what>: <why>" on stderr. np_err() names what was
 * wrong; callers add the context (the command) themselves.
 */
void np_log(enum np_log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define np_err(...) np_log(NP_LOG_ERR, __VA_ARGS__)
#define np_warn(...) np_log(NP_LOG_WARN, __VA_ARGS__)
#define np_info(...) np_log(NP_LOG_INFO, __VA_ARGS__)
#define np_dbg(...) np_log(NP_LOG_DEBUG, __VA_ARGS__)

/* Route libbpf and libxdp output into np_log, demoted one level. */
void np_log_hook_libs(void);

#endif /* NP_LOG_H */
