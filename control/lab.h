/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The lab: a fabric bridge, clients, nodes and pods, each in its own network
 * namespace, so that nodepath runs end to end without touching the machine's
 * own interfaces. Naming and addressing:
 *
 *   <name>-fabric          br0; fabric sides c<i> (clients) and n<N> (nodes)
 *   <name>-client<i>       nic0  198.18.0.(100+i)/24   fd00:18::(100+i)/64
 *   <name>-node<N>         uplink 198.18.0.N/24        fd00:18::N/64
 *                          pod<k> 198.19.N.1/32        fd00:19:N::1/128 (gateway)
 *   <name>-node<N>-pod<k>  nic0  198.19.N.(10+k)/32    fd00:19:N::(10+k)/128
 *
 * (IPv6 host parts are the decimal numbers written as hex digits.)
 */
#ifndef NP_LAB_H
#define NP_LAB_H

#include <stdbool.h>
#include <stddef.h>

#define NP_LAB_DEFAULT_NAME "np"
#define NP_LAB_NAME_MAX 8
#define NP_LAB_MAX_NODES 9
#define NP_LAB_MAX_PODS 50
#define NP_LAB_MAX_CLIENTS 9
#define NP_LAB_MAX_QUEUES 8 /* rx/tx queues of a node's uplink pair (`--queues`) */
#define NP_LAB_STATE_DIR "/run/nodepath/labs"

/* How pods are made (`lab up --pod-dev`). */
enum np_lab_pod_dev {
	NP_LAB_POD_AUTO = 0,   /* endpoints; netkit when the kernel has it, else veth */
	NP_LAB_POD_VETH = 1,   /* endpoints on veth */
	NP_LAB_POD_NETKIT = 2, /* endpoints on netkit (fails without netkit) */
	NP_LAB_POD_NONE = 3,   /* plain veth pods routed by the host stack, no datapath */
};

/* "auto" | "veth" | "netkit" | "none"; 0 or -EINVAL. */
int np_lab_parse_pod_dev(const char *s, enum np_lab_pod_dev *out);

struct np_lab_opts {
	const char *name;	     /* NULL: NP_LAB_DEFAULT_NAME */
	unsigned int clients;	     /* 1..NP_LAB_MAX_CLIENTS */
	unsigned int nodes;	     /* 1..NP_LAB_MAX_NODES */
	unsigned int pods;	     /* pods per node, 1..NP_LAB_MAX_PODS */
	unsigned int queues;	     /* rx/tx queues of each node's uplink veth pair (both
				      * ends), 1..NP_LAB_MAX_QUEUES; 0: the default, 1 */
	bool quiet;		     /* no progress lines on stdout */
	enum np_lab_pod_dev pod_dev; /* unless NONE, each node runs `up` on its uplink
				      * (XDP native, --pod-cidr its ranges) and each pod
				      * is an endpoint (`endpoint add`) */
};

/* 1..NP_LAB_NAME_MAX characters of [a-z0-9]. */
bool np_lab_name_ok(const char *name);

/*
 * Build the lab. Prints one line per namespace as it goes and a summary
 * (unless quiet). -EEXIST when any part of a lab with this name exists;
 * -EINVAL/-ERANGE for bad options. A failed build removes what it created.
 */
int np_lab_up(const struct np_lab_opts *opts);
/*
 * Remove every namespace of lab <name> (those its state file lists and any
 * stray <name>-fabric|client*|node* ones), the nodes' stale bpffs pin
 * directories and the state file. -ENOENT when there was nothing to remove.
 */
int np_lab_down(const char *name, bool quiet);
/*
 * Print the lab's shape (a table, or JSON) and check each namespace still
 * exists. -ENOENT: no such lab; -EIO: some namespace is missing (the output
 * says which).
 */
int np_lab_status(const char *name, bool json);

/* Addresses as text (no prefix length); family AF_INET or AF_INET6. */
void np_lab_client_ip(unsigned int client, int family, char *buf, size_t len);
void np_lab_node_ip(unsigned int node, int family, char *buf, size_t len);
void np_lab_gw_ip(unsigned int node, int family, char *buf, size_t len);
void np_lab_pod_ip(unsigned int node, unsigned int pod, int family, char *buf, size_t len);

#endif /* NP_LAB_H */
