#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# `make deb-check`, inside the test VM: our modules here are the ones DKMS
# built and installed from the vhost-mdev-dkms package (scripts/debtest.sh),
# and /usr/bin/vmdev-hello is vhost-mdev-tools'. They say the release
# VHOST_MDEV_VERSION, vmdev-hello gets its frame back from a simulator mdev,
# and a stock QEMU KVM guest on an accelerator function pings its peer and
# fetches a file (l2/pingbulk.sh, the demo's scenario). Ends with
# "VMRUN: script-ok" or "VMRUN: script-failed <why>".

say() { echo "debsmoke: $*"; }
fail() { echo "VMRUN: script-failed $*"; exit 1; }

for m in vhost_mdev vhost_mdev_pci vhost_mdev_sim; do
	v=$(modinfo -F version $m)
	say "$m: version $v, $(modinfo -F license $m)"
	[ "$v" = "$VHOST_MDEV_VERSION" ] || fail "$m says version '$v', not $VHOST_MDEV_VERSION"
done

modprobe vhost_mdev_sim || fail "modprobe vhost_mdev_sim"
uuid=$(cat /proc/sys/kernel/random/uuid)
echo "$uuid" > /sys/class/mdev_bus/vhost_mdev_sim/mdev_supported_types/vhost_mdev_sim-net/create ||
	fail "creating a simulator mdev"
node=/dev/$(ls "/sys/bus/mdev/devices/$uuid/vhost-mdev")
say "vmdev-hello $node"
vmdev-hello "$node" > /tmp/hello.out 2>&1
rc=$?
sed 's/^/  /' /tmp/hello.out
echo 1 > "/sys/bus/mdev/devices/$uuid/remove"
[ $rc = 0 ] || fail "vmdev-hello exited with $rc"
rmmod vhost_mdev_sim

/usr/share/vmrun/l2/pingbulk.sh > /tmp/pingbulk.out 2>&1
rc=$?
val() { sed -n "s/^RESULT .*$1=\([^ ]*\).*/\1/p" /tmp/pingbulk.out | tail -n 1; }
grep -E '^(pingbulk|RESULT)' /tmp/pingbulk.out | sed 's/^/  /'
[ $rc = 0 ] || fail "pingbulk.sh: $(val error)"
[ -n "$(val bulk_md5)" ] && [ "$(val bulk_md5)" = "$(val blob_md5)" ] ||
	fail "the guest's file differs from its peer's"
[ "$(val qemu_stderr_lines)" = 0 ] || fail "QEMU printed $(val qemu_stderr_lines) lines"
say "a KVM guest on the packaged vhost_mdev_pci pinged $(val ping_received)/$(val ping_sent) and fetched $(val bulk_bytes) bytes intact"
echo "VMRUN: script-ok"
