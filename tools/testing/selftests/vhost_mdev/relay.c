// SPDX-License-Identifier: GPL-2.0-only
/*
 * The PCI parent's relay (drivers/vhost_mdev/pci/pci_shadow.c), which lets
 * a live migration log what a virtio-pci function writes, driven by the
 * library on the two accelerator functions:
 *   - queues that start beyond index 0 (a migration's destination) run
 *     relayed, across the 16-bit wrap, every frame byte for byte, and
 *     report where they are; a running queue's base stops it there;
 *   - logging switched on while frames are in flight relays the running
 *     queues without losing or repeating one, the log then holds every page
 *     the functions wrote, logging off keeps them relayed until the reset,
 *     after which the next session runs direct again; many times over
 *     (VMDEV_RELAY_ROUNDS in the environment: `make relay-soak`);
 *   - a driver ring that makes no sense stops that queue's relay, and only
 *     that, with a message and no splat; a chain the function refuses
 *     (past the mapping, a loop) stops nothing of the relay's;
 *   - packed rings of an mdev that can migrate run relayed from the start
 *     (pci_packed.c): frames byte for byte past the ring's wrap, the state
 *     each queue reports is where the driver stands, a queue asked stops
 *     there, and what the functions wrote while logging is in the log; a
 *     packed ring that makes no sense stops that queue's relay alone;
 *   - an mdev offers VIRTIO_F_RING_PACKED with VHOST_F_LOG_ALL, and never
 *     VIRTIO_F_RING_RESET (the relay's).
 */
#include <dirent.h>
#include <time.h>
#include <sys/mman.h>
#include <linux/virtio_config.h>

#include "kselftest_harness.h"
#include "vmdev_test.h"

#define WINDOW		32
#define TIMEOUT_MS	5000
#define IOVA		0x100000UL
#define LOG_BYTES	(64 * 4096UL)
#define RELAY_COMM	"vmdev-relay/"
#define NO_RELAY	"no VIRTIO_F_RING_RESET on the functions: no relay"

/* Receive frames @from..@to - 1 of @from_id on @b, in order, byte for byte. */
static int expect_frames(struct __test_metadata *_metadata, struct vmdev *b,
			 unsigned int from, unsigned int to,
			 unsigned int from_id)
{
	uint8_t want[2048], in[2048];
	int len, r;

	for (; from < to; from++) {
		len = vmdev_frame(want, from, from_id);
		r = vmdev_recv_wait(b, 0, in, sizeof(in), TIMEOUT_MS);
		EXPECT_EQ(len, r) {
			TH_LOG("frame %u: %d", from, r);
			return -1;
		}
		EXPECT_EQ(0, memcmp(want, in, len)) {
			TH_LOG("frame %u differs (lost, repeated or torn)",
			       from);
			return -1;
		}
	}
	return 0;
}

/* Queue frames @from..@to - 1 on @a and kick once; the rest is in flight. */
static int send_frames(struct vmdev *a, unsigned int from, unsigned int to,
		       unsigned int from_id)
{
	uint8_t out[2048];
	int r;

	vmdev_tx_reclaim(a, 0);
	for (; from < to; from++) {
		r = vmdev_send(a, 0, out, vmdev_frame(out, from, from_id),
			       false);
		if (r)
			return r;
	}
	return vmdev_kick(a, 1);
}

/* @n frames from @a to @b in windows, each compared. */
static int stream(struct __test_metadata *_metadata, struct vmdev *a,
		  struct vmdev *b, unsigned int n, unsigned int from_id)
{
	unsigned int sent, w;

	for (sent = 0; sent < n; sent += w) {
		w = n - sent < WINDOW ? n - sent : WINDOW;
		EXPECT_EQ(0, send_frames(a, sent, sent + w, from_id))
			return -1;
		if (expect_frames(_metadata, b, sent, sent + w, from_id))
			return -1;
	}
	return 0;
}

/* The relay threads in /proc now (one per relayed device). */
static int relay_threads_now(void)
{
	char path[300], comm[64];
	struct dirent *e;
	int n = 0;
	DIR *d = opendir("/proc");

	if (!d)
		return -1;
	while ((e = readdir(d))) {
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", e->d_name);
		if (!vmdev_read_file(path, comm, sizeof(comm)) &&
		    !strncmp(comm, RELAY_COMM, strlen(RELAY_COMM)))
			n++;
	}
	closedir(d);
	return n;
}

/*
 * The relay threads, once their number is @want or after a second: a
 * thread the driver stopped (kthread_stop() returned) stays in /proc until
 * it is reaped, a moment later.
 */
static int relay_threads(int want)
{
	int n, i;

	for (i = 0; i < 100; i++) {
		n = relay_threads_now();
		if (n == want)
			break;
		usleep(10000);
	}
	return n;
}

static uint64_t features_of(struct vmdev *d)
{
	uint64_t f = 0;

	vmdev_ioctl(d->fd, VHOST_GET_FEATURES, &f);
	return f;
}

FIXTURE(relay) {
	struct fn fns[2];
	uint64_t *log[2];
};

FIXTURE_VARIANT(relay) {
	bool doorbell;
	bool mrg;
	uint16_t base;
};

FIXTURE_VARIANT_ADD(relay, eventfd_wrap) {
	.base = 65500,
};

FIXTURE_VARIANT_ADD(relay, doorbell_mrg_wrap) {
	.doorbell = true, .mrg = true, .base = 65500,
};

FIXTURE_VARIANT_ADD(relay, doorbell_base_1000) {
	.doorbell = true, .base = 1000,
};

FIXTURE_SETUP(relay)
{
	struct vmdev_opts o = { .iova = IOVA };
	const char *why = NULL;
	int ret = fns_up(self->fns, &why), i;

	if (ret == -ENOENT)
		SKIP(return, "%s", why);
	ASSERT_EQ(0, ret);
	for (i = 0; i < 2; i++) {
		self->log[i] = mmap(NULL, LOG_BYTES, PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		ASSERT_NE(MAP_FAILED, self->log[i]);
	}
	/* The relay needs the function to reset a queue alone. */
	o.hold = true;
	ASSERT_EQ(0, vmdev_open(&self->fns[0].d, self->fns[0].node, &o));
	ret = !(features_of(&self->fns[0].d) & (1ULL << VHOST_F_LOG_ALL));
	vmdev_close(&self->fns[0].d);
	if (ret)
		SKIP(return, "%s", NO_RELAY);
	ASSERT_EQ(0, relay_threads(0));
}

FIXTURE_TEARDOWN(relay)
{
	fn_down(&self->fns[0]);
	fn_down(&self->fns[1]);
	munmap(self->log[0], LOG_BYTES);
	munmap(self->log[1], LOG_BYTES);
}

/*
 * Bring both devices up; drop what the hub still held for them from an
 * earlier session (a frame sent to a stopped queue waits in the backend).
 */
static int open_both(struct __test_metadata *_metadata, struct fn fns[2],
		     const struct vmdev_opts *o)
{
	uint8_t in[2048];
	int i;

	for (i = 0; i < 2; i++)
		EXPECT_EQ(0, vmdev_open(&fns[i].d, fns[i].node, o))
			return -1;
	for (i = 0; i < 2; i++)
		while (vmdev_recv_wait(&fns[i].d, 0, in, sizeof(in), 200) > 0)
			;
	return 0;
}

/*
 * B's running receive queue, asked where it stands, says @want and stops
 * there: a frame from A stays in flight (nothing reaches B's ring); asked
 * again, and after the reset, the same; the reset ends B's relay, A's
 * close the other.
 */
static void stops_where_asked(struct __test_metadata *_metadata,
			      struct vmdev *a, struct vmdev *b, uint32_t want)
{
	struct vhost_vring_state s = { .index = 0 };
	uint8_t in[2048];

	ASSERT_EQ(0, vmdev_ioctl(b->fd, VHOST_GET_VRING_BASE, &s));
	EXPECT_EQ(want, s.num);
	ASSERT_EQ(0, send_frames(a, 300, 301, 0xa));
	EXPECT_EQ(-ETIMEDOUT, vmdev_recv_wait(b, 0, in, sizeof(in), 300))
		TH_LOG("the stopped receive queue took a frame");
	ASSERT_EQ(0, vmdev_ioctl(b->fd, VHOST_GET_VRING_BASE, &s));
	EXPECT_EQ(want, s.num);

	ASSERT_EQ(0, vmdev_set_status(b->fd, 0));
	ASSERT_EQ(0, vmdev_ioctl(b->fd, VHOST_GET_VRING_BASE, &s));
	EXPECT_EQ(want, s.num);
	EXPECT_EQ(1, relay_threads(1));
	vmdev_close(a);
	EXPECT_EQ(0, relay_threads(0));
}

#define VARIANT_OPTS ((struct vmdev_opts) {				\
	.iova = IOVA,							\
	.doorbell = variant->doorbell,					\
	.features = variant->mrg ? 1ULL << VIRTIO_NET_F_MRG_RXBUF : 0,	\
})

/*
 * Both functions start every queue at @base (what a destination is given):
 * relayed from DRIVER_OK, frames both ways byte for byte, past the 16-bit
 * wrap of the indices. A running queue's base is where the driver's used
 * index is, and asking it stops the queue there (QEMU migrates that
 * answer): a frame sent to it then stays in flight. The reset reports the
 * same, and ends the relay.
 */
TEST_F_TIMEOUT(relay, starts_at_a_base, 300)
{
	struct vmdev_opts o = VARIANT_OPTS;
	struct vmdev *a = &self->fns[0].d, *b = &self->fns[1].d;
	uint16_t used;

	o.base = variant->base;
	ASSERT_EQ(0, open_both(_metadata, self->fns, &o));
	EXPECT_EQ(2, relay_threads(2));
	ASSERT_EQ(0, stream(_metadata, a, b, 300, 0xa));
	ASSERT_EQ(0, stream(_metadata, b, a, 300, 0xb));
	/* 300 frames past the base: the indices wrapped (65500). */
	used = le16toh(__atomic_load_n(&b->vqs[0].used->idx, __ATOMIC_ACQUIRE));
	EXPECT_EQ((uint16_t)(variant->base + 300), used);

	stops_where_asked(_metadata, a, b, used);
}

/*
 * QEMU's migration, many times: direct traffic, then logging on while a
 * window of frames is in flight each way (the queues are reset alone and
 * relayed from where they stood), every frame arrives once, in order, byte
 * for byte; what the functions wrote since is in the logs (receive buffers
 * up to the used length, used rings); logging off keeps the relay until
 * the reset; the next session runs direct (no relay thread).
 */
TEST_F_TIMEOUT(relay, switch_under_traffic, 7200)
{
	static uint64_t want[LOG_BYTES / 8];
	struct vmdev_opts o = VARIANT_OPTS;
	struct vmdev *a = &self->fns[0].d, *b = &self->fns[1].d;
	unsigned int round, rounds = vmdev_debug_kernel() ? 2 : 10;
	const char *soak = getenv("VMDEV_RELAY_ROUNDS");
	uint16_t rx_a, rx_b, tx_a, tx_b;
	uint64_t p, pages, t, *us;

	if (soak)
		rounds = strtoul(soak, NULL, 0) ?: rounds;
	us = calloc(rounds, sizeof(*us));
	ASSERT_NE(NULL, us);
	for (round = 0; round < rounds; round++) {
		ASSERT_EQ(0, open_both(_metadata, self->fns, &o));
		ASSERT_EQ(0, relay_threads(0));
		ASSERT_EQ(0, stream(_metadata, a, b, 40, 0xa));

		/* In flight both ways while the queues switch. */
		ASSERT_EQ(0, send_frames(a, 40, 40 + WINDOW, 0xa));
		ASSERT_EQ(0, send_frames(b, 0, WINDOW, 0xb));
		memset(self->log[0], 0, LOG_BYTES);
		memset(self->log[1], 0, LOG_BYTES);
		ASSERT_EQ(0, vmdev_log_start(b, self->log[1]));
		t = vmdev_now_ns();
		ASSERT_EQ(0, vmdev_log_start(a, self->log[0]));
		us[round] = (vmdev_now_ns() - t) / 1000;
		ASSERT_EQ(2, relay_threads(2));
		rx_a = le16toh(__atomic_load_n(&a->vqs[0].used->idx,
					       __ATOMIC_ACQUIRE));
		rx_b = le16toh(__atomic_load_n(&b->vqs[0].used->idx,
					       __ATOMIC_ACQUIRE));
		tx_a = le16toh(__atomic_load_n(&a->vqs[1].used->idx,
					       __ATOMIC_ACQUIRE));
		tx_b = le16toh(__atomic_load_n(&b->vqs[1].used->idx,
					       __ATOMIC_ACQUIRE));
		ASSERT_EQ(0, expect_frames(_metadata, b, 40, 40 + WINDOW, 0xa))
			TH_LOG("round %u", round);
		ASSERT_EQ(0, expect_frames(_metadata, a, 0, WINDOW, 0xb))
			TH_LOG("round %u", round);
		ASSERT_EQ(0, stream(_metadata, a, b, 100, 0xa));
		ASSERT_EQ(0, stream(_metadata, b, a, 100, 0xb));

		/* Every page written since the switch is logged. */
		memset(want, 0, sizeof(want));
		vmdev_log_written(b, 0, rx_b, want);
		vmdev_log_written(b, 1, tx_b, want);
		pages = (IOVA + b->mem_size) / 4096;
		ASSERT_GE(LOG_BYTES * 8, pages);
		for (p = 0; p < pages; p++)
			if (want[p / 64] & 1ULL << (p % 64))
				ASSERT_TRUE(self->log[1][p / 64] &
					    1ULL << (p % 64))
					TH_LOG("round %u: B's page %#lx not logged",
					       round, (unsigned long)p);
		memset(want, 0, sizeof(want));
		vmdev_log_written(a, 0, rx_a, want);
		vmdev_log_written(a, 1, tx_a, want);
		for (p = 0; p < pages; p++)
			if (want[p / 64] & 1ULL << (p % 64))
				ASSERT_TRUE(self->log[0][p / 64] &
					    1ULL << (p % 64))
					TH_LOG("round %u: A's page %#lx not logged",
					       round, (unsigned long)p);

		ASSERT_EQ(0, vmdev_log_stop(a));
		ASSERT_EQ(0, vmdev_log_stop(b));
		ASSERT_EQ(0, stream(_metadata, a, b, 40, 0xa));
		EXPECT_EQ(2, relay_threads(2));
		vmdev_close(a);
		vmdev_close(b);
	}
	EXPECT_EQ(0, relay_threads(0));
	qsort(us, rounds, sizeof(*us), vmdev_cmp_u64);
	/* QEMU's logging start on a running device: its 3 queues switch. */
	TH_LOG("%u switches under traffic: median %lu us, max %lu us",
	       rounds, (unsigned long)us[rounds / 2],
	       (unsigned long)us[rounds - 1]);
	free(us);
}

/*
 * A transmit ring whose available index runs more than a ring ahead, and
 * one that makes an id beyond the ring available: the relay stops that
 * queue (and says so), hands nothing on to the function (no error from
 * the function's side), and the other direction keeps working; the next
 * session is healthy.
 */
TEST_F_TIMEOUT(relay, bad_rings_stop_only_their_queue, 300)
{
	struct vmdev_opts o = VARIANT_OPTS;
	struct vmdev *a = &self->fns[0].d, *b = &self->fns[1].d;
	struct vmdev_vq *tx = &a->vqs[1];
	const char *who = strrchr(self->fns[0].node, '/') + 1;
	uint16_t idx;
	int bad;

	o.base = variant->base;
	for (bad = 0; bad < 2; bad++) {
		ASSERT_EQ(0, open_both(_metadata, self->fns, &o));
		ASSERT_EQ(0, stream(_metadata, a, b, 10, 0xa));
		klogctl(5, NULL, 0);	/* clear */
		idx = le16toh(tx->avail->idx);
		if (bad) {
			idx += tx->num + 1;
		} else {
			tx->avail->ring[idx % tx->num] = htole16(tx->num + 3);
			idx++;
		}
		__atomic_store_n(&tx->avail->idx, htole16(idx),
				 __ATOMIC_RELEASE);
		ASSERT_EQ(0, vmdev_kick(a, 1));
		usleep(200 * 1000);
		EXPECT_TRUE(vmdev_klog_has(who, "vq 1: relay stopped"));
		/* B to A still works. */
		ASSERT_EQ(0, stream(_metadata, b, a, 50, 0xb));
		vmdev_close(a);
		vmdev_close(b);
	}
	ASSERT_EQ(0, open_both(_metadata, self->fns, &o));
	ASSERT_EQ(0, stream(_metadata, a, b, 50, 0xa));
}

/*
 * Chains the function must refuse, sent while relayed: a transmit buffer
 * that runs past the end of the mapping (the IOMMU refuses the function's
 * read of the rest: a DMAR fault at the first page after the mapping), and
 * a transmit descriptor that is its own next, a loop (QEMU's device model
 * stops the function: NEEDS_RESET). The relay hands a chain on by its head
 * and walks only the chains the function used, bounded; so neither chain
 * stops the relay nor its thread, nothing splats, and after the reset the
 * next session streams byte for byte.
 */
TEST_F_TIMEOUT(relay, bad_chains_while_relayed, 300)
{
	struct vmdev_opts o = VARIANT_OPTS;
	struct vmdev *a = &self->fns[0].d, *b = &self->fns[1].d;
	const char *who = strrchr(self->fns[0].node, '/') + 1;
	char bdf[32], fault[64];
	struct vring_desc seg = { 0 };
	unsigned long long end;
	uint8_t status;
	uint16_t id;
	int loop;

	/* The emulated IOMMU reports the fault, its device model the loop. */
	vmdev_expect_qemu("vtd_.*: detected .*iova=0x");
	vmdev_expect_qemu("New fault is not recorded due to compression of faults");
	vmdev_expect_qemu("Looped descriptor");
	o.base = variant->base;
	/* "[00:01.0] fault addr 0x...": the PCI address, the IOVA. */
	snprintf(bdf, sizeof(bdf), "[%s]", self->fns[0].bdf + 5);
	for (loop = 0; loop < 2; loop++) {
		ASSERT_EQ(0, open_both(_metadata, self->fns, &o));
		EXPECT_EQ(2, relay_threads(2));
		ASSERT_EQ(0, stream(_metadata, a, b, 10, 0xa));
		klogctl(5, NULL, 0);	/* clear */
		vmdev_tx_reclaim(a, 0);
		id = a->vqs[1].avail_idx & (a->vqs[1].num - 1);
		end = IOVA + a->mem_size;
		if (loop) {	/* its own next */
			seg.addr = htole64(IOVA);
			seg.len = htole32(64);
			seg.flags = htole16(VRING_DESC_F_NEXT);
			seg.next = htole16(id);
		} else {	/* 32 bytes mapped, the rest not */
			seg.addr = htole64(end - 32);
			seg.len = htole32(4096);
			seg.flags = 0;
		}
		ASSERT_EQ(0, vmdev_post_raw(a, 1, &seg, 1, id));
		usleep(500 * 1000);
		if (loop) {
			ASSERT_EQ(0, vmdev_get_status(a->fd, &status));
			EXPECT_TRUE(status & VIRTIO_CONFIG_S_NEEDS_RESET);
		} else {
			snprintf(fault, sizeof(fault), "fault addr %#llx", end);
			EXPECT_TRUE(vmdev_klog_has(bdf, fault))
				TH_LOG("no DMAR fault at %#llx", end);
		}
		EXPECT_FALSE(vmdev_klog_has(who, "relay stopped"));
		EXPECT_EQ(2, relay_threads(2));
		vmdev_close(a);
		vmdev_close(b);
	}
	EXPECT_EQ(0, relay_threads(0));
	ASSERT_EQ(0, open_both(_metadata, self->fns, &o));
	ASSERT_EQ(0, stream(_metadata, a, b, 50, 0xa));
	ASSERT_EQ(0, stream(_metadata, b, a, 50, 0xb));
}

/* Is the 4 KiB page of @iova set in @log? */
static bool logged(const uint64_t *log, uint64_t iova)
{
	return log[iova / 4096 / 64] & 1ULL << (iova / 4096 % 64);
}

/*
 * A packed ring's position for the variant's base: the same distance from
 * the ring's wrap.
 */
static uint16_t packed_base(uint16_t base)
{
	return base % 256;
}

/*
 * Packed rings (the driver's ring at the variant's position): relayed from
 * DRIVER_OK, frames both ways byte for byte past the ring's wrap, the
 * logs (logging on while running: nothing switches) hold every receive
 * buffer and ring page, no transmit buffer page; a running queue's state
 * is where the driver's used position stands, and asking it stops the
 * queue there: a frame sent to it then stays in flight; the reset reports
 * the same, and ends the relay.
 */
TEST_F_TIMEOUT(relay, packed_from_the_start, 300)
{
	struct vmdev_opts o = VARIANT_OPTS;
	struct vmdev *a = &self->fns[0].d, *b = &self->fns[1].d;
	struct vmdev_vq *rx, *tx;
	uint64_t iova;
	uint32_t want;
	unsigned int i;

	o.features |= 1ULL << VIRTIO_F_RING_PACKED;
	o.num = 256;
	o.base = packed_base(variant->base);
	ASSERT_EQ(0, open_both(_metadata, self->fns, &o));
	ASSERT_TRUE(a->packed);
	EXPECT_EQ(2, relay_threads(2));
	memset(self->log[1], 0, LOG_BYTES);
	ASSERT_EQ(0, vmdev_log_start(b, self->log[1]));
	/* More than a ring: every receive buffer of B is written. */
	ASSERT_EQ(0, stream(_metadata, a, b, 300, 0xa));
	ASSERT_EQ(0, stream(_metadata, b, a, 300, 0xb));

	rx = &b->vqs[0];
	tx = &b->vqs[1];
	ASSERT_GE(LOG_BYTES * 8, (IOVA + b->mem_size) / 4096);
	for (i = 0; i < rx->num; i++) {
		iova = rx->bufs_iova + (uint64_t)i * rx->buf_size;
		EXPECT_TRUE(logged(self->log[1], iova))
			TH_LOG("receive buffer %u (%#lx) not logged", i,
			       (unsigned long)iova);
	}
	EXPECT_TRUE(logged(self->log[1], vmdev_iova(b, rx->pdesc)));
	EXPECT_TRUE(logged(self->log[1], vmdev_iova(b, tx->pdesc)));
	for (i = 0; i < tx->num; i++) {
		iova = tx->bufs_iova + (uint64_t)i * tx->buf_size;
		EXPECT_FALSE(logged(self->log[1], iova))
			TH_LOG("transmit buffer %u (%#lx) logged", i,
			       (unsigned long)iova);
	}
	ASSERT_EQ(0, vmdev_log_stop(b));

	want = vmdev_vq_state(b, 0);
	/* 300 frames received from the base: the wrap counter flips at 256. */
	EXPECT_EQ((packed_base(variant->base) + 300) % 256 |
		  ((packed_base(variant->base) + 300) / 256 % 2 ? 0 : 0x8000),
		  want & 0xffff);
	stops_where_asked(_metadata, a, b, want);
}

/*
 * Packed rings that make no sense, each stopping the relay of its queue
 * alone (a message, nothing handed on, no splat), the other direction
 * working on: a transmit buffer id out of the ring, a transmit chain of
 * the whole ring (longer than its free slots), a receive buffer whose id
 * is in flight. The next session is healthy. A start position at the
 * ring's size is refused, one below it taken.
 */
TEST_F_TIMEOUT(relay, packed_bad_rings_stop_only_their_queue, 300)
{
	struct vmdev_opts o = VARIANT_OPTS;
	struct vmdev *a = &self->fns[0].d, *b = &self->fns[1].d;
	const char *who = strrchr(self->fns[0].node, '/') + 1;
	struct vhost_vring_state st = { .index = 0 };
	struct vring_desc seg[256] = { 0 };
	struct vmdev_vq *vq;
	uint16_t flags, id;
	unsigned int i;
	char want[64];
	int bad;

	o.features |= 1ULL << VIRTIO_F_RING_PACKED;
	o.num = 256;
	o.base = packed_base(variant->base);
	for (bad = 0; bad < 3; bad++) {
		ASSERT_EQ(0, open_both(_metadata, self->fns, &o));
		ASSERT_EQ(0, stream(_metadata, a, b, 10, 0xa));
		klogctl(5, NULL, 0);	/* clear */
		vq = &a->vqs[bad < 2];
		if (bad == 0) {		/* id out of the ring */
			vq->pdesc[vq->avail_idx].addr = htole64(IOVA);
			vq->pdesc[vq->avail_idx].len = htole32(64);
			vq->pdesc[vq->avail_idx].id = htole16(vq->num + 3);
			flags = vq->avail_wrap ? 1 << VRING_PACKED_DESC_F_AVAIL :
						 1 << VRING_PACKED_DESC_F_USED;
			__atomic_store_n(&vq->pdesc[vq->avail_idx].flags,
					 htole16(flags), __ATOMIC_RELEASE);
			ASSERT_EQ(0, vmdev_kick(a, 1));
		} else if (bad == 1) {	/* every slot, each with a next */
			/* Over slots the function used, all (a slow one too). */
			for (i = 0; i < 100 && vq->nfree < vq->num; i++) {
				usleep(10 * 1000);
				vmdev_tx_reclaim(a, 0);
			}
			ASSERT_EQ(vq->num, vq->nfree);
			for (i = 0; i < vq->num; i++) {
				seg[i].addr = htole64(IOVA);
				seg[i].len = htole32(64);
				seg[i].flags = htole16(VRING_DESC_F_NEXT);
			}
			ASSERT_EQ(0, vmdev_post_raw(a, 1, seg, vq->num, 0));
		} else {		/* the last receive buffer posted, again */
			ASSERT_EQ(0, send_frames(b, 0, 5, 0xb));
			usleep(300 * 1000);
			id = le16toh(vq->pdesc[(vq->avail_idx + vq->num - 1) %
					       vq->num].id);
			seg[0].addr = htole64(vq->bufs_iova +
					      (uint64_t)id * vq->buf_size);
			seg[0].len = htole32(vq->buf_size);
			seg[0].flags = htole16(VRING_DESC_F_WRITE);
			ASSERT_EQ(0, vmdev_post_raw(a, 0, seg, 1, id));
		}
		usleep(200 * 1000);
		snprintf(want, sizeof(want), "vq %d: relay stopped: %s", bad < 2,
			 bad == 1 ? "an available chain" : "an available id");
		EXPECT_TRUE(vmdev_klog_has(who, want)) TH_LOG("case %d", bad);
		EXPECT_EQ(2, relay_threads(2));
		/* The other direction still works. */
		ASSERT_EQ(0, bad < 2 ? stream(_metadata, b, a, 50, 0xb) :
				       stream(_metadata, a, b, 50, 0xa));
		vmdev_close(a);
		vmdev_close(b);
	}
	ASSERT_EQ(0, open_both(_metadata, self->fns, &o));
	ASSERT_EQ(0, stream(_metadata, a, b, 50, 0xa));
	ASSERT_EQ(0, stream(_metadata, b, a, 50, 0xb));
	vmdev_close(a);
	vmdev_close(b);

	/* A position of the ring's size, then one below, with both halves. */
	o.hold = true;
	ASSERT_EQ(0, vmdev_open(a, self->fns[0].node, &o));
	st.num = (256 | 0x8000) * 0x10001u;
	EXPECT_EQ(-EINVAL, vmdev_ioctl(a->fd, VHOST_SET_VRING_BASE, &st));
	ASSERT_EQ(0, vmdev_ioctl(a->fd, VHOST_GET_VRING_BASE, &st));
	EXPECT_EQ((o.base | 0x8000) * 0x10001u, st.num);
	st.num = (255 | 0x8000) * 0x10001u;
	EXPECT_EQ(0, vmdev_ioctl(a->fd, VHOST_SET_VRING_BASE, &st));
	ASSERT_EQ(0, vmdev_ioctl(a->fd, VHOST_GET_VRING_BASE, &st));
	EXPECT_EQ((255 | 0x8000) * 0x10001u, st.num);
}

/*
 * What the mdev offers: VHOST_F_LOG_ALL and VIRTIO_F_RING_PACKED while its
 * dirty_log attribute is 1 (the default), VIRTIO_F_RING_PACKED without
 * VHOST_F_LOG_ALL at 0; never VIRTIO_F_RING_RESET, the relay's own; an
 * IOVA window whose last page a client maps, and the next it cannot.
 */
TEST_F(relay, packed_or_log_all)
{
	struct vmdev_opts o = { .iova = IOVA, .hold = true };
	struct vmdev *a = &self->fns[0].d;
	struct vhost_vdpa_iova_range r;
	char path[128];
	void *page;
	uint64_t f;

	ASSERT_EQ(0, vmdev_open(a, self->fns[0].node, &o));
	f = features_of(a);
	EXPECT_TRUE(f & 1ULL << VHOST_F_LOG_ALL);
	EXPECT_TRUE(f & 1ULL << VIRTIO_F_RING_PACKED);
	EXPECT_FALSE(f & 1ULL << VIRTIO_F_RING_RESET);

	/* The relay's rings are above the IOVA window: no client map there. */
	ASSERT_EQ(0, vmdev_ioctl(a->fd, VHOST_VDPA_GET_IOVA_RANGE, &r));
	EXPECT_EQ(4095, r.last & 4095);
	EXPECT_GT(UINT64_MAX, r.last);
	page = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, page);
	EXPECT_EQ(-EINVAL, vmdev_iotlb_msg(a->fd, 0, VHOST_IOTLB_UPDATE,
					   r.last + 1, 4096, (uintptr_t)page,
					   VHOST_ACCESS_RW));
	EXPECT_LT(0, vmdev_iotlb_msg(a->fd, 0, VHOST_IOTLB_UPDATE,
				     r.last - 4095, 4096, (uintptr_t)page,
				     VHOST_ACCESS_RW));
	EXPECT_LT(0, vmdev_iotlb_msg(a->fd, 0, VHOST_IOTLB_INVALIDATE,
				     r.last - 4095, 4096, 0, 0));
	munmap(page, 4096);
	vmdev_close(a);

	snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s/dirty_log",
		 self->fns[0].uuid);
	ASSERT_EQ(0, vmdev_write_file(path, "0"));
	ASSERT_EQ(0, vmdev_open(a, self->fns[0].node, &o));
	f = features_of(a);
	EXPECT_FALSE(f & 1ULL << VHOST_F_LOG_ALL);
	EXPECT_TRUE(f & 1ULL << VIRTIO_F_RING_PACKED);
	EXPECT_FALSE(f & 1ULL << VIRTIO_F_RING_RESET);
}

TEST_HARNESS_MAIN
