// SPDX-License-Identifier: GPL-2.0
/*
 * The strict input parsers (test plan section 3, "CIDRs") and the ABI size
 * contract. Table-driven: every rejected input names the fragment the
 * message must contain.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "input.h"
#include "stats.h"
#include "nodepath/abi.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct bad_case {
	const char *in;
	const char *msg; /* must appear in the error message */
};

struct good_cidr {
	const char *in;
	int family;
	unsigned int plen;
	const char *canon; /* np_format_cidr() of the result */
};

static const struct bad_case bad_cidrs[] = {
	/* invalid prefix length */
	{ "10.0.0.0/33", "invalid prefix length 33" },
	{ "::/129", "invalid prefix length 129" },
	{ "/-1", "invalid prefix length \"-1\"" },
	{ "10.0.0.0/", "empty prefix length" },
	{ "10.0.0.0/8x", "invalid prefix length \"8x\"" },
	{ "10.0.0.0/08", "leading zero" },
	{ "10.0.0.0/-0", "invalid prefix length" },
	{ "10.0.0.0/+8", "invalid prefix length" },
	{ "::/1290", "invalid prefix length 1290" },
	{ "10.0.0.0/4294967304", "invalid prefix length" },
	{ "10.0.0.0/0x8", "invalid prefix length" },
	{ "10.0.0.0", "has no prefix length" },
	{ "fd00::1", "has no prefix length" },
	{ "10.0.0.0/8/8", "more than one '/'" },
	{ "/8", "no address before '/'" },
	/* host bits: never silently masked */
	{ "10.0.0.1/24", "host bits set in 10.0.0.1/24; did you mean 10.0.0.0/24?" },
	{ "198.18.0.101/16", "did you mean 198.18.0.0/16?" },
	{ "fd00:18::1/64", "host bits set in fd00:18::1/64; did you mean fd00:18::/64?" },
	{ "0.0.0.1/0", "did you mean 0.0.0.0/0?" },
	/* accepted by inet_aton, ambiguous: rejected */
	{ "010.0.0.0/8", "is not an IPv4 address" },
	{ "10.1/16", "is not an IPv4 address" },
	{ "0x0a000000/8", "is not an IPv4 address" },
	{ "1.2.3.04/32", "is not an IPv4 address" },
	{ "256.0.0.0/8", "is not an IPv4 address" },
	{ "1.2.3/24", "is not an IPv4 address" },
	{ "1.2.3.4.5/32", "is not an IPv4 address" },
	{ "10.0.0.0./8", "is not an IPv4 address" },
	{ "gg::/16", "is not an IPv6 address" },
	{ ":::/0", "is not an IPv6 address" },
	{ "1:2:3:4:5:6:7:8:9/128", "is not an IPv6 address" },
	{ "fd00::18::/64", "is not an IPv6 address" },
	/* whitespace, control bytes, non-ASCII digits; an embedded NUL ends the string */
	{ "1.2.3.4/32 ", "space, control or non-ASCII byte at offset 10" },
	{ " 1.2.3.4/32", "offset 0" },
	{ "1.2.3.4 /32", "offset 7" },
	{ "1.2.3.4/3\t2", "offset 9" },
	{ "1.2.3.4/32\n", "offset 10" },
	{ "1.2.3.\xd9\xa4/32", "non-ASCII" },	  /* ARABIC-INDIC DIGIT FOUR */
	{ "\xef\xbc\x91.2.3.4/32", "non-ASCII" }, /* FULLWIDTH DIGIT ONE */
	{ "10.0.0.0\0/8", "has no prefix length" },
	/* IPv4-mapped and zone ids */
	{ "::ffff:10.0.0.0/104", "write the IPv4 form (10.0.0.0/8)" },
	{ "::ffff:198.18.0.1/128", "write the IPv4 form (198.18.0.1/32)" },
	{ "::ffff:0.0.0.0/80", "write the IPv4 form" },
	{ "fe80::/10%eth0", "zone ids are not allowed" },
	{ "fe80::%eth0/10", "zone ids are not allowed" },
	/* empty */
	{ "", "empty CIDR" },
	{ NULL, "empty CIDR" },
	{ "0123456789012345678901234567890123456789012345678901234567890123456789/8", "too long" },
};

static const struct good_cidr good_cidrs[] = {
	{ "0.0.0.0/0", AF_INET, 0, "0.0.0.0/0" },
	{ "10.0.0.0/8", AF_INET, 8, "10.0.0.0/8" },
	{ "198.18.0.0/15", AF_INET, 15, "198.18.0.0/15" },
	{ "198.18.0.101/32", AF_INET, 32, "198.18.0.101/32" },
	{ "255.255.255.255/32", AF_INET, 32, "255.255.255.255/32" },
	{ "::/0", AF_INET6, 0, "::/0" },
	{ "fd00:18::/64", AF_INET6, 64, "fd00:18::/64" },
	{ "FD00:18::/64", AF_INET6, 64, "fd00:18::/64" },
	{ "fd00:0018:0000::/64", AF_INET6, 64, "fd00:18::/64" },
	{ "fd00:18::101/128", AF_INET6, 128, "fd00:18::101/128" },
	{ "fd00::/8", AF_INET6, 8, "fd00::/8" },
	{ "::1/128", AF_INET6, 128, "::1/128" },
	{ "2001:db8::/32", AF_INET6, 32, "2001:db8::/32" },
};

static void test_cidr_rejects(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad_cidrs); i++) {
		struct np_cidr c;
		char err[512] = "";
		int ret;

		memset(&c, 0xa5, sizeof(c));
		ret = np_parse_cidr(bad_cidrs[i].in, &c, err, sizeof(err));
		if (ret != -EINVAL || !strstr(err, bad_cidrs[i].msg)) {
			print_error("input \"%s\": ret %d, message \"%s\", expected \"%s\"\n",
				    bad_cidrs[i].in ? bad_cidrs[i].in : "(null)", ret, err,
				    bad_cidrs[i].msg);
			fail();
		}
		/* a rejected parse leaves the output alone */
		assert_int_equal(c.family, (int)0xa5a5a5a5);
	}
}

static void test_cidr_accepts(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(good_cidrs); i++) {
		char err[512] = "", txt[NP_CIDR_STRLEN];
		struct np_cidr c, again;
		int ret;

		ret = np_parse_cidr(good_cidrs[i].in, &c, err, sizeof(err));
		if (ret) {
			print_error("input \"%s\" rejected: %s\n", good_cidrs[i].in, err);
			fail();
		}
		assert_int_equal(c.family, good_cidrs[i].family);
		assert_int_equal(c.prefixlen, good_cidrs[i].plen);
		assert_int_equal(np_format_cidr(&c, txt, sizeof(txt)), 0);
		assert_string_equal(txt, good_cidrs[i].canon);
		/* the formatted text parses back to the same prefix */
		assert_int_equal(np_parse_cidr(txt, &again, err, sizeof(err)), 0);
		assert_int_equal(np_cidr_cmp(&c, &again), 0);
	}
}

static void test_cidr_format_small_buffer(void **state)
{
	struct np_cidr c;
	char err[256], small[8];

	(void)state;
	assert_int_equal(np_parse_cidr("198.18.0.0/15", &c, err, sizeof(err)), 0);
	assert_int_equal(np_format_cidr(&c, small, sizeof(small)), -ENOSPC);
}

static void test_cidr_contains_and_order(void **state)
{
	struct np_cidr a, b, c, d;
	char err[256];

	(void)state;
	assert_int_equal(np_parse_cidr("198.18.0.0/16", &a, err, sizeof(err)), 0);
	assert_int_equal(np_parse_cidr("198.18.0.101/32", &b, err, sizeof(err)), 0);
	assert_int_equal(np_parse_cidr("198.19.0.0/16", &c, err, sizeof(err)), 0);
	assert_int_equal(np_parse_cidr("fd00::/8", &d, err, sizeof(err)), 0);
	assert_true(np_cidr_contains(&a, &b));
	assert_false(np_cidr_contains(&b, &a) && b.prefixlen <= a.prefixlen);
	assert_false(np_cidr_contains(&a, &c));
	assert_false(np_cidr_contains(&a, &d));
	assert_true(np_cidr_cmp(&a, &b) < 0);
	assert_true(np_cidr_cmp(&b, &c) < 0);
	assert_true(np_cidr_cmp(&c, &d) < 0); /* IPv4 before IPv6 */
	assert_true(np_cidr_cmp(&d, &a) > 0);
}

struct u64_case {
	const char *in;
	uint64_t min, max;
	int ok;
	uint64_t want;
	const char *msg;
};

static const struct u64_case u64_cases[] = {
	{ "1", 1, 100000000, 1, 1, NULL },
	{ "100000000", 1, 100000000, 1, 100000000, NULL },
	{ "0", 0, 10, 1, 0, NULL },
	{ "18446744073709551615", 0, UINT64_MAX, 1, UINT64_MAX, NULL },
	{ "", 1, 10, 0, 0, "empty value (allowed: 1..10)" },
	{ NULL, 1, 10, 0, 0, "empty value" },
	{ "-1", 0, 10, 0, 0, "is not a decimal number (allowed: 0..10)" },
	{ "+1", 0, 10, 0, 0, "is not a decimal number" },
	{ " 1", 0, 10, 0, 0, "is not a decimal number" },
	{ "1 ", 0, 10, 0, 0, "is not a decimal number" },
	{ "0x10", 0, 100, 0, 0, "is not a decimal number" },
	{ "1e3", 0, 10000, 0, 0, "is not a decimal number" },
	{ "1.5", 0, 10, 0, 0, "is not a decimal number" },
	{ "010", 0, 100, 0, 0, "leading zero" },
	{ "0", 1, 100000000, 0, 0, "out of range (allowed: 1..100000000)" },
	{ "100000001", 1, 100000000, 0, 0, "out of range (allowed: 1..100000000)" },
	{ "18446744073709551616", 0, UINT64_MAX, 0, 0, "out of range" },
	{ "99999999999999999999999", 0, UINT64_MAX, 0, 0, "out of range" },
};

static void test_parse_u64(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(u64_cases); i++) {
		const struct u64_case *t = &u64_cases[i];
		uint64_t v = 12345;
		char err[256] = "";
		int ret;

		ret = np_parse_u64("--rate", t->in, t->min, t->max, &v, err, sizeof(err));
		if (t->ok) {
			if (ret) {
				print_error("\"%s\" rejected: %s\n", t->in, err);
				fail();
			}
			assert_true(v == t->want);
		} else {
			if (ret != -EINVAL || !strstr(err, t->msg) || !strstr(err, "--rate")) {
				print_error("\"%s\": ret %d, message \"%s\", expected \"%s\"\n",
					    t->in ? t->in : "(null)", ret, err, t->msg);
				fail();
			}
			assert_true(v == 12345);
		}
	}
}

static void test_parse_u32(void **state)
{
	char err[256];
	uint32_t v = 7;

	(void)state;
	assert_int_equal(
		np_parse_u32("--prefilter-size", "65536", 1, NP_PF_MAX_SIZE, &v, err, sizeof(err)),
		0);
	assert_int_equal(v, 65536);
	assert_int_equal(
		np_parse_u32("--prefilter-size", "65537", 1, NP_PF_MAX_SIZE, &v, err, sizeof(err)),
		-EINVAL);
	assert_non_null(strstr(err, "out of range (allowed: 1..65536)"));
	assert_int_equal(
		np_parse_u32("--prefilter-size", "4294967296", 1, UINT32_MAX, &v, err, sizeof(err)),
		-EINVAL);
	assert_int_equal(v, 65536);
}

static void test_parse_xdp_mode(void **state)
{
	static const char *const bad[] = { "Native", "skb", "drv", "", "native ", "off\n", "1" };
	enum np_xdp_mode m;
	char err[256];

	(void)state;
	assert_int_equal(np_parse_xdp_mode("native", &m, err, sizeof(err)), 0);
	assert_int_equal(m, NP_XDP_NATIVE);
	assert_int_equal(np_parse_xdp_mode("generic", &m, err, sizeof(err)), 0);
	assert_int_equal(m, NP_XDP_GENERIC);
	assert_int_equal(np_parse_xdp_mode("off", &m, err, sizeof(err)), 0);
	assert_int_equal(m, NP_XDP_OFF);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		assert_int_equal(np_parse_xdp_mode(bad[i], &m, err, sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, "not one of: native, generic, off"));
	}
	assert_string_equal(np_xdp_mode_name(NP_XDP_GENERIC), "generic");
	assert_string_equal(np_xdp_mode_name(99), "unknown");
}

static void test_ifname(void **state)
{
	static const char *const good[] = { "uplink", "a", "123456789012345", "veth-0_x.1" };
	static const struct bad_case bad[] = {
		{ "", "empty" },
		{ NULL, "empty" },
		{ "1234567890123456", "16 bytes long (allowed: 1..15 bytes)" },
		{ ".", "not allowed" },
		{ "..", "not allowed" },
		{ "a/b", "offset 1" },
		{ "a:b", "offset 1" },
		{ "a b", "offset 1" },
		{ "eth0 ", "offset 4" },
		{ "\xc3\xa9th0", "offset 0" },
	};
	char err[256];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(good); i++)
		assert_int_equal(np_check_ifname(good[i], err, sizeof(err)), 0);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		err[0] = '\0';
		if (np_check_ifname(bad[i].in, err, sizeof(err)) != -EINVAL ||
		    !strstr(err, bad[i].msg)) {
			print_error("ifname \"%s\": message \"%s\", expected \"%s\"\n",
				    bad[i].in ? bad[i].in : "(null)", err, bad[i].msg);
			fail();
		}
	}
}

static void test_abi_sizes(void **state)
{
	(void)state;
	assert_int_equal(sizeof(struct np_counter), 16);
	assert_int_equal(sizeof(struct np_node_cfg), 112);
	assert_int_equal(sizeof(struct np_svc_key), 24);
	assert_int_equal(sizeof(struct np_svc), 16);
	assert_int_equal(sizeof(struct np_backend), 24);
	assert_int_equal(sizeof(struct np_ct_key), 40);
	assert_int_equal(sizeof(struct np_ct_entry), 56);
	assert_int_equal(sizeof(struct np_aff_key), 24);
	assert_int_equal(sizeof(struct np_aff_val), 16);
	assert_int_equal(sizeof(struct np_srcr_key), 24);
	assert_int_equal(sizeof(struct np_ep_key), 20);
	assert_int_equal(sizeof(struct np_endpoint), 32);
	assert_int_equal(sizeof(struct np_ep_dev), 40);
	assert_int_equal(sizeof(struct np_ep_stats), 32);
	assert_int_equal(sizeof(struct np_ep_stats) % 8, 0);
	assert_int_equal(sizeof(struct np_cfg), 16);
	assert_int_equal(sizeof(struct np_meta), 8);
	assert_int_equal(sizeof(struct np_lpm4_key), 8);
	assert_int_equal(sizeof(struct np_lpm6_key), 20);
	assert_int_equal(sizeof(struct np_pf_rule), 24);
	assert_int_equal(sizeof(struct np_tbucket), 24);
	/* per-CPU values need no padding when their size is a multiple of 8 */
	assert_int_equal(sizeof(struct np_counter) % 8, 0);
	assert_int_equal(NP_PF_IDS(NP_PF_DEFAULT_SIZE), 2 * NP_PF_DEFAULT_SIZE + 1);
	assert_true(NP_PF_DEFAULT_SIZE <= NP_PF_MAX_SIZE);
	/* map names fit BPF_OBJ_NAME_LEN */
	assert_true(strlen(NP_MAP_NODE) < 16 && strlen(NP_MAP_STATS) < 16);
	assert_true(strlen(NP_MAP_PF_V4) < 16 && strlen(NP_MAP_PF_V6) < 16);
	assert_true(strlen(NP_MAP_PF_HITS) < 16 && strlen(NP_MAP_PF_TB) < 16);
	assert_true(strlen(NP_MAP_EP) < 16 && strlen(NP_MAP_EP_DEV) < 16);
	assert_true(strlen(NP_MAP_EP_STATS) < 16);
}

static void test_stat_names(void **state)
{
	(void)state;
	assert_int_equal(np_stat_names_count, NP_STAT__MAX);
	for (unsigned int i = 0; i < NP_STAT__MAX; i++) {
		assert_non_null(np_stat_names[i]);
		for (unsigned int j = 0; j < i; j++)
			assert_string_not_equal(np_stat_names[i], np_stat_names[j]);
	}
	assert_string_equal(np_stat_name(NP_STAT_RX), "rx");
	assert_string_equal(np_stat_name(NP_STAT_JUDGED), "judged");
	assert_string_equal(np_stat_name(NP_DROP_PF_DENY), "pf_deny");
	assert_string_equal(np_stat_name(NP_DROP_ICMP_TRUNC), "icmp_trunc");
	assert_null(np_stat_name(NP_STAT__MAX));
	assert_true(np_stat_is_drop(NP_DROP_PF_RATE));
	assert_false(np_stat_is_drop(NP_STAT_META_FAIL));
	assert_string_equal(np_hook_name(NP_HOOK_XDP), "xdp");
	assert_string_equal(np_hook_name(NP_HOOK_TC_UPLINK_IN), "tc_uplink_in");
	assert_null(np_hook_name(NP_HOOK__MAX));
	assert_true(NP_STATS_ENTRIES >= NP_HOOKS_USED * NP_STAT__MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cidr_rejects),
		cmocka_unit_test(test_cidr_accepts),
		cmocka_unit_test(test_cidr_format_small_buffer),
		cmocka_unit_test(test_cidr_contains_and_order),
		cmocka_unit_test(test_parse_u64),
		cmocka_unit_test(test_parse_u32),
		cmocka_unit_test(test_parse_xdp_mode),
		cmocka_unit_test(test_ifname),
		cmocka_unit_test(test_abi_sizes),
		cmocka_unit_test(test_stat_names),
	};

	return cmocka_run_group_tests_name("input", tests, NULL, NULL);
}
