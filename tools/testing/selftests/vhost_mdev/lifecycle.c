// SPDX-License-Identifier: GPL-2.0-only
/*
 * mdev lifecycle on the simulator parent: types and their attributes,
 * create and remove through sysfs, the character device that comes and goes
 * with each mdev, minor reuse, removal under an open file, module unload,
 * and a thousand cycles with nothing leaked.
 */
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "kselftest_harness.h"
#include "vmdev_test.h"

#define SIM	"vhost_mdev_sim"
#define CORE	"vhost_mdev"
#define TYPE_DIR VMDEV_SIM_PARENT "/mdev_supported_types/" VMDEV_SIM_NET_TYPE

static int type_attr(const char *attr, char *buf, size_t len)
{
	return vmdev_type_attr(VMDEV_SIM_PARENT, VMDEV_SIM_NET_TYPE, attr, buf,
			       len);
}

static int available(void)
{
	char buf[32];

	if (type_attr("available_instances", buf, sizeof(buf)))
		return -1;
	return atoi(buf);
}

static int module_refs(const char *module)
{
	char path[128], buf[32];

	snprintf(path, sizeof(path), "/sys/module/%s/refcnt", module);
	if (vmdev_read_file(path, buf, sizeof(buf)))
		return -1;
	return atoi(buf);
}

FIXTURE(lifecycle) {
	char uuid[37];
	char node[64];
};

FIXTURE_SETUP(lifecycle)
{
	if (!vmdev_module_installed(SIM))
		SKIP(return, SIM ".ko is not installed");
	ASSERT_EQ(0, vmdev_modprobe(SIM));
	ASSERT_EQ(0, vmdev_uuid_random(self->uuid));
}

FIXTURE_TEARDOWN(lifecycle)
{
}

static int create(const char *uuid)
{
	return vmdev_mdev_create(VMDEV_SIM_PARENT, VMDEV_SIM_NET_TYPE, uuid);
}

TEST_F(lifecycle, type_attributes)
{
	char buf[256];
	int avail;

	ASSERT_EQ(0, type_attr("name", buf, sizeof(buf)));
	EXPECT_STREQ("virtio-net loopback", buf);
	ASSERT_EQ(0, type_attr("device_api", buf, sizeof(buf)));
	EXPECT_STREQ(VHOST_MDEV_DEVICE_API_STRING, buf);
	ASSERT_EQ(0, type_attr("description", buf, sizeof(buf)));
	EXPECT_NE(NULL, strstr(buf, "net"));
	EXPECT_NE(NULL, strstr(buf, "5 virtqueues"));

	avail = available();
	ASSERT_LT(0, avail);
	ASSERT_EQ(0, create(self->uuid));
	EXPECT_EQ(avail - 1, available());
	ASSERT_EQ(0, vmdev_mdev_remove(self->uuid));
	EXPECT_EQ(avail, available());
}

TEST_F(lifecycle, create_and_remove)
{
	char path[256], name[32];
	struct stat st;
	int major = vmdev_chrdev_major("vhost-vdpa-mdev");

	ASSERT_LT(0, major);
	ASSERT_EQ(0, create(self->uuid));
	ASSERT_EQ(0, vmdev_mdev_node(self->uuid, self->node,
				     sizeof(self->node)));
	/* UUID -> class device -> node, and the node is ours. */
	snprintf(name, sizeof(name), "%s", self->node + 5);
	snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s/vhost-mdev/%s",
		 self->uuid, name);
	EXPECT_TRUE(vmdev_is_dir(path));
	snprintf(path, sizeof(path), "/sys/class/vhost-mdev/%s", name);
	EXPECT_EQ(0, access(path, F_OK));
	ASSERT_EQ(0, stat(self->node, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(major, major(st.st_rdev));

	ASSERT_EQ(0, vmdev_mdev_remove(self->uuid));
	EXPECT_EQ(-1, stat(self->node, &st));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_NE(0, access(path, F_OK));
	/* Gone is gone: removing again finds nothing. */
	EXPECT_EQ(-ENOENT, vmdev_mdev_remove(self->uuid));
}

/*
 * Each mdev has an IOMMU group of its own (libvirt's node device driver
 * drops an mdev without one), gone with the mdev.
 */
TEST_F(lifecycle, own_iommu_group)
{
	char path[400], link[256], group[300];
	ssize_t n;

	if (!vmdev_is_dir("/sys/kernel/iommu_groups"))
		SKIP(return, "this kernel has no IOMMU API");
	ASSERT_EQ(0, create(self->uuid));
	snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s/iommu_group",
		 self->uuid);
	n = readlink(path, link, sizeof(link) - 1);
	ASSERT_LT(0, n);
	link[n] = '\0';
	snprintf(group, sizeof(group), "/sys/kernel/iommu_groups/%s",
		 strrchr(link, '/') + 1);
	ASSERT_TRUE(vmdev_is_dir(group));
	/* It holds the mdev and nothing else. */
	snprintf(path, sizeof(path), "%s/devices", group);
	EXPECT_EQ(1, vmdev_count_dir(path));
	snprintf(path, sizeof(path), "%s/devices/%s", group, self->uuid);
	EXPECT_EQ(0, access(path, F_OK));

	ASSERT_EQ(0, vmdev_mdev_remove(self->uuid));
	EXPECT_FALSE(vmdev_is_dir(group));
}

TEST_F(lifecycle, duplicate_and_bad_uuid)
{
	ASSERT_EQ(0, create(self->uuid));
	EXPECT_EQ(-EEXIST, create(self->uuid));
	EXPECT_EQ(-EINVAL, create("not-a-uuid"));
	EXPECT_EQ(0, vmdev_mdev_remove(self->uuid));
}

TEST_F(lifecycle, instances_run_out)
{
	char uuids[16][37];
	int avail = available(), i;

	ASSERT_LT(0, avail);
	ASSERT_GE(16, avail);
	for (i = 0; i < avail; i++) {
		ASSERT_EQ(0, vmdev_uuid_random(uuids[i]));
		ASSERT_EQ(0, create(uuids[i]));
	}
	EXPECT_EQ(0, available());
	EXPECT_EQ(-ENOSPC, create(self->uuid));
	for (i = 0; i < avail; i++)
		EXPECT_EQ(0, vmdev_mdev_remove(uuids[i]));
	EXPECT_EQ(avail, available());
	EXPECT_EQ(0, create(self->uuid));
	EXPECT_EQ(0, vmdev_mdev_remove(self->uuid));
}

TEST_F(lifecycle, minor_reuse)
{
	char first[64], uuid2[37];

	ASSERT_EQ(0, create(self->uuid));
	ASSERT_EQ(0, vmdev_mdev_node(self->uuid, first, sizeof(first)));
	ASSERT_EQ(0, vmdev_mdev_remove(self->uuid));
	ASSERT_EQ(0, vmdev_uuid_random(uuid2));
	ASSERT_EQ(0, create(uuid2));
	ASSERT_EQ(0, vmdev_mdev_node(uuid2, self->node, sizeof(self->node)));
	EXPECT_STREQ(first, self->node);
	EXPECT_EQ(0, vmdev_mdev_remove(uuid2));
}

/*
 * Removing the mdev under an open, running session: removal does not wait
 * for the file, the session is stopped at once (pages unpinned), and the
 * file answers -ENODEV until it is closed.
 */
TEST_F(lifecycle, remove_while_open)
{
	struct vmdev_opts o = { .iova = 0x100000 };
	uint8_t frame[64] = { 0xff };
	struct vmdev d;
	long pin0 = vmdev_vmpin_kb();
	uint64_t features;
	void *p;

	ASSERT_EQ(0, create(self->uuid));
	ASSERT_EQ(0, vmdev_mdev_node(self->uuid, self->node,
				     sizeof(self->node)));
	ASSERT_EQ(0, vmdev_open(&d, self->node, &o));
	ASSERT_EQ(0, vmdev_send(&d, 0, frame, sizeof(frame), true));
	EXPECT_LT(pin0, vmdev_vmpin_kb());

	ASSERT_EQ(0, vmdev_mdev_remove(self->uuid));
	EXPECT_EQ(pin0, vmdev_vmpin_kb());
	EXPECT_EQ(-ENODEV, vmdev_ioctl(d.fd, VHOST_GET_FEATURES, &features));
	EXPECT_EQ(-ENODEV, vmdev_set_status(d.fd, 0));
	EXPECT_EQ(-ENODEV, vmdev_iotlb_msg(d.fd, 0, VHOST_IOTLB_INVALIDATE,
					   0, 4096, 0, 0));
	p = mmap(NULL, 4096, PROT_WRITE, MAP_SHARED, d.fd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(ENODEV, errno);
	EXPECT_NE(0, access(self->node, F_OK));
	vmdev_close(&d);
}

/*
 * Unloading the simulator removes its mdevs, open or not; the core stays
 * loaded while a file is open (it owns the file's code).
 */
TEST_F(lifecycle, unload_simulator_with_mdevs)
{
	char uuid2[37], node2[64];
	uint64_t features;
	int fd;

	ASSERT_EQ(0, create(self->uuid));
	ASSERT_EQ(0, vmdev_uuid_random(uuid2));
	ASSERT_EQ(0, create(uuid2));
	ASSERT_EQ(0, vmdev_mdev_node(self->uuid, self->node,
				     sizeof(self->node)));
	ASSERT_EQ(0, vmdev_mdev_node(uuid2, node2, sizeof(node2)));
	fd = open(self->node, O_RDWR);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, vmdev_ioctl(fd, VHOST_SET_OWNER, NULL));

	/* The core cannot go while the simulator uses it. */
	EXPECT_NE(0, vmdev_rmmod(CORE));
	ASSERT_EQ(0, vmdev_unload_parents());
	EXPECT_NE(0, access(self->node, F_OK));
	EXPECT_NE(0, access(node2, F_OK));
	EXPECT_EQ(-ENODEV, vmdev_ioctl(fd, VHOST_GET_FEATURES, &features));
	/* The open file keeps the core. */
	EXPECT_NE(0, vmdev_rmmod(CORE));
	close(fd);
	EXPECT_EQ(0, vmdev_rmmod(CORE));
	ASSERT_EQ(0, vmdev_modprobe(SIM));
	EXPECT_TRUE(vmdev_module_loaded(CORE));
}

/*
 * Bytes of live kmalloc objects (active objects times size, from
 * /proc/slabinfo) once caches are dropped and RCU frees have run: unlike
 * MemFree or SUnreclaim, partly used slab pages do not blur it.
 */
static long settled_kmalloc_kb(void)
{
	long active, size, bytes = 0;
	char line[512], name[64];
	FILE *f;

	vmdev_write_file("/proc/sys/vm/drop_caches", "3");
	sleep(2);
	f = fopen("/proc/slabinfo", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%63s %ld %*d %ld", name, &active, &size) == 3 &&
		    !strncmp(name, "kmalloc-", 8))
			bytes += active * size;
	fclose(f);
	return bytes / 1024;
}

/*
 * Create, open, own, map, close, remove, a thousand times: pins, module
 * references and minors come back exactly, and live kmalloc memory does not
 * grow by what a leaked device would cost (a device is several kB). The
 * bound is 512 bytes a cycle: the mdev framework itself keeps about 150
 * (kernfs node names from __kernfs_new_node, measured with slub_debug=U;
 * upstream's mtty sample shows the same growth). With KASAN (the debug
 * flavour: its quarantine holds freed objects) kmemleak is the check
 * instead; the runner scans after the suite. kmemleak reports one leaked
 * object as surely as a thousand, so there a hundred cycles do (a thousand
 * took 100 s of the debug run).
 */
TEST_F_TIMEOUT(lifecycle, create_open_map_remove_cycles, 600)
{
	long pin0 = vmdev_vmpin_kb(), kb0, kb1;
	int core0 = module_refs(CORE), sim0 = module_refs(SIM);
	bool kmemleak = vmdev_debug_kernel();
	int i, fd, cycles = kmemleak ? 100 : 1000;
	char first[64];
	uint8_t *buf;

	buf = mmap(NULL, 16 * 4096, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, buf);
	kb0 = settled_kmalloc_kb();
	ASSERT_LE(0, kb0);
	for (i = 0; i < cycles; i++) {
		ASSERT_EQ(0, vmdev_uuid_random(self->uuid));
		ASSERT_EQ(0, create(self->uuid)) TH_LOG("cycle %d", i);
		ASSERT_EQ(0, vmdev_mdev_node(self->uuid, self->node,
					     sizeof(self->node)));
		if (!i)
			snprintf(first, sizeof(first), "%s", self->node);
		/* Each cycle's minor is free again for the next one. */
		ASSERT_STREQ(first, self->node);
		fd = open(self->node, O_RDWR);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, vmdev_ioctl(fd, VHOST_SET_OWNER, NULL));
		ASSERT_EQ((long)sizeof(struct vhost_msg_v2),
			  vmdev_iotlb_msg(fd, 0, VHOST_IOTLB_UPDATE, 0x100000,
					  16 * 4096, (uintptr_t)buf,
					  VHOST_ACCESS_RW));
		close(fd);
		ASSERT_EQ(0, vmdev_mdev_remove(self->uuid));
	}
	kb1 = settled_kmalloc_kb();
	EXPECT_EQ(pin0, vmdev_vmpin_kb());
	EXPECT_EQ(core0, module_refs(CORE));
	EXPECT_EQ(sim0, module_refs(SIM));
	TH_LOG("live kmalloc memory %+ld kB after %d cycles", kb1 - kb0,
	       cycles);
	if (!kmemleak)
		EXPECT_GT(500, kb1 - kb0);
	munmap(buf, 16 * 4096);
}

TEST_HARNESS_MAIN
