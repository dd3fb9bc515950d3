#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# debtest.sh DEBS KVER...: install the packages scripts/deb.sh built into
# DEBS on a fresh Debian 12 root, as a user would (apt-get install ./*.deb
# on a machine that has the headers of kernels KVER...; the first is the
# newest), and let DKMS build and install the modules there for each
# kernel. Checks what modinfo says of them, and builds a program against
# libvmdev; then leaves, for the test VM (vm/debsmoke.sh), in DEBS/vm-KVER/
# a modules.order with the modules DKMS installed for KVER and
# bin/vmdev-hello from vhost-mdev-tools.
#
# The root: debootstrap's minbase with the kernels' headers and a C
# toolchain ($pkgs), made once and kept in $CACHE/debroot; every run
# installs into a fresh copy of it.

set -euo pipefail

debs=$(cd "$1" && pwd)
shift
CACHE=${CACHE:-$HOME/.cache/vhost-mdev}
top=$(cd "$(dirname "$0")/.." && pwd)
version=$(cat "$top/VERSION")
mirror=http://deb.debian.org/debian
base="$CACHE/debroot"
root="$debs/root"
# What the machine has before ours: the kernels' headers, and what a user
# building against libvmdev has.
pkgs="$(printf 'linux-headers-%s ' "$@")gcc libc6-dev pkg-config"

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
	say "making a Debian 12 root with $pkgs in $base"
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
	in_root apt-get install -y -qq --no-install-recommends $pkgs > "$debs/headers.log" 2>&1 ||
		{ tail -n 20 "$debs/headers.log" >&2; fail "apt-get install $pkgs"; }
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

installed() {
	case "$(in_root dkms status -m vhost-mdev -v "$version" -k "$1" 2> /dev/null)" in
	*": installed"*) return 0 ;;
	esac
	return 1
}

# dkms $1 for kernel $2, logged.
dkms_do() {
	in_root dkms "$1" -m vhost-mdev -v "$version" -k "$2" >> "$debs/dkms.log" 2>&1 ||
		{ tail -n 30 "$debs/dkms.log" >&2; fail "dkms $1 -k $2"; }
}

# The package's postinst builds for the newest kernel with headers (the
# build host's own has none here): the first. Then the user's commands for
# each kernel: remove what is there, build, install.
installed "$1" || fail "the package's postinst did not install the modules for $1"
: > "$debs/dkms.log"
for kver in "$@"; do
	installed "$kver" && dkms_do remove "$kver"
	dkms_do build "$kver"
	dkms_do install "$kver"
	installed "$kver" || fail "dkms status: not installed for $kver after dkms install"
	say "dkms: built and installed for $kver"

	vm="$debs/vm-$kver"
	rm -rf "$vm"
	mkdir -p "$vm/bin"
	: > "$vm/modules.order"
	for m in vhost_mdev vhost_mdev_pci vhost_mdev_sim; do
		ko=$(in_root modinfo -k "$kver" -n "$m")
		case "$ko" in */updates/dkms/*) ;; *) fail "modinfo -n $m: $ko, not DKMS's";; esac
		v=$(in_root modinfo -k "$kver" -F version "$m")
		[ "$v" = "$version" ] || fail "$m: version '$v', not $version"
		l=$(in_root modinfo -k "$kver" -F license "$m")
		[ "$l" = GPL ] || fail "$m: license '$l'"
		case "$ko" in
		*.xz) xz -dc "$root$ko" > "$vm/$m.ko" ;;
		*.zst) zstd -qdc "$root$ko" > "$vm/$m.ko" ;;
		*) cp "$root$ko" "$vm/$m.ko" ;;
		esac
		echo "$m.o" >> "$vm/modules.order"
		say "  $m: $ko, version $v, license $l"
	done
	# Autoloading: the IFC VF IDs, and modprobe finds the module by them.
	aliases=$(in_root modinfo -k "$kver" -F alias vhost_mdev_pci)
	for id in 'v00001AF4d00001041sv00008086sd0000001A' 'v00001AF4d00001000sv00008086sd00000001'; do
		grep -q "^pci:$id" <<< "$aliases" || fail "vhost_mdev_pci has no alias for $id"
		m=$(in_root modprobe -S "$kver" -R "pci:${id}bc02sc00i00")
		[ "$m" = vhost_mdev_pci ] || fail "modprobe -R pci:$id: '$m'"
	done
	say "  vhost_mdev_pci: aliases for both IFC VF IDs, modprobe resolves them"
	cp "$root/usr/bin/vmdev-hello" "$vm/bin/"
done

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
say "ok: for the test VM: $debs/vm-KERNEL/"
