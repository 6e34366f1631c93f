/* SPDX-License-Identifier: GPL-2.0 */
/*
 * AF_XDP building blocks of a worker (afxdp/worker.c): the pure arithmetic
 * of frames, rings and descriptors (unit-tested without sockets), a stack of
 * free UMEM frames, and the UMEM and sockets through libxdp's <xdp/xsk.h>.
 *
 * UMEM layout: aligned mode, nframes frames of frame_size bytes, no UMEM
 * headroom. The kernel puts a received packet XDP_PACKET_HEADROOM bytes into
 * its frame, right behind the metadata the XDP program wrote
 * (struct np_xsk_meta), and hands user space the address of the packet.
 */
#ifndef NP_AFXDP_XSK_H
#define NP_AFXDP_XSK_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "afxdp/pool.h"

struct xsk_umem;
struct xsk_socket;

/* ---- pure arithmetic ------------------------------------------------------ */

static inline bool np_xsk_is_pow2(__u64 n)
{
	return n && !(n & (n - 1));
}

/* Where a descriptor may point, for np_xsk_desc_check(). */
struct np_xsk_geo {
	__u64 umem_size;  /* nframes * frame_size */
	__u32 frame_size; /* a power of two */
	__u32 headroom;	  /* bytes in front of the packet the kernel keeps */
};

/* The start of the frame that holds UMEM offset addr (aligned mode). */
static inline __u64 np_xsk_frame_base(__u64 addr, __u32 frame_size)
{
	return addr & ~(__u64)(frame_size - 1);
}

/* The number of the frame that holds addr. */
static inline __u32 np_xsk_frame_no(__u64 addr, __u32 frame_size)
{
	return (__u32)(addr / frame_size);
}

/* Entries the consumer has not taken yet; prod/cons wrap at 2^32. */
static inline __u32 np_xsk_ring_used(__u32 prod, __u32 cons)
{
	return prod - cons;
}

/* Entries a producer may still add to a ring of size entries. */
static inline __u32 np_xsk_ring_free(__u32 prod, __u32 cons, __u32 size)
{
	return size - (prod - cons);
}

/* Why np_xsk_desc_check() refused a descriptor. */
enum np_xsk_desc_err {
	NP_XSK_DESC_OK = 0,
	NP_XSK_DESC_LEN,     /* zero, or longer than a frame's room */
	NP_XSK_DESC_RANGE,   /* outside the UMEM */
	NP_XSK_DESC_CROSS,   /* crosses into the next frame */
	NP_XSK_DESC_NO_META, /* no room for np_xsk_meta in front of it */
};

/*
 * Check an rx descriptor (addr, len) against the UMEM: inside it, not
 * crossing a frame, at most frame_size - headroom long, and with room for
 * struct np_xsk_meta in front of it in the same frame.
 */
enum np_xsk_desc_err np_xsk_desc_check(const struct np_xsk_geo *g, __u64 addr, __u32 len);

/*
 * Read the np_xsk_meta at p (which may be unaligned): the target ifindex,
 * or 0 when the magic is wrong or the ifindex is 0.
 */
__u32 np_xsk_meta_ifindex(const void *p);

/*
 * Classify an rx descriptor: NP_XSK_DROP__MAX when it may be sent (*ifindex
 * is the target from its np_xsk_meta), else the drop reason:
 * NP_XSK_DROP_INVALID (np_xsk_desc_check() refused it; its meta is not read)
 * or NP_XSK_DROP_NO_META. area: the UMEM.
 */
enum np_xsk_drop np_xsk_rx_check(const struct np_xsk_geo *g, const void *area, __u64 addr,
				 __u32 len, __u32 *ifindex);

/* ---- free frames ------------------------------------------------------------ */

struct np_xsk_frames {
	__u64 *addr;
	__u32 n;
	__u32 cap;
};

/* A stack of capacity cap holding frames 0..n-1 (offsets i * frame_size). */
int np_xsk_frames_init(struct np_xsk_frames *f, __u32 cap, __u32 n, __u32 frame_size);
void np_xsk_frames_free(struct np_xsk_frames *f);

/* Push a frame (its base address); -ENOSPC when full (a frame counted twice). */
static inline int np_xsk_frames_put(struct np_xsk_frames *f, __u64 addr)
{
	if (f->n >= f->cap)
		return -ENOSPC;
	f->addr[f->n++] = addr;
	return 0;
}

/* Pop a frame into *addr; -ENOENT when none is free. */
static inline int np_xsk_frames_get(struct np_xsk_frames *f, __u64 *addr)
{
	if (!f->n)
		return -ENOENT;
	*addr = f->addr[--f->n];
	return 0;
}

/*
 * Give the fill ring (a struct xsk_ring_prod of ring_size entries) as many
 * free frames as it has room for. *was_empty: the kernel had no frame left
 * to receive into. Returns the number of frames handed over.
 */
__u32 np_xsk_fill_topup(void *ring, struct np_xsk_frames *f, __u32 ring_size, bool *was_empty);

/* ---- where every frame is ------------------------------------------------------- */

#define NP_XSK_OWN_FREE 0xffff	 /* on the free stack */
#define NP_XSK_OWN_KERNEL 0xfffe /* in the fill ring or the rx ring */

/*
 * A worker's frames: each is in exactly one place, which own[] names: the
 * free stack, the kernel (fill/rx), or a tx socket (its index, < NP_XSK_MAX_TX,
 * for its tx and completion rings). A descriptor is only acted on when the
 * frame it names is where it should be (np_xsk_ledger_find()), so a frame
 * is never handed out or freed twice.
 */
struct np_xsk_ledger {
	struct np_xsk_frames free;
	__u16 *own;
	__u32 nframes;
	__u32 frame_size; /* a power of two */
};

/* All nframes frames free. 0 or -ENOMEM. */
int np_xsk_ledger_init(struct np_xsk_ledger *l, __u32 nframes, __u32 frame_size);
void np_xsk_ledger_fini(struct np_xsk_ledger *l);

/* The number of the frame holding addr when own[] says who has it, else -1. */
long np_xsk_ledger_find(const struct np_xsk_ledger *l, __u64 addr, __u16 who);

/* Frame no (< nframes) back to the free stack; -EALREADY when it is there. */
int np_xsk_ledger_free(struct np_xsk_ledger *l, __u32 no);

/* np_xsk_fill_topup() from the free stack; the frames handed over: the kernel's. */
__u32 np_xsk_ledger_fill(struct np_xsk_ledger *l, void *ring, __u32 ring_size, bool *was_empty);

/* Frames own[] puts at who (NP_XSK_OWN_* or a tx index). */
__u32 np_xsk_ledger_count(const struct np_xsk_ledger *l, __u16 who);

/* ---- UMEM and sockets (libxdp) ------------------------------------------------ */

/* The UMEM of a worker with its first fill/completion ring pair. */
struct np_xsk_umem {
	void *area;
	__u64 size;
	__u32 frame_size;
	__u32 ring_size;
	__u32 nframes;
	struct xsk_umem *umem;
	/* struct xsk_ring_prod / xsk_ring_cons, opaque here (xsk.c) */
	void *fill;
	void *comp;
};

/* mmap nframes frames and register them. 0 or -errno (logged). */
int np_xsk_umem_create(struct np_xsk_umem *u, __u32 frame_size, __u32 ring_size, __u32 nframes);
/* Unregister and unmap (sockets must be gone). */
void np_xsk_umem_destroy(struct np_xsk_umem *u);

/* One AF_XDP socket of the worker: the rx socket, or a tx socket. */
struct np_xsk_sock {
	struct xsk_socket *xsk;
	int fd;
	__u32 ifindex;
	__u32 queue;
	bool zerocopy;
	/* rings (struct xsk_ring_*), allocated by np_xsk_sock_open */
	void *rx;
	void *tx;
	void *fill; /* the UMEM's pair for the first socket, else its own */
	void *comp;
	bool own_rings;	   /* fill/comp allocated here */
	bool dead;	   /* tx: its device went (sendto: ENXIO); close it */
	__u32 outstanding; /* tx descriptors submitted, not completed */
	__u32 pending;	   /* tx descriptors reserved, not submitted */
};

/*
 * Open a socket on (ifindex, queue) on UMEM u: with an rx ring when rx, a
 * tx ring when tx. The first socket of the UMEM uses the UMEM's
 * fill/completion rings, later ones (first == false) get their own pair.
 * zerocopy: XDP_ZEROCOPY, else XDP_COPY. Always XDP_USE_NEED_WAKEUP. EBUSY
 * from bind (a socket just closed on the queue) is retried for ~1 s.
 * 0 or -errno (not logged: the caller knows what it tried).
 */
int np_xsk_sock_open(struct np_xsk_sock *s, struct np_xsk_umem *u, __u32 ifindex, __u32 queue,
		     bool rx, bool tx, bool first, bool zerocopy);
/* The same, waiting at most busy_ms for an EBUSY queue (0: not at all). */
int np_xsk_sock_open_wait(struct np_xsk_sock *s, struct np_xsk_umem *u, __u32 ifindex, __u32 queue,
			  bool rx, bool tx, bool first, bool zerocopy, unsigned int busy_ms);
void np_xsk_sock_close(struct np_xsk_sock *s);

/*
 * Queues of ifindex in the current netns (ETHTOOL_GCHANNELS: combined, else
 * the larger of rx and tx), or -errno.
 */
int np_xsk_dev_queues(__u32 ifindex);
/*
 * The queue of an endpoint device the worker of uplink queue worker_queue
 * transmits on: its own number modulo the device's queues (dev_queues <= 0:
 * queue 0). Two workers cannot bind the same (device, queue): endpoint
 * devices need as many queues as there are workers (`lab up --queues`).
 */
__u32 np_xsk_tx_queue(__u32 worker_queue, int dev_queues);

#endif /* NP_AFXDP_XSK_H */
