#!/bin/bash
# SPDX-License-Identifier: MIT
# sqlite-workload: a small real-program workload for the allocator benchmarks.
#
#   bench/sqlite-workload.sh [rows=200000] [quick=1]
#
# Runs sqlite3 on an in-memory database: inserts `rows` rows of generated
# text, builds an index, aggregates, updates and deletes, and checks the
# counts it gets back (exit 3 on a mismatch). Time is wall time around the
# sqlite3 process. An op is one row. The runner preloads the allocator into
# this script, so sqlite3 and the shell both use it.
set -eu

rows=
quick=0
for a in "$@"; do
	case $a in
	rows=*) rows=${a#rows=} ;;
	quick=*) quick=${a#quick=} ;;
	*) echo "bench: unknown argument '$a'" >&2; exit 2 ;;
	esac
done
if [ -z "$rows" ]; then
	if [ "$quick" = 1 ]; then rows=30000; else rows=200000; fi
fi
case $rows in ''|*[!0-9]*) echo "bench: bad value for rows: '$rows'" >&2; exit 2 ;; esac
command -v sqlite3 >/dev/null || { echo "bench: sqlite3 not installed" >&2; exit 2; }

sql="
CREATE TABLE t(id INTEGER PRIMARY KEY, k TEXT, v INTEGER, body TEXT);
WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < $rows)
INSERT INTO t SELECT i, printf('key%08d', (i * 7919) % $rows), i % 1000,
       substr(hex(randomblob(64)), 1, 16 + i % 100) FROM c;
CREATE INDEX t_k ON t(k);
CREATE INDEX t_v ON t(v, body);
SELECT 'count', count(*) FROM t;
SELECT 'groups', count(*) FROM (SELECT v, count(*), max(length(body)) FROM t GROUP BY v);
UPDATE t SET body = body || body WHERE v % 3 = 0;
DELETE FROM t WHERE v % 2 = 1;
SELECT 'left', count(*) FROM t;
SELECT 'distinct', count(DISTINCT k) FROM t;
"
t0=$EPOCHREALTIME
out=$(printf '%s\n' "$sql" | sqlite3 -batch -separator ' ' :memory:)
t1=$EPOCHREALTIME

# expected results, computed from the generator above
# v = i % 1000 has the parity of i, so the even ids survive the DELETE
left_exact=$(( rows / 2 ))
expect_count="count $rows"
got_count=$(printf '%s\n' "$out" | grep '^count ' || true)
got_left=$(printf '%s\n' "$out" | grep '^left ' | cut -d' ' -f2 || true)
if [ "$got_count" != "$expect_count" ]; then
	echo "bench: CHECK FAILED: sqlite3 said '$got_count', expected '$expect_count'" >&2
	exit 3
fi
if [ "$got_left" != "$left_exact" ]; then
	echo "bench: CHECK FAILED: $got_left rows left, expected $left_exact" >&2
	exit 3
fi
awk -v a="$t0" -v b="$t1" -v n="$rows" 'BEGIN {
	s = b - a; printf "RESULT bench=sqlite rows=%d ops=%d secs=%.4f mops=%.4g\n", n, n, s, (s > 0 ? n / s / 1e6 : 0) }'
