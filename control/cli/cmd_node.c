// SPDX-License-Identifier: GPL-2.0
/* nodepath up | down | status | xdp-mode | doctor */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <json-c/json.h>

#include "cli.h"
#include "datapath.h"
#include "doctor.h"
#include "endpoint.h"
#include "input.h"
#include "log.h"
#include "node.h"
#include "service.h"

static const char *node_flag(const struct np_cli *cli, char *buf, size_t len)
{
	if (!cli->node)
		return "";
	snprintf(buf, len, " --node %s", cli->node);
	return buf;
}

/* ---- up ---------------------------------------------------------------- */

static void up_usage(FILE *f)
{
	fprintf(f,
		"usage: nodepath [--node NS] up --dev IF [--xdp-mode native|generic|off]\n"
		"                             [--prefilter-size N] [--pod-cidr V4CIDR[,V6CIDR]]\n"
		"                             [--maglev-size M] [--ct-size N]\n\n"
		"Load the uplink datapath, attach tcx ingress and then XDP on IF, and pin\n"
		"the state under %s/<node>/.\n\n"
		"  --dev IF              the uplink device (1..15 bytes)\n"
		"  --xdp-mode MODE       native (default), generic or off (tcx only)\n"
		"  --prefilter-size N    rules per prefilter trie, 1..%u (default %u)\n"
		"  --maglev-size M       Maglev table per service, a prime 251..131071 (16381)\n"
		"  --ct-size N           connection tracking entries, 1024..16777216 (262144)\n"
		"  --pod-cidr R[,R]      the node's pod ranges (IPv4 /8../30, IPv6 /64../126);\n"
		"                        the pods' gateway is the first address of each.\n"
		"                        Needed by `endpoint add`\n"
		"  -h, --help            this help\n\n"
		"Running `up` again on the same device changes nothing and exits 0 (a new\n"
		"--pod-cidr is applied while the node has no endpoints). After `down`,\n"
		"`up` re-adopts the recorded endpoints and re-creates the recorded\n"
		"services (a service that no longer fits, e.g. more backends than\n"
		"--maglev-size, is named and kept aside for the next `up`).\n",
		NP_PIN_ROOT, NP_PF_MAX_SIZE, NP_PF_DEFAULT_SIZE);
}

int np_cmd_up(struct np_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dev", required_argument, NULL, 'd' },
		{ "xdp-mode", required_argument, NULL, 'm' },
		{ "prefilter-size", required_argument, NULL, 's' },
		{ "pod-cidr", required_argument, NULL, 'p' },
		{ "maglev-size", required_argument, NULL, 'M' },
		{ "ct-size", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	enum np_xdp_mode mode = NP_XDP_NATIVE;
	__u32 pf_size = NP_PF_DEFAULT_SIZE;
	struct np_node_cfg pods = { 0 };
	char err[256], nf[96], range[2 * NP_CIDR_STRLEN + 2];
	bool have_pods = false;
	const char *dev = NULL;
	__u32 maglev_size = 0, ct_size = 0;
	struct np_node n;
	int c, ret, pending;

	while ((c = getopt_long(argc, argv, "hd:m:s:p:", opts, NULL)) != -1) {
		switch (c) {
		case 'M':
			if (np_svc_parse_maglev_size(optarg, &maglev_size, err, sizeof(err)))
				return np_usage_err("up", "%s", err);
			break;
		case 'C':
			if (np_svc_parse_ct_size(optarg, &ct_size, err, sizeof(err)))
				return np_usage_err("up", "%s", err);
			break;
		case 'd':
			dev = optarg;
			break;
		case 'm':
			if (np_parse_xdp_mode(optarg, &mode, err, sizeof(err)))
				return np_usage_err("up", "--xdp-mode: %s", err);
			break;
		case 's':
			if (np_parse_u32("--prefilter-size", optarg, 1, NP_PF_MAX_SIZE, &pf_size,
					 err, sizeof(err)))
				return np_usage_err("up", "%s", err);
			break;
		case 'p':
			if (np_ep_parse_pod_cidr(optarg, &pods, err, sizeof(err)))
				return np_usage_err("up", "%s", err);
			have_pods = true;
			break;
		case 'h':
			up_usage(stdout);
			return NP_EXIT_OK;
		default:
			return np_usage_err("up", "unknown option");
		}
	}
	if (optind < argc)
		return np_usage_err("up", "unexpected argument \"%s\"", argv[optind]);
	if (!dev)
		return np_usage_err("up", "--dev IF is required");
	if (np_check_ifname(dev, err, sizeof(err)))
		return np_usage_err("up", "--dev: %s", err);

	if (np_node_open(cli->node, NP_NODE_CREATE | NP_NODE_LOCK, &n))
		return NP_EXIT_FAIL;
	np_svc_set_sizes(maglev_size, ct_size);
	ret = np_dp_up(&n, dev, mode, pf_size, have_pods ? &pods : NULL);
	if (ret == -EALREADY) {
		struct np_dp_status st;

		printf("node %s: already up on %s", n.name, dev);
		if (!np_dp_status(&n, &st)) {
			np_ep_format_pod_cidr(&st.cfg, range, sizeof(range));
			printf(", pod range %s", range[0] ? range : "none");
		}
		if (!np_dp_status(&n, &st) && st.xdp_mode != (unsigned int)mode)
			printf(" (XDP %s; switch with: nodepath%s xdp-mode %s)",
			       np_xdp_mode_name(st.xdp_mode), node_flag(cli, nf, sizeof(nf)),
			       np_xdp_mode_name(mode));
		printf("\n");
		np_node_close(&n);
		return NP_EXIT_OK;
	}
	if (ret) {
		np_node_discard(&n);
		np_node_close(&n);
		return NP_EXIT_FAIL;
	}
	np_ep_format_pod_cidr(&pods, range, sizeof(range));
	printf("node %s: up on %s: tcx ingress + XDP %s, prefilter %u rules per family, pod range "
	       "%s, pins in %s\n",
	       n.name, dev, np_xdp_mode_name(mode), pf_size, range[0] ? range : "none", n.pin_dir);
	ret = np_ep_count(&n);
	if (ret > 0)
		printf("node %s: re-adopted %d endpoint%s (see: nodepath%s endpoint list)\n",
		       n.name, ret, ret == 1 ? "" : "s", node_flag(cli, nf, sizeof(nf)));
	ret = np_svc_count(&n, false);
	pending = np_svc_count(&n, true);
	if (ret > 0 || pending > 0)
		printf("node %s: restored %d service%s (see: nodepath%s service list)\n", n.name,
		       ret, ret == 1 ? "" : "s", node_flag(cli, nf, sizeof(nf)));
	if (pending > 0)
		printf("node %s: %d service record%s not restored (see the messages above), "
		       "kept in %s/%s for the next `up`; `nodepath%s down --purge` forgets %s\n",
		       n.name, pending, pending == 1 ? "" : "s", n.pin_dir, NP_SVC_PENDING_DIR,
		       node_flag(cli, nf, sizeof(nf)), pending == 1 ? "it" : "them");
	np_node_close(&n);
	return NP_EXIT_OK;
}

/* ---- down -------------------------------------------------------------- */

static void down_usage(FILE *f)
{
	fprintf(f, "usage: nodepath [--node NS] down [--purge]\n\n"
		   "Detach nodepath's XDP program (other programs in libxdp's dispatcher\n"
		   "stay) and its tcx link from the uplink, and remove the node's pins.\n"
		   "A node that is not up is left alone: \"nothing to do\", exit 0.\n"
		   "Endpoints lose their pod programs (links unpinned), but their\n"
		   "devices, addresses, routes and records stay: the pods fall back\n"
		   "to the host stack until `up` re-adopts them (its --pod-cidr\n"
		   "must contain their addresses).\n"
		   "Services lose their maps (conntrack and affinity state with them),\n"
		   "but their records stay: `up` re-creates them.\n\n"
		   "  --purge      also forget the services (their records), also on a\n"
		   "               node that is down already; endpoints are kept either\n"
		   "               way (remove them with `endpoint del` while up)\n"
		   "  -h, --help   this help\n");
}

int np_cmd_down(struct np_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "purge", no_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct np_node n;
	bool purge = false;
	int c, ret, eps = 0, svcs = 0;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'P':
			purge = true;
			break;
		case 'h':
			down_usage(stdout);
			return NP_EXIT_OK;
		default:
			return np_usage_err("down", "unknown option");
		}
	}
	if (optind < argc)
		return np_usage_err("down", "unexpected argument \"%s\"", argv[optind]);
	if (np_node_open(cli->node, NP_NODE_LOCK, &n))
		return NP_EXIT_FAIL;
	ret = np_dp_down(&n, purge, &eps, &svcs);
	np_node_close(&n);
	if (ret == -ENOENT) {
		printf("node %s: not up, nothing to do", n.name);
		if (eps)
			printf(" (%d endpoint%s recorded for `up` to re-adopt)", eps,
			       eps == 1 ? "" : "s");
		if (svcs && purge)
			printf("; forgot %d service record%s", svcs, svcs == 1 ? "" : "s");
		else if (svcs)
			printf(" (%d service%s recorded for `up` to restore)", svcs,
			       svcs == 1 ? "" : "s");
		printf("\n");
		return NP_EXIT_OK;
	}
	if (ret)
		return NP_EXIT_FAIL;
	printf("node %s: down; XDP and tcx detached, pins removed\n", n.name);
	if (eps)
		printf("node %s: %d endpoint%s kept: %s; `up` re-adopts %s\n", n.name, eps,
		       eps == 1 ? "" : "s",
		       eps == 1 ? "its devices stay and fall back to the host stack"
				: "their devices stay and fall back to the host stack",
		       eps == 1 ? "it" : "them");
	if (svcs && purge)
		printf("node %s: %d service%s forgotten (--purge)\n", n.name, svcs,
		       svcs == 1 ? "" : "s");
	else if (svcs)
		printf("node %s: %d service%s kept as records; `up` restores %s (`down --purge` "
		       "forgets %s)\n",
		       n.name, svcs, svcs == 1 ? "" : "s", svcs == 1 ? "it" : "them",
		       svcs == 1 ? "it" : "them");
	return NP_EXIT_OK;
}

/* ---- status ------------------------------------------------------------ */

static void status_usage(FILE *f)
{
	fprintf(f, "usage: nodepath [--node NS] status [--json]\n\n"
		   "What is attached on the node's uplink, in which mode, and where\n"
		   "its state is pinned.\n");
}

int np_cmd_status(struct np_cli *cli, int argc, char **argv)
{
	char range[2 * NP_CIDR_STRLEN + 2];
	struct np_dp_status st;
	bool json = false;
	struct np_node n;
	int ret, svcs, pend;

	ret = np_cli_json_opts("status", argc, argv, status_usage, &json);
	if (ret != NP_GO_ON)
		return ret;
	if (np_node_open(cli->node, 0, &n))
		return NP_EXIT_FAIL;
	ret = np_dp_status(&n, &st);
	np_node_close(&n);
	if (ret)
		return NP_EXIT_FAIL;
	svcs = np_svc_count(&n, false); /* live records; kept ones when down */
	pend = np_svc_count(&n, true);
	np_ep_format_pod_cidr(&st.cfg, range, sizeof(range));

	if (json) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "node", json_object_new_string(n.name));
		json_object_object_add(o, "up", json_object_new_boolean(st.up));
		json_object_object_add(o, "uplink",
				       st.up ? json_object_new_string((char *)st.cfg.uplink_name)
					     : NULL);
		json_object_object_add(o, "ifindex",
				       json_object_new_int64(st.up ? st.cfg.uplink_ifindex : 0));
		json_object_object_add(o, "xdp_mode",
				       json_object_new_string(np_xdp_mode_name(st.xdp_mode)));
		json_object_object_add(o, "xdp_prog_id", json_object_new_int64(st.xdp_prog_id));
		json_object_object_add(o, "tcx_uplink_ingress",
				       json_object_new_boolean(st.tcx_uplink_in));
		json_object_object_add(o, "tcx_prog_id", json_object_new_int64(st.tcx_prog_id));
		json_object_object_add(o, "pin_dir", json_object_new_string(n.pin_dir));
		json_object_object_add(o, "prefilter_size",
				       json_object_new_int64(st.up ? st.cfg.pf_size : 0));
		json_object_object_add(o, "pod_cidr",
				       st.up && range[0] ? json_object_new_string(range) : NULL);
		json_object_object_add(o, "endpoints", json_object_new_int(st.endpoints));
		json_object_object_add(o, "services", json_object_new_int(svcs));
		json_object_object_add(o, "services_not_restored", json_object_new_int(pend));
		json_object_object_add(
			o, "abi_version",
			json_object_new_int64(st.pinned ? st.cfg.abi_version : NP_ABI_VERSION));
		printf("%s\n", json_object_to_json_string_ext(
				       o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
		return NP_EXIT_OK;
	}
	printf("node            %s\n", n.name);
	if (st.up)
		printf("up              yes\n");
	else if (st.endpoints)
		printf("up              no (down; %d endpoint%s recorded, `up` re-adopts "
		       "them)\n",
		       st.endpoints, st.endpoints == 1 ? "" : "s");
	else
		printf("up              no\n");
	if (!st.up && svcs)
		printf("services        %d recorded, `up` restores them\n", svcs);
	if (pend)
		printf("not restored    %d service record%s in %s/%s (the next `up` retries; "
		       "`down --purge` forgets)\n",
		       pend, pend == 1 ? "" : "s", n.pin_dir, NP_SVC_PENDING_DIR);
	if (st.up) {
		printf("uplink          %.16s (ifindex %u)\n", (char *)st.cfg.uplink_name,
		       st.cfg.uplink_ifindex);
		if (st.xdp_prog_id)
			printf("xdp             %s (prog id %u%s)\n", np_xdp_mode_name(st.xdp_mode),
			       st.xdp_prog_id, st.xdp_others ? ", shares libxdp's dispatcher" : "");
		else
			printf("xdp             off\n");
		if (st.tcx_uplink_in)
			printf("tcx ingress     attached (prog id %u)\n", st.tcx_prog_id);
		else
			printf("tcx ingress     NOT attached (run: nodepath down; nodepath up)\n");
		printf("prefilter size  %u rules per family\n", st.cfg.pf_size);
		printf("pod range       %s\n", range[0] ? range : "none (up --pod-cidr ...)");
		printf("endpoints       %d\n", st.endpoints);
		printf("services        %d\n", svcs);
		if (st.xdp_mode != st.cfg.xdp_mode)
			printf("warning         recorded XDP mode %s differs from the kernel's "
			       "%s\n",
			       np_xdp_mode_name(st.cfg.xdp_mode), np_xdp_mode_name(st.xdp_mode));
	}
	printf("pins            %s%s\n", n.pin_dir, n.pin_exists ? "" : " (absent)");
	return NP_EXIT_OK;
}

/* ---- xdp-mode ---------------------------------------------------------- */

int np_cmd_xdp_mode(struct np_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct np_xdp_switch rep;
	enum np_xdp_mode mode;
	struct np_node n;
	char err[256];
	int c, ret;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			printf("usage: nodepath [--node NS] xdp-mode native|generic|off\n\n"
			       "Switch the uplink's XDP program live. The kernel cannot hold "
			       "native\n"
			       "and generic at once, so this detaches and re-attaches; meanwhile "
			       "the\n"
			       "tcx program judges every packet XDP did not. If the new mode "
			       "cannot\n"
			       "be attached, the old one is restored (exit 1). `off` leaves tcx "
			       "only.\n");
			return NP_EXIT_OK;
		default:
			return np_usage_err("xdp-mode", "unknown option");
		}
	}
	if (optind >= argc)
		return np_usage_err("xdp-mode", "which mode? (native, generic or off)");
	if (optind + 1 < argc)
		return np_usage_err("xdp-mode", "unexpected argument \"%s\"", argv[optind + 1]);
	if (np_parse_xdp_mode(argv[optind], &mode, err, sizeof(err)))
		return np_usage_err("xdp-mode", "%s", err);

	if (np_node_open(cli->node, NP_NODE_LOCK, &n))
		return NP_EXIT_FAIL;
	ret = np_dp_set_xdp_mode(&n, mode, &rep);
	np_node_close(&n);
	if (!ret && !rep.changed) {
		printf("xdp-mode: already %s on node %s\n", np_xdp_mode_name(mode), n.name);
		return NP_EXIT_OK;
	}
	if (ret) {
		if (rep.rolled_back)
			printf("xdp-mode: %s -> %s failed; back on %s after %.1f ms; tc judged "
			       "%llu "
			       "packets meanwhile\n",
			       np_xdp_mode_name(rep.from), np_xdp_mode_name(rep.to),
			       np_xdp_mode_name(rep.from), rep.gap_ms,
			       (unsigned long long)rep.tc_judged);
		return NP_EXIT_FAIL;
	}
	printf("xdp-mode: %s -> %s in %.1f ms; tc judged %llu packets meanwhile\n",
	       np_xdp_mode_name(rep.from), np_xdp_mode_name(rep.to), rep.gap_ms,
	       (unsigned long long)rep.tc_judged);
	return NP_EXIT_OK;
}

/* ---- doctor ------------------------------------------------------------ */

int np_cmd_doctor(struct np_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dev", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *dev = NULL;
	bool json = false;
	struct np_node n;
	char err[256];
	int c, ret;

	while ((c = getopt_long(argc, argv, "hd:j", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			dev = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			printf("usage: nodepath [--node NS] doctor [--dev IF] [--json]\n\n"
			       "Probe what this kernel and the uplink support: bpffs, tcx, "
			       "netkit,\n"
			       "native XDP (on the node's uplink or --dev IF), AF_XDP, "
			       "live-frames\n"
			       "BPF_PROG_RUN, library and kernel versions. Probes that need to\n"
			       "attach run in a throwaway network namespace, never on your "
			       "devices\n"
			       "(except the native XDP probe on the uplink, which attaches "
			       "nothing\n"
			       "when a program is there and detaches its probe at once).\n");
			return NP_EXIT_OK;
		default:
			return np_usage_err("doctor", "unknown option");
		}
	}
	if (optind < argc)
		return np_usage_err("doctor", "unexpected argument \"%s\"", argv[optind]);
	if (dev && np_check_ifname(dev, err, sizeof(err)))
		return np_usage_err("doctor", "--dev: %s", err);
	if (np_node_open(cli->node, 0, &n))
		return NP_EXIT_FAIL;
	ret = np_doctor_run(&n, dev, json);
	np_node_close(&n);
	return ret ? NP_EXIT_FAIL : NP_EXIT_OK;
}
