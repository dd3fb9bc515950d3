// SPDX-License-Identifier: GPL-2.0-only
/*
 * vhost-mdev simulator: a software accelerator.
 *
 * A platform device "vhost_mdev_sim" is the mdev parent; every mdev of one
 * of its types is a virtio device in software that reaches guest memory
 * through the core's IOTLB (%VHOST_MDEV_DMA_TRANSLATE). Kicks only queue the
 * device's worker; the worker takes the device lock and the IOTLB lock and
 * lets the device type do one bounded pass over its split rings, then
 * signals the queues that used buffers. A ring the driver corrupted sets
 * NEEDS_RESET instead of looping or faulting.
 */

#include <linux/idr.h>
#include <linux/module.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>

#include "sim.h"

#define VMDEV_SIM_NAME		"vhost_mdev_sim"
#define VMDEV_SIM_VQ_NUM_MAX	1024

static unsigned int max_devices = 4;
module_param(max_devices, uint, 0444);
MODULE_PARM_DESC(max_devices, "How many simulated devices may exist at once (default 4)");

static bool crossover;
module_param(crossover, bool, 0444);
MODULE_PARM_DESC(crossover, "Join devices in pairs, in creation order: what one transmits the other receives (default: each loops back to itself)");

/* A narrower IOVA window makes the simulator look like IOMMU hardware. */
static unsigned long long iova_first;
module_param(iova_first, ullong, 0444);
MODULE_PARM_DESC(iova_first, "First IOVA the devices accept (default 0)");

static unsigned long long iova_last = U64_MAX;
module_param(iova_last, ullong, 0444);
MODULE_PARM_DESC(iova_last, "Last IOVA the devices accept (default all)");

/**
 * struct vmdev_sim_parent - the simulator's mdev parent
 * @parent: the core's parent
 * @net: the "net" mdev type
 * @types: the types offered
 * @available: devices that may still be created
 */
struct vmdev_sim_parent {
	struct vhost_mdev_parent parent;
	struct mdev_type net;
	struct mdev_type *types[1];
	atomic_t available;
};

static const struct vmdev_sim_type *const vmdev_sim_types[] = {
	&vmdev_sim_net_type,
};

static struct workqueue_struct *vmdev_sim_wq;
static DEFINE_IDA(vmdev_sim_ida);
static struct platform_device *vmdev_sim_pdev;
/*
 * With crossover: protects every &vmdev_sim.peer and @vmdev_sim_unpaired,
 * and serialises the passes of paired devices; taken before device locks.
 */
static DEFINE_MUTEX(vmdev_sim_pair_lock);
static struct vmdev_sim *vmdev_sim_unpaired;

static struct vmdev_sim *to_vmdev_sim(struct vhost_mdev_device *vdev)
{
	return container_of(vdev, struct vmdev_sim, vdev);
}

u32 vmdev_sim_vq_asid(struct vmdev_sim *sim, u16 idx)
{
	return sim->group_asid[sim->type->vq_group(sim, idx)];
}

/*
 * The driver broke a ring: stop processing until it resets the device and
 * tell it, as the virtio spec wants, with NEEDS_RESET and a config change.
 */
void vmdev_sim_broken(struct vmdev_sim *sim, u16 idx, const char *why,
		      int err)
{
	lockdep_assert_held(&sim->lock);
	dev_warn_ratelimited(&sim->vdev.dev, "vq %u: %s (%d): device needs a reset\n",
			     idx, why, err);
	sim->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
	sim->config_changed = true;
}

static int vmdev_sim_read16(struct vmdev_sim *sim, u16 idx, u64 iova, u16 *v)
{
	__le16 le;
	int ret;

	ret = vhost_mdev_iotlb_read(&sim->vdev, vmdev_sim_vq_asid(sim, idx),
				    &le, iova, sizeof(le));
	*v = le16_to_cpu(le);
	return ret;
}

/**
 * vmdev_sim_vq_avail - buffers the driver made available and we did not take
 * @sim: the device
 * @idx: the virtqueue
 *
 * Return: their number, or -errno (the device is then broken).
 */
int vmdev_sim_vq_avail(struct vmdev_sim *sim, u16 idx)
{
	struct vmdev_sim_vq *vq = &sim->vqs[idx];
	u16 avail, n;
	int ret;

	ret = vmdev_sim_read16(sim, idx,
			       vq->driver + offsetof(struct vring_avail, idx),
			       &avail);
	if (ret) {
		vmdev_sim_broken(sim, idx, "available index not mapped", ret);
		return ret;
	}
	/* Read the ring entries only after the index (driver's wmb). */
	smp_rmb();
	n = avail - vq->last_avail;
	if (n > vq->num) {
		vmdev_sim_broken(sim, idx, "available index ran ahead", -EIO);
		return -EIO;
	}
	return n;
}

/**
 * vmdev_sim_vq_chain - read the descriptor chain of an available buffer
 * @sim: the device
 * @idx: the virtqueue
 * @nth: which available buffer, counting from the next one to take
 * @chain: where to put it
 *
 * The chain is bounded by the ring size and %VMDEV_SIM_MAX_SEGS, readable
 * descriptors come first, no indirect table (not offered).
 *
 * Return: 0, or -errno (the device is then broken).
 */
int vmdev_sim_vq_chain(struct vmdev_sim *sim, u16 idx, u16 nth,
		       struct vmdev_sim_chain *chain)
{
	struct vmdev_sim_vq *vq = &sim->vqs[idx];
	u32 asid = vmdev_sim_vq_asid(sim, idx);
	struct vring_desc desc;
	u16 slot, i, flags;
	const char *why;
	int ret;

	slot = (vq->last_avail + nth) & (vq->num - 1);
	ret = vmdev_sim_read16(sim, idx, vq->driver +
			       offsetof(struct vring_avail, ring[slot]),
			       &chain->head);
	if (ret) {
		why = "available ring not mapped";
		goto broken;
	}

	chain->nseg = 0;
	chain->nout = 0;
	chain->out_len = 0;
	chain->in_len = 0;
	i = chain->head;
	for (;;) {
		ret = -EIO;
		if (i >= vq->num) {
			why = "descriptor index out of the ring";
			goto broken;
		}
		if (chain->nseg == VMDEV_SIM_MAX_SEGS ||
		    chain->nseg == vq->num) {
			why = "descriptor chain too long or looping";
			goto broken;
		}
		ret = vhost_mdev_iotlb_read(&sim->vdev, asid, &desc,
					    vq->desc + i * sizeof(desc),
					    sizeof(desc));
		if (ret) {
			why = "descriptor table not mapped";
			goto broken;
		}
		flags = le16_to_cpu((__force __le16)desc.flags);
		ret = -EIO;
		if (flags & VRING_DESC_F_INDIRECT) {
			why = "indirect descriptor not negotiated";
			goto broken;
		}
		chain->seg[chain->nseg].addr =
			le64_to_cpu((__force __le64)desc.addr);
		chain->seg[chain->nseg].len =
			le32_to_cpu((__force __le32)desc.len);
		if (flags & VRING_DESC_F_WRITE) {
			if (check_add_overflow(chain->in_len,
					       chain->seg[chain->nseg].len,
					       &chain->in_len)) {
				why = "chain length overflows";
				goto broken;
			}
		} else {
			if (chain->nout != chain->nseg) {
				why = "readable descriptor after a writable one";
				goto broken;
			}
			if (check_add_overflow(chain->out_len,
					       chain->seg[chain->nseg].len,
					       &chain->out_len)) {
				why = "chain length overflows";
				goto broken;
			}
			chain->nout++;
		}
		chain->nseg++;
		if (!(flags & VRING_DESC_F_NEXT))
			return 0;
		i = le16_to_cpu((__force __le16)desc.next);
	}

broken:
	vmdev_sim_broken(sim, idx, why, ret);
	return ret;
}

/**
 * vmdev_sim_vq_push - return a buffer to the driver (not yet visible)
 * @sim: the device
 * @idx: the virtqueue
 * @head: the chain's head descriptor
 * @len: bytes the device wrote into it
 *
 * Return: 0, or -errno (the device is then broken).
 */
int vmdev_sim_vq_push(struct vmdev_sim *sim, u16 idx, u16 head, u32 len)
{
	struct vmdev_sim_vq *vq = &sim->vqs[idx];
	u16 slot = vq->used & (vq->num - 1);
	struct vring_used_elem elem = {
		.id = (__force __virtio32)cpu_to_le32(head),
		.len = (__force __virtio32)cpu_to_le32(len),
	};
	int ret;

	ret = vhost_mdev_iotlb_write(&sim->vdev, vmdev_sim_vq_asid(sim, idx),
				     vq->device +
				     offsetof(struct vring_used, ring[slot]),
				     &elem, sizeof(elem));
	if (ret) {
		vmdev_sim_broken(sim, idx, "used ring not mapped", ret);
		return ret;
	}
	vq->used++;
	return 0;
}

/**
 * vmdev_sim_vq_publish - make pushed buffers visible and decide to notify
 * @sim: the device
 * @idx: the virtqueue
 *
 * Return: 0, or -errno (the device is then broken).
 */
int vmdev_sim_vq_publish(struct vmdev_sim *sim, u16 idx)
{
	struct vmdev_sim_vq *vq = &sim->vqs[idx];
	u32 asid = vmdev_sim_vq_asid(sim, idx);
	__le16 used = cpu_to_le16(vq->used);
	u16 flags;
	int ret;

	/* Used elements before the index that shows them (driver's rmb). */
	smp_wmb();
	ret = vhost_mdev_iotlb_write(&sim->vdev, asid, vq->device +
				     offsetof(struct vring_used, idx),
				     &used, sizeof(used));
	if (ret) {
		vmdev_sim_broken(sim, idx, "used index not mapped", ret);
		return ret;
	}
	/* The index before the driver's interrupt suppression flag. */
	smp_mb();
	ret = vmdev_sim_read16(sim, idx, vq->driver +
			       offsetof(struct vring_avail, flags), &flags);
	if (ret) {
		vmdev_sim_broken(sim, idx, "available ring not mapped", ret);
		return ret;
	}
	if (!(flags & VRING_AVAIL_F_NO_INTERRUPT))
		vq->notify = true;
	return 0;
}

/* Find the segment holding byte @off of the chain's part starting at @first. */
static int vmdev_sim_seg_at(const struct vmdev_sim_chain *chain, u16 first,
			    u16 end, u32 *off)
{
	u16 i;

	for (i = first; i < end; i++) {
		if (*off < chain->seg[i].len)
			return i;
		*off -= chain->seg[i].len;
	}
	return -EFAULT;
}

/**
 * vmdev_sim_chain_read - read from the readable part of a chain
 * @sim: the device
 * @idx: the chain's virtqueue
 * @chain: the chain
 * @off: offset in its readable part
 * @buf: where to
 * @len: how many bytes
 *
 * Return: 0, or -EFAULT for bytes outside the part or not mapped.
 */
int vmdev_sim_chain_read(struct vmdev_sim *sim, u16 idx,
			 const struct vmdev_sim_chain *chain, u32 off,
			 void *buf, u32 len)
{
	u32 asid = vmdev_sim_vq_asid(sim, idx), n;
	int i, ret;

	i = vmdev_sim_seg_at(chain, 0, chain->nout, &off);
	while (len) {
		if (i < 0 || i >= chain->nout)
			return -EFAULT;
		n = min(len, chain->seg[i].len - off);
		ret = vhost_mdev_iotlb_read(&sim->vdev, asid, buf,
					    chain->seg[i].addr + off, n);
		if (ret)
			return ret;
		buf += n;
		len -= n;
		off = 0;
		i++;
	}
	return 0;
}

/**
 * vmdev_sim_chain_write - write into the writable part of a chain
 * @sim: the device
 * @idx: the chain's virtqueue
 * @chain: the chain
 * @off: offset in its writable part
 * @buf: what
 * @len: how many bytes
 *
 * Return: 0, or -EFAULT for bytes outside the part or not mapped.
 */
int vmdev_sim_chain_write(struct vmdev_sim *sim, u16 idx,
			  const struct vmdev_sim_chain *chain, u32 off,
			  const void *buf, u32 len)
{
	u32 asid = vmdev_sim_vq_asid(sim, idx), n;
	int i, ret;

	i = vmdev_sim_seg_at(chain, chain->nout, chain->nseg, &off);
	while (len) {
		if (i < 0 || i >= chain->nseg)
			return -EFAULT;
		n = min(len, chain->seg[i].len - off);
		ret = vhost_mdev_iotlb_write(&sim->vdev, asid,
					     chain->seg[i].addr + off, buf, n);
		if (ret)
			return ret;
		buf += n;
		len -= n;
		off = 0;
		i++;
	}
	return 0;
}

static bool vmdev_sim_can_run(struct vmdev_sim *sim)
{
	return (sim->status & VIRTIO_CONFIG_S_DRIVER_OK) &&
	       !(sim->status & VIRTIO_CONFIG_S_NEEDS_RESET) && !sim->suspended;
}

/* Call the callbacks of what the pass used; device lock held. */
static void vmdev_sim_notify(struct vmdev_sim *sim)
{
	struct vmdev_sim_vq *vq;
	u32 i;

	for (i = 0; i < sim->vdev.nvqs; i++) {
		vq = &sim->vqs[i];
		if (vq->notify && vq->cb.callback)
			vq->cb.callback(vq->cb.private);
		vq->notify = false;
	}
	if (sim->config_changed && sim->config_cb.callback)
		sim->config_cb.callback(sim->config_cb.private);
	sim->config_changed = false;
}

/*
 * One bounded pass. A crossed-over device works with its peer: both device
 * locks, lower instance first, and nothing moves until both run.
 */
static void vmdev_sim_work(struct work_struct *work)
{
	struct vmdev_sim *sim = container_of(work, struct vmdev_sim, work);
	struct vmdev_sim *peer = sim, *first = sim, *second = NULL;
	bool more = false;

	if (crossover) {
		mutex_lock(&vmdev_sim_pair_lock);
		peer = sim->peer;
		if (peer) {
			first = sim->instance < peer->instance ? sim : peer;
			second = first == sim ? peer : sim;
		}
	}
	mutex_lock(&first->lock);
	if (second)
		mutex_lock_nested(&second->lock, SINGLE_DEPTH_NESTING);

	if (peer && vmdev_sim_can_run(sim) && vmdev_sim_can_run(peer))
		more = sim->type->process(sim, peer);
	vmdev_sim_notify(sim);
	if (second)
		vmdev_sim_notify(peer);
	more &= vmdev_sim_can_run(sim);

	if (second)
		mutex_unlock(&second->lock);
	mutex_unlock(&first->lock);
	if (crossover)
		mutex_unlock(&vmdev_sim_pair_lock);

	/* Bounded passes: more work goes to the back of the queue. */
	if (more)
		queue_work(vmdev_sim_wq, &sim->work);
}

static int vmdev_sim_set_vq_address(struct vhost_mdev_device *vdev, u16 idx,
				    u64 desc_area, u64 driver_area,
				    u64 device_area)
{
	struct vmdev_sim *sim = to_vmdev_sim(vdev);

	mutex_lock(&sim->lock);
	sim->vqs[idx].desc = desc_area;
	sim->vqs[idx].driver = driver_area;
	sim->vqs[idx].device = device_area;
	mutex_unlock(&sim->lock);
	return 0;
}

static void vmdev_sim_set_vq_num(struct vhost_mdev_device *vdev, u16 idx,
				 u32 num)
{
	struct vmdev_sim *sim = to_vmdev_sim(vdev);

	mutex_lock(&sim->lock);
	sim->vqs[idx].num = num;
	mutex_unlock(&sim->lock);
}

/* Atomic context: only queue the worker, which checks everything. */
static void vmdev_sim_kick_vq(struct vhost_mdev_device *vdev, u16 idx)
{
	queue_work(vmdev_sim_wq, &to_vmdev_sim(vdev)->work);
}

static void vmdev_sim_set_vq_cb(struct vhost_mdev_device *vdev, u16 idx,
				const struct vhost_mdev_callback *cb)
{
	struct vmdev_sim *sim = to_vmdev_sim(vdev);

	mutex_lock(&sim->lock);
	sim->vqs[idx].cb = *cb;
	mutex_unlock(&sim->lock);
}

static void vmdev_sim_set_vq_ready(struct vhost_mdev_device *vdev, u16 idx,
				   bool ready)
{
	struct vmdev_sim *sim = to_vmdev_sim(vdev);

	mutex_lock(&sim->lock);
	sim->vqs[idx].ready = ready;
	mutex_unlock(&sim->lock);
	if (ready)
		queue_work(vmdev_sim_wq, &sim->work);
}

static bool vmdev_sim_get_vq_ready(struct vhost_mdev_device *vdev, u16 idx)
{
	struct vmdev_sim *sim = to_vmdev_sim(vdev);
	bool ready;

	mutex_lock(&sim->lock);
	ready = sim->vqs[idx].ready;
	mutex_unlock(&sim->lock);
	return ready;
}

/* In order: every buffer taken is used, so one index says it all. */
static int vmdev_sim_set_vq_state(struct vhost_mdev_device *vdev, u16 idx,
				  u32 state)
{
	struct vmdev_sim *sim = to_vmdev_sim(vdev);

	mutex_lock(&sim->lock);
	sim->vqs[idx].last_avail = state;
	sim->vqs[idx].used = state;
	mutex_unlock(&sim->lock);
	return 0;
}

static int vmdev_sim_get_vq_state(struct vhost_mdev_device *vdev, u16 idx,
				  u32 *state)
{
	struct vmdev_sim *sim = to_vmdev_sim(vdev);

	mutex_lock(&sim->lock);
	*state = sim->vqs[idx].last_avail;
	mutex_unlock(&sim->lock);
	return 0;
}

static u32 vmdev_sim_get_vq_group(struct vhost_mdev_device *vdev, u16 idx)
{
	struct vmdev_sim *sim = to_vmdev_sim(vdev);
	u32 group;

	mutex_lock(&sim->lock);
	group = sim->type->vq_group(sim, idx);
	mutex_unlock(&sim->lock);
	return group;
}

static u32 vmdev_sim_get_device_id(struct vhost_mdev_device *vdev)
{
	return to_vmdev_sim(vdev)->type->device_id;
}

static u64 vmdev_sim_get_device_features(struct vhost_mdev_device *vdev)
{
	return to_vmdev_sim(vdev)->type->features;
}

static int vmdev_sim_set_driver_features(struct vhost_mdev_device *vdev,
					 u64 features)
{
	struct vmdev_sim *sim = to_vmdev_sim(vdev);

	mutex_lock(&sim->lock);
	sim->features = features;
	mutex_unlock(&sim->lock);
	return 0;
}

static u64 vmdev_sim_get_driver_features(struct vhost_mdev_device *vdev)
{
	struct vmdev_sim *sim = to_vmdev_sim(vdev);
	u64 features;

	mutex_lock(&sim->lock);
	features = sim->features;
	mutex_unlock(&sim->lock);
	return features;
}

static u16 vmdev_sim_get_vq_num_max(struct vhost_mdev_device *vdev)
{
	return VMDEV_SIM_VQ_NUM_MAX;
}

static u8 vmdev_sim_get_status(struct vhost_mdev_device *vdev)
{
	struct vmdev_sim *sim = to_vmdev_sim(vdev);
	u8 status;

	mutex_lock(&sim->lock);
	status = sim->status;
	mutex_unlock(&sim->lock);
	return status;
}

static void vmdev_sim_set_status(struct vhost_mdev_device *vdev, u8 status)
{
	struct vmdev_sim *sim = to_vmdev_sim(vdev);

	mutex_lock(&sim->lock);
	/* A device that cannot work with these features says so. */
	if ((status & VIRTIO_CONFIG_S_FEATURES_OK) &&
	    !(sim->status & VIRTIO_CONFIG_S_FEATURES_OK) &&
	    !sim->type->features_ok(sim, sim->features))
		status &= ~(VIRTIO_CONFIG_S_FEATURES_OK |
			    VIRTIO_CONFIG_S_DRIVER_OK);
	sim->status = status | (sim->status & VIRTIO_CONFIG_S_NEEDS_RESET);
	mutex_unlock(&sim->lock);
	if (status & VIRTIO_CONFIG_S_DRIVER_OK)
		queue_work(vmdev_sim_wq, &sim->work);
}

static int vmdev_sim_reset(struct vhost_mdev_device *vdev)
{
	struct vmdev_sim *sim = to_vmdev_sim(vdev);

	mutex_lock(&sim->lock);
	sim->status = 0;
	sim->features = 0;
	sim->suspended = false;
	sim->config_changed = false;
	memset(sim->group_asid, 0, sizeof(sim->group_asid));
	memset(&sim->config_cb, 0, sizeof(sim->config_cb));
	memset(sim->vqs, 0, sizeof(*sim->vqs) * sim->vdev.nvqs);
	sim->type->reset(sim);
	mutex_unlock(&sim->lock);
	return 0;
}

/* Once we hold the lock no pass runs, and none will until resume. */
static int vmdev_sim_suspend(struct vhost_mdev_device *vdev)
{
	struct vmdev_sim *sim = to_vmdev_sim(vdev);

	mutex_lock(&sim->lock);
	sim->suspended = true;
	mutex_unlock(&sim->lock);
	return 0;
}

static int vmdev_sim_resume(struct vhost_mdev_device *vdev)
{
	struct vmdev_sim *sim = to_vmdev_sim(vdev);

	mutex_lock(&sim->lock);
	sim->suspended = false;
	mutex_unlock(&sim->lock);
	queue_work(vmdev_sim_wq, &sim->work);
	return 0;
}

static size_t vmdev_sim_get_config_size(struct vhost_mdev_device *vdev)
{
	return to_vmdev_sim(vdev)->type->config_size;
}

static void vmdev_sim_get_config(struct vhost_mdev_device *vdev,
				 unsigned int offset, void *buf,
				 unsigned int len)
{
	struct vmdev_sim *sim = to_vmdev_sim(vdev);

	mutex_lock(&sim->lock);
	memcpy(buf, sim->config + offset, len);
	mutex_unlock(&sim->lock);
}

static void vmdev_sim_set_config(struct vhost_mdev_device *vdev,
				 unsigned int offset, const void *buf,
				 unsigned int len)
{
	struct vmdev_sim *sim = to_vmdev_sim(vdev);

	mutex_lock(&sim->lock);
	sim->type->set_config(sim, offset, buf, len);
	mutex_unlock(&sim->lock);
}

static void vmdev_sim_set_config_cb(struct vhost_mdev_device *vdev,
				    const struct vhost_mdev_callback *cb)
{
	struct vmdev_sim *sim = to_vmdev_sim(vdev);

	mutex_lock(&sim->lock);
	sim->config_cb = *cb;
	mutex_unlock(&sim->lock);
}

static int vmdev_sim_set_group_asid(struct vhost_mdev_device *vdev, u32 group,
				    u32 asid)
{
	struct vmdev_sim *sim = to_vmdev_sim(vdev);

	mutex_lock(&sim->lock);
	sim->group_asid[group] = asid;
	mutex_unlock(&sim->lock);
	return 0;
}

static int vmdev_sim_get_iova_range(struct vhost_mdev_device *vdev,
				    struct vhost_mdev_iova_range *range)
{
	range->first = iova_first;
	range->last = iova_last;
	return 0;
}

static const struct vhost_mdev_ops vmdev_sim_ops = {
	.set_vq_address = vmdev_sim_set_vq_address,
	.set_vq_num = vmdev_sim_set_vq_num,
	.kick_vq = vmdev_sim_kick_vq,
	.set_vq_cb = vmdev_sim_set_vq_cb,
	.set_vq_ready = vmdev_sim_set_vq_ready,
	.get_vq_ready = vmdev_sim_get_vq_ready,
	.set_vq_state = vmdev_sim_set_vq_state,
	.get_vq_state = vmdev_sim_get_vq_state,
	.get_vq_group = vmdev_sim_get_vq_group,
	.get_device_id = vmdev_sim_get_device_id,
	.get_device_features = vmdev_sim_get_device_features,
	.set_driver_features = vmdev_sim_set_driver_features,
	.get_driver_features = vmdev_sim_get_driver_features,
	.get_vq_num_max = vmdev_sim_get_vq_num_max,
	.get_status = vmdev_sim_get_status,
	.set_status = vmdev_sim_set_status,
	.reset = vmdev_sim_reset,
	.suspend = vmdev_sim_suspend,
	.resume = vmdev_sim_resume,
	.get_config_size = vmdev_sim_get_config_size,
	.get_config = vmdev_sim_get_config,
	.set_config = vmdev_sim_set_config,
	.set_config_cb = vmdev_sim_set_config_cb,
	.get_iova_range = vmdev_sim_get_iova_range,
	.set_group_asid = vmdev_sim_set_group_asid,
};

static struct vmdev_sim_parent *to_sim_parent(struct vhost_mdev_parent *p)
{
	return container_of(p, struct vmdev_sim_parent, parent);
}

static void vmdev_sim_free(struct vmdev_sim *sim)
{
	kvfree(sim->priv);
	kfree(sim->config);
	kfree(sim->vqs);
}

static struct vhost_mdev_device *
vmdev_sim_create(struct vhost_mdev_parent *parent, struct mdev_device *mdev,
		 unsigned int type)
{
	struct vmdev_sim_parent *sp = to_sim_parent(parent);
	const struct vmdev_sim_type *t = vmdev_sim_types[type];
	struct vmdev_sim *sim;
	u32 nvqs = t->nvqs();
	int ret;

	if (!atomic_add_unless(&sp->available, -1, 0))
		return ERR_PTR(-ENOSPC);

	sim = vhost_mdev_alloc_device(struct vmdev_sim, vdev, mdev,
				      &vmdev_sim_ops, VHOST_MDEV_DMA_TRANSLATE,
				      NULL, nvqs, t->ngroups, t->nas);
	if (IS_ERR(sim)) {
		ret = PTR_ERR(sim);
		goto err_available;
	}

	sim->type = t;
	mutex_init(&sim->lock);
	INIT_WORK(&sim->work, vmdev_sim_work);
	sim->vqs = kcalloc(nvqs, sizeof(*sim->vqs), GFP_KERNEL);
	sim->config = kzalloc(t->config_size, GFP_KERNEL);
	sim->priv = kvzalloc(t->priv_size, GFP_KERNEL);
	ret = -ENOMEM;
	if (!sim->vqs || !sim->config || !sim->priv)
		goto err_put;

	ret = ida_alloc_max(&vmdev_sim_ida, U16_MAX, GFP_KERNEL);
	if (ret < 0)
		goto err_put;
	sim->instance = ret;
	t->init(sim, sim->instance);
	t->reset(sim);

	if (crossover) {
		mutex_lock(&vmdev_sim_pair_lock);
		if (vmdev_sim_unpaired) {
			sim->peer = vmdev_sim_unpaired;
			sim->peer->peer = sim;
			vmdev_sim_unpaired = NULL;
		} else {
			vmdev_sim_unpaired = sim;
		}
		mutex_unlock(&vmdev_sim_pair_lock);
	}
	return &sim->vdev;

err_put:
	vmdev_sim_free(sim);
	vhost_mdev_put_device(&sim->vdev);
err_available:
	atomic_inc(&sp->available);
	return ERR_PTR(ret);
}

static void vmdev_sim_remove(struct vhost_mdev_device *vdev)
{
	struct vmdev_sim *sim = to_vmdev_sim(vdev);
	struct vmdev_sim_parent *sp = dev_get_drvdata(vdev->mdev->dev.parent);

	/* A peer left alone waits for the next device. */
	if (crossover) {
		mutex_lock(&vmdev_sim_pair_lock);
		if (sim->peer) {
			sim->peer->peer = NULL;
			vmdev_sim_unpaired = sim->peer;
		} else if (vmdev_sim_unpaired == sim) {
			vmdev_sim_unpaired = NULL;
		}
		sim->peer = NULL;
		mutex_unlock(&vmdev_sim_pair_lock);
	}
	cancel_work_sync(&sim->work);
	ida_free(&vmdev_sim_ida, sim->instance);
	vmdev_sim_free(sim);
	atomic_inc(&sp->available);
}

static unsigned int vmdev_sim_get_available(struct vhost_mdev_parent *parent,
					    unsigned int type)
{
	return atomic_read(&to_sim_parent(parent)->available);
}

static ssize_t vmdev_sim_show_description(struct vhost_mdev_parent *parent,
					  unsigned int type, char *buf)
{
	const struct vmdev_sim_type *t = vmdev_sim_types[type];

	return sysfs_emit(buf, "simulated %s loopback, %u virtqueues\n", t->name,
			  t->nvqs());
}

static const struct vhost_mdev_parent_ops vmdev_sim_parent_ops = {
	.create = vmdev_sim_create,
	.remove = vmdev_sim_remove,
	.get_available = vmdev_sim_get_available,
	.show_description = vmdev_sim_show_description,
};

static int vmdev_sim_probe(struct platform_device *pdev)
{
	struct vmdev_sim_parent *sp;

	sp = devm_kzalloc(&pdev->dev, sizeof(*sp), GFP_KERNEL);
	if (!sp)
		return -ENOMEM;

	atomic_set(&sp->available, max_devices);
	sp->net.sysfs_name = vmdev_sim_net_type.name;
	sp->net.pretty_name = "virtio-net loopback";
	sp->types[0] = &sp->net;
	platform_set_drvdata(pdev, sp);

	return vhost_mdev_register_parent(&sp->parent, &pdev->dev,
					  &vmdev_sim_parent_ops, sp->types,
					  ARRAY_SIZE(sp->types));
}

static void vmdev_sim_platform_remove(struct platform_device *pdev)
{
	struct vmdev_sim_parent *sp = platform_get_drvdata(pdev);

	vhost_mdev_unregister_parent(&sp->parent);
}

static struct platform_driver vmdev_sim_driver = {
	.probe = vmdev_sim_probe,
	.remove = vmdev_sim_platform_remove,
	.driver = {
		.name = VMDEV_SIM_NAME,
	},
};

static int __init vmdev_sim_init(void)
{
	int ret;

	vmdev_sim_wq = alloc_workqueue(VMDEV_SIM_NAME, WQ_UNBOUND, 0);
	if (!vmdev_sim_wq)
		return -ENOMEM;

	ret = platform_driver_register(&vmdev_sim_driver);
	if (ret)
		goto err_wq;

	vmdev_sim_pdev = platform_device_register_simple(VMDEV_SIM_NAME,
							 PLATFORM_DEVID_NONE,
							 NULL, 0);
	if (IS_ERR(vmdev_sim_pdev)) {
		ret = PTR_ERR(vmdev_sim_pdev);
		goto err_driver;
	}
	return 0;

err_driver:
	platform_driver_unregister(&vmdev_sim_driver);
err_wq:
	destroy_workqueue(vmdev_sim_wq);
	return ret;
}

static void __exit vmdev_sim_exit(void)
{
	platform_device_unregister(vmdev_sim_pdev);
	platform_driver_unregister(&vmdev_sim_driver);
	destroy_workqueue(vmdev_sim_wq);
}

module_init(vmdev_sim_init);
module_exit(vmdev_sim_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("vhost-mdev simulator: a software virtio accelerator");
