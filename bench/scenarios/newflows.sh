#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# bench/scenarios/newflows.sh: new flows per second through a VIP to a local pod.
#
# Lab $BENCH_LAB"n": one node, one pod. Each run, np_gen sends 1048576 live frames with
# 1048576 distinct tuples (64512 UDP source ports on each of 17 source addresses, a fresh
# address block per run: 198.18.(10+k).1..17), so every packet is the first of its flow; the
# rate is what reaches the pod (tcx sink on nic0) per second of the run, in conn/s. Variants,
# interleaved per round:
#   xdp-native   nodepath: the XDP load balancer's new-flow path (Maglev pick, CT insert, DNAT)
#   tc-only      nodepath with `xdp-mode off`: the same in the tcx uplink program
#   nft-dnat     nodepath down: conntrack + one nftables DNAT rule (baseline)
#   ipt-1000     nodepath down: kube-proxy-like iptables, 1000 services, the real one last;
#                its first packets walk 5000 rules (a few hundred us each), so it runs only
#                IPT_FLOWS new flows (16384; 4096 in smoke) per run, or a round takes minutes
# Both tables have 262144 entries (nodepath's --ct-size default, an LRU; the node's
# nf_conntrack_max here), so after the first quarter of a run both evict on every insert.
# Target xdp-native >= 3x nft-dnat. Smoke: 262144 flows per run.
set -u
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../lib_net.sh"
bench_trap

LAB=${BENCH_LAB}n
NODE=$LAB-node1
POD=$NODE-pod1
VIP=198.18.100.10 PORT=9 BIP=198.19.1.11 BPORT=8080
FLOWS=1048576
IPT_FLOWS=16384
[ "$BENCH_SMOKE" = 1 ] && FLOWS=262144 IPT_FLOWS=4096

bench_progress "lab $LAB: 1 node, 1 pod"
bench_lab_up "$LAB" --nodes 1 --pods 1 --clients 1 || exit 1
bench_on_exit "bnet_ipt_clear $NODE; bnet_nft_clear $NODE"
RULES=$(mktemp /tmp/bench-newflows.XXXXXX)
bench_on_exit "rm -f $RULES"
bnet_kp_rules 1000 "$VIP" "$PORT" "$BIP" "$BPORT" udp >"$RULES"

svc_add() { bnet_svc_lb "$NODE" web "$VIP:$PORT/udp" "$BIP:$BPORT"; }
svc_add
UP=1
BLOCK=10

# run VARIANT ROUND [N]: one run of N (default FLOWS) new flows from the next address block.
run() {
	local v=$1 r=$2 n=${3:-$FLOWS} mac got
	mac=$(bench_mac "$NODE" uplink)
	local gen=(--netns "$LAB-fabric" --dev n1 --dst-mac "$mac" --peer-netns "$NODE"
		--peer-dev uplink --tc-sink-netns "$POD" --tc-sink-dev nic0 --dst "$VIP"
		--dport "$PORT")
	# warm-up from block 9 (flows that the measured run does not reuse)
	bench_gen "${gen[@]}" --src 198.18.9.1 --flows 4096 --count 65536 || return 1
	bench_gen "${gen[@]}" --src "198.18.$BLOCK.1" --flows "$n" --count "$n" || return 1
	BLOCK=$((BLOCK + 1))
	got=$(awk '/^tc sink dropped/ { print $4 }' <<<"$GEN_OUT")
	[ -n "$got" ] || bench_die "np_gen printed no tc sink count: $GEN_OUT"
	bench_log "$v round $r: $GEN_PKTS new flows sent, $got delivered in $GEN_SECS s"
	bench_result "$v" "$r" "$(bench_calc 'int(g / s)' g="$got" s="$GEN_SECS")" conn/s
}

bench_baseline nft-dnat
for r in $(bench_rounds); do
	bench_progress "round $r/$BENCH_ROUNDS"
	if [ "$UP" = 0 ]; then
		bnet_np_up "$NODE" 1 native || exit 1
		svc_add
		UP=1
	fi
	for v in xdp-native tc-only; do
		case $v in
		xdp-native) mode=native hook=xdp ;;
		tc-only) mode=off hook=tc_uplink_in ;;
		esac
		bnet_xdp_mode "$NODE" "$mode" || exit 1
		n0=$(bnet_stat "$NODE" "$hook" lb_new)
		run "$v" "$r" || exit 1
		n1=$(bnet_stat "$NODE" "$hook" lb_new)
		[ $((n1 - n0)) -ge "$FLOWS" ] ||
			bench_die "$v: $hook counted $((n1 - n0)) new flows, expected >= $FLOWS"
	done
	bnet_np_down "$NODE" || exit 1
	UP=0
	bnet_nft_dnat "$NODE" "$VIP" "$PORT" "$BIP" "$BPORT" udp || exit 1
	run nft-dnat "$r" || exit 1
	bnet_nft_clear "$NODE"
	bnet_ipt_load "$NODE" "$RULES" || exit 1
	run ipt-1000 "$r" "$IPT_FLOWS" || exit 1
	bnet_ipt_clear "$NODE"
done
[ "$UP" = 0 ] && bnet_np_up "$NODE" 1 native >/dev/null 2>&1

bench_ratio xdp-native/nft-dnat xdp-native nft-dnat
bench_ratio tc-only/nft-dnat tc-only nft-dnat
bench_ratio xdp-native/ipt-1000 xdp-native ipt-1000
bench_target xdp-native/nft-dnat '>=' 3 "newflows >= 3x conntrack + DNAT"
bench_note "$FLOWS distinct tuples per run (ipt-1000: $IPT_FLOWS), each packet a new flow; CT and conntrack hold 262144 entries"
exit 0
