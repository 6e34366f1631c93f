#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Runs one test tier and writes its TAP to build/test-results/<tier>.tap.
#   unit: build/tests/unit/test_*   (cmocka, no privileges)
#   bpf:  build/tests/bpf/test_*    (cmocka, BPF_PROG_TEST_RUN, root)
#   e2e:  tests/e2e/*.sh            (the lab, real clients, root)
#   vm:   tests/vm/run.sh           (netkit kernels under qemu)
#   fuzz: build/tests/fuzz/fuzz_*    (libFuzzer, NP_FUZZ_SECONDS each, default 20)
# A test binary that dies without reporting a failure is counted as one.
set -u
tier=${1:?usage: run-tier.sh unit|bpf|e2e|vm|fuzz}
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

# One libFuzzer target for NP_FUZZ_SECONDS over a fresh copy of its seed corpus
# (tests/fuzz/corpus/<name>/, grown in build/fuzz/<name>/corpus); one TAP line.
fuzz_one() { # number binary seconds
	local n=$1 bin=$2 secs=$3 name work log rc art runs
	name=$(basename "$bin")
	work=$top/build/fuzz/${name#fuzz_}
	rm -rf "$work"
	mkdir -p "$work/corpus" "$work/artifacts"
	cp -r "$top/tests/fuzz/corpus/${name#fuzz_}/." "$work/corpus/" 2>/dev/null
	log=$work/fuzz.log
	echo "== $tier: $name (${secs}s, $(ls "$work/corpus" | wc -l) seeds)"
	UBSAN_OPTIONS=print_stacktrace=1 timeout --kill-after=10 $((secs + 120)) "$bin" \
		-max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
		-artifact_prefix="$work/artifacts/" "$work/corpus" >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	art=$(ls "$work/artifacts" 2>/dev/null | head -n 1)
	if [ $rc -eq 0 ] && [ -z "$art" ]; then
		echo "ok $n - [$name] ${runs:-?} runs in ${secs}s, corpus $(ls "$work/corpus" | wc -l) inputs" |
			tee -a "$tap"
		return
	fi
	grep -E 'ERROR|SUMMARY|runtime error|^ +#[0-9]' "$log" | head -n 30
	if [ -n "$art" ]; then
		echo "not ok $n - [$name] ${art%%-*}: build/fuzz/${name#fuzz_}/artifacts/$art" \
			"(reproduce: build/tests/fuzz/$name build/fuzz/${name#fuzz_}/artifacts/$art)" |
			tee -a "$tap"
	elif [ $rc -eq 124 ]; then
		echo "not ok $n - [$name] timed out after $((secs + 120))s (log: $log)" | tee -a "$tap"
	else
		echo "not ok $n - [$name] exited with status $rc (log: $log)" | tee -a "$tap"
	fi
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
fuzz)
	secs=${NP_FUZZ_SECONDS:-20}
	case $secs in
	'' | *[!0-9]* | 0) echo "run-tier.sh: NP_FUZZ_SECONDS must be a number >= 1" >&2 && exit 2 ;;
	esac
	n=0
	for t in "$top"/build/tests/fuzz/fuzz_*; do
		[ -x "$t" ] || continue
		n=$((n + 1))
		fuzz_one "$n" "$t" "$secs"
	done
	[ $n -gt 0 ] || skip_all "no fuzz target built (clang's libFuzzer runtime, libclang-rt-14-dev, missing?)"
	;;
*)
	echo "run-tier.sh: unknown tier '$tier' (unit, bpf, e2e, vm, fuzz)" >&2
	exit 2
	;;
esac
exit 0
