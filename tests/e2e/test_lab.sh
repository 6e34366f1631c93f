#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The lab itself on the lab "tl" (2 clients, 2 nodes, 2 pods each): every
# namespace exists, clients reach node uplinks and pods, pods reach each other
# on one node and across nodes (IPv4 and IPv6), `lab status --json` tells the
# truth, a second `up` and bad options are refused and change nothing, `down`
# removes everything and is idempotent, and the root namespace is untouched.
# Prints TAP.
set -u
. "$(dirname "$0")/lib.sh"

LAB=tl

tap_plan 25

need_tools ip ping "$NP_PY"
need_built "$NP_BIN"

# What the root namespace looks like before; compared at the end.
root_snapshot() {
	ip -o link show | sed 's/ qlen [0-9]*//'
	ip -4 route show table all
	ip -6 route show table all
}
root_snapshot >"$E2E_TMP/root.before"

# The cleanup trap (lib.sh) always runs `lab down --name tl`.
E2E_LAB=$LAB
e2e_trap
# Leftovers of an earlier, killed run would make `up` fail for the wrong reason.
np lab down --name $LAB >/dev/null 2>&1

lab_ns() { ip netns list | awk '{print $1}' | grep -E "^$LAB-" | sort; }
EXPECT_NS=$(printf '%s\n' $LAB-fabric $LAB-client1 $LAB-client2 $LAB-node1 $LAB-node2 \
	$LAB-node1-pod1 $LAB-node1-pod2 $LAB-node2-pod1 $LAB-node2-pod2 | sort)

# 1
if np_capture lab up --name $LAB --clients 2; then
	tap_ok "lab up --name $LAB --clients 2"
	tap_diag "$(echo "$NP_OUT" | tail -2)"
else
	TAP_ABORT="lab up failed (rc $NP_RC): $NP_ERR"
	tap_fail "lab up --name $LAB --clients 2" "rc $NP_RC" "$NP_ERR"
	tap_done
	exit 1
fi

# 2
got=$(lab_ns)
if [ "$got" = "$EXPECT_NS" ]; then
	tap_ok "all 9 namespaces exist"
else
	tap_fail "all 9 namespaces exist" "expected: $(echo $EXPECT_NS)" "got: $(echo $got)"
fi

# ping_case DESC FROM DST...: one TAP line, ok when every DST answers.
ping_case() {
	local d=$1 from=$2 dst
	shift 2
	case_begin
	for dst in "$@"; do
		case_req "$from -> $dst: no answer" in_ns "$from" ping -c1 -W2 "$dst" >/dev/null 2>&1
	done
	case_end "$d"
}

# 3..12
ping_case "client1 -> node1 uplink (IPv4)" $LAB-client1 198.18.0.1
ping_case "client1 -> node1 uplink (IPv6)" $LAB-client1 fd00:18::1
ping_case "client1 -> pods on node1 (IPv4)" $LAB-client1 198.19.1.11 198.19.1.12
ping_case "client1 -> pods on node1 (IPv6)" $LAB-client1 fd00:19:1::11 fd00:19:1::12
ping_case "client1 -> pods on node2 via node1 (IPv4)" $LAB-client1 198.19.2.11 198.19.2.12
ping_case "client1 -> pods on node2 via node1 (IPv6)" $LAB-client1 fd00:19:2::11 fd00:19:2::12
ping_case "client2 -> node2 uplink and a pod on node2 (IPv4, IPv6)" $LAB-client2 \
	198.18.0.2 fd00:18::2 198.19.2.11 fd00:19:2::11
ping_case "pod to pod on one node (IPv4, IPv6)" $LAB-node1-pod1 198.19.1.12 fd00:19:1::12
ping_case "pod to pod across nodes (IPv4, IPv6)" $LAB-node1-pod1 198.19.2.12 fd00:19:2::12
ping_case "pod -> client (IPv4, IPv6)" $LAB-node2-pod2 198.18.0.101 fd00:18::101

# 13: node forwarding and the pod routes are what the brief says
case_begin
case_req "node1 ip_forward != 1" test "$(in_ns $LAB-node1 cat /proc/sys/net/ipv4/ip_forward)" = 1
case_req "node1 ipv6 forwarding != 1" \
	test "$(in_ns $LAB-node1 cat /proc/sys/net/ipv6/conf/all/forwarding)" = 1
case_req "pod1 default route is not via 198.19.1.1 dev nic0" \
	sh -c "ip -n $LAB-node1-pod1 -4 route show default | grep -q 'via 198.19.1.1 dev nic0'"
case_req "pod1 IPv6 default route is not via fd00:19:1::1 dev nic0" \
	sh -c "ip -n $LAB-node1-pod1 -6 route show default | grep -q 'via fd00:19:1::1 dev nic0'"
case_req "pod addresses are tentative (DAD ran)" \
	sh -c "! ip -n $LAB-node1-pod1 -6 addr show dev nic0 | grep -q tentative"
case_req "node1 has no route to node2's pods via 198.18.0.2" \
	sh -c "ip -n $LAB-node1 -4 route show 198.19.2.0/24 | grep -q 'via 198.18.0.2 dev uplink'"
case_end "forwarding sysctls and routes in nodes and pods"

# 14: status --json
if np_capture lab status --name $LAB --json; then
	echo "$NP_OUT" >"$E2E_TMP/status.json"
	chk=$(json_get "$E2E_TMP/status.json" '[
 d["name"] == "tl",
 [c["name"] for c in d["clients"]] == ["client1", "client2"],
 d["clients"][0] == dict(d["clients"][0], netns="tl-client1", ipv4="198.18.0.101", ipv6="fd00:18::101"),
 d["clients"][1]["ipv4"] == "198.18.0.102" and d["clients"][1]["ipv6"] == "fd00:18::102",
 [n["netns"] for n in d["nodes"]] == ["tl-node1", "tl-node2"],
 d["nodes"][0] == dict(d["nodes"][0], name="node1", uplink="uplink", ipv4="198.18.0.1", ipv6="fd00:18::1"),
 d["nodes"][1]["ipv4"] == "198.18.0.2" and d["nodes"][1]["ipv6"] == "fd00:18::2",
 [len(n["pods"]) for n in d["nodes"]] == [2, 2],
 d["nodes"][0]["pods"][0] == dict(d["nodes"][0]["pods"][0], name="pod1", netns="tl-node1-pod1", ipv4="198.19.1.11", ipv6="fd00:19:1::11"),
 d["nodes"][1]["pods"][1] == dict(d["nodes"][1]["pods"][1], name="pod2", netns="tl-node2-pod2", ipv4="198.19.2.12", ipv6="fd00:19:2::12"),
 d.get("healthy") is True]')
	if [ "$chk" = "[true, true, true, true, true, true, true, true, true, true, true]" ]; then
		tap_ok "lab status --json has the expected fields and values"
	else
		tap_fail "lab status --json has the expected fields and values" "checks: $chk"
	fi
else
	tap_fail "lab status --json has the expected fields and values" "rc $NP_RC: $NP_ERR"
fi

# 15: text status
if np_capture lab status --name $LAB && echo "$NP_OUT" | grep -q "$LAB-node2-pod2 .*198.19.2.12"; then
	tap_ok "lab status prints a table"
else
	tap_fail "lab status prints a table" "rc $NP_RC" "$NP_OUT" "$NP_ERR"
fi

# 16: a second up is refused and changes nothing
before=$(lab_ns; md5sum /run/nodepath/labs/$LAB.json; ip -n $LAB-node1 -o addr; ip -n $LAB-fabric -o link)
np_capture lab up --name $LAB --clients 2
after=$(lab_ns; md5sum /run/nodepath/labs/$LAB.json; ip -n $LAB-node1 -o addr; ip -n $LAB-fabric -o link)
if [ "$NP_RC" -eq 1 ] && echo "$NP_ERR" | grep -q "lab \"$LAB\" exists" && [ "$before" = "$after" ]; then
	tap_ok "lab up on an existing lab: exit 1, nothing changed"
else
	tap_fail "lab up on an existing lab: exit 1, nothing changed" "rc $NP_RC: $NP_ERR"
fi

# 17..20: bad arguments are usage errors (exit 2) and create nothing
bad_case() {
	local d=$1
	shift
	np_capture lab "$@"
	if [ "$NP_RC" -eq 2 ] && [ -n "$NP_ERR" ] && [ -z "$(ip netns list | grep -E '^(bad|np9)-')" ] &&
		[ "$(lab_ns)" = "$EXPECT_NS" ]; then
		tap_ok "$d: exit 2"
	else
		tap_fail "$d: exit 2" "rc $NP_RC: $NP_ERR"
	fi
}
bad_case "lab up --nodes 0" up --name bad --nodes 0
bad_case "lab up --nodes 10" up --name bad --nodes 10
bad_case "lab up --name 'BAD!'" up --name 'BAD!'
bad_case "lab up --bogus (unknown option)" up --name bad --bogus
for a in "--pods 51" "--clients 10" "--clients 0" "--nodes 1x" "--nodes -1" "--name toolong12"; do
	# shellcheck disable=SC2086
	np_capture lab up $a
	[ "$NP_RC" -eq 2 ] || tap_diag "lab up $a: rc $NP_RC (expected 2): $NP_ERR"
done

# 21: down removes every namespace
if np_capture lab down --name $LAB && [ -z "$(lab_ns)" ] && [ ! -e /run/nodepath/labs/$LAB.json ]; then
	tap_ok "lab down removes every namespace and the state file"
	tap_diag "$NP_OUT"
else
	tap_fail "lab down removes every namespace and the state file" "rc $NP_RC: $NP_ERR" \
		"left: $(echo $(lab_ns))"
fi

# 22: down again is a no-op
if np_capture lab down --name $LAB && echo "$NP_OUT" | grep -q "no lab \"$LAB\""; then
	tap_ok "lab down again: exit 0, \"no lab\""
else
	tap_fail "lab down again: exit 0, \"no lab\"" "rc $NP_RC: $NP_OUT $NP_ERR"
fi

# 23: the remains of a half-failed up block `up` and are swept by `down`
ip netns add $LAB-node1-pod7
np_capture lab up --name $LAB
rc_up=$NP_RC
np_capture lab down --name $LAB
if [ "$rc_up" -eq 1 ] && [ "$NP_RC" -eq 0 ] && [ -z "$(lab_ns)" ]; then
	tap_ok "a stray $LAB-node1-pod7 blocks up (exit 1) and down removes it"
else
	tap_fail "a stray $LAB-node1-pod7 blocks up (exit 1) and down removes it" \
		"up rc $rc_up, down rc $NP_RC" "left: $(echo $(lab_ns))"
	ip netns del $LAB-node1-pod7 2>/dev/null
fi

# 24: a failure late in `up` (the state file cannot be written: a directory
# sits where its temporary file goes) removes everything up had created
mkdir -p /run/nodepath/labs/$LAB.json.tmp
np_capture lab up --name $LAB
rmdir /run/nodepath/labs/$LAB.json.tmp
if [ "$NP_RC" -eq 1 ] && [ -z "$(lab_ns)" ] && echo "$NP_ERR" | grep -q "removed the 8 namespaces"; then
	tap_ok "a failed up removes what it created"
else
	tap_fail "a failed up removes what it created" "rc $NP_RC: $NP_ERR" "left: $(echo $(lab_ns))"
	np lab down --name $LAB >/dev/null 2>&1
fi

# 25: the root namespace is untouched
root_snapshot >"$E2E_TMP/root.after"
if diff -u "$E2E_TMP/root.before" "$E2E_TMP/root.after" >"$E2E_TMP/root.diff"; then
	tap_ok "root namespace links and routes unchanged"
else
	tap_fail "root namespace links and routes unchanged" "$(cat "$E2E_TMP/root.diff")"
fi

tap_done
