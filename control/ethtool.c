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

/* One SIOCETHTOOL command on ifname; cmd points at the command's struct. */
static int ethtool_cmd(const char *ifname, void *cmd)
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
	ifr.ifr_data = cmd;
	if (ioctl(fd, SIOCETHTOOL, &ifr))
		err = -errno;
	close(fd);
	return err;
}

int np_dev_get_gro(const char *ifname, bool *on)
{
	struct ethtool_value ev = { .cmd = ETHTOOL_GGRO };
	int err = ethtool_cmd(ifname, &ev);

	if (!err)
		*on = ev.data;
	return err;
}

int np_dev_set_gro(const char *ifname, bool on)
{
	struct ethtool_value ev = { .cmd = ETHTOOL_SGRO, .data = on };

	return ethtool_cmd(ifname, &ev);
}

int np_dev_driver(const char *ifname, char *buf, size_t len)
{
	struct ethtool_drvinfo di = { .cmd = ETHTOOL_GDRVINFO };
	int err = ethtool_cmd(ifname, &di);

	if (!err)
		snprintf(buf, len, "%.*s", (int)sizeof(di.driver), di.driver);
	return err;
}
