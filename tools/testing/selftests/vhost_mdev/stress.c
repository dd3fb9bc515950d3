// SPDX-License-Identifier: GPL-2.0-only
/*
 * Concurrency stress: threads of the owner race every kind of call on one
 * device (reset and bring-up, IOTLB update/invalidate, call and kick eventfd
 * swaps, config reads, kicks, doorbell writes), then the session ends under
 * them (close, mdev removal, PCI unbind) while they go on. Bounded in time
 * and count. Errors from the calls are expected (EBUSY, EEXIST, ENODEV...);
 * what must hold is that nothing crashes, hangs or leaks: the threads end,
 * nothing stays pinned, the device and modules can go away, and the runner
 * finds no lockdep, KASAN or hung-task report in the kernel log.
 */
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <linux/virtio_config.h>

#include "kselftest_harness.h"
#include "vmdev_test.h"

#define RACE_MS		3000
#define MAX_ITER	1000000
#define SCRATCH		(16 * 4096UL)
#define SCRATCH_IOVA	0x10000000000ULL	/* 1 TiB, far from the rings */

enum end_by { END_CLOSE, END_REMOVE, END_UNBIND };

struct race {
	struct fn f;		/* the function (PCI) or just the mdev (sim) */
	bool pci;
	int fd;
	int efd[2];
	uint8_t *scratch;
	void *doorbell;
	bool stop;		/* __atomic: the main thread sets it */
	bool gone;		/* __atomic: the session is ending */
	unsigned long iters[8];
	unsigned long during[8];	/* iters when the session ended */
};

static bool going(struct race *r, int role)
{
	return !__atomic_load_n(&r->stop, __ATOMIC_RELAXED) &&
	       r->iters[role]++ < MAX_ITER;
}

/* Reset, then bring the device back to DRIVER_OK with the library's rings. */
static void *role_status(void *arg)
{
	struct race *r = arg;
	struct vmdev *d = &r->f.d;
	unsigned int q;
	uint8_t st;

	while (going(r, 0)) {
		vmdev_set_status(r->fd, 0);
		vmdev_set_status(r->fd, VIRTIO_CONFIG_S_ACKNOWLEDGE);
		vmdev_set_status(r->fd, VIRTIO_CONFIG_S_ACKNOWLEDGE |
			       VIRTIO_CONFIG_S_DRIVER);
		vmdev_ioctl(r->fd, VHOST_SET_FEATURES, &d->features);
		vmdev_set_status(r->fd, 0xb);
		for (q = 0; q < VMDEV_MAX_VQS; q++) {
			if (!d->vqs[q].num)
				continue;
			vmdev_vq_program(d, q);
			vmdev_vring_state(r->fd, VHOST_VDPA_SET_VRING_ENABLE, q,
					  1);
		}
		vmdev_set_status(r->fd, 0xf);
		vmdev_get_status(r->fd, &st);
	}
	return NULL;
}

static void *role_iotlb(void *arg)
{
	struct race *r = arg;

	while (going(r, 1)) {
		vmdev_iotlb_msg(r->fd, 0, VHOST_IOTLB_UPDATE, SCRATCH_IOVA,
				SCRATCH, (uintptr_t)r->scratch,
				VHOST_ACCESS_RW);
		vmdev_iotlb_msg(r->fd, 0, VHOST_IOTLB_INVALIDATE, SCRATCH_IOVA,
				SCRATCH, 0, 0);
	}
	return NULL;
}

static void *role_call(void *arg)
{
	struct race *r = arg;
	unsigned int n = 0;

	while (going(r, 2)) {
		vmdev_vring_file(r->fd, VHOST_SET_VRING_CALL, n % 2,
				 n % 3 == 2 ? -1 : r->efd[n % 2]);
		vmdev_ioctl(r->fd, VHOST_VDPA_SET_CONFIG_CALL,
			    &r->efd[n % 2]);
		n++;
	}
	return NULL;
}

static void *role_kick_fd(void *arg)
{
	struct race *r = arg;
	unsigned int n = 0;

	while (going(r, 3)) {
		vmdev_vring_file(r->fd, VHOST_SET_VRING_KICK, n % 2,
				 n % 3 == 2 ? -1 : r->efd[(n + 1) % 2]);
		n++;
	}
	return NULL;
}

static void *role_config(void *arg)
{
	struct race *r = arg;
	struct {
		struct vhost_vdpa_config c;
		uint8_t buf[12];
	} cfg = { .c = { .off = 0, .len = 12 } };
	struct vhost_vring_state s = { .index = 1 };
	uint64_t log = (uintptr_t)r->scratch, features;
	unsigned int n = 0;

	while (going(r, 4)) {
		vmdev_ioctl(r->fd, VHOST_VDPA_GET_CONFIG, &cfg);
		vmdev_ioctl(r->fd, VHOST_GET_VRING_BASE, &s);
		/* Dirty logging on and off, the log swapped, under traffic. */
		features = r->f.d.features | (n % 2 ? 1ULL << VHOST_F_LOG_ALL : 0);
		vmdev_ioctl(r->fd, VHOST_SET_LOG_BASE, &log);
		vmdev_ioctl(r->fd, VHOST_SET_FEATURES, &features);
		n++;
	}
	return NULL;
}

/* Kicks through both eventfds, whichever queue they are bound to now. */
static void *role_kick(void *arg)
{
	struct race *r = arg;
	uint64_t one = 1;

	while (going(r, 5)) {
		if (write(r->efd[r->iters[5] % 2], &one, sizeof(one)) < 0)
			break;
		if (r->iters[5] % 64 == 0)
			usleep(100);
	}
	return NULL;
}

/* The mapped doorbell of the transmit queue; SIGBUS once the session ends. */
static void *role_doorbell(void *arg)
{
	struct race *r = arg;

	while (r->doorbell && going(r, 6)) {
		if (vmdev_bus_write(r->doorbell, 1)) {
			if (!__atomic_load_n(&r->gone, __ATOMIC_RELAXED))
				r->iters[7]++;	/* SIGBUS during the session */
			break;
		}
	}
	return NULL;
}

static void *(*const roles[])(void *) = {
	role_status, role_iotlb, role_call, role_kick_fd, role_config,
	role_kick, role_doorbell,
};

FIXTURE(stress) {
	struct race r;
};

FIXTURE_VARIANT(stress) {
	bool pci;
	enum end_by end;
};

FIXTURE_VARIANT_ADD(stress, sim_close) { .end = END_CLOSE };
FIXTURE_VARIANT_ADD(stress, sim_remove) { .end = END_REMOVE };
FIXTURE_VARIANT_ADD(stress, pci_close) { .pci = true, .end = END_CLOSE };
FIXTURE_VARIANT_ADD(stress, pci_remove) { .pci = true, .end = END_REMOVE };
FIXTURE_VARIANT_ADD(stress, pci_unbind) { .pci = true, .end = END_UNBIND };

FIXTURE_SETUP(stress)
{
	struct rlimit rl = { 64 << 20, 64 << 20 };
	struct fn fns[2];
	const char *why;
	int ret;

	memset(&self->r, 0, sizeof(self->r));
	vmdev_init(&self->r.f.d);
	self->r.pci = variant->pci;
	if (variant->pci) {
		ret = fns_up(fns, &why);
		if (ret == -ENOENT)
			SKIP(return, "%s", why);
		ASSERT_EQ(0, ret);
		/* One function is enough: give the other back. */
		fn_down(&fns[1]);
		self->r.f = fns[0];
	} else {
		ret = vmdev_sim_mdev(self->r.f.uuid, self->r.f.node,
				     sizeof(self->r.f.node));
		if (ret == -ENOENT)
			SKIP(return, "vhost_mdev_sim is not installed");
		ASSERT_EQ(0, ret);
	}
	ASSERT_EQ(0, setrlimit(RLIMIT_MEMLOCK, &rl));
	ASSERT_EQ(0, vmdev_bus_catch());
}

FIXTURE_TEARDOWN(stress)
{
	fn_down(&self->r.f);
}

/* End the session under the racing threads. */
static int end_session(struct race *r, enum end_by end)
{
	int ret = 0;

	switch (end) {
	case END_CLOSE:
		/*
		 * The file goes when the last call in flight and the doorbell
		 * mapping let go of it.
		 */
		ret = close(r->fd) ? -errno : 0;
		break;
	case END_REMOVE:
		ret = vmdev_mdev_remove(r->f.uuid);
		r->f.uuid[0] = '\0';
		break;
	case END_UNBIND:
		ret = vmdev_write_file("/sys/bus/pci/drivers/" VMDEV_PCI_DRV
				       "/unbind", r->f.bdf);
		r->f.uuid[0] = '\0';
		break;
	}
	return ret;
}

TEST_F_TIMEOUT(stress, everything_at_once, 300)
{
	struct vmdev_opts o = { .iova = 0x100000, .doorbell = variant->pci };
	struct race *r = &self->r;
	pthread_t t[ARRAY_SIZE(roles)];
	long pin0 = vmdev_vmpin_kb();
	unsigned int i;

	ASSERT_EQ(0, vmdev_open(&r->f.d, r->f.node, &o));
	r->fd = r->f.d.fd;
	r->efd[0] = eventfd(0, EFD_NONBLOCK);
	r->efd[1] = eventfd(0, EFD_NONBLOCK);
	r->scratch = mmap(NULL, SCRATCH, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, r->scratch);
	if (variant->pci) {
		r->doorbell = mmap(NULL, 4096, PROT_WRITE, MAP_SHARED, r->fd,
				   4096);
		ASSERT_NE(MAP_FAILED, r->doorbell);
	}

	for (i = 0; i < ARRAY_SIZE(roles); i++)
		ASSERT_EQ(0, pthread_create(&t[i], NULL, roles[i], r));
	usleep(RACE_MS * 1000);
	memcpy(r->during, r->iters, sizeof(r->during));
	/* From here on a doorbell write may get SIGBUS. */
	__atomic_store_n(&r->gone, true, __ATOMIC_RELAXED);
	ASSERT_EQ(0, end_session(r, variant->end));
	usleep(RACE_MS * 1000 / 3);
	__atomic_store_n(&r->stop, true, __ATOMIC_RELAXED);
	for (i = 0; i < ARRAY_SIZE(roles); i++)
		pthread_join(t[i], NULL);
	/* The library's memory and eventfds; the fd is the test's. */
	r->f.d.fd = -1;
	vmdev_close(&r->f.d);
	TH_LOG("calls in the %u ms session: status/iotlb/call/kick fd/config",
	       RACE_MS);
	TH_LOG("  %lu/%lu/%lu/%lu/%lu, kicks %lu, doorbell writes %lu",
	       r->during[0], r->during[1], r->during[2], r->during[3],
	       r->during[4], r->during[5], r->during[6]);
	TH_LOG("%lu calls in all", r->iters[0] + r->iters[1] + r->iters[2] +
	       r->iters[3] + r->iters[4] + r->iters[5] + r->iters[6]);
	/* The owner's doorbell works for the whole session. */
	EXPECT_EQ(0, r->iters[7]);
	/*
	 * A closed file lives on in its doorbell mapping, and so does the
	 * session; a removed device's doorbell is gone.
	 */
	if (r->doorbell) {
		EXPECT_EQ(variant->end == END_CLOSE ? 0 : -EFAULT,
			  vmdev_bus_write(r->doorbell, 1));
		munmap(r->doorbell, 4096);
	}
	if (variant->end != END_CLOSE)
		close(r->fd);
	close(r->efd[0]);
	close(r->efd[1]);
	munmap(r->scratch, SCRATCH);
	EXPECT_EQ(pin0, vmdev_vmpin_kb());

	/* The device (or a new one, after removal) works afresh. */
	if (variant->end == END_UNBIND)
		ASSERT_EQ(0, fn_up(&r->f));
	if (variant->end == END_REMOVE) {
		char parent[128];

		snprintf(parent, sizeof(parent), "/sys/class/mdev_bus/%s",
			 r->f.bdf);
		ASSERT_EQ(0, vmdev_uuid_random(r->f.uuid));
		ASSERT_EQ(0, vmdev_mdev_create(r->pci ? parent :
					       VMDEV_SIM_PARENT, r->pci ?
					       VMDEV_PCI_NET_TYPE :
					       VMDEV_SIM_NET_TYPE, r->f.uuid));
		ASSERT_EQ(0, vmdev_mdev_node(r->f.uuid, r->f.node,
					     sizeof(r->f.node)));
	}
	ASSERT_EQ(0, vmdev_open(&r->f.d, r->f.node, &o));
}

#define NMDEVS		64
#define NCREATORS	8
#define ROUNDS		3

struct creator {
	unsigned int id;
	int failed;		/* the first error, 0 if none */
	unsigned long done;
};

/* Create this thread's share of the mdevs, then remove them, ROUNDS times. */
static void *create_remove(void *arg)
{
	struct creator *c = arg;
	char uuids[NMDEVS / NCREATORS][37];
	unsigned int round, i;
	int ret;

	for (round = 0; round < ROUNDS && !c->failed; round++) {
		for (i = 0; i < NMDEVS / NCREATORS; i++) {
			ret = vmdev_uuid_random(uuids[i]);
			if (!ret)
				ret = vmdev_mdev_create(VMDEV_SIM_PARENT,
							VMDEV_SIM_NET_TYPE,
							uuids[i]);
			if (ret) {
				c->failed = ret;
				uuids[i][0] = '\0';
			}
		}
		for (i = 0; i < NMDEVS / NCREATORS; i++) {
			if (!uuids[i][0])
				continue;
			ret = vmdev_mdev_remove(uuids[i]);
			if (ret && !c->failed)
				c->failed = ret;
			c->done++;
		}
	}
	return NULL;
}

/*
 * 64 simulator mdevs created and removed by 8 threads at once, three times
 * over: every create and remove succeeds, and afterwards no device, no
 * character device and no instance is missing or left over.
 */
FIXTURE(mdevs) {
};

FIXTURE_SETUP(mdevs)
{
}

FIXTURE_TEARDOWN(mdevs)
{
}

TEST_F_TIMEOUT(mdevs, create_remove_64_in_parallel, 300)
{
	struct creator c[NCREATORS];
	pthread_t t[NCREATORS];
	char buf[16];
	uint64_t start;
	unsigned int i;

	if (!vmdev_module_installed("vhost_mdev_sim"))
		SKIP(return, "vhost_mdev_sim is not installed");
	/* Room for 64: reload with max_devices=64, after the last mdev. */
	if (vmdev_module_loaded("vhost_mdev_sim"))
		ASSERT_EQ(0, vmdev_rmmod("vhost_mdev_sim"));
	ASSERT_EQ(0, vmdev_modprobe_params("vhost_mdev_sim", "max_devices=64"));
	ASSERT_EQ(0, vmdev_count_dir("/sys/class/vhost-mdev"));

	start = vmdev_now_ns() / 1000000;
	for (i = 0; i < NCREATORS; i++) {
		c[i] = (struct creator) { .id = i };
		ASSERT_EQ(0, pthread_create(&t[i], NULL, create_remove, &c[i]));
	}
	for (i = 0; i < NCREATORS; i++) {
		pthread_join(t[i], NULL);
		EXPECT_EQ(0, c[i].failed) TH_LOG("creator %u", i);
		EXPECT_EQ(ROUNDS * NMDEVS / NCREATORS, c[i].done);
	}
	TH_LOG("%d mdevs created and removed in %llu ms", ROUNDS * NMDEVS,
	       (unsigned long long)(vmdev_now_ns() / 1000000 - start));
	EXPECT_EQ(0, vmdev_count_dir("/sys/class/vhost-mdev"));
	EXPECT_EQ(0, vmdev_count_dir("/sys/bus/mdev/devices"));
	ASSERT_EQ(0, vmdev_type_attr(VMDEV_SIM_PARENT, VMDEV_SIM_NET_TYPE,
				     "available_instances", buf, sizeof(buf)));
	EXPECT_STREQ("64", buf);
	EXPECT_EQ(0, vmdev_rmmod("vhost_mdev_sim"));
	EXPECT_EQ(0, vmdev_modprobe("vhost_mdev_sim"));
}

TEST_HARNESS_MAIN
