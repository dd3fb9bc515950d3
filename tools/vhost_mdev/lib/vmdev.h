/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * libvmdev: a small virtio-net driver in userspace over a vhost-vdpa style
 * character device (/dev/vhost-mdev-N, or upstream's /dev/vhost-vdpa-N), for
 * the selftests, the demo and the benchmarks.
 *
 * Functions return 0 (or a count) on success and -errno on failure; the
 * raw uAPI wrappers return exactly what the kernel said.
 */
#ifndef VMDEV_H
#define VMDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/vhost.h>
#include <linux/virtio_ring.h>

#define VMDEV_MAX_VQS		17	/* 8 pairs and a control queue */
#define VMDEV_NET_HDR_LEN	12	/* struct virtio_net_hdr_v1 */

/* --- mdev sysfs ------------------------------------------------------- */

/* The sysfs directory of the simulator's mdev parent. */
#define VMDEV_SIM_PARENT	"/sys/class/mdev_bus/vhost_mdev_sim"
#define VMDEV_SIM_NET_TYPE	"vhost_mdev_sim-net"

int vmdev_uuid_random(char uuid[37]);
/* echo $uuid > $parent/mdev_supported_types/$type/create */
int vmdev_mdev_create(const char *parent, const char *type, const char *uuid);
/* echo 1 > /sys/bus/mdev/devices/$uuid/remove */
int vmdev_mdev_remove(const char *uuid);
/* /dev/vhost-mdev-N of an mdev, found through its sysfs class device. */
int vmdev_mdev_node(const char *uuid, char *path, size_t len);
/* Read a sysfs/procfs file into @buf, trailing newlines removed. */
int vmdev_read_file(const char *path, char *buf, size_t len);
/* Write @val to a sysfs/procfs file: 0 or -errno. */
int vmdev_write_file(const char *path, const char *val);
/* Read $parent/mdev_supported_types/$type/$attr. */
int vmdev_type_attr(const char *parent, const char *type, const char *attr,
		    char *buf, size_t len);

/* --- raw uAPI ---------------------------------------------------------- */

int vmdev_ioctl(int fd, unsigned long request, void *arg);
/* One IOTLB message (struct vhost_msg_v2): bytes written or -errno. */
long vmdev_iotlb_msg(int fd, uint32_t asid, uint8_t type, uint64_t iova,
		     uint64_t size, uint64_t uaddr, uint8_t perm);
int vmdev_set_status(int fd, uint8_t status);
int vmdev_get_status(int fd, uint8_t *status);
int vmdev_vring_state(int fd, unsigned long request, unsigned int index,
		      unsigned int num);
int vmdev_vring_file(int fd, unsigned long request, unsigned int index,
		     int efd);
/* VmPin of this process, in kB; -errno if it cannot be read. */
long vmdev_vmpin_kb(void);

/* --- the driver -------------------------------------------------------- */

enum vmdev_map {
	VMDEV_MAP_IOTLB,	/* IOTLB v2 messages, batched */
	VMDEV_MAP_MEM_TABLE,	/* VHOST_SET_MEM_TABLE */
	VMDEV_MAP_IOTLB_ALONE,	/* one IOTLB v2 UPDATE, outside a batch */
};

/**
 * struct vmdev_opts - how to bring a device up
 * @features: virtio features wanted (VERSION_1 and ACCESS_PLATFORM are
 *	always asked for); what the device does not offer is left out
 * @pairs: queue pairs to use (> 1 needs MQ and CTRL_VQ)
 * @num: ring size
 * @rx_buf: receive buffer size
 * @mem_size: bytes of guest memory (0: enough for the rings and buffers)
 * @iova: IOVA of the memory's first byte
 * @map: how to tell the device about the memory
 * @hugepages: back the memory with 2 MiB hugetlb pages
 * @fragmented: back it with 4 KiB pages no two of which are physically
 *	adjacent, so that mapping it is one run (one IOTLB entry) per page
 * @doorbell: kick through the mmapped doorbell page, not the eventfd
 * @tx_split: send each packet as two descriptors (header, frame)
 * @tx_no_call: bind no call eventfd to transmit queues (no interrupt)
 * @hold: stop the bring-up just before DRIVER_OK; vmdev_go() goes on
 * @base: the index every ring starts at (VHOST_SET_VRING_BASE), e.g. near
 *	a byte boundary or the 16-bit wrap; on a packed ring (features with
 *	VIRTIO_F_RING_PACKED) the position, below @num, with both wrap
 *	counters set
 */
struct vmdev_opts {
	uint64_t features;
	unsigned int pairs;
	unsigned int num;
	unsigned int rx_buf;
	size_t mem_size;
	uint64_t iova;
	enum vmdev_map map;
	bool hugepages;
	bool fragmented;
	bool doorbell;
	bool tx_split;
	bool tx_no_call;
	bool hold;
	uint16_t base;
};

/*
 * A queue. On a packed ring @desc's memory is the descriptor ring
 * (@pdesc), @avail's the driver's event suppression and @used's the
 * device's; @avail_idx and @last_used are then ring positions, with their
 * wrap counters, and @ndesc says how many descriptors each buffer id took.
 */
struct vmdev_vq {
	unsigned int index;
	unsigned int num;
	struct vring_desc *desc;
	struct vring_packed_desc *pdesc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint16_t avail_idx;
	uint16_t last_used;
	bool avail_wrap;
	bool used_wrap;
	uint16_t *ndesc;
	uint64_t bufs_iova;
	uint16_t free_head;
	uint16_t nfree;
	uint16_t *next_free;
	uint8_t *bufs;
	unsigned int buf_size;
	int kick_fd;
	int call_fd;
	uint16_t *doorbell;
	uint64_t calls;
	uint64_t kicks;
	uint64_t kicks_skipped;	/* the device said not to (NO_NOTIFY, DISABLE) */
};

struct vmdev {
	int fd;
	uint64_t features;
	bool packed;	/* VIRTIO_F_RING_PACKED negotiated */
	uint64_t backend;
	unsigned int nvqs;	/* the device's */
	unsigned int pairs;
	unsigned int cvq;	/* index of the control queue, or -1u */
	struct vmdev_opts opts;
	uint8_t *mem;
	size_t mem_size;
	size_t mem_used;
	struct vmdev_vq vqs[VMDEV_MAX_VQS];
};

/* Memory the device may reach, carved from the mapped region. */
void *vmdev_alloc(struct vmdev *d, size_t size, size_t align);
uint64_t vmdev_iova(const struct vmdev *d, const void *p);

/* Rings, buffers and eventfds of queue @idx, in the memory (no ioctl). */
int vmdev_vq_alloc(struct vmdev *d, unsigned int idx, unsigned int buf_size);
/* SET_VRING_NUM, _BASE (0), _ADDR, _KICK and _CALL for queue @idx. */
int vmdev_vq_program(struct vmdev *d, unsigned int idx);
/* Make every buffer of receive queue @idx available. */
void vmdev_rx_fill(struct vmdev *d, unsigned int idx);
/*
 * What VHOST_GET_VRING_BASE reports for queue @idx of an in-order device
 * once every buffer it used has been seen by the driver: split, the used
 * index; packed, the used position and wrap counter, as both halves.
 */
uint32_t vmdev_vq_state(const struct vmdev *d, unsigned int idx);

/*
 * Make the chain @seg[0..@n) available on queue @idx as buffer @id, with no
 * check of what it says (split: descriptors @id on, their next fields as
 * given; packed: the next @n positions, the head's flags last), and kick:
 * for tests of what a device does with a bad chain. -EINVAL when it does
 * not fit in the ring.
 */
int vmdev_post_raw(struct vmdev *d, unsigned int idx,
		   const struct vring_desc *seg, unsigned int n, uint16_t id);

/* An empty driver, nothing open: what vmdev_close() can be called on. */
void vmdev_init(struct vmdev *d);
/* open() plus the whole bring-up to DRIVER_OK, receive buffers posted. */
int vmdev_open(struct vmdev *d, const char *path, const struct vmdev_opts *o);
/* The bring-up on an fd someone else opened. */
int vmdev_start(struct vmdev *d, int fd, const struct vmdev_opts *o);
/* The rest of a bring-up held before DRIVER_OK (opts.hold). */
int vmdev_go(struct vmdev *d);
/* Map the memory (again): after a reset that dropped it, or a second call. */
int vmdev_map_memory(struct vmdev *d);
/* Reset and unmap; leaves the fd open. */
void vmdev_stop(struct vmdev *d);
void vmdev_close(struct vmdev *d);

int vmdev_kick(struct vmdev *d, unsigned int vq);
/* Wait up to @timeout_ms for the call eventfd; 1, 0 on timeout, -errno. */
int vmdev_wait_call(struct vmdev *d, unsigned int vq, int timeout_ms);

/* Queue a frame on pair @pair; -EAGAIN when the ring is full. */
int vmdev_send(struct vmdev *d, unsigned int pair, const void *frame,
	       size_t len, bool kick);
/* Take back transmitted buffers; returns how many. */
int vmdev_tx_reclaim(struct vmdev *d, unsigned int pair);
/*
 * Take one received frame from pair @pair if there is one: its length,
 * -EAGAIN when none is ready, -EIO for a malformed one. Buffers go back to
 * the device.
 */
int vmdev_recv(struct vmdev *d, unsigned int pair, void *frame, size_t max);
/* Same, waiting for the call eventfd up to @timeout_ms. */
int vmdev_recv_wait(struct vmdev *d, unsigned int pair, void *frame,
		    size_t max, int timeout_ms);
/* A control queue command; the device's ack (0 = VIRTIO_NET_OK). */
int vmdev_ctrl(struct vmdev *d, uint8_t class, uint8_t cmd, const void *data,
	       size_t len);

/*
 * Kicks and calls of queue @vq of the device at @node (/dev/vhost-mdev-N)
 * so far, from its debugfs "vqs" file: 0, -ENOENT for no such queue or
 * -errno of opening the file.
 */
int vmdev_debugfs_vq(const char *node, unsigned int vq, long long *kicks,
		     long long *calls);
/*
 * The value of the line "@key <n>" of the debugfs file @file of the device
 * at @node (/dev/vhost-mdev-N), e.g. ("pins", "ns"), decimal or 0x hex; -1
 * if there is none.
 */
long long vmdev_debugfs_stat(const char *node, const char *file,
			     const char *key);

/* CLOCK_MONOTONIC, in ns. */
uint64_t vmdev_now_ns(void);
/* qsort()'s comparison of two uint64_t. */
int vmdev_cmp_u64(const void *a, const void *b);

#endif /* VMDEV_H */
