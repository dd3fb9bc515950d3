// SPDX-License-Identifier: GPL-2.0-only
/*
 * The PCI accelerator on the test VM's two modern virtio-net functions (one
 * hub between them: what A transmits, B receives). Both are handed to
 * vhost_mdev_pci through driver_override and get one mdev each; the
 * userspace driver library drives them. Without such functions: SKIP.
 */
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include "kselftest_harness.h"
#include "vmdev_test.h"

#define NPACKETS	10000
#define WINDOW		64
#define TIMEOUT_MS	5000
#define PAGE		4096UL

/* @n frames from @a to @b in windows, each compared; 0 or failing seq + 1. */
static int stream(struct __test_metadata *_metadata, struct vmdev *a,
		  struct vmdev *b, unsigned int n, unsigned int from)
{
	uint8_t out[2048], in[2048];
	unsigned int sent = 0, got = 0, w;
	int len, r;

	while (got < n) {
		for (w = 0; w < WINDOW && sent < n; w++, sent++) {
			len = vmdev_frame(out, sent, from);
			r = vmdev_send(a, 0, out, len, false);
			if (r == -EAGAIN)
				break;
			EXPECT_EQ(0, r) return sent + 1;
		}
		EXPECT_EQ(0, vmdev_kick(a, 1)) return sent + 1;
		while (got < sent) {
			len = vmdev_frame(out, got, from);
			r = vmdev_recv_wait(b, 0, in, sizeof(in), TIMEOUT_MS);
			EXPECT_EQ(len, r) {
				TH_LOG("frame %u of %u: %d", got, n, r);
				return got + 1;
			}
			EXPECT_EQ(0, memcmp(out, in, len)) {
				TH_LOG("frame %u differs", got);
				return got + 1;
			}
			got++;
		}
		vmdev_tx_reclaim(a, 0);
	}
	return 0;
}

FIXTURE(pci) {
	struct fn fns[2];
};

FIXTURE_VARIANT(pci) {
	enum vmdev_map map;
	bool hugepages;
	bool fragmented;
	bool doorbell;
	bool mrg;
	bool packed;
};

FIXTURE_VARIANT_ADD(pci, iotlb_eventfd) {
	.map = VMDEV_MAP_IOTLB,
};

FIXTURE_VARIANT_ADD(pci, mem_table_doorbell) {
	.map = VMDEV_MAP_MEM_TABLE,
	.doorbell = true,
};

FIXTURE_VARIANT_ADD(pci, iotlb_hugepages_doorbell) {
	.map = VMDEV_MAP_IOTLB,
	.hugepages = true,
	.doorbell = true,
	.mrg = true,
};

FIXTURE_VARIANT_ADD(pci, mem_table_hugepages_eventfd) {
	.map = VMDEV_MAP_MEM_TABLE,
	.hugepages = true,
};

/*
 * Memory of 4 KiB pages none physically next to another: one run per page,
 * hundreds in one update, which the core queues for the IOMMU. Mapped by
 * an IOTLB UPDATE alone (each run goes in as it is pinned) and by
 * VHOST_SET_MEM_TABLE (the new table goes in whole).
 */
FIXTURE_VARIANT_ADD(pci, iotlb_alone_fragmented_doorbell) {
	.map = VMDEV_MAP_IOTLB_ALONE,
	.fragmented = true,
	.doorbell = true,
};

FIXTURE_VARIANT_ADD(pci, mem_table_fragmented_eventfd) {
	.map = VMDEV_MAP_MEM_TABLE,
	.fragmented = true,
};

/* The functions offer packed rings (machine.py): passed through. */
FIXTURE_VARIANT_ADD(pci, iotlb_packed_doorbell) {
	.map = VMDEV_MAP_IOTLB,
	.doorbell = true,
	.packed = true,
};

FIXTURE_VARIANT_ADD(pci, mem_table_packed_mrg_eventfd) {
	.map = VMDEV_MAP_MEM_TABLE,
	.mrg = true,
	.packed = true,
};

FIXTURE_SETUP(pci)
{
	const char *why = NULL;
	int ret = fns_up(self->fns, &why);

	if (ret == -ENOENT)
		SKIP(return, "%s", why);
	ASSERT_EQ(0, ret);
	if (variant->packed) {
		ASSERT_EQ(0, fn_packed(&self->fns[0]));
		ASSERT_EQ(0, fn_packed(&self->fns[1]));
	}
	if (variant->hugepages && vmdev_reserve_hugepages(16))
		SKIP(return, "cannot reserve 2 MiB hugepages");
}

FIXTURE_TEARDOWN(pci)
{
	fn_down(&self->fns[0]);
	fn_down(&self->fns[1]);
}

#define VARIANT_OPTS ((struct vmdev_opts) {				\
	.map = variant->map,						\
	.hugepages = variant->hugepages,				\
	.fragmented = variant->fragmented,				\
	.doorbell = variant->doorbell,					\
	.iova = 1ULL << 30,						\
	.features = (variant->mrg ? 1ULL << VIRTIO_NET_F_MRG_RXBUF : 0) |	\
		    (variant->packed ? 1ULL << VIRTIO_F_RING_PACKED : 0),	\
})

/*
 * 10,000 frames of 60 to 1514 bytes from A arrive on B byte for byte, and
 * 10,000 more from B on A. A doorbell variant kicks only through the mapped
 * page: the kick eventfd path of the driver sees no kick at all, so the
 * device took its work from the doorbell writes alone.
 */
TEST_F_TIMEOUT(pci, traffic_both_ways, 600)
{
	struct vmdev_opts o = VARIANT_OPTS;
	struct vmdev *a = &self->fns[0].d, *b = &self->fns[1].d;
	long long kicks, calls;

	ASSERT_EQ(0, vmdev_open(a, self->fns[0].node, &o));
	ASSERT_EQ(0, vmdev_open(b, self->fns[1].node, &o));
	ASSERT_EQ(variant->packed, a->packed);
	ASSERT_EQ(variant->packed, b->packed);
	ASSERT_EQ(0, stream(_metadata, a, b, NPACKETS, 0xa));
	ASSERT_EQ(0, stream(_metadata, b, a, NPACKETS, 0xb));

	/* Interrupts arrived on B's receive call eventfd. */
	EXPECT_LT(0, b->vqs[0].calls);
	ASSERT_EQ(0, vmdev_debugfs_vq(self->fns[0].node, 1, &kicks, &calls));
	/* Doorbell: no kick through the eventfd. Eventfd: every kick. */
	EXPECT_EQ(!variant->doorbell, kicks > 0);
	TH_LOG("A's transmit queue: %llu kicks by %s, %lld through the eventfd",
	       (unsigned long long)a->vqs[1].kicks,
	       variant->doorbell ? "doorbell" : "eventfd", kicks);
}

/*
 * The IOTLB entries are the physically contiguous runs of the memory: they
 * cover it exactly, in whole pages; with hugepage memory (and a 2 MiB
 * aligned IOVA) in whole, aligned 2 MiB pages, which the IOMMU maps as
 * such.
 */
TEST_F(pci, mapping_runs)
{
	struct vmdev_opts o = VARIANT_OPTS;
	unsigned long long iova, size, total = 0, align;
	char path[128], line[128];
	unsigned int asid, perm;
	int entries = 0;
	FILE *f;

	align = variant->hugepages ? 2 << 20 : PAGE;
	ASSERT_EQ(0, vmdev_open(&self->fns[0].d, self->fns[0].node, &o));
	snprintf(path, sizeof(path), "/sys/kernel/debug/vhost_mdev/%s/mappings",
		 self->fns[0].node + 5);
	f = fopen(path, "r");
	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%u %llx %llx %u", &asid, &iova, &size,
			   &perm) != 4)
			continue;
		entries++;
		total += size;
		EXPECT_EQ(0, iova % align);
		EXPECT_EQ(0, size % align);
		EXPECT_EQ(VHOST_ACCESS_RW, perm);
	}
	fclose(f);
	EXPECT_EQ(self->fns[0].d.mem_size, total);
	if (variant->hugepages)
		EXPECT_GE(self->fns[0].d.mem_size / (2 << 20), entries);
	TH_LOG("%llu bytes in %d runs", total, entries);
}

struct range {
	unsigned long long start, size;
};

static int range_cmp(const void *a, const void *b)
{
	const struct range *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* Sort @r[0..n) and merge the ranges that touch; returns how many are left. */
static int ranges_merge(struct range *r, int n)
{
	int i, m = 0;

	qsort(r, n, sizeof(*r), range_cmp);
	for (i = 0; i < n; i++) {
		if (m && r[m - 1].start + r[m - 1].size == r[i].start)
			r[m - 1].size += r[i].size;
		else
			r[m++] = r[i];
	}
	return m;
}

/*
 * The ranges of debugfs file @file of @node into @r (at most @max): the
 * IOTLB's ("mappings", address space 0) or the IOMMU's ("iommu", whose
 * "maps" line goes to @maps). -1 if the file cannot be read.
 */
static int debugfs_ranges(const char *node, const char *file, struct range *r,
			  int max, long long *maps)
{
	unsigned long long iova, size;
	unsigned int asid, perm;
	char path[128], line[128];
	int n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/kernel/debug/vhost_mdev/%s/%s",
		 node + 5, file);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f) && n < max) {
		if (maps && sscanf(line, "maps %lld", maps) == 1)
			continue;
		if (maps ? sscanf(line, "%llx %llx %u", &iova, &size, &perm) != 3 :
		    sscanf(line, "%u %llx %llx %u", &asid, &iova, &size, &perm) != 4 ||
		    asid)
			continue;
		r[n].start = iova;
		r[n++].size = size;
	}
	fclose(f);
	return n;
}

/*
 * The IOMMU maps what the IOTLB maps (the same IOVAs, merged where they
 * touch), and the runs went into it in few iommu_map_sg() calls, each one
 * IOMMU sync (for this emulated IOMMU, an exit to QEMU): at most one per 64
 * runs, rounded up, where there was one per run. The fragmented variants
 * map hundreds of runs.
 */
TEST_F(pci, iommu_mappings)
{
	struct vmdev_opts o = VARIANT_OPTS;
	const char *node = self->fns[0].node;
	int runs, mapped, max = 1 << 16;
	struct range *tlb, *mmu;
	long long maps = -1;

	tlb = calloc(max, sizeof(*tlb));
	mmu = calloc(max, sizeof(*mmu));
	ASSERT_TRUE(tlb && mmu);
	ASSERT_EQ(0, vmdev_open(&self->fns[0].d, node, &o));
	runs = debugfs_ranges(node, "mappings", tlb, max, NULL);
	mapped = debugfs_ranges(node, "iommu", mmu, max, &maps);
	ASSERT_LT(0, runs);
	ASSERT_LT(0, mapped);
	TH_LOG("%d runs, %d IOMMU mappings, %lld iommu_map_sg() calls",
	       runs, mapped, maps);
	if (variant->fragmented)
		EXPECT_LT(256, runs);
	EXPECT_LE(1, maps);
	EXPECT_GE((runs + 63) / 64, maps);

	runs = ranges_merge(tlb, runs);
	mapped = ranges_merge(mmu, mapped);
	ASSERT_EQ(runs, mapped);
	EXPECT_EQ(0, memcmp(tlb, mmu, runs * sizeof(*tlb)));
	free(tlb);
	free(mmu);
}

FIXTURE(pci_fn) {
	struct fn fns[2];
};

FIXTURE_SETUP(pci_fn)
{
	const char *why = NULL;
	int ret = fns_up(self->fns, &why);

	if (ret == -ENOENT)
		SKIP(return, "%s", why);
	ASSERT_EQ(0, ret);
}

FIXTURE_TEARDOWN(pci_fn)
{
	fn_down(&self->fns[0]);
	fn_down(&self->fns[1]);
}

TEST_F(pci_fn, type_and_instances)
{
	char parent[128], buf[256], uuid[37], want[64];
	int pairs;

	snprintf(parent, sizeof(parent), "/sys/class/mdev_bus/%s",
		 self->fns[0].bdf);
	ASSERT_EQ(0, vmdev_type_attr(parent, VMDEV_PCI_NET_TYPE, "device_api", buf,
				     sizeof(buf)));
	EXPECT_STREQ("vhost-vdpa", buf);
	ASSERT_EQ(0, vmdev_type_attr(parent, VMDEV_PCI_NET_TYPE, "description", buf,
				     sizeof(buf)));
	EXPECT_NE(NULL, strstr(buf, self->fns[0].bdf));
	EXPECT_NE(NULL, strstr(buf, "virtio net"));
	/* The machine's virtio-net-pci: its pairs and the control queue */
	pairs = atoi(vmdev_machine("VMRUN_ACCEL_PAIRS", "1"));
	snprintf(want, sizeof(want), ": %d queue pair%s and a control queue (%d vqs)",
		 pairs, pairs == 1 ? "" : "s", 2 * pairs + 1);
	EXPECT_NE(NULL, strstr(buf, want)) TH_LOG("%s", buf);
	/* One instance per function, taken by the fixture's mdev. */
	ASSERT_EQ(0, vmdev_type_attr(parent, VMDEV_PCI_NET_TYPE, "available_instances",
				     buf, sizeof(buf)));
	EXPECT_STREQ("0", buf);
	ASSERT_EQ(0, vmdev_uuid_random(uuid));
	EXPECT_EQ(-ENOSPC, vmdev_mdev_create(parent, VMDEV_PCI_NET_TYPE, uuid));
	ASSERT_EQ(0, vmdev_mdev_remove(self->fns[0].uuid));
	self->fns[0].uuid[0] = '\0';
	ASSERT_EQ(0, vmdev_type_attr(parent, VMDEV_PCI_NET_TYPE, "available_instances",
				     buf, sizeof(buf)));
	EXPECT_STREQ("1", buf);
}

/*
 * MSI-X: a vector per queue with a call eventfd and one for the config,
 * allocated at DRIVER_OK, moving with traffic, gone after the reset. A queue
 * without a call eventfd gets none.
 */
TEST_F(pci_fn, msix_vectors)
{
	struct vmdev_opts o = { .iova = 0x100000, .tx_no_call = true };
	struct vmdev *a = &self->fns[0].d, *b = &self->fns[1].d;
	char rx[64], tx[64], cfg[64];
	long long before;

	snprintf(rx, sizeof(rx), "vhost-mdev-pci[%s]-vq0", self->fns[1].bdf);
	snprintf(tx, sizeof(tx), "vhost-mdev-pci[%s]-vq1", self->fns[1].bdf);
	snprintf(cfg, sizeof(cfg), "vhost-mdev-pci[%s]-config",
		 self->fns[1].bdf);
	EXPECT_EQ(-1, vmdev_irq_count(rx));
	ASSERT_EQ(0, vmdev_open(a, self->fns[0].node, &o));
	ASSERT_EQ(0, vmdev_open(b, self->fns[1].node, &o));
	before = vmdev_irq_count(rx);
	EXPECT_LE(0, before);
	EXPECT_LE(0, vmdev_irq_count(cfg));
	EXPECT_EQ(-1, vmdev_irq_count(tx));
	ASSERT_EQ(0, stream(_metadata, a, b, 200, 0xa));
	EXPECT_LT(before, vmdev_irq_count(rx));
	EXPECT_LT(0, b->vqs[0].calls);

	ASSERT_EQ(0, vmdev_set_status(b->fd, 0));
	EXPECT_EQ(-1, vmdev_irq_count(rx));
	EXPECT_EQ(-1, vmdev_irq_count(cfg));
}

/*
 * vmdev_bypass_test's consumer, registered on the eventfd @call: its file
 * (reading it gives what the consumer saw), or -1.
 */
static int bypass_consumer(int call)
{
	char fd[16];
	int cons;

	cons = open("/dev/vmdev-bypass-test", O_RDWR);
	if (cons < 0)
		return -1;
	snprintf(fd, sizeof(fd), "%d", call);
	if (write(cons, fd, strlen(fd)) != (ssize_t)strlen(fd)) {
		close(cons);
		return -1;
	}
	return cons;
}

/*
 * The irq bypass producer of a queue (token: its call eventfd, irq: its
 * MSI-X vector) meets a consumer registered on that eventfd, as KVM's
 * irqfd would with posted interrupts; it leaves before the call eventfd
 * changes and before the reset frees the irq, and comes back with the
 * eventfd. vmdev_bypass_test records what the consumer saw.
 */
TEST_F(pci_fn, irq_bypass_producer)
{
	struct vmdev_opts o = { .iova = 0x100000 };
	struct vmdev *a = &self->fns[0].d;
	char name[64], log[1024], want[512];
	int cons, other, irq;
	ssize_t n;

	if (!vmdev_module_installed("vmdev_bypass_test"))
		SKIP(return, "vmdev_bypass_test.ko is not installed");
	ASSERT_EQ(0, vmdev_modprobe("vmdev_bypass_test"));
	ASSERT_EQ(0, vmdev_open(a, self->fns[0].node, &o));
	snprintf(name, sizeof(name), "vhost-mdev-pci[%s]-vq0",
		 self->fns[0].bdf);
	irq = vmdev_irq_number(name);
	ASSERT_LT(0, irq);

	/* A consumer on the receive queue's call eventfd: connected. */
	cons = bypass_consumer(a->vqs[0].call_fd);
	ASSERT_LE(0, cons);
	/* Another call eventfd, then the first again. */
	other = eventfd(0, 0);
	ASSERT_LE(0, other);
	ASSERT_EQ(0, vmdev_vring_file(a->fd, VHOST_SET_VRING_CALL, 0, other));
	ASSERT_EQ(0, vmdev_vring_file(a->fd, VHOST_SET_VRING_CALL, 0,
				      a->vqs[0].call_fd));
	/* Reset: the producer leaves while its irq is still requested. */
	ASSERT_EQ(0, vmdev_set_status(a->fd, 0));
	EXPECT_EQ(-1, vmdev_irq_number(name));

	n = read(cons, log, sizeof(log) - 1);
	ASSERT_LT(0, n);
	log[n] = '\0';
	snprintf(want, sizeof(want),
		 "add irq=%d requested=1\ndel irq=%d requested=1\n"
		 "add irq=%d requested=1\ndel irq=%d requested=1\n",
		 irq, irq, irq, irq);
	EXPECT_STREQ(want, log);
	close(cons);
	close(other);
}

TEST_F(pci_fn, doorbell_mmap)
{
	struct vmdev_opts o = { .iova = 0x100000 };
	struct vmdev *a = &self->fns[0].d;
	uint32_t nvqs;
	void *p;

	ASSERT_EQ(0, vmdev_open(a, self->fns[0].node, &o));
	ASSERT_EQ(0, vmdev_ioctl(a->fd, VHOST_VDPA_GET_VQS_COUNT, &nvqs));

	/* The good one, then one bad input at a time. */
	p = mmap(NULL, PAGE, PROT_WRITE, MAP_SHARED, a->fd, 1 * PAGE);
	ASSERT_NE(MAP_FAILED, p);
	/* It may never become readable. */
	EXPECT_EQ(-1, mprotect(p, PAGE, PROT_READ | PROT_WRITE));
	EXPECT_EQ(EACCES, errno);
	/* A doorbell is no memory to map for DMA (CVE-2021-46967). */
	EXPECT_EQ(-EFAULT, vmdev_iotlb_msg(a->fd, 0, VHOST_IOTLB_UPDATE,
					   1ULL << 32, PAGE, (uintptr_t)p,
					   VHOST_ACCESS_RW));
	munmap(p, PAGE);

	EXPECT_EQ(MAP_FAILED, mmap(NULL, 2 * PAGE, PROT_WRITE, MAP_SHARED,
				   a->fd, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, PAGE, PROT_WRITE, MAP_PRIVATE,
				   a->fd, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, PAGE, PROT_READ, MAP_SHARED, a->fd,
				   0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, PAGE, PROT_WRITE, MAP_SHARED, a->fd,
				   nvqs * PAGE));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, PAGE, PROT_WRITE, MAP_SHARED, a->fd,
				   (nvqs + 1) * PAGE));
	EXPECT_EQ(EINVAL, errno);
	p = mmap(NULL, PAGE, PROT_WRITE, MAP_SHARED, a->fd, (nvqs - 1) * PAGE);
	EXPECT_NE(MAP_FAILED, p);
	munmap(p, PAGE);
}

struct writer {
	void *doorbell;
	bool stop;	/* __atomic accesses: another thread sets it */
	unsigned long writes;
	bool bus;	/* a write got SIGBUS */
};

/* Write the doorbell until told to stop or until it answers SIGBUS. */
static void *doorbell_loop(void *arg)
{
	struct writer *w = arg;

	while (!__atomic_load_n(&w->stop, __ATOMIC_RELAXED)) {
		if (vmdev_bus_write(w->doorbell, 0)) {
			w->bus = true;
			break;
		}
		w->writes++;
	}
	return NULL;
}

static int remove_mdev(struct fn *f)
{
	int ret = vmdev_mdev_remove(f->uuid);

	f->uuid[0] = '\0';
	return ret;
}

static int unbind_fn(struct fn *f)
{
	f->uuid[0] = '\0';
	return vmdev_write_file("/sys/bus/pci/drivers/" VMDEV_PCI_DRV "/unbind", f->bdf);
}

/*
 * A thread writes the mapped doorbell of a session with 256 MiB pinned
 * while the mdev goes away (@gone: remove it, or unbind the function).
 * Unpinning takes a while; the doorbell must not come back meanwhile. After
 * the removal a write gets SIGBUS: nothing of the function's BAR is left
 * in the process.
 */
static void doorbell_revoked(struct __test_metadata *_metadata, struct fn *f,
			     int (*gone)(struct fn *f))
{
	struct vmdev_opts o = { .iova = 0x100000, .mem_size = 256 << 20 };
	struct rlimit rl = { 1UL << 30, 1UL << 30 };
	struct writer w = {};
	pthread_t t;

	ASSERT_EQ(0, setrlimit(RLIMIT_MEMLOCK, &rl));
	ASSERT_EQ(0, vmdev_bus_catch());
	ASSERT_EQ(0, vmdev_open(&f->d, f->node, &o));
	w.doorbell = mmap(NULL, PAGE, PROT_WRITE, MAP_SHARED, f->d.fd, PAGE);
	ASSERT_NE(MAP_FAILED, w.doorbell);
	ASSERT_EQ(0, vmdev_bus_write(w.doorbell, 1));

	ASSERT_EQ(0, pthread_create(&t, NULL, doorbell_loop, &w));
	usleep(100000);
	ASSERT_EQ(0, gone(f));
	__atomic_store_n(&w.stop, true, __ATOMIC_RELAXED);
	pthread_join(t, NULL);
	TH_LOG("%lu doorbell writes, then %s", w.writes,
	       w.bus ? "SIGBUS" : "still writable");

	EXPECT_EQ(-EFAULT, vmdev_bus_write(w.doorbell, 1));
	EXPECT_EQ(-ENODEV, vmdev_ioctl(f->d.fd, VHOST_GET_FEATURES, &o.features));
	munmap(w.doorbell, PAGE);
}

TEST_F_TIMEOUT(pci_fn, doorbell_revoked_by_remove, 120)
{
	doorbell_revoked(_metadata, &self->fns[0], remove_mdev);
}

TEST_F_TIMEOUT(pci_fn, doorbell_revoked_by_unbind, 120)
{
	doorbell_revoked(_metadata, &self->fns[0], unbind_fn);
}

/*
 * Only the owner has a doorbell. After VHOST_RESET_OWNER the old owner's
 * mapping is gone and a write gets SIGBUS, not the page back; while a new
 * owner (a child the file was passed to) runs the device, the old owner can
 * neither write its old mapping nor map a doorbell again.
 */
TEST_F(pci_fn, doorbell_only_for_the_owner)
{
	struct vmdev_opts o = { .iova = 0x100000 };
	struct vmdev *a = &self->fns[0].d;
	int up[2], done[2], status;
	char c = 0;
	void *p;
	pid_t pid;

	ASSERT_EQ(0, vmdev_bus_catch());
	ASSERT_EQ(0, vmdev_open(a, self->fns[0].node, &o));
	p = mmap(NULL, PAGE, PROT_WRITE, MAP_SHARED, a->fd, PAGE);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, vmdev_bus_write(p, 1));

	ASSERT_EQ(0, vmdev_ioctl(a->fd, VHOST_RESET_OWNER, NULL));
	EXPECT_EQ(-EFAULT, vmdev_bus_write(p, 1));
	/* No owner: nobody may map. */
	EXPECT_EQ(MAP_FAILED, mmap(NULL, PAGE, PROT_WRITE, MAP_SHARED, a->fd,
				   PAGE));
	EXPECT_EQ(EPERM, errno);

	ASSERT_EQ(0, pipe(up));
	ASSERT_EQ(0, pipe(done));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct vmdev d;
		void *q;
		int ret;

		/* The new owner brings the device up and maps its doorbell. */
		ret = vmdev_start(&d, a->fd, &o);
		q = ret ? MAP_FAILED : mmap(NULL, PAGE, PROT_WRITE, MAP_SHARED,
					   a->fd, PAGE);
		if (q != MAP_FAILED && vmdev_bus_write(q, 1))
			q = MAP_FAILED;
		c = q == MAP_FAILED;
		if (write(up[1], &c, 1) != 1 || read(done[0], &c, 1) != 1)
			_exit(2);
		_exit(c);
	}
	ASSERT_EQ(1, read(up[0], &c, 1));
	EXPECT_EQ(0, c);
	EXPECT_EQ(-EFAULT, vmdev_bus_write(p, 1));
	EXPECT_EQ(MAP_FAILED, mmap(NULL, PAGE, PROT_WRITE, MAP_SHARED, a->fd,
				   PAGE));
	EXPECT_EQ(EPERM, errno);
	c = 0;
	ASSERT_EQ(1, write(done[1], &c, 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, status);
	munmap(p, PAGE);
	close(up[0]);
	close(up[1]);
	close(done[0]);
	close(done[1]);
}

/*
 * A function-level reset through sysfs clears DRIVER_OK behind the driver's
 * back, but the vectors stay requested until the device is reset: the irq
 * bypass producer must still leave before its irq is freed.
 */
TEST_F(pci_fn, irq_bypass_producer_after_flr)
{
	struct vmdev_opts o = { .iova = 0x100000 };
	struct vmdev *a = &self->fns[0].d;
	char name[64], log[1024], want[256], path[128];
	uint8_t status;
	int cons, irq;
	ssize_t n;

	if (!vmdev_module_installed("vmdev_bypass_test"))
		SKIP(return, "vmdev_bypass_test.ko is not installed");
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/reset",
		 self->fns[0].bdf);
	if (access(path, W_OK))
		SKIP(return, "%s has no reset method", self->fns[0].bdf);
	ASSERT_EQ(0, vmdev_modprobe("vmdev_bypass_test"));
	ASSERT_EQ(0, vmdev_open(a, self->fns[0].node, &o));
	snprintf(name, sizeof(name), "vhost-mdev-pci[%s]-vq0",
		 self->fns[0].bdf);
	irq = vmdev_irq_number(name);
	ASSERT_LT(0, irq);
	cons = bypass_consumer(a->vqs[0].call_fd);
	ASSERT_LE(0, cons);

	ASSERT_EQ(0, vmdev_write_file(path, "1"));
	ASSERT_EQ(0, vmdev_get_status(a->fd, &status));
	EXPECT_EQ(0, status);
	EXPECT_EQ(irq, vmdev_irq_number(name));

	ASSERT_EQ(0, vmdev_set_status(a->fd, 0));
	EXPECT_EQ(-1, vmdev_irq_number(name));
	n = read(cons, log, sizeof(log) - 1);
	ASSERT_LT(0, n);
	log[n] = '\0';
	snprintf(want, sizeof(want),
		 "add irq=%d requested=1\ndel irq=%d requested=1\n", irq, irq);
	EXPECT_STREQ(want, log);
	close(cons);
}

/*
 * A transmit descriptor at an IOVA that is not mapped: the IOMMU refuses the
 * device's read (a DMAR fault for this function at that address), the host
 * stays healthy, and after a reset the function works again. (The emulated
 * function completes the descriptor with what it could not read.)
 */
TEST_F(pci_fn, unmapped_iova)
{
	struct vmdev_opts o = { .iova = 0x100000 };
	struct vmdev *a = &self->fns[0].d, *b = &self->fns[1].d;
	struct vring_desc seg = {
		.addr = htole64(1ULL << 36), .len = htole32(100),
	};
	uint8_t in[2048];
	char who[32];

	/* The emulated IOMMU reports the fault this test causes, once or more. */
	vmdev_expect_qemu("vtd_.*: detected .*iova=0x1000000000");
	vmdev_expect_qemu("New fault is not recorded due to compression of faults");
	ASSERT_EQ(0, vmdev_open(a, self->fns[0].node, &o));
	ASSERT_EQ(0, vmdev_open(b, self->fns[1].node, &o));
	ASSERT_EQ(0, stream(_metadata, a, b, 10, 0xa));

	ASSERT_EQ(0, vmdev_post_raw(a, 1, &seg, 1,
				    a->vqs[1].avail_idx & (a->vqs[1].num - 1)));
	usleep(500000);
	/* "[00:01.0] fault addr 0x1000000000": the PCI address, the IOVA. */
	snprintf(who, sizeof(who), "[%s]", self->fns[0].bdf + 5);
	EXPECT_TRUE(vmdev_klog_has(who, "fault addr 0x1000000000"));

	/* Reset, then a new session works. */
	vmdev_close(a);
	ASSERT_EQ(0, vmdev_open(a, self->fns[0].node, &o));
	while (vmdev_recv_wait(b, 0, in, sizeof(in), 300) > 0)
		;
	ASSERT_EQ(0, stream(_metadata, a, b, 100, 0xa));
}

/*
 * Reset in the middle of traffic: VHOST_GET_VRING_BASE afterwards says
 * where the transmit queue stopped (its used index: the function completes
 * in order); the queue may start there again (relayed: relay.c) or at 0.
 */
TEST_F(pci_fn, reset_mid_traffic)
{
	struct vmdev_opts o = { .iova = 0x100000 };
	struct vmdev *a = &self->fns[0].d, *b = &self->fns[1].d;
	struct vhost_vring_state s = { .index = 1 };
	uint8_t out[2048];
	unsigned int i;
	uint16_t used;

	ASSERT_EQ(0, vmdev_open(a, self->fns[0].node, &o));
	ASSERT_EQ(0, vmdev_open(b, self->fns[1].node, &o));
	ASSERT_EQ(0, stream(_metadata, a, b, 100, 0xa));
	for (i = 0; i < 32; i++)
		ASSERT_EQ(0, vmdev_send(a, 0, out, vmdev_frame(out, i, 0xa),
					true));
	ASSERT_EQ(0, vmdev_set_status(a->fd, 0));
	used = le16toh(__atomic_load_n(&a->vqs[1].used->idx,
				       __ATOMIC_ACQUIRE));
	ASSERT_EQ(0, vmdev_ioctl(a->fd, VHOST_GET_VRING_BASE, &s));
	EXPECT_EQ(used, s.num);
	EXPECT_LE(100, s.num);
	EXPECT_GE(132, s.num);
	EXPECT_EQ(0, vmdev_vring_state(a->fd, VHOST_SET_VRING_BASE, 1, s.num));
	EXPECT_EQ(0, vmdev_vring_state(a->fd, VHOST_SET_VRING_BASE, 1, 0));

	vmdev_close(a);
	ASSERT_EQ(0, vmdev_open(a, self->fns[0].node, &o));
	/* B still holds what A sent before the reset: drain it. */
	while (vmdev_recv_wait(b, 0, out, sizeof(out), 500) > 0)
		;
	ASSERT_EQ(0, stream(_metadata, a, b, 1000, 0xa));
}

/*
 * A packed ring's positions are the function's own: VHOST_GET_VRING_BASE
 * fails while it runs and after a reset (never a made-up number), only the
 * start state of a packed ring is accepted (in either encoding), and the
 * next session works.
 */
TEST_F(pci_fn, reset_mid_traffic_packed)
{
	struct vmdev_opts o = {
		.iova = 0x100000, .features = 1ULL << VIRTIO_F_RING_PACKED,
	};
	struct vmdev *a = &self->fns[0].d, *b = &self->fns[1].d;
	struct vhost_vring_state s = { .index = 1 };
	uint8_t out[2048];
	unsigned int i;

	ASSERT_EQ(0, fn_packed(&self->fns[0]));
	ASSERT_EQ(0, fn_packed(&self->fns[1]));
	ASSERT_EQ(0, vmdev_open(a, self->fns[0].node, &o));
	ASSERT_EQ(0, vmdev_open(b, self->fns[1].node, &o));
	ASSERT_TRUE(a->packed);
	ASSERT_EQ(0, stream(_metadata, a, b, 100, 0xa));
	EXPECT_EQ(-EOPNOTSUPP, vmdev_ioctl(a->fd, VHOST_GET_VRING_BASE, &s));
	for (i = 0; i < 32; i++)
		ASSERT_EQ(0, vmdev_send(a, 0, out, vmdev_frame(out, i, 0xa),
					true));
	ASSERT_EQ(0, vmdev_set_status(a->fd, 0));
	EXPECT_EQ(-EOPNOTSUPP, vmdev_ioctl(a->fd, VHOST_GET_VRING_BASE, &s));

	vmdev_close(a);
	/* Only a fresh ring's state: positions 0, both wrap counters set. */
	o.hold = true;
	ASSERT_EQ(0, vmdev_open(a, self->fns[0].node, &o));
	EXPECT_EQ(0x80008000, vmdev_vq_state(a, 1));
	s.num = 0x80008001;
	EXPECT_EQ(-EOPNOTSUPP, vmdev_ioctl(a->fd, VHOST_SET_VRING_BASE, &s));
	s.num = 0x8001;
	EXPECT_EQ(-EOPNOTSUPP, vmdev_ioctl(a->fd, VHOST_SET_VRING_BASE, &s));
	/* The older encoding without the used half (DPDK 22.11's). */
	s.num = 0x8000;
	EXPECT_EQ(0, vmdev_ioctl(a->fd, VHOST_SET_VRING_BASE, &s));
	s.num = 0x80008000;
	EXPECT_EQ(0, vmdev_ioctl(a->fd, VHOST_SET_VRING_BASE, &s));
	ASSERT_EQ(0, vmdev_go(a));
	while (vmdev_recv_wait(b, 0, out, sizeof(out), 500) > 0)
		;
	ASSERT_EQ(0, stream(_metadata, a, b, 1000, 0xa));
}

struct sender {
	struct vmdev *d;
	bool stop;	/* __atomic accesses: another thread sets it */
	unsigned long sent;
};

static void *send_loop(void *arg)
{
	struct sender *s = arg;
	uint8_t out[2048];

	while (!__atomic_load_n(&s->stop, __ATOMIC_RELAXED)) {
		if (!vmdev_send(s->d, 0, out, vmdev_frame(out, s->sent, 0xa),
				true))
			s->sent++;
		else
			vmdev_tx_reclaim(s->d, 0);
	}
	return NULL;
}

/*
 * Unbinding the PCI driver while a session runs traffic: the mdev goes, the
 * session is stopped (pages unpinned), the file answers -ENODEV, nothing
 * hangs; binding again works.
 */
TEST_F(pci_fn, unbind_while_open)
{
	struct vmdev_opts o = { .iova = 0x100000 };
	struct vmdev *a = &self->fns[0].d;
	struct sender s = { .d = a };
	unsigned int stale = 0;
	uint8_t out[2048];
	char path[128];
	uint64_t features;
	long pin0 = vmdev_vmpin_kb();
	pthread_t t;

	ASSERT_EQ(0, vmdev_open(a, self->fns[0].node, &o));
	ASSERT_EQ(0, pthread_create(&t, NULL, send_loop, &s));
	usleep(300000);
	snprintf(path, sizeof(path), "/sys/bus/pci/drivers/" VMDEV_PCI_DRV "/unbind");
	ASSERT_EQ(0, vmdev_write_file(path, self->fns[0].bdf));
	__atomic_store_n(&s.stop, true, __ATOMIC_RELAXED);
	pthread_join(t, NULL);
	EXPECT_LT(0, s.sent);

	EXPECT_EQ(-ENODEV, vmdev_ioctl(a->fd, VHOST_GET_FEATURES, &features));
	EXPECT_EQ(-ENODEV, vmdev_iotlb_msg(a->fd, 0, VHOST_IOTLB_INVALIDATE, 0,
					   PAGE, 0, 0));
	EXPECT_EQ(pin0, vmdev_vmpin_kb());
	EXPECT_NE(0, access(self->fns[0].node, F_OK));
	vmdev_close(a);

	self->fns[0].uuid[0] = '\0';
	ASSERT_EQ(0, fn_up(&self->fns[0]));
	ASSERT_EQ(0, vmdev_open(a, self->fns[0].node, &o));
	ASSERT_EQ(0, vmdev_open(&self->fns[1].d, self->fns[1].node, &o));
	/*
	 * What A sent while B had no session may wait in the network between
	 * them (a multi-queue tap keeps up to 1000 frames): B takes it first.
	 */
	while (vmdev_recv_wait(&self->fns[1].d, 0, out, sizeof(out), 500) > 0)
		stale++;
	TH_LOG("%u frames sent before the unbind, %u of them waited for B",
	       (unsigned int)s.sent, stale);
	ASSERT_EQ(0, stream(_metadata, a, &self->fns[1].d, 100, 0xb));
}

/* What must not become an accelerator: legacy-only, or not isolated. */
TEST(pci_refusals)
{
	char bdfs[4][16], parent[128], uuid[37], drv[64], log[1 << 16];
	int n, i, len;

	if (!vmdev_module_installed(VMDEV_PCI_DRV))
		SKIP(return, VMDEV_PCI_DRV ".ko is not installed");
	ASSERT_EQ(0, vmdev_modprobe(VMDEV_PCI_DRV));

	/* A legacy-only virtio function: probe refuses it, and says why. */
	n = vmdev_pci_find(VMDEV_LEGACY_ID, bdfs, 1);
	if (n) {
		EXPECT_EQ(-ENODEV, vmdev_pci_bind(bdfs[0], VMDEV_PCI_DRV));
		len = klogctl(3, log, sizeof(log) - 1);
		ASSERT_LT(0, len);
		log[len] = '\0';
		EXPECT_NE(NULL, strstr(log, "legacy-only virtio-pci function"));
		EXPECT_EQ(0, vmdev_pci_release(bdfs[0]));
	}

	/* Modern functions that share an IOMMU group: no mdev. */
	n = vmdev_pci_find(VMDEV_SHARED_GROUP_ID, bdfs, 4);
	for (i = 0; i < n; i++) {
		char path[128];

		snprintf(path, sizeof(path),
			 "/sys/bus/pci/devices/%s/iommu_group/devices/%s",
			 bdfs[i], bdfs[(i + 1) % n]);
		if (n > 1 && !access(path, F_OK))
			break;
	}
	if (i == n)
		SKIP(return, "no two virtio functions share an IOMMU group");
	ASSERT_EQ(0, vmdev_pci_bind(bdfs[i], VMDEV_PCI_DRV));
	vmdev_pci_driver(bdfs[i], drv, sizeof(drv));
	EXPECT_STREQ(VMDEV_PCI_DRV, drv);
	snprintf(parent, sizeof(parent), "/sys/class/mdev_bus/%s", bdfs[i]);
	ASSERT_EQ(0, vmdev_uuid_random(uuid));
	EXPECT_EQ(-EBUSY, vmdev_mdev_create(parent, "vhost_mdev_pci-virtio",
					    uuid));
	len = klogctl(3, log, sizeof(log) - 1);
	ASSERT_LT(0, len);
	log[len] = '\0';
	EXPECT_NE(NULL, strstr(log, "cannot be isolated"));
	EXPECT_EQ(0, vmdev_pci_release(bdfs[i]));
}

TEST_HARNESS_MAIN
