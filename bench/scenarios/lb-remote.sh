#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# bench/scenarios/lb-remote.sh: VIP -> a backend on node 2, sent back out of node 1's uplink
# by its XDP program; packets per second received at node 2.
#
# Lab $BENCH_LAB"r": two nodes, one pod each. np_gen sends 64-byte IPv4/UDP live frames (1024
# flows) from the fabric side of node 1's uplink; what node 1 sends on crosses the fabric
# bridge and is counted (and dropped) by a tcx-ingress sink placed first on node 2's uplink
# (UDP and IPIP). Variants, interleaved per round:
#   snat        LoadBalancer 198.18.100.10:9/udp -> 198.19.2.11:9: XDP SNAT + DNAT, redirect
#               back out of the uplink (on veth the datapath redirects rather than XDP_TX)
#   dsr         LoadBalancer 198.18.100.11:9/udp --mode dsr: XDP IPIP encapsulation, the same way
#   reflector   the floor: nodepath's XDP off, a no-op XDP program on node 1's uplink that sets
#               node 2's MAC and redirects the frame back out (nothing else)
#   ipt-1000    nodepath down on node 1: kube-proxy-like iptables (1000 services, the real one
#               last; DNAT + MASQUERADE), conntrack, the node's stack forwards (baseline)
# Target snat and dsr >= 0.8x the reflector. Each run follows an untimed warm-up.
set -u
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../lib_net.sh"
bench_trap

LAB=${BENCH_LAB}r
N1=$LAB-node1 N2=$LAB-node2
VIP=198.18.100.10 VIP_DSR=198.18.100.11 PORT=9 BIP=198.19.2.11 BPORT=9

bench_progress "lab $LAB: 2 nodes, 1 pod each"
bench_lab_up "$LAB" --nodes 2 --pods 1 --clients 1 || exit 1
bench_on_exit "bnet_ipt_clear $N1"
RULES=$(mktemp /tmp/bench-lb-remote.XXXXXX)
bench_on_exit "rm -f $RULES"
bnet_kp_rules 1000 "$VIP" "$PORT" "$BIP" "$BPORT" udp >"$RULES"
# the stack forwards out of the interface it received on: no ICMP redirects
bench_in "$N1" sysctl -qw net.ipv4.conf.all.send_redirects=0 net.ipv4.conf.uplink.send_redirects=0

svc_add() {
	local out
	out=$("$NP_BIN" --node "$N1" service add web --vip "$VIP:$PORT/udp" --type loadbalancer \
		--backend "$BIP:$BPORT" 2>&1) || bench_die "service add web: $out"
	out=$("$NP_BIN" --node "$N1" service add web-dsr --vip "$VIP_DSR:$PORT/udp" \
		--type loadbalancer --mode dsr --backend "$BIP:$BPORT" 2>&1) ||
		bench_die "service add web-dsr: $out"
}
svc_add
UP=1
# node 1 learns node 2's MAC (the datapath's FIB lookup needs a neighbour)
bench_in "$N1" ping -c1 -W1 198.18.0.2 >/dev/null || bench_die "node 1 cannot reach node 2"
MAC1=$(bench_mac "$N1" uplink)
MAC2=$(bench_mac "$N2" uplink)

# run VARIANT ROUND DST [np_gen args]: warm-up, then a timed run; result = node 2's count.
run() {
	local v=$1 r=$2 dst=$3 got
	shift 3
	local gen=(--netns "$LAB-fabric" --dev n1 --dst-mac "$MAC1" --peer-netns "$N1"
		--peer-dev uplink --tc-sink-netns "$N2" --tc-sink-dev uplink --src 198.18.0.201
		--dst "$dst" --dport "$PORT" --flows 1024 "$@")
	bench_gen "${gen[@]}" --count "$(bnet_warm)" || return 1
	if [ "$BENCH_SMOKE" = 1 ]; then
		bench_gen "${gen[@]}" --count 262144 || return 1
	else
		bench_gen "${gen[@]}" --duration "$BENCH_DURATION" || return 1
	fi
	got=$(awk '/^tc sink dropped/ { print $4 }' <<<"$GEN_OUT")
	[ -n "$got" ] || bench_die "np_gen printed no tc sink count: $GEN_OUT"
	bench_log "$v round $r: sent $GEN_PKTS, node 2 received $got in $GEN_SECS s"
	[ "$got" -ge $((GEN_PKTS * 9 / 10)) ] || bench_log "$v round $r: only $got of $GEN_PKTS arrived"
	BNET_SENT=$GEN_PKTS
	bench_result "$v" "$r" "$(bench_calc 'g / s / 1e6' g="$got" s="$GEN_SECS")" Mpps
}

bench_baseline reflector
bench_baseline ipt-1000
for r in $(bench_rounds); do
	bench_progress "round $r/$BENCH_ROUNDS"
	if [ "$UP" = 0 ]; then
		bnet_np_up "$N1" 1 native || exit 1
		svc_add
		UP=1
	fi
	bnet_xdp_mode "$N1" native || exit 1
	# a fresh neighbour entry for node 2 (the datapath's FIB lookup needs it)
	bench_in "$N1" ping -c1 -W1 198.18.0.2 >/dev/null || bench_log "node 1 cannot ping node 2"
	for v in snat dsr; do
		dst=$VIP
		[ "$v" = dsr ] && dst=$VIP_DSR
		t0=$(bnet_stat "$N1" xdp lb_tx)
		run "$v" "$r" "$dst" || exit 1
		t1=$(bnet_stat "$N1" xdp lb_tx)
		# lb_tx covers the warm-up and the run: at least the run's frames
		if [ $((t1 - t0)) -lt "$BNET_SENT" ]; then
			bench_log "$v round $r: node 1's XDP sent only $((t1 - t0)) frames back out" \
				"(warm-up + run: $(($(bnet_warm) + BNET_SENT))); node 1's counters:" \
				"$("$NP_BIN" --node "$N1" stats 2>&1 | grep -vw 0 | tr -s ' \n' ' ')"
			[ $((t1 - t0)) -ge $((BNET_SENT / 2)) ] ||
				bench_die "$v: node 1's XDP balanced under half the frames: wrong path"
		fi
	done
	bnet_xdp_mode "$N1" off || exit 1
	run reflector "$r" "$VIP" --reflect "$MAC2" || exit 1
	bnet_np_down "$N1" || exit 1
	UP=0
	bnet_ipt_load "$N1" "$RULES" || exit 1
	run ipt-1000 "$r" "$VIP" || exit 1
	bnet_ipt_clear "$N1"
done
[ "$UP" = 0 ] && bnet_np_up "$N1" 1 native >/dev/null 2>&1

bench_ratio snat/reflector snat reflector
bench_ratio dsr/reflector dsr reflector
bench_ratio snat/ipt-1000 snat ipt-1000
bench_ratio dsr/ipt-1000 dsr ipt-1000
bench_target snat/reflector '>=' 0.8 "lb-remote (SNAT) >= 0.8x the XDP_TX reflector floor"
bench_target dsr/reflector '>=' 0.8 "lb-remote (DSR) >= 0.8x the XDP_TX reflector floor"
bench_note "counted at node 2's uplink (tcx sink first in the chain); node 2 runs nodepath (XDP native) in every variant"
exit 0
