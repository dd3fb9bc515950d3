/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vhost-mdev simulator: what a simulated device type provides and what the
 * device-agnostic core offers it.
 *
 * A type (virtio-net in vhost_mdev_sim, others in their own modules)
 * describes itself in a struct vmdev_sim_type and registers with
 * vmdev_sim_register(), which makes an mdev parent offering that one type.
 * The core does the rest: the accelerator ops, the device state, the
 * worker, reaching guest memory through the IOTLB. The type's @process
 * handler moves buffers with the ring helpers below, which speak the split
 * and the packed layout alike (the packed one when the driver negotiated
 * VIRTIO_F_RING_PACKED, offered by a type that lists it in @features) and
 * take the IOTLB lock themselves.
 */
#ifndef _LINUX_VHOST_MDEV_SIM_H
#define _LINUX_VHOST_MDEV_SIM_H

#include <linux/mutex.h>
#include <linux/virtio_ring.h>
#include <linux/vhost_mdev.h>
#include <linux/workqueue.h>

/* Descriptors one chain may have; longer chains break the device. */
#define VMDEV_SIM_MAX_SEGS	64
/*
 * Available entries (split) or descriptors (packed) read at once, used
 * elements (split) written at once.
 */
#define VMDEV_SIM_HEADS		32
#define VMDEV_SIM_USED_BATCH	16

struct vmdev_sim;

/**
 * struct vmdev_sim_type - a simulated device type
 * @name: the mdev type's sysfs name (the type directory becomes
 *	"<parent>-<name>")
 * @pretty_name: its human-readable name
 * @description: what a device of it does, for the type's description
 *	("simulated <description>, <n> virtqueues")
 * @device_id: the virtio device id
 * @features: the virtio features it offers (VERSION_1 and ACCESS_PLATFORM
 *	at least: memory is reached through the IOTLB only)
 * @config_size: bytes of device configuration space, at most PAGE_SIZE
 * @priv_size: bytes of the type's own state per device (&vmdev_sim.priv)
 * @nvqs: virtqueues per device
 * @ngroups: virtqueue groups
 * @nas: address spaces (at most @ngroups)
 * @vq_num_max: the largest ring size
 * @init: optional; fill in a new device's configuration space (and its
 *	initial &vmdev_sim.priv)
 * @features_ok: optional; may the driver's features be accepted?
 * @reset: optional; forget the type's own state (device lock held)
 * @vq_group: mandatory when @ngroups > 1; the group of a virtqueue, below
 *	@ngroups
 * @process: one bounded pass over the queues of @sim, which runs, and of
 *	the peer, which is @sim itself, or with crossover the device it is
 *	crossed over with when that one runs too, else NULL (then only @sim's
 *	own queues: nothing crosses over; on a hub, what @sim sends goes to
 *	the others with vmdev_sim_hub_deliver()). Both device locks held;
 *	return true when work is left for another pass
 * @set_config: optional (read-only configuration without it); a driver
 *	writes @len bytes at @offset (bounds checked): keep what it may write
 * @mdev_groups: optional; sysfs attributes of each device's mdev, for what
 *	an administrator sets before a client opens it (a MAC address)
 */
struct vmdev_sim_type {
	const char *name;
	const char *pretty_name;
	const char *description;
	u32 device_id;
	u64 features;
	size_t config_size;
	size_t priv_size;
	u32 nvqs;
	u32 ngroups;
	u32 nas;
	u16 vq_num_max;
	void (*init)(struct vmdev_sim *sim, unsigned int instance);
	bool (*features_ok)(struct vmdev_sim *sim, u64 features);
	void (*reset)(struct vmdev_sim *sim);
	u32 (*vq_group)(struct vmdev_sim *sim, u16 idx);
	bool (*process)(struct vmdev_sim *sim, struct vmdev_sim *peer);
	void (*set_config)(struct vmdev_sim *sim, unsigned int offset,
			   const void *buf, unsigned int len);
	const struct attribute_group **mdev_groups;
};

/**
 * struct vmdev_sim_settings - how a parent's devices behave
 * @max_devices: how many may exist at once
 * @crossover: join devices in pairs, in creation order: @process gets the
 *	peer, and nothing moves until both run
 * @hub: put all the devices on one segment, as QEMU's hub does: what one
 *	sends, every other that runs gets (not with @crossover)
 * @iova_first: first IOVA the devices accept
 * @iova_last: last IOVA the devices accept
 */
struct vmdev_sim_settings {
	unsigned int max_devices;
	bool crossover;
	bool hub;
	u64 iova_first;
	u64 iova_last;
};

/**
 * struct vmdev_sim_used - a used buffer of a packed ring, not yet written
 * @len: bytes the device wrote into it
 * @id: its buffer id
 * @pos: the ring position its used descriptor goes to
 * @wrap: the used wrap counter at @pos
 */
struct vmdev_sim_used {
	u32 len;
	u16 id;
	u16 pos;
	bool wrap;
};

/**
 * struct vmdev_sim_vq - a virtqueue as the device sees it
 * @desc: IOVA of the descriptor table (ring, packed)
 * @driver: IOVA of the driver (available) ring (driver event suppression,
 *	packed)
 * @device: IOVA of the device (used) ring (device event suppression,
 *	packed)
 * @num: size, a power of two
 * @ready: enabled by the driver
 * @stopped: stopped by VHOST_GET_VRING_BASE while the device ran, until the
 *	next reset
 * @last_avail: split, the index of the next available entry the device
 *	takes; packed, the ring position of the next descriptor it reads
 * @used: split, the next used index the device publishes; packed, the ring
 *	position of the next used descriptor it writes
 * @avail_wrap: packed, the driver's wrap counter at @last_avail
 * @used_wrap: packed, the device's wrap counter at @used
 * @peek_nth: packed, the available buffer, counted from @last_avail, that
 *	starts at @peek_pos (lookups go on from the last one)
 * @peek_pos: packed, where it starts
 * @peek_wrap: packed, the wrap counter there
 * @count_n: packed, available buffers counted from @last_avail on
 * @count_pos: packed, the ring position after them
 * @count_wrap: packed, the wrap counter there
 * @stage: packed, the used buffers pushed and not yet published: @num
 *	entries, allocated at DRIVER_OK
 * @staged: how many (split: how many of @ustage)
 * @ustage: split, used elements pushed and not yet written to the used
 *	ring: written when it is full and at publication
 * @heads: split, available ring entries read ahead (the driver may not
 *	change an entry its index made available)
 * @heads_start: the available index of the first of @heads
 * @heads_n: how many of @heads hold entries
 * @avail_idx: split, the available index as last read
 * @pdescs: packed, descriptors read ahead, each after its flags were seen
 *	available (the driver may not change a descriptor it made available
 *	until it is used)
 * @pdescs_pos: the ring position of the first of @pdescs
 * @pdescs_n: how many of @pdescs hold descriptors (never past the ring's
 *	end)
 * @pdescs_wrap: the driver's wrap counter at @pdescs_pos
 * @cb: the core's callback for used buffers
 * @notify: buffers were used during this pass
 * @no_interrupt: the driver's VRING_AVAIL_F_NO_INTERRUPT (packed,
 *	VRING_PACKED_EVENT_FLAG_DISABLE), as last read
 * @kicks_off: the driver was told it need not kick (split, the used ring's
 *	flags say VRING_USED_F_NO_NOTIFY; packed, the device event
 *	suppression says VRING_PACKED_EVENT_FLAG_DISABLE): a pass runs or is
 *	queued
 * @avail_seen: where the driver was just after that was said (split, its
 *	available index; packed, see vmdev_sim_avail_mark())
 */
struct vmdev_sim_vq {
	u64 desc;
	u64 driver;
	u64 device;
	u32 num;
	bool ready;
	bool stopped;
	u16 last_avail;
	u16 used;
	bool avail_wrap;
	bool used_wrap;
	u16 peek_nth;
	u16 peek_pos;
	bool peek_wrap;
	u16 count_n;
	u16 count_pos;
	bool count_wrap;
	struct vmdev_sim_used *stage;
	u16 staged;
	struct vring_used_elem ustage[VMDEV_SIM_USED_BATCH];
	u16 heads[VMDEV_SIM_HEADS];
	u16 heads_start;
	u16 heads_n;
	u16 avail_idx;
	struct vring_packed_desc pdescs[VMDEV_SIM_HEADS];
	u16 pdescs_pos;
	u16 pdescs_n;
	bool pdescs_wrap;
	struct vhost_mdev_callback cb;
	bool notify;
	bool no_interrupt;
	bool kicks_off;
	u32 avail_seen;
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
 * @head: the head descriptor (packed: the buffer id), what the used ring
 *	returns
 * @nseg: descriptors in @seg, all of the chain's
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

struct vmdev_sim_parent;

/**
 * struct vmdev_sim_stats - what a device's worker did, since its creation
 * @passes: passes run
 * @requeued: passes that ended with work left and queued the next one
 * @waits: passes that stopped to wait for the driver (a net device's
 *	receive buffers); the type counts them, and the driver's kick when it
 *	adds buffers ends the wait
 * @broken: times the device found a driver error and needed a reset
 * @suppressed: publications of used buffers the driver wanted no interrupt
 *	for (VRING_AVAIL_F_NO_INTERRUPT)
 * @suppress_changes: times a driver set or cleared that flag
 * @dropped: what a hub could not deliver to this device (no receive
 *	buffer, or one too small)
 * @copies: reads and writes of the driver's memory, each one IOTLB lookup
 *
 * Protected by &vmdev_sim.lock; read in debugfs ("sim").
 */
struct vmdev_sim_stats {
	u64 passes;
	u64 requeued;
	u64 waits;
	u64 broken;
	u64 suppressed;
	u64 suppress_changes;
	u64 dropped;
	u64 copies;
};

/**
 * struct vmdev_sim - one simulated device
 * @vdev: the core's device; first member
 * @parent: the parent that made it
 * @type: its type
 * @instance: instance number, unique among all simulated devices (for a
 *	stable MAC address)
 * @peer: the device crossed over with this one, else NULL; protected by
 *	the parent's pair lock
 * @node: in the parent's list of devices (a hub's segment), under the pair
 *	lock
 * @lock: serialises the ops and the worker; protects everything below
 * @work: the worker, queued by kicks
 * @status: virtio device status
 * @features: negotiated features
 * @suspended: VHOST_VDPA_SUSPEND: process nothing
 * @group_asid: address space of each of the type's @ngroups groups
 * @config_changed: tell the driver about a configuration change after the
 *	pass
 * @config_cb: the core's configuration change callback
 * @config: the configuration space, @type->config_size bytes
 * @priv: the type's own state, @type->priv_size bytes
 * @vqs: @type->nvqs virtqueues
 * @stage: packed ring, the &vmdev_sim_vq.stage of every queue in one
 *	allocation, from DRIVER_OK to the reset
 * @stats: what the worker did
 */
struct vmdev_sim {
	struct vhost_mdev_device vdev;
	struct vmdev_sim_parent *parent;
	const struct vmdev_sim_type *type;
	unsigned int instance;
	struct vmdev_sim *peer;
	struct list_head node;
	struct mutex lock;	/* ops vs worker; see above */
	struct work_struct work;
	u8 status;
	u64 features;
	bool suspended;
	u32 *group_asid;
	bool config_changed;
	struct vhost_mdev_callback config_cb;
	void *config;
	void *priv;
	struct vmdev_sim_vq *vqs;
	struct vmdev_sim_used *stage;
	struct vmdev_sim_stats stats;
};

/* Enabled, sized and not stopped: a queue the device may use. */
static inline bool vmdev_sim_vq_usable(const struct vmdev_sim_vq *vq)
{
	return vq->ready && vq->num && !vq->stopped;
}

struct vmdev_sim_parent *
vmdev_sim_register(const char *name, const struct vmdev_sim_type *type,
		   const struct vmdev_sim_settings *settings);
void vmdev_sim_unregister(struct vmdev_sim_parent *parent);

int vmdev_sim_vq_avail(struct vmdev_sim *sim, u16 idx);
int vmdev_sim_vq_chain(struct vmdev_sim *sim, u16 idx, u16 nth,
		       struct vmdev_sim_chain *chain);
int vmdev_sim_vq_push(struct vmdev_sim *sim, u16 idx,
		      const struct vmdev_sim_chain *chain, u32 len);
void vmdev_sim_vq_unpush(struct vmdev_sim *sim, u16 idx, u16 n);
void vmdev_sim_vq_take(struct vmdev_sim *sim, u16 idx, u16 n);
int vmdev_sim_vq_publish(struct vmdev_sim *sim, u16 idx);
int vmdev_sim_chain_read(struct vmdev_sim *sim, u16 idx,
			 const struct vmdev_sim_chain *chain, u32 off,
			 void *buf, u32 len);
int vmdev_sim_chain_write(struct vmdev_sim *sim, u16 idx,
			  const struct vmdev_sim_chain *chain, u32 off,
			  const void *buf, u32 len);
int vmdev_sim_chain_move(struct vmdev_sim *sim, u16 to_idx,
			 const struct vmdev_sim_chain *to, u32 to_off,
			 u16 from_idx, const struct vmdev_sim_chain *from,
			 u32 from_off, u32 len);
void vmdev_sim_broken(struct vmdev_sim *sim, u16 idx, const char *why,
		      int err);
void vmdev_sim_hub_deliver(struct vmdev_sim *sim,
			   void (*deliver)(struct vmdev_sim *to, void *arg),
			   void *arg);

#endif /* _LINUX_VHOST_MDEV_SIM_H */
