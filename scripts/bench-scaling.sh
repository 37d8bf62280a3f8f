#!/bin/bash
# SPDX-License-Identifier: MIT
# bench-scaling.sh: throughput of the multi-thread benchmarks against the
# number of threads, for every allocator (see docs/benchmarks.md).
#
#   THREADS   thread counts (default "1 2 4 8 16"; prodcons, prodcons-batch
#             and xmalloc-test, which pair threads, skip odd counts)
#   RUNS      interleaved runs per point (default 3)
#   BENCH     comma-separated subset of: larson, larson-short, prodcons,
#             prodcons-batch, xmalloc-test, rptest, threadexit
#   ALLOCS    comma-separated subset of the allocators (default: all)
#   LIBHAKMEM, BENCH_OUT, BENCH_LIBDIR, CC, BENCH_TIMEOUT: as scripts/bench.sh
#
# The programs are compiled when a compiler is at hand; otherwise they must
# already be in $BENCH_OUT/bin (a machine without gcc can run a copy of a
# build tree).  Writes $BENCH_OUT/scaling.csv (every run) and
# $BENCH_OUT/scaling.md (medians, min..max, hakmem over the best peer).
set -eu

# shellcheck source=scripts/bench-common.sh
. "$(dirname "$0")/bench-common.sh"

THREADS=${THREADS:-1 2 4 8 16}
RUNS=${RUNS:-3}
BENCH=${BENCH:-larson,larson-short,prodcons,prodcons-batch,xmalloc-test,rptest,threadexit}
TIMEOUT=${BENCH_TIMEOUT:-120}

# name | program | arguments (threads= is appended) | pairs threads
workloads() {
	cat <<'LIST'
larson|larson|slots=5000 min=8 max=1000|0
larson-short|larson|slots=5000 min=8 max=1000 life=9100 warmup=0 time_ms=0 join=1|0
prodcons|prodcons|min=64 max=512|1
prodcons-batch|prodcons-batch|min=16 max=256 batch=64|1
xmalloc-test|xmalloc-test|size=64 batch=4096 depth=100|1
rptest|rptest|min=8 max=16000|0
threadexit|threadexit|rounds=400 objs=2000 max=4096|0
LIST
}

wanted() {
	local w
	for w in ${BENCH//,/ }; do [ "$w" = "$1" ] && return 0; done
	return 1
}

for p in $(workloads | while IFS='|' read -r name prog _; do
		wanted "$name" && echo "$prog"; done | sort -u); do
	if command -v "$CC" >/dev/null 2>&1; then
		bench_compile "$p"
	elif [ ! -x "$BIN/$p" ]; then
		echo "bench-scaling: no compiler and no $BIN/$p" >&2
		exit 2
	fi
done
bench_alloc_init
echo "bench-scaling: allocators"
bench_alloc_report

CSV=$BENCH_OUT/scaling.csv
MD=$BENCH_OUT/scaling.md
echo "bench,threads,allocator,run,status,mops" >"$CSV"
FAILS=0
n_alloc=${#ALLOC_NAMES[@]}

while IFS='|' read -r name prog args pairs; do
	wanted "$name" || continue
	for t in $THREADS; do
		if [ "$pairs" = 1 ] && [ $((t % 2)) -ne 0 ]; then
			continue
		fi
		for run in $(seq 1 "$RUNS"); do
			for k in $(seq 0 $((n_alloc - 1))); do
				i=$(((k + run) % n_alloc))
				[ "${ALLOC_OK[$i]}" = 1 ] || continue
				case ",${ALLOCS:-${ALLOC_NAMES[$i]}}," in
				*",${ALLOC_NAMES[$i]},"*) ;;
				*) continue ;;
				esac
				lib=${ALLOC_LIBS[$i]}
				out=$(LD_PRELOAD=$lib timeout "$TIMEOUT" "$BIN/$prog" $args threads="$t" 2>&1) &&
					rc=0 || rc=$?
				mops=$(printf '%s\n' "$out" | sed -n 's/^RESULT .* mops=\([0-9.e+]*\).*/\1/p')
				if [ $rc -ne 0 ] || [ -z "$mops" ]; then
					echo "bench-scaling: $name threads=$t ${ALLOC_NAMES[$i]}: FAILED (exit $rc)" >&2
					FAILS=$((FAILS + 1))
					echo "$name,$t,${ALLOC_NAMES[$i]},$run,fail:$rc," >>"$CSV"
					continue
				fi
				echo "$name,$t,${ALLOC_NAMES[$i]},$run,ok,$mops" >>"$CSV"
			done
		done
		echo "bench-scaling: $name threads=$t done"
	done
done < <(workloads)

# Medians (min..max) per bench, threads and allocator.
awk -F, -v names="${ALLOC_NAMES[*]}" '
function median(list,    a, n, i, j, t) {
	n = split(list, a, " ")
	for (i = 2; i <= n; i++)        # insertion sort: POSIX awk has no asort
		for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) {
			t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
		}
	return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function fmt(x) { return x >= 100 ? sprintf("%.0f", x) : (x >= 10 ? sprintf("%.1f", x) : sprintf("%.2f", x)) }
NR > 1 && $5 == "ok" {
	key = $1 "," $2
	if (!(key in seen)) { seen[key] = 1; order[++nk] = key }
	v[key "," $3] = v[key "," $3] " " $6
	if (!((key "," $3) in lo) || $6 + 0 < lo[key "," $3]) lo[key "," $3] = $6 + 0
	if (!((key "," $3) in hi) || $6 + 0 > hi[key "," $3]) hi[key "," $3] = $6 + 0
}
END {
	na = split(names, an, " ")
	printf "| benchmark | threads |"
	for (j = 1; j <= na; j++) printf " %s |", an[j]
	printf " hakmem/best |\n|---|---:|"
	for (j = 1; j <= na; j++) printf "---:|"
	printf "---:|\n"
	for (q = 1; q <= nk; q++) {
		split(order[q], kk, ",")
		best = 0; hk = 0
		printf "| %s | %s |", kk[1], kk[2]
		for (j = 1; j <= na; j++) {
			c = order[q] "," an[j]
			if (!(c in v)) { printf " - |"; continue }
			m = median(v[c])
			if (an[j] == "hakmem") hk = m
			else if (m > best) best = m
			printf " %s (%s..%s) |", fmt(m), fmt(lo[c]), fmt(hi[c])
		}
		if (best > 0 && hk > 0) printf " %.2f |\n", hk / best
		else printf " - |\n"
	}
}' "$CSV" >"$MD"

echo
cat "$MD"
echo
echo "bench-scaling: results in $MD $CSV"
[ "$FAILS" -eq 0 ]
