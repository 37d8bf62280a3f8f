#!/bin/bash
# SPDX-License-Identifier: MIT
#
# deps.sh [--if-missing]
#
# Installs the Debian packages hakmem's build, tests and benchmarks need.
# With --if-missing it does nothing when everything is already installed
# (make check and make bench call it that way).  When not root it prints
# the apt command instead.
set -eu

packages="gcc make pkg-config python3 python3-kconfiglib check valgrind
gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user check:arm64
libmimalloc2.0 libjemalloc2 libtcmalloc-minimal4 gnuplot-nox time
sqlite3 perl git clang libclang-rt-14-dev redis-server redis-tools g++
google-perftools binutils"

missing=
for p in $packages; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case $status in
	*"install ok installed"*) ;;
	*) missing="$missing $p" ;;
	esac
done

if [ -z "$missing" ]; then
	[ "${1:-}" = --if-missing ] || echo "deps: everything is installed"
	exit 0
fi

need_arm64=0
case $missing in *:arm64*) need_arm64=1 ;; esac
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
	need_arm64=1
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing:$missing" >&2
	echo "deps: run as root:" >&2
	[ $need_arm64 -eq 1 ] && echo "  dpkg --add-architecture arm64" >&2
	echo "  apt-get update && apt-get install -y$missing" >&2
	exit 1
fi

echo "deps: installing:$missing"
dpkg --print-foreign-architectures | grep -qx arm64 || dpkg --add-architecture arm64
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing >/dev/null
echo "deps: done"
