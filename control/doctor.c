// SPDX-License-Identifier: GPL-2.0
#include <dlfcn.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <linux/if_link.h>
#include <linux/magic.h>
#include <linux/rtnetlink.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <json-c/json.h>
#include <libmnl/libmnl.h>
#include <xdp/libxdp.h>

#include "datapath.h"
#include "doctor.h"
#include "input.h"
#include "log.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static struct np_probe *probe_set(struct np_probe *p, const char *name, int result, const char *fmt,
				  ...) __attribute__((format(printf, 4, 5)));

static struct np_probe *probe_set(struct np_probe *p, const char *name, int result, const char *fmt,
				  ...)
{
	va_list ap;

	snprintf(p->name, sizeof(p->name), "%s", name);
	p->result = result;
	va_start(ap, fmt);
	vsnprintf(p->detail, sizeof(p->detail), fmt, ap);
	va_end(ap);
	return p;
}

/* Trivial programs: r0 = imm; exit. */
static int load_ret_prog(enum bpf_prog_type type, enum bpf_attach_type eat, int ret)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = ret },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, o, .expected_attach_type = eat);
	int fd;

	fd = bpf_prog_load(type, "np_probe", "GPL", insns, ARRAY_SIZE(insns), &o);
	return fd < 0 ? -errno : fd;
}

/* ---- probes inside a throwaway netns (a forked child) ------------------ */

static void lo_up(void)
{
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (s < 0)
		return;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (!ioctl(s, SIOCGIFFLAGS, &ifr)) {
		ifr.ifr_flags |= IFF_UP;
		ioctl(s, SIOCSIFFLAGS, &ifr);
	}
	close(s);
}

static void probe_tcx(struct np_probe *p)
{
	int prog, link;

	prog = load_ret_prog(BPF_PROG_TYPE_SCHED_CLS, BPF_TCX_INGRESS, -1 /* TCX_NEXT */);
	if (prog < 0) {
		probe_set(p, "tcx", NP_PROBE_NO, "load SCHED_CLS probe: %s", strerror(-prog));
		return;
	}
	link = bpf_link_create(prog, (int)if_nametoindex("lo"), BPF_TCX_INGRESS, NULL);
	if (link < 0)
		probe_set(p, "tcx", NP_PROBE_NO, "attach tcx ingress on lo: %s%s", strerror(errno),
			  errno == EINVAL ? " (kernel older than 6.6?)" : "");
	else
		probe_set(p, "tcx", NP_PROBE_YES, "tcx ingress link on lo in a throwaway netns");
	if (link >= 0)
		close(link);
	close(prog);
}

static void probe_netkit(struct np_probe *p)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifm;
	struct nlattr *li;
	unsigned int seq = 1;
	int ret;

	nl = mnl_socket_open(NETLINK_ROUTE);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID)) {
		probe_set(p, "netkit", NP_PROBE_NA, "netlink socket: %s", strerror(errno));
		if (nl)
			mnl_socket_close(nl);
		return;
	}
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, "npprobe0");
	li = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "netkit");
	mnl_attr_nest_end(nlh, li);
	ret = mnl_socket_sendto(nl, nlh, nlh->nlmsg_len);
	if (ret >= 0)
		ret = (int)mnl_socket_recvfrom(nl, buf, sizeof(buf));
	if (ret >= 0)
		ret = mnl_cb_run(buf, (size_t)ret, seq, mnl_socket_get_portid(nl), NULL, NULL);
	if (ret >= 0)
		probe_set(p, "netkit", NP_PROBE_YES, "created a netkit pair in a throwaway netns");
	else if (errno == EOPNOTSUPP)
		probe_set(p, "netkit", NP_PROBE_NO, "CONFIG_NETKIT not set; pods use veth");
	else
		probe_set(p, "netkit", NP_PROBE_NO, "create netkit link: %s", strerror(errno));
	mnl_socket_close(nl);
}

static void probe_live_frames(struct np_probe *p)
{
	unsigned char pkt[64];
	struct xdp_md ctx;
	int prog, err;

	prog = load_ret_prog(BPF_PROG_TYPE_XDP, BPF_XDP, 1 /* XDP_DROP */);
	if (prog < 0) {
		probe_set(p, "xdp_live_frames", NP_PROBE_NO, "load XDP probe: %s", strerror(-prog));
		return;
	}
	memset(pkt, 0, sizeof(pkt));
	memset(pkt, 0xff, 6);		/* broadcast destination */
	pkt[6] = 0x02;			/* locally administered source */
	pkt[12] = 0x88, pkt[13] = 0xb5; /* local experimental ethertype */
	memset(&ctx, 0, sizeof(ctx));
	ctx.data_end = sizeof(pkt);
	ctx.ingress_ifindex = if_nametoindex("lo");
	{
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = sizeof(pkt),
			    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = 1,
			    .flags = BPF_F_TEST_XDP_LIVE_FRAMES);

		err = bpf_prog_test_run_opts(prog, &o);
	}
	if (err)
		probe_set(p, "xdp_live_frames", NP_PROBE_NO,
			  "BPF_PROG_RUN with BPF_F_TEST_XDP_LIVE_FRAMES: %s", strerror(errno));
	else
		probe_set(p, "xdp_live_frames", NP_PROBE_YES,
			  "BPF_PROG_RUN live frames (the pps generator works)");
	close(prog);
}

/* Fork, unshare the netns, run the probes there, send results back by pipe. */
static int probe_in_throwaway_netns(struct np_probe *out, int max)
{
	struct np_probe res[3];
	int pfd[2], status, n = 0;
	ssize_t got;
	pid_t pid;

	if (pipe(pfd))
		return -errno;
	pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return -errno;
	}
	if (pid == 0) {
		close(pfd[0]);
		memset(res, 0, sizeof(res));
		if (unshare(CLONE_NEWNET)) {
			for (int i = 0; i < 3; i++)
				probe_set(&res[i],
					  i == 0   ? "tcx"
					  : i == 1 ? "netkit"
						   : "xdp_live_frames",
					  NP_PROBE_NA, "unshare(CLONE_NEWNET): %s",
					  strerror(errno));
		} else {
			lo_up();
			probe_tcx(&res[0]);
			probe_netkit(&res[1]);
			probe_live_frames(&res[2]);
		}
		got = write(pfd[1], res, sizeof(res));
		_exit(got == (ssize_t)sizeof(res) ? 0 : 1);
	}
	close(pfd[1]);
	got = read(pfd[0], res, sizeof(res));
	close(pfd[0]);
	waitpid(pid, &status, 0);
	if (got != (ssize_t)sizeof(res))
		return -EIO;
	for (int i = 0; i < 3 && n < max; i++)
		out[n++] = res[i];
	return n;
}

/* ---- probes in the node's own netns ----------------------------------- */

static void probe_native_xdp(struct np_node *node, const char *dev, struct np_probe *p)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	struct np_dp_status st;
	char ifname[IF_NAMESIZE];
	int ifindex, prog, err;

	if (np_dp_status(node, &st))
		memset(&st, 0, sizeof(st));
	if (!dev && st.up) {
		snprintf(ifname, sizeof(ifname), "%.15s", (char *)st.cfg.uplink_name);
		dev = ifname;
	}
	if (!dev) {
		probe_set(p, "native_xdp", NP_PROBE_NA,
			  "node %s is not up; name a device with --dev IF", node->name);
		return;
	}
	ifindex = (int)if_nametoindex(dev);
	if (!ifindex) {
		probe_set(p, "native_xdp", NP_PROBE_NA,
			  "no such interface \"%s\" %s (see: ip link)", dev, np_node_where(node));
		return;
	}
	if (st.up && (__u32)ifindex == st.cfg.uplink_ifindex && st.xdp_prog_id) {
		probe_set(p, "native_xdp",
			  st.xdp_mode == NP_XDP_NATIVE ? NP_PROBE_YES : NP_PROBE_NA,
			  "nodepath is attached to %s in %s mode%s", dev,
			  np_xdp_mode_name(st.xdp_mode),
			  st.xdp_mode == NP_XDP_NATIVE ? "" : " (not probing native under it)");
		return;
	}
	if (bpf_xdp_query(ifindex, 0, &q)) {
		probe_set(p, "native_xdp", NP_PROBE_NA, "query XDP on %s: %s", dev,
			  strerror(errno));
		return;
	}
	if (q.drv_prog_id) {
		probe_set(p, "native_xdp", NP_PROBE_YES, "%s runs XDP program id %u in native mode",
			  dev, q.drv_prog_id);
		return;
	}
	if (q.skb_prog_id || q.hw_prog_id) {
		probe_set(p, "native_xdp", NP_PROBE_NA,
			  "%s runs XDP program id %u in %s mode; not probing native next to it",
			  dev, q.skb_prog_id ? q.skb_prog_id : q.hw_prog_id,
			  q.skb_prog_id ? "generic" : "offload");
		return;
	}
	prog = load_ret_prog(BPF_PROG_TYPE_XDP, BPF_XDP, 2 /* XDP_PASS */);
	if (prog < 0) {
		probe_set(p, "native_xdp", NP_PROBE_NA, "load XDP probe: %s", strerror(-prog));
		return;
	}
	err = bpf_xdp_attach(ifindex, prog, XDP_FLAGS_DRV_MODE | XDP_FLAGS_UPDATE_IF_NOEXIST, NULL);
	if (!err) {
		bpf_xdp_detach(ifindex, XDP_FLAGS_DRV_MODE, NULL);
		probe_set(p, "native_xdp", NP_PROBE_YES,
			  "%s accepts native XDP (an XDP_PASS probe, detached at once)", dev);
	} else if (err == -EOPNOTSUPP) {
		probe_set(p, "native_xdp", NP_PROBE_NO,
			  "the driver of %s has no native XDP; use --xdp-mode generic", dev);
	} else {
		probe_set(p, "native_xdp", NP_PROBE_NO, "attach native XDP probe on %s: %s", dev,
			  strerror(-err));
	}
	close(prog);
}

static void probe_af_xdp(struct np_probe *p)
{
	int s = socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0);

	if (s < 0) {
		probe_set(p, "af_xdp", NP_PROBE_NO, "socket(AF_XDP): %s", strerror(errno));
		return;
	}
	close(s);
	probe_set(p, "af_xdp", NP_PROBE_YES, "AF_XDP sockets (veth: copy mode only)");
}

static void lib_file(void *sym, char *buf, size_t len)
{
	char real[PATH_MAX];
	Dl_info info;

	if (dladdr(sym, &info) && info.dli_fname && realpath(info.dli_fname, real))
		snprintf(buf, len, "%s", basename(real));
	else
		snprintf(buf, len, "unknown");
}

int np_doctor_probe(struct np_node *n, const char *dev, struct np_probe *out)
{
	char xdpfile[64], bpffile[64];
	struct statfs sfs;
	struct utsname u;
	int cnt = 0, r;

	if (!statfs("/sys/fs/bpf", &sfs) && sfs.f_type == BPF_FS_MAGIC)
		probe_set(&out[cnt++], "bpffs", NP_PROBE_YES, "mounted on /sys/fs/bpf");
	else
		probe_set(&out[cnt++], "bpffs", NP_PROBE_NO,
			  "not mounted on /sys/fs/bpf (`nodepath up` mounts it)");
	r = probe_in_throwaway_netns(&out[cnt], 3);
	if (r < 0)
		probe_set(&out[cnt++], "netns_probes", NP_PROBE_NA, "throwaway netns: %s",
			  strerror(-r));
	else
		cnt += r;
	probe_native_xdp(n, dev, &out[cnt++]);
	probe_af_xdp(&out[cnt++]);
	lib_file((void *)libbpf_version_string, bpffile, sizeof(bpffile));
	probe_set(&out[cnt++], "libbpf", NP_PROBE_INFO, "%s (%s)", libbpf_version_string(),
		  bpffile);
	lib_file((void *)xdp_program__attach, xdpfile, sizeof(xdpfile));
	probe_set(&out[cnt++], "libxdp", NP_PROBE_INFO, "%s", xdpfile);
	if (!uname(&u))
		probe_set(&out[cnt++], "kernel", NP_PROBE_INFO, "%s %s", u.sysname, u.release);
	return cnt;
}

static const char *result_str(int r)
{
	switch (r) {
	case NP_PROBE_YES:
		return "yes";
	case NP_PROBE_NO:
		return "no";
	case NP_PROBE_NA:
		return "n/a";
	default:
		return "";
	}
}

int np_doctor_run(struct np_node *n, const char *dev, bool json)
{
	struct np_probe p[NP_DOCTOR_MAX_PROBES];
	int cnt;

	memset(p, 0, sizeof(p));
	cnt = np_doctor_probe(n, dev, p);
	if (cnt < 0)
		return cnt;
	if (json) {
		struct json_object *o = json_object_new_object(), *arr = json_object_new_array();

		for (int i = 0; i < cnt; i++) {
			struct json_object *e = json_object_new_object();

			json_object_object_add(e, "probe", json_object_new_string(p[i].name));
			if (p[i].result == NP_PROBE_YES || p[i].result == NP_PROBE_NO)
				json_object_object_add(
					e, "ok",
					json_object_new_boolean(p[i].result == NP_PROBE_YES));
			else
				json_object_object_add(e, "ok", NULL);
			json_object_object_add(e, "detail", json_object_new_string(p[i].detail));
			json_object_array_add(arr, e);
		}
		json_object_object_add(o, "node", json_object_new_string(n->name));
		json_object_object_add(o, "probes", arr);
		printf("%s\n", json_object_to_json_string_ext(
				       o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
		return 0;
	}
	for (int i = 0; i < cnt; i++)
		printf("%-16s %-4s %s\n", p[i].name, result_str(p[i].result), p[i].detail);
	return 0;
}
