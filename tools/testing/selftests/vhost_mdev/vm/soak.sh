#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# `make soak`: SOAK_S seconds (30 minutes by default) of L2 traffic, in
# rounds. Each round creates a new mdev (on the first accelerator function,
# or two crossed-over simulator devices every third round), starts a stock
# QEMU KVM guest on it that pings its peer 10 times a second for 90 s and
# resets its NIC every 15 s (the driver unbound and bound: a device reset,
# new rings, QEMU maps the guest's memory again), then stops the guest and
# removes the mdev. Every round must end cleanly: QEMU exits 0 and prints
# nothing, every NIC cycle moves pings. The runner checks the kernel log
# (on the debug kernel: KASAN, lockdep, kmemleak, hung tasks) at the end.
# Ends with "VMRUN: script-ok" or "VMRUN: script-failed <why>".

L2_TAG=soak
. /usr/share/vmrun/l2/l2lib.sh

STREAM=90
CYCLE=15
L1_IP=10.0.0.1
L2_IP=10.0.0.2
# Wall-clock seconds from the RTC, which follows the host: under a loaded
# TCG host the guest's own clock can fall far behind.
now() { cat /sys/class/rtc/rtc0/since_epoch; }
end=$(($(now) + ${SOAK_S:-1800}))
rounds=0
failed=0
cycles=0

set -- $(accel_fns)
[ $# -ge 2 ] || { echo "VMRUN: script-failed needs two accelerator functions"; exit 1; }
bdf_a=$1
peer_up "$2" $L1_IP
kvm_ready
say "rounds of ${STREAM} s of traffic, the NIC reset every ${CYCLE} s, for ${SOAK_S:-1800} s"

# One round on a new mdev; its NICs in $nics. Judges what L2 reported.
round() {
	kind=$1 extra=$2
	l2_start l2 "console=ttyS0 quiet l2.ip=$L2_IP/24 l2.peer=$L1_IP l2.pings=2 l2.stream=$STREAM l2.cycle=$CYCLE$extra" "$nics" > /dev/null
	l2_wait l2 "^L2: done" $((STREAM + 120)) > /dev/null
	rc=$(l2_end l2 60)
	errs=$(l2_stderr l2 2> /dev/null)
	n=$(l2_value l2 cycles)
	dry=$(grep -c "^L2: cycle=[0-9]* received=0$" /tmp/l2.out)
	cycles=$((cycles + ${n:-0}))
	ok=1
	[ "$rc" = 0 ] && [ "$errs" = 0 ] && [ "${n:-0}" -gt 0 ] && [ "$dry" = 0 ] || ok=0
	result "round=$rounds kind=$kind qemu_rc=$rc qemu_stderr_lines=$errs cycles=${n:-0} cycles_without_traffic=$dry ok=$ok"
	[ $ok = 1 ] || { failed=$((failed + 1)); l2_stderr l2 > /dev/null; tail -n 20 /tmp/l2.out; }
	for u in $l2_uuids; do
		mdevctl stop -u "$u" > /dev/null 2>&1
	done
	l2_uuids=
}

while [ "$(now)" -lt $end ]; do
	rounds=$((rounds + 1))
	if [ $((rounds % 3)) = 0 ]; then
		modprobe -r vhost_mdev_sim 2>/dev/null
		modprobe vhost_mdev_sim crossover=1
		new_mdev vhost_mdev_sim vhost_mdev_sim-net > /dev/null
		nics=$(l2_nic "$NODE" n0 52:54:00:12:34:56)
		new_mdev vhost_mdev_sim vhost_mdev_sim-net > /dev/null
		nics="$nics $(l2_nic "$NODE" n1 52:54:00:12:34:57)"
		round sim " l2.pair=1"
		modprobe -r vhost_mdev_sim
	else
		bind_fn "$bdf_a" > /dev/null
		new_mdev "$bdf_a" vhost_mdev_pci-net > /dev/null
		nics=$(l2_nic "$NODE" n0 52:54:00:12:34:56)
		round pci ""
	fi
done

result "rounds=$rounds failed=$failed nic_resets=$cycles"
if [ $failed = 0 ]; then
	echo "VMRUN: script-ok"
else
	echo "VMRUN: script-failed $failed of $rounds rounds failed"
fi
