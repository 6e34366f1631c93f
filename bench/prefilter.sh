#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# bench/prefilter.sh: the prefilter's drop rate on node 1's uplink in XDP native,
# XDP generic and tc only (XDP off), next to the floor (a no-op XDP_DROP sink), in
# one run, as ratios. Method 2 of /work/shared/notes/bench-method.md: np_gen sends
# live frames with XDP_TX out of the fabric side of the uplink (veth n1 in
# <lab>-fabric); they arrive on the uplink as xdp_frames and are judged on the same
# CPU, serialized with the generator. Drops per second are pf_deny (XDP + tc) from
# `nodepath stats --json` before and after a run over the run's time; the floor's
# from the sink's own counter. Rounds interleave the variants; each run is preceded
# by one untimed warm-up call.
#
#   bash bench/prefilter.sh [--rounds N] [--duration S] [--lab NAME] [--existing]
#                           [--flows N] [--size B]
#
# Without --existing it brings up its own lab (default name "pb", one node) and
# takes it down on exit. With --existing it measures lab NAME's node 1 as it is
# (nodepath up there), adds only its own deny rule (removed again) and puts the
# XDP mode back: scripts/demo.sh uses it that way.
# Exit: 0 ok, 1 failure, 2 bad arguments. Needs root.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
NP_BIN=${NP_BIN:-$top/build/nodepath}
NP_GEN=${NP_GEN:-$top/build/bench/np_gen}
NP_PY=${NP_PY:-/usr/bin/python3}

ROUNDS=4 DURATION=2 LAB=pb EXISTING=0 FLOWS=1024 SIZE=64
SRC=198.18.0.201 DST=198.18.0.1

usage() {
	sed -n '/^#   bash/,/^#  *\[--flows/p' "$0" | sed 's/^# \{0,1\}//'
}
bad() {
	printf 'prefilter.sh: %s\n' "$*" >&2
	exit 2
}
die() {
	printf 'prefilter.sh: %s\n' "$*" >&2
	exit 1
}
num() { [[ $2 =~ ^[1-9][0-9]*$ ]] && [ "$2" -le "$3" ] || bad "$1 \"$2\": expected 1..$3"; }

while [ $# -gt 0 ]; do
	case $1 in
	--rounds) num --rounds "${2-}" 20 && ROUNDS=$2 && shift ;;
	--duration)
		[[ ${2-} =~ ^[0-9]+(\.[0-9]+)?$ ]] && awk -v d="$2" 'BEGIN { exit !(d > 0 && d <= 10) }' ||
			bad "--duration \"${2-}\": expected seconds, 0 < S <= 10"
		DURATION=$2 && shift
		;;
	--lab) [[ ${2-} =~ ^[a-z0-9]{1,8}$ ]] || bad "--lab \"${2-}\": expected a lab name [a-z0-9]"
		LAB=$2 && shift ;;
	--existing) EXISTING=1 ;;
	--flows) num --flows "${2-}" 64512 && FLOWS=$2 && shift ;;
	--size) num --size "${2-}" 1514 && SIZE=$2 && shift ;;
	-h | --help) usage && exit 0 ;;
	*) bad "unknown argument \"$1\" (see --help)" ;;
	esac
	shift
done

[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces, BPF)"
[ -x "$NP_BIN" ] || die "$NP_BIN is not built (make build/nodepath)"
[ -x "$NP_GEN" ] || die "$NP_GEN is not built (make build/bench/np_gen)"

NODE=$LAB-node1 FABRIC=$LAB-fabric
ADDED_RULE=0 MODE0=
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	if [ "$EXISTING" = 1 ]; then
		[ -n "$MODE0" ] && "$NP_BIN" --node "$NODE" xdp-mode "$MODE0" >/dev/null 2>&1
		[ "$ADDED_RULE" = 1 ] && "$NP_BIN" --node "$NODE" prefilter del "$SRC/32" >/dev/null 2>&1
	else
		[ -d "/sys/fs/bpf/nodepath/$NODE" ] && "$NP_BIN" --node "$NODE" down >/dev/null 2>&1
		"$NP_BIN" lab down --name "$LAB" >/dev/null 2>&1
		for ns in $(ip netns list | awk '{print $1}' | grep -E "^$LAB-"); do
			echo "prefilter.sh: namespace $ns was left behind; deleting it" >&2
			ip netns del "$ns"
		done
	fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

json() { "$NP_PY" -c "import json, sys; d = json.load(sys.stdin); print($1)"; }

if [ "$EXISTING" = 1 ]; then
	MODE0=$("$NP_BIN" --node "$NODE" status --json 2>/dev/null | json 'd["xdp_mode"] if d.get("up") else ""') ||
		die "node $NODE: status failed"
	[ -n "$MODE0" ] || die "nodepath is not up on $NODE (--existing measures a running node)"
else
	"$NP_BIN" lab down --name "$LAB" >/dev/null 2>&1
	out=$("$NP_BIN" lab up --name "$LAB" --nodes 1 --pods 1 --clients 1 2>&1) || die "lab up: $out"
	out=$("$NP_BIN" --node "$NODE" up --dev uplink --xdp-mode native 2>&1) || die "up: $out"
fi
if ! "$NP_BIN" --node "$NODE" prefilter list --json | json '"\n".join(r["cidr"] for r in d)' |
	grep -qx "$SRC/32"; then
	out=$("$NP_BIN" --node "$NODE" prefilter add "$SRC/32" 2>&1) || die "prefilter add: $out"
	ADDED_RULE=1
fi
MAC=$(ip -n "$NODE" -br link show uplink | awk '{print $3}')
[[ $MAC =~ ^([0-9a-f]{2}:){5}[0-9a-f]{2}$ ]] || die "no MAC address for uplink in $NODE"

GEN=("$NP_GEN" --netns "$FABRIC" --dev n1 --dst-mac "$MAC" --src "$SRC" --dst "$DST"
	--flows "$FLOWS" --size "$SIZE" --peer-netns "$NODE" --peer-dev uplink)

# pf_deny of the uplink's hooks (XDP and tc), summed.
pf_deny() {
	"$NP_BIN" --node "$NODE" stats --json |
		json 'sum(d["hooks"][h]["drops"]["pf_deny"] for h in ("xdp", "tc_uplink_in"))'
}

# run VARIANT: one warm-up call and one timed run; prints "<Mpps> <generated> <dropped>".
run() {
	local v=$1 mode sink=() out gen secs d0 d1 drops
	case $v in
	native | generic) mode=$v ;;
	tc) mode=off ;;
	floor) mode=off sink=(--sink) ;;
	esac
	out=$("$NP_BIN" --node "$NODE" xdp-mode "$mode" 2>&1) || die "xdp-mode $mode: $out"
	out=$("${GEN[@]}" "${sink[@]}" --count 1048576 2>&1) || die "np_gen warm-up ($v): $out"
	d0=$(pf_deny) || die "stats failed"
	out=$("${GEN[@]}" "${sink[@]}" --duration "$DURATION" 2>&1) || die "np_gen ($v): $out"
	d1=$(pf_deny) || die "stats failed"
	gen=$(awk '/^generated/ { print $2 }' <<<"$out")
	secs=$(awk '/^generated/ { print $5 }' <<<"$out")
	if [ "$v" = floor ]; then
		drops=$(awk '/^sink dropped/ { print $3 }' <<<"$out")
	else
		drops=$((d1 - d0))
	fi
	[ -n "$gen" ] && [ -n "$secs" ] && [ -n "$drops" ] || die "np_gen ($v) printed: $out"
	awk -v d="$drops" -v s="$secs" -v g="$gen" 'BEGIN { printf "%.4f %d %d\n", d / s / 1e6, g, d }'
}

VARIANTS=(native generic tc floor)
declare -A R GEN_N DROP_N
for v in "${VARIANTS[@]}"; do R[$v]='' GEN_N[$v]=0 DROP_N[$v]=0; done
cpu=$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')
printf 'prefilter drop rate: kernel %s, %s CPUs (%s)\n' "$(uname -r)" "$(nproc)" "$cpu"
printf 'np_gen on n1 in %s -> uplink of %s (veth), %s B IPv4/UDP from %s (prefilter deny), %s flows;\n' \
	"$FABRIC" "$NODE" "$SIZE" "$SRC" "$FLOWS"
printf '%s interleaved round(s) of %s s per variant, generator and receiver serialized on one CPU\n' \
	"$ROUNDS" "$DURATION"
for ((r = 1; r <= ROUNDS; r++)); do
	for v in "${VARIANTS[@]}"; do
		read -r mpps g d <<<"$(run "$v")" || exit 1
		[ -n "${mpps-}" ] || exit 1
		R[$v]+="$mpps "
		GEN_N[$v]=$((GEN_N[$v] + g)) DROP_N[$v]=$((DROP_N[$v] + d))
	done
done

# stats LIST: "median min max" of the numbers in LIST.
stats() {
	tr ' ' '\n' <<<"$1" | grep . | sort -g | awk '{ a[NR] = $1 }
		END { m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
		      printf "%.3f %.3f %.3f\n", m, a[1], a[NR] }'
}
declare -A MED
# (Δ is two bytes: its column is padded by hand.)
printf '\n%-24s %8s %8s %8s %9s %8s %s %s\n' variant median min max /native ns/pkt " Δns floor" \
	dropped/generated
read -r fmed _ _ <<<"$(stats "${R[floor]}")"
read -r nmed _ _ <<<"$(stats "${R[native]}")"
for v in "${VARIANTS[@]}"; do
	read -r med lo hi <<<"$(stats "${R[$v]}")"
	MED[$v]=$med
	case $v in
	native) name="XDP native" ;;
	generic) name="XDP generic" ;;
	tc) name="tc only (XDP off)" ;;
	floor) name="floor (XDP_DROP sink)" ;;
	esac
	awk -v n="$name" -v m="$med" -v lo="$lo" -v hi="$hi" -v nat="$nmed" -v f="$fmed" \
		-v g="${GEN_N[$v]}" -v d="${DROP_N[$v]}" 'BEGIN {
		printf "%-24s %8.3f %8.3f %8.3f %8.2fx %8.0f %10.0f %d/%d\n", n, m, lo, hi,
			(nat > 0 ? m / nat : 0), (m > 0 ? 1e3 / m : 0),
			(m > 0 && f > 0 ? 1e3 / m - 1e3 / f : 0), d, g }'
done
echo "(Mpps of pf_deny drops; floor: sink drops. ns/pkt includes the generator and the veth xmit)"
awk -v n="${MED[native]}" -v g="${MED[generic]}" -v t="${MED[tc]}" -v f="${MED[floor]}" 'BEGIN {
	printf "prefilter native/generic = %.2fx, native/tc = %.2fx, native/floor = %.2fx\n",
		(g > 0 ? n / g : 0), (t > 0 ? n / t : 0), (f > 0 ? n / f : 0) }'
