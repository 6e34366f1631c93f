#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Pod-to-pod TCP throughput: the datapath against plain host-stack routing, in one run.
#
#   bench/pod_tcp.sh [ROUNDS] [SECS]      (default 3 rounds of 5 s; root)
#
# Two labs side by side: "tb" with `--pod-dev veth` (pods are endpoints of the
# datapath: tcx on the host side, bpf_redirect_peer / redirect_neigh) and "tn" with
# `--pod-dev none` (the same veth pods, routed by the nodes' kernel stack, no BPF).
# Each round runs, interleaved, iperf3 -t SECS from pod1 to pod2 on node 1 (server in
# pod2) and from node 1's pod1 to node 2's pod1 across the fabric bridge, on each lab.
# Prints every run, then median / min / max Gbit/s per variant and the ratio of the
# medians. A third variant, "cross.xdpoff", is the datapath lab with XDP switched off on
# both uplinks for that run (`xdp-mode off`, live): XDP native on a veth takes GSO away
# from its peer, so the fabric then carries MTU-sized packets; this variant tells that
# cost apart from the tc pod path. A fourth, "cross.xdpgen", runs
# XDP in generic mode for that run: generic XDP leaves the peer's offloads alone. Both labs are
# taken down on exit.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
NP_BIN=${NP_BIN:-$top/build/nodepath}
PY=/usr/bin/python3
ROUNDS=${1:-3}
SECS=${2:-5}
LABS=(tb tn)
tmp=$(mktemp -d /tmp/np-bench.XXXXXX)

die() {
	echo "pod_tcp: $*" >&2
	exit 1
}

cleanup() {
	local l
	for l in "${LABS[@]}"; do
		"$NP_BIN" lab down --name "$l" >/dev/null 2>&1
	done
	rm -rf "$tmp"
}

[ "$(id -u)" -eq 0 ] || die "needs root"
[ -x "$NP_BIN" ] || die "$NP_BIN is not built (make build/nodepath)"
command -v iperf3 >/dev/null || die "iperf3 is not installed"
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "# $(uname -r), $(nproc) cpus, $(date -u +%FT%TZ); iperf3 -t $SECS, $ROUNDS rounds, interleaved"
for l in "${LABS[@]}"; do
	"$NP_BIN" lab down --name "$l" >/dev/null 2>&1
done
"$NP_BIN" lab up --name tb --pod-dev veth >"$tmp/tb.up" 2>&1 || die "lab up tb: $(tail -3 "$tmp/tb.up")"
"$NP_BIN" lab up --name tn --pod-dev none >"$tmp/tn.up" 2>&1 || die "lab up tn: $(tail -3 "$tmp/tn.up")"

# run LAB FROM_NS TO_NS DST: one iperf3 run (LAB only names it); prints Gbit/s (received) or "fail".
run() {
	local from=$2 to=$3 dst=$4 port=5201 spid bps i
	ip netns exec "$to" timeout $((SECS + 15)) iperf3 -s -1 -B "$dst" -p $port >/dev/null 2>&1 &
	spid=$!
	for ((i = 0; i < 50; i++)); do
		ip netns exec "$to" ss -Hltn "sport = :$port" | grep -q . && break
		sleep 0.1
	done
	ip netns exec "$from" timeout $((SECS + 10)) iperf3 -c "$dst" -p $port -t "$SECS" -J \
		>"$tmp/run.json" 2>/dev/null
	wait "$spid" 2>/dev/null
	bps=$("$PY" -c 'import json,sys; print("%.2f" % (json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"] / 1e9))' \
		"$tmp/run.json" 2>/dev/null) || bps=fail
	echo "$bps"
}

# variant key, lab, from, to, dst
MED_same_veth='' MED_same_none='' MED_cross_veth='' MED_cross_none='' MED_cross_xdpoff='' MED_cross_xdpgen=''
declare -A V
V[same.veth]="tb tb-node1-pod1 tb-node1-pod2 198.19.1.12"
V[same.none]="tn tn-node1-pod1 tn-node1-pod2 198.19.1.12"
V[cross.veth]="tb tb-node1-pod1 tb-node2-pod1 198.19.2.11"
V[cross.none]="tn tn-node1-pod1 tn-node2-pod1 198.19.2.11"
V[cross.xdpoff]="tb tb-node1-pod1 tb-node2-pod1 198.19.2.11"
V[cross.xdpgen]="tb tb-node1-pod1 tb-node2-pod1 198.19.2.11"
ORDER=(same.veth same.none cross.veth cross.xdpoff cross.xdpgen cross.none)

# xdp MODE: the XDP mode of both tb nodes (live switch; the tc pod path is not touched).
xdp() {
	local n
	for n in tb-node1 tb-node2; do
		"$NP_BIN" --node $n xdp-mode "$1" >/dev/null 2>&1 || echo "pod_tcp: xdp-mode $1 on $n failed" >&2
	done
}

for ((r = 1; r <= ROUNDS; r++)); do
	for k in "${ORDER[@]}"; do
		[ $k = cross.xdpoff ] && xdp off
		[ $k = cross.xdpgen ] && xdp generic
		# shellcheck disable=SC2086 # four words
		g=$(run ${V[$k]})
		[ $k = cross.xdpoff ] || [ $k = cross.xdpgen ] && xdp native
		echo "$g" >>"$tmp/$k"
		printf 'round %d  %-12s %s Gbit/s\n' "$r" "$k" "$g"
	done
done

# stats KEY: "median min max" of the runs (failed runs left out).
stats() {
	grep -v fail "$tmp/$1" | sort -g | awk '{ v[NR] = $1 } END {
		if (!NR) { print "- - -"; exit }
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%.2f %.2f %.2f\n", m, v[1], v[NR] }'
}

echo
printf "%-38s %8s %8s %8s %5s\n" "variant (Gbit/s)" median min max runs
for k in "${ORDER[@]}"; do
	case $k in
	same.veth) d="pod1->pod2 node1, datapath (veth)" ;;
	same.none) d="pod1->pod2 node1, host stack" ;;
	cross.veth) d="node1->node2 pod, datapath (veth)" ;;
	cross.xdpoff) d="node1->node2 pod, datapath, XDP off" ;;
	cross.xdpgen) d="node1->node2 pod, datapath, XDP generic" ;;
	cross.none) d="node1->node2 pod, host stack" ;;
	esac
	read -r med mn mx <<<"$(stats "$k")"
	printf "%-38s %8s %8s %8s %5s\n" "$d" "$med" "$mn" "$mx" "$(grep -vc fail "$tmp/$k")"
	eval "MED_${k/./_}=$med"
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 > 0 && a + 0 > 0) printf "%.2fx", a / b; else print "-" }'; }
echo "ratio datapath / host stack, same node:  $(ratio "$MED_same_veth" "$MED_same_none")"
echo "ratio datapath / host stack, two nodes:  $(ratio "$MED_cross_veth" "$MED_cross_none")"
echo "ratio datapath with uplink XDP off / host stack, two nodes:  $(ratio "$MED_cross_xdpoff" "$MED_cross_none")"
echo "ratio datapath with uplink XDP generic / host stack, two nodes:  $(ratio "$MED_cross_xdpgen" "$MED_cross_none")"
