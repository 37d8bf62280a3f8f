#!/bin/bash
# SPDX-License-Identifier: MIT
#
# scripts/fuzz.sh [SECONDS]   (make fuzz FUZZ_SECONDS=N; default 60)
#
# Builds libhakmem.a in build/fuzz from release_defconfig (FUZZ_DEFCONFIG) with
# CONFIG_OVERRIDE off (ASan's malloc stays the process allocator; the
# target reaches hakmem through hak_* only), instrumented with
# ASan+UBSan, links tests/fuzz/fuzz_ops.c against it with libFuzzer, and
# runs it for SECONDS seconds on the seed corpus tests/fuzz/corpus/.
# New interesting inputs go to build/fuzz/corpus/ (not committed).  A crash
# input is copied into tests/fuzz/corpus/ as a regression case and the
# script exits non-zero.  The seed corpus is replayed first on every run,
# so a committed crash input fails the next run until the bug is fixed.
#
# Environment: CLANG (default clang), FUZZ_DEFCONFIG (default release; another
# defconfig builds in build/fuzz-NAME).

set -eu

seconds=${1:-60}
case $seconds in
'' | *[!0-9]*) echo "usage: $0 [SECONDS]" >&2; exit 2 ;;
esac
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
clang=${CLANG:-clang}
defconfig=${FUZZ_DEFCONFIG:-release}
out=build/fuzz
[ "$defconfig" = release ] || out=build/fuzz-$defconfig
san='-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g'

runtime=$($clang -print-file-name=libclang_rt.fuzzer-x86_64.a 2>/dev/null || true)
if [ "$(uname -m)" = x86_64 ] && [ ! -f "$runtime" ]; then
	echo "fuzz: libFuzzer runtime missing; install it: apt-get install libclang-rt-14-dev" >&2
	exit 2
fi

# .config: the defconfig with CONFIG_OVERRIDE off.
mkdir -p "$out"
{ grep -v -E '^(# )?CONFIG_OVERRIDE[= ]' "defconfigs/${defconfig}_defconfig" || true; } >"$out/.config.fuzz"
echo '# CONFIG_OVERRIDE is not set' >>"$out/.config.fuzz"
if ! cmp -s "$out/.config.fuzz" "$out/.config.seed" 2>/dev/null; then
	cp "$out/.config.fuzz" "$out/.config"
	cp "$out/.config.fuzz" "$out/.config.seed"
fi
make -s O="$out" olddefconfig
if grep -q '^CONFIG_OVERRIDE=y' "$out/.config"; then
	echo "fuzz: CONFIG_OVERRIDE is still on in $out/.config" >&2
	exit 2
fi
make O="$out" CC="$clang" KCFLAGS="$san" KLDFLAGS='-fsanitize=address,undefined' all

echo "  LD      $out/fuzz_ops"
$clang -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -g -O1 \
	-Wall -Wextra -Iinclude -I"$out/include" \
	tests/fuzz/fuzz_ops.c "$out/libhakmem.a" -pthread -o "$out/fuzz_ops"

mkdir -p "$out/corpus" "$out/crashes"
rm -f "$out"/crashes/*
log=$out/fuzz.log
echo "fuzz: running $out/fuzz_ops for ${seconds}s (log: $log)"
set +e
ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:allocator_may_return_null=1} \
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
	"$out/fuzz_ops" -max_total_time="$seconds" -print_final_stats=1 -max_len=4096 \
	-timeout=20 -rss_limit_mb=4096 \
	-artifact_prefix="$out/crashes/" "$out/corpus" tests/fuzz/corpus >"$log" 2>&1
rc=$?
set -e

execs=$(grep -h 'stat::number_of_executed_units' "$log" | awk '{s += $2} END {print s + 0}')
echo "fuzz: $execs executions in ${seconds}s"
found=0
for f in "$out"/crashes/*; do
	[ -f "$f" ] || continue
	found=1
	cp "$f" tests/fuzz/corpus/
	echo "fuzz: $(basename "$f") saved as tests/fuzz/corpus/$(basename "$f") (regression case)" >&2
done
if [ $rc -ne 0 ] || [ $found = 1 ]; then
	grep -E 'fuzz_ops:|ERROR|SUMMARY|runtime error' "$log" | head -20 >&2
	echo "fuzz: FAILED (exit $rc), see $log" >&2
	exit 1
fi
echo "fuzz: no crash"
