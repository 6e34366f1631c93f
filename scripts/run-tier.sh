#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Runs one test tier and writes its TAP to build/test-results/<tier>.tap.
#   unit: build/tests/unit/test_*   (cmocka, no privileges)
#   bpf:  build/tests/bpf/test_*    (cmocka, BPF_PROG_TEST_RUN, root)
#   e2e:  tests/e2e/*.sh            (the lab, real clients, root)
#   vm:   tests/vm/run.sh           (netkit kernels under qemu)
# A test binary that dies without reporting a failure is counted as one.
set -u
tier=${1:?usage: run-tier.sh unit|bpf|e2e|vm}
top=$(cd "$(dirname "$0")/.." && pwd)
out=$top/build/test-results
mkdir -p "$out"
tap=$out/$tier.tap
: >"$tap"
export CMOCKA_MESSAGE_OUTPUT=TAP
export NP_TOP=$top NP_BIN=$top/build/nodepath

skip_all() { echo "ok 1 # SKIP $tier tier: $1" >>"$tap"; echo "$tier: SKIP ($1)"; exit 0; }
run_one() { # name timeout cmd...
	local name=$1 t=$2 log rc
	shift 2
	log=$(mktemp)
	echo "== $tier: $name"
	timeout --kill-after=10 "$t" "$@" >"$log" 2>&1
	rc=$?
	cat "$log"
	grep -E '^(not )?ok ' "$log" | sed "s|^\(not \)\?ok [0-9]*|&  [$name]|" >>"$tap"
	if [ $rc -ne 0 ] && ! grep -q '^not ok' "$log"; then
		[ $rc -eq 124 ] && echo "not ok - [$name] timed out after ${t}s" >>"$tap" ||
			echo "not ok - [$name] exited with status $rc" >>"$tap"
	fi
	if [ $rc -eq 0 ] && ! grep -qE '^(not )?ok ' "$log"; then
		echo "not ok - [$name] reported no test" >>"$tap"
	fi
	rm -f "$log"
}

case $tier in
unit)
	for t in "$top"/build/tests/unit/test_*; do
		[ -x "$t" ] && run_one "$(basename "$t")" 120 "$t"
	done
	;;
bpf)
	[ "$(id -u)" -eq 0 ] || skip_all "needs root for BPF_PROG_TEST_RUN"
	for t in "$top"/build/tests/bpf/test_*; do
		[ -x "$t" ] && run_one "$(basename "$t")" 300 "$t"
	done
	;;
e2e)
	[ "$(id -u)" -eq 0 ] || skip_all "needs root for network namespaces"
	for t in "$top"/tests/e2e/test_*.sh; do
		[ -f "$t" ] && run_one "$(basename "$t" .sh)" 600 bash "$t"
	done
	;;
vm)
	[ -f "$top/tests/vm/run.sh" ] || exit 0
	run_one vm 1200 bash "$top/tests/vm/run.sh"
	;;
*)
	echo "run-tier.sh: unknown tier '$tier' (unit, bpf, e2e, vm)" >&2
	exit 2
	;;
esac
exit 0
