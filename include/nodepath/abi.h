/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * The contract between nodepath's BPF programs and its user-space control
 * code. Both sides include this file unchanged: only fixed-width UAPI types,
 * explicit padding, and one size assert per struct.
 *
 * Change a struct here and you change the pinned-map ABI: bump NP_ABI_VERSION.
 */
#ifndef NP_ABI_H
#define NP_ABI_H

#include <linux/types.h>
#include <linux/bpf.h> /* struct bpf_spin_lock */

#define NP_ABI_VERSION 2

#ifndef __cplusplus
#define NP_STATIC_ASSERT(c, m) _Static_assert(c, m)
#else
#define NP_STATIC_ASSERT(c, m) static_assert(c, m)
#endif

/* ---- Pinning ---------------------------------------------------------- */

/* State of node <node> lives under NP_PIN_ROOT "/" <node> "/". */
#define NP_PIN_ROOT "/sys/fs/bpf/nodepath"
/* The node name used when no --node is given: the host itself. */
#define NP_NODE_HOST "host"

/* ---- Map names (at most 15 characters: BPF_OBJ_NAME_LEN - 1) --------- */

#define NP_MAP_NODE "np_node"	      /* one-entry array: struct np_node_cfg */
#define NP_MAP_STATS "np_stats"	      /* per-CPU array: struct np_counter */
#define NP_MAP_PF_V4 "np_pf_v4"	      /* LPM trie: np_lpm4_key -> np_pf_rule */
#define NP_MAP_PF_V6 "np_pf_v6"	      /* LPM trie: np_lpm6_key -> np_pf_rule */
#define NP_MAP_PF_HITS "np_pf_hits"   /* per-CPU array by rule id: np_counter */
#define NP_MAP_PF_TB "np_pf_tb"	      /* array by rule id: np_tbucket */
#define NP_MAP_EP "np_endpoints"      /* hash: np_ep_key -> np_endpoint (by address) */
#define NP_MAP_EP_DEV "np_ep_devs"    /* hash: host-side ifindex -> np_ep_dev */
#define NP_MAP_EP_STATS "np_ep_stats" /* per-CPU array by endpoint id: np_ep_stats */

/* ---- Sizes and bounds ------------------------------------------------- */

/* Default capacity of each prefilter LPM trie; `up --prefilter-size` sets it. */
#define NP_PF_DEFAULT_SIZE 8192
/* Hard ceiling for --prefilter-size. */
#define NP_PF_MAX_SIZE 65536
/*
 * Rule ids index np_pf_hits and np_pf_tb. v4 and v6 rules share one id
 * space of 2 * size entries; id 0 is never used so a zeroed value is "none".
 */
#define NP_PF_IDS(size) (2 * (size) + 1)

/* Endpoints per node; ids 1..NP_EP_MAX-1 (0 is "none"). */
#define NP_EP_MAX 4096

/* Address families as the parser reports them (Linux AF_INET, AF_INET6). */
#define NP_AF_INET 2
#define NP_AF_INET6 10

/* Parser bounds (verifier loop bounds as much as policy). */
#define NP_MAX_VLAN_DEPTH 2 /* 802.1ad outer + 802.1Q inner */
#define NP_MAX_IPV6_EXT 6   /* extension headers walked before giving up */

/* ---- Hooks: which program counted a statistic ------------------------ */

enum np_hook {
	NP_HOOK_XDP = 0,	  /* xdp/np_xdp.bpf.c on the uplink */
	NP_HOOK_TC_UPLINK_IN = 1, /* tc/np_netdev.bpf.c, tcx ingress on the uplink */
	NP_HOOK_TC_POD_FROM = 2,  /* tc/np_pod.bpf.c: from the pod (veth host side tcx
				   * ingress, or the netkit primary hook) */
	NP_HOOK_TC_POD_TO = 3,	  /* tc/np_pod.bpf.c: toward the pod (netkit peer hook) */
	NP_HOOK__MAX = 4,
};

/* ---- Statistics ------------------------------------------------------- */

/*
 * np_stats is a per-CPU array indexed by NP_STAT_IDX(hook, stat). The first
 * entries are outcomes, the rest are drop reasons: every drop is counted by
 * exactly one reason. Keep np_stat_names[] in control/ in sync (a unit test
 * checks the count).
 */
enum np_stat {
	NP_STAT_RX = 0,	      /* packets the program saw */
	NP_STAT_PASS,	      /* passed on (XDP_PASS / TCX_NEXT) */
	NP_STAT_SKIPPED,      /* tc: already judged by XDP (metadata mark) */
	NP_STAT_JUDGED,	      /* tc: judged here because XDP did not */
	NP_STAT_NOT_IP,	      /* passed: neither IPv4 nor IPv6 (ARP, LLDP, ...) */
	NP_STAT_PF_ALLOW,     /* passed: matched an allow rule */
	NP_STAT_PF_RATE_PASS, /* passed: rate-limited rule, within its rate */
	NP_STAT_META_FAIL,    /* XDP could not leave its mark (tc will judge) */
	NP_STAT_TO_EP,	      /* delivered straight to a local endpoint */
	NP_STAT_TO_UPLINK,    /* sent out of the uplink (bpf_redirect_neigh) */
	NP_STAT_TO_STACK,     /* handed to the stack: the FIB could not resolve it */
	NP_STAT_ARP_REPLY,    /* answered the pod's ARP for its gateway */
	NP_STAT_ND_REPLY,     /* answered the pod's neighbour solicitation */

	NP_STAT_DROP_FIRST,
	/* Drop reasons. */
	NP_DROP_PF_DENY = NP_STAT_DROP_FIRST, /* source matched a deny rule */
	NP_DROP_PF_RATE,		      /* source over its rule's packets per second */
	NP_DROP_L2_TRUNC,		      /* VLAN tag cut short by the end of the frame */
	NP_DROP_L2_VLAN_DEPTH,		      /* more than NP_MAX_VLAN_DEPTH VLAN tags */
	NP_DROP_IP4_TRUNC,		      /* IPv4 header cut short */
	NP_DROP_IP4_VERSION,		      /* ethertype IPv4 but version != 4 */
	NP_DROP_IP4_IHL,		      /* IHL < 5, or options past the frame */
	NP_DROP_IP4_TOTLEN,		      /* tot_len < IHL or past the end of the frame */
	NP_DROP_IP4_FRAG_TINY, /* first fragment too short for the L4 header (RFC 1858) */
	NP_DROP_IP4_FRAG_OFF,  /* fragment offset 1 (overlaps TCP flags, RFC 1858) */
	NP_DROP_IP6_TRUNC,     /* IPv6 header cut short */
	NP_DROP_IP6_VERSION,   /* ethertype IPv6 but version != 6 */
	NP_DROP_IP6_PAYLEN,    /* payload_len past the end of the frame */
	NP_DROP_IP6_EXT_TRUNC, /* an extension header past the end of the frame */
	NP_DROP_IP6_EXT_CHAIN, /* more than NP_MAX_IPV6_EXT extension headers */
	NP_DROP_IP6_FRAG_TINY, /* first fragment without the whole L4 header */
	NP_DROP_TCP_TRUNC,     /* TCP header cut short */
	NP_DROP_TCP_DOFF,      /* TCP data offset < 5 or past the packet */
	NP_DROP_UDP_TRUNC,     /* UDP header cut short */
	NP_DROP_UDP_LEN,       /* UDP length < 8 or past the packet */
	NP_DROP_ICMP_TRUNC,    /* ICMP/ICMPv6 header cut short */
	NP_DROP_POD_SPOOF,     /* from a pod with a source address not its own */
	NP_DROP_POD_UNKNOWN,   /* from a device that is no registered endpoint */
	NP_DROP_ARP_BAD,       /* ARP from a pod cut short or not Ethernet/IPv4 */
	NP_DROP_FIB,	       /* the FIB says blackhole, unreachable or prohibit */
	NP_DROP_REDIRECT,      /* a redirect helper refused the packet */
	NP_STAT__MAX,
};

#define NP_STAT_IDX(hook, stat) ((hook)*NP_STAT__MAX + (stat))
#define NP_STATS_ENTRIES (NP_HOOK__MAX * NP_STAT__MAX)

struct np_counter {
	__u64 packets;
	__u64 bytes;
};
NP_STATIC_ASSERT(sizeof(struct np_counter) == 16, "np_counter size");

/* ---- Node configuration (np_node, key 0) ----------------------------- */

enum np_xdp_mode {
	NP_XDP_OFF = 0,
	NP_XDP_NATIVE = 1,
	NP_XDP_GENERIC = 2,
};

#define NP_NODE_F_UP (1U << 0) /* `nodepath up` completed */

struct np_node_cfg {
	__u32 abi_version; /* NP_ABI_VERSION of the writer */
	__u32 flags;	   /* NP_NODE_F_* */
	__u32 uplink_ifindex;
	__u32 xdp_mode; /* enum np_xdp_mode, what is attached now */
	__u32 pf_size;	/* capacity of each prefilter trie */
	__u32 pad;
	__u8 uplink_name[16]; /* IFNAMSIZ, NUL-terminated */
	/* The node's pod ranges (`up --pod-cidr`); a length of 0: none. */
	__u8 pod_net4[4];
	__u8 pod_net6[16];
	__u8 pod_len4;
	__u8 pod_len6;
	__u8 pad2[2];
	/* The pods' gateway: the first address of each range. */
	__u8 pod_gw4[4];
	__u8 pod_gw6[16];
};
NP_STATIC_ASSERT(sizeof(struct np_node_cfg) == 84, "np_node_cfg size");

/* ---- Load-time configuration (const volatile .rodata "cfg") ---------- */

#define NP_FEAT_PREFILTER (1U << 0) /* run the source-prefix filter */
#define NP_FEAT_META (1U << 1)	    /* XDP: leave the np_meta mark for tc */

/* One per BPF object, set through the skeleton before load. */
struct np_cfg {
	__u32 features; /* NP_FEAT_* */
	__u32 pad[3];
};
NP_STATIC_ASSERT(sizeof(struct np_cfg) == 16, "np_cfg size");

/* ---- XDP -> tc metadata ------------------------------------------------ */

/*
 * XDP prepends this in the packet's metadata area (bpf_xdp_adjust_meta) once
 * it has judged the packet; tc reads it through __sk_buff->data_meta and does
 * not judge the packet again. Only XDP can write metadata, so a sender cannot
 * forge the mark.
 */
#define NP_META_MAGIC 0x6e704d31 /* "npM1" */
#define NP_META_F_JUDGED (1U << 0)

struct np_meta {
	__u32 magic;
	__u32 flags;
};
NP_STATIC_ASSERT(sizeof(struct np_meta) == 8, "np_meta size");

/* ---- Prefilter --------------------------------------------------------- */

struct np_lpm4_key {
	__u32 prefixlen;
	__u8 addr[4]; /* network byte order */
};
NP_STATIC_ASSERT(sizeof(struct np_lpm4_key) == 8, "np_lpm4_key size");

struct np_lpm6_key {
	__u32 prefixlen;
	__u8 addr[16]; /* network byte order */
};
NP_STATIC_ASSERT(sizeof(struct np_lpm6_key) == 20, "np_lpm6_key size");

#define NP_PF_F_ALLOW (1U << 0) /* an exception: pass (subject to rate) */

struct np_pf_rule {
	__u32 id;	/* index into np_pf_hits / np_pf_tb; never 0 */
	__u32 flags;	/* NP_PF_F_* */
	__u64 rate_pps; /* 0: no rate limit; else packets per second allowed */
	__u64 burst;	/* bucket depth in packets (>= 1 when rate_pps) */
};
NP_STATIC_ASSERT(sizeof(struct np_pf_rule) == 24, "np_pf_rule size");

/*
 * Token bucket of a rate-limited rule, shared by all CPUs. Tokens are kept
 * in nano-packets (1 packet = NP_TB_SCALE) so that the refill
 * elapsed_ns * rate_pps needs no division.
 */
#define NP_TB_SCALE 1000000000ULL

struct np_tbucket {
	struct bpf_spin_lock lock;
	__u32 pad;
	__u64 tokens;  /* nano-packets */
	__u64 last_ns; /* bpf_ktime_get_ns() of the last refill */
};
NP_STATIC_ASSERT(sizeof(struct np_tbucket) == 24, "np_tbucket size");

/* ---- Endpoints (pods) ------------------------------------------------- */

/* Key of np_endpoints: one entry per pod address (v4 and v6 separately). */
struct np_ep_key {
	__u8 family; /* NP_AF_INET or NP_AF_INET6 */
	__u8 pad[3];
	__u8 addr[16]; /* network order; IPv4 in addr[0..3], the rest zero */
};
NP_STATIC_ASSERT(sizeof(struct np_ep_key) == 20, "np_ep_key size");

#define NP_EP_F_NETKIT (1U << 0) /* netkit pair (else veth) */
#define NP_EP_F_L2 (1U << 1)	 /* has an Ethernet header: veth, or netkit l2 mode */

/* Value of np_endpoints: how to deliver to the pod that owns an address. */
struct np_endpoint {
	__u32 id;      /* index into np_ep_stats */
	__u32 ifindex; /* host side: veth host end, or netkit primary */
	__u32 flags;   /* NP_EP_F_* */
	__u32 pad;
	__u8 pod_mac[6];  /* destination MAC inside the pod (NP_EP_F_L2) */
	__u8 host_mac[6]; /* source MAC: the host side (NP_EP_F_L2) */
	__u8 pad2[4];
};
NP_STATIC_ASSERT(sizeof(struct np_endpoint) == 32, "np_endpoint size");

/* Value of np_ep_devs, keyed by the host-side ifindex: who is sending. */
struct np_ep_dev {
	__u32 id;
	__u32 flags;	  /* NP_EP_F_* */
	__u8 ip4[4];	  /* the pod's IPv4 address; 0.0.0.0: none */
	__u8 ip6[16];	  /* the pod's IPv6 address; ::: none */
	__u8 pod_mac[6];  /* NP_EP_F_L2 */
	__u8 host_mac[6]; /* NP_EP_F_L2: what ARP/ND answers for the gateway */
};
NP_STATIC_ASSERT(sizeof(struct np_ep_dev) == 40, "np_ep_dev size");

/*
 * Per-endpoint traffic counted by the datapath (redirected packets bypass
 * the devices' own counters). rx: delivered into the pod; tx: sent by it.
 */
struct np_ep_stats {
	__u64 rx_packets;
	__u64 rx_bytes;
	__u64 tx_packets;
	__u64 tx_bytes;
};
NP_STATIC_ASSERT(sizeof(struct np_ep_stats) == 32, "np_ep_stats size");

#endif /* NP_ABI_H */
