#!/bin/bash
# SPDX-License-Identifier: MIT
# bench.sh: run the benchmark suite under glibc, hakmem and the peers.
#
# Environment (all optional):
#   LIBHAKMEM  libhakmem.so to preload (reported missing when absent)
#   LIBHAKMEM_BASE  a second libhakmem.so (say, an earlier commit's), run
#               as "hakmem-base" in the same interleaved runs; not a peer
#   BENCH_OUT   output folder (build/bench)
#   RUNS        interleaved runs per benchmark (3; multi-thread ones take at
#               least 10 unless QUICK=1)
#   QUICK=1     short variant of every benchmark (whole run about 3 minutes)
#   BENCH       run only these benchmarks: comma-separated names or prefixes
#               ("larson", "tiny" = every tiny-*)
#   CC          compiler for the bench programs (gcc)
#   BENCH_TIMEOUT  seconds before one run is killed (120, QUICK: 60)
# Writes $BENCH_OUT/results.md, results.csv (summary), runs.csv (every run)
# and chart.png. Exits 1 when a run crashed, hung or failed its own checks,
# 2 on a usage error, never because something was slow.
set -eu

# shellcheck source=scripts/bench-common.sh
. "$(dirname "$0")/bench-common.sh"

RUNS=${RUNS:-3}
QUICK=${QUICK:-0}
BENCH=${BENCH:-}
case $RUNS in ''|*[!0-9]*|0) echo "bench: RUNS must be a positive number" >&2; exit 2 ;; esac
[ "$QUICK" = 1 ] || QUICK=0
TMO=${BENCH_TIMEOUT:-$([ "$QUICK" = 1 ] && echo 60 || echo 120)}
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

# name | st/mt | program | full-mode args | quick-mode args
# program: a bench/*.c program, "py" or "sqlite".
bench_table() {
	cat <<'TABLE'
tiny-8|st|tiny|size=8 ring=128|size=8 ring=128 quick=1
tiny-16|st|tiny|size=16 ring=128|size=16 ring=128 quick=1
tiny-64|st|tiny|size=64 ring=128|size=64 ring=128 quick=1
tiny-256|st|tiny|size=256 ring=128|size=256 ring=128 quick=1
tiny-1024|st|tiny|size=1024 ring=128|size=1024 ring=128 quick=1
ring-128-64|st|tiny|size=64 ring=128|size=64 ring=128 quick=1
ring-128-256|st|tiny|size=256 ring=128|size=256 ring=128 quick=1
ring-128-1024|st|tiny|size=1024 ring=128|size=1024 ring=128 quick=1
ring-128-4096|st|tiny|size=4096 ring=128|size=4096 ring=128 quick=1
ring-512-64|st|tiny|size=64 ring=512|size=64 ring=512 quick=1
ring-512-256|st|tiny|size=256 ring=512|size=256 ring=512 quick=1
ring-512-1024|st|tiny|size=1024 ring=512|size=1024 ring=512 quick=1
ring-512-4096|st|tiny|size=4096 ring=512|size=4096 ring=512 quick=1
ring-2048-64|st|tiny|size=64 ring=2048|size=64 ring=2048 quick=1
ring-2048-256|st|tiny|size=256 ring=2048|size=256 ring=2048 quick=1
ring-2048-1024|st|tiny|size=1024 ring=2048|size=1024 ring=2048 quick=1
ring-2048-4096|st|tiny|size=4096 ring=2048|size=4096 ring=2048 quick=1
ring-8192-64|st|tiny|size=64 ring=8192|size=64 ring=8192 quick=1
ring-8192-256|st|tiny|size=256 ring=8192|size=256 ring=8192 quick=1
ring-8192-1024|st|tiny|size=1024 ring=8192|size=1024 ring=8192 quick=1
ring-8192-4096|st|tiny|size=4096 ring=8192|size=4096 ring=8192 quick=1
random|st|random|name=random min=16 max=1040 live=256|name=random min=16 max=1040 live=256 quick=1
mid|st|random|name=mid min=1K max=32K live=256 touch=1 ops=2m|name=mid min=1K max=32K live=256 touch=1 ops=300k
l25|st|random|name=l25 min=32K max=1M live=256 touch=1 ops=200k|name=l25 min=32K max=1M live=256 touch=1 ops=30k
large|st|random|name=large min=1M max=64M live=4 ops=100k|name=large min=1M max=64M live=4 ops=10k
realloc|st|realloc||quick=1
peak|st|peak||quick=1
larson|mt|larson|threads=2|threads=2 quick=1
larson-short|mt|larson|threads=2 life=9100 warmup=0 time_ms=0 join=1|threads=2 life=9100 warmup=0 time_ms=0 join=1 quick=1
prodcons|mt|prodcons|threads=2|threads=2 quick=1
prodcons-batch|mt|prodcons-batch|threads=2|threads=2 quick=1
xmalloc-test|mt|xmalloc-test|threads=4|threads=4 quick=1
rptest|mt|rptest|threads=2|threads=2 quick=1
swap-arrays|mt|swap-arrays||quick=1
mstress|mt|mstress|threads=32 scale=50 iter=3|threads=32 quick=1
cscratch-passive|mt|cscratch|mode=passive threads=2|mode=passive threads=2 quick=1
cscratch-active|mt|cscratch|mode=active threads=2|mode=active threads=2 quick=1
threadexit|mt|threadexit|threads=2|threads=2 quick=1
idle-pool|mt|idle-pool|threads=8 mb=32|threads=8 quick=1
phases|mt|phases||quick=1
idle-pool-other|mt|idle-pool|threads=8 mb=32 mode=other|threads=8 mode=other quick=1
python|st|py||quick=1
sqlite|st|sqlite||quick=1
TABLE
}

# ---- select benchmarks ------------------------------------------------------
SEL_NAME=() SEL_KIND=() SEL_PROG=() SEL_ARGS=()
all_names=$(bench_table | cut -d'|' -f1 | tr '\n' ' ')
while IFS='|' read -r name kind prog full quick; do
	if [ -n "$BENCH" ]; then
		hit=0
		for want in ${BENCH//,/ }; do
			case $name in "$want"|"$want"-*) hit=1 ;; esac
		done
		[ $hit = 1 ] || continue
	fi
	SEL_NAME+=("$name") SEL_KIND+=("$kind") SEL_PROG+=("$prog")
	if [ "$QUICK" = 1 ]; then SEL_ARGS+=("$quick"); else SEL_ARGS+=("$full"); fi
done < <(bench_table)
if [ ${#SEL_NAME[@]} -eq 0 ]; then
	echo "bench: no benchmark matches BENCH='$BENCH'; known: $all_names" >&2
	exit 2
fi

# ---- build ------------------------------------------------------------------
echo "bench: building into ${BIN#"$ROOT"/}"
for p in $(printf '%s\n' "${SEL_PROG[@]}" | sort -u); do
	case $p in py|sqlite) ;; *) bench_compile "$p" ;; esac
done

# ---- allocators -------------------------------------------------------------
bench_alloc_init
echo "bench: allocators"
bench_alloc_report
USE=()
for i in "${!ALLOC_NAMES[@]}"; do
	[ "${ALLOC_OK[$i]}" = 1 ] && USE+=("$i")
done

HAVE_TIME=1
[ -x /usr/bin/time ] || { HAVE_TIME=0; echo "bench: /usr/bin/time missing, peak RSS not recorded"; }
HAVE_SQLITE=1
command -v sqlite3 >/dev/null || HAVE_SQLITE=0

TMP=$(mktemp -d "${TMPDIR:-/tmp}/hakmem-bench.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
RUNS_CSV=$BENCH_OUT/runs.csv
META=$BENCH_OUT/meta.txt
echo "bench,allocator,run,status,mops,secs,maxrss_kib,result" >"$RUNS_CSV"
{
	echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "host=$(uname -srm), $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//')"
	echo "mode=$([ "$QUICK" = 1 ] && echo quick || echo full)"
	echo "runs=$RUNS"
	for i in "${!ALLOC_NAMES[@]}"; do
		if [ "${ALLOC_OK[$i]}" = 1 ]; then
			echo "alloc=${ALLOC_NAMES[$i]}|ok|${ALLOC_LIBS[$i]:-system malloc}"
		else
			echo "alloc=${ALLOC_NAMES[$i]}|missing|${ALLOC_WHY[$i]}"
		fi
	done
} >"$META"

FAILS=0

# run_one BENCH_INDEX ALLOC_INDEX RUN: one run; appends to runs.csv and sets
# CELL to the figure shown in the progress line.
run_one() {
	local b=$1 a=$2 r=$3 name=${SEL_NAME[$1]} prog=${SEL_PROG[$1]}
	local lib=${ALLOC_LIBS[$2]} alloc=${ALLOC_NAMES[$2]}
	local -a cmd envs=()
	# shellcheck disable=SC2206
	local -a args=(${SEL_ARGS[$b]})
	# phases writes its RSS samples: the chart plots the last run's.
	[ "$prog" = phases ] && args+=("trace=$BENCH_OUT/phases-$alloc.dat")
	case $prog in
	py) cmd=("$PY" "$ROOT/bench/py-workload.py"); envs+=(PYTHONMALLOC=malloc) ;;
	sqlite) cmd=(bash "$ROOT/bench/sqlite-workload.sh") ;;
	*) cmd=("$BIN/$prog") ;;
	esac
	[ -n "$lib" ] && envs+=("LD_PRELOAD=$lib")
	local rc=0 rss="" status=ok mops="" secs="" line
	if [ $HAVE_TIME = 1 ]; then
		/usr/bin/time -f '%M' -o "$TMP/time" timeout -k 5 "$TMO" \
			env "${envs[@]}" "${cmd[@]}" "${args[@]}" >"$TMP/out" 2>"$TMP/err" || rc=$?
		rss=$(tail -n1 "$TMP/time" 2>/dev/null | tr -cd '0-9')
	else
		timeout -k 5 "$TMO" env "${envs[@]}" "${cmd[@]}" "${args[@]}" \
			>"$TMP/out" 2>"$TMP/err" || rc=$?
	fi
	line=$(grep '^RESULT ' "$TMP/out" | head -n1 || true)
	if [ $rc -ne 0 ]; then
		case $rc in 124|137) status="fail:timeout-${TMO}s" ;; *) status="fail:exit-$rc" ;; esac
	elif [ -z "$line" ] || [ "$(grep -c '^RESULT ' "$TMP/out")" -ne 1 ]; then
		status="fail:no-single-RESULT-line"
	else
		mops=$(printf '%s\n' "$line" | sed -n 's/.* mops=\([^ ]*\).*/\1/p')
		secs=$(printf '%s\n' "$line" | sed -n 's/.* secs=\([^ ]*\).*/\1/p')
		[ -n "$mops" ] || status="fail:no-mops-in-RESULT"
	fi
	if [ "$status" != ok ]; then
		FAILS=$((FAILS + 1))
		CELL="FAIL"
		{
			echo
			echo "bench: $name under $alloc, run $r: $status"
			echo "  command: ${envs[*]} ${cmd[*]} ${args[*]}"
			tail -n 5 "$TMP/err" | sed 's/^/  stderr: /'
		} >&2
	else
		CELL=$mops
	fi
	printf '%s,%s,%s,%s,%s,%s,%s,"%s"\n' "$name" "$alloc" "$r" "$status" "$mops" "$secs" \
		"$rss" "$line" >>"$RUNS_CSV"
}

START=$(date +%s)
echo "bench: $([ "$QUICK" = 1 ] && echo quick || echo full) mode, timeout ${TMO}s per run; Mops/s per run:"
for b in "${!SEL_NAME[@]}"; do
	name=${SEL_NAME[$b]}
	if [ "${SEL_PROG[$b]}" = sqlite ] && [ $HAVE_SQLITE = 0 ]; then
		echo "  $name: skipped, sqlite3 not installed"
		continue
	fi
	runs=$RUNS
	if [ "${SEL_KIND[$b]}" = mt ] && [ "$QUICK" = 0 ] && [ "$runs" -lt 10 ]; then
		runs=10
	fi
	n=${#USE[@]}
	for ((r = 1; r <= runs; r++)); do
		printf '  %-17s run %2d/%-2d' "$name" "$r" "$runs"
		# rotate the starting allocator run by run, so none is always first
		for ((k = 0; k < n; k++)); do
			a=${USE[$(((k + r - 1) % n))]}
			run_one "$b" "$a" "$r"
			printf '  %s %s' "${ALLOC_NAMES[$a]}" "$CELL"
		done
		echo
	done
done
echo "bench: runs took $(( $(date +%s) - START )) s"

report_rc=0
"$PY" "$ROOT/scripts/bench-report.py" "$BENCH_OUT" || report_rc=$?
if [ $report_rc -ne 0 ]; then
	echo "bench: report generation failed (exit $report_rc)" >&2
	FAILS=$((FAILS + 1))
fi
[ $FAILS -eq 0 ] || echo "bench: $FAILS run(s) FAILED (crash, hang or failed check): see above and runs.csv" >&2
rel=${BENCH_OUT#"$PWD"/}
echo "bench: results in $rel/results.md $rel/results.csv $rel/chart.png (every run: $rel/runs.csv)"
[ $FAILS -eq 0 ]
