#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# hotplug.sh: the accelerator function vanishes under a running guest. A
# stock QEMU runs an L2 guest on the first accelerator function's mdev
# (doorbell mapped, interrupts through irqfds) while L2 pings the second
# function 10 times a second; then the function is unplugged from the test
# VM (QMP device_del through the runner), as a surprise to QEMU and L2.
# The mdev and its node must go, QEMU must pin nothing from then on, stop
# the guest with an error rather than hang, and quit when told; then the
# function is plugged back and a new L2 guest runs on it.
#
# The hotplug selftest judges the RESULT lines.

L2_TAG=hotplug
. /usr/share/vmrun/l2/l2lib.sh

L1_IP=10.0.0.1
L2_IP=10.0.0.2

set -- $VMRUN_ACCEL_PORTS
port_a=$1
set -- $VMRUN_ACCEL_QEMU_IDS
id_a=$1
bdf_a=$(port_fn "$port_a")
set -- $(accel_fns)
[ $# -ge 2 ] && [ -n "$bdf_a" ] || fail "needs two accelerator functions"
bdf_b=$2

# Function A to vhost_mdev_pci with an mdev; B on L1's virtio-net: the peer.
setup() {
	bind_fn "$bdf_a"
	new_mdev "$bdf_a" vhost_mdev_pci-net
	peer_up "$bdf_b" $L1_IP
}

say "1. function $bdf_a (QEMU id $id_a) to vhost_mdev_pci, an L2 guest on it"
setup
kvm_ready
l2_start l2 "console=ttyS0 quiet l2.ip=$L2_IP/24 l2.peer=$L1_IP l2.pings=2 l2.stream=120" \
	"$(l2_nic "$NODE" n0 52:54:00:12:34:56)"
l2_wait l2 "^L2: streaming=1" 120 || fail "L2 never started its traffic"
sleep 2
qemu=$(cat /tmp/l2.pid)
say "   QEMU $qemu pins $(vmpin_kb "$qemu") kB; its traffic flows"
result "pinned_before_kb=$(vmpin_kb "$qemu") ping_received=$(l2_value l2 ping_received)"

say "2. the function goes away under it"
gone_uuid=$UUID
gone_node=$NODE
echo "VMRUN: device_del $id_a"
for n in $(seq 300); do
	[ -z "$(port_fn "$port_a")" ] && break
	sleep 0.1
done
unplugged=0
[ -z "$(port_fn "$port_a")" ] && unplugged=1
say "   unplugged: $unplugged after $((n / 10)) s"
mdev_gone=0
[ -e "/sys/bus/mdev/devices/$gone_uuid" ] || mdev_gone=1
node_gone=0
[ -e "$gone_node" ] || node_gone=1
# QEMU holds the file and the doorbell mapping of a device that is gone:
# nothing may stay pinned. Its vCPU meets the doorbell, which now answers
# SIGBUS: KVM_RUN fails and QEMU stops the guest (internal-error) and
# says why on stderr. It must not hang: its monitor answers and it quits.
sleep 1
pinned=$(vmpin_kb "$qemu")
say "   QEMU pins ${pinned:-?} kB now"
for n in $(seq 300); do
	status=$(l2_qmp l2 query-status | sed -n 's/.*"status": *"\([^"]*\)".*/\1/p')
	[ "$status" != running ] && break
	sleep 0.1
done
say "   the guest's state: ${status:-QEMU has ended}"
l2_qmp l2 quit > /dev/null
qemu_rc=$(l2_end l2 30)
say "   QEMU ended: $qemu_rc"
qemu_stderr=$(l2_stderr l2)
result "unplugged=$unplugged mdev_gone=$mdev_gone node_gone=$node_gone pinned_after_kb=${pinned:-gone}"
result "guest_state=${status:-gone} qemu_rc=$qemu_rc qemu_stderr_lines=$qemu_stderr"
l2_uuids=
l2_bdfs=

say "3. the function comes back; a new L2 guest runs on it"
echo "VMRUN: device_add $id_a"
for n in $(seq 300); do
	[ -n "$(port_fn "$port_a")" ] && break
	sleep 0.1
done
bdf_a=$(port_fn "$port_a")
[ -n "$bdf_a" ] || fail "the function did not come back"
# A new function: virtio-pci probes it first (it owns the ID); then it is
# handed over, as at boot.
for n in $(seq 100); do
	[ -e "/sys/bus/pci/devices/$bdf_a/driver" ] && break
	sleep 0.1
done
say "   function $bdf_a is back, with $(basename "$(readlink "/sys/bus/pci/devices/$bdf_a/driver")")"
setup
l2_start l2b "console=ttyS0 quiet l2.ip=$L2_IP/24 l2.peer=$L1_IP l2.pings=3" \
	"$(l2_nic "$NODE" n0 52:54:00:12:34:56)"
l2_wait l2b "^L2: done" 180
rc=$(l2_end l2b 60)
result "again_qemu_rc=$rc again_ping_received=$(l2_value l2b ping_received) again_stderr_lines=$(l2_stderr l2b)"
