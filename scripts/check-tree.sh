#!/bin/bash
# SPDX-License-Identifier: MIT
#
# check-tree.sh OBJTREE
#
# Static checks of the tree and of the library built in OBJTREE:
#  - syscalls (mmap, munmap, madvise, mprotect, mremap, read, write, ...)
#    only in the OS layer, mm/os.c;
#  - inline assembly only under arch/;
#  - layers (the table below): every source file under mm/ lib/ arch/
#    include/ has a layer, and includes only headers of its own layer or
#    lower; a tier of layer 4 includes none of another tier's files;
#  - no .c file under mm/ over 600 lines;
#  - the same-thread malloc and free fast paths (hak_malloc, hak_free)
#    hold no atomic read-modify-write instruction (but the double-free
#    bitmap's bit operations with CONFIG_DOUBLE_FREE_CHECK);
#  - libhakmem.so exports only the API, and never calls itself through
#    the PLT;
#  - box rule: a file (or directory) that a Makefile builds only with
#    obj-$(CONFIG_X), X off in OBJTREE/.config, leaves none of its global
#    functions in libhakmem.a;
#  - docs/size-classes.md matches the generator;
#  - docs/api.md names every statistic, option and hak_* function.
# Ends with "lint: N passed, N failed".
set -u

# The layers.  Each source file (.c, .h, .S) under mm/ lib/ arch/ include/
# is in the layer of the first row with a pattern (a shell pattern, from
# the srctree; `*` takes in subdirectories too) that matches it, and may
# include only headers of its own layer or lower.  generated/ is the
# objtree's include/generated/; <asm/X> is arch/*/include/asm/X (or
# include/asm-generic/X).  A new file goes into a row here.
layer_table='
# layer  files
0  lib/* arch/* include/* generated/*                    # helpers, arch, API
1  mm/internal.h mm/os.c mm/os.h mm/error.c              # OS layer, errors,
1  mm/options.c mm/options.h mm/stats.c mm/stats.h       # options, counters,
1  mm/sizeclass.c mm/sizeclass.h mm/valgrind.[ch]        # size classes,
1  mm/policy.c mm/policy.h                               # cache policy
2  mm/superslab/*                                        # superslabs
3  mm/heap/*                                             # heap engine
4  mm/tiny/* mm/pool/* mm/large/*                        # tier fronts
5  mm/api.c mm/fork.c mm/fork.h mm/info.c mm/ctl.c mm/report.c mm/report.h mm/lock_stats.c   # top,
5  mm/ace.c mm/ace_bandit.c                              # adaptive engine,
5  mm/vg_block.c mm/vg_block.h                          # memcheck sizes,
5  mm/prof/*                                             # heap profiler
'
# Each pattern of this layer is a tier of its own: a tier includes its own
# files and lower layers', never another tier's.
tier_layer=4
# No .c file under mm/ longer than this (lines).
max_c_lines=600

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

# resolve FILE '<'|'"' NAME: sets R to what `#include <NAME>` (or "NAME")
# in FILE names: a path under the srctree, generated/X for the objtree's
# generated headers, empty for a system header.
norm() {   # collapses the . and .. of a relative path
	local IFS=/ part out=() parts
	read -r -a parts <<< "$1"
	for part in "${parts[@]}"; do
		case $part in
		''|.) ;;
		..) if [ ${#out[@]} -gt 0 ] && [ "${out[-1]}" != .. ]; then unset 'out[-1]'; else out+=(..); fi ;;
		*) out+=("$part") ;;
		esac
	done
	echo "${out[*]}"
}
resolve() {
	local f=$1 kind=$2 x=$3 d
	R=
	if [ "$kind" = '"' ] && [ -f "${f%/*}/$x" ]; then
		R=$(norm "${f%/*}/$x")
		return
	fi
	case $x in
	generated/*) R=$x; return ;;
	asm/*) set -- arch/*/include/"$x" include/asm-generic/"${x#asm/}" ;;
	*) set -- include/"$x" arch/*/include/"$x" "$x" ;;
	esac
	for d; do
		[ -f "$d" ] && { R=$(norm "$d"); return; }
	done
}

# layer_of PATH: sets L to its layer and T to the pattern it matched (empty
# when no row of the table has it).
pats=()
pat_layers=()
while IFS= read -r line; do
	read -r -a row <<< "${line%%#*}"
	[ ${#row[@]} -gt 1 ] || continue
	for p in "${row[@]:1}"; do pats+=("$p"); pat_layers+=("${row[0]}"); done
done <<< "$layer_table"
layer_of() {
	local i
	for i in "${!pats[@]}"; do
		# shellcheck disable=SC2254
		case $1 in ${pats[$i]}) L=${pat_layers[$i]}; T=${pats[$i]}; return 0 ;; esac
	done
	L=
	T=
	return 1
}

# 3. Layers: every source file has one, and includes go only down (or,
# in the tier layer, within the tier).
declare -A flayer ftier
unlisted=()
bad=()
nfiles=0
nincs=0
while read -r f; do
	nfiles=$((nfiles + 1))
	if layer_of "$f"; then
		flayer[$f]=$L
		ftier[$f]=$T
	else
		unlisted+=("$f: not in the layer table")
	fi
done < <(find mm lib arch include -name '*.[chS]' | sort)
inc_re='^[[:space:]]*#[[:space:]]*include[[:space:]]*([<"])([^>"]+)[>"]'
while IFS= read -r hit; do
	f=${hit%%:*}
	hit=${hit#*:}
	line=${hit%%:*}
	[[ ${hit#*:} =~ $inc_re ]] || continue
	resolve "$f" "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}"
	[ -n "$R" ] || continue          # a system header
	nincs=$((nincs + 1))
	m=${flayer[$f]:-}
	[ -n "$m" ] || continue          # already reported: not in the table
	if ! layer_of "$R"; then
		bad+=("$f:$line: includes $R (not in the layer table) from layer $m")
	elif [ "$L" -gt "$m" ]; then
		bad+=("$f:$line: includes $R (layer $L) from layer $m")
	elif [ "$L" = "$tier_layer" ] && [ "$m" = "$tier_layer" ] && [ "$T" != "${ftier[$f]}" ]; then
		bad+=("$f:$line: includes $R sideways into tier ${T%/\*}")
	fi
done < <(find mm lib arch include -name '*.[chS]' | sort | xargs grep -nE "$inc_re" /dev/null)
if [ ${#unlisted[@]} -eq 0 ] && [ ${#bad[@]} -eq 0 ]; then
	pass "includes go only down the layers ($nfiles files, $nincs includes of the tree)"
else
	fail "layers: ${#unlisted[@]} files not in the layer table, ${#bad[@]} includes up, sideways or out of the table" \
		"${unlisted[@]}" "${bad[@]}"
fi

# 4. No long .c files under mm/.
long=$(find mm -name '*.c' -exec wc -l {} + | awk -v max="$max_c_lines" '$2 != "total" && $1 > max {print $2 ": " $1 " lines"}' | sort)
if [ -z "$long" ]; then
	pass "no .c file under mm/ over $max_c_lines lines"
else
	mapfile -t long <<< "$long"
	fail ".c files under mm/ over $max_c_lines lines" "${long[@]}"
fi

if [ ! -f "$so" ]; then
	fail "library built" "$so is missing"
	echo "lint: $passed passed, $failed failed"
	exit 1
fi

# 5. No atomic read-modify-write on the same-thread fast paths.  With
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
			# xchg between two registers touches no memory: a 2-byte nop
			# (xchg %ax,%ax), valgrind's client request marker (xchg %rbx,%rbx)
			grep -vE 'xchg[[:space:]]+%[a-z0-9]+,%[a-z0-9]+[[:space:]]*$' |
			# adrp computes a page address: the symbol objdump names beside
			# it is whatever starts that page (a table's page may be an
			# outline atomic's), not a call
			sed -E '/[[:space:]]adrp[[:space:]]/ s/<[^>]*>//')
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

# 6. Only the API is exported; no PLT calls into ourselves.
api='^(hak_[a-z0-9_]+|malloc|free|calloc|realloc|reallocarray|posix_memalign|aligned_alloc|memalign|valloc|pvalloc|malloc_usable_size|free_sized|free_aligned_sized|cfree|malloc_trim|mallinfo2?|malloc_stats|malloc_info|mallopt|__libc_(malloc|free|calloc|realloc|memalign|valloc|pvalloc)|__posix_memalign)$'
extra=$("$NM" -D --defined-only "$so" | awk '$2 ~ /^[TWDBVR]$/ {print $3}' | grep -vE "$api")
if [ -z "$extra" ]; then pass "only the API is exported"; else fail "unexpected exports" "$extra"; fi
self=$("$OBJDUMP" -d "$so" | grep -E '<[^>]+@plt>' | sed -E 's/.*<([^@>]+)@plt>.*/\1/' | sort -u | grep -E "$api")
if [ -z "$self" ]; then pass "no PLT calls to our own symbols"; else fail "PLT calls to our own symbols" "$self"; fi

# 7. Box rule: what a Makefile builds only with obj-$(CONFIG_X), X not =y
# in OBJTREE/.config (a file f.o, or a whole directory dir/, and the .c
# files they #include), leaves none of its global functions in
# libhakmem.a.  The functions are taken from the source: a definition
# starts at column 0 with its return type and name, is not static, and
# reaches its `{` before any `;`.
global_functions() {   # global_functions FILE.c...
	awk '
	FNR == 1 { pending = 0 }
	pending {
		sc = index($0, ";"); br = index($0, "{")
		if (br && (!sc || br < sc)) print name
		if (sc || br) pending = 0
		next
	}
	/^[A-Za-z_]/ {
		l = $0
		gsub(/__attribute__[ \t]*\(\(([^()]|\([^()]*\))*\)\)/, "", l)
		p = index(l, "(")
		if (!p) next
		pre = substr(l, 1, p - 1)
		if (pre ~ /[=;{}]/ || pre ~ /(^|[^A-Za-z0-9_])(static|typedef|extern)([^A-Za-z0-9_]|$)/) next
		if (!match(pre, /[A-Za-z_][A-Za-z0-9_]*[ \t]*$/) || RSTART == 1) next
		name = substr(pre, RSTART); sub(/[ \t]+$/, "", name)
		rest = substr(l, p)
		sc = index(rest, ";"); br = index(rest, "{")
		if (br && (!sc || br < sc)) print name
		else if (!sc) pending = 1
	}' "$@"
}
lib_a=$objtree/libhakmem.a
if [ ! -f "$objtree/.config" ] || [ ! -f "$lib_a" ]; then
	fail "box rule: $objtree/.config or $lib_a is missing"
else
	declare -A on defined
	while IFS= read -r l; do on[${l%=y}]=1; done < <(grep -E '^CONFIG_[A-Za-z0-9_]+=y$' "$objtree/.config")
	while read -r _ _ s; do [ -n "$s" ] && defined[$s]=1; done < <("$NM" --defined-only "$lib_a" 2>/dev/null)
	nboxes=0
	nfuncs=0
	bad=()
	# Makefile CONFIG_X items..., continuation lines joined, comments dropped.
	# shellcheck disable=SC2016
	while read -r mk cfg items; do
		[ -z "${on[$cfg]:-}" ] || continue
		dir=${mk%/Makefile}
		for item in $items; do
			case $item in
			*.o) srcs=("$dir/${item%.o}.c") ;;
			*/) mapfile -t srcs < <(find "$dir/$item" -name '*.c' 2>/dev/null | sort) ;;
			*) continue ;;
			esac
			nboxes=$((nboxes + 1))
			# Add the .c files they include, and theirs.
			for ((i = 0; i < ${#srcs[@]}; i++)); do
				[ -f "${srcs[$i]}" ] || continue
				while IFS= read -r hit; do
					[[ $hit =~ $inc_re ]] || continue
					case ${BASH_REMATCH[2]} in *.c) ;; *) continue ;; esac
					resolve "${srcs[$i]}" "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}"
					[ -n "$R" ] && [[ " ${srcs[*]} " != *" $R "* ]] && srcs+=("$R")
				done < <(grep -E "$inc_re" "${srcs[$i]}")
			done
			for src in "${srcs[@]}"; do
				[ -f "$src" ] || continue
				for fn in $(global_functions "$src"); do
					nfuncs=$((nfuncs + 1))
					[ -n "${defined[$fn]:-}" ] && bad+=("box $cfg off: $src's $fn is in libhakmem.a")
				done
			done
		done
	done < <(find mm lib arch -name Makefile | sort | xargs awk '
		FNR == 1 { line = "" }
		{ line = line $0 }
		/\\$/ { sub(/\\$/, " ", line); next }
		{
			sub(/#.*/, "", line)
			if (match(line, /^[ \t]*obj-\$\(CONFIG_[A-Za-z0-9_]+\)[ \t]*[:+]?=/)) {
				head = substr(line, 1, RLENGTH)
				items = substr(line, RLENGTH + 1)
				match(head, /CONFIG_[A-Za-z0-9_]+/)
				print FILENAME, substr(head, RSTART, RLENGTH), items
			}
			line = ""
		}')
	counts="$nboxes box$([ "$nboxes" -eq 1 ] || echo es) off, $nfuncs function$([ "$nfuncs" -eq 1 ] || echo s) checked"
	if [ ${#bad[@]} -eq 0 ]; then
		pass "disabled boxes leave no code ($counts)"
	else
		fail "disabled boxes leave code in libhakmem.a ($counts)" "${bad[@]}"
	fi
fi

# 8. The published size-class table is current.
gen=$(/usr/bin/python3 scripts/gen-classes.py 21 16 markdown)
doc=$(sed -n '/^| class |/,/^$/p' docs/size-classes.md | sed '/^$/d')
if [ "$gen" = "$doc" ]; then pass "docs/size-classes.md is current"; else
	fail "docs/size-classes.md is stale (regenerate: scripts/gen-classes.py 21 16 markdown)"; fi

# 9. docs/api.md names every statistic, class row, option and public
#    function (from the tables and the header, not a copy).
missing=
for n in $(sed -n 's/^[[:space:]]*X([A-Z_]*, \([a-z_]*\), [A-Z]*, ".*/\1/p; s/^[[:space:]]*X([A-Z_]*, \([a-z_]*\), ".*/\1/p' mm/stats.h) \
	 $(sed -n 's/^[[:space:]]*X([A-Z_]*, "\(HAKMEM_[A-Z_]*\)".*/\1/p' mm/options.h) \
	 $(sed -n 's/^HAKMEM_API [^(]*[ *]\(hak_[a-z0-9_]*\)(.*/\1/p' include/hakmem.h); do
	grep -q "\`[^\`]*\b$n\b[^\`]*\`" docs/api.md || missing="$missing $n"
done
if [ -z "$missing" ]; then pass "docs/api.md names every statistic, option and hak_* function"; else
	fail "docs/api.md does not name:$missing"; fi

echo "lint: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
