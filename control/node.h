/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A node: the host itself or a network namespace (`--node NS`), and its
 * state pinned under NP_PIN_ROOT/<node>/. Commands open the node first; that
 * enters the namespace, makes sure bpffs is mounted and, for commands that
 * change anything, takes an exclusive flock on the pin directory so that two
 * CLIs never interleave their writes.
 */
#ifndef NP_NODE_H
#define NP_NODE_H

#include <limits.h>
#include <stdbool.h>

#include "nodepath/abi.h"

/* np_node_open() flags. */
#define NP_NODE_CREATE (1U << 0) /* create the pin directory when absent */
#define NP_NODE_LOCK (1U << 1)	 /* exclusive flock on the pin directory */

struct np_node {
	char name[64];	   /* netns name, or NP_NODE_HOST */
	bool is_ns;	   /* --node given: we entered netns `name` */
	char pin_dir[128]; /* NP_PIN_ROOT/<name> */
	char xdp_dir[160]; /* LIBXDP_BPFFS of this node; "" for the host (libxdp default) */
	bool pin_exists;   /* pin_dir exists (after open) */
	bool created;	   /* np_node_open() created pin_dir */
	int lock_fd;	   /* open fd of pin_dir carrying the flock, or -1 */
};

/*
 * Open node `ns` (NULL: the host). Enters the namespace; a missing one gives
 * -ENOENT and the message "no network namespace "X" (see: ip netns list)".
 * Mounts bpffs on /sys/fs/bpf when it is not, creates the pin directory
 * (NP_NODE_CREATE) and takes the lock (NP_NODE_LOCK; waits up to 10 s, then
 * -EBUSY "busy, retry"). For a namespaced node, LIBXDP_BPFFS is set to
 * <pin_dir>/xdp before any libxdp call, so that libxdp's state of devices in
 * different namespaces (equal ifindexes) never collides.
 */
int np_node_open(const char *ns, unsigned int flags, struct np_node *n);
void np_node_close(struct np_node *n);
/* Remove pin_dir (and the libxdp dir) again if this open created them and they are empty. */
void np_node_discard(struct np_node *n);

/* "<pin_dir>/<name>" into buf; -ENAMETOOLONG when it does not fit. */
int np_node_path(const struct np_node *n, const char *name, char *buf, size_t len);
/* fd of the map pinned as <pin_dir>/<map_name>, or -errno (-ENOENT: not pinned). */
int np_node_map_open(const struct np_node *n, const char *map_name);
/* Read / write np_node key 0. -ENOENT when the map is not pinned. */
int np_node_cfg_read(const struct np_node *n, struct np_node_cfg *cfg);
int np_node_cfg_write(const struct np_node *n, const struct np_node_cfg *cfg);
/* "in netns X" or "in the host netns", for messages. */
const char *np_node_where(const struct np_node *n);

#endif /* NP_NODE_H */
