// SPDX-License-Identifier: GPL-2.0-only
/*
 * libvirt manages the device (vm/l2/libvirt.sh): Debian's libvirtd lists
 * the accelerator function with our mdev types as a node device, defines
 * and starts a persistent mdev through mdevctl and shows it, starts a KVM
 * domain with <interface type='vdpa'> on the mdev's node (libvirt opens it
 * and passes QEMU the descriptor), the domain pings the peer function and
 * powers off, and the mdev is stopped and undefined through libvirt.
 */
#include "kselftest_harness.h"
#include "vmdev_test.h"

#define SCRIPT	VMDEV_SCENARIOS "libvirt.sh"

FIXTURE(libvirt) {
	char out[1 << 17];
};

FIXTURE_SETUP(libvirt)
{
	char bdfs[2][16];

	if (vmdev_trimmed("libvirt"))
		SKIP(return, VMDEV_TRIMMED, "libvirt");
	if (access(SCRIPT, X_OK) || access("/usr/sbin/libvirtd", X_OK))
		SKIP(return, "libvirt and the L2 scenarios are not in this guest");
	/* libvirt's node device driver watches mdevctl's directory. */
	if (access("/proc/sys/fs/inotify", F_OK))
		SKIP(return, "this kernel has no inotify (CONFIG_INOTIFY_USER)");
	if (!vmdev_module_installed("kvm_amd"))
		SKIP(return, "this kernel has no kvm_amd module");
	if (vmdev_pci_find(VMDEV_ACCEL_ID, bdfs, 2) < 2)
		SKIP(return, "needs two modern virtio-net PCI functions");
}

FIXTURE_TEARDOWN(libvirt)
{
}

TEST_F_TIMEOUT(libvirt, vdpa_interface_domain, 900)
{
	char state[64];

	EXPECT_EQ(0, vmdev_scenario(SCRIPT, NULL, self->out,
				    sizeof(self->out)));
	EXPECT_EQ(NULL, strstr(self->out, "RESULT error="));

	/* The node devices: the function with our type, then the mdev. */
	EXPECT_EQ(1, vmdev_result_num(self->out, "types_listed"));
	EXPECT_EQ(1, vmdev_result_num(self->out, "type_in_xml"));
	EXPECT_EQ(1, vmdev_result_num(self->out, "mdev_defined"));
	EXPECT_EQ(1, vmdev_result_num(self->out, "mdev_active"));
	EXPECT_EQ(1, vmdev_result_num(self->out, "mdev_iommu_group"));

	/* QEMU got the node as a file descriptor, the doorbell per queue. */
	EXPECT_EQ(1, vmdev_result_num(self->out, "netdev_vdpa"));
	EXPECT_EQ(1, vmdev_result_num(self->out, "page_per_vq"));
	EXPECT_EQ(1, vmdev_result_num(self->out, "l2_done"));
	EXPECT_EQ(1, vmdev_result_num(self->out, "carrier"));
	EXPECT_EQ(5, vmdev_result_num(self->out, "ping_sent"));
	EXPECT_EQ(5, vmdev_result_num(self->out, "ping_received"));
	/* L2 powered off; QEMU printed nothing. */
	vmdev_result(self->out, "domain_state", state, sizeof(state));
	EXPECT_EQ(0, strncmp(state, "shut_off", 8)) TH_LOG("%s", state);
	EXPECT_EQ(0, vmdev_result_num(self->out, "qemu_stderr_lines"));

	EXPECT_EQ(1, vmdev_result_num(self->out, "mdev_gone"));
}

TEST_HARNESS_MAIN
