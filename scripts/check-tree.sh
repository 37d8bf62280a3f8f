#!/bin/bash
# SPDX-License-Identifier: MIT
#
# check-tree.sh OBJTREE
#
# Static checks of the tree and of the library built in OBJTREE:
#  - syscalls (mmap, munmap, madvise, mprotect, mremap, read, write, ...)
#    only in the OS layer, mm/os.c;
#  - inline assembly only under arch/;
#  - the same-thread malloc and free fast paths (hak_malloc, hak_free)
#    hold no atomic read-modify-write instruction (but the double-free
#    bitmap's bit operations with CONFIG_DOUBLE_FREE_CHECK);
#  - libhakmem.so exports only the API, and never calls itself through
#    the PLT;
#  - docs/size-classes.md matches the generator.
# Ends with "lint: N passed, N failed".
set -u

objtree=$1
srctree=$(cd "$(dirname "$0")/.." && pwd)
OBJDUMP=${OBJDUMP:-objdump}
NM=${NM:-${OBJDUMP%objdump}nm}
so=$objtree/libhakmem.so
passed=0
failed=0

pass() { echo "ok   $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1"; shift; for l in "$@"; do echo "    $l"; done; failed=$((failed + 1)); }

cd "$srctree" || exit 1

# 1. Syscalls only in mm/os.c.
hits=$(grep -nE '(^|[^_a-zA-Z0-9.>])(mmap|munmap|madvise|mprotect|mremap|syscall|sbrk|brk|read|write|open|close|getauxval|sysconf)[[:space:]]*\(' \
	$(find mm lib arch include -name '*.[ch]' ! -path mm/os.c) | grep -vE '^[^:]+:[0-9]+:[[:space:]]*(\*|/\*|//)')
if [ -z "$hits" ]; then pass "syscalls only in mm/os.c"; else fail "syscalls outside mm/os.c" "$hits"; fi

# 2. Inline asm only under arch/.
hits=$(grep -nE '\b(__asm__|asm)[[:space:]]*(__volatile__|volatile)?[[:space:]]*\(' \
	$(find mm lib include tests bench -name '*.[ch]'))
if [ -z "$hits" ]; then pass "inline asm only under arch/"; else fail "inline asm outside arch/" "$hits"; fi

if [ ! -f "$so" ]; then
	fail "library built" "$so is missing"
	echo "lint: $passed passed, $failed failed"
	exit 1
fi

# 3. No atomic read-modify-write on the same-thread fast paths.  With
# CONFIG_DOUBLE_FREE_CHECK the block's allocated bit is set and cleared
# atomically (remote frees clear bits of the same words): those bit
# operations are allowed, and nothing else.
case $(readelf -h "$so" 2>/dev/null | sed -n 's/^ *Machine: *//p') in
*AArch64*)
	rmw='(ldxr|ldaxr|stxr|stlxr|\bcas[a-z]*\b|ldadd|ldset|ldclr|swp[a-z]*\b|__aarch64_(cas|swp|ldadd|ldset|ldclr))'
	bitops='(\bldset[a-z]*\b|\bldclr[a-z]*\b|__aarch64_(ldset|ldclr)[0-9]+_acq_rel)' ;;
*)
	rmw='(\block\b|xchg|cmpxchg)'
	bitops='lock bt[sr]' ;;
esac
grep -qx 'CONFIG_DOUBLE_FREE_CHECK=y' "$objtree/.config" 2>/dev/null || bitops='$^'
for fn in hak_malloc hak_free; do
	read -r addr size < <("$NM" -S --defined-only "$so" | awk -v f="$fn" '$4 == f {print $1, $2}')
	body=
	if [ -n "${addr:-}" ]; then
		body=$("$OBJDUMP" -d --no-show-raw-insn --start-address=$((16#$addr)) \
			--stop-address=$((16#$addr + 16#$size)) "$so" | grep -E '^[[:space:]]+[0-9a-f]+:' |
			grep -vE 'xchg[[:space:]]+%ax,%ax')   # a 2-byte nop
	fi
	bits=$(echo "$body" | grep -cE "$bitops")
	if [ -z "$body" ]; then
		fail "fast path $fn found"
	elif echo "$body" | grep -vE "$bitops" | grep -qE "$rmw"; then
		fail "no atomic RMW in $fn" "$(echo "$body" | grep -vE "$bitops" | grep -E "$rmw" | head -5)"
	elif [ "$bits" -gt 0 ]; then
		pass "no atomic RMW in $fn but $bits double-free bit ops ($(echo "$body" | wc -l) instructions)"
	else
		pass "no atomic RMW in $fn ($(echo "$body" | wc -l) instructions)"
	fi
done

# 4. Only the API is exported; no PLT calls into ourselves.
api='^(hak_[a-z0-9_]+|malloc|free|calloc|realloc|reallocarray|posix_memalign|aligned_alloc|memalign|valloc|pvalloc|malloc_usable_size|free_sized|free_aligned_sized|cfree|malloc_trim|mallinfo2?|malloc_stats|malloc_info|mallopt|__libc_(malloc|free|calloc|realloc|memalign|valloc|pvalloc)|__posix_memalign)$'
extra=$("$NM" -D --defined-only "$so" | awk '$2 ~ /^[TWDBVR]$/ {print $3}' | grep -vE "$api")
if [ -z "$extra" ]; then pass "only the API is exported"; else fail "unexpected exports" "$extra"; fi
self=$("$OBJDUMP" -d "$so" | grep -E '<[^>]+@plt>' | sed -E 's/.*<([^@>]+)@plt>.*/\1/' | sort -u | grep -E "$api")
if [ -z "$self" ]; then pass "no PLT calls to our own symbols"; else fail "PLT calls to our own symbols" "$self"; fi

# 5. The published size-class table is current.
gen=$(/usr/bin/python3 scripts/gen-classes.py 21 16 markdown)
doc=$(sed -n '/^| class |/,/^$/p' docs/size-classes.md | sed '/^$/d')
if [ "$gen" = "$doc" ]; then pass "docs/size-classes.md is current"; else
	fail "docs/size-classes.md is stale (regenerate: scripts/gen-classes.py 21 16 markdown)"; fi

echo "lint: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
