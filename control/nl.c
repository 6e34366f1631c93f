// SPDX-License-Identifier: GPL-2.0
/* rtnetlink on libmnl: one socket per request, in the caller's current netns. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/socket.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

#include "log.h"
#include "nl.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

/* What a request's reply handler gathers: the ext-ack text, or a link index. */
struct nl_reply {
	char msg[128];
	int ifindex;
	unsigned int mtu;
	unsigned char mac[6];
	int has_mac;
};

static int err_attr_cb(const struct nlattr *attr, void *data)
{
	struct nl_reply *r = data;

	if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
	    !mnl_attr_validate(attr, MNL_TYPE_NUL_STRING))
		snprintf(r->msg, sizeof(r->msg), "%s", mnl_attr_get_str(attr));
	return MNL_CB_OK;
}

/* NLMSG_ERROR: 0 is the ACK; otherwise keep the kernel's extended-ack text. */
static int err_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	unsigned int off;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e))) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	if (e->error == 0)
		return MNL_CB_STOP;
	if (nlh->nlmsg_flags & NLM_F_ACK_TLVS) {
		/* Without NLM_F_CAPPED the original request follows the header. */
		off = sizeof(*e);
		if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
			off += e->msg.nlmsg_len - sizeof(struct nlmsghdr);
		if (mnl_nlmsg_size(off) <= nlh->nlmsg_len)
			mnl_attr_parse(nlh, off, err_attr_cb, data);
	}
	errno = -e->error;
	return MNL_CB_ERROR;
}

static int link_attr_cb(const struct nlattr *attr, void *data)
{
	struct nl_reply *r = data;

	switch (mnl_attr_get_type(attr)) {
	case IFLA_MTU:
		if (!mnl_attr_validate(attr, MNL_TYPE_U32))
			r->mtu = mnl_attr_get_u32(attr);
		break;
	case IFLA_ADDRESS:
		if (mnl_attr_get_payload_len(attr) == sizeof(r->mac)) {
			memcpy(r->mac, mnl_attr_get_payload(attr), sizeof(r->mac));
			r->has_mac = 1;
		}
		break;
	}
	return MNL_CB_OK;
}

static int link_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	struct nl_reply *r = data;

	if (nlh->nlmsg_type != RTM_NEWLINK || ifi->ifi_index <= 0)
		return MNL_CB_OK;
	r->ifindex = ifi->ifi_index;
	mnl_attr_parse(nlh, sizeof(*ifi), link_attr_cb, r);
	return MNL_CB_OK;
}

/*
 * Send one request with NLM_F_ACK and wait for its answer. Returns 0 or the
 * kernel's -errno. A failure is logged by the caller, who knows the object;
 * the kernel's extended-ack text is left in r->msg.
 */
static int nl_talk(struct nlmsghdr *nlh, struct nl_reply *r)
{
	static mnl_cb_t ctl[NLMSG_MIN_TYPE] = { [NLMSG_ERROR] = err_cb };
	char buf[16384]; /* replies: one link message or an error */
	struct mnl_socket *nl;
	unsigned int portid;
	int one = 1, ret;
	ssize_t n;

	r->msg[0] = '\0';
	nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl)
		return -errno;
	/* Best effort: older kernels simply give no text. */
	setsockopt(mnl_socket_get_fd(nl), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		goto out;
	}
	portid = mnl_socket_get_portid(nl);
	nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = (unsigned int)time(NULL);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		ret = -errno;
		goto out;
	}
	for (;;) {
		n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n < 0) {
			ret = -errno;
			goto out;
		}
		ret = mnl_cb_run2(buf, n, nlh->nlmsg_seq, portid, link_cb, r, ctl, NLMSG_MIN_TYPE);
		if (ret < 0) {
			ret = errno ? -errno : -EIO;
			goto out;
		}
		if (ret == MNL_CB_STOP) {
			ret = 0;
			goto out;
		}
	}
out:
	mnl_socket_close(nl);
	return ret;
}

/* Log a failed request once: "<what>: <strerror> (<kernel text>)". */
static int nl_fail(int err, const struct nl_reply *r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int nl_fail(int err, const struct nl_reply *r, const char *fmt, ...)
{
	char what[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (r->msg[0])
		np_err("%s: %s (%s)", what, strerror(-err), r->msg);
	else
		np_err("%s: %s", what, strerror(-err));
	return err;
}

static bool ifname_ok(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	return n > 0 && n < IFNAMSIZ && !strchr(name, '/') && !strchr(name, ' ');
}

static struct nlmsghdr *link_msg(char *buf, int type, unsigned int flags, struct ifinfomsg **ifi)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = flags;
	*ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(**ifi));
	(*ifi)->ifi_family = AF_UNSPEC;
	return nlh;
}

int np_nl_link_get(const char *ifname, struct np_nl_link *out)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nl_reply r = { 0 };
	struct ifinfomsg *ifi;
	struct nlmsghdr *nlh;
	int err;

	memset(out, 0, sizeof(*out));
	if (!ifname_ok(ifname))
		return -EINVAL;
	nlh = link_msg(buf, RTM_GETLINK, 0, &ifi);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, ifname);
	/* Keep the answer small: no stats, no VF info. */
	mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	err = nl_talk(nlh, &r);
	if (err)
		return err;
	if (r.ifindex <= 0)
		return -ENODEV;
	out->ifindex = r.ifindex;
	out->mtu = r.mtu;
	out->has_mac = r.has_mac;
	memcpy(out->mac, r.mac, sizeof(out->mac));
	return 0;
}

int np_nl_link_index(const char *ifname)
{
	struct np_nl_link l;
	int err = np_nl_link_get(ifname, &l);

	return err ? err : l.ifindex;
}

/* queues: rx and tx queues of the device (veth), 0: the kernel's default. */
static void put_queues(struct nlmsghdr *nlh, unsigned int queues)
{
	if (!queues)
		return;
	mnl_attr_put_u32(nlh, IFLA_NUM_TX_QUEUES, queues);
	mnl_attr_put_u32(nlh, IFLA_NUM_RX_QUEUES, queues);
}

/*
 * The peer of a veth or netkit pair, nested as attribute <type> of
 * IFLA_INFO_DATA: a struct ifinfomsg, then the peer's own attributes (its
 * name, and the netns to create it in when peer_netns_fd >= 0).
 */
static void put_peer(struct nlmsghdr *nlh, unsigned short type, const char *peer, int peer_netns_fd,
		     unsigned int queues)
{
	struct nlattr *pinfo = mnl_attr_nest_start(nlh, type);
	struct ifinfomsg *pifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*pifi));

	pifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, peer);
	if (peer_netns_fd >= 0)
		mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (unsigned int)peer_netns_fd);
	put_queues(nlh, queues);
	mnl_attr_nest_end(nlh, pinfo);
}

int np_nl_netkit_add(const char *name, const char *peer, int peer_netns_fd, bool l2)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nl_reply r = { 0 };
	struct nlattr *linkinfo, *data;
	struct ifinfomsg *ifi;
	struct nlmsghdr *nlh;
	int err;

	if (!ifname_ok(name) || !ifname_ok(peer))
		return -EINVAL;
	nlh = link_msg(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifi);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "netkit");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	mnl_attr_put_u32(nlh, IFLA_NETKIT_MODE, l2 ? NETKIT_L2 : NETKIT_L3);
	put_peer(nlh, IFLA_NETKIT_PEER_INFO, peer, peer_netns_fd, 0);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, linkinfo);
	err = nl_talk(nlh, &r);
	/* No netkit in this kernel: the caller says so in its own words. */
	if (err == -EOPNOTSUPP)
		return err;
	if (err)
		return nl_fail(err, &r, "create netkit %s (peer %s, %s mode)", name, peer,
			       l2 ? "l2" : "l3");
	return 0;
}

/* RTM_NEWLINK with NLM_F_CREATE|NLM_F_EXCL of <kind>; veth peer when peer != NULL. */
static int link_create(const char *name, const char *kind, const char *peer, int peer_netns_fd,
		       unsigned int queues)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nl_reply r = { 0 };
	struct nlattr *linkinfo, *data;
	struct ifinfomsg *ifi;
	struct nlmsghdr *nlh;
	int err;

	if (!ifname_ok(name) || (peer && !ifname_ok(peer)))
		return -EINVAL;
	nlh = link_msg(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifi);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	put_queues(nlh, queues);
	linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, kind);
	if (peer) {
		data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
		put_peer(nlh, VETH_INFO_PEER, peer, peer_netns_fd, queues);
		mnl_attr_nest_end(nlh, data);
	}
	mnl_attr_nest_end(nlh, linkinfo);
	err = nl_talk(nlh, &r);
	if (err && peer)
		return nl_fail(err, &r, "create veth %s (peer %s)", name, peer);
	if (err)
		return nl_fail(err, &r, "create %s %s", kind, name);
	return 0;
}

int np_nl_veth_add(const char *name, const char *peer, int peer_netns_fd)
{
	if (!peer)
		return -EINVAL;
	return link_create(name, "veth", peer, peer_netns_fd, 0);
}

int np_nl_veth_add_queues(const char *name, const char *peer, int peer_netns_fd,
			  unsigned int queues)
{
	if (!peer)
		return -EINVAL;
	return link_create(name, "veth", peer, peer_netns_fd, queues);
}

int np_nl_bridge_add(const char *name)
{
	return link_create(name, "bridge", NULL, -1, 0);
}

/* Change one existing link, found by name. */
static int link_change(const char *ifname, unsigned int up_mask, unsigned int up_val, int attr,
		       unsigned int u32val, const char *what)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nl_reply r = { 0 };
	struct ifinfomsg *ifi;
	struct nlmsghdr *nlh;
	int err;

	if (!ifname_ok(ifname))
		return -EINVAL;
	nlh = link_msg(buf, RTM_NEWLINK, 0, &ifi);
	ifi->ifi_change = up_mask;
	ifi->ifi_flags = up_val;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, ifname);
	if (attr >= 0)
		mnl_attr_put_u32(nlh, attr, u32val);
	err = nl_talk(nlh, &r);
	if (err)
		return nl_fail(err, &r, "%s %s", what, ifname);
	return 0;
}

int np_nl_link_set_master(const char *ifname, const char *master)
{
	int idx = 0;

	if (master) {
		idx = np_nl_link_index(master);
		if (idx < 0) {
			np_err("set master of %s: no device %s: %s", ifname, master,
			       strerror(-idx));
			return idx;
		}
	}
	return link_change(ifname, 0, 0, IFLA_MASTER, (unsigned int)idx, "set master of");
}

int np_nl_link_set_up(const char *ifname, bool up)
{
	return link_change(ifname, IFF_UP, up ? IFF_UP : 0, -1, 0, up ? "set up" : "set down");
}

int np_nl_link_set_mtu(const char *ifname, unsigned int mtu)
{
	return link_change(ifname, 0, 0, IFLA_MTU, mtu, "set mtu of");
}

int np_nl_link_set_netns(const char *ifname, int netns_fd, const char *newname)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nl_reply r = { 0 };
	struct ifinfomsg *ifi;
	struct nlmsghdr *nlh;
	int idx, err;

	if (netns_fd < 0 || (newname && !ifname_ok(newname)))
		return -EINVAL;
	idx = np_nl_link_index(ifname);
	if (idx < 0) {
		np_err("move %s to another netns: %s", ifname ? ifname : "(null)", strerror(-idx));
		return idx;
	}
	/* By index, so that IFLA_IFNAME can carry the new name. */
	nlh = link_msg(buf, RTM_NEWLINK, 0, &ifi);
	ifi->ifi_index = idx;
	mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (unsigned int)netns_fd);
	if (newname)
		mnl_attr_put_strz(nlh, IFLA_IFNAME, newname);
	err = nl_talk(nlh, &r);
	if (err)
		return nl_fail(err, &r, "move %s to another netns", ifname);
	return 0;
}

int np_nl_link_del(const char *ifname)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nl_reply r = { 0 };
	struct ifinfomsg *ifi;
	struct nlmsghdr *nlh;
	int err;

	if (!ifname_ok(ifname))
		return -EINVAL;
	nlh = link_msg(buf, RTM_DELLINK, 0, &ifi);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, ifname);
	err = nl_talk(nlh, &r);
	if (err)
		return nl_fail(err, &r, "delete link %s", ifname);
	return 0;
}

static unsigned int addr_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

int np_prefix_parse(const char *s, int family, struct np_prefix *p)
{
	char tmp[INET6_ADDRSTRLEN + 8], *slash, *end;
	unsigned long len;
	unsigned int max;

	memset(p, 0, sizeof(*p));
	if (!s || strlen(s) >= sizeof(tmp))
		return -EINVAL;
	if (!strcmp(s, "default")) {
		if (family != AF_INET && family != AF_INET6)
			return -EINVAL;
		p->family = family;
		return 0;
	}
	strcpy(tmp, s);
	slash = strchr(tmp, '/');
	if (slash)
		*slash++ = '\0';
	if (inet_pton(AF_INET, tmp, &p->addr.v4) == 1)
		p->family = AF_INET;
	else if (inet_pton(AF_INET6, tmp, &p->addr.v6) == 1)
		p->family = AF_INET6;
	else
		return -EINVAL;
	if (family != AF_UNSPEC && family != p->family)
		return -EINVAL;
	max = addr_len(p->family) * 8;
	p->len = max;
	if (slash) {
		/* Decimal digits only: no sign, no space, no "0x". */
		if (*slash < '0' || *slash > '9' || strlen(slash) > 3)
			return -EINVAL;
		errno = 0;
		len = strtoul(slash, &end, 10);
		if (errno || *end || len > max)
			return -EINVAL;
		p->len = (unsigned int)len;
	}
	return 0;
}

int np_nl_addr_add(const char *ifname, const struct np_prefix *p)
{
	char buf[MNL_SOCKET_BUFFER_SIZE], txt[INET6_ADDRSTRLEN];
	struct nl_reply r = { 0 };
	unsigned int flags = 0;
	struct ifaddrmsg *ifa;
	struct nlmsghdr *nlh;
	int idx, err;

	if (p->family != AF_INET && p->family != AF_INET6)
		return -EAFNOSUPPORT;
	inet_ntop(p->family, &p->addr, txt, sizeof(txt));
	idx = np_nl_link_index(ifname);
	if (idx < 0) {
		np_err("add address %s/%u to %s: %s", txt, p->len, ifname ? ifname : "(null)",
		       strerror(-idx));
		return idx;
	}
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWADDR;
	nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = p->family;
	ifa->ifa_prefixlen = p->len;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = idx;
	/* No duplicate address detection: the lab is ready at once. */
	if (p->family == AF_INET6)
		flags |= IFA_F_NODAD;
	ifa->ifa_flags = flags;
	mnl_attr_put(nlh, IFA_LOCAL, addr_len(p->family), &p->addr);
	mnl_attr_put(nlh, IFA_ADDRESS, addr_len(p->family), &p->addr);
	mnl_attr_put_u32(nlh, IFA_FLAGS, flags);
	err = nl_talk(nlh, &r);
	if (err)
		return nl_fail(err, &r, "add address %s/%u to %s", txt, p->len, ifname);
	return 0;
}

int np_nl_addr_add_str(const char *ifname, const char *cidr)
{
	struct np_prefix p;

	if (np_prefix_parse(cidr, AF_UNSPEC, &p)) {
		np_err("add address to %s: \"%s\" is not an IPv4/IPv6 address/len", ifname,
		       cidr ? cidr : "(null)");
		return -EINVAL;
	}
	return np_nl_addr_add(ifname, &p);
}

int np_nl_route_add(const struct np_prefix *dst, const struct np_prefix *gw, const char *dev)
{
	char buf[MNL_SOCKET_BUFFER_SIZE], dtxt[INET6_ADDRSTRLEN], gtxt[INET6_ADDRSTRLEN] = "";
	struct nl_reply r = { 0 };
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	int idx = 0, err;

	if ((dst->family != AF_INET && dst->family != AF_INET6) ||
	    (gw && gw->family != dst->family) || (!gw && !dev))
		return -EINVAL;
	inet_ntop(dst->family, &dst->addr, dtxt, sizeof(dtxt));
	if (gw)
		inet_ntop(gw->family, &gw->addr, gtxt, sizeof(gtxt));
	if (dev) {
		idx = np_nl_link_index(dev);
		if (idx < 0) {
			np_err("add route %s/%u dev %s: %s", dtxt, dst->len, dev, strerror(-idx));
			return idx;
		}
	}
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWROUTE;
	nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = dst->family;
	rtm->rtm_dst_len = dst->len;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_STATIC;
	/* Without a gateway the destination is on the link itself. */
	rtm->rtm_scope = gw ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
	rtm->rtm_type = RTN_UNICAST;
	if (dst->len)
		mnl_attr_put(nlh, RTA_DST, addr_len(dst->family), &dst->addr);
	if (gw)
		mnl_attr_put(nlh, RTA_GATEWAY, addr_len(gw->family), &gw->addr);
	if (idx)
		mnl_attr_put_u32(nlh, RTA_OIF, (unsigned int)idx);
	err = nl_talk(nlh, &r);
	if (err)
		return nl_fail(err, &r, "add route %s/%u%s%s%s%s", dtxt, dst->len,
			       gw ? " via " : "", gtxt, dev ? " dev " : "", dev ? dev : "");
	return 0;
}

int np_nl_route_add_str(const char *dst, const char *gw, const char *dev)
{
	struct np_prefix d, g;
	int family = AF_UNSPEC;

	if (gw) {
		if (np_prefix_parse(gw, AF_UNSPEC, &g) || g.len != addr_len(g.family) * 8) {
			np_err("add route %s: gateway \"%s\" is not an IPv4/IPv6 address",
			       dst ? dst : "(null)", gw);
			return -EINVAL;
		}
		family = g.family;
	}
	if (np_prefix_parse(dst, family, &d)) {
		np_err("add route: \"%s\" is not a destination prefix%s", dst ? dst : "(null)",
		       gw ? " of the gateway's family" : "");
		return -EINVAL;
	}
	return np_nl_route_add(&d, gw ? &g : NULL, dev);
}

static int sysctl_open(const char *path, int flags)
{
	char full[PATH_MAX];
	int fd;

	if (!path || strstr(path, "..") || path[0] == '/')
		return -EINVAL;
	if ((size_t)snprintf(full, sizeof(full), "/proc/sys/%s", path) >= sizeof(full))
		return -ENAMETOOLONG;
	fd = open(full, flags | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int np_sysctl_write(const char *path, const char *value)
{
	size_t n = strlen(value);
	int fd, err = 0;

	fd = sysctl_open(path, O_WRONLY);
	if (fd < 0) {
		err = fd;
		np_err("sysctl %s: %s", path ? path : "(null)", strerror(-err));
		return err;
	}
	if (write(fd, value, n) != (ssize_t)n) {
		err = errno ? -errno : -EIO;
		np_err("sysctl %s = %s: %s", path, value, strerror(-err));
	}
	close(fd);
	return err;
}

int np_sysctl_read(const char *path, char *buf, unsigned int len)
{
	ssize_t n;
	int fd;

	if (!len)
		return -EINVAL;
	fd = sysctl_open(path, O_RDONLY);
	if (fd < 0)
		return fd;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		n--;
	buf[n] = '\0';
	return 0;
}
