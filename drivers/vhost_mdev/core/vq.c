// SPDX-License-Identifier: GPL-2.0-only
/*
 * vhost-mdev core: a virtqueue's notifications in both directions.
 *
 * Kicks: the kick eventfd's wakeup calls the parent's kick op directly (no
 * worker in between), or the guest writes the doorbell page mapped into it.
 * Calls: the parent's callback signals the call eventfd; a parent that has a
 * Linux irq per virtqueue also gets an irq bypass producer whose token is
 * that eventfd, so KVM can post the interrupt without a host handler.
 */

#include <linux/file.h>
#include <linux/mm.h>
#include <linux/nospec.h>
#include <linux/vhost.h>

#include "core.h"

/* Pass a kick from the kick eventfd on to the parent, and count it. */
static void vhost_mdev_kick(struct vhost_mdev_vq *vq)
{
	atomic64_inc(&vq->kicks);
	vq->vdev->ops->kick_vq(vq->vdev, vq->idx);
}

static int vhost_mdev_kick_wakeup(wait_queue_entry_t *wait, unsigned int mode,
				  int sync, void *key)
{
	struct vhost_mdev_vq *vq = container_of(wait, struct vhost_mdev_vq,
						kick_wait);

	if (key_to_poll(key) & EPOLLIN)
		vhost_mdev_kick(vq);
	return 0;
}

static void vhost_mdev_kick_queue_proc(struct file *file,
				       wait_queue_head_t *wqh, poll_table *pt)
{
	struct vhost_mdev_vq *vq = container_of(pt, struct vhost_mdev_vq,
						kick_pt);

	vq->kick_wqh = wqh;
	add_wait_queue(wqh, &vq->kick_wait);
}

static irqreturn_t vhost_mdev_vq_cb(void *private)
{
	struct vhost_mdev_vq *vq = private;
	unsigned long flags;

	spin_lock_irqsave(&vq->call_lock, flags);
	if (vq->call_ctx) {
		eventfd_signal(vq->call_ctx);
		atomic64_inc(&vq->calls);
	}
	spin_unlock_irqrestore(&vq->call_lock, flags);

	return IRQ_HANDLED;
}

static irqreturn_t vhost_mdev_config_cb(void *private)
{
	struct vhost_mdev_core *core = private;
	unsigned long flags;

	spin_lock_irqsave(&core->config_lock, flags);
	if (core->config_ctx)
		eventfd_signal(core->config_ctx);
	spin_unlock_irqrestore(&core->config_lock, flags);

	return IRQ_HANDLED;
}

void vhost_mdev_vq_init(struct vhost_mdev_vq *vq)
{
	spin_lock_init(&vq->call_lock);
	init_waitqueue_func_entry(&vq->kick_wait, vhost_mdev_kick_wakeup);
	init_poll_funcptr(&vq->kick_pt, vhost_mdev_kick_queue_proc);
}

/*
 * Take the kick eventfd off our wait queue entry. Once remove_wait_queue()
 * returns, the wakeup (which runs under the same queue's lock) is neither
 * running nor going to run.
 */
static void vhost_mdev_kick_unbind(struct vhost_mdev_vq *vq)
{
	if (vq->kick_wqh) {
		remove_wait_queue(vq->kick_wqh, &vq->kick_wait);
		vq->kick_wqh = NULL;
	}
	if (vq->kick_ctx) {
		eventfd_ctx_put(vq->kick_ctx);
		vq->kick_ctx = NULL;
	}
}

/* Caller holds &vhost_mdev_core.lock. */
long vhost_mdev_set_kick(struct vhost_mdev_vq *vq, int fd)
{
	struct eventfd_ctx *ctx;
	struct file *file;
	__poll_t mask;

	lockdep_assert_held(&vq->vdev->core->lock);

	if (fd == VHOST_FILE_UNBIND) {
		vhost_mdev_kick_unbind(vq);
		return 0;
	}

	file = fget(fd);
	if (!file)
		return -EBADF;
	ctx = eventfd_ctx_fileget(file);
	if (IS_ERR(ctx)) {
		fput(file);
		return PTR_ERR(ctx);
	}

	vhost_mdev_kick_unbind(vq);
	/* Our reference keeps the eventfd's wait queue alive, not the file. */
	vq->kick_ctx = ctx;
	mask = vfs_poll(file, &vq->kick_pt);
	fput(file);

	/* A kick written before the eventfd was bound is not lost. */
	if (mask & EPOLLIN)
		vhost_mdev_kick(vq);
	return 0;
}

static void vhost_mdev_producer_on(struct vhost_mdev_vq *vq)
{
	struct vhost_mdev_device *vdev = vq->vdev;
	int irq, ret;

	if (vq->producer_on || !vq->call_ctx || !vdev->ops->get_vq_irq)
		return;

	irq = vdev->ops->get_vq_irq(vdev, vq->idx);
	if (irq < 0)
		return;

	vq->producer.token = vq->call_ctx;
	vq->producer.irq = irq;
	ret = irq_bypass_register_producer(&vq->producer);
	if (ret)
		dev_warn_ratelimited(&vdev->dev,
				     "vq %u: irq bypass producer for irq %d not registered: %d\n",
				     vq->idx, irq, ret);
	else
		vq->producer_on = true;
}

/*
 * Before the call eventfd changes, before a reset and before the parent
 * frees the irq: the consumer (KVM) must never be left with a stale token or
 * a freed irq.
 */
static void vhost_mdev_producer_off(struct vhost_mdev_vq *vq)
{
	if (!vq->producer_on)
		return;
	irq_bypass_unregister_producer(&vq->producer);
	vq->producer_on = false;
	vq->producer.token = NULL;
}

/* Caller holds &vhost_mdev_core.lock. */
void vhost_mdev_producers_on(struct vhost_mdev_device *vdev)
{
	u32 i;

	for (i = 0; i < vdev->nvqs; i++)
		vhost_mdev_producer_on(&vdev->core->vqs[i]);
}

/* Caller holds &vhost_mdev_core.lock. */
void vhost_mdev_producers_off(struct vhost_mdev_device *vdev)
{
	u32 i;

	for (i = 0; i < vdev->nvqs; i++)
		vhost_mdev_producer_off(&vdev->core->vqs[i]);
}

static void vhost_mdev_swap_call(struct vhost_mdev_vq *vq,
				 struct eventfd_ctx *ctx)
{
	struct vhost_mdev_callback cb = {
		.callback = ctx ? vhost_mdev_vq_cb : NULL,
		.private = vq,
	};
	unsigned long flags;

	vhost_mdev_producer_off(vq);

	spin_lock_irqsave(&vq->call_lock, flags);
	swap(ctx, vq->call_ctx);
	spin_unlock_irqrestore(&vq->call_lock, flags);
	/* The callback can no longer reach the old context. */
	if (ctx)
		eventfd_ctx_put(ctx);

	vq->vdev->ops->set_vq_cb(vq->vdev, vq->idx, &cb);
}

/* Caller holds &vhost_mdev_core.lock. */
long vhost_mdev_set_call(struct vhost_mdev_vq *vq, int fd)
{
	struct vhost_mdev_device *vdev = vq->vdev;
	struct eventfd_ctx *ctx = NULL;

	lockdep_assert_held(&vdev->core->lock);

	if (fd != VHOST_FILE_UNBIND) {
		ctx = eventfd_ctx_fdget(fd);
		if (IS_ERR(ctx))
			return PTR_ERR(ctx);
	}

	vhost_mdev_swap_call(vq, ctx);
	if (vhost_mdev_driver_ok(vdev))
		vhost_mdev_producer_on(vq);
	return 0;
}

/* Caller holds &vhost_mdev_core.lock. */
long vhost_mdev_set_config_eventfd(struct vhost_mdev_device *vdev, int fd)
{
	struct vhost_mdev_core *core = vdev->core;
	struct vhost_mdev_callback cb = {
		.callback = vhost_mdev_config_cb,
		.private = core,
	};
	struct eventfd_ctx *ctx = NULL;
	unsigned long flags;

	if (fd != VHOST_FILE_UNBIND) {
		ctx = eventfd_ctx_fdget(fd);
		if (IS_ERR(ctx))
			return PTR_ERR(ctx);
	}

	spin_lock_irqsave(&core->config_lock, flags);
	swap(ctx, core->config_ctx);
	spin_unlock_irqrestore(&core->config_lock, flags);
	if (ctx)
		eventfd_ctx_put(ctx);

	if (!core->config_ctx)
		cb.callback = NULL;
	vdev->ops->set_config_cb(vdev, &cb);
	return 0;
}

/**
 * vhost_mdev_rebind_callbacks - tell the parent again about bound eventfds
 * @vdev: the device, just reset
 *
 * A reset makes the parent forget its callbacks, the core keeps its eventfds
 * bound (as vhost does): hand the parent the callbacks again so a client
 * that does not rebind after a reset still gets its interrupts.
 */
void vhost_mdev_rebind_callbacks(struct vhost_mdev_device *vdev)
{
	struct vhost_mdev_core *core = vdev->core;
	struct vhost_mdev_callback cb;
	u32 i;

	for (i = 0; i < vdev->nvqs; i++) {
		if (!core->vqs[i].call_ctx)
			continue;
		cb.callback = vhost_mdev_vq_cb;
		cb.private = &core->vqs[i];
		vdev->ops->set_vq_cb(vdev, i, &cb);
	}
	if (core->config_ctx) {
		cb.callback = vhost_mdev_config_cb;
		cb.private = core;
		vdev->ops->set_config_cb(vdev, &cb);
	}
}

/* Unbind everything a virtqueue holds; caller holds &vhost_mdev_core.lock. */
void vhost_mdev_vq_release(struct vhost_mdev_vq *vq)
{
	vhost_mdev_kick_unbind(vq);
	if (vq->call_ctx)
		vhost_mdev_swap_call(vq, NULL);
}

/* Unbind the config eventfd; caller holds &vhost_mdev_core.lock. */
void vhost_mdev_config_release(struct vhost_mdev_device *vdev)
{
	if (vdev->core->config_ctx)
		vhost_mdev_set_config_eventfd(vdev, VHOST_FILE_UNBIND);
}

/*
 * Remove every doorbell page from the client's page tables. Caller holds
 * &vhost_mdev_core.zap_sem for writing, so no fault puts one back before it
 * lets go.
 */
void vhost_mdev_zap_doorbells(struct vhost_mdev_device *vdev)
{
	struct vhost_mdev_core *core = vdev->core;

	lockdep_assert_held_write(&core->zap_sem);
	if (core->mapping)
		unmap_mapping_range(core->mapping, 0, 0, true);
}

/*
 * Zap every doorbell mapping and let only @mm's fault in from now on (NULL:
 * nobody's). Caller holds &vhost_mdev_core.lock.
 */
void vhost_mdev_doorbells_for(struct vhost_mdev_device *vdev,
			      struct mm_struct *mm)
{
	struct vhost_mdev_core *core = vdev->core;

	lockdep_assert_held(&core->lock);
	down_write(&core->zap_sem);
	vhost_mdev_zap_doorbells(vdev);
	core->doorbell_mm = mm;
	up_write(&core->zap_sem);
}

/*
 * Only the owner's mm gets the page, and only until its session starts to
 * stop: a mapping left in another process, or written while the session
 * stops or after the mdev is gone, gets SIGBUS.
 */
static vm_fault_t vhost_mdev_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct vhost_mdev_device *vdev = vma->vm_file->private_data;
	struct vhost_mdev_core *core = vdev->core;
	unsigned long idx = array_index_nospec(vma->vm_pgoff, vdev->nvqs);
	vm_fault_t ret = VM_FAULT_SIGBUS;

	down_read(&core->zap_sem);
	if (vma->vm_mm == core->doorbell_mm)
		ret = vmf_insert_pfn(vma, vmf->address & PAGE_MASK,
				     PHYS_PFN(core->vqs[idx].notify.addr));
	up_read(&core->zap_sem);
	return ret;
}

static const struct vm_operations_struct vhost_mdev_vm_ops = {
	.fault = vhost_mdev_fault,
};

/*
 * Map queue vm_pgoff's doorbell page: one page, shared, write-only, never
 * inherited by a child, for the owner only, and only when the doorbell sits
 * alone in its page. It runs under mmap_lock, so it reads the owner and the
 * mdev's life under &vhost_mdev_core.zap_sem, not &vhost_mdev_core.lock
 * (the lock order: Documentation/driver-api/vhost-mdev.rst, Locking).
 */
int vhost_mdev_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct vhost_mdev_device *vdev = file->private_data;
	struct vhost_mdev_core *core = vdev->core;
	unsigned long idx = vma->vm_pgoff;
	int ret = 0;

	if (vma->vm_end - vma->vm_start != PAGE_SIZE)
		return -EINVAL;
	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	if (vma->vm_flags & (VM_READ | VM_EXEC))
		return -EINVAL;
	if (idx >= vdev->nvqs)
		return -EINVAL;
	idx = array_index_nospec(idx, vdev->nvqs);

	down_read(&core->zap_sem);
	if (core->dead)
		ret = -ENODEV;
	else if (core->doorbell_mm != current->mm)
		ret = -EPERM;
	up_read(&core->zap_sem);
	if (ret)
		return ret;
	if (core->vqs[idx].notify.size != PAGE_SIZE)
		return -EOPNOTSUPP;

	vma->vm_page_prot = pgprot_noncached(vma->vm_page_prot);
	vm_flags_set(vma, VM_IO | VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP |
		     VM_DONTCOPY);
	vm_flags_clear(vma, VM_MAYREAD | VM_MAYEXEC);
	vma->vm_ops = &vhost_mdev_vm_ops;
	return 0;
}
