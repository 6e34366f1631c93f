/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small rtnetlink layer on libmnl: links (veth, bridge), addresses, routes
 * and sysctls. Every call acts on the calling thread's current network
 * namespace: it opens its own netlink socket there, asks for an ACK and
 * returns 0 or the kernel's -errno. Enter a namespace first with
 * np_netns_enter() (control/netns.h) and come back with np_netns_save() /
 * np_netns_return().
 */
#ifndef NP_NL_H
#define NP_NL_H

#include <stdbool.h>
#include <netinet/in.h>

/* An IPv4 or IPv6 address with a prefix length. */
struct np_prefix {
	int family; /* AF_INET or AF_INET6 */
	unsigned int len;
	union {
		struct in_addr v4;
		struct in6_addr v6;
		unsigned char raw[16];
	} addr;
};

/*
 * Parse "198.18.0.1", "198.18.0.0/24", "fd00:18::1/64" (inet_pton, strict
 * decimal prefix length). Without "/len" the prefix is a host prefix (32 or
 * 128). family AF_INET or AF_INET6 also requires that family, AF_UNSPEC takes
 * either; "default" is the zero-length prefix of <family> (not AF_UNSPEC).
 * Returns 0 or -EINVAL.
 */
int np_prefix_parse(const char *s, int family, struct np_prefix *p);

/* Ifindex of <ifname> in the current netns (> 0), or -errno (-ENODEV). */
int np_nl_link_index(const char *ifname);

/*
 * Create a veth pair <name> (here) and <peer>. With peer_netns_fd >= 0 the
 * peer is created directly in that namespace under its name, so it never
 * appears here. Both ends are left down.
 */
int np_nl_veth_add(const char *name, const char *peer, int peer_netns_fd);
/* The same with queues rx and tx queues on both ends (0: the default, 1). */
int np_nl_veth_add_queues(const char *name, const char *peer, int peer_netns_fd,
			  unsigned int queues);
/* What np_nl_link_get() reports about a link. */
struct np_nl_link {
	int ifindex;
	unsigned int mtu;
	unsigned char mac[6];
	int has_mac; /* an Ethernet address (netkit l3 has none) */
};
/* Look up <ifname> in the current netns; -ENODEV when absent. Logs nothing. */
int np_nl_link_get(const char *ifname, struct np_nl_link *out);

/*
 * Create a netkit pair: primary <name> here, peer <peer> directly in
 * peer_netns_fd's namespace (when >= 0); mode l2 or l3 (l2 false). Both
 * ends are left down. -EOPNOTSUPP (not logged) when the kernel has no
 * netkit; other errors are logged.
 */
int np_nl_netkit_add(const char *name, const char *peer, int peer_netns_fd, bool l2);
/* Create a bridge <name> (down, STP off as the kernel defaults). */
int np_nl_bridge_add(const char *name);
/* Enslave <ifname> to <master>; master NULL releases it. */
int np_nl_link_set_master(const char *ifname, const char *master);
int np_nl_link_set_up(const char *ifname, bool up);
int np_nl_link_set_mtu(const char *ifname, unsigned int mtu);
/* Move <ifname> into netns_fd's namespace, renamed to newname when not NULL. */
int np_nl_link_set_netns(const char *ifname, int netns_fd, const char *newname);
int np_nl_link_del(const char *ifname);

/* Add an address to <ifname>; IPv6 addresses get IFA_F_NODAD (usable at once). */
int np_nl_addr_add(const char *ifname, const struct np_prefix *p);
/* Same, from text: "198.18.0.1/24", "fd00:18::1/64". */
int np_nl_addr_add_str(const char *ifname, const char *cidr);

/*
 * Add a route in the main table. dst: the destination prefix (len 0 is the
 * default route). gw: the gateway (same family) or NULL for a route scoped
 * to the link. dev: the output device, or NULL to let the kernel pick it
 * from the gateway (then gw is required).
 */
int np_nl_route_add(const struct np_prefix *dst, const struct np_prefix *gw, const char *dev);
/*
 * Same, from text: dst "198.19.0.0/16", or "default" (the family of gw, which
 * is then required); gw NULL or "198.18.0.1".
 */
int np_nl_route_add_str(const char *dst, const char *gw, const char *dev);

/*
 * Write/read /proc/sys/<path> (e.g. "net/ipv4/ip_forward") in the calling
 * thread's current netns: /proc/sys/net resolves against the opener's netns
 * (checked on kernel 6.18), so this works after np_netns_enter().
 */
int np_sysctl_write(const char *path, const char *value);
int np_sysctl_read(const char *path, char *buf, unsigned int len);

#endif /* NP_NL_H */
