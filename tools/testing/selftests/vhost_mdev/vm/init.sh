#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0-only
#
# /init of the test VM (see vmrun). Results go to ttyS1, one marker line per
# event, the test binaries' own TAP output in between; the kernel keeps
# ttyS0 for its console so a splat never lands inside a result line.

/bin/busybox mkdir -p /bin /sbin /usr/bin /usr/sbin /proc /sys /dev /tmp /run
/bin/busybox --install -s
export PATH=/sbin:/usr/sbin:/bin:/usr/bin

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mkdir -p /var && ln -s /run /var/run
# What udev or systemd makes on a real system (mdevctl --jsonfile
# /dev/stdin, as libvirt runs it, needs the first).
ln -s /proc/self/fd/0 /dev/stdin
ln -s /proc/self/fd/1 /dev/stdout
ln -s /proc/self/fd/2 /dev/stderr
ln -s /proc/self/fd /dev/fd
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mkdir -p /dev/hugepages
mount -t hugetlbfs hugetlbfs /dev/hugepages 2>/dev/null
ifconfig lo up 2>/dev/null
# The virtio-pci transport drives the machine's functions from boot, as
# udev would load it: built in on 6.12, a module on 6.1.
modprobe virtio_pci 2>/dev/null

exec 3>/dev/ttyS1
stty -F /dev/ttyS1 raw -echo 2>/dev/null

# The run's settings and --env values, and the machine's description, are
# the tests' environment.
set -a
. /etc/vmrun.conf
. /etc/vmrun/machine
set +a

res() { echo "VMRUN: $*" >&3; }

res "init $(uname -r)"

kmemleak=/sys/kernel/debug/kmemleak
if [ "$VMRUN_KMEMLEAK" = 1 ] && [ -w $kmemleak ]; then
	# Whatever boot left behind is not ours: report it only once.
	echo scan > $kmemleak
	echo clear > $kmemleak
fi

if [ -n "$VMRUN_SCRIPT" ]; then
	/usr/share/vmrun/$VMRUN_SCRIPT >&3 2>&3 < /dev/null
	VMRUN_TESTS=
fi

cd /selftests/vhost_mdev
for t in $VMRUN_TESTS; do
	res "begin $t"
	# shellcheck disable=SC2086
	./$t $VMRUN_ARGS >&3 2>&3 < /dev/null
	res "end $t $?"
done

if [ "$VMRUN_KMEMLEAK" = 1 ] && [ -w $kmemleak ]; then
	# kmemleak only reports objects older than 5 s and unreferenced in a
	# scan; two scans 6 s apart catch what the tests leaked.
	sleep 6
	echo scan > $kmemleak
	sleep 1
	echo scan > $kmemleak
	res "kmemleak-begin"
	cat $kmemleak >&3
	res "kmemleak-end"
fi

res "done"

if [ "$VMRUN_KEEP" = 1 ]; then
	echo "vmrun: tests done; this is the guest's shell, 'poweroff -f' ends the VM"
	setsid cttyhack sh
fi
poweroff -f
