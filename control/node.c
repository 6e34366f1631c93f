// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <bpf/bpf.h>

#include "log.h"
#include "netns.h"
#include "node.h"

#define BPFFS "/sys/fs/bpf"
#define LOCK_WAIT_MS 10000

static bool is_bpffs(const char *path)
{
	struct statfs sfs;

	return !statfs(path, &sfs) && sfs.f_type == BPF_FS_MAGIC;
}

static int ensure_bpffs(void)
{
	if (is_bpffs(BPFFS))
		return 0;
	if (mount("bpf", BPFFS, "bpf", 0, "mode=0700")) {
		int err = -errno;

		np_err("bpffs is not mounted on %s and mounting it failed: %s", BPFFS,
		       strerror(-err));
		return err;
	}
	np_info("mounted bpffs on %s", BPFFS);
	return 0;
}

static int mkdir_p(const char *dir)
{
	if (!mkdir(dir, 0700) || errno == EEXIST)
		return 0;
	return -errno;
}

int np_node_path(const struct np_node *n, const char *name, char *buf, size_t len)
{
	int r = snprintf(buf, len, "%s/%s", n->pin_dir, name);

	return r < 0 || (size_t)r >= len ? -ENAMETOOLONG : 0;
}

const char *np_node_where(const struct np_node *n)
{
	static char buf[96];

	if (!n->is_ns)
		return "in the host netns";
	snprintf(buf, sizeof(buf), "in netns %s", n->name);
	return buf;
}

/* Lock pin_dir; retry when `down` removed the directory we were waiting on. */
static int take_lock(struct np_node *n, unsigned int flags)
{
	struct timespec ts = { 0, 50 * 1000 * 1000 };
	bool told = false;
	int waited = 0;

	for (;;) {
		struct stat a, b;
		int fd;

		fd = open(n->pin_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0) {
			if (errno == ENOENT && !(flags & NP_NODE_CREATE)) {
				n->pin_exists = false;
				return 0;
			}
			if (errno == ENOENT && !mkdir_p(n->pin_dir))
				continue;
			np_err("open %s: %s", n->pin_dir, strerror(errno));
			return -errno;
		}
		while (flock(fd, LOCK_EX | LOCK_NB)) {
			if (errno != EWOULDBLOCK) {
				int err = -errno;

				np_err("lock %s: %s", n->pin_dir, strerror(-err));
				close(fd);
				return err;
			}
			if (waited >= LOCK_WAIT_MS) {
				np_err("node %s is busy (another nodepath holds %s), retry",
				       n->name, n->pin_dir);
				close(fd);
				return -EBUSY;
			}
			if (!told) {
				np_info("waiting for another nodepath working on node %s", n->name);
				told = true;
			}
			nanosleep(&ts, NULL);
			waited += 50;
		}
		/* Still the directory that is in the tree? */
		if (!fstat(fd, &a) && !stat(n->pin_dir, &b) && a.st_ino == b.st_ino &&
		    a.st_dev == b.st_dev) {
			n->lock_fd = fd;
			n->pin_exists = true;
			return 0;
		}
		close(fd);
	}
}

int np_node_open(const char *ns, unsigned int flags, struct np_node *n)
{
	struct stat st;
	int err;

	memset(n, 0, sizeof(*n));
	n->lock_fd = -1;
	if (ns) {
		if (!np_netns_name_ok(ns)) {
			np_err("\"%s\" is not a valid network namespace name (1..63 of A-Z a-z 0-9 "
			       "_ . -)",
			       ns);
			return -EINVAL;
		}
		err = np_netns_enter(ns);
		if (err == -ENOENT) {
			np_err("no network namespace \"%s\" (see: ip netns list)", ns);
			return err;
		}
		if (err) {
			np_err("enter network namespace %s: %s", ns, strerror(-err));
			return err;
		}
		snprintf(n->name, sizeof(n->name), "%s", ns);
		n->is_ns = true;
	} else {
		snprintf(n->name, sizeof(n->name), "%s", NP_NODE_HOST);
	}
	snprintf(n->pin_dir, sizeof(n->pin_dir), "%s/%s", NP_PIN_ROOT, n->name);
	if (n->is_ns)
		snprintf(n->xdp_dir, sizeof(n->xdp_dir), "%s/xdp", n->pin_dir);

	if (flags & NP_NODE_CREATE) {
		err = ensure_bpffs();
		if (err)
			return err;
		err = mkdir_p(NP_PIN_ROOT);
		if (!err && access(n->pin_dir, F_OK))
			n->created = true;
		if (!err)
			err = mkdir_p(n->pin_dir);
		if (err) {
			np_err("create %s: %s", n->pin_dir, strerror(-err));
			return err;
		}
	}
	n->pin_exists = !stat(n->pin_dir, &st) && S_ISDIR(st.st_mode);
	if (flags & NP_NODE_LOCK) {
		err = take_lock(n, flags);
		if (err)
			return err;
	}
	if (n->is_ns) {
		/* Before any libxdp call: libxdp reads it once. */
		if ((flags & NP_NODE_CREATE) && mkdir_p(n->xdp_dir)) {
			err = -errno;
			np_err("create %s: %s", n->xdp_dir, strerror(-err));
			np_node_close(n);
			return err;
		}
		setenv("LIBXDP_BPFFS", n->xdp_dir, 1);
	}
	return 0;
}

void np_node_close(struct np_node *n)
{
	if (n->lock_fd >= 0)
		close(n->lock_fd); /* releases the flock */
	n->lock_fd = -1;
}

int np_node_map_open(const struct np_node *n, const char *map_name)
{
	char path[PATH_MAX];
	int fd, err;

	err = np_node_path(n, map_name, path, sizeof(path));
	if (err)
		return err;
	fd = bpf_obj_get(path);
	return fd < 0 ? -errno : fd;
}

int np_node_cfg_read(const struct np_node *n, struct np_node_cfg *cfg)
{
	__u32 key = 0;
	int fd, err = 0;

	fd = np_node_map_open(n, NP_MAP_NODE);
	if (fd < 0)
		return fd;
	if (bpf_map_lookup_elem(fd, &key, cfg)) {
		err = -errno;
		np_err("read %s/%s: %s", n->pin_dir, NP_MAP_NODE, strerror(-err));
	}
	close(fd);
	return err;
}

int np_node_cfg_write(const struct np_node *n, const struct np_node_cfg *cfg)
{
	__u32 key = 0;
	int fd, err = 0;

	fd = np_node_map_open(n, NP_MAP_NODE);
	if (fd < 0) {
		np_err("open %s/%s: %s", n->pin_dir, NP_MAP_NODE, strerror(-fd));
		return fd;
	}
	if (bpf_map_update_elem(fd, &key, cfg, BPF_ANY)) {
		err = -errno;
		np_err("write %s/%s: %s", n->pin_dir, NP_MAP_NODE, strerror(-err));
	}
	close(fd);
	return err;
}

void np_node_discard(struct np_node *n)
{
	if (!n->created)
		return;
	if (n->xdp_dir[0])
		rmdir(n->xdp_dir);
	if (!rmdir(n->pin_dir))
		n->pin_exists = false;
}
