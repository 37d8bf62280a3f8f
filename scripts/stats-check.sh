#!/bin/bash
# SPDX-License-Identifier: MIT
#
# stats-check.sh LIB...: what the options of "seeing inside" do in real
# programs run under LD_PRELOAD=LIB (docs/api.md):
#   - HAKMEM_STATS=json with HAKMEM_STATS_FILE=DIR/s.%p.json: `ls` (which
#     closes stderr before exit) writes DIR/s.<pid>.json, mode 0600, that
#     python's json module parses and that counts allocations;
#   - HAKMEM_STATS=1 to a file: the text form;
#   - a symbolic link at the path is not followed, and is reported;
#   - a forked child writes its own file, beside its parent's;
#   - HAKMEM_VERBOSE=1 prints the version and the config at start-up;
#   - HAKMEM_TRACE_DUMP=DIR/trace.%p writes the trace ring at exit
#     (CONFIG_DEBUG_TRACE builds);
#   - a malformed HAKMEM_STATS is reported and ignored.
# Ends with "stats-check: N passed, N failed".
set -u

pass=0
fail=0
ok() { echo "ok   $1"; pass=$((pass + 1)); }
bad() { echo "FAIL $1"; [ -n "${2:-}" ] && echo "$2" | sed 's/^/    /'; fail=$((fail + 1)); }
PY=/usr/bin/python3

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# A program that forks and lets both processes exit normally.
cat >"$tmp/forker.c" <<'EOF'
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
int main(void)
{
	char *p = malloc(100);
	pid_t pid;

	memset(p, 1, 100);
	pid = fork();
	if (pid < 0)
		return 1;
	free(malloc(200));
	if (pid > 0 && waitpid(pid, NULL, 0) != pid)
		return 1;
	free(p);
	return 0;
}
EOF
${CC:-gcc} -O1 -o "$tmp/forker" "$tmp/forker.c" || { bad "compile forker"; exit 1; }

for lib in "$@"; do
	name=$(basename "$(dirname "$lib")")
	d=$tmp/$name
	mkdir -p "$d"
	# Without CONFIG_STATS the counters read 0 (the gauges are kept).
	min=1
	env LD_PRELOAD="$lib" HAKMEM_VERBOSE=1 true 2>&1 | grep -q 'CONFIG_STATS=n' && min=0

	# JSON to a file, from a program that closes stderr before exit.
	env LD_PRELOAD="$lib" HAKMEM_STATS=json HAKMEM_STATS_FILE="$d/s.%p.json" \
		ls -l / >/dev/null 2>"$d/ls.err"
	files=("$d"/s.*.json)
	f=${files[0]}
	if [ ${#files[@]} -eq 1 ] && [ -f "$f" ]; then
		mode=$(stat -c %a "$f")
		allocs=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["stats"]["allocs"])' "$f" 2>&1)
		if [ "$mode" = 600 ] && [ "${allocs:--1}" -ge $min ] 2>/dev/null &&
		   [[ "$f" =~ /s\.[0-9]+\.json$ ]]; then
			ok "$name: HAKMEM_STATS=json to $(basename "$f"), mode 0600, $allocs allocations"
		else
			bad "$name: json stats file" "mode $mode, allocs: $allocs"
		fi
	else
		bad "$name: json stats file not written" "$(ls "$d"; cat "$d/ls.err")"
	fi

	# Text to a file.
	env LD_PRELOAD="$lib" HAKMEM_STATS=1 HAKMEM_STATS_FILE="$d/t.txt" ls / >/dev/null 2>&1
	if grep -qE "^hakmem: stat allocs [$min-9][0-9]*\$" "$d/t.txt" 2>/dev/null &&
	   grep -q '^hakmem: stat bytes_mapped [0-9]* peak [0-9]*$' "$d/t.txt"; then
		ok "$name: HAKMEM_STATS=1 with HAKMEM_STATS_FILE writes the text form"
	else
		bad "$name: text stats file" "$(head -5 "$d/t.txt" 2>&1)"
	fi

	# A symbolic link at the path: not followed.
	ln -s "$d/target" "$d/link.txt"
	env LD_PRELOAD="$lib" HAKMEM_STATS=1 HAKMEM_STATS_FILE="$d/link.txt" true 2>"$d/link.err"
	if [ ! -e "$d/target" ] && grep -q 'HAKMEM_STATS_FILE: cannot open' "$d/link.err"; then
		ok "$name: a symbolic link at HAKMEM_STATS_FILE is not followed"
	else
		bad "$name: symbolic link followed or not reported" "$(cat "$d/link.err")"
	fi

	# A forked child writes its own file.
	mkdir "$d/fork"
	env LD_PRELOAD="$lib" HAKMEM_STATS=json HAKMEM_STATS_FILE="$d/fork/f.%p.json" \
		"$tmp/forker"
	n=$(ls "$d/fork" | grep -cE '^f\.[0-9]+\.json$')
	valid=0
	for f in "$d/fork"/f.*.json; do
		$PY -m json.tool "$f" >/dev/null 2>&1 && valid=$((valid + 1))
	done
	if [ "$n" -eq 2 ] && [ "$valid" -eq 2 ]; then
		ok "$name: parent and forked child write one file each (%p)"
	else
		bad "$name: fork: $n files, $valid valid" "$(ls "$d/fork")"
	fi

	# The identity at start-up.
	out=$(env LD_PRELOAD="$lib" HAKMEM_VERBOSE=1 true 2>&1)
	if echo "$out" | grep -qE '^hakmem: version [0-9]+\.[0-9]+\.[0-9]+$' &&
	   echo "$out" | grep -q '^hakmem: config ARCH='; then
		ok "$name: HAKMEM_VERBOSE=1 prints the version and the config"
	else
		bad "$name: HAKMEM_VERBOSE=1" "$out"
	fi

	# The trace ring at exit (CONFIG_DEBUG_TRACE builds).
	if env LD_PRELOAD="$lib" HAKMEM_VERBOSE=1 true 2>&1 | grep -q 'CONFIG_DEBUG_TRACE=y'; then
		env LD_PRELOAD="$lib" HAKMEM_TRACE_DUMP="$d/trace.%p" ls / >/dev/null 2>&1
		files=("$d"/trace.*)
		if [ ${#files[@]} -eq 1 ] && [ "$(stat -c %a "${files[0]}")" = 600 ] &&
		   grep -q '^hakmem: trace: thread heap ' "${files[0]}" &&
		   grep -qE '^hakmem: trace [0-9]+ (malloc|free) 0x[0-9a-f]+ ' "${files[0]}"; then
			ok "$name: HAKMEM_TRACE_DUMP writes the exiting thread's ring"
		else
			bad "$name: HAKMEM_TRACE_DUMP" "$(ls "$d"; head -3 "${files[0]}" 2>&1)"
		fi
	fi

	# A malformed value.
	out=$(env LD_PRELOAD="$lib" HAKMEM_STATS=yes true 2>&1)
	if echo "$out" | grep -q 'malformed value, using the default: HAKMEM_STATS=yes' &&
	   ! echo "$out" | grep -q '^hakmem: stat '; then
		ok "$name: HAKMEM_STATS=yes is reported and ignored"
	else
		bad "$name: HAKMEM_STATS=yes" "$out"
	fi
done

echo "stats-check: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
