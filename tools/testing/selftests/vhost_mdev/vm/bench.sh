#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# `make bench` (and, with BENCH_SMOKE=1, `make bench-smoke` and the bench
# selftest): our drivers next to upstream's, in one boot, with the same
# client (vmbench, over libvmdev) on every path:
#
#   ours-pci   vhost_mdev_pci mdevs on the two accelerator functions
#   ours-relay the same, rings started at index 1000 (a migration's
#              destination): relayed by the kernel; its rates only
#   vp_vdpa    upstream's vp_vdpa + vhost_vdpa on the same two functions
#   vfio       the passthrough bound: the same two functions through
#              vfio-pci, driven from userspace (doorbell in the BAR mmap,
#              MSI-X to the call eventfds, type1 DMA map of the memory)
#   ours-sim   a vhost_mdev_sim mdev (it loops frames back)
#   vdpa_sim   upstream's vdpa_sim_net + vhost_vdpa (loops frames back)
#
# The paths run interleaved, ROUNDS rounds of (ours-pci, ours-relay,
# vp_vdpa, vfio, ours-sim, vdpa_sim), so that the machine's noise falls on all of them;
# each round sets its path up from scratch (the functions move between
# vhost_mdev_pci, vp_vdpa and vfio-pci) and measures: packets/s received
# for 64 and 1500-byte frames (SECS seconds each, median of 1-s samples);
# during the 64-byte run, the host's work: interrupts the client got and
# (ours) kicks its driver took per 1,000 packets, kernel CPU time per
# packet; open -> first packet (median of five); kick -> interrupt round
# trip (through the kick eventfd and, where the device has one, the mapped
# doorbell); and mapping and unmapping MIB MiB in one IOTLB update (4 KiB
# pages, and 2 MiB hugetlb pages; median of five) and, on ours, with
# SET_MEM_TABLE; on the simulator
# paths, the time from the command that makes a device to its usable node,
# and to make and to remove 64 of them (8 in the short form). Every
# measurement is printed as it comes, as
#   RESULT bench round=R path=P metric=M value=V
# then the medians and the ratios ours/upstream and ours/passthrough. The
# upstream modules come from `make peers` (Debian's kernel lacks vp_vdpa
# and vdpa_sim_net).
# Ends with "VMRUN: script-ok" or "VMRUN: script-failed <why>".

L2_TAG=bench
. /usr/share/vmrun/l2/l2lib.sh

if [ -n "$BENCH_SMOKE" ]; then
	rounds=${ROUNDS:-1} secs=${SECS:-2} mib=${MIB:-64} rtts=${RTTS:-50} instances=8
else
	rounds=${ROUNDS:-3} secs=${SECS:-10} mib=${MIB:-1024} rtts=${RTTS:-500} instances=64
fi
PATHS="ours-pci ours-relay vp_vdpa vfio ours-sim vdpa_sim"
out=/tmp/bench
rm -rf $out
mkdir -p $out
failed=
vdpas=

bench_cleanup() {
	for v in $vdpas; do
		vdpa dev del "$v" 2> /dev/null
	done
	l2_cleanup
	rmmod vp_vdpa vdpa_sim_net vdpa_sim vhost_mdev_sim 2> /dev/null
	echo 0 > /proc/sys/vm/nr_hugepages
}
trap bench_cleanup EXIT

# Upstream vDPA device $1 of management device $2: its node in NODE.
new_vdpa() {
	vdpa dev add name "$1" mgmtdev "$2" || fail "vdpa dev add $1 mgmtdev $2"
	vdpas="$vdpas $1"
	NODE=$(vdpa_node "$1")
	[ -c "$NODE" ] || fail "no vhost-vdpa node for $1"
}

del_vdpas() {
	for v in $vdpas; do
		vdpa dev del "$v" || fail "vdpa dev del $v"
	done
	vdpas=
}

del_mdevs() {
	for u in $l2_uuids; do
		mdevctl stop -u "$u" > /dev/null || fail "mdevctl stop $u"
	done
	l2_uuids=
}

# Set path $1 up: TX and RX (one node for a device that loops back), and
# DOORBELL ("doorbell" where the device maps its doorbells).
path_up() {
	DOORBELL=
	case $1 in
	ours-pci|ours-relay)
		set -- $fns
		for f; do bind_fn "$f"; done
		new_mdev "$1" vhost_mdev_pci-net; TX=$NODE
		new_mdev "$2" vhost_mdev_pci-net; RX=$NODE
		DOORBELL=doorbell
		[ $path = ours-relay ] && DOORBELL=relay ;;
	vp_vdpa)
		set -- $fns
		for f; do bind_fn "$f" vp-vdpa; done
		new_vdpa bench0 "pci/$1"; TX=$NODE
		new_vdpa bench1 "pci/$2"; RX=$NODE
		DOORBELL=doorbell ;;
	vfio)
		set -- $fns
		for f; do bind_fn "$f" vfio-pci; done
		TX=vfio:$1 RX=vfio:$2 DOORBELL=doorbell ;;
	ours-sim)
		new_mdev vhost_mdev_sim vhost_mdev_sim-net
		TX=$NODE RX=$NODE ;;
	vdpa_sim)
		new_vdpa benchsim vdpasim_net
		TX=$NODE RX=$NODE ;;
	esac
}

path_down() {
	del_mdevs
	del_vdpas
}

# One measurement: metric $1 of the round's path is $2.
record() {
	[ -n "$2" ] || return 0
	echo "RESULT bench round=$round path=$path metric=$1 value=$2" | tee -a $out/all
}

# vmbench $@, its RESULT values kept in $out/last; a failure is recorded.
measure() {
	vmbench "$@" > $out/last 2>&1
	rc=$?
	if [ $rc != 0 ]; then
		cat $out/last
		failed="$failed $path/$1/round$round($(sed -n 's/^RESULT error=//p' $out/last))"
		return 1
	fi
}

# The last value of key $1 in $out/last.
val() { sed -n "s/^RESULT .*[ ]$1=\([^ ]*\).*/\1/p;s/^RESULT $1=\([^ ]*\).*/\1/p" $out/last | tail -n 1; }

# Per 1,000 packets received: interrupts, driver kicks; kernel time per packet.
host_work() {
	record calls_per_kpkt "$(val calls_per_kpkt)"
	record kernel_ns_per_pkt "$(val kernel_ns_per_pkt)"
	got=$(val received)
	case $path in ours-*)
		[ "${got:-0}" -gt 0 ] &&
			record kicks_per_kpkt "$(( $(val driver_kicks) * 1000 / got ))" ;;
	esac
}

bench_path() {
	for size in 64 1500; do
		if measure pps "$TX" "$RX" $size "$secs" $DOORBELL; then
			record pps$size "$(val pps)"
			[ $size = 64 ] && host_work
		fi
	done
	# The relay's cost is in its rates; the rest is ours-pci's.
	[ $path = ours-relay ] && return
	measure bringup "$TX" "$RX" $DOORBELL && record bringup_us "$(val bringup_us)"
	# Passthrough has no kick eventfd: only the doorbell.
	[ $path != vfio ] && measure rtt "$TX" "$RX" "$rtts" &&
		record rtt_p50_ns "$(val rtt_p50_ns)" && record rtt_p99_ns "$(val rtt_p99_ns)"
	if [ -n "$DOORBELL" ] && measure rtt "$TX" "$RX" "$rtts" doorbell; then
		record rtt_db_p50_ns "$(val rtt_p50_ns)"
		record rtt_db_p99_ns "$(val rtt_p99_ns)"
	fi
	# Of our map's time, pin_user_pages_fast() alone: the floor.
	measure map "$TX" "$mib" iotlb 4k && record map_us "$(val map_us)" &&
		record map_pin_us "$(val pin_us)" && record unmap_us "$(val unmap_us)"
	if [ "$hugepages" = 1 ] && measure map "$TX" "$mib" iotlb 2m; then
		record map_2m_us "$(val map_us)"
		record map_2m_pin_us "$(val pin_us)"
		record unmap_2m_us "$(val unmap_us)"
	fi
	case $path in ours-*)
		measure map "$TX" "$mib" memtable 4k && record memtable_us "$(val map_us)" &&
			record memtable_unmap_us "$(val unmap_us)" ;;
	esac
	# Simulator instances, made and removed as a user does, one command each.
	case $path in
	ours-sim) kind=ours ;;
	vdpa_sim) kind=upstream ;;
	*) return ;;
	esac
	if measure instances $kind "$instances"; then
		record usable_us "$(val first_usable_us)"
		record create_${instances}_ms "$(val create_all_ms)"
		record destroy_${instances}_ms "$(val destroy_all_ms)"
	fi
}

# Room for the instances below and the path's own (the default is 4).
rmmod vhost_mdev_sim 2> /dev/null
modprobe vhost_mdev_sim max_devices=$((instances + 1)) && modprobe vhost_mdev_pci ||
	fail "modprobe vhost_mdev_sim vhost_mdev_pci"
# Busybox modprobe does not follow vfio's softdep on its type1 backend.
modprobe vfio_pci && modprobe vfio_iommu_type1 || fail "modprobe vfio_pci vfio_iommu_type1"
modprobe vhost_vdpa && modprobe vdpa_sim use_va=0 && modprobe vdpa_sim_net &&
	modprobe vp_vdpa || fail "upstream's vp_vdpa and vdpa_sim_net are not installed (make peers)"
fns=$(accel_fns)
[ "$(echo $fns | wc -w)" -ge 2 ] || fail "needs two accelerator functions"
fns=$(echo $fns | cut -d' ' -f1-2)
pages=$((mib / 2))
echo "$pages" > /proc/sys/vm/nr_hugepages
hugepages=0
[ "$(cat /proc/sys/vm/nr_hugepages)" -ge "$pages" ] && hugepages=1
say "$rounds rounds of: $PATHS; $secs s per rate, $rtts round trips, $mib MiB maps" \
	"(hugetlb: $([ $hugepages = 1 ] && echo yes || echo "no: too little memory"))"

for round in $(seq "$rounds"); do
	for path in $PATHS; do
		say "round $round: $path"
		path_up $path
		bench_path
		path_down
	done
done

# The median of metric $2 on path $1, over the rounds.
median() {
	sed -n "s/^RESULT bench round=[0-9]* path=$1 metric=$2 value=//p" $out/all |
		sort -n | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2) ? v[(NR + 1) / 2] :
		      (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

ratio() {
	awk -v a="${1:-0}" -v u="${2:-0}" 'BEGIN { if (a > 0 && u > 0) printf "%.2f", a / u; else printf "-" }'
}

say "medians over $rounds round(s); ratio = ours / upstream, bound = ours-pci / vfio" \
	"(rates: higher is better, times: lower)"
printf '%-18s %10s %10s %6s %10s %6s %10s %10s %6s\n' metric ours-pci vp_vdpa ratio \
	vfio bound ours-sim vdpa_sim ratio
for m in pps64 pps1500 calls_per_kpkt kicks_per_kpkt kernel_ns_per_pkt bringup_us rtt_p50_ns rtt_p99_ns rtt_db_p50_ns rtt_db_p99_ns \
	 map_us map_pin_us unmap_us map_2m_us map_2m_pin_us unmap_2m_us \
	 memtable_us memtable_unmap_us usable_us \
	 create_${instances}_ms destroy_${instances}_ms; do
	a=$(median ours-pci $m) b=$(median vp_vdpa $m) v=$(median vfio $m)
	c=$(median ours-sim $m) d=$(median vdpa_sim $m)
	[ -z "$a$b$v$c$d" ] && continue
	printf '%-18s %10s %10s %6s %10s %6s %10s %10s %6s\n' $m "${a:--}" "${b:--}" \
		"$(ratio "$a" "$b")" "${v:--}" "$(ratio "$a" "$v")" "${c:--}" "${d:--}" \
		"$(ratio "$c" "$d")"
	echo "RESULT median metric=$m ours-pci=${a:--} vp_vdpa=${b:--} pci_ratio=$(ratio "$a" "$b")" \
		"vfio=${v:--} bound_ratio=$(ratio "$a" "$v") ours-sim=${c:--} vdpa_sim=${d:--}" \
		"sim_ratio=$(ratio "$c" "$d")"
done

say "the relay: ours-pci's rings started at index 1000, as on a migration's" \
	"destination, relayed by the kernel (ours-relay)"
printf '%-18s %10s %10s %6s %10s %6s\n' metric ours-relay ours-pci ratio vp_vdpa ratio
for m in pps64 pps1500 calls_per_kpkt kernel_ns_per_pkt; do
	r=$(median ours-relay $m) a=$(median ours-pci $m) b=$(median vp_vdpa $m)
	[ -z "$r" ] && continue
	printf '%-18s %10s %10s %6s %10s %6s\n' $m "$r" "${a:--}" "$(ratio "$r" "$a")" \
		"${b:--}" "$(ratio "$r" "$b")"
	echo "RESULT relay metric=$m ours-relay=$r relay_ratio=$(ratio "$r" "$a")" \
		"relay_upstream_ratio=$(ratio "$r" "$b")"
done

if [ -z "$failed" ]; then
	echo "VMRUN: script-ok"
else
	echo "RESULT error=$failed"
	echo "VMRUN: script-failed$failed"
fi
