// SPDX-License-Identifier: GPL-2.0
/*
 * Service input validation (control/service.c): VIPs, backends, ports,
 * weights, names, families, sizes. Table-driven: every rejected input names
 * a fragment the message must contain.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "maglev.h"
#include "service.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct bad {
	const char *in;
	const char *msg;
};

static void test_names(void **state)
{
	static const char *const good[] = { "web", "a", "web-1.prod", "0", "x123" };
	static const struct bad bad[] = {
		{ "", "1..63" },
		{ "Web", "'W' not allowed" },
		{ "web_1", "'_' not allowed" },
		{ "-web", "start and end" },
		{ "web.", "start and end" },
		{ "..", "start and end" },
		{ "a/b", "'/' not allowed" },
		{ "0123456789012345678901234567890123456789012345678901234567890123", "1..63" },
	};
	char err[512];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(good); i++)
		assert_int_equal(np_svc_check_name(good[i], err, sizeof(err)), 0);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		err[0] = '\0';
		assert_int_equal(np_svc_check_name(bad[i].in, err, sizeof(err)), -EINVAL);
		if (!strstr(err, bad[i].msg))
			fail_msg("name \"%s\": \"%s\" lacks \"%s\"", bad[i].in, err, bad[i].msg);
	}
}

static void test_vips(void **state)
{
	static const struct {
		const char *in;
		__u8 family, proto;
		__u16 port;
		const char *canon;
	} good[] = {
		{ "198.18.100.10:80/tcp", NP_AF_INET, IPPROTO_TCP, 80, "198.18.100.10:80/tcp" },
		{ "[fd00:18:100::10]:443/udp", NP_AF_INET6, IPPROTO_UDP, 443,
		  "[fd00:18:100::10]:443/udp" },
		{ "0.0.0.0:30080/tcp", NP_AF_INET, IPPROTO_TCP, 30080, "0.0.0.0:30080/tcp" },
		{ "[::]:30080/tcp", NP_AF_INET6, IPPROTO_TCP, 30080, "[::]:30080/tcp" },
		{ "1.2.3.4:65535/udp", NP_AF_INET, IPPROTO_UDP, 65535, "1.2.3.4:65535/udp" },
	};
	static const struct bad bad[] = {
		{ "198.18.100.10:80", "needs a protocol" },
		{ "198.18.100.10:80/sctp", "protocol \"sctp\"" },
		{ "198.18.100.10:0/tcp", "port \"0\"" },
		{ "198.18.100.10:65536/tcp", "port \"65536\"" },
		{ "198.18.100.10:/tcp", "empty port" },
		{ "198.18.100.10:08/tcp", "port \"08\"" },
		{ "198.18.100.10:-1/tcp", "port \"-1\"" },
		{ "198.18.100.10/tcp", "not ADDR:PORT" },
		{ "198.18.100.300:80/tcp", "not an IPv4 address" },
		{ "198.018.100.10:80/tcp", "not an IPv4 address" },
		{ "10.1:80/tcp", "not an IPv4 address" },
		{ "fd00::10:80/tcp", "in brackets" },
		{ "[fd00::10]/tcp", "expected \":PORT\"" },
		{ "[fd00::10:80/tcp", "missing ']'" },
		{ "[198.18.100.10]:80/tcp", "not an IPv6 address" },
		{ "[fe80::1%eth0]:80/tcp", "not an IPv6 address" },
		{ "[::ffff:1.2.3.4]:80/tcp", "not an IPv6 address" },
		{ ":80/tcp", "empty address" },
	};
	struct np_svc_addr a;
	char err[512], txt[NP_SVC_ADDRSTRLEN];
	__u8 proto;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		assert_int_equal(np_svc_parse_vip(good[i].in, &a, &proto, err, sizeof(err)), 0);
		assert_int_equal(a.family, good[i].family);
		assert_int_equal(proto, good[i].proto);
		assert_int_equal(a.port, good[i].port);
		np_svc_addr_str(&a, proto, txt, sizeof(txt));
		assert_string_equal(txt, good[i].canon);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		err[0] = '\0';
		assert_int_equal(np_svc_parse_vip(bad[i].in, &a, &proto, err, sizeof(err)),
				 -EINVAL);
		if (!strstr(err, bad[i].msg))
			fail_msg("vip \"%s\": \"%s\" lacks \"%s\"", bad[i].in, err, bad[i].msg);
	}
}

static void test_backends(void **state)
{
	static const struct {
		const char *in;
		__u32 weight;
	} good[] = {
		{ "198.19.1.11:8080", 1 },
		{ "198.19.1.11:8080,weight=2", 2 },
		{ "[fd00:19:1::11]:8080,weight=65535", 65535 },
	};
	static const struct bad bad[] = {
		{ "198.19.1.11:8080,weight=0", "weight \"0\"" },
		{ "198.19.1.11:8080,weight=65536", "weight \"65536\"" },
		{ "198.19.1.11:8080,weight=", "weight \"\"" },
		{ "198.19.1.11:8080,weight=1x", "weight \"1x\"" },
		{ "198.19.1.11:8080,prio=1", "unknown option" },
		{ "198.19.1.11", "not ADDR:PORT" },
		{ "10.1.1.300:80", "not an IPv4 address" },
		{ "198.19.1.11:0", "port \"0\"" },
		{ "198.19.1.11:99999", "port \"99999\"" },
		{ "fd00:19:1::11:8080", "in brackets" },
	};
	struct np_svc_backend b;
	char err[512];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		assert_int_equal(np_svc_parse_backend(good[i].in, &b, err, sizeof(err)), 0);
		assert_int_equal(b.weight, good[i].weight);
		assert_int_equal(b.state, NP_BE_ACTIVE);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		err[0] = '\0';
		assert_int_equal(np_svc_parse_backend(bad[i].in, &b, err, sizeof(err)), -EINVAL);
		if (!strstr(err, bad[i].msg))
			fail_msg("backend \"%s\": \"%s\" lacks \"%s\"", bad[i].in, err, bad[i].msg);
	}
}

/* A spec from text: vip, type, backends (NULL-terminated). */
static void mk_spec(struct np_svc_spec *s, const char *vip, __u8 type, const char *const *be)
{
	char err[512];
	size_t n = 0;

	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "web");
	s->type = type;
	assert_int_equal(np_svc_parse_vip(vip, &s->vip, &s->proto, err, sizeof(err)), 0);
	while (be && be[n])
		n++;
	s->be = calloc(n + 1, sizeof(*s->be));
	assert_non_null(s->be);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(np_svc_parse_backend(be[i], &s->be[i], err, sizeof(err)), 0);
	s->n_be = n;
}

static void expect_spec(struct np_svc_spec *s, __u32 m, int ret, const char *msg)
{
	char err[512] = "";
	int got = np_svc_check_spec(s, m, err, sizeof(err));

	if (got != ret)
		fail_msg("check_spec: %d, expected %d (%s)", got, ret, err);
	if (msg && !strstr(err, msg))
		fail_msg("check_spec: \"%s\" lacks \"%s\"", err, msg);
	np_svc_spec_free(s);
}

static void test_specs(void **state)
{
	static const char *const two[] = { "198.19.1.11:8080", "198.19.1.12:8080,weight=2", NULL };
	static const char *const mixed[] = { "198.19.1.11:8080", "[fd00:19:1::12]:8080", NULL };
	static const char *const dup[] = { "198.19.1.11:8080", "198.19.1.11:8080,weight=3", NULL };
	static const char *const v6[] = { "[fd00:19:1::11]:8080", NULL };
	struct np_svc_spec s;
	char err[512];

	(void)state;
	mk_spec(&s, "198.18.100.10:80/tcp", NP_SVC_T_LOADBALANCER, two);
	expect_spec(&s, 16381, 0, NULL);
	/* nodeport: the unspecified address only, and only there */
	mk_spec(&s, "0.0.0.0:30080/tcp", NP_SVC_T_NODEPORT, two);
	expect_spec(&s, 16381, 0, NULL);
	mk_spec(&s, "198.18.100.10:30080/tcp", NP_SVC_T_NODEPORT, two);
	expect_spec(&s, 16381, -EINVAL, "0.0.0.0:PORT");
	mk_spec(&s, "0.0.0.0:80/tcp", NP_SVC_T_CLUSTERIP, two);
	expect_spec(&s, 16381, -EINVAL, "only for --type nodeport");
	/* family mismatch: a backend, a source range */
	mk_spec(&s, "198.18.100.10:80/tcp", NP_SVC_T_CLUSTERIP, mixed);
	expect_spec(&s, 16381, -EINVAL, "one service, one family");
	mk_spec(&s, "[fd00:18:100::10]:80/tcp", NP_SVC_T_CLUSTERIP, two);
	expect_spec(&s, 16381, -EINVAL, "is IPv4 but the VIP");
	mk_spec(&s, "198.18.100.10:80/tcp", NP_SVC_T_LOADBALANCER, two);
	assert_int_equal(np_parse_cidr("fd00:18::/64", &s.src[0], err, sizeof(err)), 0);
	s.n_src = 1;
	expect_spec(&s, 16381, -EINVAL, "--source-range fd00:18::/64 is IPv6");
	mk_spec(&s, "[fd00:18:100::10]:80/tcp", NP_SVC_T_LOADBALANCER, v6);
	assert_int_equal(np_parse_cidr("fd00:18::/64", &s.src[0], err, sizeof(err)), 0);
	s.n_src = 1;
	expect_spec(&s, 16381, 0, NULL);
	/* duplicate backend */
	mk_spec(&s, "198.18.100.10:80/tcp", NP_SVC_T_CLUSTERIP, dup);
	expect_spec(&s, 16381, -EINVAL, "listed twice");
	/* more backends than the table holds */
	mk_spec(&s, "198.18.100.10:80/tcp", NP_SVC_T_CLUSTERIP, two);
	expect_spec(&s, 1, -E2BIG, "at most 1");
	/* --etp not for clusterip */
	mk_spec(&s, "198.18.100.10:80/tcp", NP_SVC_T_CLUSTERIP, two);
	s.etp_given = true;
	expect_spec(&s, 16381, -EINVAL, "--etp applies to");
	mk_spec(&s, "198.18.100.10:80/tcp", NP_SVC_T_LOADBALANCER, two);
	s.etp_given = s.etp_local = true;
	expect_spec(&s, 16381, 0, NULL);
	/* --mode dsr: not clusterip, backends on the service port */
	mk_spec(&s, "198.18.100.10:80/tcp", NP_SVC_T_LOADBALANCER, two);
	s.mode = NP_SVC_MODE_DSR;
	expect_spec(&s, 16381, -EINVAL, "must listen on the service port 80");
	mk_spec(&s, "198.18.100.10:8080/tcp", NP_SVC_T_LOADBALANCER, two);
	s.mode = NP_SVC_MODE_DSR;
	expect_spec(&s, 16381, 0, NULL);
	mk_spec(&s, "198.18.100.10:8080/tcp", NP_SVC_T_CLUSTERIP, two);
	s.mode = NP_SVC_MODE_DSR;
	expect_spec(&s, 16381, -EINVAL, "not clusterip");
	/* IPv6 (IP6IP6) too, with the same rules */
	mk_spec(&s, "[fd00:18:100::10]:8080/tcp", NP_SVC_T_LOADBALANCER, v6);
	s.mode = NP_SVC_MODE_DSR;
	expect_spec(&s, 16381, 0, NULL);
	mk_spec(&s, "[fd00:18:100::10]:80/tcp", NP_SVC_T_LOADBALANCER, v6);
	s.mode = NP_SVC_MODE_DSR;
	expect_spec(&s, 16381, -EINVAL, "must listen on the service port 80");
	mk_spec(&s, "[fd00:18:100::10]:8080/tcp", NP_SVC_T_CLUSTERIP, v6);
	s.mode = NP_SVC_MODE_DSR;
	expect_spec(&s, 16381, -EINVAL, "not clusterip");
	mk_spec(&s, "[::]:8080/tcp", NP_SVC_T_NODEPORT, v6);
	s.mode = NP_SVC_MODE_DSR;
	expect_spec(&s, 16381, 0, NULL);
	/* no backends at all is a valid (dropping) service */
	mk_spec(&s, "198.18.100.10:80/tcp", NP_SVC_T_CLUSTERIP, NULL);
	expect_spec(&s, 16381, 0, NULL);
}

static void test_words_and_sizes(void **state)
{
	char err[512];
	__u32 v;
	__u8 b;
	bool local;

	(void)state;
	assert_int_equal(np_svc_parse_type("nodeport", &b, err, sizeof(err)), 0);
	assert_int_equal(b, NP_SVC_T_NODEPORT);
	assert_int_equal(np_svc_parse_type("NodePort", &b, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "allowed: clusterip, nodeport, loadbalancer, externalip"));
	assert_int_equal(np_svc_parse_algo("random", &b, err, sizeof(err)), 0);
	assert_int_equal(b, NP_ALGO_RANDOM);
	assert_int_equal(np_svc_parse_state("terminating", &b, err, sizeof(err)), 0);
	assert_int_equal(b, NP_BE_TERMINATING);
	assert_int_equal(np_svc_parse_state("draining", &b, err, sizeof(err)), -EINVAL);
	assert_int_equal(np_svc_parse_etp("local", &local, err, sizeof(err)), 0);
	assert_true(local);
	assert_int_equal(np_svc_parse_maglev_size("16381", &v, err, sizeof(err)), 0);
	assert_int_equal(v, 16381);
	assert_int_equal(np_svc_parse_maglev_size("251", &v, err, sizeof(err)), 0);
	assert_int_equal(np_svc_parse_maglev_size("16384", &v, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not a prime"));
	assert_int_equal(np_svc_parse_maglev_size("241", &v, err, sizeof(err)), -EINVAL);
	assert_int_equal(np_svc_parse_maglev_size("131101", &v, err, sizeof(err)), -EINVAL);
	assert_int_equal(np_svc_parse_ct_size("1024", &v, err, sizeof(err)), 0);
	assert_int_equal(np_svc_parse_ct_size("1023", &v, err, sizeof(err)), -EINVAL);
	assert_int_equal(np_svc_parse_ct_size("16777217", &v, err, sizeof(err)), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),		cmocka_unit_test(test_vips),
		cmocka_unit_test(test_backends),	cmocka_unit_test(test_specs),
		cmocka_unit_test(test_words_and_sizes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
