# SPDX-License-Identifier: GPL-2.0-only
"""The test machine, described once.

vmrun.py builds QEMU's command line from it, and writes the facts a test
needs into the guest as /etc/vmrun/machine (shell syntax, KEY=value), which
the tests and the L2 scripts read (vmdev_test.h: vmdev_machine()). Whatever
a test assumes about the hardware comes from there.

The machine: q35 under TCG with an emulated intel-iommu, and
  * three accelerator functions: modern virtio-net-pci functions (offering
    packed rings too, which a client may choose, and the reset of one
    queue) joined by a switch (a frame to a MAC it has not seen sent from
    a port goes to every other port, as on a hub); the third has the
    first's MAC, so that a guest can migrate from the first to it (QEMU
    reads the MAC from the device); each behind a PCIe root port of its
    own, so each is PCI Express (it has a function-level reset), alone in
    its IOMMU group (the ports have ACS) and hot-pluggable (QMP device_del
    / device_add of its QEMU id). They have ACCEL_PAIRS queue pairs:
    QEMU's virtio-net needs a multi-queue backend for more than one, so
    net_up() makes one multi-queue tap per function on a learning bridge,
    in a network namespace of the run, where QEMU runs; where that cannot
    be made, QEMU's own hub and one queue pair;
  * two modern virtio-rng functions behind one PCIe-to-PCI bridge: one
    IOMMU group shared, which mdev creation must refuse;
  * a legacy-only virtio-rng function, which probe must refuse.
"""

import os
import subprocess

# The accelerator functions, in the order the guest enumerates them.
ACCEL_ID = "1af4:1041"
ACCEL_OPTS = ("disable-legacy=on,iommu_platform=on,ats=on,page-per-vq=on,"
              "packed=on,romfile=")
ACCEL_PAIRS = 2     # with multi-queue taps; net_up() sets 1 without them
TAP_OPTS = "script=no,downscript=no,vhost=off,vnet_hdr=off"
NETNS = None        # the run's network namespace (net_up())
# Each behind its root port, at a fixed address: the guest finds the
# function as the port's child, whatever bus number it gives the port.
ACCELS = [
    {"qemu_id": "vmrun-fn0", "port": "vmrun-rp0", "port_addr": 0x10,
     "netdev": "n0", "mac": "52:54:00:12:34:56"},
    {"qemu_id": "vmrun-fn1", "port": "vmrun-rp1", "port_addr": 0x11,
     "netdev": "n1", "mac": "52:54:00:12:34:57"},
    {"qemu_id": "vmrun-fn2", "port": "vmrun-rp2", "port_addr": 0x12,
     "netdev": "n2", "mac": "52:54:00:12:34:56"},
]
SHARED_GROUP_ID = "1af4:1044"
LEGACY_ID = "1af4:1005"


def net_up(name):
    """Make the functions' network: network namespace @name, IPv6 off (only
    the tests' frames on it), a bridge that learns, as a switch does (a
    frame to a MAC it has not seen goes to every port, one to a MAC it has
    seen only to the port that MAC last sent from) and one multi-queue tap
    per function on it. Not a hub: a function no driver runs does not drop
    what reaches it, QEMU's tap backend keeps it until a driver runs the
    function again; so with the migrating guest's MAC on two functions, a
    hub had the destination deliver, as new, frames the source's guest
    received seconds before (a duplicated datagram, a late echo reply).
    A switch sends them to the port the guest last sent from, as after a
    migration between two hosts. Returns None, or why it could not
    (then the functions get QEMU's hub and one queue pair)."""
    global NETNS, ACCEL_PAIRS
    # Namespaces of runs that were killed before they could delete theirs.
    try:
        listed = subprocess.run(["ip", "netns", "list"], capture_output=True,
                                text=True).stdout.split()
    except OSError:
        listed = []
    for old in listed:
        pid = old[len("vmrun-"):]
        if (old.startswith("vmrun-") and pid.isdigit() and
                not os.path.exists("/proc/" + pid)):
            subprocess.run(["ip", "netns", "del", old])
    ns = ["ip", "-n", name]
    cmds = [["ip", "netns", "add", name],
            ["ip", "netns", "exec", name, "sysctl", "-qw",
             "net.ipv6.conf.all.disable_ipv6=1",
             "net.ipv6.conf.default.disable_ipv6=1"],
            ns + ["link", "add", "br0", "type", "bridge"]]
    for a in ACCELS:
        cmds += [ns + ["tuntap", "add", "dev", a["netdev"], "mode", "tap",
                       "multi_queue"],
                 ns + ["link", "set", a["netdev"], "master", "br0", "up"]]
    cmds.append(ns + ["link", "set", "br0", "up"])
    for i, c in enumerate(cmds):
        try:
            r = subprocess.run(c, capture_output=True, text=True)
            err = r.stderr.strip() if r.returncode else None
        except OSError as e:
            err = str(e)
        if err is not None:
            if i:
                subprocess.run(["ip", "netns", "del", name])
            ACCEL_PAIRS = 1
            return "%s: %s" % (" ".join(c), err)
    NETNS = name
    return None


def net_down():
    """Undo net_up()."""
    if NETNS:
        subprocess.run(["ip", "netns", "del", NETNS])


def in_netns(cmd):
    """@cmd, run in the functions' network namespace if there is one."""
    return ["ip", "netns", "exec", NETNS] + cmd if NETNS else cmd


def accel_device(accel):
    """The -device argument of an accelerator function (also for QMP
    device_add, which takes the same properties)."""
    mq = (",mq=on,vectors=%d" % (2 * ACCEL_PAIRS + 2)
          if ACCEL_PAIRS > 1 else "")
    return ("virtio-net-pci,bus=%s,id=%s,netdev=%s,mac=%s,%s%s" %
            (accel["port"], accel["qemu_id"], accel["netdev"], accel["mac"],
             ACCEL_OPTS, mq))


def accel_netdev(accel):
    """The -netdev argument of an accelerator function's backend."""
    if NETNS:
        return ("tap,id=%s,ifname=%s,queues=%d,%s" %
                (accel["netdev"], accel["netdev"], ACCEL_PAIRS, TAP_OPTS))
    return "hubport,id=%s,hubid=0" % accel["netdev"]


def qemu_args():
    """The devices of the machine, as QEMU arguments."""
    args = []
    for a in ACCELS:
        args += ["-device", "pcie-root-port,id=%s,bus=pcie.0,addr=%#x,"
                 "chassis=%d" % (a["port"], a["port_addr"], a["port_addr"]),
                 "-netdev", accel_netdev(a),
                 "-device", accel_device(a)]
    args += ["-device", "pcie-pci-bridge,id=vmrun-br0",
             "-device", "virtio-rng-pci,bus=vmrun-br0,addr=1,"
             "disable-legacy=on",
             "-device", "virtio-rng-pci,bus=vmrun-br0,addr=2,"
             "disable-legacy=on",
             "-device", "virtio-rng-pci,disable-modern=on"]
    return args


def guest_facts():
    """What the tests are told, as shell assignments."""
    return {
        "VMRUN_ACCEL_ID": ACCEL_ID,
        "VMRUN_ACCEL_PAIRS": str(ACCEL_PAIRS),
        "VMRUN_ACCEL_PORTS": " ".join("0000:00:%02x.0" % a["port_addr"]
                                      for a in ACCELS),
        "VMRUN_ACCEL_QEMU_IDS": " ".join(a["qemu_id"] for a in ACCELS),
        "VMRUN_SHARED_GROUP_ID": SHARED_GROUP_ID,
        "VMRUN_LEGACY_ID": LEGACY_ID,
    }


def find_accel(qemu_id):
    for a in ACCELS:
        if a["qemu_id"] == qemu_id:
            return a
    return None
