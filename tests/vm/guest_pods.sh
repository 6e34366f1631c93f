#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vm tier, runs inside the guest (scripts/vm.sh): the pod datapath on netkit.
# The lab "vq" with `--pod-dev netkit`: pod to pod (ping v4/v6, TCP), client to
# pod, pod to the other node's pod, forwarding off in the node and pod-to-pod
# and uplink-to-pod still flow, an `auto` endpoint (netkit here, and it says
# so), a netkit l2 endpoint pinging its neighbours, `endpoint del` leaving
# nothing. The guest runs under TCG: counts are small, timeouts generous.
# Descriptions are prefixed with "[guest <uname -r>]".
set -u
NP_TOP=${NP_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
# Slow emulation: ping (lib.sh's ping_probe) waits longer; tools come with the guest.
E2E_PING_ARGS="-c 2 -i 0.3 -W 5 -w 8"
E2E_MISSING="is not available in the guest"
. "$NP_TOP/tests/e2e/lib.sh"

if [ -z "${NP_VM_GUEST:-}" ]; then
	echo "1..0 # SKIP runs inside the guest: scripts/vm.sh tests/vm/guest_pods.sh"
	exit 0
fi

LAB=vq
N1=vq-node1 C1=vq-client1 X1=vq-extra1 X2=vq-extra2
P1=vq-node1-pod1 P2=vq-node1-pod2 Q1=vq-node2-pod1
P1V4=198.19.1.11 P2V4=198.19.1.12 Q1V4=198.19.2.11 C1V4=198.18.0.101
P1V6=fd00:19:1::11 P2V6=fd00:19:1::12 Q1V6=fd00:19:2::11 C1V6=fd00:18::101
X1V4=198.19.1.50 X1V6=fd00:19:1::50 X2V4=198.19.1.51 X2V6=fd00:19:1::51
PIN=/sys/fs/bpf/nodepath/$N1
TAG="[guest $(uname -r)]"
# No LIBXDP_SKIP_DISPATCHER here: the 6.12 guest kernel refuses np_xdp_uplink as an
# extension of libxdp 1.3.1's dispatcher (it changes packet data, the dispatcher does
# not), and nodepath then attaches it directly by itself (control/datapath.c).

tap_plan 9
echo "# guest kernel $(uname -r)"

need_built "$NP_BIN" "$NP_UDP"
need_tools nc ping ss bpftool "$NP_PY"

pods_cleanup() {
	local rc=$?
	ip netns del "$X1" 2>/dev/null
	ip netns del "$X2" 2>/dev/null
	(exit $rc)
	e2e_cleanup
}

stat0() { stat_get "$@" 2>/dev/null || echo 0; }
ep_kind() {
	np --node "$N1" endpoint list --json 2>/dev/null |
		json_get - "[e.get('dev', e.get('kind', e.get('device'))) for e in (d if isinstance(d, list) else d['endpoints']) if e.get('name') == '$1'][0]"
}

# ---- 1. the lab on netkit ----------------------------------------------------------------
s=$(date +%s)
if ! e2e_lab_up "$LAB" --pod-dev netkit; then
	TAP_ABORT="lab up --name $LAB --pod-dev netkit failed (rc $NP_RC): $NP_ERR"
	tap_done
	exit 1
fi
trap pods_cleanup EXIT
echo "# lab up took $(($(date +%s) - s)) s"
case_begin
for p in pod1 pod2; do
	k=$(ep_kind $p)
	[ "$k" = netkit ] || case_note "endpoint $p: device '$k', expected netkit"
done
case_req "$N1: no device of kind netkit" sh -c "ip -n $N1 -d link show | grep -q netkit"
case_end "$TAG lab up --name $LAB --pod-dev netkit: node1's pods are netkit endpoints"

# ---- 2. pod to pod on node 1 -------------------------------------------------------------
case_begin
e0=$(stat0 "$N1" tc_pod_from to_ep)
ping_req "$P1" "$P2V4" "$P2V6"
ping_req "$P2" "$P1V4" "$P1V6"
tcp_req "$P1" "$P2" "$P2V4"
tcp_req "$P2" "$P1" "$P1V6"
t=$(in_ns "$P1" ping -c1 -W5 "$P2V4" 2>/dev/null | sed -n 's/.* ttl=\([0-9]*\).*/\1/p')
[ "$t" = 64 ] || case_note "pod1 -> pod2 ping reply ttl '${t:-none}', expected 64 (untouched)"
e1=$(stat0 "$N1" tc_pod_from to_ep)
[ $((e1 - e0)) -ge 8 ] || case_note "tc_pod_from to_ep grew by $((e1 - e0)), expected >= 8"
case_end "$TAG netkit pod1 <-> pod2: ping v4/v6 both ways, TCP v4/v6, reply ttl=${t:-?} (to_ep +$((e1 - e0)))"

# ---- 3. client to pod and pod to client -------------------------------------------------------
case_begin
u0=$(stat0 "$N1" tc_uplink_in to_ep)
ping_req "$C1" "$P1V4" "$P1V6"
ping_req "$P1" "$C1V4" "$C1V6"
tcp_req "$C1" "$P1" "$P1V4"
tcp_req "$P1" "$C1" "$C1V6"
u1=$(stat0 "$N1" tc_uplink_in to_ep)
[ $((u1 - u0)) -ge 8 ] || case_note "tc_uplink_in to_ep grew by $((u1 - u0)), expected >= 8"
case_end "$TAG netkit client1 <-> pod1: ping v4/v6 both ways, TCP (tc_uplink_in to_ep +$((u1 - u0)))"

# ---- 4. pod to the other node's pod --------------------------------------------------------------
case_begin
ping_req "$P1" "$Q1V4" "$Q1V6"
ping_req "$Q1" "$P1V4" "$P1V6"
tcp_req "$P1" "$Q1" "$Q1V4"
case_end "$TAG netkit node1 pod1 <-> node2 pod1: ping v4/v6 both ways, TCP v4"

# ---- 5. forwarding off in node 1 ---------------------------------------------------------------------
fwd() { in_ns "$N1" sysctl -qw net.ipv4.ip_forward="$1" net.ipv6.conf.all.forwarding="$1"; }
case_begin
fwd 0 || case_note "cannot turn forwarding off in $N1"
ping_req "$P1" "$P2V4" "$P2V6"
tcp_req "$P1" "$P2" "$P2V4"
udp_req "$C1" "$P1" "$P1V4" 10
udp_req "$C1" "$P1" "$P1V6" 10
fwd 1 || case_note "cannot turn forwarding back on in $N1"
ping_req "$P1" "$C1V4"
case_end "$TAG netkit, forwarding off in $N1: pod1 <-> pod2 ping v4/v6 and TCP, client1 -> pod1 UDP v4/v6 10/10 still flow; restored"

# ---- 6. an auto endpoint: netkit here -------------------------------------------------------------------
case_begin
ip netns add "$X1" && in_ns "$X1" ip link set lo up || case_note "cannot create $X1"
if np_capture --node "$N1" endpoint add --netns "$X1" --ip "$X1V4,$X1V6" --name ex1; then
	echo "$NP_OUT$NP_ERR" | sed 's/^/# /'
	echo "$NP_OUT$NP_ERR" | grep -qiE 'auto.*netkit' || case_note "endpoint add (auto) does not say it picked netkit: '$NP_OUT$NP_ERR'"
	k=$(ep_kind ex1)
	[ "$k" = netkit ] || case_note "endpoint ex1: device '$k', expected netkit"
	ping_req "$X1" "$P1V4" "$P1V6" "$C1V4"
else
	case_note "endpoint add --netns $X1 failed (rc $NP_RC): $NP_ERR"
fi
case_end "$TAG endpoint add (auto) into $X1: picks netkit and says so; pings pod1 v4/v6 and client1"

# ---- 7. a netkit l2 endpoint -----------------------------------------------------------------------------
case_begin
ip netns add "$X2" && in_ns "$X2" ip link set lo up || case_note "cannot create $X2"
if np_capture --node "$N1" endpoint add --netns "$X2" --ip "$X2V4,$X2V6" --dev netkit --netkit-mode l2 --name ex2; then
	d=$(ip -n "$N1" -d link show ex2)
	echo "$d" | grep -q 'netkit mode l2' || case_note "ex2 is not 'netkit mode l2': $d"
	a0=$(stat0 "$N1" tc_pod_from arp_reply)
	ping_req "$X2" "$P1V4" "$P1V6" "$X1V4" "$X1V6" "$C1V4"
	ping_req "$P2" "$X2V4" "$X2V6"
	a1=$(stat0 "$N1" tc_pod_from arp_reply)
	tap_diag "l2 endpoint: tc_pod_from arp_reply +$((a1 - a0))"
else
	case_note "endpoint add --netkit-mode l2 failed (rc $NP_RC): $NP_ERR"
fi
case_end "$TAG netkit l2 endpoint ex2 in $X2: pings pod1, ex1 (v4/v6), client1, and pod2 pings it"

# ---- 8..9. endpoint del leaves nothing ---------------------------------------------------------------------
for ep in ex1 ex2; do
	ns=$X1
	[ $ep = ex2 ] && ns=$X2
	case_begin
	e0=$(map_count "$PIN/np_endpoints") d0=$(map_count "$PIN/np_ep_devs")
	k0=$(prog_links "$PIN/prog_nk_primary") j0=$(prog_links "$PIN/prog_nk_peer")
	np_capture --node "$N1" endpoint del --name "$ep" || case_note "endpoint del $ep failed (rc $NP_RC): $NP_ERR"
	e1=$(map_count "$PIN/np_endpoints") d1=$(map_count "$PIN/np_ep_devs")
	k1=$(prog_links "$PIN/prog_nk_primary") j1=$(prog_links "$PIN/prog_nk_peer")
	[ "$k0" != "?" ] && [ "$k1" = $((k0 - 1)) ] || case_note "links of prog_nk_primary: $k0 -> $k1, expected one less"
	[ "$j0" != "?" ] && [ "$j1" = $((j0 - 1)) ] || case_note "links of prog_nk_peer: $j0 -> $j1, expected one less"
	ip -n "$N1" link show "$ep" >/dev/null 2>&1 && case_note "device $ep still in $N1"
	x=$(ip -n "$ns" -o link show | grep -v ': lo:')
	[ -z "$x" ] || case_note "devices left in $ns: $x"
	[ -e "$PIN/ep/$ep" ] && case_note "$PIN/ep/$ep still exists"
	[ "$e1" = $((e0 - 2)) ] || case_note "np_endpoints: $e0 -> $e1 entries, expected 2 fewer"
	[ "$d1" = $((d0 - 1)) ] || case_note "np_ep_devs: $d0 -> $d1 entries, expected 1 fewer"
	t=$(in_ns "$N1" bpftool net show 2>&1)
	echo "$t" | grep -q "$ep" && case_note "bpftool net show in $N1 still lists $ep"
	case_end "$TAG endpoint del $ep: no device, no link (netkit primary links $k0 -> $k1, peer $j0 -> $j1), no pin, no map entry (np_endpoints $e0 -> $e1, np_ep_devs $d0 -> $d1)"
done

tap_done
