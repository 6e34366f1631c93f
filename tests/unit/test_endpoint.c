// SPDX-License-Identifier: GPL-2.0
/*
 * The pure checks behind `endpoint add` and `up --pod-cidr`: --ip lists,
 * endpoint names, device kinds, pod ranges and whether an address is a
 * usable pod address of a node. No privileges, no state.
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

#include "endpoint.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct bad_case {
	const char *in;
	const char *msg; /* must appear in the error message */
};

static void test_parse_ips_good(void **state)
{
	struct np_ep_addrs a;
	char err[256], txt[INET6_ADDRSTRLEN];

	(void)state;
	assert_int_equal(np_ep_parse_ips("198.19.1.11", &a, err, sizeof(err)), 0);
	assert_true(a.has4);
	assert_false(a.has6);
	inet_ntop(AF_INET, &a.ip4, txt, sizeof(txt));
	assert_string_equal(txt, "198.19.1.11");

	assert_int_equal(np_ep_parse_ips("fd00:19:1::11", &a, err, sizeof(err)), 0);
	assert_false(a.has4);
	assert_true(a.has6);

	assert_int_equal(np_ep_parse_ips("198.19.1.11,fd00:19:1::11", &a, err, sizeof(err)), 0);
	assert_true(a.has4 && a.has6);
	inet_ntop(AF_INET6, &a.ip6, txt, sizeof(txt));
	assert_string_equal(txt, "fd00:19:1::11");

	/* Either order. */
	assert_int_equal(np_ep_parse_ips("fd00:19:1::11,198.19.1.11", &a, err, sizeof(err)), 0);
	assert_true(a.has4 && a.has6);
}

static void test_parse_ips_bad(void **state)
{
	static const struct bad_case bad[] = {
		{ "", "empty" },
		{ ",", "empty address" },
		{ "198.19.1.11,", "empty address" },
		{ ",198.19.1.11", "empty address" },
		{ "198.19.1.11/32", "without a prefix length" },
		{ "fd00:19:1::11/128", "without a prefix length" },
		{ "198.19.1.300", "not an IPv4 or IPv6 address" },
		{ "198.19.1", "not an IPv4 or IPv6 address" },
		{ "198.19.1.011", "not an IPv4 or IPv6 address" },
		{ "0x7f.0.0.1", "not an IPv4 or IPv6 address" },
		{ " 198.19.1.11", "not an IPv4 or IPv6 address" },
		{ "198.19.1.11 ", "not an IPv4 or IPv6 address" },
		{ "fd00::1%eth0", "not an IPv4 or IPv6 address" },
		{ "::ffff:198.19.1.11", "IPv4-mapped" },
		{ "198.19.1.11,198.19.1.12", "two IPv4 addresses" },
		{ "fd00::1,fd00::2", "two IPv6 addresses" },
		{ "198.19.1.11,fd00::1,fd00::2", "more than two addresses" },
		{ "pod1", "not an IPv4 or IPv6 address" },
	};
	struct np_ep_addrs a;
	char err[256];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		err[0] = '\0';
		if (np_ep_parse_ips(bad[i].in, &a, err, sizeof(err)) != -EINVAL)
			fail_msg("--ip \"%s\" accepted", bad[i].in);
		if (!strstr(err, bad[i].msg))
			fail_msg("--ip \"%s\": message \"%s\" lacks \"%s\"", bad[i].in, err,
				 bad[i].msg);
		assert_false(a.has4 || a.has6);
	}
	assert_int_equal(np_ep_parse_ips(NULL, &a, err, sizeof(err)), -EINVAL);
}

static void test_names(void **state)
{
	static const char *const good[] = { "pod1", "np1", "a", "web-0.prod_x", "abcdefghijklmno" };
	static const char *const bad[] = {
		"", "abcdefghijklmnop", "a/b", "a b", "a:b", "-x", ".x", "é", "a\tb"
	};
	char err[256];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(good); i++)
		if (np_ep_check_name(good[i], err, sizeof(err)))
			fail_msg("name \"%s\" refused: %s", good[i], err);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		err[0] = '\0';
		if (np_ep_check_name(bad[i], err, sizeof(err)) != -EINVAL)
			fail_msg("name \"%s\" accepted", bad[i]);
		assert_non_null(strstr(err, "--name"));
	}
	assert_int_equal(np_ep_check_name(NULL, err, sizeof(err)), -EINVAL);
}

static void test_kinds(void **state)
{
	enum np_ep_kind k;
	enum np_nk_mode m;
	char err[256];

	(void)state;
	assert_int_equal(np_ep_parse_kind("veth", &k, err, sizeof(err)), 0);
	assert_int_equal(k, NP_EP_KIND_VETH);
	assert_int_equal(np_ep_parse_kind("netkit", &k, err, sizeof(err)), 0);
	assert_int_equal(k, NP_EP_KIND_NETKIT);
	assert_int_equal(np_ep_parse_kind("auto", &k, err, sizeof(err)), 0);
	assert_int_equal(k, NP_EP_KIND_AUTO);
	assert_int_equal(np_ep_parse_kind("Veth", &k, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "veth, netkit or auto"));
	assert_int_equal(np_ep_parse_kind("", &k, err, sizeof(err)), -EINVAL);
	assert_int_equal(np_ep_parse_nk_mode("l3", &m, err, sizeof(err)), 0);
	assert_int_equal(m, NP_NK_MODE_L3);
	assert_int_equal(np_ep_parse_nk_mode("l2", &m, err, sizeof(err)), 0);
	assert_int_equal(m, NP_NK_MODE_L2);
	assert_int_equal(np_ep_parse_nk_mode("L2", &m, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "l3 or l2"));
	assert_string_equal(np_ep_kind_name(NP_EP_KIND_VETH), "veth");
	assert_string_equal(np_ep_kind_name(NP_EP_KIND_NETKIT), "netkit");
}

static void test_pod_cidr(void **state)
{
	static const struct bad_case bad[] = {
		{ "", "empty" },
		{ "198.19.1.0/31", "IPv4 prefix length 31 (allowed: 8..30)" },
		{ "10.0.0.0/7", "IPv4 prefix length 7" },
		{ "fd00:19:1::/63", "IPv6 prefix length 63 (allowed: 64..126)" },
		{ "fd00:19:1::/127", "IPv6 prefix length 127" },
		{ "198.19.1.1/24", "--pod-cidr" }, /* host bits set */
		{ "198.19.1.0", "--pod-cidr" },	   /* no prefix length */
		{ "198.19.1.0/24,198.19.2.0/24", "two IPv4 ranges" },
		{ "fd00::/64,fd01::/64", "two IPv6 ranges" },
		{ "198.19.1.0/24,fd00::/64,fd01::/64", "more than two ranges" },
		{ "198.19.1.0/24,", "--pod-cidr" },
	};
	struct np_node_cfg cfg;
	char err[256], txt[128];

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	assert_int_equal(
		np_ep_parse_pod_cidr("198.19.1.0/24,fd00:19:1::/64", &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg.pod_len4, 24);
	assert_int_equal(cfg.pod_len6, 64);
	inet_ntop(AF_INET, cfg.pod_gw4, txt, sizeof(txt));
	assert_string_equal(txt, "198.19.1.1");
	inet_ntop(AF_INET6, cfg.pod_gw6, txt, sizeof(txt));
	assert_string_equal(txt, "fd00:19:1::1");
	np_ep_format_pod_cidr(&cfg, txt, sizeof(txt));
	assert_string_equal(txt, "198.19.1.0/24,fd00:19:1::/64");

	assert_int_equal(np_ep_parse_pod_cidr("fd00:19:2::/64", &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg.pod_len4, 0);
	np_ep_format_pod_cidr(&cfg, txt, sizeof(txt));
	assert_string_equal(txt, "fd00:19:2::/64");

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		err[0] = '\0';
		if (np_ep_parse_pod_cidr(bad[i].in, &cfg, err, sizeof(err)) != -EINVAL)
			fail_msg("--pod-cidr \"%s\" accepted", bad[i].in);
		if (!strstr(err, bad[i].msg))
			fail_msg("--pod-cidr \"%s\": message \"%s\" lacks \"%s\"", bad[i].in, err,
				 bad[i].msg);
		/* A refused range leaves none behind. */
		assert_int_equal(cfg.pod_len4, 0);
		assert_int_equal(cfg.pod_len6, 0);
	}
}

static int check(const struct np_node_cfg *cfg, const char *addr, char *err, size_t len)
{
	unsigned char a[16];
	int family = strchr(addr, ':') ? AF_INET6 : AF_INET;

	assert_int_equal(inet_pton(family, addr, a), 1);
	return np_ep_check_addr(cfg, "np-node1", family, a, err, len);
}

static void test_addr_in_range(void **state)
{
	struct np_node_cfg cfg;
	char err[256];

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	assert_int_equal(
		np_ep_parse_pod_cidr("198.19.1.0/24,fd00:19:1::/64", &cfg, err, sizeof(err)), 0);
	assert_int_equal(check(&cfg, "198.19.1.11", err, sizeof(err)), 0);
	assert_int_equal(check(&cfg, "198.19.1.2", err, sizeof(err)), 0);
	assert_int_equal(check(&cfg, "198.19.1.254", err, sizeof(err)), 0);
	assert_int_equal(check(&cfg, "fd00:19:1::11", err, sizeof(err)), 0);
	assert_int_equal(check(&cfg, "fd00:19:1:0:ffff:ffff:ffff:ffff", err, sizeof(err)), 0);

	assert_int_equal(check(&cfg, "198.20.0.5", err, sizeof(err)), -ERANGE);
	assert_string_equal(err, "198.20.0.5 is outside node np-node1's pod range 198.19.1.0/24");
	assert_int_equal(check(&cfg, "198.19.2.11", err, sizeof(err)), -ERANGE);
	assert_int_equal(check(&cfg, "fd00:19:2::11", err, sizeof(err)), -ERANGE);
	assert_non_null(strstr(err, "outside node np-node1's pod range fd00:19:1::/64"));
	assert_int_equal(check(&cfg, "198.19.1.1", err, sizeof(err)), -ERANGE);
	assert_non_null(strstr(err, "gateway"));
	assert_int_equal(check(&cfg, "fd00:19:1::1", err, sizeof(err)), -ERANGE);
	assert_non_null(strstr(err, "gateway"));
	assert_int_equal(check(&cfg, "198.19.1.0", err, sizeof(err)), -ERANGE);
	assert_non_null(strstr(err, "network address"));
	assert_int_equal(check(&cfg, "fd00:19:1::", err, sizeof(err)), -ERANGE);
	assert_non_null(strstr(err, "network address"));
	assert_int_equal(check(&cfg, "198.19.1.255", err, sizeof(err)), -ERANGE);
	assert_non_null(strstr(err, "broadcast"));

	/* A range that does not end on a byte boundary. */
	assert_int_equal(np_ep_parse_pod_cidr("10.1.2.64/26", &cfg, err, sizeof(err)), 0);
	assert_int_equal(check(&cfg, "10.1.2.100", err, sizeof(err)), 0);
	assert_int_equal(check(&cfg, "10.1.2.128", err, sizeof(err)), -ERANGE);
	assert_int_equal(check(&cfg, "10.1.2.63", err, sizeof(err)), -ERANGE);
	assert_int_equal(check(&cfg, "10.1.2.127", err, sizeof(err)), -ERANGE);
	/* No IPv6 range now. */
	assert_int_equal(check(&cfg, "fd00:19:1::11", err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "no IPv6 pod range"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_ips_good), cmocka_unit_test(test_parse_ips_bad),
		cmocka_unit_test(test_names),	       cmocka_unit_test(test_kinds),
		cmocka_unit_test(test_pod_cidr),       cmocka_unit_test(test_addr_in_range),
	};

	return cmocka_run_group_tests_name("endpoint", tests, NULL, NULL);
}
