#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# migrate.sh [--pci] [--packed] [--rounds N] [--cancel] [--hidden]
#            [--loop ours|upstream]:
# live migration of a stock QEMU 7.2 KVM guest whose NIC is a simulator
# mdev, data path in the kernel.
#
# Three simulator devices on one hub (hub=1): X and Y for the migrating
# guest (the source's and the destination's), Z for its peer, netpeer, a
# program in L1 on the userspace driver, which sends the guest a numbered,
# checksummed UDP stream (200 datagrams a second, udpseq.h) and answers its
# pings (10 a second): one L2 guest at a time, apart from the destination
# waiting. The guest moves N times (default 10), X -> Y -> X
# ..., over a unix socket with the bandwidth capped, so that several
# dirty-bitmap rounds run while the stream keeps writing guest memory
# through the device. At each switch-over, before the destination runs, the
# stopped source's and the paused destination's RAM (pmemsave) must hash
# the same: a page the device wrote and did not log would differ. Then the
# destination runs on, and its pings and datagrams must go on.
#
#   --cancel  then start one more migration, slowly, and cancel it: the
#             source runs on, logging off (the core's debugfs "log").
#   --hidden  then a VM on an mdev whose dirty_log is 0 cannot migrate:
#             QEMU says "Migration disabled: vhost lacks VHOST_F_LOG_ALL".
#   --pci     X, Y and Z are mdevs of the three accelerator functions,
#             handed to vhost_mdev_pci (X's and Y's have the same MAC): the
#             guest's data path is the functions' own, doorbell mapped into
#             the guest, and the kernel relays the rings while QEMU logs
#             (drivers/vhost_mdev/pci/pci_shadow.c).
#   --packed  the guest's NIC with packed=on: its driver and the device use
#             packed rings (on the functions relayed from the start,
#             drivers/vhost_mdev/pci/pci_packed.c).
#   --vp-vdpa for a comparison (migbench.sh PCI=1): as --pci, but X and Y
#             are upstream's vp_vdpa devices on the same functions (QEMU's
#             shadow virtqueue, x-svq=on, every packet through QEMU: its
#             only way to migrate them), offering only what x-svq shadows
#             (vdpaadd); Z, the peer's, stays ours.
#   --loop B  for a comparison (migbench.sh): no peer, X and Y loop every
#             frame back, and the guest's pings (to its own MAC) go to its
#             receive queue; B is "ours" (simulator mdevs, hub=0) or
#             "upstream" (vdpa_sim_net devices on upstream vhost_vdpa, with
#             QEMU's shadow virtqueue, x-svq=on: its only way to migrate).
#             The RAM must still hash the same, and the guest receive on.
#
# The l2 selftest (migration.c) judges the RESULT lines.

L2_TAG=migrate
. /usr/share/vmrun/l2/l2lib.sh

rounds=10 cancel=0 hidden=0 loop= pci=0 vpvdpa=0
while [ $# -gt 0 ]; do
	case "$1" in
	--pci) pci=1 ;;
	--vp-vdpa) pci=1 vpvdpa=1 ;;
	--packed) L2_DEVICE_OPTS=",packed=on" ;;
	--rounds) rounds=$2; shift ;;
	--cancel) cancel=1 ;;
	--hidden) hidden=1 ;;
	--loop) loop=$2; shift ;;
	*) fail "usage: migrate.sh [--pci|--vp-vdpa] [--packed] [--rounds N] [--cancel] [--hidden] [--loop ours|upstream]" ;;
	esac
	shift
done

MAC=52:54:00:12:34:56
RAM_MB=128
L2_MEM=${RAM_MB}M
GUEST="console=ttyS0 quiet l2.ip=10.0.0.2/24 l2.peer=10.0.0.1 l2.pings=1 l2.role=migrant"
# 32 MiB/s: the guest's ~30 MiB of non-zero pages take more than one round.
BANDWIDTH=33554432

# Upstream's vDPA device $1, which the command after it adds: its node in
# NODE.
new_vdpa() {
	name=$1
	shift
	run "$@" || fail "$*"
	vdpas="$vdpas $name"
	NODE=$(vdpa_node "$name")
	say "   vdpa $name -> $NODE"
}

svq= dev_opts=
case "$loop" in
"")
	if [ $pci = 1 ]; then
		say "1. the three accelerator functions, on one switch: X, Y (same MAC) and Z"
	else
		say "1. three simulator devices on one hub: X, Y (same MAC) and Z"
	fi
	hub=1
	;;
ours)
	say "1. two simulator devices, X and Y (same MAC), each looping back"
	hub=0
	;;
upstream)
	say "1. two upstream vdpa_sim_net devices, X and Y (same MAC), QEMU's x-svq"
	# vdpa_sim's default, use_va=1 (user addresses, as VDUSE), fails
	# under x-svq here: "vringh: Failed to access avail idx", not one
	# frame moves. As a bus-address device it works.
	run modprobe vhost_vdpa && run modprobe vdpa_sim use_va=0 &&
		run modprobe vdpa_sim_net ||
		fail "upstream's vdpa_sim_net is not installed (make peers)"
	vdpas=
	trap 'l2_cleanup; for v in $vdpas; do vdpa dev del $v; done' EXIT
	new_vdpa mig0 vdpa dev add name mig0 mgmtdev vdpasim_net mac $MAC
	X=$NODE
	new_vdpa mig1 vdpa dev add name mig1 mgmtdev vdpasim_net mac $MAC
	Y=$NODE
	# vdpa_sim refuses a driver without VIRTIO_F_ACCESS_PLATFORM.
	svq=,x-svq=on dev_opts=,iommu_platform=on
	;;
*) fail "--loop ours or upstream" ;;
esac
# The datagrams the peer sent to a function no guest was on wait in the
# function's tap for its next user: drop them through the L1
# kernel's virtio-net (quiet: no IPv6 of its own), the functions given back.
drain_fns() {
	modprobe virtio_net
	for f in $(accel_fns); do
		for n in $(seq 50); do
			d=$(ls "/sys/bus/pci/devices/$f"/virtio*/net 2>/dev/null | head -n 1)
			[ -n "$d" ] && break
			sleep 0.1
		done
		[ -n "$d" ] || continue
		sysctl -qw "net.ipv6.conf.$d.disable_ipv6=1"
		ip link set "$d" up && sleep 1 && ip link set "$d" down
	done
}

if [ $vpvdpa = 1 ]; then
	[ -z "$loop" ] && [ $cancel = 0 ] && [ $hidden = 0 ] ||
		fail "--vp-vdpa and --loop, --cancel or --hidden: no"
	run modprobe vhost_vdpa && run modprobe vp_vdpa ||
		fail "upstream's vp_vdpa is not installed (make peers)"
	vdpas=
	trap 'l2_cleanup; for v in $vdpas; do vdpa dev del $v 2> /dev/null; done; drain_fns' EXIT
	set -- $(accel_fns)
	[ $# -ge 3 ] || fail "needs three accelerator functions"
	bind_fn "$1" vp-vdpa
	bind_fn "$3" vp-vdpa
	bind_fn "$2"
	# vp_vdpa on the functions, offering what x-svq can shadow.
	new_vdpa migx vdpaadd migx "pci/$1" "$(printf '0x%x' $SVQ_DROP)"
	X=$NODE
	new_vdpa migy vdpaadd migy "pci/$3" "$(printf '0x%x' $SVQ_DROP)"
	Y=$NODE
	new_mdev "$2" vhost_mdev_pci-net
	Z=$NODE
	# The functions offer VIRTIO_F_ACCESS_PLATFORM, which x-svq needs
	# acked.
	svq=,x-svq=on dev_opts=,iommu_platform=on
elif [ $pci = 1 ]; then
	[ -z "$loop" ] || fail "--pci and --loop: no"
	trap 'l2_cleanup; drain_fns' EXIT
	set -- $(accel_fns)
	[ $# -ge 3 ] || fail "needs three accelerator functions"
	for f in "$1" "$2" "$3"; do
		bind_fn "$f"
	done
	new_mdev "$1" vhost_mdev_pci-net
	X=$NODE
	new_mdev "$3" vhost_mdev_pci-net
	Y=$NODE
	new_mdev "$2" vhost_mdev_pci-net
	Z=$NODE
elif [ "$loop" != upstream ]; then
	rmmod vhost_mdev_sim 2>/dev/null
	run modprobe vhost_mdev_sim hub=$hub pairs=1 || fail "modprobe vhost_mdev_sim hub=$hub"
	trap 'l2_cleanup; rmmod vhost_mdev_sim 2>/dev/null' EXIT
	new_mdev vhost_mdev_sim vhost_mdev_sim-net
	X=$NODE UX=$UUID
	new_mdev vhost_mdev_sim vhost_mdev_sim-net
	Y=$NODE UY=$UUID
	if [ $hub = 1 ]; then
		new_mdev vhost_mdev_sim vhost_mdev_sim-net
		Z=$NODE
	fi
	# The administrator pins the MAC of X and Y (QEMU 7.2 writes the
	# -device's into the device too, the same on both sides).
	for u in $UX $UY; do
		run sh -c "echo $MAC > /sys/bus/mdev/devices/$u/mac" || fail "set the MAC of $u"
	done
fi
[ -n "$loop" ] && GUEST="$GUEST l2.peermac=$MAC"

nic() {
	echo "-netdev type=vhost-vdpa,vhostdev=$1,id=n0$svq -device virtio-net-pci,netdev=n0,mac=$MAC,disable-legacy=on,page-per-vq=on,romfile=$dev_opts${L2_DEVICE_OPTS:-}"
}

# The "key": number in a QMP reply $1.
json_num() {
	echo "$1" | sed -n "s/.*\"$2\": *\([0-9]*\).*/\1/p" | head -n 1
}

# The guest's last "tick=" report on the console of QEMU $1: key $2.
tick_value() {
	grep "^L2: tick=" "/tmp/$1.out" | tail -n 1 |
		sed -n "s/.* $2=\([0-9]*\).*/\1/p"
}

# Wait up to $3 s for the guest on QEMU $1 to report key $2 above $4.
wait_above() {
	for n in $(seq $(($3 * 10))); do
		v=$(tick_value "$1" "$2")
		[ -n "$v" ] && [ "$v" -gt "$4" ] && return 0
		sleep 0.1
	done
	return 1
}

# Our devices' kicks and calls per queue, and the simulator's counters.
show_devices() {
	for f in /sys/kernel/debug/vhost_mdev/*/vqs; do
		[ -e "$f" ] || continue
		d=$(dirname "$f")
		say "   $(basename "$d") vq:kicks/calls $(awk 'NR > 1 { printf "%s:%s/%s ", $1, $2, $3 }' "$f")$(tr '\n' ' ' 2> /dev/null < "$d/sim")"
	done
}

# The last lines of guest $1's console.
show_console() {
	say "   the console of $1 ends:"
	tail -n 20 "/tmp/$1.out" | sed 's/^/     /'
}

# Fail with $2, showing the end of guest $1's console and our devices.
fail_guest() {
	show_console "$1"
	show_devices
	fail "$2"
}

# Save QEMU $1's guest RAM to /tmp/$1.ram: below 640 KiB, then from 1 MiB.
ram_save() {
	l2_qmp "$1" pmemsave '{"val": 0, "size": 655360, "filename": "/tmp/ram.lo"}' > /dev/null &&
	l2_qmp "$1" pmemsave "{\"val\": 1048576, \"size\": $(((RAM_MB - 1) << 20)), \"filename\": \"/tmp/ram.hi\"}" > /dev/null ||
		return 1
	cat /tmp/ram.lo /tmp/ram.hi > "/tmp/$1.ram"
	rm -f /tmp/ram.lo /tmp/ram.hi
}

# Blank, in RAM file $1, the page at guest address $2.
blank_page() {
	off=$(($2 >= 0x100000 ? $2 - 0x60000 : $2))
	dd if=/dev/zero of="$1" bs=4096 seek=$((off / 4096)) count=1 conv=notrunc 2> /dev/null
}

# Whether the RAM of QEMU $1 and of QEMU $2 hash the same; where they
# differ, if they do. One page is not compared: the one with the guest's
# kvmclock wall clock (struct pvclock_wall_clock; the guest says where),
# which KVM itself rewrites on the destination when QEMU restores the
# vCPU's MSR_KVM_WALL_CLOCK_NEW there, before the guest runs (its version
# one update ahead, seconds and nanoseconds new, every round): memory no
# device writes. Nothing else but the guest and the device writes RAM.
ram_compare() {
	wc=$(l2_value m0 wall_clock_gpa)
	ram_save "$1" && blank_page "/tmp/$1.ram" "$wc" &&
		h1=$(md5sum < "/tmp/$1.ram" | cut -d' ' -f1)
	ram_save "$2" && blank_page "/tmp/$2.ram" "$wc" &&
		h2=$(md5sum < "/tmp/$2.ram" | cut -d' ' -f1)
	say "   RAM md5: source $h1, destination $h2"
	if [ "$h1" != "$h2" ]; then
		# The files skip the 384 KiB from 640 KiB to 1 MiB.
		cmp -l "/tmp/$1.ram" "/tmp/$2.ram" | head -n 16 |
			awk '{ o = $1 - 1; if (o >= 655360) o += 393216;
			       printf "    differs at guest address %#x: %s, %s (octal)\n", o, $2, $3 }'
	fi
	rm -f "/tmp/$1.ram" "/tmp/$2.ram"
	[ -n "$h1" ] && [ "$h1" = "$h2" ]
}

# Wait up to $2 s for QEMU $1's QMP monitor.
qmp_ready() {
	for n in $(seq $(($2 * 10))); do
		l2_qmp "$1" query-status > /dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

kvm_ready
if [ -z "$loop" ]; then
	say "2. the peer on Z (netpeer, in L1), sending; the guest on X, receiving and pinging"
	run sh -c "netpeer $Z 10.0.0.1 02:56:4d:00:00:01 10.0.0.2 $MAC 5000 200 > /tmp/netpeer.out 2>&1 &"
	for n in $(seq 50); do
		grep -q ready /tmp/netpeer.out && break
		sleep 0.1
	done
	grep -q ready /tmp/netpeer.out || fail "netpeer: $(cat /tmp/netpeer.out)"
	l2_pids="$l2_pids $(pidof netpeer)"
else
	say "2. the guest on X, pinging itself through the device"
fi
# Whether guest m0 receives (and its pings are answered): else why not.
first_traffic() {
	if [ -z "$loop" ]; then
		wait_above m0 udp_got 60 0 || { why="no datagram reached the guest"; return 1; }
		wait_above m0 ping_got 30 0 || { why="no ping reply reached the guest"; return 1; }
	else
		wait_above m0 rx 60 0 || { why="the guest received nothing"; return 1; }
	fi
}

# The guest's bring-up is the l2 tests' subject; this one's starts with the
# first migration. A guest that stalls before it (seen once in ~20 starts
# on the debug kernel: the guest found its NIC, then printed nothing for a
# minute) is shown, with where its vCPU is and our devices' counters, and
# started once more; the test reports the restart.
restarts=0
l2_start m0 "$GUEST" "$(nic "$X")" || fail "the guest did not boot"
if ! first_traffic; then
	say "   before any migration: $why; its vCPU: $(l2_qmp m0 human-monitor-command \
		'{"command-line": "info registers"}' | grep -o 'RIP=[0-9a-f]*')"
	show_console m0
	show_devices
	say "   the guest starts once more"
	kill -9 "$(cat /tmp/m0.pid)" 2>/dev/null
	l2_end m0 5 > /dev/null
	wait "$l2_last_pid"
	restarts=1
	l2_start m0 "$GUEST" "$(nic "$X")" || fail "the guest did not boot"
	first_traffic || fail_guest m0 "$why"
fi
[ -n "$(l2_value m0 wall_clock_gpa)" ] || fail "the guest did not say where its wall clock is"
say "   guest: $(grep '^L2: tick=' /tmp/m0.out | tail -n 1)"

src=m0 src_node=$X dst_node=$Y
done_rounds=0 hash_ok=0 cont_ok=0 stderr_lines=0 maxdown=0 maxtotal=0 minsync=99
i=1
while [ $i -le "$rounds" ]; do
	dst=m$i
	say "3.$i migrate $src ($src_node) -> $dst ($dst_node)"
	l2_launch "$dst" "$GUEST" "$(nic "$dst_node")" -incoming "unix:/tmp/mig.sock" -S
	qmp_ready "$dst" 30 || fail "QEMU $dst did not start"
	l2_qmp "$src" migrate-set-parameters "{\"max-bandwidth\": $BANDWIDTH, \"downtime-limit\": 300}" > /dev/null ||
		fail "migrate-set-parameters"
	got0=$(tick_value "$src" udp_got)
	l2_qmp "$src" migrate '{"uri": "unix:/tmp/mig.sock"}' > /dev/null || fail "migrate $src"
	st=
	for n in $(seq 1200); do
		[ -e "/tmp/$src.rc" ] || [ -e "/tmp/$dst.rc" ] && break
		info=$(l2_qmp "$src" query-migrate)
		st=$(echo "$info" | sed -n 's/.*"status": *"\([a-z-]*\)".*/\1/p' | tail -n 1)
		case "$st" in completed|failed|cancelled) break ;; esac
		sleep 0.1
	done
	if [ "$st" != completed ]; then
		echo "$info"
		for q in "$src" "$dst"; do
			[ -e "/tmp/$q.rc" ] && say "   QEMU of $q exited: $(cat "/tmp/$q.rc")"
			l2_stderr "$q" > /dev/null
			show_console "$q"
		done
		fail "migration $i: ${st:-QEMU gone}"
	fi
	# A "completed" answer can still have total-time and downtime 0 (seen
	# once in ten: asked just as the migration ended): ask again.
	for n in $(seq 20); do
		[ "$(json_num "$info" total-time)" != 0 ] && break
		sleep 0.05
		info=$(l2_qmp "$src" query-migrate)
	done
	total=$(json_num "$info" total-time) down=$(json_num "$info" downtime)
	sync=$(json_num "$info" dirty-sync-count) mb=$(($(json_num "$info" transferred) >> 20))
	say "   completed: total ${total} ms, downtime ${down} ms, ${mb} MiB, ${sync} dirty syncs; $(($(tick_value "$src" udp_got) - got0)) datagrams during it; L1: $(awk '/MemAvailable/ { print int($2 / 1024) }' /proc/meminfo) MiB available"
	result "round=$i total_ms=$total downtime_ms=$down mib=$mb dirty_syncs=$sync"
	[ "$down" -gt "$maxdown" ] && maxdown=$down
	[ "$total" -gt "$maxtotal" ] && maxtotal=$total
	[ "$sync" -lt "$minsync" ] && minsync=$sync

	# The source stopped, the destination not started: their RAM.
	ram_compare "$src" "$dst" && hash_ok=$((hash_ok + 1))

	before=$(tick_value "$src" tick)
	l2_qmp "$dst" cont > /dev/null || fail "cont $dst"
	l2_qmp "$src" quit > /dev/null
	l2_end "$src" 30 > /dev/null
	stderr_lines=$((stderr_lines + $(l2_stderr "$src")))
	# The guest goes on where it was: its ticks, pings and datagrams.
	last_got=$(tick_value "$src" udp_got) last_ping=$(tick_value "$src" ping_got)
	last_rx=$(tick_value "$src" rx)
	if [ -n "$loop" ]; then
		wait_above "$dst" rx 30 "${last_rx:-0}" && cont_ok=$((cont_ok + 1))
	elif wait_above "$dst" udp_got 30 "${last_got:-0}" &&
	     wait_above "$dst" ping_got 30 "${last_ping:-0}"; then
		cont_ok=$((cont_ok + 1))
	fi
	say "   then: $(grep '^L2: tick=' "/tmp/$dst.out" | tail -n 1) (tick $before before)"
	# A guest that did not go on is shown, and the test's run ends there
	# (migrating it on would only move a stopped guest around); the
	# comparison (--loop) counts it.
	if [ -z "$loop" ] && [ "$cont_ok" != "$i" ]; then
		l2_stuck "$dst" "$dst_node"
		show_console "$dst"
		fail "migration $i: the guest did not go on"
	fi

	src=$dst
	t=$src_node src_node=$dst_node dst_node=$t
	done_rounds=$i
	i=$((i + 1))
done

[ -z "$loop" ] && say "   the peer: $(tail -n 1 /tmp/netpeer.out)"
show_devices
result "boot_restarts=$restarts packed=$(l2_value m0 packed)"
result "rounds=$done_rounds hash_ok=$hash_ok cont_ok=$cont_ok max_downtime_ms=$maxdown max_total_ms=$maxtotal min_dirty_syncs=$minsync"
result "udp_got=$(tick_value "$src" udp_got) udp_bad=$(tick_value "$src" udp_bad) udp_dup=$(tick_value "$src" udp_dup) udp_lost=$(tick_value "$src" udp_lost) udp_maxgap_ms=$(tick_value "$src" udp_maxgap_ms)"
result "ping_got=$(tick_value "$src" ping_got) ping_lost_run=$(tick_value "$src" ping_lost_run)"
logf=/sys/kernel/debug/vhost_mdev/$(basename "$src_node")/log

if [ $cancel = 1 ]; then
	dst=c$i
	say "4. a migration cancelled half-way: $src stays, logging off"
	l2_launch "$dst" "$GUEST" "$(nic "$dst_node")" -incoming "unix:/tmp/mig.sock" -S
	qmp_ready "$dst" 30 || fail "QEMU $dst did not start"
	l2_qmp "$src" migrate-set-parameters '{"max-bandwidth": 1048576}' > /dev/null
	l2_qmp "$src" migrate '{"uri": "unix:/tmp/mig.sock"}' > /dev/null || fail "migrate $src"
	sleep 2
	during=$(tr '\n' ' ' < "$logf")
	say "   during: $during"
	l2_qmp "$src" migrate_cancel > /dev/null
	for n in $(seq 300); do
		st=$(l2_qmp "$src" query-migrate | sed -n 's/.*"status": *"\([a-z-]*\)".*/\1/p' | tail -n 1)
		[ "$st" = cancelled ] && break
		sleep 0.1
	done
	after=$(tr '\n' ' ' < "$logf")
	say "   after: $after"
	run_state=$(l2_qmp "$src" query-status | sed -n 's/.*"status": *"\([a-z-]*\)".*/\1/p')
	l2_end "$dst" 10 > /dev/null
	got=$(tick_value "$src" udp_got) tick=$(tick_value "$src" tick)
	wait_above "$src" udp_got 20 "${got:-0}" && flowing=1 || flowing=0
	if [ $flowing = 0 ]; then
		# Whether the guest runs at all (its ticks) or only receives
		# nothing, where its vCPU and QEMU's threads are, our devices.
		say "   no datagram in 20 s: tick $tick then $(tick_value "$src" tick), udp_got $got"
		l2_stuck "$src" "$src_node" "$Z"
		show_console "$src"
		say "   the peer: $(tail -n 2 /tmp/netpeer.out | tr '\n' ' ')"
	fi
	result "cancel_status=$st cancel_run_state=$run_state cancel_flowing=$flowing"
	result "log_during=$(echo "$during" | grep -c 'log_all 1') log_after_off=$(echo "$after" | grep -c 'log_all 0 base 0x0 ')"
	# QEMU 7.2's migrate_cancel shuts the stream's socket down under its
	# migration thread; caught mid-write, the thread says so (seen once,
	# on the debug kernel): the cancel's own words, not a device's, and
	# only a source writes the stream.
	cancel_said=$(grep -c -e "Unable to write to socket: Broken pipe" \
		-e "failed to save SaveStateEntry with id(name): [0-9]*(ram): -5" \
		"/tmp/$src.err")
	result "cancel_stream_errors=$cancel_said"
fi

stderr_lines=$((stderr_lines + $(l2_stderr "$src") - ${cancel_said:-0}))
result "qemu_stderr_lines=$stderr_lines"

if [ $hidden = 1 ]; then
	say "5. an mdev whose dirty_log is 0: QEMU blocks the migration"
	l2_qmp "$src" quit > /dev/null
	l2_end "$src" 30 > /dev/null
	u=$(basename "$(readlink -f "/sys/class/vhost-mdev/$(basename "$src_node")/device")")
	run sh -c "echo 0 > /sys/bus/mdev/devices/$u/dirty_log" || fail "dirty_log=0"
	l2_launch h "$GUEST" "$(nic "$src_node")" -S
	qmp_ready h 30 || fail "QEMU h did not start"
	reply=$(l2_qmp h migrate '{"uri": "unix:/tmp/mig-h.sock"}' 2>&1)
	say "   migrate: $reply"
	l2_qmp h quit > /dev/null
	l2_end h 30 > /dev/null
	echo 1 > "/sys/bus/mdev/devices/$u/dirty_log"
	result "blocked=$(echo "$reply" | grep -c 'Migration disabled: vhost lacks VHOST_F_LOG_ALL feature')"
fi
say "done"
