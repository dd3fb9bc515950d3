// SPDX-License-Identifier: GPL-2.0-only
/*
 * vhost-mdev core: mediated devices that speak the vhost-vdpa uAPI.
 *
 * This file owns the module-wide objects and the device lifecycle: the
 * character device region (named so that clients recognise vhost-vdpa
 * devices by it in /proc/devices), the "vhost-mdev" class, the mdev driver
 * that binds every mediated device created on an accelerator parent, and
 * the allocation, registration and removal of accelerator devices.
 */

#include <linux/cdev.h>
#include <linux/debugfs.h>
#include <linux/device.h>
#include <linux/fs.h>
#include <linux/idr.h>
#include <linux/iommu.h>
#include <linux/mdev.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/vhost_mdev.h>

#include "core.h"

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

unsigned int vhost_mdev_max_iotlb_entries = 65536;
module_param_named(max_iotlb_entries, vhost_mdev_max_iotlb_entries, uint, 0444);
MODULE_PARM_DESC(max_iotlb_entries,
		 "Most IOTLB entries (physically contiguous runs) per address space (default 65536)");

static dev_t vhost_mdev_devt;
static DEFINE_IDA(vhost_mdev_ida);
struct dentry *vhost_mdev_debugfs_root;

static vmdev_const_class struct class vhost_mdev_class = {
	.name = "vhost-mdev",
};

static struct vhost_mdev_parent *to_vhost_mdev_parent(struct mdev_type *mtype)
{
	return container_of(mtype->parent, struct vhost_mdev_parent,
			    mdev_parent);
}

static unsigned int vhost_mdev_type_index(struct vhost_mdev_parent *parent,
					  struct mdev_type *mtype)
{
	unsigned int i;

	for (i = 0; i < parent->ntypes; i++)
		if (parent->types[i] == mtype)
			break;
	return i;
}

/* The pairing rules of struct vhost_mdev_ops, checked once per device. */
static bool vhost_mdev_ops_valid(const struct vhost_mdev_ops *ops,
				 enum vhost_mdev_dma_model dma_model,
				 struct device *dma_dev, u32 nvqs, u32 ngroups,
				 u32 nas)
{
	if (!ops->set_vq_address || !ops->set_vq_num || !ops->kick_vq ||
	    !ops->set_vq_cb || !ops->set_vq_ready || !ops->get_vq_ready ||
	    !ops->set_vq_state || !ops->get_vq_state || !ops->get_device_id ||
	    !ops->get_device_features || !ops->set_driver_features ||
	    !ops->get_driver_features || !ops->get_vq_num_max ||
	    !ops->get_status || !ops->set_status || !ops->reset ||
	    !ops->get_config_size || !ops->get_config || !ops->set_config ||
	    !ops->set_config_cb)
		return false;
	if (ops->resume && !ops->suspend)
		return false;
	if (!nvqs || nvqs > U16_MAX + 1 || !ngroups || !nas)
		return false;
	if (ngroups > 1 && !ops->get_vq_group)
		return false;
	if (ops->get_vq_desc_group && !ops->get_vq_group)
		return false;
	if (nas > 1 && !ops->set_group_asid)
		return false;
	switch (dma_model) {
	case VHOST_MDEV_DMA_PLATFORM:
		return dma_dev && nas == 1 && ngroups == 1 &&
		       !ops->get_iova_range;
	case VHOST_MDEV_DMA_TRANSLATE:
		return true;
	}
	return false;
}

static void vhost_mdev_release_dev(struct device *dev)
{
	struct vhost_mdev_device *vdev =
		container_of(dev, struct vhost_mdev_device, dev);

	if (vdev->core) {
		kfree(vdev->core->iotlb);
		kfree(vdev->core);
	}
	kfree(vdev);
}

/**
 * __vhost_mdev_alloc_device - allocate an accelerator device
 * @mdev: the mdev being created
 * @ops: the device's operations
 * @dma_model: how the device reaches guest memory
 * @dma_dev: the device that DMAs (%VHOST_MDEV_DMA_PLATFORM), or NULL
 * @nvqs: number of virtqueues
 * @ngroups: number of virtqueue groups
 * @nas: number of address spaces
 * @size: size of the parent's structure, which starts with the
 *	&struct vhost_mdev_device
 *
 * Use vhost_mdev_alloc_device(). On success the device holds one reference;
 * a parent that fails after this drops it with vhost_mdev_put_device().
 *
 * Return: the device, or ERR_PTR(-EINVAL) for a malformed ops table or
 * counts, ERR_PTR(-ENOMEM).
 */
struct vhost_mdev_device *
__vhost_mdev_alloc_device(struct mdev_device *mdev,
			  const struct vhost_mdev_ops *ops,
			  enum vhost_mdev_dma_model dma_model,
			  struct device *dma_dev, u32 nvqs, u32 ngroups,
			  u32 nas, size_t size)
{
	struct vhost_mdev_device *vdev;
	struct vhost_mdev_core *core;
	u32 i;

	if (!vhost_mdev_ops_valid(ops, dma_model, dma_dev, nvqs, ngroups, nas))
		return ERR_PTR(-EINVAL);

	vdev = kzalloc(size, GFP_KERNEL);
	if (!vdev)
		return ERR_PTR(-ENOMEM);

	/* From here on put_device() frees whatever was allocated. */
	device_initialize(&vdev->dev);
	vdev->dev.release = vhost_mdev_release_dev;
	vdev->dev.parent = mdev_dev(mdev);
	vdev->dev.class = &vhost_mdev_class;
	vdev->mdev = mdev;
	vdev->ops = ops;
	vdev->dma_model = dma_model;
	vdev->dma_dev = dma_dev;
	vdev->nvqs = nvqs;
	vdev->ngroups = ngroups;
	vdev->nas = nas;

	core = kzalloc(struct_size(core, vqs, nvqs), GFP_KERNEL);
	if (!core)
		goto err_put;
	core->nvqs = nvqs;
	core->vdev = vdev;
	core->features_mask = U64_MAX;
	core->log_offered = true;
	vdev->core = core;
	core->iotlb = kcalloc(nas, sizeof(*core->iotlb), GFP_KERNEL);
	if (!core->iotlb)
		goto err_put;

	mutex_init(&core->lock);
	rwlock_init(&core->iotlb_lock);
	spin_lock_init(&core->config_lock);
	init_rwsem(&core->zap_sem);
	for (i = 0; i < nas; i++)
		vhost_iotlb_init(&core->iotlb[i], vhost_mdev_max_iotlb_entries,
				 0);
	vhost_iotlb_init(&core->iommu, UINT_MAX, 0);
	vhost_iotlb_init(&core->batch.added, vhost_mdev_max_iotlb_entries, 0);
	vhost_iotlb_init(&core->batch.dropped, vhost_mdev_max_iotlb_entries, 0);
	for (i = 0; i < nvqs; i++) {
		core->vqs[i].vdev = vdev;
		core->vqs[i].idx = i;
		vhost_mdev_vq_init(&core->vqs[i]);
	}

	return vdev;

err_put:
	put_device(&vdev->dev);
	return ERR_PTR(-ENOMEM);
}
EXPORT_SYMBOL_GPL(__vhost_mdev_alloc_device);

/**
 * vhost_mdev_put_device - drop a reference to an accelerator device
 * @vdev: the device
 *
 * For a parent's @create that fails after vhost_mdev_alloc_device(); the
 * core drops its own references itself.
 */
void vhost_mdev_put_device(struct vhost_mdev_device *vdev)
{
	put_device(&vdev->dev);
}
EXPORT_SYMBOL_GPL(vhost_mdev_put_device);

/**
 * vhost_mdev_while_closed - change a device that no client has open
 * @vdev: the device
 * @fn: what to do; nobody can open the device meanwhile
 * @arg: for @fn
 *
 * For a parent's sysfs attribute that changes what a client will find
 * (configuration space, a MAC address).
 *
 * Return: what @fn returned, -EBUSY (@fn not called) while the device is
 * open, -ENODEV when the mdev is going away.
 */
int vhost_mdev_while_closed(struct vhost_mdev_device *vdev,
			    int (*fn)(struct vhost_mdev_device *vdev, void *arg),
			    void *arg)
{
	struct vhost_mdev_core *core = vdev->core;

	guard(mutex)(&core->lock);
	if (core->dead)
		return -ENODEV;
	if (core->opened)
		return -EBUSY;
	return fn(vdev, arg);
}
EXPORT_SYMBOL_GPL(vhost_mdev_while_closed);

static int vhost_mdev_vqs_show(struct seq_file *s, void *unused)
{
	struct vhost_mdev_device *vdev = s->private;
	u32 i;

	seq_puts(s, "vq kicks calls\n");
	for (i = 0; i < vdev->nvqs; i++)
		seq_printf(s, "%u %lld %lld\n", i,
			   atomic64_read(&vdev->core->vqs[i].kicks),
			   atomic64_read(&vdev->core->vqs[i].calls));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vhost_mdev_vqs);

/* IOTLB messages since the device was opened: how often it was remapped. */
static int vhost_mdev_iotlb_msgs_show(struct seq_file *s, void *unused)
{
	struct vhost_mdev_core *core = ((struct vhost_mdev_device *)s->private)->core;

	mutex_lock(&core->lock);
	seq_printf(s, "updates %llu\ninvalidates %llu\nbatches %llu\n",
		   core->iotlb_msgs[VHOST_MDEV_UPDATES],
		   core->iotlb_msgs[VHOST_MDEV_INVALIDATES],
		   core->iotlb_msgs[VHOST_MDEV_BATCHES]);
	mutex_unlock(&core->lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vhost_mdev_iotlb_msgs);

/* Pages pinned for the IOTLB since the device was opened, and the time. */
static int vhost_mdev_pins_show(struct seq_file *s, void *unused)
{
	struct vhost_mdev_core *core = ((struct vhost_mdev_device *)s->private)->core;

	mutex_lock(&core->lock);
	seq_printf(s, "pages %llu\nns %llu\n", core->pin_pages, core->pin_ns);
	mutex_unlock(&core->lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vhost_mdev_pins);

/* What the driver negotiated and the device status: which layout, which offloads. */
static int vhost_mdev_features_show(struct seq_file *s, void *unused)
{
	struct vhost_mdev_device *vdev = s->private;
	struct vhost_mdev_core *core = vdev->core;

	guard(mutex)(&core->lock);
	if (core->dead)
		return -ENODEV;
	seq_printf(s, "driver_features %#llx\nstatus %#x\n",
		   vdev->ops->get_driver_features(vdev),
		   vdev->ops->get_status(vdev));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vhost_mdev_features);

/* Every IOTLB entry: one physically contiguous run of pinned pages. */
static int vhost_mdev_mappings_show(struct seq_file *s, void *unused)
{
	struct vhost_mdev_device *vdev = s->private;
	struct vhost_mdev_core *core = vdev->core;
	struct vhost_iotlb_map *map;
	u32 asid;

	seq_puts(s, "asid iova size perm\n");
	read_lock(&core->iotlb_lock);
	for (asid = 0; asid < vdev->nas; asid++)
		list_for_each_entry(map, &core->iotlb[asid].list, link)
			seq_printf(s, "%u %#llx %#llx %u\n", asid, map->start,
				   map->size, map->perm);
	read_unlock(&core->iotlb_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vhost_mdev_mappings);

/*
 * What the device's IOMMU domain maps, one line per mapping (none without a
 * domain), after the iommu_map_sg() calls since the device was opened.
 */
static int vhost_mdev_iommu_show(struct seq_file *s, void *unused)
{
	struct vhost_mdev_core *core = ((struct vhost_mdev_device *)s->private)->core;
	struct vhost_iotlb_map *map;

	mutex_lock(&core->lock);
	seq_printf(s, "maps %llu\niova size perm\n", core->iommu_maps);
	list_for_each_entry(map, &core->iommu.list, link)
		seq_printf(s, "%#llx %#llx %u\n", map->start, map->size,
			   map->perm);
	mutex_unlock(&core->lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vhost_mdev_iommu);

/* Ask the parent once for each doorbell: they must not move. */
static int vhost_mdev_get_doorbells(struct vhost_mdev_device *vdev)
{
	struct vhost_mdev_notify_area *area;
	u32 i;
	int ret;

	if (!vdev->ops->get_vq_notification)
		return 0;

	for (i = 0; i < vdev->nvqs; i++) {
		area = &vdev->core->vqs[i].notify;
		ret = vdev->ops->get_vq_notification(vdev, i, area);
		if (ret)
			return ret;
		/* Only a doorbell alone in its page may be mapped. */
		if (area->size != PAGE_SIZE || !PAGE_ALIGNED(area->addr))
			area->size = 0;
	}
	return 0;
}

static int vhost_mdev_register(struct vhost_mdev_device *vdev)
{
	struct vhost_mdev_core *core = vdev->core;
	int minor, ret;

	/* Only writes through vhost_mdev_iotlb_write() can be logged. */
	if (vdev->log_model == VHOST_MDEV_LOG_IOTLB_WRITES &&
	    vdev->dma_model != VHOST_MDEV_DMA_TRANSLATE)
		return -EINVAL;
	/* A relay needs rings of its own in the device's IOMMU domain. */
	if (vdev->log_model == VHOST_MDEV_LOG_SHADOW &&
	    (vdev->dma_model != VHOST_MDEV_DMA_PLATFORM ||
	     !vdev->ops->set_log_all || !vdev->shadow_size))
		return -EINVAL;
	if (!PAGE_ALIGNED(vdev->shadow_size))
		return -EINVAL;
	ret = vhost_mdev_get_doorbells(vdev);
	if (ret)
		return ret;

	minor = ida_alloc_max(&vhost_mdev_ida, VHOST_MDEV_MINORS - 1,
			      GFP_KERNEL);
	if (minor < 0)
		return minor;
	core->minor = minor;
	vdev->dev.devt = MKDEV(MAJOR(vhost_mdev_devt), minor);
	ret = dev_set_name(&vdev->dev, "vhost-mdev-%d", minor);
	if (ret)
		goto err_minor;

	ret = vhost_mdev_dma_init(vdev);
	if (ret)
		goto err_minor;

	cdev_init(&core->cdev, &vhost_mdev_fops);
	core->cdev.owner = THIS_MODULE;
	ret = cdev_device_add(&core->cdev, &vdev->dev);
	if (ret)
		goto err_dma;

	core->debugfs = debugfs_create_dir(dev_name(&vdev->dev),
					   vhost_mdev_debugfs_root);
	debugfs_create_file("vqs", 0444, core->debugfs, vdev,
			    &vhost_mdev_vqs_fops);
	debugfs_create_file("mappings", 0444, core->debugfs, vdev,
			    &vhost_mdev_mappings_fops);
	debugfs_create_file("iotlb_msgs", 0444, core->debugfs, vdev,
			    &vhost_mdev_iotlb_msgs_fops);
	debugfs_create_file("pins", 0444, core->debugfs, vdev,
			    &vhost_mdev_pins_fops);
	debugfs_create_file("iommu", 0444, core->debugfs, vdev,
			    &vhost_mdev_iommu_fops);
	debugfs_create_file("features", 0444, core->debugfs, vdev,
			    &vhost_mdev_features_fops);
	vhost_mdev_log_debugfs(vdev);
	if (vdev->ops->debugfs_init)
		vdev->ops->debugfs_init(vdev, core->debugfs);
	return 0;

err_dma:
	vhost_mdev_dma_exit(vdev);
err_minor:
	ida_free(&vhost_mdev_ida, minor);
	return ret;
}

/*
 * The mdev is going away. An open file keeps the structure, not the device:
 * stop the session now (the parent's resources go away after we return) and
 * let the file see -ENODEV until it is closed.
 */
static void vhost_mdev_unregister(struct vhost_mdev_device *vdev)
{
	struct vhost_mdev_core *core = vdev->core;

	cdev_device_del(&core->cdev, &vdev->dev);
	debugfs_remove_recursive(core->debugfs);

	mutex_lock(&core->lock);
	down_write(&core->zap_sem);
	core->dead = true;
	up_write(&core->zap_sem);
	if (core->opened)
		vhost_mdev_session_stop(vdev);
	mutex_unlock(&core->lock);

	vhost_mdev_dma_exit(vdev);
	ida_free(&vhost_mdev_ida, core->minor);
}

/*
 * Each mdev in an IOMMU group of its own, with no domain and no /dev/vfio
 * node, as VFIO gives its emulated-IOMMU mdevs: management software expects
 * every mdev to have one (libvirt's node device driver drops an mdev
 * without the iommu_group link). Its DMA goes through the parent's domain.
 * Without CONFIG_IOMMU_API there is no group to give.
 */
static int vhost_mdev_add_group(struct mdev_device *mdev)
{
	struct iommu_group *group = iommu_group_alloc();
	int ret;

	if (IS_ERR(group))
		return PTR_ERR(group) == -ENODEV ? 0 : PTR_ERR(group);
	ret = iommu_group_add_device(group, &mdev->dev);
	iommu_group_put(group);
	return ret;
}

static void vhost_mdev_remove_group(struct mdev_device *mdev)
{
	if (mdev->dev.iommu_group)
		iommu_group_remove_device(&mdev->dev);
}

static int vhost_mdev_probe(struct mdev_device *mdev)
{
	struct vhost_mdev_parent *parent = to_vhost_mdev_parent(mdev->type);
	struct vhost_mdev_device *vdev;
	int ret;

	ret = vhost_mdev_add_group(mdev);
	if (ret)
		return ret;

	vdev = parent->ops->create(parent, mdev,
				   vhost_mdev_type_index(parent, mdev->type));
	if (IS_ERR(vdev)) {
		ret = PTR_ERR(vdev);
		goto err_group;
	}

	ret = vhost_mdev_register(vdev);
	if (ret)
		goto err_create;

	dev_set_drvdata(&mdev->dev, vdev);
	if (parent->mdev_groups) {
		ret = sysfs_create_groups(&mdev->dev.kobj, parent->mdev_groups);
		if (ret) {
			dev_set_drvdata(&mdev->dev, NULL);
			vhost_mdev_unregister(vdev);
			goto err_create;
		}
	}
	return 0;

err_create:
	parent->ops->remove(parent, vdev);
	put_device(&vdev->dev);
err_group:
	vhost_mdev_remove_group(mdev);
	return ret;
}

static void vhost_mdev_remove(struct mdev_device *mdev)
{
	struct vhost_mdev_parent *parent = to_vhost_mdev_parent(mdev->type);
	struct vhost_mdev_device *vdev = dev_get_drvdata(&mdev->dev);

	if (parent->mdev_groups)
		sysfs_remove_groups(&mdev->dev.kobj, parent->mdev_groups);
	vhost_mdev_unregister(vdev);
	parent->ops->remove(parent, vdev);
	put_device(&vdev->dev);
	vhost_mdev_remove_group(mdev);
}

static unsigned int vhost_mdev_get_available(struct mdev_type *mtype)
{
	struct vhost_mdev_parent *parent = to_vhost_mdev_parent(mtype);

	return parent->ops->get_available(parent,
					  vhost_mdev_type_index(parent, mtype));
}

static ssize_t vhost_mdev_show_description(struct mdev_type *mtype, char *buf)
{
	struct vhost_mdev_parent *parent = to_vhost_mdev_parent(mtype);

	return parent->ops->show_description(parent,
					     vhost_mdev_type_index(parent, mtype),
					     buf);
}

static ssize_t device_features_show(struct device *dev,
				    struct device_attribute *attr, char *buf)
{
	struct vhost_mdev_device *vdev = dev_get_drvdata(dev);

	guard(mutex)(&vdev->core->lock);
	return sysfs_emit(buf, "0x%016llx\n", vhost_mdev_device_features(vdev));
}

/*
 * Offer fewer of the parent's features, as vdpa's device_features does: a
 * client that cannot take some (QEMU's x-svq=on refuses to start on a
 * device offering features it cannot shadow) gets an mdev without them.
 * A subset of the parent's features that keeps VERSION_1 and
 * ACCESS_PLATFORM, written while nobody has the device open.
 */
static ssize_t device_features_store(struct device *dev,
				     struct device_attribute *attr,
				     const char *buf, size_t count)
{
	struct vhost_mdev_device *vdev = dev_get_drvdata(dev);
	u64 offered = vdev->ops->get_device_features(vdev);
	u64 needed = offered & (BIT_ULL(VIRTIO_F_VERSION_1) |
				BIT_ULL(VIRTIO_F_ACCESS_PLATFORM));
	u64 features;
	int ret;

	ret = kstrtou64(buf, 0, &features);
	if (ret)
		return ret;
	if ((features & ~offered) || (features & needed) != needed)
		return -EINVAL;

	guard(mutex)(&vdev->core->lock);
	if (vdev->core->opened)
		return -EBUSY;
	vdev->core->features_mask = features;
	return count;
}
static DEVICE_ATTR_RW(device_features);

static ssize_t dirty_log_show(struct device *dev,
			      struct device_attribute *attr, char *buf)
{
	struct vhost_mdev_device *vdev = dev_get_drvdata(dev);

	guard(mutex)(&vdev->core->lock);
	return sysfs_emit(buf, "%d\n", !!vhost_mdev_vhost_features(vdev));
}

/*
 * Offer VHOST_F_LOG_ALL (1, the default where the parent can log: QEMU can
 * migrate the VM) or hide it (0: what QEMU 7.2's x-svq=on needs, which
 * refuses a device offering it), while nobody has the device open.
 */
static ssize_t dirty_log_store(struct device *dev,
			       struct device_attribute *attr,
			       const char *buf, size_t count)
{
	struct vhost_mdev_device *vdev = dev_get_drvdata(dev);
	bool on;
	int ret;

	ret = kstrtobool(buf, &on);
	if (ret)
		return ret;
	if (on && vdev->log_model == VHOST_MDEV_LOG_NONE)
		return -EOPNOTSUPP;

	guard(mutex)(&vdev->core->lock);
	if (vdev->core->opened)
		return -EBUSY;
	vdev->core->log_offered = on;
	return count;
}
static DEVICE_ATTR_RW(dirty_log);

static struct attribute *vhost_mdev_mdev_attrs[] = {
	&dev_attr_device_features.attr,
	&dev_attr_dirty_log.attr,
	NULL
};
ATTRIBUTE_GROUPS(vhost_mdev_mdev);

static struct mdev_driver vhost_mdev_driver = {
	.device_api = VHOST_MDEV_DEVICE_API_STRING,
	.probe = vhost_mdev_probe,
	.remove = vhost_mdev_remove,
	.get_available = vhost_mdev_get_available,
	.show_description = vhost_mdev_show_description,
	.driver = {
		.name = "vhost_mdev",
		.owner = THIS_MODULE,
		.mod_name = KBUILD_MODNAME,
		.dev_groups = vhost_mdev_mdev_groups,
	},
};

/**
 * vhost_mdev_register_parent - offer mdev types on an accelerator device
 * @parent: the parent, embedded in the driver's state of @dev
 * @dev: the accelerator's device; the driver holds a reference to it until
 *	vhost_mdev_unregister_parent() returns
 * @ops: the driver's callbacks, all mandatory
 * @types: the mdev types
 * @ntypes: how many
 *
 * Return: 0, -EINVAL for missing callbacks or no type, or the error of
 * mdev_register_parent().
 */
int vhost_mdev_register_parent(struct vhost_mdev_parent *parent,
			       struct device *dev,
			       const struct vhost_mdev_parent_ops *ops,
			       struct mdev_type **types, unsigned int ntypes)
{
	if (!ops->create || !ops->remove || !ops->get_available ||
	    !ops->show_description || !ntypes)
		return -EINVAL;

	parent->ops = ops;
	parent->types = types;
	parent->ntypes = ntypes;
	return mdev_register_parent(&parent->mdev_parent, dev,
				    &vhost_mdev_driver, types, ntypes);
}
EXPORT_SYMBOL_GPL(vhost_mdev_register_parent);

/**
 * vhost_mdev_unregister_parent - withdraw an accelerator's mdev types
 * @parent: the parent
 *
 * Removes every mdev of the parent first; files still open on them answer
 * -ENODEV from then on.
 */
void vhost_mdev_unregister_parent(struct vhost_mdev_parent *parent)
{
	mdev_unregister_parent(&parent->mdev_parent);
}
EXPORT_SYMBOL_GPL(vhost_mdev_unregister_parent);

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

	vhost_mdev_debugfs_root = debugfs_create_dir("vhost_mdev", NULL);

	ret = mdev_register_driver(&vhost_mdev_driver);
	if (ret)
		goto err_region;

	return 0;

err_region:
	debugfs_remove_recursive(vhost_mdev_debugfs_root);
	unregister_chrdev_region(vhost_mdev_devt, VHOST_MDEV_MINORS);
err_class:
	class_unregister(&vhost_mdev_class);
	return ret;
}

static void __exit vhost_mdev_exit(void)
{
	mdev_unregister_driver(&vhost_mdev_driver);
	debugfs_remove_recursive(vhost_mdev_debugfs_root);
	unregister_chrdev_region(vhost_mdev_devt, VHOST_MDEV_MINORS);
	class_unregister(&vhost_mdev_class);
}

module_init(vhost_mdev_init);
module_exit(vhost_mdev_exit);

MODULE_LICENSE("GPL");
MODULE_VERSION(VHOST_MDEV_VERSION);
MODULE_DESCRIPTION("vhost-vdpa uAPI on mediated devices");
