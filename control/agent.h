/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The AF_XDP pool's agent: it forks one worker per uplink rx queue (in the
 * node's namespace), restarts the ones that die, and serves a line protocol
 * on a unix socket, NP_AGENT_RUN_DIR/<node>.sock, from one control loop
 * (io_uring by default, or plain poll()).
 *
 * Protocol: one request per line, one JSON object per answer line.
 *   ping               {"ok":true,"pong":true}
 *   stats              {"ok":true,...,"workers":[{queue,pid,cpu,state,...}]}
 *   ep-add IFINDEX     forwarded to every ready worker, answered when all replied
 *   ep-del IFINDEX     likewise
 *   drain              every worker leaves np_xsk (traffic takes the kernel path)
 *   stop               answered, then the agent drains, stops its workers and exits
 * A request the agent does not understand gets {"ok":false,"error":"..."}.
 * Limits: a line without '\n' in NP_AGENT_REQ_MAX bytes is answered with an
 * error and the connection closed; requests are answered in order, and the
 * agent reads no more of a client's requests while 64 KiB of its answers
 * are unread (it hangs up when they stay unread for 10 s); a forwarded
 * request a worker leaves unanswered for 5 s is answered with an error
 * naming its queue. A client that shuts its sending side still gets the
 * answers to what it sent.
 */
#ifndef NP_AGENT_H
#define NP_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "afxdp/pool.h"
#include "nodepath/abi.h"

#define NP_AGENT_RUN_DIR "/run/nodepath"
#define NP_AGENT_REQ_MAX 128 /* longest request line, '\n' included */

enum np_agent_loop {
	NP_AGENT_LOOP_URING = 0,
	NP_AGENT_LOOP_POLL,
};

enum np_agent_op {
	NP_AGENT_PING = 1,
	NP_AGENT_STATS,
	NP_AGENT_EP_ADD,
	NP_AGENT_EP_DEL,
	NP_AGENT_DRAIN,
	NP_AGENT_STOP,
};

struct np_agent_req {
	enum np_agent_op op;
	__u32 ifindex; /* ep-add, ep-del */
};

/* What `nodepath agent` was asked for (checked by np_agent_run()). */
struct np_agent_opts {
	unsigned int workers;	 /* --workers N: the first N queues; 0: all */
	const char *queues;	 /* --queues LIST, or NULL: all rx queues */
	bool busy_poll;		 /* --busy-poll */
	bool force_copy;	 /* --copy */
	__u32 frame_size;	 /* --frame-size */
	__u32 ring_size;	 /* --ring-size */
	enum np_agent_loop loop; /* --loop */
};

/* The function a worker process runs (np_xsk_worker_main, or a test double). */
typedef int (*np_agent_worker_fn)(const struct np_xsk_worker_cfg *cfg, int ctl_fd,
				  struct np_xsk_counters *ctr);

/*
 * Parse one request line (without its '\n'). 0, or -EINVAL with a message
 * naming what is wrong in err.
 */
int np_agent_parse_req(const char *line, struct np_agent_req *req, char *err, size_t errlen);
/* "ping", "ep-add", ... */
const char *np_agent_op_name(enum np_agent_op op);

/*
 * Parse --queues LIST ("0,1", "0-3", "0,2-3") against a device with nq rx
 * queues into a sorted list without duplicates (out[NP_XSK_MAX_QUEUES]).
 * 0, or -EINVAL with the reason in err.
 */
int np_agent_parse_queues(const char *s, unsigned int nq, __u32 *out, unsigned int *n, char *err,
			  size_t errlen);
/* "uring" or "poll". 0 or -EINVAL. */
int np_agent_parse_loop(const char *s, enum np_agent_loop *out);

/* NP_AGENT_RUN_DIR/<node>.sock and .agent.lock; -ENAMETOOLONG when too long. */
int np_agent_sock_path(const char *node, char *buf, size_t len);
int np_agent_lock_path(const char *node, char *buf, size_t len);

/* Number of rx queues of ifname in the current namespace, or -errno. */
int np_agent_rx_queues(const char *ifname);

struct np_node;
/*
 * Run the agent of node n (already entered) in the foreground until SIGTERM,
 * SIGINT or a `stop` request. Everything is checked before anything changes;
 * a rejected request is reported (once, through np_err) and returns -errno.
 * fn: the worker function (NULL: np_xsk_worker_main).
 */
int np_agent_run(struct np_node *n, const struct np_agent_opts *o, np_agent_worker_fn fn);

/*
 * TESTS ONLY. With NP_AGENT_TEST_WORKER=fake in its environment `nodepath
 * agent` runs np_agent_fake_worker() instead of real workers; with =fail
 * the fake worker fails at start (READY with -EINVAL, exit 1), like a worker
 * whose bind the device refuses. An environment variable rather than an
 * option: it appears in no usage text, cannot be given by accident on a
 * command line, and the agent warns when it is set.
 */
#define NP_AGENT_TEST_WORKER_ENV "NP_AGENT_TEST_WORKER"

/* A worker that moves no frames: READY, answers every request, exits on STOP. */
int np_agent_fake_worker(const struct np_xsk_worker_cfg *cfg, int ctl_fd,
			 struct np_xsk_counters *ctr);

#endif /* NP_AGENT_H */
