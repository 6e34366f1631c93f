// SPDX-License-Identifier: GPL-2.0
/*
 * BPF_PROG_TEST_RUN fixtures for the AF_XDP steering of the uplink XDP
 * program (include/nodepath/bpf/xsk.h): a packet of an --afxdp service
 * (NP_SVC_F_AFXDP) to a local backend
 *  - with np_xsk[rx queue] empty is passed (XDP_PASS) with exactly the bytes
 *    a plain service to the same backend gives, and to_xsk does not move;
 *  - with a real AF_XDP socket in np_xsk[0] is redirected (XDP_REDIRECT),
 *    carries struct np_xsk_meta {NP_XSK_META_MAGIC, the pod's host-side
 *    ifindex} in front of it and the pod's MAC addresses, and counts to_xsk;
 *  - to a netkit endpoint is steered too: l2 with the pod's and the host
 *    side's MACs, l3 with all-zero MACs (what netkit l3 devices carry; the
 *    primary hook then gives the frame its protocol, bpf/xsk_nk.h);
 *  - of a plain service, or to an endpoint the pool marked NP_EP_F_NO_XSK
 *    (the kernel refused an AF_XDP socket on its device), is never steered,
 *    even with a socket in np_xsk.
 *
 * The test moves into a network namespace of its own: up0 (the uplink),
 * pod1 (the endpoint's host side) and xsk0, where the AF_XDP socket is bound
 * (copy mode, no XDP program of its own: the socket only has to exist).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <linux/if_link.h>
#include <linux/if_xdp.h>

#include <cmocka.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/xsk.h>

#include <nodepath/abi.h>

#include "nl.h"
#include "common/np_bpftest.h"
#include "common/np_pktb.h"

#define P_UDP 17
#define CLIENT4 "198.18.0.101"
#define NODE4 "198.18.0.1"
#define POD1_4 "198.19.1.11"
#define VIP_PLAIN "198.18.100.40"
#define VIP_XSK "198.18.100.41"
#define VIP_NK "198.18.100.42"
#define VIP_NK3 "198.18.100.43"
#define VIP_NOX "198.18.100.44"
#define POD2_4 "198.19.1.12"
#define POD3_4 "198.19.1.13"
#define POD4_4 "198.19.1.14"
#define BE_POD1 1
#define BE_NK 2
#define BE_NK3 3
#define BE_NOX 4
#define SVC_PLAIN 1
#define SVC_XSK 2
#define SVC_NK 3
#define SVC_NK3 4
#define SVC_NOX 5

static const uint8_t client_mac[6] = { 0x02, 0, 0, 0, 0, 0x65 };
static const uint8_t pod1_mac[6] = { 0x02, 0, 0, 0, 0x01, 0x11 };
static const uint8_t pod1_host[6] = { 0x02, 0, 0, 0, 0x01, 0x01 };
static const uint8_t up0_mac[6] = { 0x02, 0, 0, 0, 0, 0x01 };

static struct {
	int ready;
	const char *why_not;
	char pin_dir[96];
	struct bpf_object *obj;
	int prog, stats, svc, maglev, be, ct, node, eps, xsk_map;
	int ncpus;
	int up0, pod1;
	/* The AF_XDP socket (on xsk0, queue 0) */
	void *area;
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	struct xsk_ring_prod fill, tx;
	struct xsk_ring_cons comp, rx;
} env;

#define UMEM_FRAMES 64
#define UMEM_FS 2048

/* ---- setup ----------------------------------------------------------------------- */

static int netns_setup(void)
{
	int err;

	if (unshare(CLONE_NEWNET))
		return -errno;
	err = np_nl_link_set_up("lo", true);
	if (!err)
		err = np_nl_veth_add("up0", "up0p", -1);
	if (!err)
		err = np_nl_veth_add("pod1", "pod1p", -1);
	if (!err)
		err = np_nl_veth_add("xsk0", "xsk0p", -1);
	for (const char *const *d =
		     (const char *const[]){ "up0", "up0p", "pod1", "pod1p", "xsk0", "xsk0p", NULL };
	     !err && *d; d++)
		err = np_nl_link_set_up(*d, true);
	if (!err)
		err = np_nl_addr_add_str("up0", NODE4 "/24");
	if (err)
		return err;
	env.up0 = np_nl_link_index("up0");
	env.pod1 = np_nl_link_index("pod1");
	return env.up0 < 0 || env.pod1 < 0 ? -ENODEV : 0;
}

static int put_svc(const char *vip, uint16_t port, __u32 id, __u32 flags, __u32 be)
{
	struct np_svc_key k;
	struct np_svc s;
	int err;

	/* The live one of the service's two tables, all slots be. */
	err = np_bpftest_maglev_table(env.maglev, NP_MAGLEV_SLOT(id, flags), &be, 1);
	if (err)
		return err;
	np_bpftest_svc_key(&k, vip, P_UDP, port, NP_SVC_SCOPE_VIP);
	memset(&s, 0, sizeof(s));
	s.id = id;
	s.flags = flags;
	s.count = 1;
	s.algo = NP_ALGO_MAGLEV;
	return bpf_map_update_elem(env.svc, &k, &s, BPF_ANY) ? -errno : 0;
}

static int put_ep(__u32 id, int ifindex, __u32 flags, const char *ip)
{
	struct np_endpoint ep;
	struct np_ep_key key;

	memset(&ep, 0, sizeof(ep));
	ep.id = id;
	ep.ifindex = (__u32)ifindex;
	ep.flags = flags;
	/* netkit l3: no link-layer addresses (all zero). */
	if (flags & NP_EP_F_L2) {
		memcpy(ep.pod_mac, pod1_mac, 6);
		memcpy(ep.host_mac, pod1_host, 6);
	}
	memset(&key, 0, sizeof(key));
	key.family = NP_AF_INET;
	np_bpftest_addr(ip, key.addr);
	return bpf_map_update_elem(env.eps, &key, &ep, BPF_ANY) ? -errno : 0;
}

static int put_be(__u32 id, const char *ip)
{
	struct np_backend be;

	memset(&be, 0, sizeof(be));
	be.family = NP_AF_INET;
	be.state = NP_BE_ACTIVE;
	be.port = htons(5353);
	be.flags = NP_BE_F_LOCAL;
	np_bpftest_addr(ip, be.addr);
	return bpf_map_update_elem(env.be, &id, &be, BPF_ANY) ? -errno : 0;
}

static int seed_maps(void)
{
	struct np_node_cfg node;
	__u32 zero = 0;
	int err;

	memset(&node, 0, sizeof(node));
	node.abi_version = NP_ABI_VERSION;
	node.flags = NP_NODE_F_UP;
	node.uplink_ifindex = (__u32)env.up0;
	node.maglev_size = NP_MAGLEV_DEFAULT;
	node.ct_size = NP_CT_DEFAULT;
	inet_pton(AF_INET, NODE4, node.node_addr4);
	if (bpf_map_update_elem(env.node, &zero, &node, BPF_ANY))
		return -errno;
	/*
	 * pod1 a veth endpoint; pod2 and pod3 stand for netkit l2 and l3 ones
	 * (any device will do), pod4 for one the pool cannot send into.
	 */
	err = put_ep(1, env.pod1, NP_EP_F_L2, POD1_4);
	err = err ?: put_ep(2, env.up0, NP_EP_F_NETKIT | NP_EP_F_L2, POD2_4);
	err = err ?: put_ep(3, env.up0, NP_EP_F_NETKIT, POD3_4);
	err = err ?: put_be(BE_POD1, POD1_4);
	err = err ?: put_be(BE_NK, POD2_4);
	err = err ?: put_be(BE_NK3, POD3_4);
	err = err ?: put_svc(VIP_NK3, 53, SVC_NK3, NP_SVC_F_AFXDP, BE_NK3);
	err = err ?: put_ep(4, env.up0, NP_EP_F_NETKIT | NP_EP_F_NO_XSK, POD4_4);
	err = err ?: put_be(BE_NOX, POD4_4);
	err = err ?: put_svc(VIP_NOX, 53, SVC_NOX, NP_SVC_F_AFXDP, BE_NOX);
	err = err ?: put_svc(VIP_PLAIN, 53, SVC_PLAIN, 0, BE_POD1);
	err = err ?: put_svc(VIP_XSK, 53, SVC_XSK, NP_SVC_F_AFXDP, BE_POD1);
	return err ?: put_svc(VIP_NK, 53, SVC_NK, NP_SVC_F_AFXDP, BE_NK);
}

/* A bound AF_XDP socket (copy mode) on xsk0 queue 0: what np_xsk needs. */
static int xsk_open(void)
{
	struct xsk_socket_config cfg = {
		.rx_size = 64,
		.tx_size = 64,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.bind_flags = XDP_COPY,
	};
	struct xsk_umem_config ucfg = {
		.fill_size = 64,
		.comp_size = 64,
		.frame_size = UMEM_FS,
	};
	int err;

	env.area = mmap(NULL, UMEM_FRAMES * UMEM_FS, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (env.area == MAP_FAILED) {
		env.area = NULL;
		return -errno;
	}
	err = xsk_umem__create(&env.umem, env.area, UMEM_FRAMES * UMEM_FS, &env.fill, &env.comp,
			       &ucfg);
	if (err)
		return err;
	return xsk_socket__create(&env.xsk, "xsk0", 0, env.umem, &env.rx, &env.tx, &cfg);
}

static void env_close(void)
{
	if (env.xsk)
		xsk_socket__delete(env.xsk);
	if (env.umem)
		xsk_umem__delete(env.umem);
	if (env.area)
		munmap(env.area, UMEM_FRAMES * UMEM_FS);
	env.xsk = NULL;
	env.umem = NULL;
	env.area = NULL;
	if (env.pin_dir[0])
		np_bpftest_unpin(env.pin_dir);
	env.pin_dir[0] = '\0';
	bpf_object__close(env.obj);
	env.obj = NULL;
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
	if (np_bpftest_pin_dir(env.pin_dir, sizeof(env.pin_dir), "xsk")) {
		env.pin_dir[0] = '\0';
		return -1;
	}
	atexit(env_close);
	/* No "judged" mark (NP_FEAT_META): data_out starts with the frame. */
	env.obj = np_bpftest_load("np_xdp.bpf.o", env.pin_dir, NP_FEAT_PREFILTER);
	if (!env.obj)
		goto err;
	env.prog = np_bpftest_prog_fd(env.obj, "np_xdp_uplink");
	env.stats = bpf_object__find_map_fd_by_name(env.obj, NP_MAP_STATS);
	env.svc = bpf_object__find_map_fd_by_name(env.obj, NP_MAP_SVC);
	env.maglev = bpf_object__find_map_fd_by_name(env.obj, NP_MAP_MAGLEV);
	env.be = bpf_object__find_map_fd_by_name(env.obj, NP_MAP_BACKENDS);
	env.ct = bpf_object__find_map_fd_by_name(env.obj, NP_MAP_CT);
	env.node = bpf_object__find_map_fd_by_name(env.obj, NP_MAP_NODE);
	env.eps = bpf_object__find_map_fd_by_name(env.obj, NP_MAP_EP);
	env.xsk_map = bpf_object__find_map_fd_by_name(env.obj, NP_MAP_XSK);
	if (env.prog < 0 || env.stats < 0 || env.svc < 0 || env.maglev < 0 || env.be < 0 ||
	    env.ct < 0 || env.node < 0 || env.eps < 0 || env.xsk_map < 0) {
		print_error("find the program and maps\n");
		goto err;
	}
	err = seed_maps();
	if (err) {
		print_error("seed the maps: %s\n", strerror(-err));
		goto err;
	}
	err = xsk_open();
	if (err) {
		print_error("AF_XDP socket on xsk0: %s\n", strerror(-err));
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

/* ---- running --------------------------------------------------------------------- */

struct out {
	uint8_t buf[NP_PKTB_MAX + 256];
	size_t len;
	__u32 ret;
};

/* A UDP datagram client:sport -> vip:53 arriving on up0. */
static void build(struct np_pktb *b, const char *vip, uint16_t sport)
{
	np_pktb_init(b);
	np_pktb_eth_addr(b, up0_mac, client_mac, NP_ETH_P_IP);
	np_pktb_ip4(b, P_UDP, CLIENT4, vip);
	np_pktb_udp(b, sport, 53);
	np_pktb_fill(b, 32, 0x5a);
	np_pktb_finish(b);
}

static void run(const char *vip, uint16_t sport, struct out *o)
{
	struct np_pktb b;
	int err;

	build(&b, vip, sport);
	/* rx queue 0: where xsk_in() puts the socket */
	err = np_bpftest_run(env.prog, 1, env.up0, b.buf, b.len, o->buf, sizeof(o->buf), &o->len,
			     &o->ret);
	if (err)
		fail_msg("BPF_PROG_TEST_RUN: %s", strerror(-err));
}

static __u64 to_xsk(void)
{
	__u32 key = NP_STAT_IDX(NP_HOOK_XDP, NP_STAT_TO_XSK);
	struct np_counter sum;

	assert_int_equal(np_bpftest_counter_sum(env.stats, &key, env.ncpus, &sum), 0);
	return sum.packets;
}

static void xsk_in(int on)
{
	__u32 q = 0;
	int fd = xsk_socket__fd(env.xsk);

	if (on)
		assert_int_equal(bpf_map_update_elem(env.xsk_map, &q, &fd, BPF_ANY), 0);
	else if (bpf_map_delete_elem(env.xsk_map, &q))
		assert_int_equal(errno, ENOENT);
}

/* The IPv4 header from the destination address on, the UDP header, the payload. */
#define DST_OFF (14 + 16)

/* ---- fixtures -------------------------------------------------------------------- */

/* No worker: the frame of an --afxdp service is the plain service's, passed. */
static void no_worker_pass(void **state)
{
	struct out plain, x;
	__u64 n0;

	(void)state;
	REQUIRE_ENV();
	xsk_in(0);
	n0 = to_xsk();
	run(VIP_PLAIN, 41000, &plain);
	run(VIP_XSK, 41000, &x);
	assert_int_equal(plain.ret, XDP_PASS);
	assert_int_equal(x.ret, XDP_PASS);
	/* DNATed to pod1:5353 alike: the same bytes (the VIP is gone from both). */
	assert_int_equal(x.len, plain.len);
	assert_memory_equal(x.buf, plain.buf, plain.len);
	/* MACs untouched: tc delivers it. */
	assert_memory_equal(x.buf, up0_mac, 6);
	assert_int_equal(to_xsk(), n0);
}

/* A worker on queue 0: redirected, meta and MACs right. */
static void worker_redirect(void **state)
{
	struct np_xsk_meta m;
	struct out plain, x;
	uint8_t pod[4];
	__u64 n0;

	(void)state;
	REQUIRE_ENV();
	xsk_in(1);
	n0 = to_xsk();
	run(VIP_PLAIN, 41001, &plain);
	assert_int_equal(plain.ret, XDP_PASS);
	run(VIP_XSK, 41001, &x);
	assert_int_equal(x.ret, XDP_REDIRECT);
	assert_int_equal(to_xsk(), n0 + 1);
	/* data_out starts at data_meta: the meta, then the frame. */
	assert_int_equal(x.len, plain.len + sizeof(m));
	memcpy(&m, x.buf, sizeof(m));
	assert_int_equal(m.magic, NP_XSK_META_MAGIC);
	assert_int_equal(m.ifindex, (__u32)env.pod1);
	/* The pod's MAC addresses, the rest as the kernel path's DNAT. */
	assert_memory_equal(x.buf + sizeof(m), pod1_mac, 6);
	assert_memory_equal(x.buf + sizeof(m) + 6, pod1_host, 6);
	assert_memory_equal(x.buf + sizeof(m) + 12, plain.buf + 12, plain.len - 12);
	inet_pton(AF_INET, POD1_4, pod);
	assert_memory_equal(x.buf + sizeof(m) + DST_OFF, pod, 4);

	/* The same flow (a CT hit now) once the worker is gone: passed. */
	xsk_in(0);
	run(VIP_XSK, 41001, &x);
	assert_int_equal(x.ret, XDP_PASS);
	assert_int_equal(x.len, plain.len);
	assert_memory_equal(x.buf, plain.buf, plain.len);
	assert_int_equal(to_xsk(), n0 + 1);
}

/* netkit endpoints are steered: l2 with the pod's MACs, l3 with all-zero ones. */
static void netkit_steered(void **state)
{
	static const uint8_t zero[12];
	struct np_xsk_meta m;
	struct out plain, x;
	__u64 n0;

	(void)state;
	REQUIRE_ENV();
	xsk_in(1);
	n0 = to_xsk();
	run(VIP_PLAIN, 41003, &plain);
	run(VIP_NK, 41003, &x);
	assert_int_equal(x.ret, XDP_REDIRECT);
	assert_int_equal(x.len, plain.len + sizeof(m));
	memcpy(&m, x.buf, sizeof(m));
	assert_int_equal(m.magic, NP_XSK_META_MAGIC);
	assert_int_equal(m.ifindex, (__u32)env.up0);
	assert_memory_equal(x.buf + sizeof(m), pod1_mac, 6);
	assert_memory_equal(x.buf + sizeof(m) + 6, pod1_host, 6);
	run(VIP_NK3, 41003, &x);
	assert_int_equal(x.ret, XDP_REDIRECT);
	memcpy(&m, x.buf, sizeof(m));
	assert_int_equal(m.magic, NP_XSK_META_MAGIC);
	assert_int_equal(m.ifindex, (__u32)env.up0);
	assert_memory_equal(x.buf + sizeof(m), zero, 12);
	assert_int_equal(to_xsk(), n0 + 2);
	xsk_in(0);
}

/* A plain service, or an endpoint marked NP_EP_F_NO_XSK, is not steered, a worker or not. */
static void not_steered(void **state)
{
	struct out o;
	__u64 n0;

	(void)state;
	REQUIRE_ENV();
	xsk_in(1);
	n0 = to_xsk();
	run(VIP_PLAIN, 41002, &o);
	assert_int_equal(o.ret, XDP_PASS);
	assert_memory_equal(o.buf, up0_mac, 6);
	assert_int_equal(to_xsk(), n0);
	/* An --afxdp service to an endpoint the pool cannot send into: the kernel path. */
	run(VIP_NOX, 41002, &o);
	assert_int_equal(o.ret, XDP_PASS);
	assert_memory_equal(o.buf, up0_mac, 6);
	assert_int_equal(to_xsk(), n0);
	/* Not a service at all: passed untouched. */
	run("198.18.100.99", 41002, &o);
	assert_int_equal(o.ret, XDP_PASS);
	assert_int_equal(to_xsk(), n0);
	xsk_in(0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(no_worker_pass),
		cmocka_unit_test(worker_redirect),
		cmocka_unit_test(netkit_steered),
		cmocka_unit_test(not_steered),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
