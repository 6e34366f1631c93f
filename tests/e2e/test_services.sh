#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Service load balancing end to end on the lab "ts" (2 clients, 2 nodes, 2 pods
# each, veth endpoints), IPv4 and IPv6. busybox httpd in node1's pods and node2's
# pod1 answers with the pod's name. A LoadBalancer VIP and a NodePort with the two
# node1 pods: every request answered, every backend used; a remote backend by SNAT
# (node2's pod1 behind a VIP on node1, lb_tx counted); pod -> ClusterIP with a local
# and a remote backend; DSR to node2's pod1 by IPIP and IP6IP6 (tc and XDP encapsulating),
# the replies straight from node2; affinity keeps a client on one backend; a source range
# refuses the other client (src_range counted); a terminating backend gets no new
# connections while its open one finishes; removing a backend breaks no other flow;
# a long TCP stream (iperf3, v4 and v6 at once) survives 10 xdp-mode switches and
# 100 updates of its service; a backend's "local" follows endpoint del / add; bad
# input (duplicate VIP, family mismatch, all weights 0, bad ports, --mode dsr with port
# translation, more backends than the Maglev table) is refused and `service list --json` stays byte-identical; deleting every service
# empties the service maps. Prints TAP.
set -u
. "$(dirname "$0")/lib.sh"

LAB=ts
N1=ts-node1 N2=ts-node2 C1=ts-client1 C2=ts-client2
P1=ts-node1-pod1 P2=ts-node1-pod2 Q1=ts-node2-pod1
P1V4=198.19.1.11 P2V4=198.19.1.12 Q1V4=198.19.2.11
P1V6=fd00:19:1::11 P2V6=fd00:19:1::12 Q1V6=fd00:19:2::11
C1V4=198.18.0.101 C1V6=fd00:18::101
N1V4=198.18.0.1 N1V6=fd00:18::1
# What each pod's httpd answers.
A1=node1-pod1 A2=node1-pod2 AQ=node2-pod1
PIN1=/sys/fs/bpf/nodepath/$N1
# Slow downloads for the held connections: 1 MiB at 256 KiB/s, about 4 s.
HTTP_BIG_KB=1024
HOLD_KBPS=256
LONG_SECS=30
# Each stream capped, so that the CLI updates get CPU time on 2 cores.
LONG_RATE=1G

tap_plan 36

need_built "$NP_BIN"
need_tools curl /bin/busybox iperf3 ss bpftool "$NP_PY"

# ---- helpers ---------------------------------------------------------------------------

stat0() { stat_sum "$@" 2>/dev/null || echo 0; }

# flat TEXT: TEXT on one line (lines joined by "; ").
flat() { printf "%s" "$1" | sed -z "s/\n/; /g"; }

# url FAM ADDR PORT PATH: an http URL (IPv6 in brackets).
url() {
	if [ "$1" = 6 ]; then
		echo "http://[$2]:$3$4"
	else
		echo "http://$2:$3$4"
	fi
}

# hp FAM ADDR PORT: ADDR:PORT in the CLI's syntax ([v6]:port).
hp() {
	if [ "$1" = 6 ]; then
		echo "[$2]:$3"
	else
		echo "$2:$3"
	fi
}

# svc_add NODE NAME ARGS...: `service add`; a failure is recorded (and returns 1).
svc_add() {
	local n=$1
	shift
	if ! np_capture --node "$n" service add "$@"; then
		case_note "service add $* on $n failed (rc $NP_RC): $NP_ERR"
		return 1
	fi
}

# be_cmd NODE ARGS...: `backend ARGS`; a failure is recorded.
be_cmd() {
	local n=$1
	shift
	np_capture --node "$n" backend "$@" || case_note "backend $* on $n failed (rc $NP_RC): $NP_ERR"
}

# burst FROM URL N: N fetches (http_burst) into BURST, after a 2-fetch probe: when
# the probe gets nothing the N fetches are not made (each would wait 2 s).
BURST=
burst() {
	local t
	t=$(http_burst "$1" "$2" 2)
	if [ "$(burst_ok "$t")" = 0 ]; then
		BURST=$(printf '%s\n' "$t")
		return
	fi
	BURST=$(http_burst "$1" "$2" "$3")
}

# burst_req FROM URL N WANT_NAMES: record a failure unless all N are answered and
# the answers are exactly WANT_NAMES (sorted, space-separated).
burst_req() {
	local from=$1 u=$2 n=$3 want=$4 ok names
	burst "$from" "$u" "$n"
	ok=$(burst_ok "$BURST") names=$(burst_names "$BURST")
	[ "$ok" = "$n" ] || case_note "$from -> $u: $ok/$n answered ($(flat "$BURST"))"
	[ "$names" = "$want" ] || case_note "$from -> $u: answered by '$names', expected '$want'"
}

# ---- 1. the lab, HTTP servers in the pods ----------------------------------------------
if ! e2e_lab_up "$LAB" --clients 2; then
	TAP_ABORT="lab up --name $LAB failed (rc $NP_RC): $NP_ERR"
	tap_done
	exit 1
fi
case_begin
httpd_start "$P1" "$A1" || case_note "httpd in $P1 does not listen"
httpd_start "$P2" "$A2" || case_note "httpd in $P2 does not listen"
httpd_start "$Q1" "$AQ" || case_note "httpd in $Q1 does not listen"
# The servers themselves, without a service: client1 -> each pod, v4 and v6.
for d in "4 $P1V4 $A1" "4 $P2V4 $A2" "4 $Q1V4 $AQ" "6 $P1V6 $A1" "6 $Q1V6 $AQ"; do
	set -- $d
	t=$(http_burst "$C1" "$(url "$1" "$2" 8080 /)" 1)
	[ "$t" = "1 $3" ] || case_note "client1 -> $2:8080 directly: '$t', expected '1 $3'"
done
np_capture --node "$N1" service list --json
svc_cli=$NP_RC
[ "$svc_cli" = 0 ] || case_note "service list --json exited $NP_RC: $NP_ERR"
case_end "lab $LAB up (2 clients); busybox httpd on :8080 in $P1, $P2, $Q1 answers client1 directly (v4, v6); service list works"

# ---- 2..3. LoadBalancer VIP, both node1 pods ---------------------------------------------
lb_case() {
	local fam=$1 vip=$2 b1=$3 b2=$4 n0 n1
	case_begin
	n0=$(stat0 "$N1" lb_new)
	if svc_add "$N1" "lb$fam" --vip "$(hp "$fam" "$vip" 80)/tcp" --type loadbalancer \
		--backend "$(hp "$fam" "$b1" 8080)" --backend "$(hp "$fam" "$b2" 8080)"; then
		burst_req "$C1" "$(url "$fam" "$vip" 80 /)" 40 "$A1 $A2"
	fi
	n1=$(stat0 "$N1" lb_new)
	[ $((n1 - n0)) -ge 40 ] || case_note "lb_new on $N1 grew by $((n1 - n0)), expected >= 40"
	case_end "IPv$fam LoadBalancer $vip:80 -> $A1, $A2: 40 new connections from client1 all answered, both used ($(flat "$BURST")); lb_new +$((n1 - n0))"
}
lb_case 4 198.18.100.10 "$P1V4" "$P2V4"
lb_case 6 fd00:18:100::10 "$P1V6" "$P2V6"

# ---- 4..5. the same VIPs with generic XDP on node1's uplink -------------------------------
# Regression: the frames of a local TCP socket reach the uplink CHECKSUM_PARTIAL, XDP
# passes them unmarked and tc balances them. Generic XDP copies such an skb without
# its mac_len, so tc once saw the frame from its IP header on and called it "not IP":
# no answer at all. tc_uplink_in must balance (lb_new) and count no not_ip meanwhile.
gen_case() {
	local fam=$1 vip=$2 n0 n1 x0 x1
	case_begin
	if np_capture --node "$N1" xdp-mode generic; then
		n0=$(stat0 "$N1" lb_new) x0=$(stat0 "$N1" not_ip)
		burst_req "$C1" "$(url "$fam" "$vip" 80 /)" 20 "$A1 $A2"
		n1=$(stat0 "$N1" lb_new) x1=$(stat0 "$N1" not_ip)
		[ $((n1 - n0)) -ge 20 ] || case_note "lb_new on $N1 grew by $((n1 - n0)) in generic mode, expected >= 20"
		# ARP / ND may add a few; a tc that misreads every frame adds >= 80.
		[ $((x1 - x0)) -lt 10 ] || case_note "not_ip on $N1 grew by $((x1 - x0)) in generic mode: tc misreads frames"
	else
		case_note "xdp-mode generic on $N1 failed (rc $NP_RC): $NP_ERR"
	fi
	np_capture --node "$N1" xdp-mode native || case_note "xdp-mode native on $N1 failed (rc $NP_RC): $NP_ERR"
	case_end "IPv$fam LoadBalancer $vip:80 with generic XDP on $N1: 20/20 answered, both used ($(flat "$BURST")); lb_new +$((${n1:-0} - ${n0:-0})), not_ip +$((${x1:-0} - ${x0:-0}))"
}
gen_case 4 198.18.100.10
gen_case 6 fd00:18:100::10

# ---- 6. non-first fragments to a served VIP -----------------------------------------------
# service add writes the VIP marker {family, proto 0, port 0, scope VIP, addr} into
# np_svc (the key tests/bpf/test_lb.c seeds by hand); XDP drops a non-first fragment
# to such an address with lb_frag. 3 datagrams of 3000 bytes: 2 non-first fragments
# each, per family.
# svc_key_hex FAM ADDR: the np_svc marker key of ADDR as bpftool hex bytes.
svc_key_hex() {
	local fam=$1 a=$2 f=2 hex
	[ "$fam" = 6 ] && f=10
	hex=$("$NP_PY" -c "import ipaddress,sys; b=ipaddress.ip_address(sys.argv[1]).packed; print(' '.join('%02x' % x for x in b + bytes(16 - len(b))))" "$a")
	printf '%02x 00 00 00 00 00 00 00 %s' "$f" "$hex"
}
case_begin
fr0=$(stat0 "$N1" lb_frag)
for d in "4 198.18.100.10" "6 fd00:18:100::10"; do
	set -- $d
	# shellcheck disable=SC2046
	bpftool map lookup pinned "$PIN1/np_svc" key hex $(svc_key_hex "$1" "$2") >/dev/null 2>&1 ||
		case_note "np_svc has no VIP marker for $2 (family $1, proto 0, port 0)"
	in_ns "$C1" bash -c "for i in 1 2 3; do head -c 3000 /dev/zero >/dev/udp/$2/9999; done" 2>/dev/null ||
		case_note "client1 could not send 3000-byte UDP datagrams to $2"
done
sleep 0.3
fr1=$(stat0 "$N1" lb_frag)
[ $((fr1 - fr0)) -ge 12 ] || case_note "lb_frag on $N1 grew by $((fr1 - fr0)), expected >= 12 (2 non-first fragments x 3 datagrams x 2 families)"
case_end "non-first fragments to the VIPs 198.18.100.10 and fd00:18:100::10: markers in np_svc, lb_frag +$((fr1 - fr0))"

# ---- 7..8. NodePort at node1's uplink address ------------------------------------------------------
np_case() {
	local fam=$1 any=$2 naddr=$3 b1=$4 b2=$5
	case_begin
	if svc_add "$N1" "np$fam" --vip "$(hp "$fam" "$any" 30080)/tcp" --type nodeport \
		--backend "$(hp "$fam" "$b1" 8080)" --backend "$(hp "$fam" "$b2" 8080)"; then
		burst_req "$C1" "$(url "$fam" "$naddr" 30080 /)" 40 "$A1 $A2"
	fi
	case_end "IPv$fam NodePort $(hp "$fam" "$any" 30080) reached at $(hp "$fam" "$naddr" 30080) from client1: 40/40 answered, both pods used ($(flat "$BURST"))"
}
np_case 4 0.0.0.0 "$N1V4" "$P1V4" "$P2V4"
np_case 6 :: "$N1V6" "$P1V6" "$P2V6"

# ---- 9..10. a remote backend by SNAT ------------------------------------------------------------------------
snat_case() {
	local fam=$1 vip=$2 be=$3 t0 t1
	case_begin
	t0=$(stat0 "$N1" lb_tx)
	if svc_add "$N1" "snat$fam" --vip "$(hp "$fam" "$vip" 80)/tcp" --type loadbalancer \
		--backend "$(hp "$fam" "$be" 8080)"; then
		burst_req "$C1" "$(url "$fam" "$vip" 80 /)" 20 "$AQ"
	fi
	t1=$(stat0 "$N1" lb_tx)
	[ $((t1 - t0)) -ge 20 ] || case_note "lb_tx on $N1 grew by $((t1 - t0)), expected >= 20 (one SYN per request at least)"
	case_end "IPv$fam remote backend by SNAT: $vip:80 on node1 -> $be:8080 on node2: 20/20 answered by $AQ; node1 lb_tx +$((t1 - t0))"
}
snat_case 4 198.18.100.11 "$Q1V4"
snat_case 6 fd00:18:100::11 "$Q1V6"

# ---- DSR: a remote backend by IPIP / IP6IP6, the reply straight from node2 --------------------------------------------
# hook_stat NODE HOOK STAT: one hook's counter.
hook_stat() {
	np --node "$1" stats --json 2>/dev/null |
		json_get - "d['hooks'].get('$2', {}).get('$3', 0)" 2>/dev/null || echo 0
}
# dsr_case FAM VIP BACKEND [xdp]: the DSR service on both nodes (node1 balances, node2
# knows the VIP for the decapsulation), 20 requests from client1, all answered by node2's
# pod1. By default the client's frames are CHECKSUM_PARTIAL (veth), XDP defers them and
# tc encapsulates; with "xdp" the client sends full checksums (tx offload off) and XDP
# itself encapsulates (XDP_TX). The replies never pass node1 (no reverse NAT there, all
# of it at node2's pod egress); a captured reply at the client comes from the VIP:8080
# with node2's MAC as its source, i.e. straight from node2.
dsr_case() {
	local fam=$1 vip=$2 be=$3 path=${4:-tc} name=dsr$1 how=IPIP hook=tc_uplink_in
	local t0 t1 r0 r1 p0 p1 x0 x1 h0 h1 cap n2mac rep ipf=ip
	[ "$fam" = 6 ] && how=IP6IP6 ipf=ip6
	[ "$path" = xdp ] && name=dsr${fam}x hook=xdp
	case_begin
	if [ "$path" = xdp ]; then
		in_ns "$C1" ethtool -K nic0 tx off >/dev/null 2>&1 ||
			case_note "ethtool -K nic0 tx off in $C1 failed: XDP cannot balance the client's frames"
	fi
	svc_add "$N2" "$name" --vip "$(hp "$fam" "$vip" 8080)/tcp" --type loadbalancer --mode dsr \
		--backend "$(hp "$fam" "$be" 8080)"
	t0=$(stat0 "$N1" lb_tx) r0=$(hook_stat "$N1" tc_uplink_in lb_revnat) h0=$(hook_stat "$N1" "$hook" lb_tx)
	x0=$(hook_stat "$N1" xdp lb_revnat) p0=$(hook_stat "$N2" tc_pod_from lb_revnat)
	n2mac=$(in_ns "$N2" cat /sys/class/net/uplink/address 2>/dev/null)
	cap=$E2E_TMP/$name.cap
	if svc_add "$N1" "$name" --vip "$(hp "$fam" "$vip" 8080)/tcp" --type loadbalancer --mode dsr \
		--backend "$(hp "$fam" "$be" 8080)"; then
		bg_start "$name.tcpdump" in_ns "$C1" timeout 20 tcpdump -nn -t -e -l -i nic0 -c 1 \
			"$ipf src host $vip and tcp src port 8080"
		sleep 1
		burst_req "$C1" "$(url "$fam" "$vip" 8080 /)" 20 "$AQ"
		bg_wait "$BG_PID" 3 >/dev/null
		cp "$E2E_TMP/$name.tcpdump.out" "$cap" 2>/dev/null
	fi
	t1=$(stat0 "$N1" lb_tx) r1=$(hook_stat "$N1" tc_uplink_in lb_revnat) h1=$(hook_stat "$N1" "$hook" lb_tx)
	x1=$(hook_stat "$N1" xdp lb_revnat) p1=$(hook_stat "$N2" tc_pod_from lb_revnat)
	if [ "$path" = xdp ]; then
		in_ns "$C1" ethtool -K nic0 tx on >/dev/null 2>&1 || case_note "ethtool -K nic0 tx on in $C1 failed"
	fi
	[ $((t1 - t0)) -ge 20 ] || case_note "lb_tx on $N1 grew by $((t1 - t0)), expected >= 20"
	[ $((h1 - h0)) -ge 20 ] || case_note "$N1 $hook lb_tx grew by $((h1 - h0)), expected >= 20 ($path encapsulates)"
	[ "$r1" = "$r0" ] || case_note "$N1 tc_uplink_in lb_revnat $r0 -> $r1: replies came back through node1"
	[ "$x1" = "$x0" ] || case_note "$N1 xdp lb_revnat $x0 -> $x1: replies came back through node1"
	[ $((p1 - p0)) -ge 20 ] || case_note "$N2 tc_pod_from lb_revnat grew by $((p1 - p0)), expected >= 20"
	rep=$(head -1 "$cap" 2>/dev/null)
	case "$rep" in
	"$n2mac > "*" $vip.8080 > "*) ;;
	*) case_note "the reply captured at $C1 is not from $vip.8080 with node2's MAC $n2mac: '$rep'" ;;
	esac
	np_capture --node "$N1" service del "$name" || case_note "service del $name on $N1 failed: $NP_ERR"
	np_capture --node "$N2" service del "$name" || case_note "service del $name on $N2 failed: $NP_ERR"
	case_end "IPv$fam DSR ($path): $(hp "$fam" "$vip" 8080) on node1 -> $(hp "$fam" "$be" 8080) by $how: 20/20 answered by $AQ; node1 lb_tx +$((t1 - t0)) ($hook +$((h1 - h0))), node1 lb_revnat +$((r1 - r0 + x1 - x0)), node2 pod egress lb_revnat +$((p1 - p0)); reply from $vip.8080, MAC ${n2mac:-?}"
}
dsr_case 4 198.18.100.25 "$Q1V4"
dsr_case 6 fd00:18:100::25 "$Q1V6"
dsr_case 6 fd00:18:100::26 "$Q1V6" xdp

# ---- 11..12. pod -> ClusterIP, a local and a remote backend -------------------------------------------------
cip_case() {
	local fam=$1 vip=$2 bl=$3 br=$4 f0 f1
	case_begin
	f0=$(stat0 "$N1" lb_new)
	if svc_add "$N1" "cip$fam" --vip "$(hp "$fam" "$vip" 80)/tcp" --type clusterip \
		--backend "$(hp "$fam" "$bl" 8080)" --backend "$(hp "$fam" "$br" 8080)"; then
		burst_req "$P1" "$(url "$fam" "$vip" 80 /)" 20 "$A2 $AQ"
	fi
	f1=$(stat0 "$N1" lb_new)
	[ $((f1 - f0)) -ge 20 ] || case_note "lb_new on $N1 grew by $((f1 - f0)), expected >= 20"
	case_end "IPv$fam pod -> ClusterIP $vip:80 ($bl local, $br on node2): 20/20 from $P1 answered, both used ($(flat "$BURST"))"
}
cip_case 4 198.18.200.10 "$P2V4" "$Q1V4"
cip_case 6 fd00:18:200::10 "$P2V6" "$Q1V6"

# ---- 13..14. session affinity ------------------------------------------------------------------------------
aff_case() {
	local fam=$1 vip=$2 b1=$3 b2=$4 ok names
	case_begin
	if svc_add "$N1" "aff$fam" --vip "$(hp "$fam" "$vip" 80)/tcp" --type loadbalancer --affinity 60 \
		--backend "$(hp "$fam" "$b1" 8080)" --backend "$(hp "$fam" "$b2" 8080)"; then
		burst "$C1" "$(url "$fam" "$vip" 80 /)" 20
		ok=$(burst_ok "$BURST") names=$(burst_names "$BURST")
		[ "$ok" = 20 ] || case_note "$ok/20 answered ($(flat "$BURST"))"
		[ "$(echo "$names" | wc -w)" = 1 ] || case_note "answered by '$names', expected one backend"
	fi
	case_end "IPv$fam affinity 60 s on $vip:80: 20 connections from client1 (new source ports) all on one backend ($(flat "$BURST"))"
}
aff_case 4 198.18.100.12 "$P1V4" "$P2V4"
aff_case 6 fd00:18:100::12 "$P1V6" "$P2V6"

# ---- 15..16. source range ---------------------------------------------------------------------------------
src_case() {
	local fam=$1 vip=$2 cidr=$3 b1=$4 b2=$5 d0 d1 ok2
	case_begin
	if svc_add "$N1" "src$fam" --vip "$(hp "$fam" "$vip" 80)/tcp" --type loadbalancer --source-range "$cidr" \
		--backend "$(hp "$fam" "$b1" 8080)" --backend "$(hp "$fam" "$b2" 8080)"; then
		burst_req "$C1" "$(url "$fam" "$vip" 80 /)" 10 "$A1 $A2"
		d0=$(stat0 "$N1" src_range)
		t=$(http_burst "$C2" "$(url "$fam" "$vip" 80 /)" 3)
		ok2=$(burst_ok "$t")
		d1=$(stat0 "$N1" src_range)
		[ "$ok2" = 0 ] || case_note "client2 got $ok2/3 answers ($(flat "$t")), expected none"
		[ $((d1 - d0)) -ge 3 ] || case_note "drop src_range on $N1 grew by $((d1 - d0)), expected >= 3"
	fi
	case_end "IPv$fam --source-range $cidr on $vip:80: client1 10/10 answered by both pods, client2 0/${ok2:+3} (src_range +$((${d1:-0} - ${d0:-0})))"
}
src_case 4 198.18.100.13 "$C1V4/32" "$P1V4" "$P2V4"
src_case 6 fd00:18:100::13 "$C1V6/128" "$P1V6" "$P2V6"

# ---- 17..20. a held connection while a backend is made terminating / removed -------------------------------
# A slow reader (curl --limit-rate 7.88 sometimes reads it all at once): 16 KiB of
# receive buffer, KBPS KiB/s; the body goes to OUT; 0 when all of Content-Length came.
cat >"$E2E_TMP/slow_get.py" <<'EOF'
import socket, sys, time
host, port, path, kbps, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5]
s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
s.settimeout(5)
s.connect((host, port))
s.sendall(b"GET %s HTTP/1.0\r\nHost: svc\r\n\r\n" % path.encode())
head, body, got = b"", None, 0
with open(out, "wb") as f:
    while True:
        b = s.recv(8192)
        if not b:
            break
        if body is None:
            head += b
            if b"\r\n\r\n" not in head:
                continue
            head, b = head.split(b"\r\n\r\n", 1)
            body = True
        f.write(b)
        f.flush()
        got += len(b)
        time.sleep(len(b) / (kbps * 1024.0))
want = [int(l.split(b":")[1]) for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")]
print("body %d of %s" % (got, want[0] if want else "?"))
sys.exit(0 if want and got == want[0] else 1)
EOF
# hold_start FAM VIP TAG: a slow download of /big through VIP:80 from client1;
# HOLD_PID, HOLD_NAME (the pod answering it, from the first line) and HOLD_OUT.
HOLD_PID='' HOLD_NAME='' HOLD_OUT=''
hold_start() {
	local fam=$1 vip=$2 tag=$3
	HOLD_OUT=$E2E_TMP/hold.$tag.body HOLD_TAG=$tag
	bg_start "hold.$tag" in_ns "$C1" timeout 30 "$NP_PY" "$E2E_TMP/slow_get.py" "$vip" 80 /big "$HOLD_KBPS" "$HOLD_OUT"
	HOLD_PID=$BG_PID
	wait_for 3 sh -c "head -1 '$HOLD_OUT' 2>/dev/null | grep -q '^node'"
	HOLD_NAME=$(head -1 "$HOLD_OUT" 2>/dev/null)
	[ -n "$HOLD_NAME" ] || case_note "the held download through $vip:80 got no data in 3 s"
}

# hold_finish: the held download completes, whole.
hold_finish() {
	local rc size want
	bg_wait "$HOLD_PID" 30
	rc=$?
	size=$(stat -c %s "$HOLD_OUT" 2>/dev/null || echo 0)
	want=$(http_big_size "$HOLD_NAME")
	[ "$rc" = 0 ] || case_note "the held download (from $HOLD_NAME) ended with status $rc: $(cat "$E2E_TMP/hold.$HOLD_TAG.out" "$E2E_TMP/hold.$HOLD_TAG.err" 2>/dev/null | tail -2)"
	[ "$size" = "$want" ] || case_note "the held download got $size bytes, expected $want"
	HOLD_SIZE=$size
}

# addr_of FAM NAME: the backend address of pod NAME.
addr_of() {
	case "$1.$2" in
	"4.$A1") echo "$P1V4" ;;
	"4.$A2") echo "$P2V4" ;;
	"6.$A1") echo "$P1V6" ;;
	"6.$A2") echo "$P2V6" ;;
	esac
}

term_case() {
	local fam=$1 vip=$2 other
	case_begin
	HOLD_NAME=
	if svc_add "$N1" "term$fam" --vip "$(hp "$fam" "$vip" 80)/tcp" --type loadbalancer \
		--backend "$(hp "$fam" "$(addr_of "$fam" "$A1")" 8080)" --backend "$(hp "$fam" "$(addr_of "$fam" "$A2")" 8080)"; then
		hold_start "$fam" "$vip" "term$fam"
		if [ -n "$HOLD_NAME" ]; then
			other=$A1
			[ "$HOLD_NAME" = "$A1" ] && other=$A2
			be_cmd "$N1" set "term$fam" "$(hp "$fam" "$(addr_of "$fam" "$HOLD_NAME")" 8080)" --state terminating
			burst_req "$C1" "$(url "$fam" "$vip" 80 /)" 10 "$other"
			kill -0 "$HOLD_PID" 2>/dev/null || case_note "the held download was over before the new connections were made (raise HTTP_BIG_KB)"
			hold_finish
		fi
	fi
	case_end "IPv$fam terminating: a download from ${HOLD_NAME:-?} through $vip:80 held while it is set terminating: 10 new connections all to ${other:-?}; the held one completes (${HOLD_SIZE:-?} bytes)"
}
rm_case() {
	local fam=$1 vip=$2 other
	case_begin
	HOLD_NAME=
	if svc_add "$N1" "rm$fam" --vip "$(hp "$fam" "$vip" 80)/tcp" --type loadbalancer \
		--backend "$(hp "$fam" "$(addr_of "$fam" "$A1")" 8080)" --backend "$(hp "$fam" "$(addr_of "$fam" "$A2")" 8080)"; then
		hold_start "$fam" "$vip" "rm$fam"
		if [ -n "$HOLD_NAME" ]; then
			other=$A1
			[ "$HOLD_NAME" = "$A1" ] && other=$A2
			be_cmd "$N1" del "rm$fam" "$(hp "$fam" "$(addr_of "$fam" "$other")" 8080)"
			burst_req "$C1" "$(url "$fam" "$vip" 80 /)" 10 "$HOLD_NAME"
			kill -0 "$HOLD_PID" 2>/dev/null || case_note "the held download was over before the new connections were made (raise HTTP_BIG_KB)"
			hold_finish
		fi
	fi
	case_end "IPv$fam backend del: a download from ${HOLD_NAME:-?} through $vip:80 held while ${other:-?} is removed: it completes (${HOLD_SIZE:-?} bytes), 10 new connections all to ${HOLD_NAME:-?}"
}
term_case 4 198.18.100.14
term_case 6 fd00:18:100::14
rm_case 4 198.18.100.15
rm_case 6 fd00:18:100::15

# ---- 21..22. a long TCP stream across 10 xdp-mode switches and 100 service updates -----------------------------
# iperf3 -t LONG_SECS, v4 and v6 at once, through VIP:5201 to pod1 (servers on 5201
# and 5202). Meanwhile, per service, 100 updates: add node1-pod2 as a second backend,
# change pod1's weight, remove node1-pod2 (the established flows stay on pod1 by
# conntrack), and every 10th round an xdp-mode switch generic / off / native.
long_upd() {
	local fam=$1 i=$2 svc=long$1 bport=$3 a1 a2
	a1=$(hp "$fam" "$(addr_of "$fam" "$A1")" "$bport")
	a2=$(hp "$fam" "$(addr_of "$fam" "$A2")" "$bport")
	case $((i % 3)) in
	1) "$NP_BIN" --node "$N1" backend add "$svc" "$a2" --weight $((i % 5 + 1)) ;;
	2) "$NP_BIN" --node "$N1" backend set "$svc" "$a1" --weight $((i % 7 + 1)) ;;
	0) "$NP_BIN" --node "$N1" backend del "$svc" "$a2" ;;
	esac >>"$E2E_TMP/long.upd.out" 2>&1
}
case_begin
long_ok=1
svc_add "$N1" long4 --vip 198.18.100.16:5201/tcp --type loadbalancer --backend "$P1V4:5201" || long_ok=0
svc_add "$N1" long6 --vip "[fd00:18:100::16]:5201/tcp" --type loadbalancer --backend "[$P1V6]:5202" || long_ok=0
bg_start long.s4 in_ns "$P1" timeout $((LONG_SECS + 30)) iperf3 -s -1 -p 5201
s4=$BG_PID
bg_start long.s6 in_ns "$P1" timeout $((LONG_SECS + 30)) iperf3 -s -1 -p 5202
s6=$BG_PID
wait_for 3 sh -c "ip netns exec $P1 ss -Hltn 'sport = :5201 or sport = :5202' | grep -c . | grep -qx 2" ||
	case_note "iperf3 servers in $P1 did not start"
upd_fail=0 sw_fail=0 sw_n=0 upd_n=0 loop_s=-
if [ $long_ok = 1 ]; then
	bg_start long.c4 in_ns "$C1" timeout $((LONG_SECS + 20)) iperf3 -c 198.18.100.16 -p 5201 -t "$LONG_SECS" -b "$LONG_RATE" -J
	c4=$BG_PID
	bg_start long.c6 in_ns "$C1" timeout $((LONG_SECS + 20)) iperf3 -c fd00:18:100::16 -p 5201 -t "$LONG_SECS" -b "$LONG_RATE" -J
	c6=$BG_PID
	sleep 1
	t0=$(date +%s.%N)
	modes=(generic off native)
	for ((i = 1; i <= 100; i++)); do
		long_upd 4 $i 5201 || upd_fail=$((upd_fail + 1))
		long_upd 6 $i 5202 || upd_fail=$((upd_fail + 1))
		upd_n=$((upd_n + 2))
		if [ $((i % 10)) = 0 ]; then
			m=${modes[$((sw_n % 3))]}
			"$NP_BIN" --node "$N1" xdp-mode "$m" >>"$E2E_TMP/long.sw.out" 2>&1 || sw_fail=$((sw_fail + 1))
			sw_n=$((sw_n + 1))
		fi
	done
	loop_s=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
	# Back to native now (the 10th switch left generic): the streams finish in the usual mode.
	"$NP_BIN" --node "$N1" xdp-mode native >/dev/null 2>&1
	kill -0 "$c4" 2>/dev/null && kill -0 "$c6" 2>/dev/null ||
		case_note "an iperf3 client ended before the updates were over ($loop_s s): the stream did not span them all"
	bg_wait "$c4" $((LONG_SECS + 20))
	r4=$?
	bg_wait "$c6" $((LONG_SECS + 20))
	r6=$?
	[ $upd_fail = 0 ] || case_note "$upd_fail of $upd_n updates failed: $(grep -i 'error\|nodepath:' "$E2E_TMP/long.upd.out" | sort | uniq -c | head -3)"
	[ $sw_fail = 0 ] || case_note "$sw_fail of $sw_n xdp-mode switches failed: $(grep 'nodepath:' "$E2E_TMP/long.sw.out" | head -2)"
fi
bg_wait "$s4" 5 >/dev/null
bg_wait "$s6" 5 >/dev/null
# long_res FAM RC: the verdict of one stream.
long_res() {
	local fam=$1 rc=$2 f=$E2E_TMP/long.c$1.out b mn z
	b=$(json_get "$f" 'd["end"]["sum_received"]["bytes"]' 2>/dev/null)
	mn=$(json_get "$f" 'min(i["sum"]["bits_per_second"] for i in d["intervals"]) / 1e6' 2>/dev/null)
	z=$(json_get "$f" 'len([i for i in d["intervals"] if i["sum"]["bytes"] == 0])' 2>/dev/null)
	LONG_SUM="IPv$fam: iperf3 exit $rc, ${b:-?} bytes received, slowest second ${mn%.*} Mbit/s, ${z:-?} seconds without data"
	[ "$rc" = 0 ] || case_note "IPv$fam iperf3 exited $rc: $(json_get "$f" 'd.get("error", "")' 2>/dev/null || tail -c 300 "$f")"
	[ "${b:-0}" -gt 0 ] 2>/dev/null || case_note "IPv$fam iperf3 received nothing"
	[ "${z:-0}" = 0 ] || case_note "IPv$fam stream stalled: $z one-second intervals carried no data"
}
LONG_BASE=("${CASE_ERRS[@]}")
for fam in 4 6; do
	CASE_ERRS=("${LONG_BASE[@]}")
	if [ $long_ok = 1 ]; then
		rc=$r4
		[ $fam = 6 ] && rc=$r6
		long_res $fam "$rc"
	fi
	case_end "IPv$fam long TCP stream (iperf3 -t $LONG_SECS -b $LONG_RATE through a VIP to $A1) across $sw_n xdp-mode switches and $((upd_n / 2)) service updates in ${loop_s} s: ${LONG_SUM:-not run}"
	LONG_SUM=
done

# ---- 23..30. bad input changes nothing ------------------------------------------------------------------------------
# bad NODE DESC NEEDLE ARGS...: `nodepath --node NODE service add ARGS` exits 1 or 2,
# its message names NEEDLE (an extended regex), `service list --json` is unchanged.
bad() {
	local n=$1 d=$2 needle=$3 b a
	shift 3
	case_begin
	b=$(np --node "$n" service list --json 2>&1)
	np_capture --node "$n" service add "$@"
	a=$(np --node "$n" service list --json 2>&1)
	[ "$NP_RC" = 1 ] || [ "$NP_RC" = 2 ] || case_note "exit $NP_RC, expected 1 or 2 (stdout: $NP_OUT)"
	printf '%s' "$NP_ERR" | grep -qiE -- "$needle" || case_note "message does not name '$needle': '$NP_ERR'"
	[ "$b" = "$a" ] || case_note "service list --json changed" "before: $(echo "$b" | head -c 600)" "after: $(echo "$a" | head -c 600)"
	case_end "bad input: $d: exit $NP_RC, '$(echo "$NP_ERR" | head -1)'"
}
bad "$N1" "duplicate VIP 198.18.100.10:80/tcp (service lb4 has it)" "198\.18\.100\.10" \
	dup4 --vip 198.18.100.10:80/tcp --type loadbalancer --backend "$P1V4:8080"
bad "$N1" "family mismatch: IPv4 VIP with an IPv6 backend" "fd00:19:1::11|famil|IPv6" \
	fam4 --vip 198.18.100.20:80/tcp --type loadbalancer --backend "[$P1V6]:8080"
bad "$N1" "weight=0 for every backend" "weight" \
	w0 --vip 198.18.100.21:80/tcp --type loadbalancer --backend "$P1V4:8080,weight=0" --backend "$P2V4:8080,weight=0"
bad "$N1" "VIP port 0" "198\.18\.100\.22:0|port.*0\b|\b0\b.*port" \
	port0 --vip 198.18.100.22:0/tcp --type loadbalancer --backend "$P1V4:8080"
bad "$N1" "backend port 65536" "65536" \
	port65536 --vip 198.18.100.22:80/tcp --type loadbalancer --backend "$P1V4:65536"
bad "$N1" "VIP port abc" "abc" \
	portabc --vip 198.18.100.22:abc/tcp --type loadbalancer --backend "$P1V4:8080"
bad "$N1" "--mode dsr with a backend port (8080) other than the VIP port (80)" "dsr" \
	dsr4 --vip 198.18.100.23:80/tcp --type loadbalancer --mode dsr --backend "$Q1V4:8080"

# More backends than the Maglev table holds: node2 again with a small table (251).
# 251 distinct backends (one address, ports 1..251) fit; 252 do not.
backends() {
	local i
	for ((i = 1; i <= $1; i++)); do
		printf -- '--backend %s:%d\n' "$Q1V4" "$i"
	done
}
case_begin
msize=251
np_capture --node "$N2" down || case_note "$N2 down failed (rc $NP_RC): $NP_ERR"
if ! np_capture --node "$N2" up --dev uplink --pod-cidr 198.19.2.0/24,fd00:19:2::/64 --maglev-size 251; then
	tap_diag "up --maglev-size 251 on $N2 refused (rc $NP_RC): $NP_ERR; using node1's default table (16381)"
	np --node "$N2" up --dev uplink --pod-cidr 198.19.2.0/24,fd00:19:2::/64 >/dev/null 2>&1
	msize=16381
fi
mnode=$N2
[ $msize = 251 ] || mnode=$N1
mapfile -t fit < <(backends $msize | tr ' ' '\n')
mapfile -t over < <(backends $((msize + 1)) | tr ' ' '\n')
b=$(np --node "$mnode" service list --json 2>&1)
np_capture --node "$mnode" service add big --vip 198.18.100.24:80/tcp --type loadbalancer "${over[@]}"
a=$(np --node "$mnode" service list --json 2>&1)
[ "$NP_RC" = 1 ] || [ "$NP_RC" = 2 ] || case_note "$((msize + 1)) backends: exit $NP_RC, expected 1 or 2"
printf '%s' "$NP_ERR" | grep -q "$msize" || case_note "$((msize + 1)) backends: message does not name the table size $msize: '$NP_ERR'"
[ "$b" = "$a" ] || case_note "$((msize + 1)) backends: service list --json changed"
overmsg=$(echo "$NP_ERR" | head -1)
overrc=$NP_RC
if np_capture --node "$mnode" service add big --vip 198.18.100.24:80/tcp --type loadbalancer "${fit[@]}"; then
	np_capture --node "$mnode" service del big || case_note "service del big failed (rc $NP_RC): $NP_ERR"
else
	case_note "$msize backends (as many as the table holds) refused (rc $NP_RC): $NP_ERR"
fi
case_end "bad input: $((msize + 1)) backends for a Maglev table of $msize on $mnode: exit $overrc, '$overmsg'; $msize fit"

# ---- 30b. a fragmented UDP datagram through a VIP (frag.h) --------------------------------------------------------
# frag_udp V VIP: a 3000-byte datagram from the client (its stack fragments it over
# the 1500 MTU) to VIP:9300/udp reaches node1-pod1 whole; the pod's 3000-byte
# answer (fragmented by the pod's stack) comes back to the client whole.
frag_udp() {
	local v=$1 vip=$2 d got want
	d=$(mktemp -d)
	want=$(head -c 3000 /dev/zero | tr '\0' q)
	in_ns "$P1" timeout 6 bash -c "(sleep 2; head -c 3000 /dev/zero | tr '\\0' r) | nc -$v -u -l 9300 >'$d/srv'" &
	local spid=$!
	sleep 0.5
	in_ns "$C1" timeout 5 bash -c "(printf '%s' '$want'; sleep 4) | nc -$v -u -p 40300 '$vip' 9300 >'$d/cli'"
	wait "$spid"
	got=$(wc -c <"$d/srv")
	[ "$got" = 3000 ] || case_note "IPv$v: the backend got $got bytes of the 3000-byte datagram"
	[ "$(cat "$d/srv")" = "$want" ] || case_note "IPv$v: the datagram the backend got differs from what was sent"
	got=$(wc -c <"$d/cli")
	[ "$got" = 3000 ] || case_note "IPv$v: the client got $got bytes of the 3000-byte reply"
	FRAG_RES+=" v$v: $(wc -c <"$d/srv")/$(wc -c <"$d/cli") bytes"
	rm -rf "$d"
}
case_begin
FRAG_RES=
if svc_add "$N1" frag4 --vip 198.18.100.30:9300/udp --type loadbalancer --backend "$P1V4:9300" &&
	svc_add "$N1" frag6 --vip "[fd00:18:100::30]:9300/udp" --type loadbalancer --backend "[$P1V6]:9300"; then
	frag_udp 4 198.18.100.30
	frag_udp 6 fd00:18:100::30
fi
np_capture --node "$N1" service del frag4 || case_note "service del frag4 failed (rc $NP_RC): $NP_ERR"
np_capture --node "$N1" service del frag6 || case_note "service del frag6 failed (rc $NP_RC): $NP_ERR"
case_end "fragmented UDP (3000 bytes over MTU 1500) through a VIP to a local backend and back, server/client got:$FRAG_RES"

# ---- 30c. a backend's "local" follows endpoint add / del ---------------------------------------------------------
# node1's pod2 stops being an endpoint (endpoint del: its nic0 goes); two services get its
# addresses as their only backend: loc4 (not local then) and loc6 with --etp local (so no
# backend in its table). Then `endpoint add --name pod2` with the same addresses: with no
# service command, both backends are local and loc6's table holds its backend. client1's
# requests (v4 and v6) are answered by node1-pod2, delivered locally: no lb_tx on node1 (a
# remote backend would be SNATed and sent back out). Then `endpoint del` again: not local,
# loc6's table empty; `endpoint add` restores the lab's pod2 for what follows.
# be_local NAME: the "local" of the service's first backend and its in_table, e.g. "true 1".
be_local() {
	np --node "$N1" service get "$1" --json 2>/dev/null |
		json_get - "'%s %s' % (str(d['backends'][0]['local']).lower(), d['in_table'])" 2>/dev/null || echo "? ?"
}
case_begin
np_capture --node "$N1" endpoint del --name pod2 || case_note "endpoint del pod2 on $N1 failed (rc $NP_RC): $NP_ERR"
svc_add "$N1" loc4 --vip 198.18.100.31:80/tcp --type loadbalancer --backend "$P2V4:8080"
svc_add "$N1" loc6 --vip "[fd00:18:100::31]:80/tcp" --type loadbalancer --etp local --backend "[$P2V6]:8080"
la=$(be_local loc4) lb=$(be_local loc6)
[ "$la" = "false 1" ] || case_note "loc4 before endpoint add: local/in_table '$la', expected 'false 1'"
[ "$lb" = "false 0" ] || case_note "loc6 (--etp local) before endpoint add: local/in_table '$lb', expected 'false 0'"
np_capture --node "$N1" endpoint add --netns "$P2" --ip "$P2V4,$P2V6" --name pod2 ||
	case_note "endpoint add pod2 on $N1 failed (rc $NP_RC): $NP_ERR"
lc=$(be_local loc4) ld=$(be_local loc6)
[ "$lc" = "true 1" ] || case_note "loc4 after endpoint add: local/in_table '$lc', expected 'true 1'"
[ "$ld" = "true 1" ] || case_note "loc6 after endpoint add: local/in_table '$ld', expected 'true 1'"
# The pod's httpd survived its interface going (it listens on the wildcard); if not, again.
in_ns "$P2" ss -Hltn 'sport = :8080' | grep -q . || httpd_start "$P2" "$A2" || case_note "httpd in $P2 does not listen"
lt0=$(stat0 "$N1" lb_tx)
burst_req "$C1" "$(url 4 198.18.100.31 80 /)" 10 "$A2"
burst_req "$C1" "$(url 6 fd00:18:100::31 80 /)" 10 "$A2"
lt1=$(stat0 "$N1" lb_tx)
[ "$lt1" = "$lt0" ] || case_note "lb_tx on $N1 grew by $((lt1 - lt0)): the backend was sent to as a remote one"
np_capture --node "$N1" endpoint del --name pod2 || case_note "endpoint del pod2 on $N1 failed (rc $NP_RC): $NP_ERR"
le=$(be_local loc4) lf=$(be_local loc6)
[ "$le" = "false 1" ] || case_note "loc4 after endpoint del: local/in_table '$le', expected 'false 1'"
[ "$lf" = "false 0" ] || case_note "loc6 after endpoint del: local/in_table '$lf', expected 'false 0'"
np_capture --node "$N1" endpoint add --netns "$P2" --ip "$P2V4,$P2V6" --name pod2 ||
	case_note "endpoint add pod2 on $N1 (restoring the lab) failed (rc $NP_RC): $NP_ERR"
np_capture --node "$N1" service del loc4 || case_note "service del loc4 failed (rc $NP_RC): $NP_ERR"
np_capture --node "$N1" service del loc6 || case_note "service del loc6 failed (rc $NP_RC): $NP_ERR"
case_end "backend local follows endpoints: pod2 removed, loc4/loc6 (etp local) added with it as backend: '$la'/'$lb' (local, in_table); endpoint add: '$lc'/'$ld'; 10+10 requests answered by $A2, node1 lb_tx +$((lt1 - lt0)); endpoint del: '$le'/'$lf'"

# ---- 31. deleting every service empties the service maps ------------------------------------------------------------
map_len() { bpftool map dump pinned "$PIN1/$1" -j 2>/dev/null | json_get - 'len(d)' 2>/dev/null || echo "?"; }
# np_backends is an array: its used entries are those with a family (first value byte)
be_len() { bpftool map dump pinned "$PIN1/np_backends" -j 2>/dev/null | json_get - "sum(1 for e in d if int(e['value'][0], 16))" 2>/dev/null || echo "?"; }
case_begin
names=$(np --node "$N1" service list --json 2>/dev/null | json_get - "' '.join(sorted(s['name'] for s in (d if isinstance(d, list) else d['services'])))" 2>/dev/null)
want="aff4 aff6 cip4 cip6 lb4 lb6 long4 long6 np4 np6 rm4 rm6 snat4 snat6 src4 src6 term4 term6"
[ "$names" = "$want" ] || case_note "service list names: '$names', expected '$want'"
ns0=$(map_len np_svc) nb0=$(be_len)
for s in $names; do
	np_capture --node "$N1" service del "$s" || case_note "service del $s failed (rc $NP_RC): $NP_ERR"
done
ns1=$(map_len np_svc) nb1=$(be_len) na1=$(map_len np_src_range)
[ "$ns1" = 0 ] || case_note "np_svc has $ns1 entries after deleting every service"
[ "$nb1" = 0 ] || case_note "np_backends has $nb1 entries after deleting every service"
[ "$na1" = 0 ] || case_note "np_src_range has $na1 entries after deleting every service"
np_capture --node "$N1" service del lb4
[ "$NP_RC" = 1 ] || case_note "deleting a missing service exited $NP_RC, expected 1"
t=$(http_burst "$C1" "$(url 4 198.18.100.10 80 /)" 1)
[ "$t" = "1 FAIL" ] || case_note "the deleted VIP 198.18.100.10:80 still answers: $t"
case_end "service del of all $(echo "$names" | wc -w) services: np_svc $ns0 -> $ns1, np_backends $nb0 -> $nb1, np_src_range -> $na1; a second del exits 1; the VIP is gone"

tap_done
