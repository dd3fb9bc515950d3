// SPDX-License-Identifier: GPL-2.0-only
/*
 * vhost-mdev PCI accelerator: the function's registers.
 *
 * Everything goes through the kernel's vp_modern library: no capability
 * walk, no register offsets here. The virtio 1.x driver sequence is kept
 * exactly, whatever order the client sends its ioctls in: ring sizes and
 * addresses are only remembered until DRIVER_OK, when they are programmed,
 * vectors assigned and queues enabled, all after FEATURES_OK was accepted
 * and before DRIVER_OK is written. queue_enable is never written 0 (the
 * spec forbids it); a reset is the way to stop.
 */

#include <linux/interrupt.h>
#include <linux/iopoll.h>
#include <kunit/visibility.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>

#include "pci.h"

/* A function that does not finish its reset in a second is broken. */
#define VMDEV_PCI_RESET_TIMEOUT_US	1000000
#define VMDEV_PCI_CONFIG_RETRIES	16

static struct virtio_pci_modern_device *to_vp(struct vhost_mdev_device *vdev)
{
	return &to_vmdev_pci_dev(vdev)->fn->vp;
}

/* Write 0 and wait, bounded, until the function reads back 0. */
static int vmdev_pci_reset_function(struct virtio_pci_modern_device *vp)
{
	u8 status;
	int ret;

	vp_modern_set_status(vp, 0);
	ret = read_poll_timeout(vp_modern_get_status, status, !status, 100,
				VMDEV_PCI_RESET_TIMEOUT_US, false, vp);
	if (ret)
		dev_err(&vp->pci_dev->dev, "did not complete its reset: status %#x\n",
			status);
	return ret;
}

int vmdev_pci_hw_reset(struct vmdev_pci *fn)
{
	return vmdev_pci_reset_function(&fn->vp);
}

/* Does @w hold all of [@pa, @pa + @len)? */
static bool vmdev_pci_window_holds(const struct vmdev_pci_window *w,
				   resource_size_t pa, resource_size_t len)
{
	return pa >= w->start && pa - w->start <= w->len &&
	       w->len - (pa - w->start) >= len;
}

/* Does @w share a byte with [@pa, @pa + @len)? */
static bool vmdev_pci_window_meets(const struct vmdev_pci_window *w,
				   resource_size_t pa, resource_size_t len)
{
	if (!w->len)
		return false;
	return pa >= w->start ? pa - w->start < w->len : w->start - pa < len;
}

/**
 * vmdev_pci_doorbell_alone - may a client map queue @idx's doorbell page?
 * @fn: the function, its layout and its queues' doorbells known
 * @idx: the queue
 *
 * As VFIO would: only if the page holds nothing but doorbells of this
 * function's queues. It must be page aligned, lie wholly inside the
 * notification area, hold no other queue's doorbell (each queue has its own
 * page, so one queue's page cannot kick another) and meet no other register
 * range: the other virtio structures, the MSI-X table and pending bits.
 *
 * Return: true when the page may be mapped.
 */
VISIBLE_IF_KUNIT bool vmdev_pci_doorbell_alone(const struct vmdev_pci *fn,
					       u16 idx)
{
	const struct vmdev_pci_layout *l = &fn->layout;
	resource_size_t pa = fn->hwq[idx].notify_pa;
	unsigned int i;

	if (l->unknown || !PAGE_ALIGNED(pa) ||
	    !vmdev_pci_window_holds(&l->notify, pa, PAGE_SIZE))
		return false;
	for (i = 0; i < l->nforeign; i++)
		if (vmdev_pci_window_meets(&l->foreign[i], pa, PAGE_SIZE))
			return false;
	for (i = 0; i < fn->nvqs; i++)
		if (i != idx && fn->hwq[i].notify_pa >= pa &&
		    fn->hwq[i].notify_pa - pa < PAGE_SIZE)
			return false;
	return true;
}
EXPORT_SYMBOL_IF_KUNIT(vmdev_pci_doorbell_alone);

static void vmdev_pci_add_foreign(struct vmdev_pci_layout *l,
				  resource_size_t start, resource_size_t len)
{
	if (l->nforeign == VMDEV_PCI_MAX_FOREIGN) {
		l->unknown = true;
		return;
	}
	l->foreign[l->nforeign].start = start;
	l->foreign[l->nforeign++].len = len;
}

/*
 * Where the notification area is, from what vp_modern mapped (the whole area
 * when it is small, else the capability it maps each doorbell from).
 */
static void vmdev_pci_notify_window(struct vmdev_pci *fn)
{
	struct virtio_pci_modern_device *vp = &fn->vp;
	struct vmdev_pci_window *w = &fn->layout.notify;
	struct pci_dev *pdev = fn->pdev;
	u32 offset, length;
	u8 bar;

	if (vp->notify_base) {
		w->start = vp->notify_pa;
		w->len = vp->notify_len;
		return;
	}
	pci_read_config_byte(pdev, vp->notify_map_cap +
			     offsetof(struct virtio_pci_cap, bar), &bar);
	pci_read_config_dword(pdev, vp->notify_map_cap +
			      offsetof(struct virtio_pci_cap, offset), &offset);
	pci_read_config_dword(pdev, vp->notify_map_cap +
			      offsetof(struct virtio_pci_cap, length), &length);
	if (bar >= PCI_STD_NUM_BARS ||
	    (u64)offset + length > pci_resource_len(pdev, bar))
		return;
	w->start = pci_resource_start(pdev, bar) + offset;
	w->len = length;
}

/*
 * Every register range a doorbell page must not meet. vp_modern keeps no
 * physical address of the other virtio structures, so their capabilities
 * are read here, for their ranges only; the MSI-X arrays come from the
 * MSI-X capability.
 */
static void vmdev_pci_foreign_windows(struct vmdev_pci *fn)
{
	struct vmdev_pci_layout *l = &fn->layout;
	struct pci_dev *pdev = fn->pdev;
	u32 offset, length, table, pba;
	u8 type, bar;
	int pos, n;

	for (pos = pci_find_capability(pdev, PCI_CAP_ID_VNDR); pos;
	     pos = pci_find_next_capability(pdev, pos, PCI_CAP_ID_VNDR)) {
		pci_read_config_byte(pdev, pos + offsetof(struct virtio_pci_cap,
							  cfg_type), &type);
		pci_read_config_byte(pdev, pos + offsetof(struct virtio_pci_cap,
							  bar), &bar);
		pci_read_config_dword(pdev, pos +
				      offsetof(struct virtio_pci_cap, offset),
				      &offset);
		pci_read_config_dword(pdev, pos +
				      offsetof(struct virtio_pci_cap, length),
				      &length);
		/* Doorbells, and a window into config space: not registers. */
		if (type == VIRTIO_PCI_CAP_NOTIFY_CFG ||
		    type == VIRTIO_PCI_CAP_PCI_CFG || bar >= PCI_STD_NUM_BARS ||
		    !(pci_resource_flags(pdev, bar) & IORESOURCE_MEM))
			continue;
		vmdev_pci_add_foreign(l, pci_resource_start(pdev, bar) + offset,
				      length);
	}

	n = pci_msix_vec_count(pdev);
	if (n <= 0)
		return;
	pci_read_config_dword(pdev, pdev->msix_cap + PCI_MSIX_TABLE, &table);
	pci_read_config_dword(pdev, pdev->msix_cap + PCI_MSIX_PBA, &pba);
	bar = table & PCI_MSIX_TABLE_BIR;
	vmdev_pci_add_foreign(l, pci_resource_start(pdev, bar) +
			      (table & PCI_MSIX_TABLE_OFFSET),
			      n * PCI_MSIX_ENTRY_SIZE);
	bar = pba & PCI_MSIX_PBA_BIR;
	vmdev_pci_add_foreign(l, pci_resource_start(pdev, bar) +
			      (pba & PCI_MSIX_PBA_OFFSET),
			      DIV_ROUND_UP(n, BITS_PER_LONG_LONG) * sizeof(u64));
}

/* Doorbells vp_modern mapped one by one (the area was too big to map). */
static void vmdev_pci_unmap_doorbells(struct vmdev_pci *fn)
{
	u16 i;

	if (fn->vp.notify_base)
		return;
	for (i = 0; i < fn->nvqs; i++)
		if (fn->hwq[i].notify)
			pci_iounmap(fn->pdev, fn->hwq[i].notify);
}

/*
 * Probe the function's virtio interface and its queues. A legacy-only
 * function has no modern capabilities and is refused.
 */
int vmdev_pci_hw_probe(struct vmdev_pci *fn)
{
	struct virtio_pci_modern_device *vp = &fn->vp;
	struct device *dev = &fn->pdev->dev;
	u16 i;
	int ret;

	vp->pci_dev = fn->pdev;
	ret = vp_modern_probe(vp);
	if (ret == -ENODEV)
		return dev_err_probe(dev, ret,
				     "legacy-only virtio-pci function: vhost_mdev_pci needs the virtio 1.x (modern) interface\n");
	if (ret)
		return dev_err_probe(dev, ret, "virtio-pci capabilities\n");

	ret = vmdev_pci_reset_function(vp);
	if (ret)
		goto err_remove;

	fn->features = vp_modern_get_features(vp);
	ret = -ENODEV;
	if (!(fn->features & BIT_ULL(VIRTIO_F_VERSION_1))) {
		dev_err(dev, "does not offer VIRTIO_F_VERSION_1\n");
		goto err_remove;
	}
	/*
	 * Count the queues with every offered feature accepted: QEMU's
	 * virtio-net has the queues of its pairs beyond the first only while
	 * VIRTIO_NET_F_MQ is negotiated (num_queues reads 3 after a driver
	 * that did not take it). The reset after the queues are read undoes
	 * the negotiation.
	 */
	vp_modern_set_status(vp, VIRTIO_CONFIG_S_ACKNOWLEDGE |
			     VIRTIO_CONFIG_S_DRIVER);
	vp_modern_set_features(vp, fn->features);
	vp_modern_set_status(vp, VIRTIO_CONFIG_S_ACKNOWLEDGE |
			     VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK);
	fn->nvqs = vp_modern_get_num_queues(vp);
	if (!fn->nvqs) {
		dev_err(dev, "has no virtqueue\n");
		goto err_reset;
	}
	fn->config_size = vp->device ? min_t(size_t, vp->device_len,
					     PAGE_SIZE) : 0;

	ret = -ENOMEM;
	fn->hwq = devm_kcalloc(dev, fn->nvqs, sizeof(*fn->hwq), GFP_KERNEL);
	if (!fn->hwq)
		goto err_reset;
	for (i = 0; i < fn->nvqs; i++) {
		fn->hwq[i].size_max = vp_modern_get_queue_size(vp, i);
		fn->slot = max(fn->slot,
			       vmdev_pci_shadow_slot(fn->hwq[i].size_max));
		fn->hwq[i].notify = vp_modern_map_vq_notify(vp, i,
							    &fn->hwq[i].notify_pa);
		if (!fn->hwq[i].notify || !fn->hwq[i].size_max) {
			dev_err(dev, "queue %u: no doorbell or no size\n", i);
			ret = -ENODEV;
			goto err_unmap;
		}
	}
	ret = vmdev_pci_reset_function(vp);
	if (ret)
		goto err_unmap;
	vmdev_pci_notify_window(fn);
	vmdev_pci_foreign_windows(fn);
	for (i = 0; i < fn->nvqs; i++)
		fn->hwq[i].mappable = vmdev_pci_doorbell_alone(fn, i);

	pci_set_master(fn->pdev);
	return 0;

err_unmap:
	vmdev_pci_unmap_doorbells(fn);
err_reset:
	vmdev_pci_reset_function(vp);
err_remove:
	vp_modern_remove(vp);
	return ret;
}

void vmdev_pci_hw_remove(struct vmdev_pci *fn)
{
	vmdev_pci_reset_function(&fn->vp);
	vmdev_pci_unmap_doorbells(fn);
	vp_modern_remove(&fn->vp);
}

/* A relayed queue's interrupt is the relay's, not the driver's. */
static irqreturn_t vmdev_pci_vq_irq(int irq, void *data)
{
	struct vmdev_pci_vq *vq = data;
	irqreturn_t (*cb)(void *private) = READ_ONCE(vq->cb.callback);

	if (READ_ONCE(vq->shadow)) {
		vmdev_pci_relay_wake(vq->dev);
		return IRQ_HANDLED;
	}
	return cb ? cb(READ_ONCE(vq->cb.private)) : IRQ_HANDLED;
}

static irqreturn_t vmdev_pci_config_irq(int irq, void *data)
{
	struct vmdev_pci_dev *dev = data;
	irqreturn_t (*cb)(void *private) = READ_ONCE(dev->config_cb.callback);

	return cb ? cb(READ_ONCE(dev->config_cb.private)) : IRQ_HANDLED;
}

static bool vmdev_pci_vq_starts(const struct vmdev_pci_vq *vq)
{
	return vq->ready && vq->num && vq->desc;
}

/*
 * Free every irq requested and the vectors (none allocated is fine): the
 * function was reset, or never used them.
 */
static void vmdev_pci_free_irqs(struct vmdev_pci_dev *dev)
{
	u16 i;

	for (i = 0; i < dev->vdev.nvqs; i++) {
		if (dev->vqs[i].irq < 0)
			continue;
		free_irq(dev->vqs[i].irq, &dev->vqs[i]);
		dev->vqs[i].irq = -1;
		dev->vqs[i].vec = VIRTIO_MSI_NO_VECTOR;
	}
	if (dev->config_irq >= 0) {
		free_irq(dev->config_irq, dev);
		dev->config_irq = -1;
	}
	pci_free_irq_vectors(dev->fn->pdev);
}

/*
 * One MSI-X vector for the configuration and one per queue that starts and
 * has a callback (a queue without a call eventfd gets none).
 */
static int vmdev_pci_request_irqs(struct vmdev_pci_dev *dev)
{
	struct virtio_pci_modern_device *vp = &dev->fn->vp;
	struct pci_dev *pdev = dev->fn->pdev;
	struct vmdev_pci_vq *vq;
	int nvec = 1, vec = 0, ret;
	u16 i;

	for (i = 0; i < dev->vdev.nvqs; i++)
		if (vmdev_pci_vq_starts(&dev->vqs[i]) && dev->vqs[i].cb.callback)
			nvec++;

	ret = pci_alloc_irq_vectors(pdev, nvec, nvec, PCI_IRQ_MSIX);
	if (ret < 0) {
		dev_err(&pdev->dev, "cannot allocate %d MSI-X vectors: %d\n",
			nvec, ret);
		return ret;
	}

	snprintf(dev->config_irq_name, sizeof(dev->config_irq_name),
		 "vhost-mdev-pci[%s]-config", pci_name(pdev));
	ret = request_irq(pci_irq_vector(pdev, vec), vmdev_pci_config_irq, 0,
			  dev->config_irq_name, dev);
	if (ret)
		goto err;
	dev->config_irq = pci_irq_vector(pdev, vec);
	if (vp_modern_config_vector(vp, vec) != vec) {
		ret = -EBUSY;
		goto err;
	}

	for (i = 0; i < dev->vdev.nvqs; i++) {
		vq = &dev->vqs[i];
		if (!vmdev_pci_vq_starts(vq) || !vq->cb.callback)
			continue;
		vec++;
		snprintf(vq->irq_name, sizeof(vq->irq_name),
			 "vhost-mdev-pci[%s]-vq%u", pci_name(pdev), i);
		ret = request_irq(pci_irq_vector(pdev, vec), vmdev_pci_vq_irq,
				  0, vq->irq_name, vq);
		if (ret)
			goto err;
		vq->irq = pci_irq_vector(pdev, vec);
		vq->vec = vec;
		if (vp_modern_queue_vector(vp, i, vec) != vec) {
			ret = -EBUSY;
			goto err;
		}
	}
	return 0;

err:
	dev_err(&pdev->dev, "MSI-X setup failed: %d\n", ret);
	vmdev_pci_free_irqs(dev);
	return ret;
}

/* A queue's size and rings: the driver's, or the relay's. */
static void vmdev_pci_queue_rings(struct vmdev_pci_dev *dev,
				  struct vmdev_pci_vq *vq)
{
	u64 desc = vq->desc, driver = vq->driver, device = vq->device;
	struct virtio_pci_modern_device *vp = &dev->fn->vp;

	if (vq->shadow)
		vmdev_pci_shadow_rings(vq, &desc, &driver, &device);
	vp_modern_set_queue_size(vp, vq->idx, vq->num);
	vp_modern_queue_address(vp, vq->idx, desc, driver, device);
}

/**
 * vmdev_pci_program_vq - start a queue again after resetting it alone
 * @dev: the running device
 * @vq: the queue: its rings, its vector (the reset took it), enabled
 */
void vmdev_pci_program_vq(struct vmdev_pci_dev *dev, struct vmdev_pci_vq *vq)
{
	struct virtio_pci_modern_device *vp = &dev->fn->vp;

	vmdev_pci_queue_rings(dev, vq);
	vp_modern_queue_vector(vp, vq->idx, vq->vec);
	vp_modern_set_queue_enable(vp, vq->idx, true);
}

/* Can the device's queues be relayed? */
static bool vmdev_pci_relays(struct vmdev_pci_dev *dev)
{
	return dev->vdev.log_model == VHOST_MDEV_LOG_SHADOW;
}

/*
 * Packed queues of an mdev that can migrate: where one stands must be
 * known exactly, at any time (pci_packed.c).
 */
static bool vmdev_pci_relays_packed(struct vmdev_pci_dev *dev)
{
	return vmdev_pci_relays(dev) && vmdev_pci_packed(&dev->vdev) &&
	       vhost_mdev_log_offered(&dev->vdev);
}

/*
 * Relay every queue from the start when the client logs already (QEMU
 * restarting a device during a migration), a queue must start beyond
 * index 0 (a migration's destination), which only the relay can, or the
 * rings are packed ones that must be able to say where they are.
 */
static int vmdev_pci_shadow_start(struct vmdev_pci_dev *dev)
{
	bool relay = dev->log_all || vmdev_pci_relays_packed(dev);
	struct vmdev_pci_vq *vq;
	u16 i;
	int ret;

	for (i = 0; i < dev->vdev.nvqs; i++)
		if (vmdev_pci_vq_starts(&dev->vqs[i]) && dev->vqs[i].relay_base)
			relay = true;
	if (!relay || !vmdev_pci_relays(dev))
		return 0;
	for (i = 0; i < dev->vdev.nvqs; i++) {
		vq = &dev->vqs[i];
		if (!vmdev_pci_vq_starts(vq))
			continue;
		ret = vmdev_pci_shadow_on(dev, vq, vq->relay_base ? vq->state :
					  vmdev_pci_packed(&dev->vdev) ?
					  VMDEV_PCI_PACKED_START : 0);
		if (ret)
			return ret;
	}
	return 0;
}

static void vmdev_pci_shadow_stop(struct vmdev_pci_dev *dev)
{
	u16 i;

	for (i = 0; i < dev->vdev.nvqs; i++)
		vmdev_pci_shadow_off(dev, &dev->vqs[i]);
}

/*
 * Between FEATURES_OK and DRIVER_OK: program each queue the client set up,
 * give it its vector, enable it. Queues the client did not enable stay
 * disabled (never written 0).
 */
static int vmdev_pci_start(struct vmdev_pci_dev *dev)
{
	struct virtio_pci_modern_device *vp = &dev->fn->vp;
	struct vmdev_pci_vq *vq;
	u16 i;
	int ret;

	dev->event_idx = vp_modern_get_driver_features(vp) &
			 BIT_ULL(VIRTIO_RING_F_EVENT_IDX);
	ret = vmdev_pci_shadow_start(dev);
	if (ret)
		goto err;
	for (i = 0; i < dev->vdev.nvqs; i++) {
		vq = &dev->vqs[i];
		if (vmdev_pci_vq_starts(vq))
			vmdev_pci_queue_rings(dev, vq);
	}

	ret = vmdev_pci_request_irqs(dev);
	if (ret)
		goto err;

	for (i = 0; i < dev->vdev.nvqs; i++) {
		vq = &dev->vqs[i];
		if (!vmdev_pci_vq_starts(vq))
			continue;
		vp_modern_set_queue_enable(vp, i, true);
		vq->enabled = true;
	}
	return 0;

err:
	vmdev_pci_shadow_stop(dev);
	return ret;
}

/**
 * vmdev_pci_read_used_idx - read the used index in the driver's ring
 * @dev: the device
 * @vq: the queue, its used ring's address set
 * @idx: where the index goes; unchanged on an error
 *
 * Return: 0, or the IOTLB's -errno where the used ring is not mapped.
 */
int vmdev_pci_read_used_idx(struct vmdev_pci_dev *dev,
			    struct vmdev_pci_vq *vq, u16 *idx)
{
	__le16 used;
	int ret;

	vhost_mdev_iotlb_lock(&dev->vdev);
	ret = vhost_mdev_iotlb_read(&dev->vdev, 0, &used,
				    vq->device + offsetof(struct vring_used,
							  idx),
				    sizeof(used));
	vhost_mdev_iotlb_unlock(&dev->vdev);
	if (!ret)
		*idx = le16_to_cpu(used);
	return ret;
}

/*
 * The used index in guest memory: where an in-order device that has
 * stopped would resume (every buffer it took, it used). Falls back to what
 * was set when the ring is not mapped.
 */
static u32 vmdev_pci_used_index(struct vmdev_pci_dev *dev,
				struct vmdev_pci_vq *vq)
{
	u16 idx;

	return vmdev_pci_read_used_idx(dev, vq, &idx) ? vq->state : idx;
}

static int vmdev_pci_set_vq_address(struct vhost_mdev_device *vdev, u16 idx,
				    u64 desc_area, u64 driver_area,
				    u64 device_area)
{
	struct vmdev_pci_vq *vq = &to_vmdev_pci_dev(vdev)->vqs[idx];

	vq->desc = desc_area;
	vq->driver = driver_area;
	vq->device = device_area;
	return 0;
}

static void vmdev_pci_set_vq_num(struct vhost_mdev_device *vdev, u16 idx,
				 u32 num)
{
	to_vmdev_pci_dev(vdev)->vqs[idx].num = num;
}

/*
 * Atomic context (the kick eventfd's wakeup): one MMIO write, or a wakeup
 * of the relay.
 */
static void vmdev_pci_kick_vq(struct vhost_mdev_device *vdev, u16 idx)
{
	struct vmdev_pci_dev *dev = to_vmdev_pci_dev(vdev);

	if (READ_ONCE(dev->vqs[idx].shadow))
		vmdev_pci_relay_wake(dev);
	else
		vp_iowrite16(idx, dev->fn->hwq[idx].notify);
}

static void vmdev_pci_set_vq_cb(struct vhost_mdev_device *vdev, u16 idx,
				const struct vhost_mdev_callback *cb)
{
	struct vmdev_pci_vq *vq = &to_vmdev_pci_dev(vdev)->vqs[idx];

	if (cb->callback && vq->enabled && vq->irq < 0)
		dev_warn_ratelimited(&vdev->dev,
				     "vq %u: a call eventfd bound after DRIVER_OK gets no vector until the next start\n",
				     idx);
	WRITE_ONCE(vq->cb.private, cb->private);
	WRITE_ONCE(vq->cb.callback, cb->callback);
}

static void vmdev_pci_set_vq_ready(struct vhost_mdev_device *vdev, u16 idx,
				   bool ready)
{
	struct vmdev_pci_vq *vq = &to_vmdev_pci_dev(vdev)->vqs[idx];

	/*
	 * virtio-pci cannot stop one queue (queue_enable 0 is forbidden) nor
	 * start one after DRIVER_OK: remember, act at the next start.
	 */
	if (ready && !vq->enabled &&
	    (vp_modern_get_status(to_vp(vdev)) & VIRTIO_CONFIG_S_DRIVER_OK))
		dev_warn_ratelimited(&vdev->dev,
				     "vq %u: enabling after DRIVER_OK is not possible on virtio-pci\n",
				     idx);
	vq->ready = ready;
}

static bool vmdev_pci_get_vq_ready(struct vhost_mdev_device *vdev, u16 idx)
{
	return to_vmdev_pci_dev(vdev)->vqs[idx].ready;
}

/*
 * A virtio-pci queue always starts at index 0: a packed one at position 0
 * of both sides with both wrap counters set. One that can be relayed
 * starts anywhere: relayed (a migration's destination); a packed one at a
 * position within the ring.
 */
static int vmdev_pci_set_vq_state(struct vhost_mdev_device *vdev, u16 idx,
				  u32 state)
{
	struct vmdev_pci_dev *dev = to_vmdev_pci_dev(vdev);
	struct vmdev_pci_vq *vq = &dev->vqs[idx];
	bool packed = vmdev_pci_packed(vdev);
	bool fresh = packed ? state == VMDEV_PCI_PACKED_START ||
			      state == VMDEV_PCI_PACKED_START_OLD : !state;

	if (!fresh && (packed ? !vmdev_pci_relays_packed(dev) :
			!vmdev_pci_relays(dev) || state > U16_MAX))
		return -EOPNOTSUPP;
	if (!fresh && packed && vq->num &&
	    (vmdev_pci_packed_base(state) & VMDEV_PCI_PACKED_POS) >= vq->num)
		return -EINVAL;
	vq->state = state;
	vq->state_lost = false;
	vq->relay_base = !fresh;
	return 0;
}

/*
 * Where a queue the function just stopped (reset, alone or whole) resumes:
 * a relayed one after the relay handed back, logged, what the function
 * used; the other split ones at their used index.
 */
static u32 vmdev_pci_stopped_at(struct vmdev_pci_dev *dev,
				struct vmdev_pci_vq *vq)
{
	if (!vq->shadow)
		return vmdev_pci_used_index(dev, vq);
	vmdev_pci_relay_vq(dev, vq, false);
	return vmdev_pci_shadow_state(vq);
}

static bool vmdev_pci_relayed(struct vmdev_pci_dev *dev)
{
	u16 i;

	for (i = 0; i < dev->vdev.nvqs; i++)
		if (dev->vqs[i].shadow)
			return true;
	return false;
}

static void vmdev_pci_relay_restart(struct vmdev_pci_dev *dev)
{
	if (vmdev_pci_relayed(dev) && vmdev_pci_relay_start(dev))
		dev_warn(&dev->vdev.dev, "no relay thread: relayed queues move at kicks only\n");
}

/*
 * Logging starts: relay every running queue from now on, each switched
 * alone while the others run (pci_shadow.c). It stops: the queues stay
 * relayed until the next reset, the only way to bring the function's
 * available index back to the driver's.
 */
static int vmdev_pci_set_log_all(struct vhost_mdev_device *vdev, bool on)
{
	struct vmdev_pci_dev *dev = to_vmdev_pci_dev(vdev);
	struct vmdev_pci_vq *vq;
	int ret = 0;
	u16 i;

	if (on && vmdev_pci_packed(vdev) && !vmdev_pci_relays_packed(dev))
		return -EOPNOTSUPP;
	dev->log_all = on;
	if (!on || !(vp_modern_get_status(to_vp(vdev)) &
		     VIRTIO_CONFIG_S_DRIVER_OK))
		return 0;
	vmdev_pci_relay_stop(dev);
	for (i = 0; i < vdev->nvqs && !ret; i++) {
		vq = &dev->vqs[i];
		if (vq->enabled && !vq->stopped && !vq->shadow)
			ret = vmdev_pci_shadow_switch(dev, vq);
	}
	vmdev_pci_relay_restart(dev);
	if (ret)
		dev->log_all = false;
	return ret;
}

/*
 * QEMU asks a running queue where it is while it stops all but the last of
 * its vhost devices, and migrates the answer: reset the queue alone, so
 * that nothing moves after it. A function that cannot keeps running it. A
 * relayed packed queue (no queue reset with packed rings on QEMU 7.2's
 * function) is handed on nothing more: what the function took and has not
 * used by now it takes again where the queue resumes.
 */
static void vmdev_pci_stop_vq(struct vhost_mdev_device *vdev, u16 idx)
{
	struct vmdev_pci_dev *dev = to_vmdev_pci_dev(vdev);
	struct vmdev_pci_vq *vq = &dev->vqs[idx];
	bool packed = vmdev_pci_packed(vdev);

	if (!vq->enabled || vq->stopped || !vmdev_pci_relays(dev) ||
	    (packed && !vq->shadow))
		return;
	vmdev_pci_relay_stop(dev);
	if (packed || !vmdev_pci_queue_reset(&dev->fn->vp, idx)) {
		vq->stopped = true;
		vq->state = vmdev_pci_stopped_at(dev, vq);
	}
	vmdev_pci_relay_restart(dev);
}

/*
 * A split ring's used index is in memory; a relayed ring's positions are
 * the relay's; a packed ring's that the function runs alone are its own,
 * like upstream vp_vdpa's.
 */
static int vmdev_pci_get_vq_state(struct vhost_mdev_device *vdev, u16 idx,
				  u32 *state)
{
	struct vmdev_pci_dev *dev = to_vmdev_pci_dev(vdev);
	struct vmdev_pci_vq *vq = &dev->vqs[idx];

	if (vq->enabled ? vmdev_pci_packed(vdev) && !vq->shadow :
	    vq->state_lost)
		return -EOPNOTSUPP;
	if (!vq->enabled || vq->stopped)
		*state = vq->state;
	else if (vq->shadow)
		*state = vmdev_pci_shadow_state(vq);
	else
		*state = vmdev_pci_used_index(dev, vq);
	return 0;
}

static int vmdev_pci_get_vq_notification(struct vhost_mdev_device *vdev,
					 u16 idx,
					 struct vhost_mdev_notify_area *area)
{
	struct vmdev_pci_hwq *hwq = &to_vmdev_pci_dev(vdev)->fn->hwq[idx];

	area->addr = hwq->notify_pa;
	area->size = hwq->mappable ? PAGE_SIZE : 0;
	return 0;
}

/* A relayed queue's interrupt goes to the relay, not to KVM. */
static int vmdev_pci_get_vq_irq(struct vhost_mdev_device *vdev, u16 idx)
{
	struct vmdev_pci_vq *vq = &to_vmdev_pci_dev(vdev)->vqs[idx];

	return vq->irq < 0 || vq->shadow ? -ENOENT : vq->irq;
}

static u16 vmdev_pci_get_vq_size(struct vhost_mdev_device *vdev, u16 idx)
{
	return to_vmdev_pci_dev(vdev)->fn->hwq[idx].size_max;
}

static u32 vmdev_pci_get_device_id(struct vhost_mdev_device *vdev)
{
	return to_vp(vdev)->id.device;
}

/*
 * VIRTIO_F_RING_RESET is the relay's: the function's queues are reset
 * alone only by it, never by a client (QEMU 7.2 would pass a guest's queue
 * reset on to its emulated device, not to a vhost-vdpa one).
 */
static u64 vmdev_pci_get_device_features(struct vhost_mdev_device *vdev)
{
	return to_vmdev_pci_dev(vdev)->fn->features &
	       ~BIT_ULL(VIRTIO_F_RING_RESET);
}

/*
 * Negotiated for the relay's switch of running split rings; packed ones
 * never switch (QEMU 7.2's virtio-net function stops processing a packed
 * ring with it): they are relayed from the start, or not at all.
 */
static int vmdev_pci_set_driver_features(struct vhost_mdev_device *vdev,
					 u64 features)
{
	struct vmdev_pci_dev *dev = to_vmdev_pci_dev(vdev);

	if (vmdev_pci_relays(dev) &&
	    !(features & BIT_ULL(VIRTIO_F_RING_PACKED)))
		features |= BIT_ULL(VIRTIO_F_RING_RESET);
	vp_modern_set_features(to_vp(vdev), features);
	return 0;
}

static u64 vmdev_pci_get_driver_features(struct vhost_mdev_device *vdev)
{
	return vp_modern_get_driver_features(to_vp(vdev)) &
	       ~BIT_ULL(VIRTIO_F_RING_RESET);
}

/* The size every queue takes: the smallest of their maxima. */
static u16 vmdev_pci_get_vq_num_max(struct vhost_mdev_device *vdev)
{
	struct vmdev_pci *fn = to_vmdev_pci_dev(vdev)->fn;
	u16 i, max = U16_MAX;

	for (i = 0; i < fn->nvqs; i++)
		max = min(max, fn->hwq[i].size_max);
	return max;
}

static u8 vmdev_pci_get_status(struct vhost_mdev_device *vdev)
{
	return vp_modern_get_status(to_vp(vdev));
}

static void vmdev_pci_set_status(struct vhost_mdev_device *vdev, u8 status)
{
	struct vmdev_pci_dev *dev = to_vmdev_pci_dev(vdev);
	struct virtio_pci_modern_device *vp = to_vp(vdev);
	u8 old = vp_modern_get_status(vp);
	bool start = (status & VIRTIO_CONFIG_S_DRIVER_OK) &&
		     !(old & VIRTIO_CONFIG_S_DRIVER_OK);

	/* The function must have accepted the features first. */
	if (start && (!(old & VIRTIO_CONFIG_S_FEATURES_OK) ||
		      vmdev_pci_start(dev))) {
		status &= ~VIRTIO_CONFIG_S_DRIVER_OK;
		start = false;
	}
	vp_modern_set_status(vp, status);
	/* The relay kicks a running function only. */
	if (start)
		vmdev_pci_relay_restart(dev);
}

/*
 * Stop the function, then remember where each running queue stopped (the
 * core asks right after: this parent cannot suspend), then give the
 * vectors back. The mappings are still there: the core keeps them.
 */
static int vmdev_pci_reset(struct vhost_mdev_device *vdev)
{
	struct vmdev_pci_dev *dev = to_vmdev_pci_dev(vdev);
	struct vmdev_pci_vq *vq;
	bool packed;
	int ret;
	u16 i;

	/* The features go with the reset: which layout ran? */
	packed = vmdev_pci_packed(vdev);
	vmdev_pci_relay_stop(dev);
	ret = vmdev_pci_reset_function(&dev->fn->vp);
	for (i = 0; i < vdev->nvqs; i++) {
		vq = &dev->vqs[i];
		vq->state_lost = vq->enabled && packed && !vq->shadow;
		if (!vq->enabled || vq->state_lost)
			vq->state = 0;
		else if (!vq->stopped)
			vq->state = vmdev_pci_stopped_at(dev, vq);
		vmdev_pci_shadow_off(dev, vq);
		vq->relay_base = false;
		vq->stopped = false;
		vq->enabled = false;
		vq->ready = false;
		vq->num = 0;
		vq->desc = 0;
		vq->driver = 0;
		vq->device = 0;
		WRITE_ONCE(vq->cb.callback, NULL);
	}
	WRITE_ONCE(dev->config_cb.callback, NULL);
	vmdev_pci_free_irqs(dev);
	return ret;
}

static size_t vmdev_pci_get_config_size(struct vhost_mdev_device *vdev)
{
	return to_vmdev_pci_dev(vdev)->fn->config_size;
}

/* Read under the generation counter, as virtio_pci does; bounded. */
static void vmdev_pci_get_config(struct vhost_mdev_device *vdev,
				 unsigned int offset, void *buf,
				 unsigned int len)
{
	struct virtio_pci_modern_device *vp = to_vp(vdev);
	unsigned int i, tries = 0;
	u32 gen;
	u8 *p = buf;

	do {
		gen = vp_modern_generation(vp);
		for (i = 0; i < len; i++)
			p[i] = ioread8(vp->device + offset + i);
	} while (gen != vp_modern_generation(vp) &&
		 ++tries < VMDEV_PCI_CONFIG_RETRIES);
}

static void vmdev_pci_set_config(struct vhost_mdev_device *vdev,
				 unsigned int offset, const void *buf,
				 unsigned int len)
{
	struct virtio_pci_modern_device *vp = to_vp(vdev);
	const u8 *p = buf;
	unsigned int i;

	for (i = 0; i < len; i++)
		iowrite8(p[i], vp->device + offset + i);
}

static void vmdev_pci_set_config_cb(struct vhost_mdev_device *vdev,
				    const struct vhost_mdev_callback *cb)
{
	struct vmdev_pci_dev *dev = to_vmdev_pci_dev(vdev);

	WRITE_ONCE(dev->config_cb.private, cb->private);
	WRITE_ONCE(dev->config_cb.callback, cb->callback);
}

const struct vhost_mdev_ops vmdev_pci_ops = {
	.set_vq_address = vmdev_pci_set_vq_address,
	.set_vq_num = vmdev_pci_set_vq_num,
	.kick_vq = vmdev_pci_kick_vq,
	.set_vq_cb = vmdev_pci_set_vq_cb,
	.set_vq_ready = vmdev_pci_set_vq_ready,
	.get_vq_ready = vmdev_pci_get_vq_ready,
	.set_vq_state = vmdev_pci_set_vq_state,
	.get_vq_state = vmdev_pci_get_vq_state,
	.get_vq_notification = vmdev_pci_get_vq_notification,
	.get_vq_irq = vmdev_pci_get_vq_irq,
	.stop_vq = vmdev_pci_stop_vq,
	.get_vq_size = vmdev_pci_get_vq_size,
	.get_device_id = vmdev_pci_get_device_id,
	.get_device_features = vmdev_pci_get_device_features,
	.set_driver_features = vmdev_pci_set_driver_features,
	.get_driver_features = vmdev_pci_get_driver_features,
	.get_vq_num_max = vmdev_pci_get_vq_num_max,
	.get_status = vmdev_pci_get_status,
	.set_status = vmdev_pci_set_status,
	.reset = vmdev_pci_reset,
	.get_config_size = vmdev_pci_get_config_size,
	.get_config = vmdev_pci_get_config,
	.set_config = vmdev_pci_set_config,
	.set_config_cb = vmdev_pci_set_config_cb,
	.set_log_all = vmdev_pci_set_log_all,
};
