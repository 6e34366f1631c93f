/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The AF_XDP worker pool: the contract between the agent (control/agent.c,
 * which supervises) and a worker (afxdp/worker.c, which moves frames).
 *
 * A worker is a process, forked by the agent, one per uplink rx queue and
 * pinned to a CPU. It owns one UMEM, shared (XDP_SHARED_UMEM) by its rx
 * socket, bound to (uplink, queue) and entered into np_xsk[queue], and by
 * one tx socket per local endpoint device (the pod's host-side veth or the
 * netkit primary, queue 0). A frame the XDP program redirected carries
 * struct np_xsk_meta (abi.h) in front of it; the worker moves its descriptor
 * to the tx ring of the socket of meta.ifindex, without copying it.
 *
 * When a worker dies the kernel closes its sockets, which removes its
 * np_xsk entry: XDP's redirect then falls back to XDP_PASS (the kernel
 * path) until the agent has started a new worker.
 *
 * Counters live in memory the agent maps MAP_SHARED before it forks, so they
 * survive the worker; the worker adds to them with relaxed atomics.
 *
 * Control: the agent and each worker share a SOCK_SEQPACKET socketpair. The
 * agent sends struct np_xsk_ctl; the worker answers every request with
 * struct np_xsk_ctl_reply (same op, 0 or -errno). The worker sends
 * NP_XSK_CTL_READY (unrequested) once its rx socket is in np_xsk.
 */
#ifndef NP_AFXDP_POOL_H
#define NP_AFXDP_POOL_H

#include <stdbool.h>
#include <linux/types.h>

#define NP_XSK_FRAME_SIZE_MIN 2048
#define NP_XSK_FRAME_SIZE_MAX 4096
#define NP_XSK_RING_DEFAULT 2048
#define NP_XSK_RING_MAX 16384
#define NP_XSK_BATCH 64
#define NP_XSK_MAX_TX 64 /* endpoint tx sockets per worker */

enum np_xsk_drop {
	NP_XSK_DROP_NO_META = 0, /* no or bad np_xsk_meta in front of the frame */
	NP_XSK_DROP_NO_EP,	 /* meta.ifindex has no tx socket in this worker */
	NP_XSK_DROP_TX_FULL,	 /* the tx ring stayed full: frame given back */
	NP_XSK_DROP_INVALID,	 /* a descriptor outside the UMEM or too long */
	NP_XSK_DROP__MAX,
};

/* One worker's counters (shared memory; the agent reads them). */
struct np_xsk_counters {
	__u64 rx; /* descriptors taken from the rx ring */
	__u64 tx; /* descriptors completed on tx sockets */
	__u64 rx_bytes;
	__u64 tx_bytes;
	__u64 fill_empty;   /* times the worker found the fill ring empty */
	__u64 tx_ring_full; /* times a tx ring had no room for a batch */
	__u64 invalid_desc; /* descriptors rejected (also NP_XSK_DROP_INVALID) */
	__u64 wakeups;	    /* sendto()/poll() kicks issued (need_wakeup) */
	__u64 drops[NP_XSK_DROP__MAX];
	__u64 restarts; /* written by the agent: times this worker was restarted */
	__s32 pid;	/* written by the agent: 0 when not running */
	__u32 zerocopy; /* written by the worker: 1 zero-copy, 0 copy mode */
	/*
	 * Frames the kernel dropped before the worker saw them, from the rx
	 * socket's XDP_STATISTICS (summed over the worker's sockets so far):
	 * rx ring full (the worker lagged), and other reasons (no fill frame).
	 */
	__u64 rx_ring_full;
	__u64 rx_dropped;
};

struct np_xsk_worker_cfg {
	char node[64];	    /* the node's name (pin dir /sys/fs/bpf/nodepath/<node>) */
	char pin_dir[256];  /* where np_xsk and np_ep_devs are pinned */
	int uplink_ifindex; /* in the node's namespace (the worker runs in it) */
	__u32 queue;	    /* uplink rx queue, also the np_xsk key */
	int cpu;	    /* CPU to pin to, -1: none */
	__u32 frame_size;   /* 2048 or 4096 */
	__u32 ring_size;    /* rx/tx/fill/completion entries, power of two */
	bool busy_poll;	    /* SO_PREFER_BUSY_POLL + SO_BUSY_POLL(_BUDGET) */
	bool force_copy;    /* XDP_COPY only (tests); else zero-copy, then copy */
};

enum np_xsk_ctl_op {
	NP_XSK_CTL_READY = 1, /* worker -> agent: rx socket live; value = zerocopy */
	NP_XSK_CTL_EP_ADD,    /* open a tx socket on ifindex */
	NP_XSK_CTL_EP_DEL,    /* close the tx socket on ifindex (drains first; none: 0) */
	NP_XSK_CTL_DRAIN,     /* remove np_xsk[queue], finish in-flight tx, answer */
	NP_XSK_CTL_STOP,      /* drain, close everything, exit 0 */
};

struct np_xsk_ctl {
	__u32 op;      /* enum np_xsk_ctl_op */
	__u32 ifindex; /* EP_ADD / EP_DEL */
};

struct np_xsk_ctl_reply {
	__u32 op;
	__s32 err;   /* 0 or -errno */
	__u32 value; /* READY: 1 if zero-copy */
	__u32 pad;
};

/*
 * Run a worker in the calling process (already in the node's namespace)
 * until NP_XSK_CTL_STOP, SIGTERM, or the control socket closes. At start it
 * opens a tx socket for every device in the pinned np_ep_devs. Returns the
 * process exit status (0 clean, 1 setup failed; the reason logged once).
 */
int np_xsk_worker_main(const struct np_xsk_worker_cfg *cfg, int ctl_fd,
		       struct np_xsk_counters *ctr);

/* Checks of user input, shared by the CLI and the worker (0 or -EINVAL). */
int np_xsk_ring_size_ok(__u32 n);
int np_xsk_frame_size_ok(__u32 n);

#endif /* NP_AFXDP_POOL_H */
