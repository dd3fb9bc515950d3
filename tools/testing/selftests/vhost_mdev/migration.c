// SPDX-License-Identifier: GPL-2.0-only
/*
 * Live migration with a stock QEMU 7.2 (vm/l2/migrate.sh): a KVM guest on
 * a simulator mdev moves back and forth between two mdevs of one hub while
 * a peer guest streams numbered, checksummed datagrams to it and it pings
 * the peer. The data path stays in the kernel; the core logs every page
 * the device writes. The same on the accelerator functions (pci_*): the
 * data path is the functions', and while QEMU logs the PCI parent relays
 * the rings and logs what the functions wrote (pci_shadow.c); the guest
 * arrives relayed and stays so until it resets its NIC; packed rings there
 * are relayed from the start (pci_packed.c). Proof that no
 * write was lost: at every switch-over
 * the stopped source's RAM and the paused destination's hash the same.
 * Then the guest goes on, no datagram is corrupted or doubled, QEMU prints
 * nothing. A cancelled migration leaves the source running with logging
 * off; an mdev whose dirty_log is 0 gets QEMU's migration blocker.
 */
#include "kselftest_harness.h"
#include "vmdev_test.h"

#define SCRIPT	VMDEV_SCENARIOS "migrate.sh"
/*
 * Six migrations, there and back three times, each checked whole (the RAM
 * of both sides hashed); then, with the same guest, one migration cancelled
 * half-way and a VM on an mdev whose dirty_log is 0. `make migrate-soak`
 * makes twenty in a row, `make demo MIGRATE=1` narrates one. (Ten until
 * the packed guest's round trip on the functions joined the suite: CI
 * stays within 45 minutes.)
 *
 * One round trip on the debug kernel (kmemleak there): its checkers (KASAN,
 * lockdep, kmemleak) see every path of a migration in one, each round takes
 * a minute there, and there an L2 guest stopped after the fifth of ten (its
 * RAM unchanged over the next two migrations: not one timer tick), which
 * nested KVM under TCG does now and then, the more often the more
 * migrations and the slower L1.
 */
#define ROUNDS		6
#define ROUNDS_DEBUG	2
/*
 * On the accelerator functions, one round trip (a minute and a half of the
 * suite per round trip): every path of the relay is in one (the source
 * switches, the destination starts relayed, and a relayed source migrates
 * again), and the packed guest's round trip below adds two migrations on
 * the functions; `vm/l2/migrate.sh --pci --rounds N` and `make
 * migrate-soak PCI=1` make more.
 */
#define ROUNDS_PCI	2

FIXTURE(migration) {
	char out[1 << 19];
};

FIXTURE_SETUP(migration)
{
	if (vmdev_trimmed("migration"))
		SKIP(return, VMDEV_TRIMMED, "migration");
	if (access(SCRIPT, X_OK) || access("/usr/bin/qemu-system-x86_64", X_OK))
		SKIP(return, "QEMU and the L2 scenarios are not in this guest");
	if (!vmdev_module_installed("kvm_amd"))
		SKIP(return, "this kernel has no kvm_amd module");
}

FIXTURE_TEARDOWN(migration)
{
}

/* What every run must show: the guest moved and lost nothing on the way. */
static void check_rounds(struct __test_metadata *_metadata, const char *out,
			 long rounds)
{
	long restarts;

	EXPECT_EQ(NULL, strstr(out, "RESULT error="));
	EXPECT_EQ(rounds, vmdev_result_num(out, "rounds"));
	/* The device's writes were all logged: the RAM arrived whole. */
	EXPECT_EQ(rounds, vmdev_result_num(out, "hash_ok"));
	/* And the guest went on each time, pinging and receiving. */
	EXPECT_EQ(rounds, vmdev_result_num(out, "cont_ok"));
	EXPECT_LE(2, vmdev_result_num(out, "min_dirty_syncs"));
	EXPECT_LT(0, vmdev_result_num(out, "udp_got"));
	EXPECT_EQ(0, vmdev_result_num(out, "udp_bad"));
	EXPECT_EQ(0, vmdev_result_num(out, "udp_dup"));
	EXPECT_LT(0, vmdev_result_num(out, "ping_got"));
	EXPECT_EQ(0, vmdev_result_num(out, "qemu_stderr_lines"));
	/* A guest that stalled before the first migration starts once more. */
	restarts = vmdev_result_num(out, "boot_restarts");
	EXPECT_LE(0, restarts);
	EXPECT_GE(1, restarts);
	if (restarts > 0)
		TH_LOG("the guest stalled before any migration and was started again");
	TH_LOG("%ld migrations: downtime up to %ld ms, total up to %ld ms",
	       rounds, vmdev_result_num(out, "max_downtime_ms"),
	       vmdev_result_num(out, "max_total_ms"));
	TH_LOG("%ld datagrams, %ld lost, longest gap %ld ms; pings lost in a row: %ld",
	       vmdev_result_num(out, "udp_got"),
	       vmdev_result_num(out, "udp_lost"),
	       vmdev_result_num(out, "udp_maxgap_ms"),
	       vmdev_result_num(out, "ping_lost_run"));
}

/* @rounds migrations, a cancelled one, a blocked one: migrate.sh @args. */
static void back_and_forth(struct __test_metadata *_metadata, char *out,
			   size_t len, const char *args, int rounds)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%s--rounds %d --cancel --hidden", args,
		 rounds);
	EXPECT_EQ(0, vmdev_scenario(SCRIPT, buf, out, len));
	check_rounds(_metadata, out, rounds);

	/* The cancelled migration: the source runs on, logging off. */
	EXPECT_STREQ("cancelled", vmdev_result(out, "cancel_status", buf,
					       sizeof(buf)));
	EXPECT_STREQ("running", vmdev_result(out, "cancel_run_state",
					     buf, sizeof(buf)));
	EXPECT_EQ(1, vmdev_result_num(out, "cancel_flowing"));
	EXPECT_EQ(1, vmdev_result_num(out, "log_during"));
	EXPECT_EQ(1, vmdev_result_num(out, "log_after_off"));
	/* dirty_log 0: QEMU's migration blocker. */
	EXPECT_EQ(1, vmdev_result_num(out, "blocked"));
}

TEST_F_TIMEOUT(migration, back_and_forth_cancelled_blocked, 1800)
{
	if (vmdev_trimmed("migration-sim"))
		SKIP(return, VMDEV_TRIMMED, "migration-sim");
	if (!vmdev_module_installed("vhost_mdev_sim"))
		SKIP(return, "vhost_mdev_sim is not installed");
	back_and_forth(_metadata, self->out, sizeof(self->out), "",
		       vmdev_debug_kernel() ? ROUNDS_DEBUG : ROUNDS);
}

/*
 * On the accelerator functions: the source's queues switch to the relay
 * when QEMU starts logging, the destination's start relayed where the
 * source stopped; the cancelled migration leaves the source relayed,
 * logging off, the guest receiving.
 */
TEST_F_TIMEOUT(migration, pci_back_and_forth_cancelled_blocked, 1800)
{
	char bdfs[3][16];

	if (!vmdev_module_installed(VMDEV_PCI_DRV))
		SKIP(return, VMDEV_PCI_DRV ".ko is not installed");
	if (vmdev_pci_find(VMDEV_ACCEL_ID, bdfs, 3) < 3)
		SKIP(return, "needs three accelerator functions");
	back_and_forth(_metadata, self->out, sizeof(self->out), "--pci ",
		       vmdev_debug_kernel() ? ROUNDS_DEBUG : ROUNDS_PCI);
}

/*
 * A guest with packed rings on the accelerator functions, there and back:
 * its queues are relayed from the start (pci_packed.c), so the source
 * needs no switch and says exactly where each ring stopped, and the
 * destination starts there. With the other layout's paths covered above,
 * one round trip.
 */
TEST_F_TIMEOUT(migration, pci_packed_back_and_forth, 1200)
{
	char bdfs[3][16];

	if (vmdev_trimmed("packed"))
		SKIP(return, VMDEV_TRIMMED, "packed");
	if (vmdev_trimmed("migration-packed"))
		SKIP(return, VMDEV_TRIMMED, "migration-packed");
	if (!vmdev_module_installed(VMDEV_PCI_DRV))
		SKIP(return, VMDEV_PCI_DRV ".ko is not installed");
	if (vmdev_pci_find(VMDEV_ACCEL_ID, bdfs, 3) < 3)
		SKIP(return, "needs three accelerator functions");
	EXPECT_EQ(0, vmdev_scenario(SCRIPT, "--pci --packed --rounds 2",
				    self->out, sizeof(self->out)));
	/* The guest's driver uses packed rings. */
	EXPECT_EQ(1, vmdev_result_num(self->out, "packed"));
	check_rounds(_metadata, self->out, 2);
}

TEST_HARNESS_MAIN
