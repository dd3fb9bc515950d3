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
#include <linux/virtio_ring.h>

#include "core.h"

/* Status bits a driver may set; the device sets NEEDS_RESET itself. */
#define VHOST_MDEV_STATUS_MASK	(VIRTIO_CONFIG_S_ACKNOWLEDGE |	\
				 VIRTIO_CONFIG_S_DRIVER |	\
				 VIRTIO_CONFIG_S_DRIVER_OK |	\
				 VIRTIO_CONFIG_S_FEATURES_OK |	\
				 VIRTIO_CONFIG_S_FAILED)

static bool vhost_mdev_running(struct vhost_mdev_device *vdev)
{
	return vhost_mdev_driver_ok(vdev) && !vdev->core->suspended;
}

/* Remember where each queue stands, for VHOST_GET_VRING_BASE later. */
static void vhost_mdev_capture_bases(struct vhost_mdev_device *vdev)
{
	struct vhost_mdev_core *core = vdev->core;
	u32 i, state;

	for (i = 0; i < vdev->nvqs; i++) {
		core->vqs[i].base_err = vdev->ops->get_vq_state(vdev, i, &state);
		if (!core->vqs[i].base_err)
			core->vqs[i].base = state;
	}
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
	/* The features went, VHOST_F_LOG_ALL with them, and the log. */
	vhost_mdev_log_all(vdev, false);
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
		core->vqs[i].base_err = 0;
	}
	vhost_mdev_config_release(vdev);
	vhost_mdev_batch_discard(vdev);
	vhost_mdev_unmap_all(vdev);
	vhost_mdev_log_drop(vdev);
	if (core->owner) {
		mmdrop(core->owner);
		core->owner = NULL;
	}
	core->acked_backend = 0;
}

/*
 * The ioctl handlers. Each gets the device, the queue its argument names
 * (vring commands; NULL for the others) and the user's argument, and runs
 * with &vhost_mdev_core.lock held, after its caller class was checked
 * (vhost_mdev_ioctls[] below).
 */

static long vhost_mdev_set_owner(struct vhost_mdev_device *vdev,
				 struct vhost_mdev_vq *vq, void __user *argp)
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

static long vhost_mdev_reset_owner(struct vhost_mdev_device *vdev,
				   struct vhost_mdev_vq *vq, void __user *argp)
{
	vhost_mdev_session_stop(vdev);
	return 0;
}

/* The dirty log: log.c. */
static long vhost_mdev_set_log_base_ioctl(struct vhost_mdev_device *vdev,
					  struct vhost_mdev_vq *vq,
					  void __user *argp)
{
	u64 uaddr;

	if (copy_from_user(&uaddr, argp, sizeof(uaddr)))
		return -EFAULT;
	return vhost_mdev_set_log_base(vdev, uaddr);
}

/* A log written through a file descriptor is vhost-user's, not ours. */
static long vhost_mdev_set_log_fd(struct vhost_mdev_device *vdev,
				  struct vhost_mdev_vq *vq, void __user *argp)
{
	return -EOPNOTSUPP;
}

static long vhost_mdev_put_u64(u64 val, void __user *argp)
{
	return copy_to_user(argp, &val, sizeof(val)) ? -EFAULT : 0;
}

static long vhost_mdev_put_u32(u32 val, void __user *argp)
{
	return put_user(val, (u32 __user *)argp);
}

static long vhost_mdev_get_features(struct vhost_mdev_device *vdev,
				    struct vhost_mdev_vq *vq,
				    void __user *argp)
{
	return vhost_mdev_put_u64(vhost_mdev_device_features(vdev) |
				  vhost_mdev_vhost_features(vdev), argp);
}

static long vhost_mdev_set_features(struct vhost_mdev_device *vdev,
				    struct vhost_mdev_vq *vq,
				    void __user *argp)
{
	const u64 log_all = BIT_ULL(VHOST_F_LOG_ALL);
	u64 features;

	if (copy_from_user(&features, argp, sizeof(features)))
		return -EFAULT;
	/*
	 * Negotiated features are fixed until the next reset, but for
	 * VHOST_F_LOG_ALL: QEMU turns logging on and off while the device
	 * runs, and aborts if that fails.
	 */
	if (vdev->ops->get_status(vdev) & VIRTIO_CONFIG_S_FEATURES_OK) {
		if ((features & ~log_all) != vdev->ops->get_driver_features(vdev))
			return -EBUSY;
		if (features & ~vhost_mdev_vhost_features(vdev) & log_all)
			return -EINVAL;
	} else {
		if (features & ~(vhost_mdev_device_features(vdev) |
				 vhost_mdev_vhost_features(vdev)))
			return -EINVAL;
		if (vdev->ops->set_driver_features(vdev, features & ~log_all))
			return -EINVAL;
	}
	return vhost_mdev_log_all(vdev, features & log_all);
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

static long vhost_mdev_get_backend_features(struct vhost_mdev_device *vdev,
					    struct vhost_mdev_vq *vq,
					    void __user *argp)
{
	return vhost_mdev_put_u64(vhost_mdev_backend_features(vdev), argp);
}

static long vhost_mdev_set_backend_features(struct vhost_mdev_device *vdev,
					    struct vhost_mdev_vq *vq,
					    void __user *argp)
{
	u64 features;

	if (copy_from_user(&features, argp, sizeof(features)))
		return -EFAULT;
	if (features & ~vhost_mdev_backend_features(vdev))
		return -EOPNOTSUPP;
	if ((features & BIT_ULL(VHOST_BACKEND_F_DESC_ASID)) &&
	    !(features & BIT_ULL(VHOST_BACKEND_F_IOTLB_ASID)))
		return -EINVAL;
	vdev->core->acked_backend = features;
	return 0;
}

static long vhost_mdev_get_status(struct vhost_mdev_device *vdev,
				  struct vhost_mdev_vq *vq, void __user *argp)
{
	return put_user(vdev->ops->get_status(vdev), (u8 __user *)argp);
}

static long vhost_mdev_set_status(struct vhost_mdev_device *vdev,
				  struct vhost_mdev_vq *vq, void __user *argp)
{
	const struct vhost_mdev_ops *ops = vdev->ops;
	u8 status, old;

	if (get_user(status, (u8 __user *)argp))
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

/* Bounds of a config access, both sides of the buffer. */
static int vhost_mdev_config_check(struct vhost_mdev_device *vdev,
				   const struct vhost_vdpa_config *c)
{
	size_t size = vdev->ops->get_config_size(vdev);

	if (!c->len || c->off > size || c->len > size - c->off)
		return -EINVAL;
	return 0;
}

static long vhost_mdev_get_config(struct vhost_mdev_device *vdev,
				  struct vhost_mdev_vq *vq, void __user *argp)
{
	struct vhost_vdpa_config __user *c = argp;
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
				  struct vhost_mdev_vq *vq, void __user *argp)
{
	struct vhost_vdpa_config __user *c = argp;
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

static long vhost_mdev_set_config_call(struct vhost_mdev_device *vdev,
				       struct vhost_mdev_vq *vq,
				       void __user *argp)
{
	int fd;

	if (get_user(fd, (int __user *)argp))
		return -EFAULT;
	return vhost_mdev_set_config_eventfd(vdev, fd);
}

/*
 * After a successful return the device processes no more buffers and
 * VHOST_GET_VRING_BASE reports where each queue stopped. Suspending a device
 * that does not run is a no-op, as upstream.
 */
static long vhost_mdev_suspend(struct vhost_mdev_device *vdev,
			       struct vhost_mdev_vq *vq, void __user *argp)
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

static long vhost_mdev_resume(struct vhost_mdev_device *vdev,
			      struct vhost_mdev_vq *vq, void __user *argp)
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

static long vhost_mdev_get_device_id(struct vhost_mdev_device *vdev,
				     struct vhost_mdev_vq *vq,
				     void __user *argp)
{
	return vhost_mdev_put_u32(vdev->ops->get_device_id(vdev), argp);
}

static long vhost_mdev_get_vring_num(struct vhost_mdev_device *vdev,
				     struct vhost_mdev_vq *vq,
				     void __user *argp)
{
	return put_user(vdev->ops->get_vq_num_max(vdev), (u16 __user *)argp);
}

static long vhost_mdev_get_iova_range(struct vhost_mdev_device *vdev,
				      struct vhost_mdev_vq *vq,
				      void __user *argp)
{
	struct vhost_vdpa_iova_range range = {
		.first = vdev->core->range.first,
		.last = vdev->core->range.last,
	};

	return copy_to_user(argp, &range, sizeof(range)) ? -EFAULT : 0;
}

static long vhost_mdev_get_config_size(struct vhost_mdev_device *vdev,
				       struct vhost_mdev_vq *vq,
				       void __user *argp)
{
	return vhost_mdev_put_u32(vdev->ops->get_config_size(vdev), argp);
}

static long vhost_mdev_get_vqs_count(struct vhost_mdev_device *vdev,
				     struct vhost_mdev_vq *vq,
				     void __user *argp)
{
	return vhost_mdev_put_u32(vdev->nvqs, argp);
}

static long vhost_mdev_get_group_num(struct vhost_mdev_device *vdev,
				     struct vhost_mdev_vq *vq,
				     void __user *argp)
{
	return vhost_mdev_put_u32(vdev->ngroups, argp);
}

static long vhost_mdev_get_as_num(struct vhost_mdev_device *vdev,
				  struct vhost_mdev_vq *vq, void __user *argp)
{
	return vhost_mdev_put_u32(vdev->nas, argp);
}

static long vhost_mdev_set_group_asid(struct vhost_mdev_device *vdev,
				      struct vhost_mdev_vq *vq,
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

static long vhost_mdev_set_mem_table_ioctl(struct vhost_mdev_device *vdev,
					   struct vhost_mdev_vq *vq,
					   void __user *argp)
{
	return vhost_mdev_set_mem_table(vdev, argp);
}

/* Vring commands: the index in the argument was checked, @vq is its queue. */

static int vhost_mdev_get_state(void __user *argp, struct vhost_vring_state *s)
{
	return copy_from_user(s, argp, sizeof(*s)) ? -EFAULT : 0;
}

/* Answer a vring query: @num into the user's struct vhost_vring_state. */
static long vhost_mdev_put_num(struct vhost_mdev_vq *vq, u32 num,
			       void __user *argp)
{
	struct vhost_vring_state s = { .index = vq->idx, .num = num };

	return copy_to_user(argp, &s, sizeof(s)) ? -EFAULT : 0;
}

static long vhost_mdev_set_vring_kick(struct vhost_mdev_device *vdev,
				      struct vhost_mdev_vq *vq,
				      void __user *argp)
{
	struct vhost_vring_file f;

	if (copy_from_user(&f, argp, sizeof(f)))
		return -EFAULT;
	return vhost_mdev_set_kick(vq, f.fd);
}

static long vhost_mdev_set_vring_call(struct vhost_mdev_device *vdev,
				      struct vhost_mdev_vq *vq,
				      void __user *argp)
{
	struct vhost_vring_file f;

	if (copy_from_user(&f, argp, sizeof(f)))
		return -EFAULT;
	return vhost_mdev_set_call(vq, f.fd);
}

/* The largest ring queue @idx takes: its own size, or the device's. */
static u32 vhost_mdev_vq_size(struct vhost_mdev_device *vdev, u32 idx)
{
	const struct vhost_mdev_ops *ops = vdev->ops;

	return ops->get_vq_size ? ops->get_vq_size(vdev, idx) :
				  ops->get_vq_num_max(vdev);
}

static long vhost_mdev_set_vring_num(struct vhost_mdev_device *vdev,
				     struct vhost_mdev_vq *vq,
				     void __user *argp)
{
	struct vhost_vring_state s;

	/*
	 * A ring's size holds from DRIVER_OK to the reset, suspended or not:
	 * the parent sized its state for it (the simulator's packed-ring
	 * staging), and a virtio-pci function takes a queue's size only
	 * before the queue is enabled.
	 */
	if (vhost_mdev_driver_ok(vdev))
		return -EBUSY;
	if (vhost_mdev_get_state(argp, &s))
		return -EFAULT;
	if (!s.num || s.num > vhost_mdev_vq_size(vdev, vq->idx) ||
	    s.num > U16_MAX || !is_power_of_2(s.num))
		return -EINVAL;
	vq->num = s.num;
	vdev->ops->set_vq_num(vdev, vq->idx, s.num);
	return 0;
}

static long vhost_mdev_set_vring_addr(struct vhost_mdev_device *vdev,
				      struct vhost_mdev_vq *vq,
				      void __user *argp)
{
	struct vhost_vring_addr a;
	int ret;

	if (copy_from_user(&a, argp, sizeof(a)))
		return -EFAULT;
	/*
	 * VHOST_VRING_F_LOG asks for the used ring's writes to be logged at
	 * log_guest_addr; this device logs every write by IOVA, which is
	 * that address for QEMU 7.2 (IOVA = guest physical address).
	 */
	if (a.flags & ~BIT(VHOST_VRING_F_LOG) ||
	    (a.flags && !vhost_mdev_vhost_features(vdev)))
		return -EOPNOTSUPP;
	if (!IS_ALIGNED(a.desc_user_addr, VRING_DESC_ALIGN_SIZE) ||
	    !IS_ALIGNED(a.avail_user_addr, VRING_AVAIL_ALIGN_SIZE) ||
	    !IS_ALIGNED(a.used_user_addr, VRING_USED_ALIGN_SIZE) ||
	    !IS_ALIGNED(a.log_guest_addr, VRING_USED_ALIGN_SIZE))
		return -EINVAL;
	/* While it runs, only the log flag may change (QEMU's migration). */
	if (vhost_mdev_running(vdev))
		return a.desc_user_addr == vq->desc &&
		       a.avail_user_addr == vq->driver &&
		       a.used_user_addr == vq->device ? 0 : -EBUSY;
	ret = vdev->ops->set_vq_address(vdev, vq->idx, a.desc_user_addr,
					a.avail_user_addr, a.used_user_addr);
	if (ret)
		return ret;
	vq->desc = a.desc_user_addr;
	vq->driver = a.avail_user_addr;
	vq->device = a.used_user_addr;
	return 0;
}

static long vhost_mdev_set_vring_base(struct vhost_mdev_device *vdev,
				      struct vhost_mdev_vq *vq,
				      void __user *argp)
{
	struct vhost_vring_state s;
	int ret;

	if (vhost_mdev_get_state(argp, &s))
		return -EFAULT;
	/* Split rings have a 16-bit index; packed rings use all 32 bits. */
	if (s.num > U16_MAX && !(vdev->ops->get_driver_features(vdev) &
				 BIT_ULL(VIRTIO_F_RING_PACKED)))
		return -EINVAL;
	ret = vdev->ops->set_vq_state(vdev, vq->idx, s.num);
	if (!ret) {
		vq->base = s.num;
		vq->base_err = 0;
	}
	return ret;
}

/*
 * While the device runs, stop the queue (a device that can) and ask it; else
 * report what was set or captured. QEMU asks for the queues of all its
 * vhost devices but the last while they run, then resets the device: a
 * queue that went on would use buffers the index it was told does not
 * count, in guest memory that is migrated after.
 */
static long vhost_mdev_get_vring_base(struct vhost_mdev_device *vdev,
				      struct vhost_mdev_vq *vq,
				      void __user *argp)
{
	u32 num = vq->base;
	int ret;

	if (vhost_mdev_running(vdev)) {
		if (vdev->ops->stop_vq)
			vdev->ops->stop_vq(vdev, vq->idx);
		ret = vdev->ops->get_vq_state(vdev, vq->idx, &num);
		if (ret)
			return ret;
	} else if (vq->base_err) {
		return vq->base_err;
	}
	return vhost_mdev_put_num(vq, num, argp);
}

static long vhost_mdev_set_vring_enable(struct vhost_mdev_device *vdev,
					struct vhost_mdev_vq *vq,
					void __user *argp)
{
	struct vhost_vring_state s;

	if (vhost_mdev_get_state(argp, &s))
		return -EFAULT;
	if (s.num > 1)
		return -EINVAL;
	vdev->ops->set_vq_ready(vdev, vq->idx, s.num);
	return 0;
}

static long vhost_mdev_get_vring_group(struct vhost_mdev_device *vdev,
				       struct vhost_mdev_vq *vq,
				       void __user *argp)
{
	const struct vhost_mdev_ops *ops = vdev->ops;
	u32 group = ops->get_vq_group ? ops->get_vq_group(vdev, vq->idx) : 0;

	if (group >= vdev->ngroups)
		return -EIO;
	return vhost_mdev_put_num(vq, group, argp);
}

static long vhost_mdev_get_vring_desc_group(struct vhost_mdev_device *vdev,
					    struct vhost_mdev_vq *vq,
					    void __user *argp)
{
	u32 group;

	if (!vdev->ops->get_vq_desc_group)
		return -EOPNOTSUPP;
	group = vdev->ops->get_vq_desc_group(vdev, vq->idx);
	if (group >= vdev->ngroups)
		return -EIO;
	return vhost_mdev_put_num(vq, group, argp);
}

static long vhost_mdev_get_vring_size(struct vhost_mdev_device *vdev,
				      struct vhost_mdev_vq *vq,
				      void __user *argp)
{
	return vhost_mdev_put_num(vq, vhost_mdev_vq_size(vdev, vq->idx), argp);
}

/**
 * enum vhost_mdev_caller - who may make an ioctl
 * @VHOST_MDEV_ANYONE: anyone who holds the file
 * @VHOST_MDEV_OWNER_OR_NONE: anyone until there is an owner, then the owner
 *	(what clients do before VHOST_SET_OWNER: QEMU sets the status and
 *	reads features and config, DPDK reads the device id)
 * @VHOST_MDEV_OWNER: the owner
 * @VHOST_MDEV_OWNER_STOPPED: the owner, while the device does not run
 *	(-EBUSY otherwise)
 */
enum vhost_mdev_caller {
	VHOST_MDEV_ANYONE,
	VHOST_MDEV_OWNER_OR_NONE,
	VHOST_MDEV_OWNER,
	VHOST_MDEV_OWNER_STOPPED,
};

/**
 * struct vhost_mdev_ioctl - one ioctl of the uAPI
 * @cmd: its number
 * @caller: who may make it
 * @vring: its argument starts with a queue index, which is checked
 *	(-ENOBUFS beyond the queues) and names the queue the handler gets
 * @handler: what it does
 */
struct vhost_mdev_ioctl {
	unsigned int cmd;
	enum vhost_mdev_caller caller;
	bool vring;
	long (*handler)(struct vhost_mdev_device *vdev,
			struct vhost_mdev_vq *vq, void __user *argp);
};

#define VHOST_MDEV_IOCTL(_cmd, _caller, _handler) \
	{ .cmd = _cmd, .caller = _caller, .handler = _handler }
#define VHOST_MDEV_VRING_IOCTL(_cmd, _caller, _handler) \
	{ .cmd = _cmd, .caller = _caller, .vring = true, .handler = _handler }

/* Every ioctl, once. Anything else: -ENOTTY. */
static const struct vhost_mdev_ioctl vhost_mdev_ioctls[] = {
	VHOST_MDEV_IOCTL(VHOST_SET_OWNER, VHOST_MDEV_ANYONE,
			 vhost_mdev_set_owner),
	VHOST_MDEV_IOCTL(VHOST_RESET_OWNER, VHOST_MDEV_OWNER,
			 vhost_mdev_reset_owner),
	VHOST_MDEV_IOCTL(VHOST_GET_FEATURES, VHOST_MDEV_ANYONE,
			 vhost_mdev_get_features),
	VHOST_MDEV_IOCTL(VHOST_SET_FEATURES, VHOST_MDEV_OWNER_OR_NONE,
			 vhost_mdev_set_features),
	VHOST_MDEV_IOCTL(VHOST_GET_BACKEND_FEATURES, VHOST_MDEV_ANYONE,
			 vhost_mdev_get_backend_features),
	VHOST_MDEV_IOCTL(VHOST_SET_BACKEND_FEATURES, VHOST_MDEV_OWNER_OR_NONE,
			 vhost_mdev_set_backend_features),
	VHOST_MDEV_IOCTL(VHOST_SET_MEM_TABLE, VHOST_MDEV_OWNER,
			 vhost_mdev_set_mem_table_ioctl),
	VHOST_MDEV_IOCTL(VHOST_SET_LOG_BASE, VHOST_MDEV_OWNER,
			 vhost_mdev_set_log_base_ioctl),
	VHOST_MDEV_IOCTL(VHOST_SET_LOG_FD, VHOST_MDEV_ANYONE,
			 vhost_mdev_set_log_fd),
	VHOST_MDEV_IOCTL(VHOST_VDPA_GET_DEVICE_ID, VHOST_MDEV_ANYONE,
			 vhost_mdev_get_device_id),
	VHOST_MDEV_IOCTL(VHOST_VDPA_GET_STATUS, VHOST_MDEV_ANYONE,
			 vhost_mdev_get_status),
	VHOST_MDEV_IOCTL(VHOST_VDPA_SET_STATUS, VHOST_MDEV_OWNER_OR_NONE,
			 vhost_mdev_set_status),
	VHOST_MDEV_IOCTL(VHOST_VDPA_GET_CONFIG, VHOST_MDEV_ANYONE,
			 vhost_mdev_get_config),
	VHOST_MDEV_IOCTL(VHOST_VDPA_SET_CONFIG, VHOST_MDEV_OWNER_OR_NONE,
			 vhost_mdev_set_config),
	VHOST_MDEV_IOCTL(VHOST_VDPA_SET_CONFIG_CALL, VHOST_MDEV_OWNER_OR_NONE,
			 vhost_mdev_set_config_call),
	VHOST_MDEV_IOCTL(VHOST_VDPA_GET_VRING_NUM, VHOST_MDEV_ANYONE,
			 vhost_mdev_get_vring_num),
	VHOST_MDEV_IOCTL(VHOST_VDPA_GET_IOVA_RANGE, VHOST_MDEV_ANYONE,
			 vhost_mdev_get_iova_range),
	VHOST_MDEV_IOCTL(VHOST_VDPA_GET_CONFIG_SIZE, VHOST_MDEV_ANYONE,
			 vhost_mdev_get_config_size),
	VHOST_MDEV_IOCTL(VHOST_VDPA_GET_VQS_COUNT, VHOST_MDEV_ANYONE,
			 vhost_mdev_get_vqs_count),
	VHOST_MDEV_IOCTL(VHOST_VDPA_GET_GROUP_NUM, VHOST_MDEV_ANYONE,
			 vhost_mdev_get_group_num),
	VHOST_MDEV_IOCTL(VHOST_VDPA_GET_AS_NUM, VHOST_MDEV_ANYONE,
			 vhost_mdev_get_as_num),
	VHOST_MDEV_IOCTL(VHOST_VDPA_SET_GROUP_ASID, VHOST_MDEV_OWNER,
			 vhost_mdev_set_group_asid),
	VHOST_MDEV_IOCTL(VHOST_VDPA_SUSPEND, VHOST_MDEV_OWNER,
			 vhost_mdev_suspend),
	VHOST_MDEV_IOCTL(VHOST_VDPA_RESUME, VHOST_MDEV_OWNER,
			 vhost_mdev_resume),
	VHOST_MDEV_VRING_IOCTL(VHOST_SET_VRING_NUM, VHOST_MDEV_OWNER_STOPPED,
			       vhost_mdev_set_vring_num),
	VHOST_MDEV_VRING_IOCTL(VHOST_SET_VRING_ADDR, VHOST_MDEV_OWNER,
			       vhost_mdev_set_vring_addr),
	VHOST_MDEV_VRING_IOCTL(VHOST_SET_VRING_BASE, VHOST_MDEV_OWNER_STOPPED,
			       vhost_mdev_set_vring_base),
	VHOST_MDEV_VRING_IOCTL(VHOST_GET_VRING_BASE, VHOST_MDEV_OWNER,
			       vhost_mdev_get_vring_base),
	VHOST_MDEV_VRING_IOCTL(VHOST_SET_VRING_KICK, VHOST_MDEV_OWNER,
			       vhost_mdev_set_vring_kick),
	VHOST_MDEV_VRING_IOCTL(VHOST_SET_VRING_CALL, VHOST_MDEV_OWNER,
			       vhost_mdev_set_vring_call),
	VHOST_MDEV_VRING_IOCTL(VHOST_VDPA_SET_VRING_ENABLE, VHOST_MDEV_OWNER,
			       vhost_mdev_set_vring_enable),
	VHOST_MDEV_VRING_IOCTL(VHOST_VDPA_GET_VRING_GROUP, VHOST_MDEV_OWNER,
			       vhost_mdev_get_vring_group),
	VHOST_MDEV_VRING_IOCTL(VHOST_VDPA_GET_VRING_DESC_GROUP,
			       VHOST_MDEV_OWNER,
			       vhost_mdev_get_vring_desc_group),
	VHOST_MDEV_VRING_IOCTL(VHOST_VDPA_GET_VRING_SIZE, VHOST_MDEV_OWNER,
			       vhost_mdev_get_vring_size),
};

/* May the caller make @op? 0 or -EPERM / -EBUSY. */
static int vhost_mdev_caller_ok(struct vhost_mdev_device *vdev,
				const struct vhost_mdev_ioctl *op)
{
	struct mm_struct *owner = vdev->core->owner;

	switch (op->caller) {
	case VHOST_MDEV_ANYONE:
		return 0;
	case VHOST_MDEV_OWNER_OR_NONE:
		return !owner || owner == current->mm ? 0 : -EPERM;
	case VHOST_MDEV_OWNER:
		return owner && owner == current->mm ? 0 : -EPERM;
	case VHOST_MDEV_OWNER_STOPPED:
		if (!owner || owner != current->mm)
			return -EPERM;
		return vhost_mdev_running(vdev) ? -EBUSY : 0;
	}
	return -EPERM;
}

static long vhost_mdev_ioctl_locked(struct vhost_mdev_device *vdev,
				    unsigned int cmd, void __user *argp)
{
	const struct vhost_mdev_ioctl *op = NULL;
	struct vhost_mdev_vq *vq = NULL;
	unsigned int i;
	u32 idx;
	int ret;

	for (i = 0; i < ARRAY_SIZE(vhost_mdev_ioctls); i++)
		if (vhost_mdev_ioctls[i].cmd == cmd)
			op = &vhost_mdev_ioctls[i];
	if (!op)
		return -ENOTTY;
	ret = vhost_mdev_caller_ok(vdev, op);
	if (ret == -EPERM)
		return ret;

	if (op->vring) {
		if (get_user(idx, (u32 __user *)argp))
			return -EFAULT;
		if (idx >= vdev->nvqs)
			return -ENOBUFS;
		vq = &vdev->core->vqs[array_index_nospec(idx, vdev->nvqs)];
	}
	/* A bad queue index says so before a busy device does. */
	if (ret)
		return ret;
	return op->handler(vdev, vq, argp);
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
	struct vhost_mdev_core *core = container_of(inode->i_cdev,
						    struct vhost_mdev_core, cdev);
	struct vhost_mdev_device *vdev = core->vdev;
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
		memset(core->iotlb_msgs, 0, sizeof(core->iotlb_msgs));
		core->pin_pages = 0;
		core->pin_ns = 0;
		core->iommu_maps = 0;
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
