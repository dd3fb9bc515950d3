// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fault sweep, after tools/testing/selftests/iommu/iommufd_fail_nth.c. For
 * one operation at a time (mdev create, open, IOTLB update, the end of an
 * IOTLB batch that remaps everything, memory table, DRIVER_OK,
 * SET_VRING_CALL, doorbell mmap, release, mdev remove), on the simulator
 * and on a PCI function: for n = 1, 2, ... build the device up to
 * just before the operation, make the nth fault point inside it fail (slab,
 * page allocation or user copy, through /proc/self/task/<tid>/fail-nth,
 * armed around that one system call only), then check the outcome. Either
 * the operation failed with a sensible errno and the device is exactly as
 * before (status, mappings, pinned pages, interrupts, mdevs) and the same
 * operation then succeeds, or it succeeded fully; in both cases the device
 * then moves traffic. The sweep of an operation ends at the first n with no
 * fault point left to fail. Needs FAULT_INJECTION (the debug flavour).
 */
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <linux/virtio_config.h>

#include "kselftest_harness.h"
#include "vmdev_test.h"

#define PAGE		4096UL
#define IOVA		0x100000ULL
#define NEW_IOVA	0x100000000ULL	/* 4 GiB */
#define NEW_PAGES	64
#define MAX_NTH		5000

enum operation {
	OP_CREATE, OP_OPEN, OP_IOTLB_UPDATE, OP_BATCH_END, OP_MEM_TABLE,
	OP_DRIVER_OK,
	OP_SET_VRING_CALL, OP_MMAP, OP_RELEASE, OP_REMOVE,
};

/* How far the device is brought up before each operation. */
enum stage { ST_PARENT, ST_MDEV, ST_OWNED, ST_HELD, ST_RUNNING };

static const enum stage op_stage[] = {
	[OP_CREATE] = ST_PARENT, [OP_OPEN] = ST_MDEV,
	[OP_IOTLB_UPDATE] = ST_OWNED, [OP_BATCH_END] = ST_OWNED,
	[OP_MEM_TABLE] = ST_OWNED,
	[OP_DRIVER_OK] = ST_HELD, [OP_SET_VRING_CALL] = ST_RUNNING,
	[OP_MMAP] = ST_RUNNING, [OP_RELEASE] = ST_RUNNING,
	[OP_REMOVE] = ST_RUNNING,
};

/* This thread's fail-nth file, opened ahead: opening it would fail too. */
static int fail_nth_fd = -1;

static int set_fail_nth(unsigned int nth)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%u", nth);

	return pwrite(fail_nth_fd, buf, len, 0) == len ? 0 : -errno;
}

/*
 * Disarm; return the countdown that was left (0: the nth fault fired). The
 * read may be the fault point the countdown reaches (its copy to user):
 * then the operation had none left, as iommufd's sweep reads it.
 */
static int take_fail_nth(void)
{
	char buf[16] = "";
	ssize_t n;

	n = pread(fail_nth_fd, buf, sizeof(buf) - 1, 0);
	if (n < 0 && errno == EFAULT) {
		n = 2;
		buf[0] = '1';
	}
	if (set_fail_nth(0) && set_fail_nth(0))
		return -1;
	return n > 0 ? atoi(buf) : -1;
}

/* [start, end) of kernel function @name, from /proc/kallsyms. */
static int kernel_function(const char *name, unsigned long *start,
			   unsigned long *end)
{
	char line[256], sym[128], type;
	unsigned long addr;
	FILE *f;

	*start = 0;
	*end = ~0UL;
	f = fopen("/proc/kallsyms", "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%lx %c %127s", &addr, &type, sym) == 3 &&
		    !strcmp(sym, name))
			*start = addr;
	rewind(f);
	while (*start && fgets(line, sizeof(line), f))
		if (sscanf(line, "%lx %c %127s", &addr, &type, sym) == 3 &&
		    addr > *start && addr < *end)
			*end = addr;
	fclose(f);
	return *start && *end != ~0UL ? 0 : -ENOENT;
}

/*
 * Faults are not injected into register_irq_proc(): it ignores its own
 * allocation failures and unregister_irq_proc() then WARNs about the
 * /proc/irq entries it never made (kernel/irq/proc.c, not this driver).
 * The stack trace filter leaves every caller below it alone.
 */
static int reject_register_irq_proc(void)
{
	static const char *const attrs[] = { "failslab", "fail_page_alloc" };
	unsigned long start, end;
	char path[128], val[32];
	unsigned int i;
	int ret;

	ret = kernel_function("register_irq_proc", &start, &end);
	for (i = 0; !ret && i < ARRAY_SIZE(attrs); i++) {
		snprintf(path, sizeof(path),
			 "/sys/kernel/debug/%s/reject-start", attrs[i]);
		snprintf(val, sizeof(val), "%#lx", start);
		ret = vmdev_write_file(path, val);
		snprintf(path, sizeof(path),
			 "/sys/kernel/debug/%s/reject-end", attrs[i]);
		snprintf(val, sizeof(val), "%#lx", end);
		if (!ret)
			ret = vmdev_write_file(path, val);
	}
	return ret;
}

/* Set every fault attribute up for a sweep of GFP_KERNEL allocations. */
static int setup_fault_injection(void)
{
	static const char *const files[][2] = {
		{ "/sys/kernel/debug/failslab/ignore-gfp-wait", "N" },
		{ "/sys/kernel/debug/failslab/verbose", "0" },
		{ "/sys/kernel/debug/fail_page_alloc/ignore-gfp-wait", "N" },
		{ "/sys/kernel/debug/fail_page_alloc/verbose", "0" },
		{ "/sys/kernel/debug/fail_usercopy/verbose", "0" },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(files); i++)
		if (vmdev_write_file(files[i][0], files[i][1]))
			return -1;
	return 0;
}

/* The errnos an injected fault may surface as. */
static bool sensible(int err)
{
	return err == -ENOMEM || err == -EFAULT || err == -ENOSPC;
}

/*
 * What a failed operation must leave as it was. Mappings and interrupts are
 * compared as the text the kernel shows for them.
 */
struct snap {
	int mdevs;
	long vmpin;
	int status;		/* -1 without an open file */
	char mappings[4096];
	char irqs[2048];
};

/* A whole small file, or "" if it cannot be read. */
static void slurp(const char *path, char *buf, size_t len)
{
	size_t n = 0;
	ssize_t r;
	int fd;

	buf[0] = '\0';
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return;
	while (n < len - 1 && (r = read(fd, buf + n, len - 1 - n)) > 0)
		n += r;
	buf[n] = '\0';
	close(fd);
}

/* The /proc/interrupts lines of the PCI parent's vectors, names only. */
static void pci_irqs(char *buf, size_t len)
{
	char line[512], *name;
	size_t n = 0;
	FILE *f;

	buf[0] = '\0';
	f = fopen("/proc/interrupts", "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		name = strstr(line, "vhost-mdev-pci[");
		if (name)
			n += snprintf(buf + n, len - n, "%s", name);
		if (n >= len)
			break;
	}
	fclose(f);
}

/* The device under test, and for PCI its peer across the hub. */
struct dut {
	bool pci;
	struct fn f;
	struct fn peer;
	int create_fd;		/* the type's create file, opened ahead */
	char kept[37];		/* the mdev kept across a sweep's steps */
	uint8_t *mem;		/* memory for the memory operations */
	struct vmdev_opts o;
};

static void snap(struct dut *u, struct snap *s)
{
	char path[128];
	uint8_t st;

	s->mdevs = vmdev_count_dir("/sys/bus/mdev/devices");
	s->vmpin = vmdev_vmpin_kb();
	s->status = -1;
	if (u->f.d.fd >= 0 && !vmdev_get_status(u->f.d.fd, &st))
		s->status = st;
	s->mappings[0] = '\0';
	if (u->f.node[0]) {
		snprintf(path, sizeof(path),
			 "/sys/kernel/debug/vhost_mdev/%s/mappings",
			 strrchr(u->f.node, '/') + 1);
		slurp(path, s->mappings, sizeof(s->mappings));
	}
	pci_irqs(s->irqs, sizeof(s->irqs));
}

static bool mdev_exists(const char *uuid)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s", uuid);
	return uuid[0] && vmdev_is_dir(path);
}

static const char *parent_of(struct dut *u, char *buf, size_t len)
{
	if (!u->pci)
		return VMDEV_SIM_PARENT;
	snprintf(buf, len, "/sys/class/mdev_bus/%s", u->f.bdf);
	return buf;
}

static const char *type_of(struct dut *u)
{
	return u->pci ? VMDEV_PCI_NET_TYPE : VMDEV_SIM_NET_TYPE;
}

static int create_file(struct dut *u)
{
	char parent[128], path[256];

	snprintf(path, sizeof(path), "%s/mdev_supported_types/%s/create",
		 parent_of(u, parent, sizeof(parent)), type_of(u));
	u->create_fd = open(path, O_WRONLY);
	return u->create_fd < 0 ? -errno : 0;
}

/* One frame through the device: looped back (sim) or to the peer (PCI). */
static int moves_traffic(struct dut *u)
{
	uint8_t out[128], in[2048];
	struct vmdev *rx = u->pci ? &u->peer.d : &u->f.d;
	int ret;

	memset(out, 0xff, 6);
	memcpy(out + 6, "\x02\x56\x4d\x00\x00\xfa", 6);
	out[12] = 0x88;
	out[13] = 0xb5;
	memset(out + 14, 0x5a, sizeof(out) - 14);
	ret = vmdev_send(&u->f.d, 0, out, sizeof(out), true);
	if (ret)
		return ret;
	ret = vmdev_recv_wait(rx, 0, in, sizeof(in), 5000);
	vmdev_tx_reclaim(&u->f.d, 0);
	if (ret < 0)
		return ret;
	return ret == sizeof(out) && !memcmp(in, out, sizeof(out)) ? 0 : -EIO;
}

/* Bring the device under test up to @stage; 0 or -errno. */
static int build(struct dut *u, enum stage stage)
{
	uint64_t backend = (1ULL << VHOST_BACKEND_F_IOTLB_MSG_V2) |
			   (1ULL << VHOST_BACKEND_F_IOTLB_BATCH);
	int ret;

	vmdev_init(&u->f.d);
	u->f.node[0] = '\0';
	u->f.uuid[0] = '\0';
	ret = create_file(u);
	if (ret || stage == ST_PARENT)
		return ret;
	if (u->kept[0]) {
		snprintf(u->f.uuid, sizeof(u->f.uuid), "%s", u->kept);
	} else {
		ret = vmdev_uuid_random(u->f.uuid);
		if (!ret && write(u->create_fd, u->f.uuid, 36) != 36)
			ret = -errno;
	}
	if (!ret)
		ret = vmdev_mdev_node(u->f.uuid, u->f.node, sizeof(u->f.node));
	if (ret || stage == ST_MDEV)
		return ret;
	if (stage == ST_OWNED) {
		u->f.d.fd = open(u->f.node, O_RDWR);
		if (u->f.d.fd < 0)
			return -errno;
		ret = vmdev_ioctl(u->f.d.fd, VHOST_SET_OWNER, NULL);
		if (!ret)
			ret = vmdev_ioctl(u->f.d.fd, VHOST_SET_BACKEND_FEATURES,
					  &backend);
		/* Something mapped already, which must stay. */
		if (!ret)
			ret = vmdev_iotlb_msg(u->f.d.fd, 0, VHOST_IOTLB_UPDATE,
					      IOVA, 16 * PAGE,
					      (uintptr_t)u->mem,
					      VHOST_ACCESS_RW);
		return ret < 0 ? ret : 0;
	}
	u->o.hold = stage == ST_HELD;
	return vmdev_open(&u->f.d, u->f.node, &u->o);
}

/* Close the device; remove its mdev unless the sweep keeps it. */
static void teardown(struct dut *u)
{
	vmdev_close(&u->f.d);
	if (strcmp(u->f.uuid, u->kept) && mdev_exists(u->f.uuid))
		vmdev_mdev_remove(u->f.uuid);
	u->f.uuid[0] = '\0';
	u->f.node[0] = '\0';
	if (u->create_fd >= 0)
		close(u->create_fd);
	u->create_fd = -1;
}

/*
 * DPDK's remap, all but its BATCH_END, which is the operation: a failed
 * BATCH_END leaves this batch open, as it was, and the retry ends it.
 */
static int open_remap_batch(struct dut *u)
{
	int fd = u->f.d.fd;

	if (vmdev_iotlb_msg(fd, 0, VHOST_IOTLB_BATCH_BEGIN, 0, 0, 0, 0) < 0 ||
	    vmdev_iotlb_msg(fd, 0, VHOST_IOTLB_INVALIDATE, 0, UINT64_MAX, 0,
			    0) < 0 ||
	    vmdev_iotlb_msg(fd, 0, VHOST_IOTLB_UPDATE, IOVA, 16 * PAGE,
			    (uintptr_t)u->mem, VHOST_ACCESS_RW) < 0 ||
	    vmdev_iotlb_msg(fd, 0, VHOST_IOTLB_UPDATE, NEW_IOVA,
			    NEW_PAGES * PAGE, (uintptr_t)u->mem,
			    VHOST_ACCESS_RW) < 0)
		return -EIO;
	return 0;
}

/* The operation under test: one system call, injection armed around it. */
static int run_op(struct dut *u, enum operation op, unsigned int nth, int *left,
		  void **doorbell, int *efd)
{
	struct {
		struct vhost_memory hdr;
		struct vhost_memory_region r[2];
	} table = {
		.hdr.nregions = 2,
		.r = {
			{ NEW_IOVA, NEW_PAGES / 2 * PAGE, (uintptr_t)u->mem },
			{ NEW_IOVA + (1ULL << 30), NEW_PAGES / 2 * PAGE,
			  (uintptr_t)u->mem + NEW_PAGES / 2 * PAGE },
		},
	};
	char path[128];
	uint8_t status;
	int fd = u->f.d.fd, rfd = -1, ret;
	long n;

	if (op == OP_OPEN)
		vmdev_init(&u->f.d);
	if (op == OP_REMOVE) {
		snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s/remove",
			 u->f.uuid);
		rfd = open(path, O_WRONLY);
		if (rfd < 0)
			return -errno;
	}
	if (op == OP_DRIVER_OK && vmdev_get_status(fd, &status))
		return -EIO;
	if (op == OP_SET_VRING_CALL)
		*efd = eventfd(0, EFD_NONBLOCK);
	if (op == OP_CREATE && vmdev_uuid_random(u->f.uuid))
		return -EIO;
	set_fail_nth(nth);
	switch (op) {
	case OP_CREATE:
		ret = write(u->create_fd, u->f.uuid, 36) == 36 ? 0 : -errno;
		break;
	case OP_OPEN:
		u->f.d.fd = open(u->f.node, O_RDWR);
		ret = u->f.d.fd < 0 ? -errno : 0;
		break;
	case OP_IOTLB_UPDATE:
		n = vmdev_iotlb_msg(fd, 0, VHOST_IOTLB_UPDATE, NEW_IOVA,
				    NEW_PAGES * PAGE, (uintptr_t)u->mem,
				    VHOST_ACCESS_RW);
		ret = n < 0 ? n : 0;
		break;
	case OP_BATCH_END:
		n = vmdev_iotlb_msg(fd, 0, VHOST_IOTLB_BATCH_END, 0, 0, 0, 0);
		ret = n < 0 ? n : 0;
		break;
	case OP_MEM_TABLE:
		ret = ioctl(fd, VHOST_SET_MEM_TABLE, &table) ? -errno : 0;
		break;
	case OP_DRIVER_OK:
		status |= VIRTIO_CONFIG_S_DRIVER_OK;
		ret = ioctl(fd, VHOST_VDPA_SET_STATUS, &status) ? -errno : 0;
		/* A device that could not start leaves DRIVER_OK clear. */
		if (!ret && !vmdev_get_status(fd, &status) &&
		    !(status & VIRTIO_CONFIG_S_DRIVER_OK))
			ret = 1;
		break;
	case OP_SET_VRING_CALL:
		ret = vmdev_vring_file(fd, VHOST_SET_VRING_CALL, 0, *efd);
		break;
	case OP_MMAP:
		*doorbell = mmap(NULL, PAGE, PROT_WRITE, MAP_SHARED, fd, PAGE);
		ret = *doorbell == MAP_FAILED ? -errno : 0;
		break;
	case OP_RELEASE:
		ret = close(fd) ? -errno : 0;
		break;
	case OP_REMOVE:
		ret = write(rfd, "1", 1) == 1 ? 0 : -errno;
		break;
	}
	*left = take_fail_nth();
	if (rfd >= 0)
		close(rfd);
	if (op == OP_RELEASE)
		u->f.d.fd = -1;
	return ret;
}

FIXTURE(fail_nth) {
	struct dut u;
	long pin0;
};

FIXTURE_VARIANT(fail_nth) {
	bool pci;
	enum operation op;
};

FIXTURE_VARIANT_ADD(fail_nth, sim_create) { .pci = false, .op = OP_CREATE };
FIXTURE_VARIANT_ADD(fail_nth, sim_open) { .pci = false, .op = OP_OPEN };
FIXTURE_VARIANT_ADD(fail_nth, sim_iotlb_update) { .pci = false, .op = OP_IOTLB_UPDATE };
FIXTURE_VARIANT_ADD(fail_nth, sim_batch_end) { .pci = false, .op = OP_BATCH_END };
FIXTURE_VARIANT_ADD(fail_nth, sim_mem_table) { .pci = false, .op = OP_MEM_TABLE };
FIXTURE_VARIANT_ADD(fail_nth, sim_driver_ok) { .pci = false, .op = OP_DRIVER_OK };
FIXTURE_VARIANT_ADD(fail_nth, sim_set_vring_call) { .pci = false, .op = OP_SET_VRING_CALL };
FIXTURE_VARIANT_ADD(fail_nth, sim_release) { .pci = false, .op = OP_RELEASE };
FIXTURE_VARIANT_ADD(fail_nth, sim_remove) { .pci = false, .op = OP_REMOVE };
FIXTURE_VARIANT_ADD(fail_nth, pci_create) { .pci = true, .op = OP_CREATE };
FIXTURE_VARIANT_ADD(fail_nth, pci_open) { .pci = true, .op = OP_OPEN };
FIXTURE_VARIANT_ADD(fail_nth, pci_iotlb_update) { .pci = true, .op = OP_IOTLB_UPDATE };
FIXTURE_VARIANT_ADD(fail_nth, pci_batch_end) { .pci = true, .op = OP_BATCH_END };
FIXTURE_VARIANT_ADD(fail_nth, pci_mem_table) { .pci = true, .op = OP_MEM_TABLE };
FIXTURE_VARIANT_ADD(fail_nth, pci_driver_ok) { .pci = true, .op = OP_DRIVER_OK };
FIXTURE_VARIANT_ADD(fail_nth, pci_set_vring_call) { .pci = true, .op = OP_SET_VRING_CALL };
FIXTURE_VARIANT_ADD(fail_nth, pci_mmap) { .pci = true, .op = OP_MMAP };
FIXTURE_VARIANT_ADD(fail_nth, pci_release) { .pci = true, .op = OP_RELEASE };
FIXTURE_VARIANT_ADD(fail_nth, pci_remove) { .pci = true, .op = OP_REMOVE };

FIXTURE_SETUP(fail_nth)
{
	struct rlimit rl = { 64 << 20, 64 << 20 };
	struct dut *u = &self->u;
	struct fn fns[2];
	const char *why;
	char path[64];
	int ret;

	memset(u, 0, sizeof(*u));
	u->create_fd = -1;
	vmdev_init(&u->f.d);
	vmdev_init(&u->peer.d);
	snprintf(path, sizeof(path), "/proc/self/task/%ld/fail-nth",
		 (long)syscall(SYS_gettid));
	if (fail_nth_fd < 0)
		fail_nth_fd = open(path, O_RDWR);
	if (fail_nth_fd < 0)
		SKIP(return, "this kernel has no fault injection (FAULT_INJECTION)");
	if (setup_fault_injection())
		SKIP(return, "no failslab / fail_page_alloc in debugfs");
	/* Only the PCI parent requests irqs. */
	if (variant->pci && reject_register_irq_proc())
		SKIP(return, "no fault injection stack trace filter %s",
		     "(FAULT_INJECTION_STACKTRACE_FILTER)");
	ASSERT_EQ(0, setrlimit(RLIMIT_MEMLOCK, &rl));
	u->pci = variant->pci;
	u->o = (struct vmdev_opts) { .iova = IOVA, .num = 64 };
	if (u->pci) {
		ret = fns_up(fns, &why);
		if (ret == -ENOENT)
			SKIP(return, "%s", why);
		ASSERT_EQ(0, ret);
		/* The sweep makes its own mdevs on function A; B receives. */
		ASSERT_EQ(0, vmdev_mdev_remove(fns[0].uuid));
		fns[0].uuid[0] = '\0';
		u->f = fns[0];
		u->peer = fns[1];
		ASSERT_EQ(0, vmdev_open(&u->peer.d, u->peer.node, &u->o));
	} else {
		if (!vmdev_module_installed("vhost_mdev_sim"))
			SKIP(return, "vhost_mdev_sim is not installed");
		ASSERT_EQ(0, vmdev_modprobe("vhost_mdev_sim"));
	}
	u->mem = mmap(NULL, NEW_PAGES * PAGE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, u->mem);
	self->pin0 = vmdev_vmpin_kb();
}

FIXTURE_TEARDOWN(fail_nth)
{
	teardown(&self->u);
	if (self->u.kept[0] && mdev_exists(self->u.kept))
		vmdev_mdev_remove(self->u.kept);
	if (self->u.pci) {
		vmdev_close(&self->u.peer.d);
		fn_down(&self->u.peer);
	}
}

/*
 * The operation failed: nothing changed, and doing it again now works. The
 * retry is the operation itself, without injection.
 */
static void check_unchanged_then_retry(struct __test_metadata *_metadata,
				       struct dut *u, enum operation op,
				       const struct snap *before,
				       void **doorbell, int *efd)
{
	struct snap *after = malloc(sizeof(*after));
	int left;

	ASSERT_NE(NULL, after);
	snap(u, after);
	EXPECT_EQ(before->mdevs, after->mdevs);
	EXPECT_EQ(before->vmpin, after->vmpin);
	EXPECT_EQ(before->status, after->status);
	EXPECT_STREQ(before->mappings, after->mappings);
	EXPECT_STREQ(before->irqs, after->irqs);
	free(after);
	if (*efd >= 0)
		close(*efd);
	*efd = -1;
	ASSERT_EQ(0, run_op(u, op, 0, &left, doorbell, efd))
		TH_LOG("the retry failed");
}

/* The operation took effect: check it did, and the device works. */
static void check_done(struct __test_metadata *_metadata, struct dut *u,
		       enum operation op, void *doorbell, int efd)
{
	char path[128];
	uint8_t st;

	switch (op) {
	case OP_CREATE:
		ASSERT_EQ(0, vmdev_mdev_node(u->f.uuid, u->f.node,
					     sizeof(u->f.node)));
		ASSERT_EQ(0, vmdev_open(&u->f.d, u->f.node, &u->o));
		break;
	case OP_OPEN:
		ASSERT_EQ(0, vmdev_start(&u->f.d, u->f.d.fd, &u->o));
		break;
	case OP_IOTLB_UPDATE:
	case OP_BATCH_END:
	case OP_MEM_TABLE:
		snprintf(path, sizeof(path),
			 "/sys/kernel/debug/vhost_mdev/%s/mappings",
			 strrchr(u->f.node, '/') + 1);
		{
			char m[4096];

			slurp(path, m, sizeof(m));
			ASSERT_NE(NULL, strstr(m, " 0x100000000 "))
				TH_LOG("%s", m);
		}
		/* Memory ops: traffic is the other sweeps' business. */
		return;
	case OP_DRIVER_OK:
		ASSERT_EQ(0, vmdev_get_status(u->f.d.fd, &st));
		ASSERT_TRUE(st & VIRTIO_CONFIG_S_DRIVER_OK);
		ASSERT_EQ(0, vmdev_go(&u->f.d));
		break;
	case OP_SET_VRING_CALL:
		/* Interrupts come on the new eventfd now. */
		close(u->f.d.vqs[0].call_fd);
		u->f.d.vqs[0].call_fd = efd;
		break;
	case OP_MMAP:
		u->f.d.vqs[1].doorbell = doorbell;
		break;
	case OP_RELEASE:
		/* All released: the node opens and works again. */
		ASSERT_EQ(0, vmdev_open(&u->f.d, u->f.node, &u->o));
		break;
	case OP_REMOVE:
		{
			uint64_t features;

			ASSERT_FALSE(mdev_exists(u->f.uuid));
			EXPECT_EQ(-ENODEV, vmdev_ioctl(u->f.d.fd,
						       VHOST_GET_FEATURES,
						       &features));
			u->f.uuid[0] = '\0';
			return;
		}
	}
	ASSERT_EQ(0, moves_traffic(u));
}

TEST_F_TIMEOUT(fail_nth, sweep, 1800)
{
	struct dut *u = &self->u;
	enum operation op = variant->op;
	unsigned int nth, failed = 0, survived = 0;
	struct snap *before = malloc(sizeof(*before));
	void *doorbell;
	int ret, left, efd;

	ASSERT_NE(NULL, before);
	for (nth = 1; nth < MAX_NTH; nth++) {
		doorbell = MAP_FAILED;
		efd = -1;
		ASSERT_EQ(0, build(u, op_stage[op])) TH_LOG("nth %u", nth);
		/*
		 * The operations past the mdev's creation and before its
		 * removal run on one mdev, its release resetting it between
		 * steps (an mdev made and removed for each step only took
		 * time: creating and removing have sweeps of their own).
		 */
		if (op != OP_CREATE && op != OP_REMOVE)
			snprintf(u->kept, sizeof(u->kept), "%s", u->f.uuid);
		if (op == OP_BATCH_END)
			ASSERT_EQ(0, open_remap_batch(u)) TH_LOG("nth %u", nth);
		snap(u, before);
		ret = run_op(u, op, nth, &left, &doorbell, &efd);
		ASSERT_LE(0, left);
		if (ret) {
			failed++;
			/* 1: refused through the status, as virtio does. */
			EXPECT_TRUE(ret == 1 || sensible(ret))
				TH_LOG("nth %u: %s", nth, strerror(-ret));
			check_unchanged_then_retry(_metadata, u, op, before,
						   &doorbell, &efd);
		} else if (!left) {
			survived++;
		}
		check_done(_metadata, u, op, doorbell, efd);
		/* The library unmaps the doorbell check_done() gave it. */
		teardown(u);
		ASSERT_EQ(self->pin0, vmdev_vmpin_kb()) TH_LOG("nth %u", nth);
		ASSERT_EQ((u->pci ? 1 : 0) + !!u->kept[0],
			  vmdev_count_dir("/sys/bus/mdev/devices"))
			TH_LOG("nth %u: an mdev was left behind", nth);
		if (left > 0)
			break;	/* no fault point left to fail */
	}
	ASSERT_LT(nth, MAX_NTH);
	TH_LOG("%u fault points: %u failed the operation cleanly, %u were survived",
	       nth - 1, failed, survived);
	free(before);
}

TEST_HARNESS_MAIN
