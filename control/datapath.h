/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The uplink datapath of a node: load the XDP and tcx programs from their
 * skeletons with the node's pin directory as pin root (maps shared by name),
 * attach tcx first and XDP second (through libxdp), record everything in
 * np_node, and take it all down again. Errors are logged where found.
 */
#ifndef NP_DATAPATH_H
#define NP_DATAPATH_H

#include <stdbool.h>

#include "node.h"

/* Name of the pinned tcx link inside the node's pin directory. */
#define NP_LINK_TCX_UPLINK_IN "link_tcx_uplink_in"
/* BPF program names, as the kernel and libxdp report them. */
#define NP_PROG_XDP_UPLINK "np_xdp_uplink"
#define NP_PROG_TC_UPLINK_IN "np_tc_uplink_in"

/*
 * Bring the node up on ifname. 0 on success; -EALREADY when it is up on
 * this very device already (nothing done, a message says so); -EEXIST when
 * it is up on another device; -ENODEV for an unknown device; -EPROTO for
 * state of another ABI version; -EBUSY when another tool's XDP program
 * (attached without libxdp) holds the device. On failure nothing is left
 * behind. pods (NULL: none) carries the pod ranges and gateways
 * (np_ep_parse_pod_cidr()); `up` also loads the pod programs of
 * tc/np_pod.bpf.c once and pins them for `endpoint add`. Up again on the
 * same device with another pod range applies it while no endpoint exists
 * (-EBUSY otherwise) and still returns -EALREADY. Endpoints kept by `down`
 * are re-adopted (np_ep_readopt_all()); pods must contain their addresses
 * (-ERANGE otherwise, nothing changed). Then the services `down` kept are
 * re-created (np_svc_restore_all(); a record that does not validate is
 * logged and kept aside, and does not fail `up`).
 */
int np_dp_up(struct np_node *n, const char *ifname, enum np_xdp_mode mode, __u32 pf_size,
	     const struct np_node_cfg *pods);

/*
 * Detach our XDP program (leaving other libxdp programs in the dispatcher),
 * the tcx link, and remove the pinned maps, the pin directory and the
 * node's libxdp directory when empty. -ENOENT when there was nothing to do.
 * Every endpoint's links are detached and unpinned first, but its record
 * stays in <pin_dir>/ep (*endpoints says how many, when not NULL) for `up`
 * to re-adopt; their devices, addresses and routes stay, so the pods fall
 * back to the host stack meanwhile. The services' records stay too (their
 * maps go; *services says how many, when not NULL) for `up` to restore;
 * purge forgets them instead (*services: how many were forgotten). Without
 * records no pin is left.
 */
int np_dp_down(struct np_node *n, bool purge, int *endpoints, int *services);

struct np_dp_status {
	bool pinned;		/* np_node is pinned */
	bool up;		/* NP_NODE_F_UP */
	struct np_node_cfg cfg; /* as pinned */
	bool tcx_uplink_in;	/* the pinned tcx link is attached to the uplink */
	__u32 tcx_prog_id;
	unsigned int xdp_mode; /* enum np_xdp_mode, as the kernel reports our program */
	__u32 xdp_prog_id;     /* our program (inside libxdp's dispatcher) */
	int xdp_others;	       /* other programs in the same dispatcher */
	int endpoints;	       /* endpoints registered, or (down) kept: dirs in <pin_dir>/ep */
};
/* Fill st; 0 also when the node is not up (st->up false). -EPROTO: other ABI. */
int np_dp_status(struct np_node *n, struct np_dp_status *st);

struct np_xdp_switch {
	unsigned int from, to; /* enum np_xdp_mode */
	bool changed;	       /* false: already in that mode */
	bool rolled_back;      /* the new mode failed; `from` is attached again */
	double gap_ms;	       /* from just before detach to just after attach */
	__u64 tc_judged;       /* packets tc judged meanwhile (NP_STAT_JUDGED delta) */
};
/*
 * Switch XDP live to mode: detach, then attach (the kernel refuses native
 * and generic at once); the tcx program judges whatever XDP did not mark
 * during the gap. The new program is prepared before the old one goes. If
 * the new attach fails, the old mode is restored (rolled_back) and the
 * attach error returned.
 */
int np_dp_set_xdp_mode(struct np_node *n, enum np_xdp_mode mode, struct np_xdp_switch *rep);

#endif /* NP_DATAPATH_H */
