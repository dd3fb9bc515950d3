#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# debtest.sh DEBS KVER: install the packages scripts/deb.sh built into DEBS
# on a fresh Debian 12 root, as a user would (apt-get install ./*.deb on a
# machine that has kernel KVER's headers), and let DKMS build and install the
# modules there. Checks what modinfo says of them, then leaves, for the test
# VM (vm/debsmoke.sh), DEBS/vm/modules.order with the modules DKMS installed
# and DEBS/vm/bin/vmdev-hello from vhost-mdev-tools.
#
# The root: debootstrap's minbase with KVER's headers and a C toolchain
# ($pkgs), made once and kept in $CACHE/debroot-KVER; every run installs
# into a fresh copy of it.

set -euo pipefail

debs=$(cd "$1" && pwd) kver=$2
CACHE=${CACHE:-$HOME/.cache/vhost-mdev}
top=$(cd "$(dirname "$0")/.." && pwd)
version=$(cat "$top/VERSION")
mirror=http://deb.debian.org/debian
base="$CACHE/debroot-$kver"
root="$debs/root"
# What the machine has before ours: the kernel's headers, and what a user
# building against libvmdev has.
pkgs="linux-headers-$kver gcc libc6-dev pkg-config"

say() { printf 'debtest: %s\n' "$*" >&2; }
fail() { say "FAILED: $*"; exit 1; }

in_root() { chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
	DEBIAN_FRONTEND=noninteractive "$@"; }

cleanup() {
	for m in proc sys dev; do
		mountpoint -q "$root/$m" && umount -l "$root/$m"
	done
	return 0
}
trap cleanup EXIT

if [ "$(cat "$base/.done" 2>/dev/null)" != "$pkgs" ]; then
	say "making a Debian 12 root with linux-headers-$kver in $base"
	rm -rf "$base"
	debootstrap --variant=minbase bookworm "$base" "$mirror" > "$debs/debootstrap.log" 2>&1 ||
		{ tail -n 20 "$debs/debootstrap.log" >&2; fail "debootstrap"; }
	cat > "$base/etc/apt/sources.list" <<EOS
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
EOS
	root=$base
	mount --bind /proc "$root/proc"
	in_root apt-get update -qq
	# shellcheck disable=SC2086
	in_root apt-get install -y -qq --no-install-recommends $pkgs > "$debs/headers.log" 2>&1 || { tail -n 20 "$debs/headers.log" >&2; fail "headers"; }
	in_root apt-get clean
	umount "$root/proc"
	echo "$pkgs" > "$base/.done"
	root="$debs/root"
fi

say "installing the packages on a fresh copy of that root"
rm -rf "$root"
cp -a "$base" "$root"
cp "$debs"/vhost-mdev-dkms_"$version"_all.deb "$debs"/vhost-mdev-tools_"$version"_*.deb "$root/tmp/"
mount --bind /proc "$root/proc"
mount --bind /sys "$root/sys"
mount --bind /dev "$root/dev"
in_root apt-get update -qq
in_root apt-get install -y -qq --no-install-recommends /tmp/vhost-mdev-dkms_"$version"_all.deb \
	/tmp/vhost-mdev-tools_"$version"_amd64.deb > "$debs/install.log" 2>&1 ||
	{ tail -n 30 "$debs/install.log" >&2; fail "apt-get install"; }

# The package's postinst has built for KVER (the build host's own kernel
# has no headers here); then the user's commands, for KVER again.
installed() {
	case "$(in_root dkms status -m vhost-mdev -v "$version" -k "$kver" 2> /dev/null)" in
	*": installed"*) return 0 ;;
	esac
	return 1
}
installed || fail "the package's postinst did not install the modules for $kver"
in_root dkms remove -m vhost-mdev -v "$version" -k "$kver" > "$debs/dkms.log" 2>&1 ||
	{ tail -n 30 "$debs/dkms.log" >&2; fail "dkms remove -k $kver"; }
in_root dkms build -m vhost-mdev -v "$version" -k "$kver" >> "$debs/dkms.log" 2>&1 ||
	{ tail -n 30 "$debs/dkms.log" >&2; fail "dkms build -k $kver"; }
in_root dkms install -m vhost-mdev -v "$version" -k "$kver" >> "$debs/dkms.log" 2>&1 ||
	{ tail -n 30 "$debs/dkms.log" >&2; fail "dkms install -k $kver"; }
installed || fail "dkms status: not installed after dkms install"
say "dkms: the postinst built and installed for $kver; remove, build, install again: installed"

mkdir -p "$debs/vm/bin"
: > "$debs/vm/modules.order"
for m in vhost_mdev vhost_mdev_pci vhost_mdev_sim; do
	ko=$(in_root modinfo -k "$kver" -n "$m")
	case "$ko" in */updates/dkms/*) ;; *) fail "modinfo -n $m: $ko, not DKMS's";; esac
	v=$(in_root modinfo -k "$kver" -F version "$m")
	[ "$v" = "$version" ] || fail "$m: version '$v', not $version"
	l=$(in_root modinfo -k "$kver" -F license "$m")
	[ "$l" = GPL ] || fail "$m: license '$l'"
	case "$ko" in
	*.xz) xz -dc "$root$ko" > "$debs/vm/$m.ko" ;;
	*.zst) zstd -qdc "$root$ko" > "$debs/vm/$m.ko" ;;
	*) cp "$root$ko" "$debs/vm/$m.ko" ;;
	esac
	echo "$m.o" >> "$debs/vm/modules.order"
	say "$m: $ko, version $v, license $l"
done
# Autoloading: the IFC VF IDs, and modprobe finds the module by them.
aliases=$(in_root modinfo -k "$kver" -F alias vhost_mdev_pci)
for id in 'v00001AF4d00001041sv00008086sd0000001A' 'v00001AF4d00001000sv00008086sd00000001'; do
	grep -q "^pci:$id" <<< "$aliases" || fail "vhost_mdev_pci has no alias for $id"
	m=$(in_root modprobe -S "$kver" -R "pci:${id}bc02sc00i00")
	[ "$m" = vhost_mdev_pci ] || fail "modprobe -R pci:$id: '$m'"
done
say "vhost_mdev_pci: aliases for both IFC VF IDs, modprobe resolves them"
# libvmdev: a program built against it with what pkg-config says.
cat > "$root/tmp/uuid.c" <<'EOC'
#include <stdio.h>
#include <vmdev.h>

int main(void)
{
	char uuid[37];

	return vmdev_uuid_random(uuid) || printf("%s\n", uuid) != 37;
}
EOC
in_root sh -c 'gcc -o /tmp/uuid /tmp/uuid.c $(pkg-config --cflags --libs vmdev) && /tmp/uuid' \
	> /dev/null || fail "a program built with pkg-config's vmdev flags"
[ "$(in_root pkg-config --modversion vmdev)" = "$version" ] || fail "pkg-config vmdev's version"
say "libvmdev: a program built with pkg-config's flags for vmdev $version runs"
cp "$root/usr/bin/vmdev-hello" "$debs/vm/bin/"
say "ok: the modules for $kver in $debs/vm"
