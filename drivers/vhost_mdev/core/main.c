// SPDX-License-Identifier: GPL-2.0-only
/*
 * vhost-mdev core: mediated devices that speak the vhost-vdpa uAPI.
 *
 * This file owns the module-wide objects: the character device region whose
 * name starts with "vhost-vdpa" (clients such as DPDK recognise vhost-vdpa
 * devices by that name in /proc/devices), the "vhost-mdev" class and the mdev
 * driver that binds every mediated device created on an accelerator parent.
 */

#include <linux/cdev.h>
#include <linux/device.h>
#include <linux/fs.h>
#include <linux/mdev.h>
#include <linux/module.h>

#define VHOST_MDEV_CHRDEV_NAME	"vhost-vdpa-mdev"
#define VHOST_MDEV_MINORS	BIT(MINORBITS)

/*
 * Dynamic majors are handed out from the top of the range down, so a region
 * registered later gets a lower number and is listed first in /proc/devices.
 * DPDK takes the first "vhost-vdpa" line it finds there, so with upstream
 * vhost_vdpa loaded next to us only one of the two can be recognised. Taking
 * the lowest free dynamic major puts ours first whatever the load order;
 * major= picks another one.
 */
static unsigned int major;
module_param(major, uint, 0444);
MODULE_PARM_DESC(major, "Character device major (default: lowest free dynamic major)");

static dev_t vhost_mdev_devt;

static const struct class vhost_mdev_class = {
	.name = "vhost-mdev",
};

static int vhost_mdev_alloc_region(void)
{
	unsigned int m;
	int ret;

	if (major) {
		vhost_mdev_devt = MKDEV(major, 0);
		return register_chrdev_region(vhost_mdev_devt, VHOST_MDEV_MINORS,
					      VHOST_MDEV_CHRDEV_NAME);
	}

	for (m = CHRDEV_MAJOR_DYN_END; m <= CHRDEV_MAJOR_DYN_END + 20; m++) {
		vhost_mdev_devt = MKDEV(m, 0);
		ret = register_chrdev_region(vhost_mdev_devt, VHOST_MDEV_MINORS,
					     VHOST_MDEV_CHRDEV_NAME);
		if (!ret)
			return 0;
	}

	return alloc_chrdev_region(&vhost_mdev_devt, 0, VHOST_MDEV_MINORS,
				   VHOST_MDEV_CHRDEV_NAME);
}

static int __init vhost_mdev_init(void)
{
	int ret;

	ret = class_register(&vhost_mdev_class);
	if (ret)
		return ret;

	ret = vhost_mdev_alloc_region();
	if (ret)
		goto err_class;

	return 0;

err_class:
	class_unregister(&vhost_mdev_class);
	return ret;
}

static void __exit vhost_mdev_exit(void)
{
	unregister_chrdev_region(vhost_mdev_devt, VHOST_MDEV_MINORS);
	class_unregister(&vhost_mdev_class);
}

module_init(vhost_mdev_init);
module_exit(vhost_mdev_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("vhost-vdpa uAPI on mediated devices");
