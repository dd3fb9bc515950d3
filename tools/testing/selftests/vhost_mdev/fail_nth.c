// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fault injection sweep, after tools/testing/selftests/iommu/iommufd_fail_nth.c:
 * run a sequence that touches every allocation path of the driver (mdev
 * create, open, owner, IOTLB update over several runs, memory table,
 * rings, eventfds, DRIVER_OK, config, close, remove) with the nth slab or
 * page allocation failing, for n = 1, 2, ... until a run completes with no
 * failure left. Each step must fail cleanly or succeed: afterwards nothing
 * is pinned, no mdev is left, and the runner finds no splat and no kmemleak
 * report. Needs a kernel with FAULT_INJECTION (the debug flavour).
 */
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <linux/virtio_config.h>

#include "kselftest_harness.h"
#include "vmdev_test.h"

#define PAGE	4096UL
#define NPAGES	64
#define MAX_NTH	20000

static char fail_nth_path[64];

static int set_fail_nth(unsigned int nth)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "%u", nth);
	return vmdev_write_file(fail_nth_path, buf);
}

/* The countdown left: 0 once the nth failure was injected. */
static int get_fail_nth(void)
{
	char buf[16];

	if (vmdev_read_file(fail_nth_path, buf, sizeof(buf)))
		return -1;
	return atoi(buf);
}

static void status(int fd, uint8_t st)
{
	vmdev_set_status(fd, st);
}

/* Everything in order; errors are expected and ignored. */
static void sequence(const char *uuid, uint8_t *buf)
{
	struct {
		struct vhost_memory hdr;
		struct vhost_memory_region r[2];
	} table = {
		.hdr.nregions = 2,
		.r = {
			{ 0x100000, NPAGES / 2 * PAGE, (uintptr_t)buf },
			{ 0x200000, NPAGES / 2 * PAGE,
			  (uintptr_t)buf + NPAGES / 2 * PAGE },
		},
	};
	struct {
		struct vhost_vdpa_config c;
		uint8_t buf[8];
	} cfg = { .c = { .off = 0, .len = 6 } };
	uint64_t features = (1ULL << VIRTIO_F_VERSION_1) |
			    (1ULL << VIRTIO_F_ACCESS_PLATFORM);
	uint64_t backend = 1ULL << VHOST_BACKEND_F_IOTLB_MSG_V2;
	struct vhost_vring_addr a = { 0 };
	char node[64];
	int fd, efd, q;

	if (vmdev_mdev_create(VMDEV_SIM_PARENT, VMDEV_SIM_NET_TYPE, uuid))
		return;
	if (vmdev_mdev_node(uuid, node, sizeof(node)))
		return;
	fd = open(node, O_RDWR);
	if (fd < 0)
		return;
	efd = eventfd(0, 0);

	vmdev_ioctl(fd, VHOST_SET_OWNER, NULL);
	vmdev_ioctl(fd, VHOST_SET_BACKEND_FEATURES, &backend);
	status(fd, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	status(fd, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	vmdev_ioctl(fd, VHOST_SET_FEATURES, &features);
	status(fd, 0xb);
	vmdev_iotlb_msg(fd, 0, VHOST_IOTLB_UPDATE, 0x100000, NPAGES * PAGE,
			(uintptr_t)buf, VHOST_ACCESS_RW);
	vmdev_ioctl(fd, VHOST_SET_MEM_TABLE, &table);
	for (q = 0; q < 2; q++) {
		a = (struct vhost_vring_addr) {
			.index = q, .desc_user_addr = 0x100000 + q * 0x3000,
			.avail_user_addr = 0x101000 + q * 0x3000,
			.used_user_addr = 0x102000 + q * 0x3000,
		};
		vmdev_vring_state(fd, VHOST_SET_VRING_NUM, q, 64);
		vmdev_vring_state(fd, VHOST_SET_VRING_BASE, q, 0);
		vmdev_ioctl(fd, VHOST_SET_VRING_ADDR, &a);
		vmdev_vring_file(fd, VHOST_SET_VRING_KICK, q, efd);
		vmdev_vring_file(fd, VHOST_SET_VRING_CALL, q, efd);
		vmdev_vring_state(fd, VHOST_VDPA_SET_VRING_ENABLE, q, 1);
	}
	vmdev_ioctl(fd, VHOST_VDPA_SET_CONFIG_CALL, &efd);
	status(fd, 0xf);
	vmdev_ioctl(fd, VHOST_VDPA_GET_CONFIG, &cfg);
	vmdev_ioctl(fd, VHOST_VDPA_SET_CONFIG, &cfg);
	vmdev_iotlb_msg(fd, 0, VHOST_IOTLB_INVALIDATE, 0x100000,
			NPAGES * PAGE, 0, 0);
	close(fd);
	if (efd >= 0)
		close(efd);
	vmdev_mdev_remove(uuid);
}

/* Set every fault attribute up for a sweep of GFP_KERNEL allocations. */
static int setup_fault_injection(void)
{
	static const char *const files[][2] = {
		{ "/sys/kernel/debug/failslab/ignore-gfp-wait", "N" },
		{ "/sys/kernel/debug/failslab/verbose", "0" },
		{ "/sys/kernel/debug/fail_page_alloc/ignore-gfp-wait", "N" },
		{ "/sys/kernel/debug/fail_page_alloc/verbose", "0" },
		{ "/sys/kernel/debug/fail_usercopy/verbose", "0" },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(files); i++)
		if (vmdev_write_file(files[i][0], files[i][1]))
			return -1;
	return 0;
}

FIXTURE(fail_nth) {
};

FIXTURE_SETUP(fail_nth)
{
}

FIXTURE_TEARDOWN(fail_nth)
{
}

TEST_F_TIMEOUT(fail_nth, sweep, 1200)
{
	struct rlimit rl = { 16 << 20, 16 << 20 };
	long pin0 = vmdev_vmpin_kb();
	unsigned int nth, injected = 0;
	char uuid[37], path[128];
	uint8_t *buf;

	snprintf(fail_nth_path, sizeof(fail_nth_path),
		 "/proc/self/task/%ld/fail-nth", (long)syscall(SYS_gettid));
	if (access(fail_nth_path, F_OK))
		SKIP(return, "this kernel has no fault injection (FAULT_INJECTION)");
	if (setup_fault_injection())
		SKIP(return, "no failslab / fail_page_alloc in debugfs");
	if (!vmdev_module_installed("vhost_mdev_sim"))
		SKIP(return, "vhost_mdev_sim is not installed");
	ASSERT_EQ(0, vmdev_modprobe("vhost_mdev_sim"));
	ASSERT_EQ(0, setrlimit(RLIMIT_MEMLOCK, &rl));
	buf = mmap(NULL, NPAGES * PAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, buf);

	for (nth = 1; nth < MAX_NTH; nth++) {
		ASSERT_EQ(0, vmdev_uuid_random(uuid));
		ASSERT_EQ(0, set_fail_nth(nth));
		sequence(uuid, buf);
		if (get_fail_nth() > 0) {
			set_fail_nth(0);
			break;		/* a whole run without a failure left */
		}
		set_fail_nth(0);
		injected++;
		/* Whatever failed, nothing stays pinned and no mdev stays. */
		ASSERT_EQ(pin0, vmdev_vmpin_kb()) TH_LOG("nth %u", nth);
		snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s", uuid);
		if (!access(path, F_OK))
			ASSERT_EQ(0, vmdev_mdev_remove(uuid))
				TH_LOG("nth %u: mdev left behind", nth);
	}
	ASSERT_LT(nth, MAX_NTH);
	TH_LOG("%u allocations failed in turn, then a clean run", injected);
	/* And the device still works from scratch. */
	ASSERT_EQ(0, vmdev_uuid_random(uuid));
	ASSERT_EQ(0, vmdev_mdev_create(VMDEV_SIM_PARENT, VMDEV_SIM_NET_TYPE,
				       uuid));
	ASSERT_EQ(0, vmdev_mdev_remove(uuid));
	munmap(buf, NPAGES * PAGE);
}

TEST_HARNESS_MAIN
