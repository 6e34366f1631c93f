#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# `make demo`: the walking skeleton in two minutes on a lab named "demo".
# A prefilter deny on node1's uplink, seen by real traffic; a live XDP
# native -> generic -> native switch under a flow; the counters; drop rates
# in native and generic XDP side by side; then everything is taken down
# (also when interrupted).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
export NP_TOP=$top
. "$top/tests/e2e/lib.sh"

LAB=demo N1=demo-node1 C1=demo-client1 C2=demo-client2
N1V4=198.18.0.1 C1V4=198.18.0.101
FLOOD=${DEMO_FLOOD:-200000}

step() { printf '\n== %s\n' "$*"; }
say() { printf '   %s\n' "$*"; }
die() {
	printf 'demo: %s\n' "$*" >&2
	exit 1
}

[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces, BPF)"
[ -x "$NP_BIN" ] || die "$NP_BIN is not built (make build/nodepath)"
[ -x "$NP_UDP" ] || die "$NP_UDP is not built (make build/tests/tools/np_udp)"
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

# flood MODE: prints "<drops> <sent> <secs> <uplink rx dropped delta>" for one flood;
# drops are pf_deny of XDP and tc together (with XDP off, tc drops them).
uplink_rx_dropped() {
	ip -n "$N1" -s link show uplink | awk '/RX:/ { getline; print $4; exit }'
}
flood() {
	local m=$1 d0 d1 x0 x1 out
	np_capture --node "$N1" xdp-mode "$m" >/dev/null || die "xdp-mode $m failed: $NP_ERR"
	d0=$(pf_deny_total "$N1") x0=$(uplink_rx_dropped)
	out=$(in_ns "$C1" "$NP_UDP" send --to "$N1V4" --port 9 --count "$FLOOD" --rate 0 --tag flood 2>/dev/null)
	sleep 0.2
	d1=$(pf_deny_total "$N1") x1=$(uplink_rx_dropped)
	echo "$((d1 - d0)) $(echo "$out" | awk '{print $2, $4}') $((x1 - x0))"
}

step "drop rate: $FLOOD UDP packets from client1 (denied) as fast as one np_udp sends, per mode"
declare -A rate
for m in native generic off; do
	read -r drops sent secs lost <<<"$(flood $m)"
	rate[$m]=$(awk -v d="$drops" -v s="$secs" 'BEGIN { printf "%.0f", (s > 0 ? d / s : 0) }')
	if [ "$drops" -ge "$sent" ] && [ "$lost" -eq 0 ]; then
		bound="sender-bound: all $sent sent were dropped"
	else
		bound="filter-bound: $drops of $sent dropped, $lost lost before the filter"
	fi
	if [ $m = off ]; then who="tc only (XDP off)"; else who="XDP $m"; fi
	say "$(printf '%-18s' "$who"): $drops pf_deny drops in $secs s = $(awk -v r="${rate[$m]}" 'BEGIN { printf "%.3f", r / 1e6 }') Mpps ($bound)"
done
np --node "$N1" xdp-mode native >/dev/null 2>&1

step "headline"
say "$(awk -v n="${rate[native]}" -v g="${rate[generic]}" -v t="${rate[off]}" 'BEGIN { printf "XDP native drops ~%.2f Mpps, generic ~%.2f Mpps (ratio %.2f); tc alone ~%.2f Mpps", n / 1e6, g / 1e6, (g > 0 ? n / g : 0), t / 1e6 }')"
say "(sender-bound: one np_udp sender through the client's UDP stack, a bridge and two veths,"
say " all on the sender's CPU; every packet sent was dropped, so these are lower bounds. On veth"
say " native XDP gets an skb the sender already built, so it saves nothing here; a frame"
say " generator (bench/) is needed to show the native/generic gap)"
say "mode-switch gap: ${gap_line:-?}"

step "down and lab down"
np_capture --node "$N1" down && say "nodepath --node $N1 down: ok" || say "down failed: $NP_ERR"
np_capture lab down --name "$LAB" && say "nodepath lab down --name $LAB: ok" || say "lab down failed: $NP_ERR"
left=$(ip netns list | grep -c "^$LAB-")
say "namespaces left: $left; pin dirs left: $(ls -d /sys/fs/bpf/nodepath/$LAB-* 2>/dev/null | wc -l)"
say "demo took $(awk -v a="$t_start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }') s"
