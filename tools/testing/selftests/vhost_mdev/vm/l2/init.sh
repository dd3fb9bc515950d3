#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0-only
#
# /init of the L2 guest that the L2 scenarios start with a stock QEMU over
# -netdev vhost-vdpa. Its NIC is a plain virtio-net-pci device whose data
# path is the vhost-mdev device. It brings the link up with its own kernel
# virtio-net driver, pings the peer and fetches a file from it, and reports
# on its console in "L2: key=value" lines, then powers off.
#
# Kernel command line: l2.ip= (its address/prefix), l2.peer= (the peer's
# address), l2.pings= (count), l2.bulk= (URL to fetch, or empty),
# l2.stream= (then ping the peer 10 times a second for that many seconds),
# l2.cycle= (during the stream, reset the NIC that often: its driver is
# unbound and bound again, so the device is reset and set up anew),
# l2.mq=1 (then switch the queue pairs with ethtool -L from the most down
# to 1 and back, pinging at each, and ping from every vCPU, or with one
# vCPU through each transmit queue), and
# l2.pair=1 when L2 has a second interface wired to the first: the peer
# then lives in L2, in a network namespace of its own, serving the file.
# l2.role=migrant: after the pings, ping l2.peer 10 times a second and
# receive the peer's numbered UDP stream (udpseq), for good, reporting both
# once a second ("tick=") across migrations, until the scenario ends it.
# l2.peermac= (with a device that loops every frame back, no peer): the
# peer's neighbour entry, fixed; the guest's own MAC sends its pings back to
# its receive queue, where they write guest memory and go no further.

/bin/busybox mkdir -p /proc /sys /dev /tmp /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
export PATH=/sbin:/usr/sbin:/bin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

say() { echo "L2: $*"; }

for arg in $(cat /proc/cmdline); do
	case "$arg" in
	l2.ip=*) ip=${arg#l2.ip=} ;;
	l2.peer=*) peer=${arg#l2.peer=} ;;
	l2.pings=*) pings=${arg#l2.pings=} ;;
	l2.bulk=*) bulk=${arg#l2.bulk=} ;;
	l2.pair=*) pair=${arg#l2.pair=} ;;
	l2.stream=*) stream=${arg#l2.stream=} ;;
	l2.cycle=*) cycle=${arg#l2.cycle=} ;;
	l2.mq=*) mq=${arg#l2.mq=} ;;
	l2.role=*) role=${arg#l2.role=} ;;
	l2.peermac=*) peermac=${arg#l2.peermac=} ;;
	esac
done

say "booted=$(cut -d' ' -f1 /proc/uptime)"
modprobe virtio_net || say "error=modprobe virtio_net"
want=1
[ "${pair:-0}" = 1 ] && want=2
dev=
for n in $(seq 50); do
	[ "$(ls /sys/class/net | grep -vc '^lo$')" -ge $want ] && break
	sleep 0.1
done
dev=$(ls /sys/class/net | grep -v '^lo$' | head -n 1)

if [ "${pair:-0}" = 1 ]; then
	# The peer: the second interface, in its own namespace, with a file.
	pdev=$(ls /sys/class/net | grep -v '^lo$' | sed -n 2p)
	unshare -n sleep 100000 &
	ns=$!
	sleep 0.2
	ip link set "$pdev" netns $ns
	mkdir -p /srv
	dd if=/dev/urandom of=/srv/blob bs=1M count=8 2>/dev/null
	say "blob_md5=$(md5sum /srv/blob | cut -d' ' -f1)"
	nsenter -t $ns -n sh -c "ip link set lo up; ip addr add $peer/24 dev $pdev; ip link set $pdev up; httpd -p $peer:80 -h /srv"
	say "peer=$pdev in netns $ns at $peer"
fi
[ -n "$dev" ] || { say "error=no network interface"; poweroff -f; }
say "netdev=$dev driver=$(basename "$(readlink /sys/class/net/$dev/device/driver)")"
# The ring layout the driver negotiated: feature bit 34, VIRTIO_F_RING_PACKED.
say "packed=$(cut -c35 /sys/class/net/$dev/device/features)"
# Bring interface $dev up with our address; wait for its carrier.
nic_up() {
	ip addr add "$ip" dev "$dev"
	ip link set "$dev" up
	for n in $(seq 100); do
		[ "$(cat /sys/class/net/$dev/carrier 2>/dev/null)" = 1 ] && break
		sleep 0.1
	done
}

# Unbind and bind the NIC's driver: a device reset and a new setup.
nic_reset() {
	vdev=$(basename "$(readlink /sys/class/net/$dev/device)")
	echo "$vdev" > /sys/bus/virtio/drivers/virtio_net/unbind
	echo "$vdev" > /sys/bus/virtio/drivers/virtio_net/bind
	for n in $(seq 50); do
		[ -e "/sys/bus/virtio/devices/$vdev/net" ] && break
		sleep 0.1
	done
	dev=$(ls "/sys/bus/virtio/devices/$vdev/net")
	nic_up
}

ip link set lo up
nic_up
[ -n "${peermac:-}" ] && arp -i "$dev" -s "$peer" "$peermac"
say "carrier=$(cat /sys/class/net/$dev/carrier) operstate=$(cat /sys/class/net/$dev/operstate)"

out=$(ping -c "$pings" -i 0.2 -W 2 "$peer" 2>&1)
echo "$out" | sed 's/^/L2:   /'
recv=$(echo "$out" | sed -n 's/.* \([0-9]*\) packets received.*/\1/p')
say "ping_sent=$pings ping_received=${recv:-0}"

# Requests answered and the longest run of unanswered ones, from busybox
# ping's log: by sequence number, so that a late or duplicated reply is
# neither a loss nor a second answer.
ping_stats() {
	awk -F'seq=' '/bytes from/ { split($2, a, " "); print a[1] }' /tmp/ping.log |
	sort -n -u |
	awk '{ if (NR > 1 && $1 - p - 1 > g) g = $1 - p - 1; p = $1 }
		END { printf "ping_got=%d ping_lost_run=%d", NR, g }'
}

if [ "${role:-}" = migrant ]; then
	# Where KVM writes the kvmclock wall clock (wall_clock): the kernel
	# is physically contiguous from _text, at /proc/iomem's Kernel code.
	text=$(awk '$3 == "_text" { print $1 }' /proc/kallsyms)
	clock=$(awk '$3 == "wall_clock" { print $1 }' /proc/kallsyms)
	code=$(awk '/Kernel code/ { sub(/^ */, ""); split($1, a, "-"); print a[1] }' /proc/iomem)
	say "wall_clock_gpa=$(printf '0x%x' $((0x$code + 0x$clock - 0x$text)))"
	ping -i 0.1 "$peer" > /tmp/ping.log 2>&1 &
	udpseq 5000 /tmp/udp.stat &
	tick=0
	while :; do
		sleep 1
		tick=$((tick + 1))
		say "tick=$tick $(ping_stats) $(cat /tmp/udp.stat 2>/dev/null) tx=$(cat /sys/class/net/$dev/statistics/tx_packets) rx=$(cat /sys/class/net/$dev/statistics/rx_packets)"
	done
fi

if [ -n "$bulk" ]; then
	t0=$(cut -d' ' -f1 /proc/uptime)
	sum=$(wget -q -O - "$bulk" | tee /tmp/bulk | md5sum | cut -d' ' -f1)
	t1=$(cut -d' ' -f1 /proc/uptime)
	say "bulk_bytes=$(wc -c < /tmp/bulk) bulk_md5=$sum bulk_t0=$t0 bulk_t1=$t1"
fi
# The NIC's "Combined" channel count, maximum ($1 = Pre-set) or current.
channels() {
	ethtool -l "$dev" | awk -v w="$1" '$0 ~ "^" w {p = 1} p && /^Combined:/ {print $2; exit}'
}

# The guest's kicks of each queue of kind $1 (rx, tx), comma separated:
# virtio_net counts them per queue (rx0_kicks, tx1_kicks, ...).
queue_kicks() {
	ethtool -S "$dev" | awk -v k="$1" '$1 ~ "^" k "[0-9]+_kicks:" {printf "%s%s", s, $2; s = ","}'
}

# Send what interface $1 sends on its transmit queue $2 only (XPS, CPU 0).
xps_only() {
	for x in /sys/class/net/$1/queues/tx-*/xps_cpus; do
		echo 0 > "$x"
	done
	echo 1 > "/sys/class/net/$1/queues/tx-$2/xps_cpus"
}

if [ "${mq:-0}" = 1 ]; then
	max=$(channels Pre-set)
	say "mq_max=$max mq_current=$(channels Current)"
	ok=1
	for n in $(seq "$max" -1 1) $(seq 2 "$max"); do
		ethtool -L "$dev" combined "$n" || ok=0
		cur=$(channels Current)
		got=$(ping -c 2 -i 0.2 -W 2 "$peer" 2>&1 | sed -n 's/.* \([0-9]*\) packets received.*/\1/p')
		[ "$cur" = "$n" ] && [ "${got:-0}" -ge 1 ] || ok=0
		say "mq_combined=$n current=$cur pings=${got:-0}"
	done
	say "mq_switch_ok=$ok"
	# virtio-net picks the transmit queue by CPU (XPS): ping from each
	# vCPU; with one, map it to each transmit queue in turn.
	if [ "$(nproc)" -gt 1 ]; then
		for c in $(seq 0 $(($(nproc) - 1))); do
			taskset -c "$c" ping -c 5 -i 0.1 -W 2 "$peer" > /dev/null 2>&1
		done
	else
		for q in $(seq 0 $((max - 1))); do
			xps_only "$dev" "$q"
			# The peer in L2 answers on the same pair (all its
			# pairs up, its own sysfs, in its network namespace).
			[ "${pair:-0}" = 1 ] &&
				nsenter -t "$ns" -n unshare -m sh -c \
					"ethtool -L $pdev combined $max; mount -t sysfs sysfs /sys; for x in /sys/class/net/$pdev/queues/tx-*/xps_cpus; do echo 0 > \$x; done; echo 1 > /sys/class/net/$pdev/queues/tx-$q/xps_cpus"
			ping -c 5 -i 0.1 -W 2 "$peer" > /dev/null 2>&1
		done
	fi
	say "mq_tx_kicks=$(queue_kicks tx) mq_rx_kicks=$(queue_kicks rx)"
fi

if [ -n "$stream" ]; then
	# Traffic that goes on for a while (10 pings a second), for what
	# happens to the host side meanwhile.
	say "streaming=1"
	if [ -z "$cycle" ]; then
		out=$(ping -i 0.1 -w "$stream" "$peer" 2>&1 | tail -n 3)
		say "stream_received=$(echo "$out" | sed -n 's/.* \([0-9]*\) packets received.*/\1/p')"
	else
		end=$(($(cut -d. -f1 /proc/uptime) + stream))
		cycles=0
		while [ "$(cut -d. -f1 /proc/uptime)" -lt $end ]; do
			out=$(ping -i 0.1 -w "$cycle" "$peer" 2>&1 | tail -n 3)
			got=$(echo "$out" | sed -n 's/.* \([0-9]*\) packets received.*/\1/p')
			cycles=$((cycles + 1))
			say "cycle=$cycles received=${got:-0}"
			nic_reset
		done
		say "cycles=$cycles"
	fi
fi
say "rx_packets=$(cat /sys/class/net/$dev/statistics/rx_packets) tx_packets=$(cat /sys/class/net/$dev/statistics/tx_packets)"
say "done"
poweroff -f
