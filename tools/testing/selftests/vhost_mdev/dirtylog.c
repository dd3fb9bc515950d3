// SPDX-License-Identifier: GPL-2.0-only
/*
 * Dirty logging for live migration, on a simulator mdev driven by the
 * library: QEMU 7.2's sequence at DRIVER_OK (SET_LOG_BASE, SET_FEATURES
 * with VHOST_F_LOG_ALL, SET_VRING_ADDR with VHOST_VRING_F_LOG) is taken;
 * the log then has exactly the pages the device wrote (receive buffers up
 * to the used length, used rings), none it only read; a new log replaces
 * the old one at once, logging off leaves the log alone and unpinned; bad
 * logs get an errno and change nothing; a running queue's base stops it;
 * the sysfs switch hides the feature.
 */
#include <sys/mman.h>
#include <linux/virtio_config.h>

#include "kselftest_harness.h"
#include "vmdev_test.h"

#define F(bit)		(1ULL << (bit))
#define PAGE		4096UL
#define IOVA		0x100000UL
#define NFRAMES		20
#define LOG_BYTES	(64 * PAGE)	/* more than any IOVA here needs */

FIXTURE(dirtylog) {
	char uuid[37];
	char node[64];
	struct vmdev d;
	uint64_t *log;
	uint64_t *log2;
	long pin0;
};

FIXTURE_SETUP(dirtylog)
{
	struct vmdev_opts o = { .iova = IOVA, .num = 64 };
	int ret;

	vmdev_init(&self->d);
	self->log = mmap(NULL, LOG_BYTES, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	self->log2 = mmap(NULL, LOG_BYTES, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->log);
	ASSERT_NE(MAP_FAILED, self->log2);
	ret = vmdev_sim_mdev(self->uuid, self->node, sizeof(self->node));
	if (ret == -ENOENT)
		SKIP(return, "vhost_mdev_sim is not installed");
	ASSERT_EQ(0, ret);
	self->pin0 = vmdev_vmpin_kb();
	ASSERT_EQ(0, vmdev_open(&self->d, self->node, &o));
}

FIXTURE_TEARDOWN(dirtylog)
{
	vmdev_close(&self->d);
	EXPECT_EQ(self->pin0, vmdev_vmpin_kb());
	if (self->uuid[0])
		EXPECT_EQ(0, vmdev_mdev_remove(self->uuid));
	munmap(self->log, LOG_BYTES);
	munmap(self->log2, LOG_BYTES);
}

static int io(int fd, unsigned long req, void *arg)
{
	return vmdev_ioctl(fd, req, arg);
}

/* Send and receive @n frames of 1000 bytes on pair 0 (the loopback). */
static int traffic(struct vmdev *d, unsigned int n)
{
	uint8_t out[1000], in[2048];
	unsigned int i;
	int r;

	memset(out, 0xa5, sizeof(out));
	for (i = 0; i < n; i++) {
		r = vmdev_send(d, 0, out, sizeof(out), true);
		if (r)
			return r;
		r = vmdev_recv_wait(d, 0, in, sizeof(in), 5000);
		if (r != sizeof(out))
			return r < 0 ? r : -EIO;
		vmdev_tx_reclaim(d, 0);
	}
	return 0;
}

/* Log bits of the pages the library's memory spans, and beyond. */
static uint64_t npages(struct vmdev *d)
{
	return (IOVA + d->mem_size) / PAGE + 64;
}

/* Exactly the pages the device wrote are logged, no other. */
TEST_F(dirtylog, logs_exactly_what_the_device_wrote)
{
	static uint64_t want[LOG_BYTES / 8];
	uint16_t rx0 = le16toh(self->d.vqs[0].used->idx);
	uint16_t tx0 = le16toh(self->d.vqs[1].used->idx);
	unsigned int set = 0;
	uint64_t p;

	ASSERT_LE(npages(&self->d) / 8, LOG_BYTES);
	ASSERT_EQ(0, vmdev_log_start(&self->d, self->log));
	ASSERT_EQ(0, traffic(&self->d, NFRAMES));

	vmdev_log_written(&self->d, 0, rx0, want);
	vmdev_log_written(&self->d, 1, tx0, want);
	for (p = 0; p < npages(&self->d); p++) {
		bool w = want[p / 64] & 1ULL << (p % 64);
		bool got = self->log[p / 64] & 1ULL << (p % 64);

		EXPECT_EQ(w, got) TH_LOG("page %#lx (IOVA %#lx)", p, p * PAGE);
		set += got;
	}
	/* The receive buffers span several pages, the used rings others. */
	EXPECT_LE(4, set);
	/* Nothing beyond what the memory needs. */
	for (p = npages(&self->d) / 64; p < LOG_BYTES / 8; p++)
		EXPECT_EQ(0, self->log[p]);
	/* The log is pinned while in use, and QEMU's calls changed nothing. */
	EXPECT_LT(self->pin0, vmdev_vmpin_kb());
	ASSERT_EQ(0, traffic(&self->d, NFRAMES));
}

/* After SET_LOG_BASE returns, nothing goes into the old log. */
TEST_F(dirtylog, a_new_log_replaces_the_old_at_once)
{
	uint64_t base = (uintptr_t)self->log2;
	long pinned;
	size_t i;

	ASSERT_EQ(0, vmdev_log_start(&self->d, self->log));
	ASSERT_EQ(0, traffic(&self->d, NFRAMES));
	pinned = vmdev_vmpin_kb();
	ASSERT_EQ(0, io(self->d.fd, VHOST_SET_LOG_BASE, &base));
	memset(self->log, 0, LOG_BYTES);
	ASSERT_EQ(0, traffic(&self->d, NFRAMES));
	for (i = 0; i < LOG_BYTES / 8; i++)
		EXPECT_EQ(0, self->log[i]) TH_LOG("word %zu", i);
	for (i = 0; i < LOG_BYTES / 8 && !self->log2[i]; i++)
		;
	EXPECT_LT(i, LOG_BYTES / 8);
	/* The same number of pages pinned: the old log's went. */
	EXPECT_EQ(pinned, vmdev_vmpin_kb());
}

/* Logging off (a cancelled migration): the log is let go, untouched. */
TEST_F(dirtylog, logging_off_leaves_the_log_alone)
{
	ASSERT_EQ(0, vmdev_log_start(&self->d, self->log));
	ASSERT_EQ(0, traffic(&self->d, 2));
	ASSERT_EQ(0, vmdev_log_stop(&self->d));
	EXPECT_EQ(self->pin0 + (long)(self->d.mem_size / 1024),
		  vmdev_vmpin_kb());
	memset(self->log, 0, LOG_BYTES);
	ASSERT_EQ(0, traffic(&self->d, NFRAMES));
	EXPECT_EQ(0, memcmp(self->log, self->log2, LOG_BYTES));
	/* And it can start again. */
	ASSERT_EQ(0, vmdev_log_start(&self->d, self->log));
	ASSERT_EQ(0, traffic(&self->d, 2));
	EXPECT_NE(0, memcmp(self->log, self->log2, LOG_BYTES));
}

/* A reset ends logging: its features went. */
TEST_F(dirtylog, reset_ends_logging)
{
	ASSERT_EQ(0, vmdev_log_start(&self->d, self->log));
	ASSERT_EQ(0, vmdev_set_status(self->d.fd, 0));
	EXPECT_EQ(self->pin0 + (long)(self->d.mem_size / 1024),
		  vmdev_vmpin_kb());
}

/* Bad logs: an errno, and the log in use stays. */
TEST_F(dirtylog, bad_log_bases)
{
	uint64_t *ro = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS,
			    -1, 0);
	uint64_t *gone = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t base, bits;
	long pinned;
	pid_t pid;
	int status;

	ASSERT_NE(MAP_FAILED, ro);
	ASSERT_NE(MAP_FAILED, gone);
	munmap(gone, PAGE);
	ASSERT_EQ(0, vmdev_log_start(&self->d, self->log));
	pinned = vmdev_vmpin_kb();

	base = (uintptr_t)ro;
	EXPECT_EQ(-EFAULT, io(self->d.fd, VHOST_SET_LOG_BASE, &base));
	base = (uintptr_t)gone;
	EXPECT_EQ(-EFAULT, io(self->d.fd, VHOST_SET_LOG_BASE, &base));
	base = 0xffff888000000000ULL;
	EXPECT_EQ(-EFAULT, io(self->d.fd, VHOST_SET_LOG_BASE, &base));
	base = -PAGE;
	EXPECT_EQ(-EFAULT, io(self->d.fd, VHOST_SET_LOG_BASE, &base));
	EXPECT_EQ(-EFAULT, io(self->d.fd, VHOST_SET_LOG_BASE, NULL));
	/* A log written through a file descriptor is vhost-user's. */
	EXPECT_EQ(-EOPNOTSUPP, io(self->d.fd, VHOST_SET_LOG_FD, &status));
	EXPECT_EQ(pinned, vmdev_vmpin_kb());

	/* Another process holding the file may not set it. */
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		base = (uintptr_t)self->log2;
		_exit(io(self->d.fd, VHOST_SET_LOG_BASE, &base) == -EPERM ?
		      0 : 1);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, status);

	/* The first log is still the one written. */
	memset(self->log, 0, LOG_BYTES);
	ASSERT_EQ(0, traffic(&self->d, 2));
	for (bits = 0, base = 0; base < LOG_BYTES / 8; base++)
		bits |= self->log[base];
	EXPECT_NE(0, bits);
	munmap(ro, PAGE);
}

/*
 * At DRIVER_OK only logging may change: other features, other ring
 * addresses and unknown flags are refused; unchanged ones are taken.
 */
TEST_F(dirtylog, running_device_takes_only_log_changes)
{
	uint64_t features = self->d.features ^ F(VIRTIO_NET_F_MRG_RXBUF);
	struct vhost_vring_addr a = {
		.index = 0,
		.desc_user_addr = vmdev_iova(&self->d, self->d.vqs[0].desc),
		.avail_user_addr = vmdev_iova(&self->d, self->d.vqs[0].avail),
		.used_user_addr = vmdev_iova(&self->d, self->d.vqs[0].used),
	};

	EXPECT_EQ(-EBUSY, io(self->d.fd, VHOST_SET_FEATURES, &features));
	features = self->d.features;
	EXPECT_EQ(0, io(self->d.fd, VHOST_SET_FEATURES, &features));
	EXPECT_EQ(0, io(self->d.fd, VHOST_SET_VRING_ADDR, &a));
	a.flags = 1 << VHOST_VRING_F_LOG;
	EXPECT_EQ(0, io(self->d.fd, VHOST_SET_VRING_ADDR, &a));
	a.flags = 0x80;
	EXPECT_EQ(-EOPNOTSUPP, io(self->d.fd, VHOST_SET_VRING_ADDR, &a));
	a.flags = 0;
	a.used_user_addr += 0x1000;
	EXPECT_EQ(-EBUSY, io(self->d.fd, VHOST_SET_VRING_ADDR, &a));
	a.used_user_addr -= 0x1000;
	a.log_guest_addr = 2;
	EXPECT_EQ(-EINVAL, io(self->d.fd, VHOST_SET_VRING_ADDR, &a));
	ASSERT_EQ(0, traffic(&self->d, NFRAMES));
}

/*
 * VHOST_GET_VRING_BASE on a running queue stops it where it says: QEMU
 * migrates that index, and the guest memory that goes with it.
 */
TEST_F(dirtylog, base_of_a_running_queue_stops_it)
{
	struct vhost_vring_state s = { .index = 0 };
	uint8_t frame[100];

	memset(frame, 0x5a, sizeof(frame));
	ASSERT_EQ(0, traffic(&self->d, 3));
	ASSERT_EQ(0, io(self->d.fd, VHOST_GET_VRING_BASE, &s));
	EXPECT_EQ(3, s.num);
	ASSERT_EQ(0, vmdev_send(&self->d, 0, frame, sizeof(frame), true));
	EXPECT_EQ(-ETIMEDOUT, vmdev_recv_wait(&self->d, 0, frame,
					      sizeof(frame), 300))
		TH_LOG("the stopped receive queue took a frame");
	EXPECT_EQ(3, le16toh(self->d.vqs[0].used->idx));
	ASSERT_EQ(0, io(self->d.fd, VHOST_GET_VRING_BASE, &s));
	EXPECT_EQ(3, s.num);
}

/* The log grows with the memory the device may reach. */
TEST_F(dirtylog, log_covers_memory_mapped_later)
{
	char path[128], buf[512];
	const char *p;
	void *more = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	long bytes0;

	ASSERT_NE(MAP_FAILED, more);
	snprintf(path, sizeof(path), "/sys/kernel/debug/vhost_mdev/%s/log",
		 strrchr(self->node, '/') + 1);
	ASSERT_EQ(0, vmdev_log_start(&self->d, self->log));
	ASSERT_EQ(0, vmdev_read_file(path, buf, sizeof(buf)));
	p = strstr(buf, "bytes ");
	ASSERT_NE(NULL, p);
	bytes0 = atol(p + 6);
	EXPECT_LE((long)(IOVA + self->d.mem_size) / (long)PAGE / 8, bytes0);
	/* 64 MiB: the log needs 2 KiB for it. */
	ASSERT_EQ(sizeof(struct vhost_msg_v2),
		  vmdev_iotlb_msg(self->d.fd, 0, VHOST_IOTLB_UPDATE,
				  64 << 20, PAGE, (uintptr_t)more,
				  VHOST_ACCESS_RW));
	ASSERT_EQ(0, vmdev_read_file(path, buf, sizeof(buf)));
	p = strstr(buf, "bytes ");
	ASSERT_NE(NULL, p);
	EXPECT_EQ((64 << 20) / PAGE / 8 + 8, atol(p + 6));
	EXPECT_NE(NULL, strstr(buf, "log_all 1"));
	EXPECT_NE(NULL, strstr(buf, "misses 0"));
	ASSERT_EQ(sizeof(struct vhost_msg_v2),
		  vmdev_iotlb_msg(self->d.fd, 0, VHOST_IOTLB_INVALIDATE,
				  64 << 20, PAGE, 0, 0));
	munmap(more, PAGE);
}

/*
 * The administrator's switch: /sys/bus/mdev/devices/<uuid>/dirty_log
 * offers VHOST_F_LOG_ALL (1, the default) or hides it (0), only while the
 * device is closed.
 */
TEST_F(dirtylog, sysfs_switch_hides_log_all)
{
	struct vmdev_opts o = { .iova = IOVA, .num = 64 };
	uint64_t features, base = (uintptr_t)self->log;
	char path[128], buf[16];

	snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s/dirty_log",
		 self->uuid);
	ASSERT_EQ(0, io(self->d.fd, VHOST_GET_FEATURES, &features));
	EXPECT_TRUE(features & F(VHOST_F_LOG_ALL));
	ASSERT_EQ(0, vmdev_read_file(path, buf, sizeof(buf)));
	EXPECT_STREQ("1", buf);
	EXPECT_EQ(-EBUSY, vmdev_write_file(path, "0"));

	vmdev_close(&self->d);
	EXPECT_EQ(-EINVAL, vmdev_write_file(path, "maybe"));
	ASSERT_EQ(0, vmdev_write_file(path, "0"));
	ASSERT_EQ(0, vmdev_read_file(path, buf, sizeof(buf)));
	EXPECT_STREQ("0", buf);
	ASSERT_EQ(0, vmdev_open(&self->d, self->node, &o));
	ASSERT_EQ(0, io(self->d.fd, VHOST_GET_FEATURES, &features));
	EXPECT_FALSE(features & F(VHOST_F_LOG_ALL));
	features = self->d.features | F(VHOST_F_LOG_ALL);
	EXPECT_EQ(-EINVAL, io(self->d.fd, VHOST_SET_FEATURES, &features));
	EXPECT_EQ(-EOPNOTSUPP, io(self->d.fd, VHOST_SET_LOG_BASE, &base));
	EXPECT_EQ(-EOPNOTSUPP, vmdev_vring_addrs(&self->d, 1 << VHOST_VRING_F_LOG));
	EXPECT_EQ(self->pin0 + (long)(self->d.mem_size / 1024),
		  vmdev_vmpin_kb());

	vmdev_close(&self->d);
	ASSERT_EQ(0, vmdev_write_file(path, "1"));
	ASSERT_EQ(0, vmdev_open(&self->d, self->node, &o));
	ASSERT_EQ(0, vmdev_log_start(&self->d, self->log));
}

TEST_HARNESS_MAIN
