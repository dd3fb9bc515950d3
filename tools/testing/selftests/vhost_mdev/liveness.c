// SPDX-License-Identifier: GPL-2.0-only
/*
 * A data path must never stop for good. These tests keep traffic going and
 * fail as soon as a frame takes more than a second to come back:
 *
 * remap_under_traffic: the client remaps all its memory again and again
 * while frames flow, the way DPDK's virtio_user does on every memory event
 * (an IOTLB batch: invalidate everything, map every region again). A
 * device must see the batch as one change, never the empty moment in the
 * middle; on a PCI function (pci_liveness) the IOMMU must keep what stays
 * the same mapped throughout.
 *
 * interrupt_rearm: many short runs of a driver that polls with the
 * device's interrupts suppressed (VRING_AVAIL_F_NO_INTERRUPT) and, once the
 * ring is empty, asks for them again, checks the ring once more and sleeps
 * on the call eventfd: the device must not publish a buffer in that window
 * without an interrupt; between two PCI functions as well (pci_liveness).
 */
#include <poll.h>
#include <pthread.h>
#include <linux/virtio_config.h>

#include "kselftest_harness.h"
#include "vmdev_test.h"

#define STALL_MS	1000
#define FRAME		200

FIXTURE(liveness) {
	char uuid[37];
	char node[64];
	struct vmdev d;
};

FIXTURE_VARIANT(liveness) {
	enum vmdev_map map;
	bool mrg;
};

FIXTURE_VARIANT_ADD(liveness, iotlb) {
	.map = VMDEV_MAP_IOTLB,
};

FIXTURE_VARIANT_ADD(liveness, iotlb_mrg_rxbuf) {
	.map = VMDEV_MAP_IOTLB,
	.mrg = true,
};

FIXTURE_SETUP(liveness)
{
	int ret = vmdev_sim_mdev(self->uuid, self->node, sizeof(self->node));

	vmdev_init(&self->d);
	if (ret == -ENOENT)
		SKIP(return, "vhost_mdev_sim is not installed");
	ASSERT_EQ(0, ret);
}

FIXTURE_TEARDOWN(liveness)
{
	vmdev_close(&self->d);
	if (self->uuid[0])
		EXPECT_EQ(0, vmdev_mdev_remove(self->uuid));
}

static size_t make_frame(uint8_t *f, unsigned int seq)
{
	memset(f, 0xff, 6);
	memcpy(f + 6, "\x02\x56\x4d\x00\x00\x00", 6);
	f[12] = 0x88;
	f[13] = 0xb5;
	f[14] = seq >> 8;
	f[15] = seq;
	memset(f + 16, (uint8_t)seq, FRAME - 16);
	return FRAME;
}

struct remapper {
	struct vmdev *d;
	bool stop;		/* __atomic: the main thread sets it */
	unsigned long batches;
	long err;		/* the first error */
};

/* Map @size bytes of @d's memory from @off, at its IOVA plus @off. */
static long map_part(struct vmdev *d, size_t off, size_t size)
{
	return vmdev_iotlb_msg(d->fd, 0, VHOST_IOTLB_UPDATE,
			       d->opts.iova + off, size,
			       (uintptr_t)d->mem + off, VHOST_ACCESS_RW);
}

/*
 * DPDK's remap: one batch, everything invalidated, everything mapped; as
 * one range, and every other time as two, cut in the middle (DPDK maps
 * its memory as contiguous chunks, which grow): the same memory, in
 * entries of another shape.
 */
static void *remap_loop(void *arg)
{
	struct remapper *r = arg;
	struct vmdev *d = r->d;
	size_t half = d->mem_size / 2 & ~(size_t)(getpagesize() - 1);
	long n = 0;

	while (!__atomic_load_n(&r->stop, __ATOMIC_RELAXED) && !n) {
		n = vmdev_iotlb_msg(d->fd, 0, VHOST_IOTLB_BATCH_BEGIN, 0, 0, 0,
				    0);
		if (n >= 0)
			n = vmdev_iotlb_msg(d->fd, 0, VHOST_IOTLB_INVALIDATE, 0,
					    UINT64_MAX, 0, 0);
		if (n >= 0)
			n = map_part(d, 0, r->batches % 2 ? d->mem_size : half);
		if (n >= 0 && !(r->batches % 2))
			n = map_part(d, half, d->mem_size - half);
		if (n >= 0)
			n = vmdev_iotlb_msg(d->fd, 0, VHOST_IOTLB_BATCH_END, 0,
					    0, 0, 0);
		n = n < 0 ? n : 0;
		r->batches++;
	}
	r->err = n;
	return NULL;
}

TEST_F_TIMEOUT(liveness, remap_under_traffic, 120)
{
	struct vmdev_opts o = {
		.map = variant->map, .iova = 0x100000,
		.features = variant->mrg ? 1ULL << VIRTIO_NET_F_MRG_RXBUF : 0,
		.rx_buf = variant->mrg ? 256 : 0,
	};
	struct remapper r = { .d = &self->d };
	uint8_t out[FRAME], in[2048];
	unsigned int seq;
	pthread_t t;
	uint8_t status;
	int len;

	ASSERT_EQ(0, vmdev_open(&self->d, self->node, &o));
	ASSERT_EQ(0, pthread_create(&t, NULL, remap_loop, &r));
	for (seq = 0; seq < 3000; seq++) {
		len = make_frame(out, seq);
		ASSERT_EQ(0, vmdev_send(&self->d, 0, out, len, true));
		len = vmdev_recv_wait(&self->d, 0, in, sizeof(in), STALL_MS);
		if (len != FRAME)
			break;
		ASSERT_EQ(0, memcmp(out, in, FRAME));
		vmdev_tx_reclaim(&self->d, 0);
	}
	__atomic_store_n(&r.stop, true, __ATOMIC_RELAXED);
	pthread_join(t, NULL);
	ASSERT_EQ(0, vmdev_get_status(self->d.fd, &status));
	TH_LOG("%u frames, %lu remaps; device status %#x", seq, r.batches,
	       status);
	EXPECT_EQ(3000, seq) TH_LOG("frame %u took more than %d ms: %d", seq,
				    STALL_MS, len);
	EXPECT_FALSE(status & VIRTIO_CONFIG_S_NEEDS_RESET);
	EXPECT_EQ(0, r.err);
	EXPECT_LT(0, r.batches);
}

/* Two PCI functions, A and B on one hub: what A sends, B receives. */
FIXTURE(pci_liveness) {
	struct fn fns[2];
};

FIXTURE_SETUP(pci_liveness)
{
	const char *why;
	int ret = fns_up(self->fns, &why);

	if (ret == -ENOENT)
		SKIP(return, "%s", why);
	ASSERT_EQ(0, ret);
}

FIXTURE_TEARDOWN(pci_liveness)
{
	fn_down(&self->fns[0]);
	fn_down(&self->fns[1]);
}

/*
 * remap_under_traffic on a PCI function, whose DMA goes through the IOMMU:
 * a remap of the same memory must leave the IOMMU mappings alone (no DMA
 * fault, which QEMU would report, and no lost frame) while frames go from
 * A to B. In 2 MiB hugepages, where one IOMMU mapping covers a whole page
 * and the remap cuts it in two.
 */
TEST_F_TIMEOUT(pci_liveness, remap_under_traffic, 120)
{
	struct vmdev_opts o = { .iova = 0x100000, .hugepages = true };
	struct vmdev *a = &self->fns[0].d, *b = &self->fns[1].d;
	struct remapper r = { .d = a };
	uint8_t out[FRAME], in[2048];
	unsigned int seq;
	pthread_t t;
	int len;

	if (vmdev_reserve_hugepages(8))
		SKIP(return, "cannot reserve 2 MiB hugepages");
	ASSERT_EQ(0, vmdev_open(a, self->fns[0].node, &o));
	ASSERT_EQ(0, vmdev_open(b, self->fns[1].node, &o));
	ASSERT_EQ(0, pthread_create(&t, NULL, remap_loop, &r));
	for (seq = 0; seq < 2000; seq++) {
		len = make_frame(out, seq);
		ASSERT_EQ(0, vmdev_send(a, 0, out, len, true));
		len = vmdev_recv_wait(b, 0, in, sizeof(in), STALL_MS);
		if (len != FRAME || memcmp(out, in, FRAME))
			break;
		vmdev_tx_reclaim(a, 0);
	}
	__atomic_store_n(&r.stop, true, __ATOMIC_RELAXED);
	pthread_join(t, NULL);
	TH_LOG("%u frames, %lu remaps", seq, r.batches);
	EXPECT_EQ(2000, seq) TH_LOG("frame %u: %d", seq, len);
	EXPECT_EQ(0, r.err);
}

/* Published used index of @vq, read as the device wrote it. */
static uint16_t used_idx(struct vmdev_vq *vq)
{
	return le16toh(__atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE));
}

/* Suppress the device's interrupts on @vq (or ask for them again). */
static void suppress(struct vmdev_vq *vq, bool on)
{
	__atomic_store_n(&vq->avail->flags,
			 htole16(on ? VRING_AVAIL_F_NO_INTERRUPT : 0),
			 __ATOMIC_RELAXED);
	/* The flag before the re-check of the used index (device's mb). */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/*
 * One run: 200 frames from @tx to @rx (the same device in a loopback), in
 * windows of 32, with @rx's interrupts suppressed while polling finds
 * work and asked for again before sleeping. Return the sleeps, or -1 when
 * one lasted STALL_MS without an interrupt.
 */
static int rearm_run(struct vmdev *tx, struct vmdev *rx)
{
	struct vmdev_vq *vq = &rx->vqs[0];
	uint8_t out[FRAME], in[2048];
	unsigned int sent, got;
	int waits = 0;

	for (sent = got = 0; got < 200;) {
		/* A window of frames, kicked once. */
		while (sent < got + 32 &&
		       !vmdev_send(tx, 0, out, make_frame(out, sent), false))
			sent++;
		if (vmdev_kick(tx, 1))
			return -1;
		/* Poll with interrupts off while there is work. */
		suppress(vq, true);
		while (vmdev_recv(rx, 0, in, sizeof(in)) > 0)
			got++;
		vmdev_tx_reclaim(tx, 0);
		if (got == sent)
			continue;
		/* Empty: interrupts on, one more look, then sleep. */
		suppress(vq, false);
		if (used_idx(vq) != vq->last_used)
			continue;
		waits++;
		if (vmdev_wait_call(rx, 0, STALL_MS) != 1)
			return -1;
	}
	return waits;
}

TEST_F_TIMEOUT(liveness, interrupt_rearm, 300)
{
	struct vmdev_opts o = { .map = variant->map, .iova = 0x100000,
				.num = 64 };
	unsigned int run, waits = 0;
	int ret;

	for (run = 0; run < 50; run++) {
		ASSERT_EQ(0, vmdev_open(&self->d, self->node, &o));
		ret = rearm_run(&self->d, &self->d);
		ASSERT_LE(0, ret) TH_LOG("run %u: no interrupt for %d ms",
					 run, STALL_MS);
		waits += ret;
		vmdev_close(&self->d);
	}
	TH_LOG("%u runs of 200 frames, %u sleeps on the call eventfd", run,
	       waits);
}

/*
 * interrupt_rearm between two PCI functions: the function's interrupt
 * (MSI-X, through our handler to the call eventfd) must come for every
 * buffer published after the driver asked for interrupts again.
 */
TEST_F_TIMEOUT(pci_liveness, interrupt_rearm, 300)
{
	struct vmdev_opts o = { .iova = 0x100000, .num = 64 };
	struct vmdev *a = &self->fns[0].d, *b = &self->fns[1].d;
	unsigned int run, waits = 0;
	int ret;

	for (run = 0; run < 20; run++) {
		ASSERT_EQ(0, vmdev_open(a, self->fns[0].node, &o));
		ASSERT_EQ(0, vmdev_open(b, self->fns[1].node, &o));
		ret = rearm_run(a, b);
		ASSERT_LE(0, ret) TH_LOG("run %u: no interrupt for %d ms",
					 run, STALL_MS);
		waits += ret;
		vmdev_close(a);
		vmdev_close(b);
	}
	TH_LOG("%u runs of 200 frames, %u sleeps on the call eventfd", run,
	       waits);
}

TEST_HARNESS_MAIN
