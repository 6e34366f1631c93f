#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The vm tier (scripts/run-tier.sh vm): every tests/vm/guest_*.sh in ONE boot of a
# guest kernel that has netkit (scripts/vm.sh), their TAP numbered as one stream.
# Skips (ok 1 # SKIP vm tier: why) only when qemu, busybox, cpio, root or the kernel
# package are truly unavailable. Exits 0 when it ran: failures are in the TAP.
#
#   tests/vm/run.sh            on the host
#   tests/vm/run.sh --guest    inside the guest: runs the guest scripts one by one
#   NP_VM_ONLY=guest_afxdp tests/vm/run.sh    only the named guest script(s), comma-separated
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
here=$top/tests/vm

skip() {
	echo "ok 1 # SKIP vm tier: $1"
	exit 0
}

# ---- inside the guest --------------------------------------------------------

if [ "${1:-}" = --guest ]; then
	tmp=$(mktemp)
	for g in "$here"/guest_*.sh; do
		[ -f "$g" ] || continue
		name=$(basename "$g" .sh)
		# NP_VM_ONLY (given here as $2): only these guest scripts
		[ -n "${2:-}" ] && [[ ",$2," != *",$name,"* ]] && continue
		echo "# vm: $name"
		s=$(date +%s%N)
		timeout --kill-after=10 300 bash "$g" >"$tmp" 2>&1
		rc=$?
		cat "$tmp"
		echo "# vm: $name took $((($(date +%s%N) - s) / 1000000)) ms in the guest"
		if [ $rc -ne 0 ] && ! grep -q '^not ok' "$tmp"; then
			[ $rc -eq 124 ] && echo "not ok - $name timed out after 300 s" ||
				echo "not ok - $name exited with status $rc"
		fi
		grep -qE '^(not )?ok ' "$tmp" || echo "not ok - $name reported no test"
	done
	rm -f "$tmp"
	exit 0
fi

# ---- on the host ---------------------------------------------------------------

[ "$(id -u)" -eq 0 ] || skip "needs root (qemu shares / over 9p; the kernel is fetched with apt)"
command -v qemu-system-x86_64 >/dev/null ||
	skip "qemu-system-x86_64 is not installed (scripts/deps.sh installs qemu-system-x86)"
[ -x /bin/busybox ] || skip "busybox is not installed (scripts/deps.sh installs busybox-static)"
command -v cpio >/dev/null || skip "cpio is not installed (scripts/deps.sh installs it)"

t0=$(date +%s.%N)
# The kernel download (first use only) and the initrd; a failure here is a skip.
if ! prep=$(bash "$top/scripts/vm.sh" --prepare 2>&1); then
	skip "$(echo "$prep" | tail -1 | sed 's/^vm: //')"
fi
[ -n "$prep" ] && echo "$prep" | sed 's/^/# /'

out=$(mktemp)
trap 'rm -f "$out"' EXIT
# (scripts/vm.sh keeps NP_VM_* to itself: the filter travels as an argument)
bash "$top/scripts/vm.sh" "$here/run.sh" --guest "${NP_VM_ONLY:-}" >"$out" 2>&1
rc=$?
t1=$(date +%s.%N)

# one TAP stream: renumber, drop the guest scripts' plans, pass comments, quote the rest
awk '
	/^(not )?ok / {
		nok = ($1 == "not")
		sub(/^(not )?ok( [0-9]+)?( -)? ?/, "")
		printf "%sok %d - %s\n", nok ? "not " : "", ++n, $0
		next
	}
	/^[0-9]+\.\.[0-9]+/ { next }
	/^#/ { print; next }
	{ print "# " $0 }
	END { print n + 0 > "/dev/stderr" }' "$out" 2>"$out.n"
n=$(cat "$out.n")
rm -f "$out.n"
if [ $rc -ne 0 ] && [ "$n" -eq 0 ] || [ $rc -eq 125 ] || [ $rc -eq 126 ]; then
	n=$((n + 1))
	echo "not ok $n - vm: the guest did not finish its tests (scripts/vm.sh status $rc)"
fi
echo "1..$n"
echo "# vm: $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s wall time, one boot"
exit 0
