#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vm tier, runs inside the guest (scripts/vm.sh): the bpf tier's binaries
# (build/tests/bpf/test_*, built on the host) on the guest's older kernel, so the
# BPF programs are shown to load and judge alike there. Their TAP passes through,
# numbered on, each description prefixed with "[guest <uname -r>]".
set -u
NP_TOP=${NP_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}

if [ -z "${NP_VM_GUEST:-}" ]; then
	echo "1..0 # SKIP runs inside the guest: scripts/vm.sh tests/vm/guest_bpf.sh"
	exit 0
fi

export CMOCKA_MESSAGE_OUTPUT=TAP
tag="[guest $(uname -r)]"
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
n=0 failed=0 ran=0

for t in "$NP_TOP"/build/tests/bpf/test_*; do
	[ -x "$t" ] && [ -f "$t" ] || continue
	case $t in *.d | *.o) continue ;; esac
	ran=1
	name=$(basename "$t")
	echo "# $name on $(uname -r)"
	timeout --kill-after=10 300 "$t" >"$tmp" 2>&1
	rc=$?
	# renumber and tag the TAP lines; plans are dropped (one is printed at the end)
	awk -v n="$n" -v tag="$tag" '
		/^(not )?ok [0-9]+/ {
			nok = ($1 == "not")
			sub(/^(not )?ok [0-9]+( -)? ?/, "")
			printf "%sok %d - %s %s\n", nok ? "not " : "", ++n, tag, $0
			next
		}
		/^[0-9]+\.\.[0-9]+/ { next }
		/^#/ { print; next }
		{ print "# " $0 }
		END { print n > "/dev/stderr" }' "$tmp" 2>"$tmp.n"
	n=$(cat "$tmp.n")
	rm -f "$tmp.n"
	grep -q '^not ok' "$tmp" && failed=1
	if [ $rc -ne 0 ] && ! grep -q '^not ok' "$tmp"; then
		n=$((n + 1)) failed=1
		echo "not ok $n - $tag $name exited with status $rc"
	fi
done
if [ $ran -eq 0 ]; then
	n=1
	echo "ok 1 - $tag bpf tier binaries # SKIP none under build/tests/bpf (make all)"
fi
echo "1..$n"
exit $failed
