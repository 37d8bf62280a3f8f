#!/bin/bash
# SPDX-License-Identifier: MIT
# bench-instr.sh: allocator instructions per malloc+free pair, from callgrind.
#
# For each workload and allocator:
#   A(N)    = callgrind's total instruction count of the program doing N pairs
#   loop    = the benchmark loop's own cost per pair (tags, checks, PRNG,
#             slot bookkeeping), measured with the same program built with an
#             inline stand-in allocator (see bench/bench.h, BENCH_STANDIN):
#             S1(N) costs loop + C per pair, S2(N) costs loop + 2C, so
#             loop = (2 * (S1(N) - S1(0)) - (S2(N) - S2(0))) / N exactly.
#   instr/pair = (A(N) - A(0)) / N - loop
# N defaults to 1M (INSTR_N). Startup and the ring fill and teardown cancel
# in A(N) - A(0). Environment: as scripts/bench.sh (LIBHAKMEM, BENCH_OUT,
# CC, BENCH = workload name filter). Writes $BENCH_OUT/instr.md and .csv.
set -eu

# shellcheck source=scripts/bench-common.sh
. "$(dirname "$0")/bench-common.sh"

N=${INSTR_N:-1000000}
BENCH=${BENCH:-}
command -v valgrind >/dev/null || { echo "bench-instr: valgrind not installed (make deps)" >&2; exit 2; }

# name | program | args (ops= is appended)
workloads() {
	cat <<'LIST'
tiny-16|tiny|size=16 ring=128
tiny-64|tiny|size=64 ring=128
tiny-1024|tiny|size=1024 ring=128
one-block|tiny|size=64 ring=1
span-wave|tiny|size=64 ring=1024 wave=1
random|random|min=16 max=1040 live=256
LIST
}

echo "bench-instr: building into ${BIN#"$ROOT"/}"
for p in tiny random; do
	bench_compile "$p"
	bench_compile "$p" -standin1 "-DBENCH_STANDIN=1"
	bench_compile "$p" -standin2 "-DBENCH_STANDIN=2"
done
bench_alloc_init
echo "bench-instr: allocators"
bench_alloc_report

TMP=$(mktemp -d "${TMPDIR:-/tmp}/hakmem-instr.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
FAILS=0

# ir LIB PROG ARGS...: total instructions executed (prints "" on failure)
ir() {
	local lib=$1 out=$TMP/cg.out rc=0
	shift
	rm -f "$out"
	if [ -n "$lib" ]; then
		LD_PRELOAD=$lib valgrind --tool=callgrind --callgrind-out-file="$out" \
			"$@" >"$TMP/stdout" 2>"$TMP/stderr" || rc=$?
	else
		valgrind --tool=callgrind --callgrind-out-file="$out" \
			"$@" >"$TMP/stdout" 2>"$TMP/stderr" || rc=$?
	fi
	if [ $rc -ne 0 ] || ! grep -q '^RESULT ' "$TMP/stdout"; then
		echo "bench-instr: FAILED (exit $rc): ${lib:+LD_PRELOAD=$lib }$*" >&2
		tail -n 5 "$TMP/stderr" | sed 's/^/  /' >&2
		FAILS=$((FAILS + 1))
		echo ""
		return 0
	fi
	sed -n 's/^\(totals\|summary\): *\([0-9]*\).*/\2/p' "$out" | tail -n1
}

CSV=$BENCH_OUT/instr.csv
MD=$BENCH_OUT/instr.md
echo "workload,allocator,n,instr_per_pair,loop_per_pair,standin_per_pair,total_per_pair" >"$CSV"
declare -A RES
NAMES=()
while IFS='|' read -r name prog args; do
	if [ -n "$BENCH" ]; then
		hit=0
		for want in ${BENCH//,/ }; do case $name in "$want"|"$want"-*) hit=1 ;; esac; done
		[ $hit = 1 ] || continue
	fi
	NAMES+=("$name")
	# shellcheck disable=SC2086
	{
		s1n=$(ir "" "$BIN/$prog-standin1" $args ops=$N)
		s10=$(ir "" "$BIN/$prog-standin1" $args ops=0)
		s2n=$(ir "" "$BIN/$prog-standin2" $args ops=$N)
		s20=$(ir "" "$BIN/$prog-standin2" $args ops=0)
	}
	if [ -z "$s1n$s10" ] || [ -z "$s2n" ] || [ -z "$s20" ]; then
		echo "bench-instr: $name: loop cost not measured" >&2
		continue
	fi
	loop=$(awk -v a="$s1n" -v b="$s10" -v c="$s2n" -v d="$s20" -v n="$N" \
		'BEGIN { printf "%.2f", (2 * (a - b) - (c - d)) / n }')
	standin=$(awk -v a="$s1n" -v b="$s10" -v c="$s2n" -v d="$s20" -v n="$N" \
		'BEGIN { printf "%.2f", ((c - d) - (a - b)) / n }')
	RES[$name,loop]=$loop
	RES[$name,standin]=$standin
	printf '  %-10s loop %6s, stand-in %5s instr/pair;  ' "$name" "$loop" "$standin"
	for i in "${!ALLOC_NAMES[@]}"; do
		[ "${ALLOC_OK[$i]}" = 1 ] || continue
		alloc=${ALLOC_NAMES[$i]} lib=${ALLOC_LIBS[$i]}
		# shellcheck disable=SC2086
		an=$(ir "$lib" "$BIN/$prog" $args ops=$N)
		# shellcheck disable=SC2086
		a0=$(ir "$lib" "$BIN/$prog" $args ops=0)
		if [ -z "$an" ] || [ -z "$a0" ]; then
			RES[$name,$alloc]=FAIL
			printf '%s FAIL  ' "$alloc"
			continue
		fi
		tot=$(awk -v a="$an" -v b="$a0" -v n="$N" 'BEGIN { printf "%.2f", (a - b) / n }')
		per=$(awk -v t="$tot" -v l="$loop" 'BEGIN { printf "%.1f", t - l }')
		RES[$name,$alloc]=$per
		printf '%s %s  ' "$alloc" "$per"
		echo "$name,$alloc,$N,$per,$loop,$standin,$tot" >>"$CSV"
	done
	echo
done < <(workloads)

{
	echo "# Allocator instructions per malloc+free pair (callgrind)"
	echo
	echo "- $(date -u '+%Y-%m-%d %H:%M UTC'), N = $N pairs, $(valgrind --version)"
	echo "- instr/pair = (Ir(N) - Ir(0)) / N - loop; loop = the benchmark's own"
	echo "  instructions per pair, measured with an inline stand-in allocator (BENCH_STANDIN)."
	echo "- The figures include the calls: call, PLT jump and ret of malloc and of free"
	echo "  (6 instructions). *stand-in* is the inline stand-in's own pop+push; PEERS.md's"
	echo "  baseline matches these figures minus that column (it counted the stand-in as loop)."
	echo "- Callgrind counts an atomic or a cache miss as one instruction."
	echo
	hdr="| workload | loop | stand-in |"
	sep="|---|---:|---:|"
	for i in "${!ALLOC_NAMES[@]}"; do
		hdr="$hdr ${ALLOC_NAMES[$i]} |"
		sep="$sep---:|"
	done
	echo "$hdr"
	echo "$sep"
	for name in "${NAMES[@]}"; do
		row="| $name | ${RES[$name,loop]:--} | ${RES[$name,standin]:--} |"
		for i in "${!ALLOC_NAMES[@]}"; do
			if [ "${ALLOC_OK[$i]}" = 1 ]; then
				row="$row ${RES[$name,${ALLOC_NAMES[$i]}]:--} |"
			else
				row="$row missing |"
			fi
		done
		echo "$row"
	done
	echo
	echo "Workloads: tiny-S = fixed S bytes, ring of 128 live blocks; random = 16..1040 B, 256 live."
	for i in "${!ALLOC_NAMES[@]}"; do
		[ "${ALLOC_OK[$i]}" = 1 ] || echo "Missing: ${ALLOC_NAMES[$i]} (${ALLOC_WHY[$i]})."
	done
} >"$MD"
echo
cat "$MD"
[ $FAILS -eq 0 ] || echo "bench-instr: $FAILS callgrind run(s) FAILED" >&2
rel=${BENCH_OUT#"$PWD"/}
echo "bench-instr: results in $rel/instr.md $rel/instr.csv"
[ $FAILS -eq 0 ]
