// SPDX-License-Identifier: GPL-2.0
/*
 * An AF_XDP worker (pool.h): one rx socket on (uplink, queue), entered into
 * np_xsk[queue], and one tx socket per local endpoint device, all on one
 * UMEM. A received frame's descriptor moves, unchanged, to the tx ring of
 * the socket its np_xsk_meta names; when the kernel has sent it, its
 * completion (on that tx socket's own completion ring) gives the frame back
 * to the free stack, from which the rx fill ring is topped up.
 *
 * Every frame is in exactly one place, and owner[] says which: the free
 * stack (NP_XSK_OWN_FREE), the kernel's fill or rx ring (NP_XSK_OWN_KERNEL),
 * or a tx socket's tx or completion ring (its index in tx[]). A descriptor
 * the kernel hands back for a frame it does not hold (rx) or that was not
 * given to that socket (completion) is counted invalid and the frame left
 * where it is, so that no frame is ever freed twice. A tx socket that goes
 * away gives back the frames it still owned.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <linux/ethtool.h>
#include <linux/if_xdp.h>
#include <linux/sockios.h>

#include <bpf/bpf.h>
#include <xdp/xsk.h>

#include <nodepath/abi.h>
#include "log.h"
#include "afxdp/pool.h"
#include "afxdp/xsk.h"

#ifndef SO_PREFER_BUSY_POLL
#define SO_PREFER_BUSY_POLL 69
#endif
#ifndef SO_BUSY_POLL_BUDGET
#define SO_BUSY_POLL_BUDGET 70
#endif

#define NP_XSK_DRAIN_MS 200
#define NP_XSK_LAZY_SLOTS 16
#define NP_XSK_LAZY_MS 1000

struct np_worker {
	const struct np_xsk_worker_cfg *cfg;
	struct np_xsk_counters *ctr;
	int ctl_fd;
	int xsk_map; /* pinned np_xsk, -1 after drain */
	struct np_xsk_umem umem;
	struct np_xsk_geo geo;
	struct np_xsk_ledger led; /* where every frame is (xsk.h) */
	__u32 *len;		  /* per frame: the length submitted for tx */
	struct np_xsk_sock rx;
	bool rx_open;
	bool in_map;
	bool filled; /* the fill ring was topped up once */
	struct np_xsk_sock tx[NP_XSK_MAX_TX];
	__u32 ntx;
	int ep_devs;			  /* pinned np_ep_devs, or -1 */
	__u32 lazy_if[NP_XSK_LAZY_SLOTS]; /* tx_lazy(): devices tried, and when */
	__u64 lazy_ms[NP_XSK_LAZY_SLOTS];
	bool zerocopy;
	struct xdp_statistics xst; /* the rx socket's, as last read */
	__u64 xst_ms;		   /* when */
	__u64 devs_ms;		   /* tx_check_devs(): last look */
	bool lazy;		   /* tx_open() called from the datapath (tx_lazy()) */
};

static volatile sig_atomic_t np_worker_term;

static void on_term(int sig)
{
	(void)sig;
	np_worker_term = 1;
}

static inline void add(__u64 *c, __u64 v)
{
	__atomic_fetch_add(c, v, __ATOMIC_RELAXED);
}

static __u64 now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- frames ---------------------------------------------------------------------- */

/* Frame no (< nframes) goes back to the free stack. */
static void frame_free(struct np_worker *w, __u32 no)
{
	if (np_xsk_ledger_free(&w->led, no))
		np_warn("AF_XDP worker queue %u: frame %u freed twice (ignored)", w->cfg->queue,
			no);
}

/*
 * The frame of descriptor address addr when the ledger says who holds it,
 * else -1 (addr outside the UMEM, or a frame somewhere else).
 */
static long frame_of(const struct np_worker *w, __u64 addr, __u16 who)
{
	return np_xsk_ledger_find(&w->led, addr, who);
}

/* Top the rx fill ring up from the free stack. */
static void refill(struct np_worker *w)
{
	struct xsk_ring_prod *fq = w->rx.fill;
	bool was_empty;
	__u32 n;

	if (!w->rx_open)
		return;
	n = np_xsk_ledger_fill(&w->led, fq, w->umem.ring_size, &was_empty);
	/* The kernel had nothing to receive into (not counted at start). */
	if (was_empty && w->filled)
		add(&w->ctr->fill_empty, 1);
	w->filled = true;
	if (n && xsk_ring_prod__needs_wakeup(fq)) {
		add(&w->ctr->wakeups, 1);
		recvfrom(w->rx.fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
	}
}

/* ---- tx sockets ------------------------------------------------------------------ */

static struct np_xsk_sock *tx_find(struct np_worker *w, __u32 ifindex, __u32 *i)
{
	for (__u32 k = 0; k < w->ntx; k++) {
		if (w->tx[k].ifindex == ifindex) {
			if (i)
				*i = k;
			return &w->tx[k];
		}
	}
	return NULL;
}

/* Hand reserved descriptors to the kernel and kick it when it asks to. */
static void tx_kick(struct np_worker *w, struct np_xsk_sock *s)
{
	struct xsk_ring_prod *tx = s->tx;
	__u32 left, tries;

	if (s->pending) {
		xsk_ring_prod__submit(tx, s->pending);
		s->outstanding += s->pending;
		s->pending = 0;
	}
	if (!s->outstanding || s->dead || (s->zerocopy && !xsk_ring_prod__needs_wakeup(tx)))
		return;
	/*
	 * Copy mode sends only in the syscall, at most 32 frames (the kernel's
	 * TX_BATCH_SIZE) per call: kick until the kernel took the ring's
	 * descriptors, a bounded number of times. Nothing left in the ring
	 * (only completions to come): no syscall.
	 */
	for (tries = 0; tries < 16; tries++) {
		left = np_xsk_ring_used(__atomic_load_n(tx->producer, __ATOMIC_ACQUIRE),
					__atomic_load_n(tx->consumer, __ATOMIC_ACQUIRE));
		if (!left)
			break;
		add(&w->ctr->wakeups, 1);
		if (sendto(s->fd, NULL, 0, MSG_DONTWAIT, NULL, 0) >= 0)
			continue;
		/* The device went (unregistered): the socket is unbound for good. */
		if (errno == ENXIO) {
			s->dead = true;
			break;
		}
		/* EAGAIN: the batch limit, more to send; anything else: later. */
		if (errno != EAGAIN)
			break;
	}
}

/* Reap s's completion ring: the frames go back to the free stack. */
static void tx_complete(struct np_worker *w, struct np_xsk_sock *s)
{
	struct xsk_ring_cons *cq = s->comp;
	__u16 me = (__u16)(s - w->tx);
	__u32 idx, n, i, done = 0;
	__u64 bytes = 0;
	long no;

	n = xsk_ring_cons__peek(cq, w->umem.ring_size, &idx);
	if (!n)
		return;
	for (i = 0; i < n; i++) {
		no = frame_of(w, *xsk_ring_cons__comp_addr(cq, idx + i), me);
		if (no < 0) {
			/* Not a frame this socket sent: leave it where it is. */
			add(&w->ctr->invalid_desc, 1);
			continue;
		}
		bytes += w->len[no];
		frame_free(w, (__u32)no);
		done++;
	}
	xsk_ring_cons__release(cq, n);
	s->outstanding = s->outstanding > done ? s->outstanding - done : 0;
	add(&w->ctr->tx, done);
	add(&w->ctr->tx_bytes, bytes);
}

/* Is ifindex a netkit device (its driver, else its np_ep_devs flags)? */
static bool tx_is_netkit(struct np_worker *w, __u32 ifindex)
{
	struct ethtool_drvinfo di = { .cmd = ETHTOOL_GDRVINFO };
	struct np_ep_dev dev;
	struct ifreq ifr;
	bool nk = false;
	int fd;

	memset(&ifr, 0, sizeof(ifr));
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && if_indextoname(ifindex, ifr.ifr_name)) {
		ifr.ifr_data = (void *)&di;
		nk = !ioctl(fd, SIOCETHTOOL, &ifr) && !strcmp(di.driver, "netkit");
	}
	if (fd >= 0)
		close(fd);
	if (!nk && w->ep_devs >= 0 && !bpf_map_lookup_elem(w->ep_devs, &ifindex, &dev))
		nk = dev.flags & NP_EP_F_NETKIT;
	return nk;
}

/* Set (on) or clear NP_EP_F_NO_XSK on the np_endpoints entries of ifindex. */
static void ep_mark_no_xsk(struct np_worker *w, __u32 ifindex, bool on)
{
	struct np_ep_key key, next, *prev = NULL;
	struct np_endpoint ep;
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", w->cfg->pin_dir, NP_MAP_EP);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return;
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &ep) || ep.ifindex != ifindex ||
		    !(ep.flags & NP_EP_F_NO_XSK) == !on)
			continue;
		ep.flags = on ? ep.flags | NP_EP_F_NO_XSK : ep.flags & ~NP_EP_F_NO_XSK;
		if (bpf_map_update_elem(fd, &key, &ep, BPF_EXIST))
			np_warn("AF_XDP worker queue %u: mark the endpoint of ifindex %u: %s",
				w->cfg->queue, ifindex, strerror(errno));
	}
	close(fd);
}

/*
 * netkit endpoints: the worker sends into the primary on a copy-mode socket
 * like into a veth host side (netkit has no zero-copy), and the primary hook
 * gives the frames the protocol netkit leaves unset (bpf/xsk_nk.h; measured
 * on Debian's 6.12 in the vm tier, tests/vm/guest_afxdp.sh). When the kernel
 * refuses the socket (err; also EBUSY when another worker holds netkit's
 * single queue), the worker says so once per device, marks the device's
 * endpoints NP_EP_F_NO_XSK so that XDP leaves them to the kernel path
 * (bpf/xsk.h), and answers EP_ADD with success: not a failure to retry. A
 * later socket that binds clears the mark. Returns true when it took the
 * refusal.
 */
static bool tx_netkit_refused(struct np_worker *w, __u32 ifindex, int err)
{
	static __u32 said[NP_XSK_MAX_TX], nsaid;
	char name[IF_NAMESIZE];
	__u32 i;

	if (!tx_is_netkit(w, ifindex))
		return false;
	ep_mark_no_xsk(w, ifindex, true);
	for (i = 0; i < nsaid && said[i] != ifindex; i++)
		;
	if (i < nsaid)
		return true;
	if (nsaid < NP_XSK_MAX_TX)
		said[nsaid++] = ifindex;
	if (!if_indextoname(ifindex, name))
		snprintf(name, sizeof(name), "%u", ifindex);
	np_warn("AF_XDP on netkit device %s: %s: the pool leaves this endpoint to the kernel path",
		name, strerror(-err));
	return true;
}

static int tx_open(struct np_worker *w, __u32 ifindex)
{
	struct np_xsk_sock *s;
	__u32 q;
	int err;

	if (tx_find(w, ifindex, NULL))
		return 0;
	if (w->ntx >= NP_XSK_MAX_TX) {
		np_err("AF_XDP worker queue %u: tx socket for ifindex %u: more than %d endpoints",
		       w->cfg->queue, ifindex, NP_XSK_MAX_TX);
		return -ENOSPC;
	}
	s = &w->tx[w->ntx];
	/* Endpoint devices are veth/netkit: copy mode; a queue of our own. */
	q = np_xsk_tx_queue(w->cfg->queue, np_xsk_dev_queues(ifindex));
	/* From the datapath (tx_lazy): no waiting out an EBUSY queue there. */
	err = np_xsk_sock_open_wait(s, &w->umem, ifindex, q, false, true, false, false,
				    w->lazy ? 0 : 1000);
	if (err && tx_netkit_refused(w, ifindex, err))
		return 0;
	if (err) {
		np_err("AF_XDP worker queue %u: tx socket on ifindex %u queue %u: %s%s",
		       w->cfg->queue, ifindex, q, strerror(-err),
		       err == -EBUSY ? " (another worker holds it: an endpoint device needs a "
				       "queue per worker)"
				     : "");
		return err;
	}
	w->ntx++;
	if (tx_is_netkit(w, ifindex))
		ep_mark_no_xsk(w, ifindex, false);
	return 0;
}

/*
 * Let s finish what it was given (bounded; not when its device is gone),
 * then close it; its frames come back.
 */
static void tx_close_at(struct np_worker *w, __u32 i)
{
	struct np_xsk_sock *s = &w->tx[i];
	__u64 until = now_ms() + NP_XSK_DRAIN_MS;

	while ((s->pending || s->outstanding) && !s->dead && now_ms() < until) {
		tx_kick(w, s);
		tx_complete(w, s);
		if (s->outstanding)
			usleep(200);
	}
	tx_complete(w, s);
	np_xsk_sock_close(s);
	/* Frames the kernel never completed: not in any ring any more. */
	for (__u32 f = 0; f < w->umem.nframes; f++)
		if (w->led.own[f] == i)
			frame_free(w, f);
	/* Keep tx[] dense: the last one takes slot i. */
	if (i != w->ntx - 1) {
		w->tx[i] = w->tx[w->ntx - 1];
		for (__u32 f = 0; f < w->umem.nframes; f++)
			if (w->led.own[f] == w->ntx - 1)
				w->led.own[f] = (__u16)i;
	}
	memset(&w->tx[w->ntx - 1], 0, sizeof(w->tx[0]));
	w->ntx--;
}

static int tx_close(struct np_worker *w, __u32 ifindex)
{
	__u32 i;

	if (!tx_find(w, ifindex, &i))
		return -ENOENT;
	tx_close_at(w, i);
	return 0;
}

/* A tx socket for every veth device in the pinned np_ep_devs. */
static void tx_open_all(struct np_worker *w)
{
	char path[PATH_MAX];
	__u32 key, next, *prev = NULL;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", w->cfg->pin_dir, NP_MAP_EP_DEV);
	fd = bpf_obj_get(path);
	if (fd < 0) {
		np_warn("AF_XDP worker queue %u: %s: %s (no endpoints yet)", w->cfg->queue, path,
			strerror(errno));
		return;
	}
	w->ep_devs = fd; /* kept for tx_lazy() and tx_is_netkit() */
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		tx_open(w, key);
	}
}

/*
 * A frame for a device without a tx socket: an endpoint added after the
 * start whose EP_ADD has not arrived yet. Open its socket now when it is a
 * veth endpoint in np_ep_devs; a device that failed is retried once a
 * second at most (NP_XSK_LAZY_SLOTS remembered).
 */
static struct np_xsk_sock *tx_lazy(struct np_worker *w, __u32 ifindex)
{
	__u32 slot = ifindex % NP_XSK_LAZY_SLOTS;
	struct np_ep_dev dev;
	__u64 now = now_ms();
	int err;

	if (w->ep_devs < 0)
		return NULL;
	if (w->lazy_if[slot] == ifindex && now - w->lazy_ms[slot] < NP_XSK_LAZY_MS)
		return NULL;
	w->lazy_if[slot] = ifindex;
	w->lazy_ms[slot] = now;
	if (bpf_map_lookup_elem(w->ep_devs, &ifindex, &dev))
		return NULL;
	w->lazy = true;
	err = tx_open(w, ifindex);
	w->lazy = false;
	if (err)
		return NULL;
	return tx_find(w, ifindex, NULL);
}

/* ---- the datapath ------------------------------------------------------------------ */

/* Drop the frame no (the kernel gave it to us on rx) for reason why. */
static void drop(struct np_worker *w, __u32 no, enum np_xsk_drop why)
{
	add(&w->ctr->drops[why], 1);
	frame_free(w, no);
}

/* One batch from the rx ring. Returns the number of descriptors taken. */
static __u32 rx_batch(struct np_worker *w)
{
	struct xsk_ring_cons *rxr = w->rx.rx;
	struct np_xsk_sock *s, *last = NULL;
	__u32 idx, n, i, ti, ifindex, last_if = 0, k;
	__u64 addr, bytes = 0;
	__u32 len;
	enum np_xsk_drop why;
	long no;

	n = xsk_ring_cons__peek(rxr, NP_XSK_BATCH, &idx);
	if (!n)
		return 0;
	for (i = 0; i < n; i++) {
		const struct xdp_desc *d = xsk_ring_cons__rx_desc(rxr, idx + i);

		addr = d->addr;
		len = d->len;
		bytes += len;
		/* A frame the kernel holds (fill/rx), else no frame of ours to touch. */
		no = frame_of(w, addr, NP_XSK_OWN_KERNEL);
		why = np_xsk_rx_check(&w->geo, w->umem.area, addr, len, &ifindex);
		if (why == NP_XSK_DROP_INVALID || no < 0) {
			add(&w->ctr->invalid_desc, 1);
			if (no >= 0)
				drop(w, (__u32)no, NP_XSK_DROP_INVALID);
			else
				add(&w->ctr->drops[NP_XSK_DROP_INVALID], 1);
			continue;
		}
		if (why != NP_XSK_DROP__MAX) {
			drop(w, (__u32)no, why);
			continue;
		}
		if (last && ifindex == last_if) {
			s = last;
		} else {
			s = tx_find(w, ifindex, &k);
			if (!s)
				s = tx_lazy(w, ifindex);
			if (!s) {
				drop(w, (__u32)no, NP_XSK_DROP_NO_EP);
				continue;
			}
			last = s;
			last_if = ifindex;
		}
		if (xsk_ring_prod__reserve(s->tx, 1, &ti) != 1) {
			/* Make room once: submit, kick, reap. */
			add(&w->ctr->tx_ring_full, 1);
			tx_kick(w, s);
			tx_complete(w, s);
			if (xsk_ring_prod__reserve(s->tx, 1, &ti) != 1) {
				drop(w, (__u32)no, NP_XSK_DROP_TX_FULL);
				continue;
			}
		}
		xsk_ring_prod__tx_desc(s->tx, ti)->addr = addr;
		xsk_ring_prod__tx_desc(s->tx, ti)->len = len;
		xsk_ring_prod__tx_desc(s->tx, ti)->options = 0;
		k = (__u32)(s - w->tx);
		w->led.own[no] = (__u16)k;
		w->len[no] = len;
		s->pending++;
	}
	xsk_ring_cons__release(rxr, n);
	add(&w->ctr->rx, n);
	add(&w->ctr->rx_bytes, bytes);
	return n;
}

static void service(struct np_worker *w)
{
	for (__u32 i = 0; i < w->ntx; i++)
		tx_complete(w, &w->tx[i]);
	refill(w);
	if (w->rx_open)
		rx_batch(w);
	for (__u32 i = 0; i < w->ntx; i++)
		tx_kick(w, &w->tx[i]);
	/*
	 * A socket whose device went before its EP_DEL came (or whose EP_DEL
	 * never comes) would hold its frames for good: close it now.
	 */
	for (__u32 i = w->ntx; i-- > 0;) {
		if (!w->tx[i].dead)
			continue;
		np_warn("AF_XDP worker queue %u: the device of ifindex %u is gone; closing its tx "
			"socket",
			w->cfg->queue, w->tx[i].ifindex);
		tx_close_at(w, i);
	}
}

static bool tx_busy(const struct np_worker *w)
{
	for (__u32 i = 0; i < w->ntx; i++)
		if (w->tx[i].pending || w->tx[i].outstanding)
			return true;
	return false;
}

/* Take the queue out of np_xsk (new frames: kernel path), then flush. */
static void drain(struct np_worker *w)
{
	__u64 until;

	if (w->in_map) {
		if (bpf_map_delete_elem(w->xsk_map, &w->cfg->queue) && errno != ENOENT)
			np_warn("AF_XDP worker queue %u: remove np_xsk entry: %s", w->cfg->queue,
				strerror(errno));
		w->in_map = false;
	}
	/* Frames already in the rx ring, then the tx rings, bounded. */
	until = now_ms() + NP_XSK_DRAIN_MS;
	do {
		service(w);
		if (tx_busy(w))
			usleep(200);
	} while ((tx_busy(w) || (w->rx_open && xsk_cons_nb_avail(w->rx.rx, 1))) &&
		 now_ms() < until);
}

/*
 * Once a second: a tx socket whose device is gone without an EP_DEL (it went
 * while this worker started, or while no agent listened) is marked dead, and
 * the next service() closes it. Traffic finds such sockets sooner (ENXIO).
 */
static void tx_check_devs(struct np_worker *w)
{
	char name[IF_NAMESIZE];
	__u64 now = now_ms();

	if (now - w->devs_ms < 1000)
		return;
	w->devs_ms = now;
	for (__u32 i = 0; i < w->ntx; i++)
		if (!if_indextoname(w->tx[i].ifindex, name) && errno == ENXIO)
			w->tx[i].dead = true;
}

/* Add what the kernel dropped on the rx socket since the last look. */
static void kernel_stats(struct np_worker *w)
{
	struct xdp_statistics st;
	socklen_t len = sizeof(st);

	w->xst_ms = now_ms();
	if (!w->rx_open || getsockopt(w->rx.fd, SOL_XDP, XDP_STATISTICS, &st, &len))
		return;
	if (st.rx_ring_full > w->xst.rx_ring_full)
		add(&w->ctr->rx_ring_full, st.rx_ring_full - w->xst.rx_ring_full);
	if (st.rx_dropped > w->xst.rx_dropped)
		add(&w->ctr->rx_dropped, st.rx_dropped - w->xst.rx_dropped);
	w->xst = st;
}

/* ---- control ------------------------------------------------------------------------ */

static void reply(struct np_worker *w, __u32 op, int err, __u32 value)
{
	struct np_xsk_ctl_reply r = { .op = op, .err = err, .value = value };

	if (send(w->ctl_fd, &r, sizeof(r), MSG_NOSIGNAL) != sizeof(r))
		np_dbg("AF_XDP worker queue %u: reply %u: %s", w->cfg->queue, op, strerror(errno));
}

/* Handle one control message. 1: stop the worker. */
static int ctl(struct np_worker *w)
{
	struct np_xsk_ctl m;
	ssize_t n;
	int err;

	n = recv(w->ctl_fd, &m, sizeof(m), MSG_DONTWAIT);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : 1;
	if (n == 0)
		return 1; /* the agent is gone */
	if (n != sizeof(m)) {
		reply(w, 0, -EINVAL, 0);
		return 0;
	}
	switch (m.op) {
	case NP_XSK_CTL_EP_ADD:
		reply(w, m.op, tx_open(w, m.ifindex), 0);
		return 0;
	case NP_XSK_CTL_EP_DEL:
		/*
		 * No socket on it (a netkit endpoint, one this worker never
		 * carried, a device already found gone): nothing to close.
		 */
		err = tx_close(w, m.ifindex);
		reply(w, m.op, err == -ENOENT ? 0 : err, 0);
		return 0;
	case NP_XSK_CTL_DRAIN:
		drain(w);
		reply(w, m.op, 0, 0);
		return 0;
	case NP_XSK_CTL_STOP:
		drain(w);
		reply(w, m.op, 0, 0);
		return 1;
	default:
		reply(w, m.op, -EOPNOTSUPP, 0);
		return 0;
	}
}

/* ---- setup ----------------------------------------------------------------------------- */

static void pin_cpu(const struct np_worker *w)
{
	cpu_set_t set;

	if (w->cfg->cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(w->cfg->cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		np_warn("AF_XDP worker queue %u: pin to CPU %d: %s", w->cfg->queue, w->cfg->cpu,
			strerror(errno));
}

static void busy_poll(const struct np_worker *w)
{
	int one = 1, us = 20, budget = NP_XSK_BATCH;

	if (setsockopt(w->rx.fd, SOL_SOCKET, SO_PREFER_BUSY_POLL, &one, sizeof(one)) ||
	    setsockopt(w->rx.fd, SOL_SOCKET, SO_BUSY_POLL, &us, sizeof(us)) ||
	    setsockopt(w->rx.fd, SOL_SOCKET, SO_BUSY_POLL_BUDGET, &budget, sizeof(budget)))
		np_warn("AF_XDP worker queue %u: busy polling refused: %s; polling normally",
			w->cfg->queue, strerror(errno));
}

/* UMEM and the rx socket: zero-copy first unless force_copy, then copy mode. */
static int rx_setup(struct np_worker *w)
{
	const struct np_xsk_worker_cfg *c = w->cfg;
	__u32 nframes = 4 * c->ring_size;
	int err, zc_err = 0;

	for (int zc = c->force_copy ? 0 : 1; zc >= 0; zc--) {
		err = np_xsk_umem_create(&w->umem, c->frame_size, c->ring_size, nframes);
		if (err)
			return err;
		err = np_xsk_sock_open(&w->rx, &w->umem, c->uplink_ifindex, c->queue, true, false,
				       true, zc);
		if (!err) {
			w->zerocopy = zc;
			if (!zc && zc_err)
				np_dbg("AF_XDP worker queue %u: zero-copy: %s; copy mode", c->queue,
				       strerror(-zc_err));
			return 0;
		}
		np_xsk_umem_destroy(&w->umem);
		if (zc)
			zc_err = err;
	}
	np_err("AF_XDP worker queue %u: bind to ifindex %d queue %u (frame size %u, ring %u): %s",
	       c->queue, c->uplink_ifindex, c->queue, c->frame_size, c->ring_size, strerror(-err));
	return err;
}

static int setup(struct np_worker *w)
{
	const struct np_xsk_worker_cfg *c = w->cfg;
	char path[PATH_MAX];
	int err, fd;

	if (np_xsk_ring_size_ok(c->ring_size) || np_xsk_frame_size_ok(c->frame_size)) {
		np_err("AF_XDP worker queue %u: ring size %u / frame size %u not allowed", c->queue,
		       c->ring_size, c->frame_size);
		return -EINVAL;
	}
	if (c->queue >= NP_XSK_MAX_QUEUES) {
		np_err("AF_XDP worker: queue %u: at most %d queues", c->queue, NP_XSK_MAX_QUEUES);
		return -EINVAL;
	}
	snprintf(path, sizeof(path), "%s/%s", c->pin_dir, NP_MAP_XSK);
	w->xsk_map = bpf_obj_get(path);
	if (w->xsk_map < 0) {
		err = -errno;
		np_err("AF_XDP worker queue %u: open %s: %s (is the node up?)", c->queue, path,
		       strerror(-err));
		return err;
	}
	err = rx_setup(w);
	if (err)
		return err;
	w->rx_open = true;
	w->geo.umem_size = w->umem.size;
	w->geo.frame_size = w->umem.frame_size;
	w->geo.headroom = XDP_PACKET_HEADROOM;
	err = np_xsk_ledger_init(&w->led, w->umem.nframes, w->umem.frame_size);
	w->len = calloc(w->umem.nframes, sizeof(*w->len));
	if (err || !w->len) {
		np_err("AF_XDP worker queue %u: out of memory", c->queue);
		return -ENOMEM;
	}
	if (c->busy_poll)
		busy_poll(w);
	tx_open_all(w);
	refill(w);
	fd = w->rx.fd;
	if (bpf_map_update_elem(w->xsk_map, &c->queue, &fd, BPF_ANY)) {
		err = -errno;
		np_err("AF_XDP worker queue %u: enter the socket into %s: %s", c->queue, path,
		       strerror(-err));
		return err;
	}
	w->in_map = true;
	__atomic_store_n(&w->ctr->zerocopy, w->zerocopy ? 1 : 0, __ATOMIC_RELAXED);
	return 0;
}

static void teardown(struct np_worker *w)
{
	while (w->ntx)
		tx_close_at(w, w->ntx - 1);
	if (w->in_map)
		bpf_map_delete_elem(w->xsk_map, &w->cfg->queue);
	w->in_map = false;
	if (w->rx_open) {
		kernel_stats(w);
		np_xsk_sock_close(&w->rx);
	}
	w->rx_open = false;
	if (w->umem.umem)
		np_xsk_umem_destroy(&w->umem);
	free(w->len);
	np_xsk_ledger_fini(&w->led);
	if (w->xsk_map >= 0)
		close(w->xsk_map);
	w->xsk_map = -1;
	if (w->ep_devs >= 0)
		close(w->ep_devs);
	w->ep_devs = -1;
}

int np_xsk_worker_main(const struct np_xsk_worker_cfg *cfg, int ctl_fd, struct np_xsk_counters *ctr)
{
	struct sigaction sa = { .sa_handler = on_term };
	struct np_worker *w;
	struct pollfd pfd[2];
	int err, status = 1, timeout;

	w = calloc(1, sizeof(*w));
	if (!w) {
		np_err("AF_XDP worker queue %u: out of memory", cfg->queue);
		return 1;
	}
	w->cfg = cfg;
	w->ctr = ctr;
	w->ctl_fd = ctl_fd;
	w->xsk_map = -1;
	w->ep_devs = -1;
	np_worker_term = 0;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	pin_cpu(w);

	err = setup(w);
	if (err) {
		reply(w, NP_XSK_CTL_READY, err, 0);
		goto out;
	}
	reply(w, NP_XSK_CTL_READY, 0, w->zerocopy);

	for (;;) {
		if (np_worker_term) {
			drain(w);
			break;
		}
		pfd[0].fd = ctl_fd;
		pfd[0].events = POLLIN;
		pfd[1].fd = w->rx_open ? w->rx.fd : -1;
		pfd[1].events = POLLIN;
		/* Sent frames complete without an event: come back soon. */
		timeout = tx_busy(w) ? 1 : 100;
		if (w->rx_open && xsk_cons_nb_avail(w->rx.rx, 1))
			timeout = 0;
		if (poll(pfd, 2, timeout) < 0 && errno != EINTR) {
			np_err("AF_XDP worker queue %u: poll: %s", cfg->queue, strerror(errno));
			goto out;
		}
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			if (ctl(w)) {
				/* STOP answered, or the agent went away: drain. */
				drain(w);
				break;
			}
		}
		service(w);
		if (now_ms() - w->xst_ms >= 100)
			kernel_stats(w);
		tx_check_devs(w);
	}
	status = 0;
out:
	teardown(w);
	free(w);
	return status;
}
