#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# HTTP requests per second through a service VIP: the datapath against a
# kube-proxy-style nftables DNAT, in one run.
#
#   bench/svc_rps.sh [ROUNDS] [SECS]      (default 3 rounds of 5 s; root; under 3 min)
#   env NP_RPS_LABS="tr tk"               the two lab names (nodepath, nftables)
#
# Two labs side by side: "tr" (pods are veth endpoints of the datapath; node1 has a
# LoadBalancer service 198.18.100.10:80/tcp -> its two pods, Maglev, conntrack, DNAT on
# the uplink, reverse NAT on the pods' egress) and "tk" (`--pod-dev none`: no BPF;
# node1's kernel routes, and an nftables table in the style of kube-proxy's nftables
# mode DNATs the same VIP to the same two pods: numgen random mod 2 -> a chain per
# backend). In each pod nginx (one worker, no fork per connection, no access log)
# answers every request with its pod name, from memory, on :8080 and :8081.
#
# Two load shapes, wrk -t1 -c8 -dSECS from client1:
#   ka  keep-alive: 8 connections for the whole run (the balancer sees 8 flows; this
#       measures the per-packet cost: conntrack hit, NAT, checksums)
#   cc  `Connection: close`: a new connection per request (a new flow per request:
#       service lookup, selection, conntrack create, and the kernel's connection setup)
# Paths (rounds interleaved, every shape x path once per round):
#   xdp     tr, XDP native on node1's uplink. In the lab every client is a local socket:
#           its frames reach the uplink as CHECKSUM_PARTIAL skbs, which the XDP program
#           passes to tc (README "Services"): the tc uplink program balances them. The
#           per-run counters (balanced in xdp / tc) show where it happened.
#   gen     tr, `xdp-mode generic` for that run
#   tc      tr, `xdp-mode off` for that run (only the tc uplink program)
#   nft     tk, nftables DNAT
#   direct  tk, client1 -> pod1:8081, no service (host routing: the server's ceiling on
#           this topology; another port than the DNAT target so that a direct flow never
#           meets a DNAT'ed flow's reply tuple in node1's conntrack)
# Prints every run, then median / min / max requests/s per shape and path and the
# ratios. Both labs and the servers are taken down on exit.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
NP_BIN=${NP_BIN:-$top/build/nodepath}
ROUNDS=${1:-3}
SECS=${2:-5}
read -r LT LK <<<"${NP_RPS_LABS:-tr tk}"
LABS=("$LT" "${LK:-}")
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
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${pids[@]}"; do
		wait "$p" 2>/dev/null
	done
	for l in "${LABS[@]}"; do
		[ -n "$l" ] && "$NP_BIN" lab down --name "$l" >/dev/null 2>&1
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

[ "$(id -u)" -eq 0 ] || die "needs root"
[ -x "$NP_BIN" ] || die "$NP_BIN is not built (make build/nodepath)"
for c in wrk nft nginx jq curl; do
	command -v $c >/dev/null || die "$c is not installed (scripts/deps.sh installs it)"
done
[[ "$ROUNDS" =~ ^[1-9][0-9]?$ ]] || die "ROUNDS '$ROUNDS': 1..99"
[[ "$SECS" =~ ^[1-9][0-9]?$ ]] || die "SECS '$SECS': 1..99"
[ -n "${LK:-}" ] && [ "$LT" != "$LK" ] || die "NP_RPS_LABS: two different lab names"

echo "# $(uname -r), $(nproc) cpus, $(date -u +%FT%TZ); wrk -t1 -c8 -d${SECS}s," \
	"$ROUNDS rounds, interleaved; $(nginx -v 2>&1 | sed 's|.*: ||'), 1 worker per pod"
for l in "${LABS[@]}"; do
	"$NP_BIN" lab down --name "$l" >/dev/null 2>&1
done
"$NP_BIN" lab up --name "$LT" >"$tmp/lt.up" 2>&1 || die "lab up $LT: $(tail -3 "$tmp/lt.up")"
"$NP_BIN" lab up --name "$LK" --pod-dev none >"$tmp/lk.up" 2>&1 ||
	die "lab up $LK: $(tail -3 "$tmp/lk.up")"

# The client's ephemeral ports: in the `cc` shape the side that closes first keeps
# the TIME_WAIT (60 s), and connect() cannot take a port in TIME_WAIT towards the
# same address unless tcp_tw_reuse is 1 (the default 2 is loopback only). When the
# client wins the close race (a fast reply path: the FIN reaches the server before
# nginx closes), ~14k TIME_WAITs fill the half of 32768-60999 that connect() prefers,
# every connect() then scans the range and a run collapses to a few hundred req/s:
# that measures the client, not the path. Both labs' clients reuse such ports.
for l in "${LABS[@]}"; do
	ip netns exec "$l-client1" sysctl -qw net.ipv4.tcp_tw_reuse=1 ||
		die "tcp_tw_reuse in $l-client1 refused"
done

# servers LAB: nginx on :8080 and :8081 in node1's two pods of LAB (bounded: 20 minutes).
servers() {
	local l=$1 k ns ip d i
	for k in 1 2; do
		ns=$l-node1-pod$k
		ip=198.19.1.$((10 + k))
		d=$tmp/nginx/$ns
		mkdir -p "$d"
		cat >"$d/nginx.conf" <<-CONF
			daemon off;
			worker_processes 1;
			pid $d/nginx.pid;
			error_log $d/error.log;
			events {}
			http {
				access_log off;
				client_body_temp_path $d/body;
				proxy_temp_path $d/proxy;
				fastcgi_temp_path $d/fastcgi;
				uwsgi_temp_path $d/uwsgi;
				scgi_temp_path $d/scgi;
				keepalive_requests 1000000;
				server {
					listen $ip:8080;
					listen $ip:8081;
					location / { return 200 "$ns\n"; }
				}
			}
		CONF
		ip netns exec "$ns" timeout 1200 nginx -e "$d/error.log" -p "$d" -c "$d/nginx.conf" \
			>/dev/null 2>&1 &
		pids+=($!)
		for ((i = 0; i < 50; i++)); do
			ip netns exec "$ns" ss -Hltn "sport = :8081" | grep -q . && break
			sleep 0.1
		done
		ip netns exec "$ns" ss -Hltn "sport = :8081" | grep -q . ||
			die "nginx did not start in $ns: $(tail -2 "$d/error.log" 2>/dev/null)"
	done
}
servers "$LT"
servers "$LK"

"$NP_BIN" --node "$LT-node1" service add web --vip "$VIP:80/tcp" --type loadbalancer \
	--backend "$B1:8080" --backend "$B2:8080" >"$tmp/svc.out" 2>&1 ||
	die "service add on $LT-node1: $(cat "$tmp/svc.out")"

# kube-proxy's nftables mode, in miniature: one service, two endpoints.
ip netns exec "$LK-node1" nft -f - <<NFT || die "nft rules on $LK-node1 refused"
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
NFT

# Both paths must answer, from both backends, before anything is measured.
for l in "$LT" "$LK"; do
	seen=$(for ((i = 0; i < 12; i++)); do
		ip netns exec "$l-client1" curl -s --max-time 2 "http://$VIP/"
	done | sort -u | tr '\n' ' ')
	echo "# $l: 12 curls to $VIP answered by: ${seen:-nobody}"
	[ "$(echo "$seen" | wc -w)" = 2 ] || die "$l: the VIP is not answered by both pods ($seen)"
done

declare -A URL LAB
for p in xdp gen tc; do
	LAB[$p]=$LT URL[$p]="http://$VIP/"
done
LAB[nft]=$LK URL[nft]="http://$VIP/"
LAB[direct]=$LK URL[direct]="http://$B1:8081/"
PATHS=(xdp nft gen direct tc)
SHAPES=(ka cc)

# balanced: "xdp tc": lb_new + lb_ct_hit of each uplink hook on LT's node1.
balanced() {
	"$NP_BIN" --node "$LT-node1" stats --json 2>/dev/null | jq -r '.hooks |
		"\(.xdp.lb_new + .xdp.lb_ct_hit) \(.tc_uplink_in.lb_new + .tc_uplink_in.lb_ct_hit)"'
}

# run LAB URL SHAPE: one wrk run from LAB's client1; prints requests/s or "fail".
run() {
	local l=$1 u=$2 s=$3 out rps err hdr=()
	[ "$s" = cc ] && hdr=(-H 'Connection: close')
	out=$(ip netns exec "$l-client1" timeout $((SECS + 10)) \
		wrk -t1 -c8 -d"${SECS}s" --timeout 2s "${hdr[@]}" "$u" 2>&1)
	rps=$(echo "$out" | awk '/^Requests\/sec:/ {print $2}')
	err=$(echo "$out" | grep -E 'Socket errors|Non-2xx' | tr -s ' ' | tr '\n' ' ')
	[ -n "$err" ] && echo "# $l $s $u: $err" >&2
	echo "${rps:-fail}"
}

xdp() {
	"$NP_BIN" --node "$LT-node1" xdp-mode "$1" >/dev/null 2>&1 ||
		echo "svc_rps: xdp-mode $1 on $LT-node1 failed" >&2
}

for ((r = 1; r <= ROUNDS; r++)); do
	for s in "${SHAPES[@]}"; do
		for p in "${PATHS[@]}"; do
			case $p in
			gen) xdp generic ;;
			tc) xdp off ;;
			esac
			where=
			[ "${LAB[$p]}" = "$LT" ] && read -r x0 t0 <<<"$(balanced)"
			g=$(run "${LAB[$p]}" "${URL[$p]}" "$s")
			if [ "${LAB[$p]}" = "$LT" ]; then
				read -r x1 t1 <<<"$(balanced)"
				where="balanced: xdp $((x1 - x0)), tc $((t1 - t0)) packets"
			fi
			case $p in
			gen | tc) xdp native ;;
			esac
			echo "$g" >>"$tmp/$s.$p"
			printf 'round %d  %-2s %-7s %10s req/s  %s\n' "$r" "$s" "$p" "$g" "$where"
		done
	done
done

# stats KEY: "median min max" of the runs (failed runs left out).
stats() {
	grep -v fail "$tmp/$1" | sort -g | awk '{ v[NR] = $1 } END {
		if (!NR) { print "- - -"; exit }
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%.0f %.0f %.0f\n", m, v[1], v[NR] }'
}
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (b + 0 > 0 && a + 0 > 0) printf "%.2fx", a / b; else print "-" }'
}

declare -A MED
echo
printf "%-50s %9s %9s %9s %5s\n" "requests/s (wrk -t1 -c8 -d${SECS}s)" median min max runs
for s in "${SHAPES[@]}"; do
	case $s in
	ka) echo "keep-alive:" ;;
	cc) echo "new connection per request (Connection: close):" ;;
	esac
	for p in "${PATHS[@]}"; do
		case $p in
		xdp) d="VIP, nodepath, XDP native (balanced in tc)" ;;
		gen) d="VIP, nodepath, XDP generic" ;;
		tc) d="VIP, nodepath, XDP off (tc)" ;;
		nft) d="VIP, nftables DNAT (kube-proxy style)" ;;
		direct) d="pod1 directly, no service" ;;
		esac
		read -r med mn mx <<<"$(stats "$s.$p")"
		printf "  %-48s %9s %9s %9s %5s\n" "$d" "$med" "$mn" "$mx" \
			"$(grep -vc fail "$tmp/$s.$p")"
		MED[$s.$p]=$med
	done
done
echo
printf "%-44s %11s %11s\n" "ratio of medians" keep-alive new-conn
for q in "xdp nft nodepath XDP native / nftables" "gen nft nodepath XDP generic / nftables" \
	"tc nft nodepath XDP off / nftables" "nft direct nftables / no service" \
	"xdp direct nodepath XDP native / no service"; do
	read -r a b d <<<"$q"
	printf "%-44s %11s %11s\n" "$d" "$(ratio "${MED[ka.$a]}" "${MED[ka.$b]}")" \
		"$(ratio "${MED[cc.$a]}" "${MED[cc.$b]}")"
done
echo "lb counters on $LT-node1: $("$NP_BIN" --node "$LT-node1" stats 2>/dev/null |
	grep -E 'lb_|no_backend' | tr -s ' ' | tr '\n' ' ')"
