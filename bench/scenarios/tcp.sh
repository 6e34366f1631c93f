#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# bench/scenarios/tcp.sh: iperf3 TCP Gbit/s through a VIP and pod to pod, nodepath against the
# host stack with kube-proxy-style rules.
#
# Two labs of the same shape (one node, two pods, one client): $BENCH_LAB"t" runs nodepath
# (pods are veth endpoints, XDP native on the uplink), $BENCH_LAB"h" is built with
# --pod-dev none (the node's stack routes the pods) and a kube-proxy-like iptables ruleset
# (1000 services, the real one last; DNAT + MASQUERADE). Variants, interleaved per round:
#   np-vip          client1 -> LoadBalancer 198.18.100.20:5201/tcp -> pod1 (nodepath; the
#                   client is a local socket, so its frames are CHECKSUM_PARTIAL and XDP leaves
#                   them to tc, which balances and delivers with redirect_peer)
#   np-vip-generic  the same with `xdp-mode generic` on the uplink
#   host-vip        the same VIP through iptables DNAT and the host stack (baseline)
#   np-pod          pod1 -> pod2 on the same node (nodepath: redirect_peer)
#   host-pod        pod1 -> pod2 through the node's stack (baseline)
# iperf3 -t BENCH_DURATION (whole seconds, >= 1), one stream; Gbit/s received.
# Target np-pod >= 1.3x host-pod.
set -u
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../lib_net.sh"
bench_trap

command -v iperf3 >/dev/null || bench_die "iperf3 missing (scripts/deps.sh)"
NL=${BENCH_LAB}t HL=${BENCH_LAB}h
VIP=198.18.100.20 PORT=5201 P1=198.19.1.11 P2=198.19.1.12
SECS=$(bench_calc 'int(d + 0.5) < 1 ? 1 : int(d + 0.5)' d="$BENCH_DURATION")
[ "$BENCH_SMOKE" = 1 ] && SECS=1

bench_progress "labs $NL (nodepath) and $HL (host stack): 1 node, 2 pods each"
bench_lab_up "$NL" --nodes 1 --pods 2 --clients 1 || exit 1
bench_lab_up "$HL" --nodes 1 --pods 2 --clients 1 --pod-dev none || exit 1
out=$("$NP_BIN" --node "$NL-node1" service add iperf --vip "$VIP:$PORT/tcp" --type loadbalancer \
	--backend "$P1:$PORT" 2>&1) || bench_die "service add: $out"
RULES=$(mktemp /tmp/bench-tcp.XXXXXX)
bench_on_exit "rm -f $RULES"
bnet_kp_rules 1000 "$VIP" "$PORT" "$P1" "$PORT" tcp >"$RULES"
bnet_ipt_load "$HL-node1" "$RULES" || exit 1

# iperf3 servers in both pods of both labs, one-off servers restarted per run
SRV_PIDS=()
# shellcheck disable=SC2016 # expanded when the trap runs
bench_on_exit 'for p in "${SRV_PIDS[@]}"; do kill "$p"; done'

# iperf VARIANT ROUND SERVER_NS CLIENT_NS DST: Gbit/s received, as a result line.
iperf() {
	local v=$1 r=$2 sns=$3 cns=$4 dst=$5 spid out gbit
	ip netns exec "$sns" iperf3 -s -1 -p "$PORT" >/dev/null 2>&1 &
	spid=$!
	SRV_PIDS+=("$spid")
	sleep 0.3
	out=$(ip netns exec "$cns" timeout $((SECS + 15)) iperf3 -c "$dst" -p "$PORT" -t "$SECS" -J 2>&1)
	wait "$spid" 2>/dev/null
	gbit=$(bench_json 'd["end"]["sum_received"]["bits_per_second"] / 1e9' <<<"$out" 2>/dev/null)
	[ -n "$gbit" ] || {
		bench_log "$v round $r: iperf3 -c $dst from $cns failed: $(tail -c 400 <<<"$out")"
		return 1
	}
	gbit=$(printf "%.4f" "$gbit")
	bench_log "$v round $r: $gbit Gbit/s"
	bench_result "$v" "$r" "$gbit" Gbit/s
}

bench_baseline host-vip
bench_baseline host-pod
for r in $(bench_rounds); do
	bench_progress "round $r/$BENCH_ROUNDS"
	bnet_xdp_mode "$NL-node1" native || exit 1
	iperf np-vip "$r" "$NL-node1-pod1" "$NL-client1" "$VIP" || exit 1
	iperf host-vip "$r" "$HL-node1-pod1" "$HL-client1" "$VIP" || exit 1
	iperf np-pod "$r" "$NL-node1-pod2" "$NL-node1-pod1" "$P2" || exit 1
	iperf host-pod "$r" "$HL-node1-pod2" "$HL-node1-pod1" "$P2" || exit 1
	bnet_xdp_mode "$NL-node1" generic || exit 1
	iperf np-vip-generic "$r" "$NL-node1-pod1" "$NL-client1" "$VIP" || exit 1
done

bench_ratio np-pod/host-pod np-pod host-pod
bench_ratio np-vip/host-vip np-vip host-vip
bench_ratio np-vip-generic/host-vip np-vip-generic host-vip
bench_target np-pod/host-pod '>=' 1.3 "pod <-> pod TCP >= 1.3x host-stack routing"
bench_note "iperf3 -t $SECS, one TCP stream, same node; clients and servers share the machine's CPUs"
bench_note "native XDP on a veth uplink takes GSO away from its peer (README), which np-vip pays and np-vip-generic does not"
exit 0
