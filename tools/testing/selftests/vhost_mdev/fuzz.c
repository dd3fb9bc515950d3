// SPDX-License-Identifier: GPL-2.0-only
/*
 * A seeded fuzzer of the character device: random sequences of every
 * ioctl, IOTLB message, mmap, doorbell write, fork, close, reopen and mdev
 * removal, with the edge values that broke drivers like this one (queue
 * indexes nvqs-1, nvqs, nvqs+1 and 0xffffffff, IOVAs and sizes near 0 and
 * 2^64, odd write lengths, every perm and type byte, pointers to unmapped
 * and read-only memory). The same seed gives the same sequence:
 *
 *   make fuzz SEED=7 CALLS=200000        (or VMDEV_FUZZ_SEED / _CALLS)
 *
 * What it checks on every call: no errno outside the user-visible range
 * (a kernel-internal one like ENOTSUPP or ERESTARTSYS leaking out), a
 * write() that answers its exact length or an error, no positive ioctl
 * return. After the run: nothing pinned, every mdev removable, the
 * simulator unloadable. The runner checks the kernel log (KASAN, lockdep,
 * UBSAN, WARN, hung tasks).
 */
#include <stdarg.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "vmdev_test.h"

#define PAGE		4096UL
#define SCRATCH_PAGES	64
#define NEFD		4
#define NMAPS		8
#define HISTORY		32

struct fuzz {
	uint64_t rng;
	unsigned long call;
	bool pci;
	struct fn f;		/* the mdev (and the PCI function) */
	int fd;
	uint32_t nvqs;
	int efd[NEFD];
	uint8_t *scratch;	/* read-write, SCRATCH_PAGES */
	uint8_t *rdonly;	/* one read-only page */
	uint8_t *hole;		/* one page, unmapped */
	void *maps[NMAPS];	/* doorbell mappings */
	bool writable[NMAPS];	/* mapped with PROT_WRITE */
	char history[HISTORY][96];
	unsigned long bad;	/* calls that broke an invariant */
};

static uint64_t rnd(struct fuzz *z)
{
	/* splitmix64: one 64-bit state, every seed fine */
	uint64_t x = (z->rng += 0x9e3779b97f4a7c15ULL);

	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static unsigned int pick(struct fuzz *z, unsigned int n)
{
	return rnd(z) % n;
}

/* A queue index, mostly valid, often at the edges. */
static uint32_t vq_index(struct fuzz *z)
{
	uint32_t edges[] = { 0, 1, z->nvqs - 1, z->nvqs, z->nvqs + 1,
			     0xffff, 0x10000, 0x7fffffff, 0xffffffff };

	return pick(z, 3) ? pick(z, z->nvqs) : edges[pick(z, ARRAY_SIZE(edges))];
}

static uint64_t u64_edge(struct fuzz *z)
{
	static const uint64_t edges[] = {
		0, 1, 2, 0xff, 0x100, 0xfff, 0x1000, 0x1001, 0xffff, 0x10000,
		0x7fffffff, 0x80000000, 0xffffffff, 0x100000000ULL,
		1ULL << 47, 1ULL << 48, 1ULL << 63, ~0ULL, ~0ULL - 0xfff,
		~0ULL - 0x1000, ~0ULL - 1,
	};

	switch (pick(z, 4)) {
	case 0:
		return edges[pick(z, ARRAY_SIZE(edges))];
	case 1:
		return rnd(z) & ~0xfffULL;
	case 2:
		return pick(z, 64) * PAGE;
	default:
		return rnd(z);
	}
}

/* A user address: good scratch memory, or something a driver must refuse. */
static uint64_t uaddr(struct fuzz *z)
{
	switch (pick(z, 8)) {
	case 0:
		return (uintptr_t)z->rdonly;
	case 1:
		return (uintptr_t)z->hole;
	case 2:
		return 0;
	case 3:
		return 0xffff888000000000ULL;	/* the kernel's direct map */
	case 4:
		/* A doorbell is no memory to map (CVE-2021-46967). */
		return z->maps[0] ? (uintptr_t)z->maps[0] : u64_edge(z);
	default:
		return (uintptr_t)z->scratch + pick(z, SCRATCH_PAGES) * PAGE +
		       (pick(z, 8) ? 0 : pick(z, PAGE));
	}
}

/* The argument pointer of an ioctl: a filled buffer, or a bad pointer. */
static void *arg_ptr(struct fuzz *z, uint8_t *buf)
{
	switch (pick(z, 16)) {
	case 0:
		return NULL;
	case 1:
		return z->hole;
	case 2:
		return z->rdonly;
	case 3:
		/* The end of the buffer runs into the hole. */
		return z->hole - 4;
	default:
		return buf;
	}
}

static const unsigned long cmds[] = {
	VHOST_GET_FEATURES, VHOST_SET_FEATURES, VHOST_SET_OWNER,
	VHOST_RESET_OWNER, VHOST_SET_MEM_TABLE, VHOST_SET_LOG_BASE,
	VHOST_SET_LOG_FD, VHOST_SET_VRING_NUM, VHOST_SET_VRING_ADDR,
	VHOST_SET_VRING_BASE, VHOST_GET_VRING_BASE, VHOST_SET_VRING_KICK,
	VHOST_SET_VRING_CALL, VHOST_SET_VRING_ERR, VHOST_SET_VRING_ENDIAN,
	VHOST_GET_VRING_ENDIAN, VHOST_SET_VRING_BUSYLOOP_TIMEOUT,
	VHOST_GET_VRING_BUSYLOOP_TIMEOUT, VHOST_SET_BACKEND_FEATURES,
	VHOST_GET_BACKEND_FEATURES, VHOST_VDPA_GET_DEVICE_ID,
	VHOST_VDPA_GET_STATUS, VHOST_VDPA_SET_STATUS, VHOST_VDPA_GET_CONFIG,
	VHOST_VDPA_SET_CONFIG, VHOST_VDPA_SET_VRING_ENABLE,
	VHOST_VDPA_GET_VRING_NUM, VHOST_VDPA_SET_CONFIG_CALL,
	VHOST_VDPA_GET_IOVA_RANGE, VHOST_VDPA_GET_CONFIG_SIZE,
	VHOST_VDPA_GET_VQS_COUNT, VHOST_VDPA_GET_GROUP_NUM,
	VHOST_VDPA_GET_AS_NUM, VHOST_VDPA_GET_VRING_GROUP,
	VHOST_VDPA_SET_GROUP_ASID, VHOST_VDPA_SUSPEND, VHOST_VDPA_RESUME,
	VHOST_VDPA_GET_VRING_DESC_GROUP, VHOST_VDPA_GET_VRING_SIZE,
	VHOST_NET_SET_BACKEND,
};

static const uint8_t statuses[] = { 0, 1, 3, 0xb, 0xf, 0x4f, 0x80 };
static const uint32_t nregions[] = { 0, 1, 2, 3, 64, 65, 0xffff, 0xffffffff };
static const uint8_t iotlb_types[] = {
	VHOST_IOTLB_UPDATE, VHOST_IOTLB_INVALIDATE, VHOST_IOTLB_BATCH_BEGIN,
	VHOST_IOTLB_BATCH_END, VHOST_IOTLB_MISS, VHOST_IOTLB_ACCESS_FAIL,
};

/* Fill @buf for @cmd: its fields from the edge generators. */
static void fill(struct fuzz *z, unsigned long cmd, uint8_t *buf)
{
	uint32_t *w = (uint32_t *)buf;
	uint64_t *q = (uint64_t *)buf;
	unsigned int i;

	for (i = 0; i < 64; i++)
		q[i] = u64_edge(z);
	switch (cmd) {
	case VHOST_SET_VRING_NUM: case VHOST_SET_VRING_BASE:
	case VHOST_GET_VRING_BASE: case VHOST_VDPA_SET_VRING_ENABLE:
	case VHOST_VDPA_GET_VRING_GROUP: case VHOST_VDPA_GET_VRING_SIZE:
	case VHOST_VDPA_GET_VRING_DESC_GROUP: case VHOST_VDPA_SET_GROUP_ASID:
		w[0] = vq_index(z);
		w[1] = pick(z, 2) ? 1u << pick(z, 17) : (uint32_t)u64_edge(z);
		break;
	case VHOST_SET_VRING_KICK: case VHOST_SET_VRING_CALL:
	case VHOST_SET_VRING_ERR:
		w[0] = vq_index(z);
		w[1] = pick(z, 3) ? z->efd[pick(z, NEFD)] :
			pick(z, 2) ? -1 : (uint32_t)u64_edge(z);
		break;
	case VHOST_VDPA_SET_CONFIG_CALL:
		w[0] = pick(z, 3) ? z->efd[pick(z, NEFD)] : -1;
		break;
	case VHOST_SET_VRING_ADDR:
		w[0] = vq_index(z);
		w[1] = pick(z, 4) ? 0 : (uint32_t)u64_edge(z);	/* flags */
		for (i = 1; i < 5; i++)
			q[i] = pick(z, 2) ? pick(z, 16) * PAGE : u64_edge(z);
		break;
	case VHOST_SET_FEATURES: case VHOST_SET_BACKEND_FEATURES:
		q[0] = pick(z, 2) ? rnd(z) & rnd(z) : u64_edge(z);
		break;
	case VHOST_SET_LOG_BASE:
		q[0] = pick(z, 2) ? uaddr(z) : u64_edge(z);
		break;
	case VHOST_VDPA_SET_STATUS:
		buf[0] = pick(z, 2) ? statuses[pick(z, ARRAY_SIZE(statuses))] :
				      rnd(z);
		break;
	case VHOST_VDPA_GET_CONFIG: case VHOST_VDPA_SET_CONFIG:
		w[0] = pick(z, 2) ? pick(z, 40) : (uint32_t)u64_edge(z);
		w[1] = pick(z, 2) ? pick(z, 40) : (uint32_t)u64_edge(z);
		break;
	case VHOST_SET_MEM_TABLE:
		w[0] = nregions[pick(z, ARRAY_SIZE(nregions))];
		w[1] = pick(z, 4) ? 0 : (uint32_t)u64_edge(z);
		for (i = 0; i < 3; i++) {
			q[1 + 4 * i] = u64_edge(z);		/* gpa */
			q[2 + 4 * i] = pick(z, 2) ? pick(z, 16) * PAGE :
						    u64_edge(z);	/* size */
			q[3 + 4 * i] = uaddr(z);
			q[4 + 4 * i] = pick(z, 4) ? 0 : u64_edge(z);
		}
		break;
	}
}

static void note(struct fuzz *z, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(z->history[z->call % HISTORY], sizeof(z->history[0]), fmt,
		  ap);
	va_end(ap);
}

/* The invariants of one call's result. */
static void judge(struct __test_metadata *_metadata, struct fuzz *z, long ret,
		  int err, long want_len)
{
	bool ok;

	if (ret < 0)
		ok = err > 0 && err < 512;
	else
		ok = want_len < 0 ? ret == 0 : ret == want_len;
	if (ok)
		return;
	z->bad++;
	EXPECT_TRUE(ok) TH_LOG("call %lu (%s): returned %ld, errno %d",
			       z->call, z->history[z->call % HISTORY], ret,
			       err);
}

static void do_ioctl(struct __test_metadata *_metadata, struct fuzz *z)
{
	/*
	 * Room for any length the kernel may take: VHOST_VDPA_GET_CONFIG
	 * writes up to a page of a PCI function's configuration (the reads
	 * past its end are all ones) after the 8-byte header.
	 */
	uint64_t buf64[(8 + PAGE) / 8] = {};
	uint8_t *buf = (uint8_t *)buf64;
	unsigned long cmd;
	long ret;

	cmd = pick(z, 32) ? cmds[pick(z, ARRAY_SIZE(cmds))] :
			    _IOC(pick(z, 4), 0xaf, pick(z, 256), pick(z, 512));
	fill(z, cmd, buf);
	note(z, "ioctl %#lx [%x %x %llx]", cmd, ((uint32_t *)buf)[0],
	     ((uint32_t *)buf)[1], (unsigned long long)((uint64_t *)buf)[1]);
	ret = ioctl(z->fd, cmd, arg_ptr(z, buf));
	judge(_metadata, z, ret, errno, -1);
}

static void do_iotlb(struct __test_metadata *_metadata, struct fuzz *z)
{
	static const size_t lens[] = { 72, 72, 72, 72, 0, 1, 8, 48, 68, 71,
				       73, 80, 144, 4096 };
	uint64_t buf64[512] = {};
	uint8_t *buf = (uint8_t *)buf64;
	struct vhost_msg_v2 *m = (struct vhost_msg_v2 *)buf;
	size_t len = lens[pick(z, ARRAY_SIZE(lens))];
	long ret;

	m->type = pick(z, 8) ? VHOST_IOTLB_MSG_V2 :
		  pick(z, 2) ? VHOST_IOTLB_MSG : rnd(z);
	m->asid = pick(z, 4) ? 0 : pick(z, 2) ? 1 : (uint32_t)u64_edge(z);
	m->iotlb.type = pick(z, 8) ?
			iotlb_types[pick(z, ARRAY_SIZE(iotlb_types))] : rnd(z);
	m->iotlb.perm = pick(z, 4) ? VHOST_ACCESS_RW : rnd(z);
	m->iotlb.iova = pick(z, 2) ? pick(z, 64) * PAGE : u64_edge(z);
	m->iotlb.size = pick(z, 2) ? (1 + pick(z, 16)) * PAGE : u64_edge(z);
	m->iotlb.uaddr = uaddr(z);
	note(z, "write %zu type %u/%u perm %u asid %u iova %llx size %llx",
	     len, m->type, m->iotlb.type, m->iotlb.perm, m->asid,
	     (unsigned long long)m->iotlb.iova,
	     (unsigned long long)m->iotlb.size);
	ret = write(z->fd, pick(z, 32) ? (void *)buf : (void *)z->hole, len);
	judge(_metadata, z, ret, errno, len);
}

static void do_mmap(struct fuzz *z)
{
	static const size_t lens[] = { PAGE, PAGE, PAGE, 0, 2 * PAGE, 100 };
	static const int prots[] = { PROT_WRITE, PROT_WRITE, PROT_READ,
				     PROT_READ | PROT_WRITE, PROT_EXEC, 0 };
	unsigned int slot = pick(z, NMAPS);
	unsigned long pgoff = pick(z, 2) ? pick(z, z->nvqs) : vq_index(z);
	int prot;
	void *p;

	if (z->maps[slot]) {
		note(z, "munmap %p", z->maps[slot]);
		munmap(z->maps[slot], PAGE);
		z->maps[slot] = NULL;
		return;
	}
	note(z, "mmap pgoff %lu", pgoff);
	prot = prots[pick(z, ARRAY_SIZE(prots))];
	p = mmap(NULL, lens[pick(z, ARRAY_SIZE(lens))], prot,
		 pick(z, 8) ? MAP_SHARED : MAP_PRIVATE, z->fd,
		 (off_t)(pgoff & 0xfffff) * PAGE);
	if (p != MAP_FAILED) {
		z->maps[slot] = p;
		z->writable[slot] = prot & PROT_WRITE;
	}
}

static void do_doorbell(struct fuzz *z)
{
	unsigned int slot = pick(z, NMAPS);

	note(z, "doorbell %u", slot);
	/* A PROT_NONE mapping is allowed, and no doorbell to write. */
	if (z->maps[slot] && z->writable[slot])
		vmdev_bus_write(z->maps[slot], rnd(z));
}

static void do_kick(struct fuzz *z)
{
	uint64_t one = 1;

	note(z, "kick");
	if (write(z->efd[pick(z, NEFD)], &one, sizeof(one)) < 0)
		return;
}

/* A child shares the file (not the doorbells) and makes a few calls. */
static void do_fork(struct __test_metadata *_metadata, struct fuzz *z)
{
	int i, status;
	pid_t pid;

	note(z, "fork");
	pid = fork();
	if (pid < 0)
		return;
	if (!pid) {
		for (i = 0; i < 8; i++)
			do_ioctl(_metadata, z);
		_exit(z->bad ? 1 : 0);
	}
	z->rng += 8;
	EXPECT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, status)
		TH_LOG("call %lu: the child's calls broke an invariant",
		       z->call);
}

static void unmap_all(struct fuzz *z)
{
	unsigned int i;

	for (i = 0; i < NMAPS; i++) {
		if (z->maps[i])
			munmap(z->maps[i], PAGE);
		z->maps[i] = NULL;
	}
}

/* Close and reopen; now and then remove the mdev and make another. */
static int do_reopen(struct fuzz *z)
{
	char parent[128];
	bool remove = !pick(z, 4);
	int ret;

	note(z, remove ? "remove and recreate" : "close and reopen");
	unmap_all(z);
	close(z->fd);
	if (remove) {
		ret = vmdev_mdev_remove(z->f.uuid);
		if (!ret)
			ret = vmdev_uuid_random(z->f.uuid);
		snprintf(parent, sizeof(parent), "/sys/class/mdev_bus/%s",
			 z->f.bdf);
		if (!ret)
			ret = vmdev_mdev_create(z->pci ? parent :
						VMDEV_SIM_PARENT, z->pci ?
						VMDEV_PCI_NET_TYPE :
						VMDEV_SIM_NET_TYPE, z->f.uuid);
		if (!ret)
			ret = vmdev_mdev_node(z->f.uuid, z->f.node,
					      sizeof(z->f.node));
		if (ret)
			return ret;
	}
	z->fd = open(z->f.node, O_RDWR);
	return z->fd < 0 ? -errno : 0;
}

static unsigned long env_ul(const char *name, unsigned long def)
{
	const char *v = getenv(name);

	return v && *v ? strtoul(v, NULL, 0) : def;
}

FIXTURE(fuzz) {
	struct fuzz z;
};

FIXTURE_VARIANT(fuzz) {
	bool pci;
};

FIXTURE_VARIANT_ADD(fuzz, sim) { .pci = false };
FIXTURE_VARIANT_ADD(fuzz, pci) { .pci = true };

FIXTURE_SETUP(fuzz)
{
	struct rlimit rl = { 32 << 20, 32 << 20 };
	struct fuzz *z = &self->z;
	struct fn fns[2];
	const char *why;
	unsigned int i;
	int ret;

	memset(z, 0, sizeof(*z));
	z->fd = -1;
	vmdev_init(&z->f.d);
	z->pci = variant->pci;
	if (z->pci) {
		ret = fns_up(fns, &why);
		if (ret == -ENOENT)
			SKIP(return, "%s", why);
		ASSERT_EQ(0, ret);
		fn_down(&fns[1]);
		z->f = fns[0];
	} else {
		ret = vmdev_sim_mdev(z->f.uuid, z->f.node, sizeof(z->f.node));
		if (ret == -ENOENT)
			SKIP(return, "vhost_mdev_sim is not installed");
		ASSERT_EQ(0, ret);
	}
	ASSERT_EQ(0, setrlimit(RLIMIT_MEMLOCK, &rl));
	ASSERT_EQ(0, vmdev_bus_catch());
	z->scratch = mmap(NULL, (SCRATCH_PAGES + 2) * PAGE,
			  PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, z->scratch);
	z->rdonly = z->scratch + SCRATCH_PAGES * PAGE;
	z->hole = z->rdonly + PAGE;
	ASSERT_EQ(0, mprotect(z->rdonly, PAGE, PROT_READ));
	ASSERT_EQ(0, munmap(z->hole, PAGE));
	for (i = 0; i < NEFD; i++)
		z->efd[i] = eventfd(0, EFD_NONBLOCK);
	z->fd = open(z->f.node, O_RDWR);
	ASSERT_LE(0, z->fd);
	ASSERT_EQ(0, vmdev_ioctl(z->fd, VHOST_VDPA_GET_VQS_COUNT, &z->nvqs));
}

FIXTURE_TEARDOWN(fuzz)
{
	struct fuzz *z = &self->z;
	unsigned int i;

	unmap_all(z);
	if (z->fd >= 0)
		close(z->fd);
	for (i = 0; i < NEFD; i++)
		close(z->efd[i]);
	fn_down(&z->f);
}

TEST_F_TIMEOUT(fuzz, random_calls, 1800)
{
	struct fuzz *z = &self->z;
	unsigned long seed = env_ul("VMDEV_FUZZ_SEED", 1);
	unsigned long calls = env_ul("VMDEV_FUZZ_CALLS", 20000);
	long pin0 = vmdev_vmpin_kb();
	unsigned int roll;

	z->rng = seed + z->pci;
	TH_LOG("seed %lu, %lu calls", seed, calls);
	for (z->call = 0; z->call < calls; z->call++) {
		roll = pick(z, 1000);
		if (roll < 550)
			do_ioctl(_metadata, z);
		else if (roll < 850)
			do_iotlb(_metadata, z);
		else if (roll < 910)
			do_mmap(z);
		else if (roll < 960)
			do_doorbell(z);
		else if (roll < 990)
			do_kick(z);
		else if (roll < 995)
			do_fork(_metadata, z);
		else
			ASSERT_EQ(0, do_reopen(z))
				TH_LOG("call %lu", z->call);
		if (z->bad > 10)
			break;
	}
	EXPECT_EQ(0, z->bad);
	TH_LOG("%lu calls made", z->call);

	/* Whatever happened: closing releases it all. */
	unmap_all(z);
	close(z->fd);
	z->fd = -1;
	EXPECT_EQ(pin0, vmdev_vmpin_kb());
	EXPECT_EQ(0, vmdev_mdev_remove(z->f.uuid));
	z->f.uuid[0] = '\0';
}

TEST_HARNESS_MAIN
