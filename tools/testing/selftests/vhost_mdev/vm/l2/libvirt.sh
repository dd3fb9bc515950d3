#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# libvirt.sh: Debian's libvirt manages the device, as an administrator
# would have it. udevd and libvirtd run by hand (the test VM has no
# systemd). libvirt's node device driver lists the accelerator function
# with our mdev types, defines and starts a persistent mdev on it (through
# mdevctl), and shows it; then libvirt starts a KVM domain whose interface
# is <interface type='vdpa'> on the mdev's node: libvirt opens the node and
# hands QEMU the file descriptor. The domain pings the second function,
# which the L1 kernel's virtio-net runs, and powers off. Admin guide:
# "libvirt" (Documentation/admin-guide/vhost-mdev.rst shows this XML).
#
# The libvirt selftest judges the RESULT lines.

L2_TAG=libvirt
. /usr/share/vmrun/l2/l2lib.sh

L1_IP=10.0.0.1
L2_IP=10.0.0.2
PINGS=5
TYPE=vhost_mdev_pci-net
V="virsh -c qemu:///system"

[ -x /usr/sbin/libvirtd ] && [ -x /lib/systemd/systemd-udevd ] ||
	fail "libvirt is not in this VM"

libvirt_cleanup() {
	$V destroy l2 > /dev/null 2>&1
	$V undefine l2 > /dev/null 2>&1
	[ -n "${mdev_name:-}" ] && $V nodedev-destroy "$mdev_name" > /dev/null 2>&1
	[ -n "${mdev_name:-}" ] && $V nodedev-undefine "$mdev_name" > /dev/null 2>&1
	[ -s /run/libvirtd.pid ] && kill "$(cat /run/libvirtd.pid)" 2>/dev/null
	udevadm control --exit 2>/dev/null
	l2_cleanup
}
trap libvirt_cleanup EXIT

# The users and groups libvirt's QEMU driver looks up, its directories and
# a qemu.conf for a machine without systemd, cgroups or a security module;
# then udevd (no rules: it passes the kernel's events on to libvirt) and
# libvirtd, as daemons.
libvirt_up() {
	grep -q '^root:' /etc/passwd 2>/dev/null ||
		echo 'root:x:0:0:root:/root:/bin/sh' >> /etc/passwd
	echo 'libvirt-qemu:x:64055:64055::/var/lib/libvirt:/bin/false' >> /etc/passwd
	grep -q '^root:' /etc/group 2>/dev/null || echo 'root:x:0:' >> /etc/group
	printf 'kvm:x:107:\nlibvirt-qemu:x:64055:\n' >> /etc/group
	mkdir -p /etc/libvirt /run/libvirt /run/udev /var/lib/libvirt \
		/var/cache/libvirt /var/log/libvirt
	cat > /etc/libvirt/qemu.conf <<-EOF
	user = "root"
	group = "root"
	dynamic_ownership = 0
	remember_owner = 0
	security_driver = "none"
	cgroup_controllers = [ ]
	namespaces = [ ]
	stdio_handler = "file"
	EOF
	run /lib/systemd/systemd-udevd --daemon || fail "systemd-udevd"
	run libvirtd -d || fail "libvirtd"
	# Its first answer waits for its probe of QEMU (slow under TCG).
	for n in $(seq 180); do
		$V version > /dev/null 2>&1 && return
		pidof libvirtd > /dev/null || break
		sleep 1
	done
	tail -n 20 /var/log/libvirt/libvirtd.log
	fail "libvirtd did not answer in 180 s or died"
}

set -- $(accel_fns)
[ $# -ge 2 ] || fail "needs two accelerator functions"
bdf=$1
say "1. function $1 to vhost_mdev_pci; its peer $2, the L1 kernel's virtio-net"
bind_fn "$1"
peer_up "$2" $L1_IP

say "2. KVM (before libvirtd probes QEMU), udevd and libvirtd"
kvm_ready
libvirt_up
$V version | sed 's/^/    /'

say "3. the function as a node device, with our mdev types"
# libvirt's names: the PCI address with _ for : and . ("0000_02_00_0").
addr=$(echo "$bdf" | tr ':.' '__')
parent=pci_$addr
run $V nodedev-list --cap mdev_types | tee /tmp/lv.types | sed '/^$/d; s/^/    /'
$V nodedev-dumpxml "$parent" > /tmp/lv.parent.xml 2>&1
sed 's/^/    /' /tmp/lv.parent.xml
result "types_listed=$(grep -cx "$parent" /tmp/lv.types) type_in_xml=$(grep -c "<type id='$TYPE'>" /tmp/lv.parent.xml)"

say "4. a persistent mdev: nodedev-define, then nodedev-start"
uuid=$(cat /proc/sys/kernel/random/uuid)
cat > /tmp/lv.mdev.xml <<EOF
<device>
  <parent>$parent</parent>
  <capability type='mdev'>
    <type id='$TYPE'/>
    <uuid>$uuid</uuid>
  </capability>
</device>
EOF
sed 's/^/    /' /tmp/lv.mdev.xml
mdev_name=mdev_$(echo "$uuid" | tr '-' '_')_$addr
run $V nodedev-define /tmp/lv.mdev.xml || fail "nodedev-define"
defined=$(mdevctl list --defined | grep -c "^$uuid ")
run $V nodedev-start "$mdev_name" || fail "nodedev-start $mdev_name"
active=0
for n in $(seq 50); do
	$V nodedev-list --cap mdev | grep -qx "$mdev_name" && { active=1; break; }
	sleep 0.2
done
$V nodedev-dumpxml "$mdev_name" > /tmp/lv.mdevnow.xml 2>&1
sed 's/^/    /' /tmp/lv.mdevnow.xml
node=/dev/$(ls "/sys/bus/mdev/devices/$uuid/vhost-mdev" 2>/dev/null)
[ -c "$node" ] || fail "no node for mdev $uuid"
say "   mdev $uuid -> $node"
result "mdev_defined=$defined mdev_active=$active mdev_iommu_group=$(grep -c '<iommuGroup' /tmp/lv.mdevnow.xml)"

say "5. a KVM domain whose interface is the mdev's node (type='vdpa')"
# No option ROM: this VM has no iPXE ROMs (the other scenarios pass
# romfile= to QEMU, too).
cat > /tmp/lv.l2.xml <<EOF
<domain type='kvm'>
  <name>l2</name>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <cpu mode='host-passthrough'/>
  <features>
    <acpi/>
  </features>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$L2_DIR/vmlinuz</kernel>
    <initrd>$L2_DIR/initrd.cpio</initrd>
    <cmdline>console=ttyS0 quiet $L2_BOOT_APPEND l2.ip=$L2_IP/24 l2.peer=$L1_IP l2.pings=$PINGS</cmdline>
  </os>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <interface type='vdpa'>
      <source dev='$node'/>
      <mac address='52:54:00:12:34:56'/>
      <model type='virtio'/>
      <driver page_per_vq='on'/>
      <rom enabled='no'/>
    </interface>
    <serial type='file'>
      <source path='/tmp/l2.raw'/>
    </serial>
    <controller type='usb' model='none'/>
    <memballoon model='none'/>
  </devices>
</domain>
EOF
sed 's/^/    /' /tmp/lv.l2.xml
log=/var/log/libvirt/qemu/l2.log
# libvirt appends to a domain's log: a run of this scenario once more in the
# same boot (after an L2 triple fault) must not count the first QEMU's lines.
rm -f /tmp/l2.raw /tmp/l2.out "$log"
# No ulimit -l here: libvirtd raises QEMU's memlock limit for the vDPA
# interface itself (guest RAM + 1 GiB).
run $V define /tmp/lv.l2.xml || fail "virsh define"
run $V start l2 || fail "virsh start l2"
say "   QEMU as libvirt ran it (from $log):"
grep -e '-netdev' -e 'virtio-net' -e '-add-fd' "$log" | sed 's/^/    /'
# The console: what L2 reports ("L2: k=v"), for l2_value.
end=$(($(cut -d. -f1 /proc/uptime) + 240))
while [ "$(cut -d. -f1 /proc/uptime)" -lt $end ]; do
	grep -q '^L2: done' /tmp/l2.raw 2>/dev/null && break
	$V domstate l2 2>/dev/null | grep -q running || break
	sleep 0.5
done
state=
end=$(($(cut -d. -f1 /proc/uptime) + 60))
while [ "$(cut -d. -f1 /proc/uptime)" -lt $end ]; do
	state=$($V domstate l2 --reason 2>&1 | head -n 1)
	case "$state" in *running*) sleep 0.5 ;; *) break ;; esac
done
tr -d '\r' < /tmp/l2.raw > /tmp/l2.out 2>/dev/null
sed 's/^/  l2| /' /tmp/l2.out
done=$(grep -c '^L2: done' /tmp/l2.out)
say "   the domain after L2 powered off: $state"
# QEMU's stderr goes to the domain's log after the command line (whose
# lines end in a backslash but the last); libvirt's own lines there are
# timestamped, and QEMU says how it ended when libvirt ends it after the
# guest's power-off (on_poweroff).
qemu_said() {
	awk 'c == 0 && /^LC_ALL=/ { c = 1 } c == 1 { if ($0 !~ /\\$/) c = 2; next } c == 2' "$log" |
		grep -v '^[0-9-]* [0-9:.+]*: ' | grep -v '^$' |
		grep -v 'qemu-system-x86_64: terminating on signal 15 from pid [0-9]* (libvirtd)$'
}
qemu_lines=$(qemu_said | grep -c .)
if [ "$qemu_lines" != 0 ]; then
	say "   QEMU said:"
	qemu_said | sed 's/^/    | /'
fi
result "netdev_vdpa=$(grep -c '"type":"vhost-vdpa","vhostdev":"/dev/fdset/' "$log") page_per_vq=$(grep -c '"page-per-vq":true' "$log")"
result "l2_done=$done ping_sent=$(l2_value l2 ping_sent) ping_received=$(l2_value l2 ping_received) carrier=$(l2_value l2 carrier)"
result "domain_state=$(echo "$state" | tr ' ' '_') qemu_stderr_lines=$qemu_lines"
run $V undefine l2

say "6. the mdev stopped and undefined through libvirt"
run $V nodedev-destroy "$mdev_name" || fail "nodedev-destroy"
# libvirt learns that it stopped from udev's event.
for n in $(seq 50); do
	$V nodedev-undefine "$mdev_name" > /tmp/lv.undef 2>&1 && break
	sleep 0.2
done
sed 's/^/    /' /tmp/lv.undef
gone=0
[ ! -e "/sys/bus/mdev/devices/$uuid" ] &&
	! mdevctl list --defined | grep -q "^$uuid " && gone=1
$V nodedev-list --cap mdev | grep -qx "$mdev_name" && gone=0
mdev_name=
result "mdev_gone=$gone"
