// SPDX-License-Identifier: GPL-2.0-only
/*
 * vhost-mdev core: the character device and its vhost-vdpa uAPI.
 *
 * Numbers and structures are those of <linux/vhost.h>, semantics those of
 * drivers/vhost/vdpa.c unless the comments say otherwise. One file may have
 * the device open; one process (mm) owns it after VHOST_SET_OWNER. What
 * clients do before SET_OWNER (QEMU sets status and reads features and
 * config, DPDK reads the device id) is allowed to anyone holding the file
 * until there is an owner; after that every state-changing call must come
 * from the owner (-EPERM). Vring ioctls, memory and doorbells need the
 * owner in any case.
 */

#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/nospec.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vhost.h>
#include <linux/virtio_config.h>

#include "core.h"

/* Status bits a driver may set; the device sets NEEDS_RESET itself. */
#define VHOST_MDEV_STATUS_MASK	(VIRTIO_CONFIG_S_ACKNOWLEDGE |	\
				 VIRTIO_CONFIG_S_DRIVER |	\
				 VIRTIO_CONFIG_S_DRIVER_OK |	\
				 VIRTIO_CONFIG_S_FEATURES_OK |	\
				 VIRTIO_CONFIG_S_FAILED)

static int vhost_mdev_check_owner(struct vhost_mdev_core *core)
{
	return core->owner && core->owner == current->mm ? 0 : -EPERM;
}

/* For what clients do before VHOST_SET_OWNER: anyone, until an owner. */
static int vhost_mdev_check_owner_or_none(struct vhost_mdev_core *core)
{
	return !core->owner || core->owner == current->mm ? 0 : -EPERM;
}

static bool vhost_mdev_running(struct vhost_mdev_device *vdev)
{
	return vhost_mdev_driver_ok(vdev) && !vdev->core->suspended;
}

/* Remember where each queue stands, for VHOST_GET_VRING_BASE later. */
static void vhost_mdev_capture_bases(struct vhost_mdev_device *vdev)
{
	struct vhost_mdev_core *core = vdev->core;
	u32 i, state;

	for (i = 0; i < vdev->nvqs; i++)
		if (!vdev->ops->get_vq_state(vdev, i, &state))
			core->vqs[i].base = state;
}

/*
 * Reset the device. The irq bypass producers go first (the parent frees its
 * irqs in reset); the queues' positions are captured for QEMU, which asks
 * for them after resetting: before the reset from a device suspended for
 * it, else after the reset, from a device that has stopped; the doorbells
 * are zapped and kept away until the parent is done. Eventfds stay bound
 * and the parent is told again about the callbacks; mappings stay
 * (IOTLB_PERSIST).
 */
static int vhost_mdev_reset(struct vhost_mdev_device *vdev)
{
	struct vhost_mdev_core *core = vdev->core;
	bool running, captured = false;
	u32 i;
	int ret;

	lockdep_assert_held(&core->lock);

	/*
	 * The parent frees its irqs in reset whatever the status says: a
	 * function-level reset may have cleared DRIVER_OK behind our back.
	 */
	vhost_mdev_producers_off(vdev);
	running = vhost_mdev_driver_ok(vdev);
	if (running) {
		/* A device that can stop reports exact positions before. */
		if (vdev->ops->suspend && !core->suspended &&
		    !vdev->ops->suspend(vdev))
			core->suspended = true;
		if (core->suspended) {
			vhost_mdev_capture_bases(vdev);
			captured = true;
		}
	}

	down_write(&core->zap_sem);
	vhost_mdev_zap_doorbells(vdev);
	ret = vdev->ops->reset(vdev);
	up_write(&core->zap_sem);

	/* One that cannot reports, after the reset, where each queue stopped. */
	if (running && !captured)
		vhost_mdev_capture_bases(vdev);

	core->suspended = false;
	for (i = 0; i < vdev->nvqs; i++)
		core->vqs[i].num = 0;
	vhost_mdev_rebind_callbacks(vdev);
	return ret;
}

/*
 * End the session: what release, VHOST_RESET_OWNER and the mdev's removal
 * have in common. The doorbells are taken away first, for good (unpinning
 * can take long, and a doorbell must not come back meanwhile), then the
 * device is reset, every eventfd unbound, every page unpinned, the owner
 * forgotten.
 */
void vhost_mdev_session_stop(struct vhost_mdev_device *vdev)
{
	struct vhost_mdev_core *core = vdev->core;
	u32 i;

	lockdep_assert_held(&core->lock);

	vhost_mdev_doorbells_for(vdev, NULL);
	vhost_mdev_reset(vdev);
	for (i = 0; i < vdev->nvqs; i++) {
		vhost_mdev_vq_release(&core->vqs[i]);
		core->vqs[i].base = 0;
	}
	vhost_mdev_config_release(vdev);
	vhost_mdev_unmap_all(vdev);
	if (core->owner) {
		mmdrop(core->owner);
		core->owner = NULL;
	}
	core->acked_backend = 0;
	core->in_batch = false;
}

static long vhost_mdev_set_owner(struct vhost_mdev_device *vdev)
{
	struct vhost_mdev_core *core = vdev->core;

	if (core->owner)
		return -EBUSY;
	if (!current->mm)
		return -EINVAL;
	mmgrab(current->mm);
	core->owner = current->mm;
	vhost_mdev_doorbells_for(vdev, current->mm);
	return 0;
}

static long vhost_mdev_get_features(struct vhost_mdev_device *vdev,
				    u64 __user *featurep)
{
	u64 features = vdev->ops->get_device_features(vdev);

	return copy_to_user(featurep, &features, sizeof(features)) ? -EFAULT : 0;
}

static long vhost_mdev_set_features(struct vhost_mdev_device *vdev,
				    u64 __user *featurep)
{
	u64 features;

	if (copy_from_user(&features, featurep, sizeof(features)))
		return -EFAULT;
	/* Negotiated features are fixed until the next reset. */
	if (vdev->ops->get_status(vdev) & VIRTIO_CONFIG_S_FEATURES_OK)
		return -EBUSY;
	if (features & ~vdev->ops->get_device_features(vdev))
		return -EINVAL;
	return vdev->ops->set_driver_features(vdev, features) ? -EINVAL : 0;
}

static u64 vhost_mdev_backend_features(struct vhost_mdev_device *vdev)
{
	const struct vhost_mdev_ops *ops = vdev->ops;
	/* Mappings belong to the core, so they always survive a reset. */
	u64 features = BIT_ULL(VHOST_BACKEND_F_IOTLB_MSG_V2) |
		       BIT_ULL(VHOST_BACKEND_F_IOTLB_BATCH) |
		       BIT_ULL(VHOST_BACKEND_F_IOTLB_ASID) |
		       BIT_ULL(VHOST_BACKEND_F_IOTLB_PERSIST);

	if (ops->suspend)
		features |= BIT_ULL(VHOST_BACKEND_F_SUSPEND);
	if (ops->resume)
		features |= BIT_ULL(VHOST_BACKEND_F_RESUME);
	if (ops->get_vq_desc_group)
		features |= BIT_ULL(VHOST_BACKEND_F_DESC_ASID);
	if (ops->get_backend_features)
		features |= ops->get_backend_features(vdev) &
			    BIT_ULL(VHOST_BACKEND_F_ENABLE_AFTER_DRIVER_OK);
	return features;
}

static long vhost_mdev_set_backend_features(struct vhost_mdev_device *vdev,
					    u64 __user *featurep)
{
	u64 features;

	if (copy_from_user(&features, featurep, sizeof(features)))
		return -EFAULT;
	if (features & ~vhost_mdev_backend_features(vdev))
		return -EOPNOTSUPP;
	if ((features & BIT_ULL(VHOST_BACKEND_F_DESC_ASID)) &&
	    !(features & BIT_ULL(VHOST_BACKEND_F_IOTLB_ASID)))
		return -EINVAL;
	vdev->core->acked_backend = features;
	return 0;
}

static long vhost_mdev_set_status(struct vhost_mdev_device *vdev,
				  u8 __user *statusp)
{
	const struct vhost_mdev_ops *ops = vdev->ops;
	u8 status, old;

	if (get_user(status, statusp))
		return -EFAULT;
	if (!status)
		return vhost_mdev_reset(vdev);

	old = ops->get_status(vdev);
	/* Bits go away only through a reset; drivers set them in order. */
	if (status & ~VHOST_MDEV_STATUS_MASK || old & ~status)
		return -EINVAL;
	if (((status & VIRTIO_CONFIG_S_DRIVER) &&
	     !(status & VIRTIO_CONFIG_S_ACKNOWLEDGE)) ||
	    ((status & VIRTIO_CONFIG_S_FEATURES_OK) &&
	     !(status & VIRTIO_CONFIG_S_DRIVER)) ||
	    ((status & VIRTIO_CONFIG_S_DRIVER_OK) &&
	     !(status & VIRTIO_CONFIG_S_FEATURES_OK)))
		return -EINVAL;

	ops->set_status(vdev, status);

	if (!(old & VIRTIO_CONFIG_S_DRIVER_OK) && vhost_mdev_driver_ok(vdev))
		vhost_mdev_producers_on(vdev);
	return 0;
}

/* Bounds of a config access, both sides (the 2021 vdpa/vduse lesson). */
static int vhost_mdev_config_check(struct vhost_mdev_device *vdev,
				   const struct vhost_vdpa_config *c)
{
	size_t size = vdev->ops->get_config_size(vdev);

	if (!c->len || c->off > size || c->len > size - c->off)
		return -EINVAL;
	return 0;
}

static long vhost_mdev_get_config(struct vhost_mdev_device *vdev,
				  struct vhost_vdpa_config __user *c)
{
	struct vhost_vdpa_config config;
	long ret = 0;
	u8 *buf;

	if (copy_from_user(&config, c, sizeof(config)))
		return -EFAULT;
	if (vhost_mdev_config_check(vdev, &config))
		return -EINVAL;

	buf = kvzalloc(config.len, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	vdev->ops->get_config(vdev, config.off, buf, config.len);
	if (copy_to_user(c->buf, buf, config.len))
		ret = -EFAULT;
	kvfree(buf);
	return ret;
}

static long vhost_mdev_set_config(struct vhost_mdev_device *vdev,
				  struct vhost_vdpa_config __user *c)
{
	struct vhost_vdpa_config config;
	u8 *buf;

	if (copy_from_user(&config, c, sizeof(config)))
		return -EFAULT;
	if (vhost_mdev_config_check(vdev, &config))
		return -EINVAL;

	buf = vmemdup_user(c->buf, config.len);
	if (IS_ERR(buf))
		return PTR_ERR(buf);
	vdev->ops->set_config(vdev, config.off, buf, config.len);
	kvfree(buf);
	return 0;
}

/*
 * After a successful return the device processes no more buffers and
 * VHOST_GET_VRING_BASE reports where each queue stopped. Suspending a device
 * that does not run is a no-op, as upstream.
 */
static long vhost_mdev_suspend(struct vhost_mdev_device *vdev)
{
	int ret;

	if (!vdev->ops->suspend)
		return -EOPNOTSUPP;
	if (!vhost_mdev_running(vdev))
		return 0;

	ret = vdev->ops->suspend(vdev);
	if (ret)
		return ret;
	vdev->core->suspended = true;
	vhost_mdev_capture_bases(vdev);
	return 0;
}

static long vhost_mdev_resume(struct vhost_mdev_device *vdev)
{
	int ret;

	if (!vdev->ops->resume)
		return -EOPNOTSUPP;
	if (!vdev->core->suspended)
		return 0;

	ret = vdev->ops->resume(vdev);
	if (!ret)
		vdev->core->suspended = false;
	return ret;
}

static long vhost_mdev_put_u32(u32 val, void __user *argp)
{
	return put_user(val, (u32 __user *)argp);
}

static long vhost_mdev_get_iova_range(struct vhost_mdev_device *vdev,
				      void __user *argp)
{
	struct vhost_vdpa_iova_range range = {
		.first = vdev->core->range.first,
		.last = vdev->core->range.last,
	};

	return copy_to_user(argp, &range, sizeof(range)) ? -EFAULT : 0;
}

static long vhost_mdev_set_group_asid(struct vhost_mdev_device *vdev,
				      void __user *argp)
{
	struct vhost_vring_state s;

	if (copy_from_user(&s, argp, sizeof(s)))
		return -EFAULT;
	if (s.index >= vdev->ngroups || s.num >= vdev->nas)
		return -EINVAL;
	if (!vdev->ops->set_group_asid)
		return -EOPNOTSUPP;
	return vdev->ops->set_group_asid(vdev, s.index, s.num);
}

/* The largest ring queue @idx takes: its own size, or the device's. */
static u32 vhost_mdev_vq_size(struct vhost_mdev_device *vdev, u32 idx)
{
	const struct vhost_mdev_ops *ops = vdev->ops;

	return ops->get_vq_size ? ops->get_vq_size(vdev, idx) :
				  ops->get_vq_num_max(vdev);
}

static long vhost_mdev_set_vring_num(struct vhost_mdev_device *vdev,
				     struct vhost_mdev_vq *vq, u32 num)
{
	if (vhost_mdev_running(vdev))
		return -EBUSY;
	if (!num || num > vhost_mdev_vq_size(vdev, vq->idx) ||
	    num > U16_MAX || !is_power_of_2(num))
		return -EINVAL;
	vq->num = num;
	vdev->ops->set_vq_num(vdev, vq->idx, num);
	return 0;
}

static long vhost_mdev_set_vring_addr(struct vhost_mdev_device *vdev,
				      struct vhost_mdev_vq *vq,
				      void __user *argp)
{
	struct vhost_vring_addr a;

	if (copy_from_user(&a, argp, sizeof(a)))
		return -EFAULT;
	/* No dirty logging (yet): the log flag is not supported either. */
	if (a.flags)
		return -EOPNOTSUPP;
	/* Split ring alignment: descriptors 16, driver area 2, device 4. */
	if ((a.desc_user_addr & 15) || (a.avail_user_addr & 1) ||
	    (a.used_user_addr & 3))
		return -EINVAL;
	if (vhost_mdev_running(vdev))
		return -EBUSY;
	return vdev->ops->set_vq_address(vdev, vq->idx, a.desc_user_addr,
					 a.avail_user_addr, a.used_user_addr);
}

static long vhost_mdev_set_vring_base(struct vhost_mdev_device *vdev,
				      struct vhost_mdev_vq *vq, u32 num)
{
	int ret;

	if (vhost_mdev_running(vdev))
		return -EBUSY;
	/* Split rings have a 16-bit index; packed rings use all 32 bits. */
	if (num > U16_MAX && !(vdev->ops->get_driver_features(vdev) &
			       BIT_ULL(VIRTIO_F_RING_PACKED)))
		return -EINVAL;
	ret = vdev->ops->set_vq_state(vdev, vq->idx, num);
	if (!ret)
		vq->base = num;
	return ret;
}

/* While the device runs ask it, else report what was set or captured. */
static long vhost_mdev_get_vring_base(struct vhost_mdev_device *vdev,
				      struct vhost_mdev_vq *vq, u32 *num)
{
	if (!vhost_mdev_running(vdev)) {
		*num = vq->base;
		return 0;
	}
	return vdev->ops->get_vq_state(vdev, vq->idx, num);
}

static long vhost_mdev_vring_ioctl(struct vhost_mdev_device *vdev,
				   unsigned int cmd, void __user *argp)
{
	const struct vhost_mdev_ops *ops = vdev->ops;
	struct vhost_mdev_vq *vq;
	struct vhost_vring_state s;
	struct vhost_vring_file f;
	u32 idx;
	long ret;

	/* Every vring argument starts with the queue index. */
	if (get_user(idx, (u32 __user *)argp))
		return -EFAULT;
	if (idx >= vdev->nvqs)
		return -ENOBUFS;
	idx = array_index_nospec(idx, vdev->nvqs);
	vq = &vdev->core->vqs[idx];

	switch (cmd) {
	case VHOST_SET_VRING_KICK:
	case VHOST_SET_VRING_CALL:
		if (copy_from_user(&f, argp, sizeof(f)))
			return -EFAULT;
		if (cmd == VHOST_SET_VRING_KICK)
			return vhost_mdev_set_kick(vq, f.fd);
		return vhost_mdev_set_call(vq, f.fd);
	case VHOST_SET_VRING_ADDR:
		return vhost_mdev_set_vring_addr(vdev, vq, argp);
	}

	if (copy_from_user(&s, argp, sizeof(s)))
		return -EFAULT;

	switch (cmd) {
	case VHOST_SET_VRING_NUM:
		return vhost_mdev_set_vring_num(vdev, vq, s.num);
	case VHOST_SET_VRING_BASE:
		return vhost_mdev_set_vring_base(vdev, vq, s.num);
	case VHOST_VDPA_SET_VRING_ENABLE:
		if (s.num > 1)
			return -EINVAL;
		ops->set_vq_ready(vdev, idx, s.num);
		return 0;
	case VHOST_GET_VRING_BASE:
		ret = vhost_mdev_get_vring_base(vdev, vq, &s.num);
		break;
	case VHOST_VDPA_GET_VRING_GROUP:
		s.num = ops->get_vq_group ? ops->get_vq_group(vdev, idx) : 0;
		ret = s.num < vdev->ngroups ? 0 : -EIO;
		break;
	case VHOST_VDPA_GET_VRING_DESC_GROUP:
		if (!ops->get_vq_desc_group)
			return -EOPNOTSUPP;
		s.num = ops->get_vq_desc_group(vdev, idx);
		ret = s.num < vdev->ngroups ? 0 : -EIO;
		break;
	case VHOST_VDPA_GET_VRING_SIZE:
		s.num = vhost_mdev_vq_size(vdev, idx);
		ret = 0;
		break;
	default:
		return -ENOTTY;
	}

	if (!ret && copy_to_user(argp, &s, sizeof(s)))
		ret = -EFAULT;
	return ret;
}

/* Calls that change device state, allowed before SET_OWNER. */
static long vhost_mdev_device_ioctl(struct vhost_mdev_device *vdev,
				    unsigned int cmd, void __user *argp)
{
	int fd;

	switch (cmd) {
	case VHOST_SET_FEATURES:
	case VHOST_SET_BACKEND_FEATURES:
	case VHOST_VDPA_SET_STATUS:
	case VHOST_VDPA_SET_CONFIG:
	case VHOST_VDPA_SET_CONFIG_CALL:
		break;
	default:
		return -ENOTTY;
	}
	if (vhost_mdev_check_owner_or_none(vdev->core))
		return -EPERM;

	switch (cmd) {
	case VHOST_SET_FEATURES:
		return vhost_mdev_set_features(vdev, argp);
	case VHOST_SET_BACKEND_FEATURES:
		return vhost_mdev_set_backend_features(vdev, argp);
	case VHOST_VDPA_SET_STATUS:
		return vhost_mdev_set_status(vdev, argp);
	case VHOST_VDPA_SET_CONFIG:
		return vhost_mdev_set_config(vdev, argp);
	default:
		if (get_user(fd, (int __user *)argp))
			return -EFAULT;
		return vhost_mdev_set_config_call(vdev, fd);
	}
}

/* Calls that only read. */
static long vhost_mdev_query_ioctl(struct vhost_mdev_device *vdev,
				   unsigned int cmd, void __user *argp)
{
	const struct vhost_mdev_ops *ops = vdev->ops;
	u64 features;

	switch (cmd) {
	case VHOST_GET_FEATURES:
		return vhost_mdev_get_features(vdev, argp);
	case VHOST_GET_BACKEND_FEATURES:
		features = vhost_mdev_backend_features(vdev);
		return copy_to_user(argp, &features, sizeof(features)) ?
		       -EFAULT : 0;
	case VHOST_VDPA_GET_DEVICE_ID:
		return vhost_mdev_put_u32(ops->get_device_id(vdev), argp);
	case VHOST_VDPA_GET_STATUS:
		return put_user(ops->get_status(vdev), (u8 __user *)argp);
	case VHOST_VDPA_GET_CONFIG:
		return vhost_mdev_get_config(vdev, argp);
	case VHOST_VDPA_GET_VRING_NUM:
		return put_user(ops->get_vq_num_max(vdev), (u16 __user *)argp);
	case VHOST_VDPA_GET_IOVA_RANGE:
		return vhost_mdev_get_iova_range(vdev, argp);
	case VHOST_VDPA_GET_CONFIG_SIZE:
		return vhost_mdev_put_u32(ops->get_config_size(vdev), argp);
	case VHOST_VDPA_GET_VQS_COUNT:
		return vhost_mdev_put_u32(vdev->nvqs, argp);
	case VHOST_VDPA_GET_GROUP_NUM:
		return vhost_mdev_put_u32(vdev->ngroups, argp);
	case VHOST_VDPA_GET_AS_NUM:
		return vhost_mdev_put_u32(vdev->nas, argp);
	}
	return -ENOTTY;
}

/* Calls only the owner may make. */
static long vhost_mdev_owner_ioctl(struct vhost_mdev_device *vdev,
				   unsigned int cmd, void __user *argp)
{
	switch (cmd) {
	case VHOST_RESET_OWNER:
	case VHOST_SET_MEM_TABLE:
	case VHOST_VDPA_SUSPEND:
	case VHOST_VDPA_RESUME:
	case VHOST_VDPA_SET_GROUP_ASID:
	case VHOST_SET_VRING_NUM:
	case VHOST_SET_VRING_ADDR:
	case VHOST_SET_VRING_BASE:
	case VHOST_GET_VRING_BASE:
	case VHOST_SET_VRING_KICK:
	case VHOST_SET_VRING_CALL:
	case VHOST_VDPA_SET_VRING_ENABLE:
	case VHOST_VDPA_GET_VRING_GROUP:
	case VHOST_VDPA_GET_VRING_DESC_GROUP:
	case VHOST_VDPA_GET_VRING_SIZE:
		break;
	default:
		return -ENOTTY;
	}
	if (vhost_mdev_check_owner(vdev->core))
		return -EPERM;

	switch (cmd) {
	case VHOST_RESET_OWNER:
		vhost_mdev_session_stop(vdev);
		return 0;
	case VHOST_SET_MEM_TABLE:
		return vhost_mdev_set_mem_table(vdev, argp);
	case VHOST_VDPA_SUSPEND:
		return vhost_mdev_suspend(vdev);
	case VHOST_VDPA_RESUME:
		return vhost_mdev_resume(vdev);
	case VHOST_VDPA_SET_GROUP_ASID:
		return vhost_mdev_set_group_asid(vdev, argp);
	default:
		return vhost_mdev_vring_ioctl(vdev, cmd, argp);
	}
}

static long vhost_mdev_ioctl_locked(struct vhost_mdev_device *vdev,
				    unsigned int cmd, void __user *argp)
{
	long ret;

	switch (cmd) {
	case VHOST_SET_OWNER:
		return vhost_mdev_set_owner(vdev);
	/* No dirty logging yet: say so rather than pretend. */
	case VHOST_SET_LOG_BASE:
	case VHOST_SET_LOG_FD:
		return -EOPNOTSUPP;
	}

	ret = vhost_mdev_query_ioctl(vdev, cmd, argp);
	if (ret == -ENOTTY)
		ret = vhost_mdev_device_ioctl(vdev, cmd, argp);
	if (ret == -ENOTTY)
		ret = vhost_mdev_owner_ioctl(vdev, cmd, argp);
	return ret;
}

static long vhost_mdev_unlocked_ioctl(struct file *filp, unsigned int cmd,
				      unsigned long arg)
{
	struct vhost_mdev_device *vdev = filp->private_data;
	struct vhost_mdev_core *core = vdev->core;
	long ret;

	mutex_lock(&core->lock);
	if (core->dead)
		ret = -ENODEV;
	else
		ret = vhost_mdev_ioctl_locked(vdev, cmd, (void __user *)arg);
	mutex_unlock(&core->lock);
	return ret;
}

static int vhost_mdev_open(struct inode *inode, struct file *filp)
{
	struct vhost_mdev_device *vdev = container_of(inode->i_cdev,
						      struct vhost_mdev_device,
						      cdev);
	struct vhost_mdev_core *core = vdev->core;
	int ret = 0;
	u32 i;

	mutex_lock(&core->lock);
	if (core->dead) {
		ret = -ENODEV;
	} else if (core->opened) {
		ret = -EBUSY;
	} else {
		/*
		 * Whatever a previous user left, the new one starts afresh;
		 * the counters in debugfs tell about the last session until now.
		 */
		vhost_mdev_reset(vdev);
		for (i = 0; i < vdev->nvqs; i++) {
			atomic64_set(&core->vqs[i].kicks, 0);
			atomic64_set(&core->vqs[i].calls, 0);
		}
		core->opened = true;
		core->mapping = filp->f_mapping;
		get_device(&vdev->dev);
		filp->private_data = vdev;
	}
	mutex_unlock(&core->lock);

	return ret ?: stream_open(inode, filp);
}

/* QEMU never closes the file: this is where everything is cleaned up. */
static int vhost_mdev_release(struct inode *inode, struct file *filp)
{
	struct vhost_mdev_device *vdev = filp->private_data;
	struct vhost_mdev_core *core = vdev->core;

	mutex_lock(&core->lock);
	if (!core->dead)
		vhost_mdev_session_stop(vdev);
	core->opened = false;
	core->mapping = NULL;
	mutex_unlock(&core->lock);

	put_device(&vdev->dev);
	return 0;
}

const struct file_operations vhost_mdev_fops = {
	.owner		= THIS_MODULE,
	.open		= vhost_mdev_open,
	.release	= vhost_mdev_release,
	.write_iter	= vhost_mdev_write_iter,
	.unlocked_ioctl	= vhost_mdev_unlocked_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.mmap		= vhost_mdev_mmap,
};
