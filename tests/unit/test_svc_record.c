// SPDX-License-Identifier: GPL-2.0
/*
 * Service records (control/service.c): what `down` keeps and `up` restores.
 * A record written by np_svc_record_meta() / np_svc_record_backend() parses
 * back to the same service; absent optional keys take their defaults; every
 * present but invalid value is refused, naming the key.
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
#include <json-c/json.h>

#include "service.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Write s as JSON text and parse that text back into *out. */
static void meta_roundtrip(const struct np_svc_spec *s, struct np_svc_spec *out)
{
	struct json_object *o = np_svc_record_meta(s), *p;
	char err[512] = "";

	p = json_tokener_parse(json_object_to_json_string(o));
	assert_non_null(p);
	memset(out, 0, sizeof(*out));
	if (np_svc_record_parse_meta(p, out, err, sizeof(err)))
		fail_msg("%s: %s", json_object_to_json_string(o), err);
	json_object_put(p);
	json_object_put(o);
}

static void assert_same_meta(const struct np_svc_spec *a, const struct np_svc_spec *b)
{
	assert_int_equal(a->id, b->id);
	assert_int_equal(a->type, b->type);
	assert_int_equal(a->algo, b->algo);
	assert_int_equal(a->mode, b->mode);
	assert_int_equal(a->proto, b->proto);
	assert_int_equal(a->scope, b->scope);
	assert_true(np_svc_addr_eq(&a->vip, &b->vip));
	assert_int_equal(a->affinity_s, b->affinity_s);
	assert_int_equal(a->etp_local, b->etp_local);
	assert_int_equal(a->afxdp, b->afxdp);
	assert_int_equal(a->n_src, b->n_src);
	for (size_t i = 0; i < a->n_src; i++)
		assert_int_equal(np_cidr_cmp(&a->src[i], &b->src[i]), 0);
}

static void test_meta_roundtrip(void **state)
{
	static const struct {
		const char *vip, *type, *algo, *mode, *src[2];
		__u32 id, affinity;
		bool etp_local, afxdp;
	} cases[] = {
		{ "198.18.100.10:80/tcp",
		  "loadbalancer",
		  "maglev",
		  "snat",
		  { "198.18.0.0/24", "10.0.0.0/8" },
		  1,
		  60,
		  false,
		  false },
		{ "[fd00:18:100::10]:443/tcp",
		  "externalip",
		  "random",
		  "dsr",
		  { "fd00:18::/64", NULL },
		  16383,
		  86400,
		  true,
		  true },
		{ "0.0.0.0:30080/udp",
		  "nodeport",
		  "maglev",
		  "dsr",
		  { NULL, NULL },
		  7,
		  0,
		  true,
		  false },
		{ "[::]:30080/tcp",
		  "nodeport",
		  "random",
		  "snat",
		  { NULL, NULL },
		  2,
		  1,
		  false,
		  true },
		{ "198.18.200.10:53/udp",
		  "clusterip",
		  "maglev",
		  "snat",
		  { NULL, NULL },
		  3,
		  0,
		  false,
		  false },
	};
	char err[512];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct np_svc_spec s, back;

		memset(&s, 0, sizeof(s));
		snprintf(s.name, sizeof(s.name), "svc%zu", i);
		s.id = cases[i].id;
		assert_int_equal(np_svc_parse_vip(cases[i].vip, &s.vip, &s.proto, err, sizeof(err)),
				 0);
		assert_int_equal(np_svc_parse_type(cases[i].type, &s.type, err, sizeof(err)), 0);
		assert_int_equal(np_svc_parse_algo(cases[i].algo, &s.algo, err, sizeof(err)), 0);
		assert_int_equal(np_svc_parse_mode(cases[i].mode, &s.mode, err, sizeof(err)), 0);
		s.scope = s.type == NP_SVC_T_NODEPORT ? NP_SVC_SCOPE_NODEPORT : NP_SVC_SCOPE_VIP;
		s.affinity_s = cases[i].affinity;
		s.etp_local = cases[i].etp_local;
		s.afxdp = cases[i].afxdp;
		for (size_t j = 0; j < 2 && cases[i].src[j]; j++) {
			assert_int_equal(
				np_parse_cidr(cases[i].src[j], &s.src[j], err, sizeof(err)), 0);
			s.n_src++;
		}
		meta_roundtrip(&s, &back);
		assert_same_meta(&s, &back);
	}
}

static void test_backend_roundtrip(void **state)
{
	static const struct {
		const char *addr;
		__u32 weight;
		const char *st;
	} cases[] = {
		{ "198.19.1.11:8080", 1, "active" },
		{ "[fd00:19:1::12]:8080", 65535, "terminating" },
		{ "198.19.2.11:1", 7, "quarantined" },
		{ "[fd00:19:2::11]:65535", 2, "maintenance" },
	};
	char err[512];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct np_svc_backend b, back;
		struct json_object *o, *p;

		assert_int_equal(np_svc_parse_backend(cases[i].addr, &b, err, sizeof(err)), 0);
		b.weight = cases[i].weight;
		assert_int_equal(np_svc_parse_state(cases[i].st, &b.state, err, sizeof(err)), 0);
		o = np_svc_record_backend(&b);
		p = json_tokener_parse(json_object_to_json_string(o));
		memset(&back, 0, sizeof(back));
		if (np_svc_record_parse_backend(p, &back, err, sizeof(err)))
			fail_msg("%s: %s", json_object_to_json_string(o), err);
		assert_true(np_svc_addr_eq(&b.a, &back.a));
		assert_int_equal(b.a.family, back.a.family);
		assert_int_equal(b.weight, back.weight);
		assert_int_equal(b.state, back.state);
		json_object_put(p);
		json_object_put(o);
	}
}

/* Records of older versions lack mode, afxdp, etp, affinity, source ranges, weight, state. */
static void test_defaults(void **state)
{
	struct json_object *o;
	struct np_svc_spec s;
	struct np_svc_backend b;
	char err[512];

	(void)state;
	o = json_tokener_parse("{\"name\":\"old\",\"id\":9,\"type\":\"loadbalancer\","
			       "\"vip\":\"198.18.100.10:80/tcp\",\"algo\":\"maglev\"}");
	memset(&s, 0xff, sizeof(s));
	s.be = NULL;
	assert_int_equal(np_svc_record_parse_meta(o, &s, err, sizeof(err)), 0);
	assert_int_equal(s.id, 9);
	assert_int_equal(s.mode, NP_SVC_MODE_SNAT);
	assert_int_equal(s.affinity_s, 0);
	assert_false(s.etp_local);
	assert_false(s.afxdp);
	assert_int_equal(s.n_src, 0);
	assert_int_equal(s.scope, NP_SVC_SCOPE_VIP);
	json_object_put(o);

	o = json_tokener_parse("{\"addr\":\"[fd00:19:1::11]:8080\"}");
	memset(&b, 0xff, sizeof(b));
	assert_int_equal(np_svc_record_parse_backend(o, &b, err, sizeof(err)), 0);
	assert_int_equal(b.weight, 1);
	assert_int_equal(b.state, NP_BE_ACTIVE);
	assert_int_equal(b.a.family, NP_AF_INET6);
	assert_int_equal(b.a.port, 8080);
	json_object_put(o);
}

struct bad {
	const char *json;
	const char *msg;
};

#define META_OK \
	"\"id\":1,\"vip\":\"198.18.100.10:80/tcp\",\"type\":\"loadbalancer\",\"algo\":\"maglev\""

static void test_bad_meta(void **state)
{
	static const struct bad bad[] = {
		{ "[1,2]", "not a JSON object" },
		{ "{\"vip\":\"198.18.100.10:80/tcp\",\"type\":\"clusterip\",\"algo\":\"maglev\"}",
		  "\"id\" is missing" },
		{ "{\"id\":0,\"vip\":\"198.18.100.10:80/tcp\",\"type\":\"clusterip\","
		  "\"algo\":\"maglev\"}",
		  "\"id\": 0 is outside 1..16383" },
		{ "{\"id\":16384,\"vip\":\"198.18.100.10:80/tcp\",\"type\":\"clusterip\","
		  "\"algo\":\"maglev\"}",
		  "\"id\": 16384 is outside" },
		{ "{\"id\":\"1\",\"vip\":\"198.18.100.10:80/tcp\",\"type\":\"clusterip\","
		  "\"algo\":\"maglev\"}",
		  "\"id\" is not an integer" },
		{ "{\"id\":1,\"type\":\"clusterip\",\"algo\":\"maglev\"}", "\"vip\" is missing" },
		{ "{\"id\":1,\"vip\":\"198.18.100.400:80/tcp\",\"type\":\"clusterip\","
		  "\"algo\":\"maglev\"}",
		  "\"vip\": " },
		{ "{\"id\":1,\"vip\":\"198.18.100.10:80\",\"type\":\"clusterip\","
		  "\"algo\":\"maglev\"}",
		  "needs a protocol" },
		{ "{\"id\":1,\"vip\":\"198.18.100.10:80/tcp\",\"type\":\"headless\","
		  "\"algo\":\"maglev\"}",
		  "\"type\": --type \"headless\"" },
		{ "{\"id\":1,\"vip\":\"198.18.100.10:80/tcp\",\"type\":\"clusterip\"}",
		  "\"algo\" is missing" },
		{ "{" META_OK ",\"mode\":\"tunnel\"}", "\"mode\": --mode \"tunnel\"" },
		{ "{" META_OK ",\"mode\":1}", "\"mode\" is not a string" },
		{ "{" META_OK ",\"affinity\":86401}", "\"affinity\": 86401 is outside 0..86400" },
		{ "{" META_OK ",\"affinity\":-1}", "\"affinity\": -1 is outside" },
		{ "{" META_OK ",\"afxdp\":2}", "\"afxdp\": 2 is outside 0..1" },
		{ "{" META_OK ",\"etp\":\"remote\"}", "\"etp\": --etp \"remote\"" },
		{ "{" META_OK ",\"source_ranges\":\"198.18.0.0/24\"}",
		  "\"source_ranges\" is not an array" },
		{ "{" META_OK ",\"source_ranges\":[\"198.18.0.0/24\",\"198.18.0.1/24\"]}",
		  "\"source_ranges\"[1] is not a CIDR" },
		{ "{" META_OK ",\"source_ranges\":[5]}", "\"source_ranges\"[0] is not a CIDR" },
	};
	char err[512];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct json_object *o = json_tokener_parse(bad[i].json);
		struct np_svc_spec s;

		assert_non_null(o);
		memset(&s, 0, sizeof(s));
		err[0] = '\0';
		assert_int_equal(np_svc_record_parse_meta(o, &s, err, sizeof(err)), -EBADMSG);
		if (!strstr(err, bad[i].msg))
			fail_msg("%s: \"%s\" lacks \"%s\"", bad[i].json, err, bad[i].msg);
		json_object_put(o);
	}
	/* 33 source ranges: one more than a service takes */
	{
		struct json_object *o = json_tokener_parse("{" META_OK "}"),
				   *arr = json_object_new_array();
		struct np_svc_spec s;
		char c[32];

		for (int i = 0; i < NP_SVC_SRC_RANGES_MAX + 1; i++) {
			snprintf(c, sizeof(c), "10.%d.0.0/16", i);
			json_object_array_add(arr, json_object_new_string(c));
		}
		json_object_object_add(o, "source_ranges", arr);
		memset(&s, 0, sizeof(s));
		assert_int_equal(np_svc_record_parse_meta(o, &s, err, sizeof(err)), -EBADMSG);
		assert_non_null(strstr(err, "more than 32"));
		json_object_put(o);
	}
}

static void test_bad_backend(void **state)
{
	static const struct bad bad[] = {
		{ "\"198.19.1.11:8080\"", "not a JSON object" },
		{ "{\"weight\":1}", "\"addr\" is missing" },
		{ "{\"addr\":8080}", "\"addr\" is not a string" },
		{ "{\"addr\":\"198.19.1.11\"}",
		  "\"addr\": backend \"198.19.1.11\" is not ADDR:PORT" },
		{ "{\"addr\":\"198.19.1.11:0\"}", "1..65535" },
		{ "{\"addr\":\"fd00:19:1::11:8080\"}", "in brackets" },
		{ "{\"addr\":\"198.19.1.11:8080\",\"weight\":0}",
		  "\"weight\": 0 is outside 1..65535" },
		{ "{\"addr\":\"198.19.1.11:8080\",\"weight\":65536}",
		  "\"weight\": 65536 is outside" },
		{ "{\"addr\":\"198.19.1.11:8080\",\"weight\":\"2\"}",
		  "\"weight\" is not an integer" },
		{ "{\"addr\":\"198.19.1.11:8080\",\"state\":\"draining\"}",
		  "\"state\": --state \"draining\"" },
	};
	char err[512];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct json_object *o = json_tokener_parse(bad[i].json);
		struct np_svc_backend b;

		assert_non_null(o);
		memset(&b, 0, sizeof(b));
		err[0] = '\0';
		assert_int_equal(np_svc_record_parse_backend(o, &b, err, sizeof(err)), -EBADMSG);
		if (!strstr(err, bad[i].msg))
			fail_msg("%s: \"%s\" lacks \"%s\"", bad[i].json, err, bad[i].msg);
		json_object_put(o);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_meta_roundtrip), cmocka_unit_test(test_backend_roundtrip),
		cmocka_unit_test(test_defaults),       cmocka_unit_test(test_bad_meta),
		cmocka_unit_test(test_bad_backend),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
