// SPDX-License-Identifier: GPL-2.0-only
/*
 * Every ioctl of the chardev on a simulator mdev: what it answers, and what
 * each bad input gets, on both sides of every boundary.
 */
#include <sys/ioctl.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <linux/virtio_config.h>

#include "kselftest_harness.h"
#include "vmdev_test.h"

#define SIM_NVQS	5	/* two pairs and the control queue */
#define SIM_VQ_MAX	1024
#define SIM_CONFIG_SIZE	24	/* struct virtio_net_config */

#define F(bit)		(1ULL << (bit))

FIXTURE(uapi) {
	char uuid[37];
	char node[64];
	int fd;
};

FIXTURE_SETUP(uapi)
{
	self->fd = vmdev_sim_open(self->uuid, self->node, sizeof(self->node));
	if (self->fd == -ENOENT)
		SKIP(return, "vhost_mdev_sim is not installed");
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(uapi)
{
	EXPECT_EQ(0, vmdev_sim_close(self->fd, self->uuid));
}

static int io(int fd, unsigned long req, void *arg)
{
	return vmdev_ioctl(fd, req, arg);
}

/* Status handshake up to FEATURES_OK with @features. */
static int negotiate(int fd, uint64_t features)
{
	int ret = vmdev_set_status(fd, VIRTIO_CONFIG_S_ACKNOWLEDGE);

	if (!ret)
		ret = vmdev_set_status(fd, VIRTIO_CONFIG_S_ACKNOWLEDGE |
				       VIRTIO_CONFIG_S_DRIVER);
	if (!ret)
		ret = io(fd, VHOST_SET_FEATURES, &features);
	if (!ret)
		ret = vmdev_set_status(fd, VIRTIO_CONFIG_S_ACKNOWLEDGE |
				       VIRTIO_CONFIG_S_DRIVER |
				       VIRTIO_CONFIG_S_FEATURES_OK);
	return ret;
}

#define BASE_FEATURES	(F(VIRTIO_F_VERSION_1) | F(VIRTIO_F_ACCESS_PLATFORM))
#define S_FOK		(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | \
			 VIRTIO_CONFIG_S_FEATURES_OK)

TEST_F(uapi, second_open_is_busy)
{
	int fd2 = open(self->node, O_RDWR);

	EXPECT_EQ(-1, fd2);
	EXPECT_EQ(EBUSY, errno);
	/* The first opener is unaffected. */
	EXPECT_EQ(0, io(self->fd, VHOST_SET_OWNER, NULL));
	close(self->fd);
	self->fd = open(self->node, O_RDWR);
	EXPECT_LE(0, self->fd);
}

TEST_F(uapi, owner)
{
	struct vhost_vring_state s = { .index = 0, .num = 256 };

	/* Vring ioctls need an owner. */
	EXPECT_EQ(-EPERM, io(self->fd, VHOST_SET_VRING_NUM, &s));
	EXPECT_EQ(0, io(self->fd, VHOST_SET_OWNER, NULL));
	EXPECT_EQ(-EBUSY, io(self->fd, VHOST_SET_OWNER, NULL));
	EXPECT_EQ(0, io(self->fd, VHOST_SET_VRING_NUM, &s));
	/* RESET_OWNER gives the device up; another owner may take it. */
	EXPECT_EQ(0, io(self->fd, VHOST_RESET_OWNER, NULL));
	EXPECT_EQ(-EPERM, io(self->fd, VHOST_SET_VRING_NUM, &s));
	EXPECT_EQ(0, io(self->fd, VHOST_SET_OWNER, NULL));
}

/*
 * A process that inherited the fd (another mm) reads, but changes nothing
 * once there is an owner: neither device state, nor rings, nor memory.
 */
TEST_F(uapi, non_owner_is_refused)
{
	int status;
	pid_t pid;

	ASSERT_EQ(0, io(self->fd, VHOST_SET_OWNER, NULL));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct vhost_vring_state s = { .index = 0, .num = 256 };
		uint64_t features;
		uint8_t st = VIRTIO_CONFIG_S_ACKNOWLEDGE;
		char buf[64];
		int fails = 0;

		fails += io(self->fd, VHOST_GET_FEATURES, &features) != 0;
		fails += io(self->fd, VHOST_VDPA_SET_STATUS, &st) != -EPERM;
		fails += io(self->fd, VHOST_SET_FEATURES, &features) != -EPERM;
		fails += io(self->fd, VHOST_SET_VRING_NUM, &s) != -EPERM;
		fails += io(self->fd, VHOST_RESET_OWNER, NULL) != -EPERM;
		fails += io(self->fd, VHOST_SET_OWNER, NULL) != -EBUSY;
		fails += vmdev_iotlb_msg(self->fd, 0, VHOST_IOTLB_UPDATE,
					 0x100000, 4096, (uintptr_t)buf & ~4095UL,
					 VHOST_ACCESS_RW) != -EPERM;
		fails += mmap(NULL, 4096, PROT_WRITE, MAP_SHARED, self->fd,
			      0) != MAP_FAILED || errno != EPERM;
		_exit(fails);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

/* Before SET_OWNER anyone with the fd may do what QEMU does then. */
TEST_F(uapi, before_owner)
{
	uint8_t st = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER;
	struct vhost_vdpa_iova_range r;
	uint64_t features;
	uint32_t id;

	EXPECT_EQ(0, io(self->fd, VHOST_GET_FEATURES, &features));
	EXPECT_EQ(0, io(self->fd, VHOST_VDPA_GET_DEVICE_ID, &id));
	EXPECT_EQ(0, io(self->fd, VHOST_VDPA_GET_IOVA_RANGE, &r));
	EXPECT_EQ(0, io(self->fd, VHOST_VDPA_SET_STATUS, &st));
	EXPECT_EQ(0, vmdev_get_status(self->fd, &st));
	EXPECT_EQ(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER, st);
}

TEST_F(uapi, device_queries)
{
	struct vhost_vdpa_iova_range r;
	uint32_t u32;
	uint16_t u16;

	EXPECT_EQ(0, io(self->fd, VHOST_VDPA_GET_DEVICE_ID, &u32));
	EXPECT_EQ(1, u32);	/* VIRTIO_ID_NET */
	EXPECT_EQ(0, io(self->fd, VHOST_VDPA_GET_VQS_COUNT, &u32));
	EXPECT_EQ(SIM_NVQS, u32);
	EXPECT_EQ(0, io(self->fd, VHOST_VDPA_GET_VRING_NUM, &u16));
	EXPECT_EQ(SIM_VQ_MAX, u16);
	EXPECT_EQ(0, io(self->fd, VHOST_VDPA_GET_CONFIG_SIZE, &u32));
	EXPECT_EQ(SIM_CONFIG_SIZE, u32);
	EXPECT_EQ(0, io(self->fd, VHOST_VDPA_GET_GROUP_NUM, &u32));
	EXPECT_EQ(2, u32);
	EXPECT_EQ(0, io(self->fd, VHOST_VDPA_GET_AS_NUM, &u32));
	EXPECT_EQ(2, u32);
	EXPECT_EQ(0, io(self->fd, VHOST_VDPA_GET_IOVA_RANGE, &r));
	EXPECT_EQ(0, r.first);
	EXPECT_EQ(UINT64_MAX, r.last);
	/* Unmapped argument memory. */
	EXPECT_EQ(-EFAULT, io(self->fd, VHOST_VDPA_GET_DEVICE_ID, NULL));
	EXPECT_EQ(-EFAULT, io(self->fd, VHOST_VDPA_GET_IOVA_RANGE,
			      (void *)8));
}

TEST_F(uapi, features)
{
	uint64_t offered, f, backend;

	ASSERT_EQ(0, io(self->fd, VHOST_GET_FEATURES, &offered));
	EXPECT_EQ(BASE_FEATURES, offered & BASE_FEATURES);
	EXPECT_TRUE(offered & F(VIRTIO_NET_F_MAC));
	EXPECT_TRUE(offered & F(VIRTIO_NET_F_MQ));
	EXPECT_TRUE(offered & F(VIRTIO_F_RING_PACKED));
	ASSERT_EQ(0, io(self->fd, VHOST_SET_OWNER, NULL));

	/* A feature the device does not offer. */
	ASSERT_FALSE(offered & F(VIRTIO_RING_F_EVENT_IDX));
	f = BASE_FEATURES | F(VIRTIO_RING_F_EVENT_IDX);
	EXPECT_EQ(-EINVAL, io(self->fd, VHOST_SET_FEATURES, &f));
	f = ~0ULL;
	EXPECT_EQ(-EINVAL, io(self->fd, VHOST_SET_FEATURES, &f));
	f = offered;
	EXPECT_EQ(0, io(self->fd, VHOST_SET_FEATURES, &f));
	ASSERT_EQ(0, negotiate(self->fd, BASE_FEATURES));
	/* Fixed once FEATURES_OK is set. */
	EXPECT_EQ(-EBUSY, io(self->fd, VHOST_SET_FEATURES, &f));

	ASSERT_EQ(0, io(self->fd, VHOST_GET_BACKEND_FEATURES, &backend));
	EXPECT_TRUE(backend & F(VHOST_BACKEND_F_IOTLB_MSG_V2));
	EXPECT_TRUE(backend & F(VHOST_BACKEND_F_IOTLB_BATCH));
	EXPECT_TRUE(backend & F(VHOST_BACKEND_F_IOTLB_ASID));
	EXPECT_TRUE(backend & F(VHOST_BACKEND_F_IOTLB_PERSIST));
	EXPECT_TRUE(backend & F(VHOST_BACKEND_F_SUSPEND));
	EXPECT_TRUE(backend & F(VHOST_BACKEND_F_RESUME));
	/* The simulator has no separate descriptor group. */
	EXPECT_FALSE(backend & F(VHOST_BACKEND_F_DESC_ASID));
	f = F(VHOST_BACKEND_F_DESC_ASID) | F(VHOST_BACKEND_F_IOTLB_ASID);
	EXPECT_EQ(-EOPNOTSUPP, io(self->fd, VHOST_SET_BACKEND_FEATURES, &f));
	f = backend | F(9);
	EXPECT_EQ(-EOPNOTSUPP, io(self->fd, VHOST_SET_BACKEND_FEATURES, &f));
	f = F(63);
	EXPECT_EQ(-EOPNOTSUPP, io(self->fd, VHOST_SET_BACKEND_FEATURES, &f));
	EXPECT_EQ(0, io(self->fd, VHOST_SET_BACKEND_FEATURES, &backend));
}

/* The path of mdev @uuid's device_features attribute, in @path. */
static const char *mask_path(char path[128], const char *uuid)
{
	snprintf(path, 128, "/sys/bus/mdev/devices/%s/device_features", uuid);
	return path;
}

/* Write @val to the mdev's device_features; 0 or -errno. */
static int write_mask(const char *uuid, const char *val)
{
	char path[128];

	return vmdev_write_file(mask_path(path, uuid), val);
}

/* The mdev's device_features, or 0 when it cannot be read. */
static uint64_t read_mask(const char *uuid)
{
	char path[128], buf[32];

	return vmdev_read_file(mask_path(path, uuid), buf, sizeof(buf)) ? 0 :
	       strtoull(buf, NULL, 0);
}

static int write_mask_u64(const char *uuid, uint64_t features)
{
	char val[32];

	snprintf(val, sizeof(val), "%#llx", (unsigned long long)features);
	return write_mask(uuid, val);
}

/*
 * The mdev's device_features: what VHOST_GET_FEATURES offers, and a subset
 * the owner may choose while the device is closed; a feature taken out can
 * no longer be negotiated. VERSION_1 and ACCESS_PLATFORM stay; nothing
 * the parent lacks comes in; a refused write changes nothing.
 */
TEST_F(uapi, device_features_attribute)
{
	uint64_t offered, less, f;

	/* GET_FEATURES adds VHOST_F_LOG_ALL, a vhost feature (dirty_log). */
	ASSERT_EQ(0, io(self->fd, VHOST_GET_FEATURES, &offered));
	EXPECT_TRUE(offered & F(VHOST_F_LOG_ALL));
	offered &= ~F(VHOST_F_LOG_ALL);
	EXPECT_EQ(offered, read_mask(self->uuid));
	less = offered & ~(F(VIRTIO_NET_F_MQ) | F(VIRTIO_NET_F_MRG_RXBUF));
	ASSERT_NE(offered, less);
	/* Not while the device is open. */
	EXPECT_EQ(-EBUSY, write_mask_u64(self->uuid, less));
	EXPECT_EQ(offered, read_mask(self->uuid));

	ASSERT_EQ(0, close(self->fd));
	self->fd = -1;
	EXPECT_EQ(-EINVAL, write_mask_u64(self->uuid, less |
					  F(VIRTIO_RING_F_EVENT_IDX)));
	EXPECT_EQ(-EINVAL, write_mask_u64(self->uuid,
					  less & ~F(VIRTIO_F_VERSION_1)));
	EXPECT_EQ(-EINVAL, write_mask_u64(self->uuid,
					  less & ~F(VIRTIO_F_ACCESS_PLATFORM)));
	EXPECT_EQ(-EINVAL, write_mask(self->uuid, "mq"));
	EXPECT_EQ(-EINVAL, write_mask(self->uuid, "\n"));
	EXPECT_EQ(offered, read_mask(self->uuid));
	ASSERT_EQ(0, write_mask_u64(self->uuid, less));
	EXPECT_EQ(less, read_mask(self->uuid));

	self->fd = open(self->node, O_RDWR);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, io(self->fd, VHOST_GET_FEATURES, &f));
	EXPECT_EQ(less | F(VHOST_F_LOG_ALL), f);
	ASSERT_EQ(0, io(self->fd, VHOST_SET_OWNER, NULL));
	f = less | F(VIRTIO_NET_F_MQ);
	EXPECT_EQ(-EINVAL, io(self->fd, VHOST_SET_FEATURES, &f));
	EXPECT_EQ(0, negotiate(self->fd, less));

	/* Back to all of them, the device closed again. */
	ASSERT_EQ(0, close(self->fd));
	ASSERT_EQ(0, write_mask_u64(self->uuid, offered));
	EXPECT_EQ(offered, read_mask(self->uuid));
	self->fd = open(self->node, O_RDWR);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, io(self->fd, VHOST_GET_FEATURES, &f));
	EXPECT_EQ(offered | F(VHOST_F_LOG_ALL), f);
}

/* A device that cannot work with the features leaves FEATURES_OK clear. */
TEST_F(uapi, features_ok_refused)
{
	uint8_t st;

	ASSERT_EQ(0, io(self->fd, VHOST_SET_OWNER, NULL));
	EXPECT_EQ(0, negotiate(self->fd, F(VIRTIO_F_VERSION_1)));
	EXPECT_EQ(0, vmdev_get_status(self->fd, &st));
	EXPECT_FALSE(st & VIRTIO_CONFIG_S_FEATURES_OK);
	EXPECT_EQ(0, vmdev_set_status(self->fd, 0));
	EXPECT_EQ(0, negotiate(self->fd, BASE_FEATURES));
	EXPECT_EQ(0, vmdev_get_status(self->fd, &st));
	EXPECT_EQ(S_FOK, st);
}

TEST_F(uapi, status)
{
	uint8_t st;

	ASSERT_EQ(0, io(self->fd, VHOST_SET_OWNER, NULL));
	EXPECT_EQ(0, vmdev_get_status(self->fd, &st));
	EXPECT_EQ(0, st);
	/* Out of order: DRIVER before ACKNOWLEDGE, DRIVER_OK alone. */
	EXPECT_EQ(-EINVAL, vmdev_set_status(self->fd, VIRTIO_CONFIG_S_DRIVER));
	EXPECT_EQ(-EINVAL, vmdev_set_status(self->fd, 0x7));
	/* Bits a driver never sets: NEEDS_RESET, 0x10, 0x20. */
	EXPECT_EQ(-EINVAL, vmdev_set_status(self->fd, 0x1 | 0x40));
	EXPECT_EQ(-EINVAL, vmdev_set_status(self->fd, 0x1 | 0x10));
	EXPECT_EQ(-EINVAL, vmdev_set_status(self->fd, 0x1 | 0x20));
	ASSERT_EQ(0, negotiate(self->fd, BASE_FEATURES));
	/* Clearing a bit without a reset. */
	EXPECT_EQ(-EINVAL, vmdev_set_status(self->fd, 0x3));
	EXPECT_EQ(0, vmdev_get_status(self->fd, &st));
	EXPECT_EQ(S_FOK, st);
	/* FAILED may be added; then only a reset helps. */
	EXPECT_EQ(0, vmdev_set_status(self->fd, S_FOK | 0x80));
	EXPECT_EQ(0, vmdev_set_status(self->fd, 0));
	EXPECT_EQ(0, vmdev_get_status(self->fd, &st));
	EXPECT_EQ(0, st);
	EXPECT_EQ(-EFAULT, io(self->fd, VHOST_VDPA_SET_STATUS, NULL));
}

static int config(int fd, unsigned long req, uint32_t off, uint32_t len,
		  uint8_t *buf)
{
	struct {
		struct vhost_vdpa_config c;
		uint8_t buf[64];
	} cfg = { .c = { .off = off, .len = len } };
	int ret;

	if (req == VHOST_VDPA_SET_CONFIG && len <= 64)
		memcpy(cfg.buf, buf, len);
	ret = io(fd, req, &cfg);
	if (!ret && req == VHOST_VDPA_GET_CONFIG && len <= 64)
		memcpy(buf, cfg.buf, len);
	return ret;
}

TEST_F(uapi, config)
{
	uint8_t buf[64], mac[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };
	uint32_t off, len;

	ASSERT_EQ(0, config(self->fd, VHOST_VDPA_GET_CONFIG, 0,
			    SIM_CONFIG_SIZE, buf));
	EXPECT_EQ(0x02, buf[0]);			/* locally administered */
	EXPECT_EQ(1, buf[6] | buf[7] << 8);		/* LINK_UP */
	EXPECT_EQ(2, buf[8] | buf[9] << 8);		/* max pairs */
	EXPECT_EQ(1500, buf[10] | buf[11] << 8);	/* mtu */

	/* Both sides of every bound. */
	for (off = 0; off <= SIM_CONFIG_SIZE + 1; off++)
		for (len = 0; len <= SIM_CONFIG_SIZE + 1; len++) {
			int want = len && off + len <= SIM_CONFIG_SIZE ?
				   0 : -EINVAL;

			EXPECT_EQ(want, config(self->fd, VHOST_VDPA_GET_CONFIG,
					       off, len, buf))
				TH_LOG("get off %u len %u", off, len);
			EXPECT_EQ(want, config(self->fd, VHOST_VDPA_SET_CONFIG,
					       off, len, buf))
				TH_LOG("set off %u len %u", off, len);
		}
	/* Wrapping arithmetic. */
	EXPECT_EQ(-EINVAL, config(self->fd, VHOST_VDPA_GET_CONFIG, 0xffffffff,
				  1, buf));
	EXPECT_EQ(-EINVAL, config(self->fd, VHOST_VDPA_GET_CONFIG, 1,
				  0xffffffff, buf));
	EXPECT_EQ(-EINVAL, config(self->fd, VHOST_VDPA_SET_CONFIG, 8,
				  0xfffffff8, buf));

	/* The MAC is the driver's to write, the rest is not. */
	ASSERT_EQ(0, config(self->fd, VHOST_VDPA_SET_CONFIG, 0, 6, mac));
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ(0, config(self->fd, VHOST_VDPA_SET_CONFIG, 6, 6, buf));
	ASSERT_EQ(0, config(self->fd, VHOST_VDPA_GET_CONFIG, 0, 12, buf));
	EXPECT_EQ(0, memcmp(mac, buf, 6));
	EXPECT_EQ(1, buf[6]);
	EXPECT_EQ(2, buf[8]);

	EXPECT_EQ(-EFAULT, io(self->fd, VHOST_VDPA_GET_CONFIG, NULL));
}

static int sim_attr(const char *uuid, const char *name, const char *val,
		    char *buf, size_t len)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s/%s", uuid,
		 name);
	return val ? vmdev_write_file(path, val) :
		     vmdev_read_file(path, buf, len);
}

/*
 * The simulator's mac and mtu attributes: what the configuration space
 * says, set by the administrator while the device is closed; bad values
 * refused on both sides of each bound, and change nothing.
 */
TEST_F(uapi, mac_and_mtu_attributes)
{
	static const char * const bad_macs[] = {
		"01:00:5e:00:00:01",	/* multicast */
		"00:00:00:00:00:00", "52:54:00:12:34", "52:54:00:12:34:5g",
		"52:54:00:12:34:56:78", "52:54:00:12:34:56 x", "\n",
	};
	static const char * const bad_mtus[] = {
		"67", "65523", "-1", "1500x", "0x",
	};
	uint8_t cfg[12];
	char buf[64];
	unsigned int i;

	ASSERT_EQ(0, sim_attr(self->uuid, "mac", NULL, buf, sizeof(buf)));
	EXPECT_EQ(17, strlen(buf));
	ASSERT_EQ(0, sim_attr(self->uuid, "mtu", NULL, buf, sizeof(buf)));
	EXPECT_STREQ("1500", buf);
	/* Not while the device is open. */
	EXPECT_EQ(-EBUSY, sim_attr(self->uuid, "mac", "52:54:00:12:34:56",
				   NULL, 0));
	EXPECT_EQ(-EBUSY, sim_attr(self->uuid, "mtu", "9000", NULL, 0));

	ASSERT_EQ(0, close(self->fd));
	self->fd = -1;
	for (i = 0; i < ARRAY_SIZE(bad_macs); i++)
		EXPECT_EQ(-EINVAL, sim_attr(self->uuid, "mac", bad_macs[i],
					    NULL, 0)) TH_LOG("%s", bad_macs[i]);
	for (i = 0; i < ARRAY_SIZE(bad_mtus); i++)
		EXPECT_EQ(-EINVAL, sim_attr(self->uuid, "mtu", bad_mtus[i],
					    NULL, 0)) TH_LOG("%s", bad_mtus[i]);
	/* Beyond 16 bits: kstrtou16()'s answer. */
	EXPECT_EQ(-ERANGE, sim_attr(self->uuid, "mtu", "65536", NULL, 0));
	ASSERT_EQ(0, sim_attr(self->uuid, "mac", "02:00:00:ab:cd:ef", NULL,
			      0));
	ASSERT_EQ(0, sim_attr(self->uuid, "mtu", "68", NULL, 0));
	ASSERT_EQ(0, sim_attr(self->uuid, "mtu", "65522", NULL, 0));
	ASSERT_EQ(0, sim_attr(self->uuid, "mac", NULL, buf, sizeof(buf)));
	EXPECT_STREQ("02:00:00:ab:cd:ef", buf);
	ASSERT_EQ(0, sim_attr(self->uuid, "mtu", NULL, buf, sizeof(buf)));
	EXPECT_STREQ("65522", buf);

	/* What a client reads. */
	self->fd = open(self->node, O_RDWR);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, config(self->fd, VHOST_VDPA_GET_CONFIG, 0, 12, cfg));
	EXPECT_EQ(0, memcmp(cfg, "\x02\x00\x00\xab\xcd\xef", 6));
	EXPECT_EQ(65522, cfg[10] | cfg[11] << 8);
}

TEST_F(uapi, vring_index_out_of_range)
{
	static const unsigned long reqs[] = {
		VHOST_SET_VRING_NUM, VHOST_SET_VRING_BASE,
		VHOST_GET_VRING_BASE, VHOST_SET_VRING_KICK,
		VHOST_SET_VRING_CALL, VHOST_VDPA_SET_VRING_ENABLE,
		VHOST_VDPA_GET_VRING_GROUP, VHOST_VDPA_GET_VRING_DESC_GROUP,
		VHOST_VDPA_GET_VRING_SIZE, VHOST_SET_VRING_ADDR,
	};
	static const uint32_t bad[] = {
		SIM_NVQS, SIM_NVQS + 1, 0x7fffffff, 0xffffffff,
	};
	struct vhost_vring_addr a = {};
	unsigned int i, j;

	ASSERT_EQ(0, io(self->fd, VHOST_SET_OWNER, NULL));
	for (i = 0; i < ARRAY_SIZE(reqs); i++)
		for (j = 0; j < ARRAY_SIZE(bad); j++) {
			a.index = bad[j];
			EXPECT_EQ(-ENOBUFS, io(self->fd, reqs[i], &a))
				TH_LOG("request %#lx index %#x", reqs[i],
				       bad[j]);
		}
	/* The last queue is in range. */
	a.index = SIM_NVQS - 1;
	EXPECT_EQ(0, io(self->fd, VHOST_GET_VRING_BASE, &a));
}

TEST_F(uapi, vring_num)
{
	static const struct {
		uint32_t num;
		int ret;
	} cases[] = {
		{ 0, -EINVAL }, { 1, 0 }, { 3, -EINVAL }, { 256, 0 },
		{ 1000, -EINVAL }, { SIM_VQ_MAX, 0 }, { SIM_VQ_MAX * 2, -EINVAL },
		{ 0x10000, -EINVAL }, { 0xffffffff, -EINVAL },
	};
	unsigned int i;

	ASSERT_EQ(0, io(self->fd, VHOST_SET_OWNER, NULL));
	for (i = 0; i < ARRAY_SIZE(cases); i++)
		EXPECT_EQ(cases[i].ret, vmdev_vring_state(self->fd,
							  VHOST_SET_VRING_NUM,
							  0, cases[i].num))
			TH_LOG("num %u", cases[i].num);
}

TEST_F(uapi, vring_addr)
{
	struct vhost_vring_addr a = {
		.index = 0, .desc_user_addr = 0x10000,
		.avail_user_addr = 0x11000, .used_user_addr = 0x12000,
	};
	struct vhost_vring_addr b;

	ASSERT_EQ(0, io(self->fd, VHOST_SET_OWNER, NULL));
	EXPECT_EQ(0, io(self->fd, VHOST_SET_VRING_ADDR, &a));
	/* Dirty logging of the used ring (dirtylog.c), but no other flag. */
	b = a;
	b.flags = 1 << VHOST_VRING_F_LOG;
	EXPECT_EQ(0, io(self->fd, VHOST_SET_VRING_ADDR, &b));
	b.flags = 0x80;
	EXPECT_EQ(-EOPNOTSUPP, io(self->fd, VHOST_SET_VRING_ADDR, &b));
	/* Alignment: descriptors 16, driver area 2, device area 4. */
	b = a;
	b.desc_user_addr += 8;
	EXPECT_EQ(-EINVAL, io(self->fd, VHOST_SET_VRING_ADDR, &b));
	b = a;
	b.avail_user_addr += 1;
	EXPECT_EQ(-EINVAL, io(self->fd, VHOST_SET_VRING_ADDR, &b));
	b.avail_user_addr += 1;
	EXPECT_EQ(0, io(self->fd, VHOST_SET_VRING_ADDR, &b));
	b = a;
	b.used_user_addr += 2;
	EXPECT_EQ(-EINVAL, io(self->fd, VHOST_SET_VRING_ADDR, &b));
	/* Any IOVA: nothing is mapped yet, and that is fine. */
	b = a;
	b.desc_user_addr = 0xfffffffffffff000ULL;
	EXPECT_EQ(0, io(self->fd, VHOST_SET_VRING_ADDR, &b));
}

TEST_F(uapi, vring_base)
{
	struct vhost_vring_state s = { .index = 1 };

	ASSERT_EQ(0, io(self->fd, VHOST_SET_OWNER, NULL));
	/* Never configured: a defined value. */
	ASSERT_EQ(0, io(self->fd, VHOST_GET_VRING_BASE, &s));
	EXPECT_EQ(1, s.index);
	EXPECT_EQ(0, s.num);
	EXPECT_EQ(0, vmdev_vring_state(self->fd, VHOST_SET_VRING_BASE, 1,
				       0xffff));
	EXPECT_EQ(0, io(self->fd, VHOST_GET_VRING_BASE, &s));
	EXPECT_EQ(0xffff, s.num);
	/* Split rings: 16 bits. */
	EXPECT_EQ(-EINVAL, vmdev_vring_state(self->fd, VHOST_SET_VRING_BASE,
					     1, 0x10000));
	EXPECT_EQ(0, io(self->fd, VHOST_GET_VRING_BASE, &s));
	EXPECT_EQ(0xffff, s.num);
}

TEST_F(uapi, vring_busy_while_running)
{
	struct vhost_vring_addr a = {
		.index = 0, .desc_user_addr = 0x10000,
		.avail_user_addr = 0x11000, .used_user_addr = 0x12000,
	};

	ASSERT_EQ(0, io(self->fd, VHOST_SET_OWNER, NULL));
	ASSERT_EQ(0, io(self->fd, VHOST_SET_VRING_ADDR, &a));
	ASSERT_EQ(0, negotiate(self->fd, BASE_FEATURES));
	ASSERT_EQ(0, vmdev_set_status(self->fd, S_FOK |
				      VIRTIO_CONFIG_S_DRIVER_OK));
	EXPECT_EQ(-EBUSY, vmdev_vring_state(self->fd, VHOST_SET_VRING_NUM, 0,
					    256));
	EXPECT_EQ(-EBUSY, vmdev_vring_state(self->fd, VHOST_SET_VRING_BASE, 0,
					    0));
	/* The same addresses are taken: only the log flag may change. */
	EXPECT_EQ(0, io(self->fd, VHOST_SET_VRING_ADDR, &a));
	a.used_user_addr += 0x1000;
	EXPECT_EQ(-EBUSY, io(self->fd, VHOST_SET_VRING_ADDR, &a));
	/* Suspended, the addresses and the base may change again. */
	EXPECT_EQ(0, io(self->fd, VHOST_VDPA_SUSPEND, NULL));
	EXPECT_EQ(0, io(self->fd, VHOST_SET_VRING_ADDR, &a));
	a.used_user_addr -= 0x1000;
	EXPECT_EQ(0, vmdev_vring_state(self->fd, VHOST_SET_VRING_BASE, 0, 0));
	/* The size holds until the reset: the device sized its state for it. */
	EXPECT_EQ(-EBUSY, vmdev_vring_state(self->fd, VHOST_SET_VRING_NUM, 0,
					    256));
	EXPECT_EQ(0, io(self->fd, VHOST_VDPA_RESUME, NULL));
	EXPECT_EQ(-EBUSY, io(self->fd, VHOST_SET_VRING_ADDR, &a));
	EXPECT_EQ(0, vmdev_set_status(self->fd, 0));
	EXPECT_EQ(0, vmdev_vring_state(self->fd, VHOST_SET_VRING_NUM, 0,
				       256));
}

TEST_F(uapi, vring_enable)
{
	ASSERT_EQ(0, io(self->fd, VHOST_SET_OWNER, NULL));
	EXPECT_EQ(0, vmdev_vring_state(self->fd, VHOST_VDPA_SET_VRING_ENABLE,
				       0, 1));
	EXPECT_EQ(0, vmdev_vring_state(self->fd, VHOST_VDPA_SET_VRING_ENABLE,
				       0, 0));
	EXPECT_EQ(-EINVAL, vmdev_vring_state(self->fd,
					     VHOST_VDPA_SET_VRING_ENABLE, 0,
					     2));
	EXPECT_EQ(-EINVAL, vmdev_vring_state(self->fd,
					     VHOST_VDPA_SET_VRING_ENABLE, 0,
					     0xffffffff));
}

TEST_F(uapi, vring_eventfds)
{
	static const unsigned long reqs[] = {
		VHOST_SET_VRING_KICK, VHOST_SET_VRING_CALL,
	};
	int efd = eventfd(0, 0), null = open("/dev/null", O_RDWR);
	unsigned int i;

	ASSERT_LE(0, efd);
	ASSERT_LE(0, null);
	ASSERT_EQ(0, io(self->fd, VHOST_SET_OWNER, NULL));
	for (i = 0; i < ARRAY_SIZE(reqs); i++) {
		EXPECT_EQ(0, vmdev_vring_file(self->fd, reqs[i], 0, efd));
		/* The same eventfd again, then unbound. */
		EXPECT_EQ(0, vmdev_vring_file(self->fd, reqs[i], 0, efd));
		EXPECT_EQ(0, vmdev_vring_file(self->fd, reqs[i], 0, -1));
		EXPECT_EQ(0, vmdev_vring_file(self->fd, reqs[i], 0, -1));
		/* Not an eventfd; not a file at all. */
		EXPECT_EQ(-EINVAL, vmdev_vring_file(self->fd, reqs[i], 0,
						    null));
		EXPECT_EQ(-EBADF, vmdev_vring_file(self->fd, reqs[i], 0,
						   1000));
		EXPECT_EQ(-EBADF, vmdev_vring_file(self->fd, reqs[i], 0, -2));
	}
	/* One eventfd for kick and call of every queue. */
	for (i = 0; i < SIM_NVQS; i++) {
		EXPECT_EQ(0, vmdev_vring_file(self->fd, VHOST_SET_VRING_KICK,
					      i, efd));
		EXPECT_EQ(0, vmdev_vring_file(self->fd, VHOST_SET_VRING_CALL,
					      i, efd));
	}
	/* Closing ours leaves the device's reference. */
	close(efd);
	close(null);
}

TEST_F(uapi, config_call)
{
	int efd = eventfd(0, 0), fd;

	ASSERT_LE(0, efd);
	fd = efd;
	EXPECT_EQ(0, io(self->fd, VHOST_VDPA_SET_CONFIG_CALL, &fd));
	fd = -1;
	EXPECT_EQ(0, io(self->fd, VHOST_VDPA_SET_CONFIG_CALL, &fd));
	fd = 1000;
	EXPECT_EQ(-EBADF, io(self->fd, VHOST_VDPA_SET_CONFIG_CALL, &fd));
	fd = efd;
	EXPECT_EQ(0, io(self->fd, VHOST_VDPA_SET_CONFIG_CALL, &fd));
	close(efd);
	/* Reopening after close with a config eventfd bound (a 2021 UAF). */
	close(self->fd);
	self->fd = open(self->node, O_RDWR);
	ASSERT_LE(0, self->fd);
	close(self->fd);
	self->fd = open(self->node, O_RDWR);
	ASSERT_LE(0, self->fd);
}

TEST_F(uapi, groups_and_address_spaces)
{
	struct vhost_vring_state s;
	uint64_t f = BASE_FEATURES | F(VIRTIO_NET_F_CTRL_VQ) |
		     F(VIRTIO_NET_F_MQ);

	ASSERT_EQ(0, io(self->fd, VHOST_SET_OWNER, NULL));
	ASSERT_EQ(0, negotiate(self->fd, f));
	/* Data queues in group 0, the control queue (last) in group 1. */
	s.index = 0;
	EXPECT_EQ(0, io(self->fd, VHOST_VDPA_GET_VRING_GROUP, &s));
	EXPECT_EQ(0, s.num);
	s.index = SIM_NVQS - 1;
	EXPECT_EQ(0, io(self->fd, VHOST_VDPA_GET_VRING_GROUP, &s));
	EXPECT_EQ(1, s.num);
	s.index = 0;
	EXPECT_EQ(-EOPNOTSUPP, io(self->fd, VHOST_VDPA_GET_VRING_DESC_GROUP,
				  &s));
	s.index = 0;
	EXPECT_EQ(0, io(self->fd, VHOST_VDPA_GET_VRING_SIZE, &s));
	EXPECT_EQ(SIM_VQ_MAX, s.num);

	EXPECT_EQ(0, vmdev_vring_state(self->fd, VHOST_VDPA_SET_GROUP_ASID,
				       1, 1));
	EXPECT_EQ(0, vmdev_vring_state(self->fd, VHOST_VDPA_SET_GROUP_ASID,
				       0, 0));
	EXPECT_EQ(-EINVAL, vmdev_vring_state(self->fd,
					     VHOST_VDPA_SET_GROUP_ASID, 2, 0));
	EXPECT_EQ(-EINVAL, vmdev_vring_state(self->fd,
					     VHOST_VDPA_SET_GROUP_ASID, 0, 2));
	EXPECT_EQ(-EINVAL, vmdev_vring_state(self->fd,
					     VHOST_VDPA_SET_GROUP_ASID,
					     0xffffffff, 0));
}

TEST_F(uapi, suspend_resume_idle)
{
	ASSERT_EQ(0, io(self->fd, VHOST_SET_OWNER, NULL));
	/* A device that does not run: nothing to do. */
	EXPECT_EQ(0, io(self->fd, VHOST_VDPA_SUSPEND, NULL));
	EXPECT_EQ(0, io(self->fd, VHOST_VDPA_RESUME, NULL));
}

/* Suspended, the device takes nothing; resumed, it takes it all. */
TEST_F(uapi, suspend_stops_the_datapath)
{
	struct vmdev_opts o = { .iova = 0x100000 };
	struct vmdev d;
	struct vhost_vring_state s = { .index = 1 };
	uint8_t frame[100] = { 0xff }, in[2048];
	uint16_t used;

	close(self->fd);
	ASSERT_EQ(0, vmdev_open(&d, self->node, &o));
	self->fd = -1;
	ASSERT_EQ(0, vmdev_send(&d, 0, frame, sizeof(frame), true));
	ASSERT_EQ((int)sizeof(frame), vmdev_recv_wait(&d, 0, in, sizeof(in),
						      5000));
	ASSERT_EQ(0, io(d.fd, VHOST_VDPA_SUSPEND, NULL));
	ASSERT_EQ(0, vmdev_send(&d, 0, frame, sizeof(frame), true));
	usleep(200000);
	used = le16toh(__atomic_load_n(&d.vqs[1].used->idx, __ATOMIC_ACQUIRE));
	EXPECT_EQ(1, used);
	EXPECT_EQ(0, io(d.fd, VHOST_GET_VRING_BASE, &s));
	EXPECT_EQ(1, s.num);
	ASSERT_EQ(0, io(d.fd, VHOST_VDPA_RESUME, NULL));
	EXPECT_EQ((int)sizeof(frame), vmdev_recv_wait(&d, 0, in, sizeof(in),
						      5000));
	EXPECT_EQ(0, io(d.fd, VHOST_GET_VRING_BASE, &s));
	EXPECT_EQ(2, s.num);
	vmdev_close(&d);
}

TEST_F(uapi, logging_and_unknown_ioctls)
{
	uint64_t u64 = 0;
	int fd = -1;

	EXPECT_EQ(-EPERM, io(self->fd, VHOST_SET_LOG_BASE, &u64));
	ASSERT_EQ(0, io(self->fd, VHOST_SET_OWNER, NULL));
	/* No log (0) is fine; dirtylog.c tests the rest. */
	EXPECT_EQ(0, io(self->fd, VHOST_SET_LOG_BASE, &u64));
	EXPECT_EQ(-EOPNOTSUPP, io(self->fd, VHOST_SET_LOG_FD, &fd));
	EXPECT_EQ(-ENOTTY, io(self->fd, _IO(VHOST_VIRTIO, 0xff), NULL));
	EXPECT_EQ(-ENOTTY, io(self->fd, _IO('x', 0), NULL));
	EXPECT_EQ(-ENOTTY, io(self->fd, VHOST_SET_VRING_ERR, &u64));
}

/*
 * Length sweep: a known ioctl number with any other argument size is
 * another number, and unknown.
 */
TEST_F(uapi, ioctl_size_sweep)
{
	static const unsigned long reqs[] = {
		VHOST_GET_FEATURES, VHOST_SET_FEATURES, VHOST_SET_MEM_TABLE,
		VHOST_SET_VRING_NUM, VHOST_SET_VRING_ADDR, VHOST_SET_VRING_BASE,
		VHOST_GET_VRING_BASE, VHOST_SET_VRING_KICK,
		VHOST_SET_VRING_CALL, VHOST_SET_BACKEND_FEATURES,
		VHOST_GET_BACKEND_FEATURES, VHOST_VDPA_GET_DEVICE_ID,
		VHOST_VDPA_GET_STATUS, VHOST_VDPA_SET_STATUS,
		VHOST_VDPA_GET_CONFIG, VHOST_VDPA_SET_CONFIG,
		VHOST_VDPA_SET_VRING_ENABLE, VHOST_VDPA_GET_VRING_NUM,
		VHOST_VDPA_SET_CONFIG_CALL, VHOST_VDPA_GET_IOVA_RANGE,
		VHOST_VDPA_GET_CONFIG_SIZE, VHOST_VDPA_GET_AS_NUM,
		VHOST_VDPA_GET_VRING_GROUP, VHOST_VDPA_SET_GROUP_ASID,
		VHOST_VDPA_GET_VRING_DESC_GROUP, VHOST_VDPA_GET_VQS_COUNT,
		VHOST_VDPA_GET_GROUP_NUM, VHOST_VDPA_GET_VRING_SIZE,
	};
	uint8_t arg[128] = {};
	unsigned int i, size;
	unsigned long req;

	ASSERT_EQ(0, io(self->fd, VHOST_SET_OWNER, NULL));
	for (i = 0; i < ARRAY_SIZE(reqs); i++)
		for (size = 0; size <= 64; size++) {
			if (size == _IOC_SIZE(reqs[i]))
				continue;
			req = (reqs[i] & ~(_IOC_SIZEMASK << _IOC_SIZESHIFT)) |
			      (size << _IOC_SIZESHIFT);
			EXPECT_EQ(-ENOTTY, io(self->fd, req, arg))
				TH_LOG("%#lx with size %u", reqs[i], size);
		}
}

TEST_HARNESS_MAIN
