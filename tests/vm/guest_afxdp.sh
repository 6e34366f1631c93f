#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vm tier, runs inside the guest (scripts/vm.sh): the AF_XDP pool and netkit endpoints.
#
# Measured on this guest kernel: a copy-mode AF_XDP socket binds to a netkit primary and
# the kernel sends and completes its frames, but netkit hands them to the pod with no
# skb->protocol and the pod's stack drops every one. nodepath's netkit primary hook gives
# such frames their protocol back (include/nodepath/bpf/xsk_nk.h), so the pool serves
# netkit endpoints too; where the kernel refuses the socket, the worker says so once and
# marks the endpoint, and XDP leaves it to the kernel path. In the lab "vx" (1 node,
# pod1 on netkit l3, ex2 on netkit l2):
#  1. an --afxdp UDP service to pod1; no agent: datagrams arrive intact (kernel path);
#  2. the kernel: np_xsk_probe (copy mode, tx only, UMEM shared with an rx socket on the
#     uplink, as the worker sends) into a bare netkit pair: the pod drops the frames (for
#     the record; not a failure if a kernel delivers them); into pod1, whose primary hook
#     nodepath owns: every frame reaches the pod's socket;
#  3. `nodepath agent` running: datagrams to pod1 (l3) and to ex2 (l2, added under the
#     agent) arrive intact, every one through the worker (to_xsk = worker rx = tx);
#  4. the agent stopped (SIGTERM): exit 0, the service works on the kernel path;
#  5. a refused socket: pod1's queue held by another AF_XDP socket when the agent starts:
#     the agent says once "AF_XDP on netkit device pod1: ...: the pool leaves this
#     endpoint to the kernel path", and the datagrams arrive intact on the kernel path;
#     once the queue is free, the next agent serves pod1 again (the mark is cleared).
set -u
NP_TOP=${NP_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
E2E_MISSING="is not available in the guest"
. "$NP_TOP/tests/e2e/lib.sh"

if [ -z "${NP_VM_GUEST:-}" ]; then
	echo "1..0 # SKIP runs inside the guest: scripts/vm.sh tests/vm/guest_afxdp.sh"
	exit 0
fi

LAB=vx
N=vx-node1 C=vx-client1 P1=vx-node1-pod1 X2=vx-extra2 BA=vx-bare-a BB=vx-bare-b
P1V4=198.19.1.11 X2V4=198.19.1.52 X2V6=fd00:19:1::52
VIP=198.18.100.10 VIP2=198.18.100.11
COUNT=100
TAG="[guest $(uname -r)]"
MSG="the pool leaves this endpoint to the kernel path"
NP_XSK_PROBE=$NP_TOP/build/tests/tools/np_xsk_probe
PROBES=20

tap_plan 5
need_built "$NP_BIN" "$NP_UDP" "$NP_XSK_PROBE"
need_tools ethtool "$NP_PY"

AGENT_PID=
afxdp_cleanup() {
	local rc=$?
	[ -n "$AGENT_PID" ] && kill -TERM "$AGENT_PID" 2>/dev/null && sleep 1
	ip netns del "$X2" 2>/dev/null
	ip netns del "$BA" 2>/dev/null
	ip netns del "$BB" 2>/dev/null
	(exit $rc)
	e2e_cleanup
}

# (each read tried 3 times: the CLI is the shared build's, which may be relinked meanwhile)
stat0() { stat_get "$@" 2>/dev/null || { sleep 1 && stat_get "$@" 2>/dev/null; } ||
	{ sleep 1 && stat_get "$@" 2>/dev/null; } || echo 0; }
agent_json1() { "$NP_BIN" --node "$N" agent status --json 2>/dev/null | json_get - "$1" 2>/dev/null; }
agent_json() { agent_json1 "$1" || { sleep 1 && agent_json1 "$1"; } || { sleep 1 && agent_json1 "$1"; }; }
# wrxtx: "RX TX" summed over the workers ("? ?" when the agent does not answer)
wrxtx() { agent_json '"%d %d" % (sum(w["rx"] for w in d["workers"]), sum(w["tx"] for w in d["workers"]))' 2>/dev/null || echo '? ?'; }
wdrops() { agent_json "sum(sum(w['drops'].values()) + w['invalid_desc'] for w in d['workers'])" 2>/dev/null || echo '?'; }
# ready_workers: how many workers are ready (0 when the agent does not answer)
ready_workers() { agent_json1 'sum(1 for w in d["workers"] if w["state"] == "ready")' 2>/dev/null || echo 0; }
said() { grep -c "AF_XDP on netkit device $1: .*$MSG" "$E2E_TMP/$2.err" 2>/dev/null; }

# agent_up NAME: `nodepath agent` in the background (output $E2E_TMP/NAME.err), one ready worker.
agent_up() {
	bg_start "$1" "$NP_BIN" --node "$N" agent
	AGENT_PID=$BG_PID
	local i
	for ((i = 0; i < 40; i++)); do
		[ "$(ready_workers)" = 1 ] && return 0
		sleep 0.5
	done
	case_note "agent: no ready worker after 20 s: $(tail -3 "$E2E_TMP/$1.err" | tr '\n' ' ')"
}

# agent_down: SIGTERM; notes a case error unless it exits 0 within 15 s.
agent_down() {
	local rc
	kill -TERM "$AGENT_PID" 2>/dev/null
	bg_wait "$AGENT_PID" 15
	rc=$?
	AGENT_PID=
	[ $rc = 0 ] || case_note "agent exit status $rc after SIGTERM, expected 0"
}
udp_check_py

# flow POD VIP: COUNT datagrams from the client to VIP:5000, received in POD; notes
# a case error unless all arrive intact.
flow() {
	local pod=$1 vip=$2 out
	# 1000/s; 20 s for the first datagram (the sender starts slowly under TCG), then 3 s
	udp_check "rx.$pod" "$pod" "$C" "$vip" 5000 $COUNT 1000 40 3 20
	out=$UDP_OUT
	[ "$out" = "intact $COUNT damaged 0" ] ||
		case_note "$vip -> $pod: '$out', expected 'intact $COUNT damaged 0'"
}

# nk_probe NODE_NS DEV POD DST_MAC SRC_MAC DST [SHARED]: PROBES frames by AF_XDP into
# netkit primary DEV toward DST in POD; PROBE_GOT: how many the pod's socket received,
# PROBE_MSG: what happened.
nk_probe() {
	local ns=$1 dev=$2 pod=$3 dmac=$4 smac=$5 dst=$6 shared=${7:-} port rf pid out rc d0 d1
	port=$(next_port)
	rf=$E2E_TMP/ready.$port
	bg_start "prx.$port" in_ns "$pod" "$NP_UDP" recv --port "$port" --timeout 60 --max-time 60 \
		--tag probe --ready-file "$rf"
	pid=$BG_PID
	wait_file "$rf" 10 || case_note "receiver in $pod did not start"
	d0=$(in_ns "$pod" cat /sys/class/net/nic0/statistics/rx_dropped)
	out=$(in_ns "$ns" "$NP_XSK_PROBE" --dev "$dev" ${shared:+--shared-with "$shared"} \
		--dst-mac "$dmac" --src-mac "$smac" --src 198.18.0.101 --dst "$dst" --port "$port" \
		--count $PROBES 2>&1)
	rc=$?
	# The frames are sent (completed) when the probe exits; let the pod take them, then stop.
	sleep 1
	bg_stop "$pid"
	d1=$(in_ns "$pod" cat /sys/class/net/nic0/statistics/rx_dropped)
	PROBE_GOT=$(sed -n 's/^received //p' "$E2E_TMP/prx.$port.out")
	PROBE_GOT=${PROBE_GOT:-0}
	echo "$out" | sed 's/^/# np_xsk_probe: /'
	if echo "$out" | grep '^bind ' | grep -qv ': ok$'; then
		PROBE_MSG="the bind is refused ($(echo "$out" | grep '^bind ' | grep -v ': ok$' | head -1))"
	else
		PROBE_MSG="bind ok, $(echo "$out" | tail -1) (status $rc), $PROBE_GOT reached the socket, nic0 rx_dropped +$((d1 - d0))"
	fi
}

# ---- 1. the lab, the services, no agent ----------------------------------------------------
s=$(date +%s)
if ! e2e_lab_up "$LAB" --nodes 1 --pods 1 --pod-dev netkit; then
	TAP_ABORT="lab up --name $LAB --pod-dev netkit failed (rc $NP_RC): $NP_ERR"
	tap_done
	exit 1
fi
trap afxdp_cleanup EXIT
echo "# lab up took $(($(date +%s) - s)) s"
case_begin
# As from a wire: full checksums (else XDP defers to tc), no GRO merging on the fabric.
wire_like "$LAB"
ip -n "$N" -d link show pod1 | grep -q 'netkit mode l3' || case_note "pod1 is not a netkit l3 device"
np_capture --node "$N" service add u1 --vip $VIP:5000/udp --backend $P1V4:5000 --afxdp ||
	case_note "service add u1 --afxdp: rc $NP_RC: $NP_ERR"
x0=$(stat0 "$N" xdp to_xsk)
flow "$P1" $VIP
x1=$(stat0 "$N" xdp to_xsk)
[ "$x1" = "$x0" ] || case_note "no agent: to_xsk went $x0 -> $x1"
tap_diag "case done at ${SECONDS} s"
case_end "$TAG no agent: $COUNT datagrams to an --afxdp service on a netkit l3 pod arrive intact (kernel path, to_xsk $x0 -> $x1)"

# ---- 2. what the kernel does with AF_XDP frames sent into a netkit primary ------------------------
case_begin
ip netns add "$BA" && ip netns add "$BB" && in_ns "$BB" ip link set lo up &&
	ip -n "$BA" link add nk0 type netkit mode l3 peer name nic0 netns "$BB" &&
	ip -n "$BA" link add r0 type veth peer name r1 &&
	ip -n "$BA" link set nk0 up && ip -n "$BA" link set r0 up && ip -n "$BA" link set r1 up &&
	ip -n "$BB" link set nic0 up && ip -n "$BB" addr add 198.19.9.2/24 dev nic0 ||
	case_note "cannot build the bare netkit pair"
nk_probe "$BA" nk0 "$BB" 00:00:00:00:00:00 00:00:00:00:00:00 198.19.9.2 r1
bare=$PROBE_MSG
nk_probe "$N" pod1 "$P1" 00:00:00:00:00:00 00:00:00:00:00:00 $P1V4 uplink
[ "$PROBE_GOT" = $PROBES ] || case_note "into pod1 (nodepath's primary hook): $PROBE_MSG; expected all $PROBES received"
ip netns del "$BA"
ip netns del "$BB"
tap_diag "case done at ${SECONDS} s"
case_end "$TAG AF_XDP copy-mode tx (shared UMEM) into a netkit l3 primary: bare pair: $bare; pod1 with nodepath's primary hook: $PROBE_MSG"

# ---- 3. the agent: the pool serves netkit endpoints ------------------------------------------------
case_begin
agent_up agent1
t=$(agent_json 'd["workers"][0]["zerocopy"]')
[ "$t" = false ] || case_note "worker zerocopy '$t', expected false (copy mode)"
# an l2 netkit endpoint added while the agent runs (EP_ADD reaches the worker)
ip netns add "$X2" && in_ns "$X2" ip link set lo up || case_note "cannot create $X2"
np_capture --node "$N" endpoint add --netns "$X2" --ip "$X2V4,$X2V6" --dev netkit --netkit-mode l2 --name ex2 ||
	case_note "endpoint add ex2 (netkit l2): rc $NP_RC: $NP_ERR"
np_capture --node "$N" service add u2 --vip $VIP2:5000/udp --backend $X2V4:5000 --afxdp ||
	case_note "service add u2 --afxdp: rc $NP_RC: $NP_ERR"
x0=$(stat0 "$N" xdp to_xsk)
read -r r0 t0 <<<"$(wrxtx)"
flow "$P1" $VIP
flow "$X2" $VIP2
x1=$(stat0 "$N" xdp to_xsk)
read -r r1 t1 <<<"$(wrxtx)"
n=$((2 * COUNT))
[ $((x1 - x0)) = $n ] || case_note "to_xsk went $x0 -> $x1, expected +$n"
[ "$r0" != '?' ] && [ "$r1" != '?' ] && [ $((r1 - r0)) = $n ] || case_note "worker rx $r0 -> $r1, expected +$n"
[ "$t0" != '?' ] && [ "$t1" != '?' ] && [ $((t1 - t0)) = $n ] || case_note "worker tx $t0 -> $t1, expected +$n"
t=$(wdrops)
[ "$t" = 0 ] || case_note "worker drops/invalid: $t"
grep -q "AF_XDP on netkit" "$E2E_TMP/agent1.err" && case_note "agent: $(grep -m1 'AF_XDP on netkit' "$E2E_TMP/agent1.err")"
kill -0 "$AGENT_PID" 2>/dev/null || case_note "the agent exited: $(tail -5 "$E2E_TMP/agent1.err" | tr '\n' ' ')"
tap_diag "pool: to_xsk $x0 -> $x1, worker rx $r0 -> $r1, tx $t0 -> $t1"
[ ${#CASE_ERRS[@]} = 0 ] || sed 's/^/# agent1: /' "$E2E_TMP/agent1.err" | tail -15
tap_diag "case done at ${SECONDS} s"
case_end "$TAG agent (copy mode): $COUNT datagrams each to netkit l3 pod1 and netkit l2 ex2 (added under the agent) arrive intact through the worker (to_xsk = rx = tx = $n, no drops)"

# ---- 4. the agent stops ------------------------------------------------------------------------------
case_begin
agent_down
grep -qi "fail\|error" "$E2E_TMP/agent1.err" && case_note "agent stderr: $(grep -i 'fail\|error' "$E2E_TMP/agent1.err" | head -2)"
x0=$(stat0 "$N" xdp to_xsk)
flow "$P1" $VIP
x1=$(stat0 "$N" xdp to_xsk)
[ "$x1" = "$x0" ] || case_note "agent stopped: to_xsk went $x0 -> $x1"
np_capture --node "$N" endpoint del --name ex2 || case_note "endpoint del ex2: rc $NP_RC: $NP_ERR"
tap_diag "case done at ${SECONDS} s"
case_end "$TAG agent stopped (SIGTERM, exit 0, no error logged): $COUNT datagrams to netkit pod1 arrive intact on the kernel path (to_xsk unchanged)"

# ---- 5. the kernel refuses the socket: a clear message, the kernel path ---------------------------------
case_begin
bg_start hold in_ns "$N" "$NP_XSK_PROBE" --dev pod1 --dst-mac 00:00:00:00:00:00 \
	--src-mac 00:00:00:00:00:00 --src 198.18.0.101 --dst $P1V4 --port 9 --count 1 --hold 30
hp=$BG_PID
wait_for 10 grep -q '^sent' "$E2E_TMP/hold.out" || case_note "np_xsk_probe did not take pod1's queue: $(cat "$E2E_TMP/hold.out" "$E2E_TMP/hold.err")"
agent_up agent2
x0=$(stat0 "$N" xdp to_xsk)
flow "$P1" $VIP
x1=$(stat0 "$N" xdp to_xsk)
[ "$x1" = "$x0" ] || case_note "refused: to_xsk went $x0 -> $x1"
n=$(said pod1 agent2)
[ "$n" = 1 ] || case_note "agent said ${n:-0} times (expected once) 'AF_XDP on netkit device pod1: <error>: $MSG'"
m=$(grep -m1 "AF_XDP on netkit device pod1" "$E2E_TMP/agent2.err" | sed 's/^nodepath: warning: //')
agent_down
bg_stop "$hp"
agent_up agent3
x0=$(stat0 "$N" xdp to_xsk)
flow "$P1" $VIP
x1=$(stat0 "$N" xdp to_xsk)
[ $((x1 - x0)) = $COUNT ] || case_note "queue free again, new agent: to_xsk went $x0 -> $x1, expected +$COUNT"
agent_down
tap_diag "case done at ${SECONDS} s"
case_end "$TAG pod1's queue taken when the agent starts: '${m:-no message}'; $COUNT datagrams arrive intact on the kernel path (to_xsk unchanged); queue free again: the next agent carries them (to_xsk +$((x1 - x0)))"

tap_done
