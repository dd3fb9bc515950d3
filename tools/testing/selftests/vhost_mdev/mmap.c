// SPDX-License-Identifier: GPL-2.0-only
/*
 * Doorbell mmap rules: one page, shared, write-only, page offset below the
 * queue count, for the owner; a device without a mappable doorbell says so.
 */
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "vmdev_test.h"

#define PAGE		4096UL
#define SIM_NVQS	5

FIXTURE(mmap) {
	char uuid[37];
	char node[64];
	int fd;
};

FIXTURE_SETUP(mmap)
{
	self->fd = vmdev_sim_open(self->uuid, self->node, sizeof(self->node));
	if (self->fd == -ENOENT)
		SKIP(return, "vhost_mdev_sim is not installed");
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(mmap)
{
	EXPECT_EQ(0, vmdev_sim_close(self->fd, self->uuid));
}

/* mmap()'s errno, or 0 (and the mapping undone) if it succeeded. */
static int try_map(int fd, size_t len, int prot, int flags, unsigned long pg)
{
	void *p = mmap(NULL, len, prot, flags, fd, pg * PAGE);

	if (p == MAP_FAILED)
		return errno;
	munmap(p, len);
	return 0;
}

TEST_F(mmap, owner_only)
{
	EXPECT_EQ(EPERM, try_map(self->fd, PAGE, PROT_WRITE, MAP_SHARED, 0));
}

TEST_F(mmap, bad_requests)
{
	ASSERT_EQ(0, vmdev_ioctl(self->fd, VHOST_SET_OWNER, NULL));
	/* Length: one page exactly. */
	EXPECT_EQ(EINVAL, try_map(self->fd, 2 * PAGE, PROT_WRITE, MAP_SHARED,
				  0));
	EXPECT_EQ(EINVAL, try_map(self->fd, 0, PROT_WRITE, MAP_SHARED, 0));
	/* Shared, write-only. */
	EXPECT_EQ(EINVAL, try_map(self->fd, PAGE, PROT_WRITE, MAP_PRIVATE, 0));
	EXPECT_EQ(EINVAL, try_map(self->fd, PAGE, PROT_READ, MAP_SHARED, 0));
	EXPECT_EQ(EINVAL, try_map(self->fd, PAGE, PROT_READ | PROT_WRITE,
				  MAP_SHARED, 0));
	EXPECT_EQ(EINVAL, try_map(self->fd, PAGE, PROT_WRITE | PROT_EXEC,
				  MAP_SHARED, 0));
	/* Page offset = queue index: below the queue count (both sides). */
	EXPECT_EQ(EINVAL, try_map(self->fd, PAGE, PROT_WRITE, MAP_SHARED,
				  SIM_NVQS));
	EXPECT_EQ(EINVAL, try_map(self->fd, PAGE, PROT_WRITE, MAP_SHARED,
				  SIM_NVQS + 1));
	EXPECT_EQ(EINVAL, try_map(self->fd, PAGE, PROT_WRITE, MAP_SHARED,
				  65535));
	EXPECT_EQ(EINVAL, try_map(self->fd, PAGE, PROT_WRITE, MAP_SHARED,
				  65536));
	EXPECT_EQ(EINVAL, try_map(self->fd, PAGE, PROT_WRITE, MAP_SHARED,
				  1UL << 40));
}

/* The simulator has no doorbell page: clients fall back to eventfds. */
TEST_F(mmap, simulator_has_no_doorbell)
{
	unsigned int q;

	ASSERT_EQ(0, vmdev_ioctl(self->fd, VHOST_SET_OWNER, NULL));
	for (q = 0; q < SIM_NVQS; q++)
		EXPECT_EQ(EOPNOTSUPP, try_map(self->fd, PAGE, PROT_WRITE,
					      MAP_SHARED, q));
}

TEST_HARNESS_MAIN
