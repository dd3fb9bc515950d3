#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Building blocks of the L2 scenarios, sourced by them inside the test VM
# (L1): hand accelerator functions to vhost_mdev_pci, create mdevs with
# mdevctl, start stock QEMU KVM guests (L2) on them and read what the
# guests report. A scenario sets L2_TAG (its name, the prefix of its
# narration) before sourcing this file.
#
# Output conventions (Documentation/dev-tools/vhost-mdev.rst):
#   "<tag>: ..."      narration of a step
#   "  $ cmd"         a command run on the user's behalf
#   "  <name>| ..."   a line of an L2 guest's console
#   "RESULT k=v ..."  a result, for the selftest that runs the scenario
# L2 guests report on their console as "L2: k=v" (l2/init.sh).

L2_DIR=/usr/share/vmrun/l2
TRACE=/sys/kernel/tracing
l2_uuids=
l2_bdfs=
l2_guests=
l2_pids=
l2_last_pid=

say() { echo "${L2_TAG:-l2}: $*"; }
result() { echo "RESULT $*"; }
run() { echo "  \$ $*"; "$@"; }

fail() {
	say "FAILED: $*"
	result "error=$*"
	exit 1
}

# Undo what the scenario set up, whatever the way out.
l2_cleanup() {
	l2_exits_report
	for p in $l2_pids; do
		kill "$p" 2>/dev/null
	done
	for g in $l2_guests; do
		[ -s "/tmp/$g.pid" ] && kill -9 "$(cat "/tmp/$g.pid")" 2>/dev/null
	done
	[ -w $TRACE/tracing_on ] && echo 0 > $TRACE/tracing_on
	for u in $l2_uuids; do
		mdevctl stop -u "$u" > /dev/null 2>&1
	done
	for b in $l2_bdfs; do
		[ -e "/sys/bus/pci/devices/$b/driver" ] &&
			sysfs_write "$b" "/sys/bus/pci/devices/$b/driver/unbind"
		[ -e "/sys/bus/pci/devices/$b" ] || continue
		echo > "/sys/bus/pci/devices/$b/driver_override"
		sysfs_write "$b" /sys/bus/pci/drivers_probe
	done
}
trap l2_cleanup EXIT

# Write $1 to sysfs file $2, waiting 30 s at most: a driver's remove or
# probe that does not return (virtio-net's probe spins until the device
# answers its control queue) is shown with the writer's kernel stack, as
# RESULT error=, instead of holding the scenario until the test's timeout.
sysfs_write() {
	echo "$1" 2> /dev/null > "$2" &
	w=$!
	for n in $(seq 300); do
		kill -0 $w 2>/dev/null || return 0
		sleep 0.1
	done
	say "writing $1 to $2 does not return; the writer's kernel stack:"
	sed 's/^/    /' /proc/$w/stack
	result "error=writing $1 to $2 does not return"
}

# The function behind root port $1, when it is there ("" when unplugged).
port_fn() {
	for d in /sys/bus/pci/devices/$1/????:??:??.0; do
		[ -e "$d" ] && basename "$d"
	done
}

# The accelerator functions of the machine, by BDF, in port order.
accel_fns() {
	for p in $VMRUN_ACCEL_PORTS; do
		port_fn "$p"
	done
}

# Hand function $1 to PCI driver $2 (vhost_mdev_pci, which is loaded, by
# default; the caller loads another), from whichever has it, as a user does
# (driver_override). l2_cleanup gives it back to the default driver.
bind_fn() {
	want=${2:-vhost_mdev_pci}
	if [ "$want" = vhost_mdev_pci ]; then
		run modprobe vhost_mdev_pci || fail "modprobe vhost_mdev_pci"
	fi
	drv=$(basename "$(readlink "/sys/bus/pci/devices/$1/driver")" 2>/dev/null)
	[ -n "$drv" ] && [ "$drv" != "$want" ] &&
		run sh -c "echo $1 > /sys/bus/pci/drivers/$drv/unbind"
	run sh -c "echo $want > /sys/bus/pci/devices/$1/driver_override"
	run sh -c "echo $1 > /sys/bus/pci/drivers_probe"
	[ "$(basename "$(readlink "/sys/bus/pci/devices/$1/driver")")" = "$want" ] ||
		fail "$1 did not bind to $want"
	case " $l2_bdfs " in *" $1 "*) ;; *) l2_bdfs="$l2_bdfs $1" ;; esac
}

# The netdev the L1 kernel's virtio-net driver made of function $1.
fn_netdev() {
	modprobe virtio_net || fail "modprobe virtio_net"
	for n in $(seq 50); do
		d=$(ls "/sys/bus/pci/devices/$1"/virtio*/net 2>/dev/null | head -n 1)
		[ -n "$d" ] && { echo "$d"; return; }
		sleep 0.1
	done
	fail "no netdev on $1"
}

# Function $1, run by the L1 kernel's virtio-net, as the peer at address
# $2 (a /24): sets nb, its netdev.
peer_up() {
	nb=$(fn_netdev "$1")
	ip addr flush dev "$nb"
	run ip addr add "$2/24" dev "$nb"
	run ip link set "$nb" up
}

# mdevctl start on parent $1, type $2: sets UUID and NODE (/dev/...).
new_mdev() {
	UUID=$(cat /proc/sys/kernel/random/uuid)
	run mdevctl start -p "$1" -t "$2" -u "$UUID" ||
		fail "mdevctl start -p $1 -t $2"
	l2_uuids="$l2_uuids $UUID"
	NODE=/dev/$(ls "/sys/bus/mdev/devices/$UUID/vhost-mdev")
	say "   mdev $UUID -> $NODE"
}

# The vhost-vdpa node of upstream's vDPA device $1.
vdpa_node() {
	echo "/dev/$(ls "/sys/bus/vdpa/devices/$1" | grep '^vhost-vdpa-')"
}

# The features QEMU 7.2's x-svq cannot shadow: CTRL_GUEST_OFFLOADS (2),
# CTRL_RX (18), CTRL_VLAN (19), CTRL_RX_EXTRA (20), GUEST_ANNOUNCE (21),
# INDIRECT_DESC (28), RING_PACKED (34) and RING_RESET (40), which a
# virtio-net function or the simulator may offer ("vdpa svq does not work
# with features", "SVQ Invalid device feature flags" otherwise).
SVQ_DROP=$(((1 << 2) | (0xf << 18) | (1 << 28) | (1 << 34) | (1 << 40)))

# Let mdev $1 offer only features QEMU 7.2's x-svq can shadow: not those of
# SVQ_DROP, nor VHOST_F_LOG_ALL (26, its dirty_log: "vdpa svq does not
# work with features 0x4000000").
svq_features() {
	f=/sys/bus/mdev/devices/$1/device_features
	run sh -c "echo $(printf '0x%x' $(($(cat "$f") & ~SVQ_DROP))) > $f" ||
		fail "cannot write $f"
	run sh -c "echo 0 > /sys/bus/mdev/devices/$1/dirty_log" ||
		fail "cannot write dirty_log of $1"
}

# KVM, and kvmhold (vm/kvmhold.c) holding an idle vCPU for the rest of the
# run: no L2 guest's start or APIC makes KVM patch its code under TCG.
kvm_ready() {
	modprobe kvm_amd || fail "modprobe kvm_amd"
	[ -c /dev/kvm ] || fail "no /dev/kvm"
	l2_exits_start
	pidof kvmhold > /dev/null && return
	setsid kvmhold > /tmp/kvmhold.out 2>&1 < /dev/null &
	for n in $(seq 50); do
		grep -q ready /tmp/kvmhold.out 2>/dev/null && return
		sleep 0.1
	done
	fail "kvmhold: $(cat /tmp/kvmhold.out)"
}

# Kicks through the kick eventfd of queue $2 of device node $1 (debugfs).
vq_kicks() {
	sed -n "s/^$2 \([0-9]*\) .*/\1/p" \
		"/sys/kernel/debug/vhost_mdev/$(basename "$1")/vqs"
}

# Every exit of an L2 vCPU to L1's KVM, in a trace instance of its own
# whose small ring keeps the last ones, for l2_exits_report.
L2_EXITS=$TRACE/instances/l2_exits
l2_exits_start() {
	mount -t tracefs tracefs $TRACE 2>/dev/null
	[ -d $L2_EXITS ] || mkdir $L2_EXITS 2>/dev/null || return 0
	echo 64 > $L2_EXITS/buffer_size_kb
	echo 1 > $L2_EXITS/events/kvm/kvm_exit/enable
	echo > $L2_EXITS/trace
}

# Whether an L2 guest died of a triple fault: its vCPU's last exit was a
# shutdown (SVM exit 0x7f), after which QEMU (-no-reboot) exits 0 without a
# word from the guest. Shows that vCPU's exits before it; RESULT
# l2_shutdown_exits counts them (the selftests run a scenario once more
# when it is not 0: vmdev_scenario()).
l2_exits_report() {
	[ -r $L2_EXITS/trace ] || return 0
	echo 0 > $L2_EXITS/tracing_on
	n=$(grep -c 'kvm_exit: .* reason shutdown ' $L2_EXITS/trace)
	if [ "$n" -gt 0 ]; then
		say "an L2 vCPU ended in a shutdown exit (a triple fault); its last exits:"
		awk '{ if (match($0, /-[0-9]+ +\[/)) {
			t = substr($0, RSTART + 1, RLENGTH - 1); sub(/ +\[/, "", t)
			k[t] = (k[t] == "" ? "" : k[t] "\n") $0
			if (split(k[t], a, "\n") > 16) sub(/^[^\n]*\n/, "", k[t])
			if ($0 ~ / reason shutdown /) { print k[t]; exit }
		} }' $L2_EXITS/trace | sed 's/^ */    /'
	fi
	result "l2_shutdown_exits=$n"
	echo 0 > $L2_EXITS/events/kvm/kvm_exit/enable
	rmdir $L2_EXITS 2>/dev/null
}

# Count KVM's irqfd_wakeup (every interrupt injected through an irqfd).
irqfd_trace_start() {
	mount -t tracefs tracefs $TRACE 2>/dev/null
	echo irqfd_wakeup > $TRACE/set_ftrace_filter || fail "no irqfd_wakeup to trace"
	echo function > $TRACE/current_tracer
	echo > $TRACE/trace
	echo 1 > $TRACE/tracing_on
}

irqfd_trace_count() {
	echo 0 > $TRACE/tracing_on
	grep -c irqfd_wakeup $TRACE/trace
}

# The "-netdev ... -device ..." of an L2 NIC on node $1 (id $2, MAC $3),
# $4 appended to the -device options (",mq=on,vectors=6"); L2_NETDEV_OPTS
# is appended to the -netdev options (",queues=2", ",x-svq=on"),
# L2_DEVICE_OPTS to the -device options (",packed=on").
l2_nic() {
	echo "-netdev type=vhost-vdpa,vhostdev=$1,id=$2${L2_NETDEV_OPTS:-} -device virtio-net-pci,netdev=$2,mac=$3,disable-legacy=on,page-per-vq=on,romfile=${4:-}${L2_DEVICE_OPTS:-}"
}

# Start L2 guest $1 in the background: kernel command line $2, NICs $3,
# more QEMU arguments after (L2_SMP: its vCPUs, 1 by default; L2_MEM: its
# memory, 256M by default; L2_QEMU_ARGS: more for every guest, as
# "-trace vhost_vdpa_*" by hand; L2_APPEND: more for every guest's kernel
# command line, as "loglevel=7"). Its console
# goes to /tmp/$1.out (and is shown as "  $1| ..."), QEMU's stderr to
# /tmp/$1.err, its exit status to /tmp/$1.rc when it ends; its QMP monitor
# listens on /tmp/$1.qmp (the qmp helper talks to it). A kernel panic ends
# QEMU at once (panic=-1 with -no-reboot).
#
# Returns when the guest's /init runs. A guest whose kernel died before
# that, while QEMU said nothing on stderr, is started again (3 tries in
# all): no driver of ours ran yet (virtio_net loads from /init), and nested
# KVM on TCG now and then kills an SMP guest's early boot (an int3 Oops in
# the kernel's text patching: sched_clock_cpu, seen on the debug L1 kernel).
l2_start() {
	for try in 1 2 3; do
		l2_launch "$@"
		l2_wait "$1" "^L2: booted=" 120 && return 0
		[ -s "/tmp/$1.err" ] && return 1
		if [ -e "/tmp/$1.rc" ]; then
			why="QEMU exited $(cat "/tmp/$1.rc")"
		else
			why="no /init in 120 s"
		fi
		say "   $1 died before its /init ran ($why; try $try of 3)"
		l2_end "$1" 1 > /dev/null
		wait "$l2_last_pid"
	done
	return 1
}

# Every guest's kernel gets L2_BOOT_APPEND: pci=noearly skips the early
# scans of the AGP aperture, which read the config space of every PCI
# slot through port I/O, twice, each read an exit to this VM's KVM: about
# two of an L2 boot's nine seconds here.
L2_BOOT_APPEND="panic=-1 pci=noearly"

l2_launch() {
	name=$1 append="$2 $L2_BOOT_APPEND${L2_APPEND:+ $L2_APPEND}" nics=$3
	shift 3
	set -- qemu-system-x86_64 -accel kvm -cpu host -m ${L2_MEM:-256M} \
		-smp ${L2_SMP:-1} \
		-nodefaults -display none -no-reboot -serial stdio \
		-L /usr/share/qemu -kernel $L2_DIR/vmlinuz \
		-initrd $L2_DIR/initrd.cpio -append "$append" \
		-qmp "unix:/tmp/$name.qmp,server=on,wait=off" ${L2_QEMU_ARGS:-} "$@"
	echo "    $* $nics" | sed "s|-append $append|-append \"$append\"|"
	ulimit -l unlimited
	rm -f "/tmp/$name.out" "/tmp/$name.err" "/tmp/$name.rc" \
		"/tmp/$name.pid" "/tmp/$name.qmp"
	: > "/tmp/$name.out"
	# shellcheck disable=SC2086
	{ "$@" $nics 2> "/tmp/$name.err" & echo $! > "/tmp/$name.pid"; wait $!;
	  echo $? > "/tmp/$name.rc"; } |
		tr -d '\r' | while IFS= read -r line; do
			echo "$line" >> "/tmp/$name.out"
			echo "  $name| $line"
		done &
	l2_last_pid=$!
	l2_pids="$l2_pids $!"
	l2_guests="$l2_guests $name"
	sleep 0.2
}

# Wait up to $3 s for guest $1's console to have a line matching $2.
l2_wait() {
	for n in $(seq $(($3 * 10))); do
		grep -q "$2" "/tmp/$1.out" 2>/dev/null && return 0
		[ -e "/tmp/$1.rc" ] && break
		sleep 0.1
	done
	grep -q "$2" "/tmp/$1.out" 2>/dev/null
}

# Wait up to $2 s for guest $1's QEMU to exit (then kill it); its status.
l2_end() {
	for n in $(seq $(($2 * 10))); do
		[ -e "/tmp/$1.rc" ] && break
		sleep 0.1
	done
	if [ ! -e "/tmp/$1.rc" ]; then
		say "   QEMU of $1 did not exit in $2 s: killed" >&2
		kill -9 "$(cat "/tmp/$1.pid")" 2>/dev/null
		sleep 0.5
		echo killed > "/tmp/$1.rc"
	fi
	cat "/tmp/$1.rc"
}

# The last value guest $1 reported for key $2 ("L2: ... $2=value").
l2_value() {
	sed -n "s/^L2: .*$2=\([^ ]*\).*/\1/p" "/tmp/$1.out" | tail -n 1
}

# Guest $1's QMP command $2 (arguments $3): the reply (see the qmp helper).
l2_qmp() {
	qmp "/tmp/$1.qmp" "$2" ${3:+"$3"}
}

# Guest $1 stopped reporting: show where it is, for the next diagnosis. Its
# vCPU's RIP and whether it is halted (QMP), each thread of its QEMU in L1
# (state, wait channel, kernel stack: a vCPU thread blocked in an ioctl of
# ours shows here), the debugfs counters of our nodes $2..., and each
# simulator queue's available index as the device and as QEMU read it.
l2_stuck() {
	name=$1
	shift
	pid=$(cat "/tmp/$name.pid" 2>/dev/null)
	say "   $name is stuck; its vCPU: $(l2_qmp "$name" human-monitor-command \
		'{"command-line": "info registers"}' | grep -o 'RIP=[0-9a-f]*\|HLT=[01]' |
		tr '\n' ' ')"
	for t in /proc/$pid/task/*; do
		[ -d "$t" ] || continue
		say "   thread $(basename "$t") $(cat "$t/comm") state $(cut -d' ' -f3 "$t/stat") wchan $(cat "$t/wchan" 2>/dev/null)"
		sed 's/^/     /' "$t/stack" 2>/dev/null | head -n 12
	done
	for n; do
		d=/sys/kernel/debug/vhost_mdev/$(basename "$n")
		for f in vqs sim; do
			[ -r "$d/$f" ] && say "   $n $f: $(tr '\n' ' ' < "$d/$f")"
		done
		# Each queue's available index as QEMU reads the guest's memory
		# (the IOVA is the guest-physical address), next to the
		# device's reading of it in the sim file.
		[ -r "$d/sim" ] || continue
		sed -n 's/^vq \([0-9]*\) .* driver \(0x[0-9a-f]*\) .*/\1 \2/p' "$d/sim" |
			while read -r vq drv; do
				gpa=$(printf '0x%x' $((drv + 2)))
				say "   $n vq $vq avail_idx in QEMU's view: $(l2_qmp "$name" \
					human-monitor-command "{\"command-line\": \"xp /1hx $gpa\"}" |
					grep -o ': 0x[0-9a-f]*' | head -n 1)"
			done
	done
}

# The kB of memory process $1 has pinned (VmPin), "" when it is gone.
vmpin_kb() {
	awk '/^VmPin:/ { print $2 }' "/proc/$1/status" 2>/dev/null
}

# What QEMU of guest $1 printed on stderr, shown; the count of lines.
l2_stderr() {
	if [ -s "/tmp/$1.err" ]; then
		say "   QEMU of $1 said on stderr:" >&2
		sed 's/^/    | /' "/tmp/$1.err" >&2
	fi
	grep -c . "/tmp/$1.err"
}

# How many of those lines say VHOST_GET_VRING_BASE failed with EOPNOTSUPP
# at QEMU's vhost stop (a packed ring the function runs alone cannot say
# where it stopped; the PCI parent relays those of an mdev that can
# migrate, as these are).
l2_restore_failed() {
	grep -c "vhost VQ [0-9]* ring restore failed: -95:" "/tmp/$1.err"
}
