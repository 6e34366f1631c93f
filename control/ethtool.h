/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Device offload settings through the ethtool ioctl (SIOCETHTOOL), in the
 * calling thread's current network namespace (enter one first with
 * np_netns_enter()).
 *
 * GRO on a veth matters for XDP: a veth takes xdp_frames (XDP_REDIRECT
 * from its peer's native XDP) only with NAPI on, i.e. with an XDP program
 * attached or GRO on; otherwise the peer's transmit fails and the frames
 * are lost. After XDP_TX the kernel schedules the peer's NAPI only when the
 * peer has an XDP program, so GRO alone is not enough for XDP_TX: the
 * datapath redirects instead on veth uplinks (NP_FEAT_TX_REDIRECT).
 */
#ifndef NP_ETHTOOL_H
#define NP_ETHTOOL_H

#include <stdbool.h>
#include <stddef.h>

/* Read whether GRO is on for ifname. 0 or -errno. */
int np_dev_get_gro(const char *ifname, bool *on);

/* Turn GRO of ifname on or off. 0 or -errno (nothing logged). */
int np_dev_set_gro(const char *ifname, bool on);

/* The driver of ifname ("veth", "mlx5_core", ...) into buf. 0 or -errno. */
int np_dev_driver(const char *ifname, char *buf, size_t len);

#endif /* NP_ETHTOOL_H */
