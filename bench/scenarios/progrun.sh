#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Scenario progrun: ns per packet of each datapath path with BPF_PROG_TEST_RUN (repeat
# 1 << 20), minus the cost of a no-op program run the same way right before it
# (build/bench/np_progrun; the method is at the top of bench/np_progrun.c). The node is a
# lab node with nodepath up (XDP off: the XDP program is loaded by np_progrun, with the
# node's maps), a prefilter deny rule, a UDP LoadBalancer service with a local backend,
# two pod endpoints. Paths (XDP unless said): pf-hit (a denied source), pf-miss (an
# allowed source to the node), lb-ct-1k / lb-ct-1m (a tracked flow, 1000 / 1048576 flows
# in the conntrack), lb-new (every packet a new flow), tc-uplink (tcx on the uplink, a
# client to a local pod), tc-from-pod (pod to pod). Every timed run is checked against
# the node's counters. Contract: bench/lib.sh.
. "$(dirname "$0")/../lib.sh"
bench_trap

LAB=${BENCH_LAB}a
NODE=$LAB-node1
NP_PROGRUN=${NP_PROGRUN:-$NP_TOP/build/bench/np_progrun}
REPEAT=1048576 BIG=1048576 CT=4194304
[ "$BENCH_SMOKE" = 1 ] && REPEAT=65536 BIG=65536 CT=262144
BIGV=lb-ct-1m
[ "$BIG" != 1048576 ] && BIGV=lb-ct-$((BIG / 1000))k

[ -x "$NP_PROGRUN" ] || bench_die "$NP_PROGRUN is not built (make build/bench/np_progrun)"

bench_progress "lab $LAB: 1 node, 2 pods; nodepath up (XDP off, conntrack $CT), a service, a deny rule"
bench_lab_up "$LAB" --nodes 1 --pods 2 --clients 1 || exit 1
bench_on_exit "bench_node_down $NODE"
# the lab brought the node up with its defaults: again with a conntrack for 1M flows
bench_node_down "$NODE" || bench_die "down on $NODE failed"
bench_node_up "$NODE" --xdp-mode off --pod-cidr 198.19.1.0/24,fd00:19:1::/64 --ct-size "$CT" ||
	exit 1
out=$("$NP_BIN" --node "$NODE" service add bench --vip 198.18.100.10:80/udp --type loadbalancer \
	--backend 198.19.1.11:8080 2>&1) || bench_die "service add: $out"
out=$("$NP_BIN" --node "$NODE" prefilter add 198.18.9.0/24 2>&1) || bench_die "prefilter add: $out"

bench_note "BPF_PROG_TEST_RUN, repeat $REPEAT (lb-new: $((REPEAT / 4)) runs, each a new flow), in a re-stamping wrapper that tail-calls the path; ns above the same wrapper tail-calling a no-op program, measured right before; XDP paths: np_xdp_uplink loaded with the node's maps; conntrack of $CT entries"
for r in $(bench_rounds); do
	bench_progress "round $r of $BENCH_ROUNDS: pf-hit pf-miss lb-ct-1k $BIGV lb-new tc-uplink tc-from-pod"
	"$NP_PROGRUN" --node "$NODE" --round "$r" --repeat "$REPEAT" --big-flows "$BIG" ||
		bench_die "np_progrun round $r failed"
done
bench_ratio "$BIGV/lb-ct-1k" "$BIGV" lb-ct-1k
bench_ratio lb-new/lb-ct-1k lb-new lb-ct-1k
bench_target lb-ct-1k '<=' 100 "ns above the no-op floor"
bench_target "$BIGV/lb-ct-1k" '<=' 1.25 "per-packet cost with 1M flows vs 1k"
exit 0
