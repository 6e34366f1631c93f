#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Runs a script as root inside a qemu guest that boots a Debian kernel with netkit.
#
#   scripts/vm.sh GUEST_SCRIPT [ARGS...]   boot, run `bash GUEST_SCRIPT ARGS...`, power off
#   scripts/vm.sh --prepare                only fetch the kernel and build the initrd
#
# The guest's root is the host's / shared read-only over virtio-9p (the guest runs the
# host's own binaries: no rootfs to build). The repo holding this script is shared
# read-write at the same path, so build/ results and the guest's output land on the host.
# tmpfs covers /run /tmp /var/tmp; proc, sys, dev, bpffs, cgroup2, debugfs are the guest's.
# The guest has no network device (-nic none) and never touches the host's interfaces.
#
# The kernel is the bookworm-backports linux-image-amd64 (generic flavour: it has 9p as
# modules and CONFIG_NETKIT=y). Its .deb is downloaded, never installed: vmlinuz, config
# and the few modules the guest loads are unpacked into the cache, then the .deb is deleted.
#
# Exit status: the guest script's; 125 when the guest never finished (the console tail is
# printed); 126 when the VM could not be set up (the reason is printed).
#
# Environment:
#   NP_VM_CACHE    kernel, modules and initrd (default /var/cache/nodepath-vm)
#   NP_VM_TIMEOUT  seconds before qemu is killed (default 900)
#   NP_VM_ACCEL    kvm | tcg | auto (default auto: KVM only if the CPU has vmx/svm,
#                  /dev/kvm is writable and a probe boot succeeds; else TCG)
#   NP_VM_MEM      guest memory (default 1G)
#   NP_VM_SUITE    where linux-image-amd64 comes from (default <codename>-backports)
# The guest script gets NP_TOP (the repo), NP_BIN, NP_VM_GUEST=1, every NP_* variable
# of the caller and CMOCKA_MESSAGE_OUTPUT.
set -euo pipefail

# the physical path: the guest mounts the repo there, symlinks would not resolve
top=$(cd "$(dirname "$0")/.." && pwd -P)
cache=${NP_VM_CACHE:-/var/cache/nodepath-vm}
vm_timeout=${NP_VM_TIMEOUT:-900}
accel=${NP_VM_ACCEL:-auto}
mem=${NP_VM_MEM:-1G}
suite=${NP_VM_SUITE:-$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")-backports}
# Modules the guest loads; their dependencies are found from each module's modinfo.
want_mods=(9p 9pnet_virtio sch_ingress cls_bpf act_bpf veth bridge)

log() { echo "vm: $*" >&2; }
fail() {
	echo "vm: $*" >&2
	exit 126
}

# ---- the kernel -------------------------------------------------------------

# kernel_pkg: the linux-image-<version>-amd64 package that linux-image-amd64 pulls in,
# from $suite, else from the release itself (a newer release's kernel has netkit too).
resolve_pkg() {
	local p
	p=$(apt-cache depends -t "$suite" linux-image-amd64 2>/dev/null |
		awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
	[ -n "$p" ] || p=$(apt-cache depends linux-image-amd64 2>/dev/null |
		awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
	echo "$p"
}

kernel_pkg() {
	local p
	p=$(resolve_pkg)
	if [ -z "$p" ]; then
		log "linux-image-amd64 not found in $suite; running apt-get update"
		apt-get update -q >/dev/null 2>&1 || log "apt-get update failed"
		p=$(resolve_pkg)
	fi
	echo "$p"
}

# mod_file DIR NAME: the module file for NAME (modinfo spells '-' as '_').
declare -A mod_path
index_mods() {
	local f n
	while IFS= read -r f; do
		n=$(basename "$f")
		n=${n%%.ko*}
		mod_path[${n//-/_}]=$f
	done < <(find "$1" -name '*.ko*')
}

mod_cat() {
	case $1 in
	*.ko.xz) xz -dc "$1" ;;
	*.ko) cat "$1" ;;
	*) return 1 ;;
	esac
}

# add_mod NAME: copies NAME and, first, what it depends on into $kdir.new/mod,
# appending to the load order. Built-in modules are skipped.
declare -A mod_done
mod_order=()
add_mod() {
	local m=${1//-/_} f deps d
	[ -n "${mod_done[$m]:-}" ] && return 0
	mod_done[$m]=1
	f=${mod_path[$m]:-}
	if [ -z "$f" ]; then
		grep -qE "/${m//_/[_-]}\.ko\$" "$kdir.new/modules.builtin" 2>/dev/null && return 0
		fetch_fail "module $m is neither in the package nor built in"
	fi
	mod_cat "$f" >"$kdir.new/mod/$m.ko" || fetch_fail "cannot decompress $f (only .ko and .ko.xz)"
	deps=$(tr '\0' '\n' <"$kdir.new/mod/$m.ko" | sed -n 's/^depends=//p' | head -1)
	for d in ${deps//,/ }; do
		add_mod "$d"
	done
	mod_order+=("$m")
}

# fetch_fail MSG: a failed fetch leaves neither the .deb nor a half-made kernel dir.
fetch_fail() {
	rm -rf "$kdir.new" "$cache/dl"
	fail "$@"
}

fetch_kernel() {
	local deb x
	rm -rf "$kdir.new" "$cache/dl"
	mkdir -p "$kdir.new/mod" "$cache/dl"
	log "downloading $kpkg (about 100 MB, once)"
	# apt drops privileges to _apt for the download when it can write there
	chown _apt "$cache/dl" 2>/dev/null || true
	(cd "$cache/dl" && apt-get download -q "$kpkg" >/dev/null 2>"$cache/dl/err") ||
		fetch_fail "apt-get download $kpkg failed: $(tail -1 "$cache/dl/err")"
	deb=$(ls "$cache"/dl/*.deb)
	log "unpacking vmlinuz, config and modules from $(basename "$deb")"
	x=$cache/dl/x
	mkdir -p "$x"
	dpkg-deb --fsys-tarfile "$deb" |
		tar -C "$x" -x --wildcards '*/boot/vmlinuz-*' '*/boot/config-*' \
			'*/modules/*/kernel/*' '*/modules/*/modules.builtin' ||
		fetch_fail "unpacking $deb failed"
	rm -f "$deb"
	mv "$x"/boot/vmlinuz-* "$kdir.new/vmlinuz"
	mv "$x"/boot/config-* "$kdir.new/config"
	if ! grep -q '^CONFIG_NETKIT=y' "$kdir.new/config"; then
		touch "$cache/$kpkg.no-netkit" # not downloaded again
		fetch_fail "$kpkg has no CONFIG_NETKIT=y; the vm tier needs netkit"
	fi
	find "$x" -name modules.builtin -exec cp {} "$kdir.new/modules.builtin" \;
	index_mods "$x"
	for x in "${want_mods[@]}"; do
		add_mod "$x"
	done
	printf '%s\n' "${mod_order[@]}" >"$kdir.new/mod/order"
	rm -rf "$cache/dl"
	rm -rf "$kdir" && mv "$kdir.new" "$kdir"
	log "kernel cached in $kdir ($(du -sh "$kdir" | cut -f1)); modules: ${mod_order[*]}"
}

# ---- the initrd -------------------------------------------------------------

# The guest's /init: mount the host's / read-only, the repo read-write, run the
# command file np_run names, write its output and status next to it, power off.
# np_probe: only say that the kernel reached user space.
init_script() {
	cat <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
bye() {
	[ -n "$1" ] && echo "np-vm: $1"
	sync
	poweroff -f
}
share= run= probe=
for w in $(cat /proc/cmdline); do
	case $w in
	np_share=*) share=${w#np_share=} ;;
	np_run=*) run=${w#np_run=} ;;
	np_probe) probe=1 ;;
	esac
done
[ -n "$probe" ] && bye "probe ok"
echo np-vm: loading $(cat /lib/mod/order)
for m in $(cat /lib/mod/order); do
	insmod /lib/mod/$m.ko || echo "np-vm: insmod $m failed"
done
R=/newroot
mkdir -p $R
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144,cache=loose hostroot $R ||
	bye "cannot mount the host root over 9p"
for d in run tmp var/tmp; do
	mount -t tmpfs -o mode=1777 tmpfs $R/$d
done
mount -t proc proc $R/proc
mount -t sysfs sys $R/sys
mount -t devtmpfs dev $R/dev
mkdir -p $R/dev/pts $R/dev/shm
mount -t devpts devpts $R/dev/pts
mount -t tmpfs tmpfs $R/dev/shm
mount -t bpf bpf $R/sys/fs/bpf
mount -t cgroup2 cgroup2 $R/sys/fs/cgroup
mount -t debugfs debugfs $R/sys/kernel/debug 2>/dev/null
mount -t tracefs tracefs $R/sys/kernel/tracing 2>/dev/null
mkdir -p "$R$share"
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 share "$R$share" ||
	bye "cannot mount the repo over 9p"
ip link set lo up
echo "np-vm: running $run/cmd"
chroot $R /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
	PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	/bin/bash "$run/cmd" >"$R$run/out" 2>&1 </dev/null
echo $? >"$R$run/rc"
bye "guest status $(cat "$R$run/rc")"
EOF
}

build_initrd() {
	local key root
	key=$( (
		init_script
		stat -c '%s %Y' /bin/busybox
		cat "$kdir/mod/order"
	) | sha256sum | cut -c1-16)
	[ -f "$kdir/initrd.img" ] && [ "$(cat "$kdir/initrd.key" 2>/dev/null)" = "$key" ] && return 0
	root=$cache/initrd-root
	rm -rf "$root"
	mkdir -p "$root"/{bin,lib/mod,proc,sys,dev,newroot}
	cp /bin/busybox "$root/bin/busybox"
	ln -s busybox "$root/bin/sh"
	cp "$kdir"/mod/*.ko "$kdir/mod/order" "$root/lib/mod/"
	init_script >"$root/init"
	chmod 755 "$root/init"
	(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$kdir/initrd.img.tmp"
	mv "$kdir/initrd.img.tmp" "$kdir/initrd.img"
	echo "$key" >"$kdir/initrd.key"
	rm -rf "$root"
}

prepare() {
	local t
	for t in qemu-system-x86_64 cpio xz dpkg-deb apt-get timeout; do
		command -v $t >/dev/null || fail "$t is not installed (scripts/deps.sh installs it)"
	done
	[ -x /bin/busybox ] && /bin/busybox --list 2>/dev/null | grep -x insmod >/dev/null ||
		fail "/bin/busybox (busybox-static) is not installed (scripts/deps.sh installs it)"
	[ "$(id -u)" -eq 0 ] || fail "needs root (apt-get download into $cache, 9p export of /)"
	mkdir -p "$cache"
	exec 9>"$cache/lock"
	flock 9
	kpkg=$(kernel_pkg)
	if [ -z "$kpkg" ]; then
		# no apt lists: a kernel fetched earlier still serves
		kpkg=$(find "$cache" -mindepth 2 -maxdepth 2 -path '*/linux-image-*/vmlinuz' |
			head -1 | xargs -r dirname | xargs -r basename)
		[ -n "$kpkg" ] || fail "cannot resolve linux-image-amd64 in $suite (is it in the apt sources?)"
		log "using the cached $kpkg"
	fi
	kdir=$cache/$kpkg
	[ -e "$kdir.no-netkit" ] &&
		fail "$kpkg has no CONFIG_NETKIT=y (found before; is $suite in the apt sources?)"
	[ -f "$kdir/vmlinuz" ] && [ -f "$kdir/mod/order" ] || fetch_kernel
	# a cache made before a module joined want_mods: fetch again
	local m
	for m in "${want_mods[@]}"; do
		grep -qx "$m" "$kdir/mod/order" ||
			grep -qE "/${m//_/[_-]}\.ko\$" "$kdir/modules.builtin" || {
			log "module $m is not in the cached kernel dir; fetching it again"
			fetch_kernel
			break
		}
	done
	# an older kernel left behind by a newer backports release
	find "$cache" -mindepth 1 -maxdepth 1 -name 'linux-image-*' ! -name "$kpkg" \
		-exec rm -rf {} +
	build_initrd
	flock -u 9
}

# ---- running ----------------------------------------------------------------

qemu_pid=
qemu_stop() {
	[ -n "$qemu_pid" ] && kill "$qemu_pid" 2>/dev/null
	qemu_pid=
}

# qemu_run SECS CONSOLE_LOG ACCEL_ARGS EXTRA_APPEND [QEMU ARGS...]
qemu_run() {
	local secs=$1 con=$2 acc=$3 extra=$4 rc=0
	shift 4
	# A KVM internal error pauses the guest instead of exiting: always bounded.
	# shellcheck disable=SC2086 # $acc is several words
	timeout --foreground --kill-after=5 "$secs" qemu-system-x86_64 $acc \
		-m "$mem" -smp "$(nproc)" -nodefaults -no-user-config -display none \
		-no-reboot -nic none -serial stdio \
		-kernel "$kdir/vmlinuz" -initrd "$kdir/initrd.img" \
		-append "console=ttyS0 panic=-1 quiet loglevel=4 mitigations=off $extra" \
		"$@" </dev/null >"$con" 2>&1 &
	qemu_pid=$!
	wait "$qemu_pid" || rc=$?
	qemu_pid=
	return $rc
}

pick_accel() {
	local con
	case $accel in
	tcg) acc_args="-accel tcg,thread=multi -cpu max" ;;
	kvm) acc_args="-accel kvm -cpu host" ;;
	auto)
		acc_args="-accel tcg,thread=multi -cpu max"
		grep -qwE 'vmx|svm' /proc/cpuinfo && [ -w /dev/kvm ] || return 0
		con=$(mktemp)
		# a /dev/kvm without vmx/svm (nested PVM) or a broken KVM: stay on TCG
		if qemu_run 60 "$con" "-accel kvm -cpu host" np_probe &&
			grep -q 'np-vm: probe ok' "$con"; then
			acc_args="-accel kvm -cpu host"
		else
			log "KVM probe boot failed; using TCG"
		fi
		rm -f "$con"
		;;
	*) fail "NP_VM_ACCEL=$accel: use kvm, tcg or auto" ;;
	esac
}

# write_cmd GUEST ARGS...: the command file the guest's /init runs in the chroot.
write_cmd() {
	local v
	{
		echo "# generated by scripts/vm.sh"
		printf 'export NP_TOP=%q NP_BIN=%q NP_VM_GUEST=1\n' "$top" "$top/build/nodepath"
		for v in ${!NP_@} CMOCKA_MESSAGE_OUTPUT; do
			case $v in NP_TOP | NP_BIN | NP_VM_*) continue ;; esac
			if [ -n "${!v+x}" ]; then
				printf 'export %s=%q\n' "$v" "${!v}"
			fi
		done
		printf 'cd %q || exit 125\n' "$top"
		printf 'exec /bin/bash'
		printf ' %q' "$@"
		echo
	} >"$run/cmd"
}

cleanup() {
	qemu_stop
	[ -n "${run:-}" ] || return 0
	[ -f "$run/console.log" ] && cp "$run/console.log" "$top/build/vm/console.log"
	rm -rf "$run"
}

[ $# -ge 1 ] || {
	echo "usage: scripts/vm.sh GUEST_SCRIPT [ARGS...] | --prepare" >&2
	exit 2
}
if [ "$1" = --prepare ]; then
	prepare
	exit 0
fi

guest=$(realpath "$1") || fail "no such guest script: $1"
shift
[ -f "$guest" ] || fail "no such guest script: $guest"
case $top in
*[[:space:]]*) fail "the repo path \"$top\" has white space; the kernel command line cannot carry it" ;;
esac
prepare
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
pick_accel
log "booting $kpkg (${acc_args%% -cpu*}, $(nproc) cpus, $mem)"

mkdir -p "$top/build/vm"
run=$(mktemp -d "$top/build/vm/run.XXXXXX")
# /run, /tmp and /var/tmp are tmpfs in the guest: a script there outside the repo is copied
case $guest in
"$top"/*) ;;
/run/* | /tmp/* | /var/tmp/*)
	cp "$guest" "$run/guest.sh"
	guest=$run/guest.sh
	;;
esac
write_cmd "$guest" "$@"

con=$run/console.log
rc=0
qemu_run "$vm_timeout" "$con" "$acc_args" "np_share=$top np_run=$run" \
	-fsdev local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap \
	-device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot \
	-fsdev "local,id=share,path=${top//,/,,},security_model=none" \
	-device virtio-9p-pci,fsdev=share,mount_tag=share || rc=$?

[ -f "$run/out" ] && cat "$run/out"
if [ ! -s "$run/rc" ]; then
	if [ $rc -eq 124 ]; then
		log "guest did not finish in ${vm_timeout}s (NP_VM_TIMEOUT)"
	else
		log "guest did not finish (qemu status $rc)"
	fi
	log "console tail (all of it in $top/build/vm/console.log):"
	tail -n 30 "$con" | sed 's/^/vm| /' >&2
	exit 125
fi
exit "$(cat "$run/rc")"
