/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vhost-mdev on kernels older than the one it is written for (6.12):
 * Debian 12's 6.1. Kbuild includes this file before anything else in every
 * file of ours (-include), and puts compat/include/ on the include path
 * for kernels before 6.12. Each entry names the release that changed the
 * interface. Two helpers the drivers call exist on every kernel
 * (vmdev_platform_set_remove(), vmdev_const_class); the rest is defined
 * only before 6.12. In a kernel tree this file goes.
 */
#ifndef _VHOST_MDEV_COMPAT_H
#define _VHOST_MDEV_COMPAT_H

#include <linux/version.h>
#include <linux/platform_device.h>

/*
 * 6.11: platform_driver.remove returns void; before (since 6.3, and in
 * 6.1.y stable) such a callback was called remove_new.
 */
static inline void vmdev_platform_set_remove(struct platform_driver *drv,
					     void (*fn)(struct platform_device *))
{
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 11, 0)
	drv->remove_new = fn;
#else
	drv->remove = fn;
#endif
}

/* 6.4: struct class may be const (class_register() takes a const one). */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 4, 0)
#define vmdev_const_class
#else
#define vmdev_const_class	const
#endif

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 12, 0)

#include <linux/eventfd.h>
#include <linux/iommu.h>
#include <linux/mm.h>
#include <linux/vhost.h>

/*
 * 6.12: <asm/unaligned.h> moved to <linux/unaligned.h>: before, the file
 * of that name in compat/include/linux/ includes the old one.
 */

/* 6.11: iommu_paging_domain_alloc() replaced iommu_domain_alloc(bus). */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 11, 0)
static inline struct iommu_domain *iommu_paging_domain_alloc(struct device *dev)
{
	struct iommu_domain *domain = iommu_domain_alloc(dev->bus);

	return domain ? domain : ERR_PTR(-ENOMEM);
}
#endif

/* 6.8: eventfd_signal() lost its count argument (it was always 1 here). */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 8, 0)
#define eventfd_signal(ctx)	eventfd_signal((ctx), 1)
#endif

/*
 * uAPI constants of <linux/vhost.h> and <linux/vhost_types.h> newer than
 * the kernel: ours serves them all. 6.4: RESUME and ENABLE_AFTER_DRIVER_OK;
 * 6.7: IOTLB_PERSIST, DESC_ASID and GET_VRING_DESC_GROUP; 6.10:
 * GET_VRING_SIZE.
 */
#ifndef VHOST_BACKEND_F_RESUME
#define VHOST_BACKEND_F_RESUME			0x5
#endif
#ifndef VHOST_BACKEND_F_ENABLE_AFTER_DRIVER_OK
#define VHOST_BACKEND_F_ENABLE_AFTER_DRIVER_OK	0x6
#endif
#ifndef VHOST_BACKEND_F_DESC_ASID
#define VHOST_BACKEND_F_DESC_ASID		0x7
#endif
#ifndef VHOST_BACKEND_F_IOTLB_PERSIST
#define VHOST_BACKEND_F_IOTLB_PERSIST		0x8
#endif
#ifndef VHOST_VDPA_RESUME
#define VHOST_VDPA_RESUME		_IO(VHOST_VIRTIO, 0x7E)
#endif
#ifndef VHOST_VDPA_GET_VRING_DESC_GROUP
#define VHOST_VDPA_GET_VRING_DESC_GROUP	_IOWR(VHOST_VIRTIO, 0x7F, struct vhost_vring_state)
#endif
#ifndef VHOST_VDPA_GET_VRING_SIZE
#define VHOST_VDPA_GET_VRING_SIZE	_IOWR(VHOST_VIRTIO, 0x82, struct vhost_vring_state)
#endif

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 3, 0)
/* 6.3: iommu_map_sg() takes the allocation flags (it used GFP_KERNEL). */
#define iommu_map_sg(domain, iova, sg, nents, prot, gfp) \
	iommu_map_sg((domain), (iova), (sg), (nents), (prot))
/* And so does iommu_map(). */
#define iommu_map(domain, iova, paddr, size, prot, gfp) \
	iommu_map((domain), (iova), (paddr), (size), (prot))

/* 6.3: vm_flags_set() and vm_flags_clear(); vm_flags became read-only. */
static inline void vm_flags_set(struct vm_area_struct *vma, vm_flags_t flags)
{
	vma->vm_flags |= flags;
}

static inline void vm_flags_clear(struct vm_area_struct *vma, vm_flags_t flags)
{
	vma->vm_flags &= ~flags;
}
#endif

#endif /* before 6.12 */
#endif /* _VHOST_MDEV_COMPAT_H */
