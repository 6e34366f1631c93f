#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# `nodepath bench` as a smoke check (no timing is asserted): every scenario runs once at a
# tiny size (--smoke) and succeeds or says what it skipped and why; results.json parses and
# names the machine, the commit and every scenario; results.csv has the rows; a plot per
# scenario (when gnuplot is installed); nothing is left behind (namespaces, pins, nft
# tables), also after an interrupted run; bad input is refused with exit 2 and creates
# nothing; --json prints the results. Labs use the prefix "tz". Prints TAP.
set -u
. "$(dirname "$0")/lib.sh"

PFX=tz
OUT=$E2E_TMP/bench

need_tools ip "$NP_PY"
need_built "$NP_BIN"

mapfile -t SCEN < <("$NP_BIN" bench --list 2>/dev/null)
tap_plan $((${#SCEN[@]} + 12))
e2e_trap

leftovers() {
	ip netns list | awk '{print $1}' | grep -E "^$PFX"
	ls -d /sys/fs/bpf/nodepath/$PFX* 2>/dev/null
	nft list tables 2>/dev/null | grep nodepath_bench
}
bench_cleanup() {
	local ns
	for ns in $(ip netns list | awk '{print $1}' | grep -E "^$PFX"); do ip netns del "$ns"; done
}
trap 'rc=$?; bench_cleanup; (exit $rc); e2e_cleanup' EXIT

# 1
if [ ${#SCEN[@]} -ge 4 ] && printf '%s\n' "${SCEN[@]}" | grep -qx progrun; then
	tap_ok "bench --list: ${SCEN[*]}"
else
	tap_fail "bench --list" "got: ${SCEN[*]:-nothing}"
fi

# 2: the whole suite, smoke
t0=$(date +%s)
np_capture bench --smoke --lab-prefix $PFX --out "$OUT"
rc=$NP_RC
secs=$(($(date +%s) - t0))
if [ $rc -eq 0 ]; then
	tap_ok "bench --smoke over ${#SCEN[@]} scenarios: exit 0 in $secs s"
else
	tap_fail "bench --smoke: exit $rc in $secs s" "$(tail -25 <<<"$NP_OUT")" "$(tail -5 <<<"$NP_ERR")"
fi
tap_diag "$(grep -E '^(-- |ratio|target)' <<<"$NP_OUT" | head -40)"

# 3
J=$OUT/results.json
if json_get "$J" 'd["machine"]["hostname"] and d["machine"]["kernel"] and d["machine"]["cpu"] and d["machine"]["cpus"] and d["machine"]["virt"] and d["commit"] and d["date"] and d["command"]' >/dev/null 2>&1; then
	tap_ok "results.json parses; machine, commit, date, command: $(json_get "$J" '"%s, %d CPUs, %s, commit %s" % (d["machine"]["kernel"], d["machine"]["cpus"], d["machine"]["virt"], d["commit"][:12])')"
else
	tap_fail "results.json parses with machine, commit, date, command" "$(head -c 400 "$J" 2>&1)"
fi

# 4..: one line per scenario
for s in "${SCEN[@]}"; do
	st=$(json_get "$J" "(lambda x: ('ok' if x['ok'] else 'failed exit %d' % x['exit']) + ' %d variants' % len(x['variants']) + ''.join('; skip %s: %s' % kv for kv in x['skipped'].items()) + ('' if all(x['skipped'].values()) else '; A SKIP WITHOUT REASON'))(d['scenarios']['$s'])" 2>/dev/null)
	case $st in
	ok*"A SKIP WITHOUT REASON"*) tap_fail "scenario $s" "$st" ;;
	ok\ 0\ variants*) [[ $st == *skip* ]] && tap_ok "scenario $s: $st" ||
		tap_fail "scenario $s: no results and no skip" "$st" ;;
	ok*) tap_ok "scenario $s: $st" ;;
	*) tap_fail "scenario $s: ${st:-missing from results.json}" \
		"$(tail -8 "$OUT/$s.log" 2>/dev/null)" ;;
	esac
done

# results.csv: a row for every result in results.json
n_json=$(json_get "$J" 'sum(len(v["rounds"]) for s in d["scenarios"].values() for v in s["variants"].values())' 2>/dev/null)
n_csv=$(($(wc -l <"$OUT/results.csv" 2>/dev/null || echo 1) - 1))
if [ -n "$n_json" ] && [ "$n_json" -gt 0 ] && [ "$n_csv" = "$n_json" ] &&
	head -1 "$OUT/results.csv" | grep -qx 'scenario,variant,round,value,unit'; then
	tap_ok "results.csv: $n_csv rows, as many as results.json has"
else
	tap_fail "results.csv rows" "csv $n_csv, json ${n_json:-?}"
fi

# plots
if command -v gnuplot >/dev/null; then
	missing=$(json_get "$J" '" ".join(s for s, x in d["scenarios"].items() if x["variants"])' |
		tr ' ' '\n' | while read -r s; do
			[ -n "$s" ] && [ ! -s "$OUT/plots/$s.png" ] && echo "$s"
		done)
	if [ -z "$missing" ]; then
		tap_ok "a PNG plot per scenario with results: $(ls "$OUT/plots" | grep -c '\.png$') in plots/"
	else
		tap_fail "plots missing for: $missing"
	fi
else
	tap_skip "plots" "gnuplot is not installed (scripts/deps.sh)"
fi

# nothing left
left=$(leftovers)
if [ -z "$left" ]; then
	tap_ok "no namespace $PFX*, pin or nodepath_bench nft table left"
else
	tap_fail "left behind" "$left"
fi

# bad input: exit 2, a message that names the problem, nothing created
bad_case() {
	local desc=$1 want=$2
	shift 2
	np_capture bench --out "$E2E_TMP/bad" --lab-prefix $PFX "$@"
	if [ $NP_RC -eq 2 ] && grep -q -- "$want" <<<"$NP_ERR" && [ ! -e "$E2E_TMP/bad" ]; then
		tap_ok "$desc: exit 2, \"$(head -1 <<<"$NP_ERR")\""
	else
		tap_fail "$desc" "exit $NP_RC" "$NP_ERR" "$(ls "$E2E_TMP/bad" 2>&1)"
	fi
}
bad_case "unknown scenario" 'unknown scenario "nosuch"' nosuch
bad_case "--rounds 0" '--rounds "0"' --rounds 0
bad_case "--duration -1" '--duration "-1"' --duration -1
case_begin
np_capture bench --out "$E2E_TMP/bad" --duration abc
case_req "--duration abc: exit $NP_RC" [ $NP_RC -eq 2 ]
np_capture bench --out "$E2E_TMP/bad" --lab-prefix X
case_req "--lab-prefix X: exit $NP_RC" [ $NP_RC -eq 2 ]
np_capture bench --out "$E2E_TMP/bad" --bogus
case_req "--bogus: exit $NP_RC" [ $NP_RC -eq 2 ]
case_req "something was created" [ ! -e "$E2E_TMP/bad" ]
case_end "--duration abc, --lab-prefix X, --bogus: exit 2"

# --json: results.json on stdout
np_capture bench control --smoke --json --lab-prefix $PFX --out "$E2E_TMP/json"
if [ $NP_RC -eq 0 ] && json_get - 'd["scenarios"]["control"]["ok"]' <<<"$NP_OUT" | grep -qx true; then
	tap_ok "bench control --smoke --json: results.json on stdout"
else
	tap_fail "bench control --smoke --json" "exit $NP_RC" "$(head -c 300 <<<"$NP_OUT")" "$(tail -3 <<<"$NP_ERR")"
fi

# interrupted: SIGINT while the lab is up; exit non-zero, nothing left
"$NP_BIN" bench modeswitch --smoke --lab-prefix $PFX --out "$E2E_TMP/int" >"$E2E_TMP/int.out" 2>&1 &
pid=$!
wait_for 30 bash -c "ip netns list | grep -q '^$PFX.a-node1'" || true
sleep 1
kill -INT $pid
wait $pid
rc=$?
left=$(leftovers)
if [ $rc -ne 0 ] && [ -z "$left" ] && grep -q 'interrupted' "$E2E_TMP/int.out"; then
	tap_ok "SIGINT during modeswitch: exit $rc, the lab is gone"
else
	tap_fail "SIGINT during modeswitch" "exit $rc" "left: $left" "$(tail -5 "$E2E_TMP/int.out")"
fi

tap_done
