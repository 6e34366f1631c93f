// SPDX-License-Identifier: GPL-2.0
/*
 * Strict user-input parsers. inet_pton only (inet_aton accepts 010.0.0.1,
 * 10.1, 0x0a000001 and trailing spaces, see the test plan), strtoull with
 * an end pointer and explicit ranges, and messages that quote the input.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "input.h"

#define CIDR_MAX_TEXT 64

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* A printable copy of untrusted text: at most 64 bytes, others as \xNN. */
static const char *show(const char *s, char *buf, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; s[i] && i < CIDR_MAX_TEXT && o + 5 < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
			buf[o++] = (char)c;
		else
			o += (size_t)snprintf(buf + o, len - o, "\\x%02x", c);
	}
	if (s[0] && strlen(s) > CIDR_MAX_TEXT && o + 4 < len) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}

static int all_digits(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

static void mask_prefix(uint8_t *addr, size_t alen, unsigned int plen)
{
	for (size_t i = 0; i < alen; i++) {
		unsigned int bits = plen > 8 * i ? plen - 8 * i : 0;

		if (bits >= 8)
			continue;
		addr[i] &= (uint8_t)(0xff00 >> bits);
	}
}

int np_format_cidr(const struct np_cidr *c, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];
	int n;

	if (!inet_ntop(c->family, c->addr, a, sizeof(a)))
		return -errno;
	n = snprintf(buf, len, "%s/%u", a, c->prefixlen);
	if (n < 0 || (size_t)n >= len)
		return -ENOSPC;
	return 0;
}

int np_parse_cidr(const char *s, struct np_cidr *out, char *err, size_t errlen)
{
	char txt[4 * CIDR_MAX_TEXT + 8], addr[CIDR_MAX_TEXT + 1];
	const char *slash, *plen_s;
	unsigned int maxlen;
	struct np_cidr c;
	unsigned long plen;
	size_t n;
	int v6;

	if (!s || !*s)
		return fail(err, errlen,
			    "empty CIDR (write ADDR/LEN, e.g. 198.18.0.0/24 or fd00:18::/64)");
	show(s, txt, sizeof(txt));
	n = strlen(s);
	if (n > CIDR_MAX_TEXT)
		return fail(err, errlen, "CIDR \"%s\" is too long (at most %d bytes)", txt,
			    CIDR_MAX_TEXT);
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch <= 0x20 || ch >= 0x7f)
			return fail(err, errlen,
				    "CIDR \"%s\" contains a space, control or non-ASCII byte at "
				    "offset %zu (write ADDR/LEN in plain ASCII)",
				    txt, i);
	}
	if (strchr(s, '%'))
		return fail(
			err, errlen,
			"CIDR \"%s\" carries a zone id; zone ids are not allowed (write ADDR/LEN)",
			txt);
	v6 = strchr(s, ':') != NULL;
	maxlen = v6 ? 128 : 32;
	slash = strchr(s, '/');
	if (!slash)
		return fail(err, errlen,
			    "CIDR \"%s\" has no prefix length (write %s/%u for a single address)",
			    txt, txt, maxlen);
	if (strchr(slash + 1, '/'))
		return fail(err, errlen, "CIDR \"%s\" has more than one '/'", txt);
	plen_s = slash + 1;
	if (!*plen_s)
		return fail(err, errlen,
			    "CIDR \"%s\" has an empty prefix length after '/' (allowed: 0..%u)",
			    txt, maxlen);
	if (!all_digits(plen_s))
		return fail(err, errlen,
			    "invalid prefix length \"%s\" in \"%s\": not a decimal number "
			    "(allowed: 0..%u)",
			    plen_s, txt, maxlen);
	if (plen_s[0] == '0' && plen_s[1])
		return fail(err, errlen,
			    "invalid prefix length \"%s\" in \"%s\": leading zero (allowed: 0..%u)",
			    plen_s, txt, maxlen);
	if (strlen(plen_s) > 3 || (plen = strtoul(plen_s, NULL, 10)) > maxlen)
		return fail(err, errlen, "invalid prefix length %s in \"%s\": %s allows 0..%u",
			    plen_s, txt, v6 ? "IPv6" : "IPv4", maxlen);
	n = (size_t)(slash - s);
	if (n == 0)
		return fail(err, errlen, "CIDR \"%s\" has no address before '/'", txt);
	memcpy(addr, s, n);
	addr[n] = '\0';

	memset(&c, 0, sizeof(c));
	c.family = v6 ? AF_INET6 : AF_INET;
	c.prefixlen = (uint8_t)plen;
	if (inet_pton(c.family, addr, c.addr) != 1) {
		if (v6)
			return fail(err, errlen,
				    "\"%s\" in \"%s\" is not an IPv6 address (e.g. fd00:18::)",
				    addr, txt);
		return fail(err, errlen,
			    "\"%s\" in \"%s\" is not an IPv4 address: write four decimal numbers "
			    "0-255 without leading zeros (e.g. 198.18.0.0)",
			    addr, txt);
	}
	if (v6) {
		static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };

		if (!memcmp(c.addr, mapped, sizeof(mapped))) {
			char v4[INET_ADDRSTRLEN];

			inet_ntop(AF_INET, c.addr + 12, v4, sizeof(v4));
			if (plen >= 96)
				return fail(err, errlen,
					    "\"%s\" is an IPv4-mapped IPv6 prefix; write the IPv4 "
					    "form (%s/%lu)",
					    txt, v4, plen - 96);
			return fail(err, errlen,
				    "\"%s\" is an IPv4-mapped IPv6 prefix; write the IPv4 form",
				    txt);
		}
	}
	{
		struct np_cidr m = c;
		char fixed[NP_CIDR_STRLEN];

		mask_prefix(m.addr, np_cidr_addr_len(&m), m.prefixlen);
		if (memcmp(m.addr, c.addr, sizeof(c.addr))) {
			np_format_cidr(&m, fixed, sizeof(fixed));
			return fail(err, errlen, "host bits set in %s; did you mean %s?", txt,
				    fixed);
		}
	}
	*out = c;
	return 0;
}

int np_cidr_contains(const struct np_cidr *a, const struct np_cidr *b)
{
	uint8_t x[16];

	if (a->family != b->family)
		return 0;
	memcpy(x, b->addr, sizeof(x));
	mask_prefix(x, np_cidr_addr_len(a), a->prefixlen);
	return !memcmp(x, a->addr, np_cidr_addr_len(a));
}

int np_cidr_cmp(const struct np_cidr *a, const struct np_cidr *b)
{
	int r;

	if (a->family != b->family)
		return a->family == AF_INET ? -1 : 1;
	r = memcmp(a->addr, b->addr, np_cidr_addr_len(a));
	if (r)
		return r < 0 ? -1 : 1;
	return (int)a->prefixlen - (int)b->prefixlen;
}

int np_parse_u64(const char *what, const char *s, uint64_t min, uint64_t max, uint64_t *out,
		 char *err, size_t errlen)
{
	char txt[4 * CIDR_MAX_TEXT + 8];
	unsigned long long v;
	char *end;

	if (!s || !*s)
		return fail(err, errlen, "%s: empty value (allowed: %llu..%llu)", what,
			    (unsigned long long)min, (unsigned long long)max);
	show(s, txt, sizeof(txt));
	if (!all_digits(s))
		return fail(err, errlen, "%s \"%s\" is not a decimal number (allowed: %llu..%llu)",
			    what, txt, (unsigned long long)min, (unsigned long long)max);
	if (s[0] == '0' && s[1])
		return fail(err, errlen, "%s \"%s\" has a leading zero (allowed: %llu..%llu)", what,
			    txt, (unsigned long long)min, (unsigned long long)max);
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end)
		return fail(err, errlen, "%s \"%s\" is not a decimal number (allowed: %llu..%llu)",
			    what, txt, (unsigned long long)min, (unsigned long long)max);
	if (errno == ERANGE || v < min || v > max)
		return fail(err, errlen, "%s %s is out of range (allowed: %llu..%llu)", what, txt,
			    (unsigned long long)min, (unsigned long long)max);
	*out = v;
	return 0;
}

int np_parse_u32(const char *what, const char *s, uint32_t min, uint32_t max, uint32_t *out,
		 char *err, size_t errlen)
{
	uint64_t v;
	int ret;

	ret = np_parse_u64(what, s, min, max, &v, err, errlen);
	if (!ret)
		*out = (uint32_t)v;
	return ret;
}

static const char *const mode_names[] = {
	[NP_XDP_OFF] = "off",
	[NP_XDP_NATIVE] = "native",
	[NP_XDP_GENERIC] = "generic",
};

const char *np_xdp_mode_name(unsigned int mode)
{
	if (mode < sizeof(mode_names) / sizeof(mode_names[0]))
		return mode_names[mode];
	return "unknown";
}

int np_parse_xdp_mode(const char *s, enum np_xdp_mode *out, char *err, size_t errlen)
{
	char txt[4 * CIDR_MAX_TEXT + 8];

	for (unsigned int m = 0; s && m < sizeof(mode_names) / sizeof(mode_names[0]); m++) {
		if (!strcmp(s, mode_names[m])) {
			*out = (enum np_xdp_mode)m;
			return 0;
		}
	}
	return fail(err, errlen, "XDP mode \"%s\" is not one of: native, generic, off",
		    s ? show(s, txt, sizeof(txt)) : "");
}

int np_check_ifname(const char *s, char *err, size_t errlen)
{
	char txt[4 * CIDR_MAX_TEXT + 8];
	size_t n = s ? strlen(s) : 0;

	if (n == 0)
		return fail(err, errlen, "interface name is empty (allowed: 1..15 bytes)");
	show(s, txt, sizeof(txt));
	if (n > 15)
		return fail(err, errlen,
			    "interface name \"%s\" is %zu bytes long (allowed: 1..15 bytes)", txt,
			    n);
	if (!strcmp(s, ".") || !strcmp(s, ".."))
		return fail(err, errlen, "interface name \"%s\" is not allowed", txt);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= 0x20 || c >= 0x7f || c == '/' || c == ':')
			return fail(err, errlen,
				    "interface name \"%s\" contains a '/', ':', space, control or "
				    "non-ASCII byte at offset %zu",
				    txt, i);
	}
	return 0;
}
