#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# bench/scenarios/lb-local.sh: VIP -> local pod, packets per second delivered into the pod.
#
# Lab $BENCH_LAB"a": one node, one pod, one client. np_gen sends 64-byte IPv4/UDP live frames
# (1024 flows, full checksums) from the fabric side of the node's uplink to the LoadBalancer
# VIP 198.18.100.10:9/udp, whose one backend is the node's pod 198.19.1.11:8080; a tcx-ingress
# count-and-drop sink on the pod's nic0 counts what arrives (Mpps = delivered / run time;
# generator and receiver serialized on one CPU). Variants, interleaved per round:
#   xdp-native, xdp-generic   nodepath up, XDP balances (DNAT), tc delivers (redirect_peer)
#   xdp-native-v6             the same over IPv6: [fd00:18:100::10]:9 -> [fd00:19:1::11]:8080
#   tc-only                   nodepath up with `xdp-mode off`: the tcx uplink program balances
#   ipt-1, ipt-1000, ipt-10000  nodepath down; a kube-proxy-like iptables ruleset (iptables-nft)
#                             with N services, the real one last; conntrack; forwarding
#   nft-dnat                  nodepath down; one nftables DNAT rule; conntrack; forwarding
# Baselines ipt-1000 and nft-dnat; target xdp-native >= 3x ipt-1000. Smoke: ipt-100 instead of
# ipt-10000. Each run follows an untimed warm-up, so flows exist (steady state, not new flows).
set -u
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../lib_net.sh"
bench_trap

LAB=${BENCH_LAB}a
NODE=$LAB-node1
POD=$NODE-pod1
VIP=198.18.100.10 PORT=9 BIP=198.19.1.11 BPORT=8080
VIP6=fd00:18:100::10 BIP6=fd00:19:1::11
GEN=(--src 198.18.0.201 --dst "$VIP" --dport "$PORT" --flows 1024)
GEN6=(--ipv6 --src fd00:18::201 --dst "$VIP6" --dport "$PORT" --flows 1024)
BIG=10000
[ "$BENCH_SMOKE" = 1 ] && BIG=100
command -v iptables-restore >/dev/null || bench_die "iptables-restore missing (scripts/deps.sh)"

bench_progress "lab $LAB: 1 node, 1 pod"
bench_lab_up "$LAB" --nodes 1 --pods 1 --clients 1 || exit 1
bench_on_exit "bnet_ipt_clear $NODE; bnet_nft_clear $NODE"

RULES=$(mktemp -d /tmp/bench-lb-local.XXXXXX)
bench_on_exit "rm -rf $RULES"
for n in 1 1000 "$BIG"; do
	bnet_kp_rules "$n" "$VIP" "$PORT" "$BIP" "$BPORT" udp >"$RULES/ipt-$n"
done

UP=1 # the lab brought nodepath up
svc_add() {
	bnet_svc_lb "$NODE" web "$VIP:$PORT/udp" "$BIP:$BPORT"
	bnet_svc_lb "$NODE" web6 "[$VIP6]:$PORT/udp" "[$BIP6]:$BPORT"
}
svc_add

# lb_check VARIANT HOOK L0: the hook's lb_new + lb_ct_hit rose (the path is the one named).
lb_count() { echo $(($(bnet_stat "$NODE" "$1" lb_new) + $(bnet_stat "$NODE" "$1" lb_ct_hit))); }

bench_baseline ipt-1000
bench_baseline nft-dnat
for r in $(bench_rounds); do
	bench_progress "round $r/$BENCH_ROUNDS"
	if [ "$UP" = 0 ]; then
		bnet_np_up "$NODE" 1 native || exit 1
		svc_add
		UP=1
	fi
	for v in xdp-native xdp-native-v6 xdp-generic tc-only; do
		gen=("${GEN[@]}")
		case $v in
		xdp-native) mode=native hook=xdp ;;
		xdp-native-v6) mode=native hook=xdp gen=("${GEN6[@]}") ;;
		xdp-generic) mode=generic hook=xdp ;;
		tc-only) mode=off hook=tc_uplink_in ;;
		esac
		bnet_xdp_mode "$NODE" "$mode" || exit 1
		l0=$(lb_count "$hook")
		bnet_gen_pod "$v" "$r" "$NODE" "$POD" "${gen[@]}" || exit 1
		l1=$(lb_count "$hook")
		[ $((l1 - l0)) -ge "$BNET_SENT" ] ||
			bench_die "$v: $hook balanced $((l1 - l0)) of $BNET_SENT frames (wrong path?)"
	done
	bnet_np_down "$NODE" || exit 1
	UP=0
	for n in 1 1000 "$BIG"; do
		bnet_ipt_load "$NODE" "$RULES/ipt-$n" || exit 1
		bnet_gen_pod "ipt-$n" "$r" "$NODE" "$POD" "${GEN[@]}" || exit 1
		bnet_ipt_clear "$NODE"
	done
	bnet_nft_dnat "$NODE" "$VIP" "$PORT" "$BIP" "$BPORT" udp || exit 1
	bnet_gen_pod nft-dnat "$r" "$NODE" "$POD" "${GEN[@]}" || exit 1
	bnet_nft_clear "$NODE"
done
bnet_np_up "$NODE" 1 native >/dev/null 2>&1 # so the lab goes down the usual way

bench_ratio xdp-native/ipt-1000 xdp-native ipt-1000
bench_ratio xdp-native/nft-dnat xdp-native nft-dnat
bench_ratio tc-only/ipt-1000 tc-only ipt-1000
bench_ratio xdp-native/xdp-generic xdp-native xdp-generic
bench_ratio ipt-1/ipt-$BIG ipt-1 "ipt-$BIG"
bench_target xdp-native/ipt-1000 '>=' 3 "lb-local native >= 3x iptables DNAT with 1000 services"
bench_note "64 B IPv4/UDP (xdp-native-v6: 64 B IPv6/UDP), 1024 flows, steady state (flows exist); delivered into the pod (tcx sink on nic0)"
bench_note "XDP balances the generator's frames (full checksums); tc delivers with bpf_redirect_peer"
exit 0
