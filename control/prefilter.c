// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "log.h"
#include "prefilter.h"
#include "stats.h"

struct pf_maps {
	int v4, v6, hits, tb;
	__u32 max_v4, max_v6, max_ids;
};

static void maps_close(struct pf_maps *m)
{
	int *fds[] = { &m->v4, &m->v6, &m->hits, &m->tb };

	for (size_t i = 0; i < 4; i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

static int max_entries(int fd, __u32 *out)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_map_get_info_by_fd(fd, &info, &len))
		return -errno;
	*out = info.max_entries;
	return 0;
}

static int maps_open(struct np_node *n, struct pf_maps *m)
{
	const char *names[] = { NP_MAP_PF_V4, NP_MAP_PF_V6, NP_MAP_PF_HITS, NP_MAP_PF_TB };
	int *fds[] = { &m->v4, &m->v6, &m->hits, &m->tb };
	int err = 0;

	m->v4 = m->v6 = m->hits = m->tb = -1;
	for (size_t i = 0; i < 4; i++) {
		*fds[i] = n->pin_exists ? np_node_map_open(n, names[i]) : -ENOENT;
		if (*fds[i] == -ENOENT) {
			np_err("node %s is not up: no %s in %s (run: nodepath%s%s up --dev IF)",
			       n->name, names[i], n->pin_dir, n->is_ns ? " --node " : "",
			       n->is_ns ? n->name : "");
			err = -ENOTCONN;
			goto fail;
		}
		if (*fds[i] < 0) {
			err = *fds[i];
			np_err("open %s/%s: %s", n->pin_dir, names[i], strerror(-err));
			goto fail;
		}
	}
	if ((err = max_entries(m->v4, &m->max_v4)) || (err = max_entries(m->v6, &m->max_v6)) ||
	    (err = max_entries(m->hits, &m->max_ids))) {
		np_err("read prefilter map info in %s: %s", n->pin_dir, strerror(-err));
		goto fail;
	}
	return 0;
fail:
	maps_close(m);
	return err;
}

__u64 np_pf_default_burst(__u64 rate_pps)
{
	return rate_pps / 10 ? rate_pps / 10 : 1;
}

void np_pf_action_str(const struct np_pf_rule *r, char *buf, size_t len)
{
	const char *act = r->flags & NP_PF_F_ALLOW ? "allow" : "deny";

	if (r->rate_pps)
		snprintf(buf, len, "%s%srate %llu pps, burst %llu",
			 r->flags & NP_PF_F_ALLOW ? act : "", r->flags & NP_PF_F_ALLOW ? ", " : "",
			 (unsigned long long)r->rate_pps, (unsigned long long)r->burst);
	else
		snprintf(buf, len, "%s", act);
}

static void key_from_cidr(const struct np_cidr *c, void *key)
{
	if (c->family == AF_INET) {
		struct np_lpm4_key *k = key;

		memset(k, 0, sizeof(*k));
		k->prefixlen = c->prefixlen;
		memcpy(k->addr, c->addr, 4);
	} else {
		struct np_lpm6_key *k = key;

		memset(k, 0, sizeof(*k));
		k->prefixlen = c->prefixlen;
		memcpy(k->addr, c->addr, 16);
	}
}

static int cmp_entry(const void *a, const void *b)
{
	return np_cidr_cmp(&((const struct np_pf_entry *)a)->cidr,
			   &((const struct np_pf_entry *)b)->cidr);
}

/* Append every entry of one trie to *v. */
static int dump_trie(int fd, int family, int hits_fd, struct np_pf_entry **v, size_t *n,
		     size_t *cap)
{
	struct np_lpm6_key k6, next6;
	size_t klen = family == AF_INET ? sizeof(struct np_lpm4_key) : sizeof(struct np_lpm6_key);
	void *prev = NULL;
	int err;

	for (;;) {
		struct np_pf_entry *e;

		memset(&next6, 0, sizeof(next6));
		if (bpf_map_get_next_key(fd, prev, &next6)) {
			if (errno == ENOENT)
				return 0;
			return -errno;
		}
		memcpy(&k6, &next6, klen);
		prev = &k6;
		if (*n == *cap) {
			size_t nc = *cap ? 2 * *cap : 64;
			struct np_pf_entry *nv = realloc(*v, nc * sizeof(*nv));

			if (!nv)
				return -ENOMEM;
			*v = nv;
			*cap = nc;
		}
		e = &(*v)[*n];
		memset(e, 0, sizeof(*e));
		if (bpf_map_lookup_elem(fd, &k6, &e->rule)) {
			if (errno == ENOENT) /* deleted meanwhile */
				continue;
			return -errno;
		}
		e->cidr.family = family;
		if (family == AF_INET) {
			struct np_lpm4_key *k4 = (struct np_lpm4_key *)&k6;

			e->cidr.prefixlen = (uint8_t)k4->prefixlen;
			memcpy(e->cidr.addr, k4->addr, 4);
		} else {
			e->cidr.prefixlen = (uint8_t)k6.prefixlen;
			memcpy(e->cidr.addr, k6.addr, 16);
		}
		if (e->rule.id) {
			err = np_percpu_counter_sum(hits_fd, e->rule.id, &e->hits);
			if (err && err != -ENOENT)
				return err;
		}
		(*n)++;
	}
}

static int list_maps(struct pf_maps *m, struct np_pf_entry **out, size_t *count)
{
	struct np_pf_entry *v = NULL;
	size_t n = 0, cap = 0;
	int err;

	err = dump_trie(m->v4, AF_INET, m->hits, &v, &n, &cap);
	if (!err)
		err = dump_trie(m->v6, AF_INET6, m->hits, &v, &n, &cap);
	if (err) {
		np_err("read prefilter rules: %s", strerror(-err));
		free(v);
		return err;
	}
	if (n)
		qsort(v, n, sizeof(*v), cmp_entry);
	*out = v;
	*count = n;
	return 0;
}

int np_pf_list(struct np_node *n, struct np_pf_entry **out, size_t *count)
{
	struct pf_maps m;
	int err;

	*out = NULL;
	*count = 0;
	err = maps_open(n, &m);
	if (err)
		return err;
	err = list_maps(&m, out, count);
	maps_close(&m);
	return err;
}

/* Reset the rule's counters (all CPUs) and fill its bucket. */
static int reset_rule_state(struct pf_maps *m, __u32 id, __u64 burst)
{
	struct np_tbucket tb;
	struct np_counter *zero;
	int ncpu, err = 0;

	ncpu = libbpf_num_possible_cpus();
	if (ncpu <= 0)
		return ncpu < 0 ? ncpu : -EINVAL;
	zero = calloc((size_t)ncpu, sizeof(*zero));
	if (!zero)
		return -ENOMEM;
	if (bpf_map_update_elem(m->hits, &id, zero, BPF_ANY)) {
		err = -errno;
		np_err("reset %s[%u]: %s", NP_MAP_PF_HITS, id, strerror(-err));
		goto out;
	}
	memset(&tb, 0, sizeof(tb));
	tb.tokens = burst * NP_TB_SCALE;
	tb.last_ns = 0; /* the BPF side starts the clock on first use */
	if (bpf_map_update_elem(m->tb, &id, &tb, BPF_ANY)) {
		err = -errno;
		np_err("reset %s[%u]: %s", NP_MAP_PF_TB, id, strerror(-err));
	}
out:
	free(zero);
	return err;
}

static void add_note(char *note, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void add_note(char *note, size_t len, const char *fmt, ...)
{
	size_t used = strlen(note);
	va_list ap;

	if (used + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(note + used, len - used, fmt, ap);
	va_end(ap);
}

int np_pf_add(struct np_node *n, const struct np_pf_req *req, __u32 *id_out, char *note,
	      size_t notelen)
{
	char txt[NP_CIDR_STRLEN], other[NP_CIDR_STRLEN], act[96], act2[96];
	const struct np_cidr *c = &req->cidr;
	const struct np_pf_entry *cover = NULL;
	struct np_pf_entry *v = NULL;
	struct np_pf_rule rule = { 0 };
	struct np_lpm6_key key;
	size_t cnt = 0, fam_cnt = 0, inside = 0;
	unsigned char *used = NULL;
	struct pf_maps m;
	__u32 limit, id = 0;
	int err;

	if (note && notelen)
		note[0] = '\0';
	np_format_cidr(c, txt, sizeof(txt));
	rule.flags = req->flags & NP_PF_F_ALLOW;
	rule.rate_pps = req->rate_pps;
	rule.burst =
		req->rate_pps ? (req->burst ? req->burst : np_pf_default_burst(req->rate_pps)) : 0;
	np_pf_action_str(&rule, act, sizeof(act));
	if (req->rate_pps > NP_PF_RATE_MAX || rule.burst > NP_PF_BURST_MAX ||
	    (!req->rate_pps && req->burst)) {
		np_err("prefilter add: %s: rate %llu / burst %llu out of range (rate 1..%llu pps, "
		       "burst 1..%llu, burst only with a rate); nothing was changed",
		       txt, (unsigned long long)req->rate_pps, (unsigned long long)req->burst,
		       NP_PF_RATE_MAX, NP_PF_BURST_MAX);
		return -EINVAL;
	}
	if (c->prefixlen == 0 && (!(rule.flags & NP_PF_F_ALLOW) || rule.rate_pps) &&
	    !req->drop_everything_ok) {
		np_err("prefilter add: refusing a \"%s\" rule on %s: it matches every source and "
		       "would drop control "
		       "traffic too (add --yes-drop-everything if you mean it); nothing was "
		       "changed",
		       act, txt);
		return -EPERM;
	}

	err = maps_open(n, &m);
	if (err)
		return err;
	err = list_maps(&m, &v, &cnt);
	if (err)
		goto out;

	/* Validate everything before the first write. */
	limit = c->family == AF_INET ? m.max_v4 : m.max_v6;
	used = calloc(m.max_ids ? m.max_ids : 1, 1);
	if (!used) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < cnt; i++) {
		const struct np_pf_entry *e = &v[i];

		if (e->rule.id < m.max_ids)
			used[e->rule.id] = 1;
		if (e->cidr.family != c->family)
			continue;
		fam_cnt++;
		if (e->cidr.prefixlen == c->prefixlen && np_cidr_contains(&e->cidr, c)) {
			np_pf_action_str(&e->rule, act2, sizeof(act2));
			np_err("prefilter add: a rule for %s exists already (id %u, %s); the new "
			       "rule "
			       "(%s) was not added (delete the old one first: nodepath prefilter "
			       "del %s); nothing was changed",
			       txt, e->rule.id, act2, act, txt);
			err = -EEXIST;
			goto out;
		}
		if (e->cidr.prefixlen < c->prefixlen && np_cidr_contains(&e->cidr, c) &&
		    (!cover || cover->cidr.prefixlen < e->cidr.prefixlen))
			cover = e;
		if (e->cidr.prefixlen > c->prefixlen && np_cidr_contains(c, &e->cidr))
			inside++;
	}
	if (fam_cnt >= limit) {
		np_err("prefilter add: %zu rules, limit %u (%s): %s was not added (raise it with "
		       "`up "
		       "--prefilter-size`); nothing was changed",
		       fam_cnt + 1, limit, c->family == AF_INET ? NP_MAP_PF_V4 : NP_MAP_PF_V6, txt);
		err = -ENOSPC;
		goto out;
	}
	for (__u32 i = 1; i < m.max_ids; i++) {
		if (!used[i]) {
			id = i;
			break;
		}
	}
	if (!id) {
		np_err("prefilter add: no free rule id (%u in use, limit %u): %s was not added; "
		       "nothing "
		       "was changed",
		       m.max_ids ? m.max_ids - 1 : 0, m.max_ids ? m.max_ids - 1 : 0, txt);
		err = -ENOSPC;
		goto out;
	}
	rule.id = id;

	/* Counters and bucket of the id first; the trie entry makes it live. */
	err = reset_rule_state(&m, id, rule.burst);
	if (err)
		goto out;
	key_from_cidr(c, &key);
	if (bpf_map_update_elem(c->family == AF_INET ? m.v4 : m.v6, &key, &rule, BPF_NOEXIST)) {
		err = -errno;
		np_err("insert prefilter rule %s into %s: %s", txt,
		       c->family == AF_INET ? NP_MAP_PF_V4 : NP_MAP_PF_V6, strerror(-err));
		goto out;
	}
	*id_out = id;
	if (note && notelen) {
		if (cover) {
			np_format_cidr(&cover->cidr, other, sizeof(other));
			np_pf_action_str(&cover->rule, act2, sizeof(act2));
			add_note(note, notelen,
				 "note: %s (%s, id %u) already covers %s; the longer prefix wins, "
				 "so %s now gets %s\n",
				 other, act2, cover->rule.id, txt, txt, act);
		}
		if (inside)
			add_note(note, notelen,
				 "note: %zu longer prefix%s inside %s keep%s their own action%s "
				 "(see: nodepath prefilter list)\n",
				 inside, inside == 1 ? "" : "es", txt, inside == 1 ? "s" : "",
				 inside == 1 ? "" : "s");
	}
out:
	free(used);
	free(v);
	maps_close(&m);
	return err;
}

int np_pf_del(struct np_node *n, const struct np_cidr *c, __u32 *id)
{
	struct np_pf_rule rule;
	struct np_lpm6_key key;
	char txt[NP_CIDR_STRLEN];
	struct pf_maps m;
	int fd, err;

	np_format_cidr(c, txt, sizeof(txt));
	err = maps_open(n, &m);
	if (err)
		return err;
	fd = c->family == AF_INET ? m.v4 : m.v6;
	key_from_cidr(c, &key);
	/* A trie lookup answers the longest match: make sure it is this very prefix. */
	*id = 0;
	if (!bpf_map_lookup_elem(fd, &key, &rule))
		*id = rule.id;
	if (bpf_map_delete_elem(fd, &key)) {
		err = -errno;
		if (err == -ENOENT)
			np_err("prefilter del: no prefilter rule for %s (see: nodepath prefilter "
			       "list); nothing "
			       "was changed",
			       txt);
		else
			np_err("delete prefilter rule %s: %s", txt, strerror(-err));
	}
	maps_close(&m);
	return err;
}
