#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# `make migrate-soak`: the migration scenario (l2/migrate.sh) with ROUNDS
# migrations (20 by default), where `make check` runs ten (two on the debug
# kernel); PCI=1: on the accelerator functions (migrate.sh --pci; four in
# `make check`): every one must complete with the source's and the
# destination's RAM the same, and the guest must go on, pinging and
# receiving, no datagram corrupted or twice. Ends with
# "VMRUN: script-ok" or "VMRUN: script-failed <why>".

n=${ROUNDS:-20}
where=
[ "${PCI:-0}" = 1 ] && where=--pci
/usr/share/vmrun/l2/migrate.sh $where --rounds "$n" > /tmp/migsoak.out 2>&1
rc=$?
cat /tmp/migsoak.out
r() { sed -n "s/^RESULT .*$1=\([^ ]*\).*/\1/p" /tmp/migsoak.out | tail -n 1; }
echo "migsoak: $(r rounds) of $n migrations, RAM the same $(r hash_ok) times, guest went on $(r cont_ok) times, $(r udp_bad) corrupted datagrams, $(r udp_dup) twice"
if [ $rc = 0 ] && [ "$(r rounds)" = "$n" ] && [ "$(r hash_ok)" = "$n" ] &&
   [ "$(r cont_ok)" = "$n" ] && [ "$(r udp_bad)" = 0 ] &&
   [ "$(r udp_dup)" = 0 ] &&
   [ "$(r qemu_stderr_lines)" = 0 ]; then
	echo "VMRUN: script-ok"
else
	echo "VMRUN: script-failed $(sed -n 's/^RESULT error=//p' /tmp/migsoak.out)"
fi
