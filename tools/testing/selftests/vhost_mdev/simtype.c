// SPDX-License-Identifier: GPL-2.0-only
/*
 * A second simulator type, from a module of its own (modules/simrng:
 * a virtio entropy device that fills buffers with a running counter),
 * registers with the simulator core, which knows nothing of it: its mdev
 * type appears, its devices speak the whole uAPI with its own queue count,
 * groups and configuration, and they fill buffers byte for byte.
 */
#include <poll.h>
#include <sys/mman.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>

#include "kselftest_harness.h"
#include "vmdev_test.h"

#define RNG		"vmdev_sim_rng"
#define RNG_PARENT	"/sys/class/mdev_bus/vhost_mdev_sim_rng"
#define RNG_TYPE	"vhost_mdev_sim_rng-rng"
#define NBUF		8
#define BUF		512

FIXTURE(simtype) {
	char uuid[37];
	char node[64];
	struct vmdev d;
};

FIXTURE_SETUP(simtype)
{
	vmdev_init(&self->d);
	self->uuid[0] = '\0';
	if (!vmdev_module_installed(RNG))
		SKIP(return, RNG ".ko is not installed");
	ASSERT_EQ(0, vmdev_modprobe(RNG));
	ASSERT_EQ(0, vmdev_uuid_random(self->uuid));
	ASSERT_EQ(0, vmdev_mdev_create(RNG_PARENT, RNG_TYPE, self->uuid));
	ASSERT_EQ(0, vmdev_mdev_node(self->uuid, self->node,
				     sizeof(self->node)));
}

FIXTURE_TEARDOWN(simtype)
{
	vmdev_close(&self->d);
	if (self->uuid[0])
		vmdev_mdev_remove(self->uuid);
	vmdev_rmmod(RNG);
}

/* The type describes itself; the core made its parent and its devices. */
TEST_F(simtype, describes_itself)
{
	uint32_t id, n;
	char buf[256];
	int fd;

	ASSERT_EQ(0, vmdev_type_attr(RNG_PARENT, RNG_TYPE, "name", buf,
				     sizeof(buf)));
	EXPECT_STREQ("virtio entropy source (test)", buf);
	ASSERT_EQ(0, vmdev_type_attr(RNG_PARENT, RNG_TYPE, "description", buf,
				     sizeof(buf)));
	EXPECT_STREQ("simulated entropy source, 1 virtqueue", buf);
	ASSERT_EQ(0, vmdev_type_attr(RNG_PARENT, RNG_TYPE,
				     "available_instances", buf, sizeof(buf)));
	EXPECT_STREQ("1", buf);

	fd = open(self->node, O_RDWR);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, vmdev_ioctl(fd, VHOST_VDPA_GET_DEVICE_ID, &id));
	EXPECT_EQ(VIRTIO_ID_RNG, id);
	ASSERT_EQ(0, vmdev_ioctl(fd, VHOST_VDPA_GET_VQS_COUNT, &n));
	EXPECT_EQ(1, n);
	ASSERT_EQ(0, vmdev_ioctl(fd, VHOST_VDPA_GET_GROUP_NUM, &n));
	EXPECT_EQ(1, n);
	ASSERT_EQ(0, vmdev_ioctl(fd, VHOST_VDPA_GET_AS_NUM, &n));
	EXPECT_EQ(1, n);
	ASSERT_EQ(0, vmdev_ioctl(fd, VHOST_VDPA_GET_CONFIG_SIZE, &n));
	EXPECT_EQ(0, n);
	/* Queue 1 does not exist on this type. */
	ASSERT_EQ(0, vmdev_ioctl(fd, VHOST_SET_OWNER, NULL));
	EXPECT_EQ(-ENOBUFS, vmdev_vring_state(fd, VHOST_SET_VRING_NUM, 1, 64));
	close(fd);
}

/* Every byte of every buffer: the counter, running on across buffers. */
TEST_F(simtype, fills_buffers)
{
	uint64_t features = (1ULL << VIRTIO_F_VERSION_1) |
			    (1ULL << VIRTIO_F_ACCESS_PLATFORM);
	uint64_t backend = 1ULL << VHOST_BACKEND_F_IOTLB_MSG_V2;
	struct vmdev *d = &self->d;
	struct vmdev_vq *vq = &d->vqs[0];
	unsigned int i, j, got = 0;
	uint8_t status;

	d->fd = open(self->node, O_RDWR);
	ASSERT_LE(0, d->fd);
	d->opts = (struct vmdev_opts) { .num = NBUF, .iova = 0x100000 };
	d->cvq = -1u;
	d->backend = backend;
	ASSERT_EQ(0, vmdev_ioctl(d->fd, VHOST_SET_OWNER, NULL));
	ASSERT_EQ(0, vmdev_ioctl(d->fd, VHOST_SET_BACKEND_FEATURES, &backend));
	ASSERT_EQ(0, vmdev_set_status(d->fd, VIRTIO_CONFIG_S_ACKNOWLEDGE |
				      VIRTIO_CONFIG_S_DRIVER));
	ASSERT_EQ(0, vmdev_ioctl(d->fd, VHOST_SET_FEATURES, &features));
	ASSERT_EQ(0, vmdev_set_status(d->fd, 0xb));
	d->mem_size = 2 << 20;
	d->mem = mmap(NULL, d->mem_size, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, d->mem);
	ASSERT_EQ(0, vmdev_map_memory(d));
	ASSERT_EQ(0, vmdev_vq_alloc(d, 0, BUF));
	ASSERT_EQ(0, vmdev_vq_program(d, 0));
	vmdev_rx_fill(d, 0);
	ASSERT_EQ(0, vmdev_vring_state(d->fd, VHOST_VDPA_SET_VRING_ENABLE, 0,
				       1));
	ASSERT_EQ(0, vmdev_set_status(d->fd, 0xf));
	ASSERT_EQ(0, vmdev_get_status(d->fd, &status));
	ASSERT_EQ(0xf, status);
	ASSERT_EQ(0, vmdev_kick(d, 0));

	while (le16toh(__atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE)) <
	       NBUF)
		ASSERT_EQ(1, vmdev_wait_call(d, 0, 5000));
	for (i = 0; i < NBUF; i++) {
		struct vring_used_elem *e = &vq->used->ring[i];
		uint8_t *buf = vq->bufs + (size_t)le32toh(e->id) * BUF;

		ASSERT_EQ(BUF, le32toh(e->len));
		for (j = 0; j < BUF; j++, got++)
			ASSERT_EQ((uint8_t)got, buf[j])
				TH_LOG("buffer %u byte %u", i, j);
	}
}

TEST_HARNESS_MAIN
