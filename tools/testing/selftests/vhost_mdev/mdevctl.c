// SPDX-License-Identifier: GPL-2.0-only
/*
 * Debian's mdevctl (1.2.0) against our parents: types with their
 * descriptions and instances, start/list/stop of a transient device, a
 * defined (persistent) one started by UUID, and one with an attribute
 * (device_features) that mdevctl writes at start.
 */
#include <stdarg.h>
#include <sys/stat.h>

#include "kselftest_harness.h"
#include "vmdev_test.h"

#define MDEVCTL		"/usr/bin/mdevctl"
#define SIM_TYPE	VMDEV_SIM_NET_TYPE

/* Run "mdevctl @args" through the shell; its output in @out, its status. */
static int mdevctl(char *out, size_t len, const char *fmt, ...)
{
	char cmd[512];
	size_t got = 0;
	va_list ap;
	FILE *p;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd) - 8, fmt, ap);
	va_end(ap);
	strcat(cmd, " 2>&1");
	p = popen(cmd, "r");
	if (!p)
		return -errno;
	while (got < len - 1 && fgets(out + got, len - got, p))
		got += strlen(out + got);
	out[got] = '\0';
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static bool mdev_active(const char *uuid)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s", uuid);
	return !access(path, F_OK);
}

FIXTURE(mdevctl) {
	char uuid[37];
	char out[8192];
};

FIXTURE_SETUP(mdevctl)
{
	if (access(MDEVCTL, X_OK))
		SKIP(return, "mdevctl is not in this guest");
	if (!vmdev_module_installed("vhost_mdev_sim"))
		SKIP(return, "vhost_mdev_sim is not installed");
	ASSERT_EQ(0, vmdev_modprobe("vhost_mdev_sim"));
	mkdir("/etc/mdevctl.d", 0755);
	ASSERT_EQ(0, vmdev_uuid_random(self->uuid));
}

FIXTURE_TEARDOWN(mdevctl)
{
	char out[512];

	if (self->uuid[0] && mdev_active(self->uuid))
		mdevctl(out, sizeof(out), MDEVCTL " stop -u %s", self->uuid);
	mdevctl(out, sizeof(out), MDEVCTL " undefine -u %s", self->uuid);
}

TEST_F(mdevctl, types)
{
	char avail[32], want[64];

	ASSERT_EQ(0, mdevctl(self->out, sizeof(self->out), MDEVCTL " types"));
	EXPECT_NE(NULL, strstr(self->out, "vhost_mdev_sim\n"));
	EXPECT_NE(NULL, strstr(self->out, SIM_TYPE "\n"));
	EXPECT_NE(NULL, strstr(self->out, "Device API: vhost-vdpa"));
	EXPECT_NE(NULL, strstr(self->out, "Name: virtio-net loopback"));
	EXPECT_NE(NULL, strstr(self->out,
			       "Description: simulated net loopback"));
	ASSERT_EQ(0, vmdev_type_attr(VMDEV_SIM_PARENT, SIM_TYPE,
				     "available_instances", avail,
				     sizeof(avail)));
	snprintf(want, sizeof(want), "Available instances: %s", avail);
	EXPECT_NE(NULL, strstr(self->out, want)) TH_LOG("%s", want);
}

/* start -p -t, list, stop: a transient device. */
TEST_F(mdevctl, start_list_stop)
{
	char node[64];

	ASSERT_EQ(0, mdevctl(self->out, sizeof(self->out),
			     MDEVCTL " start -p vhost_mdev_sim -t " SIM_TYPE
			     " -u %s", self->uuid)) TH_LOG("%s", self->out);
	EXPECT_TRUE(mdev_active(self->uuid));
	ASSERT_EQ(0, vmdev_mdev_node(self->uuid, node, sizeof(node)));
	EXPECT_EQ(0, access(node, F_OK));
	ASSERT_EQ(0, mdevctl(self->out, sizeof(self->out), MDEVCTL " list"));
	EXPECT_NE(NULL, strstr(self->out, self->uuid));
	EXPECT_NE(NULL, strstr(self->out, SIM_TYPE));
	ASSERT_EQ(0, mdevctl(self->out, sizeof(self->out),
			     MDEVCTL " stop -u %s", self->uuid));
	EXPECT_FALSE(mdev_active(self->uuid));
	EXPECT_NE(0, access(node, F_OK));
}

/* define, then start by UUID alone: a persistent device. */
TEST_F(mdevctl, define_then_start)
{
	ASSERT_EQ(0, mdevctl(self->out, sizeof(self->out),
			     MDEVCTL " define -p vhost_mdev_sim -t " SIM_TYPE
			     " -u %s", self->uuid)) TH_LOG("%s", self->out);
	EXPECT_FALSE(mdev_active(self->uuid));
	ASSERT_EQ(0, mdevctl(self->out, sizeof(self->out),
			     MDEVCTL " list -d"));
	EXPECT_NE(NULL, strstr(self->out, self->uuid));
	ASSERT_EQ(0, mdevctl(self->out, sizeof(self->out),
			     MDEVCTL " start -u %s", self->uuid))
		TH_LOG("%s", self->out);
	EXPECT_TRUE(mdev_active(self->uuid));
	ASSERT_EQ(0, mdevctl(self->out, sizeof(self->out),
			     MDEVCTL " stop -u %s", self->uuid));
	ASSERT_EQ(0, mdevctl(self->out, sizeof(self->out),
			     MDEVCTL " undefine -u %s", self->uuid));
	ASSERT_EQ(0, mdevctl(self->out, sizeof(self->out),
			     MDEVCTL " list -d"));
	EXPECT_EQ(NULL, strstr(self->out, self->uuid));
}

/*
 * A defined device with a device_features attribute: mdevctl writes it at
 * each start, and the device offers no more (MQ taken out here).
 */
TEST_F(mdevctl, device_features_attribute)
{
	char path[128], buf[32];
	uint64_t all, less;

	ASSERT_EQ(0, mdevctl(self->out, sizeof(self->out),
			     MDEVCTL " start -p vhost_mdev_sim -t " SIM_TYPE
			     " -u %s", self->uuid)) TH_LOG("%s", self->out);
	snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s/device_features",
		 self->uuid);
	ASSERT_EQ(0, vmdev_read_file(path, buf, sizeof(buf)));
	all = strtoull(buf, NULL, 0);
	ASSERT_TRUE(all & (1ULL << VIRTIO_NET_F_MQ)) TH_LOG("%s", buf);
	less = all & ~(1ULL << VIRTIO_NET_F_MQ);
	ASSERT_EQ(0, mdevctl(self->out, sizeof(self->out),
			     MDEVCTL " stop -u %s", self->uuid));

	ASSERT_EQ(0, mdevctl(self->out, sizeof(self->out),
			     MDEVCTL " define -p vhost_mdev_sim -t " SIM_TYPE
			     " -u %s", self->uuid)) TH_LOG("%s", self->out);
	ASSERT_EQ(0, mdevctl(self->out, sizeof(self->out),
			     MDEVCTL " modify -u %s --addattr=device_features --value=%#llx",
			     self->uuid,
			     (unsigned long long)less)) TH_LOG("%s", self->out);
	ASSERT_EQ(0, mdevctl(self->out, sizeof(self->out),
			     MDEVCTL " start -u %s", self->uuid))
		TH_LOG("%s", self->out);
	ASSERT_EQ(0, vmdev_read_file(path, buf, sizeof(buf)));
	EXPECT_EQ(less, strtoull(buf, NULL, 0)) TH_LOG("%s", buf);
	ASSERT_EQ(0, mdevctl(self->out, sizeof(self->out),
			     MDEVCTL " stop -u %s", self->uuid));

	/* A value the device refuses: mdevctl's start fails, nothing stays. */
	ASSERT_EQ(0, mdevctl(self->out, sizeof(self->out),
			     MDEVCTL " modify -u %s --delattr",
			     self->uuid)) TH_LOG("%s", self->out);
	ASSERT_EQ(0, mdevctl(self->out, sizeof(self->out),
			     MDEVCTL " modify -u %s --addattr=device_features --value=0x1",
			     self->uuid)) TH_LOG("%s", self->out);
	EXPECT_NE(0, mdevctl(self->out, sizeof(self->out),
			     MDEVCTL " start -u %s", self->uuid));
	TH_LOG("mdevctl start with device_features=0x1: %s", self->out);
	EXPECT_FALSE(mdev_active(self->uuid));
}

/* The PCI parent when its functions are here: start, list, stop. */
TEST_F(mdevctl, pci_parent)
{
	char bdfs[2][16];

	if (vmdev_pci_find(VMDEV_ACCEL_ID, bdfs, 1) < 1)
		SKIP(return, "no modern virtio-net PCI function");
	if (!vmdev_module_installed("vhost_mdev_pci"))
		SKIP(return, "vhost_mdev_pci is not installed");
	ASSERT_EQ(0, vmdev_modprobe("vhost_mdev_pci"));
	ASSERT_EQ(0, vmdev_pci_bind(bdfs[0], "vhost_mdev_pci"));
	ASSERT_EQ(0, mdevctl(self->out, sizeof(self->out), MDEVCTL " types"));
	EXPECT_NE(NULL, strstr(self->out, "vhost_mdev_pci-net"));
	EXPECT_NE(NULL, strstr(self->out, "Name: virtio-net accelerator function"));
	ASSERT_EQ(0, mdevctl(self->out, sizeof(self->out),
			     MDEVCTL " start -p %s -t vhost_mdev_pci-net -u %s",
			     bdfs[0], self->uuid)) TH_LOG("%s", self->out);
	EXPECT_TRUE(mdev_active(self->uuid));
	ASSERT_EQ(0, mdevctl(self->out, sizeof(self->out), MDEVCTL " list"));
	EXPECT_NE(NULL, strstr(self->out, self->uuid));
	EXPECT_NE(NULL, strstr(self->out, bdfs[0]));
	ASSERT_EQ(0, mdevctl(self->out, sizeof(self->out),
			     MDEVCTL " stop -u %s", self->uuid));
	EXPECT_FALSE(mdev_active(self->uuid));
	EXPECT_EQ(0, vmdev_pci_release(bdfs[0]));
}

TEST_HARNESS_MAIN
