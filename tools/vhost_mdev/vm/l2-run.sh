#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# l2-run.sh [--sim]: the user's end state, in the test VM (L1). A stock
# QEMU runs a KVM guest (L2) whose virtio-net data path is a vhost-mdev
# device over -netdev vhost-vdpa; the doorbell page is mapped into L2 and
# the interrupts reach it through KVM irqfds.
#
#   default  function A (the first modern virtio-net PCI function) bound to
#            vhost_mdev_pci; L2 talks to function B, which the L1 kernel's
#            own virtio-net driver runs, across the hub between them.
#   --sim    two vhost_mdev_sim devices crossed over (what one sends the
#            other receives), both given to L2, each interface in its own
#            network namespace there.
#
# Steps are narrated on stdout ("l2-run: ..."), L2's console is shown as it
# comes ("  L2| ..."), and results end as "RESULT key=value" lines for the
# selftest that runs this same script. Exit status 0 when L2 reached its
# peer; the selftest judges the rest.

set -u
sim=0
[ "${1:-}" = --sim ] && sim=1

L2_DIR=/usr/share/vmrun/l2
TRACE=/sys/kernel/tracing
L1_IP=10.0.0.1
L2_IP=10.0.0.2
BULK_MB=8
PINGS=5
uuids=
bdf_a=
httpd_pid=

say() { echo "l2-run: $*"; }
result() { echo "RESULT $*"; }
run() { echo "  \$ $*"; "$@"; }

cleanup() {
	[ -n "$httpd_pid" ] && kill "$httpd_pid" 2>/dev/null
	[ -w $TRACE/tracing_on ] && echo 0 > $TRACE/tracing_on
	for u in $uuids; do
		mdevctl stop -u "$u" > /dev/null 2>&1
	done
	[ $sim = 1 ] && rmmod vhost_mdev_sim 2>/dev/null
	if [ -n "$bdf_a" ]; then
		echo "$bdf_a" > /sys/bus/pci/devices/$bdf_a/driver/unbind
		echo > /sys/bus/pci/devices/$bdf_a/driver_override
		echo "$bdf_a" > /sys/bus/pci/drivers_probe
	fi
}

fail() {
	say "FAILED: $*"
	result "error=$*"
	cleanup
	exit 1
}

# mdevctl start, then the character device of the new mdev.
new_mdev() {
	local parent=$1 type=$2 uuid

	uuid=$(cat /proc/sys/kernel/random/uuid)
	run mdevctl start -p "$parent" -t "$type" -u "$uuid" ||
		fail "mdevctl start -p $parent -t $type"
	uuids="$uuids $uuid"
	node=/dev/$(ls "/sys/bus/mdev/devices/$uuid/vhost-mdev")
	say "   mdev $uuid -> $node"
}

modern_virtio_net() {
	for d in /sys/bus/pci/devices/*; do
		[ "$(cat "$d/vendor")" = 0x1af4 ] &&
			[ "$(cat "$d/device")" = 0x1041 ] && basename "$d"
	done | sort
}

vq_kicks() {
	sed -n "s/^$2 \([0-9]*\) .*/\1/p" \
		"/sys/kernel/debug/vhost_mdev/$(basename "$1")/vqs"
}

rm -f /tmp/kicks.up /tmp/kicks.done
nics=
if [ $sim = 0 ]; then
	set -- $(modern_virtio_net)
	[ $# -ge 2 ] || fail "needs two modern virtio-net PCI functions"
	bdf_a=$1
	bdf_b=$2
	say "1. the accelerator: function $bdf_a, handed to vhost_mdev_pci"
	run modprobe vhost_mdev_pci || fail "modprobe vhost_mdev_pci"
	drv=$(basename "$(readlink /sys/bus/pci/devices/$bdf_a/driver)" 2>/dev/null)
	[ -n "$drv" ] && run sh -c "echo $bdf_a > /sys/bus/pci/drivers/$drv/unbind"
	run sh -c "echo vhost_mdev_pci > /sys/bus/pci/devices/$bdf_a/driver_override"
	run sh -c "echo $bdf_a > /sys/bus/pci/drivers_probe"
	[ "$(basename "$(readlink /sys/bus/pci/devices/$bdf_a/driver)")" = vhost_mdev_pci ] ||
		fail "$bdf_a did not bind to vhost_mdev_pci"

	say "2. its peer across the hub: function $bdf_b, the L1 kernel's virtio-net"
	modprobe virtio_net || fail "modprobe virtio_net"
	nb=$(ls /sys/bus/pci/devices/$bdf_b/virtio*/net 2>/dev/null | head -n 1)
	[ -n "$nb" ] || fail "no netdev on $bdf_b"
	ip addr flush dev "$nb"
	run ip addr add $L1_IP/24 dev "$nb"
	run ip link set "$nb" up

	say "3. mdevctl: the types on offer, then an mdev"
	mdevctl types | sed 's/^/    /'
	new_mdev "$bdf_a" vhost_mdev_pci-net
	nics="-netdev type=vhost-vdpa,vhostdev=$node,id=n0 -device virtio-net-pci,netdev=n0,mac=52:54:00:12:34:56,disable-legacy=on,page-per-vq=on,romfile="
	data_node=$node
	peer=$L1_IP
	l2_ip=$L2_IP
else
	say "1. the simulator, crossed over: what one device sends, the other receives"
	rmmod vhost_mdev_sim 2>/dev/null
	run modprobe vhost_mdev_sim crossover=1 || fail "modprobe vhost_mdev_sim"
	[ "$(cat /sys/module/vhost_mdev_sim/parameters/crossover)" = Y ] ||
		fail "vhost_mdev_sim is loaded without crossover (mdevs left?)"
	say "2. the peer: L2's second interface, in a network namespace of its own"
	say "3. mdevctl: the types on offer, then two mdevs"
	mdevctl types | sed 's/^/    /'
	new_mdev vhost_mdev_sim vhost_mdev_sim-net
	nics="-netdev type=vhost-vdpa,vhostdev=$node,id=n0 -device virtio-net-pci,netdev=n0,mac=52:54:00:12:34:56,disable-legacy=on,page-per-vq=on,romfile="
	data_node=$node
	new_mdev vhost_mdev_sim vhost_mdev_sim-net
	nics="$nics -netdev type=vhost-vdpa,vhostdev=$node,id=n1 -device virtio-net-pci,netdev=n1,mac=52:54:00:12:34:57,disable-legacy=on,page-per-vq=on,romfile="
	peer=$L1_IP
	l2_ip=$L2_IP
	L2_APPEND=" l2.pair=1"
fi

say "4. KVM inside this (TCG) guest: modprobe kvm_amd (-cpu max emulates SVM)"
modprobe kvm_amd || fail "modprobe kvm_amd"
[ -c /dev/kvm ] || fail "no /dev/kvm"

# The file L2 fetches: served by L1 across the hub, or by L2's own peer.
bulk=http://$L1_IP/blob
blob_md5=
if [ $sim = 0 ]; then
	mkdir -p /srv
	dd if=/dev/urandom of=/srv/blob bs=1M count=$BULK_MB 2>/dev/null
	blob_md5=$(md5sum /srv/blob | cut -d' ' -f1)
	httpd -f -p $L1_IP:80 -h /srv &
	httpd_pid=$!
fi

# Every interrupt KVM injects through an irqfd passes irqfd_wakeup.
mount -t tracefs tracefs $TRACE 2>/dev/null
echo irqfd_wakeup > $TRACE/set_ftrace_filter || fail "no irqfd_wakeup to trace"
echo function > $TRACE/current_tracer
echo > $TRACE/trace
echo 1 > $TRACE/tracing_on

append="console=ttyS0 quiet l2.ip=$l2_ip/24 l2.peer=$peer l2.pings=$PINGS l2.bulk=$bulk${L2_APPEND:-}"
set -- qemu-system-x86_64 -accel kvm -cpu host -m 256M -smp 1 -nodefaults \
	-display none -no-reboot -serial stdio -L /usr/share/qemu \
	-kernel $L2_DIR/vmlinuz -initrd $L2_DIR/initrd.cpio -append "$append"
say "5. the L2 guest, with a stock QEMU (its memory is pinned: ulimit -l unlimited):"
echo "    $* $nics" | sed "s|-append $append|-append \"$append\"|"
ulimit -l unlimited
start=$(cut -d' ' -f1 /proc/uptime)
# L2's console as it comes; QEMU's own messages go to a file, to be read.
# The eventfd kick counters are read when L2's link is up and when it is
# done: what they count in between are kicks during its traffic.
: > /tmp/l2.out
# shellcheck disable=SC2086
{ timeout 300 "$@" $nics 2> /tmp/qemu.err; echo $? > /tmp/qemu.rc; } |
	tr -d '\r' | while IFS= read -r line; do
		echo "$line" >> /tmp/l2.out
		echo "  L2| $line"
		case "$line" in
		"L2: carrier="*)
			echo "$(vq_kicks "$data_node" 0) $(vq_kicks "$data_node" 1)" > /tmp/kicks.up ;;
		"L2: done"*)
			echo "$(vq_kicks "$data_node" 0) $(vq_kicks "$data_node" 1)" > /tmp/kicks.done ;;
		esac
	done
qemu_rc=$(cat /tmp/qemu.rc)
end=$(cut -d' ' -f1 /proc/uptime)
echo 0 > $TRACE/tracing_on

irqfd=$(grep -c irqfd_wakeup $TRACE/trace)
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
if [ -s /tmp/qemu.err ]; then
	say "   QEMU said on stderr:"
	sed 's/^/    | /' /tmp/qemu.err
fi

l2() { sed -n "s/^L2: .*$1=\([^ ]*\).*/\1/p" /tmp/l2.out | tr -d '\r' | tail -n 1; }
result "qemu_rc=$qemu_rc"
result "carrier=$(l2 carrier)"
result "ping_sent=$(l2 ping_sent) ping_received=$(l2 ping_received)"
[ -n "$blob_md5" ] || blob_md5=$(l2 blob_md5)
result "bulk_bytes=$(l2 bulk_bytes) bulk_md5=$(l2 bulk_md5) blob_md5=$blob_md5"
result "bulk_t0=$(l2 bulk_t0) bulk_t1=$(l2 bulk_t1)"
result "irqfd_wakeup=$irqfd kicks_rx=$kick_rx kicks_tx=$kick_tx"
result "qemu_stderr_lines=$(grep -c . /tmp/qemu.err)"
result "l2_done=$(grep -c '^L2: done' /tmp/l2.out)"
cleanup
[ "$(l2 ping_received)" -ge 1 ] 2>/dev/null
