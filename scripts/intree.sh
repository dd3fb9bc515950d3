#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# intree.sh SRC CONFIG OUT: vhost-mdev as an upstream patch series would put
# it, in a copy of the kernel tree SRC (Debian's linux-source-6.12) made of
# hard links (SRC is never written: every file changed is a new one), and
# built with the kernel's own make, configured from CONFIG (a .config of a
# built kernel, vmlinux.o beside it) plus our three modules, objects in
# OUT/build:
#   drivers/vhost/mdev/        our drivers/vhost_mdev/ (core, pci, sim)
#   drivers/vhost/Kconfig      sources drivers/vhost/mdev/Kconfig
#   drivers/vhost/Makefile     obj-$(CONFIG_VHOST_MDEV) += mdev/
#   include/linux/, include/uapi/linux/, Documentation/*/, tools/
#                              ours, as they are (the docs with the drivers'
#                              new path)
# compat/ stays out: it is for other kernels. The two helpers the drivers
# call from it become what 6.12 spells (const, drv->remove = fn), and
# MODULE_VERSION() gets the VERSION file's release written in (out of tree
# our Kbuild passes it as a define).

set -euo pipefail

src=$1 config=$2 out=$(realpath -m "$3")
top=$(cd "$(dirname "$0")/.." && pwd)
tree="$out/linux"
obj="$out/build"

say() { printf 'intree: %s\n' "$*" >&2; }

rm -rf "$tree"
mkdir -p "$out"
say "linking $src into $tree"
cp -al "$src" "$tree"

# A file of our own in place of the hard link, before writing to it.
own() { cp "$1" "$1.tmp" && mv "$1.tmp" "$1"; }

mkdir -p "$tree/drivers/vhost/mdev"
(cd "$top/drivers/vhost_mdev" && git ls-files -z . | tar --null -T - -cf -) |
	tar -xf - -C "$tree/drivers/vhost/mdev"
version=$(cat "$top/VERSION")
for f in $(grep -rl 'vmdev_const_class\|vmdev_platform_set_remove\|MODULE_VERSION' \
	   "$tree/drivers/vhost/mdev" --include='*.c'); do
	sed -i -e 's/vmdev_const_class struct class/const struct class/' \
	       -e 's/vmdev_platform_set_remove(&\(.*\), \(.*\));/\1.remove = \2;/' \
	       -e "s/MODULE_VERSION(VHOST_MDEV_VERSION)/MODULE_VERSION(\"$version\")/" "$f"
done
cp "$top"/include/linux/*.h "$tree/include/linux/"
cp "$top"/include/uapi/linux/*.h "$tree/include/uapi/linux/"
for d in admin-guide driver-api userspace-api dev-tools; do
	sed 's|drivers/vhost_mdev/|drivers/vhost/mdev/|g' "$top/Documentation/$d/vhost-mdev.rst" \
		> "$tree/Documentation/$d/vhost-mdev.rst"
done
cp "$top"/Documentation/ABI/testing/* "$tree/Documentation/ABI/testing/"
for d in tools/vhost_mdev tools/testing/selftests/vhost_mdev; do
	mkdir -p "$tree/$d"
	(cd "$top/$d" && git ls-files -z . | tar --null -T - -cf -) | tar -xf - -C "$tree/$d"
done

own "$tree/drivers/vhost/Kconfig"
# Before the endif that closes VHOST_MENU, the file's last line.
sed -i '$i source "drivers/vhost/mdev/Kconfig"\n' "$tree/drivers/vhost/Kconfig"
own "$tree/drivers/vhost/Makefile"
printf '\nobj-$(CONFIG_VHOST_MDEV) += mdev/\n' >> "$tree/drivers/vhost/Makefile"

mkdir -p "$obj"
cp "$config" "$obj/.config"
"$tree/scripts/config" --file "$obj/.config" -m VHOST_MDEV -m VHOST_MDEV_PCI -m VHOST_MDEV_SIM
make -s -C "$tree" O="$obj" olddefconfig
for c in VHOST_MDEV VHOST_MDEV_PCI VHOST_MDEV_SIM; do
	grep -qx "CONFIG_$c=m" "$obj/.config" || { say "FAILED: Kconfig dropped CONFIG_$c"; exit 1; }
done
# The kernel CONFIG came with, built: modpost reads its symbols in
# vmlinux.o (an in-tree build does not read Module.symvers).
ln -sf "$(dirname "$config")/vmlinux.o" "$obj/vmlinux.o"
say "building drivers/vhost/mdev/ with the kernel's make (W=1)"
# With the modules ours use (single-module builds link only what is named).
mods="drivers/vhost/mdev/core/vhost_mdev.ko drivers/vhost/mdev/pci/vhost_mdev_pci.ko
      drivers/vhost/mdev/sim/vhost_mdev_sim.ko drivers/vhost/vhost_iotlb.ko
      drivers/vfio/mdev/mdev.ko virt/lib/irqbypass.ko"
# shellcheck disable=SC2086
make -C "$tree" O="$obj" -j"$(nproc)" W=1 $mods > "$out/build.log" 2>&1 ||
	{ tail -n 30 "$out/build.log" >&2; say "FAILED: see $out/build.log"; exit 1; }
if grep -E 'warning:|error:|WARNING:' "$out/build.log" >&2; then
	say "FAILED: see $out/build.log"
	exit 1
fi
for m in core/vhost_mdev pci/vhost_mdev_pci sim/vhost_mdev_sim; do
	ko="$obj/drivers/vhost/mdev/$m.ko"
	[ -e "$ko" ] || { say "FAILED: no $m.ko"; exit 1; }
	say "$(basename "$ko"): $(modinfo -F vermagic "$ko")"
done
say "ok: $tree"
