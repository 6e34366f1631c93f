#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Services survive a datapath restart, on the lab "tr" (1 client, 2 nodes, 2 pods each,
# veth endpoints). busybox httpd in node1's pods and node2's pod1 answers with the pod's
# name. node1 gets a v4 LoadBalancer with affinity, a source range and weights, a v6
# LoadBalancer with a backend in maintenance, v4 and v6 NodePorts and a v4 DSR service
# (node2 has it too, to decapsulate); the v6 NodePort is named np6.v6 (bpffs refuses dots,
# its record directory is np6_v6). Then `down` keeps their records (not their maps),
# `up` re-creates them: `service list --json` identical but for the packet and byte
# counters (ids, backends, weights, states, local flags, flags, source ranges, backends
# in the table all compared), every VIP answered again; `up` on a node that is up
# changes nothing; a record that no longer validates (252 backends, `up --maglev-size
# 251`) is named, skipped and kept for the next `up`, which restores it; an unreadable
# record is named and kept aside; `down --purge` forgets every service. Prints TAP.
set -u
. "$(dirname "$0")/lib.sh"

LAB="tr"
N1=tr-node1 N2=tr-node2 C1=tr-client1
P1=tr-node1-pod1 P2=tr-node1-pod2 Q1=tr-node2-pod1
P1V4=198.19.1.11 P2V4=198.19.1.12 Q1V4=198.19.2.11
P1V6=fd00:19:1::11 P2V6=fd00:19:1::12
N1V4=198.18.0.1 N1V6=fd00:18::1
A1=node1-pod1 A2=node1-pod2 AQ=node2-pod1
PIN1=/sys/fs/bpf/nodepath/$N1
UP1=(--dev uplink --pod-cidr "198.19.1.0/24,fd00:19:1::/64")

tap_plan 11

need_built "$NP_BIN"
need_tools curl /bin/busybox "$NP_PY"

flat() { printf "%s" "$1" | sed -z "s/\n/; /g"; }

# svc NODE ARGS...: `service ARGS` on NODE; a failure is recorded.
svc() {
	local n=$1
	shift
	np_capture --node "$n" service "$@" || case_note "service $* on $n failed (rc $NP_RC): $NP_ERR"
}

# burst_req FROM URL N WANT_NAMES: a failure unless all N fetches are answered and the
# answers are exactly WANT_NAMES (sorted, space-separated). The tally is in BURST.
BURST=
burst_req() {
	local from=$1 u=$2 n=$3 want=$4 ok names
	BURST=$(http_burst "$from" "$u" 2)
	[ "$(burst_ok "$BURST")" = 0 ] || BURST=$(http_burst "$from" "$u" "$n")
	ok=$(burst_ok "$BURST") names=$(burst_names "$BURST")
	[ "$ok" = "$n" ] || case_note "$from -> $u: $ok/$n answered ($(flat "$BURST"))"
	[ "$names" = "$want" ] || case_note "$from -> $u: answered by '$names', expected '$want'"
}

# vips_req WHEN: every VIP of node1 answered from client1 (one case's worth of checks).
vips_req() {
	local names ok
	BURST=$(http_burst "$C1" "http://198.18.100.10:80/" 10)
	ok=$(burst_ok "$BURST") names=$(burst_names "$BURST")
	[ "$ok" = 10 ] || case_note "$1: lb4 (affinity): $ok/10 answered ($(flat "$BURST"))"
	case "$names" in
	"$A1" | "$A2") ;;
	*) case_note "$1: lb4 (affinity) answered by '$names', expected one pod" ;;
	esac
	burst_req "$C1" "http://[fd00:18:100::10]:80/" 20 "$A1 $A2"
	burst_req "$C1" "http://$N1V4:30080/" 20 "$A1 $A2"
	burst_req "$C1" "http://[$N1V6]:30080/" 20 "$A1 $A2"
	burst_req "$C1" "http://198.18.100.25:8080/" 10 "$AQ"
}

# list_cmp A B: 0 when two `service list --json` documents are equal but for the
# counters (packets, bytes); otherwise prints the first difference.
list_cmp() {
	"$NP_PY" -c '
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
def strip(l):
    for s in l:
        s.pop("packets", None)
        s.pop("bytes", None)
    return l
a, b = strip(a), strip(b)
if a == b:
    sys.exit(0)
na, nb = [s["name"] for s in a], [s["name"] for s in b]
if na != nb:
    print("services %s, expected %s" % (nb, na))
    sys.exit(1)
for x, y in zip(a, b):
    for k in sorted(set(x) | set(y)):
        if x.get(k) != y.get(k):
            print("%s.%s: %s, expected %s" % (x["name"], k, json.dumps(y.get(k)), json.dumps(x.get(k))))
            sys.exit(1)
' "$1" "$2"
}

names_of() { np --node "$1" service list --json 2>/dev/null | json_get - '" ".join(sorted(s["name"] for s in d))'; }

# ---- 1. the lab, servers, services on node1 ------------------------------------------------
if ! e2e_lab_up "$LAB"; then
	# shellcheck disable=SC2034 # read by tap_done (lib.sh)
	TAP_ABORT="lab up --name $LAB failed (rc $NP_RC): $NP_ERR"
	tap_done
	exit 1
fi
E2E_NODES+=("$N1" "$N2")
case_begin
httpd_start "$P1" "$A1" || case_note "httpd in $P1 does not listen"
httpd_start "$P2" "$A2" || case_note "httpd in $P2 does not listen"
httpd_start "$Q1" "$AQ" || case_note "httpd in $Q1 does not listen"
svc "$N1" add lb4 --vip 198.18.100.10:80/tcp --type loadbalancer --affinity 60 \
	--source-range 198.18.0.0/24 --backend "$P1V4:8080" --backend "$P2V4:8080,weight=2"
svc "$N1" add lb6 --vip "[fd00:18:100::10]:80/tcp" --type loadbalancer \
	--backend "[$P1V6]:8080" --backend "[$P2V6]:8080" --backend "[fd00:19:1::99]:8080"
np_capture --node "$N1" backend set lb6 "[fd00:19:1::99]:8080" --state maintenance ||
	case_note "backend set lb6 --state maintenance failed (rc $NP_RC): $NP_ERR"
svc "$N1" add np4 --vip 0.0.0.0:30080/tcp --type nodeport --etp cluster \
	--backend "$P1V4:8080" --backend "$P2V4:8080"
svc "$N1" add np6.v6 --vip "[::]:30080/tcp" --type nodeport --algo random \
	--backend "[$P1V6]:8080" --backend "[$P2V6]:8080"
# a gap in the ids: restored services keep theirs
svc "$N1" add gap --vip 198.18.100.30:80/tcp --type loadbalancer --backend "$P1V4:8080"
svc "$N2" add dsr4 --vip 198.18.100.25:8080/tcp --type loadbalancer --mode dsr --backend "$Q1V4:8080"
svc "$N1" add dsr4 --vip 198.18.100.25:8080/tcp --type loadbalancer --mode dsr --backend "$Q1V4:8080"
svc "$N1" del gap
vips_req "before down"
np --node "$N1" service list --json >"$E2E_TMP/before.json" 2>"$E2E_TMP/before.err" ||
	case_note "service list --json failed: $(cat "$E2E_TMP/before.err")"
case_end "node1: 5 services (v4 LB with affinity, v6 LB with a backend in maintenance, v4 and v6 NodePort, v4 DSR) answered from client1"

# ---- 2. down keeps the records -----------------------------------------------------------
case_begin
np_capture --node "$N1" down || case_note "down failed (rc $NP_RC): $NP_ERR"
printf '%s' "$NP_OUT" | grep -q "5 services kept as records" || case_note "down does not say it keeps 5 services: $(flat "$NP_OUT")"
for s in lb4 lb6 np4 np6_v6 dsr4; do
	[ -L "$PIN1/svc/$s/meta" ] || case_note "no record $PIN1/svc/$s/meta after down"
done
[ -e "$PIN1/np_svc" ] && case_note "np_svc is still pinned after down"
st=$(np --node "$N1" status --json 2>/dev/null | json_get - '[d["up"], d["services"]]')
[ "$st" = "[false, 5]" ] || case_note "status --json after down: [up, services] = $st, expected [false, 5]"
t=$(http_burst "$C1" "http://198.18.100.10:80/" 1)
[ "$(burst_ok "$t")" = 0 ] || case_note "lb4 answered while node1 is down: $t"
case_end "down: maps unpinned, the 5 service records kept (status: 5 services), the VIP unanswered"

# ---- 3. up restores them -------------------------------------------------------------------
case_begin
np_capture --node "$N1" up "${UP1[@]}" || case_note "up failed (rc $NP_RC): $NP_ERR"
printf '%s' "$NP_OUT" | grep -q "restored 5 services" || case_note "up does not say it restored 5 services: $(flat "$NP_OUT")"
[ -z "$NP_ERR" ] || case_note "up printed on stderr: $(flat "$NP_ERR")"
np --node "$N1" service list --json >"$E2E_TMP/after.json" 2>&1
d=$(list_cmp "$E2E_TMP/before.json" "$E2E_TMP/after.json") || case_note "service list --json differs: $d"
ids=$(json_get "$E2E_TMP/after.json" '" ".join("%s=%d" % (s["name"], s["id"]) for s in d)')
case_end "up: restored 5 services; service list --json identical but for packets/bytes (ids, backends, weights, states, local, flags, in_table): $ids"

# ---- 4. traffic through every VIP again ---------------------------------------------------------
case_begin
vips_req "after up"
case_end "after down/up: every VIP answered again (lb4 on one pod by affinity, lb6, NodePort v4 and v6 by both pods, DSR by $AQ)"

# ---- 5. up on a node that is up changes nothing ---------------------------------------------------
case_begin
np_capture --node "$N1" up "${UP1[@]}" || case_note "up again failed (rc $NP_RC): $NP_ERR"
printf '%s' "$NP_OUT" | grep -q "already up" || case_note "up again does not say already up: $(flat "$NP_OUT")"
np --node "$N1" service list --json >"$E2E_TMP/again.json" 2>&1
d=$(list_cmp "$E2E_TMP/before.json" "$E2E_TMP/again.json") || case_note "service list --json differs: $d"
case_end "up on a node that is up: nothing changes, the services stay"

# ---- 6. a record that no longer validates is skipped and kept ------------------------------------------
case_begin
be=()
for ((i = 1; i <= 252; i++)); do
	be+=(--backend "$Q1V4:$i")
done
svc "$N1" add big --vip 198.18.100.24:80/tcp --type loadbalancer "${be[@]}"
np_capture --node "$N1" down || case_note "down failed (rc $NP_RC): $NP_ERR"
np_capture --node "$N1" up "${UP1[@]}" --maglev-size 251 || case_note "up --maglev-size 251 failed (rc $NP_RC): $NP_ERR"
msg=$(printf '%s' "$NP_ERR" | grep big | head -1)
printf '%s' "$msg" | grep -q "251" || case_note "up does not name big and the table size 251 on stderr: $(flat "$NP_ERR")"
printf '%s' "$NP_OUT" | grep -q "restored 5 services" || case_note "up does not say it restored 5 services: $(flat "$NP_OUT")"
printf '%s' "$NP_OUT" | grep -q "1 service record not restored" || case_note "up does not say 1 record was not restored: $(flat "$NP_OUT")"
n=$(names_of "$N1")
[ "$n" = "dsr4 lb4 lb6 np4 np6.v6" ] || case_note "services after up --maglev-size 251: '$n', expected 'dsr4 lb4 lb6 np4 np6.v6'"
[ -L "$PIN1/svc-pending/big/meta" ] || case_note "the record of big is not kept in $PIN1/svc-pending"
burst_req "$C1" "http://[fd00:18:100::10]:80/" 10 "$A1 $A2"
case_end "a record that no longer validates (252 backends, up --maglev-size 251) skipped and kept; the other 5 restored and answered: '$msg'"

# ---- 7. the next up restores it -------------------------------------------------------------------------
case_begin
np_capture --node "$N1" down || case_note "down failed (rc $NP_RC): $NP_ERR"
printf '%s' "$NP_OUT" | grep -q "6 services kept" || case_note "down does not count the kept record of big: $(flat "$NP_OUT")"
np_capture --node "$N1" up "${UP1[@]}" || case_note "up failed (rc $NP_RC): $NP_ERR"
printf '%s' "$NP_OUT" | grep -q "restored 6 services" || case_note "up does not say it restored 6 services: $(flat "$NP_OUT")"
n=$(names_of "$N1")
[ "$n" = "big dsr4 lb4 lb6 np4 np6.v6" ] || case_note "services: '$n', expected 'big dsr4 lb4 lb6 np4 np6.v6'"
c=$(np --node "$N1" service get big --json 2>/dev/null | json_get - 'len(d["backends"])')
[ "$c" = 252 ] || case_note "big has $c backends, expected 252"
[ -e "$PIN1/svc-pending" ] && case_note "$PIN1/svc-pending is still there"
svc "$N1" del big
case_end "up with the default table restores the kept record (252 backends)"

# ---- 8. an unreadable record is named and kept aside ---------------------------------------------------------
case_begin
svc "$N1" add bad --vip 198.18.100.40:80/tcp --type loadbalancer --backend "$P1V4:8080"
m=$(readlink "$PIN1/svc/bad/meta")
rm -f "$PIN1/svc/bad/meta" && ln -s "${m/198.18.100.40/198.18.100.400}" "$PIN1/svc/bad/meta" ||
	case_note "could not rewrite the record of bad"
np_capture --node "$N1" down || case_note "down failed (rc $NP_RC): $NP_ERR"
np_capture --node "$N1" up "${UP1[@]}" || case_note "up failed (rc $NP_RC): $NP_ERR"
msg=$(printf '%s' "$NP_ERR" | grep bad | head -1)
printf '%s' "$msg" | grep -q "198.18.100.400" || case_note "up does not name the bad VIP: $(flat "$NP_ERR")"
n=$(names_of "$N1")
[ "$n" = "dsr4 lb4 lb6 np4 np6.v6" ] || case_note "services: '$n', expected 'dsr4 lb4 lb6 np4 np6.v6'"
[ -L "$PIN1/svc-pending/bad/meta" ] || case_note "the record of bad is not kept in $PIN1/svc-pending"
case_end "an unreadable record is named and kept aside, the others restored: '$msg'"

# ---- 9. traffic after the restarts --------------------------------------------------------------------------------
case_begin
vips_req "after 3 restarts"
np --node "$N1" service list --json >"$E2E_TMP/last.json" 2>&1
d=$(list_cmp "$E2E_TMP/before.json" "$E2E_TMP/last.json") || case_note "service list --json differs: $d"
case_end "after 3 restarts: service list --json as configured, every VIP answered"

# ---- 10. down --purge forgets them ------------------------------------------------------------------------------
case_begin
np_capture --node "$N1" down --purge || case_note "down --purge failed (rc $NP_RC): $NP_ERR"
printf '%s' "$NP_OUT" | grep -q "6 services forgotten" || case_note "down --purge does not say it forgot 6 services (5 + bad): $(flat "$NP_OUT")"
[ -e "$PIN1/svc" ] && case_note "$PIN1/svc is still there"
[ -e "$PIN1/svc-pending" ] && case_note "$PIN1/svc-pending is still there"
np_capture --node "$N1" up "${UP1[@]}" || case_note "up failed (rc $NP_RC): $NP_ERR"
printf '%s' "$NP_OUT" | grep -q "restored" && case_note "up after down --purge restored something: $(flat "$NP_OUT")"
n=$(names_of "$N1")
[ -z "$n" ] || case_note "services after down --purge and up: '$n'"
case_end "down --purge forgets every service (live and kept aside); up restores none"

# ---- 11. bad input ------------------------------------------------------------------------------------------------
case_begin
np_capture --node "$N1" down --purge now
[ "$NP_RC" = 2 ] || case_note "down --purge now: exit $NP_RC, expected 2"
np_capture --node "$N1" down --bogus
[ "$NP_RC" = 2 ] || case_note "down --bogus: exit $NP_RC, expected 2"
st=$(np --node "$N1" status --json 2>/dev/null | json_get - 'd["up"]')
[ "$st" = true ] || case_note "node1 is not up after refused downs: $st"
case_end "down with an argument or an unknown option: exit 2, the node stays up"

tap_done
