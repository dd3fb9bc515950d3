// SPDX-License-Identifier: GPL-2.0-only
/*
 * The core module loads next to Debian's mdev / vhost modules, registers what
 * userspace finds it by, and goes away cleanly.
 */
#include "kselftest_harness.h"
#include "vmdev_test.h"

#define CORE		"vhost_mdev"
#define CHRDEV_NAME	"vhost-vdpa-mdev"

FIXTURE(core) {
};

FIXTURE_SETUP(core)
{
	if (!vmdev_module_installed(CORE))
		SKIP(return, CORE ".ko is not installed for this kernel");
	/* Tests unload the core: its users, the accelerators, go first. */
	ASSERT_EQ(0, vmdev_unload_parents());
	ASSERT_EQ(0, vmdev_modprobe(CORE));
}

FIXTURE_TEARDOWN(core)
{
}

TEST_F(core, module_live)
{
	char state[32];

	ASSERT_EQ(0, vmdev_read_file("/sys/module/" CORE "/initstate",
				     state, sizeof(state)));
	EXPECT_STREQ("live", state);
}

TEST_F(core, class_registered)
{
	EXPECT_TRUE(vmdev_is_dir("/sys/class/vhost-mdev"));
	EXPECT_TRUE(vmdev_is_dir("/sys/bus/mdev/drivers/vhost_mdev"));
}

/* It stands on Debian's mdev, vhost_iotlb and irqbypass modules. */
TEST_F(core, uses_the_kernel_modules)
{
	EXPECT_EQ(0, access("/sys/module/mdev/holders/" CORE, F_OK));
	EXPECT_EQ(0, access("/sys/module/vhost_iotlb/holders/" CORE, F_OK));
	EXPECT_EQ(0, access("/sys/module/irqbypass/holders/" CORE, F_OK));
}

/*
 * DPDK recognises a vhost-vdpa device by the first /proc/devices line whose
 * name, read with "%10s", is "vhost-vdpa": our region must read that way.
 */
TEST_F(core, chrdev_region_named_for_clients)
{
	int major;

	major = vmdev_chrdev_major(CHRDEV_NAME);
	ASSERT_GT(major, 0);
	EXPECT_EQ(major, vmdev_dpdk_vhost_vdpa_major());
}

/* Unloading removes everything the module registered; loading restores it. */
TEST_F(core, unload_and_reload)
{
	ASSERT_EQ(0, vmdev_rmmod(CORE));
	EXPECT_FALSE(vmdev_module_loaded(CORE));
	EXPECT_FALSE(vmdev_is_dir("/sys/class/vhost-mdev"));
	EXPECT_EQ(-ENOENT, vmdev_chrdev_major(CHRDEV_NAME));

	ASSERT_EQ(0, vmdev_modprobe(CORE));
	EXPECT_TRUE(vmdev_is_dir("/sys/class/vhost-mdev"));
	EXPECT_GT(vmdev_chrdev_major(CHRDEV_NAME), 0);
}

/*
 * With upstream vhost_vdpa loaded as well, both regions exist and ours is
 * listed first, whichever module came first: ours takes the lowest free
 * dynamic major, so DPDK takes ours. Load vhost_vdpa before reloading ours
 * to test the hard order.
 */
TEST_F(core, coexists_with_upstream_vhost_vdpa)
{
	int ours, theirs;

	if (!vmdev_module_installed("vhost_vdpa"))
		SKIP(return, "upstream vhost_vdpa is not installed");
	ASSERT_EQ(0, vmdev_rmmod(CORE));
	ASSERT_EQ(0, vmdev_modprobe("vhost_vdpa"));
	ASSERT_EQ(0, vmdev_modprobe(CORE));

	ours = vmdev_chrdev_major(CHRDEV_NAME);
	theirs = vmdev_chrdev_major("vhost-vdpa");
	ASSERT_GT(ours, 0);
	ASSERT_GT(theirs, 0);
	EXPECT_NE(ours, theirs);
	EXPECT_EQ(ours, vmdev_dpdk_vhost_vdpa_major());

	EXPECT_EQ(0, vmdev_rmmod("vhost_vdpa"));
}

TEST_HARNESS_MAIN
