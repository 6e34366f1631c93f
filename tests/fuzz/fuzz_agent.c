// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the agent's input parsers (control/agent.c): the line
 * protocol on its unix socket (np_agent_parse_req, which any local client
 * can reach), --queues lists against a device's queue count, --loop.
 * fuzz-sut: control/agent.c
 *
 * Input: a selector byte (bits 0-1: request, queues, loop), for queues
 * a queue-count byte, then the text. Properties: a rejection carries a
 * message; an accepted request names a known operation, with an ifindex
 * in 1..INT_MAX exactly for ep-add/ep-del, and its canonical text
 * ("ep-add 5") is the very line that was accepted; an accepted queue list
 * is sorted, without duplicates, every queue below the device's count and
 * NP_XSK_MAX_QUEUES, and printed back as a list it parses to the same.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "fuzz/np_fuzz.h"

#define ERRLEN 256

static void check_req(const char *line)
{
	char err[ERRLEN] = "", canon[64];
	struct np_agent_req r;

	if (np_agent_parse_req(line, &r, err, sizeof(err))) {
		NP_CHECK(err[0]);
		return;
	}
	NP_CHECK(r.op >= NP_AGENT_PING && r.op <= NP_AGENT_STOP);
	if (r.op == NP_AGENT_EP_ADD || r.op == NP_AGENT_EP_DEL) {
		NP_CHECK(r.ifindex >= 1 && r.ifindex <= INT_MAX);
		snprintf(canon, sizeof(canon), "%s %u", np_agent_op_name(r.op), r.ifindex);
	} else {
		NP_CHECK(!r.ifindex);
		snprintf(canon, sizeof(canon), "%s", np_agent_op_name(r.op));
	}
	NP_CHECK(!strcmp(canon, line));
}

static void check_queues(const char *s, unsigned int nq)
{
	__u32 q[NP_XSK_MAX_QUEUES], q2[NP_XSK_MAX_QUEUES];
	char err[ERRLEN] = "", canon[NP_XSK_MAX_QUEUES * 4];
	unsigned int n = 99, n2, o = 0;

	if (np_agent_parse_queues(s, nq, q, &n, err, sizeof(err))) {
		NP_CHECK(err[0]);
		return;
	}
	NP_CHECK(n >= 1 && n <= NP_XSK_MAX_QUEUES);
	for (unsigned int i = 0; i < n; i++) {
		NP_CHECK(q[i] < nq && q[i] < NP_XSK_MAX_QUEUES);
		NP_CHECK(!i || q[i] > q[i - 1]);
		o += (unsigned int)snprintf(canon + o, sizeof(canon) - o, "%s%u", i ? "," : "",
					    q[i]);
	}
	NP_CHECK(np_agent_parse_queues(canon, nq, q2, &n2, err, sizeof(err)) == 0);
	NP_CHECK(n2 == n && !memcmp(q, q2, n * sizeof(q[0])));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum np_agent_loop loop;
	char *s;

	if (size < 2 || size > 4096)
		return 0;
	s = malloc(size - 1);
	if (!s)
		return 0;
	memcpy(s, data + 2, size - 2);
	s[size - 2] = '\0';
	switch (data[0] % 3) {
	case 0:
		check_req(s);
		break;
	case 1:
		check_queues(s, data[1]);
		break;
	case 2:
		if (!np_agent_parse_loop(s, &loop))
			NP_CHECK(!strcmp(s, loop == NP_AGENT_LOOP_POLL ? "poll" : "uring"));
		break;
	}
	free(s);
	return 0;
}
