#!/bin/bash
# SPDX-License-Identifier: MIT
#
# check.sh: everything `make check` runs (CHECK_FULL=1: the longer runs of
# `make check-full`).  Stages:
#   1. unit tests and lint of the current config (.config, or the release
#      defconfig when there is none)
#   2. checkdefconfig
#   3. the config matrix: release, debug, hardened, hardened_full, allnoconfig and
#      allyesconfig, each in build/matrix/<name>, unit tests and lint
#   4. the aarch64 cross builds (release and hardened), tests under
#      qemu-aarch64 with 4 KiB and with 64 KiB pages
#   5. real programs under LD_PRELOAD (release and hardened); the
#      statistics options in real programs (release and debug); the
#      programs of tests/valgrind under memcheck (debug, CONFIG_VALGRIND;
#      skipped where valgrind is absent); the heap profiler in a real
#      program (release with CONFIG_PROFILER=y, in build/matrix/profiler:
#      google-pprof parses its dump)
#   6. the security probes table (release, debug, hardened), and under
#      qemu-aarch64 (release, hardened) with 4 KiB and 64 KiB pages
#   7. sanitizers (TSan on hardened too), a short fuzz run (and one of
#      hardened) and a few random configs
# Every stage ends with a "name: N passed, N failed" line; the totals make
# the closing line.
set -u

srctree=$(cd "$(dirname "$0")/.." && pwd)
cd "$srctree" || exit 1
# `make check` exports the architecture it was run for; each build below
# takes its own from ARCH= or from its .config, never from the caller.
unset ARCH SRCARCH CROSS_COMPILE
matrix=build/matrix
logdir=build/check
mkdir -p "$logdir"
MAKE="make --no-print-directory -j2"
total_pass=0
total_fail=0
failed_stages=

# run_stage NAME COMMAND...: runs it, shows its output, adds up its
# "N passed, N failed" lines: every unit and lint line, else the last line
# (a stage that prints none and fails counts as one failure).
run_stage() {
	local name=$1 log=$logdir/$1.log rc line p f
	shift
	echo "=== $name"
	"$@" >"$log" 2>&1
	rc=$?
	grep -vE '^  (CC|LD|AR|GEN|SYNC) ' "$log"
	# A stage that runs unit tests and lint prints a line for each run:
	# they add up.  Any other stage's last line is its total.
	if grep -qE '^(unit|lint): [0-9]+ passed' "$log"; then
		line=$(grep -E '^(unit|lint): [0-9]+ passed, [0-9]+ failed' "$log" |
			awk '{ p += $2; f += $4 } END { print p " passed, " f " failed" }')
	else
		line=$(grep -E '(^|: )[0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
	fi
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
	build_config "$matrix/$1" "$2" && $MAKE O="$matrix/$1" unit && \
		$MAKE O="$matrix/$1" lint
}

# unit_aarch64 NAME CONFIG-TARGET: the cross build in $matrix/aarch64/NAME,
# its unit tests (the stress test among them) under qemu with 4 KiB and
# with 64 KiB pages, and lint.
unit_aarch64() {
	local dir=$matrix/aarch64/$1
	build_config "$dir" "$2" ARCH=aarch64 || return 1
	$MAKE O="$dir" ARCH=aarch64 unit && \
		$MAKE O="$dir" ARCH=aarch64 QEMU_PAGE=65536 unit && \
		$MAKE O="$dir" ARCH=aarch64 lint && \
		readelf -h "$dir/libhakmem.so" | grep -q 'Machine:.*AArch64' || {
			echo "$dir/libhakmem.so is not an aarch64 library" >&2
			return 1
		}
}

# The security probes of the aarch64 release and hardened builds under
# qemu, with 4 KiB and with 64 KiB pages.
security_aarch64() {
	local page out rc=0 p=0 f=0 line
	for page in 4096 65536; do
		out=$(CC=aarch64-linux-gnu-gcc NM=aarch64-linux-gnu-nm \
			PROBE_CONFIGS="release hardened" PROBE_TAG=page$page \
			PROBE_QEMU="qemu-aarch64 -p $page" PROBE_TIMEOUT=60 \
			scripts/security-probes.sh "$matrix/aarch64" 2>&1) || rc=1
		echo "--- $page-byte pages"
		echo "$out"
		line=$(echo "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -1)
		[ -n "$line" ] || { f=$((f + 1)); continue; }
		p=$((p + ${line%% *}))
		line=${line#*, }
		f=$((f + ${line%% *}))
	done
	echo "security-aarch64: $p passed, $f failed"
	return $rc
}

run_stage unit unit_current
run_stage checkdefconfig $MAKE checkdefconfig
for c in release debug hardened hardened_full; do
	run_stage "matrix-$c" unit_config "$c" "${c}_defconfig"
done
for c in allnoconfig allyesconfig; do
	run_stage "matrix-$c" unit_config "$c" "$c"
done
# The release config with the heap profiler compiled in: its unit tests
# (test-prof among them) and lint; then scripts/prof-check.sh on it.
prof_config() {
	local dir=$matrix/profiler
	$MAKE O="$dir" release_defconfig || return 1
	sed -i 's/^# CONFIG_PROFILER is not set$/CONFIG_PROFILER=y/' "$dir/.config"
	$MAKE O="$dir" olddefconfig && grep -q '^CONFIG_PROFILER=y' "$dir/.config" &&
		$MAKE O="$dir" all && $MAKE O="$dir" unit && $MAKE O="$dir" lint
}
run_stage matrix-profiler prof_config
run_stage prof scripts/prof-check.sh "$matrix/profiler/libhakmem.so"
run_stage aarch64-release unit_aarch64 release aarch64_release_defconfig
run_stage aarch64-hardened unit_aarch64 hardened hardened_defconfig
run_stage realprog-release scripts/realprog.sh "$matrix/release/libhakmem.so"
run_stage realprog-hardened scripts/realprog.sh "$matrix/hardened/libhakmem.so"
run_stage stats scripts/stats-check.sh "$matrix/release/libhakmem.so" "$matrix/debug/libhakmem.so"
run_stage memcheck scripts/memcheck.sh "$matrix/debug"
run_stage security scripts/security-probes.sh "$matrix"
run_stage security-aarch64 security_aarch64
if [ -x scripts/sanitize.sh ]; then
	run_stage sanitize scripts/sanitize.sh
	run_stage sanitize-hardened env SANITIZE_DEFCONFIG=hardened SANITIZERS=tsan scripts/sanitize.sh
fi
if [ -x scripts/fuzz.sh ]; then
	run_stage fuzz scripts/fuzz.sh "${FUZZ_SECONDS:-$([ -n "${CHECK_FULL:-}" ] && echo 600 || echo 60)}"
	run_stage fuzz-hardened env FUZZ_DEFCONFIG=hardened scripts/fuzz.sh \
		"${FUZZ_SECONDS:-$([ -n "${CHECK_FULL:-}" ] && echo 300 || echo 30)}"
fi
if [ -x scripts/randconfig-check.sh ]; then
	run_stage randconfig scripts/randconfig-check.sh "$([ -n "${CHECK_FULL:-}" ] && echo 20 || echo 3)"
fi

if [ -n "$failed_stages" ]; then
	echo "check: failed stages:$failed_stages (logs in $logdir/)"
fi
echo "check: $total_pass passed, $total_fail failed"
[ -z "$failed_stages" ]
