// SPDX-License-Identifier: GPL-2.0
/* Packet builder for test fixtures; see np_pktb.h. */
#include <arpa/inet.h>
#include <string.h>

#include "np_pktb.h"

void np_pktb_init(struct np_pktb *b)
{
	memset(b, 0, sizeof(*b));
	b->ip4 = -1;
	b->ip6 = -1;
	b->udp = -1;
}

size_t np_pktb_put(struct np_pktb *b, const void *data, size_t n)
{
	size_t off = b->len;

	if (n > NP_PKTB_MAX - b->len)
		n = NP_PKTB_MAX - b->len;
	if (data)
		memcpy(b->buf + off, data, n);
	else
		memset(b->buf + off, 0, n);
	b->len += n;
	return off;
}

size_t np_pktb_fill(struct np_pktb *b, size_t n, uint8_t byte)
{
	size_t off = np_pktb_put(b, NULL, n);

	memset(b->buf + off, byte, b->len - off);
	return off;
}

void np_pktb_be16(struct np_pktb *b, size_t off, uint16_t v)
{
	if (off + 2 > NP_PKTB_MAX)
		return;
	b->buf[off] = v >> 8;
	b->buf[off + 1] = v & 0xff;
}

size_t np_pktb_eth(struct np_pktb *b, uint16_t proto)
{
	static const uint8_t macs[12] = { 0x02, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0, 0, 0x65 };
	size_t off = np_pktb_put(b, macs, sizeof(macs));

	np_pktb_put(b, NULL, 2);
	np_pktb_be16(b, off + 12, proto);
	return off;
}

size_t np_pktb_vlan(struct np_pktb *b, uint16_t vid, uint16_t proto)
{
	size_t off = np_pktb_put(b, NULL, 4);

	np_pktb_be16(b, off, vid & 0x0fff);
	np_pktb_be16(b, off + 2, proto);
	return off;
}

size_t np_pktb_ip4(struct np_pktb *b, uint8_t proto, const char *saddr, const char *daddr)
{
	size_t off = np_pktb_put(b, NULL, 20);
	uint8_t *ip = b->buf + off;

	ip[0] = 0x45;
	ip[8] = 64;
	ip[9] = proto;
	inet_pton(AF_INET, saddr, ip + 12);
	inet_pton(AF_INET, daddr, ip + 16);
	b->ip4 = (long)off;
	return off;
}

size_t np_pktb_ip6(struct np_pktb *b, uint8_t nexthdr, const char *saddr, const char *daddr)
{
	size_t off = np_pktb_put(b, NULL, 40);
	uint8_t *ip6 = b->buf + off;

	ip6[0] = 0x60;
	ip6[6] = nexthdr;
	ip6[7] = 64;
	inet_pton(AF_INET6, saddr, ip6 + 8);
	inet_pton(AF_INET6, daddr, ip6 + 24);
	b->ip6 = (long)off;
	return off;
}

size_t np_pktb_ip6_ext(struct np_pktb *b, uint8_t type, uint8_t nexthdr, size_t len)
{
	size_t off = np_pktb_put(b, NULL, len);
	uint8_t *h = b->buf + off;

	h[0] = nexthdr;
	if (type == 51) /* AH: 4-octet units minus 2 */
		h[1] = (uint8_t)(len / 4 - 2);
	else
		h[1] = (uint8_t)(len / 8 - 1);
	if (type == 0 || type == 60) {
		/* One PadN option filling the rest of the header. */
		h[2] = 1;
		h[3] = (uint8_t)(len - 4);
	}
	return off;
}

size_t np_pktb_ip6_frag(struct np_pktb *b, uint8_t nexthdr, uint16_t offset, int more)
{
	size_t off = np_pktb_put(b, NULL, 8);

	b->buf[off] = nexthdr;
	np_pktb_be16(b, off + 2, (uint16_t)(offset << 3) | (more ? 1 : 0));
	b->buf[off + 7] = 0x2a; /* identification */
	return off;
}

size_t np_pktb_tcp(struct np_pktb *b, uint16_t sport, uint16_t dport)
{
	size_t off = np_pktb_put(b, NULL, 20);

	np_pktb_be16(b, off, sport);
	np_pktb_be16(b, off + 2, dport);
	b->buf[off + 12] = 5 << 4; /* doff */
	b->buf[off + 13] = 0x02;   /* SYN */
	np_pktb_be16(b, off + 14, 64240);
	return off;
}

size_t np_pktb_udp(struct np_pktb *b, uint16_t sport, uint16_t dport)
{
	size_t off = np_pktb_put(b, NULL, 8);

	np_pktb_be16(b, off, sport);
	np_pktb_be16(b, off + 2, dport);
	b->udp = (long)off;
	return off;
}

size_t np_pktb_icmp(struct np_pktb *b, int v6)
{
	size_t off = np_pktb_put(b, NULL, 8);

	b->buf[off] = v6 ? 128 : 8; /* echo request */
	b->buf[off + 5] = 1;	    /* identifier */
	b->buf[off + 7] = 1;	    /* sequence */
	return off;
}

uint16_t np_pktb_csum_add(const uint8_t *p, size_t n, uint32_t sum)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static uint16_t np_pktb_csum(const uint8_t *p, size_t n)
{
	return np_pktb_csum_add(p, n, 0);
}

size_t np_pktb_eth_addr(struct np_pktb *b, const uint8_t *dst, const uint8_t *src, uint16_t proto)
{
	size_t off = np_pktb_put(b, dst, 6);

	np_pktb_put(b, src, 6);
	np_pktb_put(b, NULL, 2);
	np_pktb_be16(b, off + 12, proto);
	return off;
}

size_t np_pktb_arp(struct np_pktb *b, uint16_t op, const uint8_t *sha, const char *spa,
		   const uint8_t *tha, const char *tpa)
{
	size_t off = np_pktb_put(b, NULL, 28);
	uint8_t *a = b->buf + off;

	if (off + 28 > NP_PKTB_MAX)
		return off;
	np_pktb_be16(b, off, 1);	  /* Ethernet */
	np_pktb_be16(b, off + 2, 0x0800); /* IPv4 */
	a[4] = 6;
	a[5] = 4;
	np_pktb_be16(b, off + 6, op);
	memcpy(a + 8, sha, 6);
	inet_pton(AF_INET, spa, a + 14);
	if (tha)
		memcpy(a + 18, tha, 6);
	inet_pton(AF_INET, tpa, a + 24);
	return off;
}

size_t np_pktb_ns(struct np_pktb *b, const char *target, const uint8_t *slla)
{
	size_t off = np_pktb_put(b, NULL, 24);

	if (off + 24 > NP_PKTB_MAX)
		return off;
	b->buf[off] = 135;
	inet_pton(AF_INET6, target, b->buf + off + 8);
	if (slla) {
		size_t o = np_pktb_put(b, NULL, 8);

		b->buf[o] = 1; /* source link-layer address */
		b->buf[o + 1] = 1;
		memcpy(b->buf + o + 2, slla, 6);
	}
	return off;
}

void np_pktb_icmp6_csum(struct np_pktb *b, size_t off)
{
	uint32_t sum = 0, len = (uint32_t)(b->len - off);
	const uint8_t *ip6;
	int i;

	if (b->ip6 < 0 || off + 4 > b->len)
		return;
	ip6 = b->buf + b->ip6;
	/* Pseudo-header: source, destination, length, next header 58. */
	for (i = 8; i < 40; i += 2)
		sum += (uint32_t)ip6[i] << 8 | ip6[i + 1];
	sum += len >> 16;
	sum += len & 0xffff;
	sum += 58;
	np_pktb_be16(b, off + 2, 0);
	np_pktb_be16(b, off + 2, np_pktb_csum_add(b->buf + off, len, sum));
}

void np_pktb_finish(struct np_pktb *b)
{
	size_t hl;

	if (b->keep_lengths)
		return;
	if (b->udp >= 0)
		np_pktb_be16(b, (size_t)b->udp + 4, (uint16_t)(b->len - (size_t)b->udp));
	if (b->ip6 >= 0)
		np_pktb_be16(b, (size_t)b->ip6 + 4, (uint16_t)(b->len - (size_t)b->ip6 - 40));
	if (b->ip4 >= 0) {
		hl = (size_t)(b->buf[b->ip4] & 0x0f) * 4;
		np_pktb_be16(b, (size_t)b->ip4 + 2, (uint16_t)(b->len - (size_t)b->ip4));
		np_pktb_be16(b, (size_t)b->ip4 + 10, 0);
		if ((size_t)b->ip4 + hl <= b->len)
			np_pktb_be16(b, (size_t)b->ip4 + 10, np_pktb_csum(b->buf + b->ip4, hl));
	}
}
