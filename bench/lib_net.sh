# SPDX-License-Identifier: GPL-2.0
# bench/lib_net.sh: helpers of the packet scenarios (lb-local, lb-remote, newflows, tcp,
# afxdp). Source it after bench/lib.sh (THE CONTRACT is at the top of lib.sh).
#
#   sizes:    bnet_dur (BENCH_DURATION, or 0.3 s in smoke mode); bnet_warm (warm-up frames)
#   traffic:  bnet_gen_pod VARIANT ROUND NODE_NS POD_NS [np_gen args...]: np_gen from the
#             fabric side of NODE_NS's uplink (n<N>), a warm-up, then a timed run counted by
#             a tcx-ingress sink on POD_NS's nic0; prints "result VARIANT ROUND MPPS Mpps"
#             (delivered per second) and sets BNET_MPPS, BNET_SENT, BNET_GOT
#   node:     bnet_np_up NODE N [xdp mode] (nodepath up with the lab's pod range of node N);
#             bnet_np_down NODE; bnet_xdp_mode NODE MODE
#   rules:    bnet_kp_rules N VIP PORT BACKEND_IP PORT PROTO (a kube-proxy-like iptables-restore
#             ruleset, N services of which the last is the real one, to stdout);
#             bnet_ipt_load NS FILE; bnet_ipt_clear NS (deletes the ip nat/filter tables);
#             bnet_nft_dnat NS VIP PORT BACKEND_IP PORT PROTO (table ip nodepath_bench_dnat);
#             bnet_nft_clear NS
#   stats:    bnet_stat NODE HOOK NAME (as bench_np_stat; 0 when nodepath is down)

bnet_dur() {
	if [ "$BENCH_SMOKE" = 1 ]; then echo 0.3; else echo "$BENCH_DURATION"; fi
}

bnet_warm() {
	if [ "$BENCH_SMOKE" = 1 ]; then echo 65536; else echo 262144; fi
}

# bnet_uplink_port NODE_NS: the fabric-side veth of a node's uplink (n<N>).
bnet_uplink_port() { echo "n${1##*-node}"; }

# bnet_gen_pod VARIANT ROUND NODE_NS POD_NS [np_gen args...]
bnet_gen_pod() {
	local v=$1 r=$2 node=$3 pod=$4 lab mac port
	shift 4
	lab=${node%-node*}
	port=$(bnet_uplink_port "$node")
	mac=$(bench_mac "$node" uplink)
	local gen=(--netns "$lab-fabric" --dev "$port" --dst-mac "$mac" --peer-netns "$node"
		--peer-dev uplink --tc-sink-netns "$pod" --tc-sink-dev nic0 "$@")
	bench_gen "${gen[@]}" --count "$(bnet_warm)" || return 1
	if [ "$BENCH_SMOKE" = 1 ]; then
		bench_gen "${gen[@]}" --count 262144 || return 1
	else
		bench_gen "${gen[@]}" --duration "$BENCH_DURATION" || return 1
	fi
	BNET_SENT=$GEN_PKTS
	BNET_GOT=$(awk '/^tc sink dropped/ { print $4 }' <<<"$GEN_OUT")
	[ -n "$BNET_GOT" ] || {
		bench_log "np_gen printed no tc sink count: $GEN_OUT"
		return 1
	}
	BNET_MPPS=$(bench_calc 'g / s / 1e6' g="$BNET_GOT" s="$GEN_SECS")
	bench_log "$v round $r: sent $BNET_SENT, delivered $BNET_GOT in $GEN_SECS s = $BNET_MPPS Mpps"
	if [ "$BNET_GOT" -lt $((BNET_SENT * 9 / 10)) ]; then
		bench_log "$v round $r: only $BNET_GOT of $BNET_SENT frames delivered"
	fi
	bench_result "$v" "$r" "$BNET_MPPS" Mpps
}

# ---- the node ---------------------------------------------------------------

bnet_np_up() {
	local node=$1 n=$2 mode=${3:-native}
	bench_node_up "$node" --xdp-mode "$mode" --pod-cidr "198.19.$n.0/24,fd00:19:$n::/64"
}

# bnet_svc_lb NODE NAME VIP BACKEND: `service add NAME --vip VIP --type loadbalancer
# --backend BACKEND` on NODE (VIP and BACKEND as the CLI takes them); dies on failure.
bnet_svc_lb() {
	local out
	out=$("$NP_BIN" --node "$1" service add "$2" --vip "$3" --type loadbalancer \
		--backend "$4" 2>&1) || bench_die "service add $2: $out"
}

# bnet_np_down NODE: nodepath down, forgetting the node's services (`down` alone keeps their
# records and the next `up` would restore them; each variant sets up its own).
bnet_np_down() {
	local out
	[ -d "/sys/fs/bpf/nodepath/$1" ] || return 0
	out=$("$NP_BIN" --node "$1" down --purge 2>&1) || {
		bench_log "down on $1: $out"
		return 1
	}
}

bnet_xdp_mode() {
	local out
	out=$("$NP_BIN" --node "$1" xdp-mode "$2" 2>&1) || {
		bench_log "xdp-mode $2 on $1: $out"
		return 1
	}
	bench_log "$1: $out"
}

bnet_stat() {
	[ -d "/sys/fs/bpf/nodepath/$1" ] || {
		echo 0
		return 0
	}
	bench_np_stat "$@"
}

# ---- kube-proxy look-alikes ---------------------------------------------------

# bnet_kp_rules N VIP PORT BIP BPORT PROTO: what kube-proxy (iptables mode) writes for N
# services with one endpoint each, as an iptables-restore file. N-1 fillers (VIPs in
# 198.18.128.0/17, endpoints in 198.19.200.0/24, never used) come first in KUBE-SERVICES, the
# real service last: its first packet walks the whole list, as kube-proxy's does.
bnet_kp_rules() {
	awk -v n="$1" -v vip="$2" -v port="$3" -v bip="$4" -v bport="$5" -v proto="$6" \
		-v kp_jumps="$(bench_kp_jumps)" 'BEGIN {
		print "*nat"
		print ":PREROUTING ACCEPT [0:0]"
		print ":INPUT ACCEPT [0:0]"
		print ":OUTPUT ACCEPT [0:0]"
		print ":POSTROUTING ACCEPT [0:0]"
		print ":KUBE-SERVICES - [0:0]"
		print ":KUBE-NODEPORTS - [0:0]"
		print ":KUBE-POSTROUTING - [0:0]"
		print ":KUBE-MARK-MASQ - [0:0]"
		for (i = 1; i <= n; i++)
			printf ":KUBE-SVC-%08X - [0:0]\n:KUBE-SEP-%08X - [0:0]\n", i, i
		print kp_jumps
		print "-A KUBE-POSTROUTING -m comment --comment \"kubernetes service traffic requiring SNAT\" -j MASQUERADE --random-fully"
		for (i = 1; i <= n; i++) {
			if (i < n) {
				v = sprintf("198.18.%d.%d", 128 + int(i / 250), i % 250 + 1)
				b = sprintf("198.19.200.%d", i % 250 + 1)
				p = 80; bp = 8080
			} else {
				v = vip; b = bip; p = port; bp = bport
			}
			printf "-A KUBE-SERVICES -d %s/32 -p %s -m comment --comment \"ns/svc%d:p cluster IP\" -m %s --dport %d -j KUBE-SVC-%08X\n", v, proto, i, proto, p, i
			printf "-A KUBE-SVC-%08X ! -s 198.19.0.0/16 -d %s/32 -p %s -m %s --dport %d -j KUBE-MARK-MASQ\n", i, v, proto, proto, p
			printf "-A KUBE-SVC-%08X -m comment --comment \"ns/svc%d:p -> %s:%d\" -j KUBE-SEP-%08X\n", i, i, b, bp, i
			printf "-A KUBE-SEP-%08X -s %s/32 -j KUBE-MARK-MASQ\n", i, b
			printf "-A KUBE-SEP-%08X -p %s -m %s -j DNAT --to-destination %s:%d\n", i, proto, proto, b, bp
		}
		print "-A KUBE-SERVICES -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS"
		print "COMMIT"
		print "*filter"
		print ":INPUT ACCEPT [0:0]"
		print ":FORWARD ACCEPT [0:0]"
		print ":OUTPUT ACCEPT [0:0]"
		print ":KUBE-FORWARD - [0:0]"
		print "-A FORWARD -m comment --comment \"kubernetes forwarding rules\" -j KUBE-FORWARD"
		print "-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP"
		print "-A KUBE-FORWARD -m mark --mark 0x4000/0x4000 -j ACCEPT"
		print "-A KUBE-FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"
		print "COMMIT"
	}'
}

# bnet_ipt_load NS FILE: iptables-restore FILE in NS; logs how long it took.
bnet_ipt_load() {
	local t0 t1 out
	t0=$(date +%s.%N)
	out=$(ip netns exec "$1" iptables-restore "$2" 2>&1) || {
		bench_log "iptables-restore $2 in $1: $out"
		return 1
	}
	t1=$(date +%s.%N)
	bench_log "iptables-restore of $(grep -c '^-A' "$2") rules in $1: $(bench_calc 'b - a' a="$t0" b="$t1") s"
}

# bnet_ipt_clear NS: no iptables rules left (iptables-nft: its tables deleted).
bnet_ipt_clear() {
	local t
	ip netns exec "$1" iptables -t nat -F >/dev/null 2>&1
	ip netns exec "$1" iptables -t nat -X >/dev/null 2>&1
	ip netns exec "$1" iptables -F >/dev/null 2>&1
	ip netns exec "$1" iptables -X >/dev/null 2>&1
	for t in nat filter mangle raw; do
		ip netns exec "$1" nft delete table ip "$t" >/dev/null 2>&1
	done
	return 0
}

# bnet_nft_dnat NS VIP PORT BIP BPORT PROTO: one nftables DNAT rule (conntrack follows).
bnet_nft_dnat() {
	local out
	out=$(ip netns exec "$1" nft -f - 2>&1 <<EOF
table ip nodepath_bench_dnat {
	chain pre {
		type nat hook prerouting priority dstnat; policy accept;
		ip daddr $2 $6 dport $3 dnat to $4:$5
	}
}
EOF
	) || {
		bench_log "nft DNAT in $1: $out"
		return 1
	}
}

bnet_nft_clear() {
	local t
	for t in $(ip netns exec "$1" nft list tables 2>/dev/null | awk '$3 ~ /^nodepath_bench/ {print $2 ":" $3}'); do
		ip netns exec "$1" nft delete table "${t%%:*}" "${t#*:}" >/dev/null 2>&1
	done
	return 0
}
