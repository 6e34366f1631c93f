#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Scenario modeswitch: how long a live XDP mode switch (native -> generic, generic ->
# native) takes, as `nodepath xdp-mode` reports it, and how many packets the tcx program
# judged in the gap, while np_gen sends denied live frames into node 1's uplink. Each
# round is N switches under one generator run; after it, the node's IP stack must have
# received none of the denied frames (Ip InReceives of /proc/net/snmp in the node: the
# `leaked` variant, expected 0). Contract: bench/lib.sh.
. "$(dirname "$0")/../lib.sh"
bench_trap

LAB=${BENCH_LAB}a
NODE=$LAB-node1 FABRIC=$LAB-fabric
SRC=198.18.0.201 DST=198.18.0.1
SWITCHES=6
[ "$BENCH_SMOKE" = 1 ] && SWITCHES=2

[ -x "$NP_GEN" ] || bench_die "$NP_GEN is not built (make build/bench/np_gen)"

bench_progress "lab $LAB: 1 node, nodepath up (XDP native), deny $SRC/32"
bench_lab_up "$LAB" --nodes 1 --pods 1 --clients 1 --pod-dev none || exit 1
bench_on_exit "bench_node_down $NODE"
bench_node_up "$NODE" --xdp-mode native || exit 1
out=$("$NP_BIN" --node "$NODE" prefilter add "$SRC/32" 2>&1) || bench_die "prefilter add: $out"
MAC=$(bench_mac "$NODE" uplink)
[[ $MAC =~ ^([0-9a-f]{2}:){5}[0-9a-f]{2}$ ]] || bench_die "no MAC address for uplink in $NODE"
GEN=(--netns "$FABRIC" --dev n1 --dst-mac "$MAC" --src "$SRC" --dst "$DST" --flows 1024
	--size 64 --peer-netns "$NODE" --peer-dev uplink)

ip_in() { bench_in "$NODE" awk '/^Ip: [0-9]/ { print $4 }' /proc/net/snmp; }

GEN_PID=
bench_on_exit '[ -n "$GEN_PID" ] && kill $GEN_PID'

bench_note "np_gen sends denied 64 B IPv4/UDP live frames throughout; the switch time is what xdp-mode prints (detach + attach, XDP absent in between); tc-judged: packets the tcx program judged during one switch"
for r in $(bench_rounds); do
	bench_progress "round $r of $BENCH_ROUNDS: $SWITCHES switches under load"
	mode=native
	i0=$(ip_in)
	"$NP_GEN" "${GEN[@]}" --duration 60 >"$BENCH_OUT/modeswitch.gen" 2>&1 &
	GEN_PID=$!
	sleep 0.5
	for ((k = 1; k <= SWITCHES; k++)); do
		[ $mode = native ] && to=generic || to=native
		out=$("$NP_BIN" --node "$NODE" xdp-mode $to 2>&1) || bench_die "xdp-mode $to: $out"
		bench_log "round $r: $out"
		# xdp-mode: native -> generic in 41.2 ms; tc judged 1520 packets meanwhile
		read -r ms judged <<<"$(awk '{ for (i = 1; i < NF; i++) {
			if ($i == "in" && $(i + 1) ~ /^[0-9.]+$/) ms = $(i + 1)
			if ($i == "judged") j = $(i + 1) } } END { print ms, j }' <<<"$out")"
		[ -n "$ms" ] && [ -n "$judged" ] || bench_die "xdp-mode printed: $out"
		bench_result "$mode-to-$to" "$r" "$ms" ms
		bench_result tc-judged "$r" "$judged" pkts
		mode=$to
		sleep 0.2
	done
	kill -TERM $GEN_PID
	wait $GEN_PID
	GEN_PID=
	if [ $mode != native ]; then
		out=$("$NP_BIN" --node "$NODE" xdp-mode native 2>&1) || bench_die "xdp-mode native: $out"
	fi
	i1=$(ip_in)
	bench_log "round $r: $(grep '^generated' "$BENCH_OUT/modeswitch.gen")"
	[ -n "$i0" ] && [ -n "$i1" ] || bench_die "no Ip InReceives in $NODE"
	bench_result leaked "$r" $((i1 - i0)) pkts
done
rm -f "$BENCH_OUT/modeswitch.gen"
bench_target leaked '<=' 0 "denied frames that reached the node's IP stack"
exit 0
