#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# `make demo`: the walking skeleton in two minutes on a lab named "demo".
# A prefilter deny on node1's uplink, seen by real traffic; a live XDP
# native -> generic -> native switch under a flow; the counters; drop rates
# of the prefilter in XDP native, XDP generic and tc only next to the XDP_DROP
# floor (bench/prefilter.sh, live XDP frames); then everything is taken down
# (also when interrupted).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
export NP_TOP=$top
. "$top/tests/e2e/lib.sh"

LAB=demo N1=demo-node1 C1=demo-client1 C2=demo-client2
N1V4=198.18.0.1 C1V4=198.18.0.101

step() { printf '\n== %s\n' "$*"; }
say() { printf '   %s\n' "$*"; }
die() {
	printf 'demo: %s\n' "$*" >&2
	exit 1
}

[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces, BPF)"
[ -x "$NP_BIN" ] || die "$NP_BIN is not built (make build/nodepath)"
[ -x "$NP_UDP" ] || die "$NP_UDP is not built (make build/tests/tools/np_udp)"
[ -x "$top/build/bench/np_gen" ] || die "build/bench/np_gen is not built (make build/bench/np_gen)"
t_start=$(date +%s.%N)

step "lab up: fabric, 2 clients, node1 and node2 in network namespaces"
e2e_lab_up "$LAB" --clients 2 || die "lab up failed: $NP_ERR"
say "$(ip netns list | grep -c "^$LAB-") namespaces: $(ip netns list | awk '{print $1}' | grep "^$LAB-" | sort | tr '\n' ' ')"

step "nodepath --node $N1 up --dev uplink --xdp-mode native"
e2e_node_up "$N1" --dev uplink --xdp-mode native || die "up failed: $NP_ERR"
np --node "$N1" status 2>&1 | sed 's/^/   /'

step "nodepath --node $N1 prefilter add $C1V4/32   (deny client1)"
np_capture --node "$N1" prefilter add "$C1V4/32" || die "prefilter add failed: $NP_ERR"
[ -n "$NP_OUT" ] && say "$NP_OUT"

step "traffic to node1 ($N1V4)"
for c in 1 2; do
	ns=$LAB-client$c
	if [ $c = 1 ]; then verdict="denied by prefilter"; else verdict="passes"; fi
	got=$(udp_probe "$ns" "$N1" "$N1V4" 50)
	say "client$c -> node1: ${got:-?}/50 UDP received ($verdict)"
	r=$(in_ns "$ns" ping -q -c 3 -i 0.2 -w 2 "$N1V4" 2>/dev/null | awk -F', ' '/received/ {print $2}')
	say "client$c -> node1: ping ${r:-0 received} of 3"
	if tcp_probe "$ns" "$N1" "$N1V4"; then t="connected"; else t="no connection (2 s timeout)"; fi
	say "client$c -> node1: TCP $t"
done

step "live XDP switch while client2 sends 8000 UDP packets at 4000 pps"
port=$(next_port)
bg_start demo.recv in_ns "$N1" "$NP_UDP" recv --port "$port" --bind "$N1V4" --timeout 3 \
	--max-time 30 --tag sw --ready-file "$E2E_TMP/sw.ready"
rpid=$BG_PID
wait_file "$E2E_TMP/sw.ready" 5 || die "receiver did not start"
bg_start demo.send in_ns "$C2" "$NP_UDP" send --to "$N1V4" --port "$port" --count 8000 --rate 4000 --tag sw
spid=$BG_PID
sleep 0.5
for m in generic native; do
	np_capture --node "$N1" xdp-mode "$m" || die "xdp-mode $m failed: $NP_ERR"
	say "$NP_OUT"
	[ $m = generic ] && gap_line=$NP_OUT && sleep 0.5
done
bg_wait "$spid" 15
bg_wait "$rpid" 15
sent=$(awk '/^sent/ {print $2}' "$E2E_TMP/demo.send.out")
got=$(awk '/^received/ {print $2}' "$E2E_TMP/demo.recv.out")
say "client2 flow across both switches: ${got:-?}/${sent:-?} received"

step "nodepath --node $N1 stats"
np --node "$N1" stats 2>&1 | head -20 | sed 's/^/   /'
step "nodepath --node $N1 prefilter list"
np --node "$N1" prefilter list 2>&1 | head -10 | sed 's/^/   /'

step "headline: prefilter drop rate, XDP native / generic / tc only, and the XDP_DROP floor"
say "(bench/prefilter.sh --existing: np_gen sends live XDP frames from the fabric side of"
say " node1's uplink, source 198.18.0.201 denied by a rule it adds for the run; one round of 1 s)"
bench_out=$(bash "$top/bench/prefilter.sh" --existing --lab "$LAB" --rounds 1 --duration 1 2>&1)
bench_rc=$?
printf '%s\n' "$bench_out" | sed 's/^/   /'
[ $bench_rc -eq 0 ] || say "bench/prefilter.sh failed (exit $bench_rc)"
say "mode-switch gap: ${gap_line:-?}"

step "down and lab down"
np_capture --node "$N1" down && say "nodepath --node $N1 down: ok" || say "down failed: $NP_ERR"
np_capture lab down --name "$LAB" && say "nodepath lab down --name $LAB: ok" || say "lab down failed: $NP_ERR"
left=$(ip netns list | grep -c "^$LAB-")
say "namespaces left: $left; pin dirs left: $(ls -d /sys/fs/bpf/nodepath/$LAB-* 2>/dev/null | wc -l)"
say "demo took $(awk -v a="$t_start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }') s"
