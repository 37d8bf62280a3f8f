#!/bin/bash
# SPDX-License-Identifier: MIT
#
# realprog.sh LIBHAKMEM_SO
#
# Runs real programs under LD_PRELOAD=LIBHAKMEM_SO and compares each one's
# stdout and exit status byte for byte with a run without it:
#   python3  multi-threaded: dicts/lists in 4 threads, then strings/json,
#            PYTHONMALLOC=malloc
#   perl     hashes, strings, sort, regex
#   sort     a generated 200k-line file, several keys, temp-file merges
#   sqlite3  inserts, indexes, joins, aggregates, VACUUM (skipped if absent)
#   gcc      compiles and links a multi-file C program; the program's output
#            (run without the library) and gcc's exit status are compared
#   git      init, commits with fixed names and dates, log/cat-file/gc/fsck
#   redis    redis-server (preloaded; its clients are not) on a unix socket
#            in the work directory: redis-benchmark (output not compared,
#            only its exit status), FLUSHALL ASYNC, then ~50k deterministic
#            redis-cli commands (strings, lists, hashes, sets, sorted sets,
#            Lua, DEBUG DIGEST, DEBUG RELOAD) whose replies are compared;
#            SHUTDOWN NOSAVE, and the server must exit 0.  Skipped without
#            redis-server, redis-cli or redis-benchmark
#   cxx      g++ compiles tests/realprog/stlstress.cpp (the binary's cksum
#            is compared), then runs it: STL containers, shared_ptr, sort,
#            4 threads passing objects through mutex-protected queues
#   make     make -j2 -s builds a small project (tests/realprog/mkprog.mk:
#            the cprog sources, a static library, generated sources); make
#            and every gcc, ar and sh it spawns are preloaded.  Compared:
#            the programs' output and "make -q" before and after a touch
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

# redis_stop: the EXIT trap of prog_redis, which runs in a subshell of its
# own.  Stops a server still running after a failure: SHUTDOWN NOSAVE, then
# SIGKILL to the pid in redis.pid (not $redis_job: that is the subshell
# running x, and timeout would keep the server alive).
redis_stop() {
	kill -0 "$redis_job" 2>/dev/null || return 0
	timeout 5 redis-cli -s r.sock shutdown nosave >/dev/null 2>&1
	local i
	for i in $(seq 50); do
		kill -0 "$redis_job" 2>/dev/null || return 0
		sleep 0.1
	done
	[ -s redis.pid ] && kill -KILL "$(cat redis.pid)" 2>/dev/null
	kill -KILL "$redis_job" 2>/dev/null
	echo "redis-server did not shut down; killed" >&2
}

prog_redis() {
	local i rc cli
	awk -f "$rp/redis-cmds.awk" >cmds.txt || return
	# Only the server is preloaded.  It logs to stdout (server.log, not
	# compared: it has pids and times); its stderr is the run's stderr,
	# where HAKMEM_STATS=1 reports when it exits after SHUTDOWN.
	x redis-server --port 0 --unixsocket r.sock --pidfile "$PWD/redis.pid" \
		--save '' --appendonly no --daemonize no \
		--enable-debug-command local >server.log &
	redis_job=$!
	trap redis_stop EXIT	# bash runs it on SIGINT/SIGTERM too
	for i in $(seq 100); do
		[ "$(redis-cli -s r.sock ping 2>/dev/null)" = PONG ] && break
		if ! kill -0 $redis_job 2>/dev/null || [ "$i" = 100 ]; then
			echo "redis-server did not come up" >&2
			tail -n 3 server.log >&2
			return 1
		fi
		sleep 0.1
	done
	echo "server up"
	if ! redis-benchmark -s r.sock -n 20000 -r 100000 -d 64 -q \
		-t set,get,lpush,lpop,incr,hset,sadd >bench.out 2>&1; then
		echo "redis-benchmark failed" >&2
		tail -n 3 bench.out >&2
		return 1
	fi
	echo "benchmark ok"
	redis-cli -s r.sock flushall async &&
	redis-cli -s r.sock dbsize &&
	redis-cli -s r.sock <cmds.txt &&
	redis-cli -s r.sock shutdown nosave
	cli=$?
	[ $cli = 0 ] || redis_stop
	wait $redis_job
	rc=$?
	trap - EXIT
	echo "server exit $rc"
	if [ $cli != 0 ] || [ $rc != 0 ]; then
		tail -n 2 server.log >&2
		echo "redis-cli exit $cli, redis-server exit $rc" >&2
		return 1
	fi
}

prog_cxx() {
	# -frandom-seed: g++ output must not vary from run to run, so that the
	# binaries can be compared too
	x g++ -O2 -Wall -pthread -frandom-seed=stlstress \
		-o stlstress "$rp/stlstress.cpp" || return
	echo "g++ ok, binary $(cksum <stlstress)"
	x ./stlstress
}

prog_make() {
	local mk=(make -f "$rp/mkprog.mk" "SRC=$rp/cprog")
	# not the flags and jobserver of a make that runs this script
	unset MAKEFLAGS MFLAGS GNUMAKEFLAGS MAKELEVEL
	# make's own output would come in any order under -j2: -s keeps it
	# quiet, and what is compared is what was built
	x "${mk[@]}" -s -j2 || return
	echo "make ok"
	./prog && ./prog2 || return
	x "${mk[@]}" -q
	echo "make -q: $?"
	touch fns.h
	x "${mk[@]}" -q
	echo "make -q after touch fns.h: $?"
	x "${mk[@]}" -s -j2 || return
	x "${mk[@]}" -q
	echo "make -q after rebuild: $?"
	./prog2
}

# ---- driver ----

progs="python3 perl sort sqlite3 gcc git redis cxx make"
declare -A skip=()
[ -x /usr/bin/python3 ] || skip[python3]="/usr/bin/python3 not found"
command -v perl >/dev/null || skip[perl]="perl not found"
command -v sqlite3 >/dev/null ||
	skip[sqlite3]="sqlite3 not installed (Debian package: sqlite3)"
command -v gcc >/dev/null || skip[gcc]="gcc not found"
command -v git >/dev/null || skip[git]="git not found"
for t in redis-server redis-cli redis-benchmark; do
	command -v $t >/dev/null ||
		skip[redis]="$t not installed (Debian packages: redis-server redis-tools)"
done
command -v g++ >/dev/null || skip[cxx]="g++ not installed (Debian package: g++)"
command -v make >/dev/null && command -v gcc >/dev/null &&
	command -v ar >/dev/null || skip[make]="make, gcc or ar not found"

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
