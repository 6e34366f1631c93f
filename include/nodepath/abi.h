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

#define NP_ABI_VERSION 6

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

#define NP_MAP_NODE "np_node"		/* one-entry array: struct np_node_cfg */
#define NP_MAP_STATS "np_stats"		/* per-CPU array: struct np_counter */
#define NP_MAP_PF_V4 "np_pf_v4"		/* LPM trie: np_lpm4_key -> np_pf_rule */
#define NP_MAP_PF_V6 "np_pf_v6"		/* LPM trie: np_lpm6_key -> np_pf_rule */
#define NP_MAP_PF_HITS "np_pf_hits"	/* per-CPU array by rule id: np_counter */
#define NP_MAP_PF_TB "np_pf_tb"		/* array by rule id: np_tbucket */
#define NP_MAP_EP "np_endpoints"	/* hash: np_ep_key -> np_endpoint (by address) */
#define NP_MAP_EP_DEV "np_ep_devs"	/* hash: host-side ifindex -> np_ep_dev */
#define NP_MAP_EP_STATS "np_ep_stats"	/* per-CPU array by endpoint id: np_ep_stats */
#define NP_MAP_NODE_ADDR "np_node_addr" /* hash: np_ep_key -> __u32: the node's own addresses */
#define NP_MAP_SVC "np_svc"		/* hash: np_svc_key -> np_svc */
#define NP_MAP_MAGLEV "np_maglev" /* array of maps: [2 * svc id + 0/1]: array[M] of backend ids */
#define NP_MAP_BACKENDS "np_backends"	/* array: __u32 backend id -> np_backend (family 0: none) */
#define NP_MAP_CT "np_ct"		/* LRU hash: np_ct_key -> np_ct_entry (shared XDP/tc) */
#define NP_MAP_AFFINITY "np_affinity"	/* LRU hash: np_aff_key -> np_aff_val */
#define NP_MAP_SRC_RANGE "np_src_range" /* LPM trie: np_srcr_key -> __u32 (1) */
#define NP_MAP_SVC_STATS "np_svc_stats" /* per-CPU array by service id: np_counter */
#define NP_MAP_XSK "np_xsk"   /* XSKMAP by uplink rx queue: the AF_XDP pool's rx sockets */
#define NP_MAP_FRAG "np_frag" /* LRU hash: np_frag_key -> np_frag_val (fragment ports) */

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

/*
 * Services: ids 1..NP_SVC_MAX-1; backends: ids 1..NP_BACKEND_MAX-1. Service id
 * i owns the two Maglev tables np_maglev[2 * i] and np_maglev[2 * i + 1]
 * (NP_MAGLEV_SLOT); np_svc.flags NP_SVC_F_TABLE1 says which one is live.
 */
#define NP_SVC_MAX 16384
#define NP_BACKEND_MAX 262144
#define NP_MAGLEV_SLOT(id, flags) (2 * (id) + ((NP_SVC_F_TABLE1 & (flags)) ? 1 : 0))
/* Maglev table size M per service (a prime); `up --maglev-size` sets it. */
#define NP_MAGLEV_DEFAULT 16381
#define NP_MAGLEV_MAX 131071
/* Connection tracking entries (LRU); `up --ct-size` sets it. */
#define NP_CT_DEFAULT 262144
/* Fragmented datagrams whose ports are remembered for their later fragments (LRU). */
#define NP_FRAG_DEFAULT 8192
/* Source ports the node uses for SNAT to remote backends. */
#define NP_SNAT_PORT_MIN 32768
#define NP_SNAT_PORT_MAX 60999
/*
 * DSR (IPIP): the outer source of an encapsulated packet is an address of
 * this range chosen by the flow hash, so the receiver's RSS spreads flows.
 * 198.18.255.0/24 lies in the benchmarking range; it is never routed and
 * nothing answers it. The network and host bytes: 198.18.255.(1..254).
 */
#define NP_DSR_SRC4_NET 0xc612ff00U /* 198.18.255.0, host order */
#define NP_DSR_SRC4_HOSTS 254
/*
 * DSR over IPv6 (IP6IP6): the outer source is an address of fd00:18:ffff::/96
 * whose low 32 bits are the flow hash (0 becomes 1); the flow label carries
 * the hash too. Never routed, nothing answers it. The first three words:
 */
#define NP_DSR_SRC6_W0 0xfd000018U /* fd00:0018 */
#define NP_DSR_SRC6_W1 0xffff0000U /* ffff:0000 */
#define NP_DSR_SRC6_W2 0x00000000U /* 0000:0000 */

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
	NP_STAT_LB_NEW,	      /* a new flow to a service: a backend chosen */
	NP_STAT_LB_CT_HIT,    /* a packet of a tracked flow to a service */
	NP_STAT_LB_REVNAT,    /* a reply from a backend, translated back */
	NP_STAT_LB_TX,	      /* sent back out of the uplink to a remote backend */
	NP_STAT_TO_XSK,	      /* redirected into the AF_XDP pool (np_xsk) */

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
	NP_DROP_NO_BACKEND,    /* a service with no usable backend */
	NP_DROP_SRC_RANGE,     /* a source outside the service's source ranges */
	NP_DROP_SNAT_PORTS,    /* no free SNAT port for a remote backend */
	NP_DROP_LB_FRAG,       /* a non-first fragment to a VIP (no fragment table yet) */
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
	/* Services: table sizes fixed at `up`, and the node's own addresses
	 * (the uplink's) that SNAT puts as source for remote backends. */
	__u32 maglev_size;
	__u32 ct_size;
	__u8 node_addr4[4];
	__u8 node_addr6[16];
};
NP_STATIC_ASSERT(sizeof(struct np_node_cfg) == 112, "np_node_cfg size");

/* ---- Load-time configuration (const volatile .rodata "cfg") ---------- */

#define NP_FEAT_PREFILTER (1U << 0) /* run the source-prefix filter */
#define NP_FEAT_META (1U << 1)	    /* XDP: leave the np_meta mark for tc */
/*
 * XDP: send frames back out of the uplink with bpf_redirect(uplink) instead
 * of XDP_TX. Set by `up` on veth uplinks: after XDP_TX the kernel schedules
 * the veth peer's NAPI only when the peer has an XDP program of its own, so
 * the frames would wait in its ring; a redirect flushes it.
 */
#define NP_FEAT_TX_REDIRECT (1U << 2)

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

/*
 * XDP -> AF_XDP worker metadata. A frame of an NP_SVC_F_AFXDP service whose
 * backend is a local endpoint is redirected into np_xsk[rx queue] already
 * DNATed; in front of it (bpf_xdp_adjust_meta) it carries the endpoint's
 * host-side device, which the worker transmits it into. AF_XDP copies the
 * metadata into the UMEM frame right before the packet data.
 */
#define NP_XSK_META_MAGIC 0x6e705831 /* "npX1" */
#define NP_XSK_MAX_QUEUES 64	     /* np_xsk entries: uplink rx queues */

struct np_xsk_meta {
	__u32 magic;
	__u32 ifindex; /* the endpoint's host-side device in the node's namespace */
};
NP_STATIC_ASSERT(sizeof(struct np_xsk_meta) == 8, "np_xsk_meta size");

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
/* AF_XDP cannot send into its device: XDP leaves it to the kernel path (set by the pool) */
#define NP_EP_F_NO_XSK (1U << 2)

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

/* ---- Services (load balancing) ----------------------------------------- */

/*
 * Key of np_svc. A NodePort service is stored once with an all-zero addr and
 * NP_SVC_SCOPE_NODEPORT: it answers on every address in np_node_addr.
 */
#define NP_SVC_SCOPE_VIP 0
#define NP_SVC_SCOPE_NODEPORT 1

struct np_svc_key {
	__u8 family; /* NP_AF_INET or NP_AF_INET6 */
	__u8 proto;  /* IPPROTO_TCP or IPPROTO_UDP */
	__be16 port;
	__u8 scope; /* NP_SVC_SCOPE_* */
	__u8 pad[3];
	__u8 addr[16]; /* the VIP; zero for NodePort */
};
NP_STATIC_ASSERT(sizeof(struct np_svc_key) == 24, "np_svc_key size");

enum np_svc_type {
	NP_SVC_T_CLUSTERIP = 0,
	NP_SVC_T_NODEPORT = 1,
	NP_SVC_T_LOADBALANCER = 2,
	NP_SVC_T_EXTERNALIP = 3,
};

enum np_lb_algo {
	NP_ALGO_MAGLEV = 0,
	NP_ALGO_RANDOM = 1, /* a random slot of the (weighted) Maglev table */
};

#define NP_SVC_F_DSR (1U << 0)		/* remote backends by IPIP (direct server return) */
#define NP_SVC_F_AFFINITY (1U << 1)	/* session affinity by client address */
#define NP_SVC_F_ETP_LOCAL (1U << 2)	/* externalTrafficPolicy=local: local backends only */
#define NP_SVC_F_SRC_RANGE (1U << 3)	/* only sources in np_src_range may use it */
#define NP_SVC_F_ICMP_UNREACH (1U << 4) /* no backend: answer ICMP unreachable, not drop */
#define NP_SVC_F_AFXDP (1U << 5)	/* steered into the AF_XDP pool (issue 5) */
/* the live Maglev table is np_maglev[2 * id + 1] (else [2 * id]); flipped per change */
#define NP_SVC_F_TABLE1 (1U << 31)

struct np_svc {
	__u32 id;	  /* index of np_maglev / np_svc_stats; never 0 */
	__u32 flags;	  /* NP_SVC_F_* */
	__u32 affinity_s; /* affinity timeout in seconds (NP_SVC_F_AFFINITY) */
	__u16 count;	  /* backends in the table; 0: no backend */
	__u8 type;	  /* enum np_svc_type */
	__u8 algo;	  /* enum np_lb_algo */
};
NP_STATIC_ASSERT(sizeof(struct np_svc) == 16, "np_svc size");

enum np_backend_state {
	NP_BE_ACTIVE = 0,
	NP_BE_TERMINATING = 1, /* existing flows continue, no new ones */
	NP_BE_QUARANTINED = 2, /* no flows at all */
	NP_BE_MAINTENANCE = 3, /* no flows at all */
};

#define NP_BE_F_LOCAL (1U << 0) /* a local endpoint of this node */

struct np_backend {
	__u8 family;
	__u8 state; /* enum np_backend_state */
	__be16 port;
	__u32 flags; /* NP_BE_F_* */
	__u8 addr[16];
};
NP_STATIC_ASSERT(sizeof(struct np_backend) == 24, "np_backend size");

/* Connection tracking: one entry per direction. */
#define NP_CT_DIR_FWD 0 /* client -> VIP, as the client sent it */
#define NP_CT_DIR_REV 1 /* backend -> client (or -> node for SNAT), as the backend sends it */

struct np_ct_key {
	__u8 family;
	__u8 proto;
	__u8 dir; /* NP_CT_DIR_* */
	__u8 pad;
	__be16 sport;
	__be16 dport;
	__u8 saddr[16];
	__u8 daddr[16];
};
NP_STATIC_ASSERT(sizeof(struct np_ct_key) == 40, "np_ct_key size");

enum np_ct_tcp_state {
	NP_CT_NEW = 0,	   /* SYN seen (or any first UDP packet) */
	NP_CT_ESTABLISHED, /* a reply seen */
	NP_CT_CLOSING,	   /* FIN seen */
	NP_CT_CLOSED,	   /* RST seen, or both FINs */
};

#define NP_CT_F_SNAT (1U << 0)	   /* the node's address replaced the client's */
#define NP_CT_F_DSR (1U << 1)	   /* sent to the backend by IPIP */
#define NP_CT_F_LOCAL_BE (1U << 2) /* the backend is a local endpoint */

struct np_ct_entry {
	__u64 last_ns; /* bpf_ktime_get_ns() of the last packet */
	__u32 svc_id;
	__u32 backend_id;
	__u8 state; /* enum np_ct_tcp_state */
	__u8 flags; /* NP_CT_F_* */
	/*
	 * FWD: where the packet goes (backend address and port; with SNAT the
	 * node address and port it leaves with in nat2_*).
	 * REV: what to put back: the VIP as source (nat_*), and with SNAT the
	 * client as destination (nat2_*).
	 */
	__be16 nat_port;
	__be16 nat2_port;
	__u8 pad[2];
	__u8 nat_addr[16];
	__u8 nat2_addr[16];
};
NP_STATIC_ASSERT(sizeof(struct np_ct_entry) == 56, "np_ct_entry size");

struct np_aff_key {
	__u32 svc_id;
	__u8 family;
	__u8 pad[3];
	__u8 addr[16]; /* the client */
};
NP_STATIC_ASSERT(sizeof(struct np_aff_key) == 24, "np_aff_key size");

struct np_aff_val {
	__u64 last_ns;
	__u32 backend_id;
	__u32 pad;
};
NP_STATIC_ASSERT(sizeof(struct np_aff_val) == 16, "np_aff_val size");

/*
 * Key of np_src_range: the LPM trie matches svc_id (big-endian, so its bits
 * come first) and then the source prefix: prefixlen = 32 + CIDR length.
 */
struct np_srcr_key {
	__u32 prefixlen;
	__be32 svc_id;
	__u8 addr[16];
};
NP_STATIC_ASSERT(sizeof(struct np_srcr_key) == 24, "np_srcr_key size");

/*
 * Key of np_frag: a fragmented datagram as its fragments identify it (RFC
 * 791 / RFC 8200: source, destination, protocol, identification). id is
 * the IPv4 16-bit identification or the IPv6 32-bit one, as a number in
 * network order.
 */
struct np_frag_key {
	__u8 family;
	__u8 proto;
	__u8 pad[2];
	__be32 id;
	__u8 saddr[16];
	__u8 daddr[16];
};
NP_STATIC_ASSERT(sizeof(struct np_frag_key) == 40, "np_frag_key size");

/* The ports the first fragment carried, for the later ones. */
struct np_frag_val {
	__be16 sport;
	__be16 dport;
	__u32 pad;
	__u64 last_ns;
};
NP_STATIC_ASSERT(sizeof(struct np_frag_val) == 16, "np_frag_val size");

#endif /* NP_ABI_H */
