#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# peers.sh SRC KDIR OUT: build upstream's peers of our drivers, for side-by-
# side comparisons, from the kernel source SRC (Debian's linux-source-6.12)
# against the tree KDIR, into OUT. Debian's kernel ships vhost_vdpa and vdpa
# but not the vDPA simulator: this builds vringh, vdpa_sim and vdpa_sim_net
# unchanged, as they are upstream. Nothing here is ours or committed; a
# kernel whose configuration has them already gets nothing built.

set -euo pipefail

src=$1 kdir=$2 out=$3
say() { echo "peers: $*"; }

if grep -qs '^CONFIG_VDPA_SIM_NET=[my]' "$kdir/.config"; then
	say "this kernel has vdpa_sim_net already"
	mkdir -p "$out"
	exit 0
fi
mkdir -p "$out"
cp "$src/drivers/vhost/vringh.c" "$src/drivers/vdpa/vdpa_sim/vdpa_sim.c" \
	"$src/drivers/vdpa/vdpa_sim/vdpa_sim.h" \
	"$src/drivers/vdpa/vdpa_sim/vdpa_sim_net.c" "$out/"
echo "obj-m += vringh.o vdpa_sim.o vdpa_sim_net.o" > "$out/Kbuild"
make -s -C "$kdir" M="$out" modules
say "built $(cd "$out" && echo *.ko) from $src"
