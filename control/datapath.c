// SPDX-License-Identifier: GPL-2.0
#include <dirent.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "datapath.h"
#include "ethtool.h"
#include "endpoint.h"
#include "input.h"
#include "log.h"
#include "stats.h"
#include "service.h"

#include "np_netdev.skel.h"
#include "np_pod.skel.h"
#include "np_xdp.skel.h"

/* ---- skeleton preparation --------------------------------------------- */

static const char *const pf_maps[] = { NP_MAP_PF_V4, NP_MAP_PF_V6 };
static const char *const pf_id_maps[] = { NP_MAP_PF_HITS, NP_MAP_PF_TB };

/* Sizes and load-time config common to both objects. */
static int obj_prepare(struct bpf_object *obj, __u32 pf_size)
{
	struct bpf_map *m;
	int err;

	for (size_t i = 0; i < 2; i++) {
		m = bpf_object__find_map_by_name(obj, pf_maps[i]);
		if (m && (err = bpf_map__set_max_entries(m, pf_size)))
			goto fail;
		m = bpf_object__find_map_by_name(obj, pf_id_maps[i]);
		if (m && (err = bpf_map__set_max_entries(m, NP_PF_IDS(pf_size))))
			goto fail;
	}
	/* np_ct and the np_maglev inner template (up --ct-size / --maglev-size) */
	return np_svc_obj_prepare(obj);
fail:
	np_err("size map %s of %s: %s", bpf_map__name(m), bpf_object__name(obj), strerror(-err));
	return err;
}

struct xdp_handle {
	struct np_xdp *skel;
	struct xdp_program *prog;
};

static void xdp_release(struct xdp_handle *h)
{
	/* The program stays attached: libxdp pinned it. */
	xdp_program__close(h->prog);
	np_xdp__destroy(h->skel);
	h->prog = NULL;
	h->skel = NULL;
}

/* Open (do not load) the XDP object; libxdp loads it into its dispatcher. */
/*
 * preload: load (verify) the object now and hand libxdp the program fd, so
 * that a later attach only attaches. Only for kernels where libxdp runs no
 * dispatcher (it cannot put an already loaded program into one).
 */
/*
 * NP_FEAT_TX_REDIRECT when the uplink is a veth: after XDP_TX the kernel
 * schedules the peer's NAPI only if the peer has an XDP program of its own,
 * so frames sent back with XDP_TX would wait in the peer's ring (and, once
 * it is full, be dropped); bpf_redirect() to the uplink flushes it. Real NICs
 * keep XDP_TX.
 */
static __u32 xdp_tx_feature(const char *ifname)
{
	char drv[32];

	if (np_dev_driver(ifname, drv, sizeof(drv)) || strcmp(drv, "veth"))
		return 0;
	return NP_FEAT_TX_REDIRECT;
}

static int xdp_prepare(struct np_node *n, const char *ifname, __u32 pf_size, bool preload,
		       struct xdp_handle *h)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .pin_root_path = n->pin_dir);
	DECLARE_LIBXDP_OPTS(xdp_program_opts, xo, 0);
	int err;

	memset(h, 0, sizeof(*h));
	h->skel = np_xdp__open_opts(&oo);
	if (!h->skel) {
		err = -errno;
		np_err("open XDP object np_xdp: %s", strerror(-err));
		return err;
	}
	h->skel->rodata->cfg.features = NP_FEAT_PREFILTER | NP_FEAT_META | xdp_tx_feature(ifname);
	err = obj_prepare(h->skel->obj, pf_size);
	if (err)
		goto fail;
	if (preload) {
		err = np_xdp__load(h->skel);
		if (err) {
			np_err("load XDP object np_xdp: %s", strerror(-err));
			goto fail;
		}
		xo.fd = bpf_program__fd(h->skel->progs.np_xdp_uplink);
	} else {
		xo.obj = h->skel->obj;
		xo.prog_name = NP_PROG_XDP_UPLINK;
	}
	h->prog = xdp_program__create(&xo);
	err = (int)libxdp_get_error(h->prog);
	if (err) {
		h->prog = NULL;
		np_err("create libxdp program %s: %s", NP_PROG_XDP_UPLINK, strerror(-err));
		goto fail;
	}
	return 0;
fail:
	np_xdp__destroy(h->skel);
	h->skel = NULL;
	return err;
}

static enum xdp_attach_mode to_libxdp(unsigned int mode)
{
	return mode == NP_XDP_GENERIC ? XDP_MODE_SKB : XDP_MODE_NATIVE;
}

static unsigned int from_libxdp(enum xdp_attach_mode m)
{
	switch (m) {
	case XDP_MODE_NATIVE:
		return NP_XDP_NATIVE;
	case XDP_MODE_SKB:
		return NP_XDP_GENERIC;
	default:
		return NP_XDP_OFF;
	}
}

/* Can the error of a dispatcher attach be a dispatcher problem? */
static bool dispatcher_refused(int err)
{
	return err == -EINVAL || err == -EPERM || err == -EOPNOTSUPP;
}

static bool dispatcher_skipped(void)
{
	const char *v = getenv("LIBXDP_SKIP_DISPATCHER");

	return v && !strcmp(v, "1");
}

/*
 * Attach through libxdp's dispatcher; when the dispatcher cannot host our
 * program, attach it directly instead. libxdp 1.3.1's dispatcher does not
 * change packet data, so the kernel refuses np_xdp_uplink (which calls
 * bpf_xdp_adjust_meta) as its extension with EINVAL ("Extension program
 * changes packet data, while original does not"), as the 6.12 kernel does;
 * on other kernels libxdp's compatibility probe fails (EPERM) first. The
 * direct attach costs coexistence: no other XDP program can share the
 * device with ours while it is attached (libxdp's tools see a "legacy"
 * program; `down`, `xdp-mode` and `status` find it as our main program).
 * LIBXDP_SKIP_DISPATCHER is read by libxdp at every attach, so setting it
 * for this process makes every later attach here direct, too. The first
 * attempt loaded (and so spent) the object; the retry loads a fresh one.
 */
static int xdp_attach(struct np_node *n, __u32 pf_size, struct xdp_handle *h, const char *ifname,
		      int ifindex, unsigned int mode)
{
	int err;

	err = xdp_program__attach(h->prog, ifindex, to_libxdp(mode), 0);
	if (err && dispatcher_refused(err) && !dispatcher_skipped()) {
		np_dbg("attach XDP (%s) on %s through libxdp's dispatcher: %s",
		       np_xdp_mode_name(mode), ifname, strerror(-err));
		setenv("LIBXDP_SKIP_DISPATCHER", "1", 1);
		xdp_release(h);
		err = xdp_prepare(n, ifname, pf_size, true, h);
		if (err)
			return err;
		err = xdp_program__attach(h->prog, ifindex, to_libxdp(mode), 0);
		if (!err)
			np_info("libxdp dispatcher refused %s (it changes packet data); attached "
				"directly on %s",
				NP_PROG_XDP_UPLINK, ifname);
	}
	if (err) {
		np_err("attach XDP (%s) on %s: %s%s", np_xdp_mode_name(mode), ifname,
		       strerror(-err),
		       mode == NP_XDP_NATIVE && err == -EOPNOTSUPP
			       ? " (the driver has no native XDP; use --xdp-mode generic)"
			       : "");
	}
	return err;
}

/* ---- finding our XDP program ------------------------------------------ */

struct xdp_state {
	struct xdp_multiprog *mp; /* NULL: nothing attached */
	struct xdp_program *ours; /* our program inside mp, or NULL */
	bool ours_is_main;	  /* attached directly, not in a dispatcher */
	unsigned int mode;	  /* enum np_xdp_mode of mp */
	__u32 foreign_id;	  /* a program attached without libxdp */
	char foreign_name[32];
	int others; /* other programs in the dispatcher */
};

static bool is_ours(const struct xdp_program *p)
{
	return p && !strcmp(xdp_program__name(p), NP_PROG_XDP_UPLINK);
}

static void xdp_state_free(struct xdp_state *s)
{
	xdp_multiprog__close(s->mp);
	s->mp = NULL;
}

static int xdp_state_get(int ifindex, struct xdp_state *s)
{
	struct xdp_program *p;
	int err;

	memset(s, 0, sizeof(*s));
	s->mp = xdp_multiprog__get_from_ifindex(ifindex);
	err = (int)libxdp_get_error(s->mp);
	if (err) {
		s->mp = NULL;
		return err == -ENOENT ? 0 : err;
	}
	s->mode = from_libxdp(xdp_multiprog__attach_mode(s->mp));
	if (xdp_multiprog__is_legacy(s->mp)) {
		p = xdp_multiprog__main_prog(s->mp);
		if (is_ours(p)) {
			s->ours = p;
			s->ours_is_main = true;
		} else if (p) {
			s->foreign_id = xdp_program__id(p);
			snprintf(s->foreign_name, sizeof(s->foreign_name), "%s",
				 xdp_program__name(p));
		}
		return 0;
	}
	for (p = xdp_multiprog__next_prog(NULL, s->mp); p; p = xdp_multiprog__next_prog(p, s->mp)) {
		if (is_ours(p) && !s->ours)
			s->ours = p;
		else
			s->others++;
	}
	return 0;
}

static int xdp_detach_ours(struct xdp_state *s, const char *ifname, int ifindex)
{
	int err;

	if (!s->ours)
		return 0;
	if (s->ours_is_main)
		err = xdp_multiprog__detach(s->mp);
	else
		err = xdp_program__detach(s->ours, ifindex, to_libxdp(s->mode), 0);
	if (err)
		np_err("detach XDP (%s) from %s: %s", np_xdp_mode_name(s->mode), ifname,
		       strerror(-err));
	return err;
}

/* Detach our XDP program from ifindex, whatever its mode. */
static int xdp_detach_if_attached(const char *ifname, int ifindex)
{
	struct xdp_state s;
	int err;

	err = xdp_state_get(ifindex, &s);
	if (err)
		return err;
	err = xdp_detach_ours(&s, ifname, ifindex);
	xdp_state_free(&s);
	return err;
}

/* ---- tcx --------------------------------------------------------------- */

static int tcx_attach(struct np_node *n, const char *ifname, int ifindex, __u32 pf_size,
		      struct np_netdev **out)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .pin_root_path = n->pin_dir);
	struct np_netdev *skel;
	struct bpf_link *link;
	char path[PATH_MAX];
	int err;

	err = np_node_path(n, NP_LINK_TCX_UPLINK_IN, path, sizeof(path));
	if (err)
		return err;
	skel = np_netdev__open_opts(&oo);
	if (!skel) {
		err = -errno;
		np_err("open tc object np_netdev: %s", strerror(-err));
		return err;
	}
	skel->rodata->cfg.features = NP_FEAT_PREFILTER | NP_FEAT_META;
	err = obj_prepare(skel->obj, pf_size);
	if (err)
		goto err_destroy;
	err = np_netdev__load(skel);
	if (err) {
		np_err("load tc object np_netdev (maps pinned in %s): %s", n->pin_dir,
		       strerror(-err));
		goto err_destroy;
	}
	link = bpf_program__attach_tcx(skel->progs.np_tc_uplink_in, ifindex, NULL);
	if (!link) {
		err = -errno;
		np_err("attach tcx ingress on %s: %s", ifname, strerror(-err));
		goto err_unpin;
	}
	err = bpf_link__pin(link, path);
	if (err) {
		np_err("pin tcx link as %s: %s", path, strerror(-err));
		bpf_link__destroy(link); /* not pinned: closing detaches */
		goto err_unpin;
	}
	bpf_link__disconnect(link);
	bpf_link__destroy(link);
	*out = skel;
	return 0;
err_unpin:
	bpf_object__unpin_maps(skel->obj, NULL);
err_destroy:
	np_netdev__destroy(skel);
	return err;
}

static int tcx_detach(struct np_node *n)
{
	char path[PATH_MAX];
	int fd, err = 0;

	if (np_node_path(n, NP_LINK_TCX_UPLINK_IN, path, sizeof(path)))
		return -ENAMETOOLONG;
	fd = bpf_obj_get(path);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	/* Detach even if someone else still holds an fd of the link. */
	if (bpf_link_detach(fd) && errno != ENOLINK) {
		err = -errno;
		np_err("detach tcx link %s: %s", path, strerror(-err));
	}
	close(fd);
	if (unlink(path) && errno != ENOENT) {
		err = -errno;
		np_err("unpin %s: %s", path, strerror(-err));
	}
	return err;
}

/* The uplink ifindex of the pinned tcx link, 0 when it is defunct or absent. */
static int tcx_state(struct np_node *n, __u32 *ifindex, __u32 *prog_id)
{
	struct bpf_link_info info;
	__u32 len = sizeof(info);
	char path[PATH_MAX];
	int fd;

	*ifindex = 0;
	*prog_id = 0;
	if (np_node_path(n, NP_LINK_TCX_UPLINK_IN, path, sizeof(path)))
		return -ENAMETOOLONG;
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	memset(&info, 0, sizeof(info));
	if (!bpf_link_get_info_by_fd(fd, &info, &len) && info.type == BPF_LINK_TYPE_TCX) {
		*ifindex = info.tcx.ifindex;
		*prog_id = info.prog_id;
	}
	close(fd);
	return 0;
}

/* ---- pod programs ------------------------------------------------------ */

static const struct {
	const char *pin;
	bool netkit;
} pod_pins[] = {
	{ NP_PIN_PROG_POD_FROM, false },
	{ NP_PIN_PROG_NK_PRIMARY, true },
	{ NP_PIN_PROG_NK_PEER, true },
};

static struct bpf_program *pod_prog(struct np_pod *skel, size_t i)
{
	switch (i) {
	case 0:
		return skel->progs.np_pod_from;
	case 1:
		return skel->progs.np_nk_primary;
	default:
		return skel->progs.np_nk_peer;
	}
}

static int pod_open_load(struct np_node *n, __u32 pf_size, bool netkit, struct np_pod **out)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .pin_root_path = n->pin_dir);
	struct np_pod *skel;
	int err;

	skel = np_pod__open_opts(&oo);
	if (!skel) {
		err = -errno;
		np_err("open tc object np_pod: %s", strerror(-err));
		return err;
	}
	skel->rodata->cfg.features = 0;
	err = obj_prepare(skel->obj, pf_size);
	if (err)
		goto fail;
	if (!netkit) {
		bpf_program__set_autoload(skel->progs.np_nk_primary, false);
		bpf_program__set_autoload(skel->progs.np_nk_peer, false);
	}
	err = np_pod__load(skel);
	if (err)
		goto fail;
	*out = skel;
	return 0;
fail:
	np_pod__destroy(skel);
	return err;
}

/*
 * Load the pod programs once per node and pin them for `endpoint add`. The
 * netkit ones need only their program type to load; should a kernel refuse
 * them, the veth program alone is pinned and endpoints use veth.
 */
static int pod_load(struct np_node *n, __u32 pf_size)
{
	struct np_pod *skel = NULL;
	char path[PATH_MAX];
	bool netkit = true;
	int err;

	err = pod_open_load(n, pf_size, true, &skel);
	if (err) {
		netkit = false;
		err = pod_open_load(n, pf_size, false, &skel);
		if (err) {
			np_err("load tc object np_pod (maps pinned in %s): %s", n->pin_dir,
			       strerror(-err));
			return err;
		}
		np_warn("the kernel refused the netkit programs; endpoints use veth");
	}
	for (size_t i = 0; i < sizeof(pod_pins) / sizeof(pod_pins[0]); i++) {
		if (pod_pins[i].netkit && !netkit)
			continue;
		err = np_node_path(n, pod_pins[i].pin, path, sizeof(path));
		if (!err)
			err = bpf_program__pin(pod_prog(skel, i), path);
		if (err) {
			np_err("pin program %s as %s: %s", bpf_program__name(pod_prog(skel, i)),
			       path, strerror(-err));
			break;
		}
	}
	/* On failure pins_remove() of the caller takes the pinned ones. */
	np_pod__destroy(skel);
	return err;
}

/* ---- pins -------------------------------------------------------------- */

/* Remove empty directories below and including dir; files stay. */
static void rmdir_empty_tree(const char *dir)
{
	struct dirent *de;
	DIR *d;

	d = opendir(dir);
	if (!d)
		return;
	while ((de = readdir(d))) {
		char sub[PATH_MAX];

		if (de->d_type != DT_DIR || !strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (snprintf(sub, sizeof(sub), "%s/%s", dir, de->d_name) < (int)sizeof(sub))
			rmdir_empty_tree(sub);
	}
	closedir(d);
	rmdir(dir);
}

/*
 * Remove our pins: the maps and links (the files directly in pin_dir), the
 * node's libxdp directory when libxdp left nothing in it, and pin_dir.
 */
static int pins_remove(struct np_node *n)
{
	struct dirent *de;
	int err = 0;
	DIR *d;

	d = opendir(n->pin_dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		char path[PATH_MAX];

		if (de->d_type == DT_DIR)
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", n->pin_dir, de->d_name) >=
		    (int)sizeof(path))
			continue;
		if (unlink(path) && errno != ENOENT) {
			err = -errno;
			np_err("unpin %s: %s", path, strerror(-err));
		}
	}
	closedir(d);
	if (n->xdp_dir[0])
		rmdir_empty_tree(n->xdp_dir);
	if (rmdir(n->pin_dir) && errno != ENOENT && errno != ENOTEMPTY) {
		err = -errno;
		np_err("remove %s: %s", n->pin_dir, strerror(-err));
	}
	if (!err)
		n->pin_exists = access(n->pin_dir, F_OK) == 0;
	return err;
}

static int abi_check(const struct np_node *n, const struct np_node_cfg *cfg)
{
	if (!cfg->abi_version || cfg->abi_version == NP_ABI_VERSION)
		return 0;
	np_err("node %s has state pinned in %s by ABI version %u; this nodepath speaks version "
	       "%u. Refusing to touch it (run `nodepath migrate`, or `down` with the nodepath "
	       "that made it)",
	       n->name, n->pin_dir, cfg->abi_version, NP_ABI_VERSION);
	return -EPROTO;
}

/* ---- up / down --------------------------------------------------------- */

/* Copy the pod ranges and gateways of src into dst. */
static void pod_cfg_copy(struct np_node_cfg *dst, const struct np_node_cfg *src)
{
	memcpy(dst->pod_net4, src->pod_net4, sizeof(dst->pod_net4));
	memcpy(dst->pod_net6, src->pod_net6, sizeof(dst->pod_net6));
	memcpy(dst->pod_gw4, src->pod_gw4, sizeof(dst->pod_gw4));
	memcpy(dst->pod_gw6, src->pod_gw6, sizeof(dst->pod_gw6));
	dst->pod_len4 = src->pod_len4;
	dst->pod_len6 = src->pod_len6;
}

static bool pod_cfg_eq(const struct np_node_cfg *a, const struct np_node_cfg *b)
{
	return a->pod_len4 == b->pod_len4 && a->pod_len6 == b->pod_len6 &&
	       !memcmp(a->pod_net4, b->pod_net4, sizeof(a->pod_net4)) &&
	       !memcmp(a->pod_net6, b->pod_net6, sizeof(a->pod_net6));
}

/* Already up on this device: a new --pod-cidr applies while no endpoint exists. */
static int up_again(struct np_node *n, struct np_node_cfg *cfg, const struct np_node_cfg *pods)
{
	char now[2 * NP_CIDR_STRLEN + 2];
	int eps, err;

	if (!pods || pod_cfg_eq(cfg, pods))
		return -EALREADY;
	eps = np_ep_count(n);
	if (eps) {
		np_ep_format_pod_cidr(cfg, now, sizeof(now));
		np_err("node %s has %d endpoint%s in pod range %s; delete them before changing "
		       "--pod-cidr",
		       n->name, eps, eps == 1 ? "" : "s", now[0] ? now : "(none)");
		return -EBUSY;
	}
	pod_cfg_copy(cfg, pods);
	err = np_node_cfg_write(n, cfg);
	return err ? err : -EALREADY;
}

int np_dp_up(struct np_node *n, const char *ifname, enum np_xdp_mode mode, __u32 pf_size,
	     const struct np_node_cfg *pods)
{
	struct np_node_cfg cfg = { 0 };
	struct xdp_handle xh = { 0 };
	struct np_netdev *tc = NULL;
	struct xdp_state xs;
	bool xdp_on = false;
	int ifindex, err;

	ifindex = (int)if_nametoindex(ifname);
	if (!ifindex) {
		np_err("no such interface \"%s\" %s (see: ip link)", ifname, np_node_where(n));
		return -ENODEV;
	}
	err = np_node_cfg_read(n, &cfg);
	if (!err) {
		err = abi_check(n, &cfg);
		if (err)
			return err;
		if (cfg.flags & NP_NODE_F_UP) {
			if (cfg.uplink_ifindex == (__u32)ifindex &&
			    !strncmp((char *)cfg.uplink_name, ifname, sizeof(cfg.uplink_name)))
				return up_again(n, &cfg, pods);
			np_err("node %s is already up on %.16s; run `nodepath%s%s down` first",
			       n->name, (char *)cfg.uplink_name, n->is_ns ? " --node " : "",
			       n->is_ns ? n->name : "");
			return -EEXIST;
		}
	} else if (err != -ENOENT) {
		return err;
	}
	/* Endpoints kept by `down` must fit the range before anything changes. */
	err = np_ep_check_records(n, pods);
	if (err) {
		if (n->xdp_dir[0])
			rmdir(n->xdp_dir); /* np_node_open() made it; only when empty */
		return err;
	}

	err = xdp_state_get(ifindex, &xs);
	if (err) {
		np_err("query XDP on %s: %s", ifname, strerror(-err));
		return err;
	}
	if (xs.foreign_id) {
		np_err("%s already has XDP program id %u (%s, %s mode) attached without libxdp; "
		       "nodepath will not replace it (detach it first: ip link set dev %s %s off)",
		       ifname, xs.foreign_id, xs.foreign_name, np_xdp_mode_name(xs.mode), ifname,
		       xs.mode == NP_XDP_GENERIC ? "xdpgeneric" : "xdpdrv");
		xdp_state_free(&xs);
		return -EBUSY;
	}
	/* Leftovers of an interrupted `up`: our program, links, pins. */
	if (xs.ours) {
		np_info("removing a stale nodepath XDP program from %s", ifname);
		err = xdp_detach_ours(&xs, ifname, ifindex);
	}
	xdp_state_free(&xs);
	if (err)
		return err;
	np_ep_detach_all(n);
	tcx_detach(n);
	pins_remove(n);
	if (mkdir(n->pin_dir, 0700) && errno != EEXIST) {
		err = -errno;
		np_err("create %s: %s", n->pin_dir, strerror(-err));
		return err;
	}
	n->pin_exists = true;
	if (n->xdp_dir[0] && mkdir(n->xdp_dir, 0700) && errno != EEXIST) {
		err = -errno;
		np_err("create %s: %s", n->xdp_dir, strerror(-err));
		return err;
	}

	/* Prepare XDP before anything is attached: a bad object fails early. */
	if (mode != NP_XDP_OFF) {
		err = xdp_prepare(n, ifname, pf_size, false, &xh);
		if (err)
			goto err_pins;
	}
	/* tc first, then XDP: no packet goes unjudged. */
	err = tcx_attach(n, ifname, ifindex, pf_size, &tc);
	if (err)
		goto err_xdp;
	err = pod_load(n, pf_size);
	if (err)
		goto err_tc;
	if (mode != NP_XDP_OFF) {
		err = xdp_attach(n, pf_size, &xh, ifname, ifindex, mode);
		if (err)
			goto err_tc;
		xdp_on = true;
	}

	memset(&cfg, 0, sizeof(cfg));
	cfg.abi_version = NP_ABI_VERSION;
	cfg.flags = NP_NODE_F_UP;
	cfg.uplink_ifindex = (__u32)ifindex;
	cfg.xdp_mode = mode;
	cfg.pf_size = pf_size;
	snprintf((char *)cfg.uplink_name, sizeof(cfg.uplink_name), "%s", ifname);
	if (pods)
		pod_cfg_copy(&cfg, pods);
	err = np_node_cfg_write(n, &cfg);
	if (err)
		goto err_tc;
	/* services: the uplink's addresses and the table sizes into np_node */
	err = np_svc_node_init(n);
	if (err)
		goto err_tc;
	/* The endpoints `down` kept: the caller counts them (np_ep_count()). */
	err = np_ep_readopt_all(n);
	if (err < 0)
		np_warn("node %s: re-adopting the recorded endpoints: %s", n->name, strerror(-err));
	/* The services `down` kept: after the endpoints, so backends see them local. */
	err = np_svc_restore_all(n);
	if (err < 0)
		np_warn("node %s: restoring the recorded services: %s", n->name, strerror(-err));
	xdp_release(&xh);
	np_netdev__destroy(tc);
	return 0;

err_tc:
	if (xdp_on)
		xdp_detach_if_attached(ifname, ifindex);
	tcx_detach(n);
	np_netdev__destroy(tc);
err_xdp:
	xdp_release(&xh);
err_pins:
	pins_remove(n);
	return err;
}

int np_dp_down(struct np_node *n, bool purge, int *endpoints, int *services)
{
	struct np_node_cfg cfg = { 0 };
	char ifname[IF_NAMESIZE] = "";
	bool had_state;
	int err, ret = 0;

	if (!n->pin_exists)
		return -ENOENT;
	err = np_node_cfg_read(n, &cfg);
	if (err && err != -ENOENT)
		return err;
	if (!err && (err = abi_check(n, &cfg)))
		return err;
	had_state = cfg.flags & NP_NODE_F_UP;
	/*
	 * Endpoints first: their links go, their records stay for `up` to
	 * re-adopt; the pods fall back to the stack (devices and routes stay).
	 */
	err = np_ep_detach_all(n);
	if (err < 0)
		return err;
	if (endpoints)
		*endpoints = err;
	if (cfg.uplink_ifindex && if_indextoname(cfg.uplink_ifindex, ifname)) {
		err = xdp_detach_if_attached(ifname, (int)cfg.uplink_ifindex);
		if (err)
			ret = err;
	} else if (cfg.uplink_ifindex) {
		np_warn("uplink %.16s (ifindex %u) is gone %s; removing the pins only",
			(char *)cfg.uplink_name, cfg.uplink_ifindex, np_node_where(n));
	}
	err = tcx_detach(n);
	if (err)
		ret = err;
	if (ret)
		return ret; /* keep the pins: a retry finds what is still attached */
	{
		DIR *d = opendir(n->pin_dir);
		struct dirent *de;

		/* anything pinned (maps from an interrupted up) counts as state */
		while (d && (de = readdir(d)))
			if (de->d_type != DT_DIR)
				had_state = true;
		if (d)
			closedir(d);
	}
	/* services: the records stay for `up` to restore (purge: forgotten) */
	err = np_svc_down(n, purge);
	if (services)
		*services = err;
	err = pins_remove(n);
	if (err)
		return err;
	return had_state ? 0 : -ENOENT;
}

/* ---- status ------------------------------------------------------------ */

int np_dp_status(struct np_node *n, struct np_dp_status *st)
{
	struct xdp_state xs;
	__u32 tcx_if = 0;
	int err;

	memset(st, 0, sizeof(*st));
	if (!n->pin_exists)
		return 0;
	st->endpoints = np_ep_count(n);
	err = np_node_cfg_read(n, &st->cfg);
	if (err == -ENOENT)
		return 0;
	if (err)
		return err;
	st->pinned = true;
	err = abi_check(n, &st->cfg);
	if (err)
		return err;
	st->up = st->cfg.flags & NP_NODE_F_UP;
	if (!tcx_state(n, &tcx_if, &st->tcx_prog_id))
		st->tcx_uplink_in = tcx_if && tcx_if == st->cfg.uplink_ifindex;
	if (!st->cfg.uplink_ifindex)
		return 0;
	if (!xdp_state_get((int)st->cfg.uplink_ifindex, &xs)) {
		if (xs.ours) {
			st->xdp_mode = xs.mode;
			st->xdp_prog_id = xdp_program__id(xs.ours);
		}
		st->xdp_others = xs.others;
		xdp_state_free(&xs);
	}
	return 0;
}

/* ---- live XDP mode switch --------------------------------------------- */

static __u64 tc_judged(struct np_node *n)
{
	struct np_counter c = { 0 };
	int fd;

	fd = np_node_map_open(n, NP_MAP_STATS);
	if (fd < 0)
		return 0;
	np_percpu_counter_sum(fd, NP_STAT_IDX(NP_HOOK_TC_UPLINK_IN, NP_STAT_JUDGED), &c);
	close(fd);
	return c.packets;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int np_dp_set_xdp_mode(struct np_node *n, enum np_xdp_mode mode, struct np_xdp_switch *rep)
{
	bool legacy;
	struct xdp_handle next = { 0 }, back = { 0 };
	struct np_node_cfg cfg;
	char ifname[IF_NAMESIZE];
	struct xdp_state xs;
	__u64 judged0;
	double t0;
	int ifindex, err;

	memset(rep, 0, sizeof(*rep));
	err = n->pin_exists ? np_node_cfg_read(n, &cfg) : -ENOENT;
	if (!err)
		err = abi_check(n, &cfg);
	if (err == -EPROTO)
		return err;
	if (err || !(cfg.flags & NP_NODE_F_UP)) {
		np_err("node %s is not up (run: nodepath%s%s up --dev IF)", n->name,
		       n->is_ns ? " --node " : "", n->is_ns ? n->name : "");
		return -ENOTCONN;
	}
	ifindex = (int)cfg.uplink_ifindex;
	if (!if_indextoname((unsigned int)ifindex, ifname)) {
		np_err("uplink %.16s (ifindex %d) is gone %s", (char *)cfg.uplink_name, ifindex,
		       np_node_where(n));
		return -ENODEV;
	}
	err = xdp_state_get(ifindex, &xs);
	if (err) {
		np_err("query XDP on %s: %s", ifname, strerror(-err));
		return err;
	}
	rep->from = xs.ours ? xs.mode : NP_XDP_OFF;
	rep->to = mode;
	if (rep->from == mode) {
		xdp_state_free(&xs);
		if (cfg.xdp_mode != mode) {
			cfg.xdp_mode = mode;
			np_node_cfg_write(n, &cfg);
		}
		return 0;
	}
	if (xs.foreign_id) {
		np_err("%s has XDP program id %u (%s) attached without libxdp; refusing to attach "
		       "next to it",
		       ifname, xs.foreign_id, xs.foreign_name);
		xdp_state_free(&xs);
		return -EBUSY;
	}
	/*
	 * Attached without a dispatcher means libxdp found the kernel unable to
	 * run one (its compat check fails with EPERM on 6.18 here). Then load
	 * the new program before the gap and let libxdp attach it directly.
	 */
	legacy = xs.ours_is_main;
	if (legacy)
		setenv("LIBXDP_SKIP_DISPATCHER", "1", 1);
	/* Prepare the new program and the way back before the gap opens. */
	if (mode != NP_XDP_OFF && (err = xdp_prepare(n, ifname, cfg.pf_size, legacy, &next)))
		goto out_state;
	if (rep->from != NP_XDP_OFF && (err = xdp_prepare(n, ifname, cfg.pf_size, legacy, &back)))
		goto out_next;

	judged0 = tc_judged(n);
	t0 = now_ms();
	err = xdp_detach_ours(&xs, ifname, ifindex);
	if (err)
		goto out_back;
	if (mode != NP_XDP_OFF)
		err = xdp_attach(n, cfg.pf_size, &next, ifname, ifindex, mode);
	if (err && rep->from != NP_XDP_OFF) {
		if (!xdp_attach(n, cfg.pf_size, &back, ifname, ifindex, rep->from)) {
			rep->rolled_back = true;
			np_err("xdp-mode: rolled back to %s on %s", np_xdp_mode_name(rep->from),
			       ifname);
		}
	}
	rep->gap_ms = now_ms() - t0;
	rep->tc_judged = tc_judged(n) - judged0;
	rep->changed = !err;
	cfg.xdp_mode = err ? (rep->rolled_back ? rep->from : NP_XDP_OFF) : mode;
	np_node_cfg_write(n, &cfg);
out_back:
	xdp_release(&back);
out_next:
	xdp_release(&next);
out_state:
	xdp_state_free(&xs);
	return err;
}
