#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# mq.sh [--pci] [--svq | --packed]: a multiqueue guest. A stock QEMU KVM
# guest gets a device with two queue pairs and a control queue as -netdev
# vhost-vdpa,queues=2 and -device virtio-net-pci,mq=on. L2's virtio_net
# must bring its pairs up (its control-queue command answered: one pair,
# one per vCPU), switch them with ethtool -L to 2, 1 and 2, pinging the
# peer at each step, and send on each transmit queue (XPS). L2_SMP=2 for
# two vCPUs, each sending on its own queue: under nested KVM on TCG such
# guests crashed L1 now and then (see the l2 selftest). The l2 selftest
# judges the RESULT lines.
#
#   default  two crossed-over simulator devices, both in L2: the second
#            NIC is the peer, in a network namespace of L2.
#   --pci    the first accelerator function (two queue pairs when the
#            runner gave the functions multi-queue taps) bound to
#            vhost_mdev_pci; the peer is the second, which the L1 kernel's
#            virtio-net driver runs, across the hub.
#   --svq    QEMU's shadow virtqueue (x-svq=on) relays the rings, the
#            control queue's too.
#   --packed L2's NICs with packed=on: packed rings, the control queue's
#            too.

L2_TAG=mq
. /usr/share/vmrun/l2/l2lib.sh

pci=0 svq=0
L2_NETDEV_OPTS=",queues=2"
for arg in "$@"; do
	case "$arg" in
	--pci) pci=1 ;;
	--svq) svq=1 L2_NETDEV_OPTS="$L2_NETDEV_OPTS,x-svq=on" ;;
	--packed) L2_DEVICE_OPTS=",packed=on" ;;
	*) fail "usage: mq.sh [--pci] [--svq | --packed]" ;;
	esac
done
mq=",mq=on,vectors=6"

if [ $pci = 1 ]; then
	set -- $(accel_fns)
	[ $# -ge 2 ] || fail "needs two accelerator functions"
	say "1. function $1 to vhost_mdev_pci; its peer $2, the L1 kernel's virtio-net"
	bind_fn "$1"
	peer_up "$2" 10.0.0.1
	new_mdev "$1" vhost_mdev_pci-net
	[ $svq = 1 ] && svq_features "$UUID"
	node_a=$NODE
	nics=$(l2_nic "$node_a" n0 52:54:00:12:34:56 "$mq")
	pair=
else
	say "1. two crossed-over simulator devices, two queue pairs each"
	rmmod vhost_mdev_sim 2>/dev/null
	run modprobe vhost_mdev_sim crossover=1 pairs=2 || fail "modprobe vhost_mdev_sim"
	trap 'l2_cleanup; rmmod vhost_mdev_sim 2>/dev/null' EXIT
	new_mdev vhost_mdev_sim vhost_mdev_sim-net
	[ $svq = 1 ] && svq_features "$UUID"
	node_a=$NODE
	new_mdev vhost_mdev_sim vhost_mdev_sim-net
	[ $svq = 1 ] && svq_features "$UUID"
	nics="$(l2_nic "$node_a" n0 52:54:00:12:34:56 "$mq") $(l2_nic "$NODE" n1 52:54:00:12:34:57 "$mq")"
	pair=" l2.pair=1"
fi

say "2. the guest: ${L2_SMP:=1} vCPU(s), multiqueue NICs"
kvm_ready
l2_start l2 "console=ttyS0 quiet l2.ip=10.0.0.2/24 l2.peer=10.0.0.1 l2.pings=3 l2.mq=1$pair" "$nics"
l2_wait l2 "^L2: done" 240 || l2_stuck l2 "$node_a" ${NODE:+"$NODE"}
rc=$(l2_end l2 60)
errs=$(l2_stderr l2)

# Our side: which of device A's queues saw kicks and interrupts.
vqs=$(awk 'NR > 1 { printf "%s%s:%s/%s", s, $1, $2, $3; s = "," }' \
	"/sys/kernel/debug/vhost_mdev/$(basename "$node_a")/vqs")
say "3. device A's queues (vq:kicks/calls): $vqs"
result "qemu_rc=$rc qemu_stderr_lines=$errs qemu_restore_failed=$(l2_restore_failed l2)"
result "l2_done=$(grep -c '^L2: done' /tmp/l2.out)"
result "packed=$(l2_value l2 packed) ping_received=$(l2_value l2 ping_received) mq_max=$(l2_value l2 mq_max) mq_current=$(l2_value l2 mq_current)"
result "mq_switch_ok=$(l2_value l2 mq_switch_ok) mq_tx_kicks=$(l2_value l2 mq_tx_kicks) mq_rx_kicks=$(l2_value l2 mq_rx_kicks)"
result "vqs=$vqs"
