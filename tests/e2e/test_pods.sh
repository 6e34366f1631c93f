#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The pod datapath end to end on the lab "tq" (1 client, 2 nodes, 2 pods each,
# the default pod device: auto, veth on a kernel without netkit): pod to pod on
# one node, pod to the client and back, pod to the other node's pod, IPv4 and
# IPv6; the host stack is skipped (forwarding off in node 1 and pod-to-pod and
# uplink-to-pod still flow); the TTL is untouched on pod to pod; per-endpoint
# counters match what was sent; bad `endpoint add` input changes nothing; an
# endpoint added into a fresh namespace talks; `endpoint del` leaves nothing; `down`
# keeps the endpoints (host stack meanwhile) and `up` re-adopts them.
# Prints TAP.
set -u
. "$(dirname "$0")/lib.sh"

LAB=tq
N1=tq-node1 N2=tq-node2 C1=tq-client1 XNS=tq-extra
P1=tq-node1-pod1 P2=tq-node1-pod2 Q1=tq-node2-pod1
P1V4=198.19.1.11 P2V4=198.19.1.12 Q1V4=198.19.2.11 C1V4=198.18.0.101
P1V6=fd00:19:1::11 P2V6=fd00:19:1::12 Q1V6=fd00:19:2::11 C1V6=fd00:18::101
XV4=198.19.1.50 XV6=fd00:19:1::50 XNAME=extra1
PIN=/sys/fs/bpf/nodepath/$N1

tap_plan 21

need_built "$NP_BIN" "$NP_UDP"
need_tools nc ping ss bpftool tcpdump iperf3 "$NP_PY"

# The extra namespace goes with the lab (e2e_cleanup keeps the exit status).
pods_cleanup() {
	local rc=$?
	ip netns del "$XNS" 2>/dev/null
	(exit $rc)
	e2e_cleanup
}

# ---- helpers ---------------------------------------------------------------------------

# ep_list NODE FILE: `endpoint list --json` into FILE.
ep_list() { np --node "$1" endpoint list --json >"$2" 2>&1; }

# ep_get FILE NAME FIELD: one field of endpoint NAME; FIELD rx_packets etc. is also
# found as {"rx":{"packets":N}}; a list or {"endpoints":[...]} both do.
ep_get() {
	json_get "$1" "(lambda L: (lambda e: e['$3'] if '$3' in e else e['$3'.split('_')[0]]['$3'.split('_')[1]])([e for e in L if e.get('name') == '$2'][0]))(d if isinstance(d, list) else d['endpoints'])"
}

# ep_kind FILE NAME: the device kind of endpoint NAME ("dev", "kind" or "device").
ep_kind() {
	json_get "$1" "[e.get('dev', e.get('kind', e.get('device'))) for e in (d if isinstance(d, list) else d['endpoints']) if e.get('name') == '$2'][0]"
}

# ep_shape NODE: the endpoint list without its counters (what bad input must not change).
ep_shape() {
	np --node "$1" endpoint list --json 2>&1 | json_get - "sorted([{k: v for k, v in e.items() if not (k.startswith('rx') or k.startswith('tx') or k in ('stats', 'counters'))} for e in (d if isinstance(d, list) else d['endpoints'])], key=lambda e: str(e.get('name')))"
}

# ping_ttl NS DST: the ttl= of one echo reply ("" when none).
ping_ttl() { in_ns "$1" ping -c1 -W2 "$2" 2>/dev/null | sed -n 's/.* ttl=\([0-9]*\).*/\1/p' | head -1; }

stat0() { stat_get "$@" 2>/dev/null || echo 0; }

# ---- 1. the lab with the default pod device ---------------------------------------------------
if ! e2e_lab_up "$LAB"; then
	TAP_ABORT="lab up --name $LAB failed (rc $NP_RC): $NP_ERR"
	tap_done
	exit 1
fi
trap pods_cleanup EXIT
case_begin
labout="$NP_OUT
$NP_ERR"
tap_diag "$(echo "$labout" | grep -iE 'auto|veth|netkit' | head -3)"
NETKIT_KERNEL=0
np doctor 2>/dev/null | grep -qE '^netkit[[:space:]]+yes' && NETKIT_KERNEL=1
want=veth
[ $NETKIT_KERNEL -eq 1 ] && want=netkit
echo "$labout" | grep -qi "auto.*$want" ||
	case_note "lab up does not say that auto picked $want: $(echo "$labout" | head -5)"
ep_list "$N1" "$E2E_TMP/ep.json"
for p in pod1 pod2; do
	d=$(ep_kind "$E2E_TMP/ep.json" $p 2>&1)
	[ "$d" = "$want" ] || case_note "endpoint list: $p dev is '$d', expected $want ($(head -c 300 "$E2E_TMP/ep.json"))"
done
case_end "lab up --name $LAB (default --pod-dev auto): pods are $want endpoints of the datapath"

# ---- 2..3. pod to pod on node 1 ------------------------------------------------------------------------
case_begin
ping_req "$P1" "$P2V4"
ping_req "$P2" "$P1V4"
tcp_req "$P1" "$P2" "$P2V4"
from0=$(stat0 "$N1" tc_pod_from to_ep)
bg_start iperf.s in_ns "$P2" timeout 10 iperf3 -s -1 -B "$P2V4" -p 5201
ipid=$BG_PID
wait_for 3 sh -c "ip netns exec $P2 ss -Hltn 'sport = :5201' | grep -q ." || case_note "iperf3 server did not start"
ip_out=$(in_ns "$P1" timeout 10 iperf3 -c "$P2V4" -p 5201 -t 2 -f g 2>&1)
bg_wait "$ipid" 5 >/dev/null
gbps=$(echo "$ip_out" | awk '/receiver/ {print $(NF-2), $(NF-1)}')
[ -n "$gbps" ] || case_note "iperf3 -t 2 failed: $(echo "$ip_out" | tail -2)"
from1=$(stat0 "$N1" tc_pod_from to_ep)
[ $((from1 - from0)) -gt 1000 ] || case_note "tc_pod_from to_ep grew by $((from1 - from0)) during iperf3, expected > 1000"
case_end "IPv4 pod1 <-> pod2 on node1: ping both ways, TCP (nc), iperf3 -t 2 ${gbps:-?} (tc_pod_from to_ep +$((from1 - from0)))"

case_begin
ping_req "$P1" "$P2V6"
ping_req "$P2" "$P1V6"
tcp_req "$P1" "$P2" "$P2V6"
tcp_req "$P2" "$P1" "$P1V6"
case_end "IPv6 pod1 <-> pod2 on node1: ping both ways, TCP (nc) both ways"

# ---- 4..5. pod to the client outside and the client to a pod ------------------------------------------
for fam in 4 6; do
	if [ $fam = 4 ]; then pa=$P1V4 ca=$C1V4; else pa=$P1V6 ca=$C1V6; fi
	case_begin
	up0=$(stat0 "$N1" tc_uplink_in to_ep)
	tu0=$(stat0 "$N1" tc_pod_from to_uplink)
	ping_req "$P1" "$ca"
	tcp_req "$P1" "$C1" "$ca"
	ping_req "$C1" "$pa"
	tcp_req "$C1" "$P1" "$pa"
	up1=$(stat0 "$N1" tc_uplink_in to_ep)
	tu1=$(stat0 "$N1" tc_pod_from to_uplink)
	[ $((up1 - up0)) -ge 6 ] || case_note "tc_uplink_in to_ep grew by $((up1 - up0)), expected >= 6"
	[ $((tu1 - tu0)) -ge 6 ] || case_note "tc_pod_from to_uplink grew by $((tu1 - tu0)), expected >= 6"
	case_end "IPv$fam pod1 -> client1 and client1 -> pod1: ping, TCP (tc_uplink_in to_ep +$((up1 - up0)), tc_pod_from to_uplink +$((tu1 - tu0)))"
done

# ---- 6..7. pod to the other node's pod -----------------------------------------------------------------
for fam in 4 6; do
	if [ $fam = 4 ]; then a=$P1V4 b=$Q1V4; else a=$P1V6 b=$Q1V6; fi
	case_begin
	u0=$(stat0 "$N2" tc_uplink_in to_ep)
	ping_req "$P1" "$b"
	ping_req "$Q1" "$a"
	tcp_req "$P1" "$Q1" "$b"
	tcp_req "$Q1" "$P1" "$a"
	u1=$(stat0 "$N2" tc_uplink_in to_ep)
	[ $((u1 - u0)) -ge 6 ] || case_note "node2 tc_uplink_in to_ep grew by $((u1 - u0)), expected >= 6"
	case_end "IPv$fam node1 pod1 <-> node2 pod1 across the fabric: ping, TCP both ways (node2 tc_uplink_in to_ep +$((u1 - u0)))"
done

# ---- 8..9. the TTL is untouched on pod to pod -------------------------------------------------------------
# ttl_case FAM SRC DST FILTER WORD: capture in pod2 (tcpdump -c 1 FILTER) while pod1 pings DST;
# the request must show "WORD 64" there and the reply ttl=64 in pod1.
ttl_case() {
	local fam=$1 dst=$3 filt=$4 word=$5 t seen
	case_begin
	bg_start "td$fam" in_ns "$P2" timeout 8 tcpdump -i nic0 -c 1 -v -n -l "$filt"
	local tpid=$BG_PID
	wait_for 4 grep -q 'listening on' "$E2E_TMP/td$fam.err" || case_note "tcpdump did not start: $(cat "$E2E_TMP/td$fam.err")"
	t=$(ping_ttl "$P1" "$dst")
	bg_wait "$tpid" 5 >/dev/null
	seen=$(grep -oE "$word [0-9]+" "$E2E_TMP/td$fam.out" | head -1)
	[ "$t" = 64 ] || case_note "ping $dst from pod1: reply ttl '${t:-none}', expected 64 (sent with 64 by pod2)"
	[ "$seen" = "$word 64" ] ||
		case_note "tcpdump in pod2: echo request from pod1 has '${seen:-nothing}', expected '$word 64'" "$(cat "$E2E_TMP/td$fam.out")"
	case_end "IPv$fam TTL untouched pod1 -> pod2: request seen in pod2 with '${seen:-?}', reply in pod1 ttl=${t:-?}"
}
ttl_case 4 "$P1V4" "$P2V4" "icmp and src $P1V4 and icmp[0] == 8" ttl
ttl_case 6 "$P1V6" "$P2V6" "icmp6 and src $P1V6 and ip6[40] == 128" hlim

# ---- 10..11. forwarding off in node 1: the host stack is not on the path ---------------------------------
fwd() {
	in_ns "$N1" sysctl -qw net.ipv4.ip_forward="$1" net.ipv6.conf.all.forwarding="$1"
}
case_begin
fwd 0 || case_note "cannot turn forwarding off in $N1"
f4=$(in_ns "$N1" sysctl -n net.ipv4.ip_forward) f6=$(in_ns "$N1" sysctl -n net.ipv6.conf.all.forwarding)
[ "$f4$f6" = 00 ] || case_note "forwarding is $f4/$f6, expected 0/0"
ping_req "$P1" "$P2V4" "$P2V6"
tcp_req "$P1" "$P2" "$P2V4"
tcp_req "$P2" "$P1" "$P1V6"
case_end "forwarding off in $N1 (ip_forward=$f4, ipv6 all.forwarding=$f6): pod1 <-> pod2 ping v4/v6 and TCP v4/v6 still flow"

case_begin
ue0=$(stat0 "$N1" tc_uplink_in to_ep)
udp_req "$C1" "$P1" "$P1V4" 20
udp_req "$C1" "$P1" "$P1V6" 20
ue1=$(stat0 "$N1" tc_uplink_in to_ep)
[ $((ue1 - ue0)) -ge 40 ] || case_note "tc_uplink_in to_ep grew by $((ue1 - ue0)), expected >= 40"
# What the routed directions do now (informational: the FIB refuses to forward).
st0=$(stat0 "$N1" tc_pod_from to_stack)
if ping_probe "$P1" "$C1V4"; then o4=answered; else o4="not answered"; fi
if ping_probe "$C1" "$P1V4"; then r4=answered; else r4="not answered"; fi
if ping_probe "$P1" "$C1V6"; then o6=answered; else o6="not answered"; fi
st1=$(stat0 "$N1" tc_pod_from to_stack)
tap_diag "forwarding off: pod1 -> client1 ping v4 $o4, v6 $o6; client1 -> pod1 ping v4 $r4 (its reply is pod-to-outside);" \
	"pod-to-outside goes through bpf_fib_lookup, which returns FWD_DISABLED on a node that does not forward;" \
	"the datapath then hands it to the stack untouched (tc_pod_from to_stack +$((st1 - st0))), and the stack, not forwarding either, drops it."
fwd 1 || case_note "cannot turn forwarding back on in $N1"
case_req "forwarding restored: pod1 -> client1 ping v4 not answered" ping_probe "$P1" "$C1V4"
case_req "forwarding restored: pod1 -> client1 ping v6 not answered" ping_probe "$P1" "$C1V6"
case_end "forwarding off in $N1: client1 -> pod1 UDP v4 and v6 20/20 each delivered by tc_uplink_in (to_ep +$((ue1 - ue0))); restored after"

# ---- 12. per-endpoint counters match the packets sent --------------------------------------------------------
# Slack: besides the N datagrams, the pods may send and receive a few of their own
# packets in the window: ARP / neighbour solicitations for the gateway (answered by the
# datapath, counted there or not), IPv6 router solicitations and MLD reports (link-local
# to the stack); none of those reach the other pod, so rx slack is small too.
N=200 SLACK=8
case_begin
ep_list "$N1" "$E2E_TMP/ep0.json"
t0=$(ep_get "$E2E_TMP/ep0.json" pod1 tx_packets) r0=$(ep_get "$E2E_TMP/ep0.json" pod2 rx_packets)
tb0=$(ep_get "$E2E_TMP/ep0.json" pod1 tx_bytes) rb0=$(ep_get "$E2E_TMP/ep0.json" pod2 rx_bytes)
s0=$(stat0 "$N1" tc_pod_from to_ep)
port=$(next_port)
bg_start cnt.recv in_ns "$P2" "$NP_UDP" recv --port "$port" --bind "$P2V4" --timeout 3 --max-time 20 \
	--tag cnt --ready-file "$E2E_TMP/cnt.ready"
rpid=$BG_PID
wait_file "$E2E_TMP/cnt.ready" 5 || case_note "receiver did not start"
sout=$(in_ns "$P1" timeout 15 "$NP_UDP" send --to "$P2V4" --port "$port" --count $N --rate 1000 --size 100 --tag cnt)
bg_wait "$rpid" 10 >/dev/null
got=$(awk '/^received/ {print $2}' "$E2E_TMP/cnt.recv.out")
ep_list "$N1" "$E2E_TMP/ep1.json"
t1=$(ep_get "$E2E_TMP/ep1.json" pod1 tx_packets) r1=$(ep_get "$E2E_TMP/ep1.json" pod2 rx_packets)
tb1=$(ep_get "$E2E_TMP/ep1.json" pod1 tx_bytes) rb1=$(ep_get "$E2E_TMP/ep1.json" pod2 rx_bytes)
s1=$(stat0 "$N1" tc_pod_from to_ep)
dt=$((${t1:-0} - ${t0:-0})) dr=$((${r1:-0} - ${r0:-0})) ds=$((s1 - s0))
dtb=$((${tb1:-0} - ${tb0:-0})) drb=$((${rb1:-0} - ${rb0:-0}))
[ "${got:-0}" = $N ] || case_note "pod2 received ${got:-?} of $N ($sout)"
[ $dt -ge $N ] && [ $dt -le $((N + SLACK)) ] || case_note "pod1 tx_packets grew by $dt, expected $N..$((N + SLACK))" "$(cat "$E2E_TMP/ep1.json")"
[ $dr -ge $N ] && [ $dr -le $((N + SLACK)) ] || case_note "pod2 rx_packets grew by $dr, expected $N..$((N + SLACK))"
# 100-byte payloads: 128 bytes of IPv4 packet, 142 with the Ethernet header.
[ $dtb -ge $((N * 128)) ] && [ $dtb -le $(((N + SLACK) * 142)) ] || case_note "pod1 tx_bytes grew by $dtb for $N datagrams of 128..142 bytes"
[ $drb -ge $((N * 128)) ] && [ $drb -le $(((N + SLACK) * 142)) ] || case_note "pod2 rx_bytes grew by $drb for $N datagrams of 128..142 bytes"
[ $ds -ge $N ] || case_note "stats tc_pod_from to_ep grew by $ds, expected >= $N"
case_end "$N UDP datagrams pod1 -> pod2: pod1 tx_packets +$dt, pod2 rx_packets +$dr (bytes +$dtb/+$drb), tc_pod_from to_ep +$ds (slack $SLACK for ARP/ND/RS/MLD)"

# ---- 13..16. bad input changes nothing -------------------------------------------------------------------------
ip netns add "$XNS" && in_ns "$XNS" ip link set lo up || tap_diag "cannot create namespace $XNS"
# bad DESC NEEDLE ARGS...: `nodepath --node N1 endpoint add ARGS` exits 1 or 2, names
# NEEDLE, and neither the endpoint list nor the links of node1 and tq-extra change.
bad() {
	local d=$1 needle=$2 b1 b2 b3 a1 a2 a3
	shift 2
	case_begin
	b1=$(ep_shape "$N1") b2=$(ip -n "$N1" -o link show) b3=$(ip -n "$XNS" -o link show)
	np_capture --node "$N1" endpoint add "$@"
	a1=$(ep_shape "$N1") a2=$(ip -n "$N1" -o link show) a3=$(ip -n "$XNS" -o link show)
	[ "$NP_RC" = 1 ] || [ "$NP_RC" = 2 ] || case_note "exit $NP_RC, expected 1 or 2 (stdout: $NP_OUT)"
	printf '%s' "$NP_ERR" | grep -qiF -- "$needle" || case_note "message does not name '$needle': '$NP_ERR'"
	[ "$b1" = "$a1" ] || case_note "endpoint list changed" "before: $b1" "after: $a1"
	[ "$b2" = "$a2" ] || case_note "links of $N1 changed" "$(diff <(echo "$b2") <(echo "$a2"))"
	[ "$b3" = "$a3" ] || case_note "links of $XNS changed" "$(diff <(echo "$b3") <(echo "$a3"))"
	case_end "bad input: $d: exit $NP_RC, '$(echo "$NP_ERR" | head -1)'"
}
bad "unknown namespace" tq-nosuch --netns tq-nosuch --ip 198.19.1.60,fd00:19:1::60 --name bad1
bad "address of another endpoint ($P1V4)" "$P1V4" --netns "$XNS" --ip "$P1V4" --name bad2
bad "IPv4 outside node1's pod range" 198.19.2.60 --netns "$XNS" --ip 198.19.2.60,fd00:19:1::60 --name bad3
bad "IPv6 outside node1's pod range" fd00:19:2::60 --netns "$XNS" --ip 198.19.1.60,fd00:19:2::60 --name bad4
if [ $NETKIT_KERNEL -eq 1 ]; then
	tap_skip "bad input: --dev netkit on a kernel without netkit" "this kernel has netkit"
else
	bad "--dev netkit on kernel $(uname -r) without netkit" CONFIG_NETKIT --netns "$XNS" --ip "$XV4" --dev netkit --name bad5
	[ "$NP_RC" = 1 ] || tap_diag "--dev netkit exited $NP_RC, the brief says 1"
fi

# An interface nic0 already in the pod namespace: refused before anything is printed or made.
if ip -n "$XNS" link add nic0 type veth peer name nic0p 2>/dev/null; then
	bad "namespace $XNS already has a nic0" "already has an interface nic0" --netns "$XNS" --ip 198.19.1.61 --name bad6
	[ "$NP_RC" = 1 ] || tap_diag "nic0 taken: exited $NP_RC, expected 1"
	[ -z "$NP_OUT" ] || tap_diag "nic0 taken: printed on stdout before refusing: $NP_OUT"
	ip -n "$XNS" link del nic0
else
	tap_fail "bad input: namespace already has a nic0" "cannot add a veth nic0 to $XNS"
fi

# ---- 18. an endpoint in a fresh namespace ------------------------------------------------------------------------
case_begin
if np_capture --node "$N1" endpoint add --netns "$XNS" --ip "$XV4,$XV6" --name "$XNAME"; then
	tap_diag "$NP_OUT"
	ping_req "$XNS" "$P1V4" "$P1V6" "$C1V4" "$Q1V4"
	ping_req "$P2" "$XV4" "$XV6"
	ping_req "$C1" "$XV4" "$XV6"
	tcp_req "$XNS" "$P1" "$P1V4"
	tcp_req "$P1" "$XNS" "$XV6"
	ep_list "$N1" "$E2E_TMP/ep2.json"
	xd=$(ep_kind "$E2E_TMP/ep2.json" "$XNAME" 2>&1)
	[ "$xd" = "$want" ] || case_note "endpoint list: $XNAME dev '$xd', expected $want (auto)"
else
	case_note "endpoint add failed (rc $NP_RC): $NP_ERR"
fi
case_end "endpoint add --netns $XNS --ip $XV4,$XV6 --name $XNAME: talks to pod1 (ping v4/v6, TCP), pod2, client1, node2's pod1"

# ---- 19. endpoint del leaves nothing ----------------------------------------------------------------------------------
# map_has_key NAME BYTES: a key of the map pinned as $PIN/NAME holding BYTES.
map_has_key() {
	bpftool map dump pinned "$PIN/$1" -j 2>/dev/null | json_get - "any('$2' in ' '.join(x[2:].zfill(2) for x in (e['key'] if isinstance(e['key'], list) else [])) for e in d) if isinstance(d, list) else '?'"
}
case_begin
hidx=$(ip -n "$N1" -o link show "$XNAME" 2>/dev/null | awk -F: '{print $1}')
l0=$(prog_links "$PIN/prog_pod_from") e0=$(map_count "$PIN/np_endpoints") d0=$(map_count "$PIN/np_ep_devs")
np_capture --node "$N1" endpoint del --name "$XNAME" || case_note "endpoint del $XNAME failed (rc $NP_RC): $NP_ERR"
l1=$(prog_links "$PIN/prog_pod_from") e1=$(map_count "$PIN/np_endpoints") d1=$(map_count "$PIN/np_ep_devs")
ip -n "$N1" link show "$XNAME" >/dev/null 2>&1 && case_note "host side $XNAME still in $N1"
x=$(ip -n "$XNS" -o link show | grep -v ': lo:')
[ -z "$x" ] || case_note "devices left in $XNS: $x"
[ -e "$PIN/ep/$XNAME" ] && case_note "pin directory $PIN/ep/$XNAME still exists: $(ls "$PIN/ep/$XNAME")"
[ "$l0" != "?" ] && [ "$l1" = $((l0 - 1)) ] || case_note "links of prog_pod_from: $l0 before, $l1 after, expected one less"
t=$(in_ns "$N1" bpftool net show 2>&1)
echo "$t" | grep -q "$XNAME" && case_note "bpftool net show in $N1 still lists $XNAME:" "$t"
[ -n "$hidx" ] && echo "$t" | grep -qE "\($hidx\)|ifindex $hidx\b" && case_note "bpftool net show in $N1 still lists ifindex $hidx"
[ "$e1" = $((e0 - 2)) ] || case_note "np_endpoints: $e0 entries before, $e1 after, expected 2 fewer"
[ "$d1" = $((d0 - 1)) ] || case_note "np_ep_devs: $d0 entries before, $d1 after, expected 1 fewer"
[ "$(map_has_key np_endpoints "c6 13 01 32")" = false ] || case_note "np_endpoints still has a key with $XV4"
ep_list "$N1" "$E2E_TMP/ep3.json"
json_get "$E2E_TMP/ep3.json" "any(e.get('name') == '$XNAME' for e in (d if isinstance(d, list) else d['endpoints']))" | grep -qx false ||
	case_note "endpoint list still shows $XNAME"
np_capture --node "$N1" endpoint del --ip "$XV4"
[ "$NP_RC" = 1 ] || case_note "a second endpoint del (--ip $XV4) exited $NP_RC, expected 1"
ping_req "$P1" "$P2V4"
case_end "endpoint del $XNAME: no device either side, no link (prog_pod_from links $l0 -> $l1), no pin, no map entry (np_endpoints $e0 -> $e1, np_ep_devs $d0 -> $d1); pod1 -> pod2 still flows"


# ---- 21. down keeps the endpoints, up re-adopts them ------------------------------------------------------------------
# Like an agent restart: `down` detaches the datapath but keeps the endpoint records; the
# pods fall back to the host stack (ttl 63); an `up` whose range misses them is refused
# and changes nothing; `up` with the range re-adopts them (fresh counters) and pod to pod
# runs through the datapath again (ttl 64, to_ep rising); `endpoint del` works after.
case_begin
np_capture --node "$N1" down || case_note "down failed (rc $NP_RC): $NP_ERR"
printf '%s' "$NP_OUT" | grep -q "2 endpoints kept" || case_note "down did not say '2 endpoints kept': $NP_OUT"
[ -L "$PIN/ep/pod1/meta" ] && [ -L "$PIN/ep/pod2/meta" ] || case_note "down removed the endpoint records: $(ls -R "$PIN" 2>&1)"
[ -e "$PIN/np_endpoints" ] && case_note "down left the map np_endpoints pinned"
[ -e "$PIN/ep/pod1/link_from" ] && case_note "down left pod1's link pinned"
st=$(np --node "$N1" status 2>&1)
printf '%s' "$st" | grep -qE "^up +no.*2 endpoints recorded" || case_note "status after down does not say down with 2 endpoints recorded:" "$st"
t63=$(ping_ttl "$P1" "$P2V4")
[ "$t63" = 63 ] || case_note "down: pod1 -> pod2 via the host stack: reply ttl '${t63}', expected 63"
ping_req "$P1" "$P2V6"
el=$(np --node "$N1" endpoint list 2>&1)
printf '%s' "$el" | grep -q pod2 || case_note "endpoint list after down does not show the kept pod2: $el"
np_capture --node "$N1" up --dev uplink --pod-cidr 198.19.9.0/24,fd00:19:1::/64
[ "$NP_RC" = 1 ] || case_note "up with a range that misses the pods exited $NP_RC, expected 1"
printf '%s' "$NP_ERR" | grep -q "pod1\|pod2" || case_note "refused up does not name the endpoint: $NP_ERR"
[ -e "$PIN/np_node" ] && case_note "refused up left state pinned: $(ls "$PIN")"
[ -L "$PIN/ep/pod1/meta" ] || case_note "refused up dropped pod1's record"
np_capture --node "$N1" up --dev uplink --pod-cidr 198.19.1.0/24,fd00:19:1::/64 || case_note "up again failed (rc $NP_RC): $NP_ERR"
printf '%s' "$NP_OUT" | grep -q "re-adopted 2 endpoints" || case_note "up did not say 're-adopted 2 endpoints': $NP_OUT"
ep_list "$N1" "$E2E_TMP/ep4.json"
for p in pod1 pod2; do
	k=$(ep_kind "$E2E_TMP/ep4.json" $p 2>&1)
	[ "$k" = "$want" ] || case_note "endpoint list after up: $p dev '$k', expected $want" "$(cat "$E2E_TMP/ep4.json")"
done
s0=$(stat0 "$N1" tc_pod_from to_ep)
t64=$(ping_ttl "$P1" "$P2V4")
[ "$t64" = 64 ] || case_note "re-adopted: pod1 -> pod2 reply ttl '${t64}', expected 64 (the datapath)"
ping_req "$P1" "$P2V6"
tcp_req "$P1" "$P2" "$P2V4"
s1=$(stat0 "$N1" tc_pod_from to_ep)
[ "$s1" -gt "$s0" ] || case_note "tc_pod_from to_ep did not rise ($s0 -> $s1)"
ep_list "$N1" "$E2E_TMP/ep5.json"
r=$(ep_get "$E2E_TMP/ep5.json" pod2 rx_packets 2>/dev/null)
[ "${r:-0}" -gt 0 ] || case_note "pod2 rx_packets ${r:-?} after the pings, expected > 0"
np_capture --node "$N1" endpoint del --name pod2 || case_note "endpoint del pod2 after re-adoption failed (rc $NP_RC): $NP_ERR"
ip -n "$N1" link show pod2 >/dev/null 2>&1 && case_note "host side pod2 still in $N1"
[ -e "$PIN/ep/pod2" ] && case_note "pin directory $PIN/ep/pod2 still exists"
case_end "down keeps 2 endpoints (stack: ttl ${t63:-?}), up with another range refused, up re-adopts them: ttl ${t64:-?}, to_ep $s0 -> $s1, endpoint del works"

tap_done
