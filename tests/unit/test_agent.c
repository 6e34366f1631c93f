// SPDX-License-Identifier: GPL-2.0
/*
 * The agent's input: its line protocol (np_agent_parse_req), --queues lists
 * against a device's queue count, --loop, and the run-dir paths.
 * Table-driven: every rejected input names a fragment its message must hold.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "agent.h"
#include "agent_client.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct good_req {
	const char *in;
	enum np_agent_op op;
	__u32 ifindex;
};

static const struct good_req good_reqs[] = {
	{ "ping", NP_AGENT_PING, 0 },	    { "stats", NP_AGENT_STATS, 0 },
	{ "ep-add 5", NP_AGENT_EP_ADD, 5 }, { "ep-del 2147483647", NP_AGENT_EP_DEL, 2147483647 },
	{ "drain", NP_AGENT_DRAIN, 0 },	    { "stop", NP_AGENT_STOP, 0 },
};

struct bad_case {
	const char *in;
	const char *msg;
};

static const struct bad_case bad_reqs[] = {
	{ "", "unknown request \"\"" },
	{ "PING", "unknown request \"PING\"" },
	{ "pin", "unknown request" },
	{ "pings", "unknown request" },
	{ "ep-add", "ep-add needs an ifindex" },
	{ "ep-add ", "ep-add needs an ifindex" },
	{ "ep-add 0", "ep-add needs an ifindex (1..2147483647)" },
	{ "ep-add -1", "needs an ifindex" },
	{ "ep-add 05", "needs an ifindex" },
	{ "ep-add 5x", "needs an ifindex" },
	{ "ep-add 2147483648", "needs an ifindex" },
	{ "ep-add 99999999999", "needs an ifindex" },
	{ "ep-add 5 6", "needs an ifindex" },
	{ "ep-del +3", "ep-del needs an ifindex" },
	{ "ping 1", "ping takes no argument" },
	{ "stop now", "stop takes no argument" },
	{ "stats ", "stats takes no argument" },
	{ " ping", "unknown request" },
};

static void test_req_good(void **state)
{
	struct np_agent_req r;
	char err[256];

	for (size_t i = 0; i < ARRAY_SIZE(good_reqs); i++) {
		err[0] = '\0';
		assert_int_equal(np_agent_parse_req(good_reqs[i].in, &r, err, sizeof(err)), 0);
		assert_int_equal(r.op, good_reqs[i].op);
		assert_int_equal(r.ifindex, good_reqs[i].ifindex);
		assert_string_equal(np_agent_op_name(r.op),
				    good_reqs[i].in[0] == 'e'
					    ? (r.op == NP_AGENT_EP_ADD ? "ep-add" : "ep-del")
					    : good_reqs[i].in);
	}
}

static void test_req_bad(void **state)
{
	struct np_agent_req r;
	char err[256];

	for (size_t i = 0; i < ARRAY_SIZE(bad_reqs); i++) {
		err[0] = '\0';
		assert_int_equal(np_agent_parse_req(bad_reqs[i].in, &r, err, sizeof(err)), -EINVAL);
		if (!strstr(err, bad_reqs[i].msg))
			fail_msg("request \"%s\": message \"%s\" lacks \"%s\"", bad_reqs[i].in, err,
				 bad_reqs[i].msg);
	}
}

struct queue_case {
	const char *in;
	unsigned int nq;
	int ret;
	const char *want; /* the list as "0,1,2" (ok) or a message fragment */
};

static const struct queue_case queue_cases[] = {
	{ "0", 1, 0, "0" },
	{ "0,1", 2, 0, "0,1" },
	{ "1,0", 2, 0, "0,1" },
	{ "0-3", 4, 0, "0,1,2,3" },
	{ "0,2-3", 4, 0, "0,2,3" },
	{ "1,1,1-2", 4, 0, "1,2" },
	{ "63", 64, 0, "63" },
	{ "99", 2, -ERANGE, "queue 99 does not exist: the uplink has 2 rx queues (0-1)" },
	{ "1", 1, -ERANGE, "queue 1 does not exist: the uplink has 1 rx queue (0-0)" },
	{ "0-4", 4, -ERANGE, "queue 4 does not exist" },
	{ "64", 100, -ERANGE, "queue 64: the pool serves rx queues 0-63 only" },
	{ "0", 0, -ERANGE, "queue 0 does not exist: the uplink has no rx queue" },
	{ "", 4, -EINVAL, "empty queue list" },
	{ "a", 4, -EINVAL, "bad queue list item \"a\"" },
	{ "-1", 4, -EINVAL, "bad queue list item \"-1\"" },
	{ "3-1", 4, -EINVAL, "bad queue list item \"3-1\"" },
	{ "0,,1", 4, -EINVAL, "bad queue list item \"\"" },
	{ "0,", 4, -EINVAL, "trailing ','" },
	{ "01", 4, -EINVAL, "bad queue list item \"01\"" },
	{ "0-", 4, -EINVAL, "bad queue list item" },
	{ "1 ", 4, -EINVAL, "bad queue list item" },
	{ "4294967296", 4, -EINVAL, "bad queue list item" },
};

static void test_queues(void **state)
{
	__u32 out[NP_XSK_MAX_QUEUES];
	unsigned int n;
	char err[256], got[512];

	for (size_t i = 0; i < ARRAY_SIZE(queue_cases); i++) {
		const struct queue_case *c = &queue_cases[i];
		int ret;

		err[0] = '\0';
		ret = np_agent_parse_queues(c->in, c->nq, out, &n, err, sizeof(err));
		if (ret != c->ret)
			fail_msg("queues \"%s\" (nq %u): %d, want %d (%s)", c->in, c->nq, ret,
				 c->ret, err);
		if (ret) {
			if (!strstr(err, c->want))
				fail_msg("queues \"%s\": message \"%s\" lacks \"%s\"", c->in, err,
					 c->want);
			continue;
		}
		got[0] = '\0';
		for (unsigned int k = 0; k < n; k++)
			snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%u", k ? "," : "",
				 out[k]);
		assert_string_equal(got, c->want);
	}
}

static void test_loop_and_paths(void **state)
{
	enum np_agent_loop l;
	char buf[108];

	assert_int_equal(np_agent_parse_loop("uring", &l), 0);
	assert_int_equal(l, NP_AGENT_LOOP_URING);
	assert_int_equal(np_agent_parse_loop("poll", &l), 0);
	assert_int_equal(l, NP_AGENT_LOOP_POLL);
	assert_int_equal(np_agent_parse_loop("epoll", &l), -EINVAL);
	assert_int_equal(np_agent_parse_loop("", &l), -EINVAL);

	assert_int_equal(np_agent_sock_path("xc-node1", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/run/nodepath/xc-node1.sock");
	assert_int_equal(np_agent_lock_path("host", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/run/nodepath/host.agent.lock");
	assert_int_equal(np_agent_sock_path("0123456789012345678901234567890123456789012345678901"
					    "234567890123456789012345678901234567890123456789",
					    buf, sizeof(buf)),
			 -ENAMETOOLONG);
}

static void test_option_limits(void **state)
{
	/* the values `agent` accepts (shared with the worker, afxdp/xsk.c) */
	assert_int_equal(np_xsk_frame_size_ok(2048), 0);
	assert_int_equal(np_xsk_frame_size_ok(4096), 0);
	assert_int_not_equal(np_xsk_frame_size_ok(3000), 0);
	assert_int_not_equal(np_xsk_frame_size_ok(1024), 0);
	assert_int_equal(np_xsk_ring_size_ok(NP_XSK_RING_DEFAULT), 0);
	assert_int_equal(np_xsk_ring_size_ok(NP_XSK_RING_MAX), 0);
	assert_int_not_equal(np_xsk_ring_size_ok(1000), 0);
	assert_int_not_equal(np_xsk_ring_size_ok(NP_XSK_RING_MAX * 2), 0);
	assert_int_not_equal(np_xsk_ring_size_ok(0), 0);
}

/* No agent for a node: the client says so with -ENOENT, and notify is silent. */
static void test_client_no_agent(void **state)
{
	char *ans = (char *)1;

	assert_int_equal(np_agent_request("np-unit-no-such-node", "ping", 100, &ans), -ENOENT);
	assert_null(ans);
	assert_int_equal(np_agent_notify_ep("np-unit-no-such-node", 5, 1), 0);
	assert_int_equal(np_agent_notify_ep("np-unit-no-such-node", 5, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_req_good),      cmocka_unit_test(test_req_bad),
		cmocka_unit_test(test_queues),	      cmocka_unit_test(test_loop_and_paths),
		cmocka_unit_test(test_option_limits), cmocka_unit_test(test_client_no_agent),
	};

	return cmocka_run_group_tests_name("agent", tests, NULL, NULL);
}
