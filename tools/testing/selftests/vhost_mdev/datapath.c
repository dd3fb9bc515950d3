// SPDX-License-Identifier: GPL-2.0-only
/*
 * Data path on the simulator: what goes out on a transmit queue comes back
 * on the paired receive queue, byte for byte, in order, with interrupts.
 */
#include <sys/resource.h>

#include "kselftest_harness.h"
#include "vmdev_test.h"

#define NPACKETS	10000
#define WINDOW		64
#define TIMEOUT_MS	5000

/* Frame @seq: 60 to 1514 bytes, addresses, a local ethertype, a pattern. */
static size_t make_frame(uint8_t *f, unsigned int seq)
{
	size_t len = 60 + (seq * 7919u) % (1514 - 60 + 1);
	size_t i;

	memset(f, 0xff, 6);
	memcpy(f + 6, "\x02\x56\x4d\x00\x00\x01", 6);
	f[12] = 0x88;
	f[13] = 0xb5;
	f[14] = seq >> 8;
	f[15] = seq;
	for (i = 16; i < len; i++)
		f[i] = (uint8_t)(seq * 31 + i * 17);
	return len;
}

/*
 * Send @n frames on @pair in windows, receive each and compare it. Returns
 * 0, or the first sequence number that went wrong + 1.
 */
static int loop_frames(struct __test_metadata *_metadata, struct vmdev *d,
		       unsigned int pair, unsigned int first, unsigned int n)
{
	uint8_t out[2048], in[2048];
	unsigned int sent = 0, got = 0, w;
	int len, r;

	while (got < n) {
		for (w = 0; w < WINDOW && sent < n; w++, sent++) {
			len = make_frame(out, first + sent);
			r = vmdev_send(d, pair, out, len, false);
			if (r == -EAGAIN)
				break;
			EXPECT_EQ(0, r) return first + sent + 1;
		}
		EXPECT_EQ(0, vmdev_kick(d, 2 * pair + 1));
		while (got < sent) {
			len = make_frame(out, first + got);
			r = vmdev_recv_wait(d, pair, in, sizeof(in), TIMEOUT_MS);
			EXPECT_EQ(len, r) {
				TH_LOG("frame %u: got %d", first + got, r);
				return first + got + 1;
			}
			EXPECT_EQ(0, memcmp(out, in, len)) {
				TH_LOG("frame %u differs", first + got);
				return first + got + 1;
			}
			got++;
		}
		vmdev_tx_reclaim(d, pair);
	}
	return 0;
}

FIXTURE(datapath) {
	char uuid[37];
	char node[64];
	struct vmdev d;
};

FIXTURE_VARIANT(datapath) {
	enum vmdev_map map;
	bool mrg;
	unsigned int rx_buf;
	bool tx_split;
	bool hugepages;
	bool packed;
	uint16_t base;
	unsigned int num;
};

FIXTURE_VARIANT_ADD(datapath, iotlb) {
	.map = VMDEV_MAP_IOTLB,
};

FIXTURE_VARIANT_ADD(datapath, mem_table) {
	.map = VMDEV_MAP_MEM_TABLE,
	.tx_split = true,
};

/*
 * Small receive buffers: most frames span several of them. The rings
 * start just before the 16-bit wrap of their indices (and a byte carry):
 * a frame's buffers straddle it.
 */
FIXTURE_VARIANT_ADD(datapath, iotlb_mrg_rxbuf) {
	.map = VMDEV_MAP_IOTLB,
	.mrg = true,
	.rx_buf = 512,
	.tx_split = true,
	.base = 0xfff5,
};

FIXTURE_VARIANT_ADD(datapath, mem_table_mrg_rxbuf) {
	.map = VMDEV_MAP_MEM_TABLE,
	.mrg = true,
	.rx_buf = 256,
	.base = 0x00fb,
};

FIXTURE_VARIANT_ADD(datapath, iotlb_hugepages) {
	.map = VMDEV_MAP_IOTLB,
	.hugepages = true,
};

FIXTURE_VARIANT_ADD(datapath, mem_table_hugepages) {
	.map = VMDEV_MAP_MEM_TABLE,
	.hugepages = true,
	.mrg = true,
	.rx_buf = 1024,
};

/*
 * Packed rings: the first starts six descriptors before the end of the
 * ring, so the wrap counters flip at once (and with split transmit chains,
 * a chain straddles the end); the second has frames spanning receive
 * buffers, one of which may not fit and is taken back.
 */
FIXTURE_VARIANT_ADD(datapath, iotlb_packed) {
	.map = VMDEV_MAP_IOTLB,
	.packed = true,
	.tx_split = true,
	.base = 250,
};

FIXTURE_VARIANT_ADD(datapath, mem_table_packed_mrg_rxbuf) {
	.map = VMDEV_MAP_MEM_TABLE,
	.packed = true,
	.mrg = true,
	.rx_buf = 256,
};

/*
 * Rings of 16: the device reads up to 32 descriptors ahead, so here what
 * it read ahead spans the whole ring, lap after lap.
 */
FIXTURE_VARIANT_ADD(datapath, iotlb_packed_ring_16) {
	.map = VMDEV_MAP_IOTLB,
	.packed = true,
	.num = 16,
	.base = 13,
};

FIXTURE_SETUP(datapath)
{
	int ret = vmdev_sim_mdev(self->uuid, self->node, sizeof(self->node));

	vmdev_init(&self->d);
	if (ret == -ENOENT)
		SKIP(return, "vhost_mdev_sim is not installed");
	ASSERT_EQ(0, ret);
	if (variant->hugepages && vmdev_reserve_hugepages(8))
		SKIP(return, "cannot reserve 2 MiB hugepages");
}

FIXTURE_TEARDOWN(datapath)
{
	vmdev_close(&self->d);
	if (self->uuid[0])
		EXPECT_EQ(0, vmdev_mdev_remove(self->uuid));
}

/* The options of the variant a TEST_F() runs in. */
#define VARIANT_OPTS ((struct vmdev_opts) {				\
	.map = variant->map,						\
	.rx_buf = variant->rx_buf,					\
	.tx_split = variant->tx_split,					\
	.hugepages = variant->hugepages,				\
	.base = variant->base,						\
	.num = variant->num,						\
	.iova = 0x100000,						\
	.features = (variant->mrg ? 1ULL << VIRTIO_NET_F_MRG_RXBUF : 0) |	\
		    (variant->packed ? 1ULL << VIRTIO_F_RING_PACKED : 0),	\
})

TEST_F(datapath, loopback_10000_frames)
{
	struct vmdev_opts o = VARIANT_OPTS;

	ASSERT_EQ(0, vmdev_open(&self->d, self->node, &o));
	ASSERT_EQ(!!variant->mrg,
		  !!(self->d.features & (1ULL << VIRTIO_NET_F_MRG_RXBUF)));
	ASSERT_EQ(variant->packed, self->d.packed);
	ASSERT_EQ(0, loop_frames(_metadata, &self->d, 0, 0, NPACKETS));
	/* Every wait above ended with an interrupt on the call eventfd. */
	EXPECT_GT(self->d.vqs[0].calls, 0);
	TH_LOG("%u frames, %llu receive interrupts, %llu kicks", NPACKETS,
	       (unsigned long long)self->d.vqs[0].calls,
	       (unsigned long long)self->d.vqs[1].kicks);
}

/*
 * A driver that kicks after every frame it adds, @NPACKETS frames, each
 * received and compared. While a pass runs the simulator's rings say the
 * driver need not kick (split: VRING_USED_F_NO_NOTIFY in the used ring;
 * packed: VRING_PACKED_EVENT_FLAG_DISABLE in the device event
 * suppression), and the library then does not: some frames go without a
 * kick (here, in lock step with the device, a third to a half of them;
 * `make bench`'s streaming client makes a few kicks per thousand frames),
 * the device's debugfs count is exactly the kicks the library made, and no
 * frame is lost.
 */
TEST_F(datapath, kicks_while_streaming)
{
	struct vmdev_opts o = VARIANT_OPTS;
	unsigned int sent = 0, got = 0;
	uint8_t out[2048], in[2048];
	long long kicks, calls;
	struct vmdev_vq *tx;
	int len, r;

	ASSERT_EQ(0, vmdev_open(&self->d, self->node, &o));
	tx = &self->d.vqs[1];
	while (got < NPACKETS) {
		while (sent < NPACKETS && sent - got < WINDOW) {
			len = make_frame(out, sent);
			if (vmdev_send(&self->d, 0, out, len, true))
				break;
			sent++;
		}
		r = vmdev_recv(&self->d, 0, in, sizeof(in));
		if (r == -EAGAIN) {
			ASSERT_LT(0, vmdev_wait_call(&self->d, 0, TIMEOUT_MS));
			continue;
		}
		len = make_frame(out, got);
		ASSERT_EQ(len, r);
		ASSERT_EQ(0, memcmp(out, in, len));
		got++;
		vmdev_tx_reclaim(&self->d, 0);
	}
	ASSERT_EQ(0, vmdev_debugfs_vq(self->node, 1, &kicks, &calls));
	TH_LOG("%u frames: %lld kicks reached the device, %llu not made (NO_NOTIFY)",
	       NPACKETS, kicks, (unsigned long long)tx->kicks_skipped);
	EXPECT_EQ(NPACKETS, tx->kicks + tx->kicks_skipped);
	EXPECT_EQ((long long)tx->kicks, kicks);
	EXPECT_LT(0, tx->kicks_skipped);
}

/* Both pairs at once: each pair's frames come back on its own queue. */
TEST_F(datapath, two_queue_pairs)
{
	struct vmdev_opts o = VARIANT_OPTS;
	uint8_t out[2048], in[2048];
	unsigned int i, p;
	int len;

	o.pairs = 2;
	ASSERT_EQ(0, vmdev_open(&self->d, self->node, &o));
	for (i = 0; i < 500; i++) {
		for (p = 0; p < 2; p++) {
			len = make_frame(out, 2 * i + p);
			ASSERT_EQ(0, vmdev_send(&self->d, p, out, len, true));
		}
		for (p = 0; p < 2; p++) {
			len = make_frame(out, 2 * i + p);
			ASSERT_EQ(len, vmdev_recv_wait(&self->d, p, in,
						       sizeof(in), TIMEOUT_MS));
			ASSERT_EQ(0, memcmp(out, in, len));
		}
	}
	/* Count the interrupts nobody had to wait for, too. */
	vmdev_wait_call(&self->d, 0, 0);
	vmdev_wait_call(&self->d, 2, 0);
	EXPECT_GT(self->d.vqs[0].calls, 0);
	EXPECT_GT(self->d.vqs[2].calls, 0);
}

/*
 * Reset with frames in flight: the device stops, VHOST_GET_VRING_BASE
 * reports where each queue stopped, and a new session works from scratch.
 */
TEST_F(datapath, reset_mid_traffic_then_restart)
{
	struct vmdev_opts o = VARIANT_OPTS;
	struct vhost_vring_state s;
	uint8_t out[2048];
	unsigned int i;
	int len;

	ASSERT_EQ(0, vmdev_open(&self->d, self->node, &o));
	ASSERT_EQ(0, loop_frames(_metadata, &self->d, 0, 0, 100));
	/* Up to 32 in flight, one slot of the ring left for the last send. */
	for (i = 0; i < 32 && i + 1 < self->d.vqs[1].num; i++) {
		len = make_frame(out, i);
		ASSERT_EQ(0, vmdev_send(&self->d, 0, out, len, true));
	}
	ASSERT_EQ(0, vmdev_set_status(self->d.fd, 0));

	/*
	 * Transmit: what the device took is what it used, in order; the
	 * driver sees every used buffer, then the state says where it is.
	 */
	s.index = 1;
	ASSERT_EQ(0, vmdev_ioctl(self->d.fd, VHOST_GET_VRING_BASE, &s));
	vmdev_tx_reclaim(&self->d, 0);
	EXPECT_EQ(vmdev_vq_state(&self->d, 1), s.num);
	if (!self->d.packed) {
		EXPECT_GE((uint16_t)(s.num - o.base), 100);
		EXPECT_LE((uint16_t)(s.num - o.base), 132);
	}

	/* After the reset nothing moves, kicked or not. */
	len = make_frame(out, 999);
	EXPECT_EQ(0, vmdev_send(&self->d, 0, out, len, true));
	usleep(100000);
	EXPECT_EQ(0, vmdev_tx_reclaim(&self->d, 0));

	vmdev_close(&self->d);
	ASSERT_EQ(0, vmdev_open(&self->d, self->node, &o));
	ASSERT_EQ(0, loop_frames(_metadata, &self->d, 0, 0, 1000));
}

/* Two simulator instances at once, each looping its own traffic. */
TEST_F(datapath, two_instances)
{
	struct vmdev_opts o = VARIANT_OPTS;
	char uuid2[37] = "", node2[64];
	struct vmdev d2;
	uint8_t out[2048], in[2048];
	unsigned int i;
	int len;

	vmdev_init(&d2);

	ASSERT_EQ(0, vmdev_open(&self->d, self->node, &o));
	ASSERT_EQ(0, vmdev_sim_mdev(uuid2, node2, sizeof(node2)));
	EXPECT_STRNE(self->node, node2);
	ASSERT_EQ(0, vmdev_open(&d2, node2, &o));
	for (i = 0; i < 500; i++) {
		len = make_frame(out, i);
		ASSERT_EQ(0, vmdev_send(&self->d, 0, out, len, true));
		ASSERT_EQ(0, vmdev_send(&d2, 0, out, len, true));
		ASSERT_EQ(len, vmdev_recv_wait(&self->d, 0, in, sizeof(in),
					       TIMEOUT_MS));
		ASSERT_EQ(0, memcmp(out, in, len));
		ASSERT_EQ(len, vmdev_recv_wait(&d2, 0, in, sizeof(in),
					       TIMEOUT_MS));
		ASSERT_EQ(0, memcmp(out, in, len));
	}
	vmdev_close(&d2);
	EXPECT_EQ(0, vmdev_mdev_remove(uuid2));
}

/*
 * A driver's bad rings, in either layout: the device marks itself
 * NEEDS_RESET (and counts it in debugfs), moves nothing, splats nothing,
 * keeps nothing pinned after the session, and the next session works.
 */
FIXTURE(bad_ring) {
	char uuid[37];
	char node[64];
	struct vmdev d;
};

FIXTURE_VARIANT(bad_ring) {
	bool packed;
};

FIXTURE_VARIANT_ADD(bad_ring, split) {
	.packed = false,
};

FIXTURE_VARIANT_ADD(bad_ring, packed) {
	.packed = true,
};

FIXTURE_SETUP(bad_ring)
{
	int ret = vmdev_sim_mdev(self->uuid, self->node, sizeof(self->node));

	vmdev_init(&self->d);
	if (ret == -ENOENT)
		SKIP(return, "vhost_mdev_sim is not installed");
	ASSERT_EQ(0, ret);
}

FIXTURE_TEARDOWN(bad_ring)
{
	vmdev_close(&self->d);
	if (self->uuid[0])
		EXPECT_EQ(0, vmdev_mdev_remove(self->uuid));
}

#define BAD_OPTS(packed) ((struct vmdev_opts) {				\
	.iova = 0x100000,						\
	.features = (packed) ? 1ULL << VIRTIO_F_RING_PACKED : 0,	\
})

/*
 * On a new session of @node, make @seg[0..@n) available on the transmit
 * queue (for @n 0, the split available index runs ahead instead) and
 * check what the device did with it.
 */
static void break_ring(struct __test_metadata *_metadata, struct vmdev *d,
		       const char *node, bool packed,
		       const struct vring_desc *seg, unsigned int n)
{
	struct vmdev_opts o = BAD_OPTS(packed);
	long pin0 = vmdev_vmpin_kb();
	uint8_t out[2048], in[2048], status = 0;
	long long broken0;
	int i, len;

	ASSERT_EQ(0, vmdev_open(d, node, &o));
	ASSERT_EQ(packed, d->packed);
	broken0 = vmdev_debugfs_stat(node, "sim", "broken");
	ASSERT_LE(0, broken0);
	if (n) {
		ASSERT_EQ(0, vmdev_post_raw(d, 1, seg, n, 0));
	} else {
		d->vqs[1].avail->idx = htole16(d->vqs[1].num + 1);
		ASSERT_EQ(0, vmdev_kick(d, 1));
	}
	for (i = 0; i < 200 && !(status & VIRTIO_CONFIG_S_NEEDS_RESET); i++) {
		usleep(10000);
		ASSERT_EQ(0, vmdev_get_status(d->fd, &status));
	}
	EXPECT_TRUE(status & VIRTIO_CONFIG_S_NEEDS_RESET);
	EXPECT_LT(broken0, vmdev_debugfs_stat(node, "sim", "broken"));
	/* Nothing moves on a broken device: no frame comes back. */
	len = make_frame(out, 1);
	EXPECT_EQ(0, vmdev_send(d, 0, out, len, true));
	EXPECT_EQ(-ETIMEDOUT, vmdev_recv_wait(d, 0, in, sizeof(in), 200));
	vmdev_close(d);
	EXPECT_EQ(pin0, vmdev_vmpin_kb());

	/* The next session starts from scratch. */
	ASSERT_EQ(0, vmdev_open(d, node, &o));
	ASSERT_EQ(0, loop_frames(_metadata, d, 0, 0, 10));
	vmdev_close(d);
}

#define SEG(f, n, l) ((struct vring_desc) {				\
	.addr = htole64(0x100000), .len = htole32(l),			\
	.flags = htole16(f), .next = htole16(n),			\
})

/* Descriptor flags and lengths no device may take. */
TEST_F(bad_ring, bad_descriptors)
{
	struct vring_desc seg[2];

	/* Indirect: not offered. */
	seg[0] = SEG(VRING_DESC_F_INDIRECT, 0, 64);
	break_ring(_metadata, &self->d, self->node, variant->packed, seg, 1);
	/* A transmit chain readable after writable. */
	seg[0] = SEG(VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1, 64);
	seg[1] = SEG(0, 0, 64);
	break_ring(_metadata, &self->d, self->node, variant->packed, seg, 2);
	/* Lengths that overflow 32 bits together. */
	seg[0] = SEG(VRING_DESC_F_NEXT, 1, 0xfffffff0);
	seg[1] = SEG(0, 0, 0x20);
	break_ring(_metadata, &self->d, self->node, variant->packed, seg, 2);
}

/* Chains that do not end, or end outside the ring. */
TEST_F(bad_ring, bad_chains)
{
	struct vring_desc seg[65];
	unsigned int i;

	if (!variant->packed) {
		/* A loop, a next index out of the ring, the index ahead. */
		seg[0] = SEG(VRING_DESC_F_NEXT, 0, 64);
		break_ring(_metadata, &self->d, self->node, false, seg, 1);
		seg[0] = SEG(VRING_DESC_F_NEXT, 256, 64);
		break_ring(_metadata, &self->d, self->node, false, seg, 1);
		break_ring(_metadata, &self->d, self->node, false, seg, 0);
		return;
	}
	/* Longer than a chain may be (64). */
	for (i = 0; i < 65; i++)
		seg[i] = SEG(i < 64 ? VRING_DESC_F_NEXT : 0, 0, 16);
	break_ring(_metadata, &self->d, self->node, true, seg, 65);
	/* Continued into a descriptor that is not available. */
	seg[0] = SEG(VRING_DESC_F_NEXT, 0, 64);
	break_ring(_metadata, &self->d, self->node, true, seg, 1);
}

/*
 * VHOST_SET_VRING_BASE at the edges: a split ring's 16-bit index; a packed
 * ring's position inside the ring (bits 0-14, with its wrap counter),
 * which the used half repeats (nothing is in flight in the simulator) or
 * leaves 0 (the older encoding, as DPDK 22.11 sends it); the last good
 * value works.
 */
TEST_F(bad_ring, vring_base_bounds)
{
	struct vmdev_opts o = BAD_OPTS(variant->packed);
	unsigned int bad[2] = { 0x10000, 0x1ffff }, good = 0xffff;
	int fd;

	if (variant->packed) {
		bad[0] = 0x80008000 | 256 | 256 << 16;
		bad[1] = 0x80008000 | 255;
		good = 0x80008000 | 255 | 255 << 16;
	}
	o.hold = true;
	ASSERT_EQ(0, vmdev_open(&self->d, self->node, &o));
	fd = self->d.fd;
	EXPECT_EQ(-EINVAL, vmdev_vring_state(fd, VHOST_SET_VRING_BASE, 1,
					     bad[0]));
	EXPECT_EQ(-EINVAL, vmdev_vring_state(fd, VHOST_SET_VRING_BASE, 1,
					     bad[1]));
	EXPECT_EQ(0, vmdev_vring_state(fd, VHOST_SET_VRING_BASE, 1, good));
	if (variant->packed)
		EXPECT_EQ(0, vmdev_vring_state(fd, VHOST_SET_VRING_BASE, 1,
					       0x8000 | 255));
	/* Back to where the library's ring starts, and it runs. */
	EXPECT_EQ(0, vmdev_vring_state(fd, VHOST_SET_VRING_BASE, 1,
				       vmdev_vq_state(&self->d, 1)));
	ASSERT_EQ(0, vmdev_go(&self->d));
	ASSERT_EQ(0, loop_frames(_metadata, &self->d, 0, 0, 10));
}

TEST_HARNESS_MAIN
