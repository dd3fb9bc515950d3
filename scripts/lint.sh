#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# lint.sh KDIR M "KCONF": the gate every change passes, silent when
# clean, non-zero on any finding:
#   checkpatch.pl --strict --no-tree  on every C file and header of ours
#                                     (compat/: version checks allowed)
#   sparse (C=2) and W=1              through Kbuild, on the modules
#   kernel-doc -none -Wall            on every kernel C file and header
#   sphinx-build -W                   Documentation/ (make htmldocs)
#   the release number                VERSION = dkms.conf = debian/changelog

set -uo pipefail

CACHE=${CACHE:-$HOME/.cache/vhost-mdev}
src="$CACHE/src/linux-source"
kdir=$1 modbuild=$2 kconf=$3
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
fail=0

mapfile -t cfiles < <(git ls-files -co --exclude-standard '*.c' '*.h')
mapfile -t kfiles < <(printf '%s\n' "${cfiles[@]}" |
	grep -E '^(compat|drivers|include|tools/testing/selftests/vhost_mdev/modules)/')
# compat/ is where older kernels are told apart: there, and only there,
# version comparisons and a macro that drops an argument are the point.
mapfile -t compat < <(printf '%s\n' "${cfiles[@]}" | grep '^compat/')
mapfile -t cfiles < <(printf '%s\n' "${cfiles[@]}" | grep -v '^compat/')

section() {
	local name=$1 out=$2

	if [ -n "$out" ]; then
		printf '== %s ==\n%s\n' "$name" "$out"
		fail=1
	fi
}

# Two cores: sparse's build (one make job) on one, the other checkers one
# after another on the other; their findings are shown in this order.
tmp=$(mktemp -d)
{
	"$src/scripts/checkpatch.pl" --strict --no-tree --quiet --no-summary \
		--show-types -f "${cfiles[@]}" > "$tmp/checkpatch" 2>&1
	"$src/scripts/checkpatch.pl" --strict --no-tree --quiet --no-summary \
		--show-types --ignore LINUX_VERSION_CODE,CONSTANT_COMPARISON,MACRO_ARG_UNUSED \
		-f "${compat[@]}" > "$tmp/checkpatch-compat" 2>&1
	"$src/scripts/kernel-doc" -none -Wall "${kfiles[@]}" > "$tmp/kernel-doc" 2>&1
	# The documentation builds with Sphinx and the kernel's kernel-doc
	# extension without a warning (make htmldocs).
	VMDEV_KSRC="$src" sphinx-build -q -W -c scripts/sphinx -d "$tmp/doctrees" \
		-b html Documentation "$tmp/html" > "$tmp/sphinx" 2>&1
} &
others=$!

# C=2 runs sparse on every file even when its object is up to date; W=1
# warns only when a file compiles, so every object of ours is compiled anew.
find drivers tools/testing/selftests/vhost_mdev/modules -name '*.o' -delete
# shellcheck disable=SC2086
out=$(make -s -C "$kdir" M="$modbuild" $kconf C=2 W=1 modules 2>&1 |
	grep -vE '^make\[[0-9]+\]: (Entering|Leaving) directory' |
	grep -vE '^\s+(CHECK|CC|LD|MODPOST|BTF)\b')
wait "$others"
section "checkpatch --strict" "$(cat "$tmp/checkpatch")"
section "checkpatch --strict (compat/)" "$(cat "$tmp/checkpatch-compat")"
section "sparse (C=2) and W=1" "$out"
section "kernel-doc -none -Wall" "$(cat "$tmp/kernel-doc")"
section "sphinx-build -W" "$(cat "$tmp/sphinx")"
rm -rf "$tmp"

# One release number: VERSION's, in dkms.conf and debian/changelog too.
version=$(cat VERSION)
out=$(
	grep -qx "PACKAGE_VERSION=\"$version\"" dkms.conf ||
		echo "dkms.conf: PACKAGE_VERSION is not VERSION's $version"
	head -n 1 debian/changelog | grep -qF "vhost-mdev ($version)" ||
		echo "debian/changelog: the newest entry is not VERSION's $version"
)
section "release number" "$out"

exit $fail
