// SPDX-License-Identifier: GPL-2.0-only
/*
 * vhost-mdev core: the dirty log of a live migration.
 *
 * A client that acks VHOST_F_LOG_ALL and gives a log with
 * VHOST_SET_LOG_BASE (QEMU, while it migrates a VM) learns which pages of
 * guest memory the device wrote: bit n of the log, an array of u64 in the
 * client's memory, is the 4 KiB page n of address space 0, as vhost-net
 * writes it (QEMU 7.2 uses guest physical addresses as IOVAs). The client
 * reads and clears the bits whenever it likes; the device only sets them.
 *
 * The log is pinned when it is given, as much of it as the IOTLB of
 * address space 0 needs (more when that IOTLB grows), so that a device can
 * log from atomic context, with the IOTLB lock held. That lock also orders
 * the log against its replacement: a new log or the end of logging takes
 * it for writing, so once VHOST_SET_LOG_BASE or VHOST_SET_FEATURES returns,
 * nothing writes into the old log, which the client then frees.
 *
 * A device of %VHOST_MDEV_LOG_IOTLB_WRITES makes every write through
 * vhost_mdev_iotlb_write(), which sets the bit of each page after the data
 * (vhost_mdev_log_write()). One of %VHOST_MDEV_LOG_SHADOW writes by DMA:
 * its parent, relaying the rings while the client logs, logs each buffer
 * the device used with vhost_mdev_iotlb_log() before it tells the driver.
 */

#include <linux/debugfs.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "core.h"

#define VHOST_MDEV_LOG_PAGE_SHIFT	12	/* what a bit covers: 4 KiB */
#define VHOST_MDEV_LOG_CHUNK		sizeof(u64)

/*
 * Bytes of log that cover every page address space 0 maps writable (at
 * least one u64): the device writes nowhere else, and a client sizes its
 * log for its RAM, not for the ROM it maps read-only (QEMU maps its BIOS
 * just below 4 GiB, far above a small guest's RAM).
 */
static u64 vhost_mdev_log_bytes(struct vhost_mdev_core *core)
{
	struct vhost_iotlb_map *map;
	u64 last = 0;

	list_for_each_entry(map, &core->iotlb[0].list, link)
		if (map->perm & VHOST_MAP_WO)
			last = max(last, map->last);
	last >>= VHOST_MDEV_LOG_PAGE_SHIFT;
	/* Whole u64s, as the client reads them. */
	return (last / (VHOST_MDEV_LOG_CHUNK * BITS_PER_BYTE) + 1) *
	       VHOST_MDEV_LOG_CHUNK;
}

static void vhost_mdev_log_free(struct vhost_mdev_core *core,
				struct vhost_mdev_log *log)
{
	if (!log)
		return;
	unpin_user_pages_dirty_lock(log->pages, log->npages, true);
	if (core->owner)
		atomic64_sub(log->npages, &core->owner->pinned_vm);
	kvfree(log);
}

/* Pin @bytes of the log at @uaddr in the caller's (the owner's) memory. */
static struct vhost_mdev_log *vhost_mdev_log_pin(struct vhost_mdev_core *core,
						 u64 uaddr, u64 bytes)
{
	unsigned long released = core->log ? core->log->npages : 0;
	struct vhost_mdev_log *log;
	unsigned long npages;
	u64 end;
	long got;
	int ret;

	if (check_add_overflow(uaddr, bytes, &end) ||
	    !access_ok(u64_to_user_ptr(uaddr), bytes))
		return ERR_PTR(-EFAULT);
	npages = DIV_ROUND_UP(end - (uaddr & PAGE_MASK), PAGE_SIZE);
	ret = vhost_mdev_memlock_check(npages, released);
	if (ret)
		return ERR_PTR(ret);

	log = kvzalloc(struct_size(log, pages, npages), GFP_KERNEL_ACCOUNT);
	if (!log)
		return ERR_PTR(-ENOMEM);
	log->uaddr = uaddr;
	log->bytes = bytes;
	log->npages = npages;
	got = pin_user_pages_fast(uaddr & PAGE_MASK, npages,
				  FOLL_WRITE | FOLL_LONGTERM, log->pages);
	if (got != npages) {
		if (got > 0)
			unpin_user_pages(log->pages, got);
		kvfree(log);
		/* Unmapped or read-only memory. */
		return ERR_PTR(got == -ENOMEM ? -ENOMEM : -EFAULT);
	}
	atomic64_add(npages, &core->owner->pinned_vm);
	return log;
}

/* Make @log the log (NULL: none); the old one is freed. */
static void vhost_mdev_log_swap(struct vhost_mdev_core *core,
				struct vhost_mdev_log *log)
{
	struct vhost_mdev_log *old;

	write_lock(&core->iotlb_lock);
	old = core->log;
	core->log = log;
	write_unlock(&core->iotlb_lock);
	vhost_mdev_log_free(core, old);
}

/**
 * vhost_mdev_set_log_base - VHOST_SET_LOG_BASE
 * @vdev: the device, its lock held, called by the owner
 * @uaddr: the log, in the owner's memory; 0 for none
 *
 * Return: 0; -EOPNOTSUPP when the device cannot log, -EFAULT when the log is
 * not mapped writable, -ENOMEM (RLIMIT_MEMLOCK too). On error the log in
 * use before stays.
 */
long vhost_mdev_set_log_base(struct vhost_mdev_device *vdev, u64 uaddr)
{
	struct vhost_mdev_core *core = vdev->core;
	struct vhost_mdev_log *log = NULL;

	lockdep_assert_held(&core->lock);
	if (!vhost_mdev_vhost_features(vdev))
		return -EOPNOTSUPP;
	if (uaddr) {
		log = vhost_mdev_log_pin(core, uaddr,
					 vhost_mdev_log_bytes(core));
		if (IS_ERR(log))
			return PTR_ERR(log);
	}
	vhost_mdev_log_swap(core, log);
	return 0;
}

/**
 * vhost_mdev_log_cover - pin more of the log after address space 0 grew
 * @vdev: the device, its lock held, called by the owner
 *
 * QEMU gives the log before it maps guest memory when it restarts a device
 * during a migration.
 *
 * Return: 0, or -errno: the log stays as it was, and writes beyond it are
 * counted as misses.
 */
int vhost_mdev_log_cover(struct vhost_mdev_device *vdev)
{
	struct vhost_mdev_core *core = vdev->core;
	struct vhost_mdev_log *log;
	u64 bytes;

	lockdep_assert_held(&core->lock);
	if (!core->log)
		return 0;
	bytes = vhost_mdev_log_bytes(core);
	if (bytes <= core->log->bytes)
		return 0;
	log = vhost_mdev_log_pin(core, core->log->uaddr, bytes);
	if (IS_ERR(log)) {
		dev_warn_ratelimited(&vdev->dev,
				     "cannot pin %llu bytes of dirty log: %ld\n",
				     bytes, PTR_ERR(log));
		return PTR_ERR(log);
	}
	vhost_mdev_log_swap(core, log);
	return 0;
}

static void vhost_mdev_log_set(struct vhost_mdev_core *core, bool on)
{
	write_lock(&core->iotlb_lock);
	core->log_all = on;
	write_unlock(&core->iotlb_lock);
}

/**
 * vhost_mdev_log_all - start or stop logging (VHOST_F_LOG_ALL)
 * @vdev: the device, its lock held
 * @on: log from now on; when false, the log is also forgotten (QEMU frees
 *	it once logging is off)
 * A parent that relays the rings while the client logs is told, after
 * logging started (what it relays from the start is logged) and with the
 * irq bypass producers gone (the interrupts must reach it).
 * Return: 0, or the parent's -errno: logging stays as it was.
 */
int vhost_mdev_log_all(struct vhost_mdev_device *vdev, bool on)
{
	struct vhost_mdev_core *core = vdev->core;
	bool was = core->log_all;
	int ret;

	lockdep_assert_held(&core->lock);
	if (on)
		vhost_mdev_log_set(core, true);
	if (on != was && vdev->ops->set_log_all) {
		if (on)
			vhost_mdev_producers_off(vdev);
		ret = vdev->ops->set_log_all(vdev, on);
		if (ret) {
			vhost_mdev_log_set(core, was);
			return ret;
		}
	}
	if (!on) {
		vhost_mdev_log_set(core, false);
		vhost_mdev_log_swap(core, NULL);
	}
	return 0;
}

/**
 * vhost_mdev_log_drop - forget the log and stop logging (end of a session)
 * @vdev: the device, its lock held
 */
void vhost_mdev_log_drop(struct vhost_mdev_device *vdev)
{
	vhost_mdev_log_all(vdev, false);
	atomic64_set(&vdev->core->logged, 0);
	atomic64_set(&vdev->core->log_misses, 0);
}

/**
 * vhost_mdev_log_write - log a write the device made to guest memory
 * @core: the device's core, its IOTLB lock held for reading
 * @iova: where, in address space 0
 * @len: how many bytes, not 0
 *
 * Called after the data was written: a client that finds the bit set
 * finds the data too.
 */
void vhost_mdev_log_write(struct vhost_mdev_core *core, u64 iova, u64 len)
{
	struct vhost_mdev_log *log = core->log;
	u64 page, last, byte;
	void *va;

	lockdep_assert_held_read(&core->iotlb_lock);
	if (!log || !core->log_all)
		return;

	/* The data before its bit: the client reads the bit, then the page. */
	smp_wmb();
	last = (iova + len - 1) >> VHOST_MDEV_LOG_PAGE_SHIFT;
	for (page = iova >> VHOST_MDEV_LOG_PAGE_SHIFT; page <= last; page++) {
		byte = page / BITS_PER_BYTE;
		if (byte >= log->bytes) {
			atomic64_inc(&core->log_misses);
			return;
		}
		byte += offset_in_page(log->uaddr);
		va = kmap_local_page(log->pages[byte >> PAGE_SHIFT]);
		set_bit(offset_in_page(byte) * BITS_PER_BYTE +
			page % BITS_PER_BYTE, va);
		kunmap_local(va);
		atomic64_inc(&core->logged);
	}
}

/**
 * vhost_mdev_iotlb_log - log a write the device made to guest memory by DMA
 * @vdev: the device, with vhost_mdev_iotlb_lock() held
 * @iova: where it wrote, in address space 0
 * @len: how many bytes (0: none)
 *
 * For a %VHOST_MDEV_LOG_SHADOW device: call it when the device used a
 * buffer, before the driver can see the used entry. Does nothing while the
 * client does not log.
 */
void vhost_mdev_iotlb_log(struct vhost_mdev_device *vdev, u64 iova,
			  size_t len)
{
	u64 last;

	if (len && !check_add_overflow(iova, (u64)len - 1, &last))
		vhost_mdev_log_write(vdev->core, iova, len);
}
EXPORT_SYMBOL_GPL(vhost_mdev_iotlb_log);

/**
 * vhost_mdev_log_offered - does the device offer VHOST_F_LOG_ALL?
 * @vdev: the device
 *
 * The mdev's dirty_log attribute, which changes only while the device is
 * closed: a parent may ask from its set_status() and keep the answer for
 * the session.
 *
 * Return: true if a client of the device can log (migrate).
 */
bool vhost_mdev_log_offered(struct vhost_mdev_device *vdev)
{
	return vhost_mdev_vhost_features(vdev);
}
EXPORT_SYMBOL_GPL(vhost_mdev_log_offered);

/* What logging is doing, for debugfs. */
static int vhost_mdev_log_show(struct seq_file *s, void *unused)
{
	struct vhost_mdev_device *vdev = s->private;
	struct vhost_mdev_core *core = vdev->core;
	struct vhost_mdev_log *log;

	guard(mutex)(&core->lock);
	log = core->log;
	seq_printf(s, "offered %d\nlog_all %d\n",
		   !!vhost_mdev_vhost_features(vdev), core->log_all);
	seq_printf(s, "base %#llx\nbytes %llu\npages %lu\n",
		   log ? log->uaddr : 0, log ? log->bytes : 0,
		   log ? log->npages : 0);
	seq_printf(s, "logged %lld\nmisses %lld\n",
		   atomic64_read(&core->logged),
		   atomic64_read(&core->log_misses));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vhost_mdev_log);

/**
 * vhost_mdev_log_debugfs - the device's debugfs file "log"
 * @vdev: the device, whose debugfs directory exists
 */
void vhost_mdev_log_debugfs(struct vhost_mdev_device *vdev)
{
	debugfs_create_file("log", 0444, vdev->core->debugfs, vdev,
			    &vhost_mdev_log_fops);
}
