// SPDX-License-Identifier: GPL-2.0-only
/*
 * Test-only irq bypass consumer, standing in for KVM, which registers its
 * consumer only with posted interrupts (not available in the nested test
 * VM). Opening /dev/vmdev-bypass-test and writing an eventfd's number
 * registers a consumer whose token is that eventfd, as KVM's irqfd does.
 * Reading returns what the irq bypass manager did, one line per event:
 *
 *   add irq=<irq> requested=<0|1>
 *   del irq=<irq> requested=<0|1>
 *
 * where requested says whether the producer's irq still had a handler at
 * that moment: a producer must be connected while its irq is live and
 * disconnected before the irq is freed.
 */

#include <linux/eventfd.h>
#include <linux/fs.h>
#include <linux/interrupt.h>
#include <linux/irqbypass.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#define VMDEV_BYPASS_LOG	4096

/**
 * struct vmdev_bypass - one open file's consumer
 * @consumer: the consumer, registered once an eventfd was written
 * @ctx: the eventfd, its token
 * @setup: serialises writes (the consumer is registered once)
 * @lock: protects @log and @len against the bypass callbacks
 * @len: bytes in @log
 * @log: the events
 */
struct vmdev_bypass {
	struct irq_bypass_consumer consumer;
	struct eventfd_ctx *ctx;
	struct mutex setup;	/* @ctx, @consumer */
	struct mutex lock;	/* @log vs the callbacks */
	size_t len;
	char log[VMDEV_BYPASS_LOG];
};

static void vmdev_bypass_log(struct vmdev_bypass *b, const char *what,
			     struct irq_bypass_producer *prod)
{
	mutex_lock(&b->lock);
	b->len += scnprintf(b->log + b->len, sizeof(b->log) - b->len,
			    "%s irq=%d requested=%d\n", what, prod->irq,
			    irq_has_action(prod->irq));
	mutex_unlock(&b->lock);
}

static int vmdev_bypass_add(struct irq_bypass_consumer *cons,
			    struct irq_bypass_producer *prod)
{
	vmdev_bypass_log(container_of(cons, struct vmdev_bypass, consumer),
			 "add", prod);
	return 0;
}

static void vmdev_bypass_del(struct irq_bypass_consumer *cons,
			     struct irq_bypass_producer *prod)
{
	vmdev_bypass_log(container_of(cons, struct vmdev_bypass, consumer),
			 "del", prod);
}

static int vmdev_bypass_open(struct inode *inode, struct file *file)
{
	struct vmdev_bypass *b = kzalloc(sizeof(*b), GFP_KERNEL);

	if (!b)
		return -ENOMEM;
	mutex_init(&b->setup);
	mutex_init(&b->lock);
	b->consumer.add_producer = vmdev_bypass_add;
	b->consumer.del_producer = vmdev_bypass_del;
	file->private_data = b;
	return 0;
}

static ssize_t vmdev_bypass_write(struct file *file, const char __user *buf,
				  size_t len, loff_t *ppos)
{
	struct vmdev_bypass *b = file->private_data;
	struct eventfd_ctx *ctx;
	int fd, ret;

	ret = kstrtoint_from_user(buf, len, 10, &fd);
	if (ret)
		return ret;
	ctx = eventfd_ctx_fdget(fd);
	if (IS_ERR(ctx))
		return PTR_ERR(ctx);

	/* Not b->lock: registering calls add_producer, which takes it. */
	mutex_lock(&b->setup);
	if (b->ctx) {
		ret = -EBUSY;
		goto out;
	}
	b->consumer.token = ctx;
	ret = irq_bypass_register_consumer(&b->consumer);
	if (!ret) {
		b->ctx = ctx;
		ctx = NULL;
	}
out:
	mutex_unlock(&b->setup);
	if (ctx)
		eventfd_ctx_put(ctx);
	return ret ? ret : len;
}

static ssize_t vmdev_bypass_read(struct file *file, char __user *buf,
				 size_t len, loff_t *ppos)
{
	struct vmdev_bypass *b = file->private_data;
	ssize_t ret;

	mutex_lock(&b->lock);
	ret = simple_read_from_buffer(buf, len, ppos, b->log, b->len);
	mutex_unlock(&b->lock);
	return ret;
}

static int vmdev_bypass_release(struct inode *inode, struct file *file)
{
	struct vmdev_bypass *b = file->private_data;

	if (b->ctx) {
		irq_bypass_unregister_consumer(&b->consumer);
		eventfd_ctx_put(b->ctx);
	}
	kfree(b);
	return 0;
}

static const struct file_operations vmdev_bypass_fops = {
	.owner = THIS_MODULE,
	.open = vmdev_bypass_open,
	.write = vmdev_bypass_write,
	.read = vmdev_bypass_read,
	.release = vmdev_bypass_release,
};

static struct miscdevice vmdev_bypass_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "vmdev-bypass-test",
	.fops = &vmdev_bypass_fops,
};

module_misc_device(vmdev_bypass_misc);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("vhost-mdev selftests: an irq bypass consumer that records");
