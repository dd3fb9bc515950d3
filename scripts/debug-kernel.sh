#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Build (once) the debug kernel flavour from Debian's linux-source-6.12:
# `make tinyconfig`, merged with scripts/debug-kernel.config (KASAN,
# PROVE_LOCKING, DEBUG_ATOMIC_SLEEP, KMEMLEAK, UBSAN, fault injection, and what
# the test VM needs). The result is cached in $CACHE/kernel-debug-<hash>, the
# hash covering the config, this script and the source version; the
# directory's path is printed on stdout, progress goes to stderr.

set -euo pipefail

CACHE=${CACHE:-$HOME/.cache/vhost-mdev}
here=$(cd "$(dirname "$0")" && pwd)
src="$CACHE/src/linux-source"
srcver=$(cat "$CACHE/src/.version")
hash=$( (cat "$here/debug-kernel.config" "$here/debug-kernel.sh"; echo "$srcver") |
	sha1sum | cut -c1-12)
dir="$CACHE/kernel-debug-$hash"

if [ -f "$dir/.done" ]; then
	echo "$dir"
	exit 0
fi

say() { printf 'debug-kernel: %s\n' "$*" >&2; }
jobs=$(($(nproc) + 1))
start=$SECONDS
say "building $srcver + debug-kernel.config into $dir (make -j$jobs, ~7 min on 2 cores)"
rm -rf "$dir"
mkdir -p "$dir/build"
{
	make -C "$src" O="$dir/build" tinyconfig
	"$src/scripts/kconfig/merge_config.sh" -m -O "$dir/build" \
		"$dir/build/.config" "$here/debug-kernel.config"
	make -C "$src" O="$dir/build" olddefconfig
} > "$dir/config.log" 2>&1 || { tail -n 30 "$dir/config.log" >&2; exit 1; }

# merge_config silently drops what Kconfig refuses; refuse to build a kernel
# that lacks a checker we rely on.
missing=0
while IFS= read -r line; do
	case "$line" in CONFIG_*=[ym]) ;; *) continue ;; esac
	if ! grep -qx "$line" "$dir/build/.config"; then
		say "config: wanted $line, got: $(grep "^${line%%=*}=\|# ${line%%=*} is" "$dir/build/.config" || echo unset)"
		missing=1
	fi
done < "$here/debug-kernel.config"
[ $missing -eq 0 ] || exit 1

if ! make -C "$src" O="$dir/build" -j"$jobs" bzImage modules > "$dir/build.log" 2>&1; then
	grep -m 20 -E 'error|Error' "$dir/build.log" >&2 || tail -n 30 "$dir/build.log" >&2
	exit 1
fi
make -C "$src" O="$dir/build" INSTALL_MOD_PATH="$dir/modules" modules_install \
	>> "$dir/build.log" 2>&1
touch "$dir/.done"
say "built in $((SECONDS - start)) s"
echo "$dir"
