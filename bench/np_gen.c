// SPDX-License-Identifier: GPL-2.0
/*
 * np_gen: a bounded UDP frame generator on BPF_PROG_TEST_RUN with
 * BPF_F_TEST_XDP_LIVE_FRAMES (see /work/shared/notes/bench-method.md, B.2).
 *
 *   np_gen --netns NS --dev IF --dst-mac MAC --src IP --dst IP [--ipv6]
 *          [--flows N] [--dport P] [--size B] [--duration S] [--count N] [--cpu C]
 *          [--peer-netns NS --peer-dev IF [--sink | --reflect MAC]]
 *          [--tc-sink-netns NS --tc-sink-dev IF]
 *
 * In netns NS the generator program (bench/np_gen.bpf.c) stamps an
 * Ethernet + IPv4/IPv6 + UDP header on every frame and returns XDP_TX, which
 * test_run turns into a transmit out of IF. On a veth the frame lands in the
 * peer's ring as an xdp_frame, and the peer's NAPI runs on this CPU when the
 * syscall re-enables bottom halves: generator and receiver are serialized on
 * one CPU (the process is pinned), so nothing is lost between them and the
 * receiver's drop counters divided by the run time are its rate.
 *
 * --peer-netns/--peer-dev name that receiving veth. A veth takes
 * xdp_frames only with NAPI on: with an XDP program attached, or with GRO
 * on; np_gen turns GRO on there for the run (SIOCETHTOOL) and back off
 * after. --sink attaches np_gen_sink_drop (count and XDP_DROP) natively on
 * the peer for the run, through a BPF link (gone with the process), and
 * reports what it dropped: the floor every receiver is compared with.
 *
 * Flows: up to 2^20 distinct tuples. Flow i has UDP source port
 * 1024 + i % P and the source address plus i / P, where P = min(flows,
 * 64512): 1048576 flows are 64512 ports on each of 17 addresses. Every
 * address (also the last source one) must lie in 198.18.0.0/15 or
 * fd00::/8, the lab's ranges. Checksums (IPv4 header, UDP for both
 * families) are full and right on every frame: the XDP load balancer
 * leaves CHECKSUM_PARTIAL-looking frames to tc.
 *
 * --tc-sink-netns/--tc-sink-dev attach np_gen_sink_tc (count and drop UDP and
 * IPIP) first at tcx ingress of that device for the run: a pod's nic0, where frames that
 * went through a forwarder or a load balancer are counted as delivered.
 *
 * Bounded: --duration <= 60 s (default 2), --count <= 10^9. One test_run
 * call sends 2^20 frames (fewer for the last of --count): smaller calls
 * rebuild the page pool each time and measure the generator instead. It
 * prints
 *   generated N packets in T s = R Mpps (cpu C, flows F, size B, ipv4)
 *   sink dropped N packets = R Mpps         (with --sink)
 *   reflected N packets = R Mpps            (with --reflect)
 *   tc sink dropped N packets = R Mpps      (with --tc-sink-dev)
 * Exit: 0 ok, 1 failure, 2 bad arguments.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <linux/if_link.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sched.h>
#include <stdarg.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "ethtool.h"
#include "input.h"
#include "log.h"
#include "netns.h"

#include "np_gen.h"
#include "np_gen.skel.h"

#define NP_GEN_MAX_SECS 60.0
#define NP_GEN_MAX_COUNT 1000000000ULL
#define NP_GEN_MAX_FLOWS (1u << 20)
#define NP_GEN_PORTS 64512 /* source ports 1024..65535 per address */
#define NP_GEN_SPORT 1024
#define NP_GEN_DPORT 9 /* discard */
#define NP_GEN_DEF_SIZE 64
#define NP_GEN_MAX_SIZE 1514
#define NP_GEN_REPEAT (1u << 20)
#define NP_GEN_BATCH 64

struct np_gen_args {
	const char *netns, *dev, *peer_netns, *peer_dev, *tc_netns, *tc_dev;
	uint8_t dst_mac[6];
	int family;
	uint8_t src[16], dst[16];
	uint32_t flows, size, dport;
	double duration;
	uint64_t count;
	int cpu;
	bool sink, reflect;
	uint8_t refl_mac[6];
};

static volatile sig_atomic_t np_gen_stop;

static void np_gen_on_signal(int sig)
{
	(void)sig;
	np_gen_stop = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: np_gen --netns NS --dev IF --dst-mac MAC --src IP --dst IP [--ipv6]\n"
		"              [--flows N] [--dport P] [--size B] [--duration S] [--count N]\n"
		"              [--cpu C] [--peer-netns NS --peer-dev IF [--sink | --reflect MAC]]\n"
		"              [--tc-sink-netns NS --tc-sink-dev IF]\n"
		"  --src/--dst    IPv4 in 198.18.0.0/15 or IPv6 in fd00::/8 (both one family)\n"
		"  --ipv6         insist on IPv6 addresses\n"
		"  --flows N      distinct tuples (1..%u, default 1024): source ports\n"
		"                 1024.., then the source address's low bits (64512 per address)\n"
		"  --dport P      UDP destination port (1..65535, default %u)\n"
		"  --size B       frame bytes without FCS (header..%u, default %u)\n"
		"  --duration S   seconds, decimal, 0 < S <= 60 (default 2)\n"
		"  --count N      stop after N frames (1..10^9)\n"
		"  --cpu C        CPU to pin to (default: the last one allowed)\n"
		"  --peer-netns NS --peer-dev IF   the receiving veth (GRO on for the run)\n"
		"  --sink         attach a count-and-XDP_DROP sink natively on the peer\n"
		"  --reflect MAC  attach a reflector natively on the peer instead: destination\n"
		"                 MAC set to MAC, source to the peer's, redirected back out\n"
		"  --tc-sink-netns NS --tc-sink-dev IF   count and drop UDP and IPIP at tcx\n"
		"                 ingress of IF, first in its chain\n",
		NP_GEN_MAX_FLOWS, NP_GEN_DPORT, NP_GEN_MAX_SIZE, NP_GEN_DEF_SIZE);
}

static int bad_arg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int bad_arg(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "np_gen: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(np_gen --help for usage)\n");
	return 2;
}

/* "aa:bb:cc:dd:ee:ff": six pairs of hex digits, nothing else. */
static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int b[6];
	int i, n = 0;

	if (strlen(s) != 17)
		return -EINVAL;
	for (i = 0; i < 17; i++)
		if ((i % 3 == 2) ? s[i] != ':' : !strchr("0123456789abcdefABCDEF", s[i]))
			return -EINVAL;
	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%n", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &n) !=
		    6 ||
	    n != 17)
		return -EINVAL;
	for (i = 0; i < 6; i++)
		mac[i] = b[i];
	return 0;
}

/* Seconds: digits, optionally a '.' and digits; 0 < S <= 60. */
static int parse_secs(const char *s, double *out)
{
	const char *p = s;
	char *end;
	double v;

	if (!*p || *p == '.')
		return -EINVAL;
	for (; *p; p++)
		if (!(*p >= '0' && *p <= '9') && *p != '.')
			return -EINVAL;
	v = strtod(s, &end);
	if (*end || !(v > 0.0) || v > NP_GEN_MAX_SECS)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_addr(const char *what, const char *s, int *family, uint8_t *addr)
{
	int fam = strchr(s, ':') ? AF_INET6 : AF_INET;

	if (inet_pton(fam, s, addr) != 1)
		return bad_arg("%s \"%s\" is not an IPv4 or IPv6 address", what, s);
	if (*family && *family != fam)
		return bad_arg("--src and --dst must both be IPv4 or both IPv6");
	*family = fam;
	return 0;
}

/* The lab's ranges: 198.18.0.0/15 and fd00::/8. */
static bool addr_in_lab(int family, const uint8_t *a)
{
	if (family == AF_INET)
		return a[0] == 198 && (a[1] & 0xfe) == 18;
	return a[0] == 0xfd;
}

/* Both addresses in the lab's ranges, and the last flow's source address too. */
static int check_range(const struct np_gen_args *a)
{
	uint32_t ports = a->flows < NP_GEN_PORTS ? a->flows : NP_GEN_PORTS;
	uint32_t naddr = (a->flows + ports - 1) / ports;
	int alen = a->family == AF_INET ? 4 : 16;
	uint32_t lo;

	if (!addr_in_lab(a->family, a->src) || !addr_in_lab(a->family, a->dst))
		return bad_arg("--src and --dst must lie in 198.18.0.0/15 (IPv4) or fd00::/8 "
			       "(IPv6), the lab's ranges");
	lo = (uint32_t)a->src[alen - 2] << 8 | a->src[alen - 1];
	if (lo + naddr - 1 > 0xffff)
		return bad_arg("--flows %u needs %u source addresses from --src up, past the end "
			       "of its last 16 bits; pick a lower --src",
			       a->flows, naddr);
	return 0;
}

enum {
	OPT_NETNS = 256,
	OPT_DEV,
	OPT_DST_MAC,
	OPT_SRC,
	OPT_DST,
	OPT_FLOWS,
	OPT_SIZE,
	OPT_DURATION,
	OPT_COUNT,
	OPT_CPU,
	OPT_PEER_NETNS,
	OPT_PEER_DEV,
	OPT_SINK,
	OPT_IPV6,
	OPT_DPORT,
	OPT_TC_NETNS,
	OPT_TC_DEV,
	OPT_REFLECT,
};

static int parse_args(int argc, char **argv, struct np_gen_args *a)
{
	static const struct option opts[] = {
		{ "netns", required_argument, NULL, OPT_NETNS },
		{ "dev", required_argument, NULL, OPT_DEV },
		{ "dst-mac", required_argument, NULL, OPT_DST_MAC },
		{ "src", required_argument, NULL, OPT_SRC },
		{ "dst", required_argument, NULL, OPT_DST },
		{ "flows", required_argument, NULL, OPT_FLOWS },
		{ "size", required_argument, NULL, OPT_SIZE },
		{ "duration", required_argument, NULL, OPT_DURATION },
		{ "count", required_argument, NULL, OPT_COUNT },
		{ "cpu", required_argument, NULL, OPT_CPU },
		{ "peer-netns", required_argument, NULL, OPT_PEER_NETNS },
		{ "peer-dev", required_argument, NULL, OPT_PEER_DEV },
		{ "sink", no_argument, NULL, OPT_SINK },
		{ "ipv6", no_argument, NULL, OPT_IPV6 },
		{ "dport", required_argument, NULL, OPT_DPORT },
		{ "tc-sink-netns", required_argument, NULL, OPT_TC_NETNS },
		{ "tc-sink-dev", required_argument, NULL, OPT_TC_DEV },
		{ "reflect", required_argument, NULL, OPT_REFLECT },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	bool have_mac = false, have_src = false, have_dst = false, have_size = false, v6 = false;
	uint32_t v32, hdr;
	char err[256];
	int c, ret;

	memset(a, 0, sizeof(*a));
	a->flows = 1024;
	a->dport = NP_GEN_DPORT;
	a->size = NP_GEN_DEF_SIZE;
	a->duration = 2.0;
	a->count = NP_GEN_MAX_COUNT;
	a->cpu = -1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		ret = 0;
		switch (c) {
		case OPT_NETNS:
		case OPT_PEER_NETNS:
		case OPT_TC_NETNS:
			if (!np_netns_name_ok(optarg))
				return bad_arg("%s \"%s\": not a network namespace name",
					       argv[optind - 2], optarg);
			*(c == OPT_NETNS	? &a->netns
			  : c == OPT_PEER_NETNS ? &a->peer_netns
						: &a->tc_netns) = optarg;
			break;
		case OPT_DEV:
		case OPT_PEER_DEV:
		case OPT_TC_DEV:
			if (np_check_ifname(optarg, err, sizeof(err)))
				return bad_arg("%s: %s", argv[optind - 2], err);
			*(c == OPT_DEV	      ? &a->dev
			  : c == OPT_PEER_DEV ? &a->peer_dev
					      : &a->tc_dev) = optarg;
			break;
		case OPT_IPV6:
			v6 = true;
			break;
		case OPT_DPORT:
			if (np_parse_u32("--dport", optarg, 1, 65535, &a->dport, err, sizeof(err)))
				return bad_arg("%s", err);
			break;
		case OPT_DST_MAC:
			if (parse_mac(optarg, a->dst_mac))
				return bad_arg("--dst-mac \"%s\": expected a MAC address "
					       "aa:bb:cc:dd:ee:ff",
					       optarg);
			have_mac = true;
			break;
		case OPT_SRC:
			ret = parse_addr("--src", optarg, &a->family, a->src);
			have_src = true;
			break;
		case OPT_DST:
			ret = parse_addr("--dst", optarg, &a->family, a->dst);
			have_dst = true;
			break;
		case OPT_FLOWS:
			if (np_parse_u32("--flows", optarg, 1, NP_GEN_MAX_FLOWS, &a->flows, err,
					 sizeof(err)))
				return bad_arg("%s", err);
			break;
		case OPT_SIZE:
			if (np_parse_u32("--size", optarg, 1, NP_GEN_MAX_SIZE, &a->size, err,
					 sizeof(err)))
				return bad_arg("%s", err);
			have_size = true;
			break;
		case OPT_DURATION:
			if (parse_secs(optarg, &a->duration))
				return bad_arg("--duration \"%s\": expected seconds, 0 < S <= 60 "
					       "(e.g. 2 or 0.5)",
					       optarg);
			break;
		case OPT_COUNT:
			if (np_parse_u64("--count", optarg, 1, NP_GEN_MAX_COUNT, &a->count, err,
					 sizeof(err)))
				return bad_arg("%s", err);
			break;
		case OPT_CPU:
			if (np_parse_u32("--cpu", optarg, 0, CPU_SETSIZE - 1, &v32, err,
					 sizeof(err)))
				return bad_arg("%s", err);
			a->cpu = v32;
			break;
		case OPT_SINK:
			a->sink = true;
			break;
		case OPT_REFLECT:
			if (parse_mac(optarg, a->refl_mac))
				return bad_arg("--reflect \"%s\": expected a MAC address "
					       "aa:bb:cc:dd:ee:ff",
					       optarg);
			a->reflect = true;
			break;
		case 'h':
			usage(stdout);
			return -1;
		case ':':
			return bad_arg("option \"%s\" needs a value", argv[optind - 1]);
		default:
			return bad_arg("unknown option \"%s\"", argv[optind - 1]);
		}
		if (ret)
			return ret;
	}
	if (optind < argc)
		return bad_arg("unexpected argument \"%s\"", argv[optind]);
	if (!a->netns || !a->dev || !have_mac || !have_src || !have_dst)
		return bad_arg("--netns, --dev, --dst-mac, --src and --dst are required");
	if (!a->peer_netns != !a->peer_dev)
		return bad_arg("--peer-netns and --peer-dev go together");
	if (a->sink && !a->peer_dev)
		return bad_arg("--sink needs --peer-netns and --peer-dev (where to attach it)");
	if (a->reflect && (!a->peer_dev || a->sink))
		return bad_arg("--reflect needs --peer-netns and --peer-dev, and no --sink");
	if (!a->tc_netns != !a->tc_dev)
		return bad_arg("--tc-sink-netns and --tc-sink-dev go together");
	if (v6 && a->family != AF_INET6)
		return bad_arg("--ipv6: --src and --dst must be IPv6 addresses (fd00::/8)");
	ret = check_range(a);
	if (ret)
		return ret;
	hdr = a->family == AF_INET6 ? NP_GEN_HDR6 : NP_GEN_HDR4;
	if (!have_size && a->size < hdr)
		a->size = hdr;
	if (a->size < hdr)
		return bad_arg("--size %u is shorter than the %s header (%u..%u)", a->size,
			       a->family == AF_INET6 ? "IPv6" : "IPv4", hdr, NP_GEN_MAX_SIZE);
	return 0;
}

/* ---- the template -------------------------------------------------------- */

static uint32_t csum_add(uint32_t s, const void *p, size_t len)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		s += (uint32_t)b[i] << 8 | b[i + 1];
	if (len & 1)
		s += (uint32_t)b[len - 1] << 8;
	return s;
}

static uint16_t csum_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

/*
 * The header for a frame of a->size bytes whose payload is zeros (the pages
 * start as the zeroed test_run input). Checksums in network order in hdr;
 * tmpl->csum keeps the UDP checksum as stored, for the incremental update.
 */
static void fill_tmpl(const struct np_gen_args *a, const uint8_t src_mac[6], struct np_gen_tmpl *t)
{
	int alen = a->family == AF_INET ? 4 : 16;
	uint8_t *h = t->hdr, *ip = h + 14, *udp;
	uint16_t ulen, c;
	uint32_t s;

	memset(t, 0, sizeof(*t));
	memcpy(h, a->dst_mac, 6);
	memcpy(h + 6, src_mac, 6);
	if (a->family == AF_INET) {
		put16(h + 12, 0x0800);
		ip[0] = 0x45;
		put16(ip + 2, a->size - 14);
		put16(ip + 6, 0x4000); /* DF */
		ip[8] = 64;
		ip[9] = IPPROTO_UDP;
		memcpy(ip + 12, a->src, 4);
		memcpy(ip + 16, a->dst, 4);
		put16(ip + 10, csum_fold(csum_add(0, ip, 20)));
		memcpy(&t->ip_csum, ip + 10, 2);
		udp = h + NP_GEN_UDP4;
		ulen = a->size - NP_GEN_UDP4;
	} else {
		put16(h + 12, 0x86dd);
		ip[0] = 0x60;
		put16(ip + 4, a->size - NP_GEN_UDP6);
		ip[6] = IPPROTO_UDP;
		ip[7] = 64;
		memcpy(ip + 8, a->src, 16);
		memcpy(ip + 24, a->dst, 16);
		udp = h + NP_GEN_UDP6;
		ulen = a->size - NP_GEN_UDP6;
	}
	put16(udp, NP_GEN_SPORT);
	put16(udp + 2, a->dport);
	put16(udp + 4, ulen);
	/* Pseudo header: addresses, UDP length, protocol; the payload is zeros. */
	s = csum_add(0, a->src, alen);
	s = csum_add(s, a->dst, alen);
	s += ulen + IPPROTO_UDP;
	s = csum_add(s, udp, 8);
	c = csum_fold(s);
	if (!c)
		c = 0xffff;
	put16(udp + 6, c);
	memcpy(&t->csum, udp + 6, 2);
	t->flows = a->flows;
	t->ports = a->flows < NP_GEN_PORTS ? a->flows : NP_GEN_PORTS;
	t->sport = NP_GEN_SPORT;
	t->saddr_lo = (uint16_t)(a->src[alen - 2] << 8 | a->src[alen - 1]);
}

/* ---- devices ------------------------------------------------------------ */

static int dev_mac(const char *dev, uint8_t mac[6])
{
	struct ifreq ifr = {};
	int fd, err = 0;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", dev);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr))
		err = -errno;
	else
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	close(fd);
	return err;
}

/* ---- the peer: GRO and the sink -------------------------------------------- */

struct np_gen_peer {
	int ifindex;
	bool gro_was, gro_set;
	int link_fd; /* the sink's XDP link, or -1 */
};

/* In the peer's netns: GRO on, and the sink attached when asked. */
static int peer_setup(const struct np_gen_args *a, struct np_gen *skel, struct np_gen_peer *p)
{
	LIBBPF_OPTS(bpf_link_create_opts, lo, .flags = XDP_FLAGS_DRV_MODE);
	struct bpf_program *prog;
	int err;

	p->link_fd = -1;
	p->ifindex = if_nametoindex(a->peer_dev);
	if (!p->ifindex) {
		err = -errno;
		np_err("peer device %s in netns %s: %s", a->peer_dev, a->peer_netns,
		       strerror(-err));
		return err;
	}
	err = np_dev_get_gro(a->peer_dev, &p->gro_was);
	if (!err)
		err = np_dev_set_gro(a->peer_dev, true);
	if (err) {
		np_err("set GRO on for %s in netns %s (SIOCETHTOOL): %s", a->peer_dev,
		       a->peer_netns, strerror(-err));
		return err;
	}
	p->gro_set = !p->gro_was;
	if (!a->sink && !a->reflect)
		return 0;
	if (a->reflect) {
		uint8_t mac[12];

		err = dev_mac(a->peer_dev, mac + 6);
		if (err) {
			np_err("MAC address of %s in netns %s: %s", a->peer_dev, a->peer_netns,
			       strerror(-err));
			return err;
		}
		memcpy(mac, a->refl_mac, 6);
		memcpy(skel->bss->refl.mac, mac, 12);
		skel->bss->refl.ifindex = p->ifindex;
	}
	prog = a->reflect ? skel->progs.np_gen_reflect : skel->progs.np_gen_sink_drop;
	p->link_fd = bpf_link_create(bpf_program__fd(prog), p->ifindex, BPF_XDP, &lo);
	if (p->link_fd < 0) {
		err = p->link_fd;
		np_err("attach %s natively to %s in netns %s: %s%s", bpf_program__name(prog),
		       a->peer_dev, a->peer_netns, strerror(-err),
		       err == -EBUSY || err == -EEXIST ? " (an XDP program is attached already)"
						       : "");
		return err;
	}
	return 0;
}

/* In the peer's netns again: the sink off, GRO as it was. */
static void peer_teardown(const struct np_gen_args *a, struct np_gen_peer *p)
{
	int err;

	if (p->link_fd >= 0) {
		close(p->link_fd); /* the link's last reference: detaches */
		p->link_fd = -1;
	}
	if (p->gro_set) {
		err = np_dev_set_gro(a->peer_dev, false);
		if (err)
			np_warn("set GRO back off for %s in netns %s: %s", a->peer_dev,
				a->peer_netns, strerror(-err));
		p->gro_set = false;
	}
}

/* In the tc sink's netns: np_gen_sink_tc at tcx ingress of its device. */
static int tc_sink_attach(const struct np_gen_args *a, struct np_gen *skel, struct bpf_link **link)
{
	LIBBPF_OPTS(bpf_tcx_opts, o, .flags = BPF_F_BEFORE);
	int ifindex, err;

	ifindex = if_nametoindex(a->tc_dev);
	if (!ifindex) {
		err = -errno;
		np_err("tc sink device %s in netns %s: %s", a->tc_dev, a->tc_netns, strerror(-err));
		return err;
	}
	*link = bpf_program__attach_tcx(skel->progs.np_gen_sink_tc, ifindex, &o);
	if (!*link) {
		err = -errno;
		np_err("attach np_gen_sink_tc at tcx ingress of %s in netns %s: %s", a->tc_dev,
		       a->tc_netns, strerror(-err));
		return err;
	}
	return 0;
}

/* ---- the run --------------------------------------------------------------- */

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

/* Sum of one np_gen_cnt counter over the CPUs. */
static int read_cnt(struct np_gen *skel, uint32_t key, uint64_t *out)
{
	int ncpu = libbpf_num_possible_cpus(), i, err;
	struct np_gen_cnt *v;

	if (ncpu < 0)
		return ncpu;
	v = calloc(ncpu, sizeof(*v));
	if (!v)
		return -ENOMEM;
	err = bpf_map_lookup_elem(bpf_map__fd(skel->maps.np_gen_cnt), &key, v);
	if (err) {
		err = -errno;
		goto out;
	}
	*out = 0;
	for (i = 0; i < ncpu; i++)
		*out += v[i].packets;
out:
	free(v);
	return err;
}

static int pin_cpu(int cpu)
{
	cpu_set_t set;
	int i;

	if (cpu < 0) {
		if (sched_getaffinity(0, sizeof(set), &set))
			return -errno;
		for (i = CPU_SETSIZE - 1; i >= 0 && !CPU_ISSET(i, &set); i--)
			;
		cpu = i;
	}
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		return -errno;
	return cpu;
}

/* test_run until the duration or the count is reached; *sent, *secs. */
static int generate(const struct np_gen_args *a, int prog_fd, int ifindex, uint64_t *sent,
		    double *secs)
{
	struct xdp_md ctx = { .data_end = a->size, .ingress_ifindex = ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, o, .ctx_in = &ctx, .ctx_size_in = sizeof(ctx),
		    .flags = BPF_F_TEST_XDP_LIVE_FRAMES, .batch_size = NP_GEN_BATCH);
	double t0, t;
	uint8_t *pkt;
	int err = 0;

	pkt = calloc(1, a->size);
	if (!pkt)
		return -ENOMEM;
	o.data_in = pkt;
	o.data_size_in = a->size;
	*sent = 0;
	t0 = t = now();
	while (!np_gen_stop && *sent < a->count && t - t0 < a->duration) {
		o.repeat = a->count - *sent < NP_GEN_REPEAT ? a->count - *sent : NP_GEN_REPEAT;
		err = bpf_prog_test_run_opts(prog_fd, &o);
		if (err) {
			err = -errno;
			np_err("BPF_PROG_TEST_RUN (live frames, %u repeats) on %s: %s", o.repeat,
			       a->dev, strerror(-err));
			break;
		}
		*sent += o.repeat;
		t = now();
	}
	*secs = t - t0;
	free(pkt);
	return err;
}

int main(int argc, char **argv)
{
	struct np_gen_peer peer = { .link_fd = -1 };
	uint64_t tx0 = 0, tx1 = 0, sk0 = 0, sk1 = 0, tc0 = 0, tc1 = 0, sent = 0;
	struct bpf_link *tc_link = NULL;
	struct np_gen_args a;
	struct np_gen *skel;
	struct sigaction sa;
	uint8_t src_mac[6];
	int ret, err, home = -1, ifindex, cpu;
	double secs = 0;

	np_log_set_prog("np_gen");
	np_log_hook_libs();
	ret = parse_args(argc, argv, &a);
	if (ret)
		return ret < 0 ? 0 : ret;
	if (geteuid() != 0) {
		np_err("needs root (CAP_BPF, CAP_NET_ADMIN, CAP_SYS_ADMIN for setns)");
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = np_gen_on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	cpu = pin_cpu(a.cpu);
	if (cpu < 0) {
		np_err("pin to CPU %d: %s", a.cpu, strerror(-cpu));
		return 1;
	}

	skel = np_gen__open();
	if (!skel) {
		np_err("open the np_gen BPF object: %s", strerror(errno));
		return 1;
	}
	bpf_program__set_autoload(skel->progs.np_gen_tx4, a.family == AF_INET);
	bpf_program__set_autoload(skel->progs.np_gen_tx6, a.family == AF_INET6);
	bpf_program__set_autoload(skel->progs.np_gen_sink_drop, a.sink);
	bpf_program__set_autoload(skel->progs.np_gen_reflect, a.reflect);
	bpf_program__set_autoload(skel->progs.np_gen_sink_tc, !!a.tc_dev);

	ret = 1;
	home = np_netns_save();
	if (home < 0) {
		np_err("save the current netns: %s", strerror(-home));
		goto out_destroy;
	}
	err = np_netns_enter(a.netns);
	if (err) {
		np_err("enter netns %s: %s", a.netns, strerror(-err));
		goto out_home;
	}
	ifindex = if_nametoindex(a.dev);
	if (!ifindex) {
		np_err("device %s in netns %s: %s", a.dev, a.netns, strerror(errno));
		goto out_home;
	}
	err = dev_mac(a.dev, src_mac);
	if (err) {
		np_err("MAC address of %s in netns %s: %s", a.dev, a.netns, strerror(-err));
		goto out_home;
	}
	fill_tmpl(&a, src_mac, (struct np_gen_tmpl *)&skel->bss->tmpl);
	err = np_gen__load(skel);
	if (err) {
		np_err("load the np_gen BPF programs: %s", strerror(-err));
		goto out_home;
	}

	if (a.peer_netns) {
		err = np_netns_enter(a.peer_netns);
		if (err) {
			np_err("enter netns %s: %s", a.peer_netns, strerror(-err));
			goto out_home;
		}
		err = peer_setup(&a, skel, &peer);
		if (!err)
			err = np_netns_enter(a.netns);
		if (err)
			goto out_peer;
	}

	if (a.tc_netns) {
		err = np_netns_enter(a.tc_netns);
		if (err) {
			np_err("enter netns %s: %s", a.tc_netns, strerror(-err));
			goto out_peer;
		}
		err = tc_sink_attach(&a, skel, &tc_link);
		if (!err)
			err = np_netns_enter(a.netns);
		if (err)
			goto out_peer;
	}

	if (read_cnt(skel, NP_GEN_CNT_TX, &tx0) || read_cnt(skel, NP_GEN_CNT_SINK, &sk0) ||
	    read_cnt(skel, NP_GEN_CNT_TC_SINK, &tc0)) {
		np_err("read the np_gen_cnt map: %s", strerror(errno));
		goto out_peer;
	}
	err = generate(&a,
		       bpf_program__fd(a.family == AF_INET ? skel->progs.np_gen_tx4
							   : skel->progs.np_gen_tx6),
		       ifindex, &sent, &secs);
	if (a.sink || a.reflect || a.tc_dev)
		usleep(50000); /* what a backlog still holds, not counted in secs */
	if (read_cnt(skel, NP_GEN_CNT_TX, &tx1) || read_cnt(skel, NP_GEN_CNT_SINK, &sk1) ||
	    read_cnt(skel, NP_GEN_CNT_TC_SINK, &tc1)) {
		np_err("read the np_gen_cnt map: %s", strerror(errno));
		goto out_peer;
	}
	if (err && !sent)
		goto out_peer;
	printf("generated %llu packets in %.3f s = %.3f Mpps (cpu %d, flows %u, size %u, %s)\n",
	       (unsigned long long)(tx1 - tx0), secs, secs > 0 ? (tx1 - tx0) / secs / 1e6 : 0.0,
	       cpu, a.flows, a.size, a.family == AF_INET ? "ipv4" : "ipv6");
	if (tx1 - tx0 != sent)
		np_warn("%llu test_run repeats but %llu frames stamped", (unsigned long long)sent,
			(unsigned long long)(tx1 - tx0));
	if (a.reflect)
		printf("reflected %llu packets = %.3f Mpps\n", (unsigned long long)(sk1 - sk0),
		       secs > 0 ? (sk1 - sk0) / secs / 1e6 : 0.0);
	if (a.sink)
		printf("sink dropped %llu packets = %.3f Mpps\n", (unsigned long long)(sk1 - sk0),
		       secs > 0 ? (sk1 - sk0) / secs / 1e6 : 0.0);
	if (a.tc_dev)
		printf("tc sink dropped %llu packets = %.3f Mpps\n",
		       (unsigned long long)(tc1 - tc0), secs > 0 ? (tc1 - tc0) / secs / 1e6 : 0.0);
	fflush(stdout);
	ret = err ? 1 : 0;
out_peer:
	bpf_link__destroy(tc_link); /* the link's last reference: detaches */
	if (a.peer_netns && (peer.link_fd >= 0 || peer.gro_set)) {
		if (np_netns_enter(a.peer_netns))
			np_warn("enter netns %s to undo GRO/sink: %s", a.peer_netns,
				strerror(errno));
		else
			peer_teardown(&a, &peer);
	}
out_home:
	if (np_netns_return(home))
		np_warn("return to the original netns failed");
out_destroy:
	np_gen__destroy(skel);
	return ret;
}
