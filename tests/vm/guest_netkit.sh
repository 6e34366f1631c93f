#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vm tier, runs inside the guest (scripts/vm.sh): the guest kernel has netkit.
# netkit pairs in l3 and l2 mode between two fresh namespaces, pinged across on
# IPv4 and IPv6; veth with a clsact qdisc (the modules the initrd loads); and
# `nodepath doctor` saying netkit is supported. Namespaces: npvm-*.
set -u
NP_TOP=${NP_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$NP_TOP/tests/e2e/lib.sh"

if [ -z "${NP_VM_GUEST:-}" ]; then
	echo "1..0 # SKIP runs inside the guest: scripts/vm.sh tests/vm/guest_netkit.sh"
	exit 0
fi

NS=(npvm-a npvm-b npvm-c npvm-d npvm-e npvm-f)
cleanup() {
	local ns
	for ns in "${NS[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$E2E_TMP"
}
trap cleanup EXIT

if command -v ping >/dev/null; then
	PING=(ping)
else
	PING=(busybox ping)
fi

# ping_ok NS ADDR: one echo answered within 2 s.
ping_ok() {
	in_ns "$1" "${PING[@]}" -c 1 -W 2 "$2" >/dev/null 2>&1
}

# pair_up NS1 NS2 ARGS...: `ip link add nk0 type netkit ARGS peer name nk1` in NS1,
# nk1 moved to NS2, addresses 198.18.200.1-2/24 and fd00:200::1-2/64 on nk0/nk1.
pair_up() {
	local a=$1 b=$2
	shift 2
	ip netns add "$a" && ip netns add "$b" &&
		in_ns "$a" ip link set lo up && in_ns "$b" ip link set lo up &&
		in_ns "$a" ip link add nk0 type netkit "$@" peer name nk1 &&
		in_ns "$a" ip link set nk1 netns "$b" &&
		in_ns "$a" ip addr add 198.18.200.1/24 dev nk0 &&
		in_ns "$a" ip addr add fd00:200::1/64 dev nk0 nodad &&
		in_ns "$b" ip addr add 198.18.200.2/24 dev nk1 &&
		in_ns "$b" ip addr add fd00:200::2/64 dev nk1 nodad &&
		in_ns "$a" ip link set nk0 up && in_ns "$b" ip link set nk1 up
}

# netkit_case MODE NS1 NS2: a pair in MODE, its mode as ip shows it, pings both ways.
netkit_case() {
	local mode=$1 a=$2 b=$3 det
	case_begin
	if ! pair_up "$a" "$b" mode "$mode" 2>"$E2E_TMP/err"; then
		tap_fail "netkit $mode: pair nk0/nk1 between $a and $b" "$(cat "$E2E_TMP/err")"
		tap_skip "netkit $mode: IPv4 ping across the pair" "no pair"
		tap_skip "netkit $mode: IPv6 ping across the pair" "no pair"
		return
	fi
	det=$(in_ns "$a" ip -d link show nk0)
	echo "$det" | grep -q "netkit mode $mode" ||
		case_note "ip -d link does not say 'netkit mode $mode': $det"
	case_end "netkit $mode: pair nk0/nk1 between $a and $b"
	case_begin
	case_req "no answer from 198.18.200.2" ping_ok "$a" 198.18.200.2
	case_req "no answer from 198.18.200.1" ping_ok "$b" 198.18.200.1
	case_end "netkit $mode: IPv4 ping across the pair, both ways"
	case_begin
	case_req "no answer from fd00:200::2" ping_ok "$a" fd00:200::2
	case_req "no answer from fd00:200::1" ping_ok "$b" fd00:200::1
	case_end "netkit $mode: IPv6 ping across the pair, both ways"
}

tap_plan 8
echo "# guest kernel $(uname -r); ping: ${PING[*]}"

netkit_case l3 npvm-a npvm-b
netkit_case l2 npvm-c npvm-d

# veth + clsact: veth.ko and sch_ingress.ko from the initrd are usable
case_begin
ip netns add npvm-e && ip netns add npvm-f ||
	case_note "ip netns add npvm-e/npvm-f failed"
in_ns npvm-e ip link add v0 type veth peer name v1 netns npvm-f 2>"$E2E_TMP/err" ||
	case_note "veth: $(cat "$E2E_TMP/err")"
in_ns npvm-e tc qdisc add dev v0 clsact 2>"$E2E_TMP/err" ||
	case_note "clsact: $(cat "$E2E_TMP/err")"
in_ns npvm-e ip addr add 198.18.201.1/24 dev v0 && in_ns npvm-e ip link set v0 up &&
	in_ns npvm-f ip addr add 198.18.201.2/24 dev v1 && in_ns npvm-f ip link set v1 up ||
	case_note "veth addresses"
case_req "no answer over veth from 198.18.201.2" ping_ok npvm-e 198.18.201.2
case_end "veth pair with a clsact qdisc, pinged across"

# nodepath doctor, in the guest, on the guest's kernel
if [ ! -x "$NP_BIN" ]; then
	tap_skip "nodepath doctor reports netkit supported" "$NP_BIN is not built (make build/nodepath)"
else
	out=$("$NP_BIN" doctor 2>&1)
	if echo "$out" | grep -qE '^netkit[[:space:]]+yes'; then
		tap_ok "nodepath doctor reports netkit supported"
	else
		tap_fail "nodepath doctor reports netkit supported" "$out"
	fi
fi
tap_done
