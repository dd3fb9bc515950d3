// SPDX-License-Identifier: GPL-2.0-only
/*
 * vhost-mdev PCI accelerator: the relay of split rings during a live
 * migration, and what it shares with the relay of packed rings
 * (pci_packed.c).
 *
 * A virtio-pci function writes guest memory by DMA and tracks nothing, so
 * while the client logs (VHOST_F_LOG_ALL) the function gets rings of the
 * kernel's instead of the driver's available and used rings: the relay
 * hands the driver's available entries on to the function's ring and the
 * function's used entries back to the driver's, and before the driver can
 * see a used entry it logs what the function wrote into the buffer (the
 * chain's device-writable descriptors, up to the used length) and the used
 * ring itself. The function still reads the driver's descriptors where they
 * are. The relay's indices are its own, so a queue can also start at any
 * index (a migration's destination), which a virtio-pci function cannot.
 *
 * Outside a migration nothing is relayed (the direct data path: doorbell
 * mapped into the guest, interrupts to KVM). The switch happens while the
 * queues run: each is reset alone (VIRTIO_F_RING_RESET), with nothing in
 * flight (every buffer the function took, it used), and enabled again on
 * the relay's rings, which start where the driver's used index stands.
 * There is no way back while the driver's rings run (the function would
 * start its available index at 0 again): a queue is relayed until the next
 * reset of the device.
 *
 * The driver still writes the doorbell mapped into the guest, which the
 * kernel cannot see: a thread polls the driver's available rings, woken
 * early by the function's interrupts and by the kick eventfds. A pass
 * does at most a ring's worth of work per queue, under the IOTLB lock, and
 * reads nothing outside the IOTLB; a driver ring that makes no sense (an
 * available index more than a ring ahead, a used id out of the ring)
 * stops that queue's relay and says so once.
 */

#include <linux/delay.h>
#include <linux/iopoll.h>
#include <linux/kthread.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>

#include "pci.h"

/* The rings of a virtio 1.x (VIRTIO_F_VERSION_1) device are little-endian. */
#define vr16(v)		__virtio16_to_cpu(true, v)
#define vr32(v)		__virtio32_to_cpu(true, v)
#define vr64(v)		__virtio64_to_cpu(true, v)
#define to_vr16(v)	__cpu_to_virtio16(true, v)

/* Polling: from right after work, doubling to this long when idle. */
#define VMDEV_PCI_RELAY_MIN_US		50
#define VMDEV_PCI_RELAY_MAX_US		2000
/* A function that does not reset a queue in 100 ms is broken. */
#define VMDEV_PCI_QUEUE_RESET_US	100000

static size_t vmdev_pci_avail_bytes(u16 num)
{
	return PAGE_ALIGN(struct_size_t(struct vring_avail, ring, num) +
			  sizeof(__virtio16));
}

static size_t vmdev_pci_used_bytes(u16 num)
{
	return PAGE_ALIGN(struct_size_t(struct vring_used, ring, num) +
			  sizeof(__virtio16));
}

/**
 * vmdev_pci_shadow_slot - bytes of IOVA one queue's relay rings take
 * @num: the largest size of the queue
 *
 * Return: a multiple of PAGE_SIZE, for either layout.
 */
size_t vmdev_pci_shadow_slot(u16 num)
{
	return max(vmdev_pci_avail_bytes(num) + vmdev_pci_used_bytes(num),
		   vmdev_pci_packed_bytes(num));
}

static u64 vmdev_pci_slot_iova(struct vmdev_pci_dev *dev, u16 idx)
{
	return dev->vdev.shadow_iova + (u64)idx * dev->fn->slot;
}

/**
 * vmdev_pci_shadow_on - give a queue the relay's rings
 * @dev: the device
 * @vq: the queue, set up by the client, not yet programmed
 * @base: where the relay starts on the driver's rings: a split ring's
 *	index (used and available), a packed ring's VHOST_SET_VRING_BASE state
 *
 * Return: 0, -ENOMEM, -EINVAL for a packed position out of the ring, or the
 * IOMMU's -errno.
 */
int vmdev_pci_shadow_on(struct vmdev_pci_dev *dev, struct vmdev_pci_vq *vq,
			u32 base)
{
	struct vmdev_pci_shadow *s;
	size_t size = vmdev_pci_shadow_slot(vq->num);
	int ret = -ENOMEM;

	s = kzalloc(sizeof(*s), GFP_KERNEL);
	if (!s)
		return -ENOMEM;
	s->ring = alloc_pages_exact(size, GFP_KERNEL | __GFP_ZERO);
	if (!s->ring)
		goto err_free;
	s->size = size;
	s->iova = vmdev_pci_slot_iova(dev, vq->idx);
	s->packed = vmdev_pci_packed(&dev->vdev);
	if (s->packed) {
		ret = vmdev_pci_packed_on(s, vq->num, base);
		if (ret)
			goto err_ring;
	} else {
		s->avail = s->ring;
		s->used = s->ring + vmdev_pci_avail_bytes(vq->num);
		s->guest_avail = base;
		s->guest_used = base;
	}
	ret = vhost_mdev_shadow_map(&dev->vdev, s->iova, virt_to_phys(s->ring),
				    size);
	if (ret)
		goto err_packed;
	/* Read by the interrupt handler and kick_vq, hence WRITE_ONCE. */
	WRITE_ONCE(vq->shadow, s);
	return 0;

err_packed:
	vmdev_pci_packed_off(s);
err_ring:
	free_pages_exact(s->ring, size);
err_free:
	kfree(s);
	return ret;
}

/**
 * vmdev_pci_shadow_off - take a queue's relay rings away
 * @dev: the device, reset (the function uses them no more)
 * @vq: the queue
 */
void vmdev_pci_shadow_off(struct vmdev_pci_dev *dev, struct vmdev_pci_vq *vq)
{
	struct vmdev_pci_shadow *s = vq->shadow;

	if (!s)
		return;
	WRITE_ONCE(vq->shadow, NULL);
	vhost_mdev_shadow_unmap(&dev->vdev, s->iova, s->size);
	vmdev_pci_packed_off(s);
	free_pages_exact(s->ring, s->size);
	kfree(s);
}

/**
 * vmdev_pci_shadow_rings - where the function finds a relayed queue's rings
 * @vq: the queue, relayed
 * @desc: the descriptor area: the driver's for a split ring (the function
 *	reads the driver's descriptors), the relay's for a packed one
 * @driver: the driver area, the relay's
 * @device: the device area, the relay's
 */
void vmdev_pci_shadow_rings(const struct vmdev_pci_vq *vq, u64 *desc,
			    u64 *driver, u64 *device)
{
	const struct vmdev_pci_shadow *s = vq->shadow;
	size_t events = PAGE_ALIGN(vq->num * sizeof(struct vring_packed_desc));

	if (s->packed) {
		*desc = s->iova;
		*driver = s->iova + events;
		*device = *driver + sizeof(struct vring_packed_desc_event);
	} else {
		*desc = vq->desc;
		*driver = s->iova;
		*device = s->iova + vmdev_pci_avail_bytes(vq->num);
	}
}

/**
 * vmdev_pci_shadow_state - where a relayed queue stands on the driver's rings
 * @vq: the queue, relayed
 *
 * What the function took and has not used it will take again: the driver's
 * used position, as available and used state.
 *
 * Return: a split ring's used index, a packed ring's VHOST_GET_VRING_BASE
 * state.
 */
u32 vmdev_pci_shadow_state(const struct vmdev_pci_vq *vq)
{
	u32 used = READ_ONCE(vq->shadow->guest_used);

	return vq->shadow->packed ? used | used << 16 : used;
}

/*
 * Has the selected queue's reset completed? The spec has the function show
 * 1 in queue_reset; QEMU 7.2 completes it within the write and shows 0 in
 * both queue_reset and queue_enable instead. A function gone reads all ones.
 */
static bool vmdev_pci_queue_reset_done(struct virtio_pci_modern_common_cfg __iomem *cfg)
{
	u16 reset = vp_ioread16(&cfg->queue_reset);

	return reset == 1 || (!reset && !vp_ioread16(&cfg->cfg.queue_enable));
}

/* Reset one queue of a running function, bounded. */
int vmdev_pci_queue_reset(struct virtio_pci_modern_device *vp, u16 idx)
{
	struct virtio_pci_modern_common_cfg __iomem *cfg =
		(struct virtio_pci_modern_common_cfg __iomem *)vp->common;
	bool done;

	vp_iowrite16(idx, &cfg->cfg.queue_select);
	vp_iowrite16(1, &cfg->queue_reset);
	return read_poll_timeout(vmdev_pci_queue_reset_done, done, done, 10,
				 VMDEV_PCI_QUEUE_RESET_US, false, cfg);
}

/**
 * vmdev_pci_shadow_switch - relay a running queue from now on
 * @dev: the running device, the relay's thread stopped
 * @vq: the queue, running on the driver's rings
 *
 * The relay's rings first (nothing is lost if there is no memory), then
 * the queue is reset alone: the function used every buffer it took (in
 * order, nothing in flight once reset), so the relay starts where the
 * driver's used index stands; then it runs again, on the relay's rings.
 *
 * Return: 0, or -errno with the queue as it was, but after a failed reset.
 */
int vmdev_pci_shadow_switch(struct vmdev_pci_dev *dev, struct vmdev_pci_vq *vq)
{
	u16 used = 0;
	int ret;

	ret = vmdev_pci_shadow_on(dev, vq, 0);
	if (ret)
		return ret;
	ret = vmdev_pci_queue_reset(&dev->fn->vp, vq->idx);
	if (ret) {
		dev_err(&dev->vdev.dev, "vq %u: queue reset did not complete\n",
			vq->idx);
		vmdev_pci_shadow_off(dev, vq);
		return ret;
	}
	ret = vmdev_pci_read_used_idx(dev, vq, &used);
	/* A running queue's used ring is mapped: else the client broke it. */
	vq->shadow->guest_avail = used;
	vq->shadow->guest_used = used;
	if (ret)
		vq->shadow->broken = true;
	vmdev_pci_program_vq(dev, vq);
	return 0;
}

/*
 * Log what the function wrote into the buffer of chain @head: its
 * device-writable descriptors in order, @len bytes in all. The function
 * read this chain already; a malformed one (a loop, an index out of the
 * table) ends the walk, having logged what it could.
 */
static void vmdev_pci_log_chain(struct vmdev_pci_dev *dev,
				struct vmdev_pci_vq *vq, u16 head, u32 len)
{
	struct vhost_mdev_device *vdev = &dev->vdev;
	u32 max = vq->num, steps = 0, i = head;
	u64 table = vq->desc;
	bool indirect = false;
	struct vring_desc d;
	u32 n;

	while (len) {
		if (i >= max || ++steps > max ||
		    vhost_mdev_iotlb_read(vdev, 0, &d, table + i * sizeof(d),
					  sizeof(d)))
			return;
		if (vr16(d.flags) & VRING_DESC_F_INDIRECT) {
			if (indirect || !d.len ||
			    vr32(d.len) % sizeof(d))
				return;
			indirect = true;
			table = vr64(d.addr);
			max = vr32(d.len) / sizeof(d);
			i = 0;
			steps = 0;
			continue;
		}
		if (vr16(d.flags) & VRING_DESC_F_WRITE) {
			n = min(len, vr32(d.len));
			vhost_mdev_iotlb_log(vdev, vr64(d.addr), n);
			len -= n;
		}
		if (!(vr16(d.flags) & VRING_DESC_F_NEXT))
			return;
		i = vr16(d.next);
	}
}

void vmdev_pci_relay_broken(struct vmdev_pci_dev *dev, struct vmdev_pci_vq *vq,
			    const char *why)
{
	vq->shadow->broken = true;
	dev_warn_ratelimited(&dev->vdev.dev, "vq %u: relay stopped: %s\n",
			     vq->idx, why);
}

/*
 * Hand the function's new used entries back to the driver, each buffer
 * logged first, then the driver's used index. Return how many.
 */
static u16 vmdev_pci_relay_used(struct vmdev_pci_dev *dev,
				struct vmdev_pci_vq *vq)
{
	struct vhost_mdev_device *vdev = &dev->vdev;
	struct vmdev_pci_shadow *s = vq->shadow;
	struct vring_used_elem e;
	u16 n, k, mask = vq->num - 1;
	__virtio16 idx;

	n = vr16(READ_ONCE(s->used->idx)) - s->dev_used;
	if (!n)
		return 0;
	if (n > vq->num) {
		vmdev_pci_relay_broken(dev, vq, "the function's used index");
		return 0;
	}
	/* The entries after the index, as the function wrote them before. */
	dma_rmb();
	for (k = 0; k < n; k++) {
		e = s->used->ring[(u16)(s->dev_used + k) & mask];
		if (vr32(e.id) >= vq->num) {
			vmdev_pci_relay_broken(dev, vq, "a used id out of the ring");
			break;
		}
		vmdev_pci_log_chain(dev, vq, vr32(e.id),
				    vr32(e.len));
		if (vhost_mdev_iotlb_write(vdev, 0,
					   vq->device +
					   offsetof(struct vring_used, ring) +
					   ((s->guest_used + k) & mask) *
					   sizeof(e), &e, sizeof(e))) {
			vmdev_pci_relay_broken(dev, vq, "the used ring is not mapped");
			break;
		}
	}
	if (!k)
		return 0;
	s->dev_used += k;
	s->guest_used += k;
	/* The driver sees the entries before their index. */
	smp_wmb();
	idx = to_vr16(s->guest_used);
	vhost_mdev_iotlb_write(vdev, 0,
			       vq->device + offsetof(struct vring_used, idx),
			       &idx, sizeof(idx));
	/* With VIRTIO_RING_F_EVENT_IDX: an interrupt at the next used entry. */
	WRITE_ONCE(s->avail->ring[vq->num], to_vr16(s->dev_used));
	s->relayed_used += k;
	return k;
}

/*
 * Hand the driver's new available entries on to the function. Return how
 * many.
 */
static u16 vmdev_pci_relay_avail(struct vmdev_pci_dev *dev,
				 struct vmdev_pci_vq *vq)
{
	struct vhost_mdev_device *vdev = &dev->vdev;
	struct vmdev_pci_shadow *s = vq->shadow;
	u16 n, k, mask = vq->num - 1;
	__virtio16 idx, head;

	if (vhost_mdev_iotlb_read(vdev, 0, &idx,
				  vq->driver + offsetof(struct vring_avail, idx),
				  sizeof(idx)))
		return 0;
	n = vr16(idx) - s->guest_avail;
	if (!n)
		return 0;
	if (n > vq->num) {
		vmdev_pci_relay_broken(dev, vq, "the driver's available index");
		return 0;
	}
	/* The entries after the index, as the driver wrote them before. */
	smp_rmb();
	for (k = 0; k < n; k++) {
		if (vhost_mdev_iotlb_read(vdev, 0, &head, vq->driver +
					  offsetof(struct vring_avail, ring) +
					  ((s->guest_avail + k) & mask) *
					  sizeof(head), sizeof(head)))
			break;
		/* Never hand the function what it would choke on. */
		if (vr16(head) >= vq->num) {
			vmdev_pci_relay_broken(dev, vq,
					       "an available id out of the ring");
			break;
		}
		s->avail->ring[(u16)(s->dev_avail + k) & mask] = head;
	}
	if (!k)
		return 0;
	s->guest_avail += k;
	s->dev_avail += k;
	/* The function reads the entries after their index. */
	dma_wmb();
	WRITE_ONCE(s->avail->idx, to_vr16(s->dev_avail));
	s->relayed_avail += k;
	/*
	 * With VIRTIO_RING_F_EVENT_IDX the driver kicks when it passes the
	 * used ring's avail_event: at its next entry (a kick eventfd wakes
	 * the relay early). Without it, the field is not the driver's.
	 */
	if (dev->event_idx) {
		idx = to_vr16(s->guest_avail);
		vhost_mdev_iotlb_write(vdev, 0, vq->device +
				       offsetof(struct vring_used, ring) +
				       vq->num * sizeof(struct vring_used_elem),
				       &idx, sizeof(idx));
	}
	return k;
}

/**
 * vmdev_pci_relay_vq - relay one queue once
 * @dev: the device
 * @vq: the queue
 * @running: the function runs the queue: kick it and signal the driver;
 *	when false (it was just reset) only hand back what it used
 *
 * Return: whether anything moved.
 */
bool vmdev_pci_relay_vq(struct vmdev_pci_dev *dev, struct vmdev_pci_vq *vq,
			bool running)
{
	irqreturn_t (*cb)(void *private);
	u16 used, avail = 0;

	if (!vq->shadow || vq->shadow->broken)
		return false;
	vhost_mdev_iotlb_lock(&dev->vdev);
	if (vq->shadow->packed) {
		used = vmdev_pci_relay_used_packed(dev, vq);
		if (running)
			avail = vmdev_pci_relay_avail_packed(dev, vq);
	} else {
		used = vmdev_pci_relay_used(dev, vq);
		if (running)
			avail = vmdev_pci_relay_avail(dev, vq);
	}
	vhost_mdev_iotlb_unlock(&dev->vdev);
	/* After the ring: iowrite16() orders the writes before it. */
	if (avail)
		vp_iowrite16(vq->idx, dev->fn->hwq[vq->idx].notify);
	cb = READ_ONCE(vq->cb.callback);
	if (used && running && cb)
		cb(READ_ONCE(vq->cb.private));
	return used || avail;
}

/* Relay every running relayed queue once; whether anything moved. */
static bool vmdev_pci_relay_pass(struct vmdev_pci_dev *dev)
{
	struct vmdev_pci_vq *vq;
	bool moved = false;
	u16 i;

	for (i = 0; i < dev->vdev.nvqs; i++) {
		vq = &dev->vqs[i];
		if (!vq->stopped)
			moved |= vmdev_pci_relay_vq(dev, vq, true);
	}
	return moved;
}

static int vmdev_pci_relay_fn(void *data)
{
	struct vmdev_pci_dev *dev = data;
	unsigned int us = VMDEV_PCI_RELAY_MIN_US;

	while (!kthread_should_stop()) {
		WRITE_ONCE(dev->relay_woken, false);
		if (vmdev_pci_relay_pass(dev)) {
			us = VMDEV_PCI_RELAY_MIN_US;
			cond_resched();
			continue;
		}
		wait_event_interruptible_hrtimeout(dev->relay_wq,
						   READ_ONCE(dev->relay_woken) ||
						   kthread_should_stop(),
						   ns_to_ktime(us * NSEC_PER_USEC));
		us = min(us * 2, VMDEV_PCI_RELAY_MAX_US);
	}
	return 0;
}

/**
 * vmdev_pci_relay_wake - something happened on a relayed queue
 * @dev: the device
 *
 * Any context: from the function's interrupt or a kick eventfd.
 */
void vmdev_pci_relay_wake(struct vmdev_pci_dev *dev)
{
	WRITE_ONCE(dev->relay_woken, true);
	wake_up(&dev->relay_wq);
}

/**
 * vmdev_pci_relay_start - start the relay's thread, once the function runs
 * @dev: the device, with at least one relayed queue
 *
 * Return: 0 or -errno.
 */
int vmdev_pci_relay_start(struct vmdev_pci_dev *dev)
{
	struct task_struct *t;

	if (dev->relay)
		return 0;
	t = kthread_run(vmdev_pci_relay_fn, dev, "vmdev-relay/%s",
			pci_name(dev->fn->pdev));
	if (IS_ERR(t))
		return PTR_ERR(t);
	dev->relay = t;
	return 0;
}

/**
 * vmdev_pci_relay_stop - stop the relay's thread
 * @dev: the device
 */
void vmdev_pci_relay_stop(struct vmdev_pci_dev *dev)
{
	if (!dev->relay)
		return;
	kthread_stop(dev->relay);
	dev->relay = NULL;
}
