#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# The demo, inside the test VM: what a user does, narrated. Ends with
# "VMRUN: demo-ok" or "VMRUN: demo-failed <why>".

say() { echo "demo: $*"; }
fail() { echo "VMRUN: demo-failed $*"; exit 1; }
run() { echo "  \$ $*"; "$@" 2>&1 | sed 's/^/    /'; }

say "kernel $(uname -r); our modules are installed in /lib/modules/$(uname -r)/extra"
say "1. modprobe vhost_mdev_sim (pulls in vhost_mdev, mdev, vhost_iotlb, irqbypass)"
modprobe vhost_mdev_sim || fail "modprobe vhost_mdev_sim"
run lsmod

say "2. the mdev types on offer"
for t in /sys/class/mdev_bus/*/mdev_supported_types/*; do
	echo "  $t"
	echo "    name: $(cat "$t/name")"
	echo "    device_api: $(cat "$t/device_api")"
	echo "    available_instances: $(cat "$t/available_instances")"
	echo "    description: $(cat "$t/description")"
done

type=/sys/class/mdev_bus/vhost_mdev_sim/mdev_supported_types/vhost_mdev_sim-net
uuid=$(cat /proc/sys/kernel/random/uuid)
say "3. create an mdev: echo $uuid > $type/create"
echo "$uuid" > "$type/create" || fail "mdev create"
node=/dev/$(ls "/sys/bus/mdev/devices/$uuid/vhost-mdev")
say "   its character device (from /sys/bus/mdev/devices/$uuid/vhost-mdev/): $node"
run ls -l "$node"

say "4. drive it through the vhost-vdpa uAPI: vmdev-hello $node"
out=$(vmdev-hello "$node" 2>&1)
rc=$?
echo "$out" | sed 's/^/    /'
[ $rc = 0 ] || fail "vmdev-hello exited $rc"

say "5. remove it: echo 1 > /sys/bus/mdev/devices/$uuid/remove"
echo 1 > "/sys/bus/mdev/devices/$uuid/remove" || fail "mdev remove"
[ -e "$node" ] && fail "$node still exists"
say "   $node is gone"
echo "VMRUN: demo-ok"
