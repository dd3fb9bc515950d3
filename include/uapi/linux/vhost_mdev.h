/* SPDX-License-Identifier: GPL-2.0-only WITH Linux-syscall-note */
/*
 * vhost-mdev: the vhost-vdpa uAPI of <linux/vhost.h> on mediated devices.
 *
 * A vhost-mdev character device speaks <linux/vhost.h> unchanged: same ioctl
 * numbers and structures, IOTLB messages written with write(), doorbell pages
 * mapped at page offset = queue index. This header only adds what is specific
 * to vhost-mdev.
 */
#ifndef _UAPI_LINUX_VHOST_MDEV_H
#define _UAPI_LINUX_VHOST_MDEV_H

/*
 * The "device_api" attribute of every vhost-mdev mdev type: the device speaks
 * the vhost-vdpa uAPI.
 */
#define VHOST_MDEV_DEVICE_API_STRING	"vhost-vdpa"

/*
 * Most regions VHOST_SET_MEM_TABLE takes (more: -E2BIG). Each region becomes
 * an IOVA = guest physical address mapping of address space 0.
 */
#define VHOST_MDEV_MEM_MAX_NREGIONS	64

#endif /* _UAPI_LINUX_VHOST_MDEV_H */
