/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Strict parsers for everything a user types: CIDRs, numbers, XDP modes,
 * interface names. Each returns 0 or -EINVAL and, on failure, writes one
 * message into err that names the input and says what is allowed.
 */
#ifndef NP_INPUT_H
#define NP_INPUT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "nodepath/abi.h"

/* An IPv4 or IPv6 prefix in network byte order, host bits all zero. */
struct np_cidr {
	int family;	  /* AF_INET or AF_INET6 */
	uint8_t addr[16]; /* IPv4 uses the first 4 bytes */
	uint8_t prefixlen;
};

/* Longest text a CIDR formats to: an IPv6 address, '/', 3 digits, NUL. */
#define NP_CIDR_STRLEN (46 + 4)

/* Bytes of the address: 4 for IPv4, 16 for IPv6. */
static inline size_t np_cidr_addr_len(const struct np_cidr *c)
{
	return c->family == AF_INET6 ? 16 : 4;
}

/*
 * Parse "ADDR/LEN" with inet_pton semantics only: dotted-quad IPv4 without
 * leading zeros, no shorthand (10.1), no hex, no trailing or embedded
 * junk, an explicit decimal prefix length in range, no host bits set, no
 * IPv4-mapped IPv6 form, no zone ids.
 */
int np_parse_cidr(const char *s, struct np_cidr *out, char *err, size_t errlen);
/* "198.18.0.0/24" / "fd00:18::/64"; 0, or -ENOSPC when buf is too small. */
int np_format_cidr(const struct np_cidr *c, char *buf, size_t len);
/* True when prefix a contains address b->addr (a->prefixlen bits match). */
int np_cidr_contains(const struct np_cidr *a, const struct np_cidr *b);
/* Order: IPv4 before IPv6, then by address, then by prefix length. */
int np_cidr_cmp(const struct np_cidr *a, const struct np_cidr *b);

/*
 * A decimal number in [min, max]: digits only (no sign, no space, no 0x,
 * no leading zero unless the number is 0), nothing after it. `what` names
 * the input in the message ("--rate").
 */
int np_parse_u64(const char *what, const char *s, uint64_t min, uint64_t max, uint64_t *out,
		 char *err, size_t errlen);
int np_parse_u32(const char *what, const char *s, uint32_t min, uint32_t max, uint32_t *out,
		 char *err, size_t errlen);

/* "native" | "generic" | "off". */
int np_parse_xdp_mode(const char *s, enum np_xdp_mode *out, char *err, size_t errlen);
/* The text of a mode ("native", "generic", "off", "unknown"). */
const char *np_xdp_mode_name(unsigned int mode);

/*
 * An interface name the kernel would accept: 1..15 bytes, not "." or "..",
 * without '/', ':' or whitespace, printable ASCII.
 */
int np_check_ifname(const char *s, char *err, size_t errlen);

#endif /* NP_INPUT_H */
