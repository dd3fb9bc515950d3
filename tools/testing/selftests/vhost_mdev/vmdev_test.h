/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers shared by the vhost-mdev selftests. They return the raw result
 * (0 / -errno / exit status) and leave the judging to the test.
 */
#ifndef VMDEV_TEST_H
#define VMDEV_TEST_H

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <sys/klog.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/vhost_mdev.h>
#include <linux/virtio_net.h>

#include "vmdev.h"

/*
 * Run @prog with one or two arguments (@arg2 may be NULL), output discarded;
 * return its exit status (or -errno if it could not run).
 */
static inline int vmdev_run2(const char *prog, const char *arg,
			     const char *arg2)
{
	int status;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return -errno;
	if (!pid) {
		int null = open("/dev/null", O_WRONLY);

		if (null >= 0) {
			dup2(null, 1);
			dup2(null, 2);
		}
		execl(prog, prog, arg, arg2, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/*
 * Is module @name installed for the running kernel (listed in
 * modules.dep)? File names may spell '_' as '-' (kvm-amd.ko).
 */
static inline bool vmdev_module_installed(const char *name)
{
	char path[256], line[512], *colon, *base, *p;
	struct utsname u;
	bool found = false;
	FILE *f;

	if (uname(&u))
		return false;
	snprintf(path, sizeof(path), "/lib/modules/%s/modules.dep", u.release);
	f = fopen(path, "r");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		colon = strchr(line, ':');
		if (!colon)
			continue;
		*colon = '\0';
		base = strrchr(line, '/');
		base = base ? base + 1 : line;
		for (p = base; *p; p++)
			if (*p == '-')
				*p = '_';
		p = strstr(base, ".ko");
		if (p)
			*p = '\0';
		found = !strcmp(base, name);
	}
	fclose(f);
	return found;
}

static inline bool vmdev_module_loaded(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "/sys/module/%s", name);
	return !access(path, F_OK);
}

static inline int vmdev_modprobe(const char *name)
{
	return vmdev_run2("/sbin/modprobe", name, NULL);
}

/* modprobe @name with module parameters (one string, space separated). */
static inline int vmdev_modprobe_params(const char *name, const char *params)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "/sbin/modprobe %s %s", name, params);
	return vmdev_run2("/bin/sh", "-c", cmd);
}

static inline int vmdev_rmmod(const char *name)
{
	return vmdev_run2("/sbin/rmmod", name, NULL);
}

/* Unload the accelerator drivers, the core's users: 0 when none is left. */
static inline int vmdev_unload_parents(void)
{
	static const char *const parents[] = {
		"vhost_mdev_pci", "vmdev_sim_rng", "vhost_mdev_sim",
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(parents); i++)
		if (vmdev_module_loaded(parents[i]) && vmdev_rmmod(parents[i]))
			return -EBUSY;
	return 0;
}

static inline bool vmdev_is_dir(const char *path)
{
	struct stat st;

	return !stat(path, &st) && S_ISDIR(st.st_mode);
}

/* The major of the /proc/devices character line named @name, or -ENOENT. */
static inline int vmdev_chrdev_major(const char *name)
{
	char line[128], dev[64];
	bool chr = false;
	int major, ret = -ENOENT;
	FILE *f;

	f = fopen("/proc/devices", "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "Character devices:", 18)) {
			chr = true;
		} else if (!strncmp(line, "Block devices:", 14)) {
			chr = false;
		} else if (chr && sscanf(line, "%d %63s", &major, dev) == 2 &&
			   !strcmp(dev, name)) {
			ret = major;
			break;
		}
	}
	fclose(f);
	return ret;
}

/*
 * The major DPDK's virtio_user takes for vhost-vdpa devices: the first
 * /proc/devices line whose name, read with "%10s", is "vhost-vdpa".
 */
static inline int vmdev_dpdk_vhost_vdpa_major(void)
{
	char line[128], dev[11];
	int major, ret = -ENOENT;
	FILE *f;

	f = fopen("/proc/devices", "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%d %10s", &major, dev) == 2 &&
		    !strcmp(dev, "vhost-vdpa")) {
			ret = major;
			break;
		}
	}
	fclose(f);
	return ret;
}

/*
 * Load the simulator and create one net mdev: 0, -ENOENT when the module is
 * not installed (a reason to skip), other -errno for a real failure.
 */
static inline int vmdev_sim_mdev(char uuid[37], char *node, size_t len)
{
	int ret;

	if (!vmdev_module_installed("vhost_mdev_sim"))
		return -ENOENT;
	if (vmdev_modprobe("vhost_mdev_sim"))
		return -EIO;
	ret = vmdev_uuid_random(uuid);
	if (!ret)
		ret = vmdev_mdev_create(VMDEV_SIM_PARENT, VMDEV_SIM_NET_TYPE,
					uuid);
	if (!ret)
		ret = vmdev_mdev_node(uuid, node, len);
	return ret;
}

/*
 * A simulator net mdev with its node open read-write: the fd, -ENOENT when
 * the simulator is not installed (a reason to skip), other -errno. @uuid is
 * set as soon as the mdev exists, for vmdev_sim_close().
 */
static inline int vmdev_sim_open(char uuid[37], char *node, size_t len)
{
	int ret = vmdev_sim_mdev(uuid, node, len);

	if (ret)
		return ret;
	ret = open(node, O_RDWR);
	return ret < 0 ? -errno : ret;
}

/* Undo vmdev_sim_open(), whatever part of it succeeded: 0 or -errno. */
static inline int vmdev_sim_close(int fd, const char *uuid)
{
	if (fd >= 0)
		close(fd);
	return uuid[0] ? vmdev_mdev_remove(uuid) : 0;
}

/* At least @n free-or-used 2 MiB hugepages: 0, or -1 if the kernel won't. */
static inline int vmdev_reserve_hugepages(unsigned int n)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%u", n);
	if (vmdev_write_file("/proc/sys/vm/nr_hugepages", buf))
		return -1;
	if (vmdev_read_file("/proc/sys/vm/nr_hugepages", buf, sizeof(buf)))
		return -1;
	return (unsigned int)atoi(buf) >= n ? 0 : -1;
}

/* The driver @bdf is bound to, "" when none. */
static inline void vmdev_pci_driver(const char *bdf, char *drv, size_t len)
{
	char path[128], link[256];
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	drv[0] = '\0';
	if (n > 0) {
		link[n] = '\0';
		snprintf(drv, len, "%s", strrchr(link, '/') + 1);
	}
}

/*
 * A fact about the test machine (vm/machine.py, in the environment the VM's
 * init gives the tests), or @def when the tests run elsewhere.
 */
static inline const char *vmdev_machine(const char *key, const char *def)
{
	const char *v = getenv(key);

	return v && *v ? v : def;
}

/*
 * A group of long tests that this run leaves out: `make check TRIM="svq mq
 * dpdk migration libvirt bench"`, or "pci-mq" for the multiqueue guests on
 * the PCI parent only, "migration-packed" for the packed guest's migration
 * only (CI trims its debug and 6.1 runs to fit its time; the run on
 * Debian's 6.12 always has everything). They report a skip:
 * SKIP(..., VMDEV_TRIMMED, group).
 */
static inline bool vmdev_trimmed(const char *group)
{
	char list[128], *w, *save;

	snprintf(list, sizeof(list), "%s", vmdev_machine("VMRUN_TRIM", ""));
	for (w = strtok_r(list, " ", &save); w; w = strtok_r(NULL, " ", &save))
		if (!strcmp(w, group))
			return true;
	return false;
}

/* The skip message of a test whose group TRIM has. */
#define VMDEV_TRIMMED	"left out of this run (TRIM has %s)"

/* The accelerator functions' vendor:device ID. */
#define VMDEV_ACCEL_ID		vmdev_machine("VMRUN_ACCEL_ID", "1af4:1041")
/* Modern functions that share one IOMMU group; a legacy-only one. */
#define VMDEV_SHARED_GROUP_ID	vmdev_machine("VMRUN_SHARED_GROUP_ID", "1af4:1044")
#define VMDEV_LEGACY_ID		vmdev_machine("VMRUN_LEGACY_ID", "1af4:1005")

/* How many entries @dir has, not counting hidden ones; -errno. */
static inline int vmdev_count_dir(const char *dir)
{
	struct dirent *e;
	int n = 0;
	DIR *d;

	d = opendir(dir);
	if (!d)
		return -errno;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* Up to @max functions of @id (vendor:device, hex), as BDFs; how many. */
static inline int vmdev_pci_find(const char *id, char bdfs[][16], int max)
{
	unsigned int vendor = 0, device = 0;

	char path[300], buf[16];
	struct dirent *e;
	int n = 0;
	DIR *d;

	if (sscanf(id, "%x:%x", &vendor, &device) != 2)
		return 0;
	d = opendir("/sys/bus/pci/devices");
	if (!d)
		return 0;
	while (n < max && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vendor",
			 e->d_name);
		if (vmdev_read_file(path, buf, sizeof(buf)) ||
		    strtoul(buf, NULL, 16) != vendor)
			continue;
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/device",
			 e->d_name);
		if (vmdev_read_file(path, buf, sizeof(buf)) ||
		    strtoul(buf, NULL, 16) != device)
			continue;
		if (strlen(e->d_name) < 16)
			memcpy(bdfs[n++], e->d_name, strlen(e->d_name) + 1);
	}
	closedir(d);
	/* readdir order is not sorted: make "first" mean the lowest BDF. */
	if (n == 2 && strcmp(bdfs[0], bdfs[1]) > 0) {
		memcpy(buf, bdfs[0], 16);
		memcpy(bdfs[0], bdfs[1], 16);
		memcpy(bdfs[1], buf, 16);
	}
	return n;
}

/* Unbind @bdf from its driver, if any, and set its driver_override. */
static inline int vmdev_pci_override(const char *bdf, const char *driver)
{
	char path[128], drv[64];

	vmdev_pci_driver(bdf, drv, sizeof(drv));
	if (drv[0]) {
		snprintf(path, sizeof(path),
			 "/sys/bus/pci/devices/%s/driver/unbind", bdf);
		if (vmdev_write_file(path, bdf))
			return -EIO;
	}
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver_override",
		 bdf);
	return vmdev_write_file(path, driver) ? -EIO : 0;
}

/* Hand @bdf to @driver as a user would: unbind, driver_override, probe. */
static inline int vmdev_pci_bind(const char *bdf, const char *driver)
{
	char drv[64];

	vmdev_pci_driver(bdf, drv, sizeof(drv));
	if (!strcmp(drv, driver))
		return 0;
	if (vmdev_pci_override(bdf, driver))
		return -EIO;
	vmdev_write_file("/sys/bus/pci/drivers_probe", bdf);
	vmdev_pci_driver(bdf, drv, sizeof(drv));
	return strcmp(drv, driver) ? -ENODEV : 0;
}

/* Undo vmdev_pci_bind(): unbind, clear the override, let anyone probe. */
static inline int vmdev_pci_release(const char *bdf)
{
	if (vmdev_pci_override(bdf, "\n"))
		return -EIO;
	return vmdev_write_file("/sys/bus/pci/drivers_probe", bdf);
}

#define VMDEV_PCI_DRV		"vhost_mdev_pci"
#define VMDEV_PCI_NET_TYPE	"vhost_mdev_pci-net"

/*
 * One of the test VM's accelerator functions, handed to vhost_mdev_pci, with
 * an mdev and a library driver on it.
 */
struct fn {
	char bdf[16];
	char uuid[37];
	char node[64];
	struct vmdev d;
};

static inline int fn_up(struct fn *f)
{
	char parent[128];
	int ret;

	ret = vmdev_pci_bind(f->bdf, VMDEV_PCI_DRV);
	if (ret)
		return ret;
	snprintf(parent, sizeof(parent), "/sys/class/mdev_bus/%s", f->bdf);
	ret = vmdev_uuid_random(f->uuid);
	if (!ret)
		ret = vmdev_mdev_create(parent, VMDEV_PCI_NET_TYPE, f->uuid);
	if (!ret)
		ret = vmdev_mdev_node(f->uuid, f->node, sizeof(f->node));
	return ret;
}

/*
 * Let the mdev of @f run packed rings on the function alone (the direct
 * data path): an mdev that cannot migrate (sysfs dirty_log 0); one that
 * can relays them. Before the device is opened.
 */
static inline int fn_packed(struct fn *f)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s/dirty_log",
		 f->uuid);
	return vmdev_write_file(path, "0");
}

/*
 * Undo fn_up() but the binding: the next test of this file takes the
 * function as it is (handing it to virtio-net and back costs ~3 s on the
 * debug kernel, per function and test). The file's process gives the
 * functions back when it exits: vmdev_pci_release_all().
 */
static inline void fn_down(struct fn *f)
{
	char path[128];

	vmdev_close(&f->d);
	snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s", f->uuid);
	if (f->uuid[0] && !access(path, F_OK))
		vmdev_mdev_remove(f->uuid);
}

static pid_t vmdev_main_pid;

static void __attribute__((constructor)) vmdev_main_pid_init(void)
{
	vmdev_main_pid = getpid();
}

/*
 * At the exit of the test file's own process (not of a test's, nor of any
 * child's), every accelerator function left with vhost_mdev_pci goes back
 * to its default driver, as it was before the file ran.
 */
static void __attribute__((destructor)) vmdev_pci_release_all(void)
{
	char bdfs[8][16], path[128], drv[64];
	int n, i;

	if (getpid() != vmdev_main_pid)
		return;
	n = vmdev_pci_find(VMDEV_ACCEL_ID, bdfs, 8);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path),
			 "/sys/bus/pci/devices/%s/driver_override", bdfs[i]);
		if (!vmdev_read_file(path, drv, sizeof(drv)) &&
		    !strcmp(drv, VMDEV_PCI_DRV))
			vmdev_pci_release(bdfs[i]);
	}
}

/*
 * The debug kernel flavour (kmemleak is its mark): its checkers see a path
 * in one pass, each pass there costs several times what it costs on
 * Debian's kernel, and tests that repeat a path for its own sake repeat it
 * less there.
 */
static inline bool vmdev_debug_kernel(void)
{
	return !access("/sys/kernel/debug/kmemleak", F_OK);
}

/* Find both functions, bind them, one mdev each; SKIP reasons as -ENOENT. */
static inline int fns_up(struct fn fns[2], const char **why)
{
	char bdfs[2][16];
	struct rlimit rl = { 256 << 20, 256 << 20 };
	int i, ret;

	for (i = 0; i < 2; i++) {
		memset(&fns[i], 0, sizeof(fns[i]));
		vmdev_init(&fns[i].d);
	}
	if (vmdev_pci_find(VMDEV_ACCEL_ID, bdfs, 2) < 2) {
		*why = "needs two modern virtio-net PCI functions";
		return -ENOENT;
	}
	if (!vmdev_module_installed(VMDEV_PCI_DRV)) {
		*why = VMDEV_PCI_DRV ".ko is not installed";
		return -ENOENT;
	}
	if (vmdev_modprobe(VMDEV_PCI_DRV) || setrlimit(RLIMIT_MEMLOCK, &rl))
		return -EIO;
	for (i = 0; i < 2; i++) {
		snprintf(fns[i].bdf, sizeof(fns[i].bdf), "%s", bdfs[i]);
		ret = fn_up(&fns[i]);
		if (ret)
			return ret;
	}
	return 0;
}

/* A frame from @from: broadcast, a local ethertype, a pattern of @seq. */
static inline size_t vmdev_frame(uint8_t *f, unsigned int seq,
				 unsigned int from)
{
	size_t len = 60 + (seq * 7919u) % (1514 - 60 + 1), i;

	memset(f, 0xff, 6);
	memcpy(f + 6, "\x02\x56\x4d\x00\x00\x00", 6);
	f[11] = from;
	f[12] = 0x88;
	f[13] = 0xb5;
	f[14] = seq >> 8;
	f[15] = seq;
	for (i = 16; i < len; i++)
		f[i] = (uint8_t)(seq * 31 + i * 17 + from);
	return len;
}

/* Does the kernel log have a line with both @a and @b? */
static inline bool vmdev_klog_has(const char *a, const char *b)
{
	static char log[1 << 17];
	char *line, *save;
	int len = klogctl(3, log, sizeof(log) - 1);

	if (len <= 0)
		return false;
	log[len] = '\0';
	for (line = strtok_r(log, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		if (strstr(line, a) && strstr(line, b))
			return true;
	return false;
}

/* The dirty log of a live migration, as QEMU 7.2 drives it. */

/* SET_VRING_ADDR of every queue the library set up, as it set it, + @flags. */
static inline int vmdev_vring_addrs(struct vmdev *d, unsigned int flags)
{
	struct vhost_vring_addr a;
	unsigned int q;
	int ret;

	for (q = 0; q < d->nvqs; q++) {
		if (!d->vqs[q].num)
			continue;
		a = (struct vhost_vring_addr) {
			.index = q, .flags = flags,
			.desc_user_addr = vmdev_iova(d, d->vqs[q].desc),
			.avail_user_addr = vmdev_iova(d, d->vqs[q].avail),
			.used_user_addr = vmdev_iova(d, d->vqs[q].used),
			.log_guest_addr = vmdev_iova(d, d->vqs[q].used),
		};
		ret = vmdev_ioctl(d->fd, VHOST_SET_VRING_ADDR, &a);
		if (ret)
			return ret;
	}
	return 0;
}

/* What QEMU 7.2's vhost_dev_set_log(true) sends a running device. */
static inline int vmdev_log_start(struct vmdev *d, uint64_t *log)
{
	uint64_t features = d->features | (1ULL << VHOST_F_LOG_ALL);
	uint64_t base = (uintptr_t)log, backend;
	uint8_t status;
	int ret;

	ret = vmdev_ioctl(d->fd, VHOST_SET_LOG_BASE, &base);
	if (!ret)
		ret = vmdev_ioctl(d->fd, VHOST_SET_FEATURES, &features);
	if (!ret)
		ret = vmdev_ioctl(d->fd, VHOST_GET_BACKEND_FEATURES, &backend);
	if (!ret) {
		backend = d->backend;
		ret = vmdev_ioctl(d->fd, VHOST_SET_BACKEND_FEATURES, &backend);
	}
	if (!ret)
		ret = vmdev_get_status(d->fd, &status);
	if (!ret)
		ret = vmdev_set_status(d->fd, status);
	if (!ret)
		ret = vmdev_vring_addrs(d, 1 << VHOST_VRING_F_LOG);
	return ret;
}

/* And vhost_dev_set_log(false). */
static inline int vmdev_log_stop(struct vmdev *d)
{
	int ret = vmdev_ioctl(d->fd, VHOST_SET_FEATURES, &d->features);

	return ret ?: vmdev_vring_addrs(d, 0);
}

/* Set the bits of the 4 KiB pages [@iova, @iova + @len) in @bits. */
static inline void vmdev_log_page(uint64_t *bits, uint64_t iova, uint64_t len)
{
	uint64_t p;

	for (p = iova / 4096; p <= (iova + len - 1) / 4096; p++)
		bits[p / 64] |= 1ULL << (p % 64);
}

/*
 * The pages the device wrote on queue @q since its used index was @from:
 * each used element and the index, and each buffer up to its used length.
 */
static inline void vmdev_log_written(struct vmdev *d, unsigned int q,
				     uint16_t from, uint64_t *bits)
{
	struct vmdev_vq *vq = &d->vqs[q];
	uint16_t i, to = le16toh(vq->used->idx);
	uint32_t id, len;

	vmdev_log_page(bits, vmdev_iova(d, &vq->used->idx), 2);
	for (i = from; i != to; i++) {
		vmdev_log_page(bits,
			       vmdev_iova(d, &vq->used->ring[i % vq->num]),
			       sizeof(vq->used->ring[0]));
		id = le32toh(vq->used->ring[i % vq->num].id);
		len = le32toh(vq->used->ring[i % vq->num].len);
		if (len)
			vmdev_log_page(bits, le64toh(vq->desc[id].addr), len);
	}
}

/* Interrupts taken by the /proc/interrupts line naming @name, or -1. */
static inline long long vmdev_irq_count(const char *name)
{
	char line[1024], *p, *end;
	long long sum = -1, v;
	FILE *f;

	f = fopen("/proc/interrupts", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strstr(line, name))
			continue;
		p = strchr(line, ':');
		if (!p)
			continue;
		sum = 0;
		for (p++;; p = end) {
			v = strtoll(p, &end, 10);
			if (end == p)
				break;
			sum += v;
		}
		break;
	}
	fclose(f);
	return sum;
}

/* The Linux irq number of the /proc/interrupts line naming @name, or -1. */
static inline int vmdev_irq_number(const char *name)
{
	char line[1024];
	int irq = -1;
	FILE *f;

	f = fopen("/proc/interrupts", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, name) && sscanf(line, " %d:", &irq) == 1)
			break;
	fclose(f);
	return irq;
}

/*
 * Writes to a doorbell page that may answer SIGBUS. vmdev_bus_catch() once
 * per process; then vmdev_bus_write() writes and says whether the write
 * went through (0) or got SIGBUS (-EFAULT), in any thread.
 */
static __thread sigjmp_buf vmdev_bus_jmp;

static inline void vmdev_bus_handler(int sig)
{
	siglongjmp(vmdev_bus_jmp, 1);
}

static inline int vmdev_bus_catch(void)
{
	struct sigaction sa = { .sa_handler = vmdev_bus_handler };

	return sigaction(SIGBUS, &sa, NULL) ? -errno : 0;
}

static inline int vmdev_bus_write(void *page, uint16_t val)
{
	if (sigsetjmp(vmdev_bus_jmp, 1))
		return -EFAULT;
	__atomic_store_n((uint16_t *)page, val, __ATOMIC_RELAXED);
	return 0;
}

/* Where the VM keeps the L2 scenarios (vm/l2/). */
#define VMDEV_SCENARIOS		"/usr/share/vmrun/l2/"

/*
 * Run scenario @script (with the arguments in @args, separated by spaces,
 * or none), showing its output as it comes and keeping it in @out (its last
 * half, if it outgrows @out); its exit status (or -errno). A "VMRUN:" line
 * it prints reaches the runner.
 */
static inline int vmdev_scenario_once(const char *script, const char *args,
				      char *out, size_t len)
{
	char words[128], *argv[8] = { (char *)script };
	int pipefd[2], status, argc = 1;
	size_t got = 0;
	ssize_t n;
	pid_t pid;

	snprintf(words, sizeof(words), "%s", args ? args : "");
	for (argv[argc] = strtok(words, " "); argv[argc] && argc < 6;)
		argv[++argc] = strtok(NULL, " ");
	argv[argc] = NULL;

	fflush(stdout);
	/* Close-on-exec: what the script leaves running must not hold it. */
	if (pipe2(pipefd, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (!pid) {
		dup2(pipefd[1], 1);
		dup2(pipefd[1], 2);
		close(pipefd[0]);
		execv(script, argv);
		_exit(127);
	}
	close(pipefd[1]);
	while ((n = read(pipefd[0], out + got, len - 1 - got)) > 0) {
		fwrite(out + got, 1, n, stdout);
		fflush(stdout);
		got += n;
		/* Full: keep the newer half (the RESULT lines come last). */
		if (got == len - 1) {
			memmove(out, out + got / 2, got - got / 2);
			got -= got / 2;
		}
	}
	out[got] = '\0';
	close(pipefd[0]);
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The value of "key=" on the last RESULT line that has it, or "". */
static inline const char *vmdev_result(const char *out, const char *key,
				       char *buf, size_t len)
{
	const char *p = out, *q, *eol;
	char pat[64];
	size_t n;

	snprintf(pat, sizeof(pat), " %s=", key);
	buf[0] = '\0';
	while ((p = strstr(p, "RESULT "))) {
		q = strstr(p, pat);
		eol = strchr(p, '\n');
		if (q && (!eol || q < eol)) {
			q += strlen(pat);
			n = strcspn(q, "\t\n ");
			snprintf(buf, len, "%.*s", (int)(n < len ? n : len - 1), q);
		}
		p += 7;
	}
	return buf;
}

/* The same as a number, -1 when missing. */
static inline long vmdev_result_num(const char *out, const char *key)
{
	char buf[64];

	vmdev_result(out, key, buf, sizeof(buf));
	return buf[0] ? atol(buf) : -1;
}

/*
 * vmdev_scenario_once(), once more when an L2 guest died of a triple fault
 * (RESULT l2_shutdown_exits, vm/l2/l2lib.sh), as nested SVM on TCG now and
 * then makes one die. Never twice: a second one is the result. The runner
 * lists each such run before its summary.
 */
static inline int vmdev_scenario(const char *script, const char *args,
				 char *out, size_t len)
{
	int ret = vmdev_scenario_once(script, args, out, len);

	if (vmdev_result_num(out, "l2_shutdown_exits") <= 0)
		return ret;
	printf("VMRUN: l2-triple-fault %s %s\n", script, args ? args : "");
	printf("# an L2 guest triple-faulted (above): the scenario once more\n");
	return vmdev_scenario_once(script, args, out, len);
}

/* Tell the runner QEMU may print this (a fault a test causes on purpose). */
static inline void vmdev_expect_qemu(const char *regex)
{
	printf("VMRUN: expect-qemu %s\n", regex);
	fflush(stdout);
}

#endif /* VMDEV_TEST_H */
