#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Sums the TAP files of the tiers that ran and prints one line over all of them:
#   N passed, N failed, N skipped
# Exit status 1 when anything failed or nothing ran.
set -u
dir=${1:?usage: test-summary.sh RESULTS_DIR [TIER...]}
shift
tiers=("$@")
[ ${#tiers[@]} -gt 0 ] || tiers=(unit bpf e2e vm fuzz)
P=0 F=0 S=0
for t in "${tiers[@]}"; do
	f=$dir/$t.tap
	[ -f "$f" ] || continue
	s=$(grep -cE '^ok .*# SKIP' "$f")
	p=$(($(grep -c '^ok ' "$f") - s))
	fl=$(grep -c '^not ok' "$f")
	printf '%-5s %d passed, %d failed, %d skipped\n' "$t:" "$p" "$fl" "$s"
	grep '^not ok' "$f" | sed 's/^/      /'
	grep -E '^ok .*# SKIP' "$f" | sed 's/^/      /'
	P=$((P + p)) F=$((F + fl)) S=$((S + s))
done
echo "$P passed, $F failed, $S skipped"
[ "$F" -eq 0 ] && [ $((P + S)) -gt 0 ]
