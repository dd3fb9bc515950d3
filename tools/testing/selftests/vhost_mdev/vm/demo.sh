#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# The demo, inside the test VM: a KVM guest (L2) started with a stock QEMU
# whose virtio-net data path is a vhost-mdev device (the l2/pingbulk.sh
# scenario, shown as it runs), then summed up. Ends with "VMRUN: script-ok" or "VMRUN: script-failed
# <why>". VMRUN_DEMO_SIM=1: on the simulator. VMRUN_DEMO_MIGRATE=1: then
# a KVM guest on the simulator migrates back and forth (l2/migrate.sh).

say() { echo "demo: $*"; }
fail() { echo "VMRUN: script-failed $*"; exit 1; }

# Run a scenario (arguments after $1) into file $1, shown as it runs; its
# exit status.
follow() {
	out=$1
	shift
	"$@" > "$out" 2>&1 &
	pid=$!
	tail -f "$out" --pid=$pid 2>/dev/null || {
		# busybox tail has no --pid: follow until the script is done.
		while kill -0 $pid 2>/dev/null; do sleep 1; done
		cat "$out"
	}
	wait $pid
}

# The last RESULT value of key $2 in file $1.
val() { sed -n "s/^RESULT .*$2=\([^ ]*\).*/\1/p" "$1" | tail -n 1; }

if [ "${VMRUN_DEMO_SIM:-0}" = 1 ]; then
	mode=--sim
	say "the simulator parent (make demo SIM=1): two crossed-over devices"
else
	mode=
	say "the accelerator: a virtio-net PCI function of this VM, behind its IOMMU"
fi
say "kernel $(uname -r); our modules are installed in /lib/modules/$(uname -r)/extra"
echo

follow /tmp/demo.out /usr/share/vmrun/l2/pingbulk.sh $mode
rc=$?

r() { val /tmp/demo.out "$1"; }
echo
say "result:"
say "  L2's link:          carrier=$(r carrier)"
say "  ping:               $(r ping_received)/$(r ping_sent) answered"
bytes=$(r bulk_bytes)
t0=$(r bulk_t0)
t1=$(r bulk_t1)
rate=$(awk "BEGIN { if ($t1 > $t0) printf \"%.1f\", $bytes / 1048576 / ($t1 - $t0) }" 2>/dev/null)
same=no
[ -n "$(r bulk_md5)" ] && [ "$(r bulk_md5)" = "$(r blob_md5)" ] && same=yes
say "  bulk transfer:      $bytes bytes, md5 matches: $same, ${rate:-?} MiB/s (L0 is TCG: a smoke number)"
say "  KVM irqfd hits:     $(r irqfd_wakeup) (interrupts injected through irqfds)"
say "  eventfd kicks:      rx $(r kicks_rx), tx $(r kicks_tx) $( [ -z "$mode" ] && echo '(0: L2 wrote the doorbell page itself)' || echo '(the simulator has no doorbell page)')"
say "  QEMU stderr lines:  $(r qemu_stderr_lines)"

[ $rc = 0 ] || fail "$(sed -n 's/^RESULT error=//p' /tmp/demo.out)"
[ "$(r ping_received)" = "$(r ping_sent)" ] || fail "pings lost"
[ $same = yes ] || fail "bulk transfer corrupted"
[ "$(r qemu_stderr_lines)" = 0 ] || fail "QEMU printed warnings"

if [ "${VMRUN_DEMO_MIGRATE:-0}" = 1 ]; then
	echo
	say "live migration (make demo MIGRATE=1): a KVM guest on a simulator mdev moves"
	say "between two mdevs while a peer streams datagrams to it, data path in the kernel"
	follow /tmp/migrate.out /usr/share/vmrun/l2/migrate.sh --rounds 4
	rc=$?
	m() { val /tmp/migrate.out "$1"; }
	echo
	say "migration result:"
	say "  migrations:         $(m rounds), RAM identical at the switch-over: $(m hash_ok)"
	say "  guest went on:      $(m cont_ok) times; downtime up to $(m max_downtime_ms) ms"
	say "  datagrams:          $(m udp_got) received, $(m udp_bad) corrupted, $(m udp_dup) twice"
	say "  QEMU stderr lines:  $(m qemu_stderr_lines)"
	[ $rc = 0 ] || fail "migration: $(sed -n 's/^RESULT error=//p' /tmp/migrate.out)"
	[ "$(m hash_ok)" = 4 ] && [ "$(m cont_ok)" = 4 ] || fail "migration: RAM or guest lost"
	[ "$(m udp_bad)" = 0 ] && [ "$(m qemu_stderr_lines)" = 0 ] || fail "migration: corruption or QEMU warnings"
fi
echo "VMRUN: script-ok"
