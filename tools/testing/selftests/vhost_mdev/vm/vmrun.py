#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Boot the vhost-mdev test VM and run the kselftests inside it.

The VM is the machine that machine.py describes (q35 under TCG with an
emulated intel-iommu, the accelerator functions and the devices that must be
refused). The initramfs holds busybox, the kernel flavour's modules that ours
depend on (decompressed), our modules, the selftest binaries, init.sh, and
for the L2 scenarios QEMU, mdevctl and an L2 guest.

Results come back on the guest's ttyS1 (see Documentation/dev-tools/
vhost-mdev.rst for the lines it carries), the kernel console on ttyS0 goes
to a log file. The run fails on a failed test, a guest that does not finish
in time, a splat in the guest kernel log or a warning from QEMU. The last
line is always "N passed, N failed, N skipped".
"""

import argparse
import json
import lzma
import os
import queue
import re
import shlex
import shutil
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import machine  # noqa: E402

# Debian modules the tests, the demo and the upstream peers need, with their
# dependencies added from modules.dep.
MODULE_ROOTS = [
    "mdev", "vhost_iotlb", "irqbypass", "vhost", "vhost_vdpa", "vdpa",
    "vfio", "vfio_iommu_type1", "vfio_pci", "virtio_net", "tun",
    "kvm", "kvm_amd", "ccp", "virtio_pci",
]

# Guest kernel log lines that fail the run wherever they appear.
SPLATS = re.compile(
    r"BUG:|WARNING:|Oops|KASAN|UBSAN|possible circular locking|"
    r"inconsistent lock state|RCU stall|rcu.*detected stall|"
    r"general protection fault|Kernel panic|soft lockup|"
    r"blocked for more than|possible recursive locking|"
    r"suspicious RCU usage|sleeping function called from invalid context")

# What a splat's excerpt leaves out: the stack's unreliable "? " frames and
# the register dump, so that the frames that matter fit in it.
SPLAT_NOISE = re.compile(
    r"\]\s+\? |\] (Code|RSP|RAX|RDX|RBP|R10|R13|FS|CS|CR2|DR[0-7]|PKRU):")

# A thread of an L2 VM in the test VM's kernel log: its QEMU, a vCPU thread,
# KVM's PIT thread or its huge-page recovery thread.
L2_THREAD = re.compile(r"\bComm: (qemu-system-x86|CPU \d+/KVM|kvm-pit/\d+|"
                       r"kvm-nx-lpage-re)")
# A crash in KVM itself (a frame of its modules, kvmhold's vCPU), or on an
# int3 left by the kernel's patching of its own code (TCG's race).
KVM_CRASH = re.compile(r"\bComm: kvmhold\b|\[kvm(_amd|_intel)?\]|"
                       r"Oops: int3")
# A test's output line that starts an L2 VM.
L2_QEMU = re.compile(r"qemu-system-x86_64 .*-accel kvm")
# A stack frame in one of our modules ("func+0x1/0x2 [vhost_mdev_sim]").
OUR_FRAME = re.compile(r"\[vhost_mdev\w*\]")

# QEMU stderr lines that come from building the machine itself, not from a
# device model reacting to our driver.
QEMU_BENIGN = [
    re.compile(r"warning: hub \d+ is not connected to host network"),
]

# What the L2 scenario needs inside the VM: a stock QEMU with the firmware
# it loads, mdevctl, and an L2 guest (kernel, virtio_net, l2-init.sh).
QEMU_FILES = [
    "/usr/bin/qemu-system-x86_64",
    "/usr/lib/x86_64-linux-gnu/qemu/accel-tcg-x86_64.so",
]
QEMU_FIRMWARE = ["/usr/share/seabios/bios-256k.bin",
                 "/usr/share/qemu/linuxboot_dma.bin",
                 "/usr/share/qemu/kvmvapic.bin"]
L2_MODULES = ["virtio_net"]
# A client nobody here wrote: DPDK's testpmd, with only the plugins its
# virtio_user over vhost-vdpa needs (EAL loads whatever is in the directory).
DPDK_TESTPMD = "/usr/bin/dpdk-testpmd"
DPDK_PLUGIN_DIR = "/usr/lib/x86_64-linux-gnu/dpdk/pmds-23.0"
DPDK_PLUGINS = ["librte_net_virtio.so.23.0", "librte_bus_vdev.so.23.0",
                "librte_mempool_ring.so.23.0"]
# iproute2's vdpa, which creates upstream's vDPA devices (with --peers).
VDPA_TOOL = "/usr/sbin/vdpa"
# Debian's libvirt for the libvirt scenario (l2/libvirt.sh): the monolithic
# daemon with only the drivers it uses, virsh, the CPU models it reads when
# it probes QEMU, and udev's daemon, whose events tell libvirt's node
# device driver about new mdevs (no rules: it only passes them on).
LIBVIRT_BINARIES = ["/usr/sbin/libvirtd", "/usr/bin/virsh",
                    "/lib/systemd/systemd-udevd", "/bin/udevadm"]
LIBVIRT_DRIVERS = ["/usr/lib/x86_64-linux-gnu/libvirt/connection-driver/"
                   "libvirt_driver_" + d + ".so" for d in ("qemu", "nodedev")]
LIBVIRT_DATA = "/usr/share/libvirt/cpu_map"
# What L2's busybox lacks: ethtool, for the queue pairs.
L2_BINARIES = ["/usr/sbin/ethtool"]
# Our static helpers (the selftests' helpers/) that L2's scenarios run.
L2_HELPERS = ["udpseq"]

BOOT_WATCHDOG = 120     # seconds from start until init must have spoken
# A harness test case starts; a harness check or TH_LOG() line.
TAP_RUN = re.compile(r"^#  RUN ")
CHECK_LINE = re.compile(r"^# [\w.-]+\.[ch]:\d+:")
TAP_RESULT = re.compile(r"^(not ok|ok) (\d+)(?: (.*?))?(?: # (\w+)(?: (.*))?)?$")
TAP_PLAN = re.compile(r"^1\.\.(\d+)")


def log(msg):
    print("vmrun: " + msg, flush=True)


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def closure(kmods, roots):
    """Modules under @kmods that @roots need (all of them for None)."""
    deps = {}
    with open(os.path.join(kmods, "modules.dep")) as f:
        for line in f:
            mod, _, rest = line.partition(":")
            deps[mod] = rest.split()
    if roots is None:
        return sorted(deps)
    byname = {}
    for mod in deps:
        byname[os.path.basename(mod).split(".ko")[0].replace("-", "_")] = mod
    want, todo = set(), [byname[n] for n in roots if n in byname]
    while todo:
        mod = todo.pop()
        if mod not in want:
            want.add(mod)
            todo.extend(deps.get(mod, []))
    return sorted(want)


def unpack_module(src, dst):
    if src.endswith(".xz"):
        with lzma.open(src) as fi, open(dst, "wb") as fo:
            shutil.copyfileobj(fi, fo)
    else:
        shutil.copyfile(src, dst)


def cpio(root, image):
    os.makedirs(os.path.dirname(image), exist_ok=True)
    with open(image, "wb") as out:
        files = subprocess.run(["find", "."], cwd=root, check=True,
                               capture_output=True).stdout
        subprocess.run(["cpio", "--quiet", "-o", "-H", "newc"], cwd=root,
                       input=files, stdout=out, check=True)


class Initramfs:
    def __init__(self, args, root):
        self.args = args
        self.root = root
        self.kver = os.path.basename(os.path.normpath(args.kmods))

    def copy(self, src, dst, mode=None):
        dst = os.path.join(self.root, dst.lstrip("/"))
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copyfile(src, dst)
        if mode is not None:
            os.chmod(dst, mode)

    def kernel_modules(self):
        """Relative paths of the flavour's modules to ship."""
        if self.args.kernel == "debug":
            return closure(self.args.kmods, None)
        return closure(self.args.kmods, MODULE_ROOTS)

    def add_modules(self):
        kmods = self.args.kmods
        base = "lib/modules/" + self.kver
        n = 0
        for rel in self.kernel_modules():
            src = os.path.join(kmods, rel)
            out = rel[:-3] if rel.endswith(".xz") else rel
            dst = os.path.join(self.root, base, out)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            unpack_module(src, dst)
            n += 1
        for f in ("modules.builtin", "modules.builtin.modinfo", "modules.order"):
            if os.path.exists(os.path.join(kmods, f)):
                self.copy(os.path.join(kmods, f), os.path.join(base, f))
        ours = []
        top = os.path.dirname(os.path.abspath(self.args.modules))
        with open(self.args.modules) as f:
            for line in f:
                # Kbuild lists objects (6.2 and later) or modules (6.1).
                name = line.strip()
                ko = os.path.join(top, name[:-2] + ".ko"
                                  if name.endswith(".o") else name)
                self.copy(ko, os.path.join(base, "extra",
                                           os.path.basename(ko)))
                ours.append(os.path.basename(ko)[:-3])
        # Upstream's peers, built from the kernel's source (make peers).
        peers = self.args.peers
        for ko in sorted(os.listdir(peers)) if peers and \
                os.path.isdir(peers) else []:
            if ko.endswith(".ko"):
                self.copy(os.path.join(peers, ko),
                          os.path.join(base, "updates", ko))
                n += 1
        if peers and os.path.exists(VDPA_TOOL):
            self.add_binary(VDPA_TOOL)
        sh(["depmod", "-b", self.root, self.kver])
        return n, sorted(ours)

    def copy_file_or_link(self, path):
        """@path as it is: a symlink stays a symlink (DPDK's libraries are
        links into its plugin directory, and a second copy of one would be
        loaded twice), down to the file it names."""
        while os.path.islink(path):
            dst = os.path.join(self.root, path.lstrip("/"))
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            target = os.readlink(path)
            if not os.path.lexists(dst):
                os.symlink(target, dst)
            path = os.path.join(os.path.dirname(path), target)
        self.copy(path, path, 0o755)

    def add_binary(self, path):
        """A program with every shared library it loads, at their paths."""
        self.copy_file_or_link(path)
        out = subprocess.run(["ldd", path], capture_output=True, text=True)
        for line in out.stdout.splitlines():
            m = re.search(r"(/\S+) \(0x", line)
            if m:
                self.copy_file_or_link(m.group(1))

    def add_l2(self):
        """QEMU, mdevctl and the L2 guest, when the host has them."""
        if not self.args.l2_kimage or not all(os.path.exists(f) for f in QEMU_FILES + QEMU_FIRMWARE):
            return False
        for f in QEMU_FILES:
            self.add_binary(f)
        for f in QEMU_FIRMWARE:
            self.copy(os.path.realpath(f),
                      "/usr/share/qemu/" + os.path.basename(f))
        if os.path.exists("/usr/bin/mdevctl"):
            self.add_binary("/usr/bin/mdevctl")
            for d in ("callouts", "notifiers"):
                os.makedirs(os.path.join(self.root, "etc/mdevctl.d/scripts.d",
                                         d), exist_ok=True)
        for f in os.listdir(os.path.join(HERE, "l2")):
            if f.endswith(".sh") and f != "init.sh":
                self.copy(os.path.join(HERE, "l2", f), "/usr/share/vmrun/l2/"
                          + f, 0o755)

        # L2 runs Debian's kernel whatever L1 runs, with its virtio_net.
        kver = os.path.basename(os.path.normpath(self.args.l2_kmods))
        self.copy(self.args.l2_kimage, "/usr/share/vmrun/l2/vmlinuz")
        l2 = Initramfs(self.args, self.root + "-l2")
        l2.kver = kver
        shutil.rmtree(l2.root, ignore_errors=True)
        os.makedirs(l2.root)
        l2.copy("/bin/busybox", "/bin/busybox", 0o755)
        l2.copy(os.path.join(HERE, "l2", "init.sh"), "/init", 0o755)
        for f in L2_BINARIES:
            if os.path.exists(f):
                l2.add_binary(f)
        for name in L2_HELPERS:
            helper = os.path.join(self.args.tests, "helpers", name)
            if os.path.exists(helper):
                l2.copy(helper, "/usr/bin/" + name, 0o755)
        base = "lib/modules/" + kver
        for rel in closure(self.args.l2_kmods, L2_MODULES):
            src = os.path.join(self.args.l2_kmods, rel)
            dst = os.path.join(l2.root, base, rel[:-3] if
                               rel.endswith(".xz") else rel)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            unpack_module(src, dst)
        for f in ("modules.builtin", "modules.builtin.modinfo",
                  "modules.order"):
            l2.copy(os.path.join(self.args.l2_kmods, f),
                    os.path.join(base, f))
        sh(["depmod", "-b", l2.root, kver])
        cpio(l2.root, os.path.join(self.root, "usr/share/vmrun/l2/initrd.cpio"))
        return True

    def add_libvirt(self):
        """libvirtd, virsh and udevd, when the host has them."""
        if not all(os.path.exists(f) for f in LIBVIRT_BINARIES +
                   LIBVIRT_DRIVERS + [LIBVIRT_DATA]):
            return False
        for f in LIBVIRT_BINARIES + LIBVIRT_DRIVERS:
            self.add_binary(f)
        for f in sorted(os.listdir(LIBVIRT_DATA)):
            self.copy(os.path.join(LIBVIRT_DATA, f),
                      os.path.join(LIBVIRT_DATA, f))
        return True

    def add_dpdk(self):
        """testpmd and the plugins it needs, when the host has them."""
        plugins = [os.path.join(DPDK_PLUGIN_DIR, p) for p in DPDK_PLUGINS]
        if not all(os.path.exists(f) for f in [DPDK_TESTPMD] + plugins):
            return False
        self.add_binary(DPDK_TESTPMD)
        for p in plugins:
            self.add_binary(p)
        return True

    def add_tests(self):
        tdir = self.args.tests
        listed = os.path.join(tdir, "tests.list")
        with open(listed) as f:
            names = f.read().split()
        for name in names:
            self.copy(os.path.join(tdir, name), "/selftests/vhost_mdev/" +
                      name, 0o755)
        helpers = os.path.join(tdir, "helpers")
        for name in sorted(os.listdir(helpers)) if os.path.isdir(helpers) \
                else []:
            self.copy(os.path.join(helpers, name), "/usr/bin/" + name, 0o755)
        return names

    def add_tools(self):
        tdir = self.args.tools
        if not tdir or not os.path.isdir(tdir):
            return
        for f in sorted(os.listdir(tdir)):
            p = os.path.join(tdir, f)
            if os.path.isfile(p) and os.access(p, os.X_OK):
                self.copy(p, "/usr/bin/" + f, 0o755)

    def build(self, tests, conf):
        shutil.rmtree(self.root, ignore_errors=True)
        os.makedirs(self.root)
        self.copy("/bin/busybox", "/bin/busybox", 0o755)
        self.copy(os.path.join(HERE, "init.sh"), "/init", 0o755)
        for f in sorted(os.listdir(HERE)):
            if f.endswith(".sh") and f != "init.sh":
                self.copy(os.path.join(HERE, f), "/usr/share/vmrun/" + f,
                          0o755)
        self.add_tools()
        nmods, ours = self.add_modules()
        available = self.add_tests()
        if tests:
            missing = [t for t in tests if t not in available]
            if missing:
                raise SystemExit("vmrun: no such test: %s (have: %s)" %
                                 (" ".join(missing), " ".join(available)))
        else:
            tests = available
        conf["VMRUN_TESTS"] = " ".join(tests)
        os.makedirs(os.path.join(self.root, "etc/vmrun"), exist_ok=True)
        with open(os.path.join(self.root, "etc/vmrun.conf"), "w") as f:
            for k, v in conf.items():
                f.write("%s=%s\n" % (k, shlex.quote(v)))
        with open(os.path.join(self.root, "etc/vmrun/machine"), "w") as f:
            for k, v in machine.guest_facts().items():
                f.write("%s=%s\n" % (k, shlex.quote(v)))
        self.l2 = self.add_l2()
        if self.l2:
            self.add_libvirt()
        self.add_dpdk()
        image = self.root + ".cpio"
        cpio(self.root, image)
        return image, nmods, ours, tests


class TestFile:
    def __init__(self, name, number):
        self.name = name
        self.number = number
        self.plan = None
        self.passed = self.failed = self.skipped = 0
        self.results = 0
        self.failures = []
        self.evidence = []  # the current test case's failed checks
        self.nested = False  # it started an L2 VM (QEMU with -accel kvm)


class Run:
    def __init__(self, args):
        self.args = args
        self.files = []
        self.cur = None
        self.reasons = []
        self.retried = []
        self.rebooted = None    # why the run booted the guest once more
        self.init_seen = False
        self.done = False
        self.kmemleak = None
        self.script = None
        self.expected_qemu = []
        self.qmp = Qmp(qmp_path(args.workdir))
        self.start = time.monotonic()

    def elapsed(self):
        return time.monotonic() - self.start

    def line(self, raw):
        """One line from the guest's result channel."""
        text = raw.rstrip("\r\n")
        if self.kmemleak is not None and not text.startswith("VMRUN: "):
            self.kmemleak.append(text)
            return
        if text.startswith("VMRUN: "):
            self.marker(text[7:].split())
            return
        if self.cur is None:
            if text.strip():
                print(text if self.args.script else "# " + text, flush=True)
            return
        print("# " + text, flush=True)
        t = self.cur
        if L2_QEMU.search(text):
            t.nested = True
        m = TAP_PLAN.match(text)
        if m and t.plan is None:
            t.plan = int(m.group(1))
            if t.plan == 0 and "SKIP" in text:
                t.skipped += 1
            return
        m = TAP_RESULT.match(text)
        if not m:
            # Kept for the summary, where CI's excerpt of a long run
            # still shows why a test case failed.
            if TAP_RUN.match(text):
                t.evidence = []
            elif CHECK_LINE.match(text) or "RESULT error=" in text:
                t.evidence.append(text)
            return
        t.results += 1
        directive = (m.group(4) or "").upper()
        if m.group(1) == "ok":
            if directive == "SKIP":
                t.skipped += 1
            elif directive == "XPASS":
                t.failed += 1
                t.failures.append(m.group(3) or m.group(2))
            else:
                t.passed += 1
        else:
            if directive == "SKIP":
                t.skipped += 1
            else:
                t.failed += 1
                # A scenario's own reason first: its checks, all -1 when
                # it stopped early, would push it out of the last eight.
                errors = [e for e in t.evidence if "RESULT error=" in e]
                checks = [e for e in t.evidence if e not in errors]
                t.failures.append("\n    ".join([m.group(3) or m.group(2)] +
                                                errors[-2:] + checks[-8:]))

    def marker(self, words):
        what = words[0] if words else ""
        if what == "init":
            self.init_seen = True
            log("guest init running after %.1f s (kernel %s)" %
                (self.elapsed(), " ".join(words[1:])))
        elif what == "begin":
            self.cur = TestFile(words[1], len(self.files) + 1)
            self.files.append(self.cur)
            print("# selftests: vhost_mdev: %s" % words[1], flush=True)
        elif what == "end":
            t, rc = self.cur, int(words[2])
            self.cur = None
            if t.plan is not None and t.results < t.plan and t.plan > 0:
                t.failed += t.plan - t.results
                t.failures.append("%d of %d results missing" %
                                  (t.plan - t.results, t.plan))
            if rc != 0 and t.failed == 0:
                t.failed += 1
                t.failures.append("exited %d without reporting a failure" % rc)
            if t.plan is None and rc == 0 and t.results == 0:
                t.failed += 1
                t.failures.append("printed no TAP plan")
            status = "ok" if t.failed == 0 else "not ok"
            print("%s %d selftests: vhost_mdev: %s  [%d passed, %d failed, "
                  "%d skipped, %.0f s]" % (status, t.number, t.name, t.passed,
                                           t.failed, t.skipped, self.elapsed()),
                  flush=True)
        elif what == "kmemleak-begin":
            self.kmemleak = []
        elif what == "kmemleak-end":
            leaks = [x for x in self.kmemleak if x.strip()]
            if leaks:
                self.reasons.append("kmemleak reported unreferenced objects:\n" +
                                    "\n".join(leaks[:60]))
            else:
                log("kmemleak: no leaks reported")
            self.kmemleak = None
        elif what == "l2-triple-fault":
            # vmdev_scenario() runs a scenario once more after it.
            self.retried.append("%s: %s" % (self.cur.name if self.cur else
                                             "init", " ".join(words[1:])))
        elif what == "expect-qemu":
            # A test causes this QEMU message on purpose (a DMA fault).
            self.expected_qemu.append(re.compile(" ".join(words[1:])))
        elif what == "script-ok":
            self.script = "ok"
        elif what == "script-failed":
            self.script = "failed: " + " ".join(words[1:])
        elif what in ("device_del", "device_add"):
            self.hotplug(what, words[1] if len(words) > 1 else "")
        elif what == "done":
            self.done = True

    def hotplug(self, what, qemu_id):
        """A test unplugs or plugs an accelerator function (by QEMU id)."""
        accel = machine.find_accel(qemu_id)
        if accel is None:
            self.reasons.append("a test asked to %s %r, not a function of "
                                "the machine" % (what, qemu_id))
            return
        try:
            if what == "device_del":
                reply = self.qmp.execute("device_del", id=qemu_id)
            else:
                # HMP's device_add takes the -device string as it is.
                reply = self.qmp.execute(
                    "human-monitor-command",
                    **{"command-line": "device_add " +
                       machine.accel_device(accel)})
                if reply.get("return"):
                    reply = {"error": reply["return"].strip()}
        except (OSError, ValueError) as e:
            reply = {"error": str(e)}
        print("# vmrun: %s %s: %s" % (what, qemu_id,
                                      "done" if "return" in reply else reply),
              flush=True)


def qemu_cmd(args, image, workdir, attempt):
    console = os.path.join(workdir, "console.log")
    # oops=panic: a kernel that oopsed is not fit to go on testing; it
    # stops at once (-no-reboot) instead of every later test timing out.
    # kvm_amd.npt=0: the test VM's KVM runs L2 guests on shadow page
    # tables; TCG's emulation of nested paging broke the test VM's memory
    # under them now and then ("Faults of the test machine itself" in
    # Documentation/dev-tools/vhost-mdev.rst). tsc=reliable: no clocksource
    # watchdog; under load it once found TCG's TSC skewed against the HPET
    # and the kernel's live patch of sched_clock then oopsed on its int3.
    append = ["console=ttyS0", "intel_iommu=on", "iommu=pt", "panic=-1",
              "oops=panic", "printk.time=1", "rdinit=/init", "kvm_amd.npt=0",
              "tsc=reliable"]
    if args.kernel == "debug":
        append += ["panic_on_warn=1", "kmemleak=on"]
    cmd = ["qemu-system-x86_64", "-nodefaults", "-display", "none",
           "-M", "q35,kernel-irqchip=split", "-accel", "tcg,thread=multi",
           "-cpu", "max", "-m", args.mem, "-smp", "2", "-no-reboot",
           "-device", "intel-iommu,intremap=on,device-iotlb=on,caching-mode=on"]
    cmd += machine.qemu_args()
    # Tests hot-unplug and plug the accelerator functions through QMP.
    cmd += ["-qmp", "unix:%s,server=on,wait=off" % qmp_path(workdir)]
    cmd += ["-kernel", args.kimage, "-initrd", image,
            "-append", " ".join(append + shlex.split(args.append))]
    if args.keep:
        cmd += ["-serial", "mon:stdio",
                "-serial", "file:" + os.path.join(workdir, "results.log")]
    else:
        cmd += ["-serial", "file:" + console, "-serial", "stdio"]
    cmd += shlex.split(args.qemu_args)
    return machine.in_netns(cmd), console


def qmp_path(workdir):
    return os.path.join(workdir, "qmp.sock")


class Qmp:
    """QEMU's monitor, for what a test asks of the machine (device_del)."""

    def __init__(self, path):
        self.path = path
        self.sock = None
        self.buf = b""

    def _line(self):
        while b"\n" not in self.buf:
            data = self.sock.recv(4096)
            if not data:
                raise OSError("QMP closed")
            self.buf += data
        line, _, self.buf = self.buf.partition(b"\n")
        return json.loads(line)

    def _reply(self):
        while True:
            msg = self._line()
            if "return" in msg or "error" in msg:
                return msg

    def execute(self, cmd, **arguments):
        if self.sock is None:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(30)
            self.sock.connect(self.path)
            self._line()    # the greeting
            self.sock.sendall(b'{"execute": "qmp_capabilities"}\n')
            self._reply()
        msg = {"execute": cmd}
        if arguments:
            msg["arguments"] = arguments
        self.sock.sendall(json.dumps(msg).encode() + b"\n")
        return self._reply()


def reader(stream, q, tag):
    for raw in iter(stream.readline, b""):
        q.put((tag, raw.decode("utf-8", "replace")))
    q.put((tag, None))


def boot(args, image, workdir, attempt):
    cmd, console = qemu_cmd(args, image, workdir, attempt)
    with open(os.path.join(workdir, "qemu-cmdline"), "w") as f:
        f.write(" ".join(shlex.quote(c) for c in cmd) + "\n")
    if os.path.exists(console):
        os.unlink(console)
    run = Run(args)
    stderr_lines = []
    if args.keep:
        proc = subprocess.Popen(cmd, stderr=subprocess.PIPE)
        stderr_lines = proc.communicate()[1].decode().splitlines()
        run.done = True
        return run, stderr_lines, proc.returncode, False
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    q = queue.Queue()
    threading.Thread(target=reader, args=(proc.stdout, q, "out"),
                     daemon=True).start()
    threading.Thread(target=reader, args=(proc.stderr, q, "err"),
                     daemon=True).start()
    open_streams = 2
    timed_out = False
    while open_streams:
        left = args.timeout - run.elapsed()
        if not run.init_seen:
            left = min(left, BOOT_WATCHDOG - run.elapsed())
        try:
            tag, line = q.get(timeout=max(left, 0.1))
        except queue.Empty:
            timed_out = True
            break
        if line is None:
            open_streams -= 1
        elif tag == "out":
            run.line(line)
        else:
            stderr_lines.append(line.rstrip("\n"))
    if timed_out:
        proc.kill()
    proc.wait()
    return run, stderr_lines, proc.returncode, timed_out


def scan_console(console):
    try:
        with open(console, errors="replace") as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        return [], []
    bad = []
    for i, l in enumerate(lines):
        if SPLATS.search(l):
            bad.append(i)
    return lines, bad


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kernel", default="debian", help="flavour name")
    ap.add_argument("--kimage", required=True, help="kernel image to boot")
    ap.add_argument("--kmods", required=True, help="its /lib/modules/<ver>")
    ap.add_argument("--modules", required=True,
                    help="Kbuild's modules.order of our modules")
    ap.add_argument("--tests", required=True, help="selftest binaries")
    ap.add_argument("--tools", help="tools for the guest's /usr/bin")
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--test", action="append", default=[],
                    help="run only this test file (repeatable)")
    ap.add_argument("--args", default="", help="arguments for each test file")
    ap.add_argument("--keep", action="store_true",
                    help="serial console on this terminal, shell after tests")
    ap.add_argument("--qemu-args", default="", help="extra QEMU arguments")
    ap.add_argument("--append", default="", help="extra kernel arguments")
    ap.add_argument("--l2-kimage", help="kernel of the L2 guest")
    ap.add_argument("--l2-kmods", help="its /lib/modules/<ver>")
    ap.add_argument("--peers", help="upstream modules (vdpa_sim_net, ...) "
                    "built from the kernel's source, for comparisons")
    ap.add_argument("--mem", default="2G")
    ap.add_argument("--timeout", type=int, default=int(
        os.environ.get("VMRUN_TIMEOUT", "1500")), help="seconds for the run")
    ap.add_argument("--script", help="run this script of vm/ (demo.sh, "
                    "soak.sh) instead of the tests")
    ap.add_argument("--env", action="append", default=[],
                    help="KEY=value in the environment of the tests")
    args = ap.parse_args()

    os.makedirs(args.workdir, exist_ok=True)
    conf = {
        "VMRUN_ARGS": args.args,
        "VMRUN_KEEP": "1" if args.keep else "0",
        "VMRUN_KMEMLEAK": "1" if args.kernel == "debug" else "0",
        "VMRUN_SCRIPT": args.script or "",
    }
    for kv in args.env:
        k, _, v = kv.partition("=")
        conf[k] = v
    why = machine.net_up("vmrun-%d" % os.getpid())
    try:
        return run_vm(args, conf, why)
    finally:
        machine.net_down()


def machine_fault(args, run, rc, timed_out):
    """A fault of the test machine itself (the guide's "Faults of the test
    machine itself") that ended the run inside a test file, before any test
    failed, or inside a script before it said how it ended, QEMU exiting 0:
    (why, the crash's kernel log lines), or None. Either a silent reset (no
    kernel message at all), or a panic with no frame of ours in the crash,
    under an L2 VM (in one of its threads, or in a test file that started
    one) or in KVM (its modules' frames, kvmhold) or on an int3 (TCG's
    cross-modifying code race: DESIGN.md)."""
    if args.keep or not run.init_seen or timed_out or run.done or rc != 0 \
            or run.reasons:
        return None
    if args.script:
        if run.script:
            return None
        where, nested = "inside %s after %.0f s" % (args.script,
                                                     run.elapsed()), False
    else:
        if run.cur is None or any(t.failed for t in run.files):
            return None
        where = "inside %s after %.0f s" % (run.cur.name, run.elapsed())
        nested = run.cur.nested
    lines, bad = scan_console(os.path.join(args.workdir, "console.log"))
    if not bad:
        return ("the guest reset itself silently %s (qemu rc 0, no kernel "
                "message)" % where, [])
    # From the first splat to the end: the panic, and the lines after it.
    crash = lines[bad[0]:]
    if not any("Kernel panic" in l for l in crash):
        return None
    if any(OUR_FRAME.search(l) for l in crash):
        return None
    if not nested and not any(L2_THREAD.search(l) or KVM_CRASH.search(l)
                              for l in crash):
        return None
    return ("the guest kernel crashed under KVM or an L2 VM %s, no function "
            "of ours in the crash" % where, crash)


def run_vm(args, conf, why):
    """Build the guest, boot it, judge the run (@why: why the functions
    have one queue pair, or None)."""
    tests = [os.path.basename(t) for t in args.test]
    ir = Initramfs(args, os.path.join(args.workdir, "initramfs"))
    image, nmods, ours, tests = ir.build(tests, conf)
    log("kernel %s (%s), %d of its modules, ours: %s" %
        (ir.kver, args.kernel, nmods, " ".join(ours) or "none"))
    if not args.script:
        log("%d test file%s: %s" % (len(tests), "" if len(tests) == 1 else
                                    "s", " ".join(tests)))
    if conf.get("VMRUN_TRIM"):
        log("left out of this run, as skips: %s (TRIM)" % conf["VMRUN_TRIM"])
    if why:
        log("the functions have one queue pair: no multi-queue taps (%s)" %
            why)
    log("booting; console log: %s" % os.path.join(args.workdir, "console.log"))

    for attempt in (1, 2):
        run, qerr, rc, timed_out = boot(args, image, args.workdir, attempt)
        if args.keep:
            return 0
        if run.init_seen or attempt == 2:
            break
        # MTTCG occasionally kills the guest during boot (a cross-modifying
        # code race in TCG): retry the boot once, never a test.
        lines, bad = scan_console(os.path.join(args.workdir, "console.log"))
        log("the guest died before our init ran (qemu rc %s%s); last console "
            "lines:" % (rc, ", boot watchdog" if timed_out else ""))
        for l in lines[-15:]:
            print("    " + l)
        log("retrying the boot once")

    # MTTCG's nested SVM resets the whole guest now and then, or crashes
    # its kernel under an L2 VM, with none of our code involved.
    fault = machine_fault(args, run, rc, timed_out)
    if fault:
        again, crash = fault
        # Boot once more for the test file it was in and those after it,
        # never for a failure, and only once.
        console = os.path.join(args.workdir, "console.log")
        kept = os.path.join(args.workdir, "console-reset.log")
        os.replace(console, kept)
        rest = [args.script] if args.script else \
            tests[tests.index(run.cur.name):]
        log("%s; its console: %s" % (again, kept))
        for l in crash[:40]:
            print("    " + l)
        log("booting once more for %s" % " ".join(rest))
        first, first_err = run, qerr
        if not args.script:
            image, _, _, _ = ir.build(rest, conf)
        run, qerr, rc, timed_out = boot(args, image, args.workdir, 1)
        run.files = [f for f in first.files if f is not first.cur] + run.files
        run.reasons = first.reasons + run.reasons
        run.retried = first.retried + run.retried
        run.rebooted = again
        qerr = first_err + qerr

    reasons = list(run.reasons)
    if not run.init_seen:
        reasons.append("the guest never reached our init")
    elif timed_out:
        reasons.append("the guest did not finish within %d s (inside %s)" %
                       (args.timeout, run.cur.name if run.cur else "init"))
    elif not run.done:
        reasons.append("the guest stopped before the end of the run (qemu rc "
                       "%s, inside %s)" % (rc, run.cur.name if run.cur else
                                           "init"))

    console = os.path.join(args.workdir, "console.log")
    lines, bad = scan_console(console)
    if bad:
        first = bad[0]
        excerpt = [l for l in lines[max(0, first - 2):first + 120]
                   if not SPLAT_NOISE.search(l)][:40]
        reasons.append("guest kernel log has %d splat line%s (%s); from line "
                       "%d, without unreliable frames and registers:\n    %s"
                       % (len(bad), "" if len(bad) == 1 else "s", console,
                          first + 1, "\n    ".join(excerpt)))
    noisy = [l for l in qerr if l.strip() and
             not any(p.search(l) for p in QEMU_BENIGN + run.expected_qemu)]
    if noisy:
        reasons.append("QEMU printed on stderr:\n    " + "\n    ".join(noisy))
    if not run.done and lines and not bad:
        reasons.append("last console lines:\n    " +
                       "\n    ".join(lines[-20:]))

    if args.script:
        if run.script != "ok":
            reasons.insert(0, "%s %s" % (args.script,
                                         run.script or "did not finish"))
        for r in reasons:
            print("vmrun: FAIL: " + r)
        if run.rebooted:
            print("vmrun: booted once more after this: %s" % run.rebooted)
        # The first reason again, last: a log read from its tail shows it.
        log("%s %s in %.0f s%s" % (args.script, "failed" if reasons
                                   else "succeeded", run.elapsed(),
                                   ": " + reasons[0].splitlines()[0]
                                   if reasons else ""))
        return 1 if reasons else 0

    passed = sum(t.passed for t in run.files)
    failed = sum(t.failed for t in run.files)
    skipped = sum(t.skipped for t in run.files)
    for t in run.files:
        for f in t.failures:
            print("vmrun: FAILED %s: %s" % (t.name, f))
    for r in reasons:
        print("vmrun: FAIL: " + r)
    for r in run.retried:
        print("vmrun: an L2 guest triple-faulted in %s; run once more" % r)
    if run.rebooted:
        print("vmrun: booted once more after this: %s" % run.rebooted)
    log("run took %.0f s" % run.elapsed())
    print("%d passed, %d failed, %d skipped" % (passed, failed, skipped),
          flush=True)
    return 1 if failed or reasons else 0


if __name__ == "__main__":
    sys.exit(main())
