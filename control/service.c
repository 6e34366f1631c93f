// SPDX-License-Identifier: GPL-2.0
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <json-c/json.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>

#include "log.h"
#include "maglev.h"
#include "record.h"
#include "service.h"
#include "stats.h"

#define META "meta"
#define BE_PREFIX "b" /* <pin_dir>/svc/<name>/b<id> */

static void seterr(char *err, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void seterr(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!err || !len)
		return;
	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
}

/* ---- pure parsing ------------------------------------------------------ */

int np_svc_check_name(const char *s, char *err, size_t errlen)
{
	size_t len = strlen(s);

	if (!len || len > NP_SVC_NAME_MAX) {
		seterr(err, errlen, "service name \"%s\" must be 1..%d characters", s,
		       NP_SVC_NAME_MAX);
		return -EINVAL;
	}
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');

		if (!alnum && c != '.' && c != '-') {
			seterr(err, errlen,
			       "service name \"%s\": character '%c' not allowed (allowed: a-z, "
			       "0-9, '.', '-')",
			       s, c);
			return -EINVAL;
		}
		if (!alnum && (i == 0 || i == len - 1)) {
			seterr(err, errlen,
			       "service name \"%s\" must start and end with a letter or digit", s);
			return -EINVAL;
		}
	}
	return 0;
}

/*
 * "ADDR:PORT" with IPv6 in brackets. The address goes through
 * np_parse_cidr() as a host prefix, so it is inet_pton-strict exactly like
 * every other address the CLI takes. what names the input in messages.
 */
static int parse_hostport(const char *what, const char *s, struct np_svc_addr *out, char *err,
			  size_t errlen)
{
	char host[64], cidr[80], e2[256];
	const char *port, *colon;
	struct np_cidr c;
	bool v6 = s[0] == '[';
	__u32 p;
	size_t hl;

	memset(out, 0, sizeof(*out));
	if (v6) {
		const char *rb = strchr(s, ']');

		if (!rb) {
			seterr(err, errlen, "%s \"%s\": missing ']' after the IPv6 address", what,
			       s);
			return -EINVAL;
		}
		hl = (size_t)(rb - s - 1);
		if (rb[1] != ':') {
			seterr(err, errlen, "%s \"%s\": expected \":PORT\" after ']'", what, s);
			return -EINVAL;
		}
		port = rb + 2;
		if (hl >= sizeof(host)) {
			seterr(err, errlen, "%s \"%s\": address too long", what, s);
			return -EINVAL;
		}
		memcpy(host, s + 1, hl);
	} else {
		colon = strchr(s, ':');
		if (!colon) {
			seterr(err, errlen,
			       "%s \"%s\" is not ADDR:PORT (IPv6: [ADDR]:PORT, e.g. "
			       "[fd00:18:100::10]:80)",
			       what, s);
			return -EINVAL;
		}
		if (strchr(colon + 1, ':')) {
			seterr(err, errlen,
			       "%s \"%s\": an IPv6 address must be written in brackets: "
			       "[ADDR]:PORT",
			       what, s);
			return -EINVAL;
		}
		hl = (size_t)(colon - s);
		if (hl >= sizeof(host)) {
			seterr(err, errlen, "%s \"%s\": address too long", what, s);
			return -EINVAL;
		}
		memcpy(host, s, hl);
		port = colon + 1;
	}
	host[hl] = '\0';
	if (!hl) {
		seterr(err, errlen, "%s \"%s\": empty address", what, s);
		return -EINVAL;
	}
	snprintf(cidr, sizeof(cidr), "%s/%d", host, v6 ? 128 : 32);
	if (np_parse_cidr(cidr, &c, e2, sizeof(e2)) || (c.family == AF_INET6) != v6) {
		seterr(err, errlen, "%s \"%s\": \"%s\" is not an %s address", what, s, host,
		       v6 ? "IPv6" : "IPv4");
		return -EINVAL;
	}
	if (!*port) {
		seterr(err, errlen, "%s \"%s\": empty port (allowed: 1..65535)", what, s);
		return -EINVAL;
	}
	if (np_parse_u32("port", port, 1, 65535, &p, e2, sizeof(e2))) {
		seterr(err, errlen, "%s \"%s\": port \"%s\" is not a number in 1..65535", what, s,
		       port);
		return -EINVAL;
	}
	out->family = v6 ? NP_AF_INET6 : NP_AF_INET;
	memcpy(out->addr, c.addr, v6 ? 16 : 4);
	out->port = (__u16)p;
	return 0;
}

int np_svc_parse_vip(const char *s, struct np_svc_addr *out, __u8 *proto, char *err, size_t errlen)
{
	const char *slash = strrchr(s, '/');
	char hp[80];
	size_t len;

	if (!slash) {
		seterr(err, errlen, "--vip \"%s\" needs a protocol: ADDR:PORT/tcp or ADDR:PORT/udp",
		       s);
		return -EINVAL;
	}
	if (!strcmp(slash + 1, "tcp")) {
		*proto = IPPROTO_TCP;
	} else if (!strcmp(slash + 1, "udp")) {
		*proto = IPPROTO_UDP;
	} else {
		seterr(err, errlen, "--vip \"%s\": protocol \"%s\" (allowed: tcp, udp)", s,
		       slash + 1);
		return -EINVAL;
	}
	len = (size_t)(slash - s);
	if (len >= sizeof(hp)) {
		seterr(err, errlen, "--vip \"%s\": too long", s);
		return -EINVAL;
	}
	memcpy(hp, s, len);
	hp[len] = '\0';
	return parse_hostport("--vip", hp, out, err, errlen);
}

int np_svc_parse_backend(const char *s, struct np_svc_backend *out, char *err, size_t errlen)
{
	const char *comma = strchr(s, ',');
	char hp[80], e2[256];
	size_t len = comma ? (size_t)(comma - s) : strlen(s);
	int ret;

	memset(out, 0, sizeof(*out));
	out->weight = 1;
	out->state = NP_BE_ACTIVE;
	if (len >= sizeof(hp)) {
		seterr(err, errlen, "backend \"%s\": too long", s);
		return -EINVAL;
	}
	memcpy(hp, s, len);
	hp[len] = '\0';
	ret = parse_hostport("backend", hp, &out->a, err, errlen);
	if (ret)
		return ret;
	if (!comma)
		return 0;
	if (strncmp(comma + 1, "weight=", 7)) {
		seterr(err, errlen, "backend \"%s\": unknown option \"%s\" (allowed: weight=W)", s,
		       comma + 1);
		return -EINVAL;
	}
	if (np_parse_u32("weight", comma + 8, 1, NP_WEIGHT_MAX, &out->weight, e2, sizeof(e2))) {
		seterr(err, errlen,
		       "backend \"%s\": weight \"%s\" is not a number in 1..%u (a backend that "
		       "should take no new flows: --state terminating or maintenance)",
		       s, comma + 8, NP_WEIGHT_MAX);
		return -EINVAL;
	}
	return 0;
}

static int pick(const char *what, const char *s, const char *const *names, size_t n, __u8 *out,
		char *err, size_t errlen)
{
	char allowed[128] = "";

	for (size_t i = 0; i < n; i++) {
		if (!strcmp(s, names[i])) {
			*out = (__u8)i;
			return 0;
		}
		snprintf(allowed + strlen(allowed), sizeof(allowed) - strlen(allowed), "%s%s",
			 i ? ", " : "", names[i]);
	}
	seterr(err, errlen, "%s \"%s\" (allowed: %s)", what, s, allowed);
	return -EINVAL;
}

static const char *const type_names[] = { "clusterip", "nodeport", "loadbalancer", "externalip" };
static const char *const algo_names[] = { "maglev", "random" };
static const char *const mode_names[] = { "snat", "dsr" };
static const char *const state_names[] = { "active", "terminating", "quarantined", "maintenance" };
#define NAMES(a) a, sizeof(a) / sizeof(a[0])

int np_svc_parse_type(const char *s, __u8 *out, char *err, size_t errlen)
{
	return pick("--type", s, NAMES(type_names), out, err, errlen);
}

int np_svc_parse_algo(const char *s, __u8 *out, char *err, size_t errlen)
{
	return pick("--algo", s, NAMES(algo_names), out, err, errlen);
}

int np_svc_parse_mode(const char *s, __u8 *out, char *err, size_t errlen)
{
	return pick("--mode", s, NAMES(mode_names), out, err, errlen);
}

int np_svc_parse_state(const char *s, __u8 *out, char *err, size_t errlen)
{
	return pick("--state", s, NAMES(state_names), out, err, errlen);
}

int np_svc_parse_etp(const char *s, bool *local, char *err, size_t errlen)
{
	static const char *const etp[] = { "cluster", "local" };
	__u8 v;
	int ret = pick("--etp", s, NAMES(etp), &v, err, errlen);

	if (!ret)
		*local = v == 1;
	return ret;
}

const char *np_svc_type_name(unsigned int t)
{
	return t < 4 ? type_names[t] : "unknown";
}

const char *np_svc_algo_name(unsigned int a)
{
	return a < 2 ? algo_names[a] : "unknown";
}

const char *np_be_state_name(unsigned int s)
{
	return s < 4 ? state_names[s] : "unknown";
}

void np_svc_addr_str(const struct np_svc_addr *a, __u8 proto, char *buf, size_t len)
{
	char txt[INET6_ADDRSTRLEN];
	const char *p = proto == IPPROTO_TCP ? "/tcp" : proto == IPPROTO_UDP ? "/udp" : "";

	inet_ntop(a->family == NP_AF_INET6 ? AF_INET6 : AF_INET, a->addr, txt, sizeof(txt));
	if (a->family == NP_AF_INET6)
		snprintf(buf, len, "[%s]:%u%s", txt, a->port, p);
	else
		snprintf(buf, len, "%s:%u%s", txt, a->port, p);
}

bool np_svc_addr_eq(const struct np_svc_addr *a, const struct np_svc_addr *b)
{
	return a->family == b->family && a->port == b->port &&
	       !memcmp(a->addr, b->addr, a->family == NP_AF_INET6 ? 16 : 4);
}

static bool addr_zero(const struct np_svc_addr *a)
{
	static const __u8 zero[16];

	return !memcmp(a->addr, zero, 16);
}

static const char *fam_name(int f)
{
	return f == NP_AF_INET6 ? "IPv6" : "IPv4";
}

/*
 * --mode dsr: remote backends get the client's packet unchanged inside an
 * IPIP (IPv4) or IP6IP6 (IPv6) header; the backend's node decapsulates it
 * and only replaces the VIP by its local backend's address, so a backend
 * must listen on the service port (no port translation). Local backends are
 * DNATed as in SNAT mode. Only for traffic from outside (loadbalancer,
 * externalip, nodeport): a clusterip's clients are pods, whose egress
 * program only DNATs.
 */
static int check_dsr(const struct np_svc_spec *s, char *err, size_t errlen)
{
	char b[NP_SVC_ADDRSTRLEN];

	if (s->type == NP_SVC_T_CLUSTERIP) {
		seterr(err, errlen,
		       "--mode dsr applies to loadbalancer, externalip and nodeport services, "
		       "not clusterip");
		return -EINVAL;
	}
	for (size_t i = 0; i < s->n_be; i++) {
		if (s->be[i].a.port == s->vip.port)
			continue;
		np_svc_addr_str(&s->be[i].a, 0, b, sizeof(b));
		seterr(err, errlen,
		       "--mode dsr: backend %s must listen on the service port %u (DSR does not "
		       "translate ports)",
		       b, s->vip.port);
		return -EINVAL;
	}
	return 0;
}

int np_svc_check_spec(struct np_svc_spec *s, __u32 maglev_size, char *err, size_t errlen)
{
	char a[NP_SVC_ADDRSTRLEN], b[NP_SVC_ADDRSTRLEN], c[NP_CIDR_STRLEN];
	int ret;

	np_svc_addr_str(&s->vip, s->proto, a, sizeof(a));
	if (s->mode == NP_SVC_MODE_DSR) {
		ret = check_dsr(s, err, errlen);
		if (ret)
			return ret;
	}
	if (s->type == NP_SVC_T_NODEPORT) {
		if (!addr_zero(&s->vip)) {
			seterr(err, errlen,
			       "--type nodeport answers on every node address: --vip must be "
			       "0.0.0.0:PORT/%s or [::]:PORT/%s, not %s",
			       s->proto == IPPROTO_UDP ? "udp" : "tcp",
			       s->proto == IPPROTO_UDP ? "udp" : "tcp", a);
			return -EINVAL;
		}
		s->scope = NP_SVC_SCOPE_NODEPORT;
	} else {
		if (addr_zero(&s->vip)) {
			seterr(err, errlen,
			       "--vip %s: the unspecified address is only for --type nodeport; "
			       "--type %s needs a concrete VIP",
			       a, np_svc_type_name(s->type));
			return -EINVAL;
		}
		s->scope = NP_SVC_SCOPE_VIP;
	}
	if (s->etp_given && s->type == NP_SVC_T_CLUSTERIP) {
		seterr(err, errlen,
		       "--etp applies to nodeport, loadbalancer and externalip services, not "
		       "clusterip");
		return -EINVAL;
	}
	if (s->affinity_s > NP_SVC_AFFINITY_MAX) {
		seterr(err, errlen, "--affinity %u: allowed 1..%u seconds", s->affinity_s,
		       NP_SVC_AFFINITY_MAX);
		return -EINVAL;
	}
	if (s->n_be > maglev_size || s->n_be >= NP_BACKEND_MAX) {
		seterr(err, errlen,
		       "%zu backends: a service holds at most %u (the node's Maglev table size, "
		       "`up --maglev-size`)",
		       s->n_be,
		       maglev_size < NP_BACKEND_MAX - 1 ? maglev_size : NP_BACKEND_MAX - 1);
		return -E2BIG;
	}
	for (size_t i = 0; i < s->n_be; i++) {
		const struct np_svc_backend *e = &s->be[i];

		np_svc_addr_str(&e->a, 0, b, sizeof(b));
		if (e->a.family != s->vip.family) {
			seterr(err, errlen,
			       "backend %s is %s but the VIP %s is %s: one service, one family", b,
			       fam_name(e->a.family), a, fam_name(s->vip.family));
			return -EINVAL;
		}
		if (addr_zero(&e->a)) {
			seterr(err, errlen, "backend %s: the unspecified address is no backend", b);
			return -EINVAL;
		}
		if (!e->weight || e->weight > NP_WEIGHT_MAX) {
			seterr(err, errlen, "backend %s: weight %u (allowed: 1..%u)", b, e->weight,
			       NP_WEIGHT_MAX);
			return -EINVAL;
		}
		for (size_t j = 0; j < i; j++) {
			if (np_svc_addr_eq(&s->be[j].a, &e->a)) {
				seterr(err, errlen, "backend %s is listed twice", b);
				return -EINVAL;
			}
		}
	}
	if (s->n_src > NP_SVC_SRC_RANGES_MAX) {
		seterr(err, errlen, "%zu --source-range: at most %d", s->n_src,
		       NP_SVC_SRC_RANGES_MAX);
		return -E2BIG;
	}
	for (size_t i = 0; i < s->n_src; i++) {
		np_format_cidr(&s->src[i], c, sizeof(c));
		if ((s->src[i].family == AF_INET6) != (s->vip.family == NP_AF_INET6)) {
			seterr(err, errlen,
			       "--source-range %s is %s but the VIP %s is %s: one service, one "
			       "family",
			       c, s->src[i].family == AF_INET6 ? "IPv6" : "IPv4", a,
			       fam_name(s->vip.family));
			return -EINVAL;
		}
		for (size_t j = 0; j < i; j++) {
			if (!np_cidr_cmp(&s->src[i], &s->src[j])) {
				seterr(err, errlen, "--source-range %s is given twice", c);
				return -EINVAL;
			}
		}
	}
	return 0;
}

void np_svc_spec_free(struct np_svc_spec *s)
{
	free(s->be);
	s->be = NULL;
	s->n_be = 0;
}

int np_svc_parse_maglev_size(const char *s, __u32 *out, char *err, size_t errlen)
{
	int ret = np_parse_u32("--maglev-size", s, NP_MAGLEV_MIN, NP_MAGLEV_MAX, out, err, errlen);

	if (ret)
		return ret;
	if (!np_is_prime(*out)) {
		seterr(err, errlen,
		       "--maglev-size %u is not a prime (Maglev needs a prime table size; e.g. "
		       "251, 1021, 4093, 16381, 65521, 131071)",
		       *out);
		return -EINVAL;
	}
	return 0;
}

int np_svc_parse_ct_size(const char *s, __u32 *out, char *err, size_t errlen)
{
	return np_parse_u32("--ct-size", s, NP_CT_MIN, NP_CT_MAX, out, err, errlen);
}

/* ---- `up`: sizes and the node's addresses ----------------------------- */

static __u32 want_maglev, want_ct;

void np_svc_set_sizes(__u32 maglev_size, __u32 ct_size)
{
	want_maglev = maglev_size;
	want_ct = ct_size;
}

static int pinned_max_entries(const char *path, __u32 *out)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	int fd, err = 0;

	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	memset(&info, 0, sizeof(info));
	if (bpf_map_get_info_by_fd(fd, &info, &len))
		err = -errno;
	else
		*out = info.max_entries;
	close(fd);
	return err;
}

int np_svc_obj_prepare(struct bpf_object *obj)
{
	struct bpf_map *m;
	const char *path;
	__u32 size;
	int err;

	m = bpf_object__find_map_by_name(obj, NP_MAP_CT);
	if (m) {
		size = want_ct ? want_ct : NP_CT_DEFAULT;
		path = bpf_map__pin_path(m);
		if (path)
			pinned_max_entries(path, &size); /* reused as pinned */
		err = bpf_map__set_max_entries(m, size);
		if (err) {
			np_err("size map %s of %s to %u: %s", NP_MAP_CT, bpf_object__name(obj),
			       size, strerror(-err));
			return err;
		}
	}
	/*
	 * The np_maglev inner template carries BPF_F_INNER_MAP: inner arrays of
	 * any size fit, so `up --maglev-size` needs no resize here (libbpf 1.4.6
	 * crashes in bpf_map__set_max_entries() on an inner map: it has no
	 * object). The size lives in np_node.maglev_size.
	 */
	return 0;
}

struct addr_dump {
	int ifindex;
	int fd; /* np_node_addr */
	struct np_node_cfg *cfg;
	bool have4, have6;
	int count, err;
};

static int addr_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(attr);

	if (mnl_attr_type_valid(attr, IFA_MAX) < 0)
		return MNL_CB_OK;
	tb[type] = attr;
	return MNL_CB_OK;
}

static int addr_cb(const struct nlmsghdr *nlh, void *data)
{
	struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[IFA_MAX + 1] = { 0 };
	struct addr_dump *d = data;
	const struct nlattr *a;
	struct np_ep_key key;
	__u32 val;

	if ((int)ifa->ifa_index != d->ifindex || ifa->ifa_scope != RT_SCOPE_UNIVERSE)
		return MNL_CB_OK;
	if (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6)
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(*ifa), addr_attr_cb, tb);
	a = ifa->ifa_family == AF_INET && tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	if (!a || mnl_attr_get_payload_len(a) != (ifa->ifa_family == AF_INET ? 4U : 16U))
		return MNL_CB_OK;
	memset(&key, 0, sizeof(key));
	key.family = ifa->ifa_family == AF_INET ? NP_AF_INET : NP_AF_INET6;
	memcpy(key.addr, mnl_attr_get_payload(a), mnl_attr_get_payload_len(a));
	val = (__u32)d->ifindex;
	if (bpf_map_update_elem(d->fd, &key, &val, BPF_ANY)) {
		d->err = -errno;
		return MNL_CB_ERROR;
	}
	d->count++;
	if (key.family == NP_AF_INET && !d->have4) {
		memcpy(d->cfg->node_addr4, key.addr, 4);
		d->have4 = true;
	} else if (key.family == NP_AF_INET6 && !d->have6) {
		memcpy(d->cfg->node_addr6, key.addr, 16);
		d->have6 = true;
	}
	return MNL_CB_OK;
}

/* Dump the addresses (RTM_GETADDR) of the current netns into d. */
static int addr_dump(struct addr_dump *d)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	struct rtgenmsg *rt;
	unsigned int seq = (unsigned int)time(NULL), portid;
	ssize_t len;
	int ret;

	nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		goto out;
	}
	portid = mnl_socket_get_portid(nl);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETADDR;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	rt = mnl_nlmsg_put_extra_header(nlh, sizeof(*rt));
	rt->rtgen_family = AF_UNSPEC;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		ret = -errno;
		goto out;
	}
	for (;;) {
		len = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (len < 0) {
			ret = -errno;
			goto out;
		}
		ret = mnl_cb_run(buf, (size_t)len, seq, portid, addr_cb, d);
		if (ret <= MNL_CB_STOP)
			break;
	}
	ret = ret < 0 ? (d->err ? d->err : -errno) : 0;
out:
	mnl_socket_close(nl);
	return ret;
}

/*
 * A service's record directory is named after the service with every '.'
 * written as '_': bpffs refuses names with a dot (reserved), and '_' is no
 * character of a service name, so the two map one to one.
 */
static void name_to_dir(const char *name, char *buf, size_t len)
{
	size_t i;

	for (i = 0; name[i] && i + 1 < len; i++)
		buf[i] = name[i] == '.' ? '_' : name[i];
	buf[i] = '\0';
}

static void dir_to_name(char *s)
{
	for (; *s; s++)
		if (*s == '_')
			*s = '.';
}

/*
 * <pin_dir>/<sub>[/<name>[/<file>]]; sub is NP_SVC_DIR (the live services) or
 * NP_SVC_PENDING_DIR (records `up` has not restored).
 */
static int svc_path(const struct np_node *n, const char *sub, const char *name, const char *file,
		    char *buf, size_t len)
{
	char d[NP_SVC_NAME_MAX + 1];
	int r;

	if (name)
		name_to_dir(name, d, sizeof(d));
	if (!name)
		r = snprintf(buf, len, "%s/%s", n->pin_dir, sub);
	else if (!file)
		r = snprintf(buf, len, "%s/%s/%s", n->pin_dir, sub, d);
	else
		r = snprintf(buf, len, "%s/%s/%s/%s", n->pin_dir, sub, d, file);
	return r < 0 || (size_t)r >= len ? -ENAMETOOLONG : 0;
}

static int svc_dir(const struct np_node *n, const char *name, const char *file, char *buf,
		   size_t len)
{
	return svc_path(n, NP_SVC_DIR, name, file, buf, len);
}

/* Remove <pin_dir>/<sub>/<name>/ and what is in it (symlinks only). */
static void record_remove_in(const struct np_node *n, const char *sub, const char *name)
{
	char dir[PATH_MAX], f[PATH_MAX];
	struct dirent *de;
	DIR *d;

	if (svc_path(n, sub, name, NULL, dir, sizeof(dir)))
		return;
	d = opendir(dir);
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (snprintf(f, sizeof(f), "%s/%s", dir, de->d_name) < (int)sizeof(f))
			unlink(f);
	}
	if (d)
		closedir(d);
	if (rmdir(dir) && errno != ENOENT)
		np_warn("remove service record %s: %s", dir, strerror(errno));
}

static void record_remove(const struct np_node *n, const char *name)
{
	record_remove_in(n, NP_SVC_DIR, name);
}

/* Remove every record under <pin_dir>/<sub>; the number removed. */
static int forget_in(const struct np_node *n, const char *sub)
{
	char dir[PATH_MAX];
	struct dirent *de;
	int k = 0;
	DIR *d;

	if (svc_path(n, sub, NULL, NULL, dir, sizeof(dir)))
		return 0;
	d = opendir(dir);
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		record_remove_in(n, sub, de->d_name);
		k++;
	}
	closedir(d);
	rmdir(dir);
	return k;
}

int np_svc_forget_all(struct np_node *n)
{
	return forget_in(n, NP_SVC_DIR) + forget_in(n, NP_SVC_PENDING_DIR);
}

int np_svc_count(const struct np_node *n, bool pending)
{
	char dir[PATH_MAX];
	struct dirent *de;
	int k = 0;
	DIR *d;

	if (svc_path(n, pending ? NP_SVC_PENDING_DIR : NP_SVC_DIR, NULL, NULL, dir, sizeof(dir)))
		return 0;
	d = opendir(dir);
	if (!d)
		return 0;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' && de->d_type == DT_DIR)
			k++;
	closedir(d);
	return k;
}

int np_svc_down(struct np_node *n, bool purge)
{
	char dir[PATH_MAX];
	int k;

	if (purge)
		return np_svc_forget_all(n);
	k = np_svc_count(n, false) + np_svc_count(n, true);
	/* empty record directories would keep the pin directory alive */
	if (!svc_path(n, NP_SVC_DIR, NULL, NULL, dir, sizeof(dir)))
		rmdir(dir);
	if (!svc_path(n, NP_SVC_PENDING_DIR, NULL, NULL, dir, sizeof(dir)))
		rmdir(dir);
	return k;
}
int np_svc_node_init(struct np_node *n)
{
	struct np_node_cfg cfg;
	struct addr_dump d;
	char path[PATH_MAX];
	int err;

	err = np_node_cfg_read(n, &cfg);
	if (err) {
		np_err("read %s of node %s: %s", NP_MAP_NODE, n->name, strerror(-err));
		return err;
	}
	cfg.maglev_size = want_maglev ? want_maglev : NP_MAGLEV_DEFAULT;
	cfg.ct_size = want_ct ? want_ct : NP_CT_DEFAULT;
	if (!np_node_path(n, NP_MAP_CT, path, sizeof(path)))
		pinned_max_entries(path, &cfg.ct_size);
	memset(&d, 0, sizeof(d));
	d.ifindex = (int)cfg.uplink_ifindex;
	d.cfg = &cfg;
	d.fd = np_node_map_open(n, NP_MAP_NODE_ADDR);
	if (d.fd < 0) {
		err = d.fd;
		np_err("open %s/%s: %s", n->pin_dir, NP_MAP_NODE_ADDR, strerror(-err));
		return err;
	}
	err = addr_dump(&d);
	close(d.fd);
	if (err) {
		np_err("read the addresses of %.16s into %s: %s", (char *)cfg.uplink_name,
		       NP_MAP_NODE_ADDR, strerror(-err));
		return err;
	}
	if (!d.count)
		np_warn("uplink %.16s has no global address: NodePort services and SNAT to "
			"remote backends will not work",
			(char *)cfg.uplink_name);
	err = np_node_cfg_write(n, &cfg);
	if (err)
		np_err("write %s of node %s: %s", NP_MAP_NODE, n->name, strerror(-err));
	return err;
}

/* ---- maps ----------------------------------------------------------------- */

struct svc_maps {
	int svc, maglev, be, src, stats; /* required */
	int ep, ct, aff;		 /* optional (-1) */
	__u32 msize;			 /* the node's Maglev table size */
};

static void maps_close(struct svc_maps *m)
{
	int *fds[] = { &m->svc, &m->maglev, &m->be, &m->src, &m->stats, &m->ep, &m->ct, &m->aff };

	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

static int maps_open(struct np_node *n, struct svc_maps *m)
{
	const char *req[] = { NP_MAP_SVC, NP_MAP_MAGLEV, NP_MAP_BACKENDS, NP_MAP_SRC_RANGE,
			      NP_MAP_SVC_STATS };
	int *rfd[] = { &m->svc, &m->maglev, &m->be, &m->src, &m->stats };
	struct np_node_cfg cfg;
	int err;

	m->svc = m->maglev = m->be = m->src = m->stats = m->ep = m->ct = m->aff = -1;
	for (size_t i = 0; i < sizeof(req) / sizeof(req[0]); i++) {
		*rfd[i] = n->pin_exists ? np_node_map_open(n, req[i]) : -ENOENT;
		if (*rfd[i] == -ENOENT) {
			np_err("node %s is not up: no %s in %s (run: nodepath%s%s up --dev IF)",
			       n->name, req[i], n->pin_dir, n->is_ns ? " --node " : "",
			       n->is_ns ? n->name : "");
			err = -ENOTCONN;
			goto fail;
		}
		if (*rfd[i] < 0) {
			err = *rfd[i];
			np_err("open %s/%s: %s", n->pin_dir, req[i], strerror(-err));
			goto fail;
		}
	}
	m->ep = np_node_map_open(n, NP_MAP_EP);
	m->ct = np_node_map_open(n, NP_MAP_CT);
	m->aff = np_node_map_open(n, NP_MAP_AFFINITY);
	err = np_node_cfg_read(n, &cfg);
	if (err) {
		np_err("read %s of node %s: %s", NP_MAP_NODE, n->name, strerror(-err));
		goto fail;
	}
	m->msize = cfg.maglev_size ? cfg.maglev_size : NP_MAGLEV_DEFAULT;
	return 0;
fail:
	maps_close(m);
	return err;
}

static void svc_key(const struct np_svc_spec *s, struct np_svc_key *k)
{
	memset(k, 0, sizeof(*k));
	k->family = s->vip.family;
	k->proto = s->proto;
	k->port = htons(s->vip.port);
	k->scope = s->scope;
	if (s->scope == NP_SVC_SCOPE_VIP)
		memcpy(k->addr, s->vip.addr, 16);
}

/*
 * The VIP marker of an address: {family, proto 0, port 0, scope VIP, addr}
 * with a zeroed value. lb.h drops a non-first fragment (no ports to look up)
 * whose destination has one (NP_DROP_LB_FRAG). It exists while at least one
 * service is served on the address; NodePort services have none.
 */
static void marker_key(const struct np_svc_spec *s, struct np_svc_key *k)
{
	memset(k, 0, sizeof(*k));
	k->family = s->vip.family;
	k->scope = NP_SVC_SCOPE_VIP;
	memcpy(k->addr, s->vip.addr, 16);
}

static bool is_marker(const struct np_svc_key *k)
{
	return k->scope == NP_SVC_SCOPE_VIP && !k->proto && !k->port;
}

/* Write the marker of a VIP service's address (idempotent). */
static int marker_add(const struct svc_maps *m, const struct np_svc_spec *s)
{
	struct np_svc_key k;
	struct np_svc zero;
	int err;

	if (s->scope != NP_SVC_SCOPE_VIP)
		return 0;
	marker_key(s, &k);
	memset(&zero, 0, sizeof(zero));
	if (!bpf_map_update_elem(m->svc, &k, &zero, BPF_ANY))
		return 0;
	err = -errno;
	np_err("write the VIP marker of service %s into %s: %s", s->name, NP_MAP_SVC,
	       strerror(-err));
	return err;
}

/* Delete the marker of s's address unless another service still uses it. */
static void marker_put(const struct svc_maps *m, const struct np_svc_spec *s)
{
	struct np_svc_key mk, k, next;
	void *prev = NULL;

	if (s->scope != NP_SVC_SCOPE_VIP)
		return;
	marker_key(s, &mk);
	while (!bpf_map_get_next_key(m->svc, prev, &next)) {
		k = next;
		prev = &k;
		if (is_marker(&k) || k.scope != NP_SVC_SCOPE_VIP || k.family != mk.family ||
		    memcmp(k.addr, mk.addr, sizeof(k.addr)))
			continue;
		return; /* the address is still served */
	}
	if (bpf_map_delete_elem(m->svc, &mk) && errno != ENOENT)
		np_warn("delete the VIP marker of service %s from %s: %s", s->name, NP_MAP_SVC,
			strerror(errno));
}

static void be_value(const struct np_svc_backend *b, struct np_backend *v)
{
	memset(v, 0, sizeof(*v));
	v->family = b->a.family;
	v->state = b->state;
	v->port = htons(b->a.port);
	v->flags = b->flags;
	memcpy(v->addr, b->a.addr, 16);
}

static void srcr_key(__u32 svc_id, const struct np_cidr *c, struct np_srcr_key *k)
{
	memset(k, 0, sizeof(*k));
	k->prefixlen = 32 + c->prefixlen;
	k->svc_id = htonl(svc_id);
	memcpy(k->addr, c->addr, np_cidr_addr_len(c));
}

static bool is_local(const struct svc_maps *m, const struct np_svc_addr *a)
{
	struct np_endpoint ep;
	struct np_ep_key k;

	if (m->ep < 0)
		return false;
	memset(&k, 0, sizeof(k));
	k.family = a->family;
	memcpy(k.addr, a->addr, 16);
	return !bpf_map_lookup_elem(m->ep, &k, &ep);
}

/*
 * np_backends is an array indexed by id: a free id is a zeroed entry
 * (family 0), so "absent" is read from the value, and a delete writes zero.
 */
static int be_get(int fd, __u32 id, struct np_backend *v)
{
	if (bpf_map_lookup_elem(fd, &id, v))
		return -errno;
	return v->family ? 0 : -ENOENT;
}

static int be_clear(int fd, __u32 id)
{
	struct np_backend z;

	memset(&z, 0, sizeof(z));
	return bpf_map_update_elem(fd, &id, &z, BPF_EXIST) ? -errno : 0;
}

#define BE_CHUNK 4096

/*
 * Call fn(id, entry, arg) for every used entry of np_backends (fd), read
 * in batches; stops at the first non-zero return of fn and returns it.
 */
static int be_each(int fd, int (*fn)(__u32 id, const struct np_backend *v, void *arg), void *arg)
{
	struct np_backend *vals;
	__u32 *keys, batch, cnt;
	bool first = true;
	int ret = 0;

	keys = calloc(BE_CHUNK, sizeof(*keys));
	vals = calloc(BE_CHUNK, sizeof(*vals));
	if (!keys || !vals) {
		ret = -ENOMEM;
		goto out;
	}
	for (;;) {
		int err;

		cnt = BE_CHUNK;
		err = bpf_map_lookup_batch(fd, first ? NULL : &batch, &batch, keys, vals, &cnt,
					   NULL);
		if (err && errno != ENOENT) {
			ret = -errno;
			goto out;
		}
		first = false;
		for (__u32 i = 0; i < cnt && !ret; i++) {
			if (vals[i].family)
				ret = fn(keys[i], &vals[i], arg);
		}
		if (ret || err)
			goto out;
	}
out:
	free(vals);
	free(keys);
	return ret;
}

static int mark_used(__u32 id, const struct np_backend *v, void *arg)
{
	(void)v;
	if (id < NP_BACKEND_MAX)
		((__u8 *)arg)[id] = 1;
	return 0;
}

/* used[id] = 1 for every used id of np_backends (used: NP_BACKEND_MAX bytes). */
static int used_ids(int fd, __u8 *used)
{
	return be_each(fd, mark_used, used);
}

/* Which flows purge_flows() removes: a service's, of one backend or (0) all. */
struct flow_sel {
	__u32 svc_id, backend_id;
};

static bool ct_selected(const void *key, const void *val, const struct flow_sel *sel)
{
	const struct np_ct_entry *e = val;

	(void)key;
	return e->svc_id == sel->svc_id && (!sel->backend_id || e->backend_id == sel->backend_id);
}

static bool aff_selected(const void *key, const void *val, const struct flow_sel *sel)
{
	const struct np_aff_key *k = key;
	const struct np_aff_val *v = val;

	return k->svc_id == sel->svc_id && (!sel->backend_id || v->backend_id == sel->backend_id);
}

/*
 * Delete the entries of hash map fd that selected() accepts. Keys are
 * collected first and deleted afterwards: deleting the key get_next_key
 * stands on would restart the walk. Best effort: an allocation failure
 * deletes what was collected so far.
 */
static void purge_map(int fd, size_t ksz, size_t vsz,
		      bool (*selected)(const void *, const void *, const struct flow_sel *),
		      const struct flow_sel *sel)
{
	char *buf = malloc(2 * ksz + vsz), *keys = NULL;
	char *cur = buf, *next = buf + ksz, *val = buf + 2 * ksz;
	size_t n = 0, cap = 0;
	void *prev = NULL;

	if (!buf)
		return;
	while (!bpf_map_get_next_key(fd, prev, next)) {
		memcpy(cur, next, ksz);
		prev = cur;
		if (bpf_map_lookup_elem(fd, cur, val) || !selected(cur, val, sel))
			continue;
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 64;
			char *nk = realloc(keys, nc * ksz);

			if (!nk)
				break;
			keys = nk;
			cap = nc;
		}
		memcpy(keys + n++ * ksz, cur, ksz);
	}
	for (size_t i = 0; i < n; i++)
		bpf_map_delete_elem(fd, keys + i * ksz);
	free(keys);
	free(buf);
}

/* Delete CT and affinity entries of a service (backend 0: all its backends). */
static void purge_flows(const struct svc_maps *m, __u32 svc_id, __u32 backend_id)
{
	const struct flow_sel sel = { .svc_id = svc_id, .backend_id = backend_id };

	if (m->ct >= 0)
		purge_map(m->ct, sizeof(struct np_ct_key), sizeof(struct np_ct_entry), ct_selected,
			  &sel);
	if (m->aff >= 0)
		purge_map(m->aff, sizeof(struct np_aff_key), sizeof(struct np_aff_val),
			  aff_selected, &sel);
}

static int zero_stats(const struct svc_maps *m, __u32 id)
{
	struct np_counter *zero;
	int ncpu = libbpf_num_possible_cpus(), err = 0;

	if (ncpu <= 0)
		return -EINVAL;
	zero = calloc((size_t)ncpu, sizeof(*zero));
	if (!zero)
		return -ENOMEM;
	if (bpf_map_update_elem(m->stats, &id, zero, BPF_ANY)) {
		err = -errno;
		np_err("reset %s[%u]: %s", NP_MAP_SVC_STATS, id, strerror(-err));
	}
	free(zero);
	return err;
}

/* Does the backend go into the table? */
static bool in_table(const struct np_svc_spec *s, const struct np_svc_backend *b)
{
	return b->state == NP_BE_ACTIVE && (!s->etp_local || (b->flags & NP_BE_F_LOCAL));
}

/*
 * ---- Maglev tables: two per service --------------------------------------
 *
 * Service id owns np_maglev[2 * id] and np_maglev[2 * id + 1], both created
 * with the service; np_svc.flags NP_SVC_F_TABLE1 says which one is live. A
 * change is written into the other one (only the slots that differ from what
 * it holds) and goes live with one np_svc update: a hash map update, which
 * does not wait for an RCU grace period as an update of np_maglev does.
 */

/* A new (empty) inner array of the node's table size; its fd or -errno (logged). */
static int inner_create(const struct svc_maps *m, const char *name)
{
	/* the flags of the template in maps.h (BPF_F_INNER_MAP: any size) */
	LIBBPF_OPTS(bpf_map_create_opts, mo, .map_flags = BPF_F_INNER_MAP | BPF_F_MMAPABLE);
	int fd;

	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "np_maglev_in", sizeof(__u32), sizeof(__u32),
			    m->msize, &mo);
	if (fd >= 0)
		return fd;
	fd = -errno;
	np_err("create a Maglev table of service %s (array of %u): %s", name, m->msize,
	       strerror(-fd));
	return fd;
}

/*
 * The fd of np_maglev[slot]: -ENOENT when there is none, or none of this
 * node's table size (`up --maglev-size` changed), or -errno.
 */
static int inner_open(const struct svc_maps *m, __u32 slot)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info), inner_id;
	int fd, err;

	if (bpf_map_lookup_elem(m->maglev, &slot, &inner_id))
		return -errno;
	fd = bpf_map_get_fd_by_id(inner_id);
	if (fd < 0)
		return -errno;
	memset(&info, 0, sizeof(info));
	if (bpf_map_get_info_by_fd(fd, &info, &len)) {
		err = -errno;
		close(fd);
		return err;
	}
	if (info.type != BPF_MAP_TYPE_ARRAY || info.key_size != sizeof(__u32) ||
	    info.value_size != sizeof(__u32) || info.max_entries != m->msize) {
		close(fd);
		return -ENOENT;
	}
	return fd;
}

/*
 * An inner map's slots mapped (NULL: not mmapable); inner_unmap() it. An
 * array keeps its values 8-byte aligned: slot i is the __u32 at p[2 * i].
 */
#define INNER_STRIDE 2

static __u32 *inner_map(const struct svc_maps *m, int fd, bool write)
{
	void *p = mmap(NULL, (size_t)m->msize * INNER_STRIDE * sizeof(__u32),
		       PROT_READ | (write ? PROT_WRITE : 0), MAP_SHARED, fd, 0);

	return p == MAP_FAILED ? NULL : p;
}

static void inner_unmap(const struct svc_maps *m, __u32 *p)
{
	munmap(p, (size_t)m->msize * INNER_STRIDE * sizeof(__u32));
}

/* The whole table of inner map fd into out[0..msize-1] (keys: scratch). */
static int inner_read(const struct svc_maps *m, int fd, __u32 *keys, __u32 *out)
{
	__u32 cnt = m->msize, batch, *p;

	p = inner_map(m, fd, false);
	if (p) {
		for (__u32 i = 0; i < m->msize; i++)
			out[i] = p[INNER_STRIDE * i];
		inner_unmap(m, p);
		return 0;
	}
	if (!bpf_map_lookup_batch(fd, NULL, &batch, keys, out, &cnt, NULL) && cnt == m->msize)
		return 0;
	/* no batch support (or a short batch): one by one */
	for (__u32 i = 0; i < m->msize; i++) {
		if (bpf_map_lookup_elem(fd, &i, &out[i]))
			return -errno;
	}
	return 0;
}

/*
 * Make inner map fd hold table: only the slots where cur (what it holds;
 * NULL: a new map, all 0) differs, in one batch. keys, vals: scratch of msize.
 */
static int inner_write(const struct svc_maps *m, int fd, const __u32 *table, const __u32 *cur,
		       __u32 *keys, __u32 *vals)
{
	__u32 n = 0, cnt, *p;

	/* mmapable (maps.h): plain stores into the slots that differ */
	p = inner_map(m, fd, true);
	if (p) {
		for (__u32 i = 0; i < m->msize; i++) {
			if (p[INNER_STRIDE * i] != table[i])
				p[INNER_STRIDE * i] = table[i];
		}
		inner_unmap(m, p);
		return 0;
	}
	for (__u32 i = 0; i < m->msize; i++) {
		if (cur ? cur[i] == table[i] : !table[i])
			continue;
		keys[n] = i;
		vals[n++] = table[i];
	}
	if (!n)
		return 0;
	cnt = n;
	if (!bpf_map_update_batch(fd, keys, vals, &cnt, NULL))
		return 0;
	/* no batch support: one by one */
	for (__u32 i = 0; i < n; i++) {
		if (bpf_map_update_elem(fd, &keys[i], &vals[i], BPF_ANY))
			return -errno;
	}
	return 0;
}

/*
 * The Maglev table of s's table backends into table[0..msize-1] (all 0
 * without any), built from prev (the table in use: minimal disruption, see
 * maglev.h) or from scratch (prev NULL). *count: backends in it.
 */
static int table_build(const struct svc_maps *m, const struct np_svc_spec *s, const __u32 *prev,
		       __u32 *table, __u16 *count)
{
	struct np_maglev_backend *mb;
	__u32 moved = 0;
	size_t k = 0;
	int err = 0;

	mb = calloc(s->n_be ? s->n_be : 1, sizeof(*mb));
	if (!mb)
		return -ENOMEM;
	for (size_t i = 0; i < s->n_be; i++) {
		if (!in_table(s, &s->be[i]))
			continue;
		mb[k].id = s->be[i].id;
		mb[k].weight = s->be[i].weight;
		mb[k].family = s->be[i].a.family;
		mb[k].port = htons(s->be[i].a.port);
		memcpy(mb[k].addr, s->be[i].a.addr, 16);
		k++;
	}
	if (k) {
		err = np_maglev_update(mb, k, m->msize, prev, table, &moved);
		if (err)
			np_err("build the Maglev table of service %s (%zu backends, M=%u): %s",
			       s->name, k, m->msize, strerror(-err));
		else
			np_dbg("service %s: Maglev table (%zu backends, M=%u) built %s: %u slots "
			       "moved",
			       s->name, k, m->msize, prev ? "from the one in use" : "from scratch",
			       moved);
	} else {
		memset(table, 0, m->msize * sizeof(*table));
	}
	*count = (__u16)(k > 0xffff ? 0xffff : k);
	free(mb);
	return err;
}

/* Scratch for the table functions: five arrays of msize. */
struct tbl_buf {
	__u32 *table, *prev, *cur, *keys, *vals;
};

static void tbl_buf_free(struct tbl_buf *t)
{
	free(t->table);
	memset(t, 0, sizeof(*t));
}

static int tbl_buf_alloc(const struct svc_maps *m, struct tbl_buf *t)
{
	t->table = malloc(5 * (size_t)m->msize * sizeof(__u32));
	if (!t->table)
		return -ENOMEM;
	t->prev = t->table + m->msize;
	t->cur = t->prev + m->msize;
	t->keys = t->cur + m->msize;
	t->vals = t->keys + m->msize;
	return 0;
}

/* Put fds[0..n-1] into np_maglev at slots[0..n-1]: one batch (one RCU wait). */
static int outer_put(const struct svc_maps *m, const __u32 *slots, const int *fds, __u32 n)
{
	__u32 cnt = n;

	if (!n || !bpf_map_update_batch(m->maglev, slots, fds, &cnt, NULL))
		return 0;
	for (__u32 i = 0; i < n; i++) {
		if (bpf_map_update_elem(m->maglev, &slots[i], &fds[i], BPF_ANY))
			return -errno;
	}
	return 0;
}

/*
 * Remove np_maglev[slots[0..n-1]] (absent ones are fine): one by one, an RCU
 * wait each (an array of maps has no delete batch, and a refused batch
 * waits too).
 */
static void outer_del(const struct svc_maps *m, const __u32 *slots, __u32 n)
{
	for (__u32 i = 0; i < n; i++)
		bpf_map_delete_elem(m->maglev, &slots[i]);
}

/*
 * A new service's two tables: the first filled from scratch and live
 * (flags without NP_SVC_F_TABLE1), the second empty; fds in fd[0], fd[1]
 * for the caller to put into np_maglev and close.
 */
static int tables_new(const struct svc_maps *m, const struct np_svc_spec *s, struct tbl_buf *t,
		      int fd[2], __u16 *count)
{
	int err;

	fd[0] = fd[1] = -1;
	err = table_build(m, s, NULL, t->table, count);
	if (err)
		return err;
	fd[0] = inner_create(m, s->name);
	if (fd[0] < 0)
		return fd[0];
	fd[1] = inner_create(m, s->name);
	if (fd[1] < 0) {
		err = fd[1];
		goto fail;
	}
	err = inner_write(m, fd[0], t->table, NULL, t->keys, t->vals);
	if (!err)
		return 0;
	np_err("fill the Maglev table of service %s: %s", s->name, strerror(-err));
fail:
	close(fd[0]);
	if (fd[1] >= 0)
		close(fd[1]);
	fd[0] = fd[1] = -1;
	return err;
}

/*
 * A live service s (np_svc flags: live_flags) changes: write its new table
 * into the table that is not live, built from the live one. *flags: the
 * np_svc flags that make it live (NP_SVC_F_TABLE1 flipped).
 */
static int table_stage(const struct svc_maps *m, const struct np_svc_spec *s, __u32 live_flags,
		       __u32 *flags, __u16 *count)
{
	__u32 live = NP_MAGLEV_SLOT(s->id, live_flags), spare = live ^ 1;
	const __u32 *prev = NULL, *cur = NULL;
	int lfd, sfd, err;
	struct tbl_buf t;

	err = tbl_buf_alloc(m, &t);
	if (err)
		return err;
	lfd = inner_open(m, live);
	if (lfd >= 0) {
		err = inner_read(m, lfd, t.keys, t.prev);
		close(lfd);
		if (!err)
			prev = t.prev;
	} else {
		err = lfd;
	}
	if (err && err != -ENOENT)
		np_warn("read the Maglev table of service %s from %s[%u]: %s; building a new "
			"one from scratch",
			s->name, NP_MAP_MAGLEV, live, strerror(-err));
	sfd = inner_open(m, spare);
	if (sfd >= 0) {
		cur = t.cur;
		/* unreadable: no slot matches (ids are below NP_BACKEND_MAX), all written */
		if (inner_read(m, sfd, t.keys, t.cur))
			memset(t.cur, 0xff, m->msize * sizeof(*t.cur));
	} else {
		/* none (a table of an earlier size): a new one, one RCU wait */
		sfd = inner_create(m, s->name);
		if (sfd < 0) {
			err = sfd;
			goto out;
		}
		err = outer_put(m, &spare, &sfd, 1);
		if (err) {
			np_err("put a Maglev table of service %s into %s[%u]: %s", s->name,
			       NP_MAP_MAGLEV, spare, strerror(-err));
			goto out;
		}
	}
	err = table_build(m, s, prev, t.table, count);
	if (err)
		goto out;
	err = inner_write(m, sfd, t.table, cur, t.keys, t.vals);
	if (err) {
		np_err("write the Maglev table of service %s into %s[%u]: %s", s->name,
		       NP_MAP_MAGLEV, spare, strerror(-err));
		goto out;
	}
	*flags = (live_flags & ~NP_SVC_F_TABLE1) | ((spare & 1) ? NP_SVC_F_TABLE1 : 0);
out:
	if (sfd >= 0)
		close(sfd);
	tbl_buf_free(&t);
	return err;
}

/* ---- records ------------------------------------------------------------- */

struct json_object *np_svc_record_backend(const struct np_svc_backend *b)
{
	struct json_object *o = json_object_new_object();
	char a[NP_SVC_ADDRSTRLEN];

	np_svc_addr_str(&b->a, 0, a, sizeof(a));
	json_object_object_add(o, "addr", json_object_new_string(a));
	json_object_object_add(o, "weight", json_object_new_int64(b->weight));
	json_object_object_add(o, "state", json_object_new_string(np_be_state_name(b->state)));
	return o;
}

struct json_object *np_svc_record_meta(const struct np_svc_spec *s)
{
	struct json_object *o = json_object_new_object(), *src = json_object_new_array();
	char a[NP_SVC_ADDRSTRLEN], c[NP_CIDR_STRLEN];

	np_svc_addr_str(&s->vip, s->proto, a, sizeof(a));
	json_object_object_add(o, "name", json_object_new_string(s->name));
	json_object_object_add(o, "id", json_object_new_int64(s->id));
	json_object_object_add(o, "type", json_object_new_string(np_svc_type_name(s->type)));
	json_object_object_add(o, "vip", json_object_new_string(a));
	json_object_object_add(o, "algo", json_object_new_string(np_svc_algo_name(s->algo)));
	json_object_object_add(o, "mode", json_object_new_string(mode_names[s->mode & 1]));
	json_object_object_add(o, "affinity", json_object_new_int64(s->affinity_s));
	json_object_object_add(o, "afxdp", json_object_new_int(s->afxdp ? 1 : 0));
	json_object_object_add(o, "etp",
			       json_object_new_string(s->etp_local ? "local" : "cluster"));
	for (size_t i = 0; i < s->n_src; i++) {
		np_format_cidr(&s->src[i], c, sizeof(c));
		json_object_array_add(src, json_object_new_string(c));
	}
	json_object_object_add(o, "source_ranges", src);
	return o;
}

/*
 * o[key] of type t into *v: 1 present, 0 absent (v untouched), -EBADMSG
 * present with another type (err set).
 */
static int rec_get(struct json_object *o, const char *key, enum json_type t, struct json_object **v,
		   char *err, size_t errlen)
{
	static const char *const tn[] = {
		[json_type_int] = "an integer",
		[json_type_string] = "a string",
		[json_type_array] = "an array",
	};

	if (!json_object_object_get_ex(o, key, v))
		return 0;
	if (json_object_is_type(*v, t))
		return 1;
	seterr(err, errlen, "\"%s\" is not %s", key, tn[t] ? tn[t] : "of the right type");
	return -EBADMSG;
}

/* o[key], an integer in lo..hi, into *out (absent: *out untouched). */
static int rec_int(struct json_object *o, const char *key, long long lo, long long hi,
		   long long *out, char *err, size_t errlen)
{
	struct json_object *v;
	long long x;
	int r = rec_get(o, key, json_type_int, &v, err, errlen);

	if (r <= 0)
		return r;
	x = json_object_get_int64(v);
	if (x < lo || x > hi) {
		seterr(err, errlen, "\"%s\": %lld is outside %lld..%lld", key, x, lo, hi);
		return -EBADMSG;
	}
	*out = x;
	return 0;
}

/*
 * o[key], a string, through parse (one of the np_svc_parse_* taking a
 * __u8); required: absent fails too.
 */
static int rec_pick(struct json_object *o, const char *key, bool required,
		    int (*parse)(const char *, __u8 *, char *, size_t), __u8 *out, char *err,
		    size_t errlen)
{
	struct json_object *v;
	char e2[256];
	int r = rec_get(o, key, json_type_string, &v, err, errlen);

	if (r < 0)
		return r;
	if (!r) {
		if (!required)
			return 0;
		seterr(err, errlen, "\"%s\" is missing", key);
		return -EBADMSG;
	}
	if (parse(json_object_get_string(v), out, e2, sizeof(e2))) {
		seterr(err, errlen, "\"%s\": %s", key, e2);
		return -EBADMSG;
	}
	return 0;
}

static int parse_etp_u8(const char *s, __u8 *out, char *err, size_t errlen)
{
	bool local = false;
	int r = np_svc_parse_etp(s, &local, err, errlen);

	*out = local;
	return r;
}

int np_svc_record_parse_meta(struct json_object *o, struct np_svc_spec *s, char *err, size_t errlen)
{
	struct json_object *v, *arr = NULL;
	long long x = 0;
	char e2[256];
	__u8 u = 0;
	int r;

	if (!o || !json_object_is_type(o, json_type_object)) {
		seterr(err, errlen, "not a JSON object");
		return -EBADMSG;
	}
	r = rec_int(o, "id", 1, NP_SVC_MAX - 1, &x, err, errlen);
	if (r)
		return r;
	if (!x) {
		seterr(err, errlen, "\"id\" is missing");
		return -EBADMSG;
	}
	s->id = (__u32)x;
	r = rec_get(o, "vip", json_type_string, &v, err, errlen);
	if (r < 0)
		return r;
	if (!r) {
		seterr(err, errlen, "\"vip\" is missing");
		return -EBADMSG;
	}
	if (np_svc_parse_vip(json_object_get_string(v), &s->vip, &s->proto, e2, sizeof(e2))) {
		seterr(err, errlen, "\"vip\": %s", e2);
		return -EBADMSG;
	}
	if ((r = rec_pick(o, "type", true, np_svc_parse_type, &s->type, err, errlen)) ||
	    (r = rec_pick(o, "algo", true, np_svc_parse_algo, &s->algo, err, errlen)))
		return r;
	s->mode = NP_SVC_MODE_SNAT; /* records of nodepath before DSR */
	if ((r = rec_pick(o, "mode", false, np_svc_parse_mode, &s->mode, err, errlen)) ||
	    (r = rec_pick(o, "etp", false, parse_etp_u8, &u, err, errlen)))
		return r;
	s->etp_local = u;
	x = 0;
	r = rec_int(o, "affinity", 0, NP_SVC_AFFINITY_MAX, &x, err, errlen);
	if (r)
		return r;
	s->affinity_s = (__u32)x;
	x = 0;
	r = rec_int(o, "afxdp", 0, 1, &x, err, errlen);
	if (r)
		return r;
	s->afxdp = x;
	s->scope = s->type == NP_SVC_T_NODEPORT ? NP_SVC_SCOPE_NODEPORT : NP_SVC_SCOPE_VIP;
	s->n_src = 0;
	r = rec_get(o, "source_ranges", json_type_array, &arr, err, errlen);
	if (r < 0)
		return r;
	for (size_t i = 0; arr && i < json_object_array_length(arr); i++) {
		struct json_object *e = json_object_array_get_idx(arr, i);

		if (s->n_src == NP_SVC_SRC_RANGES_MAX) {
			seterr(err, errlen, "\"source_ranges\": more than %d",
			       NP_SVC_SRC_RANGES_MAX);
			return -EBADMSG;
		}
		if (!json_object_is_type(e, json_type_string) ||
		    np_parse_cidr(json_object_get_string(e), &s->src[s->n_src], e2, sizeof(e2))) {
			seterr(err, errlen, "\"source_ranges\"[%zu] is not a CIDR", i);
			return -EBADMSG;
		}
		s->n_src++;
	}
	return 0;
}

int np_svc_record_parse_backend(struct json_object *o, struct np_svc_backend *b, char *err,
				size_t errlen)
{
	struct json_object *v;
	long long w = 1;
	char e2[256];
	__u8 st = NP_BE_ACTIVE;
	int r;

	if (!o || !json_object_is_type(o, json_type_object)) {
		seterr(err, errlen, "not a JSON object");
		return -EBADMSG;
	}
	r = rec_get(o, "addr", json_type_string, &v, err, errlen);
	if (r < 0)
		return r;
	if (!r) {
		seterr(err, errlen, "\"addr\" is missing");
		return -EBADMSG;
	}
	if (parse_hostport("backend", json_object_get_string(v), &b->a, e2, sizeof(e2))) {
		seterr(err, errlen, "\"addr\": %s", e2);
		return -EBADMSG;
	}
	if ((r = rec_int(o, "weight", 1, NP_WEIGHT_MAX, &w, err, errlen)) ||
	    (r = rec_pick(o, "state", false, np_svc_parse_state, &st, err, errlen)))
		return r;
	b->weight = (__u32)w;
	b->state = st;
	return 0;
}

static int be_record_write(const struct np_node *n, const struct np_svc_spec *s,
			   const struct np_svc_backend *b)
{
	struct json_object *o = np_svc_record_backend(b);
	char path[PATH_MAX], file[32];
	int err;

	snprintf(file, sizeof(file), BE_PREFIX "%u", b->id);
	err = svc_dir(n, s->name, file, path, sizeof(path));
	if (!err)
		err = np_record_write(path, o, true, "service record"); /* under the node lock */
	json_object_put(o);
	return err;
}

static int meta_write(const struct np_node *n, const struct np_svc_spec *s)
{
	struct json_object *o = np_svc_record_meta(s);
	char path[PATH_MAX];
	int err;

	err = svc_dir(n, s->name, META, path, sizeof(path));
	if (!err)
		err = np_record_write(path, o, true, "service record"); /* under the node lock */
	json_object_put(o);
	return err;
}

static int cmp_be_id(const void *a, const void *b)
{
	const struct np_svc_backend *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

/*
 * Read the record <pin_dir>/<sub>/<name> into s, with the backends' states
 * and flags from np_backends when be_fd >= 0. With err (strict: `up`
 * restoring it), any unreadable part fails with -EBADMSG and err says
 * which; without, unreadable backend records are left out (as `service
 * list` shows what it can).
 */
static int record_read_in(const struct np_node *n, const char *sub, const char *name, int be_fd,
			  char *err, size_t errlen, struct np_svc_spec *s)
{
	char dir[PATH_MAX], path[PATH_MAX], e2[256];
	struct json_object *o = NULL;
	struct dirent *de;
	size_t cap = 0;
	DIR *d = NULL;
	int ret;

	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", name);
	if ((ret = svc_path(n, sub, name, NULL, dir, sizeof(dir))) ||
	    (ret = svc_path(n, sub, name, META, path, sizeof(path))))
		return ret;
	ret = np_record_read(path, &o);
	if (ret) {
		seterr(err, errlen, "%s: %s", META, ret == -EBADMSG ? "not JSON" : strerror(-ret));
		return ret;
	}
	ret = np_svc_record_parse_meta(o, s, e2, sizeof(e2));
	json_object_put(o);
	o = NULL;
	if (ret) {
		seterr(err, errlen, "%s: %s", META, e2);
		goto out;
	}

	d = opendir(dir);
	if (!d) {
		ret = -errno;
		goto out;
	}
	while ((de = readdir(d))) {
		struct np_svc_backend *b;
		struct np_backend bv;
		char *end;
		unsigned long id;

		if (strncmp(de->d_name, BE_PREFIX, strlen(BE_PREFIX)) || strchr(de->d_name, '.'))
			continue;
		id = strtoul(de->d_name + strlen(BE_PREFIX), &end, 10);
		if (*end || !id || id >= NP_BACKEND_MAX) {
			if (!err)
				continue;
			seterr(err, errlen, "%s: not a backend record (b1..b%u)", de->d_name,
			       NP_BACKEND_MAX - 1);
			ret = -EBADMSG;
			goto out;
		}
		if (s->n_be == cap) {
			size_t nc = cap ? 2 * cap : 16;
			struct np_svc_backend *nb = realloc(s->be, nc * sizeof(*nb));

			if (!nb) {
				ret = -ENOMEM;
				goto out;
			}
			s->be = nb;
			cap = nc;
		}
		b = &s->be[s->n_be];
		memset(b, 0, sizeof(*b));
		ret = -ENAMETOOLONG;
		if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) < (int)sizeof(path))
			ret = np_record_read(path, &o);
		if (!ret) {
			ret = np_svc_record_parse_backend(o, b, e2, sizeof(e2));
			json_object_put(o);
			o = NULL;
		} else {
			snprintf(e2, sizeof(e2), "%s",
				 ret == -EBADMSG ? "not JSON" : strerror(-ret));
		}
		if (ret) {
			if (!err)
				continue;
			seterr(err, errlen, "%s: %s", de->d_name, e2);
			ret = -EBADMSG;
			goto out;
		}
		b->id = (__u32)id;
		if (be_fd >= 0 && !be_get(be_fd, b->id, &bv)) {
			b->state = bv.state;
			b->flags = bv.flags;
		}
		s->n_be++;
	}
	if (s->n_be)
		qsort(s->be, s->n_be, sizeof(*s->be), cmp_be_id);
	ret = 0;
out:
	if (d)
		closedir(d);
	if (ret)
		np_svc_spec_free(s);
	return ret;
}

/* Read service name's live record (+ backend states/flags from np_backends when be_fd >= 0). */
static int record_read(const struct np_node *n, const char *name, int be_fd, struct np_svc_spec *s)
{
	return record_read_in(n, NP_SVC_DIR, name, be_fd, NULL, 0, s);
}

static bool record_exists(const struct np_node *n, const char *name)
{
	char dir[PATH_MAX];

	return !svc_dir(n, name, NULL, dir, sizeof(dir)) && !access(dir, F_OK);
}

/* Names of all records under <pin_dir>/<sub> (malloc'ed array of malloc'ed strings). */
static int record_names_in(const struct np_node *n, const char *sub, char ***out, size_t *count)
{
	char dir[PATH_MAX];
	char **v = NULL;
	size_t k = 0, cap = 0;
	struct dirent *de;
	DIR *d;

	*out = NULL;
	*count = 0;
	if (svc_path(n, sub, NULL, NULL, dir, sizeof(dir)))
		return -ENAMETOOLONG;
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || de->d_type != DT_DIR)
			continue;
		if (k == cap) {
			size_t nc = cap ? cap * 2 : 16;
			char **nv = realloc(v, nc * sizeof(*nv));

			if (!nv)
				break;
			v = nv;
			cap = nc;
		}
		v[k] = strdup(de->d_name);
		if (v[k])
			dir_to_name(v[k++]);
	}
	closedir(d);
	*out = v;
	*count = k;
	return 0;
}

static int record_names(const struct np_node *n, char ***out, size_t *count)
{
	return record_names_in(n, NP_SVC_DIR, out, count);
}

static void names_free(char **v, size_t k)
{
	for (size_t i = 0; i < k; i++)
		free(v[i]);
	free(v);
}

/* Name of the service with id (for messages); "" when none. */
static void name_of_id(const struct np_node *n, __u32 id, char *buf, size_t len)
{
	struct np_svc_spec s;
	char **names;
	size_t k;

	buf[0] = '\0';
	if (record_names(n, &names, &k))
		return;
	for (size_t i = 0; i < k; i++) {
		if (!record_read(n, names[i], -1, &s)) {
			if (s.id == id)
				snprintf(buf, len, "%s", names[i]);
			np_svc_spec_free(&s);
		}
		if (buf[0])
			break;
	}
	names_free(names, k);
}

/* ---- writes --------------------------------------------------------------- */

static const struct np_svc_backend *find_be(const struct np_svc_spec *s,
					    const struct np_svc_addr *a)
{
	for (size_t i = 0; s && i < s->n_be; i++)
		if (np_svc_addr_eq(&s->be[i].a, a))
			return &s->be[i];
	return NULL;
}

static int be_write(const struct svc_maps *m, const struct np_svc_spec *s,
		    const struct np_svc_backend *b, __u64 flags)
{
	char a[NP_SVC_ADDRSTRLEN];
	struct np_backend v;
	int err;

	be_value(b, &v);
	/* an array: every id "exists"; be_ids() checked a fresh one is free */
	if (flags == BPF_NOEXIST)
		flags = BPF_ANY;
	if (!bpf_map_update_elem(m->be, &b->id, &v, flags))
		return 0;
	err = -errno;
	np_svc_addr_str(&b->a, 0, a, sizeof(a));
	np_err("write backend %s (id %u) of service %s into %s: %s", a, b->id, s->name,
	       NP_MAP_BACKENDS, strerror(-err));
	return err;
}

/*
 * A free backend id for a change of a live service, without reading all of
 * np_backends: the ids after the service's highest, then pseudo-random ones,
 * each looked up once (under the node lock nobody else takes one). 0 when
 * none was found so: the caller scans.
 */
static __u32 be_id_probe(const struct svc_maps *m, const struct np_svc_spec *s, __u32 *next)
{
	static __u32 x = 0x9e3779b9;
	struct np_backend v;

	for (int i = 0; i < 64; i++) {
		bool mine = false;
		__u32 id;

		if (i < 8) {
			id = (*next)++;
		} else {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			id = x % NP_BACKEND_MAX;
		}
		if (!id || id >= NP_BACKEND_MAX)
			continue;
		for (size_t j = 0; !mine && j < s->n_be; j++)
			mine = s->be[j].id == id;
		if (!mine && be_get(m->be, id, &v) == -ENOENT)
			return id;
	}
	return 0;
}

/*
 * Ids for s's backends that have none (a new service may bring ids: `up`
 * restoring it; kept when free); fresh[i]: s->be[i] is a new np_backends
 * entry. Checked before the first write.
 */
static int be_ids(struct np_node *n, const struct svc_maps *m, const struct np_svc_spec *old,
		  struct np_svc_spec *s, bool *fresh)
{
	__u8 *used = NULL;
	__u32 next = 1;
	bool scan = !old;
	int err;

	for (size_t i = 0; old && i < s->n_be; i++) {
		if (s->be[i].id >= next)
			next = s->be[i].id + 1;
	}
	for (size_t i = 0; old && !scan && i < s->n_be; i++) {
		struct np_svc_backend *b = &s->be[i];

		if (b->id)
			continue;
		b->id = be_id_probe(m, s, &next);
		scan = !b->id;
		fresh[i] = b->id != 0;
	}
	if (!scan)
		goto flags;
	used = calloc(NP_BACKEND_MAX, 1);
	if (!used)
		return -ENOMEM;
	err = used_ids(m->be, used);
	if (err) {
		np_err("read %s: %s", NP_MAP_BACKENDS, strerror(-err));
		goto out;
	}
	for (size_t i = 0; i < s->n_be; i++) {
		struct np_svc_backend *b = &s->be[i];

		if (!old && b->id && (b->id >= NP_BACKEND_MAX || used[b->id]))
			b->id = 0;
		if (!b->id)
			continue;
		used[b->id] = 1;
		fresh[i] = fresh[i] || !old;
	}
	next = 1;
	for (size_t i = 0; i < s->n_be; i++) {
		struct np_svc_backend *b = &s->be[i];

		if (b->id)
			continue;
		while (next < NP_BACKEND_MAX && used[next])
			next++;
		if (next >= NP_BACKEND_MAX) {
			np_err("service %s: no free backend id (%u in use on node %s); nothing was "
			       "changed",
			       s->name, NP_BACKEND_MAX - 1, n->name);
			err = -ENOSPC;
			goto out;
		}
		b->id = next;
		used[next] = 1;
		fresh[i] = true;
	}
flags:
	for (size_t i = 0; i < s->n_be; i++) {
		if (fresh[i])
			s->be[i].flags = is_local(m, &s->be[i].a) ? NP_BE_F_LOCAL : 0;
	}
	err = 0;
out:
	free(used);
	return err;
}

static __u32 svc_flags(const struct np_svc_spec *s)
{
	return (s->affinity_s ? NP_SVC_F_AFFINITY : 0) | (s->etp_local ? NP_SVC_F_ETP_LOCAL : 0) |
	       (s->n_src ? NP_SVC_F_SRC_RANGE : 0) |
	       (s->mode == NP_SVC_MODE_DSR ? NP_SVC_F_DSR : 0) | (s->afxdp ? NP_SVC_F_AFXDP : 0);
}

/*
 * Make the maps hold s (old: what they hold now, NULL for a new service).
 * Order: new backend entries and backends that become active; source
 * ranges; the new Maglev table written into the service's table that is not
 * live (a new service: its two tables into np_maglev); np_svc, whose one
 * update makes the new table live (NP_SVC_F_TABLE1) with its count; then the
 * backends that leave the table change state and removed ones go; the
 * records last.
 */
static int commit(struct np_node *n, struct svc_maps *m, const struct np_svc_spec *old,
		  struct np_svc_spec *s)
{
	char dir[PATH_MAX], file[32], path[PATH_MAX];
	struct tbl_buf t = { 0 };
	struct np_svc_key key;
	struct np_svc sv, live;
	__u32 gen = 0, slots[2] = { 2 * s->id, 2 * s->id + 1 };
	size_t src_done = 0;
	int fd[2] = { -1, -1 }, err;
	bool *fresh;
	__u16 count = 0;

	fresh = calloc(s->n_be ? s->n_be : 1, sizeof(*fresh));
	if (!fresh)
		return -ENOMEM;
	svc_key(s, &key);
	memset(&live, 0, sizeof(live));
	if (old && bpf_map_lookup_elem(m->svc, &key, &live)) {
		err = -errno;
		np_err("read service %s from %s: %s", s->name, NP_MAP_SVC, strerror(-err));
		goto out;
	}
	err = be_ids(n, m, old, s, fresh);
	if (err)
		goto out;
	if (!old) {
		if (svc_dir(n, NULL, NULL, dir, sizeof(dir)) ||
		    (mkdir(dir, 0700) && errno != EEXIST) ||
		    svc_dir(n, s->name, NULL, dir, sizeof(dir)) || mkdir(dir, 0700)) {
			err = -errno;
			np_err("create service record %s: %s", dir, strerror(-err));
			goto out;
		}
	}

	/* 1. entries that must exist before the table points at them */
	for (size_t i = 0; i < s->n_be; i++) {
		const struct np_svc_backend *b = &s->be[i];
		const struct np_svc_backend *o = find_be(old, &b->a);

		if (fresh[i])
			err = be_write(m, s, b, BPF_NOEXIST);
		else if (o && o->state != b->state && b->state == NP_BE_ACTIVE)
			err = be_write(m, s, b, BPF_EXIST);
		if (err)
			goto undo;
	}
	if (!old) {
		for (; src_done < s->n_src; src_done++) {
			struct np_srcr_key k;
			__u32 one = 1;

			srcr_key(s->id, &s->src[src_done], &k);
			if (bpf_map_update_elem(m->src, &k, &one, BPF_ANY)) {
				err = -errno;
				np_err("write source range of service %s into %s: %s", s->name,
				       NP_MAP_SRC_RANGE, strerror(-err));
				goto undo;
			}
		}
		err = zero_stats(m, s->id);
		if (err)
			goto undo;
	}

	/* 2. the table, then the service: one update makes it live */
	if (!old) {
		err = tbl_buf_alloc(m, &t);
		if (!err)
			err = tables_new(m, s, &t, fd, &count);
		if (!err)
			err = outer_put(m, slots, fd, 2);
		if (err) {
			np_err("put the Maglev tables of service %s into %s[%u..%u]: %s", s->name,
			       NP_MAP_MAGLEV, slots[0], slots[1], strerror(-err));
			outer_del(m, slots, 2);
			goto undo;
		}
	} else {
		err = table_stage(m, s, live.flags, &gen, &count);
		if (err)
			goto undo;
	}
	memset(&sv, 0, sizeof(sv));
	sv.id = s->id;
	sv.flags = svc_flags(s) | (gen & NP_SVC_F_TABLE1);
	sv.affinity_s = s->affinity_s;
	sv.count = count;
	sv.type = s->type;
	sv.algo = s->algo;
	if (bpf_map_update_elem(m->svc, &key, &sv, old ? BPF_EXIST : BPF_NOEXIST)) {
		err = -errno;
		np_err("%s service %s in %s: %s", old ? "update" : "insert", s->name, NP_MAP_SVC,
		       strerror(-err));
		if (!old)
			outer_del(m, slots, 2);
		goto undo;
	}

	/* 3. what leaves: after the flip (errors here are logged, the service is live) */
	for (size_t i = 0; old && i < s->n_be; i++) {
		const struct np_svc_backend *b = &s->be[i];
		const struct np_svc_backend *o = find_be(old, &b->a);

		if (o && o->state != b->state && b->state != NP_BE_ACTIVE)
			be_write(m, s, b, BPF_EXIST);
	}
	for (size_t i = 0; old && i < old->n_be; i++) {
		const struct np_svc_backend *o = &old->be[i];
		int err2;

		if (find_be(s, &o->a))
			continue;
		err2 = be_clear(m->be, o->id);
		if (err2)
			np_warn("clear backend id %u of service %s in %s: %s", o->id, s->name,
				NP_MAP_BACKENDS, strerror(-err2));
		purge_flows(m, s->id, o->id);
		snprintf(file, sizeof(file), BE_PREFIX "%u", o->id);
		if (!svc_dir(n, s->name, file, path, sizeof(path)))
			unlink(path);
	}

	/* 4. records */
	for (size_t i = 0; i < s->n_be; i++) {
		const struct np_svc_backend *o = find_be(old, &s->be[i].a);

		if (!o || o->state != s->be[i].state || o->weight != s->be[i].weight)
			be_record_write(n, s, &s->be[i]);
	}
	if (!old)
		err = meta_write(n, s);
	if (err) {
		/* a service without its record could not be listed or deleted */
		bpf_map_delete_elem(m->svc, &key);
		outer_del(m, slots, 2);
		goto undo;
	}
	err = 0;
	goto out;

undo:
	for (size_t i = 0; i < s->n_be; i++) {
		if (fresh[i]) {
			be_clear(m->be, s->be[i].id);
			s->be[i].id = 0;
		} else {
			const struct np_svc_backend *o = find_be(old, &s->be[i].a);

			if (o && o->state != s->be[i].state)
				be_write(m, old, o, BPF_EXIST);
		}
	}
	for (size_t i = 0; i < src_done; i++) {
		struct np_srcr_key k;

		srcr_key(s->id, &s->src[i], &k);
		bpf_map_delete_elem(m->src, &k);
	}
	if (!old)
		record_remove(n, s->name);
out:
	for (int i = 0; i < 2; i++) {
		if (fd[i] >= 0)
			close(fd[i]);
	}
	tbl_buf_free(&t);
	free(fresh);
	return err;
}

/*
 * Insert s (checked whole first) with the maps of m open. restore: `up`
 * re-creating a recorded service: its service and backend ids are kept
 * when free, and messages say so instead of "service add".
 */
static int svc_insert(struct np_node *n, struct svc_maps *m, struct np_svc_spec *s, bool restore)
{
	const char *verb = restore ? "up: restore service" : "service add";
	const char *tail = restore ? "not restored" : "nothing was changed";
	char e[512], a[NP_SVC_ADDRSTRLEN], other[NP_SVC_NAME_MAX + 1];
	struct np_svc_key key, k2, next;
	struct np_svc sv;
	__u8 *used = NULL;
	void *prev = NULL;
	__u32 want = restore ? s->id : 0;
	int err;

	err = np_svc_check_spec(s, m->msize, e, sizeof(e));
	if (err) {
		np_err("%s %s: %s; %s", verb, s->name, e, tail);
		return err;
	}
	np_svc_addr_str(&s->vip, s->proto, a, sizeof(a));
	if (record_exists(n, s->name)) {
		np_err("%s: a service named %s exists already (see: nodepath service get %s); %s",
		       verb, s->name, s->name, tail);
		return -EEXIST;
	}
	svc_key(s, &key);
	if (!bpf_map_lookup_elem(m->svc, &key, &sv)) {
		name_of_id(n, sv.id, other, sizeof(other));
		np_err("%s %s: %s%s is already served by service %s (id %u); %s", verb, s->name,
		       s->type == NP_SVC_T_NODEPORT ? "node port " : "VIP ", a,
		       other[0] ? other : "(unnamed)", sv.id, tail);
		return -EEXIST;
	}
	/* the recorded id when restoring and free, else the lowest free one */
	used = calloc(NP_SVC_MAX, 1);
	if (!used)
		return -ENOMEM;
	while (!bpf_map_get_next_key(m->svc, prev, &next)) {
		k2 = next;
		prev = &k2;
		if (is_marker(&k2))
			continue;
		if (!bpf_map_lookup_elem(m->svc, &k2, &sv) && sv.id < NP_SVC_MAX)
			used[sv.id] = 1;
	}
	s->id = want < NP_SVC_MAX && !used[want] ? want : 0;
	for (__u32 i = 1; !s->id && i < NP_SVC_MAX; i++) {
		if (!used[i])
			s->id = i;
	}
	if (!s->id) {
		np_err("%s %s: no free service id (limit %u); %s", verb, s->name, NP_SVC_MAX - 1,
		       tail);
		err = -ENOSPC;
		goto out;
	}
	for (size_t i = 0; !restore && i < s->n_be; i++)
		s->be[i].id = 0;
	/* The marker first: a fragment of the first flow is refused already. */
	err = marker_add(m, s);
	if (err)
		goto out;
	err = commit(n, m, NULL, s);
	if (err)
		marker_put(m, s);
out:
	free(used);
	return err;
}

int np_svc_add(struct np_node *n, struct np_svc_spec *s)
{
	struct svc_maps m;
	char e[512];
	int err;

	err = np_svc_check_name(s->name, e, sizeof(e));
	if (err) {
		np_err("service add: %s; nothing was changed", e);
		return err;
	}
	err = maps_open(n, &m);
	if (err)
		return err;
	err = svc_insert(n, &m, s, false);
	maps_close(&m);
	return err;
}

/* ---- many services at once ------------------------------------------------ */

/* np_endpoints' keys, sorted: the local test of many backends without a lookup each. */
struct ep_set {
	struct np_ep_key *k;
	size_t n;
};

static int cmp_ep_key(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct np_ep_key));
}

static int ep_set_load(const struct svc_maps *m, struct ep_set *e)
{
	struct np_ep_key k, next;
	size_t cap = 0;
	void *prev = NULL;

	memset(e, 0, sizeof(*e));
	while (m->ep >= 0 && !bpf_map_get_next_key(m->ep, prev, &next)) {
		if (e->n == cap) {
			size_t nc = cap ? 2 * cap : 64;
			struct np_ep_key *nk = realloc(e->k, nc * sizeof(*nk));

			if (!nk)
				return -ENOMEM;
			e->k = nk;
			cap = nc;
		}
		e->k[e->n++] = next;
		k = next;
		prev = &k;
	}
	if (e->n)
		qsort(e->k, e->n, sizeof(*e->k), cmp_ep_key);
	return 0;
}

static bool ep_set_has(const struct ep_set *e, const struct np_svc_addr *a)
{
	struct np_ep_key k;

	if (!e->n)
		return false;
	memset(&k, 0, sizeof(k));
	k.family = a->family;
	memcpy(k.addr, a->addr, 16);
	return bsearch(&k, e->k, e->n, sizeof(*e->k), cmp_ep_key) != NULL;
}

static int cmp_spec_name(const void *a, const void *b)
{
	const struct np_svc_spec *const *x = a, *const *y = b;

	return strcmp((*x)->name, (*y)->name);
}

struct key_ref {
	struct np_svc_key k;
	size_t i;
};

static int cmp_key_ref(const void *a, const void *b)
{
	const struct key_ref *x = a, *y = b;
	int c = memcmp(&x->k, &y->k, sizeof(x->k));

	return c ? c : (x->i > y->i) - (x->i < y->i);
}

/*
 * Every check svc_insert() makes, for all of v before anything is written:
 * each spec, no name or VIP twice in v, none taken on the node already.
 */
static int many_check(struct np_node *n, const struct svc_maps *m, struct np_svc_spec *v,
		      size_t cnt, const char *verb, const char *tail)
{
	struct np_svc_spec **byname = NULL;
	struct key_ref *keys = NULL;
	char e[512], a[NP_SVC_ADDRSTRLEN], other[NP_SVC_NAME_MAX + 1];
	struct np_svc sv;
	int err = -ENOMEM;

	byname = calloc(cnt, sizeof(*byname));
	keys = calloc(cnt, sizeof(*keys));
	if (!byname || !keys)
		goto out;
	for (size_t i = 0; i < cnt; i++) {
		struct np_svc_spec *s = &v[i];

		err = np_svc_check_name(s->name, e, sizeof(e));
		if (!err)
			err = np_svc_check_spec(s, m->msize, e, sizeof(e));
		if (err) {
			np_err("%s %s (%zu of %zu): %s; %s", verb, s->name, i + 1, cnt, e, tail);
			goto out;
		}
		if (record_exists(n, s->name)) {
			np_err("%s: a service named %s exists already (see: nodepath service get "
			       "%s); %s",
			       verb, s->name, s->name, tail);
			err = -EEXIST;
			goto out;
		}
		svc_key(s, &keys[i].k);
		keys[i].i = i;
		if (!bpf_map_lookup_elem(m->svc, &keys[i].k, &sv)) {
			np_svc_addr_str(&s->vip, s->proto, a, sizeof(a));
			name_of_id(n, sv.id, other, sizeof(other));
			np_err("%s %s: %s%s is already served by service %s (id %u); %s", verb,
			       s->name, s->type == NP_SVC_T_NODEPORT ? "node port " : "VIP ", a,
			       other[0] ? other : "(unnamed)", sv.id, tail);
			err = -EEXIST;
			goto out;
		}
		byname[i] = s;
	}
	qsort(byname, cnt, sizeof(*byname), cmp_spec_name);
	qsort(keys, cnt, sizeof(*keys), cmp_key_ref);
	for (size_t i = 1; i < cnt; i++) {
		if (!strcmp(byname[i - 1]->name, byname[i]->name)) {
			np_err("%s: service %s is given twice; %s", verb, byname[i]->name, tail);
			err = -EEXIST;
			goto out;
		}
		if (!memcmp(&keys[i - 1].k, &keys[i].k, sizeof(keys[i].k))) {
			np_svc_addr_str(&v[keys[i].i].vip, v[keys[i].i].proto, a, sizeof(a));
			np_err("%s: services %s and %s both want %s; %s", verb,
			       v[keys[i - 1].i].name, v[keys[i].i].name, a, tail);
			err = -EEXIST;
			goto out;
		}
	}
	err = 0;
out:
	free(byname);
	free(keys);
	return err;
}

/* Service ids (restore: the recorded one when free) and backend ids for all of v. */
static int many_ids(struct np_node *n, const struct svc_maps *m, struct np_svc_spec *v, size_t cnt,
		    bool restore, const char *verb, const char *tail)
{
	struct np_svc_key k, next;
	struct np_svc sv;
	struct ep_set eps;
	__u8 *used = NULL;
	void *prev = NULL;
	__u32 id = 1;
	int err = -ENOMEM;

	memset(&eps, 0, sizeof(eps));
	used = calloc(NP_BACKEND_MAX > NP_SVC_MAX ? NP_BACKEND_MAX : NP_SVC_MAX, 1);
	if (!used)
		goto out;
	while (!bpf_map_get_next_key(m->svc, prev, &next)) {
		k = next;
		prev = &k;
		if (!is_marker(&k) && !bpf_map_lookup_elem(m->svc, &k, &sv) && sv.id < NP_SVC_MAX)
			used[sv.id] = 1;
	}
	for (size_t i = 0; i < cnt; i++) {
		if (!restore || !v[i].id || v[i].id >= NP_SVC_MAX || used[v[i].id])
			v[i].id = 0;
		else
			used[v[i].id] = 1;
	}
	for (size_t i = 0; i < cnt; i++) {
		while (!v[i].id && id < NP_SVC_MAX) {
			if (!used[id])
				v[i].id = id;
			used[id++] = 1;
		}
		if (!v[i].id) {
			np_err("%s %s: no free service id (limit %u); %s", verb, v[i].name,
			       NP_SVC_MAX - 1, tail);
			err = -ENOSPC;
			goto out;
		}
	}

	memset(used, 0, NP_BACKEND_MAX);
	err = used_ids(m->be, used);
	if (err) {
		np_err("read %s: %s", NP_MAP_BACKENDS, strerror(-err));
		goto out;
	}
	for (size_t i = 0; i < cnt; i++) {
		for (size_t j = 0; j < v[i].n_be; j++) {
			struct np_svc_backend *b = &v[i].be[j];

			if (!restore || b->id >= NP_BACKEND_MAX || used[b->id])
				b->id = 0;
			if (b->id)
				used[b->id] = 1;
		}
	}
	id = 1;
	for (size_t i = 0; i < cnt; i++) {
		for (size_t j = 0; j < v[i].n_be; j++) {
			struct np_svc_backend *b = &v[i].be[j];

			while (!b->id && id < NP_BACKEND_MAX) {
				if (!used[id])
					b->id = id;
				used[id++] = 1;
			}
			if (!b->id) {
				np_err("%s %s: no free backend id (%u in use on node %s); %s", verb,
				       v[i].name, NP_BACKEND_MAX - 1, n->name, tail);
				err = -ENOSPC;
				goto out;
			}
		}
	}
	err = ep_set_load(m, &eps);
	if (err)
		goto out;
	for (size_t i = 0; i < cnt; i++) {
		for (size_t j = 0; j < v[i].n_be; j++)
			v[i].be[j].flags = ep_set_has(&eps, &v[i].be[j].a) ? NP_BE_F_LOCAL : 0;
	}
out:
	free(eps.k);
	free(used);
	return err;
}

/*
 * Write n (key, value) pairs of size ksz, vsz into fd: one batch, else one
 * by one. Batches take no BPF_NOEXIST: the caller checked the keys are
 * free (under the node lock).
 */
static int batch_put(int fd, const void *keys, const void *vals, size_t ksz, size_t vsz, size_t n)
{
	__u32 cnt = (__u32)n;

	if (!n || !bpf_map_update_batch(fd, keys, vals, &cnt, NULL))
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (bpf_map_update_elem(fd, (const char *)keys + i * ksz,
					(const char *)vals + i * vsz, BPF_ANY))
			return -errno;
	}
	return 0;
}

static int cmp_svc_key(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct np_svc_key));
}

/* The VIP markers of v's VIP services (see marker_key()), each address once, in one batch. */
static int many_markers(const struct svc_maps *m, const struct np_svc_spec *v, size_t cnt)
{
	struct np_svc_key *keys = calloc(cnt, sizeof(*keys));
	struct np_svc *zero = calloc(cnt, sizeof(*zero));
	size_t k = 0, u = 0;
	int err = -ENOMEM;

	if (!keys || !zero)
		goto out;
	for (size_t i = 0; i < cnt; i++) {
		if (v[i].scope == NP_SVC_SCOPE_VIP)
			marker_key(&v[i], &keys[k++]);
	}
	if (k)
		qsort(keys, k, sizeof(*keys), cmp_svc_key);
	for (size_t i = 0; i < k; i++) {
		if (!u || memcmp(&keys[u - 1], &keys[i], sizeof(keys[i])))
			keys[u++] = keys[i];
	}
	err = batch_put(m->svc, keys, zero, sizeof(*keys), sizeof(*zero), u);
out:
	free(zero);
	free(keys);
	return err;
}

/* What svc_insert_many() wrote, to take back. */
struct many_undo {
	__u32 *be_ids; /* np_backends keys written */
	size_t n_be;
	__u32 *slots; /* np_maglev slots written */
	size_t n_slots;
	struct np_svc_key *keys; /* np_svc keys written */
	size_t n_keys;
	size_t n_src; /* services whose source ranges went in */
	size_t n_rec; /* services whose records went in */
	bool markers; /* VIP markers written */
};

static void many_undo(struct np_node *n, const struct svc_maps *m, struct np_svc_spec *v,
		      size_t cnt, struct many_undo *u)
{
	for (size_t i = 0; i < u->n_keys; i++)
		bpf_map_delete_elem(m->svc, &u->keys[i]);
	for (size_t i = 0; u->markers && i < cnt; i++)
		marker_put(m, &v[i]);
	/*
	 * Tables at ids no service holds are never looked up and are replaced
	 * when the id is taken again: a delete costs an RCU wait each, so many
	 * of them stay.
	 */
	if (u->n_slots <= 64)
		outer_del(m, u->slots, (__u32)u->n_slots);
	for (size_t i = 0; i < u->n_be; i++)
		be_clear(m->be, u->be_ids[i]);
	for (size_t i = 0; i < u->n_src; i++) {
		for (size_t j = 0; j < v[i].n_src; j++) {
			struct np_srcr_key k;

			srcr_key(v[i].id, &v[i].src[j], &k);
			bpf_map_delete_elem(m->src, &k);
		}
	}
	for (size_t i = 0; i < u->n_rec; i++)
		record_remove(n, v[i].name);
}

/* Write o as the record file of directory fd dfd (a new one: nothing to replace). */
static int rec_put_at(int dfd, const char *file, struct json_object *o)
{
	const char *txt = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
								    JSON_C_TO_STRING_NOSLASHESCAPE);

	return symlinkat(txt, dfd, file) ? -errno : 0;
}

/*
 * A new service's whole record under <pin_dir>/svc (open as sfd), relative
 * to directory fds: no path walk per file (np_svc_add_many writes 11 files
 * a service).
 */
static int record_new_at(const struct np_node *n, int sfd, const struct np_svc_spec *s)
{
	char d[NP_SVC_NAME_MAX + 1], file[32];
	struct json_object *o;
	int dfd, err = 0;

	(void)n;
	name_to_dir(s->name, d, sizeof(d));
	if (mkdirat(sfd, d, 0700))
		return -errno;
	dfd = openat(sfd, d, O_DIRECTORY | O_PATH | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	for (size_t j = 0; !err && j < s->n_be; j++) {
		o = np_svc_record_backend(&s->be[j]);
		snprintf(file, sizeof(file), BE_PREFIX "%u", s->be[j].id);
		err = o ? rec_put_at(dfd, file, o) : -ENOMEM;
		json_object_put(o);
	}
	if (!err) {
		o = np_svc_record_meta(s);
		err = o ? rec_put_at(dfd, META, o) : -ENOMEM;
		json_object_put(o);
	}
	close(dfd);
	return err;
}

/* How many services' table fds (two each) may be open at once. */
static size_t fd_room(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return 64;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	return rl.rlim_cur > 1024 ? (rl.rlim_cur - 512) / 2 : 64;
}

/*
 * Insert all of v (checked whole first: one bad spec and nothing is
 * written). Order as commit() for one: backends, source ranges, the
 * Maglev tables (np_maglev takes them in one batch per up to fd_room()
 * services: one RCU wait each), the VIP markers, np_svc in one batch, the
 * records.
 */
static int svc_insert_many(struct np_node *n, struct svc_maps *m, struct np_svc_spec *v, size_t cnt,
			   bool restore)
{
	const char *verb = restore ? "up: restore service" : "service add";
	const char *tail = restore ? "not restored" : "nothing was changed";
	struct np_backend *bvals = NULL;
	struct np_svc *svals = NULL;
	struct np_counter *zero = NULL;
	struct many_undo u;
	struct tbl_buf t = { 0 };
	size_t nbe = 0, room, nz;
	__u32 *zkeys = NULL;
	int *fds = NULL, ncpu, sfd = -1, err;
	char dir[PATH_MAX];

	memset(&u, 0, sizeof(u));
	if (!cnt)
		return 0;
	err = many_check(n, m, v, cnt, verb, tail);
	if (err)
		return err;
	err = many_ids(n, m, v, cnt, restore, verb, tail);
	if (err)
		return err;
	for (size_t i = 0; i < cnt; i++)
		nbe += v[i].n_be;
	ncpu = libbpf_num_possible_cpus();
	room = fd_room();
	if (room > cnt)
		room = cnt;
	err = -ENOMEM;
	if (ncpu <= 0)
		return -EINVAL;
	u.be_ids = calloc(nbe ? nbe : 1, sizeof(*u.be_ids));
	bvals = calloc(nbe ? nbe : 1, sizeof(*bvals));
	u.slots = calloc(2 * cnt, sizeof(*u.slots));
	u.keys = calloc(cnt, sizeof(*u.keys));
	svals = calloc(cnt, sizeof(*svals));
	fds = malloc(2 * room * sizeof(*fds));
	nz = cnt < 1024 ? cnt : 1024;
	zkeys = calloc(nz, sizeof(*zkeys));
	zero = calloc(nz * (size_t)ncpu, sizeof(*zero));
	if (!u.be_ids || !bvals || !u.slots || !u.keys || !svals || !fds || !zkeys || !zero ||
	    tbl_buf_alloc(m, &t))
		goto out;
	if (svc_dir(n, NULL, NULL, dir, sizeof(dir)) || (mkdir(dir, 0700) && errno != EEXIST)) {
		err = -errno;
		np_err("create %s: %s", dir, strerror(-err));
		goto out;
	}

	/* 1. backends, source ranges, counters */
	for (size_t i = 0, k = 0; i < cnt; i++) {
		for (size_t j = 0; j < v[i].n_be; j++, k++) {
			u.be_ids[k] = v[i].be[j].id;
			be_value(&v[i].be[j], &bvals[k]);
		}
	}
	err = batch_put(m->be, u.be_ids, bvals, sizeof(__u32), sizeof(*bvals), nbe);
	if (err) {
		np_err("%s: write %zu backends into %s: %s; %s", verb, nbe, NP_MAP_BACKENDS,
		       strerror(-err), tail);
		/* some may be in: take back all of ours (ids were free) */
		u.n_be = nbe;
		goto undo;
	}
	u.n_be = nbe;
	for (; u.n_src < cnt; u.n_src++) {
		struct np_svc_spec *s = &v[u.n_src];

		for (size_t j = 0; j < s->n_src; j++) {
			struct np_srcr_key k;
			__u32 one = 1;

			srcr_key(s->id, &s->src[j], &k);
			if (bpf_map_update_elem(m->src, &k, &one, BPF_ANY)) {
				err = -errno;
				np_err("write source range of service %s into %s: %s; %s", s->name,
				       NP_MAP_SRC_RANGE, strerror(-err), tail);
				u.n_src++;
				goto undo;
			}
		}
	}
	for (size_t i = 0; i < cnt; i += nz) {
		size_t c = cnt - i < nz ? cnt - i : nz;

		for (size_t j = 0; j < c; j++)
			zkeys[j] = v[i + j].id;
		err = batch_put(m->stats, zkeys, zero, sizeof(__u32), (size_t)ncpu * sizeof(*zero),
				c);
		if (err) {
			np_err("%s: reset %s: %s; %s", verb, NP_MAP_SVC_STATS, strerror(-err),
			       tail);
			goto undo;
		}
	}

	/* 2. the tables: two per service, the first live */
	for (size_t i = 0; i < cnt; i += room) {
		size_t c = cnt - i < room ? cnt - i : room, made = 0;
		__u16 count;

		for (; made < c; made++) {
			struct np_svc_spec *s = &v[i + made];

			err = tables_new(m, s, &t, &fds[2 * made], &count);
			if (err)
				break;
			u.slots[2 * (i + made)] = 2 * s->id;
			u.slots[2 * (i + made) + 1] = 2 * s->id + 1;
			svals[i + made].count = count;
		}
		if (!err) {
			err = outer_put(m, &u.slots[2 * i], fds, (__u32)(2 * c));
			if (err)
				np_err("%s: put %zu Maglev tables into %s: %s; %s", verb, 2 * c,
				       NP_MAP_MAGLEV, strerror(-err), tail);
		}
		u.n_slots = 2 * (i + made);
		for (size_t j = 0; j < 2 * made; j++)
			close(fds[j]);
		if (err)
			goto undo;
	}

	/* 3. the services: markers first (fragments of a first flow are refused) */
	u.markers = true;
	err = many_markers(m, v, cnt);
	if (err) {
		np_err("%s: write the VIP markers into %s: %s; %s", verb, NP_MAP_SVC,
		       strerror(-err), tail);
		goto undo;
	}
	for (size_t i = 0; i < cnt; i++) {
		struct np_svc *sv = &svals[i];

		svc_key(&v[i], &u.keys[i]);
		sv->id = v[i].id;
		sv->flags = svc_flags(&v[i]);
		sv->affinity_s = v[i].affinity_s;
		sv->type = v[i].type;
		sv->algo = v[i].algo;
	}
	err = batch_put(m->svc, u.keys, svals, sizeof(*u.keys), sizeof(*svals), cnt);
	u.n_keys = cnt;
	if (err) {
		np_err("%s: insert %zu services into %s: %s; %s", verb, cnt, NP_MAP_SVC,
		       strerror(-err), tail);
		goto undo;
	}

	/* 4. records: a service without one could not be listed or deleted */
	sfd = open(dir, O_DIRECTORY | O_PATH | O_CLOEXEC);
	if (sfd < 0) {
		err = -errno;
		np_err("open %s: %s; %s", dir, strerror(-err), tail);
		goto undo;
	}
	for (; u.n_rec < cnt; u.n_rec++) {
		err = record_new_at(n, sfd, &v[u.n_rec]);
		if (err) {
			np_err("%s %s: write its record under %s: %s; %s", verb, v[u.n_rec].name,
			       dir, strerror(-err), tail);
			u.n_rec++;
			goto undo;
		}
	}
	err = 0;
	goto out;
undo:
	many_undo(n, m, v, cnt, &u);
	for (size_t i = 0; i < cnt; i++) {
		for (size_t j = 0; j < v[i].n_be; j++)
			v[i].be[j].id = 0;
	}
out:
	if (sfd >= 0)
		close(sfd);
	tbl_buf_free(&t);
	free(zero);
	free(zkeys);
	free(fds);
	free(svals);
	free(u.keys);
	free(u.slots);
	free(bvals);
	free(u.be_ids);
	return err;
}

int np_svc_add_many(struct np_node *n, struct np_svc_spec *v, size_t count)
{
	struct svc_maps m;
	int err;

	err = maps_open(n, &m);
	if (err)
		return err;
	err = svc_insert_many(n, &m, v, count, false);
	maps_close(&m);
	return err;
}

/* ---- `up`: restore the recorded services -------------------------------- */

static int cmp_spec_id(const void *a, const void *b)
{
	const struct np_svc_spec *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

/*
 * Move every live record (<pin_dir>/svc/<name>) into <pin_dir>/svc-pending:
 * a record stays there until its service is in the maps again, so an `up`
 * that stops halfway loses none. A pending record of the same name (one an
 * earlier `up` could not restore) is older than a live one: it goes.
 */
static int records_to_pending(const struct np_node *n)
{
	char from[PATH_MAX], to[PATH_MAX];
	char **names;
	size_t k;
	int err;

	err = record_names(n, &names, &k);
	if (err || !k)
		return err;
	if (svc_path(n, NP_SVC_PENDING_DIR, NULL, NULL, to, sizeof(to)) ||
	    (mkdir(to, 0700) && errno != EEXIST)) {
		err = -errno;
		np_err("create %s: %s", to, strerror(-err));
		goto out;
	}
	for (size_t i = 0; i < k; i++) {
		if (svc_dir(n, names[i], NULL, from, sizeof(from)) ||
		    svc_path(n, NP_SVC_PENDING_DIR, names[i], NULL, to, sizeof(to)))
			continue;
		if (!access(to, F_OK)) {
			np_warn("up: service %s: the record an earlier `up` could not restore is "
				"replaced by the newer one",
				names[i]);
			record_remove_in(n, NP_SVC_PENDING_DIR, names[i]);
		}
		if (rename(from, to)) {
			err = -errno;
			np_err("move service record %s to %s: %s", from, to, strerror(-err));
			goto out;
		}
	}
out:
	names_free(names, k);
	return err;
}

int np_svc_restore_all(struct np_node *n)
{
	struct np_svc_spec *v = NULL;
	struct svc_maps m;
	char **names = NULL, e[512], dir[PATH_MAX];
	size_t k = 0, got = 0;
	int err, restored = 0;

	if (!np_svc_count(n, false) && !np_svc_count(n, true))
		return 0;
	err = maps_open(n, &m);
	if (err)
		return err;
	err = records_to_pending(n);
	if (err)
		goto out;
	err = record_names_in(n, NP_SVC_PENDING_DIR, &names, &k);
	if (err) {
		np_err("read the service records of node %s: %s", n->name, strerror(-err));
		goto out;
	}
	v = calloc(k ? k : 1, sizeof(*v));
	if (!v) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < k; i++) {
		if (svc_path(n, NP_SVC_PENDING_DIR, names[i], NULL, dir, sizeof(dir)))
			continue;
		err = np_svc_check_name(names[i], e, sizeof(e));
		if (!err)
			err = record_read_in(n, NP_SVC_PENDING_DIR, names[i], -1, e, sizeof(e),
					     &v[got]);
		if (err) {
			np_err("up: service record %s is unreadable (%s); not restored", dir, e);
			continue;
		}
		got++;
	}
	/* by recorded id: every service gets its id back */
	if (got)
		qsort(v, got, sizeof(*v), cmp_spec_id);
	/* the ones that no longer validate stay pending; the others in one go */
	for (size_t i = 0, all = got, j = got = 0; i < all; i++) {
		v[i].etp_given = v[i].etp_local;
		if (np_svc_check_spec(&v[i], m.msize, e, sizeof(e))) {
			np_err("up: restore service %s: %s; not restored", v[i].name, e);
			np_svc_spec_free(&v[i]);
			continue;
		}
		if (j != i) {
			v[j] = v[i];
			memset(&v[i], 0, sizeof(v[i]));
		}
		got = ++j;
	}
	if (got && !svc_insert_many(n, &m, v, got, true)) {
		for (size_t i = 0; i < got; i++)
			record_remove_in(n, NP_SVC_PENDING_DIR, v[i].name);
		restored = (int)got;
	} else {
		/* one by one: each that can be restored is (np_svc_add's checks, logged) */
		for (size_t i = 0; i < got; i++) {
			if (svc_insert(n, &m, &v[i], true))
				continue;
			record_remove_in(n, NP_SVC_PENDING_DIR, v[i].name);
			restored++;
		}
	}
	if (svc_path(n, NP_SVC_PENDING_DIR, NULL, NULL, dir, sizeof(dir)) == 0)
		rmdir(dir); /* only when every record was restored */
	err = restored;
out:
	for (size_t i = 0; v && i < got; i++)
		np_svc_spec_free(&v[i]);
	free(v);
	names_free(names, k);
	maps_close(&m);
	return err;
}

static int info_fill(const struct svc_maps *m, struct np_svc_info *out)
{
	struct np_svc_key key;
	struct np_svc sv;

	svc_key(&out->spec, &key);
	if (!bpf_map_lookup_elem(m->svc, &key, &sv)) {
		out->count = sv.count;
		out->flags = sv.flags;
	}
	np_percpu_counter_sum(m->stats, out->spec.id, &out->stats);
	return 0;
}

static int open_existing(struct np_node *n, const char *verb, const char *name, struct svc_maps *m,
			 struct np_svc_spec *s)
{
	int err = maps_open(n, m);

	if (err)
		return err;
	err = record_read(n, name, m->be, s);
	if (err == -ENOENT) {
		np_err("%s: no service named \"%s\" on node %s (see: nodepath service list)", verb,
		       name, n->name);
	} else if (err) {
		np_err("%s: read the record of service %s: %s", verb, name, strerror(-err));
	}
	if (err)
		maps_close(m);
	return err;
}

int np_svc_get(struct np_node *n, const char *name, struct np_svc_info *out)
{
	struct svc_maps m;
	int err;

	memset(out, 0, sizeof(*out));
	err = open_existing(n, "service get", name, &m, &out->spec);
	if (err)
		return err;
	info_fill(&m, out);
	maps_close(&m);
	return 0;
}

void np_svc_info_free(struct np_svc_info *v, size_t count)
{
	for (size_t i = 0; v && i < count; i++)
		np_svc_spec_free(&v[i].spec);
	free(v);
}

static int cmp_info(const void *a, const void *b)
{
	const struct np_svc_info *x = a, *y = b;

	return x->spec.id < y->spec.id ? -1 : x->spec.id > y->spec.id;
}

int np_svc_list(struct np_node *n, struct np_svc_info **out, size_t *count)
{
	struct np_svc_info *v = NULL;
	struct svc_maps m;
	char **names = NULL;
	size_t k = 0, got = 0;
	int err;

	*out = NULL;
	*count = 0;
	err = maps_open(n, &m);
	if (err)
		return err;
	err = record_names(n, &names, &k);
	if (err) {
		np_err("read service records of node %s: %s", n->name, strerror(-err));
		goto out;
	}
	v = calloc(k ? k : 1, sizeof(*v));
	if (!v) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < k; i++) {
		if (record_read(n, names[i], m.be, &v[got].spec)) {
			np_warn("service record %s is unreadable; skipped", names[i]);
			continue;
		}
		info_fill(&m, &v[got]);
		got++;
	}
	if (got)
		qsort(v, got, sizeof(*v), cmp_info);
	*out = v;
	*count = got;
	v = NULL;
out:
	free(v);
	names_free(names, k);
	maps_close(&m);
	return err;
}

int np_svc_del(struct np_node *n, const char *name, struct np_svc_info *out)
{
	struct np_svc_spec s;
	__u32 slots[2];
	struct np_svc_key key;
	struct svc_maps m;
	int err;

	err = open_existing(n, "service del", name, &m, &s);
	if (err)
		return err;
	if (out) {
		memset(out, 0, sizeof(*out));
		out->spec = s;
		info_fill(&m, out);
	}
	/* the service first: no new packet finds it; then what it pointed at */
	svc_key(&s, &key);
	if (bpf_map_delete_elem(m.svc, &key) && errno != ENOENT) {
		err = -errno;
		np_err("delete service %s from %s: %s", name, NP_MAP_SVC, strerror(-err));
		goto out;
	}
	marker_put(&m, &s);
	slots[0] = 2 * s.id;
	slots[1] = slots[0] + 1;
	outer_del(&m, slots, 2);
	for (size_t i = 0; i < s.n_src; i++) {
		struct np_srcr_key k;

		srcr_key(s.id, &s.src[i], &k);
		bpf_map_delete_elem(m.src, &k);
	}
	for (size_t i = 0; i < s.n_be; i++)
		be_clear(m.be, s.be[i].id);
	purge_flows(&m, s.id, 0);
	zero_stats(&m, s.id);
	record_remove(n, name);
out:
	if (!out)
		np_svc_spec_free(&s);
	maps_close(&m);
	return err;
}

/* Copy s (with its own backend array, room for one more). */
static int spec_dup(const struct np_svc_spec *s, struct np_svc_spec *d)
{
	*d = *s;
	d->be = calloc(s->n_be + 1, sizeof(*d->be));
	if (!d->be)
		return -ENOMEM;
	if (s->n_be)
		memcpy(d->be, s->be, s->n_be * sizeof(*d->be));
	return 0;
}

enum be_op { BE_ADD, BE_DEL, BE_SET };

static int backend_change(struct np_node *n, const char *name, enum be_op op,
			  const struct np_svc_backend *b, const struct np_svc_addr *a, __u32 weight,
			  int state)
{
	static const char *const verbs[] = { "backend add", "backend del", "backend set" };
	const char *verb = verbs[op];
	struct np_svc_spec old, s = { 0 };
	char e[512], txt[NP_SVC_ADDRSTRLEN];
	struct np_svc_backend *cur = NULL;
	struct svc_maps m;
	int err;

	err = open_existing(n, verb, name, &m, &old);
	if (err)
		return err;
	err = spec_dup(&old, &s);
	if (err)
		goto out;
	np_svc_addr_str(a, 0, txt, sizeof(txt));
	for (size_t i = 0; i < s.n_be; i++)
		if (np_svc_addr_eq(&s.be[i].a, a))
			cur = &s.be[i];
	if (op == BE_ADD) {
		if (cur) {
			np_err("%s %s: %s is a backend of it already (id %u); change it with "
			       "`backend set`; nothing was changed",
			       verb, name, txt, cur->id);
			err = -EEXIST;
			goto out;
		}
		s.be[s.n_be] = *b;
		s.be[s.n_be].id = 0;
		s.n_be++;
	} else if (!cur) {
		np_err("%s %s: %s is no backend of it (see: nodepath service get %s); nothing was "
		       "changed",
		       verb, name, txt, name);
		err = -ENOENT;
		goto out;
	} else if (op == BE_DEL) {
		*cur = s.be[--s.n_be];
	} else {
		if (weight)
			cur->weight = weight;
		if (state >= 0)
			cur->state = (__u8)state;
	}
	s.etp_given = s.etp_local;
	err = np_svc_check_spec(&s, m.msize, e, sizeof(e));
	if (err) {
		np_err("%s %s: %s; nothing was changed", verb, name, e);
		goto out;
	}
	err = commit(n, &m, &old, &s);
out:
	np_svc_spec_free(&s);
	np_svc_spec_free(&old);
	maps_close(&m);
	return err;
}

int np_backend_add(struct np_node *n, const char *name, const struct np_svc_backend *b)
{
	return backend_change(n, name, BE_ADD, b, &b->a, 0, -1);
}

int np_backend_del(struct np_node *n, const char *name, const struct np_svc_addr *a)
{
	return backend_change(n, name, BE_DEL, NULL, a, 0, -1);
}

int np_backend_set(struct np_node *n, const char *name, const struct np_svc_addr *a, __u32 weight,
		   int state)
{
	return backend_change(n, name, BE_SET, NULL, a, weight, state);
}

/* ---- endpoints come and go --------------------------------------------- */

struct be_match {
	int family;
	const __u8 *addr;
};

static int be_matches(__u32 id, const struct np_backend *v, void *arg)
{
	const struct be_match *w = arg;

	(void)id;
	return v->family == w->family && !memcmp(v->addr, w->addr, sizeof(v->addr));
}

/* Is a backend of family/addr (16 bytes, zero-padded) in np_backends at all? */
static int backends_have(struct np_node *n, int family, const __u8 *addr)
{
	struct be_match w = { .family = family, .addr = addr };
	int fd, found;

	fd = np_node_map_open(n, NP_MAP_BACKENDS);
	if (fd == -ENOENT)
		return 0; /* no service maps on this node */
	if (fd < 0) {
		np_err("open %s/%s: %s", n->pin_dir, NP_MAP_BACKENDS, strerror(-fd));
		return fd;
	}
	found = be_each(fd, be_matches, &w);
	close(fd);
	if (found < 0)
		np_err("read %s/%s: %s", n->pin_dir, NP_MAP_BACKENDS, strerror(-found));
	return found;
}

/*
 * One service: the backends at a get the local flag want. A service with
 * --etp local keeps only local backends in its table: a backend that
 * becomes local is marked before the new table goes in, one that stops
 * being local leaves the table before it is unmarked.
 */
static int refresh_one(struct np_node *n, struct svc_maps *m, const char *name,
		       const struct np_svc_addr *a, bool want)
{
	struct np_svc_spec old, s;
	size_t changed = 0;
	int err;

	err = record_read(n, name, m->be, &old);
	if (err)
		return err == -ENOENT ? 0 : err;
	err = spec_dup(&old, &s);
	if (err)
		goto out_old;
	for (size_t i = 0; i < s.n_be; i++) {
		struct np_svc_backend *b = &s.be[i];

		if (b->a.family != a->family || memcmp(b->a.addr, a->addr, sizeof(a->addr)) ||
		    !(b->flags & NP_BE_F_LOCAL) == !want)
			continue;
		b->flags ^= NP_BE_F_LOCAL;
		changed++;
	}
	if (!changed)
		goto out;
	if (s.etp_local && !want)
		err = commit(n, m, &old, &s);
	for (size_t i = 0; !err && i < s.n_be; i++) {
		if (s.be[i].flags != old.be[i].flags)
			err = be_write(m, &s, &s.be[i], BPF_EXIST);
	}
	if (!err && s.etp_local && want)
		err = commit(n, m, &old, &s);
out:
	np_svc_spec_free(&s);
out_old:
	np_svc_spec_free(&old);
	return err;
}

int np_svc_refresh_local(struct np_node *n, int family, const void *addr)
{
	struct np_svc_addr a;
	struct svc_maps m;
	char **names;
	size_t k;
	bool local;
	int err, ret = 0;

	if (!n->pin_exists)
		return 0;
	memset(&a, 0, sizeof(a));
	a.family = (__u8)family;
	memcpy(a.addr, addr, family == NP_AF_INET ? 4 : 16);
	err = backends_have(n, family, a.addr);
	if (err <= 0)
		return err;
	err = maps_open(n, &m);
	if (err)
		return err;
	local = is_local(&m, &a);
	err = record_names(n, &names, &k);
	if (err) {
		np_err("list the service records of node %s: %s", n->name, strerror(-err));
		goto out;
	}
	for (size_t i = 0; i < k; i++) {
		err = refresh_one(n, &m, names[i], &a, local);
		if (err && !ret) {
			np_err("refresh the local flag of the backends of service %s: %s", names[i],
			       strerror(-err));
			ret = err;
		}
	}
	names_free(names, k);
	err = ret;
out:
	maps_close(&m);
	return err;
}
