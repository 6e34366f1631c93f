// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "log.h"

static int verbosity = 1;
static const char *prog = "nodepath";

void np_log_set_verbosity(int v)
{
	verbosity = v;
}

int np_log_get_verbosity(void)
{
	return verbosity;
}

void np_log_set_prog(const char *p)
{
	prog = p;
}

static void vlog(enum np_log_level lvl, const char *fmt, va_list ap)
{
	size_t n = strlen(fmt);

	if ((int)lvl > verbosity && lvl > NP_LOG_WARN)
		return;
	if (lvl <= NP_LOG_WARN)
		fprintf(stderr, "%s: %s", prog, lvl == NP_LOG_WARN ? "warning: " : "");
	vfprintf(stderr, fmt, ap);
	if (n == 0 || fmt[n - 1] != '\n')
		fputc('\n', stderr);
}

void np_log(enum np_log_level lvl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(lvl, fmt, ap);
	va_end(ap);
}

/* libbpf's and libxdp's own levels, demoted one step below ours. */
static int lib_print(int lib_lvl, const char *fmt, va_list ap)
{
	enum np_log_level lvl;

	switch (lib_lvl) {
	case LIBBPF_WARN:
		lvl = NP_LOG_INFO;
		break;
	case LIBBPF_INFO:
		lvl = NP_LOG_DEBUG;
		break;
	default:
		if (verbosity < NP_LOG_DEBUG + 1)
			return 0;
		lvl = NP_LOG_DEBUG;
		break;
	}
	if ((int)lvl > verbosity)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static int bpf_print(enum libbpf_print_level l, const char *fmt, va_list ap)
{
	return lib_print((int)l, fmt, ap);
}

static int xdp_print(enum libxdp_print_level l, const char *fmt, va_list ap)
{
	/* libxdp's levels mirror libbpf's: WARN=0, INFO=1, DEBUG=2 */
	return lib_print((int)l, fmt, ap);
}

void np_log_hook_libs(void)
{
	libbpf_set_print(bpf_print);
	libxdp_set_print(xdp_print);
}
