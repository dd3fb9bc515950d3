// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmbench: the measurements of `make bench` (vm/bench.sh), one path at a
 * time, with the same client code on every path: libvmdev over a vhost-mdev
 * or an upstream vhost-vdpa character device. Each prints "RESULT key=value
 * ..." lines for bench.sh and exits non-zero, saying why, when a step fails.
 *
 *   vmbench pps TX RX SIZE SECS [doorbell|packed]
 *	Bring up TX and RX (the same node for a device that loops frames
 *	back) until RX has a first frame, then send SIZE-byte frames on TX
 *	for SECS seconds, as fast as the transmit ring takes them, and
 *	count what RX receives each second (pps samples and their median);
 *	over those seconds, the interrupts the client got (call eventfd
 *	signals, both queues) per 1,000 packets, the kernel's CPU time
 *	(system, irq, softirq; all CPUs) per packet, and for a vhost-mdev
 *	node the kicks its driver took from the kick eventfds and the
 *	interrupts it passed on (debugfs).
 *	Every frame carries this run's tag and a pattern: one
 *	of ours that comes back altered counts as "bad" (and fails the run),
 *	a frame of an earlier run (still queued in a tap) as "stale".
 *	"packed" asks for packed rings (VIRTIO_F_RING_PACKED) instead.
 *   vmbench bringup TX RX [doorbell]
 *	Five times: open TX and RX, send a 64-byte frame, wait for RX to
 *	have it, close both: the median of open -> first frame (bringup_us).
 *   vmbench rtt TX RX COUNT [doorbell]
 *	COUNT times: one 64-byte frame, kicked, and the wait for RX's
 *	interrupt (its call eventfd) and the frame: p50 and p99 in ns.
 *   vmbench map NODE MIB iotlb|memtable 4k|2m
 *	Map MIB MiB of populated memory in one IOTLB update (or one
 *	SET_MEM_TABLE region) and unmap it (IOTLB invalidate, or a table
 *	without regions), five times on one open node: the medians of
 *	map_us and unmap_us (and, on ours, of pin_us: the time the core
 *	spent in pin_user_pages_fast() during a map).
 *   vmbench instances ours|upstream COUNT
 *	COUNT simulator devices (vhost_mdev_sim mdevs, or vdpa_sim_net
 *	devices), each made by one shell command as a user makes it and
 *	waited for until its node opens: the first one's time from command to
 *	usable node, the time for all, then the time to remove all.
 *
 * NODE "vfio:<BDF>" (TX and RX both) is the passthrough bound: the raw
 * function through vfio-pci (see vfio_open()); map then times type1's
 * VFIO_IOMMU_MAP_DMA and UNMAP_DMA of the same memory.
 */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>
#include <linux/virtio_config.h>
#include <linux/virtio_pci.h>

#include "vmdev.h"

#define MAX_SAMPLES	600
#define FRAME_MAX	1514
#define ETH_HLEN	14
#define IOVA		0x40000000ULL	/* 1 GiB */
#define MAP_REPS	5	/* maps, and bring-ups, per measurement */

/* The @pct percentile of @n values (sorts them). */
static uint64_t percentile(uint64_t *v, unsigned int n, unsigned int pct)
{
	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), vmdev_cmp_u64);
	return v[(n - 1) * pct / 100];
}

/* The median of @n durations in ns, in µs. */
static unsigned long long median_us(uint64_t *ns, unsigned int n)
{
	return (unsigned long long)percentile(ns, n, 50) / 1000;
}

static int fail(const char *what, int err)
{
	printf("RESULT error=%s:%s\n", what, strerror(err < 0 ? -err : err));
	return 1;
}

static uint32_t run_tag;	/* tells this run's frames from older ones */
static unsigned long stale;
static uint64_t ring_features;	/* "packed": VIRTIO_F_RING_PACKED */
/* "relay": rings from index 1000, which vhost_mdev_pci relays (pci_shadow.c) */
static uint16_t ring_base;

/*
 * A frame with a pattern drain() checks: to the device's own MAC when it
 * loops frames back (from its config space: vdpa_sim_net takes no other),
 * broadcast between two devices (as pci.c's frames).
 */
static void frame_init(uint8_t *f, size_t size, struct vmdev *rx,
		       bool loopback)
{
	static const uint8_t src[6] = { 0x02, 0x56, 0x4d, 0, 0, 0x01 };
	struct {
		struct vhost_vdpa_config hdr;
		uint8_t mac[6];
	} cfg = { .hdr = { .off = 0, .len = 6 } };
	size_t i;

	if (!loopback || vmdev_ioctl(rx->fd, VHOST_VDPA_GET_CONFIG, &cfg))
		memset(cfg.mac, 0xff, 6);
	memcpy(f, cfg.mac, 6);
	memcpy(f + 6, src, 6);
	f[12] = 0x88;	/* local experimental ethertype 0x88b5 */
	f[13] = 0xb5;
	memcpy(f + ETH_HLEN, &run_tag, sizeof(run_tag));
	for (i = ETH_HLEN + sizeof(run_tag); i < size; i++)
		f[i] = i;
}

/*
 * The passthrough bound: the same client on a raw function through VFIO
 * (vfio-pci, a type1 container of its own, DMA map of the same memory),
 * the device programmed through its virtio-pci capabilities in the BAR
 * mmap, kicks written to the doorbell in that mmap, MSI-X vectors 0 and 1
 * signalling the receive and transmit queues' call eventfds. A node named
 * "vfio:<BDF>" takes this path; the ring code is libvmdev's.
 */
struct vfio_fn {
	int container, group, device;
	void *bar;
	size_t bar_size;
	struct virtio_pci_common_cfg *common;	/* through r16(), w16(), ... */
	uint8_t *notify;
	uint32_t notify_mult;
	uint64_t iova, size;
};

static struct vfio_fn vfns[2];

/* Device registers: each access made exactly once, in program order. */
static uint8_t r8(const uint8_t *reg)
{
	return __atomic_load_n(reg, __ATOMIC_SEQ_CST);
}

static void w8(uint8_t *reg, uint8_t val)
{
	__atomic_store_n(reg, val, __ATOMIC_SEQ_CST);
}

static uint16_t r16(const uint16_t *reg)
{
	return __atomic_load_n(reg, __ATOMIC_SEQ_CST);
}

static void w16(uint16_t *reg, uint16_t val)
{
	__atomic_store_n(reg, val, __ATOMIC_SEQ_CST);
}

static uint32_t r32(const uint32_t *reg)
{
	return __atomic_load_n(reg, __ATOMIC_SEQ_CST);
}

static void w32(uint32_t *reg, uint32_t val)
{
	__atomic_store_n(reg, val, __ATOMIC_SEQ_CST);
}

static int vfio_config(struct vfio_fn *f, void *buf, size_t len, off_t off,
		       bool write)
{
	struct vfio_region_info r = {
		.argsz = sizeof(r), .index = VFIO_PCI_CONFIG_REGION_INDEX,
	};
	ssize_t n;

	if (ioctl(f->device, VFIO_DEVICE_GET_REGION_INFO, &r))
		return -errno;
	n = write ? pwrite(f->device, buf, len, r.offset + off) :
		    pread(f->device, buf, len, r.offset + off);
	return n == (ssize_t)len ? 0 : -EIO;
}

/* The container with @bdf's group in it, and the device's fd. */
static int vfio_attach(struct vfio_fn *f, const char *bdf)
{
	struct vfio_group_status st = { .argsz = sizeof(st) };
	char path[128], link[128];
	ssize_t n;

	f->container = -1;
	f->group = -1;
	f->device = -1;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -errno;
	link[n] = '\0';
	snprintf(path, sizeof(path), "/dev/vfio/%s", strrchr(link, '/') + 1);
	f->container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	f->group = open(path, O_RDWR | O_CLOEXEC);
	if (f->container < 0 || f->group < 0)
		return -errno;
	if (ioctl(f->group, VFIO_GROUP_GET_STATUS, &st))
		return -errno;
	if (!(st.flags & VFIO_GROUP_FLAGS_VIABLE))
		return -EBUSY;
	if (ioctl(f->group, VFIO_GROUP_SET_CONTAINER, &f->container) ||
	    ioctl(f->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
		return -errno;
	f->device = ioctl(f->group, VFIO_GROUP_GET_DEVICE_FD, bdf);
	return f->device < 0 ? -errno : 0;
}

/* Close what is open; from a zeroed struct (nothing open yet), nothing. */
static void vfio_detach(struct vfio_fn *f)
{
	if (f->bar)
		munmap(f->bar, f->bar_size);
	if (f->device > 0)
		close(f->device);
	if (f->group > 0)
		close(f->group);
	if (f->container > 0)
		close(f->container);
	memset(f, 0, sizeof(*f));
	f->container = -1;
	f->group = -1;
	f->device = -1;
}

static int vfio_dma(struct vfio_fn *f, void *mem, uint64_t iova, uint64_t size)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uintptr_t)mem, .iova = iova, .size = size,
	};
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap), .iova = iova, .size = size,
	};

	if (mem)
		return ioctl(f->container, VFIO_IOMMU_MAP_DMA, &map) ? -errno : 0;
	return ioctl(f->container, VFIO_IOMMU_UNMAP_DMA, &unmap) ? -errno : 0;
}

/* Find the common and notify structures; map the BAR they are in. */
static int vfio_caps(struct vfio_fn *f)
{
	struct vfio_region_info r = { .argsz = sizeof(r) };
	struct virtio_pci_notify_cap cap;
	uint32_t common_off = 0, notify_off = 0;
	int bar = -1, ret, guard;
	uint16_t cmd;
	uint8_t pos;

	ret = vfio_config(f, &pos, 1, PCI_CAPABILITY_LIST, false);
	for (guard = 0; !ret && pos && guard < 48; guard++) {
		ret = vfio_config(f, &cap, sizeof(cap), pos, false);
		if (ret)
			break;
		if (cap.cap.cap_vndr == PCI_CAP_ID_VNDR &&
		    (cap.cap.cfg_type == VIRTIO_PCI_CAP_COMMON_CFG ||
		     cap.cap.cfg_type == VIRTIO_PCI_CAP_NOTIFY_CFG)) {
			if (bar >= 0 && bar != cap.cap.bar)
				return -EOPNOTSUPP;
			bar = cap.cap.bar;
			if (cap.cap.cfg_type == VIRTIO_PCI_CAP_COMMON_CFG) {
				common_off = le32toh(cap.cap.offset);
			} else {
				notify_off = le32toh(cap.cap.offset);
				f->notify_mult = le32toh(cap.notify_off_multiplier);
			}
		}
		pos = cap.cap.cap_next;
	}
	if (ret || bar < 0)
		return ret ? ret : -ENODEV;

	r.index = bar;
	if (ioctl(f->device, VFIO_DEVICE_GET_REGION_INFO, &r))
		return -errno;
	if (!(r.flags & VFIO_REGION_INFO_FLAG_MMAP))
		return -EOPNOTSUPP;
	f->bar = mmap(NULL, r.size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      f->device, r.offset);
	if (f->bar == MAP_FAILED) {
		f->bar = NULL;
		return -errno;
	}
	f->bar_size = r.size;
	f->common = (void *)((uint8_t *)f->bar + common_off);
	f->notify = (uint8_t *)f->bar + notify_off;

	/* DMA needs bus mastering, which vfio-pci leaves to the user. */
	ret = vfio_config(f, &cmd, 2, PCI_COMMAND, false);
	cmd |= PCI_COMMAND_MASTER | PCI_COMMAND_MEMORY;
	return ret ? ret : vfio_config(f, &cmd, 2, PCI_COMMAND, true);
}

static int vfio_status(struct vfio_fn *f, uint8_t bit)
{
	w8(&f->common->device_status, r8(&f->common->device_status) | bit);
	return (r8(&f->common->device_status) & bit) ? 0 : -EIO;
}

/* Queue @idx of @d to the device: size, MSI-X vector, rings, doorbell. */
static int vfio_queue(struct vfio_fn *f, struct vmdev *d, unsigned int idx)
{
	struct virtio_pci_common_cfg *c = f->common;
	struct vmdev_vq *vq = &d->vqs[idx];
	uint64_t desc = vmdev_iova(d, vq->desc), avail = vmdev_iova(d, vq->avail);
	uint64_t used = vmdev_iova(d, vq->used);

	w16(&c->queue_select, htole16(idx));
	if (le16toh(r16(&c->queue_size)) < vq->num)
		return -ENOSPC;
	w16(&c->queue_size, htole16(vq->num));
	w16(&c->queue_msix_vector, htole16(idx));
	if (le16toh(r16(&c->queue_msix_vector)) != idx)
		return -EIO;
	w32(&c->queue_desc_lo, htole32(desc));
	w32(&c->queue_desc_hi, htole32(desc >> 32));
	w32(&c->queue_avail_lo, htole32(avail));
	w32(&c->queue_avail_hi, htole32(avail >> 32));
	w32(&c->queue_used_lo, htole32(used));
	w32(&c->queue_used_hi, htole32(used >> 32));
	vq->doorbell = (void *)(f->notify +
				le16toh(r16(&c->queue_notify_off)) * f->notify_mult);
	w16(&c->queue_enable, htole16(1));
	return 0;
}

/* The whole bring-up of function @bdf for @d, to DRIVER_OK. */
static int vfio_open(struct vmdev *d, struct vfio_fn *f, const char *bdf)
{
	struct {
		struct vfio_irq_set set;
		int32_t fds[2];
	} irqs = { .set = {
		.argsz = sizeof(irqs), .index = VFIO_PCI_MSIX_IRQ_INDEX,
		.flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
		.start = 0, .count = 2,
	} };
	uint64_t offered, want = (1ULL << VIRTIO_F_VERSION_1) |
				 (1ULL << VIRTIO_F_ACCESS_PLATFORM);
	size_t need = 2 * (5 * 4096 + 24 * 256 + 256 * 2048);
	unsigned int i;
	int ret;

	vmdev_init(d);
	d->opts.num = 256;
	d->opts.iova = IOVA;
	d->opts.pairs = 1;
	d->pairs = 1;
	d->cvq = -1u;
	ret = vfio_attach(f, bdf);
	if (!ret)
		ret = vfio_caps(f);
	if (ret)
		return ret;
	d->mem_size = (need + (2UL << 20) - 1) & ~((2UL << 20) - 1);
	d->mem = mmap(NULL, d->mem_size, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (d->mem == MAP_FAILED) {
		d->mem = NULL;
		return -errno;
	}
	ret = vfio_dma(f, d->mem, IOVA, d->mem_size);
	if (ret)
		return ret;
	f->iova = IOVA;
	f->size = d->mem_size;

	w8(&f->common->device_status, 0);
	for (i = 0; r8(&f->common->device_status) && i < 1000; i++)
		usleep(100);
	ret = vfio_status(f, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	if (!ret)
		ret = vfio_status(f, VIRTIO_CONFIG_S_DRIVER);
	if (ret)
		return ret;
	w32(&f->common->device_feature_select, 0);
	offered = le32toh(r32(&f->common->device_feature));
	w32(&f->common->device_feature_select, htole32(1));
	offered |= (uint64_t)le32toh(r32(&f->common->device_feature)) << 32;
	d->features = offered & want;
	w32(&f->common->guest_feature_select, 0);
	w32(&f->common->guest_feature, htole32((uint32_t)d->features));
	w32(&f->common->guest_feature_select, htole32(1));
	w32(&f->common->guest_feature, htole32(d->features >> 32));
	ret = vfio_status(f, VIRTIO_CONFIG_S_FEATURES_OK);
	for (i = 0; i < 2 && !ret; i++)
		ret = vmdev_vq_alloc(d, i, 2048);
	if (ret)
		return ret;
	irqs.fds[0] = d->vqs[0].call_fd;
	irqs.fds[1] = d->vqs[1].call_fd;
	if (ioctl(f->device, VFIO_DEVICE_SET_IRQS, &irqs))
		return -errno;
	w16(&f->common->msix_config, htole16(VIRTIO_MSI_NO_VECTOR));
	for (i = 0; i < 2 && !ret; i++)
		ret = vfio_queue(f, d, i);
	if (ret)
		return ret;
	vmdev_rx_fill(d, 0);
	ret = vfio_status(f, VIRTIO_CONFIG_S_DRIVER_OK);
	if (!ret)
		ret = vmdev_kick(d, 0);
	return ret;
}

static void vfio_close(struct vmdev *d, struct vfio_fn *f)
{
	unsigned int i;

	if (f->common)
		w8(&f->common->device_status, 0);
	/* The doorbells are in the BAR's mapping, not mappings of their own. */
	for (i = 0; i < VMDEV_MAX_VQS; i++)
		d->vqs[i].doorbell = NULL;
	if (f->size)
		vfio_dma(f, NULL, f->iova, f->size);
	vmdev_close(d);
	vfio_detach(f);
}

static const char *vfio_bdf(const char *node)
{
	return strncmp(node, "vfio:", 5) ? NULL : node + 5;
}

struct pair {
	struct vmdev tx, rx;
	bool vfio;
	struct vmdev *rxd;	/* &rx, or &tx when one node loops back */
};

static int pair_open(struct pair *p, const char *tx, const char *rx,
		     bool doorbell)
{
	/* Not at IOVA 0: QEMU's virtio-pci takes a ring at 0 for no ring. */
	struct vmdev_opts o = {
		.doorbell = doorbell, .iova = IOVA, .features = ring_features,
		.base = ring_base,
	};
	int ret;

	vmdev_init(&p->tx);
	vmdev_init(&p->rx);
	p->rxd = &p->tx;
	p->vfio = vfio_bdf(tx);
	if (p->vfio) {
		vfio_detach(&vfns[0]);	/* a clean slate */
		vfio_detach(&vfns[1]);
		p->rxd = &p->rx;
		ret = vfio_open(&p->tx, &vfns[0], vfio_bdf(tx));
		return ret ? ret : vfio_open(&p->rx, &vfns[1], vfio_bdf(rx));
	}
	ret = vmdev_open(&p->tx, tx, &o);
	if (ret || !strcmp(tx, rx))
		return ret;
	p->rxd = &p->rx;
	return vmdev_open(&p->rx, rx, &o);
}

static void pair_close(struct pair *p)
{
	if (p->vfio) {
		vfio_close(&p->tx, &vfns[0]);
		vfio_close(&p->rx, &vfns[1]);
		return;
	}
	vmdev_close(&p->tx);
	vmdev_close(&p->rx);
}

/* Count a bad frame; show the first one: length and first bytes. */
static void bad_frame(const uint8_t *buf, int len, unsigned long *bad)
{
	int i;

	if (!(*bad)++) {
		printf("vmbench: first bad frame: length %d:", len);
		for (i = 0; i < len && i < 24; i++)
			printf(" %02x", buf[i]);
		printf("\n");
	}
}

/* Take every frame RX has; count those that carry our pattern. */
static unsigned int drain(struct pair *p, size_t size, unsigned long *bad)
{
	uint8_t buf[FRAME_MAX];
	unsigned int n = 0;
	int len;

	while ((len = vmdev_recv(p->rxd, 0, buf, sizeof(buf))) != -EAGAIN) {
		if (len >= ETH_HLEN + 4 && memcmp(buf + ETH_HLEN, &run_tag, 4))
			stale++;
		else if (len != (int)size || buf[12] != 0x88 ||
			 buf[13] != 0xb5 || buf[size - 1] != (uint8_t)(size - 1))
			bad_frame(buf, len, bad);
		else
			n++;
	}
	return n;
}

/*
 * Kicks the driver took from queue @vq's kick eventfd (not the doorbell)
 * and interrupts it passed on, from a vhost-mdev node's debugfs "vqs";
 * 0 for another node.
 */
static void driver_counts(const char *node, unsigned int vq, long long *kicks,
			  long long *calls)
{
	long long k, c;

	if (strstr(node, "/vhost-mdev-") && !vmdev_debugfs_vq(node, vq, &k, &c)) {
		*kicks += k;
		*calls += c;
	}
}

/* Kernel CPU time so far, all CPUs (system, irq, softirq), in ns. */
static uint64_t kernel_ns(void)
{
	unsigned long long user, nice, sys, idle, iowait, irq, softirq;
	long hz = sysconf(_SC_CLK_TCK);
	FILE *f = fopen("/proc/stat", "r");
	int n;

	if (!f)
		return 0;
	n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu", &user, &nice,
		   &sys, &idle, &iowait, &irq, &softirq);
	fclose(f);
	if (n != 7 || hz <= 0)
		return 0;
	return (sys + irq + softirq) * (1000000000ULL / hz);
}

/* Signals on queue @idx's call eventfd, those not read yet included. */
static uint64_t calls_of(struct vmdev *d, unsigned int idx)
{
	uint64_t n;

	if (read(d->vqs[idx].call_fd, &n, sizeof(n)) == sizeof(n))
		d->vqs[idx].calls += n;
	return d->vqs[idx].calls;
}

/*
 * Open TX and RX and send one @size-byte frame until RX has it: the whole
 * bring-up a client goes through. 0, or fail()'s status (@p closed).
 */
static int bring_up(struct pair *p, const char *tx, const char *rx,
		    bool doorbell, uint8_t *frame, size_t size,
		    unsigned long *bad)
{
	int ret = pair_open(p, tx, rx, doorbell);

	if (ret) {
		pair_close(p);
		return fail("open", ret);
	}
	frame_init(frame, size, p->rxd, p->rxd == &p->tx);
	ret = vmdev_send(&p->tx, 0, frame, size, true);
	while (!ret && !drain(p, size, bad)) {
		ret = vmdev_wait_call(p->rxd, 0, 5000);
		ret = ret < 0 ? ret : ret ? 0 : -ETIMEDOUT;
	}
	if (ret) {
		pair_close(p);
		return fail("first frame", ret);
	}
	return 0;
}

/* MAP_REPS bring-ups from scratch (closed in between): their median. */
static int cmd_bringup(const char *tx, const char *rx, bool doorbell)
{
	uint64_t ns[MAP_REPS], t0;
	uint8_t frame[ETH_HLEN + 50];
	unsigned long bad = 0;
	struct pair p;
	unsigned int r;
	int ret;

	for (r = 0; r < MAP_REPS; r++) {
		t0 = vmdev_now_ns();
		ret = bring_up(&p, tx, rx, doorbell, frame, sizeof(frame), &bad);
		if (ret)
			return ret;
		ns[r] = vmdev_now_ns() - t0;
		pair_close(&p);
	}
	printf("RESULT bringup_us=%llu\n", median_us(ns, MAP_REPS));
	return bad ? fail("frames altered", EIO) : 0;
}

static int cmd_pps(const char *tx, const char *rx, size_t size,
		   unsigned int secs, bool doorbell)
{
	uint64_t samples[MAX_SAMPLES], t, next, sent = 0, got = 0, sec_got;
	unsigned long bad = 0;
	unsigned int nsamples = 0, zero = 0, i;
	long long kicks = 0, calls = 0;
	uint64_t calls0, kns0, kns;
	uint8_t frame[FRAME_MAX];
	struct pair p;
	int ret;

	if (size < ETH_HLEN + 4 || size > FRAME_MAX || !secs ||
	    secs > MAX_SAMPLES)
		return fail("arguments", EINVAL);

	ret = bring_up(&p, tx, rx, doorbell, frame, size, &bad);
	if (ret)
		return ret;

	calls0 = calls_of(&p.tx, 1) + calls_of(p.rxd, 0);
	kns0 = kernel_ns();
	t = vmdev_now_ns();
	next = t + 1000000000ULL;
	sec_got = 0;
	while (nsamples < secs) {
		unsigned int queued = 0, n;

		/* As many as the ring takes, one kick for the batch. */
		while (vmdev_send(&p.tx, 0, frame, size, false) == 0)
			queued++;
		if (queued) {
			vmdev_kick(&p.tx, 1);
			sent += queued;
		}
		n = drain(&p, size, &bad);
		vmdev_tx_reclaim(&p.tx, 0);
		if (!n && !queued)
			vmdev_wait_call(p.rxd, 0, 1);
		sec_got += n;
		t = vmdev_now_ns();
		if (t >= next) {
			samples[nsamples++] = sec_got;
			printf("RESULT sample=%u pps=%llu\n", nsamples,
			       (unsigned long long)sec_got);
			fflush(stdout);
			got += sec_got;
			sec_got = 0;
			next += 1000000000ULL;
		}
	}
	for (i = 0; i < nsamples; i++)
		zero += !samples[i];
	kns = kernel_ns() - kns0;
	calls0 = calls_of(&p.tx, 1) + calls_of(p.rxd, 0) - calls0;
	driver_counts(tx, 1, &kicks, &calls);
	driver_counts(rx, 0, &kicks, &calls);
	printf("RESULT driver_kicks=%lld driver_calls=%lld", kicks, calls);
	printf(" calls_per_kpkt=%llu kernel_ns_per_pkt=%llu\n",
	       (unsigned long long)(got ? calls0 * 1000 / got : 0),
	       (unsigned long long)(got ? kns / got : 0));
	printf("RESULT pps=%llu sent=%llu received=%llu bad=%lu stale=%lu zero_seconds=%u\n",
	       (unsigned long long)percentile(samples, nsamples, 50),
	       (unsigned long long)sent, (unsigned long long)got, bad, stale,
	       zero);
	pair_close(&p);
	return bad ? fail("frames altered", EIO) : 0;
}

static int cmd_rtt(const char *tx, const char *rx, unsigned int count,
		   bool doorbell)
{
	uint64_t *lat, t;
	unsigned long bad = 0;
	uint8_t frame[64];
	unsigned int i;
	struct pair p;
	int ret = 0;

	lat = calloc(count ? count : 1, sizeof(*lat));
	if (!lat || !count)
		return fail("arguments", EINVAL);
	ret = pair_open(&p, tx, rx, doorbell);
	if (!ret)
		frame_init(frame, sizeof(frame), p.rxd, p.rxd == &p.tx);
	for (i = 0; i < count && !ret; i++) {
		t = vmdev_now_ns();
		ret = vmdev_send(&p.tx, 0, frame, sizeof(frame), true);
		while (!ret && !drain(&p, sizeof(frame), &bad)) {
			ret = vmdev_wait_call(p.rxd, 0, 5000);
			ret = ret < 0 ? ret : ret ? 0 : -ETIMEDOUT;
		}
		lat[i] = vmdev_now_ns() - t;
		vmdev_tx_reclaim(&p.tx, 0);
	}
	pair_close(&p);
	if (ret || bad) {
		free(lat);
		return fail("round trip", ret ? ret : EIO);
	}
	printf("RESULT rtt_p50_ns=%llu", (unsigned long long)percentile(lat, count, 50));
	printf(" rtt_p99_ns=%llu count=%u\n",
	       (unsigned long long)percentile(lat, count, 99), count);
	free(lat);
	return 0;
}

static int map_table(int fd, void *mem, size_t size)
{
	struct {
		struct vhost_memory hdr;
		struct vhost_memory_region region;
	} table = {
		.hdr.nregions = size ? 1 : 0,
		.region = {
			.guest_phys_addr = IOVA,
			.memory_size = size,
			.userspace_addr = (uintptr_t)mem,
		},
	};

	return vmdev_ioctl(fd, VHOST_SET_MEM_TABLE, &table);
}

/* The passthrough bound of a map: type1's DMA map and unmap, MAP_REPS times. */
static int map_vfio(const char *bdf, void *mem, size_t size)
{
	uint64_t map[MAP_REPS], unmap[MAP_REPS], t0, t1, t2;
	unsigned int r;
	int ret;

	ret = vfio_attach(&vfns[0], bdf);
	if (ret) {
		vfio_detach(&vfns[0]);
		return fail("vfio", ret);
	}
	for (r = 0; r < MAP_REPS && !ret; r++) {
		t0 = vmdev_now_ns();
		ret = vfio_dma(&vfns[0], mem, IOVA, size);
		t1 = vmdev_now_ns();
		if (!ret)
			ret = vfio_dma(&vfns[0], NULL, IOVA, size);
		t2 = vmdev_now_ns();
		map[r] = t1 - t0;
		unmap[r] = t2 - t1;
	}
	vfio_detach(&vfns[0]);
	munmap(mem, size);
	if (ret)
		return fail("vfio dma", ret);
	printf("RESULT map_us=%llu unmap_us=%llu\n", median_us(map, MAP_REPS),
	       median_us(unmap, MAP_REPS));
	return 0;
}

/*
 * The microseconds our core spent in pin_user_pages_fast() since @node was
 * opened (its debugfs "pins"), or -1: the floor of a map's time.
 */
static long pin_us(const char *node)
{
	long long ns = vmdev_debugfs_stat(node, "pins", "ns");

	return ns < 0 ? -1 : ns / 1000;
}

static int cmd_map(const char *node, size_t mib, bool table, bool huge)
{
	uint64_t backend = 1ULL << VHOST_BACKEND_F_IOTLB_MSG_V2, t0, t1, t2;
	uint64_t map[MAP_REPS], unmap[MAP_REPS], pins[MAP_REPS];
	size_t size = mib << 20;
	long n, pinned = -1;
	unsigned int r;
	int fd, ret;
	void *mem;

	mem = mmap(NULL, size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE |
		   (huge ? MAP_HUGETLB : 0), -1, 0);
	if (mem == MAP_FAILED)
		return fail("mmap", errno);
	if (vfio_bdf(node))
		return map_vfio(vfio_bdf(node), mem, size);
	fd = open(node, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return fail("open", errno);
	ret = vmdev_ioctl(fd, VHOST_SET_OWNER, NULL);
	if (!ret)
		ret = vmdev_ioctl(fd, VHOST_SET_BACKEND_FEATURES, &backend);
	if (ret)
		return fail("bring-up", ret);

	for (r = 0; r < MAP_REPS; r++) {
		pinned = pin_us(node);
		t0 = vmdev_now_ns();
		if (table)
			ret = map_table(fd, mem, size);
		else
			ret = (n = vmdev_iotlb_msg(fd, 0, VHOST_IOTLB_UPDATE,
						   IOVA, size, (uintptr_t)mem,
						   VHOST_ACCESS_RW)) < 0 ? n : 0;
		t1 = vmdev_now_ns();
		if (ret)
			return fail("map", ret);
		if (table)
			ret = map_table(fd, NULL, 0);
		else
			ret = (n = vmdev_iotlb_msg(fd, 0, VHOST_IOTLB_INVALIDATE,
						   IOVA, size, 0, 0)) < 0 ? n : 0;
		t2 = vmdev_now_ns();
		if (ret)
			return fail("unmap", ret);
		map[r] = t1 - t0;
		unmap[r] = t2 - t1;
		/* What the map spent pinning (the floor), read off the clock. */
		if (pinned >= 0)
			pins[r] = (pin_us(node) - pinned) * 1000ULL;
	}
	if (pinned >= 0)
		printf("RESULT pin_us=%llu\n", median_us(pins, MAP_REPS));
	printf("RESULT map_us=%llu unmap_us=%llu vmpin_after_kb=%ld\n",
	       median_us(map, MAP_REPS), median_us(unmap, MAP_REPS),
	       vmdev_vmpin_kb());
	close(fd);
	munmap(mem, size);
	return 0;
}

/* Run @cmd (a shell command line); 0 if it exited 0. */
static int run(const char *cmd)
{
	int status = system(cmd);

	return status == 0 ? 0 : -EIO;
}

/* The node of instance @i once its sysfs entry names one, "" until then. */
static void instance_node(bool ours, const char *name, char *node, size_t len)
{
	char dir[128];
	struct dirent *e;
	DIR *d;

	node[0] = '\0';
	if (ours) {
		vmdev_mdev_node(name, node, len);
		return;
	}
	snprintf(dir, sizeof(dir), "/sys/bus/vdpa/devices/%s", name);
	d = opendir(dir);
	if (!d)
		return;
	while ((e = readdir(d)))
		if (!strncmp(e->d_name, "vhost-vdpa-", 11))
			snprintf(node, len, "/dev/%s", e->d_name);
	closedir(d);
}

/*
 * @count simulator instances, each created with one shell command as a
 * user would (ours: the mdev type's "create"; upstream: "vdpa dev add")
 * and waited for until its node opens; then all removed the same way.
 */
static int cmd_instances(bool ours, unsigned int count)
{
	char (*names)[40], cmd[256], node[300];
	uint64_t t0, t1, t2, first = 0;
	unsigned int i, made = 0;
	int ret = 0, fd, tries;

	names = calloc(count ? count : 1, sizeof(*names));
	if (!names || !count)
		return fail("arguments", EINVAL);
	t0 = vmdev_now_ns();
	for (i = 0; i < count && !ret; i++) {
		t1 = vmdev_now_ns();
		if (ours) {
			ret = vmdev_uuid_random(names[i]);
			snprintf(cmd, sizeof(cmd), "echo %s > %s/mdev_supported_types/%s/create",
				 names[i], VMDEV_SIM_PARENT, VMDEV_SIM_NET_TYPE);
		} else {
			snprintf(names[i], sizeof(names[i]), "vmbench%u", i);
			snprintf(cmd, sizeof(cmd), "vdpa dev add name %s mgmtdev vdpasim_net",
				 names[i]);
		}
		if (!ret)
			ret = run(cmd);
		if (ret)
			break;
		made++;
		for (fd = -1, tries = 0; fd < 0 && tries < 10000; tries++) {
			instance_node(ours, names[i], node, sizeof(node));
			fd = node[0] ? open(node, O_RDWR | O_CLOEXEC) : -1;
			if (fd < 0)
				usleep(100);
		}
		if (fd < 0)
			ret = -ETIMEDOUT;
		else
			close(fd);
		if (!i)
			first = vmdev_now_ns() - t1;
	}
	t1 = vmdev_now_ns();
	for (i = 0; i < made; i++) {
		if (ours)
			snprintf(cmd, sizeof(cmd), "echo 1 > /sys/bus/mdev/devices/%s/remove",
				 names[i]);
		else
			snprintf(cmd, sizeof(cmd), "vdpa dev del %s", names[i]);
		if (run(cmd) && !ret)
			ret = -EIO;
	}
	t2 = vmdev_now_ns();
	free(names);
	if (ret)
		return fail("instances", ret);
	printf("RESULT first_usable_us=%llu create_all_ms=%llu destroy_all_ms=%llu count=%u\n",
	       (unsigned long long)first / 1000, (unsigned long long)(t1 - t0) / 1000000,
	       (unsigned long long)(t2 - t1) / 1000000, count);
	return 0;
}

int main(int argc, char **argv)
{
	struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };

	setvbuf(stdout, NULL, _IOLBF, 0);
	run_tag = getpid() ^ (uint32_t)vmdev_now_ns();
	setrlimit(RLIMIT_MEMLOCK, &rl);
	if (argc > 6 && !strcmp(argv[6], "packed"))
		ring_features = 1ULL << VIRTIO_F_RING_PACKED;
	if (argc > 6 && !strcmp(argv[6], "relay"))
		ring_base = 1000;
	if (argc >= 6 && !strcmp(argv[1], "pps"))
		return cmd_pps(argv[2], argv[3], strtoul(argv[4], NULL, 0),
			       strtoul(argv[5], NULL, 0),
			       argc > 6 && (!strcmp(argv[6], "doorbell") ||
					    ring_base));
	if (argc >= 4 && !strcmp(argv[1], "bringup"))
		return cmd_bringup(argv[2], argv[3],
				   argc > 4 && !strcmp(argv[4], "doorbell"));
	if (argc >= 5 && !strcmp(argv[1], "rtt"))
		return cmd_rtt(argv[2], argv[3], strtoul(argv[4], NULL, 0),
			       argc > 5 && !strcmp(argv[5], "doorbell"));
	if (argc == 4 && !strcmp(argv[1], "instances"))
		return cmd_instances(!strcmp(argv[2], "ours"),
				     strtoul(argv[3], NULL, 0));
	if (argc == 6 && !strcmp(argv[1], "map"))
		return cmd_map(argv[2], strtoul(argv[3], NULL, 0),
			       !strcmp(argv[4], "memtable"),
			       !strcmp(argv[5], "2m"));
	fprintf(stderr, "usage: vmbench pps TX RX SIZE SECS [doorbell|packed|relay]\n"
		"       vmbench bringup TX RX [doorbell]\n"
		"       vmbench rtt TX RX COUNT [doorbell]\n"
		"       vmbench map NODE MIB iotlb|memtable 4k|2m\n"
		"       vmbench instances ours|upstream COUNT\n");
	return 2;
}
