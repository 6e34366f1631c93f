#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The source prefilter end to end on the lab "tp" (2 clients, 2 nodes):
# deny/allow/rate rules for IPv4 and IPv6 seen by real TCP, UDP and ICMP
# traffic; live XDP mode switches under a denied and an allowed flow; bad
# CLI input changes nothing; `down` leaves nothing behind. Prints TAP.
set -u
. "$(dirname "$0")/lib.sh"

LAB=tp
N1=tp-node1 N2=tp-node2 C1=tp-client1 C2=tp-client2
N1V4=198.18.0.1 N1V6=fd00:18::1
C1V4=198.18.0.101 C2V4=198.18.0.102 C1V6=fd00:18::101

tap_plan 8

need_built "$NP_BIN" "$NP_UDP"
need_tools nc ping ss bpftool

# The uplink alone: plain stack-routed pods, and the nodes are brought up here.
if ! e2e_lab_up "$LAB" --clients 2 --nodes 2 --pods 1 --pod-dev none; then
	TAP_ABORT="lab up failed (rc $NP_RC): $NP_ERR"
	tap_done
	exit 1
fi
if ! e2e_node_up "$N1" --dev uplink --xdp-mode native; then
	TAP_ABORT="nodepath --node $N1 up failed (rc $NP_RC): $NP_ERR"
	tap_done
	exit 1
fi
tap_diag "$NP_OUT"

# probe FROM DST: sets P_TCP (ok|fail), P_UDP (received of 20), P_PING (ok|fail).
probe() {
	local from=$1 dst=$2
	if tcp_probe "$from" "$N1" "$dst"; then P_TCP=ok; else P_TCP=fail; fi
	P_UDP=$(udp_probe "$from" "$N1" "$dst" 20)
	if ping_probe "$from" "$dst"; then P_PING=ok; else P_PING=fail; fi
}

# expect_pass WHO FROM DST / expect_deny WHO FROM DST: probe and record failures.
expect_pass() {
	probe "$2" "$3"
	[ "$P_TCP" = ok ] || case_note "$1 -> $3: TCP failed, expected to pass"
	[ "$P_UDP" = 20 ] || case_note "$1 -> $3: UDP $P_UDP/20 received, expected 20"
	[ "$P_PING" = ok ] || case_note "$1 -> $3: ping failed, expected to pass"
}
expect_deny() {
	probe "$2" "$3"
	[ "$P_TCP" = fail ] || case_note "$1 -> $3: TCP connected, expected a drop"
	[ "$P_UDP" = 0 ] || case_note "$1 -> $3: UDP $P_UDP/20 received, expected 0"
	[ "$P_PING" = fail ] || case_note "$1 -> $3: ping answered, expected a drop"
}

pf() { np_capture --node "$N1" prefilter "$@" || case_note "prefilter $* failed (rc $NP_RC): $NP_ERR"; }

# ---- 1. no rule: everything passes -----------------------------------------------------
case_begin
expect_pass client1 "$C1" "$N1V4"
expect_pass client2 "$C2" "$N1V4"
expect_pass client1 "$C1" "$N1V6"
expect_pass client2 "$C2" "$N1V6"
case_end "no rule: both clients reach node1 by TCP, UDP and ping over IPv4 and IPv6"

# ---- 2. IPv4 deny ----------------------------------------------------------------------------
case_begin
pf add "$C1V4/32"
expect_deny client1 "$C1" "$N1V4"
expect_pass client2 "$C2" "$N1V4"
d=$(stat_get "$N1" xdp pf_deny)
[ "${d:-0}" -gt 0 ] 2>/dev/null || case_note "stats: xdp pf_deny is '${d:-}', expected > 0"
np --node "$N1" prefilter list --json >"$E2E_TMP/list.json" 2>&1
pk=$(json_get "$E2E_TMP/list.json" "[r['packets'] for r in d if r['cidr'] == '$C1V4/32' and r['action'] == 'deny'][0]")
[ "${pk:-0}" -gt 0 ] 2>/dev/null ||
	case_note "prefilter list: rule $C1V4/32 deny has packets '${pk:-}', expected > 0" "$(cat "$E2E_TMP/list.json")"
case_end "deny $C1V4/32: client1 loses TCP/UDP/ping, client2 passes; xdp pf_deny=${d:-?}, rule packets=${pk:-?}"

# ---- 3. IPv6 deny ------------------------------------------------------------------------------
case_begin
pf add "$C1V6/128"
ping_probe "$C1" "$N1V6" && case_note "client1 -> $N1V6: ping answered, expected a drop"
ping_probe "$C2" "$N1V6" || case_note "client2 -> $N1V6: ping failed, expected to pass"
u=$(udp_probe "$C1" "$N1" "$N1V6" 20)
[ "$u" = 0 ] || case_note "client1 -> $N1V6: UDP $u/20 received, expected 0"
pf del "$C1V6/128"
ping_probe "$C1" "$N1V6" || case_note "client1 -> $N1V6: ping still fails after del"
case_end "deny $C1V6/128: client1 IPv6 dropped, client2 IPv6 passes; del restores"

# ---- 4. allow exception inside a denied prefix --------------------------------------------------
case_begin
pf del "$C1V4/32"
pf add 198.18.0.96/27
pf add "$C2V4/32" --allow
expect_deny client1 "$C1" "$N1V4"
expect_pass client2 "$C2" "$N1V4"
a=$(stat_get "$N1" xdp pf_allow)
[ "${a:-0}" -gt 0 ] 2>/dev/null || case_note "stats: xdp pf_allow is '${a:-}', expected > 0"
pf del "$C2V4/32"
pf del 198.18.0.96/27
case_end "deny 198.18.0.96/27 + allow $C2V4/32: client1 dropped, client2 passes (pf_allow=${a:-?})"

# ---- 5. rate limit --------------------------------------------------------------------------------
case_begin
pf add "$C1V4/32" --rate 1000 --burst 100
np --node "$N1" prefilter list --json >"$E2E_TMP/list.json" 2>&1
burst=$(json_get "$E2E_TMP/list.json" "[r['burst'] for r in d if r['cidr'] == '$C1V4/32'][0]") || burst=100
p0=$(stat_get "$N1" xdp pf_rate_pass) r0=$(stat_get "$N1" xdp pf_rate)
port=$(next_port)
bg_start rate.recv in_ns "$N1" "$NP_UDP" recv --port "$port" --bind "$N1V4" --timeout 2 \
	--max-time 30 --tag rate --ready-file "$E2E_TMP/rate.ready"
rpid=$BG_PID
wait_file "$E2E_TMP/rate.ready" 5 || case_note "rate receiver did not start"
sout=$(in_ns "$C1" "$NP_UDP" send --to "$N1V4" --port "$port" --count 3000 --rate 6000 --tag rate)
bg_wait "$rpid" 30
got=$(awk '/^received/ {print $2}' "$E2E_TMP/rate.recv.out")
sent=$(echo "$sout" | awk '/^sent/ {print $2}')
secs=$(echo "$sout" | awk '/^sent/ {print $4}')
p1=$(stat_get "$N1" xdp pf_rate_pass) r1=$(stat_get "$N1" xdp pf_rate)
exp=$(awk -v s="$secs" -v b="$burst" 'BEGIN { printf "%d", 1000 * s + b }')
lo=$((exp / 2)) hi=$((exp * 3 / 2))
[ "${sent:-0}" = 3000 ] || case_note "sender: '$sout'"
[ "${got:-0}" -ge "$lo" ] 2>/dev/null && [ "${got:-0}" -le "$hi" ] && [ "${got:-0}" -lt 2500 ] ||
	case_note "received ${got:-?}, expected $lo..$hi (1000 pps * ${secs}s + burst $burst = $exp) and < 2500"
[ $((p1 - p0 + r1 - r0)) -eq "${sent:-0}" ] ||
	case_note "xdp pf_rate_pass+pf_rate grew by $((p1 - p0 + r1 - r0)), expected $sent"
pf del "$C1V4/32"
case_end "rate 1000 pps burst $burst: ${got:-?} of ${sent:-?} sent in ${secs:-?} s passed (expected ~$exp); drops pf_rate=$((r1 - r0))"

# ---- 6. XDP mode switches under a denied and an allowed flow -----------------------------------------
# snmp_get NS PROTO FIELD: one counter of /proc/net/snmp in NS.
snmp_get() {
	in_ns "$1" awk -v p="$2:" -v f="$3" '$1 == p { if (!h) { for (i = 2; i <= NF; i++) if ($i == f) c = i; h = 1 } else print $c }' /proc/net/snmp
}
case_begin
# Each switch loads and verifies a new XDP object (~0.8 s here): the flows run
# for 25 s at 4000 pps so that every one of the 20 switches happens under them.
SW_COUNT=100000
pf add "$C1V4/32"
pd=$(next_port) pa=$(next_port)
bg_start sw.rd in_ns "$N1" "$NP_UDP" recv --port "$pd" --bind "$N1V4" --timeout 60 --max-time 60 \
	--tag swdeny --ready-file "$E2E_TMP/sw.rd.ready"
rd=$BG_PID
bg_start sw.ra in_ns "$N1" "$NP_UDP" recv --port "$pa" --bind "$N1V4" --timeout 60 --max-time 60 \
	--tag swallow --ready-file "$E2E_TMP/sw.ra.ready"
ra=$BG_PID
wait_file "$E2E_TMP/sw.rd.ready" 5 && wait_file "$E2E_TMP/sw.ra.ready" 5 ||
	case_note "receivers did not start"
deny0=$(pf_deny_total "$N1")
out0=$(snmp_get "$C1" Ip OutRequests)
bg_start sw.sd in_ns "$C1" "$NP_UDP" send --to "$N1V4" --port "$pd" --count "$SW_COUNT" --rate 4000 --tag swdeny
sd=$BG_PID
bg_start sw.sa in_ns "$C2" "$NP_UDP" send --to "$N1V4" --port "$pa" --count "$SW_COUNT" --rate 4000 --tag swallow
sa=$BG_PID
modes=(generic off native)
nsw=0 during=0 swfail=0
: >"$E2E_TMP/switch.log"
for ((i = 0; i < 20; i++)); do
	m=${modes[$((i % 3))]}
	kill -0 "$sd" 2>/dev/null && during=$((during + 1))
	if np_capture --node "$N1" xdp-mode "$m"; then
		nsw=$((nsw + 1))
		echo "$NP_OUT" >>"$E2E_TMP/switch.log"
	else
		swfail=$((swfail + 1))
		echo "FAILED ($NP_RC) -> $m: $NP_ERR" >>"$E2E_TMP/switch.log"
	fi
done
# End in native, whatever the loop ended on.
[ "$(np --node "$N1" status --json 2>/dev/null | json_get - 'd["xdp_mode"]')" = native ] ||
	np --node "$N1" xdp-mode native >/dev/null 2>&1
bg_wait "$sd" 40
sdrc=$?
bg_wait "$sa" 40
sarc=$?
sleep 0.5
bg_stop "$rd"
bg_stop "$ra"
sent_d=$(awk '/^sent/ {print $2}' "$E2E_TMP/sw.sd.out")
sent_a=$(awk '/^sent/ {print $2}' "$E2E_TMP/sw.sa.out")
got_d=$(awk '/^received/ {print $2}' "$E2E_TMP/sw.rd.out")
got_a=$(awk '/^received/ {print $2}' "$E2E_TMP/sw.ra.out")
deny1=$(pf_deny_total "$N1")
out1=$(snmp_get "$C1" Ip OutRequests)
ddelta=$((deny1 - deny0)) odelta=$((out1 - out0))
[ "$nsw" -eq 20 ] || case_note "$swfail of 20 xdp-mode switches failed:" "$(grep FAILED "$E2E_TMP/switch.log" | head -3)"
[ "$sdrc" -eq 0 ] && [ "$sarc" -eq 0 ] || case_note "a sender failed: deny rc $sdrc, allow rc $sarc"
[ "$during" -eq 20 ] || case_note "only $during of 20 switches started while the flow ran"
[ "${got_d:-x}" = 0 ] || case_note "denied flow: receiver counted '${got_d:-?}', expected 0"
[ "${got_a:-x}" = "${sent_a:-y}" ] ||
	case_note "allowed flow: received '${got_a:-?}' of '${sent_a:-?}' sent (lost during switches)"
[ "$odelta" -eq "${sent_d:-0}" ] ||
	tap_diag "client1 sent $odelta IPv4 packets in the window, np_udp $sent_d: other traffic from client1"
if [ "$ddelta" -ne "${sent_d:--1}" ]; then
	case_note "pf_deny (xdp + tc_uplink_in) grew by $ddelta, denied flow sent ${sent_d:-?} (client1 IPv4 out: $odelta)" \
		"uplink: $(ip -n "$N1" -s link show uplink | sed -n '/RX:/{n;p}')"
fi
tap_diag "$(head -1 "$E2E_TMP/switch.log")"
tap_diag "$(sed -nE 's/.* in ([0-9.]+) ms; tc judged ([0-9]+).*/\1 \2/p' "$E2E_TMP/switch.log" | sort -n |
	awk '{ ms[NR] = $1; j += $2 } END { if (NR) printf "%d switches: gap %.1f / %.1f / %.1f ms (min / median / max); tc judged %d packets in the gaps", NR, ms[1], ms[int((NR + 1) / 2)], ms[NR], j }')"
case_end "20 live XDP switches ($during during the flow): denied flow ${got_d:-?} received, pf_deny +$ddelta of ${sent_d:-?} sent (client1 IPv4 out +$odelta); allowed ${got_a:-?}/${sent_a:-?}"

# ---- 7. bad CLI input changes nothing -------------------------------------------------------------------
# bad EXPECT_RC NEEDLE ARGS...: nodepath ARGS must exit EXPECT_RC, name NEEDLE on stderr,
# and leave `prefilter list --json` byte-identical.
BAD_N=0
bad() {
	local want=$1 needle=$2 before after
	shift 2
	BAD_N=$((BAD_N + 1))
	before=$(np --node "$N1" prefilter list --json 2>&1)
	np_capture "$@"
	after=$(np --node "$N1" prefilter list --json 2>&1)
	[ "$NP_RC" -eq "$want" ] || case_note "nodepath $*: exit $NP_RC, expected $want ($NP_ERR)"
	printf '%s' "$NP_ERR" | grep -qF -- "$needle" ||
		case_note "nodepath $*: message does not name '$needle': '$NP_ERR'"
	[ "$before" = "$after" ] || case_note "nodepath $*: prefilter list changed"
}
case_begin
bad 2 10.0.0.0/33 --node "$N1" prefilter add 10.0.0.0/33
bad 2 010.0.0.1 --node "$N1" prefilter add 010.0.0.1/32
bad 2 10.1/16 --node "$N1" prefilter add 10.1/16
bad 2 10.0.0.1/24 --node "$N1" prefilter add 10.0.0.1/24
bad 2 abc --node "$N1" prefilter add 10.9.0.0/16 --rate abc
bad 2 --rate --node "$N1" prefilter add 10.9.0.0/16 --rate 0
bad 2 ::ffff:10.0.0.0/104 --node "$N1" prefilter add ::ffff:10.0.0.0/104
bad 1 0.0.0.0/0 --node "$N1" prefilter add 0.0.0.0/0
bad 2 bogus --node "$N1" xdp-mode bogus
bad 1 "$C1V4/32" --node "$N1" prefilter add "$C1V4/32"
bad 1 "$C1V4/32" --node "$N1" prefilter add "$C1V4/32" --allow
bad 1 198.18.0.200/32 --node "$N1" prefilter del 198.18.0.200/32
bad 1 tp-nosuch --node tp-nosuch up --dev uplink
bad 1 nosuchdev --node "$N2" up --dev nosuchdev
m=$(np --node "$N1" status --json 2>/dev/null | json_get - 'd["xdp_mode"]')
[ "$m" = native ] || case_note "after xdp-mode bogus the mode is '$m', expected native"
[ -e /sys/fs/bpf/nodepath/tp-nosuch ] && case_note "up on a missing node left /sys/fs/bpf/nodepath/tp-nosuch"
[ -e "/sys/fs/bpf/nodepath/$N2" ] && case_note "up --dev nosuchdev left /sys/fs/bpf/nodepath/$N2"
# A full table: size 2 per family.
np_capture --node "$N1" down || case_note "down failed (rc $NP_RC): $NP_ERR"
if e2e_node_up "$N1" --dev uplink --xdp-mode native --prefilter-size 2; then
	pf add 10.1.0.0/16
	pf add 10.2.0.0/16
	bad 1 10.3.0.0/16 --node "$N1" prefilter add 10.3.0.0/16
	n=$(np --node "$N1" prefilter list --json 2>/dev/null | json_get - 'len(d)')
	[ "$n" = 2 ] || case_note "after a refused third rule the list has '$n' rules, expected 2"
else
	case_note "up --prefilter-size 2 failed (rc $NP_RC): $NP_ERR"
fi
case_end "$BAD_N bad inputs refused with exit 2 (usage) / 1 (rejected), each named, nothing changed; a full table (size 2) refuses the third rule"

# ---- 8. down leaves nothing -----------------------------------------------------------------------------
case_begin
np_capture --node "$N1" down || case_note "down failed (rc $NP_RC): $NP_ERR"
[ -e "/sys/fs/bpf/nodepath/$N1" ] && case_note "/sys/fs/bpf/nodepath/$N1 still exists: $(ls /sys/fs/bpf/nodepath/$N1 | tr '\n' ' ')"
l=$(ip -n "$N1" -d link show uplink)
echo "$l" | grep -qE 'prog/xdp|xdpgeneric|xdpdrv|xdp ' && case_note "XDP still on uplink: $(echo "$l" | grep -E 'xdp')"
t=$(in_ns "$N1" bpftool net show dev uplink 2>&1)
echo "$t" | grep -qE 'tcx|np_' && case_note "bpftool net show still lists programs on uplink:" "$t"
case_end "down: no pin directory, no XDP and no tcx program on uplink"

tap_done
