// SPDX-License-Identifier: GPL-2.0
/*
 * np_xsk_probe: does AF_XDP transmit into a device the way the pool's worker
 * does it? The vm tier uses it on a netkit primary (tests/vm/guest_afxdp.sh).
 *
 *   np_xsk_probe --dev IF [--shared-with IF2] --dst-mac M --src-mac M
 *                --src A --dst A --port P --count N [--hold S]
 *
 * It registers a UMEM, optionally binds a copy-mode rx socket to IF2 queue 0
 * first (as the worker binds its rx socket to the uplink), then binds a
 * tx-only copy-mode socket to IF queue 0 on the same UMEM (XDP_SHARED_UMEM
 * when IF2 is given), and sends N IPv4/UDP datagrams A:40000 -> A:P carrying
 * "np_udp probe <seq>\n" (np_udp recv --tag probe counts them), one per
 * sendto() kick, waiting for each completion. It prints
 *   bind IF: ok | bind IF: <error>
 *   sent N completed N
 * With --hold S it keeps its sockets S seconds more (the queue stays taken:
 * a test of what a worker does when its bind is refused).
 * Exit: 0 every frame completed, 1 a bind or send failed, 2 bad arguments.
 * Whether the frames reached their destination is for the caller to check.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_xdp.h>

#include <xdp/xsk.h>

#define NP_PROBE_FS 2048
#define NP_PROBE_FRAMES 64
#define NP_PROBE_RING 64
#define NP_PROBE_MAX_COUNT 1000

struct np_probe {
	const char *dev, *shared;
	uint8_t dmac[6], smac[6];
	struct in_addr src, dst;
	uint16_t port;
	unsigned int count;
	unsigned int hold;
};

static int np_usage(const char *msg)
{
	fprintf(stderr,
		"np_xsk_probe: %s\nusage: np_xsk_probe --dev IF [--shared-with IF2] --dst-mac M "
		"--src-mac M --src A --dst A --port P --count N (N 1..%d) [--hold S]\n",
		msg, NP_PROBE_MAX_COUNT);
	return 2;
}

static int np_mac(const char *s, uint8_t *m)
{
	char end;

	return sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx%c", m, m + 1, m + 2, m + 3, m + 4, m + 5,
		      &end) == 6
		       ? 0
		       : -1;
}

static uint16_t np_csum(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint32_t s = 0;

	for (; n > 1; n -= 2, b += 2)
		s += (uint32_t)(b[0] << 8 | b[1]);
	if (n)
		s += (uint32_t)(b[0] << 8);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return htons((uint16_t)~s);
}

/* An Ethernet + IPv4 + UDP frame into f; returns its length. */
static uint32_t np_frame(const struct np_probe *p, uint8_t *f, unsigned int seq)
{
	uint8_t *ip = f + 14, *udp = ip + 20;
	uint16_t v, plen;
	int n;

	n = snprintf((char *)udp + 8, 64, "np_udp probe %u\n", seq);
	plen = (uint16_t)n;
	memcpy(f, p->dmac, 6);
	memcpy(f + 6, p->smac, 6);
	f[12] = 0x08;
	f[13] = 0x00;
	memset(ip, 0, 20);
	ip[0] = 0x45;
	v = htons(20 + 8 + plen);
	memcpy(ip + 2, &v, 2);
	ip[8] = 64;
	ip[9] = IPPROTO_UDP;
	memcpy(ip + 12, &p->src, 4);
	memcpy(ip + 16, &p->dst, 4);
	v = np_csum(ip, 20);
	memcpy(ip + 10, &v, 2);
	v = htons(40000);
	memcpy(udp, &v, 2);
	v = htons(p->port);
	memcpy(udp + 2, &v, 2);
	v = htons(8 + plen);
	memcpy(udp + 4, &v, 2);
	udp[6] = udp[7] = 0; /* no UDP checksum (IPv4 allows it) */
	return 14 + 20 + 8 + plen;
}

static int np_parse(struct np_probe *p, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dev", required_argument, NULL, 'd' },
		{ "shared-with", required_argument, NULL, 'w' },
		{ "dst-mac", required_argument, NULL, 'M' },
		{ "src-mac", required_argument, NULL, 'm' },
		{ "src", required_argument, NULL, 's' },
		{ "dst", required_argument, NULL, 't' },
		{ "port", required_argument, NULL, 'p' },
		{ "count", required_argument, NULL, 'c' },
		{ "hold", required_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, have = 0;
	long v;

	memset(p, 0, sizeof(*p));
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			p->dev = optarg;
			break;
		case 'w':
			p->shared = optarg;
			break;
		case 'M':
			if (np_mac(optarg, p->dmac))
				return np_usage("--dst-mac: give aa:bb:cc:dd:ee:ff");
			break;
		case 'm':
			if (np_mac(optarg, p->smac))
				return np_usage("--src-mac: give aa:bb:cc:dd:ee:ff");
			break;
		case 's':
			if (inet_pton(AF_INET, optarg, &p->src) != 1)
				return np_usage("--src: give an IPv4 address");
			break;
		case 't':
			if (inet_pton(AF_INET, optarg, &p->dst) != 1)
				return np_usage("--dst: give an IPv4 address");
			break;
		case 'p':
			v = strtol(optarg, NULL, 10);
			if (v < 1 || v > 65535)
				return np_usage("--port: 1..65535");
			p->port = (uint16_t)v;
			break;
		case 'c':
			v = strtol(optarg, NULL, 10);
			if (v < 1 || v > NP_PROBE_MAX_COUNT)
				return np_usage("--count out of range");
			p->count = (unsigned int)v;
			break;
		case 'h':
			v = strtol(optarg, NULL, 10);
			if (v < 0 || v > 600)
				return np_usage("--hold: 0..600 seconds");
			p->hold = (unsigned int)v;
			continue;
		default:
			return np_usage("unknown option");
		}
		have |= 1 << (strchr("dwMmstpc", c) - "dwMmstpc");
	}
	if ((have & 0xfd) != 0xfd || optind != argc)
		return np_usage(
			"--dev, --dst-mac, --src-mac, --src, --dst, --port and --count are needed");
	return 0;
}

/* Bind to queue 0 of dev; a socket closed just before (a worker's) may hold it a while. */
static int np_bind(struct xsk_socket **s, const char *dev, struct xsk_umem *umem,
		   struct xsk_ring_cons *rx, struct xsk_ring_prod *tx, struct xsk_ring_prod *fill,
		   struct xsk_ring_cons *comp, const struct xsk_socket_config *cfg)
{
	struct timespec ten_ms = { 0, 10000000L };
	int err, i;

	for (i = 0; i < 200; i++) {
		err = xsk_socket__create_shared(s, dev, 0, umem, rx, tx, fill, comp, cfg);
		if (err != -EBUSY)
			break;
		nanosleep(&ten_ms, NULL);
	}
	return err;
}

int main(int argc, char **argv)
{
	struct xsk_umem_config ucfg = {
		.fill_size = NP_PROBE_RING,
		.comp_size = NP_PROBE_RING,
		.frame_size = NP_PROBE_FS,
	};
	struct xsk_socket_config rcfg = {
		.rx_size = NP_PROBE_RING,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.bind_flags = XDP_COPY | XDP_USE_NEED_WAKEUP,
	};
	struct xsk_socket_config tcfg = {
		.tx_size = NP_PROBE_RING,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.bind_flags = XDP_COPY | XDP_USE_NEED_WAKEUP,
	};
	/* Zeroed: libxdp does not set a ring's cached indexes on every path. */
	struct xsk_ring_prod fill = { 0 }, fill2 = { 0 }, tx = { 0 };
	struct xsk_ring_cons comp = { 0 }, comp2 = { 0 }, rx = { 0 }, *cq;
	struct xsk_socket *rxs = NULL, *txs = NULL;
	struct xsk_umem *umem = NULL;
	unsigned int seq, done = 0, n, t;
	struct timespec ms = { 0, 1000000L };
	struct np_probe p;
	size_t size = (size_t)NP_PROBE_FRAMES * NP_PROBE_FS;
	int err, ret = 1;
	uint32_t idx;
	void *area;

	err = np_parse(&p, argc, argv);
	if (err)
		return err;
	area = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (area == MAP_FAILED) {
		printf("umem: mmap: %s\n", strerror(errno));
		return 1;
	}
	err = xsk_umem__create(&umem, area, size, &fill, &comp, &ucfg);
	if (err) {
		printf("umem: register: %s\n", strerror(-err));
		goto out_map;
	}
	if (p.shared) {
		err = np_bind(&rxs, p.shared, umem, &rx, NULL, &fill, &comp, &rcfg);
		printf("bind %s (rx, copy): %s\n", p.shared, err ? strerror(-err) : "ok");
		if (err)
			goto out_umem;
		err = np_bind(&txs, p.dev, umem, NULL, &tx, &fill2, &comp2, &tcfg);
		cq = &comp2;
	} else {
		err = np_bind(&txs, p.dev, umem, NULL, &tx, &fill, &comp, &tcfg);
		cq = &comp;
	}
	printf("bind %s (tx only, copy%s): %s\n", p.dev, p.shared ? ", shared UMEM" : "",
	       err ? strerror(-err) : "ok");
	if (err)
		goto out_rx;
	for (seq = 0; seq < p.count; seq++) {
		uint64_t addr = (uint64_t)(seq % NP_PROBE_FRAMES) * NP_PROBE_FS;

		if (xsk_ring_prod__reserve(&tx, 1, &idx) != 1) {
			printf("tx ring full at frame %u\n", seq);
			break;
		}
		xsk_ring_prod__tx_desc(&tx, idx)->addr = addr;
		xsk_ring_prod__tx_desc(&tx, idx)->len = np_frame(&p, (uint8_t *)area + addr, seq);
		xsk_ring_prod__tx_desc(&tx, idx)->options = 0;
		xsk_ring_prod__submit(&tx, 1);
		if (sendto(xsk_socket__fd(txs), NULL, 0, MSG_DONTWAIT, NULL, 0) < 0 &&
		    errno != EAGAIN) {
			printf("send frame %u: %s\n", seq, strerror(errno));
			break;
		}
		/* The frame is reused: wait for its completion (1 s at most). */
		for (t = 0; t < 1000 && done <= seq; t++) {
			n = xsk_ring_cons__peek(cq, NP_PROBE_RING, &idx);
			if (n) {
				xsk_ring_cons__release(cq, n);
				done += n;
			} else {
				nanosleep(&ms, NULL);
			}
		}
	}
	printf("sent %u completed %u\n", seq, done);
	fflush(stdout);
	ret = seq == p.count && done == p.count ? 0 : 1;
	if (p.hold)
		sleep(p.hold);
	xsk_socket__delete(txs);
out_rx:
	if (rxs)
		xsk_socket__delete(rxs);
out_umem:
	xsk_umem__delete(umem);
out_map:
	munmap(area, size);
	return ret;
}
