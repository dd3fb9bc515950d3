// SPDX-License-Identifier: GPL-2.0-only
/*
 * Test-only second simulator type: a virtio entropy device whose one
 * queue's buffers it fills with a running byte counter (0, 1, 2, ...
 * across buffers), so a test can check every byte. It registers with the
 * simulator core like any type, without the core knowing it: the proof
 * that a new type touches no core file.
 */

#include <linux/module.h>
#include <linux/vhost_mdev_sim.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>

#define VMDEV_SIM_RNG_BUDGET	16

/**
 * struct vmdev_sim_rng - the type's own state
 * @next: the next byte of the counter
 * @chain: the chain being filled
 * @buf: its bytes
 */
struct vmdev_sim_rng {
	u8 next;
	struct vmdev_sim_chain chain;
	u8 buf[PAGE_SIZE];
};

static void vmdev_sim_rng_reset(struct vmdev_sim *sim)
{
	struct vmdev_sim_rng *rng = sim->priv;

	rng->next = 0;
}

/* Fill what the driver made available; true if work is left. */
static bool vmdev_sim_rng_process(struct vmdev_sim *sim,
				  struct vmdev_sim *peer)
{
	struct vmdev_sim_rng *rng = sim->priv;
	u32 len, i;
	int avail, done = 0;

	if (!vmdev_sim_vq_usable(&sim->vqs[0]))
		return false;
	avail = vmdev_sim_vq_avail(sim, 0);
	if (avail <= 0)
		return false;

	while (done < avail && done < VMDEV_SIM_RNG_BUDGET) {
		if (vmdev_sim_vq_chain(sim, 0, done, &rng->chain))
			return false;
		len = min_t(u32, rng->chain.in_len, sizeof(rng->buf));
		for (i = 0; i < len; i++)
			rng->buf[i] = rng->next++;
		if (vmdev_sim_chain_write(sim, 0, &rng->chain, 0, rng->buf,
					  len)) {
			vmdev_sim_broken(sim, 0, "buffer not mapped", -EFAULT);
			return false;
		}
		if (vmdev_sim_vq_push(sim, 0, &rng->chain, len))
			return false;
		done++;
	}
	vmdev_sim_vq_take(sim, 0, done);
	if (vmdev_sim_vq_publish(sim, 0))
		return false;
	return done < avail;
}

static const struct vmdev_sim_type vmdev_sim_rng_type = {
	.name = "rng",
	.pretty_name = "virtio entropy source (test)",
	.description = "entropy source",
	.device_id = VIRTIO_ID_RNG,
	.features = BIT_ULL(VIRTIO_F_VERSION_1) |
		    BIT_ULL(VIRTIO_F_ACCESS_PLATFORM),
	.priv_size = sizeof(struct vmdev_sim_rng),
	.nvqs = 1,
	.ngroups = 1,
	.nas = 1,
	.vq_num_max = 256,
	.reset = vmdev_sim_rng_reset,
	.process = vmdev_sim_rng_process,
};

static struct vmdev_sim_parent *vmdev_sim_rng_parent;

static int __init vmdev_sim_rng_init(void)
{
	struct vmdev_sim_settings settings = {
		.max_devices = 2,
		.iova_last = U64_MAX,
	};

	vmdev_sim_rng_parent = vmdev_sim_register("vhost_mdev_sim_rng",
						  &vmdev_sim_rng_type,
						  &settings);
	return PTR_ERR_OR_ZERO(vmdev_sim_rng_parent);
}

static void __exit vmdev_sim_rng_exit(void)
{
	vmdev_sim_unregister(vmdev_sim_rng_parent);
}

module_init(vmdev_sim_rng_init);
module_exit(vmdev_sim_rng_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Test-only vhost-mdev simulator type: a virtio entropy source");
