/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vhost-mdev simulator: the device-agnostic part (split rings through the
 * core's IOTLB, the ops table, the worker) and what a device type plugs in.
 */
#ifndef _VMDEV_SIM_H
#define _VMDEV_SIM_H

#include <linux/mutex.h>
#include <linux/vhost_mdev.h>
#include <linux/workqueue.h>

/* Descriptors one chain may have; longer chains break the device. */
#define VMDEV_SIM_MAX_SEGS	64

/**
 * struct vmdev_sim_vq - a split virtqueue as the device sees it
 * @desc: IOVA of the descriptor table
 * @driver: IOVA of the driver (available) ring
 * @device: IOVA of the device (used) ring
 * @num: size, a power of two
 * @ready: enabled by the driver
 * @last_avail: next available entry the device takes
 * @used: next used index the device publishes
 * @cb: the core's callback for used buffers
 * @notify: buffers were used during this pass
 */
struct vmdev_sim_vq {
	u64 desc;
	u64 driver;
	u64 device;
	u32 num;
	bool ready;
	u16 last_avail;
	u16 used;
	struct vhost_mdev_callback cb;
	bool notify;
};

/**
 * struct vmdev_sim_seg - one descriptor of a chain
 * @addr: IOVA
 * @len: bytes
 */
struct vmdev_sim_seg {
	u64 addr;
	u32 len;
};

/**
 * struct vmdev_sim_chain - a descriptor chain taken from the available ring
 * @head: the head descriptor, what the used ring returns
 * @nseg: descriptors in @seg
 * @nout: how many of them, first, the device reads (the rest it writes)
 * @out_len: bytes the device reads
 * @in_len: bytes the device writes
 * @seg: the descriptors
 */
struct vmdev_sim_chain {
	u16 head;
	u16 nseg;
	u16 nout;
	u32 out_len;
	u32 in_len;
	struct vmdev_sim_seg seg[VMDEV_SIM_MAX_SEGS];
};

/* Enabled, and sized: a queue the device may use. */
static inline bool vmdev_sim_vq_usable(const struct vmdev_sim_vq *vq)
{
	return vq->ready && vq->num;
}

struct vmdev_sim;

/**
 * struct vmdev_sim_type - what a simulated device type provides
 * @name: mdev type name
 * @device_id: virtio device id
 * @features: virtio features offered
 * @config_size: size of the device configuration space
 * @priv_size: size of the type's own state
 * @nvqs: number of virtqueues (a module parameter may set it)
 * @ngroups: number of virtqueue groups
 * @nas: number of address spaces
 * @init: fill in a new device's configuration space
 * @features_ok: may the driver's features be accepted?
 * @reset: forget the type's own state
 * @vq_group: the group of a virtqueue
 * @process: one bounded pass over the queues of @sim and @peer (@sim
 *	itself, or the device it is crossed over with), both device locks
 *	held, no IOTLB lock; return true when work is left for another pass
 * @set_config: a driver writes to the configuration space (bounds checked);
 *	keep what the driver may write
 */
struct vmdev_sim_type {
	const char *name;
	u32 device_id;
	u64 features;
	size_t config_size;
	size_t priv_size;
	u32 (*nvqs)(void);
	u32 ngroups;
	u32 nas;
	void (*init)(struct vmdev_sim *sim, unsigned int instance);
	bool (*features_ok)(struct vmdev_sim *sim, u64 features);
	void (*reset)(struct vmdev_sim *sim);
	u32 (*vq_group)(struct vmdev_sim *sim, u16 idx);
	bool (*process)(struct vmdev_sim *sim, struct vmdev_sim *peer);
	void (*set_config)(struct vmdev_sim *sim, unsigned int offset,
			   const void *buf, unsigned int len);
};

/**
 * struct vmdev_sim - one simulated device
 * @vdev: the core's device; first member
 * @type: the device type
 * @instance: instance number (for a stable MAC address)
 * @peer: the device crossed over with this one (crossover=1), else NULL;
 *	protected by vmdev_sim_pair_lock
 * @lock: serialises the ops and the worker; protects everything below
 * @work: the worker, queued by kicks
 * @status: virtio device status
 * @features: negotiated features
 * @suspended: VHOST_VDPA_SUSPEND: process nothing
 * @group_asid: address space of each virtqueue group
 * @config_changed: tell the driver about a configuration change after the
 *	pass
 * @config_cb: the core's configuration change callback
 * @config: the configuration space, @type->config_size bytes
 * @priv: the type's own state
 * @vqs: @type->nvqs virtqueues
 */
struct vmdev_sim {
	struct vhost_mdev_device vdev;
	const struct vmdev_sim_type *type;
	unsigned int instance;
	struct vmdev_sim *peer;
	struct mutex lock;	/* ops vs worker; see above */
	struct work_struct work;
	u8 status;
	u64 features;
	bool suspended;
	u32 group_asid[2];
	bool config_changed;
	struct vhost_mdev_callback config_cb;
	void *config;
	void *priv;
	struct vmdev_sim_vq *vqs;
};

/* Split ring access, for @process: device lock and its IOTLB lock held. */
int vmdev_sim_vq_avail(struct vmdev_sim *sim, u16 idx);
int vmdev_sim_vq_chain(struct vmdev_sim *sim, u16 idx, u16 nth,
		       struct vmdev_sim_chain *chain);
int vmdev_sim_vq_push(struct vmdev_sim *sim, u16 idx, u16 head, u32 len);
int vmdev_sim_vq_publish(struct vmdev_sim *sim, u16 idx);
u32 vmdev_sim_vq_asid(struct vmdev_sim *sim, u16 idx);
int vmdev_sim_chain_read(struct vmdev_sim *sim, u16 idx,
			 const struct vmdev_sim_chain *chain, u32 off,
			 void *buf, u32 len);
int vmdev_sim_chain_write(struct vmdev_sim *sim, u16 idx,
			  const struct vmdev_sim_chain *chain, u32 off,
			  const void *buf, u32 len);
void vmdev_sim_broken(struct vmdev_sim *sim, u16 idx, const char *why,
		      int err);

extern const struct vmdev_sim_type vmdev_sim_net_type;

#endif /* _VMDEV_SIM_H */
