# SPDX-License-Identifier: GPL-2.0-only
"""The test machine, described once.

vmrun.py builds QEMU's command line from it, and writes the facts a test
needs into the guest as /etc/vmrun/machine (shell syntax, KEY=value), which
the tests and the L2 scripts read (vmdev_test.h: vmdev_machine()). Whatever
a test assumes about the hardware comes from there.

The machine: q35 under TCG with an emulated intel-iommu, and
  * the accelerator functions: modern virtio-net-pci functions joined by a
    hub (what one transmits, the others receive), each behind a PCIe root
    port of its own, so each is PCI Express (it has a function-level reset),
    alone in its IOMMU group (the ports have ACS) and hot-pluggable
    (QMP device_del / device_add of its QEMU id);
  * two modern virtio-rng functions behind one PCIe-to-PCI bridge: one
    IOMMU group shared, which mdev creation must refuse;
  * a legacy-only virtio-rng function, which probe must refuse.
"""

# The accelerator functions, in the order the guest enumerates them.
ACCEL_ID = "1af4:1041"
ACCEL_OPTS = ("disable-legacy=on,iommu_platform=on,ats=on,page-per-vq=on,"
              "romfile=")
ACCEL_PAIRS = 1     # virtio-net-pci with a hub backend: one queue pair
# Each behind its root port, at a fixed address: the guest finds the
# function as the port's child, whatever bus number it gives the port.
ACCELS = [
    {"qemu_id": "vmrun-fn0", "port": "vmrun-rp0", "port_addr": 0x10,
     "netdev": "n0"},
    {"qemu_id": "vmrun-fn1", "port": "vmrun-rp1", "port_addr": 0x11,
     "netdev": "n1"},
]
SHARED_GROUP_ID = "1af4:1044"
LEGACY_ID = "1af4:1005"


def accel_device(accel):
    """The -device argument of an accelerator function (also for QMP
    device_add, which takes the same properties)."""
    return ("virtio-net-pci,bus=%s,id=%s,netdev=%s,%s" %
            (accel["port"], accel["qemu_id"], accel["netdev"], ACCEL_OPTS))


def qemu_args():
    """The devices of the machine, as QEMU arguments."""
    args = []
    for a in ACCELS:
        args += ["-device", "pcie-root-port,id=%s,bus=pcie.0,addr=%#x,"
                 "chassis=%d" % (a["port"], a["port_addr"], a["port_addr"]),
                 "-netdev", "hubport,id=%s,hubid=0" % a["netdev"],
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
