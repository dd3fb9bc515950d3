/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vhost-mdev PCI accelerator: state shared by pci_main.c (binding, mdev
 * types) and pci_hw.c (the only code that touches the function's registers,
 * through the kernel's vp_modern library).
 */
#ifndef _VMDEV_PCI_H
#define _VMDEV_PCI_H

#include <linux/pci.h>
#include <linux/vhost_mdev.h>
#include <linux/virtio_config.h>
#include <linux/virtio_pci_modern.h>
#include <linux/virtio_ring.h>
#include <linux/wait.h>

#define VMDEV_PCI_NAME		"vhost_mdev_pci"

/**
 * struct vmdev_pci_hwq - what the function says about one of its queues
 * @notify: the queue's doorbell register
 * @notify_pa: its physical address
 * @size_max: the largest size the queue takes
 * @mappable: the doorbell sits alone in a page: a client may map it
 */
struct vmdev_pci_hwq {
	void __iomem *notify;
	resource_size_t notify_pa;
	u16 size_max;
	bool mappable;
};

/* Virtio structures and MSI-X arrays a doorbell page must stay clear of. */
#define VMDEV_PCI_MAX_FOREIGN	16

/**
 * struct vmdev_pci_window - a range of the function's memory BARs
 * @start: physical address of its first byte
 * @len: its length in bytes
 */
struct vmdev_pci_window {
	resource_size_t start;
	resource_size_t len;
};

/**
 * struct vmdev_pci_layout - what a mapped doorbell page may and may not hold
 * @notify: the notification area, where the doorbells are
 * @foreign: every other register range of the BARs: the other virtio
 *	structures (common, ISR, device configuration, ...), the MSI-X table
 *	and its pending bit array
 * @nforeign: how many of @foreign are set
 * @unknown: there were more than %VMDEV_PCI_MAX_FOREIGN: map nothing
 */
struct vmdev_pci_layout {
	struct vmdev_pci_window notify;
	struct vmdev_pci_window foreign[VMDEV_PCI_MAX_FOREIGN];
	unsigned int nforeign;
	bool unknown;
};

struct vmdev_pci_dev;

/**
 * struct vmdev_pci - one bound function, the mdev parent
 * @parent: the core's parent
 * @type: the one mdev type
 * @types: the types offered
 * @vp: the vp_modern library's view of the function
 * @pdev: the PCI function
 * @nvqs: its virtqueues
 * @features: the virtio features it offers
 * @config_size: bytes of device-specific configuration space
 * @available: instances left to create (one per function)
 * @layout: where its registers are, for the doorbell pages
 * @slot: bytes of IOVA the relay's rings of one queue take
 * @hwq: @nvqs queues
 */
struct vmdev_pci {
	struct vhost_mdev_parent parent;
	struct mdev_type type;
	struct mdev_type *types[1];
	struct virtio_pci_modern_device vp;
	struct pci_dev *pdev;
	u16 nvqs;
	u64 features;
	size_t config_size;
	atomic_t available;
	struct vmdev_pci_layout layout;
	size_t slot;
	struct vmdev_pci_hwq *hwq;
};

/**
 * struct vmdev_pci_shadow - the rings a relayed queue's function uses
 * @ring: kernel memory, @size bytes, the function's rings
 * @avail: a split queue's available ring the function reads (at @ring)
 * @used: a split queue's used ring the function writes
 * @desc: a packed queue's descriptor ring (at @ring)
 * @saved: a packed queue's descriptors as handed on, by slot of @desc (what
 *	the function writes there, used entries, cannot hide them)
 * @chain_len: a packed queue's chains in flight by buffer id: their slots,
 *	0 for an id not in flight
 * @chain_pos: their first slot in @desc
 * @inflight: slots of @desc in flight
 * @size: bytes at @ring
 * @iova: where the function sees them
 * @packed: the queue is a packed one
 * @guest_avail: the driver's next available entry to hand on (packed: the
 *	slot, its wrap counter in bit 15)
 * @guest_used: the driver's next used entry to write (the same)
 * @dev_avail: the function's available index (packed: the same)
 * @dev_used: the function's used entries handed back (packed: the same)
 * @relayed_avail: entries handed on
 * @relayed_used: entries handed back
 * @broken: the driver's or the function's ring made no sense: not relayed
 *	any more
 */
struct vmdev_pci_shadow {
	void *ring;
	struct vring_avail *avail;
	struct vring_used *used;
	struct vring_packed_desc *desc;
	struct vring_packed_desc *saved;
	u16 *chain_len;
	u16 *chain_pos;
	u16 inflight;
	size_t size;
	u64 iova;
	bool packed;
	u16 guest_avail;
	u16 guest_used;
	u16 dev_avail;
	u16 dev_used;
	u64 relayed_avail;
	u64 relayed_used;
	bool broken;
};

/**
 * struct vmdev_pci_vq - a queue of the mdev's device, as the driver set it
 * @dev: the device
 * @idx: the queue's index
 * @num: its size, 0 until set
 * @desc: IOVA of the descriptor area
 * @driver: IOVA of the driver area
 * @device: IOVA of the device area
 * @ready: the client enabled it
 * @enabled: queue_enable was written (at DRIVER_OK)
 * @state: where the queue resumes: set by set_vq_state, captured at reset
 * @state_lost: a packed queue ran: where it stopped is the function's
 *	secret (virtio-pci has no register for it)
 * @relay_base: the client set a split queue's base beyond 0: it starts
 *	relayed at @state
 * @stopped: stop_vq reset it alone: it runs no more until the next reset
 * @shadow: the relay's rings while the queue is relayed (pci_shadow.c),
 *	else NULL; set and cleared with the relay's thread stopped
 * @cb: the core's callback; read by the irq handler, hence READ_ONCE
 * @irq: its MSI-X vector's Linux irq, -1 without one
 * @vec: that vector's MSI-X entry, VIRTIO_MSI_NO_VECTOR without one
 * @irq_name: the irq's name in /proc/interrupts
 */
struct vmdev_pci_vq {
	struct vmdev_pci_dev *dev;
	u16 idx;
	u16 num;
	u64 desc;
	u64 driver;
	u64 device;
	bool ready;
	bool enabled;
	u32 state;
	bool state_lost;
	bool relay_base;
	bool stopped;
	struct vmdev_pci_shadow *shadow;
	struct vhost_mdev_callback cb;
	int irq;
	u16 vec;
	char irq_name[40];
};

/**
 * struct vmdev_pci_dev - the accelerator device of the function's mdev
 * @vdev: the core's device; first member
 * @fn: the function
 * @config_cb: the core's configuration change callback
 * @config_irq: the configuration vector's Linux irq, -1 without one
 * @config_irq_name: its name in /proc/interrupts
 * @vqs: the function's queues
 * @log_all: the client logs (VHOST_F_LOG_ALL)
 * @event_idx: VIRTIO_RING_F_EVENT_IDX was negotiated (set at DRIVER_OK)
 * @relay: the relay's thread while queues are relayed, else NULL
 * @relay_wq: where it waits
 * @relay_woken: an interrupt or a kick came for it
 */
struct vmdev_pci_dev {
	struct vhost_mdev_device vdev;
	struct vmdev_pci *fn;
	struct vhost_mdev_callback config_cb;
	int config_irq;
	char config_irq_name[40];
	struct vmdev_pci_vq *vqs;
	bool log_all;
	bool event_idx;
	struct task_struct *relay;
	wait_queue_head_t relay_wq;
	bool relay_woken;
};

static inline struct vmdev_pci_dev *
to_vmdev_pci_dev(struct vhost_mdev_device *vdev)
{
	return container_of(vdev, struct vmdev_pci_dev, vdev);
}

/*
 * VHOST_SET_VRING_BASE of a fresh packed queue: both wrap counters set;
 * in the older encoding without the used half (DPDK 22.11), bit 15 alone.
 */
#define VMDEV_PCI_PACKED_START		(BIT(31) | BIT(15))
#define VMDEV_PCI_PACKED_START_OLD	BIT(15)
/* A packed position: the slot, and the wrap counter in bit 15. */
#define VMDEV_PCI_PACKED_POS		GENMASK(14, 0)

/*
 * Where a packed queue set to @state starts: its used half; a state within
 * 16 bits (the older encoding) is the available half alone.
 */
static inline u16 vmdev_pci_packed_base(u32 state)
{
	return state > U16_MAX ? state >> 16 : state;
}

/* The client negotiated packed rings. */
static inline bool vmdev_pci_packed(struct vhost_mdev_device *vdev)
{
	return vp_modern_get_driver_features(&to_vmdev_pci_dev(vdev)->fn->vp) &
	       BIT_ULL(VIRTIO_F_RING_PACKED);
}

/* pci_hw.c */
extern const struct vhost_mdev_ops vmdev_pci_ops;
int vmdev_pci_hw_probe(struct vmdev_pci *fn);
void vmdev_pci_hw_remove(struct vmdev_pci *fn);
int vmdev_pci_hw_reset(struct vmdev_pci *fn);
void vmdev_pci_program_vq(struct vmdev_pci_dev *dev, struct vmdev_pci_vq *vq);
int vmdev_pci_read_used_idx(struct vmdev_pci_dev *dev,
			    struct vmdev_pci_vq *vq, u16 *idx);

/* pci_shadow.c */
size_t vmdev_pci_shadow_slot(u16 num);
int vmdev_pci_shadow_on(struct vmdev_pci_dev *dev, struct vmdev_pci_vq *vq,
			u32 base);
void vmdev_pci_shadow_off(struct vmdev_pci_dev *dev, struct vmdev_pci_vq *vq);
void vmdev_pci_shadow_rings(const struct vmdev_pci_vq *vq, u64 *desc,
			    u64 *driver, u64 *device);
u32 vmdev_pci_shadow_state(const struct vmdev_pci_vq *vq);
int vmdev_pci_queue_reset(struct virtio_pci_modern_device *vp, u16 idx);
int vmdev_pci_shadow_switch(struct vmdev_pci_dev *dev, struct vmdev_pci_vq *vq);
bool vmdev_pci_relay_vq(struct vmdev_pci_dev *dev, struct vmdev_pci_vq *vq,
			bool running);
void vmdev_pci_relay_broken(struct vmdev_pci_dev *dev, struct vmdev_pci_vq *vq,
			    const char *why);
void vmdev_pci_relay_wake(struct vmdev_pci_dev *dev);
int vmdev_pci_relay_start(struct vmdev_pci_dev *dev);
void vmdev_pci_relay_stop(struct vmdev_pci_dev *dev);

/* pci_packed.c */
size_t vmdev_pci_packed_bytes(u16 num);
int vmdev_pci_packed_on(struct vmdev_pci_shadow *s, u16 num, u32 base);
void vmdev_pci_packed_off(struct vmdev_pci_shadow *s);
u16 vmdev_pci_relay_used_packed(struct vmdev_pci_dev *dev,
				struct vmdev_pci_vq *vq);
u16 vmdev_pci_relay_avail_packed(struct vmdev_pci_dev *dev,
				 struct vmdev_pci_vq *vq);
#if IS_ENABLED(CONFIG_KUNIT)
bool vmdev_pci_doorbell_alone(const struct vmdev_pci *fn, u16 idx);
#endif

#endif /* _VMDEV_PCI_H */
