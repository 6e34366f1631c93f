// SPDX-License-Identifier: GPL-2.0
/* The lab: nodes, pods and clients in network namespaces (see lab.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <json-c/json.h>

#include "datapath.h"
#include "endpoint.h"
#include "ethtool.h"
#include "lab.h"
#include "log.h"
#include "netns.h"
#include "nl.h"

#define NS_LEN 64
#define IP_LEN 48
#define PIN_ROOT "/sys/fs/bpf/nodepath"

struct lab {
	char name[NP_LAB_NAME_MAX + 1];
	unsigned int clients, nodes, pods;
	unsigned int queues;	     /* uplink pairs' rx/tx queues; 1: the default */
	enum np_lab_pod_dev pod_dev; /* asked; after the build VETH, NETKIT or NONE */
};

static const char *const pod_dev_names[] = {
	[NP_LAB_POD_AUTO] = "auto",
	[NP_LAB_POD_VETH] = "veth",
	[NP_LAB_POD_NETKIT] = "netkit",
	[NP_LAB_POD_NONE] = "none",
};

int np_lab_parse_pod_dev(const char *s, enum np_lab_pod_dev *out)
{
	for (unsigned int i = 0; i < sizeof(pod_dev_names) / sizeof(pod_dev_names[0]); i++)
		if (s && !strcmp(s, pod_dev_names[i])) {
			*out = (enum np_lab_pod_dev)i;
			return 0;
		}
	return -EINVAL;
}

bool np_lab_name_ok(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n > NP_LAB_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9')))
			return false;
	return true;
}

/* ---- names and addresses ------------------------------------------------ */

void np_lab_client_ip(unsigned int client, int family, char *buf, size_t len)
{
	if (family == AF_INET)
		snprintf(buf, len, "198.18.0.%u", 100 + client);
	else
		snprintf(buf, len, "fd00:18::%u", 100 + client);
}

void np_lab_node_ip(unsigned int node, int family, char *buf, size_t len)
{
	if (family == AF_INET)
		snprintf(buf, len, "198.18.0.%u", node);
	else
		snprintf(buf, len, "fd00:18::%u", node);
}

void np_lab_gw_ip(unsigned int node, int family, char *buf, size_t len)
{
	if (family == AF_INET)
		snprintf(buf, len, "198.19.%u.1", node);
	else
		snprintf(buf, len, "fd00:19:%u::1", node);
}

void np_lab_pod_ip(unsigned int node, unsigned int pod, int family, char *buf, size_t len)
{
	if (family == AF_INET)
		snprintf(buf, len, "198.19.%u.%u", node, 10 + pod);
	else
		snprintf(buf, len, "fd00:19:%u::%u", node, 10 + pod);
}

static void ns_fabric(const struct lab *l, char *buf)
{
	snprintf(buf, NS_LEN, "%s-fabric", l->name);
}

static void ns_client(const struct lab *l, unsigned int i, char *buf)
{
	snprintf(buf, NS_LEN, "%s-client%u", l->name, i);
}

static void ns_node(const struct lab *l, unsigned int n, char *buf)
{
	snprintf(buf, NS_LEN, "%s-node%u", l->name, n);
}

static void ns_pod(const struct lab *l, unsigned int n, unsigned int k, char *buf)
{
	snprintf(buf, NS_LEN, "%s-node%u-pod%u", l->name, n, k);
}

static bool digits(const char *p, const char **end)
{
	const char *s = p;

	while (*p >= '0' && *p <= '9')
		p++;
	*end = p;
	return p > s;
}

/* Does netns <ns> belong to lab <lab>: <lab>-fabric|client<i>|node<N>[-pod<k>]? */
static bool lab_owns(const char *lab, const char *ns)
{
	size_t n = strlen(lab);
	const char *p, *e;

	if (strncmp(ns, lab, n) || ns[n] != '-')
		return false;
	p = ns + n + 1;
	if (!strcmp(p, "fabric"))
		return true;
	if (!strncmp(p, "client", 6))
		return digits(p + 6, &e) && !*e;
	if (strncmp(p, "node", 4) || !digits(p + 4, &e))
		return false;
	if (!*e)
		return true;
	return !strncmp(e, "-pod", 4) && digits(e + 4, &e) && !*e;
}

/* ---- the state file and the lock ---------------------------------------- */

static int mkdir_p(const char *path)
{
	char tmp[256];

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, 0755) && errno != EEXIST)
		return -errno;
	return 0;
}

/* One lab operation at a time on this machine: flock on the state directory. */
static int lab_lock(void)
{
	int fd, err;

	err = mkdir_p(NP_LAB_STATE_DIR);
	if (err) {
		np_err("create %s: %s", NP_LAB_STATE_DIR, strerror(-err));
		return err;
	}
	fd = open(NP_LAB_STATE_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || flock(fd, LOCK_EX)) {
		err = -errno;
		np_err("lock %s: %s", NP_LAB_STATE_DIR, strerror(-err));
		if (fd >= 0)
			close(fd);
		return err;
	}
	return fd;
}

static void lab_unlock(int fd)
{
	if (fd >= 0)
		close(fd); /* drops the flock */
}

static void state_path(const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s.json", NP_LAB_STATE_DIR, name);
}

static bool state_exists(const char *name)
{
	char path[256];

	state_path(name, path, sizeof(path));
	return access(path, F_OK) == 0;
}

static unsigned int json_uint(struct json_object *o, const char *key, unsigned int max)
{
	struct json_object *v;
	int64_t n;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
		return 0;
	n = json_object_get_int64(v);
	return n >= 1 && n <= max ? (unsigned int)n : 0;
}

/* Read the shape of lab <name> from its state file: 0, -ENOENT or -EBADMSG. */
static int state_read(const char *name, struct lab *l)
{
	struct json_object *doc, *shape, *v;
	char path[256];
	int err = 0;

	state_path(name, path, sizeof(path));
	if (access(path, F_OK))
		return -ENOENT;
	doc = json_object_from_file(path);
	if (!doc)
		return -EBADMSG;
	memset(l, 0, sizeof(*l));
	snprintf(l->name, sizeof(l->name), "%s", name);
	if (json_object_object_get_ex(doc, "shape", &shape)) {
		l->clients = json_uint(shape, "clients", NP_LAB_MAX_CLIENTS);
		l->nodes = json_uint(shape, "nodes", NP_LAB_MAX_NODES);
		l->pods = json_uint(shape, "pods", NP_LAB_MAX_PODS);
		l->queues = json_uint(shape, "queues", NP_LAB_MAX_QUEUES);
		if (!l->queues)
			l->queues = 1; /* made before --queues existed */
		/* Labs made before --pod-dev existed have stack-routed pods. */
		l->pod_dev = NP_LAB_POD_NONE;
		if (json_object_object_get_ex(shape, "pod_dev", &v))
			np_lab_parse_pod_dev(json_object_get_string(v), &l->pod_dev);
	}
	if (!l->clients || !l->nodes || !l->pods)
		err = -EBADMSG;
	json_object_put(doc);
	return err;
}

/* ---- the lab as a JSON document (state file and `status --json`) ------- */

static void add_str(struct json_object *o, const char *key, const char *val)
{
	json_object_object_add(o, key, json_object_new_string(val));
}

/* Returns the number of namespaces checked and missing through *missing when check. */
static struct json_object *lab_doc(const struct lab *l, bool check, unsigned int *missing)
{
	struct json_object *doc, *shape, *fab, *arr, *o, *pods, *p, *miss = NULL;
	char ns[NS_LEN], ip[IP_LEN], dev[16], cidr[IP_LEN];

	*missing = 0;
	doc = json_object_new_object();
	add_str(doc, "name", l->name);
	shape = json_object_new_object();
	json_object_object_add(shape, "clients", json_object_new_int(l->clients));
	json_object_object_add(shape, "nodes", json_object_new_int(l->nodes));
	json_object_object_add(shape, "pods", json_object_new_int(l->pods));
	json_object_object_add(shape, "queues", json_object_new_int(l->queues));
	add_str(shape, "pod_dev", pod_dev_names[l->pod_dev]);
	json_object_object_add(doc, "shape", shape);
	if (check)
		miss = json_object_new_array();

#define CHECK_NS(nsname)                                                             \
	do {                                                                         \
		if (check && !np_netns_exists(nsname)) {                             \
			json_object_array_add(miss, json_object_new_string(nsname)); \
			(*missing)++;                                                \
		}                                                                    \
	} while (0)

	fab = json_object_new_object();
	ns_fabric(l, ns);
	add_str(fab, "netns", ns);
	add_str(fab, "bridge", "br0");
	CHECK_NS(ns);
	json_object_object_add(doc, "fabric", fab);

	arr = json_object_new_array();
	for (unsigned int i = 1; i <= l->clients; i++) {
		o = json_object_new_object();
		snprintf(dev, sizeof(dev), "client%u", i);
		add_str(o, "name", dev);
		ns_client(l, i, ns);
		add_str(o, "netns", ns);
		CHECK_NS(ns);
		add_str(o, "dev", "nic0");
		np_lab_client_ip(i, AF_INET, ip, sizeof(ip));
		add_str(o, "ipv4", ip);
		np_lab_client_ip(i, AF_INET6, ip, sizeof(ip));
		add_str(o, "ipv6", ip);
		json_object_array_add(arr, o);
	}
	json_object_object_add(doc, "clients", arr);

	arr = json_object_new_array();
	for (unsigned int n = 1; n <= l->nodes; n++) {
		o = json_object_new_object();
		snprintf(dev, sizeof(dev), "node%u", n);
		add_str(o, "name", dev);
		ns_node(l, n, ns);
		add_str(o, "netns", ns);
		CHECK_NS(ns);
		add_str(o, "uplink", "uplink");
		np_lab_node_ip(n, AF_INET, ip, sizeof(ip));
		add_str(o, "ipv4", ip);
		np_lab_node_ip(n, AF_INET6, ip, sizeof(ip));
		add_str(o, "ipv6", ip);
		snprintf(cidr, sizeof(cidr), "198.19.%u.0/24", n);
		add_str(o, "pod_cidr4", cidr);
		snprintf(cidr, sizeof(cidr), "fd00:19:%u::/64", n);
		add_str(o, "pod_cidr6", cidr);
		np_lab_gw_ip(n, AF_INET, ip, sizeof(ip));
		add_str(o, "gateway4", ip);
		np_lab_gw_ip(n, AF_INET6, ip, sizeof(ip));
		add_str(o, "gateway6", ip);
		pods = json_object_new_array();
		for (unsigned int k = 1; k <= l->pods; k++) {
			p = json_object_new_object();
			snprintf(dev, sizeof(dev), "pod%u", k);
			add_str(p, "name", dev);
			ns_pod(l, n, k, ns);
			add_str(p, "netns", ns);
			CHECK_NS(ns);
			/* The device kind; `datapath`: an endpoint of nodepath's datapath. */
			add_str(p, "dev", l->pod_dev == NP_LAB_POD_NETKIT ? "netkit" : "veth");
			json_object_object_add(
				p, "datapath",
				json_object_new_boolean(l->pod_dev != NP_LAB_POD_NONE));
			add_str(p, "pod_dev", "nic0");
			add_str(p, "host_dev", dev);
			np_lab_pod_ip(n, k, AF_INET, ip, sizeof(ip));
			add_str(p, "ipv4", ip);
			np_lab_pod_ip(n, k, AF_INET6, ip, sizeof(ip));
			add_str(p, "ipv6", ip);
			json_object_array_add(pods, p);
		}
		json_object_object_add(o, "pods", pods);
		json_object_array_add(arr, o);
	}
	json_object_object_add(doc, "nodes", arr);
#undef CHECK_NS

	if (check) {
		json_object_object_add(doc, "healthy", json_object_new_boolean(*missing == 0));
		json_object_object_add(doc, "missing", miss);
	}
	return doc;
}

static int state_write(const struct lab *l)
{
	char path[256], tmp[272];
	struct json_object *doc;
	unsigned int missing;
	int err = 0;

	state_path(l->name, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	doc = lab_doc(l, false, &missing);
	if (json_object_to_file_ext(tmp, doc,
				    JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE))
		err = errno ? -errno : -EIO;
	else if (rename(tmp, path))
		err = -errno;
	json_object_put(doc);
	if (err) {
		unlink(tmp);
		np_err("write %s: %s", path, strerror(-err));
	}
	return err;
}

/* ---- building -------------------------------------------------------- */

static double ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1e3 + (t.tv_nsec - t0->tv_nsec) / 1e6;
}

static int sysctls(const char *const *kv)
{
	int err;

	for (; *kv; kv += 2) {
		err = np_sysctl_write(kv[0], kv[1]);
		if (err)
			return err;
	}
	return 0;
}

enum role { ROLE_FABRIC, ROLE_CLIENT, ROLE_NODE, ROLE_POD };

/*
 * Create netns <ns> and leave the thread in it, with lo up and the defaults
 * every later link inherits: IPv6 on, no RA, no DAD. Nodes forward; nothing
 * sends or takes ICMP redirects, so paths stay the ones the routes say. A new
 * netns copies its IPv4 "all"/"default" settings from the root namespace
 * (net.core.devconf_inherit_init_net=0), so rp_filter is set explicitly: the
 * lab then behaves the same whatever the host's setting is (the topology
 * itself passes strict checking, but datapath redirects need not).
 */
static int ns_prepare(const char *ns, enum role role)
{
	static const char *const common[] = {
		"net/ipv6/conf/all/disable_ipv6",
		"0",
		"net/ipv6/conf/default/disable_ipv6",
		"0",
		"net/ipv6/conf/all/accept_ra",
		"0",
		"net/ipv6/conf/default/accept_ra",
		"0",
		"net/ipv6/conf/all/accept_dad",
		"0",
		"net/ipv6/conf/default/accept_dad",
		"0",
		"net/ipv4/conf/all/accept_redirects",
		"0",
		"net/ipv4/conf/default/accept_redirects",
		"0",
		"net/ipv6/conf/all/accept_redirects",
		"0",
		"net/ipv6/conf/default/accept_redirects",
		"0",
		"net/ipv4/conf/all/rp_filter",
		"0",
		"net/ipv4/conf/default/rp_filter",
		"0",
		NULL,
	};
	static const char *const node[] = {
		"net/ipv4/ip_forward",
		"1",
		"net/ipv6/conf/all/forwarding",
		"1",
		"net/ipv4/conf/all/send_redirects",
		"0",
		"net/ipv4/conf/default/send_redirects",
		"0",
		NULL,
	};
	int err;

	err = np_netns_create(ns);
	if (err) {
		np_err("create netns %s: %s", ns, strerror(-err));
		return err;
	}
	err = np_netns_enter(ns);
	if (err) {
		np_err("enter netns %s: %s", ns, strerror(-err));
		return err;
	}
	err = np_nl_link_set_up("lo", true);
	if (!err)
		err = sysctls(common);
	if (!err && role == ROLE_NODE)
		err = sysctls(node);
	return err;
}

static int ns_enter(const char *ns)
{
	int err = np_netns_enter(ns);

	if (err)
		np_err("enter netns %s: %s", ns, strerror(-err));
	return err;
}

/* Per-link IPv6 settings (already inherited from "default"; said again here). */
static int link_prepare(const char *dev)
{
	static const char *const keys[] = {
		"disable_ipv6", "0", "accept_ra", "0", "accept_dad", "0"
	};
	char path[128];
	int err;

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i += 2) {
		snprintf(path, sizeof(path), "net/ipv6/conf/%s/%s", dev, keys[i]);
		err = np_sysctl_write(path, keys[i + 1]);
		if (err)
			return err;
	}
	return 0;
}

/*
 * In netns <here>: create veth <dev> with its peer <peer_dev> placed directly
 * in <peer_ns>, enslave it to <master> (if any) and bring it up,
 * with queues rx and tx queues on both ends (0: the default).
 */
static int veth_link(const char *here, const char *dev, const char *master, const char *peer_ns,
		     const char *peer_dev, unsigned int queues)
{
	int fd, err;

	err = ns_enter(here);
	if (err)
		return err;
	fd = np_netns_open(peer_ns);
	if (fd < 0) {
		np_err("open netns %s: %s", peer_ns, strerror(-fd));
		return fd;
	}
	err = np_nl_veth_add_queues(dev, peer_dev, fd, queues);
	close(fd);
	if (err)
		return err;
	err = link_prepare(dev);
	if (!err && master)
		err = np_nl_link_set_master(dev, master);
	/*
	 * GRO on the fabric side: the veth then runs NAPI, which is what takes
	 * the xdp_frames a node's native XDP redirects out of its uplink;
	 * without NAPI (no GRO, no XDP program) the peer refuses them and they
	 * never reach br0. XDP_TX needs more than NAPI on a veth peer (the kernel
	 * schedules the peer's NAPI after XDP_TX only when the peer has an XDP
	 * program), so the datapath redirects instead of XDP_TX on veth uplinks
	 * (NP_FEAT_TX_REDIRECT). Clients' ports alike.
	 */
	if (!err) {
		err = np_dev_set_gro(dev, true);
		if (err)
			np_err("set GRO on for %s in netns %s (SIOCETHTOOL): %s", dev, here,
			       strerror(-err));
	}
	if (!err)
		err = np_nl_link_set_up(dev, true);
	return err;
}

static int addrs(const char *dev, const char *a4, unsigned int l4, const char *a6, unsigned int l6)
{
	char cidr[IP_LEN + 8];
	int err;

	snprintf(cidr, sizeof(cidr), "%s/%u", a4, l4);
	err = np_nl_addr_add_str(dev, cidr);
	if (err)
		return err;
	snprintf(cidr, sizeof(cidr), "%s/%u", a6, l6);
	return np_nl_addr_add_str(dev, cidr);
}

static void progress(bool quiet, const char *ns, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void progress(bool quiet, const char *ns, const char *fmt, ...)
{
	va_list ap;

	if (quiet)
		return;
	printf("  %-18s ", ns);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static int build_fabric(const struct lab *l, bool quiet)
{
	char ns[NS_LEN];
	int err;

	ns_fabric(l, ns);
	err = ns_prepare(ns, ROLE_FABRIC);
	if (!err)
		err = np_nl_bridge_add("br0");
	if (!err)
		err = link_prepare("br0");
	if (!err)
		err = np_nl_link_set_up("br0", true);
	if (!err)
		progress(quiet, ns, "bridge br0");
	return err;
}

static int build_client(const struct lab *l, unsigned int i, bool quiet)
{
	char ns[NS_LEN], fab[NS_LEN], dev[16], a4[IP_LEN], a6[IP_LEN], g4[IP_LEN], g6[IP_LEN];
	int err;

	ns_client(l, i, ns);
	ns_fabric(l, fab);
	snprintf(dev, sizeof(dev), "c%u", i);
	np_lab_client_ip(i, AF_INET, a4, sizeof(a4));
	np_lab_client_ip(i, AF_INET6, a6, sizeof(a6));
	np_lab_node_ip(1, AF_INET, g4, sizeof(g4));
	np_lab_node_ip(1, AF_INET6, g6, sizeof(g6));

	err = ns_prepare(ns, ROLE_CLIENT);
	if (!err)
		err = veth_link(fab, dev, "br0", ns, "nic0", 0);
	if (!err)
		err = ns_enter(ns);
	if (!err)
		err = link_prepare("nic0");
	if (!err)
		err = np_nl_link_set_up("nic0", true);
	if (!err)
		err = addrs("nic0", a4, 24, a6, 64);
	/* Service VIPs and every node's pods through node 1. */
	if (!err)
		err = np_nl_route_add_str("198.18.100.0/24", g4, "nic0");
	if (!err)
		err = np_nl_route_add_str("198.19.0.0/16", g4, "nic0");
	if (!err)
		err = np_nl_route_add_str("fd00:18:100::/64", g6, "nic0");
	if (!err)
		err = np_nl_route_add_str("fd00:19::/32", g6, "nic0");
	if (!err)
		progress(quiet, ns, "nic0 %s/24 %s/64 (fabric side %s)", a4, a6, dev);
	return err;
}

/* The lab's addresses of pod k on node n and of node n's pod gateways. */
static void pod_addrs(unsigned int n, unsigned int k, struct np_ep_addrs *ip,
		      struct np_ep_addrs *gw)
{
	char a[IP_LEN];

	memset(ip, 0, sizeof(*ip));
	memset(gw, 0, sizeof(*gw));
	np_lab_pod_ip(n, k, AF_INET, a, sizeof(a));
	ip->has4 = inet_pton(AF_INET, a, &ip->ip4) == 1;
	np_lab_pod_ip(n, k, AF_INET6, a, sizeof(a));
	ip->has6 = inet_pton(AF_INET6, a, &ip->ip6) == 1;
	np_lab_gw_ip(n, AF_INET, a, sizeof(a));
	gw->has4 = inet_pton(AF_INET, a, &gw->ip4) == 1;
	np_lab_gw_ip(n, AF_INET6, a, sizeof(a));
	gw->has6 = inet_pton(AF_INET6, a, &gw->ip6) == 1;
}

/*
 * The pod's namespace; with --pod-dev none also its plain veth pair, routed
 * by the node's stack (the same plumbing `endpoint add` uses, without the
 * datapath). Otherwise node_datapath() makes the pod an endpoint later.
 */
static int build_pod(const struct lab *l, unsigned int n, unsigned int k, bool quiet)
{
	char ns[NS_LEN], node[NS_LEN], dev[16], a4[IP_LEN], a6[IP_LEN];
	struct np_pod_link pl = { .kind = NP_EP_KIND_VETH };
	struct np_pod_link_info info;
	int err;

	ns_pod(l, n, k, ns);
	ns_node(l, n, node);
	err = ns_prepare(ns, ROLE_POD);
	if (err || l->pod_dev != NP_LAB_POD_NONE)
		return err;
	snprintf(dev, sizeof(dev), "pod%u", k);
	np_lab_pod_ip(n, k, AF_INET, a4, sizeof(a4));
	np_lab_pod_ip(n, k, AF_INET6, a6, sizeof(a6));
	pl.host = dev;
	pl.pod_ns = ns;
	pod_addrs(n, k, &pl.ip, &pl.gw);
	err = ns_enter(node);
	if (!err)
		err = np_pod_link_create(&pl, &info);
	if (!err)
		progress(quiet, ns, "nic0 %s/32 %s/128 (node side %s, host stack)", a4, a6, dev);
	return err;
}

/* Exit status of node_datapath()'s child when its pods are netkit endpoints. */
#define CHILD_NETKIT 64

/*
 * The child's half of node_datapath(): `up` on the uplink, then `endpoint
 * add` per pod. 0 or CHILD_NETKIT on success, else -errno (logged here).
 */
static int node_datapath_child(const struct lab *l, unsigned int n, enum np_ep_kind kind,
			       bool quiet)
{
	char ns[NS_LEN], pod[NS_LEN], cidr[64], ips[2 * IP_LEN + 2], msg[256], name[16];
	char a4[IP_LEN], a6[IP_LEN];
	struct np_node_cfg pods = { 0 };
	struct np_ep_add_opts o = { 0 };
	struct np_ep_info e = { 0 };
	struct np_node node;
	int err;

	ns_node(l, n, ns);
	snprintf(cidr, sizeof(cidr), "198.19.%u.0/24,fd00:19:%u::/64", n, n);
	err = np_ep_parse_pod_cidr(cidr, &pods, msg, sizeof(msg));
	if (err) {
		np_err("%s", msg);
		return err;
	}
	err = np_node_open(ns, NP_NODE_CREATE | NP_NODE_LOCK, &node);
	if (err)
		return err;
	err = np_dp_up(&node, "uplink", NP_XDP_NATIVE, NP_PF_DEFAULT_SIZE, &pods);
	if (err) {
		np_node_discard(&node);
		np_node_close(&node);
		return err;
	}
	progress(quiet, ns, "nodepath up: uplink, XDP native + tcx, pod range %s", cidr);
	e.kind = kind;
	for (unsigned int k = 1; !err && k <= l->pods; k++) {
		ns_pod(l, n, k, pod);
		snprintf(name, sizeof(name), "pod%u", k);
		np_lab_pod_ip(n, k, AF_INET, a4, sizeof(a4));
		np_lab_pod_ip(n, k, AF_INET6, a6, sizeof(a6));
		snprintf(ips, sizeof(ips), "%s,%s", a4, a6);
		o.netns = pod;
		o.ip = ips;
		o.name = name;
		/* auto is decided once, by the first pod, and says so once. */
		o.kind = e.kind;
		o.quiet = quiet;
		/* A tx queue per AF_XDP worker (one per uplink queue). */
		o.queues = l->queues > 1 ? l->queues : 0;
		err = np_ep_add(&node, &o, &e);
		if (!err)
			progress(quiet, pod, "nic0 %s/32 %s/128 (endpoint %s, %s)", a4, a6, name,
				 np_ep_kind_name(e.kind));
	}
	np_node_close(&node);
	if (err)
		return err;
	return e.kind == NP_EP_KIND_NETKIT ? CHILD_NETKIT : 0;
}

/*
 * Bring node n's datapath up and make its pods endpoints, in a child
 * process: libxdp reads its bpffs directory (LIBXDP_BPFFS, per node) once
 * per process. *kind: what the pods became. The child logs why it failed
 * and sends its -errno through a pipe, so the lab's summary names the cause.
 */
static int node_datapath(const struct lab *l, unsigned int n, enum np_ep_kind *kind, bool quiet)
{
	int status, fds[2], child_err = 0;
	ssize_t got;
	pid_t pid;

	if (pipe(fds)) {
		np_err("pipe for node %u: %s", n, strerror(errno));
		return -errno;
	}
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		status = -errno;
		np_err("fork for node %u: %s", n, strerror(-status));
		close(fds[0]);
		close(fds[1]);
		return status;
	}
	if (pid == 0) {
		close(fds[0]);
		status = node_datapath_child(l, n, *kind, quiet);
		if (status < 0 && write(fds[1], &status, sizeof(status)) != sizeof(status))
			status = -EIO;
		fflush(stdout);
		fflush(stderr);
		_exit(status < 0 ? 1 : status);
	}
	close(fds[1]);
	do
		got = read(fds[0], &child_err, sizeof(child_err));
	while (got < 0 && errno == EINTR);
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (WIFEXITED(status) && (!WEXITSTATUS(status) || WEXITSTATUS(status) == CHILD_NETKIT)) {
		*kind = WEXITSTATUS(status) == CHILD_NETKIT ? NP_EP_KIND_NETKIT : NP_EP_KIND_VETH;
		return 0;
	}
	if (got != sizeof(child_err) || child_err >= 0) {
		/* It died without a word (a signal, or a failed write). */
		if (WIFSIGNALED(status))
			np_err("node %u: datapath child killed by signal %d", n, WTERMSIG(status));
		else
			np_err("node %u: datapath child exited with status %d", n,
			       WEXITSTATUS(status));
		return -ECHILD;
	}
	np_err("node %u: datapath up failed (see above)", n);
	return child_err;
}

static int build_node(const struct lab *l, unsigned int n, bool quiet)
{
	char ns[NS_LEN], fab[NS_LEN], dev[16], a4[IP_LEN], a6[IP_LEN], via[IP_LEN], dst[IP_LEN];
	int err;

	ns_node(l, n, ns);
	ns_fabric(l, fab);
	snprintf(dev, sizeof(dev), "n%u", n);
	np_lab_node_ip(n, AF_INET, a4, sizeof(a4));
	np_lab_node_ip(n, AF_INET6, a6, sizeof(a6));

	err = ns_prepare(ns, ROLE_NODE);
	if (!err)
		err = veth_link(fab, dev, "br0", ns, "uplink", l->queues > 1 ? l->queues : 0);
	if (!err)
		err = ns_enter(ns);
	if (!err)
		err = link_prepare("uplink");
	if (!err)
		err = np_nl_link_set_up("uplink", true);
	if (!err)
		err = addrs("uplink", a4, 24, a6, 64);
	/* Other nodes' pods through their uplink address. */
	for (unsigned int m = 1; !err && m <= l->nodes; m++) {
		if (m == n)
			continue;
		np_lab_node_ip(m, AF_INET, via, sizeof(via));
		snprintf(dst, sizeof(dst), "198.19.%u.0/24", m);
		err = np_nl_route_add_str(dst, via, "uplink");
		if (err)
			break;
		np_lab_node_ip(m, AF_INET6, via, sizeof(via));
		snprintf(dst, sizeof(dst), "fd00:19:%u::/64", m);
		err = np_nl_route_add_str(dst, via, "uplink");
	}
	if (err)
		return err;
	progress(quiet, ns,
		 "uplink %s/24 %s/64 (fabric side %s), pods 198.19.%u.0/24 fd00:19:%u::/64", a4, a6,
		 dev, n, n);
	for (unsigned int k = 1; !err && k <= l->pods; k++)
		err = build_pod(l, n, k, quiet);
	return err;
}

static int lab_build(struct lab *l, bool quiet)
{
	enum np_ep_kind kind = l->pod_dev == NP_LAB_POD_VETH	 ? NP_EP_KIND_VETH
			       : l->pod_dev == NP_LAB_POD_NETKIT ? NP_EP_KIND_NETKIT
								 : NP_EP_KIND_AUTO;
	int saved, err, rerr;

	saved = np_netns_save();
	if (saved < 0) {
		np_err("open the current netns: %s", strerror(-saved));
		return saved;
	}
	err = build_fabric(l, quiet);
	for (unsigned int i = 1; !err && i <= l->clients; i++)
		err = build_client(l, i, quiet);
	for (unsigned int n = 1; !err && n <= l->nodes; n++) {
		err = build_node(l, n, quiet);
		if (!err && l->pod_dev != NP_LAB_POD_NONE)
			err = node_datapath(l, n, &kind, quiet);
	}
	if (!err && l->pod_dev != NP_LAB_POD_NONE)
		l->pod_dev = kind == NP_EP_KIND_NETKIT ? NP_LAB_POD_NETKIT : NP_LAB_POD_VETH;
	/* Always come back to where we started, even after a failure. */
	rerr = np_netns_return(saved);
	if (rerr) {
		np_err("return to the original netns: %s", strerror(-rerr));
		if (!err)
			err = rerr;
	}
	return err;
}

/* ---- finding and removing ------------------------------------------------- */

struct ns_list {
	char (*names)[NS_LEN];
	unsigned int n, cap;
};

static int list_add(struct ns_list *ls, const char *name)
{
	void *p;

	for (unsigned int i = 0; i < ls->n; i++)
		if (!strcmp(ls->names[i], name))
			return 0;
	if (ls->n == ls->cap) {
		p = realloc(ls->names, (ls->cap ? ls->cap * 2 : 32) * sizeof(*ls->names));
		if (!p)
			return -ENOMEM;
		ls->names = p;
		ls->cap = ls->cap ? ls->cap * 2 : 32;
	}
	snprintf(ls->names[ls->n++], NS_LEN, "%s", name);
	return 0;
}

/* Namespaces under /run/netns that belong to lab <name>. */
static int list_strays(const char *name, struct ns_list *ls)
{
	struct dirent *de;
	DIR *d;
	int err = 0;

	d = opendir(NP_NETNS_RUN_DIR);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while (!err && (de = readdir(d)))
		if (strlen(de->d_name) < NS_LEN && lab_owns(name, de->d_name))
			err = list_add(ls, de->d_name);
	closedir(d);
	return err;
}

/* The namespaces a shape implies, pods first and the fabric last. */
static int list_shape(const struct lab *l, struct ns_list *ls)
{
	char ns[NS_LEN];
	int err = 0;

	for (unsigned int n = 1; !err && n <= l->nodes; n++)
		for (unsigned int k = 1; !err && k <= l->pods; k++) {
			ns_pod(l, n, k, ns);
			err = list_add(ls, ns);
		}
	for (unsigned int n = 1; !err && n <= l->nodes; n++) {
		ns_node(l, n, ns);
		err = list_add(ls, ns);
	}
	for (unsigned int i = 1; !err && i <= l->clients; i++) {
		ns_client(l, i, ns);
		err = list_add(ls, ns);
	}
	if (!err) {
		ns_fabric(l, ns);
		err = list_add(ls, ns);
	}
	return err;
}

static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	if (type == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

/*
 * A node's bpffs pins outlive its namespace; once the namespace is gone they
 * pin programs for devices that no longer exist. Best effort.
 */
static void remove_pins(const char *ns)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", PIN_ROOT, ns);
	if (access(path, F_OK))
		return;
	nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	if (!access(path, F_OK))
		np_warn("could not remove all of %s", path);
}

/*
 * Deleting a namespace only drops its name: a process still running inside
 * keeps it (and its devices) alive. Say so, naming a few of them.
 */
static void warn_lingering(const struct ns_list *ls)
{
	char path[300], comm[32];
	unsigned int n = ls->n, found;
	struct dirent *de;
	struct stat st;
	ino_t *ino;
	DIR *d;

	ino = calloc(n ? n : 1, sizeof(*ino));
	if (!ino)
		return;
	for (unsigned int i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", NP_NETNS_RUN_DIR, ls->names[i]);
		ino[i] = stat(path, &st) ? 0 : st.st_ino;
	}
	d = opendir("/proc");
	if (!d)
		goto out;
	found = 0;
	while ((de = readdir(d)) && found < 5) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/ns/net", de->d_name);
		if (stat(path, &st))
			continue;
		for (unsigned int i = 0; i < n; i++) {
			FILE *f;

			if (!ino[i] || st.st_ino != ino[i])
				continue;
			snprintf(path, sizeof(path), "/proc/%s/comm", de->d_name);
			comm[0] = '\0';
			f = fopen(path, "re");
			if (f) {
				if (fgets(comm, sizeof(comm), f))
					comm[strcspn(comm, "\n")] = '\0';
				fclose(f);
			}
			np_warn("process %s (%s) still runs in netns %s; it keeps the namespace "
				"and its devices until it exits",
				de->d_name, comm, ls->names[i]);
			found++;
			break;
		}
	}
	closedir(d);
out:
	free(ino);
}

/* Remove lab <name>: what the state lists and any strays. Lock held. */
static int lab_teardown(const char *name, unsigned int *removed, bool *had_state)
{
	struct ns_list ls = { 0 };
	char path[256];
	struct lab l;
	int err, first = 0;

	*removed = 0;
	*had_state = false;
	err = state_read(name, &l);
	if (!err)
		err = list_shape(&l, &ls);
	else if (err == -ENOENT || err == -EBADMSG)
		err = 0;
	if (!err)
		err = list_strays(name, &ls);
	if (err) {
		np_err("list the namespaces of lab \"%s\": %s", name, strerror(-err));
		free(ls.names);
		return err;
	}
	warn_lingering(&ls);
	for (unsigned int i = 0; i < ls.n; i++) {
		remove_pins(ls.names[i]);
		err = np_netns_delete(ls.names[i]);
		if (!err)
			(*removed)++;
		else if (err != -ENOENT && !first) {
			np_err("delete netns %s: %s", ls.names[i], strerror(-err));
			first = err;
		}
	}
	free(ls.names);
	state_path(name, path, sizeof(path));
	if (unlink(path) == 0)
		*had_state = true;
	else if (errno != ENOENT && !first) {
		first = -errno;
		np_err("remove %s: %s", path, strerror(errno));
	}
	return first;
}

/* Keep Ctrl-C from leaving half a lab: finish or roll back first. */
static void block_signals(sigset_t *old)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGQUIT);
	sigprocmask(SIG_BLOCK, &set, old);
}

int np_lab_up(const struct np_lab_opts *o)
{
	struct ns_list strays = { 0 };
	unsigned int removed;
	struct timespec t0;
	struct lab l = { 0 };
	bool had_state;
	sigset_t old;
	int lock, err;

	if (!np_lab_name_ok(o->name ? o->name : NP_LAB_DEFAULT_NAME))
		return -EINVAL;
	if (o->clients < 1 || o->clients > NP_LAB_MAX_CLIENTS || o->nodes < 1 ||
	    o->nodes > NP_LAB_MAX_NODES || o->pods < 1 || o->pods > NP_LAB_MAX_PODS ||
	    o->queues > NP_LAB_MAX_QUEUES)
		return -ERANGE;
	snprintf(l.name, sizeof(l.name), "%s", o->name ? o->name : NP_LAB_DEFAULT_NAME);
	l.clients = o->clients;
	l.nodes = o->nodes;
	l.pods = o->pods;
	l.queues = o->queues ? o->queues : 1;
	l.pod_dev = o->pod_dev;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	lock = lab_lock();
	if (lock < 0)
		return lock;
	err = list_strays(l.name, &strays);
	if (!err && (strays.n || state_exists(l.name)))
		err = -EEXIST;
	free(strays.names);
	if (err)
		goto out_unlock;

	block_signals(&old);
	if (!o->quiet) {
		printf("lab \"%s\": %u client%s, %u node%s, %u pod%s per node\n", l.name, l.clients,
		       l.clients == 1 ? "" : "s", l.nodes, l.nodes == 1 ? "" : "s", l.pods,
		       l.pods == 1 ? "" : "s");
		fflush(stdout);
	}
	err = lab_build(&l, o->quiet);
	if (!err)
		err = state_write(&l);
	if (err) {
		lab_teardown(l.name, &removed, &had_state);
		np_err("lab \"%s\" up failed (%s); removed the %u namespace%s it had created",
		       l.name, strerror(-err), removed, removed == 1 ? "" : "s");
	} else if (!o->quiet) {
		printf("lab \"%s\" up: %u client%s, %u node%s, %u pods, %u namespaces in %.1f ms\n",
		       l.name, l.clients, l.clients == 1 ? "" : "s", l.nodes,
		       l.nodes == 1 ? "" : "s", l.nodes * l.pods,
		       1 + l.clients + l.nodes * (1 + l.pods), ms_since(&t0));
		if (l.pod_dev == NP_LAB_POD_NONE)
			printf("pods: plain veth, routed by the nodes' host stack (no datapath)\n");
		else
			printf("pods: %s endpoints of the nodepath datapath (see: nodepath --node "
			       "%s-node1 endpoint list)\n",
			       pod_dev_names[l.pod_dev], l.name);
		printf("try: ip netns exec %s-client1 ping -c1 198.19.%u.11\n", l.name, l.nodes);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
out_unlock:
	lab_unlock(lock);
	return err;
}

int np_lab_down(const char *name, bool quiet)
{
	unsigned int removed;
	struct timespec t0;
	bool had_state;
	sigset_t old;
	int lock, err;

	if (!np_lab_name_ok(name))
		return -EINVAL;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	lock = lab_lock();
	if (lock < 0)
		return lock;
	block_signals(&old);
	err = lab_teardown(name, &removed, &had_state);
	sigprocmask(SIG_SETMASK, &old, NULL);
	lab_unlock(lock);
	if (err)
		return err;
	if (!removed && !had_state)
		return -ENOENT;
	if (!quiet)
		printf("lab \"%s\" down: removed %u namespace%s in %.1f ms\n", name, removed,
		       removed == 1 ? "" : "s", ms_since(&t0));
	return 0;
}

/* ---- status ---------------------------------------------------------- */

static const char *str_of(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : "-";
}

static void row(const char *ns, const char *role, const char *dev, const char *a4, const char *a6)
{
	printf("%-20s %-7s %-7s %-15s %-16s %s\n", ns, role, dev, a4, a6,
	       np_netns_exists(ns) ? "ok" : "MISSING");
}

static void print_table(struct json_object *doc, unsigned int missing)
{
	struct json_object *arr, *o, *pods, *p, *fab;
	size_t na, np;

	printf("%-20s %-7s %-7s %-15s %-16s %s\n", "NAMESPACE", "ROLE", "DEV", "IPV4", "IPV6",
	       "STATE");
	if (json_object_object_get_ex(doc, "fabric", &fab))
		row(str_of(fab, "netns"), "fabric", str_of(fab, "bridge"), "-", "-");
	if (json_object_object_get_ex(doc, "clients", &arr)) {
		na = json_object_array_length(arr);
		for (size_t i = 0; i < na; i++) {
			o = json_object_array_get_idx(arr, i);
			row(str_of(o, "netns"), "client", str_of(o, "dev"), str_of(o, "ipv4"),
			    str_of(o, "ipv6"));
		}
	}
	if (json_object_object_get_ex(doc, "nodes", &arr)) {
		na = json_object_array_length(arr);
		for (size_t i = 0; i < na; i++) {
			o = json_object_array_get_idx(arr, i);
			row(str_of(o, "netns"), "node", str_of(o, "uplink"), str_of(o, "ipv4"),
			    str_of(o, "ipv6"));
			if (!json_object_object_get_ex(o, "pods", &pods))
				continue;
			np = json_object_array_length(pods);
			for (size_t k = 0; k < np; k++) {
				p = json_object_array_get_idx(pods, k);
				row(str_of(p, "netns"), "pod", str_of(p, "dev"), str_of(p, "ipv4"),
				    str_of(p, "ipv6"));
			}
		}
	}
	if (missing)
		printf("%u namespace%s missing: run `nodepath lab down --name %s` and up again\n",
		       missing, missing == 1 ? "" : "s", str_of(doc, "name"));
}

int np_lab_status(const char *name, bool json)
{
	struct ns_list strays = { 0 };
	struct json_object *doc;
	unsigned int missing;
	struct lab l;
	int err;

	if (!np_lab_name_ok(name))
		return -EINVAL;
	err = state_read(name, &l);
	if (err == -ENOENT) {
		/* No state: either no lab at all or the remains of a failed one. */
		err = list_strays(name, &strays);
		if (!err && strays.n) {
			np_err("lab \"%s\" has no state file but %u namespace%s (e.g. %s): run "
			       "`nodepath lab down --name %s`",
			       name, strays.n, strays.n == 1 ? "" : "s", strays.names[0], name);
			err = -EIO;
		} else if (!err) {
			err = -ENOENT;
		}
		free(strays.names);
		return err;
	}
	if (err) {
		np_err("read the state of lab \"%s\": %s", name, strerror(-err));
		return err;
	}
	doc = lab_doc(&l, true, &missing);
	if (json) {
		printf("%s\n",
		       json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY |
								   JSON_C_TO_STRING_NOSLASHESCAPE));
	} else {
		printf("lab \"%s\": %u client%s, %u node%s, %u pods per node; %s\n", l.name,
		       l.clients, l.clients == 1 ? "" : "s", l.nodes, l.nodes == 1 ? "" : "s",
		       l.pods, missing ? "DAMAGED" : "all namespaces present");
		print_table(doc, missing);
	}
	json_object_put(doc);
	return missing ? -EIO : 0;
}
