#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# HTTP requests per second through a service VIP: the datapath against a
# kube-proxy-style nftables DNAT, in one run.
#
#   bench/svc_rps.sh [ROUNDS] [SECS]      (default 3 rounds of 5 s; root)
#
# Two labs side by side: "tr" (pods are veth endpoints of the datapath; node1 has a
# LoadBalancer service 198.18.100.10:80/tcp -> its two pods, Maglev, conntrack, XDP
# DNAT on the uplink, reverse NAT on the pods' egress) and "tk" (`--pod-dev none`: no
# BPF; node1's kernel routes, and an nftables table in the style of kube-proxy's nftables
# mode DNATs the same VIP to the same two pods: numgen random mod 2 -> a chain per
# backend). In each pod busybox httpd serves a small file on :8080 (it closes every
# connection, so each request is a new connection, a new flow for the balancer).
# Load: wrk -t1 -c8 -dSECS from client1. Rounds are interleaved; variants:
#   vip.xdp    tr, XDP native on node1's uplink
#   vip.tc     tr, `xdp-mode off` for that run (the tc uplink program balances)
#   vip.nft    tk, nftables DNAT
#   pod.direct tk, client1 -> pod1:8081 without a service (the server's ceiling here;
#              another port than the DNAT target, see httpd below)
# Prints every run, then median / min / max requests/s per variant and the ratios.
# Both labs are taken down on exit.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
NP_BIN=${NP_BIN:-$top/build/nodepath}
ROUNDS=${1:-3}
SECS=${2:-5}
LABS=(tr tk)
VIP=198.18.100.10
B1=198.19.1.11 B2=198.19.1.12
tmp=$(mktemp -d /tmp/np-bench.XXXXXX)
pids=()

die() {
	echo "svc_rps: $*" >&2
	exit 1
}

cleanup() {
	local l p
	for p in "${pids[@]}"; do
		pkill -TERM -P "$p" 2>/dev/null
		kill -TERM "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	for l in "${LABS[@]}"; do
		"$NP_BIN" lab down --name "$l" >/dev/null 2>&1
	done
	rm -rf "$tmp"
}

[ "$(id -u)" -eq 0 ] || die "needs root"
[ -x "$NP_BIN" ] || die "$NP_BIN is not built (make build/nodepath)"
command -v wrk >/dev/null || die "wrk is not installed (scripts/deps.sh installs it)"
command -v nft >/dev/null || die "nft is not installed"
[ -x /bin/busybox ] || die "/bin/busybox is not installed (busybox-static)"
[[ "$ROUNDS" =~ ^[1-9][0-9]?$ ]] || die "ROUNDS '$ROUNDS': 1..99"
[[ "$SECS" =~ ^[1-9][0-9]?$ ]] || die "SECS '$SECS': 1..99"
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "# $(uname -r), $(nproc) cpus, $(date -u +%FT%TZ); wrk -t1 -c8 -d${SECS}s, $ROUNDS rounds, interleaved"
for l in "${LABS[@]}"; do
	"$NP_BIN" lab down --name "$l" >/dev/null 2>&1
done
"$NP_BIN" lab up --name tr >"$tmp/tr.up" 2>&1 || die "lab up tr: $(tail -3 "$tmp/tr.up")"
"$NP_BIN" lab up --name tk --pod-dev none >"$tmp/tk.up" 2>&1 || die "lab up tk: $(tail -3 "$tmp/tk.up")"

# httpd LAB PORT: busybox httpd on PORT in node1's two pods of LAB (bounded: 20 minutes).
httpd() {
	local l=$1 port=$2 k ns i
	for k in 1 2; do
		ns=$l-node1-pod$k
		mkdir -p "$tmp/www/$ns"
		echo "$ns" >"$tmp/www/$ns/index.html"
		ip netns exec "$ns" timeout 1200 /bin/busybox httpd -f -p "$port" -h "$tmp/www/$ns" \
			>/dev/null 2>&1 &
		pids+=($!)
		for ((i = 0; i < 30; i++)); do
			ip netns exec "$ns" ss -Hltn "sport = :$port" | grep -q . && break
			sleep 0.1
		done
	done
}
httpd tr 8080
httpd tk 8080
# The direct variant uses another port: a direct flow client:P -> pod:8080 would clash
# in node1's conntrack with the reply tuple of an earlier DNAT'ed flow from the same P.
httpd tk 8081

"$NP_BIN" --node tr-node1 service add web --vip "$VIP:80/tcp" --type loadbalancer \
	--backend "$B1:8080" --backend "$B2:8080" >"$tmp/svc.out" 2>&1 ||
	die "service add on tr-node1: $(cat "$tmp/svc.out")"

# kube-proxy's nftables mode, in miniature: one service, two endpoints.
ip netns exec tk-node1 nft -f - <<EOF || die "nft rules on tk-node1 refused"
table ip kp {
	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		ip daddr $VIP tcp dport 80 numgen random mod 2 vmap { 0 : jump be1, 1 : jump be2 }
	}
	chain be1 {
		meta l4proto tcp dnat to $B1:8080
	}
	chain be2 {
		meta l4proto tcp dnat to $B2:8080
	}
}
EOF

# Both paths must answer, from both backends, before anything is measured.
for l in tr tk; do
	seen=$(for ((i = 0; i < 10; i++)); do
		ip netns exec "$l-client1" curl -s --max-time 2 "http://$VIP/"
	done | sort -u | tr '\n' ' ')
	echo "# $l: 10 curls to $VIP answered by: ${seen:-nobody}"
	[ "$(echo "$seen" | wc -w)" = 2 ] || die "$l: the VIP is not answered by both pods ($seen)"
done

declare -A V
V[vip.xdp]="tr http://$VIP/"
V[vip.tc]="tr http://$VIP/"
V[vip.nft]="tk http://$VIP/"
V[pod.direct]="tk http://$B1:8081/"
ORDER=(vip.xdp vip.nft vip.tc pod.direct)

# run LAB URL: one wrk run from LAB's client1; prints requests/s or "fail".
run() {
	local l=$1 u=$2 out rps err
	out=$(ip netns exec "$l-client1" timeout $((SECS + 10)) wrk -t1 -c8 -d"${SECS}s" --timeout 2s "$u" 2>&1)
	rps=$(echo "$out" | awk '/^Requests\/sec:/ {print $2}')
	err=$(echo "$out" | grep -E 'Socket errors|Non-2xx' | tr -s ' ' | tr '\n' ' ')
	[ -n "$err" ] && echo "# $l $u: $err" >&2
	echo "${rps:-fail}"
}

xdp() {
	"$NP_BIN" --node tr-node1 xdp-mode "$1" >/dev/null 2>&1 || echo "svc_rps: xdp-mode $1 on tr-node1 failed" >&2
}

for ((r = 1; r <= ROUNDS; r++)); do
	for k in "${ORDER[@]}"; do
		[ $k = vip.tc ] && xdp off
		# shellcheck disable=SC2086 # two words
		g=$(run ${V[$k]})
		[ $k = vip.tc ] && xdp native
		echo "$g" >>"$tmp/$k"
		printf 'round %d  %-11s %s req/s\n' "$r" "$k" "$g"
	done
done

# stats KEY: "median min max" of the runs (failed runs left out).
stats() {
	grep -v fail "$tmp/$1" | sort -g | awk '{ v[NR] = $1 } END {
		if (!NR) { print "- - -"; exit }
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%.0f %.0f %.0f\n", m, v[1], v[NR] }'
}

echo
printf "%-44s %8s %8s %8s %5s\n" "variant (requests/s)" median min max runs
declare -A MED
for k in "${ORDER[@]}"; do
	case $k in
	vip.xdp) d="VIP, nodepath (XDP native DNAT)" ;;
	vip.tc) d="VIP, nodepath with XDP off (tc DNAT)" ;;
	vip.nft) d="VIP, nftables DNAT (kube-proxy style)" ;;
	pod.direct) d="pod1 directly, no service (host routing)" ;;
	esac
	read -r med mn mx <<<"$(stats "$k")"
	printf "%-44s %8s %8s %8s %5s\n" "$d" "$med" "$mn" "$mx" "$(grep -vc fail "$tmp/$k")"
	MED[$k]=$med
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 > 0 && a + 0 > 0) printf "%.2fx", a / b; else print "-" }'; }
echo "ratio nodepath (XDP) / nftables DNAT:        $(ratio "${MED[vip.xdp]}" "${MED[vip.nft]}")"
echo "ratio nodepath (tc, XDP off) / nftables DNAT: $(ratio "${MED[vip.tc]}" "${MED[vip.nft]}")"
echo "ratio nftables DNAT / no service:            $(ratio "${MED[vip.nft]}" "${MED[pod.direct]}")"
echo "lb counters on tr-node1: $("$NP_BIN" --node tr-node1 stats 2>/dev/null | grep -E 'lb_|no_backend' | tr -s ' ' | tr '\n' ' ')"
