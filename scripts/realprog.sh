#!/bin/bash
# SPDX-License-Identifier: MIT
#
# realprog.sh LIBHAKMEM_SO
#
# Runs real programs under LD_PRELOAD=LIBHAKMEM_SO and compares each one's
# stdout and exit status byte for byte with a run without it:
#   python3  dicts/lists/strings/json/threads, PYTHONMALLOC=malloc
#   perl     hashes, strings, sort, regex
#   sort     a generated 200k-line file, several keys, temp-file merges
#   sqlite3  inserts, indexes, joins, aggregates, VACUUM (skipped if absent)
#   gcc      compiles and links a multi-file C program; the program's output
#            (run without the library) and gcc's exit status are compared
#   git      init, commits with fixed names and dates, log/cat-file/gc/fsck
# Each program also runs once with HAKMEM_STATS=1; its stderr must show
# "hakmem: stat allocs N" with N > 0, proving hakmem served it.  That check
# is skipped, with a note, when no run printed any stats line at all (a
# library built without CONFIG_STATS, or another allocator standing in).
#
# Prints "PASS <prog>", "FAIL <prog>: <why>" or "SKIP <prog>: <why>" per
# program, then "N passed, N failed"; exits non-zero if any failed.
# Inputs live in tests/realprog/.  Every program run is under timeout 120.
# REALPROG_KEEP=1 keeps the work directory (outputs, stderr) for a look.

set -u

if [ $# -ne 1 ]; then
	echo "usage: $0 LIBHAKMEM_SO" >&2
	exit 2
fi
lib=$(readlink -f -- "$1")
if [ ! -f "$lib" ]; then
	echo "$0: $1: no such library" >&2
	exit 2
fi
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
rp=$root/tests/realprog

tmp=$(mktemp -d "${TMPDIR:-/tmp}/hakmem-realprog.XXXXXX") || exit 2
if [ -n "${REALPROG_KEEP:-}" ]; then
	echo "keeping $tmp"
else
	trap 'rm -rf "$tmp"' EXIT
fi
export LC_ALL=C TZ=UTC
unset HAKMEM_STATS LD_PRELOAD

if LD_PRELOAD=$lib /bin/true 2>&1 | grep -q 'cannot be preloaded'; then
	echo "$0: $lib cannot be preloaded:" >&2
	LD_PRELOAD=$lib /bin/true
	exit 2
fi

# x CMD ARGS...: run one program in the current $mode, under a timeout.
# Only CMD is preloaded (timeout and env are not).
mode=plain
x() {
	case $mode in
	plain) timeout 120 "$@" ;;
	preload) timeout 120 env LD_PRELOAD="$lib" "$@" ;;
	stats) timeout 120 env LD_PRELOAD="$lib" HAKMEM_STATS=1 "$@" ;;
	esac
}

# ---- the programs: each runs in a fresh directory, output on stdout ----

prog_python3() {
	export PYTHONMALLOC=malloc PYTHONHASHSEED=0 PYTHONDONTWRITEBYTECODE=1
	x /usr/bin/python3 "$rp/pystress.py"
}

prog_perl() {
	export PERL_HASH_SEED=0 PERL_PERTURB_KEYS=0
	x perl "$rp/perlstress.pl" &&
	x perl -e 'my %h; $h{$_ x 3} = length($_) for map { sprintf "%x", $_ * 7 } 1 .. 100000;
		   my $s = join "", map { "$_=$h{$_}\n" } sort keys %h;
		   print length($s), " ", scalar(keys %h), "\n"; print substr($s, 0, 200)'
}

prog_sort() {
	x sort -S 1M --parallel=2 -T . "$tmp/sort.in" &&
	x sort -n -r -k1,1 -k3,3 -S 4M -T . "$tmp/sort.in" &&
	x sort -u -k2,2 "$tmp/sort.in"
}

prog_sqlite3() {
	x sqlite3 test.db <"$rp/sqlite.sql" &&
	x sqlite3 test.db 'SELECT count(*), max(id) FROM t; PRAGMA integrity_check;'
}

prog_gcc() {
	cp "$rp"/cprog/*.c "$rp"/cprog/*.h . || return
	x gcc -O2 -Wall -c main.c &&
	x gcc -O2 -Wall -c list.c &&
	x gcc -O2 -Wall -c words.c &&
	x gcc -o prog main.o list.o words.o &&
	x gcc -O0 -g -Wall -o prog2 main.c list.c words.c || return
	echo "gcc ok"
	./prog && ./prog2
}

prog_git() {
	export HOME=$PWD/home GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
	export GIT_AUTHOR_NAME="Hak Mem" GIT_AUTHOR_EMAIL=hak@example.org
	export GIT_COMMITTER_NAME="Hak Mem" GIT_COMMITTER_EMAIL=hak@example.org
	mkdir -p home && x git init -q -b main repo && cd repo || return
	local i
	for i in 1 2 3 4 5 6; do
		mkdir -p "dir$((i % 3))"
		seq $((i * 1000)) >"dir$((i % 3))/file$i.txt"
		printf 'line %s\n' $(seq 1 $((i * 37))) >README
		[ "$i" = 4 ] && rm -f dir1/file1.txt
		export GIT_AUTHOR_DATE="2024-01-0$i 12:00:00 +0000"
		export GIT_COMMITTER_DATE=$GIT_AUTHOR_DATE
		x git add -A && x git commit -q -m "commit $i" || return
	done
	x git log --format='%H %T %s' &&
	x git cat-file -p HEAD &&
	x git ls-tree -r HEAD &&
	x git diff --stat HEAD~4 HEAD &&
	x git log -p --format=%s -- README | x git hash-object --stdin &&
	x git gc -q &&
	x git fsck --no-progress --full &&
	x git count-objects -v | grep -v size
}

# ---- driver ----

progs="python3 perl sort sqlite3 gcc git"
declare -A skip=()
[ -x /usr/bin/python3 ] || skip[python3]="/usr/bin/python3 not found"
command -v perl >/dev/null || skip[perl]="perl not found"
command -v sqlite3 >/dev/null ||
	skip[sqlite3]="sqlite3 not installed (Debian package: sqlite3)"
command -v gcc >/dev/null || skip[gcc]="gcc not found"
command -v git >/dev/null || skip[git]="git not found"

# the sort input: 200k generated lines, made once, without the library
awk 'BEGIN { srand(1); for (i = 0; i < 200000; i++)
	printf "%d %s %08x\n", int(rand() * 100000),
	substr("abcdefghijklmnopqrstuvwxyz", int(rand() * 22) + 1, 5),
	int(rand() * 2147483647) }' >"$tmp/sort.in"

declare -A why=()
for p in $progs; do
	[ -n "${skip[$p]:-}" ] && continue
	for mode in plain preload stats; do
		d=$tmp/$p.$mode
		mkdir -p "$d"
		(cd "$d" && "prog_$p") >"$d.out" 2>"$d.err"
		echo $? >"$d.rc"
	done
	mode=plain
	b=$tmp/$p
	if [ "$(cat "$b.plain.rc")" != 0 ]; then
		why[$p]="fails without the library too (exit $(cat "$b.plain.rc")): $(tail -n 3 "$b.plain.err" | tr '\n' ' ')"
		continue
	fi
	for m in preload stats; do
		if grep -q 'cannot be preloaded' "$b.$m.err"; then
			why[$p]="library not preloaded ($m run)"
		elif [ "$(cat "$b.$m.rc")" != 0 ]; then
			why[$p]="exit $(cat "$b.$m.rc") with the library ($m run): $(grep -v '^hakmem: stat ' "$b.$m.err" | tail -n 3 | tr '\n' ' ')"
		elif ! cmp -s "$b.plain.out" "$b.$m.out"; then
			why[$p]="output differs with the library ($m run): $(cmp "$b.plain.out" "$b.$m.out" 2>&1 | head -n 1)"
		fi
		[ -n "${why[$p]:-}" ] && break
	done
done

have_stats=0
if cat "$tmp"/*.err 2>/dev/null | grep -q '^hakmem: stat '; then
	have_stats=1
fi

passed=0
failed=0
for p in $progs; do
	if [ -n "${skip[$p]:-}" ]; then
		echo "SKIP $p: ${skip[$p]}"
		continue
	fi
	if [ -z "${why[$p]:-}" ] && [ $have_stats = 1 ]; then
		n=$(sed -n 's/^hakmem: stat allocs \([0-9][0-9]*\)$/\1/p' \
			"$tmp/$p.stats.err" | sort -n | tail -n 1)
		if [ -z "$n" ] || [ "$n" -eq 0 ]; then
			why[$p]="HAKMEM_STATS=1 run shows no 'hakmem: stat allocs N' with N > 0"
		fi
	fi
	if [ -n "${why[$p]:-}" ]; then
		echo "FAIL $p: ${why[$p]}"
		failed=$((failed + 1))
	else
		echo "PASS $p"
		passed=$((passed + 1))
	fi
done
if [ $have_stats = 0 ]; then
	echo "note: no run printed a 'hakmem: stat' line (library built" \
		"without CONFIG_STATS?); not checking that hakmem served each program"
fi
echo "$passed passed, $failed failed"
[ $failed = 0 ]
