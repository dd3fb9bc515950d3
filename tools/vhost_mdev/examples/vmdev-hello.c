// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmdev-hello: the smallest complete vhost-mdev client. It brings a
 * virtio-net device up through the vhost-vdpa uAPI, step by step as
 * Documentation/userspace-api/vhost-mdev.rst numbers them, sends one frame
 * and waits for it to come back (the simulator loops transmit to receive).
 *
 *   vmdev-hello /dev/vhost-mdev-0
 *
 * Split rings of 16 entries, one page of memory each, IOVA = 1 MiB + offset.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/vhost.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#define NUM		16
#define PAGE		4096UL
#define IOVA		0x100000UL
#define HDR		sizeof(struct virtio_net_hdr_v1)

/* Guest memory: page 0-2 receive ring, 3-5 transmit ring, 6-7 buffers. */
struct ring {
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
};

static uint8_t *mem;

static uint64_t iova(const void *p)
{
	return IOVA + ((const uint8_t *)p - mem);
}

static void die(const char *what)
{
	fprintf(stderr, "vmdev-hello: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void step(int n, const char *what)
{
	printf("%2d. %s\n", n, what);
}

static void xioctl(int fd, unsigned long req, void *arg, const char *what)
{
	if (ioctl(fd, req, arg) < 0)
		die(what);
}

static void add_status(int fd, uint8_t bit)
{
	uint8_t st;

	xioctl(fd, VHOST_VDPA_GET_STATUS, &st, "GET_STATUS");
	st |= bit;
	xioctl(fd, VHOST_VDPA_SET_STATUS, &st, "SET_STATUS");
	xioctl(fd, VHOST_VDPA_GET_STATUS, &st, "GET_STATUS");
	if (!(st & bit)) {
		errno = EIO;
		die("the device refused a status bit");
	}
}

static void setup_ring(int fd, unsigned int idx, struct ring *r, int kick,
		       int call)
{
	struct vhost_vring_state num = { .index = idx, .num = NUM };
	struct vhost_vring_state base = { .index = idx, .num = 0 };
	struct vhost_vring_file k = { .index = idx, .fd = kick };
	struct vhost_vring_file c = { .index = idx, .fd = call };
	struct vhost_vring_addr addr = {
		.index = idx,
		.desc_user_addr = iova(r->desc),
		.avail_user_addr = iova(r->avail),
		.used_user_addr = iova(r->used),
	};

	xioctl(fd, VHOST_SET_VRING_NUM, &num, "SET_VRING_NUM");
	xioctl(fd, VHOST_SET_VRING_BASE, &base, "SET_VRING_BASE");
	xioctl(fd, VHOST_SET_VRING_ADDR, &addr, "SET_VRING_ADDR");
	xioctl(fd, VHOST_SET_VRING_KICK, &k, "SET_VRING_KICK");
	xioctl(fd, VHOST_SET_VRING_CALL, &c, "SET_VRING_CALL");
}

/* Make one buffer available: descriptor 0, then publish the index. */
static void post(struct ring *r, void *buf, uint32_t len, uint16_t flags)
{
	r->desc[0].addr = htole64(iova(buf));
	r->desc[0].len = htole32(len);
	r->desc[0].flags = htole16(flags);
	r->avail->ring[0] = 0;
	__atomic_store_n(&r->avail->idx, htole16(1), __ATOMIC_RELEASE);
}

int main(int argc, char **argv)
{
	uint64_t features, backend, one = 1, n;
	struct vhost_msg_v2 msg = { .type = VHOST_IOTLB_MSG_V2 };
	struct ring rx, tx;
	int fd, kick[2], call[2], i;
	uint8_t *rxbuf, *txbuf, enable_state;
	struct pollfd p;
	uint32_t len;

	if (argc != 2) {
		fprintf(stderr, "usage: vmdev-hello /dev/vhost-mdev-N\n");
		return 2;
	}

	step(1, "open the character device (one opener at a time)");
	fd = open(argv[1], O_RDWR);
	if (fd < 0)
		die(argv[1]);

	step(2, "become its owner");
	xioctl(fd, VHOST_SET_OWNER, NULL, "SET_OWNER");

	step(3, "IOTLB messages v2, batched");
	xioctl(fd, VHOST_GET_BACKEND_FEATURES, &backend,
	       "GET_BACKEND_FEATURES");
	backend &= (1ULL << VHOST_BACKEND_F_IOTLB_MSG_V2) |
		   (1ULL << VHOST_BACKEND_F_IOTLB_BATCH);
	xioctl(fd, VHOST_SET_BACKEND_FEATURES, &backend,
	       "SET_BACKEND_FEATURES");

	step(4, "reset, then ACKNOWLEDGE and DRIVER");
	enable_state = 0;
	xioctl(fd, VHOST_VDPA_SET_STATUS, &enable_state, "SET_STATUS");
	add_status(fd, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	add_status(fd, VIRTIO_CONFIG_S_DRIVER);

	step(5, "negotiate features: VERSION_1 and ACCESS_PLATFORM");
	xioctl(fd, VHOST_GET_FEATURES, &features, "GET_FEATURES");
	features &= (1ULL << VIRTIO_F_VERSION_1) |
		    (1ULL << VIRTIO_F_ACCESS_PLATFORM);
	xioctl(fd, VHOST_SET_FEATURES, &features, "SET_FEATURES");
	add_status(fd, VIRTIO_CONFIG_S_FEATURES_OK);

	step(6, "map memory: one IOTLB UPDATE (pinned, counted in VmPin)");
	mem = mmap(NULL, 8 * PAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (mem == MAP_FAILED)
		die("mmap");
	msg.iotlb.type = VHOST_IOTLB_UPDATE;
	msg.iotlb.iova = IOVA;
	msg.iotlb.size = 8 * PAGE;
	msg.iotlb.uaddr = (uintptr_t)mem;
	msg.iotlb.perm = VHOST_ACCESS_RW;
	if (write(fd, &msg, sizeof(msg)) != sizeof(msg))
		die("IOTLB UPDATE");

	step(7, "set up receive queue 0 and transmit queue 1");
	rx = (struct ring) { (void *)mem, (void *)(mem + PAGE),
			     (void *)(mem + 2 * PAGE) };
	tx = (struct ring) { (void *)(mem + 3 * PAGE), (void *)(mem + 4 * PAGE),
			     (void *)(mem + 5 * PAGE) };
	rxbuf = mem + 6 * PAGE;
	txbuf = mem + 7 * PAGE;
	for (i = 0; i < 2; i++) {
		kick[i] = eventfd(0, EFD_CLOEXEC);
		call[i] = eventfd(0, EFD_CLOEXEC);
		if (kick[i] < 0 || call[i] < 0)
			die("eventfd");
	}
	setup_ring(fd, 0, &rx, kick[0], call[0]);
	setup_ring(fd, 1, &tx, kick[1], call[1]);
	post(&rx, rxbuf, PAGE, VRING_DESC_F_WRITE);

	step(8, "enable both queues, then DRIVER_OK");
	for (i = 0; i < 2; i++) {
		struct vhost_vring_state s = { .index = i, .num = 1 };

		xioctl(fd, VHOST_VDPA_SET_VRING_ENABLE, &s, "SET_VRING_ENABLE");
	}
	add_status(fd, VIRTIO_CONFIG_S_DRIVER_OK);

	step(9, "send a frame: header, frame, make it available, kick");
	memset(txbuf, 0, HDR);
	memcpy(txbuf + HDR, "\xff\xff\xff\xff\xff\xff\x02\x00\x00\x00\x00\x01"
	       "\x88\xb5hello, vhost-mdev", 31);
	post(&tx, txbuf, HDR + 31, 0);
	if (write(kick[1], &one, sizeof(one)) != sizeof(one))
		die("kick");

	step(10, "wait for the receive interrupt (the call eventfd)");
	p = (struct pollfd) { .fd = call[0], .events = POLLIN };
	if (poll(&p, 1, 5000) != 1) {
		errno = ETIMEDOUT;
		die("receive");
	}
	if (read(call[0], &n, sizeof(n)) != sizeof(n))
		die("read call eventfd");
	len = le32toh(rx.used->ring[0].len);
	printf("    received %u bytes: \"%.17s\"\n", len - (uint32_t)HDR,
	       rxbuf + HDR + 14);

	step(11, "reset; close() unpins and unmaps everything");
	enable_state = 0;
	xioctl(fd, VHOST_VDPA_SET_STATUS, &enable_state, "SET_STATUS");
	close(fd);
	return len == HDR + 31 &&
	       !memcmp(rxbuf + HDR, txbuf + HDR, 31) ? 0 : 1;
}
