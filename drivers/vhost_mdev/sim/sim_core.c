// SPDX-License-Identifier: GPL-2.0-only
/*
 * vhost-mdev simulator: the device-agnostic core.
 *
 * Each registered type (include/linux/vhost_mdev_sim.h) gets a platform
 * device of its own as its mdev parent; every mdev of it is a virtio device
 * in software that reaches guest memory through the core's IOTLB
 * (%VHOST_MDEV_DMA_TRANSLATE). Kicks only queue the device's worker; the
 * worker takes the device lock and lets the type do one bounded pass over
 * its split rings, then signals the queues that used buffers. A ring the
 * driver corrupted sets NEEDS_RESET instead of looping or faulting.
 *
 * The module is this core and the net type (sim_net.c, which owns the
 * module's init); other types register from their own modules.
 */

#include <linux/cleanup.h>
#include <linux/debugfs.h>
#include <linux/idr.h>
#include <linux/module.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <linux/vhost_mdev_sim.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>

#include "sim.h"

/**
 * struct vmdev_sim_parent - a registered type's mdev parent
 * @parent: the core's parent
 * @type: the type
 * @settings: how its devices behave
 * @mtype: the one mdev type
 * @types: the types offered: @mtype
 * @available: devices that may still be created
 * @driver: the platform driver that binds @pdev (named like it)
 * @pdev: the platform device that is the parent
 * @pair_lock: with crossover or a hub, serialises the passes of devices
 *	that reach each other; protects every &vmdev_sim.peer, @unpaired and
 *	@devices
 * @unpaired: a device waiting for its peer
 * @devices: every device of the parent (a hub's segment)
 */
struct vmdev_sim_parent {
	struct vhost_mdev_parent parent;
	const struct vmdev_sim_type *type;
	struct vmdev_sim_settings settings;
	struct mdev_type mtype;
	struct mdev_type *types[1];
	atomic_t available;
	struct platform_driver driver;
	struct platform_device *pdev;
	struct mutex pair_lock;	/* passes of pairs, @unpaired, peers */
	struct vmdev_sim *unpaired;
	struct list_head devices;
};

static struct workqueue_struct *vmdev_sim_wq;
static DEFINE_IDA(vmdev_sim_ida);

static struct vmdev_sim *to_vmdev_sim(struct vhost_mdev_device *vdev)
{
	return container_of(vdev, struct vmdev_sim, vdev);
}

static struct vmdev_sim_parent *
to_vmdev_sim_parent(struct vhost_mdev_parent *parent)
{
	return container_of(parent, struct vmdev_sim_parent, parent);
}

/* The group a type gives a queue, within the type's groups. */
static u32 vmdev_sim_group(struct vmdev_sim *sim, u16 idx)
{
	u32 group = sim->type->vq_group ? sim->type->vq_group(sim, idx) : 0;

	if (group < sim->type->ngroups)
		return group;
	pr_warn_once("vhost_mdev_sim: type %s puts vq %u in group %u of %u\n",
		     sim->type->name, idx, group, sim->type->ngroups);
	return 0;
}

static u32 vmdev_sim_vq_asid(struct vmdev_sim *sim, u16 idx)
{
	return sim->group_asid[vmdev_sim_group(sim, idx)];
}

/**
 * vmdev_sim_broken - the driver broke a ring
 * @sim: the device, its lock held
 * @idx: the virtqueue
 * @why: what was wrong, for the log
 * @err: the error it caused
 *
 * The device processes nothing until the driver resets it and tells it so,
 * as the virtio spec wants: NEEDS_RESET and a configuration change.
 */
void vmdev_sim_broken(struct vmdev_sim *sim, u16 idx, const char *why,
		      int err)
{
	lockdep_assert_held(&sim->lock);
	dev_warn_ratelimited(&sim->vdev.dev, "vq %u: %s (%d): device needs a reset\n",
			     idx, why, err);
	sim->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
	sim->config_changed = true;
	sim->stats.broken++;
}
EXPORT_SYMBOL_GPL(vmdev_sim_broken);

/* Copy between guest memory and @buf (@write: to guest memory). */
static int vmdev_sim_copy(struct vmdev_sim *sim, u32 asid, u64 iova,
			  void *buf, size_t len, bool write)
{
	int ret;

	lockdep_assert_held(&sim->lock);
	sim->stats.copies++;
	vhost_mdev_iotlb_lock(&sim->vdev);
	if (write)
		ret = vhost_mdev_iotlb_write(&sim->vdev, asid, iova, buf, len);
	else
		ret = vhost_mdev_iotlb_read(&sim->vdev, asid, buf, iova, len);
	vhost_mdev_iotlb_unlock(&sim->vdev);
	return ret;
}

static int vmdev_sim_read16(struct vmdev_sim *sim, u16 idx, u64 iova, u16 *v)
{
	__le16 le;
	int ret;

	ret = vmdev_sim_copy(sim, vmdev_sim_vq_asid(sim, idx), iova, &le,
			     sizeof(le), false);
	*v = le16_to_cpu(le);
	return ret;
}

static bool vmdev_sim_packed(const struct vmdev_sim *sim)
{
	return sim->features & BIT_ULL(VIRTIO_F_RING_PACKED);
}

/* Packed ring: is the descriptor with these @flags available in @wrap? */
static bool vmdev_sim_desc_avail(u16 flags, bool wrap)
{
	return !!(flags & BIT(VRING_PACKED_DESC_F_AVAIL)) == wrap &&
	       !!(flags & BIT(VRING_PACKED_DESC_F_USED)) != wrap;
}

/* Add a descriptor to @chain; NULL or what is wrong with it. */
static const char *vmdev_sim_chain_add(struct vmdev_sim_chain *chain,
				       u64 addr, u32 len, u16 flags)
{
	struct vmdev_sim_seg *seg = &chain->seg[chain->nseg];
	u32 *total = &chain->in_len;

	if (flags & VRING_DESC_F_INDIRECT)
		return "indirect descriptor not negotiated";
	seg->addr = addr;
	seg->len = len;
	if (!(flags & VRING_DESC_F_WRITE)) {
		if (chain->nout != chain->nseg)
			return "readable descriptor after a writable one";
		total = &chain->out_len;
		chain->nout++;
	}
	if (check_add_overflow(*total, seg->len, total))
		return "chain length overflows";
	chain->nseg++;
	return NULL;
}

/* Packed ring: the position after *@pos, *@wrap. */
static void vmdev_sim_pos_next(const struct vmdev_sim_vq *vq, u16 *pos,
			       bool *wrap)
{
	if (++*pos == vq->num) {
		*pos = 0;
		*wrap = !*wrap;
	}
}

/*
 * Packed ring: how far @pos, @wrap is ahead of the next descriptor to take,
 * in descriptors; negative when it is behind.
 */
static int vmdev_sim_ahead(const struct vmdev_sim_vq *vq, u16 pos, bool wrap)
{
	return (wrap == vq->avail_wrap ? 0 : (int)vq->num) + pos -
	       vq->last_avail;
}

/*
 * Packed ring: the descriptor at @pos, @wrap from the read-ahead, which is
 * read again when it does not hold it: from @pos on, the descriptors
 * counted available (up to %VMDEV_SIM_HEADS and the ring's end), in one
 * copy. Their flags were seen available before this read, so the rest of
 * them is the driver's final word. NULL when @pos was not counted or the
 * ring is not mapped: read it the slow way.
 */
static const struct vring_packed_desc *
vmdev_sim_pdesc(struct vmdev_sim *sim, u16 idx, u16 pos, bool wrap)
{
	struct vmdev_sim_vq *vq = &sim->vqs[idx];
	int at, end;
	u32 n;

	if (wrap == vq->pdescs_wrap &&
	    (u16)(pos - vq->pdescs_pos) < vq->pdescs_n)
		return &vq->pdescs[pos - vq->pdescs_pos];

	vq->pdescs_n = 0;
	at = vmdev_sim_ahead(vq, pos, wrap);
	end = vmdev_sim_ahead(vq, vq->count_pos, vq->count_wrap);
	if (pos >= vq->num || at < 0 || at >= end)
		return NULL;
	n = min3((u32)(end - at), vq->num - pos, (u32)VMDEV_SIM_HEADS);
	/* Pairs with the driver's wmb before the flags counted. */
	smp_rmb();
	if (vmdev_sim_copy(sim, vmdev_sim_vq_asid(sim, idx),
			   vq->desc + pos * sizeof(*vq->pdescs), vq->pdescs,
			   n * sizeof(*vq->pdescs), false))
		return NULL;
	vq->pdescs_pos = pos;
	vq->pdescs_wrap = wrap;
	vq->pdescs_n = n;
	return vq->pdescs;
}

/* Packed ring: the flags of the descriptor at @pos (< the ring's size). */
static int vmdev_sim_pdesc_flags(struct vmdev_sim *sim, u16 idx, u16 pos,
				 u16 *flags)
{
	return vmdev_sim_read16(sim, idx, sim->vqs[idx].desc +
				pos * sizeof(struct vring_packed_desc) +
				offsetof(struct vring_packed_desc, flags),
				flags);
}

/*
 * Packed ring: read the buffer at *@pos, *@wrap into @chain (NULL: only
 * step over it), and move them past it. @counted: the buffer was counted
 * available (the read-ahead may hold it). Return 1, 0 when no buffer is
 * available there, or -errno with *@why set.
 */
static int vmdev_sim_packed_chain(struct vmdev_sim *sim, u16 idx, u16 *pos,
				  bool *wrap, struct vmdev_sim_chain *chain,
				  bool counted, const char **why)
{
	struct vmdev_sim_vq *vq = &sim->vqs[idx];
	u32 asid = vmdev_sim_vq_asid(sim, idx);
	const struct vring_packed_desc *d;
	struct vring_packed_desc desc;
	u16 n = 0, flags;
	int ret;

	if (chain)
		memset(chain, 0, offsetof(struct vmdev_sim_chain, seg));
	/* A buffer of one descriptor: from the read-ahead. */
	d = counted ? vmdev_sim_pdesc(sim, idx, *pos, *wrap) : NULL;
	if (d && !(le16_to_cpu(d->flags) & VRING_DESC_F_NEXT)) {
		flags = le16_to_cpu(d->flags);
		if (!vmdev_sim_desc_avail(flags, *wrap)) {
			*why = "available descriptor went away";
			return -EIO;
		}
		if (chain) {
			*why = vmdev_sim_chain_add(chain, le64_to_cpu(d->addr),
						   le32_to_cpu(d->len), flags);
			if (*why)
				return -EIO;
			chain->head = le16_to_cpu(d->id);
		}
		vmdev_sim_pos_next(vq, pos, wrap);
		return 1;
	}
	do {
		if (*pos >= vq->num) {
			*why = "ring position out of the ring";
			return -EIO;
		}
		if (n == VMDEV_SIM_MAX_SEGS || n == vq->num) {
			*why = "descriptor chain too long";
			return -EIO;
		}
		/*
		 * The head's flags first, then the rest: the driver writes
		 * them last, after a wmb (and the other descriptors of the
		 * chain before them). Stepping over a buffer reads only
		 * flags.
		 */
		if (!n || !chain) {
			ret = vmdev_sim_pdesc_flags(sim, idx, *pos, &flags);
			if (ret) {
				*why = "descriptor ring not mapped";
				return ret;
			}
			if (!n) {
				if (!vmdev_sim_desc_avail(flags, *wrap))
					return 0;
				/* Pairs with the driver's wmb before them. */
				smp_rmb();
			}
		}
		if (chain) {
			ret = vmdev_sim_copy(sim, asid,
					     vq->desc + *pos * sizeof(desc),
					     &desc, sizeof(desc), false);
			if (ret) {
				*why = "descriptor ring not mapped";
				return ret;
			}
			flags = le16_to_cpu(desc.flags);
		}
		if (!vmdev_sim_desc_avail(flags, *wrap)) {
			*why = n ? "chain continues into a descriptor not available" :
				   "available descriptor went away";
			return -EIO;
		}
		if (chain) {
			*why = vmdev_sim_chain_add(chain, le64_to_cpu(desc.addr),
						   le32_to_cpu(desc.len), flags);
			if (*why)
				return -EIO;
		}
		n++;
		vmdev_sim_pos_next(vq, pos, wrap);
	} while (flags & VRING_DESC_F_NEXT);
	/* The buffer id is in the chain's last descriptor. */
	if (chain)
		chain->head = le16_to_cpu(desc.id);
	return 1;
}

/* Packed ring: aim the lookup cursor at the next buffer to take. */
static void vmdev_sim_peek_reset(struct vmdev_sim_vq *vq)
{
	vq->peek_nth = 0;
	vq->peek_pos = vq->last_avail;
	vq->peek_wrap = vq->avail_wrap;
}

/*
 * Packed ring: move the cursor to the @nth available buffer and read it
 * into @chain (NULL: do not). Return 0, or -errno with *@why set.
 */
static int vmdev_sim_peek(struct vmdev_sim *sim, u16 idx, u16 nth,
			  struct vmdev_sim_chain *chain, const char **why)
{
	struct vmdev_sim_vq *vq = &sim->vqs[idx];
	int ret;

	if (nth < vq->peek_nth)
		vmdev_sim_peek_reset(vq);
	while (vq->peek_nth < nth || chain) {
		ret = vmdev_sim_packed_chain(sim, idx, &vq->peek_pos,
					     &vq->peek_wrap,
					     vq->peek_nth == nth ? chain : NULL,
					     true, why);
		if (!ret) {
			*why = "available buffer went away";
			ret = -EIO;
		}
		if (ret < 0) {
			vmdev_sim_peek_reset(vq);
			return ret;
		}
		if (vq->peek_nth++ == nth)
			break;
	}
	return 0;
}

/* Packed ring: nothing counted from the next buffer to take on. */
static void vmdev_sim_count_reset(struct vmdev_sim_vq *vq)
{
	vq->count_n = 0;
	vq->count_pos = vq->last_avail;
	vq->count_wrap = vq->avail_wrap;
}

/*
 * Packed ring: buffers available from the next one on, at most @num. The
 * count goes on from where the last one stopped: each buffer is counted
 * once, whatever the number of passes that see it. The flags are read for
 * up to %VMDEV_SIM_HEADS descriptors at once; a chain is followed
 * descriptor by descriptor, each after the one before it.
 */
static int vmdev_sim_packed_avail(struct vmdev_sim *sim, u16 idx)
{
	struct vring_packed_desc descs[VMDEV_SIM_HEADS];
	struct vmdev_sim_vq *vq = &sim->vqs[idx];
	const char *why;
	u32 i, n;
	u16 flags;
	int ret;

	if (vq->used >= vq->num) {
		vmdev_sim_broken(sim, idx, "used position out of the ring",
				 -EIO);
		return -EIO;
	}
	while (vq->count_n < vq->num) {
		ret = -EIO;
		why = "ring position out of the ring";
		if (vq->count_pos >= vq->num)
			goto broken;
		n = min_t(u32, vq->num - vq->count_pos, VMDEV_SIM_HEADS);
		ret = vmdev_sim_copy(sim, vmdev_sim_vq_asid(sim, idx),
				     vq->desc + vq->count_pos * sizeof(*descs),
				     descs, n * sizeof(*descs), false);
		why = "descriptor ring not mapped";
		if (ret)
			goto broken;
		for (i = 0; i < n && vq->count_n < vq->num; i++) {
			flags = le16_to_cpu(descs[i].flags);
			if (!vmdev_sim_desc_avail(flags, vq->count_wrap))
				return vq->count_n;
			if (flags & VRING_DESC_F_NEXT)
				break;
			vmdev_sim_pos_next(vq, &vq->count_pos, &vq->count_wrap);
			vq->count_n++;
		}
		if (i == n || vq->count_n == vq->num)
			continue;
		ret = vmdev_sim_packed_chain(sim, idx, &vq->count_pos,
					     &vq->count_wrap, NULL, false, &why);
		if (ret < 0)
			goto broken;
		if (!ret)
			break;
		vq->count_n++;
	}
	return vq->count_n;

broken:
	vmdev_sim_count_reset(vq);
	vmdev_sim_broken(sim, idx, why, ret);
	return ret;
}

/**
 * vmdev_sim_vq_avail - buffers the driver made available and we did not take
 * @sim: the device, its lock held
 * @idx: the virtqueue
 *
 * Return: their number, or -errno (the device is then broken).
 */
int vmdev_sim_vq_avail(struct vmdev_sim *sim, u16 idx)
{
	struct vmdev_sim_vq *vq = &sim->vqs[idx];
	u16 avail, n;
	int ret;

	if (vmdev_sim_packed(sim))
		return vmdev_sim_packed_avail(sim, idx);
	ret = vmdev_sim_read16(sim, idx,
			       vq->driver + offsetof(struct vring_avail, idx),
			       &avail);
	if (ret) {
		vmdev_sim_broken(sim, idx, "available index not mapped", ret);
		return ret;
	}
	/* Read the ring entries only after the index (driver's wmb). */
	smp_rmb();
	vq->avail_idx = avail;
	n = avail - vq->last_avail;
	if (n > vq->num) {
		dev_warn_ratelimited(&sim->vdev.dev,
				     "vq %u: available index %u, %u taken, %u used, ring of %u\n",
				     idx, avail, vq->last_avail, vq->used, vq->num);
		vmdev_sim_broken(sim, idx, "available index ran ahead", -EIO);
		return -EIO;
	}
	return n;
}
EXPORT_SYMBOL_GPL(vmdev_sim_vq_avail);

/*
 * Split ring: the head of the @nth available buffer from the next one to
 * take, read ahead with the entries after it that the driver made
 * available, up to %VMDEV_SIM_HEADS and the end of the ring, in one copy.
 */
static int vmdev_sim_head(struct vmdev_sim *sim, u16 idx, u16 nth, u16 *head)
{
	struct vmdev_sim_vq *vq = &sim->vqs[idx];
	u16 at = vq->last_avail + nth, slot = at & (vq->num - 1), n, i;
	__le16 le[VMDEV_SIM_HEADS];
	int ret;

	if ((u16)(at - vq->heads_start) >= vq->heads_n) {
		n = min3((u32)(u16)(vq->avail_idx - at), vq->num - slot,
			 (u32)VMDEV_SIM_HEADS);
		vq->heads_n = 0;
		if (!n)
			return -EIO;
		ret = vmdev_sim_copy(sim, vmdev_sim_vq_asid(sim, idx),
				     vq->driver +
				     offsetof(struct vring_avail, ring[slot]),
				     le, n * sizeof(*le), false);
		if (ret)
			return ret;
		for (i = 0; i < n; i++)
			vq->heads[i] = le16_to_cpu(le[i]);
		vq->heads_start = at;
		vq->heads_n = n;
	}
	*head = vq->heads[(u16)(at - vq->heads_start)];
	return 0;
}

/**
 * vmdev_sim_vq_chain - read the descriptor chain of an available buffer
 * @sim: the device, its lock held
 * @idx: the virtqueue
 * @nth: which available buffer, counting from the next one to take (below
 *	what vmdev_sim_vq_avail() counted)
 * @chain: where to put it
 *
 * The chain is bounded by the ring size and %VMDEV_SIM_MAX_SEGS, readable
 * descriptors come first, no indirect table (not offered). On a packed
 * ring, reading the buffer after the last one read is cheap; going back
 * walks from the next one to take.
 *
 * Return: 0, or -errno (the device is then broken).
 */
int vmdev_sim_vq_chain(struct vmdev_sim *sim, u16 idx, u16 nth,
		       struct vmdev_sim_chain *chain)
{
	struct vmdev_sim_vq *vq = &sim->vqs[idx];
	u32 asid = vmdev_sim_vq_asid(sim, idx);
	struct vring_desc desc;
	const char *why;
	u16 head, i;
	int ret;

	if (vmdev_sim_packed(sim)) {
		ret = vmdev_sim_peek(sim, idx, nth, chain, &why);
		if (ret)
			goto broken;
		return 0;
	}

	ret = vmdev_sim_head(sim, idx, nth, &head);
	if (ret) {
		why = "available ring not mapped";
		goto broken;
	}

	memset(chain, 0, offsetof(struct vmdev_sim_chain, seg));
	chain->head = head;
	for (i = head;;) {
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
		ret = vmdev_sim_copy(sim, asid, vq->desc + i * sizeof(desc),
				     &desc, sizeof(desc), false);
		if (ret) {
			why = "descriptor table not mapped";
			goto broken;
		}
		ret = -EIO;
		why = vmdev_sim_chain_add(chain,
					  le64_to_cpu((__force __le64)desc.addr),
					  le32_to_cpu((__force __le32)desc.len),
					  le16_to_cpu((__force __le16)desc.flags));
		if (why)
			goto broken;
		if (!(le16_to_cpu((__force __le16)desc.flags) &
		      VRING_DESC_F_NEXT))
			return 0;
		i = le16_to_cpu((__force __le16)desc.next);
	}

broken:
	vmdev_sim_broken(sim, idx, why, ret);
	return ret;
}
EXPORT_SYMBOL_GPL(vmdev_sim_vq_chain);

/**
 * vmdev_sim_vq_take - the next @n available buffers are taken
 * @sim: the device, its lock held
 * @idx: the virtqueue
 * @n: how many, at most what vmdev_sim_vq_avail() counted
 */
void vmdev_sim_vq_take(struct vmdev_sim *sim, u16 idx, u16 n)
{
	struct vmdev_sim_vq *vq = &sim->vqs[idx];
	const char *why;
	int ret;

	if (!vmdev_sim_packed(sim)) {
		vq->last_avail += n;
		return;
	}
	ret = vmdev_sim_peek(sim, idx, n, NULL, &why);
	if (ret) {
		vmdev_sim_broken(sim, idx, why, ret);
		return;
	}
	vq->last_avail = vq->peek_pos;
	vq->avail_wrap = vq->peek_wrap;
	vmdev_sim_peek_reset(vq);
	/* What the read-ahead holds before it the driver may now reuse. */
	if (vq->avail_wrap != vq->pdescs_wrap ||
	    (u16)(vq->last_avail - vq->pdescs_pos) >= vq->pdescs_n)
		vq->pdescs_n = 0;
	if (n <= vq->count_n)
		vq->count_n -= n;
	else
		vmdev_sim_count_reset(vq);
}
EXPORT_SYMBOL_GPL(vmdev_sim_vq_take);

/*
 * Split ring: write the staged used elements, which end at the used index
 * (not published yet): at most two copies, the ring's end between them.
 */
static int vmdev_sim_used_write(struct vmdev_sim *sim, u16 idx)
{
	struct vmdev_sim_vq *vq = &sim->vqs[idx];
	u16 first = (u16)(vq->used - vq->staged) & (vq->num - 1), done = 0, n;
	int ret;

	while (done < vq->staged) {
		n = min_t(u32, vq->staged - done, vq->num - first);
		ret = vmdev_sim_copy(sim, vmdev_sim_vq_asid(sim, idx),
				     vq->device +
				     offsetof(struct vring_used, ring[first]),
				     &vq->ustage[done],
				     n * sizeof(*vq->ustage), true);
		if (ret) {
			vmdev_sim_broken(sim, idx, "used ring not mapped", ret);
			return ret;
		}
		done += n;
		first = 0;
	}
	vq->staged = 0;
	return 0;
}

/**
 * vmdev_sim_vq_push - return a buffer to the driver (not yet visible)
 * @sim: the device, its lock held
 * @idx: the virtqueue
 * @chain: the buffer's chain
 * @len: bytes the device wrote into it
 *
 * Return: 0, or -errno (the device is then broken).
 */
int vmdev_sim_vq_push(struct vmdev_sim *sim, u16 idx,
		      const struct vmdev_sim_chain *chain, u32 len)
{
	struct vmdev_sim_vq *vq = &sim->vqs[idx];
	struct vmdev_sim_used *u;
	int ret;

	if (vmdev_sim_packed(sim)) {
		/* Written at publication: a push may still be taken back. */
		if (WARN_ON_ONCE(!vq->stage || vq->staged >= vq->num))
			return -EIO;
		u = &vq->stage[vq->staged++];
		*u = (struct vmdev_sim_used) {
			.len = len, .id = chain->head,
			.pos = vq->used, .wrap = vq->used_wrap,
		};
		/* The driver steps over every descriptor of the chain. */
		vq->used += chain->nseg;
		if (vq->used >= vq->num) {
			vq->used -= vq->num;
			vq->used_wrap = !vq->used_wrap;
		}
		return 0;
	}

	if (vq->staged == VMDEV_SIM_USED_BATCH) {
		ret = vmdev_sim_used_write(sim, idx);
		if (ret)
			return ret;
	}
	vq->ustage[vq->staged++] = (struct vring_used_elem) {
		.id = (__force __virtio32)cpu_to_le32(chain->head),
		.len = (__force __virtio32)cpu_to_le32(len),
	};
	vq->used++;
	return 0;
}
EXPORT_SYMBOL_GPL(vmdev_sim_vq_push);

/**
 * vmdev_sim_vq_unpush - take back the last @n buffers pushed, not published
 * @sim: the device, its lock held
 * @idx: the virtqueue
 * @n: how many
 */
void vmdev_sim_vq_unpush(struct vmdev_sim *sim, u16 idx, u16 n)
{
	struct vmdev_sim_vq *vq = &sim->vqs[idx];

	if (!n)
		return;
	if (!vmdev_sim_packed(sim)) {
		/* Those written already are past the index: not seen. */
		vq->staged -= min(n, vq->staged);
		vq->used -= n;
		return;
	}
	if (WARN_ON_ONCE(n > vq->staged))
		return;
	vq->staged -= n;
	vq->used = vq->stage[vq->staged].pos;
	vq->used_wrap = vq->stage[vq->staged].wrap;
}
EXPORT_SYMBOL_GPL(vmdev_sim_vq_unpush);

/*
 * Packed ring: write the staged used descriptors, the first one's flags
 * last, which makes them all visible (the driver reads them in order).
 */
static int vmdev_sim_packed_publish(struct vmdev_sim *sim, u16 idx)
{
	struct vmdev_sim_vq *vq = &sim->vqs[idx];
	u32 asid = vmdev_sim_vq_asid(sim, idx);
	struct {
		__le32 len;
		__le16 id;
		__le16 flags;
	} e;
	struct vmdev_sim_used *u;
	u16 i;
	int ret;

	for (i = vq->staged; i--;) {
		u = &vq->stage[i];
		e.len = cpu_to_le32(u->len);
		e.id = cpu_to_le16(u->id);
		e.flags = cpu_to_le16(u->wrap ? BIT(VRING_PACKED_DESC_F_AVAIL) |
					       BIT(VRING_PACKED_DESC_F_USED) : 0);
		ret = vmdev_sim_copy(sim, asid, vq->desc + u->pos *
				     sizeof(struct vring_packed_desc) +
				     offsetof(struct vring_packed_desc, len),
				     &e, i ? sizeof(e) : offsetof(typeof(e), flags),
				     true);
		if (!ret && !i) {
			/*
			 * Everything written before the first one's flags,
			 * which show it all (the driver's rmb after reading
			 * them).
			 */
			smp_wmb();
			ret = vmdev_sim_copy(sim, asid, vq->desc + u->pos *
					     sizeof(struct vring_packed_desc) +
					     offsetof(struct vring_packed_desc,
						      flags),
					     &e.flags, sizeof(e.flags), true);
		}
		if (ret) {
			vmdev_sim_broken(sim, idx, "descriptor ring not mapped",
					 ret);
			return ret;
		}
	}
	vq->staged = 0;
	return 0;
}

/* Split ring: write the used elements, then the index that shows them. */
static int vmdev_sim_split_publish(struct vmdev_sim *sim, u16 idx)
{
	__le16 used = cpu_to_le16(sim->vqs[idx].used);
	int ret;

	ret = vmdev_sim_used_write(sim, idx);
	if (ret)
		return ret;

	/* Used elements before the index that shows them (driver's rmb). */
	smp_wmb();
	ret = vmdev_sim_copy(sim, vmdev_sim_vq_asid(sim, idx),
			     sim->vqs[idx].device +
			     offsetof(struct vring_used, idx), &used,
			     sizeof(used), true);
	if (ret)
		vmdev_sim_broken(sim, idx, "used index not mapped", ret);
	return ret;
}

/**
 * vmdev_sim_vq_publish - make pushed buffers visible and decide to notify
 * @sim: the device, its lock held
 * @idx: the virtqueue
 *
 * Return: 0, or -errno (the device is then broken).
 */
int vmdev_sim_vq_publish(struct vmdev_sim *sim, u16 idx)
{
	struct vmdev_sim_vq *vq = &sim->vqs[idx];
	bool packed = vmdev_sim_packed(sim);
	u16 flags;
	int ret;

	ret = packed ? vmdev_sim_packed_publish(sim, idx) :
		       vmdev_sim_split_publish(sim, idx);
	if (ret)
		return ret;
	/*
	 * The index (packed: the flags) before the driver's interrupt
	 * suppression flag, paired with the driver's barrier between clearing
	 * the flag and reading the ring again: one of us sees the other's
	 * write.
	 */
	smp_mb();
	ret = vmdev_sim_read16(sim, idx, vq->driver + (packed ?
			       offsetof(struct vring_packed_desc_event, flags) :
			       offsetof(struct vring_avail, flags)), &flags);
	if (ret) {
		vmdev_sim_broken(sim, idx, "driver's suppression flags not mapped",
				 ret);
		return ret;
	}
	/* No event index is offered: a packed driver's DESC means enable. */
	flags = packed ? flags == VRING_PACKED_EVENT_FLAG_DISABLE :
		!!(flags & VRING_AVAIL_F_NO_INTERRUPT);
	if (flags != vq->no_interrupt) {
		vq->no_interrupt = !vq->no_interrupt;
		sim->stats.suppress_changes++;
	}
	if (vq->no_interrupt)
		sim->stats.suppressed++;
	else
		vq->notify = true;
	return 0;
}
EXPORT_SYMBOL_GPL(vmdev_sim_vq_publish);

/*
 * The segment of @chain's readable part (@write false) or writable part
 * (@write) that holds its byte @off: its index, and *@off made relative to
 * it (the part's end when @off is past it).
 */
static u16 vmdev_sim_chain_seek(const struct vmdev_sim_chain *chain,
				u32 *off, bool write)
{
	u16 i = write ? chain->nout : 0, end = write ? chain->nseg : chain->nout;

	while (i < end && *off >= chain->seg[i].len)
		*off -= chain->seg[i++].len;
	return i;
}

/*
 * Copy @len bytes at offset @off of the chain's readable part (@write
 * false: into @buf) or writable part (@write: from @buf).
 */
static int vmdev_sim_chain_copy(struct vmdev_sim *sim, u16 idx,
				const struct vmdev_sim_chain *chain, u32 off,
				void *buf, u32 len, bool write)
{
	u32 asid = vmdev_sim_vq_asid(sim, idx), n;
	u16 end = write ? chain->nseg : chain->nout;
	u16 i = vmdev_sim_chain_seek(chain, &off, write);
	int ret;

	while (len) {
		if (i >= end)
			return -EFAULT;
		n = min(len, chain->seg[i].len - off);
		ret = vmdev_sim_copy(sim, asid, chain->seg[i].addr + off, buf,
				     n, write);
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
 * vmdev_sim_chain_read - read from the readable part of a chain
 * @sim: the device, its lock held
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
	return vmdev_sim_chain_copy(sim, idx, chain, off, buf, len, false);
}
EXPORT_SYMBOL_GPL(vmdev_sim_chain_read);

/**
 * vmdev_sim_chain_write - write into the writable part of a chain
 * @sim: the device, its lock held
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
	return vmdev_sim_chain_copy(sim, idx, chain, off, (void *)buf, len,
				    true);
}
EXPORT_SYMBOL_GPL(vmdev_sim_chain_write);

/**
 * vmdev_sim_chain_move - copy from one chain of a device to another
 * @sim: the device, its lock held
 * @to_idx: the virtqueue of the chain written
 * @to: that chain
 * @to_off: offset in its writable part
 * @from_idx: the virtqueue of the chain read
 * @from: that chain
 * @from_off: offset in its readable part
 * @len: how many bytes
 *
 * Guest memory to guest memory (vhost_mdev_iotlb_move()), without a
 * buffer in between: a loopback device's frame, copied once.
 *
 * Return: 0, or -EFAULT for bytes outside either part or not mapped.
 */
int vmdev_sim_chain_move(struct vmdev_sim *sim, u16 to_idx,
			 const struct vmdev_sim_chain *to, u32 to_off,
			 u16 from_idx, const struct vmdev_sim_chain *from,
			 u32 from_off, u32 len)
{
	u32 to_asid = vmdev_sim_vq_asid(sim, to_idx);
	u32 from_asid = vmdev_sim_vq_asid(sim, from_idx);
	u16 ti = vmdev_sim_chain_seek(to, &to_off, true);
	u16 fi = vmdev_sim_chain_seek(from, &from_off, false);
	int ret = 0;
	u32 n;

	lockdep_assert_held(&sim->lock);
	vhost_mdev_iotlb_lock(&sim->vdev);
	while (len) {
		if (ti >= to->nseg || fi >= from->nout) {
			ret = -EFAULT;
			break;
		}
		n = min3(len, to->seg[ti].len - to_off,
			 from->seg[fi].len - from_off);
		sim->stats.copies++;
		ret = vhost_mdev_iotlb_move(&sim->vdev, to_asid,
					    to->seg[ti].addr + to_off,
					    from_asid,
					    from->seg[fi].addr + from_off, n);
		if (ret)
			break;
		len -= n;
		to_off += n;
		from_off += n;
		if (to_off == to->seg[ti].len) {
			ti++;
			to_off = 0;
		}
		if (from_off == from->seg[fi].len) {
			fi++;
			from_off = 0;
		}
	}
	vhost_mdev_iotlb_unlock(&sim->vdev);
	return ret;
}
EXPORT_SYMBOL_GPL(vmdev_sim_chain_move);

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
 * Tell the driver of queue @idx whether it need not kick (@off), in the
 * split used ring's flags (VRING_USED_F_NO_NOTIFY) or the packed device
 * event suppression (VRING_PACKED_EVENT_FLAG_DISABLE); -errno if not
 * mapped.
 */
static int vmdev_sim_kick_flag(struct vmdev_sim *sim, u16 idx, bool off)
{
	__le16 le;
	u64 at;

	if (vmdev_sim_packed(sim)) {
		le = cpu_to_le16(off ? VRING_PACKED_EVENT_FLAG_DISABLE :
				       VRING_PACKED_EVENT_FLAG_ENABLE);
		at = offsetof(struct vring_packed_desc_event, flags);
	} else {
		le = cpu_to_le16(off ? VRING_USED_F_NO_NOTIFY : 0);
		at = offsetof(struct vring_used, flags);
	}
	return vmdev_sim_copy(sim, vmdev_sim_vq_asid(sim, idx),
			      sim->vqs[idx].device + at, &le, sizeof(le), true);
}

/* In a mark of vmdev_sim_avail_mark(): buffers may have come. */
#define VMDEV_SIM_MARK_NEW	BIT(16)

/*
 * Where the driver of queue @idx is, to tell later whether it added
 * buffers: split, its available index; packed, the ring position after the
 * buffers counted, with its wrap counter, and whether a buffer starts
 * there now (%VMDEV_SIM_MARK_NEW, always set on a split ring).
 */
static int vmdev_sim_avail_mark(struct vmdev_sim *sim, u16 idx, u32 *mark)
{
	struct vmdev_sim_vq *vq = &sim->vqs[idx];
	u16 v;
	int ret;

	if (!vmdev_sim_packed(sim)) {
		ret = vmdev_sim_read16(sim, idx, vq->driver +
				       offsetof(struct vring_avail, idx), &v);
		*mark = VMDEV_SIM_MARK_NEW | v;
		return ret;
	}
	if (vq->count_pos >= vq->num)
		return -EIO;
	ret = vmdev_sim_pdesc_flags(sim, idx, vq->count_pos, &v);
	*mark = vq->count_pos | vq->count_wrap << 15 |
		(vmdev_sim_desc_avail(v, vq->count_wrap) ?
		 VMDEV_SIM_MARK_NEW : 0);
	return ret;
}

/*
 * At the start of a pass: tell the driver of each usable queue (of the
 * first %BITS_PER_LONG) that it need not kick, then note where it is.
 */
static void vmdev_sim_kicks_off(struct vmdev_sim *sim)
{
	u32 i, n = min_t(u32, sim->vdev.nvqs, BITS_PER_LONG);
	struct vmdev_sim_vq *vq;

	for (i = 0; i < n; i++) {
		vq = &sim->vqs[i];
		if (!vq->kicks_off && vmdev_sim_vq_usable(vq))
			vq->kicks_off = !vmdev_sim_kick_flag(sim, i, true);
	}
	/* The flags before the ring, paired with the driver's barrier. */
	smp_mb();
	for (i = 0; i < n; i++) {
		vq = &sim->vqs[i];
		if (vq->kicks_off)
			vmdev_sim_avail_mark(sim, i, &vq->avail_seen);
	}
}

/* Let the driver of queue @idx kick again. */
static void vmdev_sim_kicks_on_vq(struct vmdev_sim *sim, u16 idx)
{
	if (!sim->vqs[idx].kicks_off)
		return;
	vmdev_sim_kick_flag(sim, idx, false);
	sim->vqs[idx].kicks_off = false;
}

/*
 * At the end of a pass that left no work: kicks on again. Then, after a
 * full barrier (paired with the driver's between adding a buffer and
 * reading our flags), true if a queue's driver added buffers since the
 * pass began: split, its available index moved; packed, a buffer starts
 * after those counted, and did not when the pass began at the same place
 * (one that was there already waits for something else, as a split index
 * that did not move). A ring that cannot be read does not count (the pass
 * that reads it breaks the device), so an unmapped ring never keeps the
 * worker busy.
 */
static bool vmdev_sim_kicks_on(struct vmdev_sim *sim)
{
	unsigned long was_off = 0;
	struct vmdev_sim_vq *vq;
	bool more = false;
	u32 i, mark;

	for (i = 0; i < min_t(u32, sim->vdev.nvqs, BITS_PER_LONG); i++) {
		if (!sim->vqs[i].kicks_off)
			continue;
		__set_bit(i, &was_off);
		vmdev_sim_kicks_on_vq(sim, i);
	}
	if (!was_off)
		return false;
	/* The flags before the rings, paired with the driver's barrier. */
	smp_mb();
	for_each_set_bit(i, &was_off, BITS_PER_LONG) {
		vq = &sim->vqs[i];
		if (!vmdev_sim_avail_mark(sim, i, &mark) &&
		    (mark & VMDEV_SIM_MARK_NEW) && mark != vq->avail_seen)
			more = true;
	}
	return more;
}

/*
 * One bounded pass. A crossed-over device works with its peer, both locked
 * (in the order of the driver-API doc's Locking section). A device that
 * runs always serves its own queues (a guest's driver waits on its control
 * queue before it starts the next device); what crosses over waits until
 * both run.
 *
 * No wake-up is lost: work the device can do always has a pass queued.
 * No event index is offered. A pass tells the driver of each usable queue
 * not to kick while it runs (VRING_USED_F_NO_NOTIFY on a split ring,
 * VRING_PACKED_EVENT_FLAG_DISABLE on a packed one: vmdev_sim_kicks_off())
 * and lets it kick again when it ends with no work left; then, after a
 * full barrier, it looks at each ring again and queues another pass if
 * the driver added buffers since it began (vmdev_sim_kicks_on()): a driver
 * adds a buffer, then a barrier, then reads our flags, so it kicks or we
 * see its buffer. Suspend and VHOST_GET_VRING_BASE let it kick again (a
 * driver never waits on a device that stopped looking). Besides:
 *
 * - A kick queues this work. The workqueue clears PENDING, with a full
 *   barrier, before it calls us; so a kick during a pass queues another,
 *   and what the driver wrote before its kick (the available index) is
 *   visible to the pass that follows (queue_work()'s ordering guarantee).
 *   Every pass reads the available index again; none relies on a count
 *   from an earlier one.
 * - A pass that hits its budget returns true and is queued again here.
 * - A pass that stops for lack of receive buffers (the type counts it in
 *   @waits) ends when the driver adds some: it kicks that receive queue,
 *   and one pass serves both directions of both crossed-over devices. On a
 *   hub nothing waits: a device without room drops what it was sent.
 * - A device that may not run (no DRIVER_OK, suspended) or whose peer may
 *   not: DRIVER_OK, resume and VRING_ENABLE queue the pass that does the
 *   waiting work, of either device of a pair.
 * - Interrupts: vmdev_sim_vq_publish() writes the used index, then a full
 *   barrier, then reads the driver's NO_INTERRUPT flag; a driver that
 *   clears the flag, then a barrier, then reads the used index again sees
 *   our buffers or we see its flag cleared (and signal).
 */
static void vmdev_sim_work(struct work_struct *work)
{
	struct vmdev_sim *sim = container_of(work, struct vmdev_sim, work);
	struct vmdev_sim_parent *sp = sim->parent;
	bool crossover = sp->settings.crossover, hub = sp->settings.hub;
	struct vmdev_sim *peer = hub ? NULL : sim, *first = sim, *second = NULL;
	bool more = false;

	if (crossover || hub)
		mutex_lock(&sp->pair_lock);
	if (crossover) {
		peer = sim->peer;
		if (peer) {
			first = sim->instance < peer->instance ? sim : peer;
			second = first == sim ? peer : sim;
		}
	}
	mutex_lock(&first->lock);
	if (second)
		mutex_lock_nested(&second->lock, SINGLE_DEPTH_NESTING);

	if (vmdev_sim_can_run(sim)) {
		vmdev_sim_kicks_off(sim);
		more = sim->type->process(sim, peer && vmdev_sim_can_run(peer) ?
					       peer : NULL);
		sim->stats.passes++;
		if (!more && vmdev_sim_can_run(sim))
			more = vmdev_sim_kicks_on(sim);
	}
	vmdev_sim_notify(sim);
	if (second)
		vmdev_sim_notify(peer);
	more &= vmdev_sim_can_run(sim);
	sim->stats.requeued += more;

	if (second)
		mutex_unlock(&second->lock);
	mutex_unlock(&first->lock);
	if (crossover || hub)
		mutex_unlock(&sp->pair_lock);

	/* Bounded passes: more work goes to the back of the queue. */
	if (more)
		queue_work(vmdev_sim_wq, &sim->work);
}

/**
 * vmdev_sim_hub_deliver - hand something to every other device of a hub
 * @sim: the device whose pass this is (on a hub: the pair lock and its
 *	lock held)
 * @deliver: called for each other device that runs, with its lock held
 *	too; its queues' callbacks are called after
 * @arg: for @deliver
 */
void vmdev_sim_hub_deliver(struct vmdev_sim *sim,
			   void (*deliver)(struct vmdev_sim *to, void *arg),
			   void *arg)
{
	struct vmdev_sim *to;

	lockdep_assert_held(&sim->parent->pair_lock);
	lockdep_assert_held(&sim->lock);
	list_for_each_entry(to, &sim->parent->devices, node) {
		if (to == sim)
			continue;
		mutex_lock_nested(&to->lock, SINGLE_DEPTH_NESTING);
		if (vmdev_sim_can_run(to)) {
			deliver(to, arg);
			vmdev_sim_notify(to);
		}
		mutex_unlock(&to->lock);
	}
}
EXPORT_SYMBOL_GPL(vmdev_sim_hub_deliver);

static int vmdev_sim_set_vq_address(struct vhost_mdev_device *vdev, u16 idx,
				    u64 desc_area, u64 driver_area,
				    u64 device_area)
{
	struct vmdev_sim *sim = to_vmdev_sim(vdev);

	guard(mutex)(&sim->lock);
	sim->vqs[idx].desc = desc_area;
	sim->vqs[idx].driver = driver_area;
	sim->vqs[idx].device = device_area;
	sim->vqs[idx].heads_n = 0;
	sim->vqs[idx].pdescs_n = 0;
	return 0;
}

static void vmdev_sim_set_vq_num(struct vhost_mdev_device *vdev, u16 idx,
				 u32 num)
{
	struct vmdev_sim *sim = to_vmdev_sim(vdev);

	guard(mutex)(&sim->lock);
	sim->vqs[idx].num = num;
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

	guard(mutex)(&sim->lock);
	sim->vqs[idx].cb = *cb;
}

static void vmdev_sim_set_vq_ready(struct vhost_mdev_device *vdev, u16 idx,
				   bool ready)
{
	struct vmdev_sim *sim = to_vmdev_sim(vdev);

	scoped_guard(mutex, &sim->lock)
		sim->vqs[idx].ready = ready;
	if (ready)
		queue_work(vmdev_sim_wq, &sim->work);
}

static bool vmdev_sim_get_vq_ready(struct vhost_mdev_device *vdev, u16 idx)
{
	struct vmdev_sim *sim = to_vmdev_sim(vdev);

	guard(mutex)(&sim->lock);
	return sim->vqs[idx].ready;
}

/*
 * In order: every buffer taken is used, so one index says it all: on a
 * split ring the next available index, on a packed ring the next
 * available position and its wrap counter (bits 0-15), which the used half
 * (bits 16-31) repeats, or leaves 0 in the older encoding that had only
 * the available half (DPDK 22.11's virtio_user sends 0x8000).
 */
static int vmdev_sim_set_vq_state(struct vhost_mdev_device *vdev, u16 idx,
				  u32 state)
{
	struct vmdev_sim *sim = to_vmdev_sim(vdev);
	struct vmdev_sim_vq *vq = &sim->vqs[idx];
	u16 avail = state & 0xffff, used = state >> 16;

	guard(mutex)(&sim->lock);
	if (vmdev_sim_packed(sim)) {
		/* Inside the ring (its size is set first), nothing in flight. */
		if ((vq->num && (avail & 0x7fff) >= vq->num) ||
		    (used && used != avail))
			return -EINVAL;
		vq->last_avail = avail & 0x7fff;
		vq->avail_wrap = avail & BIT(15);
		vq->used = vq->last_avail;
		vq->used_wrap = vq->avail_wrap;
		vmdev_sim_peek_reset(vq);
		vmdev_sim_count_reset(vq);
		vq->pdescs_n = 0;
		return 0;
	}
	vq->last_avail = state;
	vq->used = state;
	vq->heads_n = 0;
	return 0;
}

static int vmdev_sim_get_vq_state(struct vhost_mdev_device *vdev, u16 idx,
				  u32 *state)
{
	struct vmdev_sim *sim = to_vmdev_sim(vdev);
	struct vmdev_sim_vq *vq = &sim->vqs[idx];

	guard(mutex)(&sim->lock);
	*state = vq->last_avail;
	if (vmdev_sim_packed(sim))
		*state |= vq->avail_wrap << 15 | (u32)vq->used << 16 |
			  (u32)vq->used_wrap << 31;
	return 0;
}

/* Once we hold the lock every buffer taken is used: nothing is in flight. */
static void vmdev_sim_stop_vq(struct vhost_mdev_device *vdev, u16 idx)
{
	struct vmdev_sim *sim = to_vmdev_sim(vdev);

	guard(mutex)(&sim->lock);
	vmdev_sim_kicks_on_vq(sim, idx);
	sim->vqs[idx].stopped = true;
}

static u32 vmdev_sim_get_vq_group(struct vhost_mdev_device *vdev, u16 idx)
{
	struct vmdev_sim *sim = to_vmdev_sim(vdev);

	guard(mutex)(&sim->lock);
	return vmdev_sim_group(sim, idx);
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

	guard(mutex)(&sim->lock);
	sim->features = features;
	return 0;
}

static u64 vmdev_sim_get_driver_features(struct vhost_mdev_device *vdev)
{
	struct vmdev_sim *sim = to_vmdev_sim(vdev);

	guard(mutex)(&sim->lock);
	return sim->features;
}

static u16 vmdev_sim_get_vq_num_max(struct vhost_mdev_device *vdev)
{
	return to_vmdev_sim(vdev)->type->vq_num_max;
}

static u8 vmdev_sim_get_status(struct vhost_mdev_device *vdev)
{
	struct vmdev_sim *sim = to_vmdev_sim(vdev);

	guard(mutex)(&sim->lock);
	return sim->status;
}

/* Memory is reachable through the IOTLB only; the type may say more. */
static bool vmdev_sim_features_ok(struct vmdev_sim *sim)
{
	if (!(sim->features & BIT_ULL(VIRTIO_F_VERSION_1)) ||
	    !(sim->features & BIT_ULL(VIRTIO_F_ACCESS_PLATFORM)))
		return false;
	return !sim->type->features_ok ||
	       sim->type->features_ok(sim, sim->features);
}

/* Packed ring: room for what a pass uses on each queue; device lock held. */
static int vmdev_sim_stage_alloc(struct vmdev_sim *sim)
{
	struct vmdev_sim_used *stage;
	size_t total = 0;
	u32 i;

	for (i = 0; i < sim->vdev.nvqs; i++)
		total += sim->vqs[i].num;
	stage = kvcalloc(total ?: 1, sizeof(*stage), GFP_KERNEL);
	if (!stage)
		return -ENOMEM;
	kvfree(sim->stage);
	sim->stage = stage;
	for (i = 0; i < sim->vdev.nvqs; i++) {
		sim->vqs[i].stage = stage;
		sim->vqs[i].staged = 0;
		stage += sim->vqs[i].num;
	}
	return 0;
}

static void vmdev_sim_set_status(struct vhost_mdev_device *vdev, u8 status)
{
	struct vmdev_sim *sim = to_vmdev_sim(vdev);

	scoped_guard(mutex, &sim->lock) {
		/* A device that cannot work with these features says so. */
		if ((status & VIRTIO_CONFIG_S_FEATURES_OK) &&
		    !(sim->status & VIRTIO_CONFIG_S_FEATURES_OK) &&
		    !vmdev_sim_features_ok(sim))
			status &= ~(VIRTIO_CONFIG_S_FEATURES_OK |
				    VIRTIO_CONFIG_S_DRIVER_OK);
		if ((status & VIRTIO_CONFIG_S_DRIVER_OK) &&
		    !(sim->status & VIRTIO_CONFIG_S_DRIVER_OK) &&
		    vmdev_sim_packed(sim) && vmdev_sim_stage_alloc(sim))
			status |= VIRTIO_CONFIG_S_NEEDS_RESET;
		sim->status = status |
			      (sim->status & VIRTIO_CONFIG_S_NEEDS_RESET);
	}
	if (status & VIRTIO_CONFIG_S_DRIVER_OK)
		queue_work(vmdev_sim_wq, &sim->work);
}

/* Back to the state of a new device; device lock held. */
static void vmdev_sim_clear(struct vmdev_sim *sim)
{
	u32 i;

	lockdep_assert_held(&sim->lock);
	sim->status = 0;
	sim->features = 0;
	sim->suspended = false;
	sim->config_changed = false;
	memset(sim->group_asid, 0,
	       sizeof(*sim->group_asid) * sim->type->ngroups);
	memset(&sim->config_cb, 0, sizeof(sim->config_cb));
	memset(sim->vqs, 0, sizeof(*sim->vqs) * sim->vdev.nvqs);
	/* A packed ring starts with both wrap counters set. */
	for (i = 0; i < sim->vdev.nvqs; i++) {
		sim->vqs[i].avail_wrap = true;
		sim->vqs[i].used_wrap = true;
		sim->vqs[i].peek_wrap = true;
		sim->vqs[i].count_wrap = true;
	}
	kvfree(sim->stage);
	sim->stage = NULL;
	if (sim->type->reset)
		sim->type->reset(sim);
}

static int vmdev_sim_reset(struct vhost_mdev_device *vdev)
{
	struct vmdev_sim *sim = to_vmdev_sim(vdev);

	guard(mutex)(&sim->lock);
	vmdev_sim_clear(sim);
	return 0;
}

/* Once we hold the lock no pass runs, and none will until resume. */
static int vmdev_sim_suspend(struct vhost_mdev_device *vdev)
{
	struct vmdev_sim *sim = to_vmdev_sim(vdev);

	u32 i;

	guard(mutex)(&sim->lock);
	for (i = 0; i < vdev->nvqs; i++)
		vmdev_sim_kicks_on_vq(sim, i);
	sim->suspended = true;
	return 0;
}

static int vmdev_sim_resume(struct vhost_mdev_device *vdev)
{
	struct vmdev_sim *sim = to_vmdev_sim(vdev);

	scoped_guard(mutex, &sim->lock)
		sim->suspended = false;
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

	guard(mutex)(&sim->lock);
	memcpy(buf, sim->config + offset, len);
}

static void vmdev_sim_set_config(struct vhost_mdev_device *vdev,
				 unsigned int offset, const void *buf,
				 unsigned int len)
{
	struct vmdev_sim *sim = to_vmdev_sim(vdev);

	guard(mutex)(&sim->lock);
	if (sim->type->set_config)
		sim->type->set_config(sim, offset, buf, len);
}

static void vmdev_sim_set_config_cb(struct vhost_mdev_device *vdev,
				    const struct vhost_mdev_callback *cb)
{
	struct vmdev_sim *sim = to_vmdev_sim(vdev);

	guard(mutex)(&sim->lock);
	sim->config_cb = *cb;
}

static int vmdev_sim_get_iova_range(struct vhost_mdev_device *vdev,
				    struct vhost_mdev_iova_range *range)
{
	const struct vmdev_sim_settings *s = &to_vmdev_sim(vdev)->parent->settings;

	range->first = s->iova_first;
	range->last = s->iova_last;
	return 0;
}

static int vmdev_sim_set_group_asid(struct vhost_mdev_device *vdev, u32 group,
				    u32 asid)
{
	struct vmdev_sim *sim = to_vmdev_sim(vdev);

	guard(mutex)(&sim->lock);
	sim->group_asid[group] = asid;
	return 0;
}

/* What the worker did: how a stalled data path shows which wake-up it lacks. */
static int vmdev_sim_stats_show(struct seq_file *s, void *unused)
{
	struct vmdev_sim *sim = s->private;
	struct vmdev_sim_vq *vq;
	int avail, used;
	u16 idx;
	u32 i;

	guard(mutex)(&sim->lock);
	seq_printf(s, "passes %llu\nrequeued %llu\nwaits %llu\nbroken %llu\n",
		   sim->stats.passes, sim->stats.requeued, sim->stats.waits,
		   sim->stats.broken);
	seq_printf(s, "suppressed %llu\nsuppress_changes %llu\ndropped %llu\ncopies %llu\n",
		   sim->stats.suppressed, sim->stats.suppress_changes,
		   sim->stats.dropped, sim->stats.copies);
	seq_printf(s, "status 0x%x suspended %d\n", sim->status, sim->suspended);
	/*
	 * Each queue as the device sees it, its rings' indices read from
	 * guest memory now (-1: not mapped): a stalled queue shows whether
	 * the driver's available index reached the device. A packed ring
	 * shows the positions, wrap counters and the next descriptor's flags.
	 */
	for (i = 0; i < sim->vdev.nvqs; i++) {
		vq = &sim->vqs[i];
		if (!vq->num)
			continue;
		if (vmdev_sim_packed(sim)) {
			/* The flags of the next descriptor to take, instead. */
			if (vmdev_sim_read16(sim, i, vq->desc + vq->last_avail *
					     sizeof(struct vring_packed_desc) +
					     offsetof(struct vring_packed_desc,
						      flags), &idx))
				avail = -1;
			else
				avail = idx;
			seq_printf(s, "vq %u ready %d stopped %d num %u driver 0x%llx taken %u used %u avail_wrap %d used_wrap %d next_flags %d\n",
				   i, vq->ready, vq->stopped, vq->num,
				   vq->driver, vq->last_avail, vq->used,
				   vq->avail_wrap, vq->used_wrap, avail);
			continue;
		}
		if (vmdev_sim_read16(sim, i, vq->driver +
				     offsetof(struct vring_avail, idx), &idx))
			avail = -1;
		else
			avail = idx;
		if (vmdev_sim_read16(sim, i, vq->device +
				     offsetof(struct vring_used, idx), &idx))
			used = -1;
		else
			used = idx;
		seq_printf(s, "vq %u ready %d stopped %d num %u driver 0x%llx taken %u used %u avail_idx %d used_idx %d\n",
			   i, vq->ready, vq->stopped, vq->num, vq->driver,
			   vq->last_avail, vq->used, avail, used);
	}
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vmdev_sim_stats);

static void vmdev_sim_debugfs_init(struct vhost_mdev_device *vdev,
				   struct dentry *dir)
{
	debugfs_create_file("sim", 0444, dir, to_vmdev_sim(vdev),
			    &vmdev_sim_stats_fops);
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
	.stop_vq = vmdev_sim_stop_vq,
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
	.debugfs_init = vmdev_sim_debugfs_init,
};

static void vmdev_sim_free(struct vmdev_sim *sim)
{
	kvfree(sim->stage);
	kvfree(sim->priv);
	kfree(sim->config);
	kfree(sim->vqs);
	kfree(sim->group_asid);
}

/* With crossover, join the new device to the one waiting, or wait. */
static void vmdev_sim_pair(struct vmdev_sim_parent *sp, struct vmdev_sim *sim)
{
	guard(mutex)(&sp->pair_lock);
	if (sp->unpaired) {
		sim->peer = sp->unpaired;
		sim->peer->peer = sim;
		sp->unpaired = NULL;
	} else {
		sp->unpaired = sim;
	}
}

/* A peer left alone waits for the next device. */
static void vmdev_sim_unpair(struct vmdev_sim_parent *sp,
			     struct vmdev_sim *sim)
{
	guard(mutex)(&sp->pair_lock);
	if (sim->peer) {
		sim->peer->peer = NULL;
		sp->unpaired = sim->peer;
	} else if (sp->unpaired == sim) {
		sp->unpaired = NULL;
	}
	sim->peer = NULL;
}

static struct vhost_mdev_device *
vmdev_sim_create(struct vhost_mdev_parent *parent, struct mdev_device *mdev,
		 unsigned int type)
{
	struct vmdev_sim_parent *sp = to_vmdev_sim_parent(parent);
	const struct vmdev_sim_type *t = sp->type;
	struct vmdev_sim *sim;
	int ret;

	if (!atomic_add_unless(&sp->available, -1, 0))
		return ERR_PTR(-ENOSPC);

	sim = vhost_mdev_alloc_device(struct vmdev_sim, vdev, mdev,
				      &vmdev_sim_ops, VHOST_MDEV_DMA_TRANSLATE,
				      NULL, t->nvqs, t->ngroups, t->nas);
	if (IS_ERR(sim)) {
		ret = PTR_ERR(sim);
		goto err_available;
	}

	sim->parent = sp;
	sim->type = t;
	/* Every write goes through vhost_mdev_iotlb_write() or _move(): logged. */
	sim->vdev.log_model = VHOST_MDEV_LOG_IOTLB_WRITES;
	INIT_LIST_HEAD(&sim->node);
	mutex_init(&sim->lock);
	INIT_WORK(&sim->work, vmdev_sim_work);
	sim->vqs = kcalloc(t->nvqs, sizeof(*sim->vqs), GFP_KERNEL);
	sim->group_asid = kcalloc(t->ngroups, sizeof(*sim->group_asid),
				  GFP_KERNEL);
	sim->config = kzalloc(t->config_size, GFP_KERNEL);
	sim->priv = kvzalloc(t->priv_size, GFP_KERNEL);
	ret = -ENOMEM;
	if (!sim->vqs || !sim->group_asid || !sim->config || !sim->priv)
		goto err_put;

	ret = ida_alloc_max(&vmdev_sim_ida, U16_MAX, GFP_KERNEL);
	if (ret < 0)
		goto err_put;
	sim->instance = ret;
	if (t->init)
		t->init(sim, sim->instance);
	scoped_guard(mutex, &sim->lock)
		vmdev_sim_clear(sim);

	if (sp->settings.crossover)
		vmdev_sim_pair(sp, sim);
	scoped_guard(mutex, &sp->pair_lock)
		list_add_tail(&sim->node, &sp->devices);
	return &sim->vdev;

err_put:
	vmdev_sim_free(sim);
	vhost_mdev_put_device(&sim->vdev);
err_available:
	atomic_inc(&sp->available);
	return ERR_PTR(ret);
}

static void vmdev_sim_remove(struct vhost_mdev_parent *parent,
			     struct vhost_mdev_device *vdev)
{
	struct vmdev_sim_parent *sp = to_vmdev_sim_parent(parent);
	struct vmdev_sim *sim = to_vmdev_sim(vdev);

	if (sp->settings.crossover)
		vmdev_sim_unpair(sp, sim);
	scoped_guard(mutex, &sp->pair_lock)
		list_del(&sim->node);
	cancel_work_sync(&sim->work);
	ida_free(&vmdev_sim_ida, sim->instance);
	vmdev_sim_free(sim);
	atomic_inc(&sp->available);
}

static unsigned int vmdev_sim_get_available(struct vhost_mdev_parent *parent,
					    unsigned int type)
{
	return atomic_read(&to_vmdev_sim_parent(parent)->available);
}

static ssize_t vmdev_sim_show_description(struct vhost_mdev_parent *parent,
					  unsigned int type, char *buf)
{
	const struct vmdev_sim_type *t = to_vmdev_sim_parent(parent)->type;

	return sysfs_emit(buf, "simulated %s, %u virtqueue%s\n", t->description,
			  t->nvqs, t->nvqs == 1 ? "" : "s");
}

static const struct vhost_mdev_parent_ops vmdev_sim_parent_ops = {
	.create = vmdev_sim_create,
	.remove = vmdev_sim_remove,
	.get_available = vmdev_sim_get_available,
	.show_description = vmdev_sim_show_description,
};

static int vmdev_sim_probe(struct platform_device *pdev)
{
	struct platform_driver *drv = to_platform_driver(pdev->dev.driver);
	struct vmdev_sim_parent *sp = container_of(drv, struct vmdev_sim_parent,
						   driver);

	sp->parent.mdev_groups = sp->type->mdev_groups;
	return vhost_mdev_register_parent(&sp->parent, &pdev->dev,
					  &vmdev_sim_parent_ops, sp->types,
					  ARRAY_SIZE(sp->types));
}

static void vmdev_sim_platform_remove(struct platform_device *pdev)
{
	struct platform_driver *drv = to_platform_driver(pdev->dev.driver);
	struct vmdev_sim_parent *sp = container_of(drv, struct vmdev_sim_parent,
						   driver);

	vhost_mdev_unregister_parent(&sp->parent);
}

/* What a type must be for the core to run it. */
static bool vmdev_sim_type_valid(const struct vmdev_sim_type *t)
{
	return t->name && t->pretty_name && t->description && t->process &&
	       t->nvqs &&
	       t->nvqs <= U16_MAX + 1 && t->ngroups && t->nas &&
	       t->nas <= t->ngroups && (t->ngroups == 1 || t->vq_group) &&
	       t->config_size <= PAGE_SIZE && t->vq_num_max &&
	       is_power_of_2(t->vq_num_max) &&
	       (t->features & BIT_ULL(VIRTIO_F_VERSION_1)) &&
	       (t->features & BIT_ULL(VIRTIO_F_ACCESS_PLATFORM));
}

/**
 * vmdev_sim_register - offer a simulated device type
 * @name: the mdev parent's name: /sys/class/mdev_bus/@name, its types
 *	"@name-<type name>"
 * @type: the type; it must stay until vmdev_sim_unregister()
 * @settings: how its devices behave
 *
 * Return: the parent, or an ERR_PTR(): -EINVAL for a type the core cannot
 * run (no @process, no queue, more address spaces than groups, several
 * groups without @vq_group, a configuration space larger than a page, a
 * ring size that is not a power of two, memory not behind the platform),
 * -ENOMEM, or what registering the parent failed with.
 */
struct vmdev_sim_parent *
vmdev_sim_register(const char *name, const struct vmdev_sim_type *type,
		   const struct vmdev_sim_settings *settings)
{
	struct vmdev_sim_parent *sp;
	int ret;

	if (!vmdev_sim_type_valid(type) ||
	    (settings->crossover && settings->hub))
		return ERR_PTR(-EINVAL);

	sp = kzalloc(sizeof(*sp), GFP_KERNEL);
	if (!sp)
		return ERR_PTR(-ENOMEM);
	sp->type = type;
	sp->settings = *settings;
	atomic_set(&sp->available, settings->max_devices);
	mutex_init(&sp->pair_lock);
	INIT_LIST_HEAD(&sp->devices);
	sp->mtype.sysfs_name = type->name;
	sp->mtype.pretty_name = type->pretty_name;
	sp->types[0] = &sp->mtype;
	sp->driver.probe = vmdev_sim_probe;
	vmdev_platform_set_remove(&sp->driver, vmdev_sim_platform_remove);
	sp->driver.driver.name = name;

	ret = platform_driver_register(&sp->driver);
	if (ret)
		goto err_free;
	sp->pdev = platform_device_register_simple(name, PLATFORM_DEVID_NONE,
						   NULL, 0);
	if (IS_ERR(sp->pdev)) {
		ret = PTR_ERR(sp->pdev);
		goto err_driver;
	}
	/* The parent registers at probe; a failed probe leaves no driver. */
	if (!sp->pdev->dev.driver) {
		ret = -ENODEV;
		goto err_device;
	}
	return sp;

err_device:
	platform_device_unregister(sp->pdev);
err_driver:
	platform_driver_unregister(&sp->driver);
err_free:
	kfree(sp);
	return ERR_PTR(ret);
}
EXPORT_SYMBOL_GPL(vmdev_sim_register);

/**
 * vmdev_sim_unregister - withdraw a type
 * @sp: what vmdev_sim_register() returned
 *
 * Removes every mdev of the type first; files still open on them answer
 * -ENODEV from then on.
 */
void vmdev_sim_unregister(struct vmdev_sim_parent *sp)
{
	platform_device_unregister(sp->pdev);
	platform_driver_unregister(&sp->driver);
	kfree(sp);
}
EXPORT_SYMBOL_GPL(vmdev_sim_unregister);

int __init vmdev_sim_core_init(void)
{
	vmdev_sim_wq = alloc_workqueue("vhost_mdev_sim", WQ_UNBOUND, 0);
	return vmdev_sim_wq ? 0 : -ENOMEM;
}

void vmdev_sim_core_exit(void)
{
	destroy_workqueue(vmdev_sim_wq);
}
