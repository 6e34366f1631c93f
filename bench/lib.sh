# SPDX-License-Identifier: GPL-2.0
# bench/lib.sh: helpers every benchmark scenario (bench/scenarios/<name>.sh) sources.
#
# THE CONTRACT between the driver (`nodepath bench`, control/bench.c) and a scenario:
#
#   run as `bash bench/scenarios/<name>.sh`, with this environment:
#     NP_TOP          the repository's root
#     NP_BIN          the nodepath binary (build/nodepath)
#     BENCH_ROUNDS    rounds, >= 1 (default 4; the issue asks >= 4 outside smoke)
#     BENCH_DURATION  seconds per measurement, decimal (default 2)
#     BENCH_LAB       a lab-name prefix (<= 5 chars [a-z0-9]) reserved for this scenario; it may
#                     use "$BENCH_LAB" plus one letter or digit as lab names
#     BENCH_SMOKE     1: tiny sizes, one short round (make test); 0 otherwise
#     BENCH_OUT       a directory for raw logs
#
#   stdout carries only these lines (everything else goes to stderr; the driver saves stderr
#   to $BENCH_OUT/<name>.log):
#     progress TEXT                      shown live by the driver
#     result VARIANT ROUND VALUE UNIT    one measurement; UNIT one of
#                                        Mpps ns Gbit/s conn/s req/s ms us pkts
#     baseline VARIANT                   the table shows each variant's ratio to each baseline
#     ratio NAME NUM DEN                 NAME = median(NUM) / median(DEN)
#     target NAME OP VALUE [TEXT]        OP >= or <=; NAME a ratio or a variant (its median)
#     skip VARIANT REASON                a variant this machine cannot run
#     note TEXT
#   VARIANT and NAME have no spaces. Variants interleave within each round (round 1: a b c,
#   round 2: a b c, ...).
#
#   exit 0 ok, 1 failed (the driver records it and goes on with the next scenario). Every
#   scenario cleans up after itself (bench_trap below); the driver additionally deletes, after
#   each scenario and on SIGINT/SIGTERM (forwarded to the scenario's process group), every
#   network namespace whose name starts with $BENCH_LAB and every nft table named
#   nodepath_bench*, and checks that no pins are left under /sys/fs/bpf/nodepath/$BENCH_LAB*.
#
# Helpers (stable names; add new ones, do not change these):
#   output:   bench_progress TEXT...; bench_result VARIANT ROUND VALUE UNIT; bench_baseline V;
#             bench_ratio NAME NUM DEN; bench_target NAME OP VALUE [TEXT...]; bench_skip V REASON...;
#             bench_note TEXT...; bench_log TEXT... (stderr); bench_die TEXT... (stderr, exit 1)
#   cleanup:  bench_trap (installs the EXIT/INT/TERM trap); bench_on_exit CMD... (run at exit,
#             last registered first); bench_sweep (namespaces $BENCH_LAB*, nft nodepath_bench*)
#   lab:      bench_lab_up NAME [lab up args...] (takes NAME down at exit); bench_lab_down NAME;
#             bench_node_up NODE_NS [up args...]; bench_node_down NODE_NS (down, services
#             forgotten: `down --purge`); bench_in NS CMD... (ip netns exec)
#   numbers:  bench_rounds (prints 1..ROUNDS); bench_calc 'AWK EXPR' (prints its value);
#             bench_stats V1 V2... (prints "median min max")
#   packets:  bench_gen ARGS... runs np_gen; sets GEN_OUT (its output), GEN_PKTS, GEN_SECS,
#             GEN_MPPS, SINK_PKTS (with --sink); returns 1 on failure (np_gen's message logged)
#             bench_mac NS DEV (prints the MAC); bench_np_stat NODE HOOK NAME (one counter from
#             `nodepath stats --json`; NAME a stat or a drop reason)
#   JSON:     bench_json 'EXPR' < json (EXPR is Python over `d`)
set -u

NP_TOP=${NP_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
NP_BIN=${NP_BIN:-$NP_TOP/build/nodepath}
NP_GEN=${NP_GEN:-$NP_TOP/build/bench/np_gen}
NP_PY=${NP_PY:-/usr/bin/python3}
BENCH_ROUNDS=${BENCH_ROUNDS:-4}
BENCH_DURATION=${BENCH_DURATION:-2}
BENCH_LAB=${BENCH_LAB:-bx}
BENCH_SMOKE=${BENCH_SMOKE:-0}
BENCH_OUT=${BENCH_OUT:-/tmp}
BENCH_NAME=${BENCH_NAME:-$(basename "${0%.sh}")}
export NP_TOP NP_BIN

# ---- output -----------------------------------------------------------------

bench_progress() { printf 'progress %s\n' "$*"; }
bench_result() { printf 'result %s %s %s %s\n' "$1" "$2" "$3" "$4"; }
bench_baseline() { printf 'baseline %s\n' "$1"; }
bench_ratio() { printf 'ratio %s %s %s\n' "$1" "$2" "$3"; }
bench_target() {
	local n=$1 op=$2 v=$3
	shift 3
	printf 'target %s %s %s%s\n' "$n" "$op" "$v" "${*:+ $*}"
}
bench_skip() {
	local v=$1
	shift
	printf 'skip %s %s\n' "$v" "$*"
}
bench_note() { printf 'note %s\n' "$*"; }
bench_log() { printf '%s: %s\n' "$BENCH_NAME" "$*" >&2; }
bench_die() {
	bench_log "$*"
	exit 1
}

# ---- cleanup ----------------------------------------------------------------

BENCH_EXIT_CMDS=()

# bench_on_exit CMD...: run CMD (one string, eval'd) at exit, last registered first.
bench_on_exit() { BENCH_EXIT_CMDS+=("$*"); }

# bench_sweep: delete the namespaces of this scenario's labs and the bench nft tables
# of the root namespace.
bench_sweep() {
	local ns t
	for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^${BENCH_LAB}"); do
		ip netns del "$ns" 2>/dev/null
	done
	for t in $(nft list tables 2>/dev/null | awk '$3 ~ /^nodepath_bench/ {print $2 " " $3}' |
		tr ' ' ':'); do
		nft delete table "${t%%:*}" "${t#*:}" 2>/dev/null
	done
	return 0
}

bench_cleanup() {
	local rc=$? i
	trap - EXIT INT TERM
	for ((i = ${#BENCH_EXIT_CMDS[@]} - 1; i >= 0; i--)); do
		eval "${BENCH_EXIT_CMDS[$i]}" >/dev/null 2>&1
	done
	bench_sweep
	exit $rc
}

bench_trap() {
	trap bench_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

# ---- labs -------------------------------------------------------------------

bench_in() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}

# bench_lab_up NAME [ARGS...]: a fresh lab NAME (prefix $BENCH_LAB), taken down at exit.
bench_lab_up() {
	local name=$1 out
	shift
	case $name in
	"$BENCH_LAB"*) ;;
	*) bench_die "lab name $name outside this scenario's prefix $BENCH_LAB" ;;
	esac
	"$NP_BIN" lab down --name "$name" >/dev/null 2>&1
	bench_on_exit "bench_lab_down $name"
	out=$("$NP_BIN" lab up --name "$name" "$@" 2>&1) || {
		bench_log "lab up --name $name $*: $out"
		return 1
	}
	return 0
}

# bench_node_down NODE: nodepath down on NODE, its service records forgotten too
# (`down --purge`; a nodepath without --purge keeps no records: plain `down`).
bench_node_down() {
	"$NP_BIN" --node "$1" down --purge >/dev/null 2>&1 ||
		"$NP_BIN" --node "$1" down >/dev/null 2>&1
}

# bench_lab_down NAME: nodes down (pins go), then the lab.
bench_lab_down() {
	local name=$1 d
	for d in /sys/fs/bpf/nodepath/"$name"-node*; do
		[ -d "$d" ] && bench_node_down "$(basename "$d")"
	done
	"$NP_BIN" lab down --name "$name" >/dev/null 2>&1
	return 0
}

# bench_node_up NODE [ARGS...]: `nodepath up` on NODE's uplink (ARGS e.g. --xdp-mode off).
bench_node_up() {
	local node=$1 out
	shift
	out=$("$NP_BIN" --node "$node" up --dev uplink "$@" 2>&1) || {
		bench_log "up on $node: $out"
		return 1
	}
	return 0
}

# ---- numbers ----------------------------------------------------------------

bench_rounds() { seq 1 "$BENCH_ROUNDS"; }

# bench_calc 'EXPR' [VAR=VALUE...]: awk arithmetic, e.g. bench_calc 'a / b' a=3 b=4
bench_calc() {
	local e=$1 args=() kv
	shift
	for kv in "$@"; do args+=(-v "$kv"); done
	awk "${args[@]}" "BEGIN { printf \"%.6g\\n\", $e }"
}

# bench_stats V...: "median min max"; the median of an even count is the mean of the two
# middle values.
bench_stats() {
	printf '%s\n' "$@" | grep . | sort -g | awk '{ a[NR] = $1 }
		END { if (!NR) exit 1
		      m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
		      printf "%.6g %.6g %.6g\n", m, a[1], a[NR] }'
}

# ---- packets ----------------------------------------------------------------

# bench_kp_jumps: the rules of a kube-proxy-like nat table (iptables-restore lines) that
# every ruleset has: the jumps into KUBE-SERVICES and KUBE-POSTROUTING and the 0x4000
# masquerade mark (set, and skipped or cleared in KUBE-POSTROUTING); the MASQUERADE rule
# itself is the caller's.
bench_kp_jumps() {
	cat <<'KP'
-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING
-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000
-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN
-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0
KP
}

bench_json() { "$NP_PY" -c "import json, sys; d = json.load(sys.stdin); print($1)"; }

bench_mac() { ip -n "$1" -br link show "$2" | awk '{print $3}'; }

# bench_np_stat NODE HOOK NAME: one counter (a stat, or a drop reason) of HOOK.
bench_np_stat() {
	"$NP_BIN" --node "$1" stats --json |
		bench_json "(lambda h: h.get('$3', h['drops'].get('$3', 0)))(d['hooks']['$2'])"
}

# bench_gen ARGS...: run np_gen; GEN_PKTS, GEN_SECS, GEN_MPPS, SINK_PKTS from its output.
bench_gen() {
	GEN_PKTS= GEN_SECS= GEN_MPPS= SINK_PKTS=
	GEN_OUT=$("$NP_GEN" "$@" 2>&1) || {
		bench_log "np_gen $*: $GEN_OUT"
		return 1
	}
	read -r GEN_PKTS GEN_SECS GEN_MPPS <<<"$(awk '/^generated/ { print $2, $5, $8 }' <<<"$GEN_OUT")"
	SINK_PKTS=$(awk '/^sink dropped/ { print $3 }' <<<"$GEN_OUT")
	[ -n "$GEN_PKTS" ] || {
		bench_log "np_gen $*: unexpected output: $GEN_OUT"
		return 1
	}
	return 0
}
