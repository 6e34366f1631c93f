#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Service programming on lab "cp" (1 node, 2 pods): every service owns two Maglev tables,
# np_maglev[2 * id] and [2 * id + 1]; a change is written into the one that is not live
# and np_svc's NP_SVC_F_TABLE1 flips, so after an update the live table is the new one and
# the other still holds the old one. A service's delete removes both. Many services at
# once (np_svc_add_many, through build/bench/np_ctlplane) come with both tables each, and
# `up` restores them all (the bulk path too). No timing is asserted.
. "$(dirname "$0")/lib.sh"

LAB=cp
N1=cp-node1
PIN1=/sys/fs/bpf/nodepath/$N1
UP1=(--dev uplink --xdp-mode off --maglev-size 251 --pod-cidr "198.19.1.0/24,fd00:19:1::/64")
NP_CTL=${NP_CTL:-$NP_TOP/build/bench/np_ctlplane}
TABLE1=$((1 << 31))

tap_plan 6

need_built "$NP_BIN" "$NP_CTL"
need_tools bpftool "$NP_PY"

# svc_flags ID: np_svc flags of the service with id ID (empty when there is none).
svc_flags() {
	bpftool map dump pinned "$PIN1/np_svc" -j 2>/dev/null |
		json_get - "[e['formatted']['value']['flags'] for e in d if e['formatted']['value']['id'] == $1][0] if any(e['formatted']['value']['id'] == $1 for e in d) else ''"
}

# table SLOT: "ids=I,J... sig=S" of the table np_maglev[SLOT] (its distinct backend ids
# and a signature of all its slots), or "none".
table() {
	local s=$1 id
	id=$(bpftool map lookup pinned "$PIN1/np_maglev" key $((s & 255)) $(((s >> 8) & 255)) \
		$(((s >> 16) & 255)) 0 -j 2>/dev/null | json_get - 'd.get("inner_map_id", "") if isinstance(d, dict) else ""') || id=
	[ -n "$id" ] || {
		echo none
		return
	}
	bpftool map dump id "$id" -j | json_get - '
"ids=%s sig=%d" % (",".join(str(x) for x in sorted(set(int.from_bytes(bytes(int(b, 16) for b in e["value"]), "little") for e in d))),
 sum((i + 1) * int.from_bytes(bytes(int(b, 16) for b in e["value"]), "little") for i, e in enumerate(sorted(d, key=lambda e: int.from_bytes(bytes(int(b, 16) for b in e["key"]), "little")))) % 1000000007)'
}

# be_id ADDR: the backend id of ADDR in service s1.
be_id() {
	"$NP_BIN" --node "$N1" service get s1 --json |
		json_get - "[b['id'] for b in d['backends'] if b['addr'] == '$1'][0]"
}

if ! e2e_lab_up "$LAB" --nodes 1 --pods 2 --clients 1; then
	TAP_ABORT="lab $LAB up failed: $NP_ERR"
	tap_done
	exit 1
fi
"$NP_BIN" --node "$N1" down >/dev/null 2>&1
e2e_node_up "$N1" "${UP1[@]}" || {
	TAP_ABORT="up on $N1 failed: $NP_ERR"
	tap_done
	exit 1
}

# 1. a new service: table 0 live with its backend, table 1 there and empty
case_begin
np_capture --node "$N1" service add s1 --vip 198.18.100.50:80/tcp --backend 198.19.1.11:8080 ||
	case_note "service add s1 failed (rc $NP_RC): $NP_ERR"
ID=$("$NP_BIN" --node "$N1" service get s1 --json | json_get - 'd["id"]')
B1=$(be_id 198.19.1.11:8080)
F=$(svc_flags "$ID")
T0=$(table $((2 * ID))) T1=$(table $((2 * ID + 1)))
[ -n "$F" ] && [ $((F & TABLE1)) = 0 ] || case_note "np_svc flags $F: table 1 is live, expected table 0"
case "$T0" in "ids=$B1 "*) ;; *) case_note "np_maglev[$((2 * ID))]: $T0, expected ids=$B1" ;; esac
case "$T1" in "ids=0 "*) ;; *) case_note "np_maglev[$((2 * ID + 1))]: $T1, expected all 0" ;; esac
case_end "service add: np_maglev[2*id] live with backend $B1, np_maglev[2*id+1] empty ($T0 / $T1)"

# 2. an update: the new table in table 1, live; table 0 keeps the old one
case_begin
OLD0=$T0
np_capture --node "$N1" backend add s1 198.19.1.12:8080 || case_note "backend add failed: $NP_ERR"
B2=$(be_id 198.19.1.12:8080)
F=$(svc_flags "$ID")
T0=$(table $((2 * ID))) T1=$(table $((2 * ID + 1)))
[ -n "$F" ] && [ $((F & TABLE1)) != 0 ] || case_note "np_svc flags $F: table 1 is not live"
[ "$T0" = "$OLD0" ] || case_note "np_maglev[$((2 * ID))] changed: $OLD0 -> $T0 (must keep the old table)"
want=$(printf '%s\n' "$B1" "$B2" | sort -n | tr '\n' ',' | sed 's/,$//')
case "$T1" in "ids=$want "*) ;; *) case_note "np_maglev[$((2 * ID + 1))]: $T1, expected ids=$want" ;; esac
case_end "backend add: table 1 live with $want, table 0 still the old table"

# 3. the next update goes back into table 0; table 1 keeps what was live
case_begin
OLD1=$T1
np_capture --node "$N1" backend del s1 198.19.1.11:8080 || case_note "backend del failed: $NP_ERR"
F=$(svc_flags "$ID")
T0=$(table $((2 * ID))) T1=$(table $((2 * ID + 1)))
[ -n "$F" ] && [ $((F & TABLE1)) = 0 ] || case_note "np_svc flags $F: table 0 is not live"
[ "$T1" = "$OLD1" ] || case_note "np_maglev[$((2 * ID + 1))] changed: $OLD1 -> $T1"
case "$T0" in "ids=$B2 "*) ;; *) case_note "np_maglev[$((2 * ID))]: $T0, expected ids=$B2" ;; esac
case_end "backend del: table 0 live with $B2 alone, table 1 still the previous table"

# 4. delete: both tables go
case_begin
np_capture --node "$N1" service del s1 || case_note "service del failed: $NP_ERR"
T0=$(table $((2 * ID))) T1=$(table $((2 * ID + 1)))
[ "$T0" = none ] && [ "$T1" = none ] || case_note "after service del: $T0 / $T1"
case_end "service del: np_maglev[2*id] and [2*id+1] removed"

# 5. many at once: 300 services x 3 backends, two tables each, markers once per address; 20 updates
case_begin
OUT=$("$NP_CTL" services --node "$N1" --count 300 --backends 3 --updates 20 2>&1) ||
	case_note "np_ctlplane services failed: $OUT"
tap_diag "$(printf '%s\n' "$OUT" | tr '\n' ' ')"
n=$("$NP_BIN" --node "$N1" service list --json | json_get - 'len(d)')
[ "$n" = 300 ] || case_note "service list: $n services, expected 300"
m=$(map_count "$PIN1/np_maglev")
[ "$m" = 600 ] || case_note "np_maglev holds $m tables, expected 600"
# 300 services on 250 VIP addresses (198.18.100.1..250): 300 entries and 250 VIP markers
k=$(map_count "$PIN1/np_svc")
[ "$k" = 550 ] || case_note "np_svc holds $k entries, expected 300 services + 250 VIP markers"
case_end "np_svc_add_many: 300 services listed, 600 tables, $k np_svc entries, 20 updates ($n / $m)"

# 6. down keeps the records, up restores all of them in one go with their ids
case_begin
before=$("$NP_BIN" --node "$N1" service list --json | json_get - '" ".join(str(s["id"]) for s in d)')
"$NP_BIN" --node "$N1" down >/dev/null 2>&1 || case_note "down failed"
np_capture --node "$N1" up "${UP1[@]}" || case_note "up failed (rc $NP_RC): $NP_ERR"
after=$("$NP_BIN" --node "$N1" service list --json | json_get - '" ".join(str(s["id"]) for s in d)')
[ "$before" = "$after" ] || case_note "service ids changed across down/up"
m=$(map_count "$PIN1/np_maglev")
[ "$m" = 600 ] || case_note "after up: np_maglev holds $m tables, expected 600"
n=$("$NP_BIN" --node "$N1" service list --json | json_get - 'len(d)')
case_end "down/up: $n services restored with their ids, $m tables"

"$NP_BIN" --node "$N1" down --purge >/dev/null 2>&1
tap_done
