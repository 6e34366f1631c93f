#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Scenario control: control-plane timings on node 1 of a lab (nodepath up with XDP off and
# --maglev-size $MSIZE: no traffic is involved), through the library API in one process
# (build/bench/np_ctlplane, as an agent would program a node, not one CLI process per
# service):
#   nodepath-<N>      programming N ClusterIP services with 10 backends each (ms), all in
#                     one np_svc_add_many() call (control/service.h)
#   update-p50/p99    one backend add or del on a random service of those N (ms)
#   maglev-100/1000   a Maglev table of M=16381 slots built for 100 / 1000 backends (ms)
#   ipt-<N>           the baseline: iptables-restore of a kube-proxy-like ruleset of N
#                     services (KUBE-SERVICES -> KUBE-SVC-* -> KUBE-SEP-* DNAT with
#                     mark-masquerade chains, 10 endpoints each) into the same node (ms)
# Every service holds two Maglev tables of M slots (4 bytes each): M=1021 keeps 10k services
# at 80 MB (the default M=16381 would take 1.3 GB). Contract: bench/lib.sh.
. "$(dirname "$0")/../lib.sh"
bench_trap

LAB=${BENCH_LAB}a
NODE=$LAB-node1
NP_CTL=${NP_CTL:-$NP_TOP/build/bench/np_ctlplane}
N=10000 UPDATES=200 REPS=20 MSIZE=1021
[ "$BENCH_SMOKE" = 1 ] && N=20 UPDATES=10 REPS=3

[ -x "$NP_CTL" ] || bench_die "$NP_CTL is not built (make build/bench/np_ctlplane)"
NV=$N
[ $((N % 1000)) = 0 ] && NV=$((N / 1000))k
IPT=iptables-restore
command -v $IPT >/dev/null || IPT=

bench_progress "lab $LAB: 1 node, nodepath up with XDP off"
bench_lab_up "$LAB" --nodes 1 --pods 1 --clients 1 --pod-dev none || exit 1
bench_on_exit "bench_node_down $NODE"

# ruleset COUNT: a kube-proxy-like iptables-restore input (nat table) of COUNT services.
ruleset() {
	awk -v n="$1" -v kp_jumps="$(bench_kp_jumps)" 'BEGIN {
		print "*nat"
		print ":KUBE-SERVICES - [0:0]"
		print ":KUBE-MARK-MASQ - [0:0]"
		print ":KUBE-POSTROUTING - [0:0]"
		for (i = 0; i < n; i++) {
			printf ":KUBE-SVC-%06d - [0:0]\n", i
			for (j = 0; j < 10; j++)
				printf ":KUBE-SEP-%06d%02d - [0:0]\n", i, j
		}
		print kp_jumps
		print "-A KUBE-POSTROUTING -j MASQUERADE"
		for (i = 0; i < n; i++) {
			b = i % 250 + 1
			printf "-A KUBE-SERVICES -d 198.18.100.%d/32 -p tcp -m comment --comment \"ns/svc-%d cluster IP\" -m tcp --dport %d -j KUBE-SVC-%06d\n", b, i, 1024 + int(i / 250), i
			for (j = 0; j < 10; j++) {
				if (j < 9)
					printf "-A KUBE-SVC-%06d -m comment --comment \"ns/svc-%d\" -m statistic --mode random --probability %.11f -j KUBE-SEP-%06d%02d\n", i, i, 1 / (10 - j), i, j
				else
					printf "-A KUBE-SVC-%06d -m comment --comment \"ns/svc-%d\" -j KUBE-SEP-%06d%02d\n", i, i, i, j
				printf "-A KUBE-SEP-%06d%02d -s 198.19.%d.%d/32 -m comment --comment \"ns/svc-%d\" -j KUBE-MARK-MASQ\n", i, j, i % 200, j + 1, i
				printf "-A KUBE-SEP-%06d%02d -p tcp -m comment --comment \"ns/svc-%d\" -m tcp -j DNAT --to-destination 198.19.%d.%d:8080\n", i, j, i, i % 200, j + 1
			}
		}
		print "COMMIT"
	}'
}

# ipt COUNT VARIANT ROUND: time iptables-restore of COUNT services into an empty nat table.
ipt() {
	local f=$BENCH_OUT/control.rules.$1 t0 t1
	[ -s "$f" ] || ruleset "$1" >"$f"
	bench_in "$NODE" iptables -t nat -F
	bench_in "$NODE" iptables -t nat -X
	t0=$(date +%s%N)
	bench_in "$NODE" $IPT <"$f" || {
		bench_log "iptables-restore of $1 services failed"
		return 1
	}
	t1=$(date +%s%N)
	bench_in "$NODE" iptables -t nat -F
	bench_in "$NODE" iptables -t nat -X
	bench_result "$2" "$3" "$(bench_calc '(b - a) / 1e6' a="$t0" b="$t1")" ms
}

# nodepath ROUND: up (XDP off), N services x 10 backends, updates, down.
np_services() {
	local out v
	bench_node_up "$NODE" --xdp-mode off --maglev-size "$MSIZE" || return 1
	out=$("$NP_CTL" services --node "$NODE" --count "$N" --backends 10 --updates "$UPDATES") || {
		bench_log "np_ctlplane services failed"
		return 1
	}
	bench_node_down "$NODE" || bench_log "down on $NODE failed"
	bench_log "round $1: $(tr '\n' ' ' <<<"$out")"
	v=$(awk '$1 == "program_ms" { print $2 }' <<<"$out")
	[ -n "$v" ] || return 1
	bench_result "nodepath-$NV" "$1" "$v" ms
	bench_result update-p50 "$1" "$(awk '$1 == "update_p50_ms" { print $2 }' <<<"$out")" ms
	bench_result update-p99 "$1" "$(awk '$1 == "update_p99_ms" { print $2 }' <<<"$out")" ms
}

maglev() {
	local out
	out=$("$NP_CTL" maglev --m 16381 --backends "$1" --reps "$REPS") || return 1
	bench_result "maglev-$1" "$2" "$(awk '$1 == "maglev_ms" { print $2 }' <<<"$out")" ms
}

bench_note "library API in one process (np_ctlplane): np_svc_add_many() for all $N services at once, not the CLI; ClusterIP services, 10 backends each, up --maglev-size $MSIZE (two tables of $MSIZE slots per service); update = one backend add or del (np_backend_add/del), timed alone"
[ -n "$IPT" ] || bench_skip "ipt-$NV" "iptables-restore is not installed (scripts/deps.sh)"
[ -n "$IPT" ] && bench_baseline "ipt-$NV"
for r in $(bench_rounds); do
	bench_progress "round $r of $BENCH_ROUNDS: nodepath $N services, iptables-restore $N, maglev"
	np_services "$r" || bench_die "nodepath services round $r failed"
	if [ -n "$IPT" ]; then
		ipt "$N" "ipt-$NV" "$r" || exit 1
	fi
	maglev 100 "$r" || bench_die "maglev 100 failed"
	maglev 1000 "$r" || bench_die "maglev 1000 failed"
done
rm -f "$BENCH_OUT"/control.rules.*
[ -n "$IPT" ] && bench_ratio "ipt-$NV/nodepath-$NV" "ipt-$NV" "nodepath-$NV"
bench_target "nodepath-$NV" '<=' 2000 "$N services in <= 2 s (target: 10k)"
bench_target update-p99 '<=' 1 "single update p99 <= 1 ms"
exit 0
