// SPDX-License-Identifier: GPL-2.0
/*
 * The AF_XDP pool's agent: supervision of the workers and the control loop.
 *
 * One process, the agent, forks one worker per uplink rx queue and serves the
 * line protocol of agent.h on a unix socket. All its events (clients, the
 * workers' control sockets, the workers' deaths through pidfds, SIGTERM and
 * SIGINT through a signalfd, a 1 s tick, restart backoffs) come through one
 * loop: io_uring (default) or poll() (--loop poll), both driving the same
 * event handlers (core_*), so the two can be measured against each other.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <bpf/bpf.h>
#include <json-c/json.h>
#include <liburing.h>

#include "agent.h"
#include "log.h"
#include "node.h"

#define MAX_CONNS 32
#define CONN_BUF 1024
/*
 * Answers queued for one client beyond which the agent stops reading its
 * requests until it has read some (a client that pipelines requests and
 * never reads cannot grow the agent's memory), and how long a client may
 * leave queued answers unread before the agent hangs up on it.
 */
#define CONN_OUT_MAX (64 * 1024)
/* A connection's answer buffer: the backlog, one answer and what is in flight. */
#define CONN_OUT_CAP (4 * CONN_OUT_MAX)
#define CONN_STALL_MS 10000
#define REQ_TIMEOUT_MS 5000 /* a forwarded request the workers have not all answered */
#define LOCK_TRIES 10
#define WAITQ 16
#define TICK_MS 1000
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 2000
#define READY_TIMEOUT_MS 10000
#define DRAIN_TIMEOUT_MS 2000
#define STOP_TIMEOUT_MS 3000
#define URING_ENTRIES 256

/* ---- pure helpers (unit-tested) -------------------------------------- */

static const char *const op_names[] = {
	[NP_AGENT_PING] = "ping",     [NP_AGENT_STATS] = "stats", [NP_AGENT_EP_ADD] = "ep-add",
	[NP_AGENT_EP_DEL] = "ep-del", [NP_AGENT_DRAIN] = "drain", [NP_AGENT_STOP] = "stop",
};

const char *np_agent_op_name(enum np_agent_op op)
{
	if ((unsigned int)op < sizeof(op_names) / sizeof(op_names[0]) && op_names[op])
		return op_names[op];
	return "?";
}

/* A decimal number without sign, leading zeros or junk, <= max. */
static int parse_u32(const char *s, size_t len, __u32 max, __u32 *out)
{
	unsigned long long v = 0;

	if (!len || len > 10 || (len > 1 && s[0] == '0'))
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -EINVAL;
		v = v * 10 + (unsigned int)(s[i] - '0');
	}
	if (v > max)
		return -ERANGE;
	*out = (__u32)v;
	return 0;
}

int np_agent_parse_req(const char *line, struct np_agent_req *req, char *err, size_t errlen)
{
	const char *sp = strchr(line, ' ');
	size_t vlen = sp ? (size_t)(sp - line) : strlen(line);
	unsigned int op;

	memset(req, 0, sizeof(*req));
	for (op = NP_AGENT_PING; op <= NP_AGENT_STOP; op++)
		if (strlen(op_names[op]) == vlen && !strncmp(line, op_names[op], vlen))
			break;
	if (op > NP_AGENT_STOP) {
		snprintf(err, errlen,
			 "unknown request \"%.*s\" (allowed: ping, stats, ep-add IFINDEX, "
			 "ep-del IFINDEX, drain, stop)",
			 (int)(vlen > 32 ? 32 : vlen), line);
		return -EINVAL;
	}
	req->op = op;
	if (op == NP_AGENT_EP_ADD || op == NP_AGENT_EP_DEL) {
		const char *arg = sp ? sp + 1 : "";

		if (parse_u32(arg, strlen(arg), INT_MAX, &req->ifindex) || !req->ifindex) {
			snprintf(err, errlen, "%s needs an ifindex (1..%d), got \"%.32s\"",
				 op_names[op], INT_MAX, arg);
			return -EINVAL;
		}
		return 0;
	}
	if (sp) {
		snprintf(err, errlen, "%s takes no argument, got \"%.32s\"", op_names[op], sp + 1);
		return -EINVAL;
	}
	return 0;
}

int np_agent_parse_queues(const char *s, unsigned int nq, __u32 *out, unsigned int *n, char *err,
			  size_t errlen)
{
	bool seen[NP_XSK_MAX_QUEUES] = { 0 };
	const char *p = s;

	*n = 0;
	if (!*s) {
		snprintf(err, errlen, "empty queue list (e.g. 0,1 or 0-3)");
		return -EINVAL;
	}
	while (*p) {
		const char *end = strchr(p, ','), *dash;
		size_t len = end ? (size_t)(end - p) : strlen(p);
		__u32 lo, hi;
		int ret;

		dash = memchr(p, '-', len);
		if (dash) {
			ret = parse_u32(p, (size_t)(dash - p), UINT32_MAX, &lo);
			if (!ret)
				ret = parse_u32(dash + 1, len - (size_t)(dash - p) - 1, UINT32_MAX,
						&hi);
		} else {
			ret = parse_u32(p, len, UINT32_MAX, &lo);
			hi = lo;
		}
		if (ret || lo > hi) {
			snprintf(err, errlen,
				 "bad queue list item \"%.*s\" in \"%s\" (numbers or ranges "
				 "LO-HI, e.g. 0,1 or 0-3)",
				 (int)len, p, s);
			return -EINVAL;
		}
		if (hi >= nq) {
			if (!nq)
				snprintf(err, errlen,
					 "queue %u does not exist: the uplink has no rx queue", lo);
			else
				snprintf(err, errlen,
					 "queue %u does not exist: the uplink has %u rx queue%s "
					 "(0-%u)",
					 lo >= nq ? lo : nq, nq, nq == 1 ? "" : "s", nq - 1);
			return -ERANGE;
		}
		if (hi >= NP_XSK_MAX_QUEUES) {
			snprintf(err, errlen,
				 "queue %u: the pool serves rx queues 0-%u only (np_xsk has %u "
				 "entries)",
				 lo >= NP_XSK_MAX_QUEUES ? lo : NP_XSK_MAX_QUEUES,
				 NP_XSK_MAX_QUEUES - 1, NP_XSK_MAX_QUEUES);
			return -ERANGE;
		}
		for (__u32 q = lo; q <= hi; q++)
			seen[q] = true;
		if (!end)
			break;
		p = end + 1;
		if (!*p) {
			snprintf(err, errlen, "trailing ',' in queue list \"%s\"", s);
			return -EINVAL;
		}
	}
	for (__u32 q = 0; q < NP_XSK_MAX_QUEUES; q++)
		if (seen[q])
			out[(*n)++] = q;
	return 0;
}

int np_agent_parse_loop(const char *s, enum np_agent_loop *out)
{
	if (!strcmp(s, "uring"))
		*out = NP_AGENT_LOOP_URING;
	else if (!strcmp(s, "poll"))
		*out = NP_AGENT_LOOP_POLL;
	else
		return -EINVAL;
	return 0;
}

static int run_path(const char *node, const char *suffix, char *buf, size_t len)
{
	int r = snprintf(buf, len, "%s/%s%s", NP_AGENT_RUN_DIR, node, suffix);

	return r < 0 || (size_t)r >= len ? -ENAMETOOLONG : 0;
}

int np_agent_sock_path(const char *node, char *buf, size_t len)
{
	return run_path(node, ".sock", buf, len);
}

int np_agent_lock_path(const char *node, char *buf, size_t len)
{
	return run_path(node, ".agent.lock", buf, len);
}

int np_agent_rx_queues(const char *ifname)
{
	struct ethtool_channels ch = { .cmd = ETHTOOL_GCHANNELS };
	struct ifreq ifr = { 0 };
	int fd, ret;

	if (strlen(ifname) >= IFNAMSIZ)
		return -ENAMETOOLONG;
	strcpy(ifr.ifr_name, ifname);
	ifr.ifr_data = (void *)&ch;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	ret = ioctl(fd, SIOCETHTOOL, &ifr) ? -errno : 0;
	close(fd);
	if (ret == -EOPNOTSUPP)
		return 1; /* no channels: a single-queue device */
	if (ret)
		return ret;
	return ch.rx_count + ch.combined_count ? (int)(ch.rx_count + ch.combined_count) : 1;
}

/* ---- the fake worker (tests only: NP_AGENT_TEST_WORKER) ------------- */

int np_agent_fake_worker(const struct np_xsk_worker_cfg *cfg, int ctl_fd,
			 struct np_xsk_counters *ctr)
{
	struct np_xsk_ctl_reply r = { .op = NP_XSK_CTL_READY };
	struct np_xsk_ctl m;
	ssize_t n;

	const char *mode = getenv(NP_AGENT_TEST_WORKER_ENV);

	ctr->zerocopy = 0;
	if (mode && !strcmp(mode, "fail")) {
		/* tests: a worker whose bind the device refuses */
		np_err("fake worker of queue %u: bind to ifindex %d (frame size %u): %s "
		       "(%s=fail)",
		       cfg->queue, cfg->uplink_ifindex, cfg->frame_size, strerror(EINVAL),
		       NP_AGENT_TEST_WORKER_ENV);
		r.err = -EINVAL;
		send(ctl_fd, &r, sizeof(r), MSG_NOSIGNAL);
		return 1;
	}
	if (send(ctl_fd, &r, sizeof(r), MSG_NOSIGNAL) < 0)
		return 1;
	for (;;) {
		n = recv(ctl_fd, &m, sizeof(m), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return 0;
		r.op = m.op;
		r.err = 0;
		r.value = 0;
		if (send(ctl_fd, &r, sizeof(r), MSG_NOSIGNAL) < 0)
			return 1;
		if (m.op == NP_XSK_CTL_STOP)
			return 0;
	}
}

/* ---- state ------------------------------------------------------------ */

enum wstate { W_DOWN, W_STARTING, W_READY, W_DRAINED };
static const char *const wstate_names[] = { "down", "starting", "ready", "drained" };

enum phase { PH_START, PH_RUN, PH_DRAIN, PH_STOP, PH_DONE };

/* Who waits for a worker's answer: a client connection, or the agent itself (conn -1). */
struct waiter {
	int conn;
	__u32 gen;
	__u32 seq; /* the connection's request it answers (conn_seq) */
	__u32 op;
};

struct worker {
	__u32 queue;
	int cpu;
	enum wstate state;
	pid_t pid;
	int pidfd;
	int ctl;
	bool ctl_eof;
	__u32 gen; /* bumped when the worker's fds go: stale completions are ignored */
	bool ever_ready;
	int setup_err; /* READY with an error: why it failed to start */
	long long started_ms;
	long long restart_at_ms; /* 0: no restart scheduled */
	unsigned int backoff_ms;
	struct waiter wq[WAITQ];
	unsigned int wq_head, wq_len;
	struct np_xsk_ctl_reply rbuf; /* io_uring recv target */
	struct __kernel_timespec rts; /* io_uring restart timeout */
};

struct conn {
	bool used;
	bool closing;
	bool recv_busy; /* io_uring: a recv in flight */
	bool send_busy; /* io_uring: a send in flight */
	bool rd_eof;	/* the client shut its side: answer what it asked, then close */
	int fd;
	long long out_since_ms; /* answers queued unread since then (0: none) */
	__u32 gen;
	char in[CONN_BUF];
	size_t inlen;
	char *out;
	size_t outlen, outoff, outcap;
	/* a forwarded request waiting for the workers */
	struct np_agent_req cur;
	__u32 seq; /* bumped per forwarded request: late answers are told apart */
	long long wait_since_ms;
	unsigned int waiting, nworkers;
	char werr[160];
};

struct agent;

struct loop_ops {
	const char *name;
	int (*init)(struct agent *a);
	int (*iterate)(struct agent *a); /* wait once, dispatch what came */
	void (*fini)(struct agent *a);
	void (*conn_arm)(struct agent *a, int ci);   /* make sure input is awaited */
	void (*conn_flush)(struct agent *a, int ci); /* get pending output going */
	void (*worker_arm)(struct agent *a, int wi); /* a new worker's ctl + pidfd */
	void (*restart_arm)(struct agent *a, int wi);
};

struct agent {
	struct np_node *n;
	const struct np_agent_opts *o;
	np_agent_worker_fn fn;
	const struct loop_ops *ops;
	struct np_xsk_worker_cfg base;
	char uplink[IFNAMSIZ];
	struct worker w[NP_XSK_MAX_QUEUES];
	unsigned int nw;
	struct np_xsk_counters *ctr;
	size_t ctr_len;
	struct conn c[MAX_CONNS];
	int lfd, sfd, xsk_fd, lock_fd;
	char sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char lock_path[PATH_MAX];
	sigset_t oldmask;
	enum phase phase;
	long long phase_deadline;
	unsigned int shut_wait;
	int result; /* 0, or -errno once startup failed */
	pid_t self;
	long long start_ms, tick_next, tick_last;
	__u64 iterations, iter_last;
	double wps; /* loop iterations per second over the last tick */
	__u64 requests;
	bool warned_nopidfd;
	/* io_uring */
	struct io_uring ring;
	bool ring_ok;
	bool accept_armed; /* uring: the multishot accept is live; poll: lfd is polled */
	struct signalfd_siginfo sinfo;
	struct __kernel_timespec tick_ts;
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- answers -------------------------------------------------------- */

/* Drop the answers already sent from c's buffer (no send may be in flight). */
static void conn_compact(struct conn *c)
{
	if (!c->outoff)
		return;
	memmove(c->out, c->out + c->outoff, c->outlen - c->outoff);
	c->outlen -= c->outoff;
	c->outoff = 0;
}

static void conn_write(struct agent *a, int ci, const char *s)
{
	struct conn *c = &a->c[ci];
	size_t len = strlen(s);

	if (c->closing)
		return;
	if (!c->out) {
		c->out = malloc(CONN_OUT_CAP);
		if (!c->out) {
			np_err("agent: answer to a client: out of memory");
			c->closing = true;
			return;
		}
		c->outcap = CONN_OUT_CAP;
	}
	/*
	 * The buffer never moves (no realloc): an io_uring send in flight
	 * reads from it until it completes. Room comes from dropping what was
	 * sent, while no send is in flight.
	 */
	if (c->outlen + len + 1 > c->outcap && !c->send_busy)
		conn_compact(c);
	if (c->outlen + len + 1 > c->outcap) {
		np_warn("agent: answer of %zu bytes, %zu bytes of room: closing the client",
			len + 1, c->outcap - c->outlen);
		c->closing = true;
		return;
	}
	memcpy(c->out + c->outlen, s, len);
	c->outlen += len;
	c->out[c->outlen++] = '\n';
	if (!c->out_since_ms)
		c->out_since_ms = now_ms();
	a->ops->conn_flush(a, ci);
}

static void conn_write_json(struct agent *a, int ci, struct json_object *o)
{
	conn_write(a, ci,
		   json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							     JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

static void conn_write_err(struct agent *a, int ci, const char *op, const char *msg)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "ok", json_object_new_boolean(0));
	if (op)
		json_object_object_add(o, "op", json_object_new_string(op));
	json_object_object_add(o, "error", json_object_new_string(msg));
	conn_write_json(a, ci, o);
}

/* Answers queued for c, not yet taken by the socket. */
static size_t conn_backlog(const struct conn *c)
{
	return c->outlen - c->outoff;
}

static void conn_maybe_free(struct agent *a, int ci)
{
	struct conn *c = &a->c[ci];

	if (!c->used)
		return;
	/* A half-closed client gets the answers to what it asked first. */
	if (c->rd_eof && !c->waiting && !conn_backlog(c))
		c->closing = true;
	if (!c->closing || c->recv_busy || c->send_busy)
		return;
	close(c->fd);
	free(c->out);
	c->out = NULL;
	c->outlen = c->outoff = c->outcap = 0;
	c->out_since_ms = 0;
	c->inlen = 0;
	c->waiting = 0;
	c->used = false;
	c->closing = false;
	c->rd_eof = false;
	c->fd = -1;
	c->gen++;
}

/*
 * Hang up on a client now: shutdown() ends the recv and send io_uring may
 * have in flight on it (their completions free the slot).
 */
static void conn_abort(struct agent *a, int ci)
{
	struct conn *c = &a->c[ci];

	if (!c->used)
		return;
	c->closing = true;
	shutdown(c->fd, SHUT_RDWR);
	conn_maybe_free(a, ci);
}

/* ---- stats ------------------------------------------------------------ */

static long self_rss_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static int self_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the directory's own fd */
}

static const char *const drop_names[NP_XSK_DROP__MAX] = {
	[NP_XSK_DROP_NO_META] = "no_meta",
	[NP_XSK_DROP_NO_EP] = "no_ep",
	[NP_XSK_DROP_TX_FULL] = "tx_full",
	[NP_XSK_DROP_INVALID] = "invalid",
};

static __u64 rd(const __u64 *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static struct json_object *stats_json(struct agent *a)
{
	struct json_object *o = json_object_new_object(), *ws = json_object_new_array();
	char num[32];

	json_object_object_add(o, "ok", json_object_new_boolean(1));
	json_object_object_add(o, "node", json_object_new_string(a->n->name));
	json_object_object_add(o, "pid", json_object_new_int(a->self));
	json_object_object_add(o, "loop", json_object_new_string(a->ops->name));
	json_object_object_add(o, "phase",
			       json_object_new_string(a->phase == PH_START ? "starting"
						      : a->phase == PH_RUN ? "running"
									   : "stopping"));
	json_object_object_add(o, "uplink", json_object_new_string(a->uplink));
	json_object_object_add(o, "frame_size", json_object_new_int((int)a->base.frame_size));
	json_object_object_add(o, "ring_size", json_object_new_int((int)a->base.ring_size));
	json_object_object_add(o, "busy_poll", json_object_new_boolean(a->base.busy_poll));
	json_object_object_add(o, "uptime_ms", json_object_new_int64(now_ms() - a->start_ms));
	json_object_object_add(o, "iterations", json_object_new_uint64(a->iterations));
	snprintf(num, sizeof(num), "%.2f", a->wps);
	json_object_object_add(o, "wakeups_per_s", json_object_new_double_s(a->wps, num));
	json_object_object_add(o, "requests", json_object_new_uint64(a->requests));
	json_object_object_add(o, "fds", json_object_new_int(self_fds()));
	json_object_object_add(o, "rss_kb", json_object_new_int64(self_rss_kb()));
	for (unsigned int i = 0; i < a->nw; i++) {
		const struct worker *w = &a->w[i];
		const struct np_xsk_counters *k = &a->ctr[i];
		struct json_object *wo = json_object_new_object(), *d = json_object_new_object();

		json_object_object_add(wo, "queue", json_object_new_int((int)w->queue));
		json_object_object_add(wo, "pid", json_object_new_int(w->pid));
		json_object_object_add(wo, "cpu", json_object_new_int(w->cpu));
		json_object_object_add(wo, "state", json_object_new_string(wstate_names[w->state]));
		json_object_object_add(
			wo, "zerocopy",
			json_object_new_boolean(__atomic_load_n(&k->zerocopy, __ATOMIC_RELAXED)));
		json_object_object_add(wo, "restarts", json_object_new_uint64(rd(&k->restarts)));
		json_object_object_add(wo, "rx", json_object_new_uint64(rd(&k->rx)));
		json_object_object_add(wo, "tx", json_object_new_uint64(rd(&k->tx)));
		json_object_object_add(wo, "rx_bytes", json_object_new_uint64(rd(&k->rx_bytes)));
		json_object_object_add(wo, "tx_bytes", json_object_new_uint64(rd(&k->tx_bytes)));
		json_object_object_add(wo, "fill_empty",
				       json_object_new_uint64(rd(&k->fill_empty)));
		json_object_object_add(wo, "tx_ring_full",
				       json_object_new_uint64(rd(&k->tx_ring_full)));
		json_object_object_add(wo, "invalid_desc",
				       json_object_new_uint64(rd(&k->invalid_desc)));
		json_object_object_add(wo, "wakeups", json_object_new_uint64(rd(&k->wakeups)));
		json_object_object_add(wo, "rx_ring_full",
				       json_object_new_uint64(rd(&k->rx_ring_full)));
		json_object_object_add(wo, "rx_dropped",
				       json_object_new_uint64(rd(&k->rx_dropped)));
		for (int r = 0; r < NP_XSK_DROP__MAX; r++)
			json_object_object_add(d, drop_names[r],
					       json_object_new_uint64(rd(&k->drops[r])));
		json_object_object_add(wo, "drops", d);
		json_object_array_add(ws, wo);
	}
	json_object_object_add(o, "workers", ws);
	return o;
}

/* ---- workers ---------------------------------------------------------- */

static int worker_send(struct worker *w, __u32 op, __u32 ifindex)
{
	struct np_xsk_ctl m = { .op = op, .ifindex = ifindex };

	if (w->ctl < 0 || w->ctl_eof)
		return -ENOTCONN;
	if (send(w->ctl, &m, sizeof(m), MSG_DONTWAIT | MSG_NOSIGNAL) != sizeof(m))
		return -errno;
	return 0;
}

static int worker_push(struct worker *w, int conn, __u32 gen, __u32 seq, __u32 op)
{
	if (w->wq_len == WAITQ)
		return -EBUSY;
	w->wq[(w->wq_head + w->wq_len++) % WAITQ] = (struct waiter){ conn, gen, seq, op };
	return 0;
}

static void conn_process(struct agent *a, int ci);
static void conn_check_stalled(struct agent *a, long long now);
static void enter_stop(struct agent *a);

static void fwd_answer(struct agent *a, int ci)
{
	struct conn *c = &a->c[ci];
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "ok", json_object_new_boolean(!c->werr[0]));
	json_object_object_add(o, "op", json_object_new_string(np_agent_op_name(c->cur.op)));
	if (c->cur.ifindex)
		json_object_object_add(o, "ifindex", json_object_new_int((int)c->cur.ifindex));
	json_object_object_add(o, "workers", json_object_new_int((int)c->nworkers));
	if (c->werr[0])
		json_object_object_add(o, "error", json_object_new_string(c->werr));
	conn_write_json(a, ci, o);
	a->ops->conn_arm(a, ci);
}

/* A worker answered (err) or went away (gone) for waiter wt. */
static void waiter_done(struct agent *a, struct worker *w, const struct waiter *wt, int err,
			bool gone)
{
	struct conn *c;

	if (wt->conn < 0) {
		if (a->shut_wait && !--a->shut_wait && a->phase == PH_DRAIN)
			enter_stop(a);
		return;
	}
	c = &a->c[wt->conn];
	/* Not (any more) what this connection waits for: it went, or timed out. */
	if (!c->used || c->gen != wt->gen || c->seq != wt->seq || !c->waiting)
		return;
	if (!gone) {
		c->nworkers++;
		if (err && !c->werr[0])
			snprintf(c->werr, sizeof(c->werr), "queue %u: %s", w->queue,
				 strerror(-err));
		if (!err && wt->op == NP_XSK_CTL_DRAIN)
			w->state = W_DRAINED;
	}
	if (!--c->waiting) {
		fwd_answer(a, wt->conn);
		conn_process(a, wt->conn);
	}
}

static bool all_ready(const struct agent *a)
{
	for (unsigned int i = 0; i < a->nw; i++)
		if (a->w[i].state != W_READY)
			return false;
	return true;
}

static bool all_down(const struct agent *a)
{
	for (unsigned int i = 0; i < a->nw; i++)
		if (a->w[i].pid > 0)
			return false;
	return true;
}

static void core_worker_msg(struct agent *a, int wi, const struct np_xsk_ctl_reply *r)
{
	struct worker *w = &a->w[wi];
	struct waiter wt;

	if (r->op == NP_XSK_CTL_READY && r->err) {
		w->setup_err = r->err;
		return; /* it exits: core_worker_exit() reports */
	}
	if (r->op == NP_XSK_CTL_READY) {
		__atomic_store_n(&a->ctr[wi].zerocopy, r->value ? 1 : 0, __ATOMIC_RELAXED);
		w->ever_ready = true;
		w->backoff_ms = BACKOFF_MIN_MS;
		if (a->phase > PH_RUN)
			return; /* enter_stop() sends it STOP */
		w->state = W_READY;
		np_info("agent: worker of queue %u ready (pid %d, cpu %d, %s mode)", w->queue,
			w->pid, w->cpu, r->value ? "zero-copy" : "copy");
		if (a->phase == PH_START && all_ready(a)) {
			a->phase = PH_RUN;
			printf("agent of node %s: %u worker%s ready on %s (%s mode, frame %u, ring "
			       "%u, "
			       "loop %s); socket %s\n",
			       a->n->name, a->nw, a->nw == 1 ? "" : "s", a->uplink,
			       r->value ? "zero-copy" : "copy", a->base.frame_size,
			       a->base.ring_size, a->ops->name, a->sock_path);
			fflush(stdout);
		}
		return;
	}
	if (!w->wq_len || w->wq[w->wq_head].op != r->op)
		return; /* e.g. the answer to a STOP nobody waits for */
	wt = w->wq[w->wq_head];
	w->wq_head = (w->wq_head + 1) % WAITQ;
	w->wq_len--;
	waiter_done(a, w, &wt, r->err, false);
}

static void worker_spawn(struct agent *a, int wi);

/*
 * The worker closed its control socket: it is exiting (it never closes it
 * otherwise). Take its queue out of np_xsk now, so XDP stops feeding a
 * socket nobody reads; the kernel path carries the queue until the new
 * worker enters itself. Its exit (the pidfd) does the rest.
 */
static void core_worker_exit(struct agent *a, int wi);

static void core_worker_ctl_eof(struct agent *a, int wi)
{
	struct worker *w = &a->w[wi];

	if (w->ctl_eof)
		return;
	w->ctl_eof = true;
	if (bpf_map_delete_elem(a->xsk_fd, &w->queue) && errno != ENOENT)
		np_warn("agent: delete np_xsk[%u] of an exiting worker: %s", w->queue,
			strerror(errno));
	if (w->pidfd < 0)
		core_worker_exit(a, wi); /* nothing else will tell */
}

static void core_worker_exit(struct agent *a, int wi)
{
	struct worker *w = &a->w[wi];
	int st = 0, code;
	pid_t pid = w->pid;
	char how[64];

	if (pid <= 0)
		return;
	if (w->pidfd < 0) {
		/* no pidfd (see worker_spawn): its control socket closed, so it is going */
		kill(pid, SIGKILL);
		if (waitpid(pid, &st, 0) != pid)
			return;
	} else if (waitpid(pid, &st, WNOHANG) != pid) {
		return; /* not yet: the pidfd said so too early */
	}
	if (WIFEXITED(st)) {
		code = WEXITSTATUS(st);
		snprintf(how, sizeof(how), "exited with status %d", code);
	} else {
		code = 128 + WTERMSIG(st);
		snprintf(how, sizeof(how), "was killed by signal %d", WTERMSIG(st));
	}
	if (w->pidfd >= 0)
		close(w->pidfd);
	close(w->ctl);
	w->pidfd = w->ctl = -1;
	w->ctl_eof = false;
	w->pid = 0;
	w->gen++;
	__atomic_store_n(&a->ctr[wi].pid, 0, __ATOMIC_RELAXED);
	w->state = W_DOWN;
	while (w->wq_len) {
		struct waiter wt = w->wq[w->wq_head];

		w->wq_head = (w->wq_head + 1) % WAITQ;
		w->wq_len--;
		waiter_done(a, w, &wt, 0, true);
	}
	if (a->phase == PH_START && !w->ever_ready) {
		np_err("agent: the worker of queue %u (pid %d) %s before it was ready: %s "
		       "(uplink %s, frame size %u, ring size %u%s); nothing was changed",
		       w->queue, pid, how,
		       w->setup_err ? strerror(-w->setup_err) : "see its message above", a->uplink,
		       a->base.frame_size, a->base.ring_size,
		       a->base.force_copy ? ", copy mode" : "");
		a->result = -EIO;
		a->phase = PH_DRAIN; /* nothing to drain yet: stop the others */
		enter_stop(a);
		return;
	}
	if (a->phase >= PH_DRAIN) {
		if (all_down(a))
			a->phase = PH_DONE;
		return;
	}
	if (now_ms() - w->started_ms < 1000 && !w->ever_ready)
		w->backoff_ms =
			w->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : w->backoff_ms * 2;
	np_warn("agent: the worker of queue %u (pid %d) %s; restarting in %u ms", w->queue, pid,
		how, w->backoff_ms);
	w->ever_ready = false;
	w->restart_at_ms = now_ms() + w->backoff_ms;
	a->ops->restart_arm(a, wi);
}

static void core_restart_due(struct agent *a, int wi)
{
	struct worker *w = &a->w[wi];

	if (!w->restart_at_ms || now_ms() < w->restart_at_ms || w->pid > 0)
		return;
	w->restart_at_ms = 0;
	if (a->phase != PH_RUN && a->phase != PH_START)
		return;
	__atomic_fetch_add(&a->ctr[wi].restarts, 1, __ATOMIC_RELAXED);
	worker_spawn(a, wi);
}

/*
 * Move the worker's control socket to its highest possible fd. A process
 * that dies releases its files in reverse fd order (the task_work list the
 * final fputs go to is LIFO), so the control socket goes first, and the
 * agent sees EOF on it before the worker's AF_XDP sockets are torn down
 * (each close of one waits for an RCU grace period: tens of ms, measured).
 * The agent then takes the queue out of np_xsk at once (core_worker_ctl_eof),
 * instead of XDP feeding a dying socket until its rx socket's own release.
 */
static int ctl_high(int fd)
{
	struct rlimit rl;
	int hi;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur < 64)
		return fd;
	hi = rl.rlim_cur > 4096 ? 4095 : (int)rl.rlim_cur - 1;
	if (hi <= fd || dup2(fd, hi) != hi)
		return fd;
	close(fd);
	return hi;
}

static void worker_spawn(struct agent *a, int wi)
{
	struct worker *w = &a->w[wi];
	struct np_xsk_worker_cfg cfg = a->base;
	int sv[2], ret, ctl;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv)) {
		np_err("agent: socketpair for the worker of queue %u: %s", w->queue,
		       strerror(errno));
		goto retry;
	}
	cfg.queue = w->queue;
	cfg.cpu = w->cpu;
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		np_err("agent: fork the worker of queue %u: %s", w->queue, strerror(errno));
		close(sv[0]);
		close(sv[1]);
		goto retry;
	}
	if (pid == 0) {
		/* The worker: only its control socket stays open. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != a->self)
			_exit(1);
		setpgid(0, 0); /* a terminal's ^C goes to the agent, which drains */
		signal(SIGPIPE, SIG_DFL);
		sigprocmask(SIG_SETMASK, &a->oldmask, NULL);
		ctl = ctl_high(sv[1]);
		if (ctl > 3)
			syscall(SYS_close_range, 3U, (unsigned int)ctl - 1, 0U);
		syscall(SYS_close_range, (unsigned int)ctl + 1, ~0U, 0U);
		ret = a->fn(&cfg, ctl, &a->ctr[wi]);
		fflush(NULL);
		_exit(ret);
	}
	close(sv[1]);
	w->ctl = sv[0];
	w->ctl_eof = false;
	fcntl(w->ctl, F_SETFL, fcntl(w->ctl, F_GETFL) | O_NONBLOCK);
	w->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (w->pidfd < 0 && errno == ENOSYS) {
		/*
		 * No pidfd_open (valgrind, for one): the control socket's EOF tells
		 * the worker is going, and core_worker_exit() reaps it.
		 */
		if (!a->warned_nopidfd)
			np_warn("agent: pidfd_open: %s; watching the workers through their "
				"control sockets",
				strerror(errno));
		a->warned_nopidfd = true;
	} else if (w->pidfd < 0) {
		/* cannot watch it: do not run it unwatched */
		np_err("agent: pidfd_open of worker %d: %s", pid, strerror(errno));
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		close(w->ctl);
		w->ctl = -1;
		goto retry;
	}

	w->pid = pid;
	w->state = W_STARTING;
	w->setup_err = 0;
	w->started_ms = now_ms();
	w->wq_head = w->wq_len = 0;
	__atomic_store_n(&a->ctr[wi].pid, pid, __ATOMIC_RELAXED);
	np_dbg("agent: worker of queue %u started, pid %d, cpu %d", w->queue, pid, w->cpu);
	a->ops->worker_arm(a, wi);
	return;
retry:
	w->restart_at_ms = now_ms() + BACKOFF_MAX_MS;
	a->ops->restart_arm(a, wi);
}

/* ---- shutdown ----------------------------------------------------------- */

static void enter_drain(struct agent *a)
{
	if (a->phase >= PH_DRAIN)
		return;
	a->phase = PH_DRAIN;
	a->phase_deadline = now_ms() + DRAIN_TIMEOUT_MS;
	a->shut_wait = 0;
	/* First take every queue out of np_xsk: new frames take the kernel path. */
	for (unsigned int i = 0; i < a->nw; i++) {
		__u32 q = a->w[i].queue;

		if (bpf_map_delete_elem(a->xsk_fd, &q) && errno != ENOENT)
			np_warn("agent: delete np_xsk[%u]: %s", q, strerror(errno));
	}
	for (unsigned int i = 0; i < a->nw; i++) {
		struct worker *w = &a->w[i];

		if (w->pid <= 0 || w->state != W_READY)
			continue;
		/* Room for the waiter before the request (see forward()). */
		if (w->wq_len == WAITQ || worker_send(w, NP_XSK_CTL_DRAIN, 0))
			continue;
		worker_push(w, -1, 0, 0, NP_XSK_CTL_DRAIN);
		a->shut_wait++;
	}
	if (!a->shut_wait)
		enter_stop(a);
}

static void enter_stop(struct agent *a)
{
	a->phase = PH_STOP;
	a->phase_deadline = now_ms() + STOP_TIMEOUT_MS;
	for (unsigned int i = 0; i < a->nw; i++) {
		struct worker *w = &a->w[i];

		w->restart_at_ms = 0;
		if (w->pid <= 0)
			continue;
		if (worker_send(w, NP_XSK_CTL_STOP, 0))
			kill(w->pid, SIGTERM);
	}
	if (all_down(a))
		a->phase = PH_DONE;
}

static void core_tick(struct agent *a)
{
	long long now = now_ms();

	if (now > a->tick_last) {
		a->wps = (double)(a->iterations - a->iter_last) * 1000.0 /
			 (double)(now - a->tick_last);
		a->iter_last = a->iterations;
		a->tick_last = now;
	}
	if (a->phase == PH_START && now >= a->phase_deadline) {
		np_err("agent: the workers were not ready within %d s (uplink %s)",
		       READY_TIMEOUT_MS / 1000, a->uplink);
		a->result = -ETIMEDOUT;
		a->phase = PH_DRAIN;
		enter_stop(a);
	} else if (a->phase == PH_DRAIN && now >= a->phase_deadline) {
		np_warn("agent: workers did not confirm DRAIN within %d ms; stopping them",
			DRAIN_TIMEOUT_MS);
		enter_stop(a);
	} else if (a->phase == PH_STOP && now >= a->phase_deadline) {
		for (unsigned int i = 0; i < a->nw; i++)
			if (a->w[i].pid > 0) {
				np_warn("agent: worker of queue %u (pid %d) did not stop; killing "
					"it",
					a->w[i].queue, a->w[i].pid);
				kill(a->w[i].pid, SIGKILL);
			}
		a->phase_deadline = now + STOP_TIMEOUT_MS;
	}
	for (unsigned int i = 0; i < a->nw; i++)
		core_restart_due(a, (int)i);
	conn_check_stalled(a, now);
}

static void core_signal(struct agent *a, int signo)
{
	if (a->phase >= PH_DRAIN)
		return;
	np_info("agent: %s: draining the workers", strsignal(signo));
	enter_drain(a);
}

/* ---- requests --------------------------------------------------------- */

static void forward(struct agent *a, int ci, __u32 op)
{
	struct conn *c = &a->c[ci];

	c->waiting = 0;
	c->nworkers = 0;
	c->werr[0] = '\0';
	c->seq++;
	c->wait_since_ms = now_ms();
	for (unsigned int i = 0; i < a->nw; i++) {
		struct worker *w = &a->w[i];
		int ret;

		if (w->pid <= 0 || (w->state != W_READY && w->state != W_DRAINED))
			continue; /* a starting worker reads np_ep_devs itself */
		/*
		 * Room for the waiter first: a request sent without one would
		 * have its answer taken for the next waiter's (answers are
		 * matched in order).
		 */
		ret = w->wq_len == WAITQ ? -EBUSY : worker_send(w, op, c->cur.ifindex);
		if (!ret)
			ret = worker_push(w, ci, c->gen, c->seq, op);
		if (ret) {
			if (!c->werr[0])
				snprintf(c->werr, sizeof(c->werr), "queue %u: %s", w->queue,
					 strerror(-ret));
			continue;
		}
		c->waiting++;
	}
	if (!c->waiting)
		fwd_answer(a, ci);
}

static void handle_line(struct agent *a, int ci, const char *line)
{
	struct conn *c = &a->c[ci];
	struct json_object *o;
	char err[160];

	a->requests++;
	if (np_agent_parse_req(line, &c->cur, err, sizeof(err))) {
		conn_write_err(a, ci, NULL, err);
		return;
	}
	switch (c->cur.op) {
	case NP_AGENT_PING:
		conn_write(a, ci, "{\"ok\":true,\"pong\":true}");
		break;
	case NP_AGENT_STATS:
		conn_write_json(a, ci, stats_json(a));
		break;
	case NP_AGENT_EP_ADD:
	case NP_AGENT_EP_DEL:
	case NP_AGENT_DRAIN:
		if (a->phase >= PH_DRAIN) {
			conn_write_err(a, ci, np_agent_op_name(c->cur.op), "the agent is stopping");
			break;
		}
		forward(a, ci,
			c->cur.op == NP_AGENT_EP_ADD   ? NP_XSK_CTL_EP_ADD
			: c->cur.op == NP_AGENT_EP_DEL ? NP_XSK_CTL_EP_DEL
						       : NP_XSK_CTL_DRAIN);
		break;
	case NP_AGENT_STOP:
		o = json_object_new_object();
		json_object_object_add(o, "ok", json_object_new_boolean(1));
		json_object_object_add(o, "op", json_object_new_string("stop"));
		conn_write_json(a, ci, o);
		enter_drain(a);
		break;
	}
}

static void conn_process(struct agent *a, int ci)
{
	struct conn *c = &a->c[ci];
	char *nl;

	while (c->used && !c->closing && !c->waiting && conn_backlog(c) < CONN_OUT_MAX) {
		nl = memchr(c->in, '\n', c->inlen < NP_AGENT_REQ_MAX ? c->inlen : NP_AGENT_REQ_MAX);
		if (!nl) {
			if (c->inlen >= NP_AGENT_REQ_MAX) {
				char msg[96];

				snprintf(msg, sizeof(msg),
					 "request line too long: no newline in %d bytes (one "
					 "request per line)",
					 NP_AGENT_REQ_MAX);
				conn_write_err(a, ci, NULL, msg);
				c->closing = true;
				c->inlen = 0;
			}
			break;
		}
		*nl = '\0';
		if (nl > c->in && nl[-1] == '\r')
			nl[-1] = '\0';
		handle_line(a, ci, c->in);
		c->inlen -= (size_t)(nl + 1 - c->in);
		memmove(c->in, nl + 1, c->inlen);
	}
	if (c->used)
		a->ops->conn_arm(a, ci);
	conn_maybe_free(a, ci);
}

static void core_accept(struct agent *a, int fd)
{
	for (int i = 0; i < MAX_CONNS; i++) {
		struct conn *c = &a->c[i];

		if (c->used)
			continue;
		c->used = true;
		c->fd = fd;
		c->closing = false;
		c->inlen = 0;
		c->waiting = 0;
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
		a->ops->conn_arm(a, i);
		return;
	}
	np_warn("agent: more than %d clients at once; refusing one", MAX_CONNS);
	close(fd);
}

/* The client shut its sending side (eof) or the connection failed. */
static void core_conn_eof(struct agent *a, int ci, bool eof)
{
	struct conn *c = &a->c[ci];

	if (eof) {
		c->rd_eof = true;
		conn_process(a, ci);
		return;
	}
	c->closing = true;
	conn_maybe_free(a, ci);
}

/*
 * The socket took more of c's answers: requests held back while the
 * backlog was at CONN_OUT_MAX are answered now, and input is awaited again.
 */
static void conn_drained(struct agent *a, int ci)
{
	struct conn *c = &a->c[ci];

	if (c->outoff == c->outlen) {
		c->outoff = c->outlen = 0;
		c->out_since_ms = 0;
	} else {
		c->out_since_ms = now_ms();
	}
	conn_process(a, ci);
}

static void core_conn_sent(struct agent *a, int ci, size_t n)
{
	struct conn *c = &a->c[ci];

	c->outoff += n;
	if (c->outoff < c->outlen) {
		conn_compact(c); /* the send completed: nothing in flight */
		a->ops->conn_flush(a, ci);
	}
	conn_drained(a, ci);
}

/*
 * A forwarded request some worker has not answered within REQ_TIMEOUT_MS
 * (a worker stuck, or stopped): answer it with an error naming the queues.
 * Their late answers are recognized by the request's seq and ignored.
 */
static void conn_req_timeout(struct agent *a, int ci)
{
	struct conn *c = &a->c[ci];
	int len;

	len = snprintf(c->werr, sizeof(c->werr), "no answer within %d s from the worker of queue",
		       REQ_TIMEOUT_MS / 1000);
	for (unsigned int i = 0; i < a->nw; i++) {
		const struct worker *w = &a->w[i];

		for (unsigned int k = 0; k < w->wq_len; k++) {
			const struct waiter *wt = &w->wq[(w->wq_head + k) % WAITQ];

			if (wt->conn == ci && wt->gen == c->gen && wt->seq == c->seq &&
			    len < (int)sizeof(c->werr))
				len += snprintf(c->werr + len, sizeof(c->werr) - (size_t)len, " %u",
						w->queue);
		}
	}
	np_warn("agent: %s: %s", np_agent_op_name(c->cur.op), c->werr);
	c->waiting = 0;
	fwd_answer(a, ci);
	conn_process(a, ci);
}

/*
 * Clients that leave their answers unread for CONN_STALL_MS: hang up.
 * Requests the workers leave unanswered: time them out.
 */
static void conn_check_stalled(struct agent *a, long long now)
{
	for (int i = 0; i < MAX_CONNS; i++) {
		struct conn *c = &a->c[i];

		if (c->used && !c->closing && c->waiting &&
		    now - c->wait_since_ms >= REQ_TIMEOUT_MS)
			conn_req_timeout(a, i);
		if (!c->used || c->closing || !c->out_since_ms ||
		    now - c->out_since_ms < CONN_STALL_MS)
			continue;
		np_warn("agent: a client left %zu bytes of answers unread for %d s; closing its "
			"connection",
			conn_backlog(c), CONN_STALL_MS / 1000);
		conn_abort(a, i);
	}
}

/* ---- the poll() loop -------------------------------------------------- */

enum { T_SIG = 1, T_LISTEN, T_CONN, T_WCTL, T_WPID };

static int poll_init(struct agent *a)
{
	a->accept_armed = true;
	return 0;
}

static void poll_fini(struct agent *a)
{
}

static void poll_conn_arm(struct agent *a, int ci)
{
}

static void poll_conn_flush(struct agent *a, int ci)
{
	struct conn *c = &a->c[ci];
	ssize_t n;

	while (c->outoff < c->outlen) {
		n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff,
			 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				c->closing = true; /* freed by the caller's conn_maybe_free */
			conn_compact(c);
			return;
		}
		c->outoff += (size_t)n;
		c->out_since_ms = now_ms();
	}
	c->outoff = c->outlen = 0;
	c->out_since_ms = 0;
}

static void poll_worker_arm(struct agent *a, int wi)
{
}

static void poll_restart_arm(struct agent *a, int wi)
{
}

static int poll_iterate(struct agent *a)
{
	struct pollfd p[2 + MAX_CONNS + 2 * NP_XSK_MAX_QUEUES];
	struct {
		int type, idx;
		__u32 gen;
	} tag[sizeof(p) / sizeof(p[0])];
	long long now, next;
	int cnt = 0, ret, timeout;

#define ADD(fd_, ev_, type_, idx_, gen_)                                  \
	do {                                                              \
		p[cnt] = (struct pollfd){ .fd = (fd_), .events = (ev_) }; \
		tag[cnt].type = (type_);                                  \
		tag[cnt].idx = (idx_);                                    \
		tag[cnt].gen = (gen_);                                    \
		cnt++;                                                    \
	} while (0)

	ADD(a->sfd, POLLIN, T_SIG, 0, 0);
	if (a->phase < PH_DRAIN && a->accept_armed)
		ADD(a->lfd, POLLIN, T_LISTEN, 0, 0);
	for (int i = 0; i < MAX_CONNS; i++) {
		struct conn *c = &a->c[i];
		short ev = 0;

		if (!c->used || c->closing)
			continue;
		if (c->inlen < CONN_BUF && !c->waiting && !c->rd_eof &&
		    conn_backlog(c) < CONN_OUT_MAX)
			ev |= POLLIN;
		if (c->outoff < c->outlen)
			ev |= POLLOUT;
		ADD(c->fd, ev, T_CONN, i, c->gen);
	}
	next = a->tick_next;
	for (unsigned int i = 0; i < a->nw; i++) {
		struct worker *w = &a->w[i];

		if (w->pid > 0) {
			if (!w->ctl_eof)
				ADD(w->ctl, POLLIN, T_WCTL, (int)i, w->gen);
			if (w->pidfd >= 0)
				ADD(w->pidfd, POLLIN, T_WPID, (int)i, w->gen);
		}
		if (w->restart_at_ms && w->restart_at_ms < next)
			next = w->restart_at_ms;
	}
#undef ADD
	now = now_ms();
	/* +1: now_ms() truncates, and waking before the deadline is a wasted pass */
	timeout = next > now ? (int)(next - now) + 1 : 0;
	ret = poll(p, (nfds_t)cnt, timeout);
	a->iterations++;
	if (ret < 0 && errno != EINTR) {
		np_err("agent: poll: %s", strerror(errno));
		return -errno;
	}
	for (int k = 0; ret > 0 && k < cnt; k++) {
		short re = p[k].revents;
		int i = tag[k].idx;

		if (!re)
			continue;
		switch (tag[k].type) {
		case T_SIG: {
			struct signalfd_siginfo si;

			if (read(a->sfd, &si, sizeof(si)) == sizeof(si))
				core_signal(a, (int)si.ssi_signo);
			break;
		}
		case T_LISTEN:
			for (;;) {
				int fd = accept4(a->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

				if (fd < 0 && errno != EAGAIN && errno != EINTR &&
				    errno != ECONNABORTED) {
					/* EMFILE and co.: stay ready, so listen again next tick */
					np_warn("agent: accept on %s: %s", a->sock_path,
						strerror(errno));
					a->accept_armed = false;
				}
				if (fd < 0)
					break;
				core_accept(a, fd);
			}
			break;
		case T_CONN: {
			struct conn *c = &a->c[i];
			ssize_t n;

			if (!c->used || c->gen != tag[k].gen || c->closing)
				break;
			if (re & POLLOUT) {
				poll_conn_flush(a, i);
				if (c->closing) {
					conn_maybe_free(a, i);
					break;
				}
				conn_drained(a, i);
				if (!c->used || c->closing)
					break;
			}
			if (!(re & (POLLIN | POLLHUP | POLLERR)))
				break;
			n = recv(c->fd, c->in + c->inlen, CONN_BUF - c->inlen, MSG_DONTWAIT);
			if (n > 0) {
				c->inlen += (size_t)n;
				conn_process(a, i);
			} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
				core_conn_eof(a, i, n == 0);
			}
			break;
		}
		case T_WCTL: {
			struct worker *w = &a->w[i];
			struct np_xsk_ctl_reply r;
			ssize_t n;

			while (w->gen == tag[k].gen && w->pid > 0 && !w->ctl_eof) {
				n = recv(w->ctl, &r, sizeof(r), MSG_DONTWAIT);
				if (n == sizeof(r)) {
					core_worker_msg(a, i, &r);
					continue;
				}
				if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
					core_worker_ctl_eof(a, i);
				break;
			}
			break;
		}
		case T_WPID:
			if (a->w[i].gen == tag[k].gen)
				core_worker_exit(a, i);
			break;
		}
	}
	now = now_ms();
	if (now >= a->tick_next) {
		a->tick_next = now + TICK_MS;
		core_tick(a);
		a->accept_armed = true;
	} else {
		for (unsigned int i = 0; i < a->nw; i++)
			core_restart_due(a, (int)i);
	}
	return 0;
}

static const struct loop_ops poll_ops = {
	.name = "poll",
	.init = poll_init,
	.iterate = poll_iterate,
	.fini = poll_fini,
	.conn_arm = poll_conn_arm,
	.conn_flush = poll_conn_flush,
	.worker_arm = poll_worker_arm,
	.restart_arm = poll_restart_arm,
};

/* ---- the io_uring loop -------------------------------------------------- */

enum { U_ACCEPT = 1, U_SIG, U_TICK, U_RECV, U_SEND, U_WRECV, U_WPID, U_RESTART };

static __u64 ud(int type, int idx, __u32 gen)
{
	return (__u64)type << 56 | (__u64)(idx & 0xffff) << 32 | gen;
}

static struct io_uring_sqe *ur_sqe(struct agent *a)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&a->ring);

	if (!sqe) {
		io_uring_submit(&a->ring);
		sqe = io_uring_get_sqe(&a->ring);
	}
	if (!sqe)
		np_err("agent: io_uring submission queue full");
	return sqe;
}

static void ur_arm_accept(struct agent *a)
{
	struct io_uring_sqe *sqe = ur_sqe(a);

	if (!sqe)
		return;
	io_uring_prep_multishot_accept(sqe, a->lfd, NULL, NULL, SOCK_CLOEXEC);
	io_uring_sqe_set_data64(sqe, ud(U_ACCEPT, 0, 0));
	a->accept_armed = true;
}

static void ur_arm_sig(struct agent *a)
{
	struct io_uring_sqe *sqe = ur_sqe(a);

	if (!sqe)
		return;
	io_uring_prep_read(sqe, a->sfd, &a->sinfo, sizeof(a->sinfo), 0);
	io_uring_sqe_set_data64(sqe, ud(U_SIG, 0, 0));
}

static void ur_arm_tick(struct agent *a)
{
	struct io_uring_sqe *sqe = ur_sqe(a);

	if (!sqe)
		return;
	a->tick_ts.tv_sec = TICK_MS / 1000;
	a->tick_ts.tv_nsec = (TICK_MS % 1000) * 1000000LL;
	io_uring_prep_timeout(sqe, &a->tick_ts, 0, 0);
	io_uring_sqe_set_data64(sqe, ud(U_TICK, 0, 0));
}

static int ur_init(struct agent *a)
{
	/* one issuer, task work run when we wait: fewer interrupts to the agent */
	static const unsigned int flags[] = {
		IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
		IORING_SETUP_COOP_TASKRUN,
		0,
	};
	struct io_uring_params p;
	int ret = -EINVAL;

	for (unsigned int i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		memset(&p, 0, sizeof(p));
		p.flags = flags[i];
		ret = io_uring_queue_init_params(URING_ENTRIES, &a->ring, &p);
		if (ret != -EINVAL)
			break;
	}
	if (ret) {
		np_err("agent: io_uring_queue_init: %s", strerror(-ret));
		return ret;
	}
	a->ring_ok = true;
	/* the workers must not inherit the rings' mappings */
	ret = io_uring_ring_dontfork(&a->ring);
	if (ret)
		np_warn("agent: io_uring_ring_dontfork: %s", strerror(-ret));
	ur_arm_accept(a);
	ur_arm_sig(a);
	ur_arm_tick(a);
	return 0;
}

static void ur_fini(struct agent *a)
{
	if (a->ring_ok)
		io_uring_queue_exit(&a->ring);
	a->ring_ok = false;
}

static void ur_conn_arm(struct agent *a, int ci)
{
	struct conn *c = &a->c[ci];
	struct io_uring_sqe *sqe;

	if (!c->used || c->closing || c->recv_busy || c->waiting || c->rd_eof ||
	    c->inlen >= CONN_BUF || conn_backlog(c) >= CONN_OUT_MAX)
		return;
	sqe = ur_sqe(a);
	if (!sqe)
		return;
	io_uring_prep_recv(sqe, c->fd, c->in + c->inlen, CONN_BUF - c->inlen, 0);
	io_uring_sqe_set_data64(sqe, ud(U_RECV, ci, c->gen));
	c->recv_busy = true;
}

static void ur_conn_flush(struct agent *a, int ci)
{
	struct conn *c = &a->c[ci];
	struct io_uring_sqe *sqe;

	if (c->send_busy || c->outoff >= c->outlen)
		return;
	sqe = ur_sqe(a);
	if (!sqe)
		return;
	io_uring_prep_send(sqe, c->fd, c->out + c->outoff, c->outlen - c->outoff, MSG_NOSIGNAL);
	io_uring_sqe_set_data64(sqe, ud(U_SEND, ci, c->gen));
	c->send_busy = true;
}

static void ur_worker_recv(struct agent *a, int wi)
{
	struct worker *w = &a->w[wi];
	struct io_uring_sqe *sqe = ur_sqe(a);

	if (!sqe)
		return;
	io_uring_prep_recv(sqe, w->ctl, &w->rbuf, sizeof(w->rbuf), 0);
	io_uring_sqe_set_data64(sqe, ud(U_WRECV, wi, w->gen));
}

static void ur_worker_arm(struct agent *a, int wi)
{
	struct worker *w = &a->w[wi];
	struct io_uring_sqe *sqe;

	ur_worker_recv(a, wi);
	if (w->pidfd < 0)
		return;
	sqe = ur_sqe(a);
	if (!sqe)
		return;
	io_uring_prep_poll_add(sqe, w->pidfd, POLLIN);
	io_uring_sqe_set_data64(sqe, ud(U_WPID, wi, w->gen));
}

static void ur_restart_arm(struct agent *a, int wi)
{
	struct worker *w = &a->w[wi];
	long long left = w->restart_at_ms - now_ms();
	struct io_uring_sqe *sqe = ur_sqe(a);

	if (!sqe)
		return;
	if (left < 1)
		left = 1;
	w->rts.tv_sec = left / 1000;
	w->rts.tv_nsec = (left % 1000) * 1000000LL;
	io_uring_prep_timeout(sqe, &w->rts, 0, 0);
	io_uring_sqe_set_data64(sqe, ud(U_RESTART, wi, w->gen));
}

static void ur_dispatch(struct agent *a, __u64 data, int res, unsigned int flags)
{
	int type = (int)(data >> 56), i = (int)((data >> 32) & 0xffff);
	__u32 gen = (__u32)data;
	struct conn *c;
	struct worker *w;

	switch (type) {
	case U_ACCEPT:
		if (res >= 0)
			core_accept(a, res);
		else if (res != -ECANCELED)
			np_warn("agent: accept on %s: %s", a->sock_path, strerror(-res));
		if (flags & IORING_CQE_F_MORE)
			break;
		/*
		 * The multishot accept ended. After an error (EMFILE, ENFILE,
		 * ENOMEM: it would end again at once) the next tick re-arms it,
		 * so that a persistent error costs a warning a second, not a spin.
		 */
		a->accept_armed = false;
		if (res >= 0 && a->phase < PH_DRAIN)
			ur_arm_accept(a);
		break;
	case U_SIG:
		if (res == (int)sizeof(a->sinfo))
			core_signal(a, (int)a->sinfo.ssi_signo);
		if (a->phase < PH_DONE)
			ur_arm_sig(a);
		break;
	case U_TICK:
		core_tick(a);
		if (a->phase < PH_DONE)
			ur_arm_tick(a);
		if (!a->accept_armed && a->phase < PH_DRAIN)
			ur_arm_accept(a);
		break;
	case U_RECV:
		c = &a->c[i];
		if (!c->used || c->gen != gen)
			break;
		c->recv_busy = false;
		if (res > 0) {
			c->inlen += (size_t)res;
			conn_process(a, i);
		} else if (res != -EINTR && res != -EAGAIN) {
			if (res)
				np_dbg("agent: recv from a client: %s", strerror(-res));
			core_conn_eof(a, i, res == 0);
		} else {
			ur_conn_arm(a, i);
		}
		break;
	case U_SEND:
		c = &a->c[i];
		if (!c->used || c->gen != gen)
			break;
		c->send_busy = false;
		if (res >= 0) {
			core_conn_sent(a, i, (size_t)res);
		} else {
			np_dbg("agent: send to a client: %s", strerror(-res));
			core_conn_eof(a, i, false);
		}
		break;
	case U_WRECV:
		w = &a->w[i];
		if (w->gen != gen || w->pid <= 0)
			break;
		if (res == (int)sizeof(w->rbuf)) {
			struct np_xsk_ctl_reply r = w->rbuf;

			ur_worker_recv(a, i);
			core_worker_msg(a, i, &r);
		} else if (res == -EINTR || res == -EAGAIN) {
			ur_worker_recv(a, i);
		} else {
			core_worker_ctl_eof(a, i); /* the pidfd tells when it is gone */
		}
		break;
	case U_WPID:
		w = &a->w[i];
		if (w->gen == gen)
			core_worker_exit(a, i);
		break;
	case U_RESTART:
		core_restart_due(a, i);
		break;
	}
}

static int ur_iterate(struct agent *a)
{
	struct io_uring_cqe *cqe;
	unsigned int head, n;
	int ret;

	/* The one place the loop sleeps: one wakeup per pass through here. */
	ret = io_uring_submit_and_wait(&a->ring, 1);
	a->iterations++;
	if (ret < 0 && ret != -EINTR && ret != -ETIME) {
		np_err("agent: io_uring_submit_and_wait: %s", strerror(-ret));
		return ret;
	}
	/*
	 * Handle every completion of this wakeup, and what the handlers
	 * submitted that completes at once (an answer's send): like the poll
	 * loop, which sends its answers inline.
	 */
	for (;;) {
		n = 0;
		io_uring_for_each_cqe(&a->ring, head, cqe)
		{
			__u64 data = cqe->user_data;
			int res = cqe->res;
			unsigned int flags = cqe->flags;

			n++;
			ur_dispatch(a, data, res, flags);
		}
		io_uring_cq_advance(&a->ring, n);
		if (!io_uring_sq_ready(&a->ring))
			break;
		ret = io_uring_submit_and_get_events(&a->ring);
		if (ret < 0 && ret != -EINTR) {
			np_err("agent: io_uring_submit: %s", strerror(-ret));
			return ret;
		}
		if (!io_uring_cq_ready(&a->ring))
			break;
	}
	return 0;
}

static const struct loop_ops uring_ops = {
	.name = "uring",
	.init = ur_init,
	.iterate = ur_iterate,
	.fini = ur_fini,
	.conn_arm = ur_conn_arm,
	.conn_flush = ur_conn_flush,
	.worker_arm = ur_worker_arm,
	.restart_arm = ur_restart_arm,
};

/* ---- setup and teardown ------------------------------------------------- */

/*
 * NP_AGENT_RUN_DIR holds the control socket: a directory of ours that no
 * one else may write into (else another user could swap the socket).
 */
static int check_run_dir(void)
{
	struct stat st;

	if (mkdir(NP_AGENT_RUN_DIR, 0755) && errno != EEXIST) {
		np_err("agent: mkdir %s: %s", NP_AGENT_RUN_DIR, strerror(errno));
		return -errno;
	}
	if (lstat(NP_AGENT_RUN_DIR, &st)) {
		np_err("agent: stat %s: %s", NP_AGENT_RUN_DIR, strerror(errno));
		return -errno;
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 022)) {
		np_err("agent: %s must be a directory owned by uid %u and writable by it only "
		       "(it has mode %o, uid %u); fix or remove it",
		       NP_AGENT_RUN_DIR, (unsigned int)geteuid(), (unsigned int)st.st_mode,
		       (unsigned int)st.st_uid);
		return -EPERM;
	}
	return 0;
}

/*
 * Lock NP_AGENT_RUN_DIR/<node>.agent.lock (flock, held for the agent's
 * life). The agent that holds it unlinks it when it exits, so a lock taken
 * on a file that is no longer the one under that name (its holder just
 * unlinked it) proves nothing: open the name again and retry.
 */
static int take_lock(struct agent *a)
{
	struct stat fst, pst;
	char buf[32];
	ssize_t n;
	int fd, ret;

	ret = check_run_dir();
	if (ret)
		return ret;
	for (int tries = 0;; tries++) {
		fd = open(a->lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0) {
			np_err("agent: open %s: %s", a->lock_path, strerror(errno));
			return -errno;
		}
		if (flock(fd, LOCK_EX | LOCK_NB)) {
			int err = errno;

			n = pread(fd, buf, sizeof(buf) - 1, 0);
			buf[n > 0 ? n : 0] = '\0';
			buf[strcspn(buf, "\n")] = '\0';
			close(fd);
			if (err == EWOULDBLOCK) {
				np_err("agent: an agent already runs for node %s (pid %s); stop it "
				       "first (nodepath --node %s agent stop); nothing was changed",
				       a->n->name, buf[0] ? buf : "?", a->n->name);
				return -EBUSY;
			}
			np_err("agent: flock %s: %s", a->lock_path, strerror(err));
			return -err;
		}
		if (!fstat(fd, &fst) && !stat(a->lock_path, &pst) && fst.st_dev == pst.st_dev &&
		    fst.st_ino == pst.st_ino)
			break;
		close(fd);
		if (tries == LOCK_TRIES) {
			np_err("agent: %s keeps being replaced while it is locked; is another "
			       "agent starting and stopping?",
			       a->lock_path);
			return -EAGAIN;
		}
	}
	n = snprintf(buf, sizeof(buf), "%d\n", (int)a->self);
	if (ftruncate(fd, 0) || pwrite(fd, buf, (size_t)n, 0) != n)
		np_warn("agent: write pid into %s: %s", a->lock_path, strerror(errno));
	a->lock_fd = fd;
	return 0;
}

static int open_socket(struct agent *a)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	mode_t old;
	int fd, ret;

	strcpy(sa.sun_path, a->sock_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		np_err("agent: socket: %s", strerror(errno));
		return -errno;
	}
	unlink(a->sock_path); /* a stale one: we hold the lock */
	old = umask(0177);
	ret = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ? -errno : 0;
	umask(old);
	if (!ret && listen(fd, 64))
		ret = -errno;
	if (ret) {
		np_err("agent: bind/listen %s: %s", a->sock_path, strerror(-ret));
		close(fd);
		unlink(a->sock_path);
		return ret;
	}
	a->lfd = fd;
	return 0;
}

static int check_node(struct agent *a, __u32 *queues, unsigned int *nq_out)
{
	const struct np_agent_opts *o = a->o;
	struct np_node_cfg cfg;
	char err[200];
	int nq, ret;

	ret = a->n->pin_exists ? np_node_cfg_read(a->n, &cfg) : -ENOENT;
	if (ret == -ENOENT) {
		np_err("agent: node %s is not up (no %s in %s): run nodepath --node %s up first",
		       a->n->name, NP_MAP_NODE, a->n->pin_dir, a->n->name);
		return -ENOENT;
	}
	if (ret)
		return ret;
	memcpy(a->uplink, cfg.uplink_name, sizeof(a->uplink));
	a->uplink[sizeof(a->uplink) - 1] = '\0';
	a->xsk_fd = np_node_map_open(a->n, NP_MAP_XSK);
	if (a->xsk_fd < 0) {
		np_err("agent: node %s has no %s map in %s (%s): take it down and up again with "
		       "this nodepath",
		       a->n->name, NP_MAP_XSK, a->n->pin_dir, strerror(-a->xsk_fd));
		return a->xsk_fd;
	}
	nq = np_agent_rx_queues(a->uplink);
	if (nq < 0) {
		np_err("agent: rx queues of %s %s: %s", a->uplink, np_node_where(a->n),
		       strerror(-nq));
		return nq;
	}
	if (o->queues) {
		ret = np_agent_parse_queues(o->queues, (unsigned int)nq, queues, nq_out, err,
					    sizeof(err));
		if (ret) {
			np_err("agent: --queues %s: %s; nothing was changed", o->queues, err);
			return ret;
		}
	} else {
		*nq_out = (unsigned int)(nq > NP_XSK_MAX_QUEUES ? NP_XSK_MAX_QUEUES : nq);
		for (unsigned int i = 0; i < *nq_out; i++)
			queues[i] = i;
	}
	if (o->workers) {
		if (o->workers > *nq_out) {
			np_err("agent: --workers %u: the uplink %s has %u rx queue%s%s; nothing "
			       "was "
			       "changed",
			       o->workers, a->uplink, *nq_out, *nq_out == 1 ? "" : "s",
			       o->queues ? " in --queues" : "");
			return -ERANGE;
		}
		*nq_out = o->workers;
	}
	a->base.uplink_ifindex = (int)cfg.uplink_ifindex;
	return 0;
}

int np_agent_run(struct np_node *n, const struct np_agent_opts *o, np_agent_worker_fn fn)
{
	__u32 queues[NP_XSK_MAX_QUEUES];
	struct agent *a;
	unsigned int nq = 0;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	sigset_t mask;
	int ret;

	if (np_xsk_frame_size_ok(o->frame_size) || np_xsk_ring_size_ok(o->ring_size)) {
		np_err("agent: frame size %u or ring size %u not allowed", o->frame_size,
		       o->ring_size);
		return -EINVAL;
	}
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->n = n;
	a->o = o;
	a->fn = fn ? fn : np_xsk_worker_main;
	a->ops = o->loop == NP_AGENT_LOOP_POLL ? &poll_ops : &uring_ops;
	a->lfd = a->sfd = a->xsk_fd = a->lock_fd = -1;
	a->self = getpid();
	for (int i = 0; i < MAX_CONNS; i++)
		a->c[i].fd = -1;
	/*
	 * SIGTERM and SIGINT wait (blocked) from here on, for the signalfd of
	 * the loop: one during the start does not kill the agent halfway, with
	 * its lock and socket files left behind; the loop drains and exits.
	 */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, &a->oldmask);
	ret = check_node(a, queues, &nq);
	if (ret)
		goto out_free;
	if (np_agent_sock_path(n->name, a->sock_path, sizeof(a->sock_path)) ||
	    np_agent_lock_path(n->name, a->lock_path, sizeof(a->lock_path))) {
		np_err("agent: node name %s too long for a socket path", n->name);
		ret = -ENAMETOOLONG;
		goto out_xsk;
	}
	ret = take_lock(a);
	if (ret)
		goto out_xsk;
	ret = open_socket(a);
	if (ret)
		goto out_lock;

	a->ctr_len = sizeof(*a->ctr) * nq;
	a->ctr = mmap(NULL, a->ctr_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (a->ctr == MAP_FAILED) {
		ret = -errno;
		np_err("agent: mmap the workers' counters: %s", strerror(errno));
		goto out_sock;
	}
	signal(SIGPIPE, SIG_IGN);
	a->sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (a->sfd < 0) {
		ret = -errno;
		np_err("agent: signalfd: %s", strerror(errno));
		goto out_ctr;
	}

	snprintf(a->base.node, sizeof(a->base.node), "%s", n->name);
	snprintf(a->base.pin_dir, sizeof(a->base.pin_dir), "%s", n->pin_dir);
	a->base.frame_size = o->frame_size;
	a->base.ring_size = o->ring_size;
	a->base.busy_poll = o->busy_poll;
	a->base.force_copy = o->force_copy;
	a->nw = nq;
	for (unsigned int i = 0; i < nq; i++) {
		a->w[i].queue = queues[i];
		a->w[i].cpu = (int)(queues[i] % (ncpu > 0 ? (unsigned long)ncpu : 1));
		a->w[i].pidfd = a->w[i].ctl = -1;
		a->w[i].backoff_ms = BACKOFF_MIN_MS;
	}
	ret = a->ops->init(a);
	if (ret)
		goto out_sfd;
	a->start_ms = a->tick_last = now_ms();
	a->tick_next = a->start_ms + TICK_MS;
	a->phase = PH_START;
	a->phase_deadline = a->start_ms + READY_TIMEOUT_MS;
	for (unsigned int i = 0; i < nq; i++)
		worker_spawn(a, (int)i);

	while (a->phase != PH_DONE) {
		ret = a->ops->iterate(a);
		if (ret) {
			a->result = ret;
			if (a->phase < PH_DRAIN)
				enter_drain(a);
			/* a broken loop cannot wait: kill and reap */
			for (unsigned int i = 0; i < a->nw; i++)
				if (a->w[i].pid > 0) {
					kill(a->w[i].pid, SIGKILL);
					waitpid(a->w[i].pid, NULL, 0);
				}
			break;
		}
	}
	ret = a->result;
	/* Answers still queued (the one to `stop`): one last try. */
	for (int i = 0; i < MAX_CONNS; i++) {
		struct conn *c = &a->c[i];

		if (!c->used)
			continue;
		if (c->outoff < c->outlen && !c->send_busy)
			(void)!send(c->fd, c->out + c->outoff, c->outlen - c->outoff,
				    MSG_DONTWAIT | MSG_NOSIGNAL);
	}
	a->ops->fini(a);
	for (int i = 0; i < MAX_CONNS; i++) {
		if (a->c[i].used)
			close(a->c[i].fd);
		free(a->c[i].out);
	}
	for (unsigned int i = 0; i < a->nw; i++) {
		if (a->w[i].pidfd >= 0)
			close(a->w[i].pidfd);
		if (a->w[i].ctl >= 0)
			close(a->w[i].ctl);
	}
	if (!ret)
		printf("agent of node %s: stopped; the workers drained, the pool's traffic takes "
		       "the "
		       "kernel path\n",
		       n->name);
out_sfd:
	close(a->sfd);
out_ctr:
	munmap(a->ctr, a->ctr_len);
out_sock:
	close(a->lfd);
	unlink(a->sock_path);
out_lock:
	unlink(a->lock_path);
	close(a->lock_fd);
out_xsk:
	close(a->xsk_fd);
out_free:
	sigprocmask(SIG_SETMASK, &a->oldmask, NULL);
	free(a);
	return ret;
}
