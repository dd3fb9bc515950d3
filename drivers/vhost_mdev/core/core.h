/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vhost-mdev core: state shared by the core's files, private to the module.
 */
#ifndef _VHOST_MDEV_CORE_H
#define _VHOST_MDEV_CORE_H

#include <linux/cdev.h>
#include <linux/eventfd.h>
#include <linux/irqbypass.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/rwsem.h>
#include <linux/scatterlist.h>
#include <linux/spinlock.h>
#include <linux/vhost.h>
#include <linux/vhost_iotlb.h>
#include <linux/vhost_mdev.h>
#include <linux/virtio_config.h>

/**
 * struct vhost_mdev_vq - the core's side of one virtqueue
 * @vdev: the device
 * @idx: the virtqueue's index
 * @num: size set by VHOST_SET_VRING_NUM, 0 until then
 * @base: the index VHOST_GET_VRING_BASE reports while the device does not
 *	run: set by VHOST_SET_VRING_BASE, captured at reset and suspend
 * @base_err: the parent's error when it could not say where the queue
 *	stopped at the last capture (a packed ring on virtio-pci):
 *	VHOST_GET_VRING_BASE returns it until the next VHOST_SET_VRING_BASE
 * @desc: the descriptor area's IOVA, as VHOST_SET_VRING_ADDR last set it
 * @driver: the driver area's
 * @device: the device area's
 * @notify: the doorbell, asked of the parent once at creation
 * @kick_ctx: the kick eventfd, NULL when unbound
 * @kick_wqh: the wait queue @kick_wait sits on
 * @kick_wait: our entry on the kick eventfd's wait queue
 * @kick_pt: the poll table that puts @kick_wait there
 * @kicks: kicks that came through @kick_ctx (debugfs; since the last open)
 * @call_lock: protects @call_ctx against the parent's callback, which can
 *	run in hard interrupt context
 * @call_ctx: the call eventfd, NULL when unbound
 * @calls: interrupts the parent signalled (debugfs; since the last open)
 * @producer: irq bypass producer, token = @call_ctx
 * @producer_on: @producer is registered
 *
 * Everything not said otherwise is protected by &vhost_mdev_core.lock.
 */
struct vhost_mdev_vq {
	struct vhost_mdev_device *vdev;
	u16 idx;
	u32 num;
	u32 base;
	int base_err;
	u64 desc;
	u64 driver;
	u64 device;
	struct vhost_mdev_notify_area notify;
	struct eventfd_ctx *kick_ctx;
	wait_queue_head_t *kick_wqh;
	wait_queue_entry_t kick_wait;
	poll_table kick_pt;
	atomic64_t kicks;
	spinlock_t call_lock;	/* @call_ctx vs the callback */
	struct eventfd_ctx *call_ctx;
	atomic64_t calls;
	struct irq_bypass_producer producer;
	bool producer_on;
};

/**
 * struct vhost_mdev_iommu_queue - runs waiting to go into the IOMMU together
 * @sg: %VHOST_MDEV_IOMMU_SGS entries, one per mapping to come
 * @n: entries in use
 * @iova: where the first maps; each next one maps right after it
 * @size: the bytes they map
 * @perm: their permission
 *
 * One iommu_map_sg() maps them all and syncs the IOMMU once: with an IOMMU
 * in caching mode (an emulated one), each sync is a trip to the hypervisor.
 * Empty whenever &vhost_mdev_core.lock is not held. Protected by
 * &vhost_mdev_core.lock.
 */
struct vhost_mdev_iommu_queue {
	struct scatterlist *sg;
	unsigned int n;
	u64 iova;
	u64 size;
	u32 perm;
};

#define VHOST_MDEV_IOMMU_SGS	(PAGE_SIZE / sizeof(struct scatterlist))

/**
 * struct vhost_mdev_batch - IOTLB messages between BATCH_BEGIN and BATCH_END
 * @active: a batch is open
 * @asid: the address space it changes
 * @added: its UPDATEs: pinned and accounted, not visible yet
 * @dropped: the ranges its INVALIDATEs named: the live entries they touch
 *	stay visible until BATCH_END and go then
 *
 * Protected by &vhost_mdev_core.lock.
 */
struct vhost_mdev_batch {
	bool active;
	u32 asid;
	struct vhost_iotlb added;
	struct vhost_iotlb dropped;
};

/**
 * struct vhost_mdev_log - the client's dirty log, pinned
 * @uaddr: where it is in the owner's memory (VHOST_SET_LOG_BASE)
 * @bytes: how many of its bytes are pinned: a bit for every page that
 *	address space 0 mapped writable when it was pinned
 * @npages: pages pinned, accounted in the owner's pinned_vm
 * @pages: them
 */
struct vhost_mdev_log {
	u64 uaddr;
	u64 bytes;
	unsigned long npages;
	struct page *pages[] __counted_by(npages);
};

/**
 * struct vhost_mdev_core - the core's state of one device
 * @vdev: the device
 * @cdev: its character device, /dev/vhost-mdev-N
 * @lock: serialises the uAPI, release and unregistration; protects what is
 *	not said otherwise, here and in each &struct vhost_mdev_vq
 * @opened: a file has the device open (one at a time)
 * @dead: the mdev is gone: every call answers -ENODEV; written under
 *	@zap_sem too
 * @minor: the character device's minor
 * @owner: the owner's mm (mmgrab()ed), NULL without an owner
 * @acked_backend: VHOST_SET_BACKEND_FEATURES
 * @features_mask: the parent's device features this mdev offers (sysfs
 *	device_features, changed only while the device is not open)
 * @log_offered: VHOST_F_LOG_ALL is offered when the parent can log (sysfs
 *	dirty_log, changed only while the device is not open)
 * @log_all: the client acked VHOST_F_LOG_ALL; written with @iotlb_lock
 *	held for writing too
 * @log: the dirty log (VHOST_SET_LOG_BASE), NULL without one; written with
 *	@iotlb_lock held for writing too
 * @logged: pages logged since the device was opened (debugfs)
 * @log_misses: writes beyond what @log covers, not logged (debugfs)
 * @suspended: VHOST_VDPA_SUSPEND succeeded since DRIVER_OK
 * @batch: the IOTLB batch being collected
 * @iotlb_msgs: IOTLB UPDATE, INVALIDATE and committed batches since the
 *	device was opened (debugfs)
 * @pin_pages: pages pin_user_pages_fast() pinned for @iotlb since the device
 *	was opened (debugfs)
 * @pin_ns: the time those calls took (debugfs): the floor of a map's time
 * @range: the IOVA window
 * @domain: the paging domain of a %VHOST_MDEV_DMA_PLATFORM device
 * @iommu: what is mapped in @domain, one entry per range one __iommu_map()
 *	mapped, each unmapped whole; together they map what @iotlb[0] maps
 * @iommu_queue: what is about to be mapped in @domain
 * @iommu_maps: iommu_map_sg() calls, each one IOMMU sync, since the device
 *	was opened (debugfs)
 * @iotlb_lock: writers hold it with @lock held to change any @iotlb, readers
 *	are parents translating IOVAs (vhost_mdev_iotlb_lock())
 * @iotlb: the mappings of each address space; an entry maps a physically
 *	contiguous run of pinned pages, its addr is their physical address
 * @pinned: pages pinned for @iotlb, accounted in @owner's pinned_vm
 * @config_lock: protects @config_ctx against the parent's config callback
 * @config_ctx: the config eventfd, NULL when unbound
 * @zap_sem: held for reading by the doorbell fault handler and mmap, for
 *	writing while doorbell mappings are zapped and must stay so (reset)
 *	and while @doorbell_mm or @dead change
 * @doorbell_mm: the only mm whose doorbell mappings may fault in: the
 *	owner's, from VHOST_SET_OWNER until its session starts to stop, else
 *	NULL
 * @mapping: the open file's address space, where doorbells are mapped
 * @debugfs: the device's debugfs directory
 * @nvqs: number of @vqs
 * @vqs: the virtqueues
 */
struct vhost_mdev_core {
	struct vhost_mdev_device *vdev;
	struct cdev cdev;
	struct mutex lock;	/* the uAPI; see above */
	bool opened;
	bool dead;
	unsigned int minor;
	struct mm_struct *owner;
	u64 acked_backend;
	u64 features_mask;
	bool log_offered;
	bool log_all;
	struct vhost_mdev_log *log;
	atomic64_t logged;
	atomic64_t log_misses;
	bool suspended;
	struct vhost_mdev_batch batch;
	u64 iotlb_msgs[3];
	u64 pin_pages;
	u64 pin_ns;
	struct vhost_mdev_iova_range range;
	struct iommu_domain *domain;
	struct vhost_iotlb iommu;
	struct vhost_mdev_iommu_queue iommu_queue;
	u64 iommu_maps;
	rwlock_t iotlb_lock;
	struct vhost_iotlb *iotlb;
	u64 pinned;
	spinlock_t config_lock;	/* @config_ctx vs the callback */
	struct eventfd_ctx *config_ctx;
	struct rw_semaphore zap_sem;
	struct mm_struct *doorbell_mm;
	struct address_space *mapping;
	struct dentry *debugfs;
	u32 nvqs;
	struct vhost_mdev_vq vqs[] __counted_by(nvqs);
};

/* main.c */
extern struct dentry *vhost_mdev_debugfs_root;
extern unsigned int vhost_mdev_max_iotlb_entries;

/* Has the driver set DRIVER_OK (since the last reset)? */
static inline bool vhost_mdev_driver_ok(struct vhost_mdev_device *vdev)
{
	return vdev->ops->get_status(vdev) & VIRTIO_CONFIG_S_DRIVER_OK;
}

/* The VHOST_* features (beyond the virtio ones) the device offers. */
static inline u64 vhost_mdev_vhost_features(struct vhost_mdev_device *vdev)
{
	if (vdev->log_model != VHOST_MDEV_LOG_NONE && vdev->core->log_offered)
		return BIT_ULL(VHOST_F_LOG_ALL);
	return 0;
}

/* The virtio features the device offers: the parent's, as the mdev's owner chose. */
static inline u64 vhost_mdev_device_features(struct vhost_mdev_device *vdev)
{
	return vdev->ops->get_device_features(vdev) & vdev->core->features_mask;
}

/* uapi.c */
extern const struct file_operations vhost_mdev_fops;
void vhost_mdev_session_stop(struct vhost_mdev_device *vdev);

/* dma.c */
/* Takes a run of pinned pages; on error the caller unpins them. */
typedef int (*vhost_mdev_add_run_t)(struct vhost_mdev_device *vdev, void *arg,
				    u64 iova, phys_addr_t pa, u64 size,
				    u32 perm);
int vhost_mdev_dma_init(struct vhost_mdev_device *vdev);
void vhost_mdev_dma_exit(struct vhost_mdev_device *vdev);
bool vhost_mdev_perm_valid(u32 perm);
int vhost_mdev_range_valid(struct vhost_mdev_core *core, u64 iova, u64 size,
			   u64 uaddr, u64 *last);
int vhost_mdev_memlock_check(unsigned long npages, unsigned long released);
int vhost_mdev_pin(struct vhost_mdev_device *vdev, u64 iova, u64 uaddr,
		   unsigned long npages, u32 perm, vhost_mdev_add_run_t add,
		   void *arg);
int vhost_mdev_add_live(struct vhost_mdev_device *vdev, void *arg, u64 iova,
			phys_addr_t pa, u64 size, u32 perm);
int vhost_mdev_iommu_flush(struct vhost_mdev_core *core);
int vhost_mdev_add_staged(struct vhost_mdev_device *vdev, void *arg, u64 iova,
			  phys_addr_t pa, u64 size, u32 perm);
void vhost_mdev_unpin(struct vhost_mdev_device *vdev, phys_addr_t pa,
		      u64 size, u32 perm);
void vhost_mdev_free_range(struct vhost_mdev_device *vdev,
			   struct vhost_iotlb *iotlb, u64 start, u64 last);
void vhost_mdev_unmap_range(struct vhost_mdev_device *vdev, u32 asid,
			    u64 start, u64 last);
void vhost_mdev_unmap_all(struct vhost_mdev_device *vdev);
int vhost_mdev_switch_table(struct vhost_mdev_device *vdev, u32 asid,
			    struct vhost_iotlb *next);
long vhost_mdev_set_mem_table(struct vhost_mdev_device *vdev,
			      void __user *argp);

/* iotlb.c; the counters of &vhost_mdev_core.iotlb_msgs */
enum { VHOST_MDEV_UPDATES, VHOST_MDEV_INVALIDATES, VHOST_MDEV_BATCHES };

ssize_t vhost_mdev_write_iter(struct kiocb *iocb, struct iov_iter *from);
void vhost_mdev_batch_discard(struct vhost_mdev_device *vdev);

/* log.c */
long vhost_mdev_set_log_base(struct vhost_mdev_device *vdev, u64 uaddr);
int vhost_mdev_log_cover(struct vhost_mdev_device *vdev);
int vhost_mdev_log_all(struct vhost_mdev_device *vdev, bool on);
void vhost_mdev_log_drop(struct vhost_mdev_device *vdev);
void vhost_mdev_log_write(struct vhost_mdev_core *core, u64 iova, u64 len);
void vhost_mdev_log_debugfs(struct vhost_mdev_device *vdev);

/* vq.c */
void vhost_mdev_vq_init(struct vhost_mdev_vq *vq);
long vhost_mdev_set_kick(struct vhost_mdev_vq *vq, int fd);
long vhost_mdev_set_call(struct vhost_mdev_vq *vq, int fd);
long vhost_mdev_set_config_eventfd(struct vhost_mdev_device *vdev, int fd);
void vhost_mdev_producers_on(struct vhost_mdev_device *vdev);
void vhost_mdev_producers_off(struct vhost_mdev_device *vdev);
void vhost_mdev_rebind_callbacks(struct vhost_mdev_device *vdev);
void vhost_mdev_vq_release(struct vhost_mdev_vq *vq);
void vhost_mdev_config_release(struct vhost_mdev_device *vdev);
void vhost_mdev_zap_doorbells(struct vhost_mdev_device *vdev);
void vhost_mdev_doorbells_for(struct vhost_mdev_device *vdev,
			      struct mm_struct *mm);
int vhost_mdev_mmap(struct file *file, struct vm_area_struct *vma);

#endif /* _VHOST_MDEV_CORE_H */
