// SPDX-License-Identifier: GPL-2.0-only
/*
 * Module parameters: the IOVA window a device reports (the simulator's
 * iova_first / iova_last) and the IOTLB entry limit of the core
 * (max_iotlb_entries), both sides of each bound; and the simulator's
 * crossover, which joins devices in pairs.
 */
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "vmdev_test.h"

#define SIM	"vhost_mdev_sim"
#define CORE	"vhost_mdev"
#define PAGE	4096UL
#define FIRST	0x10000ULL
#define LAST	0xffffffffULL
#define ENTRIES	4
#define MSG	((long)sizeof(struct vhost_msg_v2))

FIXTURE(limits) {
	char uuid[37];
	char node[64];
	int fd;
	uint8_t *buf;
};

/* Reload the modules with @core_params and @sim_params. */
static int reload(const char *core_params, const char *sim_params)
{
	if (vmdev_unload_parents())
		return -1;
	if (vmdev_module_loaded(CORE) && vmdev_rmmod(CORE))
		return -1;
	if (vmdev_modprobe_params(CORE, core_params))
		return -1;
	return vmdev_modprobe_params(SIM, sim_params);
}

FIXTURE_SETUP(limits)
{
	char params[128];

	self->fd = -1;
	if (!vmdev_module_installed(SIM))
		SKIP(return, SIM ".ko is not installed");
	snprintf(params, sizeof(params), "max_iotlb_entries=%d", ENTRIES);
	ASSERT_EQ(0, reload(params, "iova_first=0x10000 iova_last=0xffffffff"));
	ASSERT_EQ(0, vmdev_sim_mdev(self->uuid, self->node,
				    sizeof(self->node)));
	self->fd = open(self->node, O_RDWR);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, vmdev_ioctl(self->fd, VHOST_SET_OWNER, NULL));
	self->buf = mmap(NULL, 16 * PAGE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
}

FIXTURE_TEARDOWN(limits)
{
	if (self->fd >= 0)
		close(self->fd);
	if (self->uuid[0])
		EXPECT_EQ(0, vmdev_mdev_remove(self->uuid));
	EXPECT_EQ(0, reload("", ""));
}

static long update(int fd, uint64_t iova, uint64_t size, const void *va)
{
	return vmdev_iotlb_msg(fd, 0, VHOST_IOTLB_UPDATE, iova, size,
			       (uintptr_t)va, VHOST_ACCESS_RW);
}

TEST_F(limits, iova_window)
{
	struct vhost_vdpa_iova_range r;

	ASSERT_EQ(0, vmdev_ioctl(self->fd, VHOST_VDPA_GET_IOVA_RANGE, &r));
	EXPECT_EQ(FIRST, r.first);
	EXPECT_EQ(LAST, r.last);
	/* Below the first IOVA, across it, at it. */
	EXPECT_EQ(-EINVAL, update(self->fd, FIRST - PAGE, PAGE, self->buf));
	EXPECT_EQ(-EINVAL, update(self->fd, FIRST - PAGE, 2 * PAGE, self->buf));
	EXPECT_EQ(MSG, update(self->fd, FIRST, PAGE, self->buf));
	/* Across the last IOVA, up to it. */
	EXPECT_EQ(-EINVAL, update(self->fd, LAST + 1 - PAGE, 2 * PAGE,
				  self->buf));
	EXPECT_EQ(-EINVAL, update(self->fd, LAST + 1, PAGE, self->buf));
	EXPECT_EQ(MSG, update(self->fd, LAST + 1 - PAGE, PAGE, self->buf));
}

/* Each one-page UPDATE is one entry: the next one past the limit fails. */
TEST_F(limits, iotlb_entries)
{
	long pin0 = vmdev_vmpin_kb();
	int i;

	for (i = 0; i < ENTRIES; i++)
		EXPECT_EQ(MSG, update(self->fd, FIRST + 2 * i * PAGE, PAGE,
				      self->buf + i * PAGE));
	EXPECT_EQ(-ENOSPC, update(self->fd, FIRST + 2 * i * PAGE, PAGE,
				  self->buf + i * PAGE));
	EXPECT_EQ(pin0, vmdev_vmpin_kb() - 4 * ENTRIES);
	/* One freed, one more fits. */
	EXPECT_EQ(MSG, vmdev_iotlb_msg(self->fd, 0, VHOST_IOTLB_INVALIDATE,
				       FIRST, PAGE, 0, 0));
	EXPECT_EQ(MSG, update(self->fd, FIRST + 2 * i * PAGE, PAGE,
			      self->buf + i * PAGE));
}

/*
 * crossover=1: devices pair up in creation order, and what one transmits
 * the other receives (nothing comes back to the sender); a device left
 * alone waits for the next one.
 */
TEST(crossover)
{
	struct vmdev_opts o = { .iova = 0x100000 };
	struct vmdev a, b;
	char ua[37], ub[37], na[64], nb[64];
	uint8_t out[1514], in[2048];
	unsigned int i;
	int len;

	vmdev_init(&a);
	vmdev_init(&b);
	if (!vmdev_module_installed(SIM))
		SKIP(return, SIM ".ko is not installed");
	ASSERT_EQ(0, reload("", "crossover=1"));
	ASSERT_EQ(0, vmdev_sim_mdev(ua, na, sizeof(na)));
	ASSERT_EQ(0, vmdev_sim_mdev(ub, nb, sizeof(nb)));
	ASSERT_EQ(0, vmdev_open(&a, na, &o));
	ASSERT_EQ(0, vmdev_open(&b, nb, &o));
	for (i = 0; i < 1000; i++) {
		len = 60 + i % 1455;
		memset(out, i, len);
		ASSERT_EQ(0, vmdev_send(i & 1 ? &b : &a, 0, out, len, true));
		ASSERT_EQ(len, vmdev_recv_wait(i & 1 ? &a : &b, 0, in,
					       sizeof(in), 5000));
		ASSERT_EQ(0, memcmp(out, in, len));
	}
	/* Nothing looped back to a sender. */
	EXPECT_EQ(-EAGAIN, vmdev_recv(&a, 0, in, sizeof(in)));
	EXPECT_EQ(-EAGAIN, vmdev_recv(&b, 0, in, sizeof(in)));
	vmdev_close(&a);
	vmdev_close(&b);
	EXPECT_EQ(0, vmdev_mdev_remove(ua));
	EXPECT_EQ(0, vmdev_mdev_remove(ub));
	EXPECT_EQ(0, reload("", ""));
}

TEST_HARNESS_MAIN
