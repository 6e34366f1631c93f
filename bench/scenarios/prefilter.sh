#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Scenario prefilter: drops per second of a prefilter deny rule on node 1's uplink, in
# XDP native, XDP generic and tc only (xdp-mode off), next to the floor (a no-op
# count-and-XDP_DROP program, native, nodepath down) and the earliest drop the stack has
# (an nftables raw-table `counter drop` on the uplink, nodepath down, no prefilter rule).
# np_gen sends 64-byte IPv4/UDP live frames out of the fabric side of the uplink (veth n1
# in <lab>-fabric); generator and receiver run serialized on one CPU. Drops counted:
# pf_deny (XDP + tc) from `nodepath stats --json`, the sink's own counter, the nft counter.
# bench/prefilter.sh is the older stand-alone script (it also measures a running lab).
# Contract: bench/lib.sh.
. "$(dirname "$0")/../lib.sh"
bench_trap

LAB=${BENCH_LAB}a
NODE=$LAB-node1 FABRIC=$LAB-fabric
SRC=198.18.0.201 DST=198.18.0.1 FLOWS=1024
WARM=1048576
[ "$BENCH_SMOKE" = 1 ] && WARM=65536

[ -x "$NP_GEN" ] || bench_die "$NP_GEN is not built (make build/bench/np_gen)"
command -v nft >/dev/null || bench_die "nft is not installed (scripts/deps.sh)"

bench_progress "lab $LAB: 1 node, nodepath up (XDP native), deny $SRC/32"
bench_lab_up "$LAB" --nodes 1 --pods 1 --clients 1 --pod-dev none || exit 1
bench_on_exit "bench_node_down $NODE"
UP=0
np_up() {
	[ $UP = 1 ] && return 0
	bench_node_up "$NODE" --xdp-mode native || return 1
	# (a nodepath that keeps rules across down/up would refuse a duplicate)
	"$NP_BIN" --node "$NODE" prefilter del "$SRC/32" >/dev/null 2>&1
	out=$("$NP_BIN" --node "$NODE" prefilter add "$SRC/32" 2>&1) || {
		bench_log "prefilter add: $out"
		return 1
	}
	UP=1
}
np_down() {
	[ $UP = 0 ] && return 0
	bench_node_down "$NODE" || {
		bench_log "down on $NODE failed"
		return 1
	}
	UP=0
}
np_up || exit 1
MAC=$(bench_mac "$NODE" uplink)
[[ $MAC =~ ^([0-9a-f]{2}:){5}[0-9a-f]{2}$ ]] || bench_die "no MAC address for uplink in $NODE"
GEN=(--netns "$FABRIC" --dev n1 --dst-mac "$MAC" --src "$SRC" --dst "$DST" --flows "$FLOWS"
	--size 64 --peer-netns "$NODE" --peer-dev uplink)

pf_deny() {
	"$NP_BIN" --node "$NODE" stats --json |
		bench_json 'sum(d["hooks"][h]["drops"]["pf_deny"] for h in ("xdp", "tc_uplink_in"))'
}

NFT_RULES="table ip nodepath_bench_raw {
	chain pre {
		type filter hook prerouting priority raw; policy accept;
		iifname \"uplink\" counter drop
	}
}"
nft_count() {
	bench_in "$NODE" nft list table ip nodepath_bench_raw |
		awk '/counter packets/ { for (i = 1; i < NF; i++) if ($i == "packets") print $(i + 1) }'
}

# measure VARIANT ROUND: one warm-up call, one timed run, one result line.
measure() {
	local v=$1 r=$2 sink=() d0 d1 drops
	case $v in
	xdp-native | xdp-generic | tc-only)
		np_up || return 1
		local m=${v#xdp-}
		[ "$v" = tc-only ] && m=off
		out=$("$NP_BIN" --node "$NODE" xdp-mode "$m" 2>&1) || {
			bench_log "xdp-mode $m: $out"
			return 1
		}
		;;
	floor)
		np_down || return 1
		sink=(--sink)
		;;
	nft-raw)
		np_down || return 1
		bench_in "$NODE" nft -f - <<<"$NFT_RULES" || {
			bench_log "nft -f (raw drop table) failed"
			return 1
		}
		;;
	esac
	bench_gen "${GEN[@]}" "${sink[@]}" --count "$WARM" || return 1
	case $v in
	floor) d0=0 ;;
	nft-raw) d0=$(nft_count) ;;
	*) d0=$(pf_deny) ;;
	esac
	bench_gen "${GEN[@]}" "${sink[@]}" --duration "$BENCH_DURATION" || return 1
	case $v in
	floor) d1=$SINK_PKTS ;;
	nft-raw)
		d1=$(nft_count)
		bench_in "$NODE" nft delete table ip nodepath_bench_raw
		;;
	*) d1=$(pf_deny) ;;
	esac
	[ -n "$d0" ] && [ -n "$d1" ] || {
		bench_log "$v: no drop count (np_gen printed: $GEN_OUT)"
		return 1
	}
	drops=$((d1 - d0))
	bench_log "$v round $r: $drops dropped of $GEN_PKTS generated in $GEN_SECS s"
	bench_result "$v" "$r" "$(bench_calc 'd / s / 1e6' d="$drops" s="$GEN_SECS")" Mpps
}

VARIANTS=(xdp-native xdp-generic tc-only floor nft-raw)
bench_note "np_gen live frames (64 B IPv4/UDP, $FLOWS flows) into node 1's veth uplink; generator and receiver serialized on one CPU; Mpps of drops"
bench_baseline floor
bench_baseline nft-raw
for r in $(bench_rounds); do
	bench_progress "round $r of $BENCH_ROUNDS: ${VARIANTS[*]}"
	for v in "${VARIANTS[@]}"; do
		measure "$v" "$r" || bench_die "$v round $r failed"
	done
done
bench_ratio xdp-native/floor xdp-native floor
bench_ratio xdp-native/nft-raw xdp-native nft-raw
bench_ratio xdp-native/xdp-generic xdp-native xdp-generic
bench_ratio xdp-native/tc-only xdp-native tc-only
bench_target xdp-native/floor '>=' 0.9
bench_target xdp-native/nft-raw '>=' 3
bench_target xdp-native/xdp-generic '>=' 2.5
exit 0
