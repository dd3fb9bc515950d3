#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# deb.sh OUT: build the Debian packages vhost-mdev-dkms and vhost-mdev-tools
# with Debian's tooling (dpkg-buildpackage, debhelper, dh-dkms) from a copy
# of the tracked files as they are in the work tree (no build products),
# into OUT, then run lintian on them: any tag it reports fails.

set -euo pipefail

out=$(realpath -m "$1")
top=$(cd "$(dirname "$0")/.." && pwd)
version=$(cat "$top/VERSION")
src="$out/vhost-mdev-$version"

say() { printf 'deb: %s\n' "$*" >&2; }

rm -rf "$out"
mkdir -p "$src"
(cd "$top" && git ls-files -z | tar --null -T - -cf -) | tar -xf - -C "$src"
say "building vhost-mdev $version in $src"
(cd "$src" && dpkg-buildpackage -us -uc -b > "$out/build.log" 2>&1) || {
	tail -n 30 "$out/build.log" >&2
	exit 1
}
ls "$out"/*.deb
# lintian's default tags (errors, warnings): none. As root it says so first.
tags=$(lintian "$out"/*.changes 2>&1 | grep -v '^running with root privileges' || true)
if [ -n "$tags" ]; then
	say "lintian:"
	echo "$tags" >&2
	exit 1
fi
say "lintian: clean"
