// SPDX-License-Identifier: GPL-2.0-only
/*
 * vhost-mdev core: IOTLB messages, written to the character device.
 *
 * Outside a batch each message takes effect on its own. Between
 * VHOST_IOTLB_BATCH_BEGIN and VHOST_IOTLB_BATCH_END the messages are
 * collected and take effect together at BATCH_END, in one step: the device
 * never sees the moment in between. Clients remap all their memory that
 * way (DPDK's virtio_user, on every memory event: everything invalidated,
 * every region mapped again); a device that translated through the IOTLB
 * in that moment found nothing mapped and broke for good.
 *
 * In a batch, an UPDATE is checked and its pages pinned at once (so its
 * errors come back on its own write), but it only becomes visible at
 * BATCH_END; an INVALIDATE drops what the batch added so far in its range,
 * and marks the live entries it touches, which stay visible until
 * BATCH_END and go then. A BATCH_END that fails changes nothing: the
 * mappings stay as they were and the batch stays open, to be ended again
 * (or dropped with the session).
 */

#include <linux/slab.h>
#include <linux/uio.h>
#include <linux/vhost.h>

#include "core.h"

/* Will the open batch drop the live entry @map? */
static bool vhost_mdev_batch_drops(struct vhost_mdev_batch *b,
				   const struct vhost_iotlb_map *map)
{
	return vhost_iotlb_itree_first(&b->dropped, map->start, map->last);
}

/* Pages of live entries the open batch will drop. */
static unsigned long vhost_mdev_batch_released(struct vhost_mdev_core *core)
{
	struct vhost_mdev_batch *b = &core->batch;
	struct vhost_iotlb_map *map;
	unsigned long npages = 0;

	list_for_each_entry(map, &core->iotlb[b->asid].list, link)
		if (vhost_mdev_batch_drops(b, map))
			npages += PFN_DOWN(map->size);
	return npages;
}

/*
 * Does [@start, @last] of address space @asid overlap a mapping that will
 * be there? Outside a batch: the live ones. In a batch: what it added, and
 * the live entries it does not drop.
 */
static bool vhost_mdev_mapped(struct vhost_mdev_core *core, u32 asid,
			      u64 start, u64 last)
{
	struct vhost_mdev_batch *b = &core->batch;
	struct vhost_iotlb_map *map;

	if (!b->active)
		return vhost_iotlb_itree_first(&core->iotlb[asid], start, last);
	if (vhost_iotlb_itree_first(&b->added, start, last))
		return true;
	for (map = vhost_iotlb_itree_first(&core->iotlb[asid], start, last);
	     map; map = vhost_iotlb_itree_next(map, start, last))
		if (!vhost_mdev_batch_drops(b, map))
			return true;
	return false;
}

static int vhost_mdev_iotlb_update(struct vhost_mdev_device *vdev, u32 asid,
				   const struct vhost_iotlb_msg *msg)
{
	struct vhost_mdev_core *core = vdev->core;
	struct vhost_mdev_batch *b = &core->batch;
	unsigned long npages;
	int ret, flushed;
	u64 last;

	ret = vhost_mdev_range_valid(core, msg->iova, msg->size, msg->uaddr,
				     &last);
	if (ret)
		return ret;
	if (!vhost_mdev_perm_valid(msg->perm))
		return -EINVAL;
	if (vhost_mdev_mapped(core, asid, msg->iova, last))
		return -EEXIST;

	npages = PFN_DOWN(msg->size);
	/* What the batch drops counts as released, as for a new table. */
	ret = vhost_mdev_memlock_check(npages, b->active ?
				       vhost_mdev_batch_released(core) : 0);
	if (ret)
		return ret;

	if (b->active) {
		ret = vhost_mdev_pin(vdev, msg->iova, msg->uaddr, npages,
				     msg->perm, vhost_mdev_add_staged, &b->added);
		if (ret)
			vhost_mdev_free_range(vdev, &b->added, msg->iova, last);
		return ret;
	}
	ret = vhost_mdev_pin(vdev, msg->iova, msg->uaddr, npages, msg->perm,
			     vhost_mdev_add_live, &core->iotlb[asid]);
	/* Even after a failure: what is mapped, unmap_range() finds. */
	flushed = vhost_mdev_iommu_flush(core);
	ret = ret ?: flushed;
	if (ret)
		vhost_mdev_unmap_range(vdev, asid, msg->iova, last);
	return ret;
}

static int vhost_mdev_iotlb_invalidate(struct vhost_mdev_device *vdev,
				       u32 asid,
				       const struct vhost_iotlb_msg *msg)
{
	struct vhost_mdev_batch *b = &vdev->core->batch;
	u64 last;

	/* Stricter than vhost-vdpa: an empty or wrapping range is a bug. */
	if (!msg->size || check_add_overflow(msg->iova, msg->size - 1, &last))
		return -EINVAL;
	if (!b->active) {
		vhost_mdev_unmap_range(vdev, asid, msg->iova, last);
		return 0;
	}
	vhost_mdev_free_range(vdev, &b->added, msg->iova, last);
	return vhost_iotlb_add_range(&b->dropped, msg->iova, last, 0,
				     VHOST_MAP_RO);
}

/* Close the open batch without it taking effect: unpin what it added. */
void vhost_mdev_batch_discard(struct vhost_mdev_device *vdev)
{
	struct vhost_mdev_batch *b = &vdev->core->batch;

	lockdep_assert_held(&vdev->core->lock);
	vhost_mdev_free_range(vdev, &b->added, 0, U64_MAX);
	vhost_iotlb_reset(&b->dropped);
	b->active = false;
}

/*
 * BATCH_END: the live entries the batch does not drop and the ones it adds
 * become the address space in one step. The new table is built of copies;
 * each pinned run stays owned by one entry: a kept entry's copy, an added
 * entry's copy, or, for what the batch drops, nobody (it is unpinned).
 * On failure the batch stays as it was, open.
 */
static int vhost_mdev_batch_commit(struct vhost_mdev_device *vdev)
{
	struct vhost_mdev_core *core = vdev->core;
	struct vhost_mdev_batch *b = &core->batch;
	struct vhost_iotlb *live = &core->iotlb[b->asid];
	struct vhost_iotlb_map *map;
	struct vhost_iotlb next;
	int ret = 0;

	vhost_iotlb_init(&next, vhost_mdev_max_iotlb_entries, 0);
	list_for_each_entry(map, &live->list, link) {
		if (vhost_mdev_batch_drops(b, map))
			continue;
		ret = vhost_iotlb_add_range(&next, map->start, map->last,
					    map->addr, map->perm);
		if (ret)
			goto err_next;
	}
	list_for_each_entry(map, &b->added.list, link) {
		ret = vhost_iotlb_add_range(&next, map->start, map->last,
					    map->addr, map->perm);
		if (ret)
			goto err_next;
	}
	ret = vhost_mdev_switch_table(vdev, b->asid, &next);
	if (ret)
		goto err_next;

	/* @next holds the old entries: only the dropped ones lose pins. */
	while ((map = vhost_iotlb_itree_first(&next, 0, U64_MAX))) {
		if (vhost_mdev_batch_drops(b, map))
			vhost_mdev_unpin(vdev, map->addr, map->size, map->perm);
		vhost_iotlb_map_free(&next, map);
	}
	/* The added entries' pins belong to their live copies now. */
	vhost_iotlb_reset(&b->added);
	vhost_iotlb_reset(&b->dropped);
	b->active = false;
	return 0;

err_next:
	vhost_iotlb_reset(&next);
	return ret;
}

static int vhost_mdev_iotlb_msg(struct vhost_mdev_device *vdev, u32 asid,
				const struct vhost_iotlb_msg *msg)
{
	struct vhost_mdev_core *core = vdev->core;
	struct vhost_mdev_batch *b = &core->batch;

	if (asid >= vdev->nas)
		return -EINVAL;
	if (b->active && asid != b->asid)
		return -EINVAL;

	switch (msg->type) {
	case VHOST_IOTLB_UPDATE:
		core->iotlb_msgs[VHOST_MDEV_UPDATES]++;
		return vhost_mdev_iotlb_update(vdev, asid, msg);
	case VHOST_IOTLB_INVALIDATE:
		core->iotlb_msgs[VHOST_MDEV_INVALIDATES]++;
		return vhost_mdev_iotlb_invalidate(vdev, asid, msg);
	case VHOST_IOTLB_BATCH_BEGIN:
		b->active = true;
		b->asid = asid;
		return 0;
	case VHOST_IOTLB_BATCH_END:
		if (!b->active)
			return 0;
		core->iotlb_msgs[VHOST_MDEV_BATCHES]++;
		return vhost_mdev_batch_commit(vdev);
	default:
		return -EINVAL;
	}
}

/**
 * vhost_mdev_write_iter - apply one IOTLB message
 * @iocb: the write
 * @from: a struct vhost_msg_v2 (or the v1 struct vhost_msg), whole
 *
 * Unlike vhost, which answers -EFAULT for any failure, each failure has its
 * own errno (-EINVAL, -EEXIST, -ENOMEM, -EFAULT, -ENOSPC, -EPERM).
 *
 * Return: the message's size, or -errno.
 */
ssize_t vhost_mdev_write_iter(struct kiocb *iocb, struct iov_iter *from)
{
	struct vhost_mdev_device *vdev = iocb->ki_filp->private_data;
	struct vhost_mdev_core *core = vdev->core;
	size_t len = iov_iter_count(from);
	union {
		struct vhost_msg v1;
		struct vhost_msg_v2 v2;
	} m;
	struct vhost_iotlb_msg *msg;
	u32 asid = 0;
	int ret;

	BUILD_BUG_ON(sizeof(m.v1) != sizeof(m.v2));
	if (len != sizeof(m.v2))
		return -EINVAL;
	if (!copy_from_iter_full(&m, len, from))
		return -EFAULT;

	mutex_lock(&core->lock);
	if (core->dead) {
		ret = -ENODEV;
		goto out_unlock;
	}
	if (core->owner != current->mm) {
		ret = -EPERM;
		goto out_unlock;
	}

	switch (m.v2.type) {
	case VHOST_IOTLB_MSG_V2:
		msg = &m.v2.iotlb;
		asid = m.v2.asid;
		/* Without IOTLB_ASID the field is reserved: must be zero. */
		if (asid &&
		    !(core->acked_backend & BIT_ULL(VHOST_BACKEND_F_IOTLB_ASID))) {
			ret = -EINVAL;
			goto out_unlock;
		}
		break;
	case VHOST_IOTLB_MSG:
		msg = &m.v1.iotlb;
		break;
	default:
		ret = -EINVAL;
		goto out_unlock;
	}

	ret = vhost_mdev_iotlb_msg(vdev, asid, msg);
	/* A log being written covers what address space 0 maps now. */
	if (!ret && !asid)
		vhost_mdev_log_cover(vdev);

out_unlock:
	mutex_unlock(&core->lock);
	return ret ?: len;
}
