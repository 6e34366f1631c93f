// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the service record parsers of control/service.c
 * (np_svc_record_parse_meta, np_svc_record_parse_backend), which `up` runs
 * on the JSON text that `down` left under <pin_dir>/svc/<name>/ (and which
 * anybody with access to bpffs can change).
 * fuzz-sut: control/service.c control/input.c control/record.c
 *
 * Input: a selector byte (modulo 3: a meta record, a backend record, or a
 * JSON array [meta, backend...] checked as one service), then the JSON text. Properties: never crashes; a rejection carries a message; an
 * accepted record written again by np_svc_record_meta() /
 * np_svc_record_backend() parses back to the same service or backend, and
 * writes the same text again.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "input.h"
#include "maglev.h"
#include "service.h"
#include "fuzz/np_fuzz.h"

#define ERRLEN 512

static void same_meta(const struct np_svc_spec *a, const struct np_svc_spec *b)
{
	NP_CHECK(a->id == b->id && a->type == b->type && a->algo == b->algo);
	NP_CHECK(a->mode == b->mode && a->proto == b->proto && a->scope == b->scope);
	NP_CHECK(np_svc_addr_eq(&a->vip, &b->vip));
	NP_CHECK(a->affinity_s == b->affinity_s && a->etp_local == b->etp_local);
	NP_CHECK(a->afxdp == b->afxdp && a->n_src == b->n_src);
	for (size_t i = 0; i < a->n_src; i++)
		NP_CHECK(np_cidr_cmp(&a->src[i], &b->src[i]) == 0);
}

/* Write the parsed value back as JSON text (malloc'ed) through the writer. */
static char *meta_text(const struct np_svc_spec *s)
{
	struct json_object *o = np_svc_record_meta(s);
	char *t = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));

	json_object_put(o);
	return t;
}

static char *backend_text(const struct np_svc_backend *b)
{
	struct json_object *o = np_svc_record_backend(b);
	char *t = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));

	json_object_put(o);
	return t;
}

static void check_meta(struct json_object *o)
{
	struct np_svc_spec s, t;
	char err[ERRLEN] = "", *t1, *t2;
	struct json_object *p;

	memset(&s, 0, sizeof(s));
	if (np_svc_record_parse_meta(o, &s, err, sizeof(err))) {
		NP_CHECK(err[0]);
		return;
	}
	NP_CHECK(s.id >= 1 && s.id < NP_SVC_MAX);
	NP_CHECK(s.type <= NP_SVC_T_EXTERNALIP && s.algo <= 1 && s.mode <= NP_SVC_MODE_DSR);
	NP_CHECK(s.affinity_s <= NP_SVC_AFFINITY_MAX && s.n_src <= NP_SVC_SRC_RANGES_MAX);
	t1 = meta_text(&s);
	NP_CHECK(t1);
	p = json_tokener_parse(t1);
	NP_CHECK(p);
	memset(&t, 0, sizeof(t));
	NP_CHECK(np_svc_record_parse_meta(p, &t, err, sizeof(err)) == 0);
	same_meta(&s, &t);
	t2 = meta_text(&t);
	NP_CHECK(t2 && !strcmp(t1, t2));
	json_object_put(p);
	free(t2);
	free(t1);
}

static void check_backend(struct json_object *o)
{
	struct np_svc_backend b, c;
	char err[ERRLEN] = "", *t1, *t2;
	struct json_object *p;

	memset(&b, 0, sizeof(b));
	if (np_svc_record_parse_backend(o, &b, err, sizeof(err))) {
		NP_CHECK(err[0]);
		return;
	}
	NP_CHECK(b.weight >= 1 && b.weight <= NP_WEIGHT_MAX && b.state <= NP_BE_MAINTENANCE);
	NP_CHECK(b.a.port >= 1);
	t1 = backend_text(&b);
	NP_CHECK(t1);
	p = json_tokener_parse(t1);
	NP_CHECK(p);
	memset(&c, 0, sizeof(c));
	NP_CHECK(np_svc_record_parse_backend(p, &c, err, sizeof(err)) == 0);
	NP_CHECK(np_svc_addr_eq(&b.a, &c.a) && b.weight == c.weight && b.state == c.state);
	t2 = backend_text(&c);
	NP_CHECK(t2 && !strcmp(t1, t2));
	json_object_put(p);
	free(t2);
	free(t1);
}

/*
 * What `up` does with the records of one service: its meta record, then its
 * backends' records, then the whole service checked against a Maglev table
 * of maglev_size slots (np_svc_check_spec). Checked: 0, -EINVAL or -E2BIG
 * with a message, and an accepted service keeps the rules the check states.
 */
static void check_service(struct json_object *arr, __u32 maglev_size)
{
	static const __u8 zero[16];
	char err[ERRLEN] = "";
	struct np_svc_spec s;
	size_t n;
	int r;

	if (!json_object_is_type(arr, json_type_array) || !json_object_array_length(arr))
		return;
	n = json_object_array_length(arr) - 1;
	memset(&s, 0, sizeof(s));
	if (np_svc_record_parse_meta(json_object_array_get_idx(arr, 0), &s, err, sizeof(err)))
		return;
	s.be = calloc(n ? n : 1, sizeof(*s.be));
	NP_CHECK(s.be);
	for (size_t i = 0; i < n; i++)
		if (np_svc_record_parse_backend(json_object_array_get_idx(arr, i + 1),
						&s.be[s.n_be], err, sizeof(err)) == 0)
			s.n_be++;
	err[0] = '\0';
	r = np_svc_check_spec(&s, maglev_size, err, sizeof(err));
	if (r) {
		NP_CHECK((r == -EINVAL || r == -E2BIG) && err[0]);
		np_svc_spec_free(&s);
		return;
	}
	NP_CHECK(s.n_be <= maglev_size);
	NP_CHECK((s.type == NP_SVC_T_NODEPORT) == !memcmp(s.vip.addr, zero, 16));
	NP_CHECK(s.scope ==
		 (s.type == NP_SVC_T_NODEPORT ? NP_SVC_SCOPE_NODEPORT : NP_SVC_SCOPE_VIP));
	for (size_t i = 0; i < s.n_be; i++) {
		NP_CHECK(s.be[i].a.family == s.vip.family);
		NP_CHECK(memcmp(s.be[i].a.addr, zero, 16));
		for (size_t j = 0; j < i; j++)
			NP_CHECK(!np_svc_addr_eq(&s.be[i].a, &s.be[j].a));
	}
	np_svc_spec_free(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_object *o;
	char *txt;

	/* a record is a symlink target: at most PATH_MAX - 1 bytes */
	if (size < 1 || size > 4096)
		return 0;
	txt = malloc(size);
	if (!txt)
		return 0;
	memcpy(txt, data + 1, size - 1);
	txt[size - 1] = '\0';
	o = json_tokener_parse(txt);
	switch (data[0] % 3) {
	case 0:
		check_meta(o);
		break;
	case 1:
		check_backend(o);
		break;
	case 2:
		/* a small table (7) makes -E2BIG reachable; 251 is the smallest `up` takes */
		check_service(o, data[0] & 0x80 ? 251 : 7);
		break;
	}
	json_object_put(o);
	free(txt);
	return 0;
}
