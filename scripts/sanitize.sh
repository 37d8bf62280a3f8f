#!/bin/bash
# SPDX-License-Identifier: MIT
#
# scripts/sanitize.sh
#
# Builds the library and the Check unit tests (tests/test-*.c) with
# CONFIG_OVERRIDE off (the sanitizer's own malloc stays the process
# allocator; the tests reach hakmem through hak_*) and runs them:
#   build/asan  ASan + UBSan   (halts on the first report)
#   build/tsan  TSan           (suppressions: tests/tsan.supp, if present;
#                               each entry there says why it is benign)
# Exits non-zero when a build or a test fails or any sanitizer report
# appears in the output.
#
# Environment: SANITIZE_DEFCONFIG (default release; another defconfig builds
# in build/asan-NAME and build/tsan-NAME), SANITIZERS (default "asan tsan"),
# CC (default gcc).

set -u

here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here" || exit 2
defconfig=${SANITIZE_DEFCONFIG:-release}
cc=${CC:-gcc}
[ "$cc" = cc ] && cc=gcc
failed=0

# $1 = build dir: .config from the defconfig with CONFIG_OVERRIDE off.
configure() {
	local out=$1
	mkdir -p "$out"
	{ grep -v -E '^(# )?CONFIG_OVERRIDE[= ]' "defconfigs/${defconfig}_defconfig" || true; } \
		>"$out/.config.sanitize"
	echo '# CONFIG_OVERRIDE is not set' >>"$out/.config.sanitize"
	if ! cmp -s "$out/.config.sanitize" "$out/.config.seed" 2>/dev/null; then
		cp "$out/.config.sanitize" "$out/.config"
		cp "$out/.config.sanitize" "$out/.config.seed"
	fi
	make -s O="$out" olddefconfig || return 1
	if grep -q '^CONFIG_OVERRIDE=y' "$out/.config"; then
		echo "sanitize: CONFIG_OVERRIDE is still on in $out/.config" >&2
		return 1
	fi
}

# $1 = name, $2 = build dir, $3 = compile flags, $4 = link flags
run() {
	local name=$1 out=$2 log=$2/sanitize.log rc
	echo "sanitize: $name in $out (${defconfig}_defconfig with CONFIG_OVERRIDE off)"
	if ! configure "$out"; then
		echo "sanitize: $name: configuration failed" >&2
		failed=1
		return
	fi
	make O="$out" CC="$cc" KCFLAGS="$3" KLDFLAGS="$4" unit >"$log" 2>&1
	rc=$?
	if grep -qE 'ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|WARNING: ThreadSanitizer|ThreadSanitizer: reported|SUMMARY: (Address|Undefined|Thread)Sanitizer' "$log"; then
		grep -E -A12 'ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|WARNING: ThreadSanitizer' "$log" | head -60 >&2
		echo "sanitize: $name: sanitizer report (full log: $log)" >&2
		failed=1
	elif [ $rc -ne 0 ]; then
		tail -30 "$log" >&2
		echo "sanitize: $name: build or tests failed, exit $rc (full log: $log)" >&2
		failed=1
	else
		echo "sanitize: $name: clean"
	fi
}

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# die_after_fork=0: the fork tests start threads in a child of a
# multi-threaded parent, which TSan refuses by default.
tsan_opts="halt_on_error=1:second_deadlock_stack=1:history_size=4:die_after_fork=0"
if [ -f tests/tsan.supp ]; then
	tsan_opts="$tsan_opts:suppressions=$here/tests/tsan.supp"
fi
export TSAN_OPTIONS=${TSAN_OPTIONS:-$tsan_opts}

suffix=
[ "$defconfig" = release ] || suffix=-$defconfig
case " ${SANITIZERS:-asan tsan} " in *" asan "*)
	run asan build/asan$suffix \
		'-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g' \
		'-fsanitize=address,undefined' ;;
esac
case " ${SANITIZERS:-asan tsan} " in *" tsan "*)
	run tsan build/tsan$suffix '-fsanitize=thread -fno-omit-frame-pointer -g' '-fsanitize=thread' ;;
esac

if [ $failed -ne 0 ]; then
	echo "sanitize: FAILED"
	exit 1
fi
echo "sanitize: all clean"
