// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the line parser of `nodepath bench` (control/bench.c,
 * np_bench_parse_line), which reads what the scripts in bench/scenarios/ print, and
 * the statistics over what it collected.
 * fuzz-sut: control/bench.c
 *
 * Input: lines separated by '\n', fed in order into one scenario.
 * Properties: every line is a known kind or rejected with a message and the
 * scenario unchanged; a result line adds exactly one value; a progress
 * line's text lies inside the line; at the end every ratio and target
 * evaluates to a finite number or an error, and a median is finite and lies
 * between min and max (results.json cannot hold inf).
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "fuzz/np_fuzz.h"

static size_t total_results(const struct np_bench_scen *s)
{
	size_t n = 0;

	for (size_t i = 0; i < s->n_var; i++)
		n += s->var[i].n;
	return n;
}

static void one_line(struct np_bench_scen *s, const char *line)
{
	struct np_bench_scen before = *s;
	size_t results = total_results(s);
	const char *text = (const char *)1;
	char err[256] = "";
	int k;

	k = np_bench_parse_line(s, line, &text, err, sizeof(err));
	if (k < 0) {
		NP_CHECK(k == -EINVAL && err[0] && !text);
		NP_CHECK(s->n_var == before.n_var && s->n_base == before.n_base);
		NP_CHECK(s->n_ratio == before.n_ratio && s->n_target == before.n_target);
		NP_CHECK(s->n_skip == before.n_skip && s->n_note == before.n_note);
		NP_CHECK(total_results(s) == results);
		return;
	}
	NP_CHECK(k >= NP_BL_EMPTY && k <= NP_BL_NOTE);
	if (k == NP_BL_PROGRESS)
		NP_CHECK(text >= line && text <= line + strlen(line));
	else
		NP_CHECK(!text);
	NP_CHECK(total_results(s) == results + (k == NP_BL_RESULT));
	NP_CHECK(s->n_var >= before.n_var && s->n_var <= before.n_var + 1);
	NP_CHECK(s->n_note == before.n_note + (k == NP_BL_NOTE));
	NP_CHECK(s->n_ratio == before.n_ratio + (k == NP_BL_RATIO));
	NP_CHECK(s->n_target == before.n_target + (k == NP_BL_TARGET));
	NP_CHECK(s->n_skip == before.n_skip + (k == NP_BL_SKIP));
}

static void evaluate(const struct np_bench_scen *s)
{
	struct np_bench_sum sum;
	double m;
	bool met;

	for (size_t i = 0; i < s->n_var; i++) {
		const struct np_bench_variant *v = &s->var[i];

		NP_CHECK(v->n >= 1 && v->n <= v->cap);
		NP_CHECK(np_bench_variant_find(s, v->name) == v);
		NP_CHECK(np_bench_stats(v->vals, v->n, &sum) == 0);
		NP_CHECK(isfinite(sum.median));
		NP_CHECK(sum.min <= sum.median && sum.median <= sum.max);
	}
	/* results.json holds these numbers: never inf or nan */
	for (size_t i = 0; i < s->n_ratio; i++)
		if (!np_bench_ratio_value(s, s->ratio[i].num, s->ratio[i].den, &m))
			NP_CHECK(isfinite(m));
	for (size_t i = 0; i < s->n_target; i++)
		if (!np_bench_target_eval(s, &s->target[i], &m, &met))
			NP_CHECK(isfinite(m));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct np_bench_scen s;
	char *buf, *line, *nl;

	if (size > 8192)
		return 0;
	buf = malloc(size + 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	memset(&s, 0, sizeof(s));
	for (line = buf; line; line = nl) {
		nl = strchr(line, '\n');
		if (nl)
			*nl++ = '\0';
		one_line(&s, line);
	}
	evaluate(&s);
	np_bench_scen_free(&s);
	free(buf);
	return 0;
}
