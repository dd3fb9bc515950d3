#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# pingbulk.sh [--sim] [--svq | --packed]: the user's end state, in the
# test VM (L1). A stock QEMU runs a KVM guest (L2) whose virtio-net data
# path is a vhost-mdev device over -netdev vhost-vdpa; the doorbell page is
# mapped into L2 and the interrupts reach it through KVM irqfds. L2 pings
# its peer and fetches an 8 MiB file from it. `make demo` narrates it; the
# l2 selftest judges its RESULT lines.
#
#   default  the first accelerator function bound to vhost_mdev_pci; L2
#            talks to the second, which the L1 kernel's own virtio-net
#            driver runs, across the hub between them.
#   --sim    two vhost_mdev_sim devices crossed over (what one sends the
#            other receives), both given to L2, each interface in its own
#            network namespace there.
#   --svq    (with either) QEMU's shadow virtqueue, -netdev ...,x-svq=on:
#            QEMU relays every buffer between L2's rings and the device's.
#            QEMU 7.2 refuses a device offering features it cannot shadow,
#            so the mdev offers fewer (its device_features and dirty_log
#            attributes).
#   --packed (with either) L2's NIC with packed=on: L2's driver and the
#            device use packed rings.
#
# Exit status 0 when L2 reached its peer.

L2_TAG=pingbulk
. /usr/share/vmrun/l2/l2lib.sh

sim=0
for arg in "$@"; do
	case "$arg" in
	--sim) sim=1 ;;
	--svq) L2_NETDEV_OPTS=",x-svq=on" ;;
	--packed) L2_DEVICE_OPTS=",packed=on" ;;
	*) fail "usage: pingbulk.sh [--sim] [--svq | --packed]" ;;
	esac
done
L1_IP=10.0.0.1
L2_IP=10.0.0.2
BULK_MB=8
PINGS=5

rm -f /tmp/kicks.up /tmp/kicks.done
if [ $sim = 0 ]; then
	set -- $(accel_fns)
	[ $# -ge 2 ] || fail "needs two accelerator functions"
	say "1. the accelerator: function $1, handed to vhost_mdev_pci"
	bind_fn "$1"
	bdf_b=$2
	say "2. its peer across the hub: function $bdf_b, the L1 kernel's virtio-net"
	peer_up "$bdf_b" $L1_IP

	say "3. mdevctl: the types on offer, then an mdev"
	mdevctl types | sed 's/^/    /'
	new_mdev "$1" vhost_mdev_pci-net
	[ -n "${L2_NETDEV_OPTS:-}" ] && svq_features "$UUID"
	nics=$(l2_nic "$NODE" n0 52:54:00:12:34:56)
	extra=
else
	say "1. the simulator, crossed over: what one device sends, the other receives"
	rmmod vhost_mdev_sim 2>/dev/null
	run modprobe vhost_mdev_sim crossover=1 || fail "modprobe vhost_mdev_sim"
	[ "$(cat /sys/module/vhost_mdev_sim/parameters/crossover)" = Y ] ||
		fail "vhost_mdev_sim is loaded without crossover (mdevs left?)"
	trap 'l2_cleanup; rmmod vhost_mdev_sim 2>/dev/null' EXIT
	say "2. the peer: L2's second interface, in a network namespace of its own"
	say "3. mdevctl: the types on offer, then two mdevs"
	mdevctl types | sed 's/^/    /'
	new_mdev vhost_mdev_sim vhost_mdev_sim-net
	[ -n "${L2_NETDEV_OPTS:-}" ] && svq_features "$UUID"
	nics=$(l2_nic "$NODE" n0 52:54:00:12:34:56)
	first=$NODE
	new_mdev vhost_mdev_sim vhost_mdev_sim-net
	[ -n "${L2_NETDEV_OPTS:-}" ] && svq_features "$UUID"
	nics="$nics $(l2_nic "$NODE" n1 52:54:00:12:34:57)"
	NODE=$first
	extra=" l2.pair=1"
fi
data_node=$NODE

say "4. KVM inside this (TCG) guest: modprobe kvm_amd (-cpu max emulates SVM)"
kvm_ready

# The file L2 fetches: served by L1 across the hub, or by L2's own peer.
blob_md5=
if [ $sim = 0 ]; then
	mkdir -p /srv
	dd if=/dev/urandom of=/srv/blob bs=1M count=$BULK_MB 2>/dev/null
	blob_md5=$(md5sum /srv/blob | cut -d' ' -f1)
	httpd -f -p $L1_IP:80 -h /srv &
	l2_pids="$l2_pids $!"
fi

irqfd_trace_start
say "5. the L2 guest, with a stock QEMU (its memory is pinned: ulimit -l unlimited):"
start=$(cut -d' ' -f1 /proc/uptime)
l2_start l2 "console=ttyS0 quiet l2.ip=$L2_IP/24 l2.peer=$L1_IP l2.pings=$PINGS l2.bulk=http://$L1_IP/blob$extra" "$nics"
# The kick counters when L2's link is up and when it is done: what they
# count in between are eventfd kicks during its traffic.
l2_wait l2 "^L2: carrier=" 120 &&
	echo "$(vq_kicks "$data_node" 0) $(vq_kicks "$data_node" 1)" > /tmp/kicks.up
l2_wait l2 "^L2: done" 240 &&
	echo "$(vq_kicks "$data_node" 0) $(vq_kicks "$data_node" 1)" > /tmp/kicks.done
qemu_rc=$(l2_end l2 60)
end=$(cut -d' ' -f1 /proc/uptime)
irqfd=$(irqfd_trace_count)

kick_rx=-1
kick_tx=-1
if [ -s /tmp/kicks.up ] && [ -s /tmp/kicks.done ]; then
	read -r up_rx up_tx < /tmp/kicks.up
	read -r done_rx done_tx < /tmp/kicks.done
	kick_rx=$((done_rx - up_rx))
	kick_tx=$((done_tx - up_tx))
fi
say "6. what happened"
say "   L2 ran $(awk "BEGIN { print $end - $start }") s, QEMU exited $qemu_rc"
say "   KVM irqfd_wakeup hits: $irqfd (interrupts injected through irqfds)"
say "   eventfd kicks on the data queues while L2's link was up: rx $kick_rx, tx $kick_tx"
stderr_lines=$(l2_stderr l2)

result "qemu_rc=$qemu_rc"
result "carrier=$(l2_value l2 carrier) packed=$(l2_value l2 packed)"
result "ping_sent=$(l2_value l2 ping_sent) ping_received=$(l2_value l2 ping_received)"
[ -n "$blob_md5" ] || blob_md5=$(l2_value l2 blob_md5)
result "bulk_bytes=$(l2_value l2 bulk_bytes) bulk_md5=$(l2_value l2 bulk_md5) blob_md5=$blob_md5"
result "bulk_t0=$(l2_value l2 bulk_t0) bulk_t1=$(l2_value l2 bulk_t1)"
result "irqfd_wakeup=$irqfd kicks_rx=$kick_rx kicks_tx=$kick_tx"
result "qemu_stderr_lines=$stderr_lines qemu_restore_failed=$(l2_restore_failed l2)"
result "l2_done=$(grep -c '^L2: done' /tmp/l2.out)"
[ "$(l2_value l2 ping_received)" -ge 1 ] 2>/dev/null
