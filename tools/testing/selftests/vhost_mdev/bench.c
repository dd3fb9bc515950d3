// SPDX-License-Identifier: GPL-2.0-only
/*
 * The benchmark cannot rot: `make bench`'s script (vm/bench.sh) in its
 * short form (BENCH_SMOKE=1: one round, 2-s rates, 64 MiB maps) must bring
 * every path up - our PCI mdevs (direct, and relayed as on a migration's
 * destination), upstream vp_vdpa on the same functions,
 * the same functions through VFIO (the passthrough bound), our simulator,
 * upstream vdpa_sim_net - and get every measurement from each, frames
 * intact. No speed is asserted here: speed is compared by
 * `make bench`, side by side, never in a timed test.
 */
#include "kselftest_harness.h"
#include "vmdev_test.h"

#define SCRIPT	"/usr/share/vmrun/bench.sh"

static const char *const paths[] = {
	"ours-pci", "vp_vdpa", "vfio", "ours-sim", "vdpa_sim",
};

/* Value of @path on the "RESULT @what metric=@metric" line, -1 if none. */
static double result_of(const char *out, const char *what, const char *metric,
			const char *path)
{
	char line[64], pat[64];
	const char *p, *eol, *q;

	snprintf(line, sizeof(line), "RESULT %s metric=%s ", what, metric);
	snprintf(pat, sizeof(pat), " %s=", path);
	p = strstr(out, line);
	if (!p)
		return -1;
	eol = strchr(p, '\n');
	q = strstr(p, pat);
	if (!q || (eol && q > eol) || q[strlen(pat)] == '-')
		return -1;
	return atof(q + strlen(pat));
}

static double result_median(const char *out, const char *metric, const char *path)
{
	return result_of(out, "median", metric, path);
}

FIXTURE(bench) {
	char out[1 << 17];
};

FIXTURE_SETUP(bench)
{
	char bdfs[2][16];

	if (vmdev_trimmed("bench"))
		SKIP(return, VMDEV_TRIMMED, "bench");
	if (access(SCRIPT, X_OK))
		SKIP(return, "the VM scripts are not in this guest");
	if (!vmdev_module_installed("vhost_mdev_sim") ||
	    !vmdev_module_installed(VMDEV_PCI_DRV))
		SKIP(return, "vhost_mdev_sim or vhost_mdev_pci is not installed");
	if (!vmdev_module_installed("vp_vdpa") ||
	    !vmdev_module_installed("vdpa_sim_net"))
		SKIP(return, "no vp_vdpa or vdpa_sim_net for this kernel (make peers)");
	if (vmdev_pci_find(VMDEV_ACCEL_ID, bdfs, 2) < 2)
		SKIP(return, "needs two modern virtio-net PCI functions");
}

FIXTURE_TEARDOWN(bench)
{
}

/* One short round of every path: each measurement there, every frame intact. */
TEST_F_TIMEOUT(bench, smoke, 600)
{
	static const char *const metrics[] = {
		"pps64", "pps1500", "bringup_us", "map_us", "unmap_us",
		"rtt_p50_ns", "rtt_p99_ns",	/* last: no kick eventfd in vfio */
	};
	unsigned int i, j;

	setenv("BENCH_SMOKE", "1", 1);
	ASSERT_EQ(0, vmdev_scenario(SCRIPT, NULL, self->out, sizeof(self->out)));
	EXPECT_EQ(NULL, strstr(self->out, "RESULT error="));
	for (i = 0; i < ARRAY_SIZE(metrics); i++)
		for (j = 0; j < ARRAY_SIZE(paths); j++) {
			if (i >= ARRAY_SIZE(metrics) - 2 && !strcmp(paths[j], "vfio"))
				continue;
			EXPECT_LT(0, result_median(self->out, metrics[i], paths[j]))
				TH_LOG("%s of %s: missing", metrics[i], paths[j]);
		}
	/* The doorbell round trip on the PCI paths, SET_MEM_TABLE on ours. */
	EXPECT_LT(0, result_median(self->out, "rtt_db_p50_ns", "ours-pci"));
	EXPECT_LT(0, result_median(self->out, "rtt_db_p50_ns", "vp_vdpa"));
	EXPECT_LT(0, result_median(self->out, "rtt_db_p50_ns", "vfio"));
	/* On the doorbell path our driver takes no kick at all. */
	EXPECT_EQ(0, result_median(self->out, "kicks_per_kpkt", "ours-pci"));
	EXPECT_LT(0, result_median(self->out, "usable_us", "ours-sim"));
	EXPECT_LT(0, result_median(self->out, "usable_us", "vdpa_sim"));
	EXPECT_LT(0, result_median(self->out, "memtable_us", "ours-pci"));
	EXPECT_LT(0, result_median(self->out, "memtable_us", "ours-sim"));
	/* The relay moved frames (its rates, next to ours-pci's). */
	EXPECT_LT(0, result_of(self->out, "relay", "pps64", "ours-relay"));
	EXPECT_LT(0, result_of(self->out, "relay", "pps1500", "ours-relay"));
	/* Our maps' pin_user_pages time (debugfs "pins"): part of the map's. */
	for (j = 0; j < ARRAY_SIZE(paths); j++) {
		if (strncmp(paths[j], "ours-", 5))
			continue;
		EXPECT_LT(0, result_median(self->out, "map_pin_us", paths[j]));
		EXPECT_GE(result_median(self->out, "map_us", paths[j]),
			  result_median(self->out, "map_pin_us", paths[j]));
	}
}

TEST_HARNESS_MAIN
