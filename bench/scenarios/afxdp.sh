#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# bench/scenarios/afxdp.sh: the AF_XDP pool into a pod against the kernel path into the same
# pod, packets per second delivered.
#
# Lab $BENCH_LAB"x": one node, one pod. A LoadBalancer service 198.18.100.30:9/udp marked
# --afxdp, backend the node's pod 198.19.1.11:9. np_gen sends 64-byte IPv4/UDP live frames (1024
# flows) from the fabric side of the uplink; a tcx-ingress sink on the pod's nic0 counts what
# arrives. Variants, interleaved per round:
#   kernel      `nodepath agent` not running: XDP DNATs and passes, tc delivers (redirect_peer)
#   afxdp-pool  `nodepath agent --workers 1` running: XDP DNATs and redirects into the xskmap,
#               the worker (copy mode on veth) transmits into the pod's host-side veth
# The worker runs on the other CPU (queue 0 -> CPU 0; np_gen is pinned to the last CPU), so
# afxdp-pool uses two CPUs where kernel uses one: not the same accounting (bench-method B.2).
# When the pool cannot start, `skip afxdp-pool REASON` and the kernel variant still runs.
set -u
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../lib_net.sh"
bench_trap

LAB=${BENCH_LAB}x
NODE=$LAB-node1
POD=$NODE-pod1
VIP=198.18.100.30 PORT=9 BIP=198.19.1.11
GEN=(--src 198.18.0.201 --dst "$VIP" --dport "$PORT" --flows 1024)

bench_progress "lab $LAB: 1 node, 1 pod"
bench_lab_up "$LAB" --nodes 1 --pods 1 --clients 1 || exit 1
out=$("$NP_BIN" --node "$NODE" service add fast --vip "$VIP:$PORT/udp" --type loadbalancer \
	--backend "$BIP:$PORT" --afxdp 2>&1) || bench_die "service add --afxdp: $out"

AGENT_PID=
AGENT_LOG=$BENCH_OUT/afxdp-agent.log
agent_stop() {
	[ -n "$AGENT_PID" ] || return 0
	"$NP_BIN" --node "$NODE" agent stop >/dev/null 2>&1 || kill "$AGENT_PID" 2>/dev/null
	for _ in $(seq 50); do
		kill -0 "$AGENT_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$AGENT_PID" 2>/dev/null && kill -9 "$AGENT_PID" 2>/dev/null
	wait "$AGENT_PID" 2>/dev/null
	AGENT_PID=
}
bench_on_exit agent_stop

# agent_start: the agent with one worker, in the background; 0 when its worker is ready.
agent_start() {
	local st
	"$NP_BIN" --node "$NODE" agent --workers 1 >>"$AGENT_LOG" 2>&1 &
	AGENT_PID=$!
	for _ in $(seq 100); do
		st=$("$NP_BIN" --node "$NODE" agent status --json 2>/dev/null |
			bench_json 'd["workers"][0]["state"]' 2>/dev/null)
		[ "$st" = ready ] && return 0
		kill -0 "$AGENT_PID" 2>/dev/null || break
		sleep 0.1
	done
	POOL_WHY="agent did not get a ready worker in 10 s (state '${st:-none}'; see $AGENT_LOG)"
	agent_stop
	return 1
}

POOL=1 POOL_WHY=
"$NP_BIN" agent -h >/dev/null 2>&1 || POOL=0 POOL_WHY="this nodepath has no agent command"

bench_baseline kernel
for r in $(bench_rounds); do
	bench_progress "round $r/$BENCH_ROUNDS"
	x0=$(bnet_stat "$NODE" xdp to_xsk)
	bnet_gen_pod kernel "$r" "$NODE" "$POD" "${GEN[@]}" || exit 1
	x1=$(bnet_stat "$NODE" xdp to_xsk)
	[ "$x1" = "$x0" ] || bench_die "kernel: to_xsk rose by $((x1 - x0)) without the agent"
	[ "$POOL" = 1 ] || continue
	if ! agent_start; then
		POOL=0
		continue
	fi
	bnet_gen_pod afxdp-pool "$r" "$NODE" "$POD" "${GEN[@]}" || exit 1
	x2=$(bnet_stat "$NODE" xdp to_xsk)
	[ $((x2 - x1)) -ge "$BNET_SENT" ] ||
		bench_die "afxdp-pool: XDP sent $((x2 - x1)) of $BNET_SENT frames to the pool (wrong path?)"
	bench_log "afxdp-pool round $r: agent status: $("$NP_BIN" --node "$NODE" agent status --json 2>&1 | tr -d '\n' | head -c 600)"
	agent_stop
done

if [ "$POOL" = 1 ]; then
	bench_ratio afxdp-pool/kernel afxdp-pool kernel
	bench_note "afxdp-pool: XDP -> xskmap -> worker (copy mode on veth, other CPU) -> AF_XDP TX into the pod's veth; delivered = counted in the pod"
else
	bench_skip afxdp-pool "$POOL_WHY"
fi
exit 0
