/* SPDX-License-Identifier: GPL-2.0 */
/* Named network namespaces, compatible with `ip netns` (bind mounts under /run/netns). */
#ifndef NP_NETNS_H
#define NP_NETNS_H

#include <stdbool.h>

#define NP_NETNS_RUN_DIR "/run/netns"

/* True when /run/netns/<name> is a network namespace. */
bool np_netns_exists(const char *name);
/* Open /run/netns/<name> (O_RDONLY|O_CLOEXEC); -errno on failure. */
int np_netns_open(const char *name);
/*
 * Move the calling thread into netns <name> (setns(CLONE_NEWNET)). The mount
 * namespace is left alone, so bpffs at /sys/fs/bpf stays visible (unlike
 * `ip netns exec`, which remounts /sys). Returns 0 or -errno (-ENOENT: no
 * such namespace).
 */
int np_netns_enter(const char *name);
/* Fd of the calling thread's current netns, to come back with np_netns_return(). */
int np_netns_save(void);
int np_netns_return(int saved_fd); /* setns back and close saved_fd */
/* Create netns <name> as `ip netns add` does; -EEXIST when present. */
int np_netns_create(const char *name);
/* Delete netns <name> as `ip netns del` does; -ENOENT when absent. */
int np_netns_delete(const char *name);
/* A valid netns name: 1..63 chars of [A-Za-z0-9_.-], not "." or "..". */
bool np_netns_name_ok(const char *name);

#endif /* NP_NETNS_H */
