/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Endpoints (pods) of a node: a veth or netkit pair whose pod end lives in
 * the pod's network namespace, its addresses in np_endpoints, its device in
 * np_ep_devs, its counters in np_ep_stats, and the pod programs (pinned by
 * `up`) attached through links pinned under <pin_dir>/ep/<name>/.
 *
 * What the maps do not hold (the pod's netns name, the device kind as asked)
 * is kept in <pin_dir>/ep/<name>/meta: bpffs takes no regular files, so it is
 * a symlink whose target is a small JSON text (written last on add).
 *
 * Every function acts in the calling thread's current netns, which must be
 * the node's (np_node_open() enters it).
 */
#ifndef NP_ENDPOINT_H
#define NP_ENDPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <netinet/in.h>

#include "node.h"

/* Pinned program names in the node's pin dir (pinned by `up`). */
#define NP_PIN_PROG_POD_FROM "prog_pod_from"
#define NP_PIN_PROG_NK_PRIMARY "prog_nk_primary"
#define NP_PIN_PROG_NK_PEER "prog_nk_peer"
/* <pin_dir>/NP_EP_DIR/<name>/{link_from,link_nk_primary,link_nk_peer,meta} */
#define NP_EP_DIR "ep"
#define NP_EP_POD_DEV "nic0" /* the device inside the pod */

enum np_ep_kind {
	NP_EP_KIND_AUTO = 0, /* netkit when the kernel has it, else veth */
	NP_EP_KIND_VETH = 1,
	NP_EP_KIND_NETKIT = 2,
};

enum np_nk_mode {
	NP_NK_MODE_NONE = 0, /* not given */
	NP_NK_MODE_L3 = 1,
	NP_NK_MODE_L2 = 2,
};

/* The addresses of one pod, network byte order. */
struct np_ep_addrs {
	bool has4, has6;
	struct in_addr ip4;
	struct in6_addr ip6;
};

/* ---- pure checks (no privileges, no state; unit-tested) ---------------- */

/*
 * --ip "V4", "V6", "V4,V6" or "V6,V4": plain addresses (no prefix length),
 * at most one per family, inet_pton-strict, no spaces. 0 or -EINVAL.
 */
int np_ep_parse_ips(const char *s, struct np_ep_addrs *out, char *err, size_t errlen);
/* An endpoint name (the host-side device): 1..15 of [A-Za-z0-9_.-], not starting with . or -. */
int np_ep_check_name(const char *s, char *err, size_t errlen);
/* "veth" | "netkit" | "auto"; "l3" | "l2". */
int np_ep_parse_kind(const char *s, enum np_ep_kind *out, char *err, size_t errlen);
int np_ep_parse_nk_mode(const char *s, enum np_nk_mode *out, char *err, size_t errlen);
const char *np_ep_kind_name(enum np_ep_kind k);
/*
 * Is the address (family AF_INET/AF_INET6, network order) a usable pod
 * address of the node whose config is cfg: inside the range, not its network
 * address, not the gateway, not the IPv4 broadcast address. node names the
 * node in the message. 0, -ENOENT (the node has no range of that family) or
 * -ERANGE.
 */
int np_ep_check_addr(const struct np_node_cfg *cfg, const char *node, int family, const void *addr,
		     char *err, size_t errlen);
/*
 * `up --pod-cidr V4CIDR[,V6CIDR]` (either family alone, or both, in any
 * order): fills cfg->pod_net4/len4/gw4 and pod_net6/len6/gw6 (gateway: the
 * first host address). IPv4 /8../30, IPv6 /64../126, no host bits.
 */
int np_ep_parse_pod_cidr(const char *s, struct np_node_cfg *cfg, char *err, size_t errlen);
/* "198.19.1.0/24[,fd00:19:1::/64]" of cfg's ranges ("" when none). */
void np_ep_format_pod_cidr(const struct np_node_cfg *cfg, char *buf, size_t len);

/* ---- the pod's devices (shared with the lab's plain `--pod-dev none` pods) ---- */

struct np_pod_link {
	const char *host;      /* host-side device name, created in the current netns */
	const char *pod_ns;    /* the pod's netns name; its device is NP_EP_POD_DEV */
	enum np_ep_kind kind;  /* NP_EP_KIND_VETH or NP_EP_KIND_NETKIT */
	bool l2;	       /* netkit l2 mode */
	unsigned int mtu;      /* 0: the kernel's default */
	unsigned int queues;   /* veth rx/tx queues on both ends, 0: the default */
	struct np_ep_addrs ip; /* the pod's addresses */
	struct np_ep_addrs gw; /* the gateways (same families as ip) */
};

struct np_pod_link_info {
	int host_ifindex;
	unsigned char host_mac[6];
	unsigned char pod_mac[6];
};

/*
 * Create the pair (the pod end directly in pod_ns), MTU, addresses (pod:
 * /32, /128 nodad; host side: the gateways /32, /128), routes (pod: a link
 * route to the gateway and the default route via it, or for netkit l3 the
 * default route on the device; node: /32, /128 to the pod via the host
 * device), both ends up. On failure the pair is deleted again. -EOPNOTSUPP,
 * not logged, when the kernel has no netkit. Returns in the calling netns.
 */
int np_pod_link_create(const struct np_pod_link *pl, struct np_pod_link_info *info);

/* ---- endpoints ------------------------------------------------------- */

struct np_ep_add_opts {
	const char *netns;	 /* POD_NS (required) */
	const char *ip;		 /* --ip text (required) */
	const char *name;	 /* NULL: "np<id>" */
	enum np_ep_kind kind;	 /* AUTO by default */
	enum np_nk_mode nk_mode; /* only with netkit; default l3 */
	bool quiet;		 /* no "auto: ..." line on stdout */
	unsigned int queues;	 /* veth: rx/tx queues of the pair; 0: as many as the
				  * uplink has rx queues (a tx socket per AF_XDP worker) */
};

struct np_ep_info {
	char name[16];
	char netns[64];
	__u32 id;
	enum np_ep_kind kind; /* VETH or NETKIT */
	enum np_nk_mode nk_mode;
	int host_ifindex;
	struct np_ep_addrs ip;
	struct np_ep_stats stats; /* summed over CPUs */
};

struct json_object;
/*
 * e as JSON without its stats: name, id, netns, dev, netkit_mode (null for
 * veth), host_ifindex, ipv4, ipv6 (null when absent). The endpoint's record
 * and `endpoint list --json` both start from it.
 */
struct json_object *np_ep_info_json(const struct np_ep_info *e);

/*
 * Validate everything, then create, register and attach (see the top of
 * this file). On failure nothing is left. -EINVAL/-ERANGE/-EEXIST/-ENOENT
 * for rejected input (logged with what is allowed), -EOPNOTSUPP for netkit
 * on a kernel without it, -ENOTCONN when the node is not up / has no range.
 */
int np_ep_add(struct np_node *n, const struct np_ep_add_opts *o, struct np_ep_info *out);
/*
 * Remove the endpoint named name, or (name NULL) the one owning address ip:
 * links, map entries, counters, devices, routes, pins. -ENOENT: no such one.
 */
int np_ep_del(struct np_node *n, const char *name, const char *ip, struct np_ep_info *out);
/* All endpoints, sorted by id; *out is malloc'ed (free it). While the node is down: the kept records, counters zero. */
int np_ep_list(struct np_node *n, struct np_ep_info **out, size_t *count);
/*
 * `down`: detach and unpin every endpoint's links but keep its record
 * (<pin_dir>/ep/<name>/meta), so that `up` re-adopts it; devices, addresses
 * and routes stay and the pods fall back to the host stack. Half-made
 * records go; <pin_dir>/ep goes when no record is left. Returns how many
 * records it kept (>= 0) or -errno.
 */
int np_ep_detach_all(struct np_node *n);
/*
 * Before `up` changes anything: every kept record whose device still exists
 * must have its addresses inside pods (NULL: no range). 0, or -ERANGE logged.
 */
int np_ep_check_records(const struct np_node *n, const struct np_node_cfg *pods);
/*
 * After `up`: re-register every kept record whose devices still exist in
 * the maps (fresh ids, zeroed counters, the pod MAC read again), re-attach
 * and pin its links, rewrite its record. A record that cannot be adopted
 * (device gone, ...) is dropped with a warning naming it. Returns how many
 * were re-adopted (>= 0) or -errno.
 */
int np_ep_readopt_all(struct np_node *n);
/* How many endpoints the node has or (down) keeps: directories under <pin_dir>/ep. */
int np_ep_count(const struct np_node *n);

#endif /* NP_ENDPOINT_H */
