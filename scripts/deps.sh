#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Installs everything nodepath builds and tests with, on Debian 12, as root.
# Idempotent: a second run installs nothing and only re-checks.
set -euo pipefail

log() { echo "deps: $*"; }
die() { echo "deps: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must run as root (apt-get, bpffs mount)"
. /etc/os-release
[ "${ID:-}" = debian ] || log "warning: not Debian (${ID:-unknown}); package names may differ"

export DEBIAN_FRONTEND=noninteractive
APT_OPTS=(-y -q --no-install-recommends -o Dpkg::Use-Pty=0)

# Packages from bookworm-backports: libbpf >= 1.3 (tcx/netkit attach), bpftool >= 7.3, iproute2 with netkit.
BACKPORTS=(libbpf-dev bpftool iproute2)
# Packages from the base release. nginx-light: the HTTP server bench/svc_rps.sh runs
# in pod namespaces with its own config (the packaged service is not used).
BASE=(build-essential make gcc clang llvm pkg-config libelf-dev zlib1g-dev
	libxdp-dev liburing-dev libcmocka-dev libmnl-dev libyaml-dev libjson-c-dev
	nftables iptables iperf3 netcat-openbsd iputils-ping curl tcpdump ethtool
	qemu-system-x86 busybox-static cpio xz-utils strace gnuplot-nox clang-format
	libclang-rt-14-dev wrk nginx-light jq)

missing=()
need_pkg() {
	local p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
	done
}

codename=${VERSION_CODENAME:-bookworm}
bp="${codename}-backports"
has_backports() {
	grep -rqs -- "$bp" /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null
}

libbpf_ok() {
	# libbpf-dev from backports is 1:1.4.x; the base release has 1:1.1.x.
	local v
	v=$(dpkg-query -W -f='${Version}' libbpf-dev 2>/dev/null) || return 1
	dpkg --compare-versions "$v" ge 1:1.3
}

updated=0
apt_update() { [ $updated -eq 1 ] || { log "apt-get update"; apt-get update -q >/dev/null; updated=1; }; }

if ! has_backports; then
	log "adding $bp to apt sources"
	echo "deb http://deb.debian.org/debian $bp main" >/etc/apt/sources.list.d/nodepath-backports.list
	updated=0
fi

need_pkg "${BASE[@]}"
if [ ${#missing[@]} -gt 0 ]; then
	apt_update
	log "installing: ${missing[*]}"
	# Packages such as nginx-light start a system service when installed; nodepath
	# only runs their binaries inside lab namespaces, so keep the host's services
	# as they were (policy-rc.d 101: "action forbidden"), unless a policy exists.
	own_policy=0
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod 0755 /usr/sbin/policy-rc.d
		own_policy=1
	fi
	rc=0
	apt-get install "${APT_OPTS[@]}" "${missing[@]}" >/dev/null || rc=$?
	[ $own_policy -eq 0 ] || rm -f /usr/sbin/policy-rc.d
	[ $rc -eq 0 ] || die "apt-get install ${missing[*]} failed (exit $rc)"
fi

need_bp=0
libbpf_ok || need_bp=1
command -v bpftool >/dev/null 2>&1 && bpftool version >/dev/null 2>&1 || need_bp=1
ip -V 2>/dev/null | grep -qE 'iproute2-(6\.([5-9]|[1-9][0-9])|[7-9])' || need_bp=1
if [ $need_bp -eq 1 ]; then
	apt_update
	log "installing from $bp: ${BACKPORTS[*]}"
	apt-get install "${APT_OPTS[@]}" -t "$bp" "${BACKPORTS[@]}" >/dev/null
fi

libbpf_ok || die "libbpf-dev $(dpkg-query -W -f='${Version}' libbpf-dev 2>/dev/null || echo none) is older than 1.3; nodepath needs bpf_program__attach_tcx (install it from $bp)"
bpftool gen help >/dev/null 2>&1 || die "bpftool cannot generate skeletons"

# Kernel: BPF syscall, tcx (6.6+), XDP sockets.
kver=$(uname -r)
kmaj=${kver%%.*}; rest=${kver#*.}; kmin=${rest%%.*}
if [ "$kmaj" -lt 6 ] || { [ "$kmaj" -eq 6 ] && [ "$kmin" -lt 6 ]; }; then
	die "kernel $kver is older than 6.6: it has no tcx, which nodepath attaches to"
fi
[ -e /proc/sys/net/core/bpf_jit_enable ] || die "kernel $kver has no BPF JIT/syscall support (CONFIG_BPF_SYSCALL)"

# bpffs: not mounted at boot on every machine.
if ! mount | grep -q ' /sys/fs/bpf type bpf'; then
	log "mounting bpffs on /sys/fs/bpf"
	mkdir -p /sys/fs/bpf
	mount -t bpf bpf /sys/fs/bpf
fi
mkdir -p /run/netns
log "ok: libbpf $(dpkg-query -W -f='${Version}' libbpf-dev), $(bpftool version | head -1), $(ip -V), kernel $kver"
