// SPDX-License-Identifier: GPL-2.0
/*
 * Golden BPF_PROG_TEST_RUN fixtures for service load balancing. Every
 * uplink fixture runs through the XDP program (np_xdp_uplink) and the tcx
 * uplink program (np_tc_uplink_in) in turn, each on a fresh conntrack, and
 * must give the corresponding verdict, the same rewritten IP packet (byte
 * for byte, checksums recomputed in full here), the same statistics and the
 * same conntrack entries. Pod-egress fixtures run np_pod_from.
 *
 * The test moves into a network namespace of its own (bpf_fib_lookup()
 * resolves in the caller's namespace):
 *   up0    the "uplink": 198.18.0.1/24, fd00:18::1/64 (the node addresses),
 *          permanent neighbours: the client .101 / ::101 and node 2 .2 / ::2;
 *   pod1, pod2  veth host ends standing in for two local endpoints.
 *
 * Services (np_svc), backends (np_backends), Maglev tables (inner maps made
 * here) and endpoints are seeded by the test; the objects share their maps
 * through a private pin root.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <linux/if_ether.h>
#include <linux/neighbour.h>
#include <linux/pkt_cls.h>
#include <linux/rtnetlink.h>

#include <cmocka.h>
#include <libmnl/libmnl.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <nodepath/abi.h>

#include "nl.h"
#include "common/np_bpftest.h"
#include "common/np_nltest.h"
#include "common/np_pktb.h"

#define P_TCP 6
#define P_UDP 17

#define NODE4 "198.18.0.1"
#define NODE6 "fd00:18::1"
#define CLIENT4 "198.18.0.101"
#define CLIENT6 "fd00:18::101"
#define NODE2_4 "198.18.0.2"
#define NODE2_6 "fd00:18::2"
#define POD1_4 "198.19.1.11"
#define POD1_6 "fd00:19:1::11"
#define POD2_4 "198.19.1.12"
#define POD2_6 "fd00:19:1::12"

#define VIP_LOCAL "198.18.100.10"
#define VIP_REMOTE "198.18.100.11"
#define VIP_SRCR "198.18.100.12"
#define VIP_EMPTY "198.18.100.13"
#define VIP_TERM "198.18.100.14"
#define VIP_AFF "198.18.100.15"
#define VIP_RAND "198.18.100.16"
#define VIP_UDP "198.18.100.17"
#define VIP6_LOCAL "fd00:18:100::10"
#define VIP6_REMOTE "fd00:18:100::11"
#define VIP_DSR "198.18.100.20"
#define VIP6_DSR "fd00:18:100::20"

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10
#define TCP_SYNACK 0x12

static const uint8_t client_mac[6] = { 0x02, 0, 0, 0, 0, 0x65 };
static const uint8_t node2_mac[6] = { 0x02, 0, 0, 0, 0, 0x02 };
static const uint8_t pod1_mac[6] = { 0x02, 0, 0, 0, 0x01, 0x11 };
static const uint8_t pod1_host[6] = { 0x02, 0, 0, 0, 0x01, 0x01 };
static const uint8_t pod2_mac[6] = { 0x02, 0, 0, 0, 0x02, 0x11 };
static const uint8_t pod2_host[6] = { 0x02, 0, 0, 0, 0x02, 0x01 };

enum { RUN_XDP = 0, RUN_TC = 1 };
static const char *const run_names[2] = { "xdp", "tc" };

static struct {
	int ready;
	const char *why_not;
	char pin_dir[96];
	struct bpf_object *xdp_obj, *tc_obj, *pod_obj;
	int xdp_fd, tc_fd, pod_fd;
	int stats_fd, svc_fd, maglev_fd, be_fd, ct_fd, aff_fd, srcr_fd, node_fd, naddr_fd;
	int eps_fd, dev_fd;
	int ncpus;
	int up0, pod1, pod2;
	uint8_t up0_mac[6];
} env;

static int if_mac(const char *ifname, uint8_t *mac)
{
	struct ifreq ifr;
	int fd, err = 0;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr))
		err = -errno;
	else
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	close(fd);
	return err;
}

static int netns_setup(void)
{
	int err;

	if (unshare(CLONE_NEWNET))
		return -errno;
	err = np_nl_link_set_up("lo", true);
	if (!err)
		err = np_sysctl_write("net/ipv4/conf/all/forwarding", "1");
	if (!err)
		err = np_sysctl_write("net/ipv6/conf/all/forwarding", "1");
	if (!err)
		err = np_sysctl_write("net/ipv6/conf/default/accept_dad", "0");
	if (!err)
		err = np_nl_veth_add("up0", "up0p", -1);
	if (!err)
		err = np_nl_veth_add("pod1", "pod1p", -1);
	if (!err)
		err = np_nl_veth_add("pod2", "pod2p", -1);
	if (!err)
		err = np_nl_link_set_up("up0", true);
	if (!err)
		err = np_nl_link_set_up("up0p", true);
	if (!err)
		err = np_nl_link_set_up("pod1", true);
	if (!err)
		err = np_nl_link_set_up("pod1p", true);
	if (!err)
		err = np_nl_link_set_up("pod2", true);
	if (!err)
		err = np_nl_link_set_up("pod2p", true);
	if (!err)
		err = np_nl_addr_add_str("up0", NODE4 "/24");
	if (!err)
		err = np_nl_addr_add_str("up0", NODE6 "/64");
	if (err)
		return err;
	env.up0 = np_nl_link_index("up0");
	env.pod1 = np_nl_link_index("pod1");
	env.pod2 = np_nl_link_index("pod2");
	if (env.up0 < 0 || env.pod1 < 0 || env.pod2 < 0)
		return -ENODEV;
	err = if_mac("up0", env.up0_mac);
	if (!err)
		err = np_nltest_neigh_add(env.up0, AF_INET, CLIENT4, client_mac);
	if (!err)
		err = np_nltest_neigh_add(env.up0, AF_INET6, CLIENT6, client_mac);
	if (!err)
		err = np_nltest_neigh_add(env.up0, AF_INET, NODE2_4, node2_mac);
	if (!err)
		err = np_nltest_neigh_add(env.up0, AF_INET6, NODE2_6, node2_mac);
	/* The pods' replies are forwarded: the FIB wants forwarding on them. */
	if (!err)
		err = np_sysctl_write("net/ipv4/conf/pod1/forwarding", "1");
	if (!err)
		err = np_sysctl_write("net/ipv4/conf/pod2/forwarding", "1");
	return err;
}

/* ---- seeding ------------------------------------------------------------------ */

static int family_of(const char *a)
{
	return strchr(a, ':') ? NP_AF_INET6 : NP_AF_INET;
}

static int put_backend(__u32 id, const char *addr, uint16_t port, __u8 state, int local)
{
	struct np_backend be;

	memset(&be, 0, sizeof(be));
	be.family = (__u8)family_of(addr);
	be.state = state;
	be.port = htons(port);
	be.flags = local ? NP_BE_F_LOCAL : 0;
	np_bpftest_addr(addr, be.addr);
	return bpf_map_update_elem(env.be_fd, &id, &be, BPF_ANY) ? -errno : 0;
}

static int set_backend_state(__u32 id, __u8 state)
{
	struct np_backend be;

	if (bpf_map_lookup_elem(env.be_fd, &id, &be))
		return -errno;
	be.state = state;
	return bpf_map_update_elem(env.be_fd, &id, &be, BPF_ANY) ? -errno : 0;
}

static int put_svc(const char *vip, __u8 proto, uint16_t port, __u8 scope, __u32 id, __u32 flags,
		   __u8 algo, __u32 aff_s, const __u32 *ids, int n)
{
	struct np_svc_key k;
	struct np_svc s;
	int err;

	np_bpftest_svc_key(&k, vip, proto, port, scope);
	memset(&s, 0, sizeof(s));
	s.id = id;
	s.flags = flags;
	s.affinity_s = aff_s;
	s.count = (__u16)n;
	s.algo = algo;
	err = np_bpftest_maglev_table(env.maglev_fd, NP_MAGLEV_SLOT(id, flags), ids, n);
	if (err)
		return err;
	if (bpf_map_update_elem(env.svc_fd, &k, &s, BPF_ANY))
		return -errno;
	/* The VIP marker (proto 0, port 0): non-first fragments are refused. */
	if (scope == NP_SVC_SCOPE_VIP) {
		k.proto = 0;
		k.port = 0;
		memset(&s, 0, sizeof(s));
		if (bpf_map_update_elem(env.svc_fd, &k, &s, BPF_ANY))
			return -errno;
	}
	return 0;
}

static int put_endpoint(__u32 id, int ifindex, const char *ip4, const char *ip6,
			const uint8_t *pod_mac, const uint8_t *host_mac)
{
	struct np_endpoint ep;
	struct np_ep_dev dev;
	struct np_ep_key key;
	__u32 ifx = (__u32)ifindex;

	memset(&ep, 0, sizeof(ep));
	ep.id = id;
	ep.ifindex = (__u32)ifindex;
	ep.flags = NP_EP_F_L2;
	memcpy(ep.pod_mac, pod_mac, 6);
	memcpy(ep.host_mac, host_mac, 6);
	memset(&key, 0, sizeof(key));
	key.family = NP_AF_INET;
	np_bpftest_addr(ip4, key.addr);
	if (bpf_map_update_elem(env.eps_fd, &key, &ep, BPF_ANY))
		return -errno;
	memset(&key, 0, sizeof(key));
	key.family = NP_AF_INET6;
	np_bpftest_addr(ip6, key.addr);
	if (bpf_map_update_elem(env.eps_fd, &key, &ep, BPF_ANY))
		return -errno;
	memset(&dev, 0, sizeof(dev));
	dev.id = id;
	dev.flags = NP_EP_F_L2;
	inet_pton(AF_INET, ip4, dev.ip4);
	inet_pton(AF_INET6, ip6, dev.ip6);
	memcpy(dev.pod_mac, pod_mac, 6);
	memcpy(dev.host_mac, host_mac, 6);
	return bpf_map_update_elem(env.dev_fd, &ifx, &dev, BPF_ANY) ? -errno : 0;
}

/* Backend ids. */
enum {
	BE_POD1 = 1,	 /* pod1:8080, local */
	BE_POD2 = 2,	 /* pod2:8080, local */
	BE_NODE2 = 3,	 /* 198.18.0.2:8080, remote */
	BE_TERM = 4,	 /* pod1:9000, local; its state changes in the tests */
	BE_IDLE = 5,	 /* pod2:7000, active but in no table */
	BE_POD1_UDP = 6, /* pod1:5353 */
	BE6_POD1 = 7,	 /* [pod1]:8080 */
	BE6_POD1_UDP = 8,
	BE6_NODE2 = 9,	    /* [node2]:8080, remote */
	BE_DSR_NODE2 = 10,  /* 198.18.0.2:80, remote (DSR: the service port) */
	BE6_DSR_NODE2 = 11, /* [node2]:80, remote (IPv6 DSR) */
	BE6_DSR_NP = 12,    /* [node2]:30081, remote (IPv6 DSR NodePort) */
};

/* Service ids. */
enum {
	SVC_LOCAL = 1,
	SVC_REMOTE,
	SVC_NODEPORT,
	SVC_SRCR,
	SVC_EMPTY,
	SVC_TERM,
	SVC_AFF,
	SVC_RAND,
	SVC_UDP,
	SVC6_LOCAL,
	SVC6_UDP,
	SVC6_REMOTE,
	SVC_DSR,
	SVC6_DSR,
	SVC6_DSR_NP,
};

static int seed_maps(void)
{
	static const __u32 pod1[] = { BE_POD1 }, pod2[] = { BE_POD2 }, node2[] = { BE_NODE2 },
			   term[] = { BE_TERM }, both[] = { BE_POD1, BE_POD2 },
			   udp[] = { BE_POD1_UDP }, v6[] = { BE6_POD1 }, v6u[] = { BE6_POD1_UDP },
			   v6r[] = { BE6_NODE2 }, dsr[] = { BE_DSR_NODE2 },
			   dsr6[] = { BE6_DSR_NODE2 }, dsr6np[] = { BE6_DSR_NP };
	struct np_node_cfg node;
	struct np_srcr_key sk;
	struct np_ep_key nk;
	__u32 zero = 0, one = 1;
	int err = 0;

	memset(&node, 0, sizeof(node));
	node.abi_version = NP_ABI_VERSION;
	node.flags = NP_NODE_F_UP;
	node.uplink_ifindex = (__u32)env.up0;
	node.maglev_size = NP_MAGLEV_DEFAULT;
	node.ct_size = NP_CT_DEFAULT;
	inet_pton(AF_INET, NODE4, node.node_addr4);
	inet_pton(AF_INET6, NODE6, node.node_addr6);
	inet_pton(AF_INET, "198.19.1.0", node.pod_net4);
	node.pod_len4 = 24;
	inet_pton(AF_INET, "198.19.1.1", node.pod_gw4);
	inet_pton(AF_INET6, "fd00:19:1::1", node.pod_gw6);
	if (bpf_map_update_elem(env.node_fd, &zero, &node, BPF_ANY))
		return -errno;
	memset(&nk, 0, sizeof(nk));
	nk.family = NP_AF_INET;
	np_bpftest_addr(NODE4, nk.addr);
	if (bpf_map_update_elem(env.naddr_fd, &nk, &one, BPF_ANY))
		return -errno;
	memset(&nk, 0, sizeof(nk));
	nk.family = NP_AF_INET6;
	np_bpftest_addr(NODE6, nk.addr);
	if (bpf_map_update_elem(env.naddr_fd, &nk, &one, BPF_ANY))
		return -errno;

	err = put_endpoint(1, env.pod1, POD1_4, POD1_6, pod1_mac, pod1_host);
	err = err ?: put_endpoint(2, env.pod2, POD2_4, POD2_6, pod2_mac, pod2_host);
	err = err ?: put_backend(BE_POD1, POD1_4, 8080, NP_BE_ACTIVE, 1);
	err = err ?: put_backend(BE_POD2, POD2_4, 8080, NP_BE_ACTIVE, 1);
	err = err ?: put_backend(BE_NODE2, NODE2_4, 8080, NP_BE_ACTIVE, 0);
	err = err ?: put_backend(BE_TERM, POD1_4, 9000, NP_BE_ACTIVE, 1);
	err = err ?: put_backend(BE_IDLE, POD2_4, 7000, NP_BE_ACTIVE, 1);
	err = err ?: put_backend(BE_POD1_UDP, POD1_4, 5353, NP_BE_ACTIVE, 1);
	err = err ?: put_backend(BE6_POD1, POD1_6, 8080, NP_BE_ACTIVE, 1);
	err = err ?: put_backend(BE6_POD1_UDP, POD1_6, 5353, NP_BE_ACTIVE, 1);
	err = err ?: put_backend(BE6_NODE2, NODE2_6, 8080, NP_BE_ACTIVE, 0);
	err = err ?: put_backend(BE_DSR_NODE2, NODE2_4, 80, NP_BE_ACTIVE, 0);
	err = err ?: put_backend(BE6_DSR_NODE2, NODE2_6, 80, NP_BE_ACTIVE, 0);
	err = err ?: put_backend(BE6_DSR_NP, NODE2_6, 30081, NP_BE_ACTIVE, 0);
	err = err
		      ?: put_svc(VIP_LOCAL, P_TCP, 80, NP_SVC_SCOPE_VIP, SVC_LOCAL, 0,
				 NP_ALGO_MAGLEV, 0, pod1, 1);
	err = err
		      ?: put_svc(VIP_REMOTE, P_TCP, 80, NP_SVC_SCOPE_VIP, SVC_REMOTE, 0,
				 NP_ALGO_MAGLEV, 0, node2, 1);
	err = err
		      ?: put_svc("0.0.0.0", P_TCP, 30080, NP_SVC_SCOPE_NODEPORT, SVC_NODEPORT, 0,
				 NP_ALGO_MAGLEV, 0, pod2, 1);
	err = err
		      ?: put_svc(VIP_SRCR, P_TCP, 80, NP_SVC_SCOPE_VIP, SVC_SRCR,
				 NP_SVC_F_SRC_RANGE, NP_ALGO_MAGLEV, 0, pod1, 1);
	err = err
		      ?: put_svc(VIP_EMPTY, P_TCP, 80, NP_SVC_SCOPE_VIP, SVC_EMPTY, 0,
				 NP_ALGO_MAGLEV, 0, NULL, 0);
	err = err
		      ?: put_svc(VIP_TERM, P_TCP, 80, NP_SVC_SCOPE_VIP, SVC_TERM, 0, NP_ALGO_MAGLEV,
				 0, term, 1);
	err = err
		      ?: put_svc(VIP_AFF, P_TCP, 80, NP_SVC_SCOPE_VIP, SVC_AFF, NP_SVC_F_AFFINITY,
				 NP_ALGO_RANDOM, 300, both, 2);
	err = err
		      ?: put_svc(VIP_RAND, P_TCP, 80, NP_SVC_SCOPE_VIP, SVC_RAND, 0, NP_ALGO_RANDOM,
				 0, both, 2);
	err = err
		      ?: put_svc(VIP_UDP, P_UDP, 53, NP_SVC_SCOPE_VIP, SVC_UDP, 0, NP_ALGO_MAGLEV,
				 0, udp, 1);
	err = err
		      ?: put_svc(VIP6_LOCAL, P_TCP, 80, NP_SVC_SCOPE_VIP, SVC6_LOCAL, 0,
				 NP_ALGO_MAGLEV, 0, v6, 1);
	err = err
		      ?: put_svc(VIP6_LOCAL, P_UDP, 53, NP_SVC_SCOPE_VIP, SVC6_UDP, 0,
				 NP_ALGO_MAGLEV, 0, v6u, 1);
	err = err
		      ?: put_svc(VIP6_REMOTE, P_TCP, 80, NP_SVC_SCOPE_VIP, SVC6_REMOTE, 0,
				 NP_ALGO_MAGLEV, 0, v6r, 1);
	err = err
		      ?: put_svc(VIP_DSR, P_TCP, 80, NP_SVC_SCOPE_VIP, SVC_DSR, NP_SVC_F_DSR,
				 NP_ALGO_MAGLEV, 0, dsr, 1);
	err = err
		      ?: put_svc(VIP6_DSR, P_TCP, 80, NP_SVC_SCOPE_VIP, SVC6_DSR, NP_SVC_F_DSR,
				 NP_ALGO_MAGLEV, 0, dsr6, 1);
	err = err
		      ?: put_svc("::", P_TCP, 30081, NP_SVC_SCOPE_NODEPORT, SVC6_DSR_NP,
				 NP_SVC_F_DSR, NP_ALGO_MAGLEV, 0, dsr6np, 1);
	if (err)
		return err;
	/* SVC_SRCR admits 10.0.0.0/8 only: the client is refused. */
	memset(&sk, 0, sizeof(sk));
	sk.prefixlen = 32 + 8;
	sk.svc_id = htonl(SVC_SRCR);
	sk.addr[0] = 10;
	if (bpf_map_update_elem(env.srcr_fd, &sk, &one, BPF_ANY))
		return -errno;
	return 0;
}

static void env_close(void)
{
	np_bpftest_unpin(env.pin_dir);
	env.pin_dir[0] = '\0';
	bpf_object__close(env.xdp_obj);
	bpf_object__close(env.tc_obj);
	bpf_object__close(env.pod_obj);
	env.xdp_obj = env.tc_obj = env.pod_obj = NULL;
	env.ready = 0;
}

static int group_setup(void **state)
{
	int err;

	(void)state;
	if (geteuid() != 0) {
		env.why_not = "BPF_PROG_TEST_RUN and a private netns need root";
		return 0;
	}
	err = netns_setup();
	if (err) {
		print_error("set up the test netns: %s\n", strerror(-err));
		return -1;
	}
	env.ncpus = libbpf_num_possible_cpus();
	if (np_bpftest_pin_dir(env.pin_dir, sizeof(env.pin_dir), "lb")) {
		env.pin_dir[0] = '\0';
		return -1;
	}
	atexit(env_close);
	/* No metadata mark: XDP's data_out would start with it. */
	env.xdp_obj = np_bpftest_load("np_xdp.bpf.o", env.pin_dir, NP_FEAT_PREFILTER);
	env.tc_obj = np_bpftest_load("np_netdev.bpf.o", env.pin_dir, NP_FEAT_PREFILTER);
	env.pod_obj = np_bpftest_load("np_pod.bpf.o", env.pin_dir, 0);
	if (!env.xdp_obj || !env.tc_obj || !env.pod_obj)
		goto err;
	env.xdp_fd = np_bpftest_prog_fd(env.xdp_obj, "np_xdp_uplink");
	env.tc_fd = np_bpftest_prog_fd(env.tc_obj, "np_tc_uplink_in");
	env.pod_fd = np_bpftest_prog_fd(env.pod_obj, "np_pod_from");
	env.stats_fd = bpf_object__find_map_fd_by_name(env.tc_obj, NP_MAP_STATS);
	env.svc_fd = bpf_object__find_map_fd_by_name(env.tc_obj, NP_MAP_SVC);
	env.maglev_fd = bpf_object__find_map_fd_by_name(env.tc_obj, NP_MAP_MAGLEV);
	env.be_fd = bpf_object__find_map_fd_by_name(env.tc_obj, NP_MAP_BACKENDS);
	env.ct_fd = bpf_object__find_map_fd_by_name(env.tc_obj, NP_MAP_CT);
	env.aff_fd = bpf_object__find_map_fd_by_name(env.tc_obj, NP_MAP_AFFINITY);
	env.srcr_fd = bpf_object__find_map_fd_by_name(env.tc_obj, NP_MAP_SRC_RANGE);
	env.node_fd = bpf_object__find_map_fd_by_name(env.tc_obj, NP_MAP_NODE);
	env.naddr_fd = bpf_object__find_map_fd_by_name(env.tc_obj, NP_MAP_NODE_ADDR);
	env.eps_fd = bpf_object__find_map_fd_by_name(env.tc_obj, NP_MAP_EP);
	env.dev_fd = bpf_object__find_map_fd_by_name(env.tc_obj, NP_MAP_EP_DEV);
	if (env.xdp_fd < 0 || env.tc_fd < 0 || env.pod_fd < 0 || env.stats_fd < 0 ||
	    env.svc_fd < 0 || env.maglev_fd < 0 || env.be_fd < 0 || env.ct_fd < 0 ||
	    env.aff_fd < 0 || env.srcr_fd < 0 || env.node_fd < 0 || env.naddr_fd < 0 ||
	    env.eps_fd < 0 || env.dev_fd < 0) {
		print_error("find the programs and maps\n");
		goto err;
	}
	err = seed_maps();
	if (err) {
		print_error("seed the maps: %s\n", strerror(-err));
		goto err;
	}
	env.ready = 1;
	return 0;
err:
	env_close();
	return -1;
}

static int group_teardown(void **state)
{
	(void)state;
	env_close();
	return 0;
}

#define REQUIRE_ENV() NP_BPFTEST_REQUIRE(env.why_not, env.ready)

/* ---- packets ---------------------------------------------------------------------- */

/* What a fixture packet looks like; the expected output is another one. */
struct spec {
	uint8_t proto;
	const char *saddr, *daddr;
	uint16_t sport, dport;
	uint8_t tcp_flags;
	uint8_t ttl; /* 0: 64 */
	const uint8_t *dmac, *smac;
	int udp_no_csum; /* IPv4 UDP sent without a checksum */
};

#define SPEC(p, s, d, sp, dp, fl)                                                       \
	{                                                                               \
		.proto = (p), .saddr = (s), .daddr = (d), .sport = (sp), .dport = (dp), \
		.tcp_flags = (fl)                                                       \
	}

/* The L4 checksum over the pseudo-header, for the packet in b. */
static uint16_t l4_csum(const uint8_t *f, size_t len, int *ok)
{
	const uint8_t *ip = f + 14;
	uint32_t sum = 0, l4len;
	size_t l4, i;
	uint8_t proto;

	if (f[12] == 0x08) { /* IPv4 */
		l4 = 14 + (size_t)(ip[0] & 0x0f) * 4;
		proto = ip[9];
		l4len = (uint32_t)(len - l4);
		for (i = 12; i < 20; i += 2)
			sum += (uint32_t)ip[i] << 8 | ip[i + 1];
	} else {
		l4 = 14 + 40;
		proto = ip[6];
		l4len = (uint32_t)(len - l4);
		for (i = 8; i < 40; i += 2)
			sum += (uint32_t)ip[i] << 8 | ip[i + 1];
	}
	sum += proto + (l4len >> 16) + (l4len & 0xffff);
	if (ok) {
		/* Over the whole segment, its checksum field included: 0 when right. */
		*ok = np_pktb_csum_add(f + l4, l4len, sum) == 0;
		return 0;
	}
	return np_pktb_csum_add(f + l4, l4len, sum);
}

static void build(struct np_pktb *b, const struct spec *s)
{
	int v6 = strchr(s->saddr, ':') != NULL;
	size_t l4, csum_off;
	uint16_t c;

	np_pktb_init(b);
	np_pktb_eth_addr(b, s->dmac ? s->dmac : env.up0_mac, s->smac ? s->smac : client_mac,
			 v6 ? NP_ETH_P_IPV6 : NP_ETH_P_IP);
	if (v6)
		np_pktb_ip6(b, s->proto, s->saddr, s->daddr);
	else
		np_pktb_ip4(b, s->proto, s->saddr, s->daddr);
	if (s->ttl)
		b->buf[14 + (v6 ? 7 : 8)] = s->ttl;
	if (s->proto == P_TCP) {
		l4 = np_pktb_tcp(b, s->sport, s->dport);
		b->buf[l4 + 13] = s->tcp_flags ? s->tcp_flags : TCP_SYN;
		csum_off = l4 + 16;
	} else {
		l4 = np_pktb_udp(b, s->sport, s->dport);
		csum_off = l4 + 6;
	}
	np_pktb_fill(b, 24, 0x5a);
	np_pktb_finish(b);
	if (s->proto == P_UDP && !v6 && s->udp_no_csum)
		return;
	np_pktb_be16(b, csum_off, 0);
	c = l4_csum(b->buf, b->len, NULL);
	if (s->proto == P_UDP && !c)
		c = 0xffff;
	np_pktb_be16(b, csum_off, c);
}

/* Checksums of an output frame, recomputed in full. */
static void assert_csums(const uint8_t *f, size_t len)
{
	int ok;

	if (f[12] == 0x08)
		assert_int_equal(np_pktb_csum_add(f + 14, 20, 0), 0);
	l4_csum(f, len, &ok);
	assert_true(ok);
}

static size_t l4_off(const uint8_t *f)
{
	return f[12] == 0x08 ? 14 + (size_t)(f[14] & 0x0f) * 4 : 14 + 40;
}

static uint16_t out_sport(const uint8_t *f)
{
	return (uint16_t)(f[l4_off(f)] << 8 | f[l4_off(f) + 1]);
}

static uint16_t out_dport(const uint8_t *f)
{
	return (uint16_t)(f[l4_off(f) + 2] << 8 | f[l4_off(f) + 3]);
}

/* ---- running --------------------------------------------------------------------- */

struct out {
	uint8_t buf[NP_PKTB_MAX + 256];
	size_t len;
	__u32 ret;
};

static void run(int fd, int xdp, int ifindex, const struct np_pktb *b, struct out *o)
{
	int err = np_bpftest_run(fd, xdp, ifindex, b->buf, b->len, o->buf, sizeof(o->buf), &o->len,
				 &o->ret);

	if (err)
		fail_msg("BPF_PROG_TEST_RUN: %s", strerror(-err));
}

/* One packet through the uplink program of run r (XDP or tc). */
static void run_up(int r, const struct spec *s, struct out *o)
{
	struct np_pktb b;

	build(&b, s);
	run(r == RUN_XDP ? env.xdp_fd : env.tc_fd, r == RUN_XDP, env.up0, &b, o);
}

static void run_pod(int ifindex, const struct spec *s, struct out *o)
{
	struct np_pktb b;

	build(&b, s);
	run(env.pod_fd, 0, ifindex, &b, o);
}

static __u64 stat_of(int hook, __u32 stat)
{
	__u32 key = NP_STAT_IDX(hook, stat);
	struct np_counter sum;

	assert_int_equal(np_bpftest_counter_sum(env.stats_fd, &key, env.ncpus, &sum), 0);
	return sum.packets;
}

static int hook_of(int r)
{
	return r == RUN_XDP ? NP_HOOK_XDP : NP_HOOK_TC_UPLINK_IN;
}

static void clear_map(int fd, size_t ksz)
{
	uint8_t k[64], next[64];

	assert_true(ksz <= sizeof(k));
	while (!bpf_map_get_next_key(fd, NULL, next)) {
		memcpy(k, next, ksz);
		if (bpf_map_delete_elem(fd, k))
			break;
	}
}

static void fresh_state(void)
{
	clear_map(env.ct_fd, sizeof(struct np_ct_key));
	clear_map(env.aff_fd, sizeof(struct np_aff_key));
}

/* The conntrack, last_ns zeroed, sorted: to compare XDP's with tc's. */
struct ct_pair {
	struct np_ct_key k;
	struct np_ct_entry e;
};

struct ct_dump {
	struct ct_pair p[64];
	int n;
};

static int ct_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct ct_pair));
}

static void ct_dump(struct ct_dump *d)
{
	struct np_ct_key k, next;
	void *prev = NULL;

	d->n = 0;
	while (!bpf_map_get_next_key(env.ct_fd, prev, &next) && d->n < 64) {
		k = next;
		prev = &k;
		d->p[d->n].k = k;
		if (bpf_map_lookup_elem(env.ct_fd, &k, &d->p[d->n].e))
			continue;
		d->p[d->n].e.last_ns = 0;
		d->n++;
	}
	qsort(d->p, (size_t)d->n, sizeof(d->p[0]), ct_cmp);
}

/* The CT entry for a key built from the packet spec in direction dir. */
static int ct_get(const struct spec *s, __u8 dir, struct np_ct_entry *e)
{
	struct np_ct_key k;

	memset(&k, 0, sizeof(k));
	k.family = (__u8)family_of(s->saddr);
	k.proto = s->proto;
	k.dir = dir;
	k.sport = htons(s->sport);
	k.dport = htons(s->dport);
	np_bpftest_addr(s->saddr, k.saddr);
	np_bpftest_addr(s->daddr, k.daddr);
	return bpf_map_lookup_elem(env.ct_fd, &k, e) ? -errno : 0;
}

/* Output o must be exactly the packet of spec want (checksums included). */
static void assert_frame(const struct out *o, const struct spec *want)
{
	struct np_pktb w;
	size_t i;

	build(&w, want);
	assert_csums(o->buf, o->len);
	if (o->len != w.len || memcmp(o->buf, w.buf, w.len)) {
		for (i = 0; i < w.len && i < o->len; i++)
			if (o->buf[i] != w.buf[i])
				print_error("byte %zu: %02x, want %02x\n", i, o->buf[i], w.buf[i]);
	}
	assert_int_equal(o->len, w.len);
	assert_memory_equal(o->buf, w.buf, w.len);
}

static const __u32 v_pass[2] = { XDP_PASS, (__u32)TCX_NEXT };
static const __u32 v_local[2] = { XDP_PASS, TC_ACT_REDIRECT };
static const __u32 v_tx[2] = { XDP_TX, TC_ACT_REDIRECT };
static const __u32 v_drop[2] = { XDP_DROP, TC_ACT_SHOT };

/*
 * A local backend's DNAT as each path delivers it: XDP passes the
 * translated packet (MACs untouched) to tc; tc hands it to the pod (MACs
 * of the pod).
 */
static void assert_local(int r, const struct out *o, struct spec want, const uint8_t *pmac,
			 const uint8_t *hmac)
{
	assert_int_equal(o->ret, v_local[r]);
	if (r == RUN_TC) {
		want.dmac = pmac;
		want.smac = hmac;
	}
	assert_frame(o, &want);
}

/* ---- fixtures ------------------------------------------------------------------------ */

static const struct spec c_local = SPEC(P_TCP, CLIENT4, VIP_LOCAL, 40000, 80, TCP_SYN);

/* Runs body(r) for XDP and tc on a fresh CT each; CTs must end up equal. */
#define BOTH(...)                                                                \
	do {                                                                     \
		struct ct_dump dumps[2];                                         \
		int r;                                                           \
		for (r = 0; r < 2; r++) {                                        \
			fresh_state();                                           \
			print_message("# %s\n", run_names[r]);                   \
			__VA_ARGS__;                                             \
			ct_dump(&dumps[r]);                                      \
		}                                                                \
		assert_int_equal(dumps[0].n, dumps[1].n);                        \
		assert_memory_equal(dumps[0].p, dumps[1].p,                      \
				    (size_t)dumps[0].n * sizeof(dumps[0].p[0])); \
	} while (0)

static void vip_local_new(void **state)
{
	(void)state;
	REQUIRE_ENV();
	BOTH({
		struct spec want = c_local;
		struct np_ct_entry e;
		struct out o;
		__u64 n0 = stat_of(hook_of(r), NP_STAT_LB_NEW);

		run_up(r, &c_local, &o);
		want.daddr = POD1_4;
		want.dport = 8080;
		assert_local(r, &o, want, pod1_mac, pod1_host);
		assert_int_equal(stat_of(hook_of(r), NP_STAT_LB_NEW), n0 + 1);
		/* FWD: client -> VIP, to pod1:8080; REV: pod1 -> client, VIP back. */
		assert_int_equal(ct_get(&c_local, NP_CT_DIR_FWD, &e), 0);
		assert_int_equal(e.backend_id, BE_POD1);
		assert_int_equal(e.svc_id, SVC_LOCAL);
		assert_int_equal(e.flags, NP_CT_F_LOCAL_BE);
		assert_int_equal(e.state, NP_CT_NEW);
		struct spec rev = SPEC(P_TCP, POD1_4, CLIENT4, 8080, 40000, 0);
		assert_int_equal(ct_get(&rev, NP_CT_DIR_REV, &e), 0);
		assert_int_equal(ntohs(e.nat_port), 80);
	});
}

static void vip_local_ct_hit(void **state)
{
	(void)state;
	REQUIRE_ENV();
	BOTH({
		struct spec ack = c_local, want;
		struct np_ct_entry e;
		struct out o;
		__u64 n0;

		run_up(r, &c_local, &o);
		n0 = stat_of(hook_of(r), NP_STAT_LB_CT_HIT);
		ack.tcp_flags = TCP_ACK;
		run_up(r, &ack, &o);
		want = ack;
		want.daddr = POD1_4;
		want.dport = 8080;
		assert_local(r, &o, want, pod1_mac, pod1_host);
		assert_int_equal(stat_of(hook_of(r), NP_STAT_LB_CT_HIT), n0 + 1);
		assert_int_equal(ct_get(&c_local, NP_CT_DIR_FWD, &e), 0);
		assert_int_equal(e.state, NP_CT_ESTABLISHED);
	});
}

static void nodeport(void **state)
{
	(void)state;
	REQUIRE_ENV();
	BOTH({
		struct spec in = SPEC(P_TCP, CLIENT4, NODE4, 40000, 30080, TCP_SYN), want = in;
		struct out o;

		run_up(r, &in, &o);
		want.daddr = POD2_4;
		want.dport = 8080;
		assert_local(r, &o, want, pod2_mac, pod2_host);
	});
}

static const struct spec c_remote = SPEC(P_TCP, CLIENT4, VIP_REMOTE, 40000, 80, TCP_SYN);

static void remote_snat(void **state)
{
	(void)state;
	REQUIRE_ENV();
	BOTH({
		struct spec want = c_remote;
		struct np_ct_entry e;
		struct out o;
		__u64 n0 = stat_of(hook_of(r), NP_STAT_LB_TX);
		uint16_t port;

		run_up(r, &c_remote, &o);
		assert_int_equal(o.ret, v_tx[r]);
		port = out_sport(o.buf);
		assert_true(port >= NP_SNAT_PORT_MIN && port <= NP_SNAT_PORT_MAX);
		want.saddr = NODE4;
		want.sport = port;
		want.daddr = NODE2_4;
		want.dport = 8080;
		want.ttl = 63;
		want.dmac = node2_mac;
		want.smac = env.up0_mac;
		assert_frame(&o, &want);
		assert_int_equal(stat_of(hook_of(r), NP_STAT_LB_TX), n0 + 1);
		assert_int_equal(ct_get(&c_remote, NP_CT_DIR_FWD, &e), 0);
		assert_int_equal(e.flags, NP_CT_F_SNAT);
		assert_int_equal(ntohs(e.nat2_port), port);
	});
}

static void remote_reply(void **state)
{
	(void)state;
	REQUIRE_ENV();
	BOTH({
		struct spec reply = SPEC(P_TCP, NODE2_4, NODE4, 8080, 0, TCP_SYNACK), want;
		struct out o;
		__u64 n0;

		run_up(r, &c_remote, &o);
		assert_int_equal(o.ret, v_tx[r]);
		reply.dport = out_sport(o.buf);
		reply.smac = node2_mac;
		n0 = stat_of(hook_of(r), NP_STAT_LB_REVNAT);
		run_up(r, &reply, &o);
		assert_int_equal(o.ret, v_tx[r]);
		want = reply;
		want.saddr = VIP_REMOTE;
		want.sport = 80;
		want.daddr = CLIENT4;
		want.dport = 40000;
		want.ttl = 63;
		want.dmac = client_mac;
		want.smac = env.up0_mac;
		assert_frame(&o, &want);
		assert_int_equal(stat_of(hook_of(r), NP_STAT_LB_REVNAT), n0 + 1);
	});
}

/* A local backend's reply leaves through np_pod_from: source back to the VIP. */
static void pod_reply_local(void **state)
{
	(void)state;
	REQUIRE_ENV();
	BOTH({
		struct spec reply = SPEC(P_TCP, POD1_4, CLIENT4, 8080, 40000, TCP_SYNACK), want;
		struct out o;
		__u64 n0;

		reply.dmac = pod1_host;
		reply.smac = pod1_mac;
		run_up(r, &c_local, &o);
		n0 = stat_of(NP_HOOK_TC_POD_FROM, NP_STAT_LB_REVNAT);
		run_pod(env.pod1, &reply, &o);
		assert_int_equal(o.ret, TC_ACT_REDIRECT);
		want = reply;
		want.saddr = VIP_LOCAL;
		want.sport = 80;
		want.ttl = 63;
		/* redirect_neigh fills the MACs later: the frame keeps the pod's. */
		assert_frame(&o, &want);
		assert_int_equal(stat_of(NP_HOOK_TC_POD_FROM, NP_STAT_LB_REVNAT), n0 + 1);
	});
}

/* ---- flows whose two CT entries went apart ------------------------------------------- */

static void ct_key_of(const struct spec *s, __u8 dir, struct np_ct_key *k)
{
	memset(k, 0, sizeof(*k));
	k->family = (__u8)family_of(s->saddr);
	k->proto = s->proto;
	k->dir = dir;
	k->sport = htons(s->sport);
	k->dport = htons(s->dport);
	np_bpftest_addr(s->saddr, k->saddr);
	np_bpftest_addr(s->daddr, k->daddr);
}

/* Make the entry of s in direction dir look secs seconds old. */
static void ct_age(const struct spec *s, __u8 dir, int secs)
{
	struct np_ct_entry e;
	struct np_ct_key k;
	struct timespec ts;

	ct_key_of(s, dir, &k);
	assert_int_equal(bpf_map_lookup_elem(env.ct_fd, &k, &e), 0);
	assert_int_equal(clock_gettime(CLOCK_MONOTONIC, &ts), 0);
	e.last_ns =
		(__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec - (__u64)secs * 1000000000ULL;
	assert_int_equal(bpf_map_update_elem(env.ct_fd, &k, &e, BPF_EXIST), 0);
}

static void ct_del(const struct spec *s, __u8 dir)
{
	struct np_ct_key k;

	ct_key_of(s, dir, &k);
	assert_int_equal(bpf_map_delete_elem(env.ct_fd, &k), 0);
}

/* pod1's packet to the client through np_pod_from: source back to the VIP. */
static void assert_pod1_revnat(uint8_t flags)
{
	struct spec reply = SPEC(P_TCP, POD1_4, CLIENT4, 8080, 40000, flags), want;
	struct out o;
	__u64 n0 = stat_of(NP_HOOK_TC_POD_FROM, NP_STAT_LB_REVNAT);

	reply.dmac = pod1_host;
	reply.smac = pod1_mac;
	run_pod(env.pod1, &reply, &o);
	assert_int_equal(o.ret, TC_ACT_REDIRECT);
	want = reply;
	want.saddr = VIP_LOCAL;
	want.sport = 80;
	want.ttl = 63;
	assert_frame(&o, &want);
	assert_int_equal(stat_of(NP_HOOK_TC_POD_FROM, NP_STAT_LB_REVNAT), n0 + 1);
}

/*
 * The client's port comes round again: pod1 had reset the old connection
 * (REV CLOSED, and FWD with it), the REV entry timed out since; the new
 * SYN on the tuple is a new flow (both entries NEW again) and pod1's
 * SYN-ACK is reverse-NATed. Before, the RST left FWD ESTABLISHED, the SYN
 * was a CT hit and the SYN-ACK left with pod1's address.
 */
static void syn_reuses_closed_tuple(void **state)
{
	static const struct spec rev = SPEC(P_TCP, POD1_4, CLIENT4, 8080, 40000, 0);

	(void)state;
	REQUIRE_ENV();
	BOTH({
		struct spec ack = c_local, want = c_local;
		struct np_ct_entry e;
		struct out o;
		__u64 n0;

		run_up(r, &c_local, &o);
		assert_pod1_revnat(TCP_SYNACK);
		ack.tcp_flags = TCP_ACK;
		run_up(r, &ack, &o);
		assert_int_equal(ct_get(&c_local, NP_CT_DIR_FWD, &e), 0);
		assert_int_equal(e.state, NP_CT_ESTABLISHED);
		/* pod1 resets: both directions are CLOSED. */
		assert_pod1_revnat(TCP_RST | TCP_ACK);
		assert_int_equal(ct_get(&c_local, NP_CT_DIR_FWD, &e), 0);
		assert_int_equal(e.state, NP_CT_CLOSED);
		assert_int_equal(ct_get(&rev, NP_CT_DIR_REV, &e), 0);
		assert_int_equal(e.state, NP_CT_CLOSED);
		ct_age(&rev, NP_CT_DIR_REV, 11);

		n0 = stat_of(hook_of(r), NP_STAT_LB_NEW);
		run_up(r, &c_local, &o);
		want.daddr = POD1_4;
		want.dport = 8080;
		assert_local(r, &o, want, pod1_mac, pod1_host);
		assert_int_equal(stat_of(hook_of(r), NP_STAT_LB_NEW), n0 + 1);
		assert_int_equal(ct_get(&c_local, NP_CT_DIR_FWD, &e), 0);
		assert_int_equal(e.state, NP_CT_NEW);
		assert_int_equal(ct_get(&rev, NP_CT_DIR_REV, &e), 0);
		assert_int_equal(e.state, NP_CT_NEW);
		assert_pod1_revnat(TCP_SYNACK);
	});
}

/* Both entries CLOSED (FINs) and still live: a SYN starts a new flow too. */
static void syn_after_fins(void **state)
{
	static const struct spec rev = SPEC(P_TCP, POD1_4, CLIENT4, 8080, 40000, 0);

	(void)state;
	REQUIRE_ENV();
	BOTH({
		struct spec fin = c_local;
		struct np_ct_entry e;
		struct out o;
		__u64 n0;

		run_up(r, &c_local, &o);
		assert_pod1_revnat(TCP_SYNACK);
		assert_pod1_revnat(TCP_FIN | TCP_ACK);
		assert_int_equal(ct_get(&c_local, NP_CT_DIR_FWD, &e), 0);
		assert_int_equal(e.state, NP_CT_CLOSING);
		fin.tcp_flags = TCP_FIN | TCP_ACK;
		run_up(r, &fin, &o);
		assert_int_equal(o.ret, v_local[r]);
		/* A RST after the FINs: CLOSED, on both sides. */
		fin.tcp_flags = TCP_RST;
		run_up(r, &fin, &o);
		assert_int_equal(ct_get(&rev, NP_CT_DIR_REV, &e), 0);
		assert_int_equal(e.state, NP_CT_CLOSED);

		n0 = stat_of(hook_of(r), NP_STAT_LB_NEW);
		run_up(r, &c_local, &o);
		assert_int_equal(o.ret, v_local[r]);
		assert_int_equal(stat_of(hook_of(r), NP_STAT_LB_NEW), n0 + 1);
		assert_int_equal(ct_get(&c_local, NP_CT_DIR_FWD, &e), 0);
		assert_int_equal(e.state, NP_CT_NEW);
		assert_int_equal(e.backend_id, BE_POD1);
		assert_int_equal(ct_get(&rev, NP_CT_DIR_REV, &e), 0);
		assert_int_equal(e.state, NP_CT_NEW);
		assert_pod1_revnat(TCP_SYNACK);
	});
}

/*
 * The LRU evicted the REV entry of a live flow: the client's next packet
 * (a FWD hit) writes it again and pod1's answer is reverse-NATed. And the
 * other way round: a REV hit writes a missing FWD entry again.
 */
static void fwd_hit_recreates_rev(void **state)
{
	static const struct spec rev = SPEC(P_TCP, POD1_4, CLIENT4, 8080, 40000, 0);

	(void)state;
	REQUIRE_ENV();
	BOTH({
		struct np_ct_entry e, e0;
		struct spec ack = c_local;
		struct out o;

		run_up(r, &c_local, &o);
		assert_int_equal(ct_get(&rev, NP_CT_DIR_REV, &e0), 0);
		ct_del(&rev, NP_CT_DIR_REV);
		ack.tcp_flags = TCP_ACK;
		run_up(r, &ack, &o);
		assert_int_equal(o.ret, v_local[r]);
		assert_int_equal(ct_get(&rev, NP_CT_DIR_REV, &e), 0);
		assert_int_equal(e.state, NP_CT_ESTABLISHED);
		assert_int_equal(ntohs(e.nat_port), 80);
		e.last_ns = e0.last_ns = 0;
		e0.state = NP_CT_ESTABLISHED;
		assert_memory_equal(&e, &e0, sizeof(e));
		assert_pod1_revnat(TCP_ACK);

		assert_int_equal(ct_get(&c_local, NP_CT_DIR_FWD, &e0), 0);
		ct_del(&c_local, NP_CT_DIR_FWD);
		assert_pod1_revnat(TCP_ACK);
		assert_int_equal(ct_get(&c_local, NP_CT_DIR_FWD, &e), 0);
		e.last_ns = e0.last_ns = 0;
		assert_memory_equal(&e, &e0, sizeof(e));
	});
}

/* The same with SNAT (a remote backend): REV is keyed by the node's port. */
static void fwd_hit_recreates_rev_snat(void **state)
{
	(void)state;
	REQUIRE_ENV();
	BOTH({
		struct spec reply = SPEC(P_TCP, NODE2_4, NODE4, 8080, 0, TCP_ACK), want;
		struct spec ack = c_remote;
		struct np_ct_entry e, e0;
		struct out o;

		run_up(r, &c_remote, &o);
		assert_int_equal(o.ret, v_tx[r]);
		reply.dport = out_sport(o.buf);
		reply.smac = node2_mac;
		assert_int_equal(ct_get(&reply, NP_CT_DIR_REV, &e0), 0);
		ct_del(&reply, NP_CT_DIR_REV);
		ack.tcp_flags = TCP_ACK;
		run_up(r, &ack, &o);
		assert_int_equal(o.ret, v_tx[r]);
		assert_int_equal(out_sport(o.buf), reply.dport);
		assert_int_equal(ct_get(&reply, NP_CT_DIR_REV, &e), 0);
		e.last_ns = e0.last_ns = 0;
		e0.state = NP_CT_ESTABLISHED;
		assert_memory_equal(&e, &e0, sizeof(e));

		run_up(r, &reply, &o);
		assert_int_equal(o.ret, v_tx[r]);
		want = reply;
		want.saddr = VIP_REMOTE;
		want.sport = 80;
		want.daddr = CLIENT4;
		want.dport = 40000;
		want.ttl = 63;
		want.dmac = client_mac;
		want.smac = env.up0_mac;
		assert_frame(&o, &want);

		assert_int_equal(ct_get(&c_remote, NP_CT_DIR_FWD, &e0), 0);
		ct_del(&c_remote, NP_CT_DIR_FWD);
		run_up(r, &reply, &o);
		assert_int_equal(o.ret, v_tx[r]);
		assert_int_equal(ct_get(&c_remote, NP_CT_DIR_FWD, &e), 0);
		e.last_ns = e0.last_ns = 0;
		assert_memory_equal(&e, &e0, sizeof(e));
	});
}

static void pod_clusterip_local(void **state)
{
	struct spec in = SPEC(P_TCP, POD2_4, VIP_LOCAL, 41000, 80, TCP_SYN), want;
	struct out o;

	(void)state;
	REQUIRE_ENV();
	fresh_state();
	in.dmac = pod2_host;
	in.smac = pod2_mac;
	run_pod(env.pod2, &in, &o);
	assert_int_equal(o.ret, TC_ACT_REDIRECT);
	want = in;
	want.daddr = POD1_4;
	want.dport = 8080;
	want.dmac = pod1_mac;
	want.smac = pod1_host;
	assert_frame(&o, &want);
}

/* Pod -> ClusterIP with a remote backend: DNAT only, then the FIB; the reply. */
static void pod_clusterip_remote(void **state)
{
	(void)state;
	REQUIRE_ENV();
	BOTH({
		struct spec in = SPEC(P_TCP, POD2_4, VIP_REMOTE, 41000, 80, TCP_SYN), want;
		struct spec reply = SPEC(P_TCP, NODE2_4, POD2_4, 8080, 41000, TCP_SYNACK);
		struct out o;

		in.dmac = pod2_host;
		in.smac = pod2_mac;
		run_pod(env.pod2, &in, &o);
		assert_int_equal(o.ret, TC_ACT_REDIRECT);
		want = in;
		want.daddr = NODE2_4;
		want.dport = 8080;
		want.ttl = 63;
		assert_frame(&o, &want);

		reply.smac = node2_mac;
		run_up(r, &reply, &o);
		want = reply;
		want.saddr = VIP_REMOTE;
		want.sport = 80;
		assert_local(r, &o, want, pod2_mac, pod2_host);
	});
}

static void src_range_refused(void **state)
{
	(void)state;
	REQUIRE_ENV();
	BOTH({
		struct spec in = SPEC(P_TCP, CLIENT4, VIP_SRCR, 40000, 80, TCP_SYN);
		struct out o;
		__u64 n0 = stat_of(hook_of(r), NP_DROP_SRC_RANGE);

		run_up(r, &in, &o);
		assert_int_equal(o.ret, v_drop[r]);
		assert_int_equal(stat_of(hook_of(r), NP_DROP_SRC_RANGE), n0 + 1);
	});
}

static void no_backend(void **state)
{
	(void)state;
	REQUIRE_ENV();
	BOTH({
		struct spec in = SPEC(P_TCP, CLIENT4, VIP_EMPTY, 40000, 80, TCP_SYN);
		struct out o;
		__u64 n0 = stat_of(hook_of(r), NP_DROP_NO_BACKEND);

		run_up(r, &in, &o);
		assert_int_equal(o.ret, v_drop[r]);
		assert_int_equal(stat_of(hook_of(r), NP_DROP_NO_BACKEND), n0 + 1);
	});
}

static void terminating(void **state)
{
	(void)state;
	REQUIRE_ENV();
	BOTH({
		struct spec in = SPEC(P_TCP, CLIENT4, VIP_TERM, 40000, 80, TCP_SYN), ack, other,
			    want;
		struct out o;
		__u64 n0;

		assert_int_equal(set_backend_state(BE_TERM, NP_BE_ACTIVE), 0);
		run_up(r, &in, &o);
		assert_int_equal(o.ret, v_local[r]);
		assert_int_equal(set_backend_state(BE_TERM, NP_BE_TERMINATING), 0);
		ack = in;
		ack.tcp_flags = TCP_ACK;
		run_up(r, &ack, &o);
		want = ack;
		want.daddr = POD1_4;
		want.dport = 9000;
		assert_local(r, &o, want, pod1_mac, pod1_host);
		/* A new flow is not sent to it. */
		other = in;
		other.sport = 40001;
		n0 = stat_of(hook_of(r), NP_DROP_NO_BACKEND);
		run_up(r, &other, &o);
		assert_int_equal(o.ret, v_drop[r]);
		assert_int_equal(stat_of(hook_of(r), NP_DROP_NO_BACKEND), n0 + 1);
		assert_int_equal(set_backend_state(BE_TERM, NP_BE_ACTIVE), 0);
	});
}

/* np_svc's flags of VIP_LOCAL/tcp: table selects which of its two tables is live. */
static int set_local_table(__u32 table)
{
	struct np_svc_key k;
	struct np_svc sv;

	np_bpftest_svc_key(&k, VIP_LOCAL, P_TCP, 80, NP_SVC_SCOPE_VIP);
	if (bpf_map_lookup_elem(env.svc_fd, &k, &sv))
		return -errno;
	sv.flags = (sv.flags & ~NP_SVC_F_TABLE1) | (table ? NP_SVC_F_TABLE1 : 0);
	return bpf_map_update_elem(env.svc_fd, &k, &sv, BPF_EXIST) ? -errno : 0;
}

/*
 * Double-buffered Maglev tables: np_maglev[2 * id] and [2 * id + 1]; the
 * np_svc flag NP_SVC_F_TABLE1 alone decides which one new flows use, and
 * flipping it back makes the other one live again (it was kept, untouched).
 */
static void maglev_table_flip(void **state)
{
	static const __u32 idle[] = { BE_IDLE };

	(void)state;
	REQUIRE_ENV();
	assert_int_equal(np_bpftest_maglev_table(env.maglev_fd, 2 * SVC_LOCAL + 1, idle, 1), 0);
	BOTH({
		struct spec a = c_local, b = c_local, c = c_local;
		struct np_ct_entry e;
		struct out o;

		run_up(r, &a, &o);
		assert_int_equal(ct_get(&a, NP_CT_DIR_FWD, &e), 0);
		assert_int_equal(e.backend_id, BE_POD1);
		assert_int_equal(set_local_table(1), 0);
		b.sport = 40100;
		run_up(r, &b, &o);
		assert_int_equal(o.ret, v_local[r]);
		assert_int_equal(ct_get(&b, NP_CT_DIR_FWD, &e), 0);
		assert_int_equal(e.backend_id, BE_IDLE);
		assert_int_equal(set_local_table(0), 0);
		c.sport = 40101;
		run_up(r, &c, &o);
		assert_int_equal(ct_get(&c, NP_CT_DIR_FWD, &e), 0);
		assert_int_equal(e.backend_id, BE_POD1);
	});
	assert_int_equal(np_bpftest_maglev_table(env.maglev_fd, 2 * SVC_LOCAL + 1, NULL, 0), 0);
}

static void quarantined(void **state)
{
	(void)state;
	REQUIRE_ENV();
	BOTH({
		struct spec in = SPEC(P_TCP, CLIENT4, VIP_TERM, 40000, 80, TCP_SYN), ack;
		struct out o;

		assert_int_equal(set_backend_state(BE_TERM, NP_BE_ACTIVE), 0);
		run_up(r, &in, &o);
		assert_int_equal(o.ret, v_local[r]);
		assert_int_equal(set_backend_state(BE_TERM, NP_BE_QUARANTINED), 0);
		ack = in;
		ack.tcp_flags = TCP_ACK;
		run_up(r, &ack, &o);
		assert_int_equal(o.ret, v_drop[r]);
		assert_int_equal(set_backend_state(BE_TERM, NP_BE_ACTIVE), 0);
	});
}

/* Affinity: other source ports of one client land on the same backend. */
static void affinity(void **state)
{
	(void)state;
	REQUIRE_ENV();
	BOTH({
		struct spec in = SPEC(P_TCP, CLIENT4, VIP_AFF, 40000, 80, TCP_SYN);
		uint8_t first[4];
		struct out o;
		int i;

		run_up(r, &in, &o);
		assert_int_equal(o.ret, v_local[r]);
		memcpy(first, o.buf + 14 + 16, 4);
		for (i = 1; i < 8; i++) {
			in.sport = (uint16_t)(40000 + i);
			run_up(r, &in, &o);
			assert_int_equal(o.ret, v_local[r]);
			assert_memory_equal(o.buf + 14 + 16, first, 4);
		}
		/* Random selection: the CTs of the two runs need not agree. */
		fresh_state();
	});
}

/* Random picks only table entries (BE_IDLE is active but in no table). */
static void random_table_only(void **state)
{
	struct spec in = SPEC(P_TCP, CLIENT4, VIP_RAND, 40000, 80, TCP_SYN);
	uint8_t p1[4], p2[4];
	int i, r, seen1 = 0, seen2 = 0;
	struct out o;

	(void)state;
	REQUIRE_ENV();
	inet_pton(AF_INET, POD1_4, p1);
	inet_pton(AF_INET, POD2_4, p2);
	for (r = 0; r < 2; r++) {
		fresh_state();
		for (i = 0; i < 32; i++) {
			in.sport = (uint16_t)(42000 + i);
			run_up(r, &in, &o);
			assert_int_equal(o.ret, v_local[r]);
			assert_int_equal(out_dport(o.buf), 8080);
			if (!memcmp(o.buf + 14 + 16, p1, 4))
				seen1++;
			else if (!memcmp(o.buf + 14 + 16, p2, 4))
				seen2++;
			else
				fail_msg("flow %d went to neither table backend", i);
			assert_csums(o.buf, o.len);
		}
	}
	print_message("# random: pod1 %d, pod2 %d of 64 flows\n", seen1, seen2);
	assert_true(seen1 > 0 && seen2 > 0);
	fresh_state();
}

static void udp_v4(void **state)
{
	(void)state;
	REQUIRE_ENV();
	BOTH({
		struct spec in = SPEC(P_UDP, CLIENT4, VIP_UDP, 40000, 53, 0), want = in;
		struct out o;

		run_up(r, &in, &o);
		want.daddr = POD1_4;
		want.dport = 5353;
		assert_local(r, &o, want, pod1_mac, pod1_host);
	});
}

static void udp_v4_no_csum(void **state)
{
	(void)state;
	REQUIRE_ENV();
	BOTH({
		struct spec in = SPEC(P_UDP, CLIENT4, VIP_UDP, 40002, 53, 0);
		struct out o;

		in.udp_no_csum = 1;
		run_up(r, &in, &o);
		assert_int_equal(o.ret, v_local[r]);
		/* The zero checksum ("none") stays zero. */
		assert_int_equal(o.buf[l4_off(o.buf) + 6] | o.buf[l4_off(o.buf) + 7], 0);
		assert_int_equal(np_pktb_csum_add(o.buf + 14, 20, 0), 0);
		assert_int_equal(out_dport(o.buf), 5353);
	});
}

static void v6_tcp(void **state)
{
	(void)state;
	REQUIRE_ENV();
	BOTH({
		struct spec in = SPEC(P_TCP, CLIENT6, VIP6_LOCAL, 40000, 80, TCP_SYN), want = in;
		struct out o;

		run_up(r, &in, &o);
		want.daddr = POD1_6;
		want.dport = 8080;
		assert_local(r, &o, want, pod1_mac, pod1_host);
	});
}

static void v6_udp(void **state)
{
	(void)state;
	REQUIRE_ENV();
	BOTH({
		struct spec in = SPEC(P_UDP, CLIENT6, VIP6_LOCAL, 40000, 53, 0), want = in;
		struct out o;

		run_up(r, &in, &o);
		want.daddr = POD1_6;
		want.dport = 5353;
		assert_local(r, &o, want, pod1_mac, pod1_host);
	});
}

static void v6_remote(void **state)
{
	(void)state;
	REQUIRE_ENV();
	BOTH({
		struct spec in = SPEC(P_TCP, CLIENT6, VIP6_REMOTE, 40000, 80, TCP_SYN), want = in;
		struct spec reply = SPEC(P_TCP, NODE2_6, NODE6, 8080, 0, TCP_SYNACK);
		struct out o;

		run_up(r, &in, &o);
		assert_int_equal(o.ret, v_tx[r]);
		want.saddr = NODE6;
		want.sport = out_sport(o.buf);
		want.daddr = NODE2_6;
		want.dport = 8080;
		want.ttl = 63;
		want.dmac = node2_mac;
		want.smac = env.up0_mac;
		assert_frame(&o, &want);

		reply.dport = want.sport;
		reply.smac = node2_mac;
		run_up(r, &reply, &o);
		assert_int_equal(o.ret, v_tx[r]);
		want = reply;
		want.saddr = VIP6_REMOTE;
		want.sport = 80;
		want.daddr = CLIENT6;
		want.dport = 40000;
		want.ttl = 63;
		want.dmac = client_mac;
		want.smac = env.up0_mac;
		assert_frame(&o, &want);
	});
}

static void frag_to_vip(void **state)
{
	(void)state;
	REQUIRE_ENV();
	BOTH({
		struct np_pktb b;
		struct out o;
		__u64 n0 = stat_of(hook_of(r), NP_DROP_LB_FRAG);

		np_pktb_init(&b);
		np_pktb_eth_addr(&b, env.up0_mac, client_mac, NP_ETH_P_IP);
		np_pktb_ip4(&b, P_TCP, CLIENT4, VIP_LOCAL);
		np_pktb_fill(&b, 64, 0x33);
		np_pktb_finish(&b);
		np_pktb_be16(&b, 14 + 6, 100); /* offset 800 bytes, last fragment */
		b.buf[14 + 10] = 0;
		b.buf[14 + 11] = 0;
		np_pktb_be16(&b, 14 + 10, np_pktb_csum_add(b.buf + 14, 20, 0));
		run(r == RUN_XDP ? env.xdp_fd : env.tc_fd, r == RUN_XDP, env.up0, &b, &o);
		assert_int_equal(o.ret, v_drop[r]);
		assert_int_equal(stat_of(hook_of(r), NP_DROP_LB_FRAG), n0 + 1);
	});
}

static void not_a_service(void **state)
{
	(void)state;
	REQUIRE_ENV();
	BOTH({
		struct spec in = SPEC(P_TCP, CLIENT4, NODE4, 40000, 22, TCP_SYN);
		struct out o;

		run_up(r, &in, &o);
		assert_int_equal(o.ret, v_pass[r]);
		assert_frame(&o, &in);
	});
}

/*
 * A CHECKSUM_PARTIAL frame as native XDP on veth sees it (the TCP checksum
 * field holds the folded pseudo-header sum): XDP leaves it untouched and
 * unmarked, so that tc, which knows skb->ip_summed, balances it.
 */
static void xdp_defers_partial_csum(void **state)
{
	struct spec in = SPEC(P_TCP, CLIENT4, VIP_REMOTE, 40000, 80, TCP_SYN);
	uint32_t sum = 0, len;
	struct ct_dump d;
	struct np_pktb b;
	struct out o;
	size_t l4, i;

	(void)state;
	REQUIRE_ENV();
	fresh_state();
	build(&b, &in);
	l4 = l4_off(b.buf);
	len = (uint32_t)(b.len - l4);
	for (i = 14 + 12; i < 14 + 20; i += 2)
		sum += (uint32_t)b.buf[i] << 8 | b.buf[i + 1];
	sum += P_TCP + len;
	/* np_pktb_csum_add() complements: undo it to get the plain fold. */
	np_pktb_be16(&b, l4 + 16, (uint16_t)~np_pktb_csum_add(NULL, 0, sum));
	run(env.xdp_fd, 1, env.up0, &b, &o);
	assert_int_equal(o.ret, XDP_PASS);
	assert_int_equal(o.len, b.len);
	assert_memory_equal(o.buf, b.buf, b.len);
	ct_dump(&d);
	assert_int_equal(d.n, 0);
	/* tc balances it (as a complete checksum here: PROG_RUN skbs are not partial). */
	run(env.tc_fd, 0, env.up0, &b, &o);
	assert_int_equal(o.ret, TC_ACT_REDIRECT);
	ct_dump(&d);
	assert_int_equal(d.n, 2);
	fresh_state();
}

/* ---- DSR (IPIP) ------------------------------------------------------------------------ */

static const struct spec c_dsr = SPEC(P_TCP, CLIENT4, VIP_DSR, 40000, 80, TCP_SYN);

/* The client's packet with DF and a TOS set (both copied to the outer header). */
static void build_dsr_in(struct np_pktb *b, const struct spec *s)
{
	build(b, s);
	b->buf[14 + 1] = 0x10;
	b->buf[14 + 6] = 0x40;
	np_pktb_be16(b, 14 + 10, 0);
	np_pktb_be16(b, 14 + 10, np_pktb_csum_add(b->buf + 14, 20, 0));
}

/*
 * The ingress node's output: Ethernet to node 2, the outer header exactly
 * (TOS and DF copied, TTL 64, IPIP, checksum, source in 198.18.255.1-254,
 * destination the backend), then the client's packet byte for byte.
 * Returns the outer source.
 */
static uint32_t assert_dsr_frame(const struct out *o, const struct np_pktb *in)
{
	const uint8_t *ip = o->buf + 14;
	uint8_t be[4];
	uint32_t src;

	inet_pton(AF_INET, NODE2_4, be);
	assert_int_equal(o->len, in->len + 20);
	assert_memory_equal(o->buf, node2_mac, 6);
	assert_memory_equal(o->buf + 6, env.up0_mac, 6);
	assert_int_equal(o->buf[12] << 8 | o->buf[13], NP_ETH_P_IP);
	assert_int_equal(ip[0], 0x45);
	assert_int_equal(ip[1], in->buf[14 + 1]);
	assert_int_equal(ip[2] << 8 | ip[3], in->len - 14 + 20);
	assert_int_equal(ip[4] | ip[5], 0);
	assert_int_equal(ip[6], 0x40);
	assert_int_equal(ip[7], 0);
	assert_int_equal(ip[8], 64);
	assert_int_equal(ip[9], 4); /* IPPROTO_IPIP */
	assert_int_equal(np_pktb_csum_add(ip, 20, 0), 0);
	src = (uint32_t)ip[12] << 24 | (uint32_t)ip[13] << 16 | (uint32_t)ip[14] << 8 | ip[15];
	assert_int_equal(src & 0xffffff00U, NP_DSR_SRC4_NET);
	assert_true((src & 0xff) >= 1 && (src & 0xff) <= NP_DSR_SRC4_HOSTS);
	assert_memory_equal(ip + 16, be, 4);
	/* The client's packet, untouched (TTL and checksums included). */
	assert_memory_equal(o->buf + 34, in->buf + 14, in->len - 14);
	return src;
}

static void dsr_encap(void **state)
{
	static uint32_t first_src;

	(void)state;
	REQUIRE_ENV();
	first_src = 0;
	BOTH({
		struct np_ct_entry e;
		struct np_pktb b;
		struct ct_dump d;
		struct out o;
		__u64 n0 = stat_of(hook_of(r), NP_STAT_LB_TX);
		uint32_t src;

		build_dsr_in(&b, &c_dsr);
		run(r == RUN_XDP ? env.xdp_fd : env.tc_fd, r == RUN_XDP, env.up0, &b, &o);
		assert_int_equal(o.ret, v_tx[r]);
		src = assert_dsr_frame(&o, &b);
		print_message("# outer source %u.%u.%u.%u\n", src >> 24, (src >> 16) & 0xff,
			      (src >> 8) & 0xff, src & 0xff);
		/* XDP and tc pick the same outer source for the flow. */
		if (!first_src)
			first_src = src;
		assert_int_equal(src, first_src);
		assert_int_equal(stat_of(hook_of(r), NP_STAT_LB_TX), n0 + 1);
		/* CT FWD only (DSR, the backend): the reply does not come back here. */
		assert_int_equal(ct_get(&c_dsr, NP_CT_DIR_FWD, &e), 0);
		assert_int_equal(e.flags, NP_CT_F_DSR);
		assert_int_equal(e.backend_id, BE_DSR_NODE2);
		assert_int_equal(e.svc_id, SVC_DSR);
		ct_dump(&d);
		assert_int_equal(d.n, 1);
		/* A later packet of the flow: CT hit, the same encapsulation. */
		n0 = stat_of(hook_of(r), NP_STAT_LB_CT_HIT);
		struct spec ack = c_dsr;
		ack.tcp_flags = TCP_ACK;
		build_dsr_in(&b, &ack);
		run(r == RUN_XDP ? env.xdp_fd : env.tc_fd, r == RUN_XDP, env.up0, &b, &o);
		assert_int_equal(o.ret, v_tx[r]);
		assert_int_equal(assert_dsr_frame(&o, &b), first_src);
		assert_int_equal(stat_of(hook_of(r), NP_STAT_LB_CT_HIT), n0 + 1);
	});
}

/* Two flows of one client: two outer sources (the receiver's RSS spreads them). */
static void dsr_two_flows(void **state)
{
	(void)state;
	REQUIRE_ENV();
	BOTH({
		struct spec in = c_dsr;
		struct np_pktb b;
		struct out o;
		uint32_t s1, s2;

		build_dsr_in(&b, &in);
		run(r == RUN_XDP ? env.xdp_fd : env.tc_fd, r == RUN_XDP, env.up0, &b, &o);
		assert_int_equal(o.ret, v_tx[r]);
		s1 = assert_dsr_frame(&o, &b);
		in.sport = 40001;
		build_dsr_in(&b, &in);
		run(r == RUN_XDP ? env.xdp_fd : env.tc_fd, r == RUN_XDP, env.up0, &b, &o);
		assert_int_equal(o.ret, v_tx[r]);
		s2 = assert_dsr_frame(&o, &b);
		assert_int_not_equal(s1, s2);
	});
}

/* The client's packet as node 1 sends it to the backend pod1 of this node. */
static void build_ipip(struct np_pktb *o, const struct spec *s, const char *outer_src,
		       const char *outer_dst)
{
	struct np_pktb in;
	uint8_t *ip;

	build(&in, s);
	np_pktb_init(o);
	np_pktb_eth_addr(o, env.up0_mac, node2_mac, NP_ETH_P_IP);
	ip = o->buf + np_pktb_put(o, NULL, 20);
	ip[0] = 0x45;
	ip[2] = (uint8_t)((in.len - 14 + 20) >> 8);
	ip[3] = (uint8_t)(in.len - 14 + 20);
	ip[8] = 64;
	ip[9] = 4;
	inet_pton(AF_INET, outer_src, ip + 12);
	inet_pton(AF_INET, outer_dst, ip + 16);
	np_pktb_be16(o, 14 + 10, np_pktb_csum_add(ip, 20, 0));
	np_pktb_put(o, in.buf + 14, in.len - 14);
}

/*
 * The backend's node: XDP hands the IPIP packet on untouched (tc's work);
 * tc decapsulates it, puts pod1 in place of the VIP (port kept) and
 * delivers it into pod1; CT REV pod1:80 -> client gives the VIP back.
 */
static void dsr_decap(void **state)
{
	struct spec want = c_dsr, rev = SPEC(P_TCP, POD1_4, CLIENT4, 80, 40000, 0);
	struct np_ct_entry e;
	struct np_pktb b;
	struct ct_dump d;
	struct out o;
	uint8_t vip[4];
	__u64 n0;

	(void)state;
	REQUIRE_ENV();
	fresh_state();
	build_ipip(&b, &c_dsr, "198.18.255.7", POD1_4);
	run(env.xdp_fd, 1, env.up0, &b, &o);
	assert_int_equal(o.ret, XDP_PASS);
	assert_int_equal(o.len, b.len);
	assert_memory_equal(o.buf, b.buf, b.len);
	ct_dump(&d);
	assert_int_equal(d.n, 0);

	n0 = stat_of(NP_HOOK_TC_UPLINK_IN, NP_STAT_LB_NEW);
	run(env.tc_fd, 0, env.up0, &b, &o);
	want.daddr = POD1_4;
	assert_local(RUN_TC, &o, want, pod1_mac, pod1_host);
	assert_int_equal(stat_of(NP_HOOK_TC_UPLINK_IN, NP_STAT_LB_NEW), n0 + 1);
	assert_int_equal(ct_get(&rev, NP_CT_DIR_REV, &e), 0);
	inet_pton(AF_INET, VIP_DSR, vip);
	assert_memory_equal(e.nat_addr, vip, 4);
	assert_int_equal(ntohs(e.nat_port), 80);
	assert_int_equal(e.flags, NP_CT_F_DSR | NP_CT_F_LOCAL_BE);
	ct_dump(&d);
	assert_int_equal(d.n, 1);

	/* The next packet of the flow: a CT hit, the same delivery. */
	n0 = stat_of(NP_HOOK_TC_UPLINK_IN, NP_STAT_LB_CT_HIT);
	want = c_dsr;
	want.tcp_flags = TCP_ACK;
	build_ipip(&b, &want, "198.18.255.7", POD1_4);
	run(env.tc_fd, 0, env.up0, &b, &o);
	want.daddr = POD1_4;
	assert_local(RUN_TC, &o, want, pod1_mac, pod1_host);
	assert_int_equal(stat_of(NP_HOOK_TC_UPLINK_IN, NP_STAT_LB_CT_HIT), n0 + 1);
	fresh_state();
}

/* The pod's reply at its egress: source := the VIP, then straight to the client. */
static void dsr_pod_reply(void **state)
{
	struct spec reply = SPEC(P_TCP, POD1_4, CLIENT4, 80, 40000, TCP_SYNACK), want;
	struct np_pktb b;
	struct out o;
	__u64 n0;

	(void)state;
	REQUIRE_ENV();
	fresh_state();
	build_ipip(&b, &c_dsr, "198.18.255.7", POD1_4);
	run(env.tc_fd, 0, env.up0, &b, &o);
	assert_int_equal(o.ret, TC_ACT_REDIRECT);
	reply.dmac = pod1_host;
	reply.smac = pod1_mac;
	n0 = stat_of(NP_HOOK_TC_POD_FROM, NP_STAT_LB_REVNAT);
	run_pod(env.pod1, &reply, &o);
	assert_int_equal(o.ret, TC_ACT_REDIRECT);
	want = reply;
	want.saddr = VIP_DSR;
	want.ttl = 63;
	assert_frame(&o, &want);
	assert_int_equal(stat_of(NP_HOOK_TC_POD_FROM, NP_STAT_LB_REVNAT), n0 + 1);
	fresh_state();
}

/* Not for a local endpoint, or not a DSR service inside: no decapsulation. */
static void dsr_decap_refused(void **state)
{
	struct spec other = SPEC(P_TCP, CLIENT4, VIP_REMOTE, 40000, 80, TCP_SYN);
	struct np_pktb b;
	struct out o;
	__u64 n0;

	(void)state;
	REQUIRE_ENV();
	fresh_state();
	/* The outer destination is no endpoint here: passed on as it came. */
	build_ipip(&b, &c_dsr, "198.18.255.7", "198.19.2.11");
	run(env.tc_fd, 0, env.up0, &b, &o);
	assert_int_equal(o.ret, (__u32)TCX_NEXT);
	assert_int_equal(o.len, b.len);
	assert_memory_equal(o.buf, b.buf, b.len);
	/* For pod1, but the inner VIP is no DSR service: dropped. */
	n0 = stat_of(NP_HOOK_TC_UPLINK_IN, NP_DROP_NO_BACKEND);
	build_ipip(&b, &other, "198.18.255.7", POD1_4);
	run(env.tc_fd, 0, env.up0, &b, &o);
	assert_int_equal(o.ret, TC_ACT_SHOT);
	assert_int_equal(stat_of(NP_HOOK_TC_UPLINK_IN, NP_DROP_NO_BACKEND), n0 + 1);
	fresh_state();
}

/* ---- DSR over IPv6 (IP6IP6) -------------------------------------------------------------- */

static const struct spec c_dsr6 = SPEC(P_TCP, CLIENT6, VIP6_DSR, 40000, 80, TCP_SYN);

/* dsr.h's NP_DSR_SEED: the seed of the flow hash that picks the outer source. */
#define DSR_SEED 0x6e704453U

/* lb.h's np_lb_hash(), in user space: the expected outer source and flow label. */
static uint32_t h_rotl(uint32_t x, int r)
{
	return (x << r) | (x >> (32 - r));
}

static uint32_t h_word(uint32_t h, uint32_t w)
{
	w *= 0xcc9e2d51U;
	w = h_rotl(w, 15);
	w *= 0x1b873593U;
	h ^= w;
	h = h_rotl(h, 13);
	return h * 5 + 0xe6546b64U;
}

static uint32_t lb_hash6(const struct spec *s, uint32_t seed)
{
	uint16_t sp = htons(s->sport), dp = htons(s->dport);
	uint8_t a[16];
	uint32_t h = seed, w;
	int i;

	h = h_word(h, (uint32_t)s->proto << 16 | NP_AF_INET6);
	h = h_word(h, (uint32_t)sp << 16 | dp);
	inet_pton(AF_INET6, s->saddr, a);
	for (i = 0; i < 4; i++) {
		memcpy(&w, a + 4 * i, 4);
		h = h_word(h, w);
	}
	inet_pton(AF_INET6, s->daddr, a);
	for (i = 0; i < 4; i++) {
		memcpy(&w, a + 4 * i, 4);
		h = h_word(h, w);
	}
	h ^= h >> 16;
	h *= 0x85ebca6bU;
	h ^= h >> 13;
	h *= 0xc2b2ae35U;
	h ^= h >> 16;
	return h;
}

/* The client's packet with a traffic class (copied out) and a flow label (not). */
static void build_dsr6_in(struct np_pktb *b, const struct spec *s)
{
	build(b, s);
	b->buf[14] = 0x6b; /* traffic class 0xb8, flow label 0x12345 */
	b->buf[15] = 0x81;
	b->buf[16] = 0x23;
	b->buf[17] = 0x45;
}

/* IP6IP6 around the IPv6 frame in (its Ethernet header dropped). */
static void build_ip6ip6(struct np_pktb *o, const struct np_pktb *in, const uint8_t *dmac,
			 const uint8_t *smac, uint32_t w0, const char *outer_src,
			 const char *outer_dst)
{
	uint8_t *ip;

	np_pktb_init(o);
	np_pktb_eth_addr(o, dmac, smac, NP_ETH_P_IPV6);
	ip = o->buf + np_pktb_put(o, NULL, 40);
	ip[0] = (uint8_t)(w0 >> 24);
	ip[1] = (uint8_t)(w0 >> 16);
	ip[2] = (uint8_t)(w0 >> 8);
	ip[3] = (uint8_t)w0;
	ip[4] = (uint8_t)((in->len - 14) >> 8);
	ip[5] = (uint8_t)(in->len - 14);
	ip[6] = 41; /* IPPROTO_IPV6 */
	ip[7] = 64;
	inet_pton(AF_INET6, outer_src, ip + 8);
	inet_pton(AF_INET6, outer_dst, ip + 24);
	np_pktb_put(o, in->buf + 14, in->len - 14);
}

/*
 * The ingress node's output, byte for byte: Ethernet to node 2; outer
 * IPv6: the inner traffic class, the flow hash's low 20 bits as flow
 * label, payload length, next header 41, hop limit 64, source
 * fd00:18:ffff::<hash>, destination the backend; the client's packet
 * untouched (hop limit and checksum included).
 */
static void assert_dsr6_frame(const struct out *o, const struct np_pktb *in, const struct spec *s)
{
	uint32_t h = lb_hash6(s, DSR_SEED);
	char src[INET6_ADDRSTRLEN];
	struct np_pktb want;
	uint8_t a[16];
	size_t i;

	memset(a, 0, sizeof(a));
	a[0] = 0xfd;
	a[3] = 0x18;
	a[4] = 0xff;
	a[5] = 0xff;
	a[12] = (uint8_t)(h >> 24);
	a[13] = (uint8_t)(h >> 16);
	a[14] = (uint8_t)(h >> 8);
	a[15] = (uint8_t)(h ? h : 1);
	inet_ntop(AF_INET6, a, src, sizeof(src));
	print_message("# outer source %s, flow label 0x%05x\n", src, h & 0xfffff);
	build_ip6ip6(&want, in, node2_mac, env.up0_mac, 0x6b800000U | (h & 0xfffff), src, NODE2_6);
	if (o->len != want.len || memcmp(o->buf, want.buf, want.len)) {
		for (i = 0; i < want.len && i < o->len; i++)
			if (o->buf[i] != want.buf[i])
				print_error("byte %zu: %02x, want %02x\n", i, o->buf[i],
					    want.buf[i]);
	}
	assert_int_equal(o->len, in->len + 40);
	assert_memory_equal(o->buf, want.buf, want.len);
	/* The inner TCP checksum still holds (the inner packet is the client's). */
	{
		int ok;

		l4_csum(in->buf, in->len, &ok);
		assert_true(ok);
	}
}

static void dsr6_encap(void **state)
{
	(void)state;
	REQUIRE_ENV();
	BOTH({
		struct spec ack = c_dsr6;
		struct np_ct_entry e;
		struct np_pktb b;
		struct ct_dump d;
		struct out o;
		__u64 n0 = stat_of(hook_of(r), NP_STAT_LB_TX);

		build_dsr6_in(&b, &c_dsr6);
		run(r == RUN_XDP ? env.xdp_fd : env.tc_fd, r == RUN_XDP, env.up0, &b, &o);
		assert_int_equal(o.ret, v_tx[r]);
		assert_dsr6_frame(&o, &b, &c_dsr6);
		assert_int_equal(stat_of(hook_of(r), NP_STAT_LB_TX), n0 + 1);
		/* CT FWD only: the reply does not come back here. */
		assert_int_equal(ct_get(&c_dsr6, NP_CT_DIR_FWD, &e), 0);
		assert_int_equal(e.flags, NP_CT_F_DSR);
		assert_int_equal(e.backend_id, BE6_DSR_NODE2);
		assert_int_equal(e.svc_id, SVC6_DSR);
		ct_dump(&d);
		assert_int_equal(d.n, 1);
		/* A later packet of the flow: CT hit, the same encapsulation. */
		n0 = stat_of(hook_of(r), NP_STAT_LB_CT_HIT);
		ack.tcp_flags = TCP_ACK;
		build_dsr6_in(&b, &ack);
		run(r == RUN_XDP ? env.xdp_fd : env.tc_fd, r == RUN_XDP, env.up0, &b, &o);
		assert_int_equal(o.ret, v_tx[r]);
		assert_dsr6_frame(&o, &b, &ack);
		assert_int_equal(stat_of(hook_of(r), NP_STAT_LB_CT_HIT), n0 + 1);
	});
}

/*
 * A full-size client packet (1500 bytes of IPv6) no longer fits the
 * uplink's MTU with 40 more bytes: XDP's FIB lookup says so and the packet
 * is dropped (fib), no ICMPv6 Packet Too Big is sent (the IPv4 path sends
 * no frag-needed either); tc leaves it to the device (redirected, the MTU
 * check is on the skb as it came), like the IPv4 path.
 */
static void dsr6_too_big(void **state)
{
	struct np_pktb b;
	struct out o;
	size_t l4;
	uint16_t c;
	__u64 n0;

	(void)state;
	REQUIRE_ENV();
	fresh_state();
	np_pktb_init(&b);
	np_pktb_eth_addr(&b, env.up0_mac, client_mac, NP_ETH_P_IPV6);
	np_pktb_ip6(&b, P_TCP, CLIENT6, VIP6_DSR);
	l4 = np_pktb_tcp(&b, 40000, 80);
	b.buf[l4 + 13] = TCP_ACK;
	np_pktb_fill(&b, 1500 - 40 - 20, 0x5a);
	np_pktb_finish(&b);
	c = l4_csum(b.buf, b.len, NULL);
	np_pktb_be16(&b, l4 + 16, c);
	assert_int_equal(b.len, 14 + 1500);
	n0 = stat_of(NP_HOOK_XDP, NP_DROP_FIB);
	run(env.xdp_fd, 1, env.up0, &b, &o);
	assert_int_equal(o.ret, XDP_DROP);
	assert_int_equal(stat_of(NP_HOOK_XDP, NP_DROP_FIB), n0 + 1);
	fresh_state();
	run(env.tc_fd, 0, env.up0, &b, &o);
	assert_int_equal(o.ret, TC_ACT_REDIRECT);
	assert_int_equal(o.len, b.len + 40);
	fresh_state();
}

/* Two flows of one client: two outer sources and flow labels. */
static void dsr6_two_flows(void **state)
{
	(void)state;
	REQUIRE_ENV();
	BOTH({
		struct spec in = c_dsr6;
		struct np_pktb b;
		struct out o;

		build_dsr6_in(&b, &in);
		run(r == RUN_XDP ? env.xdp_fd : env.tc_fd, r == RUN_XDP, env.up0, &b, &o);
		assert_int_equal(o.ret, v_tx[r]);
		assert_dsr6_frame(&o, &b, &in);
		in.sport = 40001;
		build_dsr6_in(&b, &in);
		run(r == RUN_XDP ? env.xdp_fd : env.tc_fd, r == RUN_XDP, env.up0, &b, &o);
		assert_int_equal(o.ret, v_tx[r]);
		assert_dsr6_frame(&o, &b, &in);
		assert_int_not_equal(lb_hash6(&c_dsr6, DSR_SEED), lb_hash6(&in, DSR_SEED));
	});
}

/* The client's packet as node 1 sends it by IP6IP6 to outer_dst (up0 receives it). */
static void build_dsr6_rx(struct np_pktb *o, const struct spec *s, const char *outer_dst)
{
	struct np_pktb in;

	build(&in, s);
	build_ip6ip6(o, &in, env.up0_mac, node2_mac, 0x60012345U, "fd00:18:ffff::7", outer_dst);
}

/*
 * The backend's node: XDP hands the IP6IP6 packet on untouched (tc's work);
 * tc decapsulates it, puts pod1 in place of the VIP (port kept, checksum
 * updated) and delivers it into pod1; CT REV [pod1]:80 -> client gives the
 * VIP back.
 */
static void dsr6_decap(void **state)
{
	struct spec want = c_dsr6, rev = SPEC(P_TCP, POD1_6, CLIENT6, 80, 40000, 0);
	struct np_ct_entry e;
	struct np_pktb b;
	struct ct_dump d;
	struct out o;
	uint8_t vip[16];
	__u64 n0;

	(void)state;
	REQUIRE_ENV();
	fresh_state();
	build_dsr6_rx(&b, &c_dsr6, POD1_6);
	run(env.xdp_fd, 1, env.up0, &b, &o);
	assert_int_equal(o.ret, XDP_PASS);
	assert_int_equal(o.len, b.len);
	assert_memory_equal(o.buf, b.buf, b.len);
	ct_dump(&d);
	assert_int_equal(d.n, 0);

	n0 = stat_of(NP_HOOK_TC_UPLINK_IN, NP_STAT_LB_NEW);
	run(env.tc_fd, 0, env.up0, &b, &o);
	want.daddr = POD1_6;
	assert_local(RUN_TC, &o, want, pod1_mac, pod1_host);
	assert_int_equal(stat_of(NP_HOOK_TC_UPLINK_IN, NP_STAT_LB_NEW), n0 + 1);
	assert_int_equal(ct_get(&rev, NP_CT_DIR_REV, &e), 0);
	inet_pton(AF_INET6, VIP6_DSR, vip);
	assert_memory_equal(e.nat_addr, vip, 16);
	assert_int_equal(ntohs(e.nat_port), 80);
	assert_int_equal(e.flags, NP_CT_F_DSR | NP_CT_F_LOCAL_BE);
	assert_int_equal(e.svc_id, SVC6_DSR);
	ct_dump(&d);
	assert_int_equal(d.n, 1);

	/* The next packet of the flow: a CT hit, the same delivery. */
	n0 = stat_of(NP_HOOK_TC_UPLINK_IN, NP_STAT_LB_CT_HIT);
	want = c_dsr6;
	want.tcp_flags = TCP_ACK;
	build_dsr6_rx(&b, &want, POD1_6);
	run(env.tc_fd, 0, env.up0, &b, &o);
	want.daddr = POD1_6;
	assert_local(RUN_TC, &o, want, pod1_mac, pod1_host);
	assert_int_equal(stat_of(NP_HOOK_TC_UPLINK_IN, NP_STAT_LB_CT_HIT), n0 + 1);
	fresh_state();
}

/*
 * An IPv6 DSR NodePort: the client's packet to the node's address goes by
 * IP6IP6 to the remote backend; on the backend's node the inner
 * destination (the first node's address) finds the NodePort service, pod1
 * takes its place (port kept) and CT REV gives the reply the first node's
 * address as source.
 */
static void dsr6_nodeport(void **state)
{
	struct spec in = SPEC(P_TCP, CLIENT6, NODE6, 40000, 30081, TCP_SYN), want;
	struct spec rev = SPEC(P_TCP, POD1_6, CLIENT6, 30081, 40000, 0);
	uint8_t node[16];

	(void)state;
	REQUIRE_ENV();
	BOTH({
		struct np_ct_entry e;
		struct np_pktb b;
		struct out o;

		build_dsr6_in(&b, &in);
		run(r == RUN_XDP ? env.xdp_fd : env.tc_fd, r == RUN_XDP, env.up0, &b, &o);
		assert_int_equal(o.ret, v_tx[r]);
		assert_dsr6_frame(&o, &b, &in);
		assert_int_equal(ct_get(&in, NP_CT_DIR_FWD, &e), 0);
		assert_int_equal(e.flags, NP_CT_F_DSR);
		assert_int_equal(e.svc_id, SVC6_DSR_NP);
	});
	{
		struct np_ct_entry e;
		struct np_pktb b;
		struct out o;

		fresh_state();
		build_dsr6_rx(&b, &in, POD1_6);
		run(env.tc_fd, 0, env.up0, &b, &o);
		want = in;
		want.daddr = POD1_6;
		assert_local(RUN_TC, &o, want, pod1_mac, pod1_host);
		assert_int_equal(ct_get(&rev, NP_CT_DIR_REV, &e), 0);
		inet_pton(AF_INET6, NODE6, node);
		assert_memory_equal(e.nat_addr, node, 16);
		assert_int_equal(ntohs(e.nat_port), 30081);
		assert_int_equal(e.svc_id, SVC6_DSR_NP);
		fresh_state();
	}
}

/* The pod's reply at its egress: source := the VIP, then straight to the client. */
static void dsr6_pod_reply(void **state)
{
	struct spec reply = SPEC(P_TCP, POD1_6, CLIENT6, 80, 40000, TCP_SYNACK), want;
	struct np_pktb b;
	struct out o;
	__u64 n0;

	(void)state;
	REQUIRE_ENV();
	fresh_state();
	build_dsr6_rx(&b, &c_dsr6, POD1_6);
	run(env.tc_fd, 0, env.up0, &b, &o);
	assert_int_equal(o.ret, TC_ACT_REDIRECT);
	reply.dmac = pod1_host;
	reply.smac = pod1_mac;
	n0 = stat_of(NP_HOOK_TC_POD_FROM, NP_STAT_LB_REVNAT);
	run_pod(env.pod1, &reply, &o);
	assert_int_equal(o.ret, TC_ACT_REDIRECT);
	want = reply;
	want.saddr = VIP6_DSR;
	want.ttl = 63;
	assert_frame(&o, &want);
	assert_int_equal(stat_of(NP_HOOK_TC_POD_FROM, NP_STAT_LB_REVNAT), n0 + 1);
	fresh_state();
}

/*
 * Not for a local endpoint, not a DSR service inside, or an inner packet
 * DSR does not balance: no delivery into the pod.
 */
static void dsr6_decap_refused(void **state)
{
	struct spec other = SPEC(P_TCP, CLIENT6, VIP6_REMOTE, 40000, 80, TCP_SYN);
	struct np_pktb b, in;
	struct out o;
	__u64 n0;

	(void)state;
	REQUIRE_ENV();
	fresh_state();
	/* The outer destination is no endpoint here: passed on as it came. */
	build_dsr6_rx(&b, &c_dsr6, "fd00:19:2::11");
	run(env.tc_fd, 0, env.up0, &b, &o);
	assert_int_equal(o.ret, (__u32)TCX_NEXT);
	assert_int_equal(o.len, b.len);
	assert_memory_equal(o.buf, b.buf, b.len);
	/* For pod1, but the inner VIP is no DSR service: dropped. */
	n0 = stat_of(NP_HOOK_TC_UPLINK_IN, NP_DROP_NO_BACKEND);
	build_dsr6_rx(&b, &other, POD1_6);
	run(env.tc_fd, 0, env.up0, &b, &o);
	assert_int_equal(o.ret, TC_ACT_SHOT);
	assert_int_equal(stat_of(NP_HOOK_TC_UPLINK_IN, NP_DROP_NO_BACKEND), n0 + 1);
	/* The inner packet is a fragment: not balanced by DSR, dropped. */
	n0 = stat_of(NP_HOOK_TC_UPLINK_IN, NP_DROP_LB_FRAG);
	np_pktb_init(&in);
	np_pktb_eth_addr(&in, env.up0_mac, client_mac, NP_ETH_P_IPV6);
	np_pktb_ip6(&in, 44, CLIENT6, VIP6_DSR);
	np_pktb_ip6_frag(&in, P_TCP, 0, 1);
	np_pktb_tcp(&in, 40000, 80);
	np_pktb_fill(&in, 24, 0x5a);
	np_pktb_finish(&in);
	build_ip6ip6(&b, &in, env.up0_mac, node2_mac, 0x60000000U, "fd00:18:ffff::7", POD1_6);
	run(env.tc_fd, 0, env.up0, &b, &o);
	assert_int_equal(o.ret, TC_ACT_SHOT);
	assert_int_equal(stat_of(NP_HOOK_TC_UPLINK_IN, NP_DROP_LB_FRAG), n0 + 1);
	{
		struct ct_dump d;

		ct_dump(&d);
		assert_int_equal(d.n, 0);
	}
	fresh_state();
}

/* ---- fragments and ICMP errors (frag.h, icmp.h) ------------------------------------------- */

#define FRAG_DATA 40 /* UDP payload of the fragmented datagram */
#define FRAG_CUT 24  /* L4 bytes in the first fragment (a multiple of 8) */
#define FRAG_ID4 0x1234
#define FRAG_LEN (8 + FRAG_DATA)

/* The whole UDP datagram (header + payload), its checksum over s -> d. */
static void udp_datagram(uint8_t *u, const char *s, const char *d, uint16_t sp, uint16_t dp)
{
	int v6 = strchr(s, ':') != NULL;
	size_t i, alen = v6 ? 16 : 4;
	uint8_t a[16], z[16];
	uint32_t sum = 0;
	uint16_t c;

	memset(u, 0, FRAG_LEN);
	u[0] = (uint8_t)(sp >> 8);
	u[1] = (uint8_t)sp;
	u[2] = (uint8_t)(dp >> 8);
	u[3] = (uint8_t)dp;
	u[5] = FRAG_LEN;
	for (i = 8; i < FRAG_LEN; i++)
		u[i] = (uint8_t)(0x40 + i);
	np_bpftest_addr(s, a);
	np_bpftest_addr(d, z);
	for (i = 0; i < alen; i += 2)
		sum += (uint32_t)(a[i] << 8 | a[i + 1]) + (uint32_t)(z[i] << 8 | z[i + 1]);
	sum += P_UDP + FRAG_LEN;
	c = np_pktb_csum_add(u, FRAG_LEN, sum);
	c = c ? c : 0xffff;
	u[6] = (uint8_t)(c >> 8);
	u[7] = (uint8_t)c;
}

/* The first (second = 0) or the second and last fragment of the datagram. */
static void build_frag(struct np_pktb *b, const char *s, const char *d, uint16_t sp, uint16_t dp,
		       int second, const uint8_t *dmac, const uint8_t *smac)
{
	int v6 = strchr(s, ':') != NULL;
	uint8_t u[FRAG_LEN];

	udp_datagram(u, s, d, sp, dp);
	np_pktb_init(b);
	np_pktb_eth_addr(b, dmac ? dmac : env.up0_mac, smac ? smac : client_mac,
			 v6 ? NP_ETH_P_IPV6 : NP_ETH_P_IP);
	if (v6) {
		np_pktb_ip6(b, 44, s, d);
		np_pktb_ip6_frag(b, P_UDP, second ? FRAG_CUT / 8 : 0, !second);
	} else {
		np_pktb_ip4(b, P_UDP, s, d);
	}
	if (second)
		np_pktb_put(b, u + FRAG_CUT, FRAG_LEN - FRAG_CUT);
	else
		np_pktb_put(b, u, FRAG_CUT);
	np_pktb_finish(b);
	if (!v6) {
		np_pktb_be16(b, 14 + 4, FRAG_ID4);
		np_pktb_be16(b, 14 + 6, second ? FRAG_CUT / 8 : 0x2000);
		np_pktb_be16(b, 14 + 10, 0);
		np_pktb_be16(b, 14 + 10, np_pktb_csum_add(b->buf + 14, 20, 0));
	}
}

static void assert_same(const struct out *o, const struct np_pktb *w)
{
	size_t i;

	if (o->len != w->len || memcmp(o->buf, w->buf, w->len)) {
		for (i = 0; i < w->len && i < o->len; i++)
			if (o->buf[i] != w->buf[i])
				print_error("byte %zu: %02x, want %02x\n", i, o->buf[i], w->buf[i]);
	}
	assert_int_equal(o->len, w->len);
	assert_memory_equal(o->buf, w->buf, w->len);
}

static void fresh_frags(void)
{
	int fd = bpf_object__find_map_fd_by_name(env.tc_obj, NP_MAP_FRAG);

	assert_true(fd >= 0);
	clear_map(fd, sizeof(struct np_frag_key));
}

/*
 * First fragment to a VIP: DNAT (L4 checksum over the whole datagram fixed
 * in it), ports recorded; the second follows it to the same backend, with
 * its addresses rewritten only.
 */
static void frag_follow(const char *client, const char *vip, const char *pod, int svc)
{
	BOTH({
		struct np_pktb b, w;
		struct np_ct_entry e;
		struct out o;
		__u64 n0;
		int fd = r == RUN_XDP ? env.xdp_fd : env.tc_fd;
		const uint8_t *dm = r == RUN_TC ? pod1_mac : NULL,
			      *sm = r == RUN_TC ? pod1_host : NULL;
		struct spec fwd = SPEC(P_UDP, client, vip, 40000, 53, 0);

		fresh_frags();
		build_frag(&b, client, vip, 40000, 53, 0, NULL, NULL);
		run(fd, r == RUN_XDP, env.up0, &b, &o);
		assert_int_equal(o.ret, v_local[r]);
		build_frag(&w, client, pod, 40000, 5353, 0, dm, sm);
		assert_same(&o, &w);
		assert_int_equal(ct_get(&fwd, NP_CT_DIR_FWD, &e), 0);
		assert_int_equal(e.svc_id, svc);

		n0 = stat_of(hook_of(r), NP_STAT_LB_CT_HIT);
		build_frag(&b, client, vip, 40000, 53, 1, NULL, NULL);
		run(fd, r == RUN_XDP, env.up0, &b, &o);
		assert_int_equal(o.ret, v_local[r]);
		build_frag(&w, client, pod, 40000, 5353, 1, dm, sm);
		assert_same(&o, &w);
		assert_int_equal(stat_of(hook_of(r), NP_STAT_LB_CT_HIT), n0 + 1);
	});
	fresh_frags();
}

static void frag_v4_follows_first(void **state)
{
	(void)state;
	REQUIRE_ENV();
	frag_follow(CLIENT4, VIP_UDP, POD1_4, SVC_UDP);
}

static void frag_v6_follows_first(void **state)
{
	(void)state;
	REQUIRE_ENV();
	frag_follow(CLIENT6, VIP6_LOCAL, POD1_6, SVC6_UDP);
}

/* A later fragment whose first never came: dropped (lb_frag), as before. */
static void frag_v4_no_first(void **state)
{
	(void)state;
	REQUIRE_ENV();
	BOTH({
		struct np_pktb b;
		struct out o;
		__u64 n0 = stat_of(hook_of(r), NP_DROP_LB_FRAG);

		fresh_frags();
		build_frag(&b, CLIENT4, VIP_UDP, 40000, 53, 1, NULL, NULL);
		run(r == RUN_XDP ? env.xdp_fd : env.tc_fd, r == RUN_XDP, env.up0, &b, &o);
		assert_int_equal(o.ret, v_drop[r]);
		assert_int_equal(stat_of(hook_of(r), NP_DROP_LB_FRAG), n0 + 1);
	});
}

/* An ICMP/ICMPv6 error quoting the frame inner (its Ethernet header left out). */
static void build_icmp_err(struct np_pktb *b, const char *s, const char *d, uint8_t type,
			   uint8_t code, uint16_t mtu, const struct np_pktb *inner, uint8_t ttl,
			   const uint8_t *dmac, const uint8_t *smac)
{
	int v6 = strchr(s, ':') != NULL;
	size_t off;

	np_pktb_init(b);
	np_pktb_eth_addr(b, dmac, smac, v6 ? NP_ETH_P_IPV6 : NP_ETH_P_IP);
	if (v6)
		np_pktb_ip6(b, 58, s, d);
	else
		np_pktb_ip4(b, 1, s, d);
	if (ttl)
		b->buf[14 + (v6 ? 7 : 8)] = ttl;
	off = np_pktb_put(b, NULL, 8);
	b->buf[off] = type;
	b->buf[off + 1] = code;
	np_pktb_be16(b, off + 6, mtu);
	np_pktb_put(b, inner->buf + 14, inner->len - 14);
	np_pktb_finish(b);
	if (v6) {
		np_pktb_icmp6_csum(b, off);
	} else {
		np_pktb_be16(b, off + 2, 0);
		np_pktb_be16(b, off + 2, np_pktb_csum_add(b->buf + off, b->len - off, 0));
	}
}

/* Every checksum of an ICMP error frame, the quoted ones included. */
static void assert_icmp_csums(const uint8_t *f, size_t len)
{
	size_t l4 = l4_off(f), in = l4 + 8;
	uint32_t sum = 0, n = (uint32_t)(len - l4);
	uint8_t q[NP_PKTB_MAX];
	int ok, i;

	if (f[12] == 0x08) {
		assert_int_equal(np_pktb_csum_add(f + 14, 20, 0), 0);
		assert_int_equal(np_pktb_csum_add(f + l4, n, 0), 0);
		assert_int_equal(np_pktb_csum_add(f + in, 20, 0), 0);
	} else {
		for (i = 8; i < 40; i += 2)
			sum += (uint32_t)f[14 + i] << 8 | f[15 + i];
		sum += n + 58;
		assert_int_equal(np_pktb_csum_add(f + l4, n, sum), 0);
	}
	/* The quoted segment is whole here: its own checksum must hold too. */
	assert_true(len - in + 14 <= sizeof(q));
	memcpy(q, f, 14);
	memcpy(q + 14, f + in, len - in);
	l4_csum(q, len - in + 14, &ok);
	assert_true(ok);
	if (f[12] == 0x08)
		assert_int_equal(np_pktb_csum_add(q + 14, 20, 0), 0);
}

/*
 * Frag-needed / packet-too-big from the backend's side about a SNATed flow
 * (quoted: node:port -> backend): back to the client, quoted as the client
 * sent it (client -> VIP), from the VIP (the backend itself sent it), MTU
 * untouched.
 */
static void icmp_snat(const char *client, const char *vip, const char *node, const char *be)
{
	int v6 = strchr(client, ':') != NULL;

	BOTH({
		struct spec in = SPEC(P_TCP, client, vip, 40000, 80, TCP_SYN), sent, orig;
		struct np_pktb inner, b, w;
		struct out o;

		run_up(r, &in, &o);
		assert_int_equal(o.ret, v_tx[r]);
		sent = in;
		sent.saddr = node;
		sent.sport = out_sport(o.buf);
		sent.daddr = be;
		sent.dport = 8080;
		sent.ttl = 63;
		build(&inner, &sent);
		build_icmp_err(&b, be, node, v6 ? 2 : 3, v6 ? 0 : 4, v6 ? 1280 : 1400, &inner, 0,
			       env.up0_mac, node2_mac);
		run(r == RUN_XDP ? env.xdp_fd : env.tc_fd, r == RUN_XDP, env.up0, &b, &o);
		assert_int_equal(o.ret, v_tx[r]);
		orig = in;
		orig.ttl = 63;
		build(&inner, &orig);
		build_icmp_err(&w, vip, client, v6 ? 2 : 3, v6 ? 0 : 4, v6 ? 1280 : 1400, &inner,
			       63, client_mac, env.up0_mac);
		assert_icmp_csums(o.buf, o.len);
		assert_same(&o, &w);
	});
}

static void icmp_frag_needed_snat(void **state)
{
	(void)state;
	REQUIRE_ENV();
	icmp_snat(CLIENT4, VIP_REMOTE, NODE4, NODE2_4);
}

static void icmp6_too_big_snat(void **state)
{
	(void)state;
	REQUIRE_ENV();
	icmp_snat(CLIENT6, VIP6_REMOTE, NODE6, NODE2_6);
}

/*
 * An IPv6 extension header of len bytes (8 * n) put between the fixed IPv6
 * header and what follows it in frame b; the TCP/UDP checksum does not
 * change (the pseudo-header has the upper-layer length). Fragment header:
 * a first fragment (offset 0, more fragments).
 */
static void add_ext6(struct np_pktb *b, uint8_t type, size_t len)
{
	uint8_t rest[NP_PKTB_MAX], *ip6 = b->buf + 14, *h;
	size_t n = b->len - 54, pl;

	memcpy(rest, b->buf + 54, n);
	b->len = 54;
	h = b->buf + np_pktb_put(b, NULL, len);
	h[0] = ip6[6];
	if (type == 44) {
		h[3] = 1; /* M */
		h[7] = 0x42;
	} else {
		h[1] = (uint8_t)(len / 8 - 1);
		h[2] = 1; /* PadN over the rest */
		h[3] = (uint8_t)(len - 4);
	}
	ip6[6] = type;
	pl = (size_t)(ip6[4] << 8 | ip6[5]) + len;
	ip6[4] = (uint8_t)(pl >> 8);
	ip6[5] = (uint8_t)pl;
	np_pktb_put(b, rest, n);
}

/*
 * Packet-too-big from the backend about a SNATed flow whose quoted packet
 * has extension headers (hop-by-hop, 16 bytes of destination options, a
 * first-fragment header): translated as without them, the extension
 * headers untouched. A quote of a non-first fragment has no ports: left
 * alone.
 */
static void icmp6_too_big_ext(void **state)
{
	(void)state;
	REQUIRE_ENV();
	BOTH({
		struct spec in = SPEC(P_TCP, CLIENT6, VIP6_REMOTE, 40000, 80, TCP_SYN), sent, orig;
		struct np_pktb inner, b, w;
		uint32_t sum = 0;
		struct out o;
		size_t i, n;

		run_up(r, &in, &o);
		assert_int_equal(o.ret, v_tx[r]);
		sent = in;
		sent.saddr = NODE6;
		sent.sport = out_sport(o.buf);
		sent.daddr = NODE2_6;
		sent.dport = 8080;
		sent.ttl = 63;
		build(&inner, &sent);
		add_ext6(&inner, 44, 8);
		add_ext6(&inner, 60, 16);
		add_ext6(&inner, 0, 8);
		build_icmp_err(&b, NODE2_6, NODE6, 2, 0, 1280, &inner, 0, env.up0_mac, node2_mac);
		run(r == RUN_XDP ? env.xdp_fd : env.tc_fd, r == RUN_XDP, env.up0, &b, &o);
		assert_int_equal(o.ret, v_tx[r]);
		orig = in;
		orig.ttl = 63;
		build(&inner, &orig);
		add_ext6(&inner, 44, 8);
		add_ext6(&inner, 60, 16);
		add_ext6(&inner, 0, 8);
		build_icmp_err(&w, VIP6_REMOTE, CLIENT6, 2, 0, 1280, &inner, 63, client_mac,
			       env.up0_mac);
		/* The ICMPv6 checksum over the pseudo-header and the message. */
		n = o.len - 54;
		for (i = 8; i < 40; i += 2)
			sum += (uint32_t)o.buf[14 + i] << 8 | o.buf[15 + i];
		sum += (uint32_t)n + 58;
		assert_int_equal(np_pktb_csum_add(o.buf + 54, n, sum), 0);
		assert_same(&o, &w);

		/* The same error quoting a non-first fragment: no ports, untouched. */
		build(&inner, &sent);
		add_ext6(&inner, 44, 8);
		inner.buf[54 + 2] = 0x01; /* offset 32 */
		build_icmp_err(&b, NODE2_6, NODE6, 2, 0, 1280, &inner, 0, env.up0_mac, node2_mac);
		run(r == RUN_XDP ? env.xdp_fd : env.tc_fd, r == RUN_XDP, env.up0, &b, &o);
		assert_int_equal(o.ret, v_pass[r]);
		assert_same(&o, &b);
	});
}

/* An error about no tracked flow goes on untouched. */
static void icmp_unknown_flow(void **state)
{
	(void)state;
	REQUIRE_ENV();
	BOTH({
		struct spec q = SPEC(P_UDP, NODE4, NODE2_4, 33333, 9999, 0);
		struct np_pktb inner, b;
		struct out o;

		build(&inner, &q);
		build_icmp_err(&b, NODE2_4, NODE4, 3, 4, 1400, &inner, 0, env.up0_mac, node2_mac);
		run(r == RUN_XDP ? env.xdp_fd : env.tc_fd, r == RUN_XDP, env.up0, &b, &o);
		assert_int_equal(o.ret, v_pass[r]);
		assert_same(&o, &b);
	});
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(vip_local_new),
		cmocka_unit_test(vip_local_ct_hit),
		cmocka_unit_test(nodeport),
		cmocka_unit_test(remote_snat),
		cmocka_unit_test(remote_reply),
		cmocka_unit_test(pod_reply_local),
		cmocka_unit_test(syn_reuses_closed_tuple),
		cmocka_unit_test(syn_after_fins),
		cmocka_unit_test(fwd_hit_recreates_rev),
		cmocka_unit_test(fwd_hit_recreates_rev_snat),
		cmocka_unit_test(pod_clusterip_local),
		cmocka_unit_test(pod_clusterip_remote),
		cmocka_unit_test(src_range_refused),
		cmocka_unit_test(no_backend),
		cmocka_unit_test(terminating),
		cmocka_unit_test(maglev_table_flip),
		cmocka_unit_test(quarantined),
		cmocka_unit_test(affinity),
		cmocka_unit_test(random_table_only),
		cmocka_unit_test(udp_v4),
		cmocka_unit_test(udp_v4_no_csum),
		cmocka_unit_test(v6_tcp),
		cmocka_unit_test(v6_udp),
		cmocka_unit_test(v6_remote),
		cmocka_unit_test(frag_to_vip),
		cmocka_unit_test(not_a_service),
		cmocka_unit_test(xdp_defers_partial_csum),
		cmocka_unit_test(frag_v4_follows_first),
		cmocka_unit_test(frag_v6_follows_first),
		cmocka_unit_test(frag_v4_no_first),
		cmocka_unit_test(icmp_frag_needed_snat),
		cmocka_unit_test(icmp6_too_big_snat),
		cmocka_unit_test(icmp6_too_big_ext),
		cmocka_unit_test(icmp_unknown_flow),
		cmocka_unit_test(dsr_encap),
		cmocka_unit_test(dsr_two_flows),
		cmocka_unit_test(dsr_decap),
		cmocka_unit_test(dsr_pod_reply),
		cmocka_unit_test(dsr_decap_refused),
		cmocka_unit_test(dsr6_encap),
		cmocka_unit_test(dsr6_two_flows),
		cmocka_unit_test(dsr6_too_big),
		cmocka_unit_test(dsr6_decap),
		cmocka_unit_test(dsr6_pod_reply),
		cmocka_unit_test(dsr6_nodeport),
		cmocka_unit_test(dsr6_decap_refused),
	};

	printf("# load-balancer fixtures: each through np_xdp_uplink and np_tc_uplink_in\n");
	return cmocka_run_group_tests_name("bpf_lb", tests, group_setup, group_teardown);
}
