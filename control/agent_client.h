/* SPDX-License-Identifier: GPL-2.0 */
/* Talking to a node's agent (control/agent.h) from other commands. */
#ifndef NP_AGENT_CLIENT_H
#define NP_AGENT_CLIENT_H

struct json_object;

/*
 * Send one request line to the agent of `node` (its name: "host" or the
 * netns) and read its one-line answer into *answer (malloc'd, no '\n').
 * Waits at most timeout_ms for each step. Returns 0, -ENOENT or
 * -ECONNREFUSED when no agent runs (nothing logged), or another -errno
 * (logged).
 */
int np_agent_request(const char *node, const char *req, int timeout_ms, char **answer);

/*
 * The same, parsed: *out is the answer object (put it with json_object_put).
 * -EBADMSG (logged) when the answer is not a JSON object.
 */
int np_agent_request_json(const char *node, const char *req, int timeout_ms,
			  struct json_object **out);

/*
 * Tell the agent that an endpoint device came (add true) or went. No agent:
 * 0, silently. An agent that refuses or fails: a warning, still 0 (the
 * datapath change stands). Returns -errno only for local failures.
 */
int np_agent_notify_ep(const char *node, int ifindex, int add);

#endif /* NP_AGENT_CLIENT_H */
