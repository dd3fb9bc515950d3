#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# mq.sh: a multiqueue guest. Two crossed-over simulator devices (two queue
# pairs and a control queue each) are given to a stock QEMU KVM guest with
# two vCPUs as -netdev vhost-vdpa,queues=2 and -device virtio-net-pci,mq=on;
# the second NIC is the peer, in a network namespace of L2. L2's virtio_net
# must bring both pairs up (its control-queue command answered), switch
# them with ethtool -L down to 1 and back, and send from each vCPU on its
# own queue. The l2 selftest judges the RESULT lines.

L2_TAG=mq
. /usr/share/vmrun/l2/l2lib.sh

# --svq: QEMU's shadow virtqueue (x-svq=on) relays the rings, the control
# queue's too.
svq=
[ "${1:-}" = --svq ] && svq=",x-svq=on"

say "1. two crossed-over simulator devices, two queue pairs each"
rmmod vhost_mdev_sim 2>/dev/null
run modprobe vhost_mdev_sim crossover=1 pairs=2 || fail "modprobe vhost_mdev_sim"
trap 'l2_cleanup; rmmod vhost_mdev_sim 2>/dev/null' EXIT
new_mdev vhost_mdev_sim vhost_mdev_sim-net
node_a=$NODE
new_mdev vhost_mdev_sim vhost_mdev_sim-net
mq="queues=2$svq"
nics="-netdev type=vhost-vdpa,vhostdev=$node_a,id=n0,$mq -device virtio-net-pci,netdev=n0,mq=on,vectors=6,mac=52:54:00:12:34:56,disable-legacy=on,page-per-vq=on,romfile="
nics="$nics -netdev type=vhost-vdpa,vhostdev=$NODE,id=n1,$mq -device virtio-net-pci,netdev=n1,mq=on,vectors=6,mac=52:54:00:12:34:57,disable-legacy=on,page-per-vq=on,romfile="

say "2. the guest: two vCPUs, multiqueue NICs"
kvm_ready
L2_SMP=2 l2_start l2 "console=ttyS0 quiet l2.ip=10.0.0.2/24 l2.peer=10.0.0.1 l2.pings=3 l2.pair=1 l2.mq=1" "$nics"
l2_wait l2 "^L2: done" 240
rc=$(l2_end l2 60)
errs=$(l2_stderr l2)

# Our side: which of device A's queues saw kicks and interrupts.
vqs=$(awk 'NR > 1 { printf "%s%s:%s/%s", s, $1, $2, $3; s = "," }' \
	"/sys/kernel/debug/vhost_mdev/$(basename "$node_a")/vqs")
say "3. device A's queues (vq:kicks/calls): $vqs"
result "qemu_rc=$rc qemu_stderr_lines=$errs l2_done=$(grep -c '^L2: done' /tmp/l2.out)"
result "ping_received=$(l2_value l2 ping_received) mq_max=$(l2_value l2 mq_max) mq_current=$(l2_value l2 mq_current)"
result "mq_switch_ok=$(l2_value l2 mq_switch_ok) mq_tx_kicks=$(l2_value l2 mq_tx_kicks) mq_rx_kicks=$(l2_value l2 mq_rx_kicks)"
result "vqs=$vqs"
