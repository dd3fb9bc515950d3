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
#include <stdlib.h>
#include <string.h>
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

/* Is @name installed for the running kernel (listed in modules.dep)? */
static inline bool vmdev_module_installed(const char *name)
{
	char path[256], line[512], want[128];
	struct utsname u;
	bool found = false;
	FILE *f;

	if (uname(&u))
		return false;
	snprintf(path, sizeof(path), "/lib/modules/%s/modules.dep", u.release);
	snprintf(want, sizeof(want), "/%s.ko:", name);
	f = fopen(path, "r");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');

		if (colon && colon - line + 1 >= (long)strlen(want) &&
		    !strncmp(colon + 1 - strlen(want), want, strlen(want)))
			found = true;
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

/* Read a sysfs/procfs file into @buf, trailing newline removed. */
static inline int vmdev_read_file(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	while (n && buf[n - 1] == '\n')
		buf[--n] = '\0';
	return 0;
}

static inline int vmdev_write_file(const char *path, const char *val)
{
	ssize_t n;
	int fd;

	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	close(fd);
	return n < 0 ? -errno : 0;
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

#endif /* VMDEV_TEST_H */
