#!/bin/bash
# SPDX-License-Identifier: MIT
#
# scripts/security-probes.sh PARENTDIR
#
# Builds the security probes (tests/security/*.c), runs each one under
# LD_PRELOAD=PARENTDIR/<config>/libhakmem.so for the release, debug,
# hardened and hardened_full configs, classifies what happened, and asserts
# the result against
# tests/security/expected.txt.  Writes the probe x config table to
# PARENTDIR/security-table.md.  See docs/security.md.
#
# Classification of one run:
#   OUTCOME <class> on stdout, exit 0     -> <class>, as the probe printed it
#   SIGABRT and a line "hakmem: <what> <pointer>" on stderr -> detected
#   any other signal (SIGSEGV, SIGABRT from elsewhere ...) -> crash
#   killed by the 20 s timeout              -> timeout
#   anything else (setup failure, no OUTCOME line) -> error
# Outcomes that can never be accepted: attacker-address, corrupted,
# wrong-result, crash, timeout, error.  In hardened only detected,
# error-returned and (memalign only) rounded-up may be accepted, but for
# write_after_free_tail, which only hardened_full's per-byte checks see; in
# hardened_full also clean, never ignored or stale-data.  The
# release column may list a documented limitation as known-corrupted or
# known-attacker-address: it passes, and the table shows it as a known
# limitation.
#
# Environment: CC (default gcc), NM (default nm), PROBE_TIMEOUT (default 20),
# PROBE_CONFIGS (default "release debug hardened hardened_full": the configs to run, each
# a column of expected.txt), PROBE_QEMU (a qemu-user command line such as
# "qemu-aarch64 -p 65536" for a cross build: the probes run under it, with
# the environment passed by -E; CC must then be the cross compiler),
# PROBE_TAG (names the table and log: security-table-TAG.md),
# PROBE_LIBS="name=path ..." to run against other libraries instead of
# PARENTDIR/<config>/libhakmem.so (for validating the probes; the table is
# then printed but not asserted, and the hakmem-loaded check is off); an
# empty path ("glibc=") runs with no preload.

set -u

here=$(cd "$(dirname "$0")/.." && pwd)
srcdir=$here/tests/security
expected=$srcdir/expected.txt
all_configs="release debug hardened hardened_full"
configs=${PROBE_CONFIGS:-$all_configs}
timeout_s=${PROBE_TIMEOUT:-20}
qemu=${PROBE_QEMU:-}
cc=${CC:-gcc}
[ "$cc" = cc ] && cc=gcc
tag=${PROBE_TAG:+-$PROBE_TAG}

if [ $# -ne 1 ]; then
	echo "usage: $0 PARENTDIR  (with PARENTDIR/{release,debug,hardened,hardened_full}/libhakmem.so)" >&2
	exit 2
fi
for cfg in $configs; do
	if [[ " $all_configs " != *" $cfg "* ]]; then
		echo "$0: PROBE_CONFIGS: '$cfg' is not one of: $all_configs" >&2
		exit 2
	fi
done
parent=$1
bindir=$parent/security-probes
table=$parent/security-table$tag.md
mkdir -p "$bindir" || exit 2

fatal=0

# --- expected.txt: "probe release debug hardened hardened_full", outcomes
# comma-separated.
declare -A want
probes=()
never="attacker-address corrupted wrong-result crash timeout error"
known="detected ignored error-returned rounded-up clean stale-data $never"
ncols=$(($(echo $all_configs | wc -w) + 1))
lineno=0
while read -r line; do
	lineno=$((lineno + 1))
	line=${line%%#*}
	set -- $line
	[ $# -eq 0 ] && continue
	if [ $# -ne $ncols ]; then
		echo "expected.txt:$lineno: want 'probe $all_configs'" >&2
		fatal=1
		continue
	fi
	probe=$1
	shift
	probes+=("$probe")
	for cfg in $all_configs; do
		want[$probe.$cfg]=$1
		for o in ${1//,/ }; do
			if [[ $o == known-* ]]; then
				# A documented limitation of release, shown as such.
				if [ "$cfg" != release ] ||
				   [[ " attacker-address corrupted " != *" ${o#known-} "* ]]; then
					echo "expected.txt:$lineno: '$o' only in the release column, for attacker-address or corrupted" >&2
					fatal=1
				fi
			elif [[ " $known " != *" $o "* ]]; then
				echo "expected.txt:$lineno: unknown outcome '$o'" >&2
				fatal=1
			elif [[ " $never " == *" $o "* ]]; then
				echo "expected.txt:$lineno: '$o' can never be accepted" >&2
				fatal=1
			elif [ "$cfg" = hardened_full ] && [[ " ignored stale-data " == *" $o "* ]]; then
				echo "expected.txt:$lineno: hardened_full must detect, refuse or keep clean, not '$o'" >&2
				fatal=1
			elif [ "$cfg" = hardened ] && [ "$o" = ignored ] &&
			     [ "$probe" != write_after_free_tail ]; then
				echo "expected.txt:$lineno: hardened must detect or refuse, not '$o'" >&2
				fatal=1
			elif [ "$o" = rounded-up ] && [ "$probe" != memalign_npot ]; then
				echo "expected.txt:$lineno: 'rounded-up' is memalign_npot's outcome only" >&2
				fatal=1
			fi
		done
		shift
	done
	if [ ! -f "$srcdir/$probe.c" ]; then
		echo "expected.txt:$lineno: no probe tests/security/$probe.c" >&2
		fatal=1
	fi
done <"$expected"
for src in "$srcdir"/*.c; do
	p=$(basename "$src" .c)
	if [ -z "${want[$p.release]+x}" ]; then
		echo "tests/security/$p.c has no line in expected.txt" >&2
		fatal=1
	fi
done

# --- the libraries under test
declare -A lib
names=()
if [ -n "${PROBE_LIBS:-}" ]; then
	asserting=0
	for nv in $PROBE_LIBS; do
		names+=("${nv%%=*}")
		lib[${nv%%=*}]=${nv#*=}
	done
else
	asserting=1
	for cfg in $configs; do
		names+=("$cfg")
		lib[$cfg]=$parent/$cfg/libhakmem.so
		if [ ! -f "${lib[$cfg]}" ]; then
			echo "security-probes: ${lib[$cfg]} is missing: config '$cfg' not built" >&2
			fatal=1
		elif ! ${NM:-nm} -D --defined-only "${lib[$cfg]}" 2>/dev/null | grep -qw malloc; then
			echo "security-probes: ${lib[$cfg]} does not export malloc (CONFIG_OVERRIDE off?)" >&2
			fatal=1
		fi
	done
fi

# --- build
cflags="-O1 -g -pthread -D_GNU_SOURCE -Wall -Wextra -Wno-free-nonheap-object \
 -fno-builtin-malloc -fno-builtin-free -fno-builtin-calloc -fno-builtin-realloc"
for p in "${probes[@]}"; do
	[ -f "$srcdir/$p.c" ] || continue
	if [ "$bindir/$p" -nt "$srcdir/$p.c" ] && [ "$bindir/$p" -nt "$srcdir/probe.h" ]; then
		continue
	fi
	echo "  CC      $bindir/$p"
	if ! $cc $cflags -o "$bindir/$p" "$srcdir/$p.c" -ldl; then
		echo "security-probes: cannot build $p" >&2
		fatal=1
	fi
done

# --- run one probe, print "<outcome>\t<detail>"
classify() {
	local bin=$1 so=$2 out err rc sig line
	out=$(mktemp) err=$(mktemp)
	(
		ulimit -c 0
		local envs=()
		[ -n "$so" ] && envs+=("LD_PRELOAD=$so")
		[ $asserting = 1 ] && envs+=(PROBE_REQUIRE_HAKMEM=1)
		if [ -n "$qemu" ]; then
			# -E sets the guest's environment only (qemu itself
			# must not preload a foreign-architecture library).
			local qenv=() e
			for e in "${envs[@]}"; do qenv+=(-E "$e"); done
			exec timeout "$timeout_s" $qemu "${qenv[@]}" "$bin"
		fi
		exec timeout "$timeout_s" env "${envs[@]}" "$bin"
	) >"$out" 2>"$err"
	rc=$?
	line=$(grep -m1 '^OUTCOME ' "$out")
	if [ $rc -eq 0 ] && [ -n "$line" ]; then
		set -- $line
		printf '%s\t%s\n' "$2" "${line#OUTCOME $2}"
	elif [ $rc -eq 124 ]; then
		printf 'timeout\tno result in %ss\n' "$timeout_s"
	elif [ $rc -gt 128 ]; then
		sig=$(kill -l $((rc - 128)) 2>/dev/null || echo $((rc - 128)))
		if [ "$sig" = ABRT ] && grep -qE '^hakmem: [^ ].* (0x[0-9a-fA-F]+|\(nil\))$' "$err"; then
			printf 'detected\t%s\n' "$(grep -m1 -E '^hakmem: ' "$err")"
		else
			printf 'crash\tSIG%s: %s\n' "$sig" "$(tail -n1 "$err" | tr '\t' ' ')"
		fi
	else
		printf 'error\texit %s: %s%s\n' "$rc" "$(head -c 200 "$out" | tr '\n\t' '  ')" \
			"$(tail -n1 "$err" | tr '\t' ' ')"
	fi
	rm -f "$out" "$err"
}

pass=0
fail=0
log=$parent/security-probes$tag.log
: >"$log"
{
	echo "# Security probes"
	echo
	if [ $asserting = 1 ]; then
		echo "Outcome of each probe under each config (asserted against tests/security/expected.txt)."
		echo "A cell marked **FAIL** differs from what expected.txt accepts."
	else
		echo "Outcome of each probe under PROBE_LIBS (not asserted)."
	fi
	echo
	printf '| probe |'
	printf ' %s |' "${names[@]}"
	echo
	printf '|---|'
	printf -- '---|%.0s' "${names[@]}"
	echo
} >"$table"

for p in "${probes[@]}"; do
	row="| $p |"
	for n in "${names[@]}"; do
		if [ ! -x "$bindir/$p" ] || { [ -n "${lib[$n]}" ] && [ ! -f "${lib[$n]}" ]; }; then
			res=$(printf 'error\tnot run (probe or library missing)')
		else
			res=$(classify "$bindir/$p" "${lib[$n]}")
		fi
		outcome=${res%%$'\t'*}
		detail=${res#*$'\t'}
		printf '%-20s %-9s %-16s %s\n' "$p" "$n" "$outcome" "$detail" >>"$log"
		cell=$outcome
		if [ $asserting = 1 ]; then
			if [[ ",${want[$p.$n]}," == *",$outcome,"* ]]; then
				pass=$((pass + 1))
			elif [[ ",${want[$p.$n]}," == *",known-$outcome,"* ]]; then
				pass=$((pass + 1))
				cell="$outcome (known limitation)"
			else
				fail=$((fail + 1))
				cell="**FAIL** $outcome (want ${want[$p.$n]})"
				echo "FAIL $p [$n]: $outcome, want ${want[$p.$n]}:$detail" >&2
			fi
		fi
		row="$row $cell |"
	done
	echo "$row" >>"$table"
done

cat "$table"
echo
echo "table: $table, details: $log"
if [ $asserting = 0 ]; then
	cat "$log"
	exit 0
fi
[ $fatal = 1 ] && fail=$((fail + 1)) && echo "security-probes: setup errors above count as a failure" >&2
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
