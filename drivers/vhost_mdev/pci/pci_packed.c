// SPDX-License-Identifier: GPL-2.0-only
/*
 * vhost-mdev PCI accelerator: the relay of packed rings.
 *
 * A packed ring is one ring of descriptors that the driver makes available
 * and the device overwrites with used entries, in place, each lap with the
 * other wrap counter. Where a virtio-pci function stands on it is its own
 * secret (no register says, and memory cannot: a used chain's other slots
 * keep the driver's flags), so the state VHOST_GET_VRING_BASE must answer
 * exists only if the kernel sees every entry: a packed queue of an mdev
 * that can migrate is relayed from DRIVER_OK on (pci_hw.c).
 *
 * The function gets a descriptor ring of the relay's. The relay copies each
 * chain the driver makes available into it, the same slots with the
 * function's wrap counter, and keeps its own copy of what it handed on,
 * which the function's used entries overwrite in the ring. A used entry
 * goes back to the driver's ring at the driver's used position, after what
 * the function wrote into the chain's buffers (its device-writable
 * descriptors, up to the used length, indirect tables read through the
 * IOTLB) is logged. Buffer ids are the driver's: one id in flight once,
 * below the ring's size. The relay never reads the driver's event
 * suppression: the driver gets every interrupt, and the function's own
 * asks for all of them (zeroed).
 */

#include <linux/virtio_ring.h>

#include "pci.h"

#define POS_MASK	VMDEV_PCI_PACKED_POS
#define WRAP		BIT(15)
#define AVAIL_F		BIT(VRING_PACKED_DESC_F_AVAIL)
#define USED_F		BIT(VRING_PACKED_DESC_F_USED)

/* @pos advanced by @n slots of a ring of @num: the wrap counter flips. */
static u16 vmdev_pci_packed_add(u16 pos, u16 n, u16 num)
{
	u16 slot = (pos & POS_MASK) + n;

	if (slot >= num)
		return (slot - num) | ((pos & WRAP) ^ WRAP);
	return slot | (pos & WRAP);
}

/* A slot's flags as the driver makes it available at @pos. */
static u16 vmdev_pci_packed_avail_flags(u16 pos)
{
	return pos & WRAP ? AVAIL_F : USED_F;
}

/* Is the slot at @pos, with @flags, available (@used: used) in its lap? */
static bool vmdev_pci_packed_is(u16 flags, u16 pos, bool used)
{
	bool avail = flags & AVAIL_F, usedf = flags & USED_F;

	return avail == !!(pos & WRAP) && (usedf == avail) == used;
}

/**
 * vmdev_pci_packed_bytes - bytes of IOVA a packed queue's relay ring takes
 * @num: the queue's size
 *
 * Return: a multiple of PAGE_SIZE: the descriptors, then a page with the
 * driver's and the device's event suppression.
 */
size_t vmdev_pci_packed_bytes(u16 num)
{
	return PAGE_ALIGN(num * sizeof(struct vring_packed_desc)) + PAGE_SIZE;
}

/**
 * vmdev_pci_packed_on - set up a packed queue's relay
 * @s: the relay's rings, @s->ring allocated and zeroed
 * @num: the queue's size
 * @base: the VHOST_SET_VRING_BASE state the queue starts at, as
 *	vmdev_pci_packed_base() reads it. What the driver made available
 *	beyond the used position the function takes again.
 *
 * Return: 0, -EINVAL for a position out of the ring, -ENOMEM.
 */
int vmdev_pci_packed_on(struct vmdev_pci_shadow *s, u16 num, u32 base)
{
	u16 pos = vmdev_pci_packed_base(base);

	if ((pos & POS_MASK) >= num)
		return -EINVAL;
	s->desc = s->ring;
	s->saved = kcalloc(num, sizeof(*s->saved), GFP_KERNEL);
	s->chain_len = kcalloc(num, sizeof(*s->chain_len), GFP_KERNEL);
	s->chain_pos = kcalloc(num, sizeof(*s->chain_pos), GFP_KERNEL);
	if (!s->saved || !s->chain_len || !s->chain_pos) {
		vmdev_pci_packed_off(s);
		return -ENOMEM;
	}
	s->guest_avail = pos;
	s->guest_used = pos;
	/* The function starts at slot 0 with its wrap counter set. */
	s->dev_avail = WRAP;
	s->dev_used = WRAP;
	return 0;
}

/**
 * vmdev_pci_packed_off - free what vmdev_pci_packed_on() allocated
 * @s: the relay's rings (of either layout)
 */
void vmdev_pci_packed_off(struct vmdev_pci_shadow *s)
{
	kfree(s->saved);
	kfree(s->chain_len);
	kfree(s->chain_pos);
	s->saved = NULL;
	s->chain_len = NULL;
	s->chain_pos = NULL;
}

static int vmdev_pci_read_desc(struct vmdev_pci_dev *dev, u64 iova,
			       struct vring_packed_desc *d)
{
	return vhost_mdev_iotlb_read(&dev->vdev, 0, d, iova, sizeof(*d));
}

/* Log @len bytes the function wrote into the indirect table at @d. */
static u32 vmdev_pci_log_indirect(struct vmdev_pci_dev *dev,
				  const struct vring_packed_desc *d, u32 len)
{
	u32 i, n = le32_to_cpu(d->len) / sizeof(*d), k;
	u64 table = le64_to_cpu(d->addr);
	struct vring_packed_desc e;

	for (i = 0; i < n && len; i++) {
		if (vmdev_pci_read_desc(dev, table + i * sizeof(e), &e))
			break;
		if (!(le16_to_cpu(e.flags) & VRING_DESC_F_WRITE))
			continue;
		k = min(len, le32_to_cpu(e.len));
		vhost_mdev_iotlb_log(&dev->vdev, le64_to_cpu(e.addr), k);
		len -= k;
	}
	return len;
}

/* Log what the function wrote into chain @id's buffers: @len bytes. */
static void vmdev_pci_log_packed(struct vmdev_pci_dev *dev,
				 struct vmdev_pci_vq *vq, u16 id, u32 len)
{
	struct vmdev_pci_shadow *s = vq->shadow;
	const struct vring_packed_desc *d;
	u16 j, slot = s->chain_pos[id];
	u32 k;

	for (j = 0; j < s->chain_len[id] && len; j++) {
		d = &s->saved[slot];
		if (le16_to_cpu(d->flags) & VRING_DESC_F_INDIRECT) {
			len = vmdev_pci_log_indirect(dev, d, len);
		} else if (le16_to_cpu(d->flags) & VRING_DESC_F_WRITE) {
			k = min(len, le32_to_cpu(d->len));
			vhost_mdev_iotlb_log(&dev->vdev, le64_to_cpu(d->addr), k);
			len -= k;
		}
		if (++slot == vq->num)
			slot = 0;
	}
}

/**
 * vmdev_pci_relay_used_packed - hand the function's used entries back
 * @dev: the device, the IOTLB locked
 * @vq: the relayed packed queue
 *
 * Each buffer is logged before its entry, each entry's id and length
 * before its flags.
 *
 * Return: how many entries.
 */
u16 vmdev_pci_relay_used_packed(struct vmdev_pci_dev *dev,
				struct vmdev_pci_vq *vq)
{
	struct vhost_mdev_device *vdev = &dev->vdev;
	struct vmdev_pci_shadow *s = vq->shadow;
	u64 at, base = vq->desc;
	struct vring_packed_desc *d;
	u16 k, id, n, flags;
	struct {
		__le32 len;
		__le16 id;
	} __packed e;
	__le16 f;

	for (k = 0; k < vq->num; k++) {
		d = &s->desc[s->dev_used & POS_MASK];
		flags = le16_to_cpu(READ_ONCE(d->flags));
		if (!vmdev_pci_packed_is(flags, s->dev_used, true))
			break;
		/* The entry's id and length, written before its flags. */
		dma_rmb();
		id = le16_to_cpu(d->id);
		if (id >= vq->num || !s->chain_len[id]) {
			vmdev_pci_relay_broken(dev, vq, "a used id not in flight");
			break;
		}
		n = s->chain_len[id];
		e.len = d->len;
		e.id = d->id;
		vmdev_pci_log_packed(dev, vq, id, le32_to_cpu(e.len));
		at = base + (s->guest_used & POS_MASK) * sizeof(*d);
		f = cpu_to_le16((flags & VRING_DESC_F_WRITE) |
				(s->guest_used & WRAP ? AVAIL_F | USED_F : 0));
		if (vhost_mdev_iotlb_write(vdev, 0, at +
					   offsetof(struct vring_packed_desc, len),
					   &e, sizeof(e))) {
			vmdev_pci_relay_broken(dev, vq, "the ring is not mapped");
			break;
		}
		/* The driver sees the id and length before the flags. */
		smp_wmb();
		vhost_mdev_iotlb_write(vdev, 0, at +
				       offsetof(struct vring_packed_desc, flags),
				       &f, sizeof(f));
		s->chain_len[id] = 0;
		s->inflight -= n;
		s->dev_used = vmdev_pci_packed_add(s->dev_used, n, vq->num);
		s->guest_used = vmdev_pci_packed_add(s->guest_used, n, vq->num);
	}
	s->relayed_used += k;
	return k;
}

/*
 * Read the chain the driver made available at @s->guest_avail into the
 * relay's copy, from slot @s->dev_avail on. Return its slots, 0 where there
 * is none (yet), -1 for one that makes no sense.
 */
static int vmdev_pci_read_chain(struct vmdev_pci_dev *dev,
				struct vmdev_pci_vq *vq)
{
	struct vmdev_pci_shadow *s = vq->shadow;
	u16 pos = s->guest_avail, slot = s->dev_avail & POS_MASK;
	u64 at = vq->desc + (pos & POS_MASK) * sizeof(*s->saved);
	struct vring_packed_desc *d;
	int n = 0;
	__le16 f;

	if (vhost_mdev_iotlb_read(&dev->vdev, 0, &f, at +
				  offsetof(struct vring_packed_desc, flags),
				  sizeof(f)) ||
	    !vmdev_pci_packed_is(le16_to_cpu(f), pos, false))
		return 0;
	/* The descriptors, written before the head's flags. */
	smp_rmb();
	do {
		/* A chain has at most the free slots of the ring. */
		if (n == vq->num - s->inflight)
			return -1;
		d = &s->saved[slot];
		at = vq->desc + (pos & POS_MASK) * sizeof(*d);
		if (vmdev_pci_read_desc(dev, at, d))
			return -1;
		n++;
		pos = vmdev_pci_packed_add(pos, 1, vq->num);
		if (++slot == vq->num)
			slot = 0;
	} while ((le16_to_cpu(d->flags) &
		  (VRING_DESC_F_NEXT | VRING_DESC_F_INDIRECT)) ==
		 VRING_DESC_F_NEXT);
	return n;
}

/**
 * vmdev_pci_relay_avail_packed - hand the driver's available chains on
 * @dev: the device, the IOTLB locked
 * @vq: the relayed packed queue
 *
 * At most a ring's worth. Each chain's other slots first, its head's flags
 * last, as a driver makes one available.
 *
 * Return: how many chains.
 */
u16 vmdev_pci_relay_avail_packed(struct vmdev_pci_dev *dev,
				 struct vmdev_pci_vq *vq)
{
	struct vmdev_pci_shadow *s = vq->shadow;
	u16 k, j, id, head, slot, pos, flags;
	struct vring_packed_desc *d;
	int n;

	for (k = 0; k < vq->num; k++) {
		n = vmdev_pci_read_chain(dev, vq);
		if (n <= 0) {
			if (n < 0)
				vmdev_pci_relay_broken(dev, vq, "an available chain");
			break;
		}
		head = s->dev_avail & POS_MASK;
		id = le16_to_cpu(s->saved[head].id);
		if (id >= vq->num || s->chain_len[id]) {
			vmdev_pci_relay_broken(dev, vq,
					       "an available id in flight or out of the ring");
			break;
		}
		/* Backwards: the head's flags are the last write. */
		for (j = n; j-- > 0;) {
			pos = vmdev_pci_packed_add(s->dev_avail, j, vq->num);
			slot = pos & POS_MASK;
			d = &s->desc[slot];
			flags = le16_to_cpu(s->saved[slot].flags) &
				~(AVAIL_F | USED_F);
			d->addr = s->saved[slot].addr;
			d->len = s->saved[slot].len;
			d->id = s->saved[slot].id;
			if (!j)
				dma_wmb();
			WRITE_ONCE(d->flags, cpu_to_le16(flags |
				   vmdev_pci_packed_avail_flags(pos)));
		}
		s->chain_len[id] = n;
		s->chain_pos[id] = head;
		s->inflight += n;
		s->dev_avail = vmdev_pci_packed_add(s->dev_avail, n, vq->num);
		s->guest_avail = vmdev_pci_packed_add(s->guest_avail, n,
						      vq->num);
	}
	s->relayed_avail += k;
	return k;
}
