#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# kernel-env.sh FLAVOUR [PREFIX]: print, as make assignments, the kernel a
# flavour stands for (names start with PREFIX, default KENV):
#   KENV_KVER    its release string
#   KENV_KDIR    the tree out-of-tree modules are built against
#   KENV_KIMAGE  the image the test VM boots
#   KENV_KMODS   its /lib/modules/<release> directory
#
# Flavours:
#   debian   Debian's newest installed 6.12 kernel (never `uname -r`: the
#            build host runs another kernel without headers)
#   debug    the debug kernel of scripts/debug-kernel.sh (built on first use)
#   debian-6.1  Debian 12's own 6.1 kernel, when installed

set -euo pipefail

CACHE=${CACHE:-$HOME/.cache/vhost-mdev}
here=$(cd "$(dirname "$0")" && pwd)
p=${2:-KENV}

newest() {
	local d
	d=$(ls -d /lib/modules/$1*/build 2>/dev/null | sort -V | tail -n 1)
	[ -n "$d" ] || { echo "kernel-env: no $1 kernel with headers installed" >&2; exit 1; }
	basename "$(dirname "$d")"
}

case "${1:-debian}" in
debian|debian-6.12) kver=$(newest 6.12.) ;;
debian-6.1) kver=$(newest 6.1.) ;;
debug)
	dir=$("$here/debug-kernel.sh")
	kver=$(cat "$dir/build/include/config/kernel.release")
	echo "${p}_KVER=$kver"
	echo "${p}_KDIR=$dir/build"
	echo "${p}_KIMAGE=$dir/build/arch/x86/boot/bzImage"
	echo "${p}_KMODS=$dir/modules/lib/modules/$kver"
	exit 0
	;;
*) echo "kernel-env: unknown flavour '$1' (debian, debug, debian-6.1)" >&2; exit 1 ;;
esac

echo "${p}_KVER=$kver"
echo "${p}_KDIR=/lib/modules/$kver/build"
echo "${p}_KIMAGE=/boot/vmlinuz-$kver"
echo "${p}_KMODS=/lib/modules/$kver"
