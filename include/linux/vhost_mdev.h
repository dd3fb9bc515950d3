/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vhost-mdev accelerator API.
 *
 * An accelerator driver (a "parent") registers a device with one or more
 * mdev types. Creating an mdev of one of those types asks the parent for a
 * struct vhost_mdev_device, which the core exposes as /dev/vhost-mdev-N and
 * drives through struct vhost_mdev_ops on behalf of a vhost-vdpa client.
 */
#ifndef _LINUX_VHOST_MDEV_H
#define _LINUX_VHOST_MDEV_H

#include <linux/device.h>
#include <linux/interrupt.h>
#include <linux/mdev.h>
#include <linux/types.h>
#include <uapi/linux/vhost_mdev.h>

struct vhost_mdev_device;
struct vhost_mdev_core;

/**
 * struct vhost_mdev_callback - a function the parent calls to notify the core
 * @callback: called by the parent, possibly in hard interrupt context
 * @private: the argument @callback wants
 */
struct vhost_mdev_callback {
	irqreturn_t (*callback)(void *private);
	void *private;
};

/**
 * struct vhost_mdev_notify_area - a virtqueue's doorbell
 * @addr: physical address of the doorbell register
 * @size: bytes the client may map: PAGE_SIZE when the doorbell sits alone,
 *	page aligned, in its page; 0 when it shares the page with other
 *	registers, in which case the queue can only be kicked through the
 *	kick eventfd
 */
struct vhost_mdev_notify_area {
	phys_addr_t addr;
	resource_size_t size;
};

/**
 * struct vhost_mdev_iova_range - the IOVA window a device can use
 * @first: first usable IOVA
 * @last: last usable IOVA (inclusive)
 */
struct vhost_mdev_iova_range {
	u64 first;
	u64 last;
};

/**
 * enum vhost_mdev_dma_model - how a device reaches guest memory
 * @VHOST_MDEV_DMA_PLATFORM: the device DMAs through the platform IOMMU. The
 *	core gives its &vhost_mdev_device.dma_dev a paging domain of its own
 *	when the mdev is created (and refuses the mdev when that is impossible)
 *	and maps every IOTLB entry into it at IOVA. One address space, one
 *	virtqueue group.
 * @VHOST_MDEV_DMA_TRANSLATE: the parent translates IOVAs itself with
 *	vhost_mdev_iotlb_read() and friends; any number of address spaces.
 */
enum vhost_mdev_dma_model {
	VHOST_MDEV_DMA_PLATFORM,
	VHOST_MDEV_DMA_TRANSLATE,
};

/**
 * enum vhost_mdev_log_model - how the guest pages a device writes are logged
 *	during a live migration (VHOST_F_LOG_ALL)
 * @VHOST_MDEV_LOG_NONE: they cannot be: the core does not offer
 *	VHOST_F_LOG_ALL, and QEMU blocks migration.
 * @VHOST_MDEV_LOG_IOTLB_WRITES: a %VHOST_MDEV_DMA_TRANSLATE device that
 *	writes guest memory only with vhost_mdev_iotlb_write() and
 *	vhost_mdev_iotlb_move(), which log every write in address space 0
 *	while the client asks for it.
 * @VHOST_MDEV_LOG_SHADOW: a %VHOST_MDEV_DMA_PLATFORM device whose parent
 *	relays its rings through rings of its own while the client logs
 *	(told by @set_log_all) or whenever it must: it logs what the device
 *	wrote with vhost_mdev_iotlb_log() when the device uses a buffer, and
 *	writes the driver's used entries with vhost_mdev_iotlb_write().
 */
enum vhost_mdev_log_model {
	VHOST_MDEV_LOG_NONE,
	VHOST_MDEV_LOG_IOTLB_WRITES,
	VHOST_MDEV_LOG_SHADOW,
};

/**
 * struct vhost_mdev_ops - what the core asks of an accelerator device
 *
 * Every op is mandatory unless marked optional. The core calls them with its
 * per-device mutex held, so they are serialised against each other and may
 * sleep, except @kick_vq. Virtqueue indexes are always below
 * &vhost_mdev_device.nvqs and group and address space numbers below
 * &vhost_mdev_device.ngroups and &vhost_mdev_device.nas.
 *
 * Virtqueue ops:
 *
 * @set_vq_address: set the IOVAs of a virtqueue's descriptor, driver and
 *	device areas. The mappings behind them may not exist yet (clients map
 *	memory last): translate them when the device starts (DRIVER_OK), not
 *	here. Return 0 or -errno.
 * @set_vq_num: set a virtqueue's size (a power of two the core checked
 *	against @get_vq_num_max).
 * @kick_vq: the driver made buffers available on a virtqueue. Called from
 *	the kick eventfd's wakeup, in atomic context: must not sleep.
 * @set_vq_cb: set the function to call when a virtqueue has used buffers
 *	(@cb->callback is NULL when the client wants no interrupt from it).
 * @set_vq_ready: enable or disable a virtqueue.
 * @get_vq_ready: whether a virtqueue is enabled.
 * @set_vq_state: set the index a virtqueue resumes from, encoded as the num
 *	of VHOST_SET_VRING_BASE: split ring, the next available index; packed
 *	ring, bits 0-14 last_avail_idx, bit 15 its wrap counter, bits 16-30
 *	last_used_idx, bit 31 its wrap counter. Return 0 or -errno.
 * @get_vq_state: read that index back, same encoding. Asked while the
 *	device runs and after @suspend; at a reset, a device with @suspend is
 *	asked (suspended) just before @reset, one without it just after
 *	@reset, and must then report where each queue stopped until the next
 *	@set_vq_state. Return 0 or -errno: a device that cannot tell (a
 *	packed ring on virtio-pci) says -EOPNOTSUPP, which VHOST_GET_VRING_BASE
 *	then returns until the next VHOST_SET_VRING_BASE.
 * @get_vq_notification: optional; fill in a virtqueue's doorbell. Asked once,
 *	when the mdev is created: the doorbell must not move.
 *	Return 0 or -errno.
 * @get_vq_irq: optional; the Linux irq that signals a virtqueue, or a
 *	negative errno when it has none. Asked right after DRIVER_OK is set
 *	and the answer must hold until the next reset; the core registers an
 *	irq bypass producer for it and unregisters it before resetting.
 * @stop_vq: optional; stop processing a virtqueue until the next @reset,
 *	with nothing in flight: every buffer taken is used. Asked for a running
 *	queue's VHOST_GET_VRING_BASE, which then reports with @get_vq_state
 *	where it stopped (QEMU asks so while it stops a VM, for all but the
 *	last of its vhost devices, before it resets the device).
 * @get_vq_size: optional; the largest size of one virtqueue, when it differs
 *	from @get_vq_num_max.
 * @get_vq_group: optional, mandatory when @ngroups > 1; the group of a
 *	virtqueue.
 * @get_vq_desc_group: optional; the group of a virtqueue's descriptor table
 *	when it can differ from @get_vq_group (offers
 *	VHOST_BACKEND_F_DESC_ASID).
 *
 * Device ops:
 *
 * @get_device_id: the virtio device id.
 * @get_device_features: the virtio features the device offers.
 * @get_backend_features: optional; VHOST_BACKEND_F_* bits the device adds to
 *	what the core offers (VHOST_BACKEND_F_ENABLE_AFTER_DRIVER_OK).
 * @set_driver_features: the features the driver accepted, a subset of
 *	@get_device_features. Return 0 or -errno.
 * @get_driver_features: the features in effect.
 * @get_vq_num_max: the largest virtqueue size.
 * @get_status: the virtio device status.
 * @set_status: set a non-zero virtio status that only adds bits. A device
 *	that refuses FEATURES_OK leaves it clear, as the virtio spec says.
 * @reset: reset the device (status 0): stop all DMA and forget the queues,
 *	the driver features and the callbacks. Return 0 or -errno; the core
 *	then treats the device as failed.
 * @suspend: optional, with @resume; stop processing buffers, keep the state
 *	@get_vq_state reports. Return 0 or -errno.
 * @resume: optional; continue after @suspend. Return 0 or -errno.
 * @get_config_size: size of the device-specific configuration space.
 * @get_config: read @len bytes of it at @offset (the core checked the
 *	bounds).
 * @set_config: write @len bytes of it at @offset.
 * @set_config_cb: set the function to call on a configuration change.
 * @set_log_all: optional, mandatory for %VHOST_MDEV_LOG_SHADOW; the client
 *	acked VHOST_F_LOG_ALL (@on) or dropped it, while the device runs or
 *	not. Before @on, the core unregistered the irq bypass producers: from
 *	now until the next reset the interrupts must reach the parent.
 *	Return 0 or -errno (VHOST_SET_FEATURES fails, logging stays as it was).
 *
 * DMA ops:
 *
 * @get_iova_range: optional; the IOVA window of a %VHOST_MDEV_DMA_TRANSLATE
 *	device (default: all of it). A platform device's window is its IOMMU
 *	domain's aperture.
 * @set_group_asid: optional, mandatory when @nas > 1; make a virtqueue
 *	group use an address space. Return 0 or -errno.
 *
 * Other ops:
 *
 * @debugfs_init: optional; add the device's own files to @dir, its debugfs
 *	directory (/sys/kernel/debug/vhost_mdev/vhost-mdev-N), which the core
 *	removes with the device.
 */
struct vhost_mdev_ops {
	/* Virtqueue ops */
	int (*set_vq_address)(struct vhost_mdev_device *vdev, u16 idx,
			      u64 desc_area, u64 driver_area, u64 device_area);
	void (*set_vq_num)(struct vhost_mdev_device *vdev, u16 idx, u32 num);
	void (*kick_vq)(struct vhost_mdev_device *vdev, u16 idx);
	void (*set_vq_cb)(struct vhost_mdev_device *vdev, u16 idx,
			  const struct vhost_mdev_callback *cb);
	void (*set_vq_ready)(struct vhost_mdev_device *vdev, u16 idx,
			     bool ready);
	bool (*get_vq_ready)(struct vhost_mdev_device *vdev, u16 idx);
	int (*set_vq_state)(struct vhost_mdev_device *vdev, u16 idx,
			    u32 state);
	int (*get_vq_state)(struct vhost_mdev_device *vdev, u16 idx,
			    u32 *state);
	int (*get_vq_notification)(struct vhost_mdev_device *vdev, u16 idx,
				   struct vhost_mdev_notify_area *area);
	int (*get_vq_irq)(struct vhost_mdev_device *vdev, u16 idx);
	void (*stop_vq)(struct vhost_mdev_device *vdev, u16 idx);
	u16 (*get_vq_size)(struct vhost_mdev_device *vdev, u16 idx);
	u32 (*get_vq_group)(struct vhost_mdev_device *vdev, u16 idx);
	u32 (*get_vq_desc_group)(struct vhost_mdev_device *vdev, u16 idx);

	/* Device ops */
	u32 (*get_device_id)(struct vhost_mdev_device *vdev);
	u64 (*get_device_features)(struct vhost_mdev_device *vdev);
	u64 (*get_backend_features)(struct vhost_mdev_device *vdev);
	int (*set_driver_features)(struct vhost_mdev_device *vdev,
				   u64 features);
	u64 (*get_driver_features)(struct vhost_mdev_device *vdev);
	u16 (*get_vq_num_max)(struct vhost_mdev_device *vdev);
	u8 (*get_status)(struct vhost_mdev_device *vdev);
	void (*set_status)(struct vhost_mdev_device *vdev, u8 status);
	int (*reset)(struct vhost_mdev_device *vdev);
	int (*suspend)(struct vhost_mdev_device *vdev);
	int (*resume)(struct vhost_mdev_device *vdev);
	size_t (*get_config_size)(struct vhost_mdev_device *vdev);
	void (*get_config)(struct vhost_mdev_device *vdev, unsigned int offset,
			   void *buf, unsigned int len);
	void (*set_config)(struct vhost_mdev_device *vdev, unsigned int offset,
			   const void *buf, unsigned int len);
	void (*set_config_cb)(struct vhost_mdev_device *vdev,
			      const struct vhost_mdev_callback *cb);
	int (*set_log_all)(struct vhost_mdev_device *vdev, bool on);

	/* DMA ops */
	int (*get_iova_range)(struct vhost_mdev_device *vdev,
			      struct vhost_mdev_iova_range *range);
	int (*set_group_asid)(struct vhost_mdev_device *vdev, u32 group,
			      u32 asid);

	/* Other ops */
	void (*debugfs_init)(struct vhost_mdev_device *vdev, struct dentry *dir);
};

/**
 * struct vhost_mdev_device - an accelerator device behind one mdev
 * @dev: the character device's class device, vhost-mdev-N, a child of the
 *	mdev; its lifetime is the structure's
 * @mdev: the mediated device this device serves
 * @dma_dev: the device that does the DMA (%VHOST_MDEV_DMA_PLATFORM)
 * @ops: the accelerator's operations
 * @dma_model: how the device reaches guest memory
 * @log_model: how its writes are logged for live migration; the parent sets
 *	it before its @create returns (default: %VHOST_MDEV_LOG_NONE)
 * @nvqs: number of virtqueues
 * @ngroups: number of virtqueue groups
 * @nas: number of address spaces
 * @shadow_size: bytes (a multiple of PAGE_SIZE) of IOVA a
 *	%VHOST_MDEV_DMA_PLATFORM parent keeps for rings of its own at the top
 *	of the IOMMU domain's aperture (%VHOST_MDEV_LOG_SHADOW), set before
 *	its @create returns: the client's window (VHOST_VDPA_GET_IOVA_RANGE)
 *	ends below it
 * @shadow_iova: where that window starts, set by the core when the mdev is
 *	created (vhost_mdev_shadow_map())
 *
 * A parent embeds this structure at the start of its own (see
 * vhost_mdev_alloc_device()) and never frees it: the core does, after the
 * last reference is gone, which can be after the mdev was removed.
 */
struct vhost_mdev_device {
	struct device dev;
	struct mdev_device *mdev;
	struct device *dma_dev;
	const struct vhost_mdev_ops *ops;
	enum vhost_mdev_dma_model dma_model;
	enum vhost_mdev_log_model log_model;
	u32 nvqs;
	u32 ngroups;
	u32 nas;
	u64 shadow_size;
	u64 shadow_iova;
	/* private: the core's state */
	struct vhost_mdev_core *core;
};

struct vhost_mdev_parent;

/**
 * struct vhost_mdev_parent_ops - what the core asks of an accelerator driver
 * @create: make the device of a new mdev of type @types[@type]: allocate it
 *	with vhost_mdev_alloc_device() and set it up. Return it, or an
 *	ERR_PTR() that fails the mdev's creation (-ENOSPC: no instance left).
 * @remove: the mdev of @vdev, made by @parent, is going away and the core
 *	has stopped the device (reset it, freed its mappings and interrupts);
 *	release whatever the device holds. The core frees the structure
 *	itself later.
 * @get_available: how many more mdevs of type @types[@type] can be created.
 * @show_description: print a description of type @types[@type] into @buf
 *	(a sysfs page): what device, how many queues. Return its length.
 */
struct vhost_mdev_parent_ops {
	struct vhost_mdev_device *(*create)(struct vhost_mdev_parent *parent,
					    struct mdev_device *mdev,
					    unsigned int type);
	void (*remove)(struct vhost_mdev_parent *parent,
		       struct vhost_mdev_device *vdev);
	unsigned int (*get_available)(struct vhost_mdev_parent *parent,
				      unsigned int type);
	ssize_t (*show_description)(struct vhost_mdev_parent *parent,
				    unsigned int type, char *buf);
};

/**
 * struct vhost_mdev_parent - an accelerator device that offers mdev types
 * @mdev_parent: the mdev framework's part, set up by the core
 * @ops: the driver's callbacks
 * @types: the mdev types offered; the driver sets each one's sysfs_name
 *	(the type directory becomes "<driver>-<sysfs_name>") and pretty_name
 * @ntypes: how many
 * @mdev_groups: optional, set by the driver before registering; sysfs
 *	attributes of each of its mdevs (/sys/bus/mdev/devices/<uuid>/), whose
 *	drvdata is the &struct vhost_mdev_device: what an administrator sets
 *	up before a client opens the device (vhost_mdev_while_closed())
 */
struct vhost_mdev_parent {
	struct mdev_parent mdev_parent;
	const struct vhost_mdev_parent_ops *ops;
	struct mdev_type **types;
	unsigned int ntypes;
	const struct attribute_group **mdev_groups;
};

int vhost_mdev_register_parent(struct vhost_mdev_parent *parent,
			       struct device *dev,
			       const struct vhost_mdev_parent_ops *ops,
			       struct mdev_type **types, unsigned int ntypes);
void vhost_mdev_unregister_parent(struct vhost_mdev_parent *parent);

struct vhost_mdev_device *
__vhost_mdev_alloc_device(struct mdev_device *mdev,
			  const struct vhost_mdev_ops *ops,
			  enum vhost_mdev_dma_model dma_model,
			  struct device *dma_dev, u32 nvqs, u32 ngroups,
			  u32 nas, size_t size);

/**
 * vhost_mdev_alloc_device - allocate a parent's device structure
 * @type: the parent's structure, whose first member is a
 *	&struct vhost_mdev_device
 * @member: the name of that member
 * @mdev: the mdev being created
 * @ops: the device's operations
 * @dma_model: how the device reaches guest memory
 * @dma_dev: the device that DMAs (%VHOST_MDEV_DMA_PLATFORM), or NULL
 * @nvqs: number of virtqueues
 * @ngroups: number of virtqueue groups
 * @nas: number of address spaces
 *
 * The ops table is checked here: mandatory ops present, optional ones
 * paired (@resume needs @suspend; several groups need @get_vq_group;
 * several address spaces need @set_group_asid and
 * %VHOST_MDEV_DMA_TRANSLATE; a platform device needs @dma_dev).
 *
 * Return: the zeroed parent structure, or an ERR_PTR(): -EINVAL for a
 * malformed ops table, -ENOMEM.
 */
#define vhost_mdev_alloc_device(type, member, mdev, ops, dma_model, dma_dev, \
				nvqs, ngroups, nas)			     \
	((type *)__vhost_mdev_alloc_device(mdev, ops, dma_model, dma_dev,   \
					   nvqs, ngroups, nas,		     \
					   sizeof(type) +		     \
					   BUILD_BUG_ON_ZERO(offsetof(type,  \
								      member))))

void vhost_mdev_put_device(struct vhost_mdev_device *vdev);
int vhost_mdev_while_closed(struct vhost_mdev_device *vdev,
			    int (*fn)(struct vhost_mdev_device *vdev, void *arg),
			    void *arg);

void vhost_mdev_iotlb_lock(struct vhost_mdev_device *vdev);
void vhost_mdev_iotlb_unlock(struct vhost_mdev_device *vdev);
int vhost_mdev_iotlb_read(struct vhost_mdev_device *vdev, u32 asid,
			  void *dst, u64 iova, size_t len);
int vhost_mdev_iotlb_write(struct vhost_mdev_device *vdev, u32 asid,
			   u64 iova, const void *src, size_t len);
int vhost_mdev_iotlb_move(struct vhost_mdev_device *vdev, u32 dst_asid,
			  u64 dst, u32 src_asid, u64 src, size_t len);
void vhost_mdev_iotlb_log(struct vhost_mdev_device *vdev, u64 iova,
			  size_t len);
bool vhost_mdev_log_offered(struct vhost_mdev_device *vdev);
int vhost_mdev_shadow_map(struct vhost_mdev_device *vdev, u64 iova,
			  phys_addr_t pa, size_t size);
void vhost_mdev_shadow_unmap(struct vhost_mdev_device *vdev, u64 iova,
			     size_t size);

#endif /* _LINUX_VHOST_MDEV_H */
