/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Device offload settings through the ethtool ioctl (SIOCETHTOOL), in the
 * calling thread's current network namespace (enter one first with
 * np_netns_enter()).
 *
 * GRO on a veth matters for XDP: a veth takes xdp_frames (XDP_TX or
 * XDP_REDIRECT from its peer's native XDP) only with NAPI on, i.e. with an
 * XDP program attached or GRO on; otherwise the peer's transmit fails and
 * the frames are lost.
 */
#ifndef NP_ETHTOOL_H
#define NP_ETHTOOL_H

#include <stdbool.h>

/* Read whether GRO is on for ifname. 0 or -errno. */
int np_dev_get_gro(const char *ifname, bool *on);

/* Turn GRO of ifname on or off. 0 or -errno (nothing logged). */
int np_dev_set_gro(const char *ifname, bool on);

#endif /* NP_ETHTOOL_H */
