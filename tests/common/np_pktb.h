/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small packet builder for test fixtures: append headers one after the
 * other into a fixed buffer; every append returns the offset of what it
 * wrote, so a fixture can damage a field afterwards. Lengths that depend
 * on what follows (IPv4 tot_len, IPv6 payload_len, UDP length) are filled
 * in by np_pktb_finish() unless the fixture set them by hand.
 */
#ifndef NP_PKTB_H
#define NP_PKTB_H

#include <stddef.h>
#include <stdint.h>

#define NP_PKTB_MAX 2048

#define NP_ETH_P_IP 0x0800
#define NP_ETH_P_ARP 0x0806
#define NP_ETH_P_8021Q 0x8100
#define NP_ETH_P_8021AD 0x88a8
#define NP_ETH_P_IPV6 0x86dd

struct np_pktb {
	uint8_t buf[NP_PKTB_MAX];
	size_t len;
	/* Offsets of the last IP header and UDP header, or -1. */
	long ip4, ip6, udp;
	int keep_lengths; /* np_pktb_finish() leaves the length fields alone */
};

void np_pktb_init(struct np_pktb *b);
/* Append raw bytes (data may be NULL for zeros); returns their offset. */
size_t np_pktb_put(struct np_pktb *b, const void *data, size_t n);
/* Append n bytes of a repeating pattern. */
size_t np_pktb_fill(struct np_pktb *b, size_t n, uint8_t byte);

size_t np_pktb_eth(struct np_pktb *b, uint16_t proto);
/* A VLAN tag whose encapsulated ethertype is proto. */
size_t np_pktb_vlan(struct np_pktb *b, uint16_t vid, uint16_t proto);
/* IPv4 without options (IHL 5); saddr/daddr as dotted text. */
size_t np_pktb_ip4(struct np_pktb *b, uint8_t proto, const char *saddr, const char *daddr);
size_t np_pktb_ip6(struct np_pktb *b, uint8_t nexthdr, const char *saddr, const char *daddr);
/*
 * An IPv6 extension header of total length len bytes (a multiple of 8, or
 * of 4 for AH); hdrlen is derived from the type.
 */
size_t np_pktb_ip6_ext(struct np_pktb *b, uint8_t type, uint8_t nexthdr, size_t len);
/* An IPv6 fragment header: offset in 8-octet units, more: M flag. */
size_t np_pktb_ip6_frag(struct np_pktb *b, uint8_t nexthdr, uint16_t offset, int more);
size_t np_pktb_tcp(struct np_pktb *b, uint16_t sport, uint16_t dport);
size_t np_pktb_udp(struct np_pktb *b, uint16_t sport, uint16_t dport);
/* ICMP echo request (8 bytes, v4) or ICMPv6 echo request (8 bytes). */
size_t np_pktb_icmp(struct np_pktb *b, int v6);

/* An Ethernet header with the given addresses (6 bytes each). */
size_t np_pktb_eth_addr(struct np_pktb *b, const uint8_t *dst, const uint8_t *src, uint16_t proto);
/* ARP for IPv4 over Ethernet (28 bytes); addresses as bytes (tha NULL: zero). */
size_t np_pktb_arp(struct np_pktb *b, uint16_t op, const uint8_t *sha, const char *spa,
		   const uint8_t *tha, const char *tpa);
/*
 * An ICMPv6 neighbour solicitation (24 bytes) for target, with a source
 * link-layer address option (8 more) when slla is not NULL. Its checksum
 * is set by np_pktb_icmp6_csum() after np_pktb_finish().
 */
size_t np_pktb_ns(struct np_pktb *b, const char *target, const uint8_t *slla);
/* Set the ICMPv6 checksum of the message at off (to the end) under b->ip6. */
void np_pktb_icmp6_csum(struct np_pktb *b, size_t off);
/*
 * The Internet checksum (RFC 1071) of n bytes added to sum (a partial sum,
 * e.g. of a pseudo-header): the complemented 16-bit value in host order.
 */
uint16_t np_pktb_csum_add(const uint8_t *p, size_t n, uint32_t sum);

/* Fill in tot_len / payload_len / UDP length from the bytes appended. */
void np_pktb_finish(struct np_pktb *b);

/* Store a big-endian 16-bit value at off. */
void np_pktb_be16(struct np_pktb *b, size_t off, uint16_t v);

#endif /* NP_PKTB_H */
