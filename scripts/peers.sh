#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# peers.sh SRC KDIR OUT: build upstream's peers of our drivers, for side-by-
# side comparisons, from the kernel source SRC (Debian's linux-source-6.12)
# against the tree KDIR, into OUT. Debian's kernel ships vhost_vdpa and vdpa
# but neither the vDPA simulator nor the virtio-pci vDPA driver: this builds
# vringh, vdpa_sim and vdpa_sim_net, and vp_vdpa, unchanged, as they are
# upstream. Nothing here is ours or committed; what the kernel's
# configuration has already is not built.

set -euo pipefail

src=$1 kdir=$2 out=$3
say() { echo "peers: $*"; }
configured() { grep -qs "^CONFIG_$1=[my]" "$kdir/.config"; }

mkdir -p "$out"
# The sources build only for their own kernel version.
srcfull=$(make -s -C "$src" kernelversion)
srcver=$(echo "$srcfull" | cut -d. -f1-2)
kver=$(cat "$kdir/include/config/kernel.release")
case $kver in
"$srcver".*) ;;
*)	say "the source is $srcver, this kernel $kver: nothing built"
	exit 0 ;;
esac
objs=
configured VDPA_SIM_NET || objs="vringh.o vdpa_sim.o vdpa_sim_net.o"
configured VP_VDPA || objs="$objs vp_vdpa.o"
if [ -z "$objs" ]; then
	say "this kernel has vdpa_sim_net and vp_vdpa already"
	exit 0
fi
stamp="$srcfull $kdir $kver $objs"
if [ "$(cat "$out/.stamp" 2>/dev/null)" = "$stamp" ]; then
	say "up to date: $(cd "$out" && echo *.ko)"
	exit 0
fi
rm -rf "$out"
mkdir -p "$out"
for o in $objs; do
	case $o in
	vp_vdpa.o) cp "$src/drivers/vdpa/virtio_pci/vp_vdpa.c" "$out/" ;;
	vringh.o) cp "$src/drivers/vhost/vringh.c" "$out/" ;;
	*) cp "$src/drivers/vdpa/vdpa_sim/${o%.o}.c" "$src/drivers/vdpa/vdpa_sim/vdpa_sim.h" "$out/" ;;
	esac
done
echo "obj-m += $objs" > "$out/Kbuild"
make -s -C "$kdir" M="$out" modules
echo "$stamp" > "$out/.stamp"
say "built $(cd "$out" && echo *.ko) from $src"
