// SPDX-License-Identifier: GPL-2.0
/*
 * BPF_PROG_TEST_RUN fixtures for the uplink prefilter: every fixture packet
 * runs through the XDP program (np_xdp_uplink) and its tcx fallback
 * (np_tc_uplink_in), and both must give the same verdict, the same
 * statistics delta for their hook and the same per-rule hit delta.
 *
 * The two objects are opened with one private pin_root_path, so they share
 * their maps exactly as they do in production.
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
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <cmocka.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <nodepath/abi.h>

#include "stats.h"

#include "common/np_bpftest.h"
#include "common/np_pktb.h"

#define SRC4 "198.18.0.101"
#define DST4 "198.18.0.1"
#define SRC6 "fd00:18::101"
#define DST6 "fd00:18::1"

#define P_ICMP 1
#define P_TCP 6
#define P_UDP 17
#define P_HOP 0
#define P_ROUTING 43
#define P_FRAGMENT 44
#define P_AH 51
#define P_ICMPV6 58
#define P_NONE 59
#define P_DSTOPTS 60

/* ---- the rules every fixture runs against ------------------------------ */

struct np_test_rule {
	const char *cidr;
	__u32 id;
	__u32 flags;
	__u64 rate_pps;
	__u64 burst;
};

#define RATE_ID4 7
#define RATE_ID6 8
#define RATE_BURST 3

static const struct np_test_rule rules[] = {
	{ "198.18.5.0/24", 1, 0, 0, 0 },		 /* deny */
	{ "198.18.5.7/32", 2, NP_PF_F_ALLOW, 0, 0 },	 /* exception inside it */
	{ "198.18.6.0/24", 3, NP_PF_F_ALLOW, 0, 0 },	 /* allow */
	{ "198.18.6.128/25", 4, 0, 0, 0 },		 /* a longer deny inside it */
	{ "fd00:66::/32", 5, 0, 0, 0 },			 /* deny */
	{ "fd00:66::7/128", 6, NP_PF_F_ALLOW, 0, 0 },	 /* exception inside it */
	{ "198.18.7.0/24", RATE_ID4, 0, 1, RATE_BURST }, /* 1 pps, burst 3 */
	{ "fd00:77::/64", RATE_ID6, 0, 1, RATE_BURST },	 /* 1 pps, burst 3 */
	{ "fd00:99::/32", 9, NP_PF_F_ALLOW, 0, 0 },	 /* allow */
	{ "fd00:99:1::/48", 10, 0, 0, 0 },		 /* a longer deny inside it */
};
#define NRULES (sizeof(rules) / sizeof(rules[0]))
#define MAX_ID 10

/* ---- the loaded objects ------------------------------------------------- */

static struct {
	int ready;
	char pin_dir[64];
	struct bpf_object *xdp_obj, *tc_obj;
	int xdp_fd, tc_fd;
	int stats_fd, v4_fd, v6_fd, hits_fd, tb_fd;
	int ncpus;
} env = { .xdp_fd = -1, .tc_fd = -1 };

/* The names `nodepath stats` prints (control/stats.c), for messages. */
static const char *stat_name(__u32 s)
{
	const char *n = np_stat_name(s);

	return n ? n : "?";
}

static void np_test_close(void)
{
	np_bpftest_unpin(env.pin_dir);
	env.pin_dir[0] = '\0';
	bpf_object__close(env.tc_obj);
	bpf_object__close(env.xdp_obj);
	env.tc_obj = NULL;
	env.xdp_obj = NULL;
	env.ready = 0;
}

static int lpm_key(const char *cidr, int *v6, void *key)
{
	char addr[64];
	const char *slash = strchr(cidr, '/');
	struct np_lpm6_key *k6 = key;
	struct np_lpm4_key *k4 = key;

	snprintf(addr, sizeof(addr), "%.*s", (int)(slash - cidr), cidr);
	*v6 = strchr(addr, ':') != NULL;
	if (*v6) {
		memset(k6, 0, sizeof(*k6));
		k6->prefixlen = (__u32)atoi(slash + 1);
		return inet_pton(AF_INET6, addr, k6->addr) == 1 ? 0 : -EINVAL;
	}
	memset(k4, 0, sizeof(*k4));
	k4->prefixlen = (__u32)atoi(slash + 1);
	return inet_pton(AF_INET, addr, k4->addr) == 1 ? 0 : -EINVAL;
}

static int seed_rules(void)
{
	struct np_lpm6_key key;
	struct np_pf_rule r;
	size_t i;
	int v6;

	for (i = 0; i < NRULES; i++) {
		if (lpm_key(rules[i].cidr, &v6, &key))
			return -EINVAL;
		memset(&r, 0, sizeof(r));
		r.id = rules[i].id;
		r.flags = rules[i].flags;
		r.rate_pps = rules[i].rate_pps;
		r.burst = rules[i].burst;
		if (bpf_map_update_elem(v6 ? env.v6_fd : env.v4_fd, &key, &r, BPF_ANY)) {
			print_error("seed rule %s: %s\n", rules[i].cidr, strerror(errno));
			return -errno;
		}
	}
	return 0;
}

static int group_setup(void **state)
{
	(void)state;
	if (geteuid() != 0)
		return 0; /* every test skips, saying why */
	env.ncpus = libbpf_num_possible_cpus();
	if (np_bpftest_pin_dir(env.pin_dir, sizeof(env.pin_dir), "prefilter")) {
		env.pin_dir[0] = '\0';
		return -1;
	}
	atexit(np_test_close);

	env.xdp_obj =
		np_bpftest_load("np_xdp.bpf.o", env.pin_dir, NP_FEAT_PREFILTER | NP_FEAT_META);
	if (!env.xdp_obj)
		goto err;
	env.tc_obj =
		np_bpftest_load("np_netdev.bpf.o", env.pin_dir, NP_FEAT_PREFILTER | NP_FEAT_META);
	if (!env.tc_obj)
		goto err;
	env.xdp_fd = np_bpftest_prog_fd(env.xdp_obj, "np_xdp_uplink");
	env.tc_fd = np_bpftest_prog_fd(env.tc_obj, "np_tc_uplink_in");
	if (env.xdp_fd < 0 || env.tc_fd < 0) {
		print_error("find np_xdp_uplink / np_tc_uplink_in in their objects\n");
		goto err;
	}
	env.stats_fd = bpf_object__find_map_fd_by_name(env.xdp_obj, NP_MAP_STATS);
	env.v4_fd = bpf_object__find_map_fd_by_name(env.xdp_obj, NP_MAP_PF_V4);
	env.v6_fd = bpf_object__find_map_fd_by_name(env.xdp_obj, NP_MAP_PF_V6);
	env.hits_fd = bpf_object__find_map_fd_by_name(env.xdp_obj, NP_MAP_PF_HITS);
	env.tb_fd = bpf_object__find_map_fd_by_name(env.xdp_obj, NP_MAP_PF_TB);
	if (env.stats_fd < 0 || env.v4_fd < 0 || env.v6_fd < 0 || env.hits_fd < 0 ||
	    env.tb_fd < 0) {
		print_error("find the maps of abi.h in np_xdp.bpf.o\n");
		goto err;
	}
	if (seed_rules())
		goto err;
	env.ready = 1;
	return 0;
err:
	np_test_close();
	return -1;
}

static int group_teardown(void **state)
{
	(void)state;
	np_test_close();
	return 0;
}

#define REQUIRE_ENV() \
	NP_BPFTEST_REQUIRE(geteuid() != 0 ? "BPF_PROG_TEST_RUN needs root" : NULL, env.ready)

/* ---- counters ------------------------------------------------------------ */

/* Sum the counters of hook over all CPUs; no cmocka asserts (fork-safe). */
static int read_hook_stats_raw(int hook, struct np_counter *out)
{
	__u32 s, key;
	int err = 0;

	for (s = 0; !err && s < NP_STAT__MAX; s++) {
		key = NP_STAT_IDX(hook, s);
		err = np_bpftest_counter_sum(env.stats_fd, &key, env.ncpus, &out[s]);
	}
	return err;
}

static void read_hook_stats(int hook, struct np_counter *out)
{
	assert_int_equal(read_hook_stats_raw(hook, out), 0);
}

static void read_hits(struct np_counter *out)
{
	__u32 id;

	for (id = 0; id <= MAX_ID; id++)
		assert_int_equal(np_bpftest_counter_sum(env.hits_fd, &id, env.ncpus, &out[id]), 0);
}

static int is_drop(__u32 verdict)
{
	return verdict >= NP_STAT_DROP_FIRST;
}

/*
 * Run one packet through the program of hook and check the verdict, the
 * full stats delta of that hook, and the hit delta of every rule.
 */
static void run_check_opt(int hook, const struct np_pktb *b, __u32 verdict, __u32 hit_id,
			  int may_refuse)
{
	struct np_counter before[NP_STAT__MAX], after[NP_STAT__MAX];
	struct np_counter hb[MAX_ID + 1], ha[MAX_ID + 1];
	__u64 want[NP_STAT__MAX] = { 0 };
	const char *hn = hook == NP_HOOK_XDP ? "xdp" : "tc";
	__u32 want_ret, s, id;
	int fd = hook == NP_HOOK_XDP ? env.xdp_fd : env.tc_fd;
	int bad = 0;
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = b->buf, .data_size_in = (__u32)b->len,
		    .repeat = 1);

	read_hook_stats(hook, before);
	read_hits(hb);
	if (bpf_prog_test_run_opts(fd, &opts)) {
		if (may_refuse && errno == EINVAL) {
			print_message("# %s: PROG_RUN refuses this frame (EINVAL), as expected\n",
				      hn);
			return;
		}
		fail_msg("%s: BPF_PROG_TEST_RUN of %zu bytes: %s", hn, b->len, strerror(errno));
	}
	read_hook_stats(hook, after);
	read_hits(ha);

	if (hook == NP_HOOK_XDP)
		want_ret = is_drop(verdict) ? XDP_DROP : XDP_PASS;
	else
		want_ret = is_drop(verdict) ? TCX_DROP : (__u32)TCX_NEXT;
	if (opts.retval != want_ret) {
		print_error("%s: returned %d, want %d\n", hn, (int)opts.retval, (int)want_ret);
		bad = 1;
	}

	want[NP_STAT_RX] = 1;
	if (hook == NP_HOOK_TC_UPLINK_IN)
		want[NP_STAT_JUDGED] = 1;
	if (is_drop(verdict)) {
		want[verdict] = 1;
	} else {
		want[NP_STAT_PASS] = 1;
		want[verdict] = 1;
	}
	for (s = 0; s < NP_STAT__MAX; s++) {
		__u64 d = after[s].packets - before[s].packets;

		if (d != want[s]) {
			print_error("%s: stat %s grew by %llu, want %llu\n", hn, stat_name(s),
				    (unsigned long long)d, (unsigned long long)want[s]);
			bad = 1;
		}
	}
	if (after[NP_STAT_RX].bytes - before[NP_STAT_RX].bytes != b->len) {
		print_error(
			"%s: rx bytes grew by %llu, want %zu\n", hn,
			(unsigned long long)(after[NP_STAT_RX].bytes - before[NP_STAT_RX].bytes),
			b->len);
		bad = 1;
	}
	for (id = 1; id <= MAX_ID; id++) {
		__u64 d = ha[id].packets - hb[id].packets;

		if (d != (id == hit_id ? 1u : 0u)) {
			print_error("%s: rule %u hits grew by %llu, want %u\n", hn, id,
				    (unsigned long long)d, id == hit_id ? 1 : 0);
			bad = 1;
		}
	}
	if (bad)
		fail_msg("%s: fixture gave an unexpected result (expected %s)", hn,
			 stat_name(verdict));
}

static void run_check(int hook, const struct np_pktb *b, __u32 verdict, __u32 hit_id)
{
	run_check_opt(hook, b, verdict, hit_id, 0);
}

/* ---- fixture builders ---------------------------------------------------- */

static void add_l4(struct np_pktb *b, uint8_t proto)
{
	switch (proto) {
	case P_TCP:
		np_pktb_tcp(b, 40000, 80);
		np_pktb_fill(b, 12, 0x42);
		break;
	case P_UDP:
		np_pktb_udp(b, 40000, 53);
		np_pktb_fill(b, 12, 0x42);
		break;
	case P_ICMP:
		np_pktb_icmp(b, 0);
		break;
	case P_ICMPV6:
		np_pktb_icmp(b, 1);
		break;
	}
}

static void v4(struct np_pktb *b, uint8_t proto, const char *src)
{
	np_pktb_eth(b, NP_ETH_P_IP);
	np_pktb_ip4(b, proto, src, DST4);
	add_l4(b, proto);
	np_pktb_finish(b);
}

static void v6(struct np_pktb *b, uint8_t proto, const char *src)
{
	np_pktb_eth(b, NP_ETH_P_IPV6);
	np_pktb_ip6(b, proto, src, DST6);
	add_l4(b, proto);
	np_pktb_finish(b);
}

/* Offsets into the packets v4() / v6() build. */
#define OFF_IP 14
#define OFF_L4_4 (14 + 20)
#define OFF_L4_6 (14 + 40)

static void set_ihl(struct np_pktb *b, uint8_t ihl)
{
	b->buf[OFF_IP] = (uint8_t)(0x40 | ihl);
}

static void set_frag4(struct np_pktb *b, uint16_t frag_off)
{
	np_pktb_be16(b, OFF_IP + 6, frag_off);
}

static void set_doff(struct np_pktb *b, size_t tcp_off, uint8_t doff)
{
	b->buf[tcp_off + 12] = (uint8_t)(doff << 4);
}

#define FX(fn) static void fn(struct np_pktb *b)

FX(ip4_tcp_ok)
{
	v4(b, P_TCP, SRC4);
}
FX(ip4_udp_ok)
{
	v4(b, P_UDP, SRC4);
}
FX(ip4_icmp_ok)
{
	v4(b, P_ICMP, SRC4);
}
FX(ip6_tcp_ok)
{
	v6(b, P_TCP, SRC6);
}
FX(ip6_udp_ok)
{
	v6(b, P_UDP, SRC6);
}
FX(ip6_icmpv6_ok)
{
	v6(b, P_ICMPV6, SRC6);
}

FX(vlan_ip4_tcp_ok)
{
	np_pktb_eth(b, NP_ETH_P_8021Q);
	np_pktb_vlan(b, 10, NP_ETH_P_IP);
	np_pktb_ip4(b, P_TCP, SRC4, DST4);
	add_l4(b, P_TCP);
	np_pktb_finish(b);
}

static void qinq_ip6(struct np_pktb *b, uint8_t proto, const char *src)
{
	np_pktb_eth(b, NP_ETH_P_8021AD);
	np_pktb_vlan(b, 100, NP_ETH_P_8021Q);
	np_pktb_vlan(b, 10, NP_ETH_P_IPV6);
	np_pktb_ip6(b, proto, src, DST6);
	add_l4(b, proto);
	np_pktb_finish(b);
}

FX(qinq_ip6_udp_ok)
{
	qinq_ip6(b, P_UDP, SRC6);
}

FX(vlan_three_tags)
{
	np_pktb_eth(b, NP_ETH_P_8021AD);
	np_pktb_vlan(b, 100, NP_ETH_P_8021Q);
	np_pktb_vlan(b, 10, NP_ETH_P_8021Q);
	np_pktb_vlan(b, 11, NP_ETH_P_IP);
	np_pktb_ip4(b, P_TCP, SRC4, DST4);
	add_l4(b, P_TCP);
	np_pktb_finish(b);
}

FX(vlan_tag_truncated)
{
	np_pktb_eth(b, NP_ETH_P_8021Q);
	np_pktb_fill(b, 2, 0);
}

FX(qinq_inner_tag_truncated)
{
	np_pktb_eth(b, NP_ETH_P_8021AD);
	np_pktb_vlan(b, 100, NP_ETH_P_8021Q);
	np_pktb_fill(b, 3, 0);
}

FX(arp_not_ip)
{
	static const uint8_t arp[28] = { 0,   1,  8, 0,	  6, 4, 0, 1, 2, 0, 0,	 0,  0, 0x65,
					 198, 18, 0, 101, 0, 0, 0, 0, 0, 0, 198, 18, 0, 1 };

	np_pktb_eth(b, NP_ETH_P_ARP);
	np_pktb_put(b, arp, sizeof(arp));
}

FX(eth_only_not_ip)
{
	np_pktb_eth(b, 0x88b5);
}

FX(ip4_deny)
{
	v4(b, P_TCP, "198.18.5.9");
}
FX(ip6_deny)
{
	v6(b, P_TCP, "fd00:66::9");
}

FX(vlan_ip4_deny)
{
	np_pktb_eth(b, NP_ETH_P_8021Q);
	np_pktb_vlan(b, 10, NP_ETH_P_IP);
	np_pktb_ip4(b, P_UDP, "198.18.5.9", DST4);
	add_l4(b, P_UDP);
	np_pktb_finish(b);
}

FX(qinq_ip6_deny)
{
	qinq_ip6(b, P_TCP, "fd00:66::9");
}

FX(ip6_ext_chain_deny)
{
	np_pktb_eth(b, NP_ETH_P_IPV6);
	np_pktb_ip6(b, P_HOP, "fd00:66::9", DST6);
	np_pktb_ip6_ext(b, P_HOP, P_DSTOPTS, 8);
	np_pktb_ip6_ext(b, P_DSTOPTS, P_TCP, 16);
	add_l4(b, P_TCP);
	np_pktb_finish(b);
}

static void ah_hbh_tcp(struct np_pktb *b, const char *src)
{
	np_pktb_eth(b, NP_ETH_P_IPV6);
	np_pktb_ip6(b, P_AH, src, DST6);
	/* 24 bytes: AH length field 4; read as 8-octet units it would be 40 */
	np_pktb_ip6_ext(b, P_AH, P_HOP, 24);
	np_pktb_ip6_ext(b, P_HOP, P_TCP, 8);
	add_l4(b, P_TCP);
	np_pktb_finish(b);
}

FX(ip6_ah_hbh_deny)
{
	ah_hbh_tcp(b, "fd00:66::9");
}
FX(ip6_ah_hbh_tcp_ok)
{
	ah_hbh_tcp(b, SRC6);
}
FX(ip4_allow_exception)
{
	v4(b, P_TCP, "198.18.5.7");
}
FX(ip6_allow_exception)
{
	v6(b, P_UDP, "fd00:66::7");
}
FX(lpm4_longer_deny_wins)
{
	v4(b, P_TCP, "198.18.6.200");
}
FX(lpm4_shorter_allow_applies)
{
	v4(b, P_TCP, "198.18.6.10");
}
FX(lpm6_longer_deny_wins)
{
	v6(b, P_TCP, "fd00:99:1::5");
}
FX(lpm6_shorter_allow_applies)
{
	v6(b, P_TCP, "fd00:99:2::5");
}

FX(ip4_frag_nonfirst_deny)
{
	v4(b, P_TCP, "198.18.5.9");
	set_frag4(b, 0x2000 | 185);
}

static void ihl(struct np_pktb *b, uint8_t n)
{
	v4(b, P_TCP, SRC4);
	set_ihl(b, n);
}

FX(ip4_ihl_0)
{
	ihl(b, 0);
}
FX(ip4_ihl_1)
{
	ihl(b, 1);
}
FX(ip4_ihl_2)
{
	ihl(b, 2);
}
FX(ip4_ihl_3)
{
	ihl(b, 3);
}
FX(ip4_ihl_4)
{
	ihl(b, 4);
}

FX(ip4_ihl_past_frame)
{
	np_pktb_eth(b, NP_ETH_P_IP);
	np_pktb_ip4(b, P_TCP, SRC4, DST4);
	np_pktb_fill(b, 10, 0x01);
	np_pktb_finish(b);
	set_ihl(b, 15);
}

FX(ip4_ihl15_options_ok)
{
	np_pktb_eth(b, NP_ETH_P_IP);
	np_pktb_ip4(b, P_TCP, SRC4, DST4);
	np_pktb_fill(b, 39, 0x01); /* NOP options */
	np_pktb_put(b, NULL, 1);   /* end of options */
	set_ihl(b, 15);
	add_l4(b, P_TCP);
	np_pktb_finish(b);
}

FX(ip4_totlen_below_ihl)
{
	v4(b, P_TCP, SRC4);
	np_pktb_be16(b, OFF_IP + 2, 19);
}

FX(ip4_totlen_past_frame)
{
	v4(b, P_TCP, SRC4);
	np_pktb_be16(b, OFF_IP + 2, (uint16_t)(b->len - OFF_IP + 1));
}

FX(ip4_trailing_padding_ok)
{
	np_pktb_eth(b, NP_ETH_P_IP);
	np_pktb_ip4(b, P_UDP, SRC4, DST4);
	np_pktb_udp(b, 40000, 53);
	np_pktb_finish(b);
	np_pktb_fill(b, 18, 0); /* Ethernet minimum-size padding */
}

FX(ip4_version_6)
{
	v4(b, P_TCP, SRC4);
	b->buf[OFF_IP] = 0x65;
}

FX(ip4_header_trunc)
{
	np_pktb_eth(b, NP_ETH_P_IP);
	np_pktb_fill(b, 12, 0x45);
}

FX(vlan_ip4_header_trunc)
{
	np_pktb_eth(b, NP_ETH_P_8021Q);
	np_pktb_vlan(b, 10, NP_ETH_P_IP);
	np_pktb_fill(b, 12, 0x45);
}

static void v4_short_l4(struct np_pktb *b, uint8_t proto, size_t n)
{
	np_pktb_eth(b, NP_ETH_P_IP);
	np_pktb_ip4(b, proto, SRC4, DST4);
	np_pktb_fill(b, n, 0);
	np_pktb_finish(b);
}

FX(ip4_tcp_trunc)
{
	v4_short_l4(b, P_TCP, 12);
}
FX(ip4_udp_trunc)
{
	v4_short_l4(b, P_UDP, 6);
}
FX(ip4_icmp_trunc)
{
	v4_short_l4(b, P_ICMP, 4);
}

FX(ip4_tcp_doff_4)
{
	v4(b, P_TCP, SRC4);
	set_doff(b, OFF_L4_4, 4);
}

FX(ip4_tcp_doff_past_end)
{
	v4(b, P_TCP, SRC4);
	set_doff(b, OFF_L4_4, 15);
}

FX(ip4_tcp_doff_into_padding)
{
	np_pktb_eth(b, NP_ETH_P_IP);
	np_pktb_ip4(b, P_TCP, SRC4, DST4);
	np_pktb_tcp(b, 40000, 80);
	np_pktb_finish(b);
	np_pktb_fill(b, 12, 0);
	set_doff(b, OFF_L4_4, 8); /* 32 bytes: only inside the frame's padding */
}

FX(ip4_udp_len_7)
{
	v4(b, P_UDP, SRC4);
	np_pktb_be16(b, OFF_L4_4 + 4, 7);
}

FX(ip4_udp_len_past_end)
{
	v4(b, P_UDP, SRC4);
	np_pktb_be16(b, OFF_L4_4 + 4, (uint16_t)(b->len - OFF_L4_4 + 1));
}

FX(ip4_udp_len_into_padding)
{
	np_pktb_eth(b, NP_ETH_P_IP);
	np_pktb_ip4(b, P_UDP, SRC4, DST4);
	np_pktb_udp(b, 40000, 53);
	np_pktb_finish(b);
	np_pktb_fill(b, 18, 0);
	np_pktb_be16(b, OFF_L4_4 + 4, 26);
}

FX(ip4_frag_first_ok)
{
	np_pktb_eth(b, NP_ETH_P_IP);
	np_pktb_ip4(b, P_UDP, SRC4, DST4);
	np_pktb_udp(b, 40000, 53);
	np_pktb_fill(b, 24, 0x42);
	np_pktb_finish(b);
	set_frag4(b, 0x2000);
	np_pktb_be16(b, OFF_L4_4 + 4, 1400); /* the whole datagram's length */
}

static void frag4_garbage(struct np_pktb *b, uint16_t frag_off, size_t n)
{
	np_pktb_eth(b, NP_ETH_P_IP);
	np_pktb_ip4(b, P_TCP, SRC4, DST4);
	np_pktb_fill(b, n, 0xff);
	np_pktb_finish(b);
	set_frag4(b, frag_off);
}

FX(ip4_frag_middle_ok)
{
	frag4_garbage(b, 0x2000 | 185, 16);
}
FX(ip4_frag_last_ok)
{
	frag4_garbage(b, 370, 3);
}
FX(ip4_frag_tiny)
{
	frag4_garbage(b, 0x2000, 8);
}
FX(ip4_frag_off_1)
{
	frag4_garbage(b, 0x2000 | 1, 16);
}

FX(ip4_frag_tiny_tcp_options)
{
	v4(b, P_TCP, SRC4);
	set_frag4(b, 0x2000);
	set_doff(b, OFF_L4_4, 15);
}

FX(ip6_version_4)
{
	v6(b, P_TCP, SRC6);
	b->buf[OFF_IP] = 0x40;
}

FX(ip6_header_trunc)
{
	np_pktb_eth(b, NP_ETH_P_IPV6);
	np_pktb_fill(b, 30, 0x60);
}

FX(vlan_ip6_header_trunc)
{
	np_pktb_eth(b, NP_ETH_P_8021Q);
	np_pktb_vlan(b, 10, NP_ETH_P_IPV6);
	np_pktb_fill(b, 30, 0x60);
}

FX(ip6_paylen_past_frame)
{
	v6(b, P_TCP, SRC6);
	np_pktb_be16(b, OFF_IP + 4, (uint16_t)(b->len - OFF_L4_6 + 1));
}

FX(ip6_trailing_padding_ok)
{
	v6(b, P_UDP, SRC6);
	np_pktb_fill(b, 6, 0);
}

FX(ip6_hbh_dst_rh_frag_tcp_ok)
{
	np_pktb_eth(b, NP_ETH_P_IPV6);
	np_pktb_ip6(b, P_HOP, SRC6, DST6);
	np_pktb_ip6_ext(b, P_HOP, P_DSTOPTS, 8);
	np_pktb_ip6_ext(b, P_DSTOPTS, P_ROUTING, 16);
	np_pktb_ip6_ext(b, P_ROUTING, P_FRAGMENT, 24);
	np_pktb_ip6_frag(b, P_TCP, 0, 1); /* first fragment, whole TCP header */
	add_l4(b, P_TCP);
	np_pktb_finish(b);
}

static void dst_chain(struct np_pktb *b, int n)
{
	int i;

	np_pktb_eth(b, NP_ETH_P_IPV6);
	np_pktb_ip6(b, P_DSTOPTS, SRC6, DST6);
	for (i = 0; i < n; i++)
		np_pktb_ip6_ext(b, P_DSTOPTS, i == n - 1 ? P_UDP : P_DSTOPTS, 8);
	add_l4(b, P_UDP);
	np_pktb_finish(b);
}

FX(ip6_ext_chain_at_bound_ok)
{
	dst_chain(b, NP_MAX_IPV6_EXT);
}
FX(ip6_ext_chain_too_long)
{
	dst_chain(b, NP_MAX_IPV6_EXT + 1);
}

FX(ip6_ext_len_past_end)
{
	np_pktb_eth(b, NP_ETH_P_IPV6);
	np_pktb_ip6(b, P_HOP, SRC6, DST6);
	np_pktb_ip6_ext(b, P_HOP, P_TCP, 8);
	add_l4(b, P_TCP);
	np_pktb_finish(b);
	b->buf[OFF_L4_6 + 1] = 10; /* 88 bytes; 40 are there */
}

FX(ip6_ext_header_trunc)
{
	np_pktb_eth(b, NP_ETH_P_IPV6);
	np_pktb_ip6(b, P_DSTOPTS, SRC6, DST6);
	np_pktb_fill(b, 4, 0);
	np_pktb_finish(b);
}

static void atomic_frag(struct np_pktb *b, uint8_t doff)
{
	np_pktb_eth(b, NP_ETH_P_IPV6);
	np_pktb_ip6(b, P_FRAGMENT, SRC6, DST6);
	np_pktb_ip6_frag(b, P_TCP, 0, 0);
	add_l4(b, P_TCP);
	np_pktb_finish(b);
	set_doff(b, OFF_L4_6 + 8, doff);
}

FX(ip6_atomic_frag_tcp_ok)
{
	atomic_frag(b, 5);
}
FX(ip6_atomic_frag_bad_doff)
{
	atomic_frag(b, 3);
}

FX(ip6_nexthdr_none_ok)
{
	np_pktb_eth(b, NP_ETH_P_IPV6);
	np_pktb_ip6(b, P_NONE, SRC6, DST6);
	np_pktb_finish(b);
}

FX(ip6_frag_tiny)
{
	np_pktb_eth(b, NP_ETH_P_IPV6);
	np_pktb_ip6(b, P_FRAGMENT, SRC6, DST6);
	np_pktb_ip6_frag(b, P_TCP, 0, 1);
	np_pktb_fill(b, 4, 0);
	np_pktb_finish(b);
}

FX(ip6_frag_nonfirst_ok)
{
	np_pktb_eth(b, NP_ETH_P_IPV6);
	np_pktb_ip6(b, P_FRAGMENT, SRC6, DST6);
	np_pktb_ip6_frag(b, P_TCP, 100, 1);
	np_pktb_fill(b, 16, 0xff);
	np_pktb_finish(b);
}

FX(ip6_tcp_trunc)
{
	np_pktb_eth(b, NP_ETH_P_IPV6);
	np_pktb_ip6(b, P_TCP, SRC6, DST6);
	np_pktb_fill(b, 10, 0);
	np_pktb_finish(b);
}

FX(ip6_tcp_doff_past_end)
{
	v6(b, P_TCP, SRC6);
	set_doff(b, OFF_L4_6, 9);
}

FX(ip6_udp_len_past_end)
{
	v6(b, P_UDP, SRC6);
	np_pktb_be16(b, OFF_L4_6 + 4, (uint16_t)(b->len - OFF_L4_6 + 1));
}

FX(ip6_icmpv6_trunc)
{
	np_pktb_eth(b, NP_ETH_P_IPV6);
	np_pktb_ip6(b, P_ICMPV6, SRC6, DST6);
	np_pktb_fill(b, 2, 0x80);
	np_pktb_finish(b);
}

/* ---- the fixture table -------------------------------------------------- */

struct fixture {
	const char *name;
	const char *desc;
	void (*build)(struct np_pktb *b);
	__u32 verdict; /* pass outcome (< NP_STAT_DROP_FIRST) or drop reason */
	__u32 hit_id;  /* rule whose hits grow, 0: none */
	/*
	 * SCHED_CLS PROG_RUN (6.18) refuses an ETH_P_IP/ETH_P_IPV6 frame shorter
	 * than its IP header with EINVAL; such shapes also run behind a VLAN tag.
	 */
	int tc_refuses;
	char title[192];
};

#define F(n, d, v, h)                 \
	{                             \
#n, d, n, v, h, 0, "" \
	}
#define F_TC_REFUSES(n, d, v, h)      \
	{                             \
#n, d, n, v, h, 1, "" \
	}

static struct fixture fixtures[] = {
	F(ip4_tcp_ok, "IPv4 TCP SYN from a source without a rule passes", NP_STAT_PASS, 0),
	F(ip4_udp_ok, "IPv4 UDP datagram passes", NP_STAT_PASS, 0),
	F(ip4_icmp_ok, "IPv4 ICMP echo request passes", NP_STAT_PASS, 0),
	F(ip6_tcp_ok, "IPv6 TCP SYN passes", NP_STAT_PASS, 0),
	F(ip6_udp_ok, "IPv6 UDP datagram passes", NP_STAT_PASS, 0),
	F(ip6_icmpv6_ok, "ICMPv6 echo request passes", NP_STAT_PASS, 0),
	F(vlan_ip4_tcp_ok, "802.1Q-tagged IPv4 TCP passes", NP_STAT_PASS, 0),
	F(qinq_ip6_udp_ok, "QinQ (802.1ad + 802.1Q) IPv6 UDP passes", NP_STAT_PASS, 0),
	F(vlan_three_tags, "three VLAN tags exceed NP_MAX_VLAN_DEPTH", NP_DROP_L2_VLAN_DEPTH, 0),
	F(vlan_tag_truncated, "802.1Q tag cut after 2 bytes", NP_DROP_L2_TRUNC, 0),
	F(qinq_inner_tag_truncated, "QinQ inner tag cut after 3 bytes", NP_DROP_L2_TRUNC, 0),
	F(arp_not_ip, "ARP request passes as not IP", NP_STAT_NOT_IP, 0),
	F(eth_only_not_ip, "bare 14-byte Ethernet frame, unknown ethertype", NP_STAT_NOT_IP, 0),
	F(ip4_deny, "IPv4 source inside a denied /24", NP_DROP_PF_DENY, 1),
	F(ip6_deny, "IPv6 source inside a denied /32", NP_DROP_PF_DENY, 5),
	F(vlan_ip4_deny, "denied IPv4 source behind an 802.1Q tag", NP_DROP_PF_DENY, 1),
	F(qinq_ip6_deny, "denied IPv6 source behind QinQ", NP_DROP_PF_DENY, 5),
	F(ip6_ext_chain_deny, "denied IPv6 source behind HBH->DST", NP_DROP_PF_DENY, 5),
	F(ip6_ah_hbh_deny, "denied IPv6 source behind AH->HBH (cilium#24309)", NP_DROP_PF_DENY, 5),
	F(ip6_ah_hbh_tcp_ok, "AH (4-octet units) -> HBH -> TCP parses and passes", NP_STAT_PASS, 0),
	F(ip4_allow_exception, "/32 allow inside a denied /24 wins", NP_STAT_PF_ALLOW, 2),
	F(ip6_allow_exception, "/128 allow inside a denied /32 wins", NP_STAT_PF_ALLOW, 6),
	F(lpm4_longer_deny_wins, "/25 deny inside an allowed /24 wins", NP_DROP_PF_DENY, 4),
	F(lpm4_shorter_allow_applies, "allowed /24 outside its denied /25", NP_STAT_PF_ALLOW, 3),
	F(lpm6_longer_deny_wins, "/48 deny inside an allowed /32 wins", NP_DROP_PF_DENY, 10),
	F(lpm6_shorter_allow_applies, "allowed /32 outside its denied /48", NP_STAT_PF_ALLOW, 9),
	F(ip4_frag_nonfirst_deny, "non-first fragment from a denied source", NP_DROP_PF_DENY, 1),
	F(ip4_ihl_0, "IPv4 IHL=0", NP_DROP_IP4_IHL, 0),
	F(ip4_ihl_1, "IPv4 IHL=1", NP_DROP_IP4_IHL, 0),
	F(ip4_ihl_2, "IPv4 IHL=2", NP_DROP_IP4_IHL, 0),
	F(ip4_ihl_3, "IPv4 IHL=3", NP_DROP_IP4_IHL, 0),
	F(ip4_ihl_4, "IPv4 IHL=4", NP_DROP_IP4_IHL, 0),
	F(ip4_ihl_past_frame, "IPv4 IHL=15 but only 30 bytes of IP in the frame", NP_DROP_IP4_IHL,
	  0),
	F(ip4_ihl15_options_ok, "IPv4 IHL=15 with 40 bytes of options, then TCP", NP_STAT_PASS, 0),
	F(ip4_totlen_below_ihl, "IPv4 tot_len 19 < IHL*4", NP_DROP_IP4_TOTLEN, 0),
	F(ip4_totlen_past_frame, "IPv4 tot_len one byte past the frame", NP_DROP_IP4_TOTLEN, 0),
	F(ip4_trailing_padding_ok, "IPv4 UDP with 18 bytes of Ethernet padding", NP_STAT_PASS, 0),
	F(ip4_version_6, "ethertype IPv4 with version 6", NP_DROP_IP4_VERSION, 0),
	F_TC_REFUSES(ip4_header_trunc, "IPv4 header cut at 12 bytes", NP_DROP_IP4_TRUNC, 0),
	F(vlan_ip4_header_trunc, "IPv4 header cut at 12 bytes behind an 802.1Q tag",
	  NP_DROP_IP4_TRUNC, 0),
	F(ip4_tcp_trunc, "IPv4 TCP header cut at 12 bytes", NP_DROP_TCP_TRUNC, 0),
	F(ip4_udp_trunc, "IPv4 UDP header cut at 6 bytes", NP_DROP_UDP_TRUNC, 0),
	F(ip4_icmp_trunc, "IPv4 ICMP header cut at 4 bytes", NP_DROP_ICMP_TRUNC, 0),
	F(ip4_tcp_doff_4, "TCP doff=4", NP_DROP_TCP_DOFF, 0),
	F(ip4_tcp_doff_past_end, "TCP doff=15 past the end of the packet", NP_DROP_TCP_DOFF, 0),
	F(ip4_tcp_doff_into_padding, "TCP options reach only into padding past tot_len",
	  NP_DROP_TCP_DOFF, 0),
	F(ip4_udp_len_7, "UDP length 7", NP_DROP_UDP_LEN, 0),
	F(ip4_udp_len_past_end, "UDP length one byte past the IP payload", NP_DROP_UDP_LEN, 0),
	F(ip4_udp_len_into_padding, "UDP length covering padding past tot_len", NP_DROP_UDP_LEN, 0),
	F(ip4_frag_first_ok, "IPv4 first fragment (MF, offset 0) with its UDP header", NP_STAT_PASS,
	  0),
	F(ip4_frag_middle_ok, "IPv4 middle fragment, no L4 parse of its garbage", NP_STAT_PASS, 0),
	F(ip4_frag_last_ok, "IPv4 last fragment of 3 bytes, no L4 parse", NP_STAT_PASS, 0),
	F(ip4_frag_tiny, "IPv4 first fragment with 8 bytes of TCP (RFC 1858)",
	  NP_DROP_IP4_FRAG_TINY, 0),
	F(ip4_frag_tiny_tcp_options, "IPv4 first fragment cutting the TCP options",
	  NP_DROP_IP4_FRAG_TINY, 0),
	F(ip4_frag_off_1, "IPv4 fragment at offset 1 (RFC 1858)", NP_DROP_IP4_FRAG_OFF, 0),
	F(ip6_version_4, "ethertype IPv6 with version 4", NP_DROP_IP6_VERSION, 0),
	F_TC_REFUSES(ip6_header_trunc, "IPv6 header cut at 30 bytes", NP_DROP_IP6_TRUNC, 0),
	F(vlan_ip6_header_trunc, "IPv6 header cut at 30 bytes behind an 802.1Q tag",
	  NP_DROP_IP6_TRUNC, 0),
	F(ip6_paylen_past_frame, "IPv6 payload_len one byte past the frame", NP_DROP_IP6_PAYLEN, 0),
	F(ip6_trailing_padding_ok, "IPv6 UDP with 6 bytes of trailing padding", NP_STAT_PASS, 0),
	F(ip6_hbh_dst_rh_frag_tcp_ok, "IPv6 HBH->DST->RH->FRAG(first)->TCP passes", NP_STAT_PASS,
	  0),
	F(ip6_ext_chain_at_bound_ok, "NP_MAX_IPV6_EXT destination options then UDP", NP_STAT_PASS,
	  0),
	F(ip6_ext_chain_too_long, "one extension header more than NP_MAX_IPV6_EXT",
	  NP_DROP_IP6_EXT_CHAIN, 0),
	F(ip6_ext_len_past_end, "HBH length 88 bytes with 40 left", NP_DROP_IP6_EXT_TRUNC, 0),
	F(ip6_ext_header_trunc, "destination options header cut at 4 bytes", NP_DROP_IP6_EXT_TRUNC,
	  0),
	F(ip6_atomic_frag_tcp_ok, "IPv6 atomic fragment (offset 0, M=0) then TCP", NP_STAT_PASS, 0),
	F(ip6_atomic_frag_bad_doff, "atomic fragment is parsed on: TCP doff=3 drops",
	  NP_DROP_TCP_DOFF, 0),
	F(ip6_nexthdr_none_ok, "IPv6 next header NONE, empty payload", NP_STAT_PASS, 0),
	F(ip6_frag_tiny, "IPv6 first fragment with 4 bytes of TCP", NP_DROP_IP6_FRAG_TINY, 0),
	F(ip6_frag_nonfirst_ok, "IPv6 non-first fragment, no L4 parse", NP_STAT_PASS, 0),
	F(ip6_tcp_trunc, "IPv6 TCP header cut at 10 bytes", NP_DROP_TCP_TRUNC, 0),
	F(ip6_tcp_doff_past_end, "IPv6 TCP doff=9 past the payload", NP_DROP_TCP_DOFF, 0),
	F(ip6_udp_len_past_end, "IPv6 UDP length past the payload", NP_DROP_UDP_LEN, 0),
	F(ip6_icmpv6_trunc, "ICMPv6 header cut at 2 bytes", NP_DROP_ICMP_TRUNC, 0),
};
#define NFIXTURES (sizeof(fixtures) / sizeof(fixtures[0]))

static void run_fixture(void **state)
{
	const struct fixture *fx = *state;
	struct np_pktb b;

	REQUIRE_ENV();
	np_pktb_init(&b);
	fx->build(&b);
	assert_true(b.len >= 14); /* PROG_RUN refuses shorter input */
	run_check(NP_HOOK_XDP, &b, fx->verdict, fx->hit_id);
	run_check_opt(NP_HOOK_TC_UPLINK_IN, &b, fx->verdict, fx->hit_id, fx->tc_refuses);
}

/* ---- rate limiting -------------------------------------------------------- */

static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

/* Fill rule id's bucket to `burst` packets as of now. */
static void seed_bucket(__u32 id)
{
	struct np_tbucket tb;

	memset(&tb, 0, sizeof(tb));
	tb.tokens = RATE_BURST * NP_TB_SCALE;
	tb.last_ns = mono_ns();
	assert_int_equal(bpf_map_update_elem(env.tb_fd, &id, &tb, BPF_ANY), 0);
}

/* Both hooks: a burst of RATE_BURST passes, then the bucket is empty. */
static void rate_case(void (*build)(struct np_pktb *), __u32 id)
{
	struct np_pktb b;
	int hook, i;

	REQUIRE_ENV();
	np_pktb_init(&b);
	build(&b);
	for (hook = NP_HOOK_XDP; hook <= NP_HOOK_TC_UPLINK_IN; hook++) {
		seed_bucket(id);
		/* 1 pps refills 1/1000 packet per ms: nothing within this test. */
		for (i = 0; i < RATE_BURST; i++)
			run_check(hook, &b, NP_STAT_PF_RATE_PASS, id);
		run_check(hook, &b, NP_DROP_PF_RATE, id);
		run_check(hook, &b, NP_DROP_PF_RATE, id);
	}
}

FX(rate4_pkt)
{
	v4(b, P_UDP, "198.18.7.33");
}
FX(rate6_pkt)
{
	v6(b, P_TCP, "fd00:77::33");
}

static void rate_v4_burst_then_drop(void **state)
{
	(void)state;
	rate_case(rate4_pkt, RATE_ID4);
}

static void rate_v6_burst_then_drop(void **state)
{
	(void)state;
	rate_case(rate6_pkt, RATE_ID6);
}

/* A bucket never used (last_ns 0) starts full: burst passes, then drops. */
static void rate_fresh_bucket_starts_full(void **state)
{
	struct np_tbucket tb;
	struct np_pktb b;
	__u32 id = RATE_ID4;
	int i;

	(void)state;
	REQUIRE_ENV();
	memset(&tb, 0, sizeof(tb));
	assert_int_equal(bpf_map_update_elem(env.tb_fd, &id, &tb, BPF_ANY), 0);
	np_pktb_init(&b);
	rate4_pkt(&b);
	for (i = 0; i < RATE_BURST; i++)
		run_check(i % 2 ? NP_HOOK_TC_UPLINK_IN : NP_HOOK_XDP, &b, NP_STAT_PF_RATE_PASS, id);
	run_check(NP_HOOK_XDP, &b, NP_DROP_PF_RATE, id);
	run_check(NP_HOOK_TC_UPLINK_IN, &b, NP_DROP_PF_RATE, id);
}

/* ---- sharing and the metadata mark ---------------------------------------- */

static void maps_shared_between_objects(void **state)
{
	static const char *const names[] = { NP_MAP_NODE,  NP_MAP_STATS,   NP_MAP_PF_V4,
					     NP_MAP_PF_V6, NP_MAP_PF_HITS, NP_MAP_PF_TB };
	struct bpf_map_info a, b;
	__u32 la, lb;
	size_t i;

	(void)state;
	REQUIRE_ENV();
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		int fa = bpf_object__find_map_fd_by_name(env.xdp_obj, names[i]);
		int fb = bpf_object__find_map_fd_by_name(env.tc_obj, names[i]);

		assert_true(fa >= 0 && fb >= 0);
		la = sizeof(a);
		lb = sizeof(b);
		memset(&a, 0, sizeof(a));
		memset(&b, 0, sizeof(b));
		assert_int_equal(bpf_map_get_info_by_fd(fa, &a, &la), 0);
		assert_int_equal(bpf_map_get_info_by_fd(fb, &b, &lb), 0);
		if (a.id != b.id)
			fail_msg("map %s: xdp has id %u, tc has id %u", names[i], a.id, b.id);
	}
}

/*
 * XDP test_run hands back the metadata in front of the frame: data_out
 * starts at data_meta and ctx_out.data is the metadata length.
 */
static void xdp_pass_leaves_meta_mark(void **state)
{
	struct xdp_md ctx_in, ctx_out;
	__u8 out[NP_PKTB_MAX + 64];
	struct np_meta meta;
	struct np_pktb b;

	(void)state;
	REQUIRE_ENV();
	np_pktb_init(&b);
	v4(&b, P_TCP, SRC4);
	memset(&ctx_in, 0, sizeof(ctx_in));
	memset(&ctx_out, 0, sizeof(ctx_out));
	ctx_in.data_end = (__u32)b.len;
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = b.buf, .data_size_in = (__u32)b.len,
		    .data_out = out, .data_size_out = sizeof(out), .ctx_in = &ctx_in,
		    .ctx_size_in = sizeof(ctx_in), .ctx_out = &ctx_out,
		    .ctx_size_out = sizeof(ctx_out));

	assert_int_equal(bpf_prog_test_run_opts(env.xdp_fd, &opts), 0);
	assert_int_equal(opts.retval, XDP_PASS);
	assert_int_equal(ctx_out.data - ctx_out.data_meta, sizeof(meta));
	assert_int_equal(opts.data_size_out, b.len + sizeof(meta));
	memcpy(&meta, out, sizeof(meta));
	assert_int_equal(meta.magic, NP_META_MAGIC);
	assert_int_equal(meta.flags, NP_META_F_JUDGED);
	assert_memory_equal(out + sizeof(meta), b.buf, b.len);
}

static void xdp_drop_leaves_no_meta(void **state)
{
	struct xdp_md ctx_in, ctx_out;
	__u8 out[NP_PKTB_MAX + 64];
	struct np_pktb b;

	(void)state;
	REQUIRE_ENV();
	np_pktb_init(&b);
	v4(&b, P_TCP, "198.18.5.9");
	memset(&ctx_in, 0, sizeof(ctx_in));
	memset(&ctx_out, 0, sizeof(ctx_out));
	ctx_in.data_end = (__u32)b.len;
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = b.buf, .data_size_in = (__u32)b.len,
		    .data_out = out, .data_size_out = sizeof(out), .ctx_in = &ctx_in,
		    .ctx_size_in = sizeof(ctx_in), .ctx_out = &ctx_out,
		    .ctx_size_out = sizeof(ctx_out));

	assert_int_equal(bpf_prog_test_run_opts(env.xdp_fd, &opts), 0);
	assert_int_equal(opts.retval, XDP_DROP);
	assert_int_equal(ctx_out.data - ctx_out.data_meta, 0);
	assert_int_equal(opts.data_size_out, b.len);
}

/*
 * The XDP -> tc handoff end to end, without a lab: in a private network
 * namespace, tcx ingress on lo runs np_tc_uplink_in, and XDP PROG_RUN in
 * live-frames mode (BPF_F_TEST_XDP_LIVE_FRAMES) with lo as the ingress
 * device hands every XDP_PASS frame, metadata included, to lo's receive
 * path. The tc program must see the mark and skip the packet. Runs in a
 * child process so the namespace dies with it.
 */
enum { LIVE_OK = 0, LIVE_SKIP = 77 };

static int live_child(const struct np_pktb *b, __u64 *skipped, __u64 *judged)
{
	struct np_counter before[NP_STAT__MAX], after[NP_STAT__MAX];
	struct bpf_program *tc_prog;
	struct bpf_link *link;
	struct xdp_md ctx;
	struct ifreq ifr;
	int s, err;

	if (unshare(CLONE_NEWNET))
		return 10;
	s = socket(AF_INET, SOCK_DGRAM, 0);
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr))
		return 11;
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr))
		return 12;
	close(s);

	tc_prog = bpf_object__find_program_by_name(env.tc_obj, "np_tc_uplink_in");
	if (!tc_prog)
		return 13;
	link = bpf_program__attach_tcx(tc_prog, (int)if_nametoindex("lo"), NULL);
	if (!link)
		return LIVE_SKIP;

	if (read_hook_stats_raw(NP_HOOK_TC_UPLINK_IN, before))
		return 16;
	memset(&ctx, 0, sizeof(ctx));
	ctx.data_end = (__u32)b->len;
	ctx.ingress_ifindex = if_nametoindex("lo");
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = b->buf, .data_size_in = (__u32)b->len,
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = 1,
		    .flags = BPF_F_TEST_XDP_LIVE_FRAMES);
	err = bpf_prog_test_run_opts(env.xdp_fd, &opts);
	if (err)
		return errno == EINVAL || errno == EOPNOTSUPP ? LIVE_SKIP : 14;
	if (read_hook_stats_raw(NP_HOOK_TC_UPLINK_IN, after))
		return 17;
	bpf_link__destroy(link);
	*skipped = after[NP_STAT_SKIPPED].packets - before[NP_STAT_SKIPPED].packets;
	*judged = after[NP_STAT_JUDGED].packets - before[NP_STAT_JUDGED].packets;
	return LIVE_OK;
}

static void xdp_mark_makes_tc_skip(void **state)
{
	__u64 res[2] = { 0, 0 };
	int pipefd[2], status;
	struct np_pktb b;
	pid_t pid;

	(void)state;
	REQUIRE_ENV();
	np_pktb_init(&b);
	v4(&b, P_UDP, SRC4);
	assert_int_equal(pipe(pipefd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int rc = live_child(&b, &res[0], &res[1]);

		if (write(pipefd[1], res, sizeof(res)) != (ssize_t)sizeof(res))
			rc = 15;
		_exit(rc);
	}
	close(pipefd[1]);
	if (read(pipefd[0], res, sizeof(res)) != (ssize_t)sizeof(res))
		memset(res, 0, sizeof(res));
	close(pipefd[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == LIVE_SKIP) {
		print_message("# SKIP: no tcx attach or no live-frames PROG_RUN here\n");
		skip();
	}
	assert_int_equal(WEXITSTATUS(status), LIVE_OK);
	assert_int_equal(res[0], 1); /* tc saw the mark: skipped */
	assert_int_equal(res[1], 0); /* and did not judge again */
}

int main(void)
{
	struct CMUnitTest tests[NFIXTURES + 8];
	size_t i, n = 0;

	for (i = 0; i < NFIXTURES; i++) {
		struct fixture *fx = &fixtures[i];

		snprintf(fx->title, sizeof(fx->title), "%s: %s", fx->name, fx->desc);
		memset(&tests[n], 0, sizeof(tests[n]));
		tests[n].name = fx->title;
		tests[n].test_func = run_fixture;
		tests[n].initial_state = fx;
		n++;
	}
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(maps_shared_between_objects);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(rate_v4_burst_then_drop);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(rate_v6_burst_then_drop);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(rate_fresh_bucket_starts_full);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(xdp_pass_leaves_meta_mark);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(xdp_drop_leaves_no_meta);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(xdp_mark_makes_tc_skip);
	printf("# %zu fixtures, each through np_xdp_uplink and np_tc_uplink_in\n", NFIXTURES);
	return _cmocka_run_group_tests("bpf_uplink_prefilter", tests, n, group_setup,
				       group_teardown);
}
