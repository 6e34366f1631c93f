// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <linux/magic.h>

#include "log.h"
#include "netns.h"

bool np_netns_name_ok(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n > 63 || !strcmp(name, ".") || !strcmp(name, ".."))
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-'))
			return false;
	}
	return true;
}

static int netns_path(const char *name, char *buf, size_t len)
{
	if (!np_netns_name_ok(name))
		return -EINVAL;
	if ((size_t)snprintf(buf, len, "%s/%s", NP_NETNS_RUN_DIR, name) >= len)
		return -ENAMETOOLONG;
	return 0;
}

int np_netns_open(const char *name)
{
	char path[128];
	struct statfs sfs;
	int fd, err;

	err = netns_path(name, path, sizeof(path));
	if (err)
		return err;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* A bare file left by a failed `ip netns add` is not a namespace. */
	if (fstatfs(fd, &sfs) || sfs.f_type != NSFS_MAGIC) {
		close(fd);
		return -ENOENT;
	}
	return fd;
}

bool np_netns_exists(const char *name)
{
	int fd = np_netns_open(name);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

int np_netns_enter(const char *name)
{
	int fd = np_netns_open(name), err = 0;

	if (fd < 0)
		return fd;
	if (setns(fd, CLONE_NEWNET))
		err = -errno;
	close(fd);
	return err;
}

int np_netns_save(void)
{
	int fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

int np_netns_return(int saved_fd)
{
	int err = 0;

	if (saved_fd < 0)
		return -EBADF;
	if (setns(saved_fd, CLONE_NEWNET))
		err = -errno;
	close(saved_fd);
	return err;
}

/*
 * /run/netns must be a shared mount point of its own so that the bind mounts
 * below propagate to every mount namespace, as iproute2 arranges it.
 */
static int prepare_run_dir(void)
{
	if (mkdir(NP_NETNS_RUN_DIR, 0755) && errno != EEXIST)
		return -errno;
	if (!mount("", NP_NETNS_RUN_DIR, "none", MS_SHARED | MS_REC, NULL))
		return 0;
	if (errno != EINVAL)
		return -errno;
	/* Not a mount point yet: bind it onto itself, then make it shared. */
	if (mount(NP_NETNS_RUN_DIR, NP_NETNS_RUN_DIR, "none", MS_BIND | MS_REC, NULL))
		return -errno;
	if (mount("", NP_NETNS_RUN_DIR, "none", MS_SHARED | MS_REC, NULL))
		return -errno;
	return 0;
}

int np_netns_create(const char *name)
{
	char path[128];
	int fd, saved, err;

	err = netns_path(name, path, sizeof(path));
	if (err)
		return err;
	err = prepare_run_dir();
	if (err)
		return err;
	fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	close(fd);

	saved = np_netns_save();
	if (saved < 0) {
		err = saved;
		goto err_unlink;
	}
	if (unshare(CLONE_NEWNET)) {
		err = -errno;
		close(saved);
		goto err_unlink;
	}
	if (mount("/proc/thread-self/ns/net", path, "none", MS_BIND, NULL))
		err = -errno;
	/* Always go back, even when the bind failed. */
	if (np_netns_return(saved) && !err)
		err = -EIO;
	if (err)
		goto err_unlink;
	return 0;

err_unlink:
	umount2(path, MNT_DETACH);
	unlink(path);
	return err;
}

int np_netns_delete(const char *name)
{
	char path[128];
	int err = netns_path(name, path, sizeof(path));

	if (err)
		return err;
	if (access(path, F_OK))
		return -ENOENT;
	umount2(path, MNT_DETACH);
	if (unlink(path))
		return -errno;
	return 0;
}
