// SPDX-License-Identifier: GPL-2.0-only
/*
 * vhost-mdev PCI accelerator: binds PCI functions whose data path speaks
 * the virtio ring and offers one mdev per function.
 *
 * Functions in the ID table (Intel's IFC VF and its FPGA siblings) bind by
 * ID. Any other modern virtio-pci function binds only when an administrator
 * hands it over:
 *
 *   echo vhost_mdev_pci > /sys/bus/pci/devices/$BDF/driver_override
 *   echo $BDF > /sys/bus/pci/devices/$BDF/driver/unbind    # if bound
 *   echo $BDF > /sys/bus/pci/drivers_probe
 *
 * so a device another driver owns is never taken. The mdev's device DMAs
 * through the platform IOMMU (the core gives the function a domain of its
 * own), its queues' doorbells can be mapped into the guest when each sits
 * alone in a page, and each queue's MSI-X vector is offered to KVM through
 * the irq bypass manager.
 */

#include <linux/module.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>

#include "pci.h"

static struct vmdev_pci *to_vmdev_pci(struct vhost_mdev_parent *parent)
{
	return container_of(parent, struct vmdev_pci, parent);
}

static struct vhost_mdev_device *
vmdev_pci_create(struct vhost_mdev_parent *parent, struct mdev_device *mdev,
		 unsigned int type)
{
	struct vmdev_pci *fn = to_vmdev_pci(parent);
	struct vmdev_pci_dev *dev;
	u16 i;

	if (!atomic_add_unless(&fn->available, -1, 0))
		return ERR_PTR(-ENOSPC);

	dev = vhost_mdev_alloc_device(struct vmdev_pci_dev, vdev, mdev,
				      &vmdev_pci_ops, VHOST_MDEV_DMA_PLATFORM,
				      &fn->pdev->dev, fn->nvqs, 1, 1);
	if (IS_ERR(dev)) {
		atomic_inc(&fn->available);
		return ERR_CAST(dev);
	}

	dev->fn = fn;
	dev->config_irq = -1;
	init_waitqueue_head(&dev->relay_wq);
	/* Relaying a running queue takes resetting it alone. */
	if (fn->features & BIT_ULL(VIRTIO_F_RING_RESET)) {
		dev->vdev.log_model = VHOST_MDEV_LOG_SHADOW;
		dev->vdev.shadow_size = fn->nvqs * fn->slot;
	}
	dev->vqs = kcalloc(fn->nvqs, sizeof(*dev->vqs), GFP_KERNEL);
	if (!dev->vqs) {
		vhost_mdev_put_device(&dev->vdev);
		atomic_inc(&fn->available);
		return ERR_PTR(-ENOMEM);
	}
	for (i = 0; i < fn->nvqs; i++) {
		dev->vqs[i].dev = dev;
		dev->vqs[i].idx = i;
		dev->vqs[i].irq = -1;
		dev->vqs[i].vec = VIRTIO_MSI_NO_VECTOR;
	}
	return &dev->vdev;
}

/* The core reset the function and freed its vectors already. */
static void vmdev_pci_remove_dev(struct vhost_mdev_parent *parent,
				 struct vhost_mdev_device *vdev)
{
	struct vmdev_pci_dev *dev = to_vmdev_pci_dev(vdev);

	kfree(dev->vqs);
	atomic_inc(&dev->fn->available);
}

static unsigned int vmdev_pci_get_available(struct vhost_mdev_parent *parent,
					    unsigned int type)
{
	return atomic_read(&to_vmdev_pci(parent)->available);
}

static ssize_t vmdev_pci_show_description(struct vhost_mdev_parent *parent,
					  unsigned int type, char *buf)
{
	struct vmdev_pci *fn = to_vmdev_pci(parent);
	struct pci_dev *pdev = fn->pdev;
	unsigned int i, mappable = 0;
	int len;

	for (i = 0; i < fn->nvqs; i++)
		mappable += fn->hwq[i].mappable;
	len = sysfs_emit(buf, "%04x:%04x virtio %s function %s: ", pdev->vendor,
			 pdev->device, fn->type.sysfs_name, pci_name(pdev));
	/* virtio-net: receive/transmit pairs, then the control queue if any */
	if (fn->vp.id.device == VIRTIO_ID_NET)
		len += sysfs_emit_at(buf, len, "%u queue pair%s%s (%u vqs)",
				     fn->nvqs / 2, fn->nvqs / 2 == 1 ? "" : "s",
				     fn->nvqs % 2 ? " and a control queue" : "",
				     fn->nvqs);
	else
		len += sysfs_emit_at(buf, len, "%u vqs", fn->nvqs);
	return len + sysfs_emit_at(buf, len, ", %u mappable doorbells\n",
				   mappable);
}

static const struct vhost_mdev_parent_ops vmdev_pci_parent_ops = {
	.create = vmdev_pci_create,
	.remove = vmdev_pci_remove_dev,
	.get_available = vmdev_pci_get_available,
	.show_description = vmdev_pci_show_description,
};

static const char *vmdev_pci_type_name(u32 device_id)
{
	switch (device_id) {
	case VIRTIO_ID_NET:
		return "net";
	case VIRTIO_ID_BLOCK:
		return "blk";
	default:
		return "virtio";
	}
}

static int vmdev_pci_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct vmdev_pci *fn;
	int ret;

	fn = devm_kzalloc(&pdev->dev, sizeof(*fn), GFP_KERNEL);
	if (!fn)
		return -ENOMEM;
	fn->pdev = pdev;

	ret = pcim_enable_device(pdev);
	if (ret)
		return dev_err_probe(&pdev->dev, ret, "cannot enable\n");

	ret = vmdev_pci_hw_probe(fn);
	if (ret)
		return ret;

	atomic_set(&fn->available, 1);
	fn->type.sysfs_name = vmdev_pci_type_name(fn->vp.id.device);
	fn->type.pretty_name = fn->vp.id.device == VIRTIO_ID_NET ?
			       "virtio-net accelerator function" :
			       "virtio accelerator function";
	fn->types[0] = &fn->type;
	pci_set_drvdata(pdev, fn);

	ret = vhost_mdev_register_parent(&fn->parent, &pdev->dev,
					 &vmdev_pci_parent_ops, fn->types,
					 ARRAY_SIZE(fn->types));
	if (ret) {
		vmdev_pci_hw_remove(fn);
		return dev_err_probe(&pdev->dev, ret, "mdev parent\n");
	}
	return 0;
}

/*
 * Unbinding removes the mdev first: an open file is stopped at once and
 * answers -ENODEV; nothing waits for it.
 */
static void vmdev_pci_remove(struct pci_dev *pdev)
{
	struct vmdev_pci *fn = pci_get_drvdata(pdev);

	vhost_mdev_unregister_parent(&fn->parent);
	vmdev_pci_hw_remove(fn);
}

#define VMDEV_PCI_INTEL_SUB(device, subsystem)				\
	{ PCI_DEVICE_SUB(PCI_VENDOR_ID_REDHAT_QUMRANET, (device),	\
			 PCI_VENDOR_ID_INTEL, (subsystem)) }

/*
 * Only functions no other driver wants: the Intel FPGA virtio-net functions
 * that drivers/vdpa/ifcvf serves upstream, recognised by their Intel
 * subsystem IDs. Plain virtio devices come through driver_override.
 */
static const struct pci_device_id vmdev_pci_ids[] = {
	/* IFC VF (N3000): modern virtio-net with an Intel subsystem */
	VMDEV_PCI_INTEL_SUB(0x1041, 0x001a),
	/* C5000X-PL, F2000X-PL: transitional virtio-net with modern caps */
	VMDEV_PCI_INTEL_SUB(0x1000, VIRTIO_ID_NET),
	{ }
};
MODULE_DEVICE_TABLE(pci, vmdev_pci_ids);

static struct pci_driver vmdev_pci_driver = {
	.name = VMDEV_PCI_NAME,
	.id_table = vmdev_pci_ids,
	.probe = vmdev_pci_probe,
	.remove = vmdev_pci_remove,
};
module_pci_driver(vmdev_pci_driver);

MODULE_LICENSE("GPL");
MODULE_VERSION(VHOST_MDEV_VERSION);
MODULE_DESCRIPTION("vhost-mdev accelerator for virtio-ring PCI functions");
