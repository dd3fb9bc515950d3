// SPDX-License-Identifier: GPL-2.0-only
/*
 * vhost-mdev simulator: virtio-net loopback.
 *
 * Every packet transmitted on queue pair N's transmit queue is received on
 * pair N's receive queue, byte for byte, behind a fresh virtio-net header:
 * the same device's (a loopback) or, with crossover=1, its peer's (two
 * devices joined by a cable).
 * Transmission waits for receive buffers instead of dropping (a loopback
 * with flow control), so a test can count on every packet arriving. With
 * hub=1 every device is on one segment instead, as on QEMU's hub: what one
 * sends, all the others that run receive, on the same pair (or the first)
 * and a device without room drops it, so that a migration's source,
 * destination and peer can all be there at once. The control queue takes
 * VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET and refuses the rest. The MAC address and
 * the MTU are the administrator's to set, in the mdev's sysfs directory,
 * before the device is opened (upstream: vdpa dev add ... mac ... mtu).
 */

#include <linux/etherdevice.h>
#include <linux/ethtool.h>
#include <linux/module.h>
#include <linux/vhost_mdev_sim.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_net.h>

#include "sim.h"

/* Packets per transmit queue, commands per control queue, per pass. */
#define VMDEV_SIM_NET_BUDGET		64
#define VMDEV_SIM_NET_CTRL_BUDGET	16
#define VMDEV_SIM_NET_HDR_LEN		sizeof(struct virtio_net_hdr_v1)
/* Largest frame without GSO (not offered): 64 KiB is generous. */
#define VMDEV_SIM_NET_MAX_FRAME		SZ_64K
/* Frames from this long go from guest memory to guest memory (loopback). */
#define VMDEV_SIM_NET_COPYBREAK		256
#define VMDEV_SIM_NET_MTU		1500
#define VMDEV_SIM_NET_MAX_PAIRS		8
#define VMDEV_SIM_NET_VQ_NUM_MAX	1024

#define VMDEV_SIM_NET_FEATURES	(BIT_ULL(VIRTIO_F_VERSION_1) |		\
				 BIT_ULL(VIRTIO_F_ACCESS_PLATFORM) |	\
				 BIT_ULL(VIRTIO_NET_F_MAC) |		\
				 BIT_ULL(VIRTIO_NET_F_STATUS) |		\
				 BIT_ULL(VIRTIO_NET_F_MTU) |		\
				 BIT_ULL(VIRTIO_NET_F_MRG_RXBUF) |	\
				 BIT_ULL(VIRTIO_NET_F_CTRL_VQ) |	\
				 BIT_ULL(VIRTIO_NET_F_MQ) |		\
				 BIT_ULL(VIRTIO_F_RING_PACKED))

/* Data queues in one group (and address space), the control queue in another. */
#define VMDEV_SIM_NET_DATA_GROUP	0
#define VMDEV_SIM_NET_CVQ_GROUP		1

static unsigned int pairs = 2;
module_param(pairs, uint, 0444);
MODULE_PARM_DESC(pairs, "Queue pairs of each net device, 1-8 (default 2)");

static unsigned int max_devices = 4;
module_param(max_devices, uint, 0444);
MODULE_PARM_DESC(max_devices, "How many simulated devices may exist at once (default 4)");

static bool crossover;
module_param(crossover, bool, 0444);
MODULE_PARM_DESC(crossover, "Join devices in pairs, in creation order: what one transmits the other receives (default: each loops back to itself)");

static bool hub;
module_param(hub, bool, 0444);
MODULE_PARM_DESC(hub, "Put all devices on one segment: what one transmits every other receives, dropped where there is no room (not with crossover)");

/* A narrower IOVA window makes the simulator look like IOMMU hardware. */
static unsigned long long iova_first;
module_param(iova_first, ullong, 0444);
MODULE_PARM_DESC(iova_first, "First IOVA the devices accept (default 0)");

static unsigned long long iova_last = U64_MAX;
module_param(iova_last, ullong, 0444);
MODULE_PARM_DESC(iova_last, "Last IOVA the devices accept (default all)");

/**
 * struct vmdev_sim_net - the net type's own state
 * @active_pairs: queue pairs the driver asked for (VQ_PAIRS_SET)
 * @tx: the transmit chain being taken
 * @rx: a receive chain being filled
 * @rx_first: the first chain of a frame that spans several (for its
 *	header, written last)
 * @bounce: the frame on its way from one to the other, after the header
 *	it gets when it fits in one receive buffer (set at creation, never
 *	written again)
 */
struct vmdev_sim_net {
	u16 active_pairs;
	struct vmdev_sim_chain tx;
	struct vmdev_sim_chain rx;
	struct vmdev_sim_chain rx_first;
	u8 bounce[VMDEV_SIM_NET_HDR_LEN + VMDEV_SIM_NET_MAX_FRAME];
};

static u32 vmdev_sim_net_pairs(void)
{
	return clamp(pairs, 1U, VMDEV_SIM_NET_MAX_PAIRS);
}

/* Without MQ the control queue follows the first pair (virtio spec). */
static u16 vmdev_sim_net_cvq(struct vmdev_sim *sim)
{
	if (sim->features & BIT_ULL(VIRTIO_NET_F_MQ))
		return 2 * vmdev_sim_net_pairs();
	return 2;
}

static void vmdev_sim_net_init(struct vmdev_sim *sim, unsigned int instance)
{
	struct virtio_net_config *config = sim->config;
	struct vmdev_sim_net *net = sim->priv;

	/* The header of every frame that fits in one receive buffer. */
	*(struct virtio_net_hdr_v1 *)net->bounce = (struct virtio_net_hdr_v1) {
		.num_buffers = (__force __virtio16)cpu_to_le16(1),
	};

	/* Locally administered, "VM", then the instance number. */
	config->mac[0] = 0x02;
	config->mac[1] = 0x56;
	config->mac[2] = 0x4d;
	config->mac[4] = instance >> 8;
	config->mac[5] = instance;
	config->status = (__force __virtio16)cpu_to_le16(VIRTIO_NET_S_LINK_UP);
	config->max_virtqueue_pairs =
		(__force __virtio16)cpu_to_le16(vmdev_sim_net_pairs());
	config->mtu = (__force __virtio16)cpu_to_le16(VMDEV_SIM_NET_MTU);
	config->speed = cpu_to_le32(SPEED_UNKNOWN);
	config->duplex = DUPLEX_UNKNOWN;
}

/* MQ needs the control queue, which sets the pairs. */
static bool vmdev_sim_net_features_ok(struct vmdev_sim *sim, u64 features)
{
	return !(features & BIT_ULL(VIRTIO_NET_F_MQ)) ||
	       (features & BIT_ULL(VIRTIO_NET_F_CTRL_VQ));
}

static void vmdev_sim_net_reset(struct vmdev_sim *sim)
{
	struct vmdev_sim_net *net = sim->priv;

	net->active_pairs = 1;
}

static u32 vmdev_sim_net_vq_group(struct vmdev_sim *sim, u16 idx)
{
	if ((sim->features & BIT_ULL(VIRTIO_NET_F_CTRL_VQ)) &&
	    idx == vmdev_sim_net_cvq(sim))
		return VMDEV_SIM_NET_CVQ_GROUP;
	return VMDEV_SIM_NET_DATA_GROUP;
}

/* Only the MAC address is the driver's to write. */
static void vmdev_sim_net_set_config(struct vmdev_sim *sim,
				     unsigned int offset, const void *buf,
				     unsigned int len)
{
	struct virtio_net_config *config = sim->config;

	if (offset >= ETH_ALEN)
		return;
	memcpy(config->mac + offset, buf, min(len, ETH_ALEN - offset));
}

/*
 * A frame a loopback device receives straight from its transmit chain:
 * @chain of queue @tx, after the chain's header.
 */
struct vmdev_sim_net_src {
	const struct vmdev_sim_chain *chain;
	u16 tx;
};

/*
 * Copy the frame of @src, @len bytes, into the bounce buffer; the device
 * broke when its transmit buffer is not mapped.
 */
static int vmdev_sim_net_fill(struct vmdev_sim *sim,
			      const struct vmdev_sim_net_src *src, u32 len)
{
	struct vmdev_sim_net *net = sim->priv;
	int ret;

	ret = vmdev_sim_chain_read(sim, src->tx, src->chain,
				   VMDEV_SIM_NET_HDR_LEN,
				   net->bounce + VMDEV_SIM_NET_HDR_LEN, len);
	if (ret)
		vmdev_sim_broken(sim, src->tx, "buffer not mapped", ret);
	return ret;
}

/*
 * Receive @len bytes of @frame on queue @rx, after a fresh header. The
 * %VMDEV_SIM_NET_HDR_LEN bytes before @frame hold the header of a frame
 * in one buffer: the two go in one write then. With @src the frame is
 * still in the transmit chain (@frame is the bounce buffer, not filled):
 * from %VMDEV_SIM_NET_COPYBREAK bytes on, into one receive buffer, it is
 * copied from there, guest memory to guest memory (which saves a copy but
 * costs a second translation); otherwise through @frame. Return 1 when it
 * was received, 0 when there are not enough receive buffers yet (nothing
 * taken), -E2BIG when the driver's buffers cannot hold it (nothing taken),
 * another -errno when the device broke.
 */
static int vmdev_sim_net_receive(struct vmdev_sim *sim, u16 rx,
				 const u8 *frame, u32 len, u16 *taken,
				 int avail, const struct vmdev_sim_net_src *src)
{
	struct vmdev_sim_net *net = sim->priv;
	bool mrg = sim->features & BIT_ULL(VIRTIO_NET_F_MRG_RXBUF);
	struct virtio_net_hdr_v1 hdr = {};
	u32 done = 0, room, n, hdr_room = VMDEV_SIM_NET_HDR_LEN;
	u16 first = *taken, nbufs = 0;
	int ret;

	if (src && len < VMDEV_SIM_NET_COPYBREAK) {
		ret = vmdev_sim_net_fill(sim, src, len);
		if (ret)
			return ret;
		src = NULL;
	}
	while (!nbufs || done < len) {
		if (*taken >= avail) {
			ret = 0;
			goto rollback;
		}
		/* The header goes into the first buffer, once they are counted. */
		if (nbufs == 1)
			net->rx_first = net->rx;
		ret = vmdev_sim_vq_chain(sim, rx, *taken, &net->rx);
		if (ret)
			return ret;
		if (net->rx.nout) {
			vmdev_sim_broken(sim, rx, "readable receive buffer",
					 -EIO);
			return -EIO;
		}
		ret = -E2BIG;
		if (net->rx.in_len < hdr_room)
			goto rollback;
		room = net->rx.in_len - hdr_room;
		if (!mrg && room < len)
			goto rollback;
		if (!nbufs && room >= len) {
			ret = vmdev_sim_chain_write(sim, rx, &net->rx, 0,
						    frame - hdr_room,
						    hdr_room + (src ? 0 : len));
			if (!ret && src)
				ret = vmdev_sim_chain_move(sim, rx, &net->rx,
							   hdr_room, src->tx,
							   src->chain,
							   VMDEV_SIM_NET_HDR_LEN,
							   len);
			if (ret)
				goto broken;
			ret = vmdev_sim_vq_push(sim, rx, &net->rx,
						hdr_room + len);
			if (ret)
				return ret;
			(*taken)++;
			return 1;
		}
		if (src) {
			ret = vmdev_sim_net_fill(sim, src, len);
			if (ret)
				return ret;
			src = NULL;
		}
		n = min(room, len - done);
		ret = vmdev_sim_chain_write(sim, rx, &net->rx, hdr_room,
					    frame + done, n);
		if (ret)
			goto broken;
		ret = vmdev_sim_vq_push(sim, rx, &net->rx, hdr_room + n);
		if (ret)
			return ret;
		done += n;
		hdr_room = 0;
		nbufs++;
		(*taken)++;
	}

	hdr.num_buffers = (__force __virtio16)cpu_to_le16(nbufs);
	ret = vmdev_sim_chain_write(sim, rx, nbufs == 1 ? &net->rx :
				    &net->rx_first, 0, &hdr, sizeof(hdr));
	if (ret)
		goto broken;
	return 1;

broken:
	vmdev_sim_broken(sim, rx, "buffer not mapped", ret);
	return ret;
rollback:
	vmdev_sim_vq_unpush(sim, rx, nbufs);
	*taken = first;
	return ret;
}

/*
 * Take the @nth available transmit chain of queue @tx and, unless @direct
 * (vmdev_sim_net_receive() takes the frame from the chain), copy its frame
 * into the bounce buffer. Return the frame's length, -EINVAL for a
 * malformed packet (dropped, as a NIC would), another -errno when the
 * device broke.
 */
static int vmdev_sim_net_take(struct vmdev_sim *sim, u16 tx, u16 nth,
			      bool direct)
{
	struct vmdev_sim_net *net = sim->priv;
	struct vmdev_sim_net_src src = { .chain = &net->tx, .tx = tx };
	u32 len;
	int ret;

	ret = vmdev_sim_vq_chain(sim, tx, nth, &net->tx);
	if (ret)
		return ret;
	if (net->tx.nout != net->tx.nseg ||
	    net->tx.out_len < VMDEV_SIM_NET_HDR_LEN ||
	    net->tx.out_len - VMDEV_SIM_NET_HDR_LEN > VMDEV_SIM_NET_MAX_FRAME)
		return -EINVAL;
	len = net->tx.out_len - VMDEV_SIM_NET_HDR_LEN;
	if (!direct) {
		ret = vmdev_sim_net_fill(sim, &src, len);
		if (ret)
			return ret;
	}
	return len;
}

/*
 * Move frames from transmit queue @tx of @tsim to receive queue @rx of
 * @rsim: the same device in a loopback, its peer when crossed over. Both
 * device locks are held. Returns true if work is left.
 */
static bool vmdev_sim_net_link(struct vmdev_sim *rsim, u16 rx,
			       struct vmdev_sim *tsim, u16 tx)
{
	struct vmdev_sim_vq *txq = &tsim->vqs[tx], *rxq = &rsim->vqs[rx];
	struct vmdev_sim_net *tnet = tsim->priv;
	/* A loopback copies each frame once; a pair, through the bounce. */
	struct vmdev_sim_net_src src = { .chain = &tnet->tx, .tx = tx };
	bool direct = rsim == tsim;
	u16 sent = 0, taken = 0;
	int ntx, nrx, len, ret;

	if (!vmdev_sim_vq_usable(txq) || !vmdev_sim_vq_usable(rxq))
		return false;
	ntx = vmdev_sim_vq_avail(tsim, tx);
	if (ntx <= 0)
		return false;
	nrx = vmdev_sim_vq_avail(rsim, rx);
	if (nrx < 0)
		return false;

	while (sent < ntx && sent < VMDEV_SIM_NET_BUDGET) {
		len = vmdev_sim_net_take(tsim, tx, sent, direct);
		if (len < 0 && len != -EINVAL)
			return false;
		if (len >= 0) {
			ret = vmdev_sim_net_receive(rsim, rx, tnet->bounce +
						    VMDEV_SIM_NET_HDR_LEN, len,
						    &taken, nrx,
						    direct ? &src : NULL);
			/* No receive buffer yet: the frame waits for one. */
			if (!ret) {
				rsim->stats.waits++;
				break;
			}
			if (ret < 0 && ret != -E2BIG)
				return false;
		}
		ret = vmdev_sim_vq_push(tsim, tx, &tnet->tx, 0);
		if (ret)
			return false;
		sent++;
	}

	vmdev_sim_vq_take(tsim, tx, sent);
	vmdev_sim_vq_take(rsim, rx, taken);
	if (sent) {
		ret = vmdev_sim_vq_publish(tsim, tx);
		if (ret)
			return false;
	}
	if (taken) {
		ret = vmdev_sim_vq_publish(rsim, rx);
		if (ret)
			return false;
	}

	/* Left: budget ran out, not a wait for receive buffers. */
	return sent == VMDEV_SIM_NET_BUDGET && sent < ntx;
}

static u8 vmdev_sim_net_command(struct vmdev_sim *sim, u16 cvq, u8 class,
				u8 cmd)
{
	struct vmdev_sim_net *net = sim->priv;
	__le16 vqp;

	if (class == VIRTIO_NET_CTRL_MQ &&
	    cmd == VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET &&
	    (sim->features & BIT_ULL(VIRTIO_NET_F_MQ))) {
		if (vmdev_sim_chain_read(sim, cvq, &net->tx,
					 sizeof(struct virtio_net_ctrl_hdr),
					 &vqp, sizeof(vqp)))
			return VIRTIO_NET_ERR;
		if (!le16_to_cpu(vqp) ||
		    le16_to_cpu(vqp) > vmdev_sim_net_pairs())
			return VIRTIO_NET_ERR;
		net->active_pairs = le16_to_cpu(vqp);
		return VIRTIO_NET_OK;
	}
	return VIRTIO_NET_ERR;
}

/* Answer control commands; true if work is left. */
static bool vmdev_sim_net_ctrl(struct vmdev_sim *sim)
{
	struct vmdev_sim_net *net = sim->priv;
	u16 cvq = vmdev_sim_net_cvq(sim), done = 0;
	struct virtio_net_ctrl_hdr ctrl;
	int avail;
	u8 ack;

	if (!(sim->features & BIT_ULL(VIRTIO_NET_F_CTRL_VQ)) ||
	    !vmdev_sim_vq_usable(&sim->vqs[cvq]))
		return false;
	avail = vmdev_sim_vq_avail(sim, cvq);
	if (avail <= 0)
		return false;

	while (done < avail && done < VMDEV_SIM_NET_CTRL_BUDGET) {
		if (vmdev_sim_vq_chain(sim, cvq, done, &net->tx))
			return false;
		ack = VIRTIO_NET_ERR;
		if (!vmdev_sim_chain_read(sim, cvq, &net->tx, 0, &ctrl,
					  sizeof(ctrl)))
			ack = vmdev_sim_net_command(sim, cvq, ctrl.class,
						    ctrl.cmd);
		if (net->tx.in_len < sizeof(ack) ||
		    vmdev_sim_chain_write(sim, cvq, &net->tx, 0, &ack,
					  sizeof(ack))) {
			vmdev_sim_broken(sim, cvq, "no room for the ack",
					 -EFAULT);
			return false;
		}
		if (vmdev_sim_vq_push(sim, cvq, &net->tx, sizeof(ack)))
			return false;
		done++;
	}

	vmdev_sim_vq_take(sim, cvq, done);
	if (vmdev_sim_vq_publish(sim, cvq))
		return false;
	return done < avail;
}

/**
 * struct vmdev_sim_net_frame - a frame on a hub, on its way to the others
 * @data: its bytes, after room for a header (vmdev_sim_net_receive())
 * @len: how many
 * @pair: the queue pair it was sent on
 */
struct vmdev_sim_net_frame {
	const u8 *data;
	u32 len;
	u16 pair;
};

/* Receive a hub's frame on the same pair, or the first; drop it without room. */
static void vmdev_sim_net_hub_receive(struct vmdev_sim *to, void *arg)
{
	const struct vmdev_sim_net_frame *f = arg;
	struct vmdev_sim_net *net = to->priv;
	u16 rx = 2 * (f->pair < net->active_pairs ? f->pair : 0), taken = 0;
	int avail, ret;

	if (!vmdev_sim_vq_usable(&to->vqs[rx]))
		goto drop;
	avail = vmdev_sim_vq_avail(to, rx);
	if (avail < 0)
		return;
	ret = vmdev_sim_net_receive(to, rx, f->data, f->len, &taken, avail,
				    NULL);
	if (ret < 0 && ret != -E2BIG)
		return;
	if (ret <= 0)
		goto drop;
	vmdev_sim_vq_take(to, rx, taken);
	vmdev_sim_vq_publish(to, rx);
	return;
drop:
	to->stats.dropped++;
}

/* Hub: send what transmit queue @tx of @sim has to every other device. */
static bool vmdev_sim_net_flood(struct vmdev_sim *sim, u16 tx)
{
	struct vmdev_sim_net *net = sim->priv;
	struct vmdev_sim_net_frame f = {
		.data = net->bounce + VMDEV_SIM_NET_HDR_LEN, .pair = tx / 2,
	};
	u16 sent = 0;
	int ntx, len;

	if (!vmdev_sim_vq_usable(&sim->vqs[tx]))
		return false;
	ntx = vmdev_sim_vq_avail(sim, tx);
	if (ntx <= 0)
		return false;

	while (sent < ntx && sent < VMDEV_SIM_NET_BUDGET) {
		len = vmdev_sim_net_take(sim, tx, sent, false);
		if (len < 0 && len != -EINVAL)
			return false;
		if (len >= 0) {
			f.len = len;
			vmdev_sim_hub_deliver(sim, vmdev_sim_net_hub_receive,
					      &f);
		}
		if (vmdev_sim_vq_push(sim, tx, &net->tx, 0))
			return false;
		sent++;
	}

	vmdev_sim_vq_take(sim, tx, sent);
	if (vmdev_sim_vq_publish(sim, tx))
		return false;
	return sent < ntx;
}

/*
 * What @sim transmits, @peer receives, and back when they differ; each
 * device's control queue. Without a running peer, only @sim's control
 * queue: frames wait for the peer. On a hub, what @sim transmits goes to
 * every other device.
 */
static bool vmdev_sim_net_process(struct vmdev_sim *sim, struct vmdev_sim *peer)
{
	bool more = vmdev_sim_net_ctrl(sim);
	u16 i;

	if (hub) {
		for (i = 0; i < vmdev_sim_net_pairs(); i++)
			more |= vmdev_sim_net_flood(sim, 2 * i + 1);
		return more;
	}
	if (!peer)
		return more;
	for (i = 0; i < vmdev_sim_net_pairs(); i++) {
		more |= vmdev_sim_net_link(peer, 2 * i, sim, 2 * i + 1);
		if (peer != sim)
			more |= vmdev_sim_net_link(sim, 2 * i, peer, 2 * i + 1);
	}
	if (peer != sim)
		more |= vmdev_sim_net_ctrl(peer);
	return more;
}

static struct vmdev_sim *vmdev_sim_net_of(struct device *dev)
{
	return container_of(dev_get_drvdata(dev), struct vmdev_sim, vdev);
}

static ssize_t mac_show(struct device *dev, struct device_attribute *attr,
			char *buf)
{
	struct vmdev_sim *sim = vmdev_sim_net_of(dev);
	struct virtio_net_config *config = sim->config;

	guard(mutex)(&sim->lock);
	return sysfs_emit(buf, "%pM\n", config->mac);
}

static int vmdev_sim_net_set_mac(struct vhost_mdev_device *vdev, void *arg)
{
	struct vmdev_sim *sim = container_of(vdev, struct vmdev_sim, vdev);
	struct virtio_net_config *config = sim->config;

	guard(mutex)(&sim->lock);
	ether_addr_copy(config->mac, arg);
	return 0;
}

/* A unicast address, set while the device is closed. */
static ssize_t mac_store(struct device *dev, struct device_attribute *attr,
			 const char *buf, size_t count)
{
	struct vmdev_sim *sim = vmdev_sim_net_of(dev);
	u8 mac[ETH_ALEN];
	int ret;

	/* mac_pton() reads the first 17 characters: nothing may follow. */
	if (!mac_pton(buf, mac) || !is_valid_ether_addr(mac) ||
	    (buf[3 * ETH_ALEN - 1] && strcmp(buf + 3 * ETH_ALEN - 1, "\n")))
		return -EINVAL;
	ret = vhost_mdev_while_closed(&sim->vdev, vmdev_sim_net_set_mac, mac);
	return ret ?: count;
}
static DEVICE_ATTR_RW(mac);

static ssize_t mtu_show(struct device *dev, struct device_attribute *attr,
			char *buf)
{
	struct vmdev_sim *sim = vmdev_sim_net_of(dev);
	struct virtio_net_config *config = sim->config;

	guard(mutex)(&sim->lock);
	return sysfs_emit(buf, "%u\n",
			  le16_to_cpu((__force __le16)config->mtu));
}

static int vmdev_sim_net_set_mtu(struct vhost_mdev_device *vdev, void *arg)
{
	struct vmdev_sim *sim = container_of(vdev, struct vmdev_sim, vdev);
	struct virtio_net_config *config = sim->config;

	guard(mutex)(&sim->lock);
	config->mtu = (__force __virtio16)cpu_to_le16(*(u16 *)arg);
	return 0;
}

/* What fits in a frame the device takes, set while the device is closed. */
static ssize_t mtu_store(struct device *dev, struct device_attribute *attr,
			 const char *buf, size_t count)
{
	struct vmdev_sim *sim = vmdev_sim_net_of(dev);
	u16 mtu;
	int ret;

	ret = kstrtou16(buf, 0, &mtu);
	if (ret)
		return ret;
	if (mtu < ETH_MIN_MTU || mtu > VMDEV_SIM_NET_MAX_FRAME - ETH_HLEN)
		return -EINVAL;
	ret = vhost_mdev_while_closed(&sim->vdev, vmdev_sim_net_set_mtu, &mtu);
	return ret ?: count;
}
static DEVICE_ATTR_RW(mtu);

static struct attribute *vmdev_sim_net_attrs[] = {
	&dev_attr_mac.attr,
	&dev_attr_mtu.attr,
	NULL
};
ATTRIBUTE_GROUPS(vmdev_sim_net);

/* The queue count depends on pairs=: filled in at load. */
static struct vmdev_sim_type vmdev_sim_net_type = {
	.name = "net",
	.pretty_name = "virtio-net loopback",
	.description = "net loopback",
	.device_id = VIRTIO_ID_NET,
	.features = VMDEV_SIM_NET_FEATURES,
	.config_size = sizeof(struct virtio_net_config),
	.priv_size = sizeof(struct vmdev_sim_net),
	.ngroups = 2,
	.nas = 2,
	.vq_num_max = VMDEV_SIM_NET_VQ_NUM_MAX,
	.init = vmdev_sim_net_init,
	.features_ok = vmdev_sim_net_features_ok,
	.reset = vmdev_sim_net_reset,
	.vq_group = vmdev_sim_net_vq_group,
	.process = vmdev_sim_net_process,
	.set_config = vmdev_sim_net_set_config,
	.mdev_groups = vmdev_sim_net_groups,
};

static struct vmdev_sim_parent *vmdev_sim_net_parent;

static int __init vmdev_sim_net_init_module(void)
{
	struct vmdev_sim_settings settings = {
		.max_devices = max_devices,
		.crossover = crossover,
		.hub = hub,
		.iova_first = iova_first,
		.iova_last = iova_last,
	};
	int ret;

	ret = vmdev_sim_core_init();
	if (ret)
		return ret;
	vmdev_sim_net_type.nvqs = 2 * vmdev_sim_net_pairs() + 1;
	vmdev_sim_net_parent = vmdev_sim_register("vhost_mdev_sim",
						  &vmdev_sim_net_type,
						  &settings);
	if (IS_ERR(vmdev_sim_net_parent)) {
		vmdev_sim_core_exit();
		return PTR_ERR(vmdev_sim_net_parent);
	}
	return 0;
}

static void __exit vmdev_sim_net_exit_module(void)
{
	vmdev_sim_unregister(vmdev_sim_net_parent);
	vmdev_sim_core_exit();
}

module_init(vmdev_sim_net_init_module);
module_exit(vmdev_sim_net_exit_module);

MODULE_LICENSE("GPL");
MODULE_VERSION(VHOST_MDEV_VERSION);
MODULE_DESCRIPTION("vhost-mdev simulator: a software virtio accelerator, and its virtio-net loopback");
