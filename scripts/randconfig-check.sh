#!/bin/bash
# SPDX-License-Identifier: MIT
#
# randconfig-check.sh N [SEED]
#
# Builds N random valid configs (scripts/kconfig.py randconfig, seeded:
# SEED, SEED+1, ...; a random SEED when none is given) and runs the unit
# tests of each.  Every config prints its seed, so a failure is reproduced
# with `make O=dir randconfig SEED=<seed> && make O=dir unit`.
set -u

n=${1:-20}
seed=${2:-$((RANDOM * 32768 + RANDOM))}
srctree=$(cd "$(dirname "$0")/.." && pwd)
cd "$srctree" || exit 1
passed=0
failed=0
for i in $(seq 0 $((n - 1))); do
	s=$((seed + i))
	dir=build/randconfig/$s
	rm -rf "$dir"
	log=$dir.log
	mkdir -p "$(dirname "$log")"
	if make --no-print-directory O="$dir" randconfig SEED=$s >"$log" 2>&1 &&
	   make --no-print-directory -j2 O="$dir" all >>"$log" 2>&1 &&
	   make --no-print-directory O="$dir" unit >>"$log" 2>&1; then
		echo "ok   seed $s"
		passed=$((passed + 1))
		rm -rf "$dir"
	else
		echo "FAIL seed $s (log: $log)"
		grep -E 'FAIL|error' "$log" | head -10 | sed 's/^/    /'
		failed=$((failed + 1))
	fi
done
echo "randconfig: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
