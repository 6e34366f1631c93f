/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Services (load balancing) of a node: the model, its validation, and its
 * writes into the pinned maps np_svc, np_maglev (two inner Maglev arrays per
 * service, created with it: a change is written into the one not live and
 * goes live by one np_svc update), np_backends, np_src_range and
 * np_svc_stats.
 *
 * What the maps do not hold (the name, the VIP as typed, the backends'
 * weights, the options) lives under <pin_dir>/svc/<name>/: bpffs takes no
 * regular files, so `meta` is a symlink whose target is a JSON text, and
 * every backend has a symlink `b<id>` whose target is its JSON text.
 *
 * A change is validated whole before the first write and becomes visible
 * through one reference: new backend entries first, then the new Maglev
 * table into the service's spare table, then np_svc (flipping
 * NP_SVC_F_TABLE1); entries that leave go last.
 *
 * Every function acts in the calling thread's current netns, which must be
 * the node's (np_node_open() enters it).
 */
#ifndef NP_SERVICE_H
#define NP_SERVICE_H

#include <stdbool.h>
#include <stddef.h>

#include <bpf/libbpf.h>

#include "input.h"
#include "node.h"

#define NP_SVC_DIR "svc"	  /* <pin_dir>/svc/<name>/ */
#define NP_SVC_NAME_MAX 63	  /* 1..63 of [a-z0-9.-] */
#define NP_SVC_AFFINITY_MAX 86400 /* --affinity seconds */
#define NP_SVC_SRC_RANGES_MAX 32  /* --source-range per service */
#define NP_CT_MIN 1024		  /* `up --ct-size` bounds */
#define NP_CT_MAX (16U * 1024 * 1024)
/* "[ffff:...:ffff]:65535/tcp" plus a NUL */
#define NP_SVC_ADDRSTRLEN 56
/* <pin_dir>/svc-pending/<name>/: records `up` could not restore (yet) */
#define NP_SVC_PENDING_DIR "svc-pending"

enum np_svc_mode {
	NP_SVC_MODE_SNAT = 0,
	NP_SVC_MODE_DSR = 1,
};

/* An address and port (network order address, host order port). */
struct np_svc_addr {
	__u8 family; /* NP_AF_INET or NP_AF_INET6 */
	__u8 addr[16];
	__u16 port;
};

struct np_svc_backend {
	struct np_svc_addr a;
	__u32 weight; /* 1..NP_WEIGHT_MAX */
	__u8 state;   /* enum np_backend_state */
	__u32 id;     /* np_backends key; 0 until written */
	__u32 flags;  /* NP_BE_F_* (set when written) */
};

struct np_svc_spec {
	char name[NP_SVC_NAME_MAX + 1];
	__u32 id;		/* 0 until written */
	__u8 type;		/* enum np_svc_type */
	__u8 algo;		/* enum np_lb_algo */
	__u8 mode;		/* enum np_svc_mode */
	__u8 proto;		/* IPPROTO_TCP or IPPROTO_UDP */
	__u8 scope;		/* NP_SVC_SCOPE_* */
	struct np_svc_addr vip; /* addr zero for NodePort */
	__u32 affinity_s;	/* 0: none */
	bool etp_local;
	bool etp_given; /* --etp was given (only some types take it) */
	bool afxdp;	/* --afxdp: steered into the AF_XDP pool (NP_SVC_F_AFXDP) */
	size_t n_be;
	struct np_svc_backend *be; /* malloc'ed */
	size_t n_src;
	struct np_cidr src[NP_SVC_SRC_RANGES_MAX];
};

/* What get/list report. */
struct np_svc_info {
	struct np_svc_spec spec;
	__u16 count;		 /* backends in the table (np_svc.count) */
	__u32 flags;		 /* np_svc.flags */
	struct np_counter stats; /* np_svc_stats, summed over CPUs */
};

/* ---- pure parsing and checks (no privileges; unit-tested) -------------- */

/* 1..63 of [a-z0-9.-], starting and ending with a letter or digit. */
int np_svc_check_name(const char *s, char *err, size_t errlen);
/* "ADDR:PORT/tcp|udp", IPv6 in brackets; NodePort's 0.0.0.0 / [::] allowed here. */
int np_svc_parse_vip(const char *s, struct np_svc_addr *out, __u8 *proto, char *err, size_t errlen);
/* "ADDR:PORT[,weight=W]" (W 1..65535, default 1); IPv6 in brackets. */
int np_svc_parse_backend(const char *s, struct np_svc_backend *out, char *err, size_t errlen);
int np_svc_parse_type(const char *s, __u8 *out, char *err, size_t errlen);
int np_svc_parse_algo(const char *s, __u8 *out, char *err, size_t errlen);
int np_svc_parse_mode(const char *s, __u8 *out, char *err, size_t errlen);
int np_svc_parse_etp(const char *s, bool *local, char *err, size_t errlen);
int np_svc_parse_state(const char *s, __u8 *out, char *err, size_t errlen);
const char *np_svc_type_name(unsigned int t);
const char *np_svc_algo_name(unsigned int a);
const char *np_be_state_name(unsigned int s);
/* "198.18.100.10:80" / "[fd00::1]:80"; with proto (non-zero) "/tcp" appended. */
void np_svc_addr_str(const struct np_svc_addr *a, __u8 proto, char *buf, size_t len);
/* Same address and port. */
bool np_svc_addr_eq(const struct np_svc_addr *a, const struct np_svc_addr *b);

/*
 * Check a whole service against itself and a table of maglev_size slots:
 * the VIP fits the type (NodePort: 0.0.0.0 or [::]; the others: a concrete
 * address), --mode dsr: not clusterip, backends on the VIP port (-EINVAL);
 * --etp only for nodeport/loadbalancer/externalip,
 * one family everywhere (backends, source ranges), no backend twice, at
 * most maglev_size backends, weights 1..65535, affinity 1..86400. Fills
 * scope. 0, -EINVAL or -E2BIG with err set.
 */
int np_svc_check_spec(struct np_svc_spec *s, __u32 maglev_size, char *err, size_t errlen);

void np_svc_spec_free(struct np_svc_spec *s);

/* ---- `up` ------------------------------------------------------------- */

/* `up --maglev-size M`: a prime in NP_MAGLEV_MIN..NP_MAGLEV_MAX. */
int np_svc_parse_maglev_size(const char *s, __u32 *out, char *err, size_t errlen);
/* `up --ct-size N`: NP_CT_MIN..NP_CT_MAX. */
int np_svc_parse_ct_size(const char *s, __u32 *out, char *err, size_t errlen);
/* Remember the sizes `up` asked for (0: default) before the objects load. */
void np_svc_set_sizes(__u32 maglev_size, __u32 ct_size);
/*
 * Called on each BPF object before load: size np_ct and the inner map
 * template of np_maglev (when the object has them). An already pinned np_ct
 * keeps its size (so `xdp-mode` and later loads reuse it).
 */
int np_svc_obj_prepare(struct bpf_object *obj);
/*
 * After `up` loaded the maps: the uplink's global addresses into
 * np_node_addr, the first of each family and the table sizes into np_node.
 * Service records stay (np_svc_restore_all() brings them back).
 */
int np_svc_node_init(struct np_node *n);
/*
 * `up`, after the endpoints are re-adopted: re-create every recorded
 * service (`down` keeps the records, not the maps) with its recorded ids,
 * backends, weights and states; local flags from the endpoints present,
 * Maglev tables from scratch, all services in one go as np_svc_add_many()
 * does (one by one if that fails); conntrack and affinity state start empty.
 * A record that does not validate any more (e.g. more backends than a
 * smaller `up --maglev-size`) or cannot be read is logged and stays in
 * <pin_dir>/svc-pending for the next `up` (np_svc_count(n, true)); the
 * others are restored. The number restored (>= 0) or -errno.
 */
int np_svc_restore_all(struct np_node *n);
/* Service records under <pin_dir>/svc (pending: under <pin_dir>/svc-pending). */
int np_svc_count(const struct np_node *n, bool pending);
/*
 * `down`: keep the records for `up` (purge: forget them all, live and
 * pending). The number of records kept, or forgotten.
 */
int np_svc_down(struct np_node *n, bool purge);
/* Remove every service record (live and pending); the number removed. */
int np_svc_forget_all(struct np_node *n);

/* ---- records (pure; unit-tested) --------------------------------------- */

struct json_object;
/* A service's meta record, a backend's record (json_object_put them). */
struct json_object *np_svc_record_meta(const struct np_svc_spec *s);
struct json_object *np_svc_record_backend(const struct np_svc_backend *b);
/*
 * Parse a meta record into s: id, VIP and protocol, type, algo, mode,
 * affinity, etp, afxdp, source ranges, scope (name and backends
 * untouched). Absent optional keys take their defaults (records of older
 * versions); anything present and invalid fails: 0 or -EBADMSG, err set.
 */
int np_svc_record_parse_meta(struct json_object *o, struct np_svc_spec *s, char *err,
			     size_t errlen);
/* A backend record into b: address, weight (default 1), state (default active). */
int np_svc_record_parse_backend(struct json_object *o, struct np_svc_backend *b, char *err,
				size_t errlen);
/* ---- services --------------------------------------------------------- */

/*
 * Add a service. Rejections (-EEXIST name or VIP taken, -EINVAL, -E2BIG,
 * -ENOSPC no free id) change nothing and are logged.
 */
int np_svc_add(struct np_node *n, struct np_svc_spec *s);
/*
 * Add count services at once (an agent programming a node): all of v is
 * checked first (each spec, no name or VIP twice, none taken), and one
 * rejection changes nothing. Backends, counters and np_svc go in as batches,
 * the Maglev tables into np_maglev with one batch update (one RCU wait per
 * batch, not per service). Ids are written into v. 0 or -errno (logged).
 */
int np_svc_add_many(struct np_node *n, struct np_svc_spec *v, size_t count);
int np_svc_del(struct np_node *n, const char *name, struct np_svc_info *out);
int np_svc_get(struct np_node *n, const char *name, struct np_svc_info *out);
/* All services by id; *out malloc'ed; free each with np_svc_info_free. */
int np_svc_list(struct np_node *n, struct np_svc_info **out, size_t *count);
void np_svc_info_free(struct np_svc_info *v, size_t count);

/* backend add NAME ADDR:PORT [--weight W] [--state S] */
int np_backend_add(struct np_node *n, const char *name, const struct np_svc_backend *b);
int np_backend_del(struct np_node *n, const char *name, const struct np_svc_addr *a);
/* weight 0: unchanged; state < 0: unchanged. */
int np_backend_set(struct np_node *n, const char *name, const struct np_svc_addr *a, __u32 weight,
		   int state);

/*
 * `endpoint add` / `endpoint del`: every backend (of any service of node n)
 * whose address is addr (family NP_AF_INET or NP_AF_INET6; 4 or 16 bytes)
 * gets NP_BE_F_LOCAL as np_endpoints says now, one np_backends entry
 * updated at a time; services with --etp local get their table rebuilt.
 * A node without services (or not up) has nothing to do. 0 or -errno
 * (logged).
 */
int np_svc_refresh_local(struct np_node *n, int family, const void *addr);

#endif /* NP_SERVICE_H */
