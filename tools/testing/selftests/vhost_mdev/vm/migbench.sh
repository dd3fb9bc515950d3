#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# `make migrate-bench`: live migration of the same stock QEMU 7.2 KVM guest
# on our simulator (data path in the kernel, dirty log from the device)
# next to upstream's vdpa_sim_net (QEMU's shadow virtqueue, x-svq=on, every
# packet through QEMU), in one boot: BATCHES batches of ROUNDS migrations
# each, the two in turn (ours, upstream, ours, ...), so that the machine's
# noise falls on both. Each migration is l2/migrate.sh --loop: the guest
# pings itself through a device that loops frames back, 10 a second,
# bandwidth capped at 32 MiB/s, and every one must keep the RAM identical
# and the guest receiving. Upstream's device needs two settings ours does
# not (l2/migrate.sh says why): vdpa_sim use_va=0, and iommu_platform=on.
# PCI=1: the same on the accelerator functions (l2/migrate.sh --pci and
# --vp-vdpa): the guest receives the peer's stream; ours relays the rings
# in the kernel while QEMU logs, upstream's vp_vdpa on the same functions
# with x-svq=on from its start.
# The upstream modules come from `make peers` (Debian's kernel lacks them).
# Prints every round, then the medians and their ratio. Ends with
# "VMRUN: script-ok" or "VMRUN: script-failed <why>".

batches=${BATCHES:-3} rounds=${ROUNDS:-3}
out=/tmp/migbench
rm -rf $out
mkdir -p $out
failed=

# The last RESULT value of key $1 in $log.
r() { sed -n "s/^RESULT .*$1=\([^ ]*\).*/\1/p" "$log" | tail -n 1; }

for b in $(seq "$batches"); do
	for backend in ours upstream; do
		log=$out/$backend.$b
		echo "migbench: batch $b, $backend, $rounds migrations"
		dup_want=
		if [ "${PCI:-0}" = 1 ]; then
			# The peer's stream: no datagram twice.
			dup_want=0 how=--pci
			[ $backend = upstream ] && how=--vp-vdpa
		else
			how="--loop $backend"
		fi
		/usr/share/vmrun/l2/migrate.sh $how --rounds "$rounds" > "$log" 2>&1
		rc=$?
		if [ $rc != 0 ] || [ "$(r rounds)" != "$rounds" ] ||
		   [ "$(r hash_ok)" != "$rounds" ] || [ "$(r cont_ok)" != "$rounds" ] ||
		   [ "$(r udp_dup)" != "$dup_want" ]; then
			cat "$log"
			failed="$failed $backend.$b(rounds=$(r rounds) hash_ok=$(r hash_ok) cont_ok=$(r cont_ok) $(r error))"
		fi
		sed -n 's/^RESULT round=/'"$backend $b "'/p' "$log" | tee -a $out/rounds
	done
done

# The median of field $2 (total_ms, ...) over backend $1's rounds.
median() {
	grep "^$1 " $out/rounds | sed -n "s/.* $2=\([0-9]*\).*/\1/p" | sort -n |
		awk '{ v[NR] = $1 } END { if (NR) print (NR % 2) ? v[(NR + 1) / 2] :
		      (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

echo "migbench: medians over $((batches * rounds)) migrations each"
printf '%-14s %10s %10s %8s\n' metric ours upstream ratio
for m in total_ms downtime_ms mib dirty_syncs; do
	a=$(median ours $m) u=$(median upstream $m)
	ratio=$(awk -v a="${a:-0}" -v u="${u:-0}" 'BEGIN { printf (u > 0) ? "%.2f" : "-", a / u }')
	printf '%-14s %10s %10s %8s\n' $m "${a:--}" "${u:--}" "$ratio"
	echo "RESULT metric=$m ours=${a:--} upstream=${u:--} ratio=$ratio"
done

if [ -z "$failed" ]; then
	echo "VMRUN: script-ok"
else
	echo "VMRUN: script-failed$failed"
fi
