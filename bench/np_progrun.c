// SPDX-License-Identifier: GPL-2.0
/*
 * np_progrun: ns per packet of each datapath path with BPF_PROG_TEST_RUN,
 * for bench/scenarios/progrun.sh. One call measures one round of every path
 * and prints the contract lines of bench/lib.sh ("result PATH ROUND NS ns").
 *
 * The node (--node NS) is a lab node that is up, with the maps filled the
 * way the CLI fills them: a prefilter deny rule, a UDP service with a local
 * backend, two pod endpoints (bench/scenarios/progrun.sh sets it up). The
 * programs under test use that node's maps: np_xdp_uplink is loaded afresh
 * from its object with every pinned map reused (nothing is attached or
 * pinned); np_tc_uplink_in is the node's attached program (through its
 * pinned tcx link) and np_pod_from its pinned pod program.
 *
 * Each path runs in a re-stamping wrapper (bench/np_progrun.bpf.c) that
 * tail-calls it; right before, the same wrapper tail-calling a no-op
 * program gives the floor, and the path's figure is its ns minus the floor.
 * The node's np_stats counters are read around every timed run: a path
 * whose counters show another path (say, a conntrack miss where a hit was
 * meant) fails the run.
 *
 *   np_progrun --node NS --round R [--repeat N] [--big-flows N] [--cpu C]
 *              [--vip ADDR:PORT] [--deny-net A.B.C] [--pod-a ADDR] [--pod-b ADDR]
 */
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "datapath.h"
#include "log.h"
#include "node.h"
#include "nodepath/abi.h"

#include "np_progrun.skel.h"
#include "np_xdp.skel.h"

#include "np_progrun.h"

#define PKT_LEN 74 /* Ethernet + IPv4 + UDP + 32 bytes */

struct args {
	const char *node;
	unsigned int round;
	unsigned int repeat;
	unsigned int big_flows;
	int cpu;
	struct in_addr vip;
	__u16 vport;
	struct in_addr deny; /* a /24 the node denies */
	struct in_addr pod_a, pod_b;
};

struct ctx {
	struct args a;
	struct np_node n;
	struct np_progrun *pr;
	struct np_xdp *xdp;
	int tc_up_fd, pod_fd, stats_fd;
	int uplink_ifindex, pod_ifindex;
	__u8 uplink_mac[6], pod_mac[6];
	int ncpus;
};

static __u16 csum_fold(__u32 s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (__u16)~s;
}

static __u32 csum_add(__u32 s, const void *p, size_t len)
{
	const __u8 *b = p;

	for (size_t i = 0; i + 1 < len; i += 2)
		s += (__u32)(b[i] << 8 | b[i + 1]);
	if (len & 1)
		s += (__u32)(b[len - 1] << 8);
	return s;
}

/* An Ethernet + IPv4 + UDP frame of PKT_LEN bytes with both checksums right. */
static void mk_pkt(__u8 *p, const __u8 *dmac, struct in_addr src, __u16 sport, struct in_addr dst,
		   __u16 dport)
{
	static const __u8 smac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x99 };
	__u16 ulen = PKT_LEN - 14 - 20, c;
	__u8 pseudo[12];
	__u32 s;

	memset(p, 0, PKT_LEN);
	memcpy(p, dmac, 6);
	memcpy(p + 6, smac, 6);
	p[12] = 0x08;
	p[13] = 0x00;
	p[14] = 0x45;
	p[16] = (PKT_LEN - 14) >> 8;
	p[17] = (PKT_LEN - 14) & 0xff;
	p[22] = 64;
	p[23] = IPPROTO_UDP;
	memcpy(p + 26, &src, 4);
	memcpy(p + 30, &dst, 4);
	c = csum_fold(csum_add(0, p + 14, 20));
	p[24] = c >> 8;
	p[25] = c & 0xff;
	p[34] = sport >> 8;
	p[35] = sport & 0xff;
	p[36] = dport >> 8;
	p[37] = dport & 0xff;
	p[38] = ulen >> 8;
	p[39] = ulen & 0xff;
	for (int i = 42; i < PKT_LEN; i++)
		p[i] = (__u8)i;
	memcpy(pseudo, &src, 4);
	memcpy(pseudo + 4, &dst, 4);
	pseudo[8] = 0;
	pseudo[9] = IPPROTO_UDP;
	pseudo[10] = ulen >> 8;
	pseudo[11] = ulen & 0xff;
	s = csum_add(csum_add(0, pseudo, 12), p + 34, ulen);
	c = csum_fold(s);
	if (!c)
		c = 0xffff;
	p[40] = c >> 8;
	p[41] = c & 0xff;
}

static int dev_mac(const char *dev, __u8 *mac)
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), ret = 0;

	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", dev);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr))
		ret = -errno;
	else
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	close(fd);
	return ret;
}

/* Sum of np_stats[hook][stat] packets over CPUs. */
static __u64 stat(struct ctx *c, unsigned int hook, unsigned int st)
{
	struct np_counter v[c->ncpus];
	__u32 k = NP_STAT_IDX(hook, st);
	__u64 sum = 0;

	if (bpf_map_lookup_elem(c->stats_fd, &k, v))
		return 0;
	for (int i = 0; i < c->ncpus; i++)
		sum += v[i].packets;
	return sum;
}

/* The paths. */
enum path_kind { P_XDP, P_TC_UPLINK, P_TC_POD };

struct path {
	const char *name;
	enum path_kind kind;
	unsigned int flows;    /* 0: as many as runs (every run a new flow) */
	unsigned int runs;     /* timed runs; 0: --repeat */
	bool warm;	       /* one untimed pass over all flows first (conntrack) */
	unsigned int hook, st; /* the counter that proves the path */
	int retval;	       /* the verdict expected */
};

static int set_tmpl(struct ctx *c, const __u8 *pkt, __u32 flows)
{
	struct np_pr_tmpl t = { .flows = flows, .len = PKT_LEN };
	__u32 k = 0;

	memcpy(t.pkt, pkt, NP_PR_HDR);
	if (bpf_map_update_elem(bpf_map__fd(c->pr->maps.np_pr_tmpl), &k, &t, BPF_ANY)) {
		np_err("progrun: write template: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

/* One test_run of the wrapper of kind with target prog_fd in its slot 0. */
static int run(struct ctx *c, enum path_kind kind, int prog_fd, const __u8 *pkt,
	       unsigned int repeat, __u32 *ns, __u32 *retval)
{
	struct xdp_md xctx = { .data_end = PKT_LEN, .ingress_ifindex = c->uplink_ifindex };
	struct __sk_buff sctx = { 0 };
	__u8 out[PKT_LEN + 256];
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = PKT_LEN, .data_out = out,
		    .data_size_out = sizeof(out), .repeat = repeat);
	int map_fd, wrap_fd, err;
	__u32 k = 0;

	if (kind == P_XDP) {
		map_fd = bpf_map__fd(c->pr->maps.np_pr_xdp_progs);
		wrap_fd = bpf_program__fd(c->pr->progs.np_pr_xdp);
		o.ctx_in = &xctx;
		o.ctx_size_in = sizeof(xctx);
	} else {
		map_fd = bpf_map__fd(c->pr->maps.np_pr_tc_progs);
		wrap_fd = bpf_program__fd(c->pr->progs.np_pr_tc);
		sctx.ifindex = kind == P_TC_POD ? c->pod_ifindex : c->uplink_ifindex;
		sctx.ingress_ifindex = sctx.ifindex;
		o.ctx_in = &sctx;
		o.ctx_size_in = sizeof(sctx);
	}
	if (bpf_map_update_elem(map_fd, &k, &prog_fd, BPF_ANY)) {
		err = -errno;
		np_err("progrun: put the program under test into the wrapper's program array: %s",
		       strerror(-err));
		return err;
	}
	err = bpf_prog_test_run_opts(wrap_fd, &o);
	if (err) {
		np_err("progrun: BPF_PROG_TEST_RUN: %s", strerror(-err));
		return err;
	}
	*ns = o.duration;
	*retval = o.retval;
	return 0;
}

/* Measure one path: floor, then the path; prints its result line. */
static int measure(struct ctx *c, const struct path *p, const __u8 *pkt, double *floor_out)
{
	int prog_fd, noop_fd;
	unsigned int runs = p->runs ? p->runs : c->a.repeat;
	unsigned int flows = p->flows ? p->flows : runs;
	__u32 floor_ns, ns, rv, rv0;
	__u64 before, after;
	int err;

	switch (p->kind) {
	case P_XDP:
		prog_fd = bpf_program__fd(c->xdp->progs.np_xdp_uplink);
		noop_fd = bpf_program__fd(c->pr->progs.np_pr_xdp_noop);
		break;
	case P_TC_UPLINK:
		prog_fd = c->tc_up_fd;
		noop_fd = bpf_program__fd(c->pr->progs.np_pr_tc_noop);
		break;
	default:
		prog_fd = c->pod_fd;
		noop_fd = bpf_program__fd(c->pr->progs.np_pr_tc_noop);
		break;
	}
	err = set_tmpl(c, pkt, flows);
	if (err)
		return err;
	err = run(c, p->kind, noop_fd, pkt, runs, &floor_ns, &rv0);
	if (err)
		return err;
	if (p->warm) {
		err = run(c, p->kind, prog_fd, pkt, flows, &ns, &rv);
		if (err)
			return err;
	}
	before = stat(c, p->hook, p->st);
	err = run(c, p->kind, prog_fd, pkt, runs, &ns, &rv);
	if (err)
		return err;
	after = stat(c, p->hook, p->st);
	fprintf(stderr,
		"progrun: round %u %-12s %6u ns raw, floor %u ns, retval %u, proving counter +%llu "
		"of %u runs\n",
		c->a.round, p->name, ns, floor_ns, rv, (unsigned long long)(after - before), runs);
	if ((int)rv != p->retval) {
		np_err("progrun: %s returned %u, expected %d: not the path it is named after",
		       p->name, rv, p->retval);
		return -EPROTO;
	}
	/*
	 * Every run must take the path: at most 0.1% off either way (the LRU
	 * conntrack evicts a few entries early; the tc hooks may see a little
	 * unrelated traffic).
	 */
	if (after - before < runs - runs / 1000 || after - before > runs + runs / 1000) {
		np_err("progrun: %s: counter %u/%u moved by %llu in %u runs: not the path it is "
		       "named after",
		       p->name, p->hook, p->st, (unsigned long long)(after - before), runs);
		return -EPROTO;
	}
	printf("result %s %u %.1f ns\n", p->name, c->a.round, (double)ns - floor_ns);
	*floor_out = floor_ns;
	return 0;
}

static int load_xdp(struct ctx *c)
{
	struct bpf_map *m;
	char path[512];
	int err, fd;

	c->xdp = np_xdp__open();
	if (!c->xdp) {
		np_err("progrun: open np_xdp: %s", strerror(errno));
		return -errno;
	}
	c->xdp->rodata->cfg.features = NP_FEAT_PREFILTER | NP_FEAT_META | NP_FEAT_TX_REDIRECT;
	bpf_object__for_each_map(m, c->xdp->obj)
	{
		bpf_map__set_pin_path(m, NULL);
		if (snprintf(path, sizeof(path), "%s/%s", c->n.pin_dir, bpf_map__name(m)) >=
		    (int)sizeof(path))
			continue;
		fd = bpf_obj_get(path);
		if (fd < 0)
			continue; /* not pinned (.rodata, ...): a private map */
		err = bpf_map__reuse_fd(m, fd);
		close(fd);
		if (err) {
			np_err("progrun: reuse pinned map %s: %s", path, strerror(-err));
			return err;
		}
	}
	err = np_xdp__load(c->xdp);
	if (err) {
		np_err("progrun: load np_xdp with the maps of %s: %s", c->n.pin_dir,
		       strerror(-err));
		return err;
	}
	return 0;
}

static int open_progs(struct ctx *c)
{
	struct bpf_link_info li = { 0 };
	__u32 len = sizeof(li);
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", c->n.pin_dir, NP_LINK_TCX_UPLINK_IN);
	fd = bpf_obj_get(path);
	if (fd < 0) {
		np_err("progrun: open %s: %s (is the node up?)", path, strerror(errno));
		return -errno;
	}
	if (bpf_link_get_info_by_fd(fd, &li, &len)) {
		np_err("progrun: link info of %s: %s", path, strerror(errno));
		close(fd);
		return -errno;
	}
	close(fd);
	c->tc_up_fd = bpf_prog_get_fd_by_id(li.prog_id);
	if (c->tc_up_fd < 0) {
		np_err("progrun: program %u of %s: %s", li.prog_id, path, strerror(errno));
		return -errno;
	}
	snprintf(path, sizeof(path), "%s/prog_pod_from", c->n.pin_dir);
	c->pod_fd = bpf_obj_get(path);
	if (c->pod_fd < 0) {
		np_err("progrun: open %s: %s (is the node up with --pod-cidr?)", path,
		       strerror(errno));
		return -errno;
	}
	snprintf(path, sizeof(path), "%s/%s", c->n.pin_dir, NP_MAP_STATS);
	c->stats_fd = bpf_obj_get(path);
	if (c->stats_fd < 0) {
		np_err("progrun: open %s: %s", path, strerror(errno));
		return -errno;
	}
	return 0;
}

static int parse_args(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {
		{ "node", required_argument, NULL, 'n' },
		{ "round", required_argument, NULL, 'r' },
		{ "repeat", required_argument, NULL, 'R' },
		{ "big-flows", required_argument, NULL, 'b' },
		{ "cpu", required_argument, NULL, 'c' },
		{ "vip", required_argument, NULL, 'v' },
		{ "deny-net", required_argument, NULL, 'd' },
		{ "pod-a", required_argument, NULL, 'A' },
		{ "pod-b", required_argument, NULL, 'B' },
		{ 0 },
	};
	char buf[64], *colon;
	int ch;

	a->round = 1;
	a->repeat = 1U << 20;
	a->big_flows = 1U << 20;
	a->cpu = -1;
	inet_pton(AF_INET, "198.18.100.10", &a->vip);
	a->vport = 80;
	inet_pton(AF_INET, "198.18.9.0", &a->deny);
	inet_pton(AF_INET, "198.19.1.11", &a->pod_a);
	inet_pton(AF_INET, "198.19.1.12", &a->pod_b);
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'n':
			a->node = optarg;
			break;
		case 'r':
			a->round = strtoul(optarg, NULL, 10);
			break;
		case 'R':
			a->repeat = strtoul(optarg, NULL, 10);
			break;
		case 'b':
			a->big_flows = strtoul(optarg, NULL, 10);
			break;
		case 'c':
			a->cpu = atoi(optarg);
			break;
		case 'v':
			snprintf(buf, sizeof(buf), "%s", optarg);
			colon = strchr(buf, ':');
			if (!colon)
				return -EINVAL;
			*colon = '\0';
			if (inet_pton(AF_INET, buf, &a->vip) != 1)
				return -EINVAL;
			a->vport = atoi(colon + 1);
			break;
		case 'd':
			snprintf(buf, sizeof(buf), "%s.0", optarg);
			if (inet_pton(AF_INET, buf, &a->deny) != 1)
				return -EINVAL;
			break;
		case 'A':
			if (inet_pton(AF_INET, optarg, &a->pod_a) != 1)
				return -EINVAL;
			break;
		case 'B':
			if (inet_pton(AF_INET, optarg, &a->pod_b) != 1)
				return -EINVAL;
			break;
		default:
			return -EINVAL;
		}
	}
	if (!a->node || a->round < 1 || a->round > 200 || a->repeat < 1000 ||
	    a->repeat > (1U << 24) || a->big_flows < 1 || a->big_flows > (1U << 20))
		return -EINVAL;
	return 0;
}

static struct in_addr addr(const char *s)
{
	struct in_addr a;

	inet_pton(AF_INET, s, &a);
	return a;
}

int main(int argc, char **argv)
{
	struct ctx c = { .tc_up_fd = -1, .pod_fd = -1, .stats_fd = -1 };
	__u8 pkt[PKT_LEN], node_mac[6];
	double xfloor = 0, tfloor = 0, f;
	unsigned int nx = 0, nt = 0;
	struct in_addr src;
	char big[16];
	int err;

	if (parse_args(argc, argv, &c.a)) {
		fprintf(stderr,
			"usage: np_progrun --node NS --round R [--repeat N] [--big-flows N] "
			"[--cpu C]\n"
			"                  [--vip ADDR:PORT] [--deny-net A.B.C] [--pod-a "
			"ADDR] [--pod-b ADDR]\n");
		return 2;
	}
	c.ncpus = libbpf_num_possible_cpus();
	if (c.a.cpu < 0)
		c.a.cpu = sysconf(_SC_NPROCESSORS_ONLN) - 1;
	{
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(c.a.cpu, &set);
		sched_setaffinity(0, sizeof(set), &set);
	}
	err = np_node_open(c.a.node, 0, &c.n);
	if (err)
		return 1;
	c.uplink_ifindex = if_nametoindex("uplink");
	c.pod_ifindex = if_nametoindex("pod1");
	if (!c.uplink_ifindex || !c.pod_ifindex || dev_mac("uplink", node_mac) ||
	    dev_mac("pod1", c.pod_mac)) {
		np_err("progrun: node %s needs devices uplink and pod1", c.a.node);
		err = -ENODEV;
		goto out;
	}
	err = open_progs(&c);
	if (err)
		goto out;
	err = load_xdp(&c);
	if (err)
		goto out;
	c.pr = np_progrun__open_and_load();
	if (!c.pr) {
		err = -errno;
		np_err("progrun: load the wrappers (np_progrun.bpf.o): %s", strerror(-err));
		goto out;
	}

	snprintf(big, sizeof(big), c.a.big_flows >= (1U << 20) ? "lb-ct-1m" : "lb-ct-%uk",
		 c.a.big_flows / 1000);
	{
		const struct path paths[] = {
			{ "pf-hit", P_XDP, 1024, 0, false, NP_HOOK_XDP, NP_DROP_PF_DENY, XDP_DROP },
			{ "pf-miss", P_XDP, 1024, 0, false, NP_HOOK_XDP, NP_STAT_PASS, XDP_PASS },
			{ "lb-ct-1k", P_XDP, 1000, 0, true, NP_HOOK_XDP, NP_STAT_LB_CT_HIT,
			  XDP_PASS },
			{ big, P_XDP, c.a.big_flows, 0, true, NP_HOOK_XDP, NP_STAT_LB_CT_HIT,
			  XDP_PASS },
			/* a quarter of the runs: every new flow takes two conntrack entries */
			{ "lb-new", P_XDP, 0, c.a.repeat / 4, false, NP_HOOK_XDP, NP_STAT_LB_NEW,
			  XDP_PASS },
			{ "tc-uplink", P_TC_UPLINK, 1024, 0, false, NP_HOOK_TC_UPLINK_IN,
			  NP_STAT_TO_EP, TC_ACT_REDIRECT },
			{ "tc-from-pod", P_TC_POD, 1024, 0, false, NP_HOOK_TC_POD_FROM,
			  NP_STAT_TO_EP, TC_ACT_REDIRECT },
		};

		for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
			const struct path *p = &paths[i];

			switch (i) {
			case 0: /* from the denied /24 to the node */
				src = c.a.deny;
				src.s_addr |= htonl(1);
				mk_pkt(pkt, node_mac, src, 20000, addr("198.18.0.1"), 9);
				break;
			case 1: /* from an allowed source to the node: no rule, no service */
				mk_pkt(pkt, node_mac, addr("198.18.0.150"), 20000,
				       addr("198.18.0.1"), 9);
				break;
			case 2:
				mk_pkt(pkt, node_mac, addr("198.18.10.0"), 20000, c.a.vip,
				       c.a.vport);
				break;
			case 3:
				mk_pkt(pkt, node_mac, addr("198.18.12.0"), 20000, c.a.vip,
				       c.a.vport);
				break;
			case 4: /* to the VIP; every run a new source (a fresh /24 per round) */
				src = addr("198.18.32.0");
				src.s_addr = htonl(ntohl(src.s_addr) + (c.a.round << 8));
				mk_pkt(pkt, node_mac, src, 20000, c.a.vip, c.a.vport);
				break;
			case 5: /* a client to a local pod */
				mk_pkt(pkt, node_mac, addr("198.18.0.101"), 20000, c.a.pod_a, 8080);
				break;
			default: /* pod a to pod b on the same node */
				mk_pkt(pkt, c.pod_mac, c.a.pod_a, 20000, c.a.pod_b, 8080);
				break;
			}
			err = measure(&c, p, pkt, &f);
			if (err)
				goto out;
			if (p->kind == P_XDP) {
				xfloor += f;
				nx++;
			} else {
				tfloor += f;
				nt++;
			}
		}
	}
	printf("result xdp-floor %u %.1f ns\n", c.a.round, xfloor / nx);
	printf("result tc-floor %u %.1f ns\n", c.a.round, tfloor / nt);
out:
	np_progrun__destroy(c.pr);
	np_xdp__destroy(c.xdp);
	if (c.tc_up_fd >= 0)
		close(c.tc_up_fd);
	if (c.pod_fd >= 0)
		close(c.pod_fd);
	if (c.stats_fd >= 0)
		close(c.stats_fd);
	np_node_close(&c.n);
	return err ? 1 : 0;
}
