# SPDX-License-Identifier: GPL-2.0-only
#
# vhost-mdev: build, lint and test entry points.
#
#   make                  the modules for KERNEL (default: Debian's newest
#                         6.12 with headers installed), and the user tools
#                         when the 6.12 uAPI headers are there (make deps)
#   make deps             install (apt, as root) and extract what the
#                         targets below need
#   make check            the kselftest suite in the test VM (T=<test> for
#                         one file, ARGS=<harness args>, KEEP=1 for a shell,
#                         QEMU_ARGS=, TRIM="svq mq dpdk migration libvirt bench"
#                         to leave out those long groups, "pci-mq" for the
#                         PCI multiqueue guests only, "packed" for the
#                         guests with packed rings, "pci-packed" for those
#                         on the PCI function only: they report skips)
#   make check KERNEL=debug   the same on the debug kernel flavour
#   make demo             the main job (see README.md); SIM=1 on the simulator;
#                         MIGRATE=1 then a live migration (simulator)
#   make fuzz             a long fuzz run (SEED=, CALLS=)
#   make soak             30 minutes of L2 traffic with resets, remaps and
#                         mdev re-creation, on the debug kernel (SOAK_S=)
#   make migrate-soak     ROUNDS=20 live migrations of a KVM guest (simulator;
#                         PCI=1 on the accelerator functions, relayed)
#   make relay-soak       the PCI relay's switch under traffic, ROUNDS=1000
#                         times per variant (the relay selftest)
#   make migrate-bench    live migration, ours next to upstream's vdpa_sim_net
#                         with QEMU's x-svq, in one boot (BATCHES=3 of ROUNDS=3);
#                         PCI=1 on the functions, next to vp_vdpa with x-svq
#   make peers            upstream's vdpa_sim_net and vp_vdpa, built from
#                         linux-source, for the comparisons (not committed)
#   make bench            our drivers next to upstream's (vp_vdpa on the same
#                         functions, vdpa_sim_net) in one boot, ROUNDS=3
#                         interleaved rounds: table, CSV and plot in
#                         build/bench; bench-smoke: one short round
#   make dpdk-soak        DPDK testpmd, run after run, on the simulator
#                         (RUNS=100 of SECS=20; VARIANT=sim_crossover, pci)
#   make lint             checkpatch --strict, sparse, W=1, kernel-doc
#   make htmldocs         Documentation/ as HTML in build/htmldocs (Sphinx,
#                         with the kernel's kernel-doc extension)
#   make intree           vhost-mdev as a patch series would put it in
#                         linux-source-6.12 (drivers/vhost/mdev/), built
#                         with the kernel's make (debug kernel's config)
#   make deb              the Debian packages vhost-mdev-dkms and
#                         vhost-mdev-tools into build/deb (lintian-checked)
#   make deb-check        make deb, install them on a fresh Debian 12 root
#                         where DKMS builds the modules for Debian's 6.12
#                         and 6.1, then the test VM on what DKMS built, on
#                         each kernel
#
# A plain build installs nothing and needs no root: the kernel headers are
# enough for the modules. The targets that run the VM or the linters run
# scripts/deps.sh first, when its stamp in $(CACHE) is missing or stale.

SHELL := /bin/bash
TOP := $(CURDIR)
CACHE ?= $(HOME)/.cache/vhost-mdev
ifeq ($(MAKECMDGOALS),soak)
KERNEL ?= debug
endif
KERNEL ?= debian
BUILD ?= $(TOP)/build
Q ?= @

export CACHE
MAKEFLAGS += --no-print-directory

DEPS_STAMP = $(CACHE)/deps-$(shell sha1sum < scripts/deps.sh | cut -c1-12).stamp

# The kernel flavour: what the modules are built against (KDIR) and what
# the VM boots. Asked of scripts/kernel-env.sh when a recipe needs it, never
# while the Makefile is read: the debug kernel may not be built yet, the
# headers may not be installed yet.
kenv = $(shell scripts/kernel-env.sh $(1) $(2) | sed -n 's/^[A-Z0-9]*_$(3)=//p')
KDIR ?= $(call kenv,$(KERNEL),KENV,KDIR)
KIMAGE = $(call kenv,$(KERNEL),KENV,KIMAGE)
KMODS = $(call kenv,$(KERNEL),KENV,KMODS)
# The L2 guest of the demo and its tests runs Debian's kernel in any case.
L2_KIMAGE = $(call kenv,debian,L2,KIMAGE)
L2_KMODS = $(call kenv,debian,L2,KMODS)

SRC := $(CACHE)/src/linux-source
UAPI := $(CACHE)/uapi/include
USERBUILD := $(BUILD)/user
SELFTESTS := tools/testing/selftests/vhost_mdev

# Kbuild builds in the source tree (objects beside the sources, as for any
# out-of-tree module) so compiler messages name the files you edit. Builds
# for two kernel flavours share the tree: Kbuild rebuilds what a changed
# command line touches.
KCONF = CONFIG_VHOST_MDEV=m CONFIG_VHOST_MDEV_PCI=m CONFIG_VHOST_MDEV_SIM=m \
	$(if $(shell grep -s '^CONFIG_KUNIT=y' $(KDIR)/.config), \
	     CONFIG_VHOST_MDEV_PCI_KUNIT_TEST=m)

VMRUN = $(SELFTESTS)/vm/vmrun.py --kernel $(KERNEL) --kimage $(KIMAGE) \
	--kmods $(KMODS) --modules $(TOP)/modules.order \
	--tests $(USERBUILD)/selftests --tools $(USERBUILD)/bin \
	--workdir $(BUILD)/vm-$(KERNEL) --l2-kimage $(L2_KIMAGE) \
	--l2-kmods $(L2_KMODS)

.PHONY: all modules kernel selftests tools deps lint check demo fuzz soak migrate-soak \
	relay-soak dpdk-soak peers migrate-bench bench bench-smoke htmldocs intree deb deb-check deb-smoke clean distclean help

all: modules
	$(Q)if [ -d $(UAPI) ]; then $(MAKE) tools; else \
		echo "vhost-mdev: modules built; the user tools need the 6.12 uAPI headers: make deps"; fi

# The flavour's kernel tree: Debian's headers, or the debug kernel (built
# on first use, then cached).
kernel:
	$(Q)scripts/kernel-env.sh $(KERNEL) > /dev/null

modules: kernel
	$(Q)$(MAKE) -C $(KDIR) M=$(TOP) $(KCONF) $(KBUILD_ARGS) modules

selftests: $(DEPS_STAMP)
	$(Q)$(MAKE) -C $(SELFTESTS) OUTPUT=$(USERBUILD)/selftests \
		KSFT_DIR=$(SRC)/tools/testing/selftests UAPI=$(UAPI) \
		LIBDIR=$(TOP)/tools/vhost_mdev/lib

tools:
	$(Q)$(MAKE) -C tools/vhost_mdev OUTPUT=$(USERBUILD)/bin UAPI=$(UAPI)

$(DEPS_STAMP):
	$(Q)scripts/deps.sh

deps:
	$(Q)scripts/deps.sh

# Not after `modules`: lint.sh's sparse and W=1 build compiles every module
# itself (a build first, with other flags, compiled each file twice).
lint: $(DEPS_STAMP) kernel tools selftests
	$(Q)scripts/lint.sh $(KDIR) $(TOP) "$(KCONF)"

# The whole suite takes ~18 minutes here on Debian's kernel and ~30 on the
# debug kernel: the guard against a hung run leaves room for a slower
# machine and keeps both hung inside CI's 90 minutes.
CHECK_TIMEOUT = $(if $(filter debug,$(KERNEL)),2700,1500)
check: $(DEPS_STAMP) modules tools selftests peers
	$(Q)$(VMRUN) --peers $(PEERS) $(foreach t,$(T),--test $(t)) $(if $(ARGS),--args "$(ARGS)") \
		$(if $(KEEP),--keep) $(if $(QEMU_ARGS),--qemu-args "$(QEMU_ARGS)") \
		$(if $(TRIM),--env VMRUN_TRIM="$(TRIM)") --timeout $(CHECK_TIMEOUT)

demo: $(DEPS_STAMP) modules tools selftests
	$(Q)$(VMRUN) --script demo.sh $(if $(SIM),--env VMRUN_DEMO_SIM=1) \
		$(if $(MIGRATE),--env VMRUN_DEMO_MIGRATE=1)

# Long runs, not in CI: L2 traffic with resets, remaps and mdev re-creation
# (SOAK_S= seconds, 30 minutes by default), on the debug kernel unless
# KERNEL= says otherwise.
soak: $(DEPS_STAMP) modules tools selftests
	$(Q)$(VMRUN) --script soak.sh --env SOAK_S=$(or $(SOAK_S),1800) \
		--timeout $$(( $(or $(SOAK_S),1800) + 900 ))

fuzz: $(DEPS_STAMP) modules tools selftests
	$(Q)$(VMRUN) --test fuzz --env VMDEV_FUZZ_SEED=$(or $(SEED),1) \
		--env VMDEV_FUZZ_CALLS=$(or $(CALLS),500000) --timeout 3600

migrate-soak: $(DEPS_STAMP) modules tools selftests
	$(Q)$(VMRUN) --script migsoak.sh --env ROUNDS=$(or $(ROUNDS),20) \
		--env PCI=$(or $(PCI),0) --timeout $$(( $(or $(ROUNDS),20) * 60 + 600 ))

relay-soak: $(DEPS_STAMP) modules tools selftests
	$(Q)$(VMRUN) --test relay --env VMDEV_RELAY_ROUNDS=$(or $(ROUNDS),1000) \
		--timeout $$(( $(or $(ROUNDS),1000) * 6 + 600 ))

htmldocs: $(DEPS_STAMP)
	$(Q)VMDEV_KSRC=$(SRC) sphinx-build -q -W -c scripts/sphinx -b html \
		Documentation $(BUILD)/htmldocs
	$(Q)echo "vhost-mdev: $(BUILD)/htmldocs/index.html"

intree: $(DEPS_STAMP)
	$(Q)scripts/intree.sh $(SRC) $(call kenv,debug,KENV,KDIR)/.config $(BUILD)/intree

deb: $(DEPS_STAMP)
	$(Q)scripts/deb.sh $(BUILD)/deb

# Debian 12's two kernels, newest first: DKMS builds for both, and the
# test VM boots each with what DKMS built for it (deb-smoke, one kernel).
DEB_KERNELS = debian debian-6.1
deb-check: $(DEPS_STAMP) selftests deb
	$(Q)scripts/debtest.sh $(BUILD)/deb $(foreach k,$(DEB_KERNELS),$(call kenv,$(k),KENV,KVER))
	$(Q)for k in $(DEB_KERNELS); do $(MAKE) deb-smoke KERNEL=$$k || exit 1; done

deb-smoke: kernel
	$(Q)$(VMRUN) --modules $(BUILD)/deb/vm-$(call kenv,$(KERNEL),KENV,KVER)/modules.order \
		--tools $(BUILD)/deb/vm-$(call kenv,$(KERNEL),KENV,KVER)/bin \
		--script debsmoke.sh --env VHOST_MDEV_VERSION=$(file <VERSION)

# Upstream's peers, from the kernel source deps.sh extracted, for KERNEL.
PEERS = $(BUILD)/peers-$(KERNEL)
peers: $(DEPS_STAMP) kernel
	$(Q)scripts/peers.sh $(SRC) $(KDIR) $(PEERS)

# The benchmark: its log, the CSV of every measurement, the medians and a
# plot of the ratios (scripts/bench-report.sh) in build/bench.
BENCH_OUT = $(BUILD)/bench
bench: $(DEPS_STAMP) modules tools selftests peers
	$(Q)mkdir -p $(BENCH_OUT)
	$(Q)set -o pipefail; $(VMRUN) --peers $(PEERS) --mem 4G --script bench.sh \
		$(if $(ROUNDS),--env ROUNDS=$(ROUNDS)) $(if $(SECS),--env SECS=$(SECS)) \
		--timeout 1500 | tee $(BENCH_OUT)/bench.log
	$(Q)scripts/bench-report.sh $(BENCH_OUT)/bench.log $(BENCH_OUT)

bench-smoke: $(DEPS_STAMP) modules tools selftests peers
	$(Q)$(VMRUN) --peers $(PEERS) --script bench.sh --env BENCH_SMOKE=1 --timeout 300

MIG_BATCHES = $(or $(BATCHES),3)
MIG_ROUNDS = $(or $(ROUNDS),3)
migrate-bench: $(DEPS_STAMP) modules tools selftests peers
	$(Q)$(VMRUN) --peers $(PEERS) --script migbench.sh \
		--env BATCHES=$(MIG_BATCHES) --env ROUNDS=$(MIG_ROUNDS) \
		--env PCI=$(or $(PCI),0) \
		--timeout $$(( $(MIG_BATCHES) * $(MIG_ROUNDS) * 2 * 60 + 600 ))

# testpmd io forwarding, RUNS runs of SECS seconds each, on one variant of
# dpdk.c (sim: each device loops back; sim_crossover; pci).
DPDK_RUNS = $(or $(RUNS),100)
DPDK_SECS = $(or $(SECS),20)
dpdk-soak: $(DEPS_STAMP) modules tools selftests
	$(Q)$(VMRUN) --test dpdk --args "-v $(or $(VARIANT),sim)" \
		--env VMDEV_DPDK_RUNS=$(DPDK_RUNS) --env VMDEV_DPDK_SECS=$(DPDK_SECS) \
		--timeout $$(( $(DPDK_RUNS) * ($(DPDK_SECS) + 15) + 600 ))

clean:
	$(Q)if [ -d "$(KDIR)" ]; then $(MAKE) -C $(KDIR) M=$(TOP) clean; fi
	$(Q)rm -rf $(BUILD)

distclean: clean
	$(Q)rm -rf $(CACHE)

help:
	$(Q)sed -n '3,/^$$/p' Makefile | sed 's/^# \{0,1\}//'
