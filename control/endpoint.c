// SPDX-License-Identifier: GPL-2.0
/* Endpoints: pod devices, their map entries and their links (see endpoint.h). */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <arpa/inet.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <json-c/json.h>

#include "afxdp/xsk.h"
#include "endpoint.h"
#include "input.h"
#include "log.h"
#include "netns.h"
#include "nl.h"
#include "record.h"
#include "service.h"

#define LINK_FROM "link_from"
#define LINK_NK_PRIMARY "link_nk_primary"
#define LINK_NK_PEER "link_nk_peer"
#define META "meta"

static int fail(char *err, size_t len, int ret, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t len, int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (err && len)
		vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return ret;
}

/* ---- pure checks ------------------------------------------------------ */

static bool printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

static int parse_one_ip(const char *s, struct np_ep_addrs *out, char *err, size_t errlen)
{
	struct in6_addr a6;
	struct in_addr a4;

	if (!*s)
		return fail(err, errlen, -EINVAL, "--ip: empty address (allowed: V4, V6 or V4,V6)");
	if (strlen(s) > INET6_ADDRSTRLEN || !printable(s))
		return fail(err, errlen, -EINVAL, "--ip: \"%.48s\" is not an IPv4 or IPv6 address",
			    s);
	if (strchr(s, '/'))
		return fail(err, errlen, -EINVAL,
			    "--ip: \"%s\": give the plain address, without a prefix length", s);
	if (inet_pton(AF_INET, s, &a4) == 1) {
		if (out->has4)
			return fail(err, errlen, -EINVAL,
				    "--ip: two IPv4 addresses (allowed: one per family)");
		out->has4 = true;
		out->ip4 = a4;
		return 0;
	}
	if (inet_pton(AF_INET6, s, &a6) == 1) {
		if (IN6_IS_ADDR_V4MAPPED(&a6))
			return fail(err, errlen, -EINVAL,
				    "--ip: \"%s\": an IPv4-mapped IPv6 address; give the IPv4 "
				    "address itself",
				    s);
		if (out->has6)
			return fail(err, errlen, -EINVAL,
				    "--ip: two IPv6 addresses (allowed: one per family)");
		out->has6 = true;
		out->ip6 = a6;
		return 0;
	}
	return fail(err, errlen, -EINVAL, "--ip: \"%s\" is not an IPv4 or IPv6 address", s);
}

int np_ep_parse_ips(const char *s, struct np_ep_addrs *out, char *err, size_t errlen)
{
	char buf[2 * INET6_ADDRSTRLEN + 4], *comma;
	int ret;

	memset(out, 0, sizeof(*out));
	if (!s || !*s)
		return fail(err, errlen, -EINVAL, "--ip: empty (allowed: V4, V6 or V4,V6)");
	if (strlen(s) >= sizeof(buf))
		return fail(err, errlen, -EINVAL,
			    "--ip: too long (allowed: one IPv4 and/or one IPv6 address)");
	strcpy(buf, s);
	comma = strchr(buf, ',');
	if (comma) {
		*comma++ = '\0';
		if (strchr(comma, ','))
			return fail(err, errlen, -EINVAL,
				    "--ip: \"%s\": more than two addresses (allowed: V4, V6 or "
				    "V4,V6)",
				    s);
	}
	ret = parse_one_ip(buf, out, err, errlen);
	if (!ret && comma)
		ret = parse_one_ip(comma, out, err, errlen);
	if (ret)
		memset(out, 0, sizeof(*out));
	return ret;
}

int np_ep_check_name(const char *s, char *err, size_t errlen)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > 15)
		return fail(err, errlen, -EINVAL,
			    "--name \"%.32s\": an endpoint name is 1..15 characters of "
			    "[A-Za-z0-9_.-] (it names the host-side device)",
			    s ? s : "");
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-'))
			return fail(err, errlen, -EINVAL,
				    "--name \"%.32s\": an endpoint name is 1..15 characters of "
				    "[A-Za-z0-9_.-] (it names the host-side device)",
				    s);
	}
	if (s[0] == '.' || s[0] == '-')
		return fail(err, errlen, -EINVAL, "--name \"%s\": must not start with '.' or '-'",
			    s);
	return 0;
}

int np_ep_parse_kind(const char *s, enum np_ep_kind *out, char *err, size_t errlen)
{
	if (s && !strcmp(s, "veth"))
		*out = NP_EP_KIND_VETH;
	else if (s && !strcmp(s, "netkit"))
		*out = NP_EP_KIND_NETKIT;
	else if (s && !strcmp(s, "auto"))
		*out = NP_EP_KIND_AUTO;
	else
		return fail(err, errlen, -EINVAL, "--dev \"%.32s\": allowed: veth, netkit or auto",
			    s ? s : "");
	return 0;
}

int np_ep_parse_nk_mode(const char *s, enum np_nk_mode *out, char *err, size_t errlen)
{
	if (s && !strcmp(s, "l3"))
		*out = NP_NK_MODE_L3;
	else if (s && !strcmp(s, "l2"))
		*out = NP_NK_MODE_L2;
	else
		return fail(err, errlen, -EINVAL, "--netkit-mode \"%.32s\": allowed: l3 or l2",
			    s ? s : "");
	return 0;
}

const char *np_ep_kind_name(enum np_ep_kind k)
{
	switch (k) {
	case NP_EP_KIND_VETH:
		return "veth";
	case NP_EP_KIND_NETKIT:
		return "netkit";
	default:
		return "auto";
	}
}

/* Do the first len bits of a and b agree? */
static bool prefix_eq(const __u8 *a, const __u8 *b, unsigned int len)
{
	unsigned int bytes = len / 8, bits = len % 8;

	if (memcmp(a, b, bytes))
		return false;
	if (!bits)
		return true;
	return ((a[bytes] ^ b[bytes]) & (0xff << (8 - bits)) & 0xff) == 0;
}

/* Host bits of addr (beyond len of alen bytes) all zero (val 0) or all one (val 1)? */
static bool host_bits_are(const __u8 *addr, unsigned int alen, unsigned int len, int val)
{
	for (unsigned int bit = len; bit < alen * 8; bit++) {
		int b = (addr[bit / 8] >> (7 - bit % 8)) & 1;

		if (b != val)
			return false;
	}
	return true;
}

int np_ep_check_addr(const struct np_node_cfg *cfg, const char *node, int family, const void *addr,
		     char *err, size_t errlen)
{
	char txt[INET6_ADDRSTRLEN], range[INET6_ADDRSTRLEN];
	const __u8 *net, *gw, *a = addr;
	unsigned int len, alen;

	if (family == AF_INET) {
		net = cfg->pod_net4;
		gw = cfg->pod_gw4;
		len = cfg->pod_len4;
		alen = 4;
	} else {
		net = cfg->pod_net6;
		gw = cfg->pod_gw6;
		len = cfg->pod_len6;
		alen = 16;
	}
	inet_ntop(family, a, txt, sizeof(txt));
	if (!len)
		return fail(err, errlen, -ENOENT,
			    "node %s has no %s pod range for %s (nodepath --node %s up ... "
			    "--pod-cidr V4CIDR,V6CIDR)",
			    node, family == AF_INET ? "IPv4" : "IPv6", txt, node);
	inet_ntop(family, net, range, sizeof(range));
	if (!prefix_eq(a, net, len))
		return fail(err, errlen, -ERANGE, "%s is outside node %s's pod range %s/%u", txt,
			    node, range, len);
	if (host_bits_are(a, alen, len, 0))
		return fail(err, errlen, -ERANGE,
			    "%s is the network address of node %s's pod range %s/%u", txt, node,
			    range, len);
	if (!memcmp(a, gw, alen))
		return fail(err, errlen, -ERANGE,
			    "%s is the pods' gateway on node %s (pod range %s/%u)", txt, node,
			    range, len);
	if (family == AF_INET && host_bits_are(a, alen, len, 1))
		return fail(err, errlen, -ERANGE,
			    "%s is the broadcast address of node %s's pod range %s/%u", txt, node,
			    range, len);
	return 0;
}

static int pod_cidr_one(const char *s, struct np_node_cfg *cfg, char *err, size_t errlen)
{
	char perr[200];
	struct np_cidr c;

	if (np_parse_cidr(s, &c, perr, sizeof(perr)))
		return fail(err, errlen, -EINVAL, "--pod-cidr: %s", perr);
	if (c.family == AF_INET) {
		if (cfg->pod_len4)
			return fail(err, errlen, -EINVAL,
				    "--pod-cidr: two IPv4 ranges (allowed: one per family)");
		if (c.prefixlen < 8 || c.prefixlen > 30)
			return fail(err, errlen, -EINVAL,
				    "--pod-cidr \"%s\": IPv4 prefix length %u (allowed: 8..30)", s,
				    c.prefixlen);
		memcpy(cfg->pod_net4, c.addr, 4);
		memcpy(cfg->pod_gw4, c.addr, 4);
		cfg->pod_gw4[3] |= 1; /* host bits are clear: the first host */
		cfg->pod_len4 = c.prefixlen;
	} else {
		if (cfg->pod_len6)
			return fail(err, errlen, -EINVAL,
				    "--pod-cidr: two IPv6 ranges (allowed: one per family)");
		if (c.prefixlen < 64 || c.prefixlen > 126)
			return fail(err, errlen, -EINVAL,
				    "--pod-cidr \"%s\": IPv6 prefix length %u (allowed: 64..126)",
				    s, c.prefixlen);
		memcpy(cfg->pod_net6, c.addr, 16);
		memcpy(cfg->pod_gw6, c.addr, 16);
		cfg->pod_gw6[15] |= 1;
		cfg->pod_len6 = c.prefixlen;
	}
	return 0;
}

int np_ep_parse_pod_cidr(const char *s, struct np_node_cfg *cfg, char *err, size_t errlen)
{
	char buf[2 * NP_CIDR_STRLEN + 4], *comma;
	int ret;

	memset(cfg->pod_net4, 0, sizeof(cfg->pod_net4));
	memset(cfg->pod_net6, 0, sizeof(cfg->pod_net6));
	memset(cfg->pod_gw4, 0, sizeof(cfg->pod_gw4));
	memset(cfg->pod_gw6, 0, sizeof(cfg->pod_gw6));
	cfg->pod_len4 = cfg->pod_len6 = 0;
	if (!s || !*s)
		return fail(err, errlen, -EINVAL,
			    "--pod-cidr: empty (allowed: V4CIDR, V6CIDR or V4CIDR,V6CIDR)");
	if (strlen(s) >= sizeof(buf))
		return fail(err, errlen, -EINVAL, "--pod-cidr: too long");
	strcpy(buf, s);
	comma = strchr(buf, ',');
	if (comma) {
		*comma++ = '\0';
		if (strchr(comma, ','))
			return fail(err, errlen, -EINVAL,
				    "--pod-cidr: more than two ranges (allowed: V4CIDR, V6CIDR or "
				    "V4CIDR,V6CIDR)");
	}
	ret = pod_cidr_one(buf, cfg, err, errlen);
	if (!ret && comma)
		ret = pod_cidr_one(comma, cfg, err, errlen);
	if (ret) {
		char keep[256];

		/* Leave the message, clear the half-filled ranges. */
		snprintf(keep, sizeof(keep), "%s", err ? err : "");
		np_ep_parse_pod_cidr(NULL, cfg, NULL, 0);
		if (err && errlen)
			snprintf(err, errlen, "%s", keep);
	}
	return ret;
}

void np_ep_format_pod_cidr(const struct np_node_cfg *cfg, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
	int o = 0;

	buf[0] = '\0';
	if (cfg->pod_len4) {
		inet_ntop(AF_INET, cfg->pod_net4, a, sizeof(a));
		o = snprintf(buf, len, "%s/%u", a, cfg->pod_len4);
	}
	if (cfg->pod_len6 && o >= 0 && (size_t)o < len) {
		inet_ntop(AF_INET6, cfg->pod_net6, b, sizeof(b));
		snprintf(buf + o, len - (size_t)o, "%s%s/%u", o ? "," : "", b, cfg->pod_len6);
	}
}

/* ---- the pod's devices ------------------------------------------------ */

static int addr_add(const char *dev, int family, const void *addr)
{
	struct np_prefix p = { .family = family, .len = family == AF_INET ? 32 : 128 };

	memcpy(&p.addr, addr, family == AF_INET ? 4 : 16);
	return np_nl_addr_add(dev, &p);
}

/* A host route (/32, /128) to addr on dev, or the default route (addr NULL). */
static int route_add(const char *dev, int family, const void *dst, const void *via)
{
	struct np_prefix d = { .family = family }, g = { .family = family };

	if (dst) {
		d.len = family == AF_INET ? 32 : 128;
		memcpy(&d.addr, dst, family == AF_INET ? 4 : 16);
	}
	if (via)
		memcpy(&g.addr, via, family == AF_INET ? 4 : 16);
	g.len = family == AF_INET ? 32 : 128;
	return np_nl_route_add(&d, via ? &g : NULL, dev);
}

/* IPv6 on, no RA, no DAD on a device of ours. */
static int dev_sysctls(const char *dev)
{
	static const char *const kv[] = {
		"disable_ipv6", "0", "accept_ra", "0", "accept_dad", "0"
	};
	char path[96];
	int err;

	for (size_t i = 0; i < sizeof(kv) / sizeof(kv[0]); i += 2) {
		snprintf(path, sizeof(path), "net/ipv6/conf/%s/%s", dev, kv[i]);
		err = np_sysctl_write(path, kv[i + 1]);
		if (err)
			return err;
	}
	return 0;
}

/* Host side, in the current (node) netns. */
static int host_side(const struct np_pod_link *pl)
{
	int err = 0;

	if (pl->ip.has6)
		err = dev_sysctls(pl->host);
	if (!err && pl->mtu)
		err = np_nl_link_set_mtu(pl->host, pl->mtu);
	/* The gateway on every pod device, for the stack's fallback path. */
	if (!err && pl->gw.has4)
		err = addr_add(pl->host, AF_INET, &pl->gw.ip4);
	if (!err && pl->gw.has6)
		err = addr_add(pl->host, AF_INET6, &pl->gw.ip6);
	if (!err)
		err = np_nl_link_set_up(pl->host, true);
	if (!err && pl->ip.has4)
		err = route_add(pl->host, AF_INET, &pl->ip.ip4, NULL);
	if (!err && pl->ip.has6)
		err = route_add(pl->host, AF_INET6, &pl->ip.ip6, NULL);
	return err;
}

/* Pod side, in the pod's netns. */
static int pod_side(const struct np_pod_link *pl, unsigned char *pod_mac)
{
	const char *dev = NP_EP_POD_DEV;
	bool l3 = pl->kind == NP_EP_KIND_NETKIT && !pl->l2;
	struct np_nl_link li;
	int err = 0;

	if (pl->ip.has6)
		err = dev_sysctls(dev);
	if (!err && pl->mtu)
		err = np_nl_link_set_mtu(dev, pl->mtu);
	if (!err)
		err = np_nl_link_set_up(dev, true);
	if (!err && pl->ip.has4)
		err = addr_add(dev, AF_INET, &pl->ip.ip4);
	if (!err && pl->ip.has6)
		err = addr_add(dev, AF_INET6, &pl->ip.ip6);
	/* netkit l3 has no neighbours: everything simply leaves through the device. */
	if (!err && pl->ip.has4)
		err = l3 ? route_add(dev, AF_INET, NULL, NULL)
			 : route_add(dev, AF_INET, &pl->gw.ip4, NULL);
	if (!err && pl->ip.has4 && !l3)
		err = route_add(dev, AF_INET, NULL, &pl->gw.ip4);
	if (!err && pl->ip.has6)
		err = l3 ? route_add(dev, AF_INET6, NULL, NULL)
			 : route_add(dev, AF_INET6, &pl->gw.ip6, NULL);
	if (!err && pl->ip.has6 && !l3)
		err = route_add(dev, AF_INET6, NULL, &pl->gw.ip6);
	if (!err && !np_nl_link_get(dev, &li) && li.has_mac)
		memcpy(pod_mac, li.mac, 6);
	return err;
}

int np_pod_link_create(const struct np_pod_link *pl, struct np_pod_link_info *info)
{
	struct np_nl_link li;
	int fd, saved, err, rerr;

	memset(info, 0, sizeof(*info));
	fd = np_netns_open(pl->pod_ns);
	if (fd < 0) {
		np_err("open netns %s: %s", pl->pod_ns, strerror(-fd));
		return fd;
	}
	if (pl->kind == NP_EP_KIND_NETKIT)
		err = np_nl_netkit_add(pl->host, NP_EP_POD_DEV, fd, pl->l2);
	else
		err = np_nl_veth_add_queues(pl->host, NP_EP_POD_DEV, fd, pl->queues);
	close(fd);
	if (err)
		return err;

	err = host_side(pl);
	if (!err) {
		err = np_nl_link_get(pl->host, &li);
		if (err)
			np_err("look up %s: %s", pl->host, strerror(-err));
	}
	if (err)
		goto err_del;
	info->host_ifindex = li.ifindex;
	memcpy(info->host_mac, li.mac, 6);

	saved = np_netns_save();
	if (saved < 0) {
		err = saved;
		np_err("open the current netns: %s", strerror(-err));
		goto err_del;
	}
	err = np_netns_enter(pl->pod_ns);
	if (err)
		np_err("enter netns %s: %s", pl->pod_ns, strerror(-err));
	else
		err = pod_side(pl, info->pod_mac);
	rerr = np_netns_return(saved);
	if (rerr) {
		/* We are stranded in the pod: nothing more can be undone here. */
		np_err("return to the node's netns: %s", strerror(-rerr));
		return rerr;
	}
	if (err)
		goto err_del;
	return 0;
err_del:
	/* The pair goes as one; its addresses and routes go with it. */
	np_nl_link_del(pl->host);
	return err;
}

/* ---- pins and metadata -------------------------------------------------- */

static int ep_path(const struct np_node *n, const char *name, const char *file, char *buf,
		   size_t len)
{
	int r;

	if (!name)
		r = snprintf(buf, len, "%s/%s", n->pin_dir, NP_EP_DIR);
	else if (!file)
		r = snprintf(buf, len, "%s/%s/%s", n->pin_dir, NP_EP_DIR, name);
	else
		r = snprintf(buf, len, "%s/%s/%s/%s", n->pin_dir, NP_EP_DIR, name, file);
	return r < 0 || (size_t)r >= len ? -ENAMETOOLONG : 0;
}

struct json_object *np_ep_info_json(const struct np_ep_info *e)
{
	struct json_object *o = json_object_new_object();
	char txt[INET6_ADDRSTRLEN];

	json_object_object_add(o, "name", json_object_new_string(e->name));
	json_object_object_add(o, "id", json_object_new_int64(e->id));
	json_object_object_add(o, "netns", json_object_new_string(e->netns));
	json_object_object_add(o, "dev", json_object_new_string(np_ep_kind_name(e->kind)));
	json_object_object_add(
		o, "netkit_mode",
		e->kind == NP_EP_KIND_NETKIT
			? json_object_new_string(e->nk_mode == NP_NK_MODE_L2 ? "l2" : "l3")
			: NULL);
	json_object_object_add(o, "host_ifindex", json_object_new_int64(e->host_ifindex));
	json_object_object_add(o, "ipv4",
			       e->ip.has4 ? json_object_new_string(inet_ntop(AF_INET, &e->ip.ip4,
									     txt, sizeof(txt)))
					  : NULL);
	json_object_object_add(o, "ipv6",
			       e->ip.has6 ? json_object_new_string(inet_ntop(AF_INET6, &e->ip.ip6,
									     txt, sizeof(txt)))
					  : NULL);
	return o;
}

/* The metadata as a symlink: bpffs holds no regular files. */
static int meta_write(const struct np_node *n, const struct np_ep_info *e)
{
	struct json_object *o = np_ep_info_json(e);
	char path[PATH_MAX];
	int err;

	err = ep_path(n, e->name, META, path, sizeof(path));
	if (err)
		np_err("write endpoint metadata %s: %s", path, strerror(-err));
	else
		err = np_record_write(path, o, false, "endpoint metadata");
	json_object_put(o);
	return err;
}

/* Read <pin_dir>/ep/<name>/meta into e (name, netns, id, kind, mode, ifindex, ips). */
static int meta_read(const struct np_node *n, const char *name, struct np_ep_info *e)
{
	char path[PATH_MAX];
	struct json_object *o;
	const char *s;
	int err;

	memset(e, 0, sizeof(*e));
	snprintf(e->name, sizeof(e->name), "%s", name);
	if (ep_path(n, name, META, path, sizeof(path)))
		return -ENAMETOOLONG;
	err = np_record_read(path, &o);
	if (err)
		return err;
	if ((s = np_record_str(o, "netns")))
		snprintf(e->netns, sizeof(e->netns), "%s", s);
	e->id = np_record_int(o, "id") > 0 ? (__u32)np_record_int(o, "id") : 0;
	s = np_record_str(o, "dev");
	e->kind = s && !strcmp(s, "netkit") ? NP_EP_KIND_NETKIT : NP_EP_KIND_VETH;
	s = np_record_str(o, "netkit_mode");
	e->nk_mode = !s ? NP_NK_MODE_NONE : !strcmp(s, "l2") ? NP_NK_MODE_L2 : NP_NK_MODE_L3;
	e->host_ifindex =
		np_record_int(o, "host_ifindex") > 0 ? (int)np_record_int(o, "host_ifindex") : 0;
	if ((s = np_record_str(o, "ipv4")) && inet_pton(AF_INET, s, &e->ip.ip4) == 1)
		e->ip.has4 = true;
	if ((s = np_record_str(o, "ipv6")) && inet_pton(AF_INET6, s, &e->ip.ip6) == 1)
		e->ip.has6 = true;
	if (!e->id || !e->host_ifindex)
		err = -EBADMSG;
	json_object_put(o);
	return err;
}

/* Detach and unpin one pinned link; absent is fine. */
static int link_unpin(const char *path)
{
	int fd, err = 0;

	fd = bpf_obj_get(path);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	/* Detach even if someone else still holds an fd of the link. */
	if (bpf_link_detach(fd) && errno != ENOLINK && errno != EINVAL) {
		err = -errno;
		np_err("detach link %s: %s", path, strerror(-err));
	}
	close(fd);
	if (unlink(path) && errno != ENOENT) {
		err = -errno;
		np_err("unpin %s: %s", path, strerror(-err));
	}
	return err;
}

/* Detach the endpoint's links, remove its files and its directory. */
static int ep_dir_remove(const struct np_node *n, const char *name)
{
	static const char *const links[] = { LINK_FROM, LINK_NK_PRIMARY, LINK_NK_PEER };
	char path[PATH_MAX];
	struct dirent *de;
	int err, ret = 0;
	DIR *d;

	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		if (ep_path(n, name, links[i], path, sizeof(path)))
			return -ENAMETOOLONG;
		err = link_unpin(path);
		if (err)
			ret = err;
	}
	if (ret)
		return ret;
	if (ep_path(n, name, NULL, path, sizeof(path)))
		return -ENAMETOOLONG;
	d = opendir(path);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		char f[PATH_MAX];

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (snprintf(f, sizeof(f), "%s/%s", path, de->d_name) < (int)sizeof(f) &&
		    unlink(f) && errno != ENOENT) {
			ret = -errno;
			np_err("remove %s: %s", f, strerror(-ret));
		}
	}
	closedir(d);
	if (rmdir(path) && errno != ENOENT) {
		ret = -errno;
		np_err("remove %s: %s", path, strerror(-ret));
	}
	return ret;
}

typedef int (*ep_fn)(const struct np_node *n, const char *name, void *arg);

/* Call fn for every endpoint directory; stops at the first non-zero return. */
static int ep_each(const struct np_node *n, ep_fn fn, void *arg)
{
	char path[PATH_MAX];
	struct dirent *de;
	int ret = 0;
	DIR *d;

	if (ep_path(n, NULL, NULL, path, sizeof(path)))
		return -ENAMETOOLONG;
	d = opendir(path);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while (!ret && (de = readdir(d))) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		ret = fn(n, de->d_name, arg);
	}
	closedir(d);
	return ret;
}

/* ---- maps ------------------------------------------------------------- */

struct ep_maps {
	int eps, devs, stats;
};

static void maps_close(struct ep_maps *m)
{
	if (m->eps >= 0)
		close(m->eps);
	if (m->devs >= 0)
		close(m->devs);
	if (m->stats >= 0)
		close(m->stats);
	m->eps = m->devs = m->stats = -1;
}

static int maps_open(const struct np_node *n, struct ep_maps *m)
{
	const char *missing = NULL;

	m->eps = np_node_map_open(n, NP_MAP_EP);
	m->devs = np_node_map_open(n, NP_MAP_EP_DEV);
	m->stats = np_node_map_open(n, NP_MAP_EP_STATS);
	if (m->eps < 0)
		missing = NP_MAP_EP;
	else if (m->devs < 0)
		missing = NP_MAP_EP_DEV;
	else if (m->stats < 0)
		missing = NP_MAP_EP_STATS;
	if (!missing)
		return 0;
	np_err("node %s has no %s map pinned in %s (run `nodepath%s%s up` with this nodepath)",
	       n->name, missing, n->pin_dir, n->is_ns ? " --node " : "", n->is_ns ? n->name : "");
	maps_close(m);
	return -ENOENT;
}

/* Are the endpoint maps pinned (the node is up, or was interrupted)? */
static bool maps_present(const struct np_node *n)
{
	int fd = np_node_map_open(n, NP_MAP_EP);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

static void ep_key(struct np_ep_key *k, int family, const void *addr)
{
	memset(k, 0, sizeof(*k));
	k->family = family == AF_INET ? NP_AF_INET : NP_AF_INET6;
	memcpy(k->addr, addr, family == AF_INET ? 4 : 16);
}

static int stats_zero(int fd, __u32 id)
{
	int ncpu = libbpf_num_possible_cpus();
	struct np_ep_stats *v;
	int err = 0;

	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	v = calloc((size_t)ncpu, sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (bpf_map_update_elem(fd, &id, v, BPF_ANY))
		err = -errno;
	free(v);
	return err;
}

static int stats_sum(int fd, __u32 id, struct np_ep_stats *out)
{
	int ncpu = libbpf_num_possible_cpus();
	struct np_ep_stats *v;
	int err = 0;

	memset(out, 0, sizeof(*out));
	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	v = calloc((size_t)ncpu, sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, &id, v)) {
		err = -errno;
	} else {
		for (int i = 0; i < ncpu; i++) {
			out->rx_packets += v[i].rx_packets;
			out->rx_bytes += v[i].rx_bytes;
			out->tx_packets += v[i].tx_packets;
			out->tx_bytes += v[i].tx_bytes;
		}
	}
	free(v);
	return err;
}

/* Lowest id in 1..NP_EP_MAX-1 that no np_ep_devs entry uses; 0 when all are. */
static __u32 id_alloc(int devs_fd)
{
	static unsigned char used[NP_EP_MAX];
	struct np_ep_dev dev;
	__u32 key, next;
	int err;

	memset(used, 0, sizeof(used));
	for (err = bpf_map_get_next_key(devs_fd, NULL, &next); !err;
	     err = bpf_map_get_next_key(devs_fd, &key, &next)) {
		key = next;
		if (!bpf_map_lookup_elem(devs_fd, &key, &dev) && dev.id < NP_EP_MAX)
			used[dev.id] = 1;
	}
	for (__u32 id = 1; id < NP_EP_MAX; id++)
		if (!used[id])
			return id;
	return 0;
}

/* Remove the address entries that point at ifindex, the device entry, and zero the counters. */
static void maps_unregister(struct ep_maps *m, int ifindex, const struct np_ep_dev *dev)
{
	static const __u8 zero[16];
	struct np_endpoint val;
	struct np_ep_key k;
	__u32 key = (__u32)ifindex;

	/* Addresses first: a packet never finds an address whose device is unknown. */
	if (memcmp(dev->ip4, zero, 4)) {
		ep_key(&k, AF_INET, dev->ip4);
		if (!bpf_map_lookup_elem(m->eps, &k, &val) && val.ifindex == (__u32)ifindex)
			bpf_map_delete_elem(m->eps, &k);
	}
	if (memcmp(dev->ip6, zero, 16)) {
		ep_key(&k, AF_INET6, dev->ip6);
		if (!bpf_map_lookup_elem(m->eps, &k, &val) && val.ifindex == (__u32)ifindex)
			bpf_map_delete_elem(m->eps, &k);
	}
	bpf_map_delete_elem(m->devs, &key);
	if (dev->id && dev->id < NP_EP_MAX)
		stats_zero(m->stats, dev->id);
}

/* ---- who owns what ------------------------------------------------------- */

struct find_ifindex {
	int ifindex;
	char name[16];
};

static int find_by_ifindex_cb(const struct np_node *n, const char *name, void *arg)
{
	struct find_ifindex *f = arg;
	struct np_ep_info e;

	if (!meta_read(n, name, &e) && e.host_ifindex == f->ifindex) {
		snprintf(f->name, sizeof(f->name), "%s", name);
		return 1;
	}
	return 0;
}

/* Name of the endpoint whose host device is ifindex, or "" */
static void name_of_ifindex(const struct np_node *n, int ifindex, char *buf, size_t len)
{
	struct find_ifindex f = { .ifindex = ifindex };

	ep_each(n, find_by_ifindex_cb, &f);
	if (f.name[0])
		snprintf(buf, len, "%s", f.name);
	else if (!if_indextoname((unsigned int)ifindex, buf))
		snprintf(buf, len, "ifindex %d", ifindex);
}

/* Is the address taken? Logs who has it. */
static int addr_free(const struct np_node *n, struct ep_maps *m, int family, const void *addr)
{
	char txt[INET6_ADDRSTRLEN], owner[IF_NAMESIZE + 16];
	struct np_endpoint val;
	struct np_ep_key k;

	ep_key(&k, family, addr);
	if (bpf_map_lookup_elem(m->eps, &k, &val))
		return 0;
	inet_ntop(family, addr, txt, sizeof(txt));
	name_of_ifindex(n, (int)val.ifindex, owner, sizeof(owner));
	np_err("%s is already used by endpoint %s", txt, owner);
	return -EEXIST;
}

/* ---- add ---------------------------------------------------------------- */

static int prog_open(const struct np_node *n, const char *name)
{
	char path[PATH_MAX];
	int fd;

	if (np_node_path(n, name, path, sizeof(path)))
		return -ENAMETOOLONG;
	fd = bpf_obj_get(path);
	return fd < 0 ? -errno : fd;
}

static int link_attach_pin(const struct np_node *n, const char *ep, const char *file, int prog,
			   int ifindex, enum bpf_attach_type type, const char *what)
{
	char path[PATH_MAX];
	int fd, err;

	err = ep_path(n, ep, file, path, sizeof(path));
	if (err)
		return err;
	fd = bpf_link_create(prog, ifindex, type, NULL);
	if (fd < 0) {
		err = -errno;
		np_err("attach %s on %s: %s", what, ep, strerror(-err));
		return err;
	}
	if (bpf_obj_pin(fd, path)) {
		err = -errno;
		np_err("pin link %s: %s", path, strerror(-err));
	}
	close(fd); /* unpinned: closing detaches */
	return err;
}

static int check_node(const struct np_node *n, struct np_node_cfg *cfg)
{
	int err = n->pin_exists ? np_node_cfg_read(n, cfg) : -ENOENT;

	if (err && err != -ENOENT)
		return err;
	if (err || !(cfg->flags & NP_NODE_F_UP)) {
		np_err("node %s is not up (run: nodepath%s%s up --dev IF --pod-cidr V4CIDR,V6CIDR)",
		       n->name, n->is_ns ? " --node " : "", n->is_ns ? n->name : "");
		return -ENOTCONN;
	}
	if (cfg->abi_version != NP_ABI_VERSION) {
		np_err("node %s was brought up by ABI version %u; this nodepath speaks %u", n->name,
		       cfg->abi_version, NP_ABI_VERSION);
		return -EPROTO;
	}
	if (!cfg->pod_len4 && !cfg->pod_len6) {
		np_err("node %s has no pod range: nodepath%s%s up --dev %.16s --pod-cidr "
		       "V4CIDR[,V6CIDR] (after nodepath%s%s down)",
		       n->name, n->is_ns ? " --node " : "", n->is_ns ? n->name : "",
		       (char *)cfg->uplink_name, n->is_ns ? " --node " : "",
		       n->is_ns ? n->name : "");
		return -ENOTCONN;
	}
	return 0;
}

/* The pinned pod programs of the node; -1 for those not pinned. */
struct ep_progs {
	int from, pri, peer;
};

static void progs_open(const struct np_node *n, struct ep_progs *p)
{
	p->from = prog_open(n, NP_PIN_PROG_POD_FROM);
	p->pri = prog_open(n, NP_PIN_PROG_NK_PRIMARY);
	p->peer = prog_open(n, NP_PIN_PROG_NK_PEER);
}

static void progs_close(struct ep_progs *p)
{
	if (p->from >= 0)
		close(p->from);
	if (p->pri >= 0)
		close(p->pri);
	if (p->peer >= 0)
		close(p->peer);
	p->from = p->pri = p->peer = -1;
}

/*
 * Register endpoint e (id, kind, nk_mode, host_ifindex, ip, name, netns set)
 * in the maps with zeroed counters, attach the pod programs, pin the links
 * under <pin_dir>/ep/<name>/ and write its metadata (replacing an old one:
 * `up` re-adopting a recorded endpoint). On failure the map entries, links
 * and the directory are gone again; the devices are the caller's.
 */
static int ep_install(const struct np_node *n, struct ep_maps *m, const struct ep_progs *p,
		      const struct np_ep_info *e, const unsigned char *host_mac,
		      const unsigned char *pod_mac)
{
	bool k4_in = false, k6_in = false, dev_in = false, dir_made = false;
	struct np_endpoint val = { 0 };
	struct np_ep_dev dev = { 0 };
	char path[PATH_MAX];
	struct np_ep_key k4, k6;
	__u32 key;
	int err;

	dev.id = e->id;
	dev.flags = e->kind == NP_EP_KIND_NETKIT ? NP_EP_F_NETKIT : 0;
	if (e->kind == NP_EP_KIND_VETH || e->nk_mode == NP_NK_MODE_L2)
		dev.flags |= NP_EP_F_L2;
	if (e->ip.has4)
		memcpy(dev.ip4, &e->ip.ip4, 4);
	if (e->ip.has6)
		memcpy(dev.ip6, &e->ip.ip6, 16);
	if (dev.flags & NP_EP_F_L2) {
		memcpy(dev.pod_mac, pod_mac, 6);
		memcpy(dev.host_mac, host_mac, 6);
	}
	/* ---- register: counters, then the device, then its addresses ---- */
	err = stats_zero(m->stats, e->id);
	if (err) {
		np_err("zero %s[%u]: %s", NP_MAP_EP_STATS, e->id, strerror(-err));
		return err;
	}
	key = (__u32)e->host_ifindex;
	if (bpf_map_update_elem(m->devs, &key, &dev, BPF_NOEXIST)) {
		err = -errno;
		np_err("add %s[%d] for %s: %s", NP_MAP_EP_DEV, e->host_ifindex, e->name,
		       strerror(-err));
		return err;
	}
	dev_in = true;
	val.id = e->id;
	val.ifindex = key;
	val.flags = dev.flags;
	memcpy(val.pod_mac, dev.pod_mac, 6);
	memcpy(val.host_mac, dev.host_mac, 6);
	if (e->ip.has4) {
		ep_key(&k4, AF_INET, &e->ip.ip4);
		if (bpf_map_update_elem(m->eps, &k4, &val, BPF_NOEXIST)) {
			err = -errno;
			np_err("add %s entry for %s: %s", NP_MAP_EP, e->name, strerror(-err));
			goto err;
		}
		k4_in = true;
	}
	if (e->ip.has6) {
		ep_key(&k6, AF_INET6, &e->ip.ip6);
		if (bpf_map_update_elem(m->eps, &k6, &val, BPF_NOEXIST)) {
			err = -errno;
			np_err("add %s entry for %s: %s", NP_MAP_EP, e->name, strerror(-err));
			goto err;
		}
		k6_in = true;
	}

	/* ---- attach and pin ---- */
	err = ep_path(n, NULL, NULL, path, sizeof(path));
	if (!err && mkdir(path, 0700) && errno != EEXIST)
		err = -errno;
	if (!err && !ep_path(n, e->name, NULL, path, sizeof(path)) && mkdir(path, 0700) &&
	    errno != EEXIST)
		err = -errno;
	if (err) {
		np_err("create %s: %s", path, strerror(-err));
		goto err;
	}
	dir_made = true;
	if (e->kind == NP_EP_KIND_VETH) {
		err = link_attach_pin(n, e->name, LINK_FROM, p->from, e->host_ifindex,
				      BPF_TCX_INGRESS, "tcx ingress");
	} else {
		err = link_attach_pin(n, e->name, LINK_NK_PRIMARY, p->pri, e->host_ifindex,
				      BPF_NETKIT_PRIMARY, "netkit primary");
		if (!err)
			err = link_attach_pin(n, e->name, LINK_NK_PEER, p->peer, e->host_ifindex,
					      BPF_NETKIT_PEER, "netkit peer");
	}
	if (!err && !ep_path(n, e->name, META, path, sizeof(path)) && unlink(path) &&
	    errno != ENOENT) {
		err = -errno;
		np_err("replace endpoint metadata %s: %s", path, strerror(-err));
	}
	if (!err)
		err = meta_write(n, e);
	if (!err)
		return 0;
err:
	if (dir_made)
		ep_dir_remove(n, e->name);
	if (k6_in)
		bpf_map_delete_elem(m->eps, &k6);
	if (k4_in)
		bpf_map_delete_elem(m->eps, &k4);
	if (dev_in)
		bpf_map_delete_elem(m->devs, &key);
	return err;
}

/* Does netns ns have a device named dev? 1 yes, 0 no, -errno. Returns in the calling netns. */
static int netns_has_dev(const char *ns, const char *dev)
{
	int saved, err, rerr;

	saved = np_netns_save();
	if (saved < 0) {
		np_err("open the current netns: %s", strerror(-saved));
		return saved;
	}
	err = np_netns_enter(ns);
	if (err)
		np_err("enter netns %s: %s", ns, strerror(-err));
	else
		err = np_nl_link_index(dev) > 0;
	rerr = np_netns_return(saved);
	if (rerr) {
		np_err("return to the node's netns: %s", strerror(-rerr));
		return rerr;
	}
	return err;
}

/* The MAC of dev in netns ns. Returns in the calling netns. */
static int netns_dev_mac(const char *ns, const char *dev, unsigned char *mac)
{
	struct np_nl_link li;
	int saved, err, rerr;

	saved = np_netns_save();
	if (saved < 0)
		return saved;
	err = np_netns_enter(ns);
	if (!err)
		err = np_nl_link_get(dev, &li);
	if (!err && li.has_mac)
		memcpy(mac, li.mac, 6);
	else if (!err)
		err = -ENODATA;
	rerr = np_netns_return(saved);
	if (rerr) {
		np_err("return to the node's netns: %s", strerror(-rerr));
		return rerr;
	}
	return err;
}

static const char *kernel_release(void)
{
	static struct utsname u;

	if (uname(&u))
		return "(unknown)";
	return u.release;
}

/*
 * The endpoint's addresses came or went: service backends at them are
 * local or not from now on (service.c; failures are logged there and leave
 * the endpoint as it is).
 */
static void refresh_backends(struct np_node *n, const struct np_ep_addrs *ip)
{
	if (ip->has4)
		np_svc_refresh_local(n, NP_AF_INET, &ip->ip4);
	if (ip->has6)
		np_svc_refresh_local(n, NP_AF_INET6, &ip->ip6);
}

int np_ep_add(struct np_node *n, const struct np_ep_add_opts *o, struct np_ep_info *out)
{
	struct ep_progs p = { -1, -1, -1 };
	struct ep_maps m = { -1, -1, -1 };
	struct np_pod_link_info li;
	struct np_pod_link pl = { 0 };
	struct np_node_cfg cfg;
	struct np_nl_link up;
	char msg[256], path[PATH_MAX], name[16];
	struct stat st;
	__u32 id;
	int err;

	memset(out, 0, sizeof(*out));
	/* ---- validate: nothing changes before all of this passed ---- */
	err = check_node(n, &cfg);
	if (err)
		return err;
	if (!o->netns || !np_netns_name_ok(o->netns)) {
		np_err("--netns \"%s\" is not a valid network namespace name (1..63 of A-Z a-z "
		       "0-9 _ . -)",
		       o->netns ? o->netns : "");
		return -EINVAL;
	}
	if (!np_netns_exists(o->netns)) {
		np_err("no network namespace \"%s\" (see: ip netns list)", o->netns);
		return -ENOENT;
	}
	if (n->is_ns && !strcmp(o->netns, n->name)) {
		np_err("--netns %s is the node's own namespace; a pod needs its own", o->netns);
		return -EINVAL;
	}
	err = np_ep_parse_ips(o->ip, &out->ip, msg, sizeof(msg));
	if (err) {
		np_err("%s", msg);
		return err;
	}
	if (out->ip.has4 &&
	    (err = np_ep_check_addr(&cfg, n->name, AF_INET, &out->ip.ip4, msg, sizeof(msg)))) {
		np_err("%s", msg);
		return err == -ENOENT ? -ERANGE : err;
	}
	if (out->ip.has6 &&
	    (err = np_ep_check_addr(&cfg, n->name, AF_INET6, &out->ip.ip6, msg, sizeof(msg)))) {
		np_err("%s", msg);
		return err == -ENOENT ? -ERANGE : err;
	}
	if (o->name && (err = np_ep_check_name(o->name, msg, sizeof(msg)))) {
		np_err("%s", msg);
		return err;
	}
	if (o->nk_mode != NP_NK_MODE_NONE && o->kind != NP_EP_KIND_NETKIT) {
		np_err("--netkit-mode applies to --dev netkit only");
		return -EINVAL;
	}
	err = netns_has_dev(o->netns, NP_EP_POD_DEV);
	if (err < 0)
		return err;
	if (err) {
		np_err("namespace %s already has an interface %s (one endpoint per pod namespace)",
		       o->netns, NP_EP_POD_DEV);
		return -EEXIST;
	}
	err = maps_open(n, &m);
	if (err)
		return err;
	if (out->ip.has4 && (err = addr_free(n, &m, AF_INET, &out->ip.ip4)))
		goto out_maps;
	if (out->ip.has6 && (err = addr_free(n, &m, AF_INET6, &out->ip.ip6)))
		goto out_maps;
	id = id_alloc(m.devs);
	if (!id) {
		np_err("node %s has %d endpoints already (the most it takes)", n->name,
		       NP_EP_MAX - 1);
		err = -ENOSPC;
		goto out_maps;
	}
	if (o->name)
		snprintf(name, sizeof(name), "%s", o->name);
	else
		snprintf(name, sizeof(name), "np%u", id);
	err = ep_path(n, name, NULL, path, sizeof(path));
	if (err)
		goto out_maps;
	if (!stat(path, &st)) {
		np_err("endpoint %s exists on node %s (nodepath%s%s endpoint del --name %s)", name,
		       n->name, n->is_ns ? " --node " : "", n->is_ns ? n->name : "", name);
		err = -EEXIST;
		goto out_maps;
	}
	if (np_nl_link_index(name) > 0) {
		np_err("a device named %s exists already %s; choose another --name", name,
		       np_node_where(n));
		err = -EEXIST;
		goto out_maps;
	}
	err = np_nl_link_get((char *)cfg.uplink_name, &up);
	if (err) {
		np_err("uplink %.16s %s: %s", (char *)cfg.uplink_name, np_node_where(n),
		       strerror(-err));
		goto out_maps;
	}
	progs_open(n, &p);
	if (o->kind == NP_EP_KIND_VETH && p.from < 0) {
		np_err("node %s has no pod program pinned (%s/%s): run `nodepath down` and `up` "
		       "with this nodepath",
		       n->name, n->pin_dir, NP_PIN_PROG_POD_FROM);
		err = -ENOENT;
		goto out_progs;
	}

	/* ---- create ---- */
	snprintf(out->name, sizeof(out->name), "%s", name);
	snprintf(out->netns, sizeof(out->netns), "%s", o->netns);
	out->id = id;
	pl.host = name;
	pl.pod_ns = o->netns;
	pl.mtu = up.mtu;
	pl.ip = out->ip;
	pl.gw.has4 = out->ip.has4;
	pl.gw.has6 = out->ip.has6;
	memcpy(&pl.gw.ip4, cfg.pod_gw4, 4);
	memcpy(&pl.gw.ip6, cfg.pod_gw6, 16);
	pl.l2 = o->nk_mode == NP_NK_MODE_L2;
	out->kind = o->kind;
	/* auto: netkit only when the kernel has it and its programs are pinned. */
	if (o->kind == NP_EP_KIND_AUTO && (p.pri < 0 || p.peer < 0)) {
		out->kind = NP_EP_KIND_VETH;
		if (!o->quiet)
			printf("auto: netkit programs not loaded on node %s, using veth\n",
			       n->name);
	} else if (o->kind == NP_EP_KIND_AUTO) {
		out->kind = NP_EP_KIND_NETKIT;
	}
	pl.kind = out->kind;
	pl.queues = o->queues;
	/* By default a veth queue per uplink rx queue: one per AF_XDP worker. */
	if (!pl.queues && pl.kind == NP_EP_KIND_VETH) {
		int q = np_xsk_dev_queues(cfg.uplink_ifindex);

		if (q > 1)
			pl.queues = (unsigned int)(q < NP_XSK_MAX_QUEUES ? q : NP_XSK_MAX_QUEUES);
	}
	err = np_pod_link_create(&pl, &li);
	if (err == -EOPNOTSUPP && pl.kind == NP_EP_KIND_NETKIT) {
		if (o->kind == NP_EP_KIND_NETKIT) {
			np_err("netkit unsupported: CONFIG_NETKIT not set in kernel %s; use --dev "
			       "veth (or auto)",
			       kernel_release());
			goto out_progs;
		}
		if (!o->quiet)
			printf("auto: netkit unavailable in kernel %s, using veth\n",
			       kernel_release());
		out->kind = pl.kind = NP_EP_KIND_VETH;
		err = p.from < 0 ? -ENOENT : np_pod_link_create(&pl, &li);
		if (err == -ENOENT)
			np_err("node %s has no pod program pinned (%s/%s)", n->name, n->pin_dir,
			       NP_PIN_PROG_POD_FROM);
	} else if (!err && o->kind == NP_EP_KIND_AUTO && !o->quiet) {
		printf("auto: using netkit (%s mode)\n", pl.l2 ? "l2" : "l3");
	}
	if (err)
		goto out_progs;
	out->host_ifindex = li.host_ifindex;
	out->nk_mode = out->kind == NP_EP_KIND_NETKIT ? (pl.l2 ? NP_NK_MODE_L2 : NP_NK_MODE_L3)
						      : NP_NK_MODE_NONE;
	if (out->kind == NP_EP_KIND_NETKIT && (p.pri < 0 || p.peer < 0)) {
		np_err("node %s has no netkit programs pinned (%s/%s): the kernel refused them "
		       "at `up`",
		       n->name, n->pin_dir, NP_PIN_PROG_NK_PRIMARY);
		err = -ENOENT;
		goto err_dev;
	}

	/* ---- register, attach, pin ---- */
	err = ep_install(n, &m, &p, out, li.host_mac, li.pod_mac);
	if (!err) {
		refresh_backends(n, &out->ip);
		goto out_progs;
	}
err_dev:
	np_nl_link_del(name);
out_progs:
	progs_close(&p);
out_maps:
	maps_close(&m);
	return err;
}

/* ---- del ---------------------------------------------------------------- */

struct find_ip {
	const struct np_ep_addrs *ip;
	char name[16];
};

static int find_by_ip_cb(const struct np_node *n, const char *name, void *arg)
{
	struct find_ip *f = arg;
	struct np_ep_info e;

	if (meta_read(n, name, &e))
		return 0;
	if ((f->ip->has4 && e.ip.has4 && !memcmp(&f->ip->ip4, &e.ip.ip4, 4)) ||
	    (f->ip->has6 && e.ip.has6 && !memcmp(&f->ip->ip6, &e.ip.ip6, 16))) {
		snprintf(f->name, sizeof(f->name), "%s", name);
		return 1;
	}
	return 0;
}

int np_ep_del(struct np_node *n, const char *name, const char *ip, struct np_ep_info *out)
{
	struct ep_maps m = { -1, -1, -1 };
	struct np_ep_addrs addrs;
	struct find_ip f = { 0 };
	char path[PATH_MAX], msg[256];
	struct np_ep_dev dev;
	struct stat st;
	bool down;
	__u32 key;
	int err, ret = 0;

	memset(out, 0, sizeof(*out));
	if (name && (err = np_ep_check_name(name, msg, sizeof(msg)))) {
		np_err("%s", msg);
		return err;
	}
	if (!name) {
		err = np_ep_parse_ips(ip, &addrs, msg, sizeof(msg));
		if (err) {
			np_err("%s", msg);
			return err;
		}
		f.ip = &addrs;
		if (n->pin_exists)
			ep_each(n, find_by_ip_cb, &f);
		if (!f.name[0]) {
			np_err("no endpoint with address %s on node %s", ip, n->name);
			return -ENOENT;
		}
		name = f.name;
	}
	if (!n->pin_exists || ep_path(n, name, NULL, path, sizeof(path)) || stat(path, &st)) {
		np_err("no endpoint %s on node %s (see: nodepath%s%s endpoint list)", name, n->name,
		       n->is_ns ? " --node " : "", n->is_ns ? n->name : "");
		return -ENOENT;
	}
	err = meta_read(n, name, out);
	if (err) {
		/* Half-made (an interrupted add): the device still tells the ifindex. */
		np_warn("endpoint %s has no readable metadata; removing what is left", name);
		memset(out, 0, sizeof(*out));
		snprintf(out->name, sizeof(out->name), "%s", name);
		out->host_ifindex = np_nl_link_index(name) > 0 ? np_nl_link_index(name) : 0;
	}
	/* Links first: the programs stop seeing the pod before its entries go. */
	err = ep_dir_remove(n, name);
	if (err)
		return err;
	down = !maps_present(n);
	if (!down && !maps_open(n, &m)) {
		key = (__u32)out->host_ifindex;
		if (out->host_ifindex && !bpf_map_lookup_elem(m.devs, &key, &dev))
			maps_unregister(&m, out->host_ifindex, &dev);
		maps_close(&m);
		refresh_backends(n, &out->ip);
	}
	/* The host side takes its peer, addresses and routes with it. */
	if (np_nl_link_index(name) > 0) {
		err = np_nl_link_del(name);
		if (err)
			ret = err;
	}
	/* Down and no record left: nothing of the node remains pinned. */
	if (down && !ep_path(n, NULL, NULL, path, sizeof(path)) && !rmdir(path))
		rmdir(n->pin_dir);
	return ret;
}

/* ---- list ---------------------------------------------------------------- */

struct list_acc {
	struct ep_maps *m;
	struct np_ep_info *v;
	size_t n, cap;
	int err;
};

static int list_cb(const struct np_node *n, const char *name, void *arg)
{
	struct list_acc *a = arg;
	struct np_ep_info e;
	void *p;

	if (meta_read(n, name, &e))
		return 0; /* half-made: del cleans it */
	if (a->n == a->cap) {
		p = realloc(a->v, (a->cap ? a->cap * 2 : 16) * sizeof(*a->v));
		if (!p) {
			a->err = -ENOMEM;
			return 1;
		}
		a->v = p;
		a->cap = a->cap ? a->cap * 2 : 16;
	}
	if (a->m->stats >= 0)
		stats_sum(a->m->stats, e.id, &e.stats);
	a->v[a->n++] = e;
	return 0;
}

static int by_id(const void *a, const void *b)
{
	const struct np_ep_info *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

int np_ep_list(struct np_node *n, struct np_ep_info **out, size_t *count)
{
	struct ep_maps m = { -1, -1, -1 };
	struct list_acc a = { .m = &m };
	int err;

	*out = NULL;
	*count = 0;
	if (!n->pin_exists)
		return 0;
	/* Down: the records `down` kept, with no counters. */
	if (maps_present(n) && (err = maps_open(n, &m)))
		return err;
	ep_each(n, list_cb, &a);
	maps_close(&m);
	if (a.err) {
		free(a.v);
		return a.err;
	}
	if (a.n)
		qsort(a.v, a.n, sizeof(*a.v), by_id);
	*out = a.v;
	*count = a.n;
	return 0;
}

/* ---- down and up again ------------------------------------------------- */

struct detach_acc {
	int kept;
	int err;
};

static int detach_cb(const struct np_node *n, const char *name, void *arg)
{
	static const char *const links[] = { LINK_FROM, LINK_NK_PRIMARY, LINK_NK_PEER };
	struct detach_acc *a = arg;
	struct np_ep_info e;
	char path[PATH_MAX];
	int err;

	if (meta_read(n, name, &e)) {
		/* Half-made (an interrupted add): nothing to keep. */
		err = ep_dir_remove(n, name);
		if (err)
			a->err = err;
		return 0;
	}
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		if (ep_path(n, name, links[i], path, sizeof(path)))
			return -ENAMETOOLONG;
		err = link_unpin(path);
		if (err)
			a->err = err;
	}
	a->kept++;
	return 0;
}

int np_ep_detach_all(struct np_node *n)
{
	struct detach_acc a = { 0 };
	char path[PATH_MAX];
	int err;

	err = ep_each(n, detach_cb, &a);
	if (err)
		return err;
	if (a.err)
		return a.err;
	/* No record left: the directory goes, so that `down` leaves no pin behind. */
	if (!a.kept && !ep_path(n, NULL, NULL, path, sizeof(path)) && rmdir(path) &&
	    errno != ENOENT) {
		err = -errno;
		np_err("remove %s: %s", path, strerror(-err));
		return err;
	}
	return a.kept;
}

struct records {
	struct np_ep_info *v;
	size_t n, cap;
	int err;
	size_t bad; /* unreadable records */
};

static int records_cb(const struct np_node *n, const char *name, void *arg)
{
	struct records *r = arg;
	struct np_ep_info e;
	void *p;

	if (meta_read(n, name, &e)) {
		r->bad++;
		e.id = 0; /* kept, to be dropped with a warning */
	}
	if (r->n == r->cap) {
		p = realloc(r->v, (r->cap ? r->cap * 2 : 16) * sizeof(*r->v));
		if (!p) {
			r->err = -ENOMEM;
			return 1;
		}
		r->v = p;
		r->cap = r->cap ? r->cap * 2 : 16;
	}
	r->v[r->n++] = e;
	return 0;
}

/* Every record under <pin_dir>/ep, sorted by the id it had. */
static int records_get(const struct np_node *n, struct records *r)
{
	int err;

	memset(r, 0, sizeof(*r));
	err = ep_each(n, records_cb, r);
	if (!err)
		err = r->err;
	if (err) {
		free(r->v);
		r->v = NULL;
		return err;
	}
	if (r->n)
		qsort(r->v, r->n, sizeof(*r->v), by_id);
	return 0;
}

int np_ep_check_records(const struct np_node *n, const struct np_node_cfg *pods)
{
	static const struct np_node_cfg none;
	struct records r;
	char msg[256];
	int err;

	err = records_get(n, &r);
	if (err)
		return err;
	if (!pods)
		pods = &none;
	for (size_t i = 0; !err && i < r.n; i++) {
		const struct np_ep_info *e = &r.v[i];

		/* Unreadable records and those whose device is gone are dropped by `up`. */
		if (!e->id || np_nl_link_index(e->name) <= 0)
			continue;
		if (e->ip.has4)
			err = np_ep_check_addr(pods, n->name, AF_INET, &e->ip.ip4, msg,
					       sizeof(msg));
		if (!err && e->ip.has6)
			err = np_ep_check_addr(pods, n->name, AF_INET6, &e->ip.ip6, msg,
					       sizeof(msg));
		if (err && pods == &none) {
			np_err("node %s keeps endpoint %s (recorded by `down`); `up` needs "
			       "--pod-cidr with a range that contains its addresses (or delete "
			       "it first: nodepath%s%s endpoint del --name %s)",
			       n->name, e->name, n->is_ns ? " --node " : "",
			       n->is_ns ? n->name : "", e->name);
			err = -ERANGE;
		} else if (err) {
			np_err("node %s keeps endpoint %s (recorded by `down`), but %s; `up "
			       "--pod-cidr` must contain the recorded endpoints' addresses (or "
			       "delete it first: nodepath%s%s endpoint del --name %s)",
			       n->name, e->name, msg, n->is_ns ? " --node " : "",
			       n->is_ns ? n->name : "", e->name);
			err = -ERANGE;
		}
	}
	free(r.v);
	return err;
}

/* Re-register, re-attach and re-pin one recorded endpoint. */
static int readopt_one(struct np_node *n, struct ep_maps *m, const struct ep_progs *p,
		       struct np_ep_info *e)
{
	unsigned char pod_mac[6] = { 0 };
	bool l2 = e->kind == NP_EP_KIND_VETH || e->nk_mode == NP_NK_MODE_L2;
	struct np_nl_link li;
	int err;

	if (!e->id) {
		np_warn("endpoint %s on node %s has no readable record; dropping it", e->name,
			n->name);
		return -EBADMSG;
	}
	if (np_nl_link_get(e->name, &li)) {
		np_warn("endpoint %s on node %s: its device %s is gone %s; dropping its record",
			e->name, n->name, e->name, np_node_where(n));
		return -ENODEV;
	}
	if (l2) {
		err = netns_dev_mac(e->netns, NP_EP_POD_DEV, pod_mac);
		if (err) {
			np_warn("endpoint %s on node %s: cannot read %s in netns %s (%s); dropping "
				"its record (device %s stays)",
				e->name, n->name, NP_EP_POD_DEV, e->netns, strerror(-err), e->name);
			return err;
		}
	}
	if ((e->kind == NP_EP_KIND_VETH && p->from < 0) ||
	    (e->kind == NP_EP_KIND_NETKIT && (p->pri < 0 || p->peer < 0))) {
		np_warn("endpoint %s on node %s: no %s programs pinned; dropping its record "
			"(device %s stays)",
			e->name, n->name, np_ep_kind_name(e->kind), e->name);
		return -ENOENT;
	}
	e->id = id_alloc(m->devs);
	if (!e->id) {
		np_warn("endpoint %s on node %s: no free endpoint id; dropping its record", e->name,
			n->name);
		return -ENOSPC;
	}
	e->host_ifindex = li.ifindex;
	err = ep_install(n, m, p, e, li.mac, pod_mac);
	if (err)
		np_warn("endpoint %s on node %s: re-adopting failed (%s); dropping its record "
			"(device %s stays)",
			e->name, n->name, strerror(-err), e->name);
	return err;
}

int np_ep_readopt_all(struct np_node *n)
{
	struct ep_progs p = { -1, -1, -1 };
	struct ep_maps m = { -1, -1, -1 };
	char path[PATH_MAX];
	struct records r;
	int err, count = 0;

	err = records_get(n, &r);
	if (err)
		return err;
	if (!r.n)
		return 0;
	err = maps_open(n, &m);
	if (err)
		goto out;
	progs_open(n, &p);
	for (size_t i = 0; i < r.n; i++) {
		if (!readopt_one(n, &m, &p, &r.v[i])) {
			count++;
			continue;
		}
		ep_dir_remove(n, r.v[i].name);
	}
	progs_close(&p);
	maps_close(&m);
	if (!count && !ep_path(n, NULL, NULL, path, sizeof(path)))
		rmdir(path);
	err = count;
out:
	free(r.v);
	return err;
}

static int count_cb(const struct np_node *n, const char *name, void *arg)
{
	(*(int *)arg)++;
	return 0;
}

int np_ep_count(const struct np_node *n)
{
	int count = 0;

	ep_each(n, count_cb, &count);
	return count;
}
