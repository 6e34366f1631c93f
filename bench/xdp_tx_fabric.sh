#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Do frames a node's uplink XDP sends with XDP_TX (a LoadBalancer service whose
# backend is on another node: SNAT + DNAT + XDP_TX) reach the fabric and the
# backend's node? Lab LAB (default "xtx"): node1 balances 198.18.100.30:9/udp to
# node2's pod1; np_gen sends COUNT frames (default 1000) out of the fabric port n1
# into node1's uplink. Prints node1's xdp lb_tx, n1's rx_dropped and node2's
# tc_uplink_in to_ep before and after, and "ok" when to_ep rose by lb_tx's rise.
#
#   bench/xdp_tx_fabric.sh [LAB] [COUNT]       (root; the lab is taken down on exit)
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
NP_BIN=${NP_BIN:-$top/build/nodepath}
GEN=${NP_GEN:-$top/build/bench/np_gen}
LAB=${1:-xtx}
COUNT=${2:-1000}

die() {
	echo "xdp_tx_fabric: $*" >&2
	exit 1
}
[ "$(id -u)" -eq 0 ] || die "needs root"
[ -x "$NP_BIN" ] && [ -x "$GEN" ] || die "build $NP_BIN and $GEN first"
[[ "$COUNT" =~ ^[1-9][0-9]{0,6}$ ]] || die "COUNT '$COUNT': 1..9999999"
trap '"$NP_BIN" lab down --name "$LAB" >/dev/null 2>&1' EXIT

"$NP_BIN" lab down --name "$LAB" >/dev/null 2>&1
"$NP_BIN" lab up --name "$LAB" >/dev/null || die "lab up $LAB failed"
"$NP_BIN" --node "$LAB-node1" service add u --vip 198.18.100.30:9/udp --type loadbalancer \
	--backend 198.19.2.11:9 >/dev/null || die "service add failed"
ip netns exec "$LAB-node1" ping -c1 -W1 198.18.0.2 >/dev/null || die "node1 cannot ping node2"
mac=$(ip netns exec "$LAB-node1" cat /sys/class/net/uplink/address)

lb_tx() { "$NP_BIN" --node "$LAB-node1" stats --json | jq .hooks.xdp.lb_tx; }
to_ep() { "$NP_BIN" --node "$LAB-node2" stats --json | jq .hooks.tc_uplink_in.to_ep; }
drops() { ip -n "$LAB-fabric" -s link show n1 | awk '/RX:/ { getline; print $4 }'; }

echo "# n1: $(ip -n "$LAB-fabric" link show n1 | grep -o 'prog/xdp.*' || echo 'no XDP program')"
t0=$(lb_tx) e0=$(to_ep) d0=$(drops)
"$GEN" --netns "$LAB-fabric" --dev n1 --dst-mac "$mac" --src 198.18.0.101 \
	--dst 198.18.100.30 --flows 16 --count "$COUNT" | tail -1
sleep 0.5
t1=$(lb_tx) e1=$(to_ep) d1=$(drops)
echo "node1 xdp lb_tx:            $t0 -> $t1 (+$((t1 - t0)))"
echo "fabric n1 rx_dropped:       $d0 -> $d1 (+$((d1 - d0)))"
echo "node2 tc_uplink_in to_ep:   $e0 -> $e1 (+$((e1 - e0)))"
if [ $((t1 - t0)) -eq "$COUNT" ] && [ $((e1 - e0)) -eq $((t1 - t0)) ]; then
	echo ok
else
	echo "not ok: the XDP_TX frames did not all arrive"
	exit 1
fi
