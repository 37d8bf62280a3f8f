#!/bin/bash
# SPDX-License-Identifier: MIT
#
# prof-check.sh LIB: the heap profiler (CONFIG_PROFILER) in a real program
# under LD_PRELOAD=LIB (docs/api.md, "Heap profiler"):
#   - tests/prof/prof-prog.c (built with frame pointers) with
#     HAKMEM_PROF=DIR/h.%p.heap writes DIR/h.<pid>.heap, mode 0600, and
#     DIR/h.<pid>.heap.collapsed;
#   - google-pprof --text parses the profile, and its top function is the
#     site that holds the most (big_site), its total near the 60 MiB held;
#   - scripts/hakmem-prof names big_site first, and symbolizes the
#     collapsed stacks;
#   - hak_prof_dump returns 0 with HAKMEM_PROF set and ENOTSUP without.
# Ends with "prof-check: N passed, N failed".
set -u

pass=0
fail=0
ok() { echo "ok   $1"; pass=$((pass + 1)); }
bad() { echo "FAIL $1"; [ -n "${2:-}" ] && echo "$2" | sed 's/^/    /'; fail=$((fail + 1)); }

srctree=$(cd "$(dirname "$0")/.." && pwd)
lib=$(realpath "${1:?usage: prof-check.sh LIB}")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prog=$tmp/prof-prog

finish() {
	echo "prof-check: $pass passed, $fail failed"
	[ "$fail" -eq 0 ]
	exit
}

if ! command -v google-pprof >/dev/null; then
	bad "google-pprof is not installed (scripts/deps.sh: google-perftools)"
	finish
fi
if ! ${CC:-gcc} -O1 -g -fno-omit-frame-pointer -o "$prog" "$srctree/tests/prof/prof-prog.c" -ldl; then
	bad "cannot build tests/prof/prof-prog.c"
	finish
fi

out=$(cd "$tmp" && HAKMEM_PROF="$tmp/h.%p.heap" HAKMEM_PROF_SEED=1 LD_PRELOAD=$lib "$prog" dump 2>&1)
heap=$(ls "$tmp"/h.*.heap 2>/dev/null | head -1)
if [ -n "$heap" ] && [ -f "$heap.collapsed" ] && [ "$(stat -c %a "$heap")" = 600 ]; then
	ok "HAKMEM_PROF=h.%p.heap writes $(basename "$heap") (0600) and .collapsed"
else
	bad "no profile written" "$out$(ls -l "$tmp")"
	finish
fi
if echo "$out" | grep -qx 'hak_prof_dump: 0'; then
	ok "hak_prof_dump returns 0 with HAKMEM_PROF set"
else
	bad "hak_prof_dump with HAKMEM_PROF set" "$out"
fi
out=$(LD_PRELOAD=$lib "$prog" dump 2>&1)
if echo "$out" | grep -qx "hak_prof_dump: $(python3 -c 'import errno; print(errno.ENOTSUP)')"; then
	ok "hak_prof_dump returns ENOTSUP without HAKMEM_PROF"
else
	bad "hak_prof_dump without HAKMEM_PROF" "$out"
fi

text=$(google-pprof --text "$prog" "$heap" 2>"$tmp/pprof.err")
top=$(echo "$text" | awk '/^ *[0-9.]+ +[0-9.]+%/ { print $NF; exit }')
total=$(echo "$text" | sed -n 's/^Total: \([0-9.]*\) MB$/\1/p')
if [ "$top" = big_site ]; then
	ok "google-pprof --text: top function big_site"
else
	bad "google-pprof --text: top function '$top', want big_site" "$text$(cat "$tmp/pprof.err")"
fi
# 60 MiB held = 62.9 MB (pprof's MB are MiB); the small site's 12 MiB is
# 24 intervals: its estimate alone may be off by 20%.
if [ -n "$total" ] && awk -v t="$total" 'BEGIN { exit !(t > 54 && t < 70) }'; then
	ok "google-pprof --text: total $total MB (60 MiB held)"
else
	bad "google-pprof --text: total '$total' MB, want about 60" "$text"
fi

report=$("$srctree/scripts/hakmem-prof" -n 3 "$heap" 2>&1)
if echo "$report" | sed -n '/^#1 /{n;p;q}' | grep -q big_site; then
	ok "hakmem-prof: site #1 is big_site"
else
	bad "hakmem-prof: site #1 is not big_site" "$report"
fi
echo "$report" | head -8 | sed 's/^/    /'
collapsed=$("$srctree/scripts/hakmem-prof" --collapsed "$heap" 2>&1)
if echo "$collapsed" | grep -qE '(^|;)main;hold;big_site [0-9]+$' &&
   [ "$(wc -l <"$heap.collapsed")" -ge 2 ]; then
	ok "collapsed stacks: main;hold;big_site"
else
	bad "collapsed stacks" "$collapsed$(cat "$heap.collapsed")"
fi
finish
