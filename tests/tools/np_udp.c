// SPDX-License-Identifier: GPL-2.0
/*
 * np_udp: a small, bounded UDP sender and counter for the e2e tests and the
 * demo. Only libc.
 *
 *   np_udp send --to ADDR --port P --count N --rate PPS [--src ADDR]
 *               [--size B] [--tag T]
 *   np_udp recv --port P [--bind ADDR] --timeout S [--tag T]
 *               [--ready-file F] [--max-time S]
 *
 * Every datagram starts with "np_udp <tag> <seq>\n" (zero-padded to --size),
 * so a receiver counts only the flow it was told about, never the RS/MLD and
 * ARP chatter of the lab's links.
 *
 * send is bounded: at most NP_UDP_MAX_COUNT datagrams and NP_UDP_MAX_SECS
 * seconds. --rate 0 sends as fast as the kernel takes them. Datagrams the
 * local stack refuses (ENOBUFS from a full device queue) are retried, not
 * counted, so "sent N" is what left the socket. It prints
 *   sent N in T s (R pps)
 *
 * recv counts datagrams carrying the tag until no datagram arrived for
 * --timeout seconds, --max-time passed, or SIGINT/SIGTERM; then it prints
 *   received N
 * (and details on stderr). Exit: 0 ok, 1 failure, 2 bad arguments.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define NP_UDP_MAX_COUNT 10000000UL
#define NP_UDP_MAX_SECS 120.0
#define NP_UDP_MAX_RATE 10000000UL
#define NP_UDP_MAX_SIZE 1400
#define NP_UDP_DEF_SIZE 64
#define NP_UDP_MAX_TAG 32
#define NP_UDP_BATCH 64
#define NP_UDP_MAX_WAIT 600 /* ceiling for --timeout and --max-time */

static volatile sig_atomic_t np_stop;

static void np_on_signal(int sig)
{
	(void)sig;
	np_stop = 1;
}

static int np_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int np_usage(const char *fmt, ...)
{
	va_list ap;

	fputs("np_udp: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nusage: np_udp send --to ADDR --port P --count N --rate PPS [--src ADDR] "
	      "[--size B] [--tag T]\n"
	      "       np_udp recv --port P [--bind ADDR] --timeout S [--tag T] "
	      "[--ready-file F] [--max-time S]\n",
	      stderr);
	return 2;
}

static double np_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A decimal number in [min, max]; no sign, no spaces, no trailing junk. */
static int np_parse_ul(const char *opt, const char *s, unsigned long min, unsigned long max,
		       unsigned long *out)
{
	unsigned long v;
	char *end;

	if (!s || !*s || *s < '0' || *s > '9')
		return np_usage("%s \"%s\" is not a number (allowed: %lu..%lu)", opt, s ? s : "",
				min, max);
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end)
		return np_usage("%s \"%s\" is not a number (allowed: %lu..%lu)", opt, s, min, max);
	if (v < min || v > max)
		return np_usage("%s %lu is out of range (allowed: %lu..%lu)", opt, v, min, max);
	*out = v;
	return 0;
}

static int np_parse_addr(const char *opt, const char *s, unsigned short port,
			 struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, s, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		*len = sizeof(*sin);
		return 0;
	}
	if (inet_pton(AF_INET6, s, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		*len = sizeof(*sin6);
		return 0;
	}
	return np_usage("%s \"%s\" is not an IPv4 or IPv6 address", opt, s);
}

static int np_check_tag(const char *tag)
{
	size_t n = strlen(tag);

	if (n == 0 || n > NP_UDP_MAX_TAG)
		return np_usage("--tag \"%s\" must have 1..%d characters", tag, NP_UDP_MAX_TAG);
	for (size_t i = 0; i < n; i++) {
		char c = tag[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.'))
			return np_usage("--tag \"%s\": only letters, digits, '-', '_' and '.'",
					tag);
	}
	return 0;
}

enum {
	OPT_TO = 1,
	OPT_PORT,
	OPT_COUNT,
	OPT_RATE,
	OPT_SRC,
	OPT_SIZE,
	OPT_TAG,
	OPT_BIND,
	OPT_TIMEOUT,
	OPT_READY,
	OPT_MAXTIME,
};

static const struct option np_opts[] = {
	{ "to", required_argument, NULL, OPT_TO },
	{ "port", required_argument, NULL, OPT_PORT },
	{ "count", required_argument, NULL, OPT_COUNT },
	{ "rate", required_argument, NULL, OPT_RATE },
	{ "src", required_argument, NULL, OPT_SRC },
	{ "size", required_argument, NULL, OPT_SIZE },
	{ "tag", required_argument, NULL, OPT_TAG },
	{ "bind", required_argument, NULL, OPT_BIND },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "ready-file", required_argument, NULL, OPT_READY },
	{ "max-time", required_argument, NULL, OPT_MAXTIME },
	{ "help", no_argument, NULL, 'h' },
	{ 0 },
};

struct np_args {
	const char *to, *src, *bind, *ready, *tag;
	unsigned long port, count, rate, size, timeout, max_time;
	int have_port, have_count, have_rate, have_timeout;
};

static int np_parse(int argc, char **argv, int is_send, struct np_args *a)
{
	int c, err;

	memset(a, 0, sizeof(*a));
	a->tag = "np";
	a->size = NP_UDP_DEF_SIZE;
	a->max_time = 130;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+h", np_opts, NULL)) != -1) {
		err = 0;
		switch (c) {
		case OPT_TO:
			a->to = optarg;
			break;
		case OPT_SRC:
			a->src = optarg;
			break;
		case OPT_BIND:
			a->bind = optarg;
			break;
		case OPT_READY:
			a->ready = optarg;
			break;
		case OPT_TAG:
			a->tag = optarg;
			break;
		case OPT_PORT:
			err = np_parse_ul("--port", optarg, 1, 65535, &a->port);
			a->have_port = 1;
			break;
		case OPT_COUNT:
			err = np_parse_ul("--count", optarg, 1, NP_UDP_MAX_COUNT, &a->count);
			a->have_count = 1;
			break;
		case OPT_RATE:
			err = np_parse_ul("--rate", optarg, 0, NP_UDP_MAX_RATE, &a->rate);
			a->have_rate = 1;
			break;
		case OPT_SIZE:
			err = np_parse_ul("--size", optarg, 24, NP_UDP_MAX_SIZE, &a->size);
			break;
		case OPT_TIMEOUT:
			err = np_parse_ul("--timeout", optarg, 1, NP_UDP_MAX_WAIT, &a->timeout);
			a->have_timeout = 1;
			break;
		case OPT_MAXTIME:
			err = np_parse_ul("--max-time", optarg, 1, NP_UDP_MAX_WAIT, &a->max_time);
			break;
		case 'h':
			return np_usage("help");
		default:
			return np_usage("unknown or incomplete option \"%s\"", argv[optind - 1]);
		}
		if (err)
			return err;
	}
	if (optind < argc)
		return np_usage("unexpected argument \"%s\"", argv[optind]);
	if (np_check_tag(a->tag))
		return 2;
	if (is_send) {
		if (!a->to || !a->have_port || !a->have_count || !a->have_rate)
			return np_usage("send needs --to, --port, --count and --rate");
		if (a->bind || a->ready || a->have_timeout)
			return np_usage("--bind, --ready-file and --timeout belong to recv");
		if (a->rate && (double)a->count / a->rate > NP_UDP_MAX_SECS)
			return np_usage("--count %lu at --rate %lu takes %.0f s; the cap is %.0f s",
					a->count, a->rate, (double)a->count / a->rate,
					NP_UDP_MAX_SECS);
	} else {
		if (!a->have_port || !a->have_timeout)
			return np_usage("recv needs --port and --timeout");
		if (a->to || a->src || a->have_count || a->have_rate)
			return np_usage("--to, --src, --count and --rate belong to send");
	}
	return 0;
}

/* Wait until the monotonic clock reads t. */
static void np_sleep_until(double t)
{
	struct timespec ts;

	ts.tv_sec = (time_t)t;
	ts.tv_nsec = (long)((t - ts.tv_sec) * 1e9);
	if (ts.tv_nsec >= 1000000000L)
		ts.tv_nsec = 999999999L;
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR && !np_stop)
		;
}

/* Drop queued ICMP errors (IP_RECVERR) so they do not fail the next send. */
static void np_drain_errqueue(int fd)
{
	char buf[256], cbuf[512];
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr mh = { 0 };

	for (int i = 0; i < 64; i++) {
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof(cbuf);
		if (recvmsg(fd, &mh, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
			break;
	}
}

static int np_send(struct np_args *a)
{
	struct mmsghdr msgs[NP_UDP_BATCH];
	struct iovec iovs[NP_UDP_BATCH];
	static char bufs[NP_UDP_BATCH][NP_UDP_MAX_SIZE];
	struct sockaddr_storage dst, src;
	socklen_t dlen, slen;
	unsigned long sent = 0, retries = 0, icmp = 0;
	double start, end, deadline;
	int fd, one = 1, ret = 1;

	if (np_parse_addr("--to", a->to, a->port, &dst, &dlen))
		return 2;
	if (a->src) {
		if (np_parse_addr("--src", a->src, 0, &src, &slen))
			return 2;
		if (src.ss_family != dst.ss_family)
			return np_usage("--src %s and --to %s are different address families",
					a->src, a->to);
	}
	if (strlen(a->tag) + 20 > a->size)
		return np_usage("--size %lu is too small for tag \"%s\" (need %zu)", a->size,
				a->tag, strlen(a->tag) + 20);

	fd = socket(dst.ss_family, SOCK_DGRAM, 0);
	if (fd < 0) {
		fprintf(stderr, "np_udp: socket: %s\n", strerror(errno));
		return 1;
	}
	if (a->src && bind(fd, (struct sockaddr *)&src, slen) < 0) {
		fprintf(stderr, "np_udp: bind to %s: %s\n", a->src, strerror(errno));
		goto out;
	}
	/* Report local queue drops (ENOBUFS) instead of hiding them. */
	if (dst.ss_family == AF_INET)
		setsockopt(fd, IPPROTO_IP, IP_RECVERR, &one, sizeof(one));
	else
		setsockopt(fd, IPPROTO_IPV6, IPV6_RECVERR, &one, sizeof(one));

	for (int i = 0; i < NP_UDP_BATCH; i++) {
		memset(bufs[i], 0, a->size);
		iovs[i].iov_base = bufs[i];
		iovs[i].iov_len = a->size;
		memset(&msgs[i], 0, sizeof(msgs[i]));
		msgs[i].msg_hdr.msg_name = &dst;
		msgs[i].msg_hdr.msg_namelen = dlen;
		msgs[i].msg_hdr.msg_iov = &iovs[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);

	start = np_now();
	deadline = start + NP_UDP_MAX_SECS;
	while (sent < a->count && !np_stop) {
		unsigned long due = a->count, n;
		double now = np_now();
		int r;

		if (now > deadline) {
			fprintf(stderr,
				"np_udp: send: stopped at the %.0f s cap after %lu of %lu\n",
				NP_UDP_MAX_SECS, sent, a->count);
			goto report;
		}
		if (a->rate) {
			due = (unsigned long)((now - start) * a->rate) + 1;
			if (due > a->count)
				due = a->count;
			if (due <= sent) {
				np_sleep_until(start + (double)sent / a->rate);
				continue;
			}
		}
		n = due - sent;
		if (n > NP_UDP_BATCH)
			n = NP_UDP_BATCH;
		for (unsigned long i = 0; i < n; i++)
			snprintf(bufs[i], a->size, "np_udp %s %lu\n", a->tag, sent + i);
		r = sendmmsg(fd, msgs, n, 0);
		if (r > 0) {
			sent += r;
			continue;
		}
		switch (errno) {
		case EINTR:
			break;
		case ENOBUFS:
		case EAGAIN:
			/* The local queue is full: nothing left, try again. */
			retries++;
			usleep(50);
			break;
		case ECONNREFUSED:
		case EHOSTUNREACH:
		case ENETUNREACH:
		case EHOSTDOWN:
			/* An earlier datagram's ICMP error; this one was not sent. */
			icmp++;
			np_drain_errqueue(fd);
			if (icmp > 100000) {
				fprintf(stderr, "np_udp: send to %s: %s (giving up)\n", a->to,
					strerror(errno));
				goto report;
			}
			break;
		default:
			fprintf(stderr, "np_udp: send to %s: %s\n", a->to, strerror(errno));
			goto report;
		}
	}
	ret = sent == a->count ? 0 : 1;
report:
	end = np_now();
	printf("sent %lu in %.3f s (%.0f pps)\n", sent, end - start,
	       end > start ? sent / (end - start) : 0.0);
	if (retries || icmp)
		fprintf(stderr, "np_udp: send: %lu local-queue retries, %lu ICMP errors seen\n",
			retries, icmp);
out:
	close(fd);
	return ret;
}

static int np_write_ready(const char *path)
{
	char tmp[PATH_MAX];
	FILE *f;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		fprintf(stderr, "np_udp: --ready-file %s: path too long\n", path);
		return -1;
	}
	f = fopen(tmp, "w");
	if (!f || fprintf(f, "%d\n", (int)getpid()) < 0 || fclose(f) != 0 ||
	    rename(tmp, path) < 0) {
		fprintf(stderr, "np_udp: write --ready-file %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int np_recv(struct np_args *a)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char buf[2048], prefix[64], cbuf[64];
	unsigned long received = 0, other = 0, overflow = 0, dups = 0, maxseq = 0, missing = 0;
	unsigned char *seen;
	double start, last, now;
	size_t plen;
	int fd, zero = 0, one = 1, rcvbuf = 8 << 20, ret = 1;
	struct sigaction sa = { 0 };

	if (a->bind) {
		if (np_parse_addr("--bind", a->bind, a->port, &ss, &len))
			return 2;
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		memset(&ss, 0, sizeof(ss));
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_any;
		sin6->sin6_port = htons(a->port);
		len = sizeof(*sin6);
	}
	plen = snprintf(prefix, sizeof(prefix), "np_udp %s ", a->tag);
	/* One bit per sequence number: which datagrams of the flow are missing. */
	seen = calloc(NP_UDP_MAX_COUNT / 8 + 1, 1);
	if (!seen) {
		fprintf(stderr, "np_udp: recv: out of memory\n");
		return 1;
	}

	sa.sa_handler = np_on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	fd = socket(ss.ss_family, SOCK_DGRAM, 0);
	if (fd < 0) {
		fprintf(stderr, "np_udp: socket: %s\n", strerror(errno));
		free(seen);
		return 1;
	}
	if (ss.ss_family == AF_INET6 && !a->bind)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	/* A big buffer so bursts are counted, and a counter of what overflowed. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0) {
		fprintf(stderr, "np_udp: bind to %s port %lu: %s\n", a->bind ? a->bind : "[::]",
			a->port, strerror(errno));
		goto out;
	}
	if (a->ready && np_write_ready(a->ready))
		goto out;

	start = last = np_now();
	while (!np_stop) {
		struct iovec iov = { buf, sizeof(buf) - 1 };
		struct msghdr mh = { 0 };
		struct pollfd pfd = { fd, POLLIN, 0 };
		double left;
		ssize_t n;
		int r;

		now = np_now();
		if (now - start >= a->max_time) {
			fprintf(stderr, "np_udp: recv: --max-time %lu s reached\n", a->max_time);
			break;
		}
		left = a->timeout - (now - last);
		if (left <= 0)
			break;
		if (left > a->max_time - (now - start))
			left = a->max_time - (now - start);
		r = poll(&pfd, 1, (int)(left * 1000) + 1);
		if (r < 0 && errno != EINTR) {
			fprintf(stderr, "np_udp: poll: %s\n", strerror(errno));
			goto out;
		}
		if (r <= 0)
			continue;
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof(cbuf);
		n = recvmsg(fd, &mh, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			fprintf(stderr, "np_udp: recv: %s\n", strerror(errno));
			goto out;
		}
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
			if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SO_RXQ_OVFL) {
				uint32_t v;

				memcpy(&v, CMSG_DATA(cm), sizeof(v));
				overflow = v;
			}
		}
		if ((size_t)n >= plen && !memcmp(buf, prefix, plen)) {
			unsigned long seq;
			char *end;

			buf[n] = 0;
			received++;
			last = np_now();
			seq = strtoul(buf + plen, &end, 10);
			if (end != buf + plen && *end == '\n' && seq < NP_UDP_MAX_COUNT) {
				if (seen[seq / 8] & (1U << (seq % 8)))
					dups++;
				seen[seq / 8] |= 1U << (seq % 8);
				if (seq > maxseq)
					maxseq = seq;
			}
		} else {
			other++;
		}
	}
	ret = 0;
	printf("received %lu\n", received);
	fprintf(stderr,
		"np_udp: recv: %lu with tag \"%s\", %lu other, %lu lost to a full socket "
		"buffer, %lu duplicates, %.3f s\n",
		received, a->tag, other, overflow, dups, np_now() - start);
	if (received) {
		char list[128] = "";
		size_t l = 0;

		for (unsigned long s = 0; s <= maxseq; s++) {
			if (seen[s / 8] & (1U << (s % 8)))
				continue;
			if (missing++ < 8 && l < sizeof(list) - 24)
				l += snprintf(list + l, sizeof(list) - l, " %lu", s);
		}
		if (missing)
			fprintf(stderr,
				"np_udp: recv: %lu missing below the highest seq %lu:%s%s\n",
				missing, maxseq, list, missing > 8 ? " ..." : "");
	}
out:
	free(seen);
	close(fd);
	return ret;
}

int main(int argc, char **argv)
{
	struct np_args a;
	int is_send, err;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2)
		return np_usage("missing mode: send or recv");
	if (!strcmp(argv[1], "send"))
		is_send = 1;
	else if (!strcmp(argv[1], "recv"))
		is_send = 0;
	else
		return np_usage("unknown mode \"%s\" (allowed: send, recv)", argv[1]);
	err = np_parse(argc - 1, argv + 1, is_send, &a);
	if (err)
		return err;
	if (is_send) {
		struct sigaction sa = { 0 };

		sa.sa_handler = np_on_signal;
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		return np_send(&a);
	}
	return np_recv(&a);
}
