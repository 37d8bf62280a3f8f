#!/bin/bash
# SPDX-License-Identifier: MIT
#
# memcheck.sh OBJTREE
#
# Runs the programs of tests/valgrind/ under Valgrind's memcheck with the
# CONFIG_VALGRIND library built in OBJTREE (LD_PRELOAD of libhakmem.so, and
# a static link against libhakmem.a), and checks each report: an overflow
# into the next block, reads past the new size after in-place reallocs, a
# use after free of a block another thread freed, a lost block, a branch on
# uninitialised bytes, and a clean program with no error.  Also checks the
# start-up line hakmem prints when Valgrind replaced malloc.
# Ends with "memcheck: N passed, N failed"; skips when valgrind is absent.
set -u

objtree=${1:?usage: memcheck.sh OBJTREE}
srctree=$(cd "$(dirname "$0")/.." && pwd)
objtree=$(cd "$objtree" && pwd) || exit 1
CC=${CC:-gcc}
passed=0
failed=0

pass() { echo "ok   $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1"; shift; for l in "$@"; do echo "    $l"; done; failed=$((failed + 1)); }
summary() { echo "memcheck: $passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit; }

if ! command -v valgrind >/dev/null; then
	echo "SKIP: valgrind not installed"
	summary
fi
if ! grep -q '^CONFIG_VALGRIND=y' "$objtree/.config" 2>/dev/null; then
	fail "$objtree is not a CONFIG_VALGRIND build"
	summary
fi

out=$objtree/memcheck
mkdir -p "$out" || exit 1
lib=$objtree/libhakmem.so
CFLAGS="-O1 -g -fno-builtin -Wall"
VG="valgrind --tool=memcheck --error-exitcode=99 --leak-check=full"
KEEP="--soname-synonyms=somalloc=nouserintercepts"

build() {   # build NAME [static]
	local src=$srctree/tests/valgrind/$1.c
	if [ "${2:-}" = static ]; then
		$CC $CFLAGS -static -I"$srctree/include" -o "$out/$1-static" "$src" \
			"$objtree/libhakmem.a" -pthread -lm 2>"$out/$1-static.cc"
	else
		$CC $CFLAGS -o "$out/$1" "$src" -pthread 2>"$out/$1.cc"
	fi
}

# check NAME BINARY STATUS ERRORS PATTERN COUNT [VALGRIND OPTIONS...]:
# runs BINARY under memcheck (LD_PRELOAD unless a -static one), and wants
# its exit status STATUS, "ERROR SUMMARY: ERRORS errors" (- for any, both)
# and COUNT lines of the report matching PATTERN.
check() {
	local name=$1 bin=$2 want_rc=$3 want_err=$4 pattern=$5 count=$6 rc n err log=$out/$1.log
	shift 6
	if [ ! -x "$out/$bin" ]; then
		fail "$name" "cannot build $bin: $(head -3 "$out/$bin.cc" 2>/dev/null)"
		return
	fi
	case $bin in
	*-static) $VG "$@" "$out/$bin" >"$log" 2>&1 ;;
	*) LD_PRELOAD=$lib $VG "$@" "$out/$bin" >"$log" 2>&1 ;;
	esac
	rc=$?
	n=$(grep -cE -- "$pattern" "$log")
	err=$(sed -nE 's/.*ERROR SUMMARY: ([0-9]+) errors.*/\1/p' "$log" | tail -1)
	if { [ "$want_rc" = - ] || [ "$rc" -eq "$want_rc" ]; } &&
	   { [ "$want_err" = - ] || [ "$err" = "$want_err" ]; } && [ "$n" -eq "$count" ]; then
		pass "$name: $count x '$pattern'$([ "$want_err" = - ] || echo ", $want_err errors")"
	else
		fail "$name: exit $rc (want $want_rc), ${err:-no} errors (want $want_err), $n x '$pattern' (want $count)" \
			"$(grep -E '== (Invalid|Conditional|[ a-z]+lost:|ERROR SUMMARY)|hakmem' "$log" | head -8)"
	fi
}

for t in overflow realloc-shrink remote-uaf leak uninit clean; do
	build $t
done
build overflow static
build clean static

check overflow overflow 99 1 '== Invalid write of size 1$' 1 "$KEEP"
# The two reads past the sizes memcheck was told by RESIZEINPLACE.
check realloc-shrink realloc-shrink 99 2 'bytes after a block of size (150|180) alloc' 2 "$KEEP"
check remote-uaf remote-uaf 99 1 '== Invalid read of size 8$' 1 "$KEEP"
check leak leak 99 1 'definitely lost: 1,000 bytes in 1 blocks' 1 "$KEEP"
check uninit uninit 99 1 'Conditional jump or move depends on uninitialised value' 1 "$KEEP"
check clean clean 0 0 'definitely lost|possibly lost' 0 "$KEEP"
check clean-not-replaced clean 0 0 'hakmem: running under Valgrind' 0 "$KEEP"
check overflow-static overflow-static 99 - '== Invalid write of size 1$' 1
# A static glibc sets up TLS and keeps its loader's blocks where memcheck
# cannot follow: its reports hold conditional jumps on thread-local
# variables (glibc's and hakmem's alike) and "lost" loader blocks, so the
# static runs want the address errors only.
check clean-static clean-static - - '== (Invalid (read|write|free)|Mismatched free)' 0
# Without the flag Valgrind replaces hakmem's malloc: hakmem says so.
check replaced-detected clean 0 0 'hakmem: running under Valgrind, which replaced malloc' 1
summary
