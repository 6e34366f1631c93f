#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# `make demo`: nodepath in two minutes on a lab named "demo".
# A prefilter deny on node1's uplink, seen by real traffic; pods talking
# through the datapath (endpoints, redirect_peer/neigh); a LoadBalancer VIP
# balancing curls over node1's two pods (services, Maglev); a UDP service
# steered into the AF_XDP pool (`nodepath agent`); a live XDP
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

# The device kind the lab picked for node1's pods (veth here; netkit where the kernel has it).
ep_kind_line() {
	np --node "$N1" endpoint list --json 2>/dev/null |
		"$NP_PY" -c 'import json,sys; d=json.load(sys.stdin); print(", ".join(sorted({e["dev"] for e in d})) or "none")' 2>/dev/null
}

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

step "pods talk through the datapath (endpoints: $(ep_kind_line); tcx + bpf_redirect_peer/neigh)"
np --node "$N1" endpoint list 2>&1 | sed 's/^/   /'
P1=$LAB-node1-pod1 P2=$LAB-node1-pod2 Q1=$LAB-node2-pod1
P2V4=198.19.1.12 P2V6=fd00:19:1::12 Q1V4=198.19.2.11 P1V4=198.19.1.11
ttl=$(in_ns "$P1" ping -c 1 -W 2 "$P2V4" 2>/dev/null | sed -n 's/.* ttl=\([0-9]*\).*/\1/p')
say "node1 pod1 -> pod2 ($P2V4): ping reply ttl=${ttl:-none} (64: no hop through a router)"
ttl=$(in_ns "$P1" ping -c 1 -W 2 "$P2V6" 2>/dev/null | sed -n 's/.* ttl=\([0-9]*\).*/\1/p')
say "node1 pod1 -> pod2 ($P2V6): ping reply hlim=${ttl:-none}"
if tcp_probe "$P1" "$P2" "$P2V4"; then t="connected"; else t="no connection"; fi
say "node1 pod1 -> pod2: TCP $t"
r=$(in_ns "$C2" ping -q -c 3 -i 0.2 -w 2 "$P1V4" 2>/dev/null | awk -F', ' '/received/ {print $2}')
say "client2 -> node1 pod1 ($P1V4), delivered from the uplink: ping ${r:-0 received} of 3"
r=$(in_ns "$P1" ping -q -c 3 -i 0.2 -w 2 "$Q1V4" 2>/dev/null | awk -F', ' '/received/ {print $2}')
say "node1 pod1 -> node2 pod1 ($Q1V4), across the fabric: ping ${r:-0 received} of 3"
port=$(next_port)
bg_start demo.iperf in_ns "$P2" iperf3 -s -1 -B "$P2V4" -p "$port"
sleep 0.5
gbps=$(in_ns "$P1" timeout 10 iperf3 -c "$P2V4" -p "$port" -t 2 -f g 2>/dev/null |
	awk '/receiver/ {print $(NF-2)}')
bg_stop "$BG_PID" 2>/dev/null
say "node1 pod1 -> pod2: iperf3 TCP ${gbps:-?} Gbit/s through the datapath (2 s)"
np --node "$N1" endpoint list 2>&1 | sed 's/^/   /'
say "(rx/tx are counted by the datapath: redirected packets bypass the devices' own counters)"

step "services: a LoadBalancer VIP 198.18.100.10:80 on node1, the two node1 pods behind it"
httpd_start "$P1" node1-pod1 || say "httpd in $P1 did not start"
httpd_start "$P2" node1-pod2 || say "httpd in $P2 did not start"
say "busybox httpd on :8080 in node1's pods, each answering with its name"
if np_capture --node "$N1" service add web --vip 198.18.100.10:80/tcp --type loadbalancer \
	--backend "$P1V4:8080" --backend "$P2V4:8080"; then
	say "nodepath --node $N1 service add web --vip 198.18.100.10:80/tcp --type loadbalancer --backend $P1V4:8080 --backend $P2V4:8080"
	[ -n "$NP_OUT" ] && say "$NP_OUT"
	tally=$(http_burst "$C2" http://198.18.100.10/ 10)
	say "client2 (client1 is denied by the prefilter): 10 x curl http://198.18.100.10/, a new connection each:"
	printf '%s\n' "$tally" | while read -r n who; do say "   $n answered by $who"; done
	np --node "$N1" service list 2>&1 | sed 's/^/   /'
	say "lb counters on node1: new $(stat_sum "$N1" lb_new 2>/dev/null), revnat $(stat_sum "$N1" lb_revnat 2>/dev/null)"
else
	say "service add failed (exit $NP_RC): $NP_ERR"
fi

step "AF_XDP pool: a UDP service with --afxdp; nodepath agent moves its frames into pod1"
# Client2 behaves like a wire: full checksums (tx offload off) and no GRO on its fabric
# port, so XDP itself balances its frames (see README, "The AF_XDP worker pool").
in_ns "$C2" ethtool -K nic0 tx off >/dev/null 2>&1
in_ns "$LAB-fabric" ethtool -K c2 gro off >/dev/null 2>&1
if np_capture --node "$N1" service add bulk --vip 198.18.100.20:5000/udp --type loadbalancer \
	--backend "$P1V4:5000" --afxdp; then
	say "nodepath --node $N1 service add bulk --vip 198.18.100.20:5000/udp --backend $P1V4:5000 --afxdp"
	bg_start demo.agent "$NP_BIN" --node "$N1" agent
	agent_pid=$BG_PID
	if wait_for 10 sh -c "'$NP_BIN' --node '$N1' agent status --json >/dev/null 2>&1"; then
		say "nodepath --node $N1 agent: $("$NP_BIN" --node "$N1" agent status --json 2>/dev/null |
			json_get - '"%d worker(s), %s mode, %s loop" % (len(d["workers"]), "zero-copy" if d["workers"][0]["zerocopy"] else "copy", d["loop"])')"
		xsk0=$(stat_sum "$N1" to_xsk 2>/dev/null)
		rf=$E2E_TMP/demo.udp.ready
		bg_start demo.recv ip netns exec "$P1" "$NP_UDP" recv --port 5000 --timeout 3 --max-time 20 \
			--tag afxdp --ready-file "$rf"
		recv_pid=$BG_PID
		wait_file "$rf" 5
		sent=$(in_ns "$C2" "$NP_UDP" send --to 198.18.100.20 --port 5000 --count 2000 --rate 2000 --tag afxdp 2>&1)
		bg_wait "$recv_pid" 25
		say "client2: $sent"
		say "pod1's socket: $(cat "$E2E_TMP/demo.recv.out" 2>/dev/null | tail -1)"
		say "XDP to_xsk +$(($(stat_sum "$N1" to_xsk 2>/dev/null) - ${xsk0:-0})); worker rx $("$NP_BIN" --node "$N1" agent status --json 2>/dev/null |
			json_get - 'sum(w["rx"] for w in d["workers"])'), tx $("$NP_BIN" --node "$N1" agent status --json 2>/dev/null |
			json_get - 'sum(w["tx"] for w in d["workers"])')"
	else
		say "the agent did not come up"
	fi
	kill -TERM "$agent_pid" 2>/dev/null
	bg_wait "$agent_pid" 10 && say "agent stopped (SIGTERM): the service is back on the kernel path"
	np_capture --node "$N1" service del bulk
else
	say "service add failed (exit $NP_RC): $NP_ERR"
fi

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
say "the whole matrix (nine scenarios, each against its baselines): make bench; the latest"
say "full run is in bench/RESULTS.md"

step "down and lab down"
np_capture --node "$N1" down && say "nodepath --node $N1 down: ok" || say "down failed: $NP_ERR"
np_capture lab down --name "$LAB" && say "nodepath lab down --name $LAB: ok" || say "lab down failed: $NP_ERR"
left=$(ip netns list | grep -c "^$LAB-")
say "namespaces left: $left; pin dirs left: $(ls -d /sys/fs/bpf/nodepath/$LAB-* 2>/dev/null | wc -l)"
say "demo took $(awk -v a="$t_start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }') s"
