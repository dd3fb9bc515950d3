// SPDX-License-Identifier: GPL-2.0-only
/*
 * Replays of what stock clients do, call for call, as traced on Debian's
 * binaries (client-contract.md): QEMU 7.2's -netdev vhost-vdpa (netdev
 * creation, start, stop with the reset before GET_VRING_BASE, start again
 * from where the rings stopped) and DPDK 22.11's virtio_user (probe, start,
 * polling traffic, close without unmapping). Every call answers what the
 * client needs, and traffic flows in between.
 */
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <linux/virtio_config.h>

#include "kselftest_harness.h"
#include "vmdev_test.h"

#define F(bit)		(1ULL << (bit))
#define MB		0x100000UL
#define MSG		((long)sizeof(struct vhost_msg_v2))
#define TIMEOUT_MS	5000

FIXTURE(clients) {
	char uuid[37];
	char node[64];
	struct vmdev d;
};

FIXTURE_SETUP(clients)
{
	struct rlimit rl = { 64 * MB, 64 * MB };
	int ret = vmdev_sim_mdev(self->uuid, self->node, sizeof(self->node));

	memset(&self->d, 0, sizeof(self->d));
	vmdev_init(&self->d);
	if (ret == -ENOENT)
		SKIP(return, "vhost_mdev_sim is not installed");
	ASSERT_EQ(0, ret);
	ASSERT_EQ(0, setrlimit(RLIMIT_MEMLOCK, &rl));
}

FIXTURE_TEARDOWN(clients)
{
	if (self->d.fd >= 0)
		close(self->d.fd);
	if (self->uuid[0])
		EXPECT_EQ(0, vmdev_mdev_remove(self->uuid));
}

/* QEMU's and DPDK's "add status": read, or the bits in, read back. */
static int add_status(int fd, uint8_t bits)
{
	uint8_t st;

	if (vmdev_get_status(fd, &st) || vmdev_set_status(fd, st | bits) ||
	    vmdev_get_status(fd, &st))
		return -EIO;
	return (st & bits) == bits ? 0 : -EIO;
}

static int get_config(int fd, uint32_t off, uint32_t len, uint8_t *out)
{
	struct {
		struct vhost_vdpa_config c;
		uint8_t buf[24];
	} cfg = { .c = { .off = off, .len = len } };
	int ret = vmdev_ioctl(fd, VHOST_VDPA_GET_CONFIG, &cfg);

	if (!ret)
		memcpy(out, cfg.buf, len);
	return ret;
}

static int set_config(int fd, uint32_t off, uint32_t len, const uint8_t *in)
{
	struct {
		struct vhost_vdpa_config c;
		uint8_t buf[24];
	} cfg = { .c = { .off = off, .len = len } };

	memcpy(cfg.buf, in, len);
	return vmdev_ioctl(fd, VHOST_VDPA_SET_CONFIG, &cfg);
}

static size_t frame(uint8_t *f, unsigned int seq)
{
	size_t len = 60 + seq % 1400, i;

	memset(f, 0xff, 6);
	memcpy(f + 6, "\x52\x54\x00\x12\x34\x56", 6);
	f[12] = 0x08;
	f[13] = 0x00;
	for (i = 14; i < len; i++)
		f[i] = seq + i;
	return len;
}

/* The guest's part: send @n frames and get each back. */
static int guest_traffic(struct __test_metadata *_metadata, struct vmdev *d,
			 unsigned int first, unsigned int n, bool wait)
{
	uint8_t out[2048], in[2048];
	unsigned int i, tries;
	int len, r;

	for (i = first; i < first + n; i++) {
		len = frame(out, i);
		EXPECT_EQ(0, vmdev_send(d, 0, out, len, true)) return -1;
		for (tries = 0; tries < TIMEOUT_MS; tries++) {
			r = wait ? vmdev_recv_wait(d, 0, in, sizeof(in),
						   TIMEOUT_MS) :
				   vmdev_recv(d, 0, in, sizeof(in));
			if (r != -EAGAIN)
				break;
			usleep(1000);	/* a poll-mode driver */
		}
		EXPECT_EQ(len, r) return -1;
		EXPECT_EQ(0, memcmp(out, in, len)) return -1;
		vmdev_tx_reclaim(d, 0);
	}
	return 0;
}

/* QEMU's memory map of a small q35 guest, as its IOTLB sections. */
struct section {
	uint64_t gpa, size;
	uint8_t perm;
};

static const struct section qemu_sections[] = {
	{ 0, 0xa0000, VHOST_ACCESS_RW },		/* low RAM */
	{ 0xc0000, 0x20000, VHOST_ACCESS_RO },		/* option ROMs */
	{ 0x100000, 7 * MB, VHOST_ACCESS_RW },		/* RAM */
};

static int qemu_iotlb(int fd, uint8_t *ram, bool map)
{
	unsigned int i;
	long n;

	if (vmdev_iotlb_msg(fd, 0, VHOST_IOTLB_BATCH_BEGIN, 0, 0, 0, 0) != MSG)
		return -EIO;
	for (i = 0; i < ARRAY_SIZE(qemu_sections); i++) {
		const struct section *s = &qemu_sections[i];

		n = vmdev_iotlb_msg(fd, 0, map ? VHOST_IOTLB_UPDATE :
				    VHOST_IOTLB_INVALIDATE, s->gpa, s->size,
				    map ? (uintptr_t)ram + s->gpa : 0,
				    map ? s->perm : 0);
		if (n != MSG)
			return n;
	}
	return vmdev_iotlb_msg(fd, 0, VHOST_IOTLB_BATCH_END, 0, 0, 0, 0) ==
	       MSG ? 0 : -EIO;
}

/*
 * vhost_net_start(): features and backend on the first dev, each dev's
 * rings (NUM, BASE, ADDR, KICK), a doorbell attempt, ENABLE, and on the last
 * dev the IOTLB batch and DRIVER_OK. @bases are the rings' positions.
 */
static void qemu_start(struct __test_metadata *_metadata, struct vmdev *d,
		       uint8_t *ram, uint64_t acked, const uint32_t *bases)
{
	static const unsigned int dev_vqs[2][2] = { { 0, 1 }, { 2, 2 } };
	uint64_t features = acked | F(VIRTIO_F_ACCESS_PLATFORM), backend;
	struct vhost_vring_addr a;
	unsigned int dev, i, q;
	void *p;

	for (q = 0; q < 3; q++)
		ASSERT_EQ(0, vmdev_vring_file(d->fd, VHOST_SET_VRING_CALL, q,
					      d->vqs[q].call_fd));
	for (dev = 0; dev < 2; dev++) {
		if (!dev) {
			ASSERT_EQ(0, vmdev_ioctl(d->fd, VHOST_SET_FEATURES,
						 &features));
			ASSERT_EQ(0, add_status(d->fd,
						VIRTIO_CONFIG_S_FEATURES_OK));
		}
		ASSERT_EQ(0, vmdev_ioctl(d->fd, VHOST_GET_BACKEND_FEATURES,
					 &backend));
		backend &= F(VHOST_BACKEND_F_IOTLB_MSG_V2) |
			   F(VHOST_BACKEND_F_IOTLB_BATCH);
		ASSERT_EQ(F(VHOST_BACKEND_F_IOTLB_MSG_V2) |
			  F(VHOST_BACKEND_F_IOTLB_BATCH), backend);
		if (!dev)
			ASSERT_EQ(0, vmdev_ioctl(d->fd,
						 VHOST_SET_BACKEND_FEATURES,
						 &backend));
		for (i = 0; i <= (dev ? 0 : 1); i++) {
			q = dev_vqs[dev][i];
			a = (struct vhost_vring_addr) {
				.index = q,
				.desc_user_addr = vmdev_iova(d, d->vqs[q].desc),
				.avail_user_addr = vmdev_iova(d, d->vqs[q].avail),
				.used_user_addr = vmdev_iova(d, d->vqs[q].used),
				.log_guest_addr = vmdev_iova(d, d->vqs[q].used),
			};
			ASSERT_EQ(0, vmdev_vring_state(d->fd,
						       VHOST_SET_VRING_NUM, q,
						       d->vqs[q].num));
			ASSERT_EQ(0, vmdev_vring_state(d->fd,
						       VHOST_SET_VRING_BASE, q,
						       bases[q]));
			ASSERT_EQ(0, vmdev_ioctl(d->fd, VHOST_SET_VRING_ADDR,
						 &a));
			ASSERT_EQ(0, vmdev_vring_file(d->fd,
						      VHOST_SET_VRING_KICK, q,
						      d->vqs[q].kick_fd));
		}
		/* No doorbell on the simulator: QEMU silently kicks by eventfd. */
		p = mmap(NULL, 4096, PROT_WRITE, MAP_SHARED, d->fd,
			 dev_vqs[dev][0] * 4096UL);
		EXPECT_EQ(MAP_FAILED, p);
		for (i = 0; i <= (dev ? 0 : 1); i++)
			ASSERT_EQ(0, vmdev_vring_state(d->fd,
						       VHOST_VDPA_SET_VRING_ENABLE,
						       dev_vqs[dev][i], 1));
	}
	/* The last dev: memory last, then DRIVER_OK. */
	ASSERT_EQ(0, qemu_iotlb(d->fd, ram, true));
	ASSERT_EQ(0, add_status(d->fd, VIRTIO_CONFIG_S_DRIVER_OK));
}

/* vhost_net_stop(): reset, ACK|DRIVER, unmap, then the bases. */
static void qemu_stop(struct __test_metadata *_metadata, struct vmdev *d,
		      uint8_t *ram, const int *masked, uint32_t *bases)
{
	struct vhost_vring_state s;
	unsigned int q;

	EXPECT_EQ(0, vmdev_set_status(d->fd, 0));
	ASSERT_EQ(0, add_status(d->fd, VIRTIO_CONFIG_S_ACKNOWLEDGE |
				VIRTIO_CONFIG_S_DRIVER));
	ASSERT_EQ(0, qemu_iotlb(d->fd, ram, false));
	for (q = 0; q < 3; q++) {
		s.index = q;
		ASSERT_EQ(0, vmdev_ioctl(d->fd, VHOST_GET_VRING_BASE, &s));
		bases[q] = s.num;
	}
	for (q = 0; q < 3; q++)
		ASSERT_EQ(0, vmdev_vring_file(d->fd, VHOST_SET_VRING_CALL, q,
					      masked[q]));
}

TEST_F(clients, qemu_7_2)
{
	static const uint8_t qemu_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34,
					     0x56 };
	uint64_t offered, features, acked;
	struct vhost_vdpa_iova_range range;
	struct vmdev *d = &self->d;
	uint32_t bases[3] = {}, id;
	unsigned int ndevs, dev, q;
	uint8_t cfg[24], *ram;
	int masked[3];
	long pin0 = vmdev_vmpin_kb();

	/* Guest RAM: 8 MiB at GPA 0; rings and buffers above 1 MiB. */
	ram = mmap(NULL, 8 * MB, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, ram);

	/* 1. netdev creation */
	d->fd = open(self->node, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, d->fd);
	ASSERT_EQ(0, vmdev_ioctl(d->fd, VHOST_GET_FEATURES, &offered));
	ASSERT_TRUE(offered & F(VIRTIO_NET_F_MQ));
	ASSERT_EQ(0, get_config(d->fd, 8, 2, cfg));
	EXPECT_LE(1, cfg[0] | cfg[1] << 8);
	ndevs = (cfg[0] | cfg[1] << 8) + !!(offered & F(VIRTIO_NET_F_CTRL_VQ));
	for (q = 0; q < 3; q++) {
		masked[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		ASSERT_LE(0, masked[q]);
	}
	for (dev = 0; dev < ndevs; dev++) {
		EXPECT_EQ(0, vmdev_ioctl(d->fd, VHOST_VDPA_GET_IOVA_RANGE,
					 &range));
		if (!dev) {
			ASSERT_EQ(0, add_status(d->fd,
						VIRTIO_CONFIG_S_ACKNOWLEDGE |
						VIRTIO_CONFIG_S_DRIVER));
			ASSERT_EQ(0, vmdev_ioctl(d->fd, VHOST_SET_OWNER, NULL));
		}
		ASSERT_EQ(0, vmdev_ioctl(d->fd, VHOST_GET_FEATURES, &features));
		/* The vq_index quirk: every dev's calls go to index 0. */
		ASSERT_EQ(0, vmdev_vring_file(d->fd, VHOST_SET_VRING_CALL, 0,
					      masked[0]));
		ASSERT_EQ(0, vmdev_ioctl(d->fd, VHOST_VDPA_GET_DEVICE_ID, &id));
		ASSERT_EQ(1, id);
	}
	set_config(d->fd, 0, 6, qemu_mac);
	/* Every guest config read: the MAC, link up. */
	ASSERT_EQ(0, get_config(d->fd, 0, 8, cfg));
	EXPECT_EQ(0, memcmp(qemu_mac, cfg, 6));
	EXPECT_TRUE(cfg[6] & 1);

	/* 2. the guest sets DRIVER_OK: vhost_net_start() */
	d->mem = ram + MB;
	d->mem_size = 7 * MB;
	d->opts.iova = MB;
	d->opts.num = 256;
	d->pairs = 1;
	d->cvq = 2;
	acked = F(VIRTIO_F_VERSION_1) | F(VIRTIO_NET_F_MRG_RXBUF) |
		F(VIRTIO_NET_F_STATUS) | F(VIRTIO_NET_F_CTRL_VQ);
	d->features = acked | F(VIRTIO_F_ACCESS_PLATFORM);
	ASSERT_EQ(0, vmdev_vq_alloc(d, 0, 2048));
	ASSERT_EQ(0, vmdev_vq_alloc(d, 1, 2048));
	ASSERT_EQ(0, vmdev_vq_alloc(d, 2, 64));
	vmdev_rx_fill(d, 0);
	qemu_start(_metadata, d, ram, acked, bases);
	ASSERT_EQ(0, guest_traffic(_metadata, d, 0, 100, true));
	/* The guest's control queue goes straight to the device. */
	EXPECT_EQ(1, vmdev_ctrl(d, 0x7f, 0, NULL, 0));	/* VIRTIO_NET_ERR */

	/* 3. VM stop: the reset comes before GET_VRING_BASE. */
	qemu_stop(_metadata, d, ram, masked, bases);
	EXPECT_EQ(100, bases[0]);	/* receive buffers taken */
	EXPECT_EQ(100, bases[1]);	/* frames sent */
	EXPECT_EQ(1, bases[2]);		/* control commands */

	/* 4. VM cont: the rings go on from where they stopped. */
	qemu_start(_metadata, d, ram, acked, bases);
	ASSERT_EQ(0, guest_traffic(_metadata, d, 100, 100, true));
	qemu_stop(_metadata, d, ram, masked, bases);
	EXPECT_EQ(200, bases[1]);

	/* QEMU never closes the fd: exit does, and that is all it takes. */
	close(d->fd);
	d->fd = -1;
	EXPECT_EQ(pin0, vmdev_vmpin_kb());
	for (q = 0; q < 3; q++) {
		close(masked[q]);
		free(d->vqs[q].next_free);
		close(d->vqs[q].kick_fd);
		close(d->vqs[q].call_fd);
	}
	munmap(ram, 8 * MB);
}

TEST_F(clients, dpdk_22_11)
{
	static const uint8_t mac[6] = { 0x02, 0xdd, 0x00, 0x00, 0x00, 0x01 };
	struct vmdev *d = &self->d;
	uint64_t offered, backend, features;
	struct vhost_vring_state s;
	unsigned int q, polls;
	uint8_t st, cfg[6];
	struct stat sb;
	uint32_t id;
	long pin0 = vmdev_vmpin_kb();

	/* 1. backend detection: a char device with the vhost-vdpa major */
	ASSERT_EQ(0, stat(self->node, &sb));
	ASSERT_TRUE(S_ISCHR(sb.st_mode));
	EXPECT_EQ(vmdev_dpdk_vhost_vdpa_major(), (int)major(sb.st_rdev));

	/* 2. probe */
	d->fd = open(self->node, O_RDWR);
	ASSERT_LE(0, d->fd);
	ASSERT_EQ(0, vmdev_ioctl(d->fd, VHOST_VDPA_GET_DEVICE_ID, &id));
	ASSERT_EQ(1, id);
	ASSERT_EQ(0, vmdev_ioctl(d->fd, VHOST_SET_OWNER, NULL));
	ASSERT_EQ(0, vmdev_ioctl(d->fd, VHOST_GET_FEATURES, &offered));
	offered &= ~F(VIRTIO_NET_F_MQ);
	ASSERT_EQ(0, vmdev_ioctl(d->fd, VHOST_GET_BACKEND_FEATURES, &backend));
	backend &= F(VHOST_BACKEND_F_IOTLB_MSG_V2) |
		   F(VHOST_BACKEND_F_IOTLB_BATCH);
	ASSERT_TRUE(backend & F(VHOST_BACKEND_F_IOTLB_MSG_V2));
	ASSERT_EQ(0, vmdev_ioctl(d->fd, VHOST_SET_BACKEND_FEATURES, &backend));
	ASSERT_EQ(0, get_config(d->fd, 0, 6, cfg));
	EXPECT_TRUE(cfg[0] || cfg[1] || cfg[5]);

	/* 3. virtio init: reset and wait for 0, ACK, DRIVER */
	ASSERT_EQ(0, vmdev_set_status(d->fd, 0));
	for (polls = 0; polls < 3000; polls++) {
		ASSERT_EQ(0, vmdev_get_status(d->fd, &st));
		if (!st)
			break;
		usleep(1000);
	}
	ASSERT_EQ(0, st);
	ASSERT_EQ(0, add_status(d->fd, VIRTIO_CONFIG_S_ACKNOWLEDGE));
	ASSERT_EQ(0, add_status(d->fd, VIRTIO_CONFIG_S_DRIVER));

	/* 4. FEATURES_OK: calls first (rx, then tx), features, status */
	d->mem_size = 4 * MB;
	d->mem = mmap(NULL, d->mem_size, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, d->mem);
	d->opts.iova = (uintptr_t)d->mem;	/* IOVA as VA */
	d->opts.num = 256;
	d->pairs = 1;
	d->cvq = -1u;
	ASSERT_EQ(0, vmdev_vq_alloc(d, 0, 2048));
	ASSERT_EQ(0, vmdev_vq_alloc(d, 1, 2048));
	for (q = 0; q < 2; q++)
		ASSERT_EQ(0, vmdev_vring_file(d->fd, VHOST_SET_VRING_CALL, q,
					      d->vqs[q].call_fd));
	features = (offered & (F(VIRTIO_F_VERSION_1) |
			       F(VIRTIO_NET_F_MRG_RXBUF))) |
		   F(VIRTIO_F_ACCESS_PLATFORM);
	ASSERT_EQ(0, vmdev_ioctl(d->fd, VHOST_SET_FEATURES, &features));
	d->features = features;
	ASSERT_EQ(0, add_status(d->fd, VIRTIO_CONFIG_S_FEATURES_OK));

	/* 5. start: memory (INVALIDATE-all first), rings, enable, DRIVER_OK */
	ASSERT_EQ(MSG, vmdev_iotlb_msg(d->fd, 0, VHOST_IOTLB_BATCH_BEGIN, 0, 0,
				       0, 0));
	EXPECT_EQ(MSG, vmdev_iotlb_msg(d->fd, 0, VHOST_IOTLB_INVALIDATE, 0,
				       UINT64_MAX, 0, 0));
	ASSERT_EQ(MSG, vmdev_iotlb_msg(d->fd, 0, VHOST_IOTLB_UPDATE,
				       (uintptr_t)d->mem, d->mem_size,
				       (uintptr_t)d->mem, VHOST_ACCESS_RW));
	ASSERT_EQ(MSG, vmdev_iotlb_msg(d->fd, 0, VHOST_IOTLB_BATCH_END, 0, 0,
				       0, 0));
	for (q = 0; q < 2; q++)
		ASSERT_EQ(0, vmdev_vq_program(d, q));
	vmdev_rx_fill(d, 0);
	for (q = 0; q < 2; q++)
		ASSERT_EQ(0, vmdev_vring_state(d->fd,
					       VHOST_VDPA_SET_VRING_ENABLE, q,
					       1));
	ASSERT_EQ(0, vmdev_set_status(d->fd, 0x0f));
	ASSERT_EQ(0, vmdev_get_status(d->fd, &st));
	ASSERT_EQ(0x0f, st);

	/* 6. running: testpmd sets its MAC, then polls */
	ASSERT_EQ(0, set_config(d->fd, 0, 6, mac));
	ASSERT_EQ(0, get_config(d->fd, 0, 6, cfg));
	EXPECT_EQ(0, memcmp(mac, cfg, 6));
	vmdev_kick(d, 0);
	ASSERT_EQ(0, guest_traffic(_metadata, d, 0, 200, false));

	/* 7. close: disable, bases while DRIVER_OK, reset, no unmap */
	for (q = 0; q < 2; q++)
		ASSERT_EQ(0, vmdev_vring_state(d->fd,
					       VHOST_VDPA_SET_VRING_ENABLE, q,
					       0));
	s.index = 1;
	ASSERT_EQ(0, vmdev_ioctl(d->fd, VHOST_GET_VRING_BASE, &s));
	EXPECT_EQ(200, s.num);
	s.index = 0;
	ASSERT_EQ(0, vmdev_ioctl(d->fd, VHOST_GET_VRING_BASE, &s));
	EXPECT_EQ(200, s.num);
	ASSERT_EQ(0, vmdev_set_status(d->fd, 0));
	ASSERT_EQ(0, vmdev_get_status(d->fd, &st));
	ASSERT_EQ(0, st);
	for (q = 0; q < 2; q++) {
		close(d->vqs[q].kick_fd);
		close(d->vqs[q].call_fd);
		free(d->vqs[q].next_free);
	}
	close(d->fd);
	d->fd = -1;
	/* Release unmapped and unpinned what DPDK left mapped. */
	EXPECT_EQ(pin0, vmdev_vmpin_kb());
	munmap(d->mem, d->mem_size);
}

/* The complete example of Documentation/userspace-api/vhost-mdev.rst. */
TEST_F(clients, documented_example)
{
	if (access("/usr/bin/vmdev-hello", X_OK))
		SKIP(return, "vmdev-hello is not installed");
	EXPECT_EQ(0, vmdev_run2("/usr/bin/vmdev-hello", self->node, NULL));
	/* It leaves nothing behind: the device opens again. */
	self->d.fd = open(self->node, O_RDWR);
	EXPECT_LE(0, self->d.fd);
}

TEST_HARNESS_MAIN
