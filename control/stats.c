// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "log.h"
#include "stats.h"

const char *const np_stat_names[] = {
	[NP_STAT_RX] = "rx",
	[NP_STAT_PASS] = "pass",
	[NP_STAT_SKIPPED] = "skipped",
	[NP_STAT_JUDGED] = "judged",
	[NP_STAT_NOT_IP] = "not_ip",
	[NP_STAT_PF_ALLOW] = "pf_allow",
	[NP_STAT_PF_RATE_PASS] = "pf_rate_pass",
	[NP_STAT_META_FAIL] = "meta_fail",
	[NP_STAT_TO_EP] = "to_ep",
	[NP_STAT_TO_UPLINK] = "to_uplink",
	[NP_STAT_TO_STACK] = "to_stack",
	[NP_STAT_ARP_REPLY] = "arp_reply",
	[NP_STAT_ND_REPLY] = "nd_reply",
	[NP_STAT_LB_NEW] = "lb_new",
	[NP_STAT_LB_CT_HIT] = "lb_ct_hit",
	[NP_STAT_LB_REVNAT] = "lb_revnat",
	[NP_STAT_LB_TX] = "lb_tx",
	[NP_STAT_TO_XSK] = "to_xsk",
	[NP_DROP_PF_DENY] = "pf_deny",
	[NP_DROP_PF_RATE] = "pf_rate",
	[NP_DROP_L2_TRUNC] = "l2_trunc",
	[NP_DROP_L2_VLAN_DEPTH] = "l2_vlan_depth",
	[NP_DROP_IP4_TRUNC] = "ip4_trunc",
	[NP_DROP_IP4_VERSION] = "ip4_version",
	[NP_DROP_IP4_IHL] = "ip4_ihl",
	[NP_DROP_IP4_TOTLEN] = "ip4_totlen",
	[NP_DROP_IP4_FRAG_TINY] = "ip4_frag_tiny",
	[NP_DROP_IP4_FRAG_OFF] = "ip4_frag_off",
	[NP_DROP_IP6_TRUNC] = "ip6_trunc",
	[NP_DROP_IP6_VERSION] = "ip6_version",
	[NP_DROP_IP6_PAYLEN] = "ip6_paylen",
	[NP_DROP_IP6_EXT_TRUNC] = "ip6_ext_trunc",
	[NP_DROP_IP6_EXT_CHAIN] = "ip6_ext_chain",
	[NP_DROP_IP6_FRAG_TINY] = "ip6_frag_tiny",
	[NP_DROP_TCP_TRUNC] = "tcp_trunc",
	[NP_DROP_TCP_DOFF] = "tcp_doff",
	[NP_DROP_UDP_TRUNC] = "udp_trunc",
	[NP_DROP_UDP_LEN] = "udp_len",
	[NP_DROP_ICMP_TRUNC] = "icmp_trunc",
	[NP_DROP_POD_SPOOF] = "pod_spoof",
	[NP_DROP_POD_UNKNOWN] = "pod_unknown",
	[NP_DROP_ARP_BAD] = "arp_bad",
	[NP_DROP_FIB] = "fib",
	[NP_DROP_REDIRECT] = "redirect",
	[NP_DROP_NO_BACKEND] = "no_backend",
	[NP_DROP_SRC_RANGE] = "src_range",
	[NP_DROP_SNAT_PORTS] = "snat_ports",
	[NP_DROP_LB_FRAG] = "lb_frag",
};

const size_t np_stat_names_count = sizeof(np_stat_names) / sizeof(np_stat_names[0]);

static const char *const hook_names[NP_HOOK__MAX] = {
	[NP_HOOK_XDP] = "xdp",
	[NP_HOOK_TC_UPLINK_IN] = "tc_uplink_in",
	[NP_HOOK_TC_POD_FROM] = "tc_pod_from",
	[NP_HOOK_TC_POD_TO] = "tc_pod_to",
};

const char *np_stat_name(unsigned int stat)
{
	return stat < np_stat_names_count ? np_stat_names[stat] : NULL;
}

const char *np_hook_name(unsigned int hook)
{
	return hook < NP_HOOK__MAX ? hook_names[hook] : NULL;
}

int np_percpu_counter_sum(int map_fd, __u32 key, struct np_counter *sum)
{
	struct np_counter *vals;
	int ncpu, err = 0;

	ncpu = libbpf_num_possible_cpus();
	if (ncpu <= 0)
		return ncpu < 0 ? ncpu : -EINVAL;
	/* sizeof(struct np_counter) is a multiple of 8: no per-CPU padding. */
	vals = calloc((size_t)ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	if (bpf_map_lookup_elem(map_fd, &key, vals)) {
		err = -errno;
		goto out;
	}
	memset(sum, 0, sizeof(*sum));
	for (int i = 0; i < ncpu; i++) {
		sum->packets += vals[i].packets;
		sum->bytes += vals[i].bytes;
	}
out:
	free(vals);
	return err;
}

int np_stats_read(int map_fd, struct np_counter *out)
{
	int err;

	for (__u32 i = 0; i < NP_STATS_ENTRIES; i++) {
		err = np_percpu_counter_sum(map_fd, i, &out[i]);
		if (err) {
			np_err("read %s[%u]: %s", NP_MAP_STATS, i, strerror(-err));
			return err;
		}
	}
	return 0;
}
