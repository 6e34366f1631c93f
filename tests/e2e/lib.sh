# SPDX-License-Identifier: GPL-2.0
# Shared helpers for the e2e tests (tests/e2e/test_*.sh) and scripts/demo.sh.
# Source it; it sets nothing else than `set -u` and the helpers below.
#
#   TAP:      tap_plan N; tap_ok DESC; tap_fail DESC [DIAG...]; tap_check DESC CMD...;
#             tap_skip DESC REASON; tap_diag MSG...; tap_done (prints the summary, returns
#             1 on any failure; planned tests that never ran are reported as failures)
#             need_built FILE..., need_tools TOOL... (abort the plan when missing)
#   CLI:      np ARGS...   ("$NP_BIN" ARGS...), np_rc: status of the last np_capture
#             np_capture ARGS...  runs np, keeps stdout in $NP_OUT, stderr in $NP_ERR
#   lab:      e2e_lab_up NAME ARGS... / e2e_node_up NODE ARGS... ; the EXIT/INT/TERM trap
#             (e2e_cleanup) always takes nodes down, the lab down, and kills jobs.
#   netns:    in_ns NS CMD...
#   jobs:     bg_start NAME CMD... (pid in BG_PID), bg_stop PID, bg_wait PID SECS
#   waiting:  wait_for SECS CMD..., wait_file FILE SECS
#   JSON:     json_get FILE|- 'EXPR'   (EXPR is Python over `d`, e.g. 'd["hooks"]["xdp"]')
#   traffic:  udp_probe, tcp_probe, ping_probe; in a case: ping_req, tcp_req, udp_req
#   pinned:   prog_links PIN, map_count PIN
set -u

NP_TOP=${NP_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
NP_BIN=${NP_BIN:-$NP_TOP/build/nodepath}
NP_UDP=${NP_UDP:-$NP_TOP/build/tests/tools/np_udp}
# Debian's python3 (it has json); the python3 on PATH may be another one.
NP_PY=${NP_PY:-/usr/bin/python3}
E2E_TMP=$(mktemp -d /tmp/np-e2e.XXXXXX)

# ---- TAP -------------------------------------------------------------------

TAP_N=0 TAP_PASS=0 TAP_FAIL=0 TAP_SKIP=0 TAP_PLAN=0

tap_plan() {
	TAP_PLAN=$1
	echo "1..$1"
}

tap_diag() {
	local l
	for l in "$@"; do
		printf '%s\n' "$l" | sed 's/^/# /'
	done
}

tap_ok() {
	TAP_N=$((TAP_N + 1)) TAP_PASS=$((TAP_PASS + 1))
	echo "ok $TAP_N - $1"
}

tap_fail() {
	TAP_N=$((TAP_N + 1)) TAP_FAIL=$((TAP_FAIL + 1))
	echo "not ok $TAP_N - $1"
	shift
	[ $# -gt 0 ] && tap_diag "$@"
	return 0
}

tap_skip() {
	TAP_N=$((TAP_N + 1)) TAP_SKIP=$((TAP_SKIP + 1))
	echo "ok $TAP_N - $1 # SKIP $2"
}

# tap_check DESC CMD...: ok when CMD succeeds.
tap_check() {
	local d=$1
	shift
	if "$@"; then
		tap_ok "$d"
	else
		tap_fail "$d" "failed: $*"
	fi
}

# Results of one case built from several checks: case_begin; case_req COND MSG...; case_end DESC
CASE_ERRS=()
case_begin() { CASE_ERRS=(); }
# case_req MSG CMD...: record MSG as a failure unless CMD succeeds.
case_req() {
	local m=$1
	shift
	"$@" || CASE_ERRS+=("$m")
}
case_note() { CASE_ERRS+=("$1"); }
case_end() {
	if [ ${#CASE_ERRS[@]} -eq 0 ]; then
		tap_ok "$1"
	else
		tap_fail "$1" "${CASE_ERRS[@]}"
	fi
}

tap_done() {
	while [ "$TAP_PLAN" -gt "$TAP_N" ]; do
		tap_fail "planned test $((TAP_N + 1)) did not run${TAP_ABORT:+: $TAP_ABORT}"
	done
	echo "# $TAP_PASS passed, $TAP_FAIL failed, $TAP_SKIP skipped"
	[ "$TAP_FAIL" -eq 0 ]
}

# need_built FILE...: abort the plan (every planned test fails, exit 1) unless every
# FILE is executable. need_tools TOOL...: the same unless every TOOL is on PATH; the
# message says TOOL $E2E_MISSING (a guest says where instead of scripts/deps.sh).
E2E_MISSING=${E2E_MISSING:-is not installed (scripts/deps.sh)}
need_built() {
	local f
	for f in "$@"; do
		if [ ! -x "$f" ]; then
			TAP_ABORT="$f is not built (make all)"
			tap_done
			exit 1
		fi
	done
}

need_tools() {
	local t
	for t in "$@"; do
		if ! command -v "$t" >/dev/null; then
			TAP_ABORT="$t $E2E_MISSING"
			tap_done
			exit 1
		fi
	done
}

# ---- the CLI -----------------------------------------------------------------

np() { "$NP_BIN" "$@"; }

NP_OUT='' NP_ERR='' NP_RC=0
np_capture() {
	NP_OUT=$("$NP_BIN" "$@" 2>"$E2E_TMP/np.err")
	NP_RC=$?
	NP_ERR=$(cat "$E2E_TMP/np.err")
	return $NP_RC
}

# ---- namespaces, jobs, waiting -------------------------------------------------

in_ns() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}

BG_PID=
# bg_start NAME CMD...: run CMD in the background, output to $E2E_TMP/NAME.out/.err.
# `in_ns NS ...` becomes `ip netns exec NS ...` so that BG_PID is the command itself.
# Every pid also goes to $E2E_TMP/bg.pids: jobs started inside $(...) are killed by
# the cleanup too.
bg_start() {
	local name=$1
	shift
	if [ "$1" = in_ns ]; then
		shift
		set -- ip netns exec "$@"
	fi
	"$@" >"$E2E_TMP/$name.out" 2>"$E2E_TMP/$name.err" &
	BG_PID=$!
	echo "$BG_PID" >>"$E2E_TMP/bg.pids"
}

# bg_wait PID SECS: wait for PID at most SECS seconds; returns its status, or 124
# (after killing it) when it outlived SECS.
bg_wait() {
	local pid=$1 secs=$2 i
	for ((i = 0; i < secs * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		bg_stop "$pid"
		return 124
	fi
	wait "$pid" 2>/dev/null
	local rc=$?
	echo "$pid" >>"$E2E_TMP/bg.done"
	return $rc
}

# bg_stop PID: TERM, then KILL after 2 s; children of PID too (by parent id).
bg_stop() {
	local pid=$1 i
	kill -0 "$pid" 2>/dev/null || {
		wait "$pid" 2>/dev/null
		echo "$pid" >>"$E2E_TMP/bg.done"
		return 0
	}
	pkill -TERM -P "$pid" 2>/dev/null
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < 20; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		pkill -KILL -P "$pid" 2>/dev/null
		kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
	echo "$pid" >>"$E2E_TMP/bg.done"
	return 0
}

# wait_for SECS CMD...: poll CMD every 0.1 s until it succeeds; 1 on timeout.
wait_for() {
	local secs=$1 i
	shift
	for ((i = 0; i < secs * 10; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	"$@"
}

wait_file() { wait_for "$2" test -s "$1"; }

# ---- JSON ------------------------------------------------------------------------

# json_get FILE|- EXPR: print EXPR evaluated over the parsed document `d`.
# Numbers and strings print bare, true/false/null as JSON, lists/dicts as JSON.
json_get() {
	local src=$1 expr=$2
	"$NP_PY" -c '
import json, sys
src, expr = sys.argv[1], sys.argv[2]
try:
    d = json.load(sys.stdin if src == "-" else open(src))
except Exception as e:
    sys.exit("json_get: cannot parse %s: %s" % (src, e))
try:
    v = eval(expr, {"len": len, "sum": sum, "any": any, "all": all}, {"d": d})
except Exception as e:
    sys.exit("json_get: %s: %s: %s" % (expr, type(e).__name__, e))
if isinstance(v, (bool, type(None), list, dict)):
    print(json.dumps(v, sort_keys=True))
else:
    print(v)
' "$src" "$expr"
}

# ---- the lab and its nodes ---------------------------------------------------------

E2E_LAB=
E2E_NODES=()

e2e_cleanup() {
	local rc=$? pid n ns
	trap - EXIT INT TERM
	# Only jobs nobody waited for yet: a reaped pid may belong to someone else now.
	for pid in $(sort -u "$E2E_TMP/bg.pids" 2>/dev/null); do
		grep -qx "$pid" "$E2E_TMP/bg.done" 2>/dev/null || bg_stop "$pid"
	done
	for n in "${E2E_NODES[@]}"; do
		[ -d "/sys/fs/bpf/nodepath/$n" ] && "$NP_BIN" --node "$n" down >/dev/null 2>&1
	done
	if [ -n "$E2E_LAB" ]; then
		"$NP_BIN" lab down --name "$E2E_LAB" >/dev/null 2>&1
		# Whatever `lab down` or `down` left is removed here and said.
		for ns in $(ip netns list | awk '{print $1}' | grep -E "^$E2E_LAB-"); do
			echo "# cleanup: namespace $ns was left behind; deleting it"
			ip netns del "$ns"
		done
		for n in /sys/fs/bpf/nodepath/"$E2E_LAB"-*; do
			[ -e "$n" ] || continue
			echo "# cleanup: pin directory $n was left behind; removing it"
			rm -rf "$n"
		done
	fi
	rm -rf "$E2E_TMP"
	exit $rc
}

# On a signal the planned tests that did not run are reported as failures.
e2e_trap() {
	trap e2e_cleanup EXIT
	trap 'TAP_ABORT="interrupted (SIGINT)"; [ "$TAP_PLAN" -gt 0 ] && tap_done; exit 130' INT
	trap 'TAP_ABORT="terminated (SIGTERM)"; [ "$TAP_PLAN" -gt 0 ] && tap_done; exit 143' TERM
}

# e2e_lab_up NAME ARGS...: a fresh lab (an old one of that name is removed first).
e2e_lab_up() {
	E2E_LAB=$1
	shift
	e2e_trap
	"$NP_BIN" lab down --name "$E2E_LAB" >/dev/null 2>&1
	np_capture lab up --name "$E2E_LAB" "$@"
}

# e2e_node_up NODE ARGS...: `nodepath --node NODE up ARGS`, remembered for cleanup.
e2e_node_up() {
	local n=$1
	shift
	E2E_NODES+=("$n")
	np_capture --node "$n" up "$@"
}

# ---- traffic probes --------------------------------------------------------------------

# next_port: print a fresh port number (a counter file, so it works in $(...) too).
next_port() {
	local f=$E2E_TMP/port p
	p=$(cat "$f" 2>/dev/null || echo 20000)
	p=$((p + 1))
	echo "$p" >"$f"
	echo "$p"
}

# udp_probe FROM_NS TO_NS DST COUNT: send COUNT tagged datagrams at 500 pps from FROM_NS
# to DST (an address of TO_NS); prints the number received there. The receiver is
# stopped (SIGTERM, it then reports) 0.3 s after the sender is done.
udp_probe() {
	local from=$1 to=$2 dst=$3 count=$4 port tag rf pid
	port=$(next_port)
	tag=p$port
	rf=$E2E_TMP/ready.$port
	bg_start "recv.$port" in_ns "$to" "$NP_UDP" recv --port "$port" --timeout 10 --max-time 20 \
		--tag "$tag" --ready-file "$rf"
	pid=$BG_PID
	if ! wait_file "$rf" 5; then
		bg_stop "$pid"
		echo "-1"
		return 1
	fi
	in_ns "$from" timeout 10 "$NP_UDP" send --to "$dst" --port "$port" --count "$count" \
		--rate 500 --tag "$tag" >>"$E2E_TMP/send.out" 2>>"$E2E_TMP/send.err"
	sleep 0.3
	bg_stop "$pid"
	awk '/^received/ {print $2}' "$E2E_TMP/recv.$port.out"
}

# tcp_probe FROM_NS TO_NS DST: 0 when a TCP connection from FROM_NS to DST (an address
# of TO_NS) carries a line through; 1 otherwise. Bounded: 2 s connect timeout.
tcp_probe() {
	local from=$1 to=$2 dst=$3 port pid tok got
	port=$(next_port)
	tok=tok$port
	bg_start "tcp.$port" in_ns "$to" timeout 8 nc -l "$dst" "$port"
	pid=$BG_PID
	if ! wait_for 3 sh -c "ip netns exec '$to' ss -Hltn 'sport = :$port' | grep -q ."; then
		bg_stop "$pid"
		return 1
	fi
	echo "$tok" | in_ns "$from" timeout 5 nc -N -w 2 "$dst" "$port" >/dev/null 2>&1
	bg_wait "$pid" 3 >/dev/null
	got=$(cat "$E2E_TMP/tcp.$port.out" 2>/dev/null)
	[ "$got" = "$tok" ]
}

# ping_probe FROM_NS DST: 0 when at least one of 3 echo requests is answered (<= 2 s).
# A slow (emulated) guest sets E2E_PING_ARGS to other counts and timeouts.
E2E_PING_ARGS=${E2E_PING_ARGS:--c 3 -i 0.2 -w 2}
ping_probe() {
	# shellcheck disable=SC2086 # E2E_PING_ARGS is a list of options
	in_ns "$1" ping -q $E2E_PING_ARGS "$2" >/dev/null 2>&1
}

# Checks inside a case (case_begin ... case_end), recording a failure each:
# ping_req FROM_NS DST...: for each DST that does not answer ping_probe;
# tcp_req FROM_NS TO_NS DST: unless a TCP line gets through (tcp_probe);
# udp_req FROM_NS TO_NS DST N: unless all N datagrams arrive (udp_probe).
ping_req() {
	local from=$1 dst
	shift
	for dst in "$@"; do
		case_req "$from -> $dst: ping not answered" ping_probe "$from" "$dst"
	done
}

tcp_req() { case_req "$1 -> $3: TCP (nc) failed" tcp_probe "$1" "$2" "$3"; }

udp_req() {
	local got
	got=$(udp_probe "$1" "$2" "$3" "$4")
	[ "$got" = "$4" ] || case_note "$1 -> $3: UDP $got/$4 received"
}

# ---- pinned objects ----------------------------------------------------------------

# prog_links PIN: how many bpf links use the pinned program PIN ("?" when none is pinned).
prog_links() {
	local id
	id=$(bpftool prog show pinned "$1" 2>/dev/null | awk -F: 'NR == 1 {print $1}')
	[ -n "$id" ] || {
		echo "?"
		return
	}
	bpftool link show 2>/dev/null | grep -cE "prog $id\b"
}

# map_count PIN: the number of entries of the pinned map PIN ("?" when unreadable).
map_count() { bpftool map dump pinned "$1" -j 2>/dev/null | json_get - 'len(d) if isinstance(d, list) else "?"'; }

# stat_get NODE HOOK NAME: one counter from `stats --json` (drop reasons live under "drops").
stat_get() {
	local node=$1 hook=$2 name=$3
	"$NP_BIN" --node "$node" stats --json 2>/dev/null | json_get - "
(d['hooks']['$hook']['drops'] if '$name' in d['hooks']['$hook'].get('drops', {}) else d['hooks']['$hook'])['$name']"
}

# pf_deny_total NODE: xdp pf_deny + tc_uplink_in pf_deny.
pf_deny_total() {
	local a b
	a=$(stat_get "$1" xdp pf_deny) || return 1
	b=$(stat_get "$1" tc_uplink_in pf_deny) || return 1
	echo $((a + b))
}

# ---- services: HTTP servers in pods, fetches, counters summed over hooks --------------------

# stat_sum NODE NAME: counter NAME (an outcome or a drop reason) summed over every hook.
stat_sum() {
	"$NP_BIN" --node "$1" stats --json 2>/dev/null | json_get - "
sum(h.get('$2', h.get('drops', {}).get('$2', 0)) for h in d['hooks'].values())"
}

# httpd_start NS NAME [PORT]: busybox httpd -f on PORT (8080) in NS, serving
# $E2E_TMP/www/NS/: index.html holds the line NAME; big holds the line NAME and then
# HTTP_BIG_KB KiB (1024) of filler (slow downloads that tell which pod answers from
# their first line). 0 once it listens (<= 3 s); its pid in BG_PID (the cleanup kills it).
HTTP_BIG_KB=${HTTP_BIG_KB:-1024}
httpd_start() {
	local ns=$1 name=$2 port=${3:-8080} d=$E2E_TMP/www/$1
	mkdir -p "$d"
	echo "$name" >"$d/index.html"
	{
		echo "$name"
		head -c $((HTTP_BIG_KB * 1024)) /dev/zero | tr '\0' x
	} >"$d/big"
	bg_start "httpd.$ns.$port" in_ns "$ns" timeout 900 /bin/busybox httpd -f -p "$port" -h "$d"
	wait_for 3 sh -c "ip netns exec '$ns' ss -Hltn 'sport = :$port' | grep -q ."
}

# http_big_size NAME: the size in bytes of the file `big` served by httpd_start (for NAME).
http_big_size() { echo $((${#1} + 1 + HTTP_BIG_KB * 1024)); }

# http_burst NS URL COUNT: COUNT sequential fetches of URL from NS, each a new TCP
# connection (curl -s --max-time 2); prints one line per distinct answer, "N ANSWER",
# where ANSWER is the first line of the body or FAIL when there was none.
http_burst() {
	local ns=$1 url=$2 n=$3
	in_ns "$ns" sh -c '
i=0
while [ $i -lt "$2" ]; do
	b=$(curl -s -g --max-time 2 "$1" | head -1)
	echo "${b:-FAIL}"
	i=$((i + 1))
done' sh "$url" "$n" | sort | uniq -c | awk '{print $1, $2}'
}

# burst_ok TALLY: the answered count of an http_burst tally; burst_names TALLY: the
# distinct answers other than FAIL, space-separated, sorted.
burst_ok() { printf '%s\n' "$1" | awk '$2 != "FAIL" {s += $1} END {print s + 0}'; }
burst_names() { printf '%s\n' "$1" | awk '$2 != "FAIL" {print $2}' | sort | tr '\n' ' ' | sed 's/ $//'; }

# wire_like LAB: client1's frames reach the nodes as from a wire: full checksums (tx
# offload off on nic0, else XDP defers CHECKSUM_PARTIAL frames to tc) and not merged
# by GRO on the fabric port c1 (a merged frame is multi-buffer: the kernel path).
wire_like() {
	in_ns "$1-client1" ethtool -K nic0 tx off >/dev/null 2>&1 ||
		case_note "ethtool -K nic0 tx off in $1-client1 failed"
	in_ns "$1-fabric" ethtool -K c1 gro off >/dev/null 2>&1 ||
		case_note "ethtool -K c1 gro off in $1-fabric failed"
}

# udp_check_py: writes $E2E_TMP/udpchk.py, a sender and a checker of datagrams whose
# bytes follow from their number (60..1400 bytes), so that a receiver tells intact
# ones from damaged ones:
#   udpchk.py send ADDR PORT COUNT RATE      (COUNT datagrams at about RATE per second;
#                                             prints "sent COUNT")
#   udpchk.py recv PORT COUNT IDLE READY [FIRST]
#       writes READY once bound, then takes datagrams until COUNT distinct ones or IDLE
#       seconds without one (FIRST seconds before the first one, default IDLE); prints
#       "intact N damaged M".
udp_check_py() {
	cat >"$E2E_TMP/udpchk.py" <<'EOF'
import socket, sys, time

def payload(seq):
    n = 60 + (seq * 37) % 1341
    head = b"xsk %08d " % seq
    return head + bytes(((seq * 7 + i) & 0xFF) for i in range(n - len(head)))

if sys.argv[1] == "send":
    addr, port, count, rate = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for seq in range(count):
        s.sendto(payload(seq), (addr, port))
        if seq % 10 == 9:
            time.sleep(10.0 / rate)
    print("sent", count)
else:
    port, count, idle, ready = int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
    first = float(sys.argv[6]) if len(sys.argv) > 6 else idle
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind(("0.0.0.0", port))
    s.settimeout(first)
    open(ready, "w").write("1\n")
    good, bad, seen = 0, 0, set()
    while len(seen) < count:
        try:
            d = s.recv(4096)
        except socket.timeout:
            break
        s.settimeout(idle)
        if not d.startswith(b"xsk "):
            continue
        try:
            seq = int(d[4:12])
        except ValueError:
            bad += 1
            continue
        if d == payload(seq) and seq not in seen:
            seen.add(seq)
            good += 1
        else:
            bad += 1
    print("intact", good, "damaged", bad)
EOF
}

# udp_check NAME RXNS TXNS ADDR PORT COUNT RATE LIMIT IDLE [FIRST]: the checker of
# udp_check_py (run it first) in RXNS on PORT (in the background as NAME, at most LIMIT
# seconds; IDLE and FIRST as for its recv), then COUNT datagrams from TXNS to ADDR:PORT
# at about RATE per second; UDP_OUT: what the checker said ("intact N damaged M").
UDP_OUT=
udp_check() {
	local name=$1 rx=$2 tx=$3 addr=$4 port=$5 count=$6 rate=$7 limit=$8 idle=$9
	local first=${10:-$9} pid
	rm -f "$E2E_TMP/$name.ready"
	bg_start "$name" in_ns "$rx" timeout "$limit" "$NP_PY" "$E2E_TMP/udpchk.py" recv "$port" \
		"$count" "$idle" "$E2E_TMP/$name.ready" "$first"
	pid=$BG_PID
	wait_file "$E2E_TMP/$name.ready" 10 || case_note "receiver in $rx did not start"
	in_ns "$tx" "$NP_PY" "$E2E_TMP/udpchk.py" send "$addr" "$port" "$count" "$rate" >/dev/null
	bg_wait "$pid" "$limit"
	UDP_OUT=$(cat "$E2E_TMP/$name.out")
}
