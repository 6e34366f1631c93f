// SPDX-License-Identifier: GPL-2.0
/*
 * The benchmark driver's parsing and statistics (control/bench.c): medians of
 * odd and even counts, every line kind of the scenario contract, malformed
 * lines reported (not crashed on, the results unchanged), ratios and targets.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bench.h"

static int parse(struct np_bench_scen *s, const char *line)
{
	const char *text;
	char err[256] = "";
	int k = np_bench_parse_line(s, line, &text, err, sizeof(err));

	if (k < 0)
		assert_true(err[0] != '\0'); /* a malformed line always says why */
	return k;
}

static void test_stats(void **state)
{
	const double odd[] = { 5, 1, 3 }, even[] = { 4, 1, 3, 2 }, one[] = { 7.5 };
	const double same[] = { 2, 2, 2, 2, 2, 2 }, neg[] = { -1, 10, -3, 0.5 };
	struct np_bench_sum s;

	(void)state;
	assert_int_equal(np_bench_stats(odd, 3, &s), 0);
	assert_true(s.median == 3 && s.min == 1 && s.max == 5);
	assert_int_equal(np_bench_stats(even, 4, &s), 0);
	assert_true(s.median == 2.5 && s.min == 1 && s.max == 4);
	assert_int_equal(np_bench_stats(one, 1, &s), 0);
	assert_true(s.median == 7.5 && s.min == 7.5 && s.max == 7.5);
	assert_int_equal(np_bench_stats(same, 6, &s), 0);
	assert_true(s.median == 2);
	assert_int_equal(np_bench_stats(neg, 4, &s), 0);
	assert_true(s.median == -0.25 && s.min == -3 && s.max == 10);
	assert_int_equal(np_bench_stats(odd, 0, &s), -EINVAL);
	/* the input is not reordered */
	assert_true(odd[0] == 5 && odd[1] == 1 && odd[2] == 3);
}

static void test_lines(void **state)
{
	struct np_bench_scen s = { 0 };
	struct np_bench_variant *v;
	const char *text;
	char err[128];

	(void)state;
	assert_int_equal(np_bench_parse_line(&s, "progress round 1 of 4", &text, err, sizeof(err)),
			 NP_BL_PROGRESS);
	assert_string_equal(text, "round 1 of 4");
	assert_int_equal(parse(&s, ""), NP_BL_EMPTY);
	assert_int_equal(parse(&s, "   "), NP_BL_EMPTY);
	assert_int_equal(parse(&s, "result xdp-native 1 5.25 Mpps"), NP_BL_RESULT);
	assert_int_equal(parse(&s, "result xdp-native 2 4.75 Mpps"), NP_BL_RESULT);
	assert_int_equal(parse(&s, "result nft-raw 1 1.5 Mpps"), NP_BL_RESULT);
	assert_int_equal(parse(&s, "result nft-raw 2 1.7 Mpps"), NP_BL_RESULT);
	assert_int_equal(parse(&s, "result ct-hit 1 80 ns"), NP_BL_RESULT);
	assert_int_equal(parse(&s, "result tcp 1 21.5 Gbit/s"), NP_BL_RESULT);
	assert_int_equal(parse(&s, "result crr 1 1.2e4 conn/s"), NP_BL_RESULT);
	assert_int_equal(parse(&s, "baseline nft-raw"), NP_BL_BASELINE);
	assert_int_equal(parse(&s, "baseline nft-raw"), NP_BL_BASELINE); /* once only */
	assert_int_equal(parse(&s, "ratio xdp-native/nft-raw xdp-native nft-raw"), NP_BL_RATIO);
	assert_int_equal(parse(&s, "target xdp-native/nft-raw >= 3 the issue's goal"),
			 NP_BL_TARGET);
	assert_int_equal(parse(&s, "target ct-hit <= 100"), NP_BL_TARGET);
	assert_int_equal(parse(&s, "skip netkit no CONFIG_NETKIT in this kernel"), NP_BL_SKIP);
	assert_int_equal(parse(&s, "note generator and receiver share one CPU"), NP_BL_NOTE);

	assert_int_equal(s.n_var, 5);
	v = np_bench_variant_find(&s, "xdp-native");
	assert_non_null(v);
	assert_int_equal(v->n, 2);
	assert_string_equal(v->unit, "Mpps");
	assert_int_equal(v->rounds[1], 2);
	assert_true(np_bench_variant_find(&s, "crr")->vals[0] == 12000);
	assert_int_equal(s.n_base, 1);
	assert_string_equal(s.ratio[0].num, "xdp-native");
	assert_string_equal(s.ratio[0].den, "nft-raw");
	assert_string_equal(s.target[0].text, "the issue's goal");
	assert_int_equal(s.target[1].op, NP_BENCH_LE);
	assert_string_equal(s.skip[0].reason, "no CONFIG_NETKIT in this kernel");
	assert_string_equal(s.note[0], "generator and receiver share one CPU");
	np_bench_scen_free(&s);
}

static void test_malformed(void **state)
{
	static const char *const bad[] = {
		"result",
		"result a",
		"result a 1",
		"result a 1 2",
		"result a 1 2 Mpps extra",
		"result a 0 2 Mpps",
		"result a -1 2 Mpps",
		"result a x 2 Mpps",
		"result a 1 fast Mpps",
		"result a 1 nan Mpps",
		"result a 1 inf Mpps",
		"result a 1 2 furlongs",
		"result a,b 1 2 Mpps",
		"result a\"b 1 2 Mpps",
		"baseline",
		"baseline a b",
		"ratio r a",
		"ratio r a b c",
		"target r",
		"target r > 3",
		"target r >= three",
		"skip",
		"skip a",
		"results a 1 2 Mpps",
		"hello world",
		"\x01\x02",
		"result aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa "
		"1 2 ns",
		"result a 1 2 Mpps", /* fine: sets a's unit */
		"result a 2 2 ns",   /* a changes unit */
	};
	struct np_bench_scen s = { 0 };
	size_t ok = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (parse(&s, bad[i]) >= 0)
			ok++;
	assert_int_equal(ok, 1);
	assert_int_equal(s.n_var, 1);
	assert_int_equal(s.var[0].n, 1);
	assert_int_equal(s.n_base + s.n_ratio + s.n_target + s.n_skip + s.n_note, 0);
	np_bench_scen_free(&s);
}

static void test_ratios_targets(void **state)
{
	struct np_bench_scen s = { 0 };
	double r;
	bool met;

	(void)state;
	/* native 4, 6, 5, 5 -> median 5; nft 1, 2, 2, 3 -> 2; zero 0 */
	parse(&s, "result native 1 4 Mpps");
	parse(&s, "result nft 1 1 Mpps");
	parse(&s, "result native 2 6 Mpps");
	parse(&s, "result nft 2 2 Mpps");
	parse(&s, "result native 3 5 Mpps");
	parse(&s, "result nft 3 2 Mpps");
	parse(&s, "result native 4 5 Mpps");
	parse(&s, "result nft 4 3 Mpps");
	parse(&s, "result zero 1 0 Mpps");
	parse(&s, "ratio native/nft native nft");
	parse(&s, "ratio native/zero native zero");
	parse(&s, "ratio native/none native none");
	parse(&s, "target native/nft >= 3");
	parse(&s, "target native/nft <= 3");
	parse(&s, "target native >= 5");
	parse(&s, "target missing >= 1");
	parse(&s, "target native/none >= 1");

	assert_int_equal(np_bench_ratio_value(&s, "native", "nft", &r), 0);
	assert_true(r == 2.5);
	assert_int_equal(np_bench_ratio_value(&s, "native", "zero", &r), -ERANGE);
	assert_int_equal(np_bench_ratio_value(&s, "native", "none", &r), -ENOENT);

	assert_int_equal(np_bench_target_eval(&s, &s.target[0], &r, &met), 0);
	assert_true(r == 2.5 && !met);
	assert_int_equal(np_bench_target_eval(&s, &s.target[1], &r, &met), 0);
	assert_true(met);
	assert_int_equal(np_bench_target_eval(&s, &s.target[2], &r, &met), 0);
	assert_true(r == 5 && met); /* a variant's median, boundary included */
	assert_int_equal(np_bench_target_eval(&s, &s.target[3], &r, &met), -ENOENT);
	assert_int_equal(np_bench_target_eval(&s, &s.target[4], &r, &met), -ENOENT);
	np_bench_scen_free(&s);
}

static void test_many(void **state)
{
	struct np_bench_scen s = { 0 };
	struct np_bench_sum sum;
	char line[128];

	(void)state;
	/* arrays grow past their first allocations */
	for (int i = 0; i < 40; i++) {
		snprintf(line, sizeof(line), "result v%d %d %d us", i % 20, i / 20 + 1, i);
		assert_int_equal(parse(&s, line), NP_BL_RESULT);
		snprintf(line, sizeof(line), "baseline v%d", i);
		assert_int_equal(parse(&s, line), NP_BL_BASELINE);
		snprintf(line, sizeof(line), "note n%d", i);
		assert_int_equal(parse(&s, line), NP_BL_NOTE);
	}
	assert_int_equal(s.n_var, 20);
	assert_int_equal(s.n_base, 40);
	assert_int_equal(s.n_note, 40);
	assert_string_equal(s.note[39], "n39");
	assert_int_equal(np_bench_stats(s.var[19].vals, s.var[19].n, &sum), 0);
	assert_true(sum.median == 29 && sum.min == 19 && sum.max == 39);
	np_bench_scen_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stats),	  cmocka_unit_test(test_lines),
		cmocka_unit_test(test_malformed), cmocka_unit_test(test_ratios_targets),
		cmocka_unit_test(test_many),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
