#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Service traffic that node1's XDP sends back out of its uplink (a remote
# backend on node2: SNAT + DNAT in XDP) reaches node2: live XDP frames with
# full headers from the fabric side (bench/np_gen), so XDP, not tc, balances
# them. On veth uplinks the datapath redirects instead of XDP_TX
# (NP_FEAT_TX_REDIRECT); with XDP_TX the frames would wait in the fabric
# port's ring and be dropped. Lab "tx". Prints TAP.
set -u
. "$(dirname "$0")/lib.sh"

tap_plan 1
out=$(NP_BIN=$NP_BIN bash "$NP_TOP/bench/xdp_tx_fabric.sh" tx 2000 2>&1)
rc=$?
tap_diag "$(printf '%s\n' "$out" | grep -E 'lb_tx|rx_dropped|to_ep')"
if [ $rc -eq 0 ] && [ "$(printf '%s\n' "$out" | tail -1)" = ok ]; then
	tap_ok "2000 frames balanced in node1's XDP to node2's pod all arrive (lb_tx = node2 to_ep, 0 dropped at the fabric port)"
else
	tap_fail "2000 frames balanced in node1's XDP to node2's pod all arrive" "$(printf '%s\n' "$out" | tail -5)"
fi
tap_done
