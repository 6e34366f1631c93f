// SPDX-License-Identifier: GPL-2.0
/*
 * Writes the seed corpus of fuzz_parse: frames from the fixture builder
 * (tests/common/np_pktb.c), each prefixed with the target's control byte.
 * Not part of the build; the seeds are kept in tests/fuzz/corpus/parse/.
 *   cc -Itests tests/fuzz/mkseed_parse.c tests/common/np_pktb.c -o /tmp/mkseed_parse
 *   /tmp/mkseed_parse tests/fuzz/corpus/parse
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/np_pktb.h"

#define S4 "198.18.0.101"
#define D4 "198.18.0.1"
#define S6 "fd00:18::101"
#define D6 "fd00:18::1"

static const char *dir;

static int save(const char *name, struct np_pktb *b, unsigned char ctl)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f) {
		fprintf(stderr, "open %s: %s\n", path, strerror(errno));
		return -errno;
	}
	fputc(ctl, f);
	fwrite(b->buf, 1, b->len, f);
	fclose(f);
	return 0;
}

static void l4(struct np_pktb *b, int proto, int v6)
{
	if (proto == 6)
		np_pktb_tcp(b, 40000, 80);
	else if (proto == 17)
		np_pktb_udp(b, 40000, 53);
	else
		np_pktb_icmp(b, v6);
	np_pktb_fill(b, 12, 0x42);
}

int main(int argc, char **argv)
{
	static const int protos[] = { 6, 17, 1 };
	struct np_pktb b;
	char name[64];
	int err = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	dir = argv[1];
	for (int i = 0; i < 3; i++) {
		int p = protos[i];

		/* plain IPv4 and IPv6 */
		np_pktb_init(&b);
		np_pktb_eth(&b, NP_ETH_P_IP);
		np_pktb_ip4(&b, (uint8_t)p, S4, D4);
		l4(&b, p, 0);
		np_pktb_finish(&b);
		snprintf(name, sizeof(name), "ip4-%d", p);
		err |= save(name, &b, 0);

		np_pktb_init(&b);
		np_pktb_eth(&b, NP_ETH_P_IPV6);
		np_pktb_ip6(&b, p == 1 ? 58 : (uint8_t)p, S6, D6);
		l4(&b, p, 1);
		np_pktb_finish(&b);
		snprintf(name, sizeof(name), "ip6-%d", p);
		err |= save(name, &b, 0);

		/* QinQ over IPv6 with a hop-by-hop and a fragment header */
		np_pktb_init(&b);
		np_pktb_eth(&b, NP_ETH_P_8021AD);
		np_pktb_vlan(&b, 100, NP_ETH_P_8021Q);
		np_pktb_vlan(&b, 10, NP_ETH_P_IPV6);
		np_pktb_ip6(&b, 0, S6, D6);
		np_pktb_ip6_ext(&b, 0, 44, 8);
		np_pktb_ip6_frag(&b, p == 1 ? 58 : (uint8_t)p, 0, 1);
		l4(&b, p, 1);
		np_pktb_finish(&b);
		snprintf(name, sizeof(name), "qinq-ip6-ext-frag-%d", p);
		err |= save(name, &b, 0);
	}
	/* one 802.1Q tag, as tc sees it with a hardware-stripped outer tag */
	np_pktb_init(&b);
	np_pktb_eth(&b, NP_ETH_P_8021Q);
	np_pktb_vlan(&b, 10, NP_ETH_P_IP);
	np_pktb_ip4(&b, 17, S4, D4);
	l4(&b, 17, 0);
	np_pktb_finish(&b);
	err |= save("vlan-ip4-udp-tc", &b, 1);

	/* an IPv4 first fragment, and a later one */
	np_pktb_init(&b);
	np_pktb_eth(&b, NP_ETH_P_IP);
	np_pktb_ip4(&b, 17, S4, D4);
	l4(&b, 17, 0);
	np_pktb_finish(&b);
	np_pktb_be16(&b, 14 + 6, 0x2000);
	err |= save("ip4-frag-first", &b, 0);
	np_pktb_be16(&b, 14 + 6, 0x0004);
	err |= save("ip4-frag-later", &b, 0);

	/* IPv6 with AH and a destination options header, then TCP */
	np_pktb_init(&b);
	np_pktb_eth(&b, NP_ETH_P_IPV6);
	np_pktb_ip6(&b, 51, S6, D6);
	np_pktb_ip6_ext(&b, 51, 60, 16);
	np_pktb_ip6_ext(&b, 60, 6, 8);
	l4(&b, 6, 1);
	np_pktb_finish(&b);
	err |= save("ip6-ah-dst-tcp", &b, 0);

	/* ARP: not IP */
	np_pktb_init(&b);
	np_pktb_eth(&b, NP_ETH_P_ARP);
	np_pktb_arp(&b, 1, (const uint8_t *)"\x02\0\0\0\0\x01", S4, NULL, D4);
	err |= save("arp", &b, 0);
	return err ? 1 : 0;
}
