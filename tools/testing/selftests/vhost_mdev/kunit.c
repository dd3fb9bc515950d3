// SPDX-License-Identifier: GPL-2.0-only
/*
 * The drivers' KUnit suites: each test module is loaded (KUnit runs its
 * suite then) and its results are read from KUnit's debugfs. Built only for
 * kernels with KUnit (the debug flavour); elsewhere: SKIP.
 */
#include "kselftest_harness.h"
#include "vmdev_test.h"

/*
 * Load @module and check its suite @suite: at least @ncases cases ran, none
 * failed. The results file is KTAP; a failed case prints "not ok".
 */
static void kunit_suite(struct __test_metadata *_metadata, const char *module,
			const char *suite, int ncases)
{
	char path[256], line[512];
	int ok = 0, failed = 0;
	FILE *f;

	if (!vmdev_module_installed(module))
		SKIP(return, "%s.ko is not built for this kernel (no KUnit)",
		     module);
	vmdev_rmmod(module);
	ASSERT_EQ(0, vmdev_modprobe(module));
	snprintf(path, sizeof(path), "/sys/kernel/debug/kunit/%s/results",
		 suite);
	f = fopen(path, "r");
	ASSERT_NE(NULL, f) TH_LOG("%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		const char *p = line + strspn(line, " \t");

		if (!strncmp(p, "not ok ", 7)) {
			failed++;
			TH_LOG("%s", p);
		} else if (!strncmp(p, "ok ", 3)) {
			ok++;
		} else if (!strncmp(p, "# ", 2) && strstr(p, "EXPECTATION")) {
			TH_LOG("%s", p);
		}
	}
	fclose(f);
	EXPECT_EQ(0, failed);
	/* Each case's line, then the suite's own. */
	EXPECT_LE(ncases + 1, ok);
	EXPECT_EQ(0, vmdev_rmmod(module));
}

/* vhost_mdev_pci's doorbell page check, on register layouts. */
TEST(pci_doorbell_layouts)
{
	kunit_suite(_metadata, "vhost_mdev_pci_test", "vhost_mdev_pci_doorbell",
		    7);
}

TEST_HARNESS_MAIN
