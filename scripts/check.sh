#!/bin/bash
# SPDX-License-Identifier: MIT
#
# check.sh: everything `make check` runs (CHECK_FULL=1: the longer runs of
# `make check-full`).  Stages:
#   1. unit tests and lint of the current config (.config, or the release
#      defconfig when there is none)
#   2. checkdefconfig
#   3. the config matrix: release, debug, hardened, allnoconfig and
#      allyesconfig, each in build/matrix/<name>
#   4. the aarch64 cross build, tests under qemu-aarch64 with 4 KiB and
#      with 64 KiB pages
#   5. real programs under LD_PRELOAD (release and hardened)
#   6. the security probes table (release, debug, hardened)
#   7. sanitizers, a short fuzz run and a few random configs
# Every stage ends with a "name: N passed, N failed" line; the totals make
# the closing line.
set -u

srctree=$(cd "$(dirname "$0")/.." && pwd)
cd "$srctree" || exit 1
matrix=build/matrix
logdir=build/check
mkdir -p "$logdir"
MAKE="make --no-print-directory -j2"
total_pass=0
total_fail=0
failed_stages=

# run_stage NAME COMMAND...: runs it, shows its output, adds up the last
# "N passed, N failed" line it printed (a stage that prints none and fails
# counts as one failure).
run_stage() {
	local name=$1 log=$logdir/$1.log rc line p f
	shift
	echo "=== $name"
	"$@" >"$log" 2>&1
	rc=$?
	grep -vE '^  (CC|LD|AR|GEN|SYNC) ' "$log"
	line=$(grep -E '(^|: )[0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
	if [ -n "$line" ]; then
		p=$(echo "$line" | sed -E 's/.*(^|: )([0-9]+) passed, ([0-9]+) failed.*/\2/')
		f=$(echo "$line" | sed -E 's/.*(^|: )([0-9]+) passed, ([0-9]+) failed.*/\3/')
	else
		p=0
		f=0
	fi
	if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
	fi
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
	[ $rc -ne 0 ] && failed_stages="$failed_stages $name"
	return 0
}

build_config() {   # build_config DIR CONFIG-TARGET [make args...]
	local dir=$1 target=$2
	shift 2
	$MAKE O="$dir" "$@" "$target" && $MAKE O="$dir" "$@" all
}

unit_current() {
	[ -f .config ] || $MAKE release_defconfig || return 1
	$MAKE all && $MAKE unit && $MAKE lint
}

unit_config() {    # unit_config NAME CONFIG-TARGET
	build_config "$matrix/$1" "$2" && $MAKE O="$matrix/$1" unit
}

unit_aarch64() {
	build_config "$matrix/aarch64" aarch64_release_defconfig ARCH=aarch64 || return 1
	$MAKE O="$matrix/aarch64" unit && \
		$MAKE O="$matrix/aarch64" QEMU_PAGE=65536 unit && \
		$MAKE O="$matrix/aarch64" lint
}

run_stage unit unit_current
run_stage checkdefconfig $MAKE checkdefconfig
for c in release debug hardened; do
	run_stage "matrix-$c" unit_config "$c" "${c}_defconfig"
done
for c in allnoconfig allyesconfig; do
	run_stage "matrix-$c" unit_config "$c" "$c"
done
run_stage aarch64 unit_aarch64
run_stage realprog-release scripts/realprog.sh "$matrix/release/libhakmem.so"
run_stage realprog-hardened scripts/realprog.sh "$matrix/hardened/libhakmem.so"
run_stage security scripts/security-probes.sh "$matrix"
if [ -x scripts/sanitize.sh ]; then
	run_stage sanitize scripts/sanitize.sh
fi
if [ -x scripts/fuzz.sh ]; then
	run_stage fuzz scripts/fuzz.sh "${FUZZ_SECONDS:-$([ -n "${CHECK_FULL:-}" ] && echo 600 || echo 60)}"
fi
if [ -x scripts/randconfig-check.sh ]; then
	run_stage randconfig scripts/randconfig-check.sh "$([ -n "${CHECK_FULL:-}" ] && echo 20 || echo 3)"
fi

if [ -n "$failed_stages" ]; then
	echo "check: failed stages:$failed_stages (logs in $logdir/)"
fi
echo "check: $total_pass passed, $total_fail failed"
[ -z "$failed_stages" ]
