// SPDX-License-Identifier: GPL-2.0
/* Device offload settings through SIOCETHTOOL (see ethtool.h). */
#include <errno.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ethtool.h"

/* One ETHTOOL_* value command on ifname; ev->data in and out. */
static int ethtool_value(const char *ifname, struct ethtool_value *ev)
{
	struct ifreq ifr;
	int fd, err = 0;

	if (strlen(ifname) >= sizeof(ifr.ifr_name))
		return -ENAMETOOLONG;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)ev;
	if (ioctl(fd, SIOCETHTOOL, &ifr))
		err = -errno;
	close(fd);
	return err;
}

int np_dev_get_gro(const char *ifname, bool *on)
{
	struct ethtool_value ev = { .cmd = ETHTOOL_GGRO };
	int err = ethtool_value(ifname, &ev);

	if (!err)
		*on = ev.data;
	return err;
}

int np_dev_set_gro(const char *ifname, bool on)
{
	struct ethtool_value ev = { .cmd = ETHTOOL_SGRO, .data = on };

	return ethtool_value(ifname, &ev);
}
