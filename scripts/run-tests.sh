#!/bin/bash
# SPDX-License-Identifier: MIT
#
# run-tests.sh OBJTREE TEST...
#
# Runs Check test programs, each under `timeout` (and $TEST_RUNNER, e.g.
# qemu-aarch64, for a cross build), and adds up Check's summary lines.
# Prints one line per program and ends with "unit: N passed, N failed";
# exits non-zero if any check failed or any program did not finish.
set -u

objtree=$1
shift
runner=${TEST_RUNNER:-}
# Tests scale their heaviest loops down under emulation.
if [ -n "$runner" ]; then
	export TEST_EMULATED=1
fi
limit=${TEST_TIMEOUT:-600}
passed=0
failed=0
log_dir=$objtree/tests/logs
mkdir -p "$log_dir"

for t in "$@"; do
	name=$(basename "$t")
	log=$log_dir/$name.log
	# Check's own timeout per test: generous under emulation.
	CK_DEFAULT_TIMEOUT=${CK_DEFAULT_TIMEOUT:-120} timeout "$limit" $runner "$t" >"$log" 2>&1
	rc=$?
	summary=$(grep -E '^[0-9]+%: Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+' "$log" | tail -1)
	if [ -z "$summary" ]; then
		echo "FAIL $name: no Check summary (exit $rc)"
		tail -20 "$log" | sed 's/^/    /'
		failed=$((failed + 1))
		continue
	fi
	checks=$(echo "$summary" | sed -E 's/.*Checks: ([0-9]+).*/\1/')
	fails=$(echo "$summary" | sed -E 's/.*Failures: ([0-9]+).*/\1/')
	errs=$(echo "$summary" | sed -E 's/.*Errors: ([0-9]+).*/\1/')
	bad=$((fails + errs))
	skips=$(grep -c '^SKIP ' "$log")
	passed=$((passed + checks - bad))
	failed=$((failed + bad))
	if [ "$bad" -ne 0 ] || [ "$rc" -ne 0 ]; then
		echo "FAIL $name: $summary (exit $rc)"
		grep -E ':[EF]:' "$log" | head -20 | sed 's/^/    /'
		[ "$bad" -eq 0 ] && failed=$((failed + 1))
	else
		if [ "$skips" -gt 0 ]; then
			echo "ok   $name: $checks checks, $skips skipped"
		else
			echo "ok   $name: $checks checks"
		fi
	fi
done
echo "unit: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
