#!/bin/bash
# SPDX-License-Identifier: MIT
# bench-phases.sh: bench/phases under the adaptive engine, under two fixed
# cache settings and under the peers, interleaved (docs/benchmarks.md).
#
#   RUNS      interleaved runs per configuration (default 10)
#   QUICK=1   phases' short variant
#   LIBHAKMEM, BENCH_OUT, BENCH_LIBDIR, CC, BENCH_TIMEOUT: as scripts/bench.sh
#
# The hakmem configurations: "hakmem" (as built: the adaptive engine off,
# each heap's reserve growing from HAKMEM_HEAP_RESERVE to
# HAKMEM_HEAP_RESERVE_MAX), "hakmem-ace" (HAKMEM_ACE=1: the adaptive engine
# on), "hakmem-fixed-small" (a reserve of 0, fixed) and "hakmem-fixed-large"
# (a reserve of 16, fixed); the other caches at the options' values.
# LIBHAKMEM_BASE adds "hakmem-base" and "hakmem-base-ace" (the same two
# for the second library: a build with CONFIG_ACE_BANDIT against one
# without, say).  Writes $BENCH_OUT/phases.csv (every run), phases.md (medians,
# and the adaptive build against the fixed ones) and phases.png (RSS over
# time, the last run of each configuration, with gnuplot).
set -eu

# shellcheck source=scripts/bench-common.sh
. "$(dirname "$0")/bench-common.sh"

RUNS=${RUNS:-10}
QUICK=${QUICK:-0}
TMO=${BENCH_TIMEOUT:-120}
case $RUNS in ''|*[!0-9]*|0) echo "bench-phases: RUNS must be a positive number" >&2; exit 2 ;; esac
ARGS=""
[ "$QUICK" = 1 ] && ARGS="quick=1"

bench_compile phases
bench_alloc_init
NAMES=() LIBS=() ENVS=()
for i in "${!ALLOC_NAMES[@]}"; do
	[ "${ALLOC_OK[$i]}" = 1 ] || { echo "bench-phases: ${ALLOC_NAMES[$i]} skipped: ${ALLOC_WHY[$i]}"; continue; }
	NAMES+=("${ALLOC_NAMES[$i]}") LIBS+=("${ALLOC_LIBS[$i]}") ENVS+=("")
	if [ "${ALLOC_NAMES[$i]}" = hakmem ]; then
		NAMES+=(hakmem-ace hakmem-fixed-small hakmem-fixed-large)
		LIBS+=("${ALLOC_LIBS[$i]}" "${ALLOC_LIBS[$i]}" "${ALLOC_LIBS[$i]}")
		ENVS+=("HAKMEM_ACE=1" "HAKMEM_HEAP_RESERVE=0 HAKMEM_HEAP_RESERVE_MAX=0"
		       "HAKMEM_HEAP_RESERVE=16 HAKMEM_HEAP_RESERVE_MAX=16")
	elif [ "${ALLOC_NAMES[$i]}" = hakmem-base ]; then
		NAMES+=(hakmem-base-ace)
		LIBS+=("${ALLOC_LIBS[$i]}")
		ENVS+=("HAKMEM_ACE=1")
	fi
done

CSV=$BENCH_OUT/phases.csv
TRACES=$BENCH_OUT/phases-traces
mkdir -p "$TRACES"
echo "config,run,phase1_mops,phase2_mops,phase4_mops,mops,rss_avg_kib,rss_peak_kib,rss_idle_kib,rss_time_mibs" >"$CSV"
FAILS=0
for r in $(seq 1 "$RUNS"); do
	printf 'bench-phases: run %d/%d:' "$r" "$RUNS"
	for c in "${!NAMES[@]}"; do
		envs=()
		# shellcheck disable=SC2206
		[ -n "${ENVS[$c]}" ] && envs=(${ENVS[$c]})
		[ -n "${LIBS[$c]}" ] && envs+=("LD_PRELOAD=${LIBS[$c]}")
		out=$(timeout -k 5 "$TMO" env "${envs[@]}" "$BIN/phases" $ARGS \
			trace="$TRACES/${NAMES[$c]}.dat" 2>&1) || {
			echo; echo "bench-phases: ${NAMES[$c]} run $r failed: $(printf '%s' "$out" | tail -n2)" >&2
			FAILS=$((FAILS + 1))
			continue
		}
		line=$(printf '%s\n' "$out" | grep '^RESULT ' | head -n1)
		get() { printf '%s\n' "$line" | sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }
		echo "${NAMES[$c]},$r,$(get phase1_mops),$(get phase2_mops),$(get phase4_mops),$(get mops),$(get rss_avg_kib),$(get rss_peak_kib),$(get rss_idle_kib),$(get rss_time_mibs)" >>"$CSV"
		printf ' %s %s' "${NAMES[$c]}" "$(get mops)"
	done
	echo
done

/usr/bin/python3 - "$CSV" "$BENCH_OUT/phases.md" "$RUNS" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
cols = ["phase1_mops", "phase2_mops", "phase4_mops", "rss_avg_kib", "rss_idle_kib", "rss_time_mibs"]
names = []
for r in rows:
    if r["config"] not in names:
        names.append(r["config"])
med = {}
for n in names:
    rs = [r for r in rows if r["config"] == n]
    med[n] = {c: statistics.median(float(r[c]) for r in rs) for c in cols}
    med[n]["runs"] = len(rs)
L = ["# bench/phases (medians of %s interleaved runs)" % sys.argv[3], "",
     "| config | runs | phase 1 Mops/s | phase 2 Mops/s | phase 4 Mops/s | avg RSS MiB | RSS after idle MiB | RSS x time MiB*s |",
     "|---|---:|---:|---:|---:|---:|---:|---:|"]
for n in names:
    m = med[n]
    L.append("| %s | %d | %.2f | %.3f | %.2f | %.1f | %.1f | %.2f |" % (
        n, m["runs"], m["phase1_mops"], m["phase2_mops"], m["phase4_mops"],
        m["rss_avg_kib"] / 1024, m["rss_idle_kib"] / 1024, m["rss_time_mibs"]))
if all(k in med for k in ("hakmem-ace", "hakmem-fixed-small", "hakmem-fixed-large")):
    a, s, l = med["hakmem-ace"], med["hakmem-fixed-small"], med["hakmem-fixed-large"]
    L += ["", "The adaptive engine (hakmem-ace) against the fixed settings:", ""]
    L.append("- RSS x time: %.3f of fixed-small, %.3f of fixed-large (below 1 on both: it wins)" % (
        a["rss_time_mibs"] / s["rss_time_mibs"], a["rss_time_mibs"] / l["rss_time_mibs"]))
    for p in ("phase1_mops", "phase2_mops", "phase4_mops"):
        best = max(s[p], l[p])
        L.append("- %s: %.3f of the better fixed setting (at least 0.97 required)" % (p.split("_")[0], a[p] / best))
open(sys.argv[2], "w").write("\n".join(L) + "\n")
print("\n".join(L))
PY

if command -v gnuplot >/dev/null; then
	plot=""
	for n in "${NAMES[@]}"; do
		[ -f "$TRACES/$n.dat" ] || continue
		plot+="${plot:+, }\"$TRACES/$n.dat\" using (\$1/1000):(\$2/1024) with lines title \"$n\""
	done
	gnuplot <<GP || echo "bench-phases: gnuplot failed" >&2
set terminal pngcairo size 1100,560 font ",11"
set output "$BENCH_OUT/phases.png"
set title "bench/phases: RSS over time (last run of each configuration)"
set xlabel "seconds"
set ylabel "RSS above the start, MiB"
set grid
set key outside right
plot $plot
GP
fi
[ "$FAILS" = 0 ]
