// SPDX-License-Identifier: GPL-2.0
/* The client side of the agent's line protocol (control/agent.h). */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <json-c/json.h>

#include "agent.h"
#include "agent_client.h"
#include "log.h"

#define ANSWER_MAX (1U << 20)

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait until fd is ready for ev or the deadline passes: 0 or -ETIMEDOUT. */
static int wait_fd(int fd, short ev, long long deadline)
{
	struct pollfd p = { .fd = fd, .events = ev };
	long long left;
	int ret;

	for (;;) {
		left = deadline - now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		ret = poll(&p, 1, (int)left);
		if (ret > 0)
			return 0;
		if (ret < 0 && errno != EINTR)
			return -errno;
	}
}

/*
 * After a send() or recv() on the non-blocking fd that returned n: 0 when
 * it moved n bytes, 1 to try again (EAGAIN, and fd became ready for ev
 * before the deadline), else -errno.
 */
static int io_again(int fd, ssize_t n, short ev, long long deadline)
{
	int ret;

	if (n >= 0)
		return 0;
	if (errno != EAGAIN)
		return -errno;
	ret = wait_fd(fd, ev, deadline);
	return ret ? ret : 1;
}

/* np_agent_request(); quiet: log nothing (the caller reports the failure). */
static int request(const char *node, const char *req, int timeout_ms, char **answer, bool quiet)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	long long deadline = now_ms() + timeout_ms;
	size_t len = 0, cap = 4096, sent = 0, rlen = strlen(req);
	char *buf = NULL, *nl;
	ssize_t n;
	int fd, ret;

	*answer = NULL;
	ret = np_agent_sock_path(node, sa.sun_path, sizeof(sa.sun_path));
	if (ret)
		return ret;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		ret = -errno;
		/* No agent: silent. Anything else (EAGAIN: its backlog is full): said. */
		if (ret == -ENOENT || ret == -ECONNREFUSED)
			goto out_close;
		goto out_err;
	}
	while (sent < rlen + 1) {
		const char *p = sent < rlen ? req + sent : "\n";
		size_t left = sent < rlen ? rlen - sent : 1;

		n = send(fd, p, left, MSG_NOSIGNAL);
		ret = io_again(fd, n, POLLOUT, deadline);
		if (ret < 0)
			goto out_err;
		if (ret)
			continue;
		sent += (size_t)n;
	}
	buf = malloc(cap);
	if (!buf) {
		ret = -ENOMEM;
		goto out_close;
	}
	for (;;) {
		if (len + 1 >= cap) {
			char *nb;

			if (cap >= ANSWER_MAX) {
				ret = -EMSGSIZE;
				goto out_err;
			}
			nb = realloc(buf, cap * 2);
			if (!nb) {
				ret = -ENOMEM;
				goto out_free;
			}
			buf = nb;
			cap *= 2;
		}
		n = recv(fd, buf + len, cap - len - 1, 0);
		ret = io_again(fd, n, POLLIN, deadline);
		if (ret < 0)
			goto out_err;
		if (ret)
			continue;
		if (n == 0) {
			ret = -ECONNRESET;
			goto out_err;
		}
		len += (size_t)n;
		buf[len] = '\0';
		nl = strchr(buf, '\n');
		if (nl) {
			*nl = '\0';
			break;
		}
	}
	close(fd);
	*answer = buf;
	return 0;

out_err:
	if (!quiet)
		np_err("agent of node %s: request \"%s\": %s", node, req, strerror(-ret));
out_free:
	free(buf);
out_close:
	close(fd);
	return ret;
}

int np_agent_request(const char *node, const char *req, int timeout_ms, char **answer)
{
	return request(node, req, timeout_ms, answer, false);
}

static int request_json(const char *node, const char *req, int timeout_ms, struct json_object **out,
			bool quiet)
{
	struct json_object *o;
	char *ans;
	int ret;

	*out = NULL;
	ret = request(node, req, timeout_ms, &ans, quiet);
	if (ret)
		return ret;
	o = json_tokener_parse(ans);
	if (!o || !json_object_is_type(o, json_type_object)) {
		if (!quiet)
			np_err("agent of node %s: answer to \"%s\" is not a JSON object: %.80s",
			       node, req, ans);
		json_object_put(o);
		free(ans);
		return -EBADMSG;
	}
	free(ans);
	*out = o;
	return 0;
}

int np_agent_request_json(const char *node, const char *req, int timeout_ms,
			  struct json_object **out)
{
	return request_json(node, req, timeout_ms, out, false);
}

int np_agent_notify_ep(const char *node, int ifindex, int add)
{
	struct json_object *o, *ok, *err;
	char req[64];
	int ret;

	snprintf(req, sizeof(req), "%s %d", add ? "ep-add" : "ep-del", ifindex);
	ret = request_json(node, req, 5000, &o, true);
	if (ret == -ENOENT || ret == -ECONNREFUSED)
		return 0; /* no agent runs for this node */
	if (ret) {
		np_warn("the AF_XDP agent of node %s did not take \"%s\": %s", node, req,
			strerror(-ret));
		return 0;
	}
	if (!json_object_object_get_ex(o, "ok", &ok) || !json_object_get_boolean(ok)) {
		const char *why = json_object_object_get_ex(o, "error", &err)
					  ? json_object_get_string(err)
					  : "no reason given";

		np_warn("the AF_XDP agent of node %s refused \"%s\": %s", node, req, why);
	}
	json_object_put(o);
	return 0;
}
