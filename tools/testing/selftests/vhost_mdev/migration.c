// SPDX-License-Identifier: GPL-2.0-only
/*
 * Live migration with a stock QEMU 7.2 (vm/l2/migrate.sh): a KVM guest on
 * a simulator mdev moves back and forth between two mdevs of one hub while
 * a peer guest streams numbered, checksummed datagrams to it and it pings
 * the peer. The data path stays in the kernel; the core logs every page
 * the device writes. Proof that no write was lost: at every switch-over
 * the stopped source's RAM and the paused destination's hash the same.
 * Then the guest goes on, no datagram is corrupted or doubled, QEMU prints
 * nothing. A cancelled migration leaves the source running with logging
 * off; an mdev whose dirty_log is 0 gets QEMU's migration blocker.
 */
#include "kselftest_harness.h"
#include "vmdev_test.h"

#define SCRIPT	VMDEV_SCENARIOS "migrate.sh"
/*
 * Four migrations, there and back twice, each checked whole (the RAM of
 * both sides hashed). Nested KVM under TCG now and then loses an L2 guest
 * in the middle of a migration (its QEMU exits 0, its console silent), the
 * more often the more migrations a run makes: the long runs are
 * `make migrate-soak` (twenty) and `make demo MIGRATE=1`.
 */
#define ROUNDS	4

FIXTURE(migration) {
	char out[1 << 17];
};

FIXTURE_SETUP(migration)
{
	if (vmdev_trimmed("migration"))
		SKIP(return, VMDEV_TRIMMED, "migration");
	if (access(SCRIPT, X_OK) || access("/usr/bin/qemu-system-x86_64", X_OK))
		SKIP(return, "QEMU and the L2 scenarios are not in this guest");
	if (!vmdev_module_installed("kvm_amd"))
		SKIP(return, "this kernel has no kvm_amd module");
	if (!vmdev_module_installed("vhost_mdev_sim"))
		SKIP(return, "vhost_mdev_sim is not installed");
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

TEST_F_TIMEOUT(migration, back_and_forth, 1200)
{
	char args[32];

	snprintf(args, sizeof(args), "--rounds %d", ROUNDS);
	EXPECT_EQ(0, vmdev_scenario(SCRIPT, args, self->out, sizeof(self->out)));
	check_rounds(_metadata, self->out, ROUNDS);
}

TEST_F_TIMEOUT(migration, cancelled_and_blocked, 600)
{
	char buf[32];

	EXPECT_EQ(0, vmdev_scenario(SCRIPT, "--rounds 1 --cancel --hidden",
				    self->out, sizeof(self->out)));
	check_rounds(_metadata, self->out, 1);

	EXPECT_STREQ("cancelled", vmdev_result(self->out, "cancel_status", buf,
					       sizeof(buf)));
	EXPECT_STREQ("running", vmdev_result(self->out, "cancel_run_state",
					     buf, sizeof(buf)));
	EXPECT_EQ(1, vmdev_result_num(self->out, "cancel_flowing"));
	/* Logging was on during the migration, and is off after. */
	EXPECT_EQ(1, vmdev_result_num(self->out, "log_during"));
	EXPECT_EQ(1, vmdev_result_num(self->out, "log_after_off"));
	EXPECT_EQ(1, vmdev_result_num(self->out, "blocked"));
}

TEST_HARNESS_MAIN
