// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the CLI's input parsers (control/input.c) and the
 * service address parsers built on them (control/service.c: --vip, backend
 * ADDR:PORT[,weight=W], names and keywords) and control/endpoint.c
 * (endpoint --ip, endpoint names, up --pod-cidr).
 * fuzz-sut: control/input.c control/service.c control/endpoint.c
 *
 * Input: a selector byte, then the text (copied NUL-terminated into an
 * exactly sized heap buffer). Properties:
 *  - a rejected input leaves a non-empty message and the output untouched;
 *  - an accepted input prints (np_format_cidr, np_svc_addr_str, the name
 *    tables, %llu) to a canonical text that parses back to the same value
 *    and prints the same again; for numbers and keywords the accepted text
 *    is already canonical;
 *  - accepted values keep the documented limits (no host bits, ranges).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "endpoint.h"
#include "input.h"
#include "maglev.h"
#include "service.h"
#include "fuzz/np_fuzz.h"

#define ERRLEN 512

enum {
	SEL_CIDR,
	SEL_U64,
	SEL_U32_PORT,
	SEL_XDP_MODE,
	SEL_IFNAME,
	SEL_SVC_NAME,
	SEL_VIP,
	SEL_BACKEND,
	SEL_KEYWORD,
	SEL_EP_IPS,
	SEL_EP_NAME,
	SEL_POD_CIDR,
	SEL__MAX,
};

static void check_cidr(const char *s)
{
	struct np_cidr c, d, m;
	char err[ERRLEN] = "", t1[NP_CIDR_STRLEN], t2[NP_CIDR_STRLEN];
	size_t alen;

	memset(&c, 0xa5, sizeof(c));
	m = c;
	if (np_parse_cidr(s, &c, err, sizeof(err))) {
		NP_CHECK(err[0] && !memcmp(&c, &m, sizeof(c)));
		return;
	}
	NP_CHECK(c.family == AF_INET || c.family == AF_INET6);
	alen = np_cidr_addr_len(&c);
	NP_CHECK(c.prefixlen <= 8 * alen);
	/* no host bits, nothing past the address */
	m = c;
	for (size_t i = 0; i < 16; i++) {
		unsigned int bits = c.prefixlen > 8 * i ? c.prefixlen - 8 * i : 0;

		if (i >= alen)
			NP_CHECK(!c.addr[i]);
		else if (bits < 8)
			NP_CHECK(!(c.addr[i] & (uint8_t) ~(0xff00 >> bits)));
	}
	NP_CHECK(np_cidr_contains(&c, &m));
	NP_CHECK(np_format_cidr(&c, t1, sizeof(t1)) == 0);
	NP_CHECK(np_parse_cidr(t1, &d, err, sizeof(err)) == 0);
	NP_CHECK(d.family == c.family && np_cidr_cmp(&c, &d) == 0);
	NP_CHECK(!memcmp(c.addr, d.addr, sizeof(c.addr)));
	NP_CHECK(np_format_cidr(&d, t2, sizeof(t2)) == 0 && !strcmp(t1, t2));
}

static void check_number(const char *s, uint64_t min, uint64_t max)
{
	char err[ERRLEN] = "", t[32];
	uint64_t v = 7, w;
	uint32_t v32 = 7;

	if (max <= UINT32_MAX) {
		if (np_parse_u32("--x", s, (uint32_t)min, (uint32_t)max, &v32, err, sizeof(err))) {
			NP_CHECK(err[0] && v32 == 7);
			return;
		}
		v = v32;
	} else if (np_parse_u64("--x", s, min, max, &v, err, sizeof(err))) {
		NP_CHECK(err[0] && v == 7);
		return;
	}
	NP_CHECK(v >= min && v <= max);
	snprintf(t, sizeof(t), "%llu", (unsigned long long)v);
	NP_CHECK(!strcmp(t, s));
	NP_CHECK(!np_parse_u64("--x", t, min, max, &w, err, sizeof(err)) && w == v);
}

static void check_xdp_mode(const char *s)
{
	char err[ERRLEN] = "";
	enum np_xdp_mode m;

	if (np_parse_xdp_mode(s, &m, err, sizeof(err))) {
		NP_CHECK(err[0]);
		return;
	}
	NP_CHECK(!strcmp(np_xdp_mode_name(m), s));
}

static void check_ifname(const char *s)
{
	char err[ERRLEN] = "";
	size_t n = strlen(s);

	if (np_check_ifname(s, err, sizeof(err))) {
		NP_CHECK(err[0]);
		return;
	}
	NP_CHECK(n >= 1 && n <= 15 && strcmp(s, ".") && strcmp(s, ".."));
	for (size_t i = 0; i < n; i++)
		NP_CHECK(s[i] > 0x20 && s[i] < 0x7f && s[i] != '/' && s[i] != ':');
}

static void check_svc_name(const char *s)
{
	char err[ERRLEN] = "";
	size_t n = strlen(s);

	if (np_svc_check_name(s, err, sizeof(err))) {
		NP_CHECK(err[0]);
		return;
	}
	NP_CHECK(n >= 1 && n <= NP_SVC_NAME_MAX);
	NP_CHECK(s[0] != '.' && s[0] != '-' && s[n - 1] != '.' && s[n - 1] != '-');
	for (size_t i = 0; i < n; i++)
		NP_CHECK((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
			 s[i] == '.' || s[i] == '-');
}

static void check_addr(const struct np_svc_addr *a)
{
	NP_CHECK(a->family == NP_AF_INET || a->family == NP_AF_INET6);
	NP_CHECK(a->port >= 1);
	if (a->family == NP_AF_INET)
		for (size_t i = 4; i < 16; i++)
			NP_CHECK(!a->addr[i]);
}

static void check_vip(const char *s)
{
	char err[ERRLEN] = "", t1[NP_SVC_ADDRSTRLEN], t2[NP_SVC_ADDRSTRLEN];
	struct np_svc_addr a, b;
	__u8 p = 0, q = 0;

	if (np_svc_parse_vip(s, &a, &p, err, sizeof(err))) {
		NP_CHECK(err[0]);
		return;
	}
	check_addr(&a);
	NP_CHECK(p == IPPROTO_TCP || p == IPPROTO_UDP);
	np_svc_addr_str(&a, p, t1, sizeof(t1));
	NP_CHECK(np_svc_parse_vip(t1, &b, &q, err, sizeof(err)) == 0);
	NP_CHECK(np_svc_addr_eq(&a, &b) && p == q);
	np_svc_addr_str(&b, q, t2, sizeof(t2));
	NP_CHECK(!strcmp(t1, t2));
}

static void check_backend(const char *s)
{
	char err[ERRLEN] = "", a[NP_SVC_ADDRSTRLEN], t1[96], t2[96];
	struct np_svc_backend b, c;

	if (np_svc_parse_backend(s, &b, err, sizeof(err))) {
		NP_CHECK(err[0]);
		return;
	}
	check_addr(&b.a);
	NP_CHECK(b.weight >= 1 && b.weight <= NP_WEIGHT_MAX);
	NP_CHECK(b.state == NP_BE_ACTIVE);
	np_svc_addr_str(&b.a, 0, a, sizeof(a));
	snprintf(t1, sizeof(t1), "%s,weight=%u", a, b.weight);
	NP_CHECK(np_svc_parse_backend(t1, &c, err, sizeof(err)) == 0);
	NP_CHECK(np_svc_addr_eq(&b.a, &c.a) && b.weight == c.weight);
	np_svc_addr_str(&c.a, 0, a, sizeof(a));
	snprintf(t2, sizeof(t2), "%s,weight=%u", a, c.weight);
	NP_CHECK(!strcmp(t1, t2));
	/* the default weight is 1 */
	NP_CHECK(np_svc_parse_backend(a, &c, err, sizeof(err)) == 0 && c.weight == 1);
}

/* One keyword table through its parser and its name function. */
static void check_keyword(const char *s)
{
	char err[ERRLEN] = "";
	bool local;
	__u8 v;

	if (!np_svc_parse_type(s, &v, err, sizeof(err)))
		NP_CHECK(!strcmp(np_svc_type_name(v), s));
	if (!np_svc_parse_algo(s, &v, err, sizeof(err)))
		NP_CHECK(!strcmp(np_svc_algo_name(v), s));
	if (!np_svc_parse_state(s, &v, err, sizeof(err)))
		NP_CHECK(!strcmp(np_be_state_name(v), s));
	if (!np_svc_parse_mode(s, &v, err, sizeof(err)))
		NP_CHECK(v == NP_SVC_MODE_SNAT || v == NP_SVC_MODE_DSR);
	if (!np_svc_parse_etp(s, &local, err, sizeof(err)))
		NP_CHECK(!strcmp(local ? "local" : "cluster", s));
	err[0] = '\0';
	NP_CHECK(np_svc_parse_type(s, &v, err, sizeof(err)) == 0 || err[0]);
}

static void ep_ips_str(const struct np_ep_addrs *a, char *buf, size_t len)
{
	char t4[INET_ADDRSTRLEN] = "", t6[INET6_ADDRSTRLEN] = "";

	if (a->has4)
		inet_ntop(AF_INET, &a->ip4, t4, sizeof(t4));
	if (a->has6)
		inet_ntop(AF_INET6, &a->ip6, t6, sizeof(t6));
	snprintf(buf, len, "%s%s%s", t4, a->has4 && a->has6 ? "," : "", t6);
}

static void check_ep_ips(const char *s)
{
	char err[ERRLEN] = "", t1[2 * INET6_ADDRSTRLEN], t2[2 * INET6_ADDRSTRLEN];
	struct np_ep_addrs a, b;

	if (np_ep_parse_ips(s, &a, err, sizeof(err))) {
		NP_CHECK(err[0] && !a.has4 && !a.has6);
		return;
	}
	NP_CHECK(a.has4 || a.has6);
	ep_ips_str(&a, t1, sizeof(t1));
	NP_CHECK(np_ep_parse_ips(t1, &b, err, sizeof(err)) == 0);
	NP_CHECK(a.has4 == b.has4 && a.has6 == b.has6);
	NP_CHECK(!a.has4 || !memcmp(&a.ip4, &b.ip4, sizeof(a.ip4)));
	NP_CHECK(!a.has6 || !memcmp(&a.ip6, &b.ip6, sizeof(a.ip6)));
	ep_ips_str(&b, t2, sizeof(t2));
	NP_CHECK(!strcmp(t1, t2));
}

static void check_ep_name(const char *s)
{
	char err[ERRLEN] = "";
	size_t n = strlen(s);

	if (np_ep_check_name(s, err, sizeof(err))) {
		NP_CHECK(err[0]);
		return;
	}
	NP_CHECK(n >= 1 && n <= 15 && s[0] != '.' && s[0] != '-');
	/* it names a device: the interface name rules hold too */
	NP_CHECK(np_check_ifname(s, err, sizeof(err)) == 0);
}

/* The pod ranges of cfg, and their gateways: the first host address. */
static void check_pod_cfg(const struct np_node_cfg *c)
{
	static const __u8 zero[16];
	__u8 gw[16];

	if (c->pod_len4) {
		NP_CHECK(c->pod_len4 >= 8 && c->pod_len4 <= 30);
		memcpy(gw, c->pod_net4, 4);
		gw[3] |= 1;
		NP_CHECK(!(c->pod_net4[3] & 1) && !memcmp(gw, c->pod_gw4, 4));
	} else {
		NP_CHECK(!memcmp(c->pod_net4, zero, 4) && !memcmp(c->pod_gw4, zero, 4));
	}
	if (c->pod_len6) {
		NP_CHECK(c->pod_len6 >= 64 && c->pod_len6 <= 126);
		memcpy(gw, c->pod_net6, 16);
		gw[15] |= 1;
		NP_CHECK(!(c->pod_net6[15] & 1) && !memcmp(gw, c->pod_gw6, 16));
	} else {
		NP_CHECK(!memcmp(c->pod_net6, zero, 16) && !memcmp(c->pod_gw6, zero, 16));
	}
}

static void check_pod_cidr(const char *s)
{
	char err[ERRLEN] = "", t1[2 * NP_CIDR_STRLEN + 4], t2[2 * NP_CIDR_STRLEN + 4];
	struct np_node_cfg a, b;

	memset(&a, 0xa5, sizeof(a));
	if (np_ep_parse_pod_cidr(s, &a, err, sizeof(err))) {
		NP_CHECK(err[0] && !a.pod_len4 && !a.pod_len6);
		check_pod_cfg(&a);
		return;
	}
	NP_CHECK(a.pod_len4 || a.pod_len6);
	check_pod_cfg(&a);
	np_ep_format_pod_cidr(&a, t1, sizeof(t1));
	memset(&b, 0, sizeof(b));
	NP_CHECK(np_ep_parse_pod_cidr(t1, &b, err, sizeof(err)) == 0);
	NP_CHECK(a.pod_len4 == b.pod_len4 && a.pod_len6 == b.pod_len6);
	NP_CHECK(!memcmp(a.pod_net4, b.pod_net4, 4) && !memcmp(a.pod_gw4, b.pod_gw4, 4));
	NP_CHECK(!memcmp(a.pod_net6, b.pod_net6, 16) && !memcmp(a.pod_gw6, b.pod_gw6, 16));
	np_ep_format_pod_cidr(&b, t2, sizeof(t2));
	NP_CHECK(!strcmp(t1, t2));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	if (size < 1 || size > 4096)
		return 0;
	s = malloc(size);
	if (!s)
		return 0;
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';

	switch (data[0] % SEL__MAX) {
	case SEL_CIDR:
		check_cidr(s);
		break;
	case SEL_U64:
		check_number(s, 0, UINT64_MAX);
		break;
	case SEL_U32_PORT:
		check_number(s, 1, 65535);
		break;
	case SEL_XDP_MODE:
		check_xdp_mode(s);
		break;
	case SEL_IFNAME:
		check_ifname(s);
		break;
	case SEL_SVC_NAME:
		check_svc_name(s);
		break;
	case SEL_VIP:
		check_vip(s);
		break;
	case SEL_BACKEND:
		check_backend(s);
		break;
	case SEL_KEYWORD:
		check_keyword(s);
		break;
	case SEL_EP_IPS:
		check_ep_ips(s);
		break;
	case SEL_EP_NAME:
		check_ep_name(s);
		break;
	case SEL_POD_CIDR:
		check_pod_cidr(s);
		break;
	}
	free(s);
	return 0;
}
