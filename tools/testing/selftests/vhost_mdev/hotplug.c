// SPDX-License-Identifier: GPL-2.0-only
/*
 * Surprise hot-unplug: an accelerator function is unplugged from the test
 * VM (QMP device_del, carried out by the runner) while a client runs
 * traffic on its mdev with the doorbell mapped, then plugged back. The
 * client gets errors, not a hang; the mdev and its node go; nothing stays
 * pinned; the kernel log stays clean (the runner checks); the function
 * works again once it is back.
 *
 * stock_qemu_guest: the client is a stock QEMU running a KVM guest
 * (vm/l2/hotplug.sh). library_client: libvmdev, with a thread sending.
 */
#include <pthread.h>

#include "kselftest_harness.h"
#include "vmdev_test.h"

#define WAIT_S		60

/* The first accelerator function's root port and QEMU id. */
struct slot {
	char port[16];
	char qemu_id[32];
};

/* The function behind the port, or "" when it is unplugged. */
static void port_fn(const char *port, char *bdf, size_t len)
{
	char path[128];
	struct dirent *e;
	DIR *d;

	bdf[0] = '\0';
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s", port);
	d = opendir(path);
	if (!d)
		return;
	while ((e = readdir(d)))
		if (strlen(e->d_name) == 12 && e->d_name[4] == ':' &&
		    e->d_name[10] == '.')
			snprintf(bdf, len, "%s", e->d_name);
	closedir(d);
}

/* Wait up to WAIT_S for the port to have a function (@present) or none. */
static bool wait_port(const char *port, bool present)
{
	char bdf[16];
	int i;

	for (i = 0; i < WAIT_S * 10; i++) {
		port_fn(port, bdf, sizeof(bdf));
		if (!!bdf[0] == present)
			return true;
		usleep(100000);
	}
	return false;
}

/* Wait up to WAIT_S for a driver to have probed function @bdf. */
static bool wait_driver(const char *bdf)
{
	char drv[64];
	int i;

	for (i = 0; i < WAIT_S * 10; i++) {
		vmdev_pci_driver(bdf, drv, sizeof(drv));
		if (drv[0])
			return true;
		usleep(100000);
	}
	return false;
}

/* Ask the runner to unplug or plug the function. */
static void runner(const char *what, const char *qemu_id)
{
	printf("VMRUN: %s %s\n", what, qemu_id);
	fflush(stdout);
}

FIXTURE(hotplug) {
	struct slot slot;
	char out[1 << 16];
};

FIXTURE_SETUP(hotplug)
{
	const char *ports = getenv("VMRUN_ACCEL_PORTS");
	const char *ids = getenv("VMRUN_ACCEL_QEMU_IDS");

	/* Only the runner can unplug a function of the test VM. */
	if (!ports || !ids)
		SKIP(return, "not in the test VM: nobody to unplug a function");
	/* The first of each list. */
	snprintf(self->slot.port, sizeof(self->slot.port), "%.*s",
		 (int)strcspn(ports, " "), ports);
	snprintf(self->slot.qemu_id, sizeof(self->slot.qemu_id), "%.*s",
		 (int)strcspn(ids, " "), ids);
	if (!vmdev_module_installed(VMDEV_PCI_DRV))
		SKIP(return, VMDEV_PCI_DRV ".ko is not installed");
}

FIXTURE_TEARDOWN(hotplug)
{
	char bdf[16];

	/* Whatever happened, the machine gets its function back. */
	port_fn(self->slot.port, bdf, sizeof(bdf));
	if (!bdf[0]) {
		runner("device_add", self->slot.qemu_id);
		wait_port(self->slot.port, true);
	}
}

TEST_F_TIMEOUT(hotplug, stock_qemu_guest, 900)
{
	char rc[32];

	if (access(VMDEV_SCENARIOS "hotplug.sh", X_OK) ||
	    access("/usr/bin/qemu-system-x86_64", X_OK))
		SKIP(return, "QEMU and the L2 scenarios are not in this guest");
	if (!vmdev_module_installed("kvm_amd"))
		SKIP(return, "this kernel has no kvm_amd module");

	EXPECT_EQ(0, vmdev_scenario(VMDEV_SCENARIOS "hotplug.sh", NULL,
				    self->out, sizeof(self->out)));
	EXPECT_EQ(NULL, strstr(self->out, "RESULT error="));
	/* It ran, pinned guest memory, and moved traffic. */
	EXPECT_LT(0, vmdev_result_num(self->out, "pinned_before_kb"));
	EXPECT_LT(0, vmdev_result_num(self->out, "ping_received"));
	/* Unplugged: the mdev and its node went, nothing stays pinned. */
	EXPECT_EQ(1, vmdev_result_num(self->out, "unplugged"));
	EXPECT_EQ(1, vmdev_result_num(self->out, "mdev_gone"));
	EXPECT_EQ(1, vmdev_result_num(self->out, "node_gone"));
	EXPECT_EQ(0, vmdev_result_num(self->out, "pinned_after_kb"));
	/*
	 * The guest stopped with an error (its doorbell is gone: KVM_RUN
	 * fails), QEMU said why, and it quit when told: no hang.
	 */
	vmdev_result(self->out, "guest_state", rc, sizeof(rc));
	EXPECT_STREQ("internal-error", rc);
	EXPECT_LT(0, vmdev_result_num(self->out, "qemu_stderr_lines"));
	EXPECT_EQ(0, vmdev_result_num(self->out, "qemu_rc"));
	/* Back: a new guest works on it, and its QEMU printed nothing. */
	EXPECT_EQ(0, vmdev_result_num(self->out, "again_qemu_rc"));
	EXPECT_EQ(3, vmdev_result_num(self->out, "again_ping_received"));
	EXPECT_EQ(0, vmdev_result_num(self->out, "again_stderr_lines"));
}

struct sender {
	struct vmdev *d;
	bool stop;	/* __atomic: the main thread sets it */
	unsigned long sent;
	int err;	/* how it ended */
};

/* Send frames and kick through the doorbell until stopped or refused. */
static void *send_loop(void *arg)
{
	struct sender *s = arg;
	uint8_t frame[64] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	int ret;

	while (!__atomic_load_n(&s->stop, __ATOMIC_RELAXED)) {
		vmdev_tx_reclaim(s->d, 0);
		ret = vmdev_send(s->d, 0, frame, sizeof(frame), false);
		if (!ret)
			s->sent++;
		if (vmdev_bus_write(s->d->vqs[1].doorbell, 1)) {
			s->err = -EFAULT;
			break;
		}
	}
	return NULL;
}

TEST_F_TIMEOUT(hotplug, library_client, 300)
{
	struct vmdev_opts o = { .iova = 0x100000, .doorbell = true };
	uint8_t frame[64] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
			      0x02, 0x56, 0x4d, 0, 0, 0xa, 0x88, 0xb5 };
	uint8_t in[2048];
	struct fn fns[2];
	struct sender s = {};
	const char *why;
	uint64_t features;
	long pin0;
	pthread_t t;
	int ret;

	ret = fns_up(fns, &why);
	if (ret == -ENOENT)
		SKIP(return, "%s", why);
	ASSERT_EQ(0, ret);
	ASSERT_EQ(0, vmdev_bus_catch());
	pin0 = vmdev_vmpin_kb();
	ASSERT_EQ(0, vmdev_open(&fns[0].d, fns[0].node, &o));
	ASSERT_LT(pin0, vmdev_vmpin_kb());
	s.d = &fns[0].d;
	ASSERT_EQ(0, pthread_create(&t, NULL, send_loop, &s));
	usleep(500000);

	runner("device_del", self->slot.qemu_id);
	EXPECT_TRUE(wait_port(self->slot.port, false));
	/* The client's doorbell answers SIGBUS, its calls ENODEV. */
	usleep(500000);
	__atomic_store_n(&s.stop, true, __ATOMIC_RELAXED);
	pthread_join(t, NULL);
	TH_LOG("%lu frames sent before the function went", s.sent);
	EXPECT_LT(0, s.sent);
	EXPECT_EQ(-EFAULT, s.err);
	EXPECT_EQ(-ENODEV, vmdev_ioctl(fns[0].d.fd, VHOST_GET_FEATURES,
				       &features));
	EXPECT_NE(0, access(fns[0].node, F_OK));
	EXPECT_EQ(pin0, vmdev_vmpin_kb());
	fns[0].uuid[0] = '\0';
	fns[0].bdf[0] = '\0';
	vmdev_close(&fns[0].d);

	/* Back, and it works again. */
	runner("device_add", self->slot.qemu_id);
	ASSERT_TRUE(wait_port(self->slot.port, true));
	port_fn(self->slot.port, fns[0].bdf, sizeof(fns[0].bdf));
	/* A new function: virtio-pci probes it first, then it is handed over. */
	EXPECT_TRUE(wait_driver(fns[0].bdf));
	ASSERT_EQ(0, fn_up(&fns[0]));
	ASSERT_EQ(0, vmdev_open(&fns[0].d, fns[0].node, &o));
	ASSERT_EQ(0, vmdev_open(&fns[1].d, fns[1].node, &o));
	ASSERT_EQ(0, vmdev_send(&fns[0].d, 0, frame, sizeof(frame), true));
	EXPECT_EQ((int)sizeof(frame),
		  vmdev_recv_wait(&fns[1].d, 0, in, sizeof(in), 5000));
	fn_down(&fns[0]);
	fn_down(&fns[1]);
}

TEST_HARNESS_MAIN
