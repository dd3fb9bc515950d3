// SPDX-License-Identifier: GPL-2.0-only
/*
 * Guest memory: IOTLB messages and VHOST_SET_MEM_TABLE, pinning and its
 * accounting (VmPin against RLIMIT_MEMLOCK). Every refused request leaves
 * VmPin where it was.
 */
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "vmdev_test.h"

#define PAGE		4096UL
#define IOVA		0x100000ULL
#define NPAGES		64
#define RO		VHOST_ACCESS_RO
#define WO		VHOST_ACCESS_WO
#define RW		VHOST_ACCESS_RW

FIXTURE(memory) {
	char uuid[37];
	char node[64];
	int fd;
	uint8_t *buf;		/* NPAGES pages, populated */
	long pin0;		/* VmPin before the test, -1 until known */
};

FIXTURE_SETUP(memory)
{
	struct rlimit rl = { 64 << 20, 64 << 20 };
	int ret = vmdev_sim_mdev(self->uuid, self->node, sizeof(self->node));

	self->fd = -1;
	self->pin0 = -1;
	if (ret == -ENOENT)
		SKIP(return, "vhost_mdev_sim is not installed");
	ASSERT_EQ(0, ret);
	ASSERT_EQ(0, setrlimit(RLIMIT_MEMLOCK, &rl));
	self->fd = open(self->node, O_RDWR);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, vmdev_ioctl(self->fd, VHOST_SET_OWNER, NULL));
	self->buf = mmap(NULL, NPAGES * PAGE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
	self->pin0 = vmdev_vmpin_kb();
	ASSERT_LE(0, self->pin0);
}

FIXTURE_TEARDOWN(memory)
{
	if (self->fd >= 0)
		close(self->fd);
	/* Closing unpins everything. */
	if (self->pin0 >= 0)
		EXPECT_EQ(self->pin0, vmdev_vmpin_kb());
	if (self->uuid[0])
		EXPECT_EQ(0, vmdev_mdev_remove(self->uuid));
}

static long update(int fd, uint64_t iova, uint64_t size, const void *va,
		   uint8_t perm)
{
	return vmdev_iotlb_msg(fd, 0, VHOST_IOTLB_UPDATE, iova, size,
			       (uintptr_t)va, perm);
}

static long invalidate(int fd, uint64_t iova, uint64_t size)
{
	return vmdev_iotlb_msg(fd, 0, VHOST_IOTLB_INVALIDATE, iova, size, 0, 0);
}

#define MSG	((long)sizeof(struct vhost_msg_v2))
#define PIN_KB(self)	(vmdev_vmpin_kb() - (self)->pin0)

TEST_F(memory, update_invalidate_accounting)
{
	EXPECT_EQ(MSG, update(self->fd, IOVA, 16 * PAGE, self->buf, RW));
	EXPECT_EQ(64, PIN_KB(self));
	EXPECT_EQ(MSG, update(self->fd, IOVA + 16 * PAGE, 16 * PAGE,
			      self->buf + 16 * PAGE, RO));
	EXPECT_EQ(128, PIN_KB(self));
	/* The same pages at a second IOVA count twice, as in vhost-vdpa. */
	EXPECT_EQ(MSG, update(self->fd, 1ULL << 40, 16 * PAGE, self->buf, WO));
	EXPECT_EQ(192, PIN_KB(self));
	EXPECT_EQ(MSG, invalidate(self->fd, IOVA, 32 * PAGE));
	EXPECT_EQ(64, PIN_KB(self));
	/* Nothing there: not an error. */
	EXPECT_EQ(MSG, invalidate(self->fd, IOVA, 32 * PAGE));
	/* DPDK's "everything". */
	EXPECT_EQ(MSG, invalidate(self->fd, 0, UINT64_MAX));
	EXPECT_EQ(0, PIN_KB(self));
}

/*
 * An entry the invalidated range touches goes whole. Entries are the
 * physically contiguous runs of an UPDATE, so more than the range may go,
 * never less: the range itself is free again, and what is left of the
 * UPDATE goes with the rest of it.
 */
TEST_F(memory, invalidate_partial_overlap)
{
	EXPECT_EQ(MSG, update(self->fd, IOVA, 16 * PAGE, self->buf, RW));
	EXPECT_EQ(MSG, invalidate(self->fd, IOVA + 15 * PAGE, PAGE));
	EXPECT_GT(64, PIN_KB(self));
	EXPECT_EQ(MSG, update(self->fd, IOVA + 15 * PAGE, PAGE, self->buf, RW));
	EXPECT_EQ(MSG, invalidate(self->fd, IOVA, 16 * PAGE));
	EXPECT_EQ(0, PIN_KB(self));
	EXPECT_EQ(MSG, update(self->fd, IOVA, 16 * PAGE, self->buf, RW));
}

TEST_F(memory, update_bad_ranges)
{
	/* Empty, wrapping, unaligned. */
	EXPECT_EQ(-EINVAL, update(self->fd, IOVA, 0, self->buf, RW));
	EXPECT_EQ(-EINVAL, update(self->fd, 0, 0, 0, RW));
	EXPECT_EQ(-EINVAL, update(self->fd, UINT64_MAX - PAGE + 1, 2 * PAGE,
				  self->buf, RW));
	EXPECT_EQ(-EINVAL, update(self->fd, IOVA + 1, PAGE, self->buf, RW));
	EXPECT_EQ(-EINVAL, update(self->fd, IOVA, PAGE + 1, self->buf, RW));
	EXPECT_EQ(-EINVAL, update(self->fd, IOVA, PAGE, self->buf + 1, RW));
	EXPECT_EQ(-EINVAL, update(self->fd, IOVA, 2 * PAGE,
				  (void *)(UINTPTR_MAX - PAGE + 1), RW));
	EXPECT_EQ(0, PIN_KB(self));
	/* The very top of the IOVA space is fine ([0, U64_MAX] here). */
	EXPECT_EQ(MSG, update(self->fd, UINT64_MAX - PAGE + 1, PAGE, self->buf,
			      RW));
	EXPECT_EQ(MSG, update(self->fd, 0, PAGE, self->buf, RW));
	EXPECT_EQ(8, PIN_KB(self));
	/* Invalidate: empty or wrapping is refused (stricter than vhost). */
	EXPECT_EQ(-EINVAL, invalidate(self->fd, IOVA, 0));
	EXPECT_EQ(-EINVAL, invalidate(self->fd, UINT64_MAX, 2));
}

TEST_F(memory, update_overlap)
{
	ASSERT_EQ(MSG, update(self->fd, IOVA + 4 * PAGE, 8 * PAGE,
			      self->buf, RW));
	/* Identical, inside, containing, overlapping either end. */
	EXPECT_EQ(-EEXIST, update(self->fd, IOVA + 4 * PAGE, 8 * PAGE,
				  self->buf, RW));
	EXPECT_EQ(-EEXIST, update(self->fd, IOVA + 5 * PAGE, PAGE,
				  self->buf, RW));
	EXPECT_EQ(-EEXIST, update(self->fd, IOVA, 16 * PAGE, self->buf, RW));
	EXPECT_EQ(-EEXIST, update(self->fd, IOVA, 5 * PAGE, self->buf, RW));
	EXPECT_EQ(-EEXIST, update(self->fd, IOVA + 11 * PAGE, 2 * PAGE,
				  self->buf, RW));
	EXPECT_EQ(32, PIN_KB(self));
	/* Adjacent on both sides. */
	EXPECT_EQ(MSG, update(self->fd, IOVA, 4 * PAGE, self->buf, RW));
	EXPECT_EQ(MSG, update(self->fd, IOVA + 12 * PAGE, 4 * PAGE, self->buf,
			      RW));
	EXPECT_EQ(64, PIN_KB(self));
}

TEST_F(memory, update_perm)
{
	static const uint8_t bad[] = { 0, 4, 7, 0xff };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++)
		EXPECT_EQ(-EINVAL, update(self->fd, IOVA, PAGE, self->buf,
					  bad[i]));
	EXPECT_EQ(MSG, update(self->fd, IOVA, PAGE, self->buf, RO));
	EXPECT_EQ(MSG, update(self->fd, IOVA + PAGE, PAGE, self->buf, WO));
	EXPECT_EQ(MSG, update(self->fd, IOVA + 2 * PAGE, PAGE, self->buf, RW));
}

TEST_F(memory, update_bad_user_memory)
{
	uint8_t *ro, *hole;

	/* Unmapped, partly unmapped, kernel, read-only for a writer. */
	hole = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, hole);
	ASSERT_EQ(0, munmap(hole + 2 * PAGE, PAGE));
	EXPECT_EQ(-EFAULT, update(self->fd, IOVA, 4 * PAGE, hole, RW));
	EXPECT_EQ(-EFAULT, update(self->fd, IOVA, PAGE, hole + 2 * PAGE, RW));
	EXPECT_EQ(-EFAULT, update(self->fd, IOVA, PAGE,
				  (void *)0xffff888000000000ULL, RW));
	ASSERT_EQ(0, mprotect(hole, PAGE, PROT_NONE));
	EXPECT_EQ(-EFAULT, update(self->fd, IOVA, PAGE, hole, RO));

	ro = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS |
		  MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, ro);
	EXPECT_EQ(-EFAULT, update(self->fd, IOVA, PAGE, ro, WO));
	EXPECT_EQ(-EFAULT, update(self->fd, IOVA, PAGE, ro, RW));
	EXPECT_EQ(0, PIN_KB(self));
	/* Nothing of the failed attempts stayed: the range is free. */
	EXPECT_EQ(MSG, update(self->fd, IOVA, PAGE, ro, RO));
	munmap(ro, PAGE);
	munmap(hole, 4 * PAGE);
}

TEST_F(memory, memlock_limit)
{
	struct rlimit rl = { 32 * PAGE, 32 * PAGE };

	ASSERT_EQ(0, setrlimit(RLIMIT_MEMLOCK, &rl));
	/* One page over, in one message or in the sum of two. */
	EXPECT_EQ(-ENOMEM, update(self->fd, IOVA, 33 * PAGE, self->buf, RW));
	EXPECT_EQ(0, PIN_KB(self));
	EXPECT_EQ(MSG, update(self->fd, IOVA, 32 * PAGE, self->buf, RW));
	EXPECT_EQ(128, PIN_KB(self));
	EXPECT_EQ(-ENOMEM, update(self->fd, IOVA + 32 * PAGE, PAGE,
				  self->buf + 32 * PAGE, RW));
	EXPECT_EQ(128, PIN_KB(self));
	EXPECT_EQ(MSG, invalidate(self->fd, IOVA, PAGE));
	EXPECT_EQ(MSG, update(self->fd, IOVA + 32 * PAGE, PAGE,
			      self->buf + 32 * PAGE, RW));
}

TEST_F(memory, message_types_and_asids)
{
	uint64_t backend;

	EXPECT_EQ(-EINVAL, vmdev_iotlb_msg(self->fd, 0, VHOST_IOTLB_MISS, IOVA,
					   PAGE, (uintptr_t)self->buf, RW));
	EXPECT_EQ(-EINVAL, vmdev_iotlb_msg(self->fd, 0,
					   VHOST_IOTLB_ACCESS_FAIL, IOVA, PAGE,
					   (uintptr_t)self->buf, RW));
	EXPECT_EQ(-EINVAL, vmdev_iotlb_msg(self->fd, 0, 0, IOVA, PAGE,
					   (uintptr_t)self->buf, RW));
	EXPECT_EQ(-EINVAL, vmdev_iotlb_msg(self->fd, 0, 7, IOVA, PAGE,
					   (uintptr_t)self->buf, RW));

	/* Without IOTLB_ASID the field is reserved. */
	EXPECT_EQ(-EINVAL, vmdev_iotlb_msg(self->fd, 1, VHOST_IOTLB_UPDATE,
					   IOVA, PAGE, (uintptr_t)self->buf,
					   RW));
	backend = (1ULL << VHOST_BACKEND_F_IOTLB_MSG_V2) |
		  (1ULL << VHOST_BACKEND_F_IOTLB_BATCH) |
		  (1ULL << VHOST_BACKEND_F_IOTLB_ASID);
	ASSERT_EQ(0, vmdev_ioctl(self->fd, VHOST_SET_BACKEND_FEATURES,
				 &backend));
	EXPECT_EQ(MSG, vmdev_iotlb_msg(self->fd, 1, VHOST_IOTLB_UPDATE, IOVA,
				       PAGE, (uintptr_t)self->buf, RW));
	/* Two address spaces: the same IOVA in both. */
	EXPECT_EQ(MSG, vmdev_iotlb_msg(self->fd, 0, VHOST_IOTLB_UPDATE, IOVA,
				       PAGE, (uintptr_t)self->buf, RW));
	EXPECT_EQ(-EINVAL, vmdev_iotlb_msg(self->fd, 2, VHOST_IOTLB_UPDATE,
					   IOVA, PAGE, (uintptr_t)self->buf,
					   RW));
	/* A batch stays in its address space. */
	EXPECT_EQ(MSG, vmdev_iotlb_msg(self->fd, 0, VHOST_IOTLB_BATCH_BEGIN,
				       0, 0, 0, 0));
	EXPECT_EQ(-EINVAL, vmdev_iotlb_msg(self->fd, 1, VHOST_IOTLB_UPDATE,
					   IOVA + PAGE, PAGE,
					   (uintptr_t)self->buf, RW));
	EXPECT_EQ(MSG, vmdev_iotlb_msg(self->fd, 0, VHOST_IOTLB_UPDATE,
				       IOVA + PAGE, PAGE,
				       (uintptr_t)self->buf, RW));
	EXPECT_EQ(MSG, vmdev_iotlb_msg(self->fd, 0, VHOST_IOTLB_BATCH_END,
				       0, 0, 0, 0));
	EXPECT_EQ(12, PIN_KB(self));
}

/* The v1 layout (struct vhost_msg) is accepted too. */
TEST_F(memory, v1_message)
{
	struct vhost_msg msg = {
		.type = VHOST_IOTLB_MSG,
		.iotlb = {
			.iova = IOVA, .size = PAGE,
			.uaddr = (uintptr_t)self->buf, .perm = RW,
			.type = VHOST_IOTLB_UPDATE,
		},
	};

	EXPECT_EQ((ssize_t)sizeof(msg), write(self->fd, &msg, sizeof(msg)));
	EXPECT_EQ(4, PIN_KB(self));
}

/* Length sweep of write(): only a whole message. */
TEST_F(memory, write_length_sweep)
{
	struct vhost_msg_v2 msg[2] = {
		{
			.type = VHOST_IOTLB_MSG_V2,
			.iotlb = {
				.iova = IOVA, .size = PAGE,
				.uaddr = (uintptr_t)self->buf, .perm = RW,
				.type = VHOST_IOTLB_UPDATE,
			},
		},
	};
	size_t len;
	void *none;

	for (len = 0; len <= sizeof(msg); len++) {
		if (len == sizeof(msg[0]))
			continue;
		EXPECT_EQ(-1, write(self->fd, msg, len))
			TH_LOG("length %zu", len);
		EXPECT_EQ(EINVAL, errno);
	}
	EXPECT_EQ(0, PIN_KB(self));
	EXPECT_EQ((ssize_t)sizeof(msg[0]), write(self->fd, msg, sizeof(msg[0])));
	/* The message itself unreadable. */
	none = mmap(NULL, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, none);
	EXPECT_EQ(-1, write(self->fd, none, sizeof(msg[0])));
	EXPECT_EQ(EFAULT, errno);
	munmap(none, PAGE);
}

static long batch(int fd, bool begin)
{
	return vmdev_iotlb_msg(fd, 0, begin ? VHOST_IOTLB_BATCH_BEGIN :
			       VHOST_IOTLB_BATCH_END, 0, 0, 0, 0);
}

/* Does the device translate @iova now (its debugfs mappings)? */
static bool mapped(struct _test_data_memory *self, uint64_t iova)
{
	char path[128], line[128];
	unsigned long long start, size;
	unsigned int asid, perm;
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/kernel/debug/vhost_mdev/%s/mappings",
		 strrchr(self->node, '/') + 1);
	f = fopen(path, "r");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%u %llx %llx %u", &asid, &start, &size,
			   &perm) == 4 && iova >= start && iova - start < size)
			found = true;
	fclose(f);
	return found;
}

/*
 * Between BATCH_BEGIN and BATCH_END nothing changes for the device: an
 * UPDATE pins at once (its errors come back on its own write) but is not
 * translated yet, an INVALIDATE leaves what it names in place; at
 * BATCH_END both take effect together.
 */
TEST_F(memory, batch_takes_effect_at_end)
{
	ASSERT_EQ(MSG, update(self->fd, IOVA, 16 * PAGE, self->buf, RW));
	ASSERT_EQ(MSG, batch(self->fd, true));
	EXPECT_EQ(MSG, update(self->fd, 1ULL << 32, 16 * PAGE,
			      self->buf + 16 * PAGE, RW));
	EXPECT_EQ(MSG, invalidate(self->fd, IOVA, 16 * PAGE));
	EXPECT_EQ(128, PIN_KB(self));
	EXPECT_TRUE(mapped(self, IOVA));
	EXPECT_FALSE(mapped(self, 1ULL << 32));
	ASSERT_EQ(MSG, batch(self->fd, false));
	EXPECT_FALSE(mapped(self, IOVA));
	EXPECT_TRUE(mapped(self, 1ULL << 32));
	EXPECT_EQ(64, PIN_KB(self));
	/* A second END has nothing to do. */
	EXPECT_EQ(MSG, batch(self->fd, false));
	EXPECT_TRUE(mapped(self, 1ULL << 32));
}

/*
 * DPDK's remap: everything invalidated and mapped again in one batch. The
 * mapping never disappears for the device, the pages are pinned twice until
 * BATCH_END and once after.
 */
TEST_F(memory, batch_remap_same_memory)
{
	ASSERT_EQ(MSG, update(self->fd, IOVA, NPAGES * PAGE, self->buf, RW));
	ASSERT_EQ(MSG, batch(self->fd, true));
	EXPECT_EQ(MSG, invalidate(self->fd, 0, UINT64_MAX));
	EXPECT_TRUE(mapped(self, IOVA));
	EXPECT_EQ(MSG, update(self->fd, IOVA, NPAGES * PAGE, self->buf, RW));
	EXPECT_EQ(2 * NPAGES * 4, PIN_KB(self));
	EXPECT_TRUE(mapped(self, IOVA));
	ASSERT_EQ(MSG, batch(self->fd, false));
	EXPECT_TRUE(mapped(self, IOVA + (NPAGES - 1) * PAGE));
	EXPECT_EQ(NPAGES * 4, PIN_KB(self));
}

/*
 * Overlaps in a batch: with what it added (EEXIST), with a live entry it
 * does not drop (EEXIST), with one it drops (fine); an INVALIDATE takes
 * back what the batch added at once.
 */
TEST_F(memory, batch_overlap_rules)
{
	ASSERT_EQ(MSG, update(self->fd, IOVA, 16 * PAGE, self->buf, RW));
	ASSERT_EQ(MSG, batch(self->fd, true));
	EXPECT_EQ(-EEXIST, update(self->fd, IOVA + 8 * PAGE, 16 * PAGE,
				  self->buf, RW));
	EXPECT_EQ(MSG, update(self->fd, IOVA + 16 * PAGE, 16 * PAGE,
			      self->buf + 16 * PAGE, RW));
	EXPECT_EQ(-EEXIST, update(self->fd, IOVA + 20 * PAGE, PAGE,
				  self->buf, RW));
	EXPECT_EQ(128, PIN_KB(self));
	/* Taken back at once: it was never visible. */
	EXPECT_EQ(MSG, invalidate(self->fd, IOVA + 16 * PAGE, 16 * PAGE));
	EXPECT_EQ(64, PIN_KB(self));
	/* Dropping the live entries frees their range for the batch. */
	EXPECT_EQ(MSG, invalidate(self->fd, IOVA, 16 * PAGE));
	EXPECT_EQ(MSG, update(self->fd, IOVA + 8 * PAGE, 16 * PAGE,
			      self->buf, RW));
	EXPECT_EQ(128, PIN_KB(self));
	ASSERT_EQ(MSG, batch(self->fd, false));
	EXPECT_FALSE(mapped(self, IOVA));
	EXPECT_TRUE(mapped(self, IOVA + 8 * PAGE));
	EXPECT_EQ(64, PIN_KB(self));
	/* A memory table would replace what a batch changes: not now. */
	ASSERT_EQ(MSG, batch(self->fd, true));
	EXPECT_EQ(-EBUSY, vmdev_ioctl(self->fd, VHOST_SET_MEM_TABLE,
				      &(struct vhost_memory){ .nregions = 0 }));
	ASSERT_EQ(MSG, batch(self->fd, false));
}

/* A batch left open at close(): everything still goes. */
TEST_F(memory, batch_without_end_then_close)
{
	EXPECT_EQ(MSG, vmdev_iotlb_msg(self->fd, 0, VHOST_IOTLB_BATCH_BEGIN,
				       0, 0, 0, 0));
	EXPECT_EQ(MSG, update(self->fd, IOVA, 32 * PAGE, self->buf, RW));
	EXPECT_EQ(128, PIN_KB(self));
	close(self->fd);
	EXPECT_EQ(0, PIN_KB(self));
	self->fd = open(self->node, O_RDWR);
	ASSERT_LE(0, self->fd);
}

static long mem_table(int fd, const struct vhost_memory_region *r,
		      unsigned int n, uint32_t padding)
{
	struct {
		struct vhost_memory hdr;
		struct vhost_memory_region r[70];
	} t = { .hdr = { .nregions = n, .padding = padding } };

	/* nregions may lie: the kernel reads only what it says, up to 64. */
	memcpy(t.r, r, (n < 70 ? n : 70) * sizeof(*r));
	return vmdev_ioctl(fd, VHOST_SET_MEM_TABLE, &t);
}

#define REGION(gpa, pages, va) { .guest_phys_addr = (gpa),	\
	.memory_size = (pages) * PAGE, .userspace_addr = (uintptr_t)(va) }

TEST_F(memory, mem_table)
{
	struct vhost_memory_region r[2] = {
		REGION(0, 16, self->buf),
		REGION(1ULL << 32, 16, self->buf + 16 * PAGE),
	};

	EXPECT_EQ(0, mem_table(self->fd, r, 2, 0));
	EXPECT_EQ(128, PIN_KB(self));
	/* A new table replaces the old one: the old pages are released. */
	EXPECT_EQ(0, mem_table(self->fd, r, 1, 0));
	EXPECT_EQ(64, PIN_KB(self));
	/* It replaces what IOTLB messages mapped in address space 0. */
	EXPECT_EQ(MSG, update(self->fd, 1ULL << 40, 8 * PAGE, self->buf, RW));
	EXPECT_EQ(96, PIN_KB(self));
	EXPECT_EQ(0, mem_table(self->fd, r, 0, 0));
	EXPECT_EQ(0, PIN_KB(self));
}

TEST_F(memory, mem_table_bad_input)
{
	struct vhost_memory_region r[70];
	unsigned int i;

	for (i = 0; i < 70; i++)
		r[i] = (struct vhost_memory_region)REGION(i * 2 * PAGE, 1,
							  self->buf + i % 64 * PAGE);
	EXPECT_EQ(0, mem_table(self->fd, r, 1, 0));
	/* Region count: both sides of the limit. */
	EXPECT_EQ(-E2BIG, mem_table(self->fd, r,
				    VHOST_MDEV_MEM_MAX_NREGIONS + 1, 0));
	EXPECT_EQ(-E2BIG, mem_table(self->fd, r, 0xffffffff, 0));
	EXPECT_EQ(4, PIN_KB(self));
	EXPECT_EQ(0, mem_table(self->fd, r, VHOST_MDEV_MEM_MAX_NREGIONS, 0));
	EXPECT_EQ(4 * VHOST_MDEV_MEM_MAX_NREGIONS, PIN_KB(self));
	EXPECT_EQ(0, mem_table(self->fd, r, 1, 0));

	EXPECT_EQ(-EOPNOTSUPP, mem_table(self->fd, r, 1, 1));
	r[1] = (struct vhost_memory_region)REGION(0, 1, self->buf);
	r[1].flags_padding = 1;
	EXPECT_EQ(-EINVAL, mem_table(self->fd, r + 1, 1, 0));
	/* Overlapping regions, in any order. */
	r[1] = (struct vhost_memory_region)REGION(0, 2, self->buf);
	r[2] = (struct vhost_memory_region)REGION(PAGE, 2, self->buf);
	EXPECT_EQ(-EINVAL, mem_table(self->fd, r + 1, 2, 0));
	EXPECT_EQ(-EINVAL, mem_table(self->fd, r + 1, 2, 0));
	r[0] = r[2];
	r[2] = r[1];
	EXPECT_EQ(-EINVAL, mem_table(self->fd, r, 3, 0));
	/* Empty, unaligned, wrapping. */
	r[0] = (struct vhost_memory_region)REGION(0, 0, self->buf);
	EXPECT_EQ(-EINVAL, mem_table(self->fd, r, 1, 0));
	r[0] = (struct vhost_memory_region)REGION(1, 1, self->buf);
	EXPECT_EQ(-EINVAL, mem_table(self->fd, r, 1, 0));
	r[0] = (struct vhost_memory_region)REGION(UINT64_MAX - PAGE + 1, 2,
						  self->buf);
	EXPECT_EQ(-EINVAL, mem_table(self->fd, r, 1, 0));
	EXPECT_EQ(-EFAULT, vmdev_ioctl(self->fd, VHOST_SET_MEM_TABLE, NULL));
	/* All refused: the old table stands. */
	EXPECT_EQ(4, PIN_KB(self));
}

/* A table that fails half way leaves the old one working. */
TEST_F(memory, mem_table_failure_keeps_the_old_table)
{
	struct vmdev_opts o = { .map = VMDEV_MAP_MEM_TABLE, .iova = IOVA };
	struct vhost_memory_region r[2];
	uint8_t frame[60] = { 0xff }, in[2048];
	struct vmdev d;
	long pin;

	close(self->fd);
	self->fd = -1;
	ASSERT_EQ(0, vmdev_open(&d, self->node, &o));
	pin = vmdev_vmpin_kb();
	r[0] = (struct vhost_memory_region)REGION(IOVA, d.mem_size / PAGE,
						  d.mem);
	/* The second region's memory is not there. */
	r[1] = (struct vhost_memory_region)REGION(1ULL << 40, 1,
						  (void *)0x1000);
	EXPECT_EQ(-EFAULT, mem_table(d.fd, r, 2, 0));
	EXPECT_EQ(pin, vmdev_vmpin_kb());
	ASSERT_EQ(0, vmdev_send(&d, 0, frame, sizeof(frame), true));
	EXPECT_EQ((int)sizeof(frame), vmdev_recv_wait(&d, 0, in, sizeof(in),
						      5000));
	vmdev_close(&d);
	self->fd = open(self->node, O_RDWR);
	ASSERT_LE(0, self->fd);
}

/* Replacing a table counts the outgoing pages as released. */
TEST_F(memory, mem_table_replace_within_memlock)
{
	struct vhost_memory_region r = REGION(0, 32, self->buf);
	struct rlimit rl = { 48 * PAGE, 48 * PAGE };

	ASSERT_EQ(0, setrlimit(RLIMIT_MEMLOCK, &rl));
	EXPECT_EQ(0, mem_table(self->fd, &r, 1, 0));
	r.guest_phys_addr = 1ULL << 32;
	EXPECT_EQ(0, mem_table(self->fd, &r, 1, 0));
	EXPECT_EQ(128, PIN_KB(self));
	r.memory_size = 49 * PAGE;
	EXPECT_EQ(-ENOMEM, mem_table(self->fd, &r, 1, 0));
	EXPECT_EQ(128, PIN_KB(self));
}

/* Closing from another process than the owner still unpins the owner. */
TEST_F(memory, pins_released_when_the_owner_exits)
{
	int status;
	pid_t pid;

	close(self->fd);
	self->fd = -1;
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int fd = open(self->node, O_RDWR);

		if (fd < 0 || vmdev_ioctl(fd, VHOST_SET_OWNER, NULL) ||
		    update(fd, IOVA, 16 * PAGE, self->buf, RW) != MSG)
			_exit(1);
		_exit(vmdev_vmpin_kb() == 64 ? 0 : 2);	/* no close() */
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status));
	self->fd = open(self->node, O_RDWR);
	EXPECT_LE(0, self->fd);
}

TEST_HARNESS_MAIN
