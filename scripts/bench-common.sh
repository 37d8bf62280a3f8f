# SPDX-License-Identifier: MIT
# bench-common.sh: shared by scripts/bench.sh and scripts/bench-instr.sh
# (sourced, not run). Sets ROOT, BENCH_OUT (absolute), BIN, CC, BENCH_CFLAGS
# and provides bench_compile, bench_alloc_init and bench_alloc_lib.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_OUT=${BENCH_OUT:-build/bench}
mkdir -p "$BENCH_OUT"
BENCH_OUT=$(cd "$BENCH_OUT" && pwd)
BIN=$BENCH_OUT/bin
CC=${CC:-gcc}
BENCH_CFLAGS="-O2 -g -pthread -Wall -Wextra"

# bench_compile PROG [SUFFIX DEFINES]: bench/PROG.c -> $BIN/PROG[SUFFIX].
# Rebuilds when the source, bench.h or the command line changed.
bench_compile() {
	local prog=$1 suffix=${2:-} defs=${3:-}
	local src=$ROOT/bench/$prog.c out=$BIN/$prog$suffix
	local cmd="$CC $BENCH_CFLAGS $defs -o $out $src"
	mkdir -p "$BIN"
	if [ -x "$out" ] && [ -f "$out.cmd" ] && [ "$(cat "$out.cmd")" = "$cmd" ] &&
	   [ "$out" -nt "$src" ] && [ "$out" -nt "$ROOT/bench/bench.h" ]; then
		return 0
	fi
	echo "  CC      bench/$prog.c -> ${out#"$ROOT"/}"
	# shellcheck disable=SC2086
	$CC $BENCH_CFLAGS $defs -o "$out" "$src"
	printf '%s\n' "$cmd" >"$out.cmd"
}

# Allocators in report order: name and library ("" = glibc, no preload).
BENCH_LIBDIR=${BENCH_LIBDIR:-/usr/lib/x86_64-linux-gnu}
bench_alloc_init() {
	local h=${LIBHAKMEM:-}
	if [ -z "$h" ]; then
		for c in "$BENCH_OUT/lib/libhakmem.so" "$ROOT/build/bench-lib/libhakmem.so" \
			 "$ROOT/libhakmem.so"; do
			if [ -f "$c" ]; then h=$c; break; fi
		done
	fi
	ALLOC_NAMES=(glibc hakmem mimalloc jemalloc tcmalloc)
	ALLOC_LIBS=("" "${h:-hakmem-lib-not-set}" "$BENCH_LIBDIR/libmimalloc.so.2"
		    "$BENCH_LIBDIR/libjemalloc.so.2" "$BENCH_LIBDIR/libtcmalloc_minimal.so.4")
	# A second hakmem build to compare with, in the same interleaved runs.
	if [ -n "${LIBHAKMEM_BASE:-}" ]; then
		ALLOC_NAMES+=(hakmem-base)
		ALLOC_LIBS+=("$LIBHAKMEM_BASE")
	fi
	ALLOC_OK=()
	ALLOC_WHY=()
	local i lib msg
	for i in "${!ALLOC_NAMES[@]}"; do
		lib=${ALLOC_LIBS[$i]}
		ALLOC_OK[i]=1
		ALLOC_WHY[i]=""
		[ -n "$lib" ] || continue
		if [ ! -f "$lib" ]; then
			ALLOC_OK[i]=0
			if [ "${ALLOC_NAMES[$i]}" = hakmem ] && [ -z "${LIBHAKMEM:-}${h:-}" ]; then
				ALLOC_WHY[i]="LIBHAKMEM not set and no libhakmem.so built"
			else
				ALLOC_WHY[i]="$lib not found"
			fi
			continue
		fi
		# ld.so only warns when a preload fails and then runs with glibc
		msg=$(LD_PRELOAD=$lib /bin/true 2>&1 || true)
		if [ -n "$msg" ]; then
			ALLOC_OK[i]=0
			ALLOC_WHY[i]="cannot preload $lib: $(printf '%s' "$msg" | head -n1)"
		fi
	done
}

# Print one line per allocator: "name: path" or "name: MISSING (why)".
bench_alloc_report() {
	local i
	for i in "${!ALLOC_NAMES[@]}"; do
		if [ "${ALLOC_OK[$i]}" = 1 ]; then
			printf '  %-9s %s\n' "${ALLOC_NAMES[$i]}" "${ALLOC_LIBS[$i]:-(system malloc, no preload)}"
		else
			printf '  %-9s MISSING, skipped: %s\n' "${ALLOC_NAMES[$i]}" "${ALLOC_WHY[$i]}"
		fi
	done
}
