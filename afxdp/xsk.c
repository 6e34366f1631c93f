// SPDX-License-Identifier: GPL-2.0
/*
 * AF_XDP building blocks: descriptor and ring arithmetic, the free-frame
 * stack, and the UMEM and sockets through libxdp (see xsk.h).
 */
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/if_xdp.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>

#include <xdp/xsk.h>

#include <nodepath/abi.h>
#include "log.h"
#include "afxdp/xsk.h"

int np_xsk_ring_size_ok(__u32 n)
{
	return n >= NP_XSK_BATCH && n <= NP_XSK_RING_MAX && np_xsk_is_pow2(n) ? 0 : -EINVAL;
}

int np_xsk_frame_size_ok(__u32 n)
{
	return n == NP_XSK_FRAME_SIZE_MIN || n == NP_XSK_FRAME_SIZE_MAX ? 0 : -EINVAL;
}

enum np_xsk_desc_err np_xsk_desc_check(const struct np_xsk_geo *g, __u64 addr, __u32 len)
{
	__u64 off;

	if (!len || len > g->frame_size - g->headroom)
		return NP_XSK_DESC_LEN;
	if (addr >= g->umem_size || len > g->umem_size - addr)
		return NP_XSK_DESC_RANGE;
	off = addr - np_xsk_frame_base(addr, g->frame_size);
	if (off + len > g->frame_size)
		return NP_XSK_DESC_CROSS;
	if (off < sizeof(struct np_xsk_meta))
		return NP_XSK_DESC_NO_META;
	return NP_XSK_DESC_OK;
}

__u32 np_xsk_meta_ifindex(const void *p)
{
	struct np_xsk_meta m;

	memcpy(&m, p, sizeof(m));
	if (m.magic != NP_XSK_META_MAGIC)
		return 0;
	return m.ifindex;
}

int np_xsk_frames_init(struct np_xsk_frames *f, __u32 cap, __u32 n, __u32 frame_size)
{
	if (n > cap)
		return -EINVAL;
	f->addr = calloc(cap ? cap : 1, sizeof(*f->addr));
	if (!f->addr)
		return -ENOMEM;
	f->cap = cap;
	f->n = 0;
	/* Low addresses on top: handed out first. */
	for (__u32 i = n; i > 0; i--)
		f->addr[f->n++] = (__u64)(i - 1) * frame_size;
	return 0;
}

void np_xsk_frames_free(struct np_xsk_frames *f)
{
	free(f->addr);
	f->addr = NULL;
	f->n = f->cap = 0;
}

int np_xsk_umem_create(struct np_xsk_umem *u, __u32 frame_size, __u32 ring_size, __u32 nframes)
{
	struct xsk_umem_config cfg = {
		.fill_size = ring_size,
		.comp_size = ring_size,
		.frame_size = frame_size,
		.frame_headroom = 0,
		.flags = 0,
	};
	int err;

	memset(u, 0, sizeof(*u));
	u->frame_size = frame_size;
	u->ring_size = ring_size;
	u->nframes = nframes;
	u->size = (__u64)nframes * frame_size;
	u->fill = calloc(1, sizeof(struct xsk_ring_prod));
	u->comp = calloc(1, sizeof(struct xsk_ring_cons));
	if (!u->fill || !u->comp) {
		err = -ENOMEM;
		np_err("UMEM: out of memory");
		goto err_rings;
	}
	u->area = mmap(NULL, u->size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (u->area == MAP_FAILED) {
		err = -errno;
		u->area = NULL;
		np_err("UMEM: mmap of %llu bytes: %s", (unsigned long long)u->size, strerror(-err));
		goto err_rings;
	}
	err = xsk_umem__create(&u->umem, u->area, u->size, u->fill, u->comp, &cfg);
	if (err) {
		np_err("UMEM: register %u frames of %u bytes: %s", nframes, frame_size,
		       strerror(-err));
		goto err_map;
	}
	return 0;

err_map:
	munmap(u->area, u->size);
	u->area = NULL;
err_rings:
	free(u->comp);
	free(u->fill);
	u->fill = u->comp = NULL;
	return err;
}

void np_xsk_umem_destroy(struct np_xsk_umem *u)
{
	if (u->umem && xsk_umem__delete(u->umem))
		np_warn("UMEM: still in use at exit");
	u->umem = NULL;
	if (u->area)
		munmap(u->area, u->size);
	u->area = NULL;
	free(u->comp);
	free(u->fill);
	u->fill = u->comp = NULL;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Free the socket's ring structs (fill and completion only when its own). */
static void xsk_sock_free_rings(struct np_xsk_sock *s)
{
	if (s->own_rings) {
		free(s->comp);
		free(s->fill);
	}
	free(s->tx);
	free(s->rx);
	s->rx = s->tx = s->fill = s->comp = NULL;
}

int np_xsk_sock_open(struct np_xsk_sock *s, struct np_xsk_umem *u, __u32 ifindex, __u32 queue,
		     bool rx, bool tx, bool first, bool zerocopy)
{
	return np_xsk_sock_open_wait(s, u, ifindex, queue, rx, tx, first, zerocopy, 1000);
}

int np_xsk_sock_open_wait(struct np_xsk_sock *s, struct np_xsk_umem *u, __u32 ifindex, __u32 queue,
			  bool rx, bool tx, bool first, bool zerocopy, unsigned int busy_ms)
{
	struct xsk_socket_config cfg = {
		.rx_size = rx ? u->ring_size : 0,
		.tx_size = tx ? u->ring_size : 0,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.xdp_flags = 0,
		.bind_flags = XDP_USE_NEED_WAKEUP | (zerocopy ? XDP_ZEROCOPY : XDP_COPY),
	};
	char ifname[IF_NAMESIZE];
	long backoff = 10, waited = 0;
	int err;

	memset(s, 0, sizeof(*s));
	s->fd = -1;
	s->ifindex = ifindex;
	s->queue = queue;
	if (!if_indextoname(ifindex, ifname))
		return -errno;
	if (rx && !(s->rx = calloc(1, sizeof(struct xsk_ring_cons))))
		goto nomem;
	if (tx && !(s->tx = calloc(1, sizeof(struct xsk_ring_prod))))
		goto nomem;
	if (first) {
		s->fill = u->fill;
		s->comp = u->comp;
	} else {
		s->fill = calloc(1, sizeof(struct xsk_ring_prod));
		s->comp = calloc(1, sizeof(struct xsk_ring_cons));
		s->own_rings = true;
		if (!s->fill || !s->comp)
			goto nomem;
	}
	for (;;) {
		err = xsk_socket__create_shared(&s->xsk, ifname, queue, u->umem, s->rx, s->tx,
						s->fill, s->comp, &cfg);
		/* A socket just closed on this queue may still hold it. */
		if (err != -EBUSY || waited >= busy_ms)
			break;
		sleep_ms(backoff);
		waited += backoff;
		backoff = backoff < 160 ? 2 * backoff : backoff;
	}
	if (err)
		goto err_free;
	s->fd = xsk_socket__fd(s->xsk);
	s->zerocopy = zerocopy;
	return 0;

nomem:
	err = -ENOMEM;
err_free:
	s->xsk = NULL;
	xsk_sock_free_rings(s);
	return err;
}

void np_xsk_sock_close(struct np_xsk_sock *s)
{
	if (s->xsk)
		xsk_socket__delete(s->xsk);
	s->xsk = NULL;
	s->fd = -1;
	xsk_sock_free_rings(s);
	s->own_rings = false;
}

int np_xsk_dev_queues(__u32 ifindex)
{
	struct ethtool_channels ch = { .cmd = ETHTOOL_GCHANNELS };
	struct ifreq ifr;
	int fd, err = 0;

	memset(&ifr, 0, sizeof(ifr));
	if (!if_indextoname(ifindex, ifr.ifr_name))
		return -errno;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	ifr.ifr_data = (void *)&ch;
	if (ioctl(fd, SIOCETHTOOL, &ifr))
		err = -errno;
	close(fd);
	if (err)
		return err;
	/* veth reports rx/tx counts, NIC drivers usually combined ones. */
	if (ch.combined_count)
		return (int)ch.combined_count;
	return (int)(ch.tx_count > ch.rx_count ? ch.tx_count : ch.rx_count);
}

__u32 np_xsk_tx_queue(__u32 worker_queue, int dev_queues)
{
	if (dev_queues <= 0)
		return 0;
	return worker_queue % (__u32)dev_queues;
}

enum np_xsk_drop np_xsk_rx_check(const struct np_xsk_geo *g, const void *area, __u64 addr,
				 __u32 len, __u32 *ifindex)
{
	if (np_xsk_desc_check(g, addr, len) != NP_XSK_DESC_OK)
		return NP_XSK_DROP_INVALID;
	*ifindex = np_xsk_meta_ifindex((const char *)area + addr - sizeof(struct np_xsk_meta));
	return *ifindex ? NP_XSK_DROP__MAX : NP_XSK_DROP_NO_META;
}

__u32 np_xsk_fill_topup(void *ring, struct np_xsk_frames *f, __u32 ring_size, bool *was_empty)
{
	struct xsk_ring_prod *fq = ring;
	__u32 room, n, idx, i;
	__u64 addr = 0;

	room = xsk_prod_nb_free(fq, ring_size);
	*was_empty = room == ring_size;
	n = room < f->n ? room : f->n;
	if (!n || xsk_ring_prod__reserve(fq, n, &idx) != n)
		return 0;
	for (i = 0; i < n; i++) {
		np_xsk_frames_get(f, &addr);
		*xsk_ring_prod__fill_addr(fq, idx + i) = addr;
	}
	xsk_ring_prod__submit(fq, n);
	return n;
}

int np_xsk_ledger_init(struct np_xsk_ledger *l, __u32 nframes, __u32 frame_size)
{
	int err;

	memset(l, 0, sizeof(*l));
	l->own = malloc((size_t)nframes * sizeof(*l->own));
	if (!l->own)
		return -ENOMEM;
	err = np_xsk_frames_init(&l->free, nframes, nframes, frame_size);
	if (err) {
		free(l->own);
		l->own = NULL;
		return err;
	}
	for (__u32 i = 0; i < nframes; i++)
		l->own[i] = NP_XSK_OWN_FREE;
	l->nframes = nframes;
	l->frame_size = frame_size;
	return 0;
}

void np_xsk_ledger_fini(struct np_xsk_ledger *l)
{
	np_xsk_frames_free(&l->free);
	free(l->own);
	l->own = NULL;
	l->nframes = 0;
}

long np_xsk_ledger_find(const struct np_xsk_ledger *l, __u64 addr, __u16 who)
{
	__u64 no = addr / l->frame_size;

	if (no >= l->nframes || l->own[no] != who)
		return -1;
	return (long)no;
}

int np_xsk_ledger_free(struct np_xsk_ledger *l, __u32 no)
{
	if (l->own[no] == NP_XSK_OWN_FREE)
		return -EALREADY;
	/* Cannot fail: a frame not on the stack leaves room for itself. */
	if (np_xsk_frames_put(&l->free, (__u64)no * l->frame_size))
		return -ENOSPC;
	l->own[no] = NP_XSK_OWN_FREE;
	return 0;
}

__u32 np_xsk_ledger_fill(struct np_xsk_ledger *l, void *ring, __u32 ring_size, bool *was_empty)
{
	__u32 top = l->free.n, n;

	n = np_xsk_fill_topup(ring, &l->free, ring_size, was_empty);
	/* The frames handed over were the top n of the stack. */
	for (__u32 i = top - n; i < top; i++)
		l->own[np_xsk_frame_no(l->free.addr[i], l->frame_size)] = NP_XSK_OWN_KERNEL;
	return n;
}

__u32 np_xsk_ledger_count(const struct np_xsk_ledger *l, __u16 who)
{
	__u32 n = 0;

	for (__u32 i = 0; i < l->nframes; i++)
		n += l->own[i] == who;
	return n;
}
