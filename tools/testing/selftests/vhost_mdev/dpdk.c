// SPDX-License-Identifier: GPL-2.0-only
/*
 * DPDK's testpmd, as a user runs it: virtio_user over two of our devices,
 * io forwarding in a closed loop (--tx-first puts a burst on each port,
 * whatever one port receives goes out of the other), statistics every
 * second. A data path must never stop: each run fails if, once traffic
 * flows, a period of statistics (a second; under TCG sometimes two, see
 * below) passes without a packet received. Runs are short and many: two
 * per variant (ten in all; three each until CI's time ran short), one on
 * the debug kernel (a run of 5 s takes ~16 s there with testpmd's start
 * and stop, and its checkers see every path in one run); VMDEV_DPDK_RUNS
 * and VMDEV_DPDK_SECS make them more and longer (make dpdk-soak).
 *
 * Variants: the simulator looping each device back to itself, the
 * simulator with crossover=1 (what one transmits the other receives) and
 * two PCI functions of the test VM (on one hub); the last two again with
 * packed rings (virtio_user's packed_vq=1). Hugepages and testpmd's
 * defaults, as DPDK is normally run: its memory changes while the ports
 * start and once more while traffic flows, and each change remaps all of a
 * device's memory (an IOTLB batch, the queues paused).
 */
#include <sys/resource.h>
#include <glob.h>
#include <time.h>

#include "kselftest_harness.h"
#include "vmdev_test.h"

#define TESTPMD		"/usr/bin/dpdk-testpmd"
#define SIM		"vhost_mdev_sim"
/* testpmd's default mbuf pool, 155456 mbufs, takes about 370 MiB. */
#define HUGEPAGES	300
/* Periods before the first packet: EAL init and port start under TCG. */
#define START_PERIODS	3
/* EAL init and port start, on the debug kernel too. */
#define START_MS	120000
#define FWD_STARTED	"start packet forwarding"

struct testpmd_run {
	long pps[256];		/* packets per second received, both ports */
	int periods;
	int first;		/* first period with traffic, -1 if none */
	int stalled;		/* first period without traffic after it */
};

FIXTURE(dpdk) {
	struct fn fns[2];
	char uuid[2][37];
	char node[2][64];
	pid_t pid;
};

FIXTURE_VARIANT(dpdk) {
	bool pci;
	const char *sim_params;
	bool packed;	/* virtio_user's packed_vq=1 */
};

FIXTURE_VARIANT_ADD(dpdk, sim) { .sim_params = "" };
FIXTURE_VARIANT_ADD(dpdk, sim_crossover) { .sim_params = "crossover=1" };
FIXTURE_VARIANT_ADD(dpdk, pci) { .pci = true };
FIXTURE_VARIANT_ADD(dpdk, sim_crossover_packed) {
	.sim_params = "crossover=1", .packed = true,
};

FIXTURE_VARIANT_ADD(dpdk, pci_packed) { .pci = true, .packed = true };

static long env_long(const char *name, long def, long max)
{
	const char *v = getenv(name);
	long n = v && *v ? strtol(v, NULL, 0) : def;

	return n > 0 && n <= max ? n : def;
}

FIXTURE_SETUP(dpdk)
{
	struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };
	const char *why;
	int i;

	memset(self->uuid, 0, sizeof(self->uuid));
	memset(self->fns, 0, sizeof(self->fns));
	self->pid = 0;
	if (vmdev_trimmed("dpdk"))
		SKIP(return, VMDEV_TRIMMED, "dpdk");
	if (access(TESTPMD, X_OK))
		SKIP(return, "DPDK's testpmd is not in this VM (dpdk-dev)");
	if (vmdev_reserve_hugepages(HUGEPAGES))
		SKIP(return, "cannot reserve %d hugepages", HUGEPAGES);
	if (variant->pci) {
		i = fns_up(self->fns, &why);
		if (i == -ENOENT)
			SKIP(return, "%s", why);
		ASSERT_EQ(0, i);
		for (i = 0; i < 2 && variant->packed; i++)
			ASSERT_EQ(0, fn_packed(&self->fns[i]));
		/* Each device pins all of DPDK's memory: no limit. */
		ASSERT_EQ(0, setrlimit(RLIMIT_MEMLOCK, &rl));
		for (i = 0; i < 2; i++)
			snprintf(self->node[i], sizeof(self->node[i]), "%s",
				 self->fns[i].node);
		return;
	}
	if (!vmdev_module_installed(SIM))
		SKIP(return, SIM ".ko is not installed");
	ASSERT_EQ(0, setrlimit(RLIMIT_MEMLOCK, &rl));
	ASSERT_EQ(0, vmdev_unload_parents());
	ASSERT_EQ(0, vmdev_modprobe_params(SIM, variant->sim_params));
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, vmdev_sim_mdev(self->uuid[i], self->node[i],
					    sizeof(self->node[i])));
}

FIXTURE_TEARDOWN(dpdk)
{
	glob_t files;
	int i;

	if (self->pid > 0) {
		kill(self->pid, SIGKILL);
		waitpid(self->pid, NULL, 0);
	}
	for (i = 0; i < 2; i++) {
		if (variant->pci)
			fn_down(&self->fns[i]);
		else if (self->uuid[i][0])
			EXPECT_EQ(0, vmdev_mdev_remove(self->uuid[i]));
	}
	if (!variant->pci)
		vmdev_rmmod(SIM);
	/*
	 * testpmd leaves its hugepage files behind, the pages in them still
	 * in use: a later test's MAP_HUGETLB would fail (make check T="dpdk
	 * bench").
	 */
	if (!glob("/dev/hugepages/rtemap_*", 0, NULL, &files)) {
		for (i = 0; i < (int)files.gl_pathc; i++)
			unlink(files.gl_pathv[i]);
		globfree(&files);
	}
	vmdev_reserve_hugepages(0);
}

static long sim_stat(const char *node, const char *key)
{
	return vmdev_debugfs_stat(node, "sim", key);
}

static pid_t testpmd_start(char node[2][64], const char *out, bool packed)
{
	char vdev[2][128];
	pid_t pid;
	int fd, i;

	for (i = 0; i < 2; i++)
		snprintf(vdev[i], sizeof(vdev[i]),
			 "net_virtio_user%d,path=%s,queue_size=256%s", i,
			 node[i], packed ? ",packed_vq=1" : "");
	pid = fork();
	if (pid)
		return pid;
	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		_exit(126);
	dup2(fd, 1);
	dup2(fd, 2);
	fd = open("/dev/null", O_RDONLY);
	if (fd >= 0)
		dup2(fd, 0);
	execl(TESTPMD, TESTPMD, "-l", "0-1", "--no-pci", "--iova-mode=va",
	      "--vdev", vdev[0], "--vdev", vdev[1], "--", "-a",
	      "--forward-mode=io", "--tx-first", "--stats-period=1",
	      "--disable-link-check", (char *)NULL);
	_exit(127);
}

/*
 * Wait up to @ms for @pid to exit, or for its output @out to contain @mark
 * (if not NULL): its wait status; -1 still running (and @mark seen).
 */
static int wait_exit(pid_t pid, int ms, const char *out, const char *mark)
{
	static char buf[1 << 16];
	int status;

	for (; ms > 0; ms -= 50) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return status;
		if (mark && !vmdev_read_file(out, buf, sizeof(buf)) &&
		    strstr(buf, mark))
			return -1;
		usleep(50000);
	}
	return mark ? -2 : -1;
}

/* The Rx-pps of both ports, period by period, from testpmd's output. */
static void testpmd_parse(const char *out, struct testpmd_run *run)
{
	char line[256];
	long port[2];
	int n = 0, i;
	FILE *f;

	memset(run, 0, sizeof(*run));
	run->first = -1;
	run->stalled = -1;
	f = fopen(out, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f) &&
	       run->periods < (int)ARRAY_SIZE(run->pps)) {
		if (sscanf(line, " Rx-pps: %ld", &port[n]) != 1)
			continue;
		if (++n < 2)
			continue;
		n = 0;
		run->pps[run->periods++] = port[0] + port[1];
	}
	fclose(f);
	for (i = 0; i < run->periods; i++) {
		if (run->first < 0 && run->pps[i])
			run->first = i;
		else if (run->first >= 0 && !run->pps[i] && run->stalled < 0)
			run->stalled = i;
	}
}

static void testpmd_log(struct __test_metadata *_metadata, const char *out)
{
	char line[256];
	FILE *f = fopen(out, "r");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "RX-total") ||
		    (!strstr(line, "pps") && !strstr(line, "packets") &&
		     !strstr(line, "bytes") && !strstr(line, "errors")))
			TH_LOG("testpmd: %.*s", (int)strcspn(line, "\n"), line);
	fclose(f);
}

/* What a failed run looked like: testpmd's words, its seconds, the devices. */
static void run_log(struct __test_metadata *_metadata, const char *out,
		    const struct testpmd_run *run, long r, long fwd_ms,
		    char node[2][64], bool pci)
{
	int i;

	testpmd_log(_metadata, out);
	TH_LOG("run %ld: forwarding for %ld ms, %d periods of statistics", r,
	       fwd_ms, run->periods);
	for (i = 0; i < run->periods; i++)
		TH_LOG("run %ld second %d: %ld pps", r, i + 1, run->pps[i]);
	for (i = 0; i < 2 && !pci; i++)
		TH_LOG("device %c: %ld passes, %ld requeued, %ld waits, %ld broken",
		       'A' + i, sim_stat(node[i], "passes"),
		       sim_stat(node[i], "requeued"),
		       sim_stat(node[i], "waits"), sim_stat(node[i], "broken"));
}

/*
 * Run after run of testpmd; in each, traffic starts within START_PERIODS
 * seconds and never stops for a whole second after that. On the
 * simulator, no run breaks a device (NEEDS_RESET would stop it silently).
 */
TEST_F_TIMEOUT(dpdk, io_forwarding_never_stalls, 7200)
{
	long runs = env_long("VMDEV_DPDK_RUNS", vmdev_debug_kernel() ? 1 : 2,
			     10000);
	long secs = env_long("VMDEV_DPDK_SECS", 5, 200);
	const char *out = "/tmp/vmdev-testpmd.out";
	struct testpmd_run run;
	long r, total = 0, min_pps = -1, remaps = 0, fwd_ms;
	int status, i;

	for (r = 1; r <= runs; r++) {
		/* Not the last run's output: it has FWD_STARTED already. */
		unlink(out);
		self->pid = testpmd_start(self->node, out, variant->packed);
		ASSERT_LT(0, self->pid);
		/* SECS seconds of forwarding, however long EAL takes. */
		status = wait_exit(self->pid, START_MS, out, FWD_STARTED);
		fwd_ms = vmdev_now_ns() / 1000000;
		/* The ring layout virtio_user negotiated, while it runs. */
		for (i = 0; i < 2 && status == -1; i++)
			EXPECT_EQ(variant->packed,
				  !!(vmdev_debugfs_stat(self->node[i], "features",
							"driver_features") &
				     (1LL << VIRTIO_F_RING_PACKED)));
		if (status == -1)
			status = wait_exit(self->pid, secs * 1000, NULL, NULL);
		ASSERT_EQ(-1, status) {
			testpmd_log(_metadata, out);
			TH_LOG("run %ld: testpmd %s (%#x)", r, status == -2 ?
			       "did not start forwarding" : "exited early",
			       status);
		}
		kill(self->pid, SIGINT);
		fwd_ms = vmdev_now_ns() / 1000000 - fwd_ms;
		status = wait_exit(self->pid, 30000, NULL, NULL);
		ASSERT_NE(-1, status) TH_LOG("run %ld: testpmd ignored SIGINT", r);
		self->pid = 0;
		testpmd_parse(out, &run);

		/*
		 * testpmd prints when, at one of its 1-s sleeps' ends, the
		 * TSC says a second has passed by its estimate of the TSC's
		 * rate; an estimate a little high (TCG) has every other
		 * check fall just short: 11 periods in 20.3 s of steady
		 * traffic. Fewer than half means its loop hung.
		 */
		ASSERT_LE(secs / 2, run.periods)
			run_log(_metadata, out, &run, r, fwd_ms, self->node,
				variant->pci);
		ASSERT_TRUE(run.first >= 0 && run.first < START_PERIODS) {
			run_log(_metadata, out, &run, r, fwd_ms, self->node,
				variant->pci);
			TH_LOG("run %ld: no traffic in the first %d s", r,
			       START_PERIODS);
		}
		ASSERT_EQ(-1, run.stalled)
			run_log(_metadata, out, &run, r, fwd_ms, self->node,
				variant->pci);
		for (i = run.first; i < run.periods; i++) {
			total += run.pps[i];
			if (min_pps < 0 || run.pps[i] < min_pps)
				min_pps = run.pps[i];
		}
		for (i = 0; i < 2; i++) {
			/* Counted per session: what this run remapped. */
			remaps += vmdev_debugfs_stat(self->node[i],
						     "iotlb_msgs", "batches");
			if (!variant->pci)
				ASSERT_EQ(0, sim_stat(self->node[i], "broken"));
		}
	}
	TH_LOG("%ld runs of %ld s: %ld packets received, slowest second %ld pps, %ld IOTLB batches",
	       runs, secs, total, min_pps, remaps);
	if (!variant->pci)
		TH_LOG("device A: %ld passes, %ld requeued, %ld waits for receive buffers",
		       sim_stat(self->node[0], "passes"),
		       sim_stat(self->node[0], "requeued"),
		       sim_stat(self->node[0], "waits"));
}

TEST_HARNESS_MAIN
