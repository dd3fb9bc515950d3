# SPDX-License-Identifier: GPL-2.0-only
#
# vhost-mdev: build, lint and test entry points.
#
#   make                  modules for KERNEL (default: Debian's newest 6.12),
#                         selftests and tools
#   make check            the kselftest suite in a VM (T=<test> for one file,
#                         ARGS=<harness args>, KEEP=1 for a shell, QEMU_ARGS=)
#   make check KERNEL=debug   the same on the debug kernel flavour
#   make demo             the main job (see README.md); SIM=1 on the simulator
#   make lint             checkpatch --strict, sparse, W=1, kernel-doc
#   make deps             install and extract everything the above needs
#
# Every target that needs a tool or the kernel sources runs scripts/deps.sh
# first when its stamp in $(CACHE) is missing or stale.

SHELL := /bin/bash
TOP := $(CURDIR)
CACHE ?= $(HOME)/.cache/vhost-mdev
KERNEL ?= debian
BUILD ?= $(TOP)/build
Q ?= @

export CACHE
MAKEFLAGS += --no-print-directory

DEPS_HASH := $(shell cat scripts/deps.sh | sha1sum | cut -c1-12)
DEPS_STAMP := $(CACHE)/deps-$(DEPS_HASH).stamp

ifeq ($(filter deps clean distclean help,$(MAKECMDGOALS)),)
ifeq ($(wildcard $(DEPS_STAMP)),)
$(info vhost-mdev: dependencies missing or stale, running scripts/deps.sh)
DEPS_OUT := $(shell scripts/deps.sh >&2; echo $$?)
ifneq ($(DEPS_OUT),0)
$(error scripts/deps.sh failed; see the messages above)
endif
endif
endif

# The kernel flavour decides what the modules are built against and what the
# VM boots: KVER, KDIR (headers), KIMAGE (bzImage), KMODS (its /lib/modules).
KENV := $(shell scripts/kernel-env.sh $(KERNEL))
ifneq ($(.SHELLSTATUS),0)
$(error scripts/kernel-env.sh $(KERNEL) failed)
endif
$(foreach kv,$(KENV),$(eval $(kv)))
# The L2 guest of the demo and its test runs Debian's kernel in any case.
$(foreach kv,$(shell scripts/kernel-env.sh debian L2),$(eval $(kv)))
KDIR ?= $(KENV_KDIR)
KVER ?= $(KENV_KVER)
KIMAGE ?= $(KENV_KIMAGE)
KMODS ?= $(KENV_KMODS)

SRC := $(CACHE)/src/linux-source
UAPI := $(CACHE)/uapi/include
MODBUILD := $(BUILD)/kbuild-$(KERNEL)
USERBUILD := $(BUILD)/user

KCONF := CONFIG_VHOST_MDEV=m CONFIG_VHOST_MDEV_PCI=m CONFIG_VHOST_MDEV_SIM=m
# The KUnit tests, for a kernel built with KUnit (the debug flavour).
ifneq ($(shell grep -s '^CONFIG_KUNIT=y' $(KDIR)/.config),)
KCONF += CONFIG_VHOST_MDEV_PCI_KUNIT_TEST=m
endif

.PHONY: all modules selftests tools deps lint check demo clean distclean help \
	FORCE

all: modules selftests tools

# Kbuild writes objects next to the sources; mirror them per kernel flavour
# so builds for two kernels never share an object file.
modules:
	$(Q)mkdir -p $(MODBUILD)
	$(Q)rsync -a --delete --exclude='*.o' --exclude='*.ko' --exclude='*.mod*' \
		--exclude='.*.cmd' --exclude='Module.symvers' --exclude='modules.order' \
		--exclude='.tmp*' --include='*/' --include='*.[ch]' --include='Kbuild' \
		--include='Makefile' --include='Kconfig' --exclude='*' \
		$(TOP)/Kbuild $(TOP)/Kconfig $(TOP)/drivers $(TOP)/include $(MODBUILD)/
	$(Q)mkdir -p $(MODBUILD)/tools/testing/vhost_mdev
	$(Q)rsync -a --delete --exclude='*.o' --exclude='*.ko' --exclude='*.mod*' \
		--exclude='.*.cmd' --exclude='modules.order' \
		$(TOP)/tools/testing/vhost_mdev/ $(MODBUILD)/tools/testing/vhost_mdev/
	$(Q)$(MAKE) -C $(KDIR) M=$(MODBUILD) $(KCONF) $(KBUILD_ARGS) modules

selftests:
	$(Q)$(MAKE) -C tools/testing/selftests/vhost_mdev \
		OUTPUT=$(USERBUILD)/selftests KSFT_DIR=$(SRC)/tools/testing/selftests \
		UAPI=$(UAPI) LIBDIR=$(TOP)/tools/vhost_mdev/lib

tools:
	$(Q)$(MAKE) -C tools/vhost_mdev OUTPUT=$(USERBUILD)/bin UAPI=$(UAPI)

deps:
	$(Q)scripts/deps.sh

lint: all
	$(Q)scripts/lint.sh $(KDIR) $(MODBUILD) "$(KCONF)"

check: all
	$(Q)tools/vhost_mdev/vm/vmrun --kernel $(KERNEL) --kimage $(KIMAGE) \
		--kmods $(KMODS) --modules $(MODBUILD) --tests $(USERBUILD)/selftests \
		--tools $(USERBUILD)/bin --workdir $(BUILD)/vm-$(KERNEL) \
		--l2-kimage $(L2_KIMAGE) --l2-kmods $(L2_KMODS) \
		$(foreach t,$(T),--test $(t)) $(if $(ARGS),--args "$(ARGS)") \
		$(if $(KEEP),--keep) $(if $(QEMU_ARGS),--qemu-args "$(QEMU_ARGS)")

demo: all
	$(Q)tools/vhost_mdev/vm/vmrun --kernel $(KERNEL) --kimage $(KIMAGE) \
		--kmods $(KMODS) --modules $(MODBUILD) --tests $(USERBUILD)/selftests \
		--tools $(USERBUILD)/bin --workdir $(BUILD)/vm-$(KERNEL) \
		--l2-kimage $(L2_KIMAGE) --l2-kmods $(L2_KMODS) --demo $(if $(SIM),--sim)

clean:
	$(Q)rm -rf $(BUILD)

distclean: clean
	$(Q)rm -rf $(CACHE)

help:
	$(Q)sed -n '3,15p' Makefile | sed 's/^# \{0,1\}//'
