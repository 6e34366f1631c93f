/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The benchmark driver behind `nodepath bench`: runs bench/scenarios/<name>.sh,
 * parses the lines they print (the contract is at the top of bench/lib.sh),
 * and turns the measurements into tables, results.json, results.csv and plots.
 */
#ifndef NP_BENCH_H
#define NP_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define NP_BENCH_NAME_MAX 64
#define NP_BENCH_TEXT_MAX 512
#define NP_BENCH_ROUNDS_MAX 100
#define NP_BENCH_DURATION_MAX 60.0

/* What np_bench_parse_line() recognised. */
enum np_bench_kind {
	NP_BL_EMPTY,
	NP_BL_PROGRESS,
	NP_BL_RESULT,
	NP_BL_BASELINE,
	NP_BL_RATIO,
	NP_BL_TARGET,
	NP_BL_SKIP,
	NP_BL_NOTE,
};

enum np_bench_op {
	NP_BENCH_GE,
	NP_BENCH_LE,
};

struct np_bench_variant {
	char name[NP_BENCH_NAME_MAX];
	char unit[16];
	double *vals;
	unsigned int *rounds;
	size_t n, cap;
};

struct np_bench_ratio {
	char name[2 * NP_BENCH_NAME_MAX];
	char num[NP_BENCH_NAME_MAX];
	char den[NP_BENCH_NAME_MAX];
};

struct np_bench_target {
	char name[2 * NP_BENCH_NAME_MAX];
	enum np_bench_op op;
	double value;
	char text[NP_BENCH_TEXT_MAX];
};

struct np_bench_skip {
	char variant[NP_BENCH_NAME_MAX];
	char reason[NP_BENCH_TEXT_MAX];
};

/* Everything one scenario reported, and how it ended. */
struct np_bench_scen {
	char name[NP_BENCH_NAME_MAX];
	struct np_bench_variant *var;
	size_t n_var;
	char (*base)[NP_BENCH_NAME_MAX];
	size_t n_base;
	struct np_bench_ratio *ratio;
	size_t n_ratio;
	struct np_bench_target *target;
	size_t n_target;
	struct np_bench_skip *skip;
	size_t n_skip;
	char (*note)[NP_BENCH_TEXT_MAX];
	size_t n_note;
	unsigned int bad_lines; /* malformed lines seen (reported, then ignored) */
	int status;		/* exit status of the script (128 + signal when killed) */
	bool ran;		/* the script was started */
	bool ok;		/* it ran and exited 0 */
	double seconds;		/* wall time */
};

/* Median (mean of the two middle values for an even count), min, max. */
struct np_bench_sum {
	double median, min, max;
};

/* Options of one `nodepath bench` run. */
struct np_bench_opts {
	const char *top;	 /* repository root (bench/scenarios lives there) */
	const char *bin;	 /* the nodepath binary, passed as NP_BIN */
	const char *out;	 /* output directory */
	const char *lab_prefix;	 /* two characters; scenario i gets prefix + [1-9a-z] */
	const char *command;	 /* the command line, for results.json */
	const char *const *scen; /* the scenarios to run, in order */
	size_t n_scen;
	unsigned int rounds;
	double duration;
	unsigned int timeout; /* seconds per scenario before it is killed */
	bool smoke;
	bool json; /* results.json on stdout instead of the tables */
};

/* Parsing and statistics (unit-tested). */
int np_bench_stats(const double *v, size_t n, struct np_bench_sum *out);
/*
 * Parse one stdout line of a scenario into s. Returns its kind (>= 0), or
 * -EINVAL with a message in err for a malformed line (s unchanged).
 * For NP_BL_PROGRESS, *text points at the text inside line (else NULL).
 */
int np_bench_parse_line(struct np_bench_scen *s, const char *line, const char **text, char *err,
			size_t errlen);
struct np_bench_variant *np_bench_variant_find(const struct np_bench_scen *s, const char *name);
/*
 * median(num) / median(den): 0, or -ENOENT (a variant without results),
 * -ERANGE (den 0, or the quotient overflows).
 */
int np_bench_ratio_value(const struct np_bench_scen *s, const char *num, const char *den,
			 double *out);
/* A target's measured value (a named ratio, else a variant's median) and whether it is met. */
int np_bench_target_eval(const struct np_bench_scen *s, const struct np_bench_target *t,
			 double *measured, bool *met);
void np_bench_scen_free(struct np_bench_scen *s);

/* The scenarios found in top/bench/scenarios, in the suite's order; free with free(). */
int np_bench_list(const char *top, char ***names, size_t *n);
/* Run everything; returns 0 when every scenario succeeded, 1 otherwise. */
int np_bench_run(const struct np_bench_opts *o);

#endif /* NP_BENCH_H */
