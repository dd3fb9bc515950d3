// SPDX-License-Identifier: GPL-2.0-only
/*
 * libvmdev: a virtio-net driver in userspace over the vhost-vdpa uAPI.
 *
 * The bring-up follows Documentation/userspace-api/vhost-mdev.rst. Memory is
 * one mapping of this process; rings and buffers are carved from it and the
 * device sees it at opts.iova. Each ring slot owns a fixed buffer.
 */
#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <linux/vhost.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>

#include "vmdev.h"

#define VMDEV_PAGE	4096UL
#define VMDEV_HUGE	(2UL << 20)
#define VMDEV_TX_BUF	2048U
#define VMDEV_TX_SPLIT_OFF 64U

int vmdev_write_file(const char *path, const char *val)
{
	ssize_t n;
	int fd;

	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	n = n < 0 ? -errno : 0;
	close(fd);
	return n;
}

int vmdev_uuid_random(char uuid[37])
{
	ssize_t n;
	int fd;

	fd = open("/proc/sys/kernel/random/uuid", O_RDONLY);
	if (fd < 0)
		return -errno;
	n = read(fd, uuid, 36);
	close(fd);
	if (n != 36)
		return -EIO;
	uuid[36] = '\0';
	return 0;
}

int vmdev_mdev_create(const char *parent, const char *type, const char *uuid)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/mdev_supported_types/%s/create",
		 parent, type);
	return vmdev_write_file(path, uuid);
}

int vmdev_mdev_remove(const char *uuid)
{
	char path[256];

	snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s/remove", uuid);
	return vmdev_write_file(path, "1");
}

int vmdev_mdev_node(const char *uuid, char *path, size_t len)
{
	char dir[256];
	struct dirent *e;
	int ret = -ENOENT;
	DIR *d;

	snprintf(dir, sizeof(dir), "/sys/bus/mdev/devices/%s/vhost-mdev",
		 uuid);
	d = opendir(dir);
	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		if (!strncmp(e->d_name, "vhost-mdev-", 11)) {
			snprintf(path, len, "/dev/%s", e->d_name);
			ret = 0;
			break;
		}
	}
	closedir(d);
	return ret;
}

int vmdev_read_file(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	while (n && buf[n - 1] == '\n')
		n--;
	buf[n] = '\0';
	return 0;
}

int vmdev_type_attr(const char *parent, const char *type, const char *attr,
		    char *buf, size_t len)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/mdev_supported_types/%s/%s", parent,
		 type, attr);
	return vmdev_read_file(path, buf, len);
}

int vmdev_ioctl(int fd, unsigned long request, void *arg)
{
	return ioctl(fd, request, arg) < 0 ? -errno : 0;
}

long vmdev_iotlb_msg(int fd, uint32_t asid, uint8_t type, uint64_t iova,
		     uint64_t size, uint64_t uaddr, uint8_t perm)
{
	struct vhost_msg_v2 msg = {
		.type = VHOST_IOTLB_MSG_V2,
		.asid = asid,
		.iotlb = {
			.iova = iova,
			.size = size,
			.uaddr = uaddr,
			.perm = perm,
			.type = type,
		},
	};
	ssize_t n = write(fd, &msg, sizeof(msg));

	return n < 0 ? -errno : n;
}

int vmdev_set_status(int fd, uint8_t status)
{
	return vmdev_ioctl(fd, VHOST_VDPA_SET_STATUS, &status);
}

int vmdev_get_status(int fd, uint8_t *status)
{
	return vmdev_ioctl(fd, VHOST_VDPA_GET_STATUS, status);
}

int vmdev_vring_state(int fd, unsigned long request, unsigned int index,
		      unsigned int num)
{
	struct vhost_vring_state s = { .index = index, .num = num };

	return vmdev_ioctl(fd, request, &s);
}

int vmdev_vring_file(int fd, unsigned long request, unsigned int index,
		     int efd)
{
	struct vhost_vring_file f = { .index = index, .fd = efd };

	return vmdev_ioctl(fd, request, &f);
}

long vmdev_vmpin_kb(void)
{
	char line[256];
	long kb = -ENOENT;
	FILE *f;

	f = fopen("/proc/self/status", "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmPin: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

void *vmdev_alloc(struct vmdev *d, size_t size, size_t align)
{
	size_t off = (d->mem_used + align - 1) & ~(align - 1);

	if (off + size > d->mem_size)
		return NULL;
	d->mem_used = off + size;
	return d->mem + off;
}

uint64_t vmdev_iova(const struct vmdev *d, const void *p)
{
	return d->opts.iova + ((const uint8_t *)p - d->mem);
}

static int vmdev_add_status(struct vmdev *d, uint8_t bit)
{
	uint8_t status;
	int ret;

	ret = vmdev_get_status(d->fd, &status);
	if (!ret)
		ret = vmdev_set_status(d->fd, status | bit);
	if (!ret)
		ret = vmdev_get_status(d->fd, &status);
	if (!ret && !(status & bit))
		ret = -EIO;
	return ret;
}

int vmdev_map_memory(struct vmdev *d)
{
	struct {
		struct vhost_memory hdr;
		struct vhost_memory_region region;
	} table = {
		.hdr.nregions = 1,
		.region = {
			.guest_phys_addr = d->opts.iova,
			.memory_size = d->mem_size,
			.userspace_addr = (uintptr_t)d->mem,
		},
	};
	bool batch = d->backend & (1ULL << VHOST_BACKEND_F_IOTLB_BATCH) &&
		     d->opts.map == VMDEV_MAP_IOTLB;
	long n;

	if (d->opts.map == VMDEV_MAP_MEM_TABLE)
		return vmdev_ioctl(d->fd, VHOST_SET_MEM_TABLE, &table);

	if (batch) {
		n = vmdev_iotlb_msg(d->fd, 0, VHOST_IOTLB_BATCH_BEGIN, 0, 0, 0,
				    0);
		if (n < 0)
			return n;
	}
	n = vmdev_iotlb_msg(d->fd, 0, VHOST_IOTLB_UPDATE, d->opts.iova,
			    d->mem_size, (uintptr_t)d->mem, VHOST_ACCESS_RW);
	if (batch) {
		long end = vmdev_iotlb_msg(d->fd, 0, VHOST_IOTLB_BATCH_END, 0,
					   0, 0, 0);

		if (n >= 0 && end < 0)
			n = end;
	}
	return n < 0 ? n : 0;
}

static size_t vmdev_vq_bytes(unsigned int num, unsigned int buf)
{
	return 3 * VMDEV_PAGE + 16UL * num + 8UL * num + (size_t)num * buf +
	       VMDEV_PAGE;
}

int vmdev_vq_alloc(struct vmdev *d, unsigned int idx, unsigned int buf)
{
	struct vmdev_vq *vq = &d->vqs[idx];
	unsigned int i, slots;

	vq->index = idx;
	vq->num = d->opts.num;
	vq->buf_size = buf;
	vq->desc = vmdev_alloc(d, 16UL * vq->num, VMDEV_PAGE);
	vq->avail = vmdev_alloc(d, 6 + 2UL * vq->num, VMDEV_PAGE);
	vq->used = vmdev_alloc(d, 6 + 8UL * vq->num, VMDEV_PAGE);
	vq->bufs = vmdev_alloc(d, (size_t)vq->num * buf, 64);
	vq->next_free = calloc(vq->num, sizeof(*vq->next_free));
	vq->ndesc = calloc(vq->num, sizeof(*vq->ndesc));
	if (!vq->desc || !vq->avail || !vq->used || !vq->bufs ||
	    !vq->next_free || !vq->ndesc)
		return -ENOMEM;
	vq->pdesc = (struct vring_packed_desc *)vq->desc;
	vq->bufs_iova = vmdev_iova(d, vq->bufs);

	/* Transmit slots with a split header take two descriptors. */
	slots = (idx & 1) && idx != d->cvq && d->opts.tx_split ?
		vq->num / 2 : vq->num;
	for (i = 0; i < slots; i++)
		vq->next_free[i] = i + 1;
	vq->free_head = 0;
	vq->nfree = slots;

	vq->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	vq->call_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vq->kick_fd < 0 || vq->call_fd < 0)
		return -errno;
	return 0;
}

int vmdev_vq_program(struct vmdev *d, unsigned int idx)
{
	struct vmdev_vq *vq = &d->vqs[idx];
	struct vhost_vring_addr addr = {
		.index = idx,
		.desc_user_addr = vmdev_iova(d, vq->desc),
		.avail_user_addr = vmdev_iova(d, vq->avail),
		.used_user_addr = vmdev_iova(d, vq->used),
	};
	int ret;

	/* Both indices in memory start where the device does. */
	vq->avail_idx = d->opts.base;
	vq->last_used = d->opts.base;
	vq->avail_wrap = true;
	vq->used_wrap = true;
	if (d->packed) {
		if (d->opts.base >= vq->num)
			return -EINVAL;
		/* No descriptor available, events enabled both ways. */
		memset(vq->pdesc, 0, sizeof(*vq->pdesc) * vq->num);
		memset(vq->avail, 0, sizeof(struct vring_packed_desc_event));
		memset(vq->used, 0, sizeof(struct vring_packed_desc_event));
	} else {
		vq->avail->idx = htole16(d->opts.base);
		vq->used->idx = htole16(d->opts.base);
	}
	ret = vmdev_vring_state(d->fd, VHOST_SET_VRING_NUM, idx, vq->num);
	if (!ret)
		ret = vmdev_vring_state(d->fd, VHOST_SET_VRING_BASE, idx,
					vmdev_vq_state(d, idx));
	if (!ret)
		ret = vmdev_ioctl(d->fd, VHOST_SET_VRING_ADDR, &addr);
	if (!ret)
		ret = vmdev_vring_file(d->fd, VHOST_SET_VRING_KICK, idx,
				       vq->kick_fd);
	if (!ret)
		ret = vmdev_vring_file(d->fd, VHOST_SET_VRING_CALL, idx,
				       d->opts.tx_no_call && (idx & 1) &&
				       idx != d->cvq ? -1 : vq->call_fd);
	return ret;
}

uint32_t vmdev_vq_state(const struct vmdev *d, unsigned int idx)
{
	const struct vmdev_vq *vq = &d->vqs[idx];
	uint32_t half = vq->last_used | (uint32_t)vq->used_wrap << 15;

	return d->packed ? half | half << 16 : vq->last_used;
}

/* Split ring: show the entries added since the last time. */
static void vmdev_publish(struct vmdev_vq *vq)
{
	__atomic_store_n(&vq->avail->idx, htole16(vq->avail_idx),
			 __ATOMIC_RELEASE);
}

/*
 * Packed ring: make the chain @seg[0..n) available as buffer @id, the
 * first descriptor's flags last (that makes the whole chain available).
 */
static void vmdev_packed_add(struct vmdev_vq *vq, const struct vring_desc *seg,
			     unsigned int n, uint16_t id)
{
	uint16_t pos = vq->avail_idx, head = pos, head_flags = 0, flags;
	bool wrap = vq->avail_wrap;
	unsigned int i;

	for (i = 0; i < n; i++) {
		struct vring_packed_desc *p = &vq->pdesc[pos];

		flags = le16toh(seg[i].flags) |
			(wrap ? 1 << VRING_PACKED_DESC_F_AVAIL :
				1 << VRING_PACKED_DESC_F_USED);
		p->addr = seg[i].addr;
		p->len = seg[i].len;
		p->id = htole16(id);
		if (i)
			p->flags = htole16(flags);
		else
			head_flags = flags;
		if (++pos == vq->num) {
			pos = 0;
			wrap = !wrap;
		}
	}
	vq->ndesc[id] = n;
	vq->avail_idx = pos;
	vq->avail_wrap = wrap;
	__atomic_store_n(&vq->pdesc[head].flags, htole16(head_flags),
			 __ATOMIC_RELEASE);
}

/*
 * Packed ring: the next used buffer, if there is one: 1 with its id and
 * length, 0 when none is, -EIO for an id the driver did not make available.
 */
static int vmdev_packed_used(struct vmdev_vq *vq, uint16_t *id, uint32_t *len)
{
	struct vring_packed_desc *p = &vq->pdesc[vq->last_used];
	uint16_t flags = le16toh(__atomic_load_n(&p->flags, __ATOMIC_ACQUIRE));

	if (!!(flags & (1 << VRING_PACKED_DESC_F_AVAIL)) != vq->used_wrap ||
	    !!(flags & (1 << VRING_PACKED_DESC_F_USED)) != vq->used_wrap)
		return 0;
	*id = le16toh(p->id);
	*len = le32toh(p->len);
	if (*id >= vq->num || !vq->ndesc[*id])
		return -EIO;
	vq->last_used += vq->ndesc[*id];
	vq->ndesc[*id] = 0;
	if (vq->last_used >= vq->num) {
		vq->last_used -= vq->num;
		vq->used_wrap = !vq->used_wrap;
	}
	return 1;
}

/* The next used buffer of either layout: 1, 0 when none, -EIO. */
static int vmdev_next_used(struct vmdev *d, struct vmdev_vq *vq,
			   uint16_t *id, uint32_t *len)
{
	struct vring_used_elem *e;

	if (d->packed)
		return vmdev_packed_used(vq, id, len);
	if (vq->last_used == le16toh(__atomic_load_n(&vq->used->idx,
						     __ATOMIC_ACQUIRE)))
		return 0;
	e = &vq->used->ring[vq->last_used++ & (vq->num - 1)];
	*id = le32toh(e->id);
	*len = le32toh(e->len);
	return *id < vq->num ? 1 : -EIO;
}

/*
 * @size bytes of zeroed memory in 4 KiB pages no two of which are
 * physically adjacent: page i is page 2i of a region twice as big, faulted
 * in, in order, and moved with mremap(). MAP_FAILED (errno set) on failure.
 */
static void *vmdev_mem_fragmented(size_t size)
{
	size_t i, n = size / VMDEV_PAGE;
	char *src, *dst;
	int err;

	dst = mmap(NULL, size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (dst == MAP_FAILED)
		return MAP_FAILED;
	src = mmap(NULL, 2 * size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (src == MAP_FAILED)
		goto err;
	if (madvise(src, 2 * size, MADV_NOHUGEPAGE))
		goto err_src;
	for (i = 0; i < 2 * n; i++)
		src[i * VMDEV_PAGE] = 1;
	for (i = 0; i < n; i++)
		if (mremap(src + 2 * i * VMDEV_PAGE, VMDEV_PAGE, VMDEV_PAGE,
			   MREMAP_MAYMOVE | MREMAP_FIXED,
			   dst + i * VMDEV_PAGE) == MAP_FAILED)
			goto err_src;
	munmap(src, 2 * size);
	memset(dst, 0, size);
	return dst;

err_src:
	err = errno;
	munmap(src, 2 * size);
	errno = err;
err:
	err = errno;
	munmap(dst, size);
	errno = err;
	return MAP_FAILED;
}

/*
 * Make the chain @seg[0..n) available as buffer @id in either layout: split,
 * descriptors @id on (their next fields as given) and @id in the available
 * ring; packed, the next @n positions.
 */
static void vmdev_add_chain(struct vmdev *d, struct vmdev_vq *vq,
			    const struct vring_desc *seg, unsigned int n,
			    uint16_t id)
{
	if (d->packed) {
		vmdev_packed_add(vq, seg, n, id);
		return;
	}
	memcpy(&vq->desc[id], seg, n * sizeof(*seg));
	vq->avail->ring[vq->avail_idx++ & (vq->num - 1)] = htole16(id);
	vmdev_publish(vq);
}

int vmdev_post_raw(struct vmdev *d, unsigned int idx,
		   const struct vring_desc *seg, unsigned int n, uint16_t id)
{
	struct vmdev_vq *vq;

	if (idx >= VMDEV_MAX_VQS)
		return -EINVAL;
	vq = &d->vqs[idx];
	if (!n || n > vq->num || id >= vq->num ||
	    (!d->packed && id + n > vq->num))
		return -EINVAL;
	vmdev_add_chain(d, vq, seg, n, id);
	return vmdev_kick(d, idx);
}

static void vmdev_post_rx(struct vmdev *d, struct vmdev_vq *vq, uint16_t id)
{
	struct vring_desc seg = {
		.addr = htole64(vq->bufs_iova + (size_t)id * vq->buf_size),
		.len = htole32(vq->buf_size),
		.flags = htole16(VRING_DESC_F_WRITE),
	};

	if (d->packed)
		vmdev_packed_add(vq, &seg, 1, id);
	else
		vq->avail->ring[vq->avail_idx++ & (vq->num - 1)] = htole16(id);
}

void vmdev_rx_fill(struct vmdev *d, unsigned int idx)
{
	struct vmdev_vq *vq = &d->vqs[idx];
	unsigned int i;

	/* Split ring: descriptor i is buffer i for good. */
	for (i = 0; i < vq->num && !d->packed; i++) {
		vq->desc[i].addr = htole64(vq->bufs_iova +
					   (size_t)i * vq->buf_size);
		vq->desc[i].len = htole32(vq->buf_size);
		vq->desc[i].flags = htole16(VRING_DESC_F_WRITE);
	}
	for (i = 0; i < vq->num; i++)
		vmdev_post_rx(d, vq, i);
	vq->nfree = 0;
	if (!d->packed)
		vmdev_publish(vq);
}

static int vmdev_max_pairs(struct vmdev *d)
{
	struct {
		struct vhost_vdpa_config c;
		uint16_t pairs;
	} cfg = { .c = { .off = 8, .len = 2 } };
	int ret;

	if (!(d->features & (1ULL << VIRTIO_NET_F_MQ)))
		return 1;
	ret = vmdev_ioctl(d->fd, VHOST_VDPA_GET_CONFIG, &cfg);
	return ret ? ret : le16toh(cfg.pairs);
}

void vmdev_init(struct vmdev *d)
{
	unsigned int i;

	memset(d, 0, sizeof(*d));
	d->fd = -1;
	for (i = 0; i < VMDEV_MAX_VQS; i++) {
		d->vqs[i].kick_fd = -1;
		d->vqs[i].call_fd = -1;
	}
}

int vmdev_start(struct vmdev *d, int fd, const struct vmdev_opts *o)
{
	uint64_t offered, want, backend;
	unsigned int i, nq;
	size_t need = 0;
	int ret, max_pairs;

	vmdev_init(d);
	d->fd = fd;
	d->opts = *o;
	if (!d->opts.num)
		d->opts.num = 256;
	if (!d->opts.rx_buf)
		d->opts.rx_buf = VMDEV_TX_BUF;
	if (!d->opts.pairs)
		d->opts.pairs = 1;
	d->pairs = d->opts.pairs;

	ret = vmdev_ioctl(fd, VHOST_GET_FEATURES, &offered);
	if (!ret)
		ret = vmdev_ioctl(fd, VHOST_SET_OWNER, NULL);
	if (!ret)
		ret = vmdev_ioctl(fd, VHOST_GET_BACKEND_FEATURES, &backend);
	if (ret)
		return ret;
	d->backend = backend & ((1ULL << VHOST_BACKEND_F_IOTLB_MSG_V2) |
				(1ULL << VHOST_BACKEND_F_IOTLB_BATCH));
	ret = vmdev_ioctl(fd, VHOST_SET_BACKEND_FEATURES, &d->backend);
	if (!ret)
		ret = vmdev_ioctl(fd, VHOST_VDPA_GET_VQS_COUNT, &d->nvqs);
	if (ret)
		return ret;

	want = o->features | (1ULL << VIRTIO_F_VERSION_1) |
	       (1ULL << VIRTIO_F_ACCESS_PLATFORM);
	if (d->pairs > 1)
		want |= (1ULL << VIRTIO_NET_F_MQ) | (1ULL << VIRTIO_NET_F_CTRL_VQ);
	d->features = want & offered;
	d->packed = d->features & (1ULL << VIRTIO_F_RING_PACKED);
	if (d->pairs > 1 && !(d->features & (1ULL << VIRTIO_NET_F_MQ)))
		return -EOPNOTSUPP;

	ret = vmdev_set_status(fd, 0);
	if (!ret)
		ret = vmdev_add_status(d, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	if (!ret)
		ret = vmdev_add_status(d, VIRTIO_CONFIG_S_DRIVER);
	if (!ret)
		ret = vmdev_ioctl(fd, VHOST_SET_FEATURES, &d->features);
	if (!ret)
		ret = vmdev_add_status(d, VIRTIO_CONFIG_S_FEATURES_OK);
	if (ret)
		return ret;

	max_pairs = vmdev_max_pairs(d);
	if (max_pairs < 0)
		return max_pairs;
	if (d->pairs > (unsigned int)max_pairs)
		return -EOPNOTSUPP;
	d->cvq = -1u;
	nq = 2 * d->pairs;
	if (d->features & (1ULL << VIRTIO_NET_F_CTRL_VQ))
		d->cvq = 2 * max_pairs;
	if (nq > d->nvqs || nq >= VMDEV_MAX_VQS ||
	    (d->cvq != -1u && (d->cvq >= d->nvqs || d->cvq >= VMDEV_MAX_VQS)))
		return -EINVAL;

	/* One mapping for rings and buffers of every queue. */
	for (i = 0; i < nq; i++)
		need += vmdev_vq_bytes(d->opts.num, i & 1 ? VMDEV_TX_BUF :
				       d->opts.rx_buf);
	if (d->cvq != -1u)
		need += vmdev_vq_bytes(d->opts.num, 64);
	d->mem_size = o->mem_size ? o->mem_size : need;
	d->mem_size = (d->mem_size + VMDEV_HUGE - 1) & ~(VMDEV_HUGE - 1);
	if (o->fragmented)
		d->mem = vmdev_mem_fragmented(d->mem_size);
	else
		d->mem = mmap(NULL, d->mem_size, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE |
			      (o->hugepages ? MAP_HUGETLB : 0), -1, 0);
	if (d->mem == MAP_FAILED) {
		d->mem = NULL;
		return -errno;
	}

	ret = vmdev_map_memory(d);
	if (ret)
		return ret;

	for (i = 0; i < nq && !ret; i++)
		ret = vmdev_vq_alloc(d, i, i & 1 ? VMDEV_TX_BUF : d->opts.rx_buf);
	if (!ret && d->cvq != -1u)
		ret = vmdev_vq_alloc(d, d->cvq, 64);
	for (i = 0; i < VMDEV_MAX_VQS && !ret; i++)
		if (d->vqs[i].num)
			ret = vmdev_vq_program(d, i);
	if (ret)
		return ret;

	for (i = 0; i < nq; i += 2)
		vmdev_rx_fill(d, i);
	for (i = 0; i < VMDEV_MAX_VQS && !ret; i++)
		if (d->vqs[i].num)
			ret = vmdev_vring_state(fd, VHOST_VDPA_SET_VRING_ENABLE,
						i, 1);
	if (ret || o->hold)
		return ret;
	return vmdev_go(d);
}

int vmdev_go(struct vmdev *d)
{
	unsigned int i, nq = 2 * d->pairs;
	int fd = d->fd, ret;

	ret = vmdev_add_status(d, VIRTIO_CONFIG_S_DRIVER_OK);
	if (ret)
		return ret;

	if (d->opts.doorbell) {
		for (i = 0; i < VMDEV_MAX_VQS; i++) {
			void *p;

			if (!d->vqs[i].num)
				continue;
			p = mmap(NULL, VMDEV_PAGE, PROT_WRITE, MAP_SHARED, fd,
				 i * VMDEV_PAGE);
			if (p == MAP_FAILED)
				return -errno;
			d->vqs[i].doorbell = p;
		}
	}

	if (d->pairs > 1) {
		uint16_t vqp = htole16(d->pairs);

		ret = vmdev_ctrl(d, VIRTIO_NET_CTRL_MQ,
				 VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, &vqp,
				 sizeof(vqp));
		if (ret)
			return ret < 0 ? ret : -EIO;
	}
	for (i = 0; i < nq; i += 2)
		vmdev_kick(d, i);
	return 0;
}

int vmdev_open(struct vmdev *d, const char *path, const struct vmdev_opts *o)
{
	int fd, ret;

	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = vmdev_start(d, fd, o);
	if (ret) {
		vmdev_close(d);
		return ret;
	}
	return 0;
}

void vmdev_stop(struct vmdev *d)
{
	unsigned int i;

	if (d->fd >= 0)
		vmdev_set_status(d->fd, 0);
	for (i = 0; i < VMDEV_MAX_VQS; i++) {
		struct vmdev_vq *vq = &d->vqs[i];

		if (vq->doorbell)
			munmap(vq->doorbell, VMDEV_PAGE);
		if (vq->kick_fd >= 0)
			close(vq->kick_fd);
		if (vq->call_fd >= 0)
			close(vq->call_fd);
		free(vq->next_free);
		free(vq->ndesc);
		memset(vq, 0, sizeof(*vq));
		vq->kick_fd = -1;
		vq->call_fd = -1;
	}
	if (d->mem) {
		if (d->fd >= 0)
			vmdev_iotlb_msg(d->fd, 0, VHOST_IOTLB_INVALIDATE,
					d->opts.iova, d->mem_size, 0, 0);
		munmap(d->mem, d->mem_size);
		d->mem = NULL;
	}
}

void vmdev_close(struct vmdev *d)
{
	vmdev_stop(d);
	if (d->fd >= 0)
		close(d->fd);
	d->fd = -1;
}

int vmdev_kick(struct vmdev *d, unsigned int idx)
{
	struct vmdev_vq *vq = &d->vqs[idx];
	uint64_t one = 1;

	/*
	 * The buffers added before the device's flags, paired with the
	 * device's barrier between its flags and its looking at the ring
	 * again. Split ring: VRING_USED_F_NO_NOTIFY in the used ring; packed:
	 * VRING_PACKED_EVENT_FLAG_DISABLE in the device event suppression
	 * (no event index is negotiated): it will look without a kick.
	 */
	if (vq->used) {
		struct vring_packed_desc_event *e = (void *)vq->used;
		bool off;

		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (d->packed)
			off = le16toh(__atomic_load_n(&e->flags,
						      __ATOMIC_RELAXED)) ==
			      VRING_PACKED_EVENT_FLAG_DISABLE;
		else
			off = le16toh(__atomic_load_n(&vq->used->flags,
						      __ATOMIC_RELAXED)) &
			      VRING_USED_F_NO_NOTIFY;
		if (off) {
			vq->kicks_skipped++;
			return 0;
		}
	}
	vq->kicks++;
	if (vq->doorbell) {
		/* virtio-pci: the queue's index, 16 bits, to its doorbell. */
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		__atomic_store_n(vq->doorbell, htole16(idx), __ATOMIC_RELAXED);
		return 0;
	}
	return write(vq->kick_fd, &one, sizeof(one)) < 0 ? -errno : 0;
}

int vmdev_wait_call(struct vmdev *d, unsigned int idx, int timeout_ms)
{
	struct vmdev_vq *vq = &d->vqs[idx];
	struct pollfd p = { .fd = vq->call_fd, .events = POLLIN };
	uint64_t n;
	int ret;

	ret = poll(&p, 1, timeout_ms);
	if (ret <= 0)
		return ret < 0 ? -errno : 0;
	if (read(vq->call_fd, &n, sizeof(n)) == sizeof(n))
		vq->calls += n;
	return 1;
}

static int vmdev_get_slot(struct vmdev_vq *vq)
{
	uint16_t slot;

	if (!vq->nfree)
		return -EAGAIN;
	slot = vq->free_head;
	vq->free_head = vq->next_free[slot];
	vq->nfree--;
	return slot;
}

static void vmdev_put_slot(struct vmdev_vq *vq, uint16_t slot)
{
	vq->next_free[slot] = vq->free_head;
	vq->free_head = slot;
	vq->nfree++;
}

int vmdev_tx_reclaim(struct vmdev *d, unsigned int pair)
{
	struct vmdev_vq *vq = &d->vqs[2 * pair + 1];
	uint32_t len;
	uint16_t id;
	int n = 0;

	while (vmdev_next_used(d, vq, &id, &len) > 0) {
		vmdev_put_slot(vq, d->opts.tx_split ? id / 2 : id);
		n++;
	}
	return n;
}

int vmdev_send(struct vmdev *d, unsigned int pair, const void *frame,
	       size_t len, bool kick)
{
	unsigned int idx = 2 * pair + 1;
	struct vmdev_vq *vq = &d->vqs[idx];
	struct vring_desc seg[2] = {};
	unsigned int nseg = 1;
	uint8_t *buf;
	uint16_t head;
	int slot;

	if (len > VMDEV_TX_BUF - VMDEV_TX_SPLIT_OFF)
		return -EMSGSIZE;
	slot = vmdev_get_slot(vq);
	if (slot < 0) {
		vmdev_tx_reclaim(d, pair);
		slot = vmdev_get_slot(vq);
		if (slot < 0)
			return slot;
	}

	buf = vq->bufs + (size_t)slot * vq->buf_size;
	memset(buf, 0, VMDEV_NET_HDR_LEN);
	if (d->opts.tx_split) {
		head = 2 * slot;
		nseg = 2;
		memcpy(buf + VMDEV_TX_SPLIT_OFF, frame, len);
		seg[0].addr = htole64(vmdev_iova(d, buf));
		seg[0].len = htole32(VMDEV_NET_HDR_LEN);
		seg[0].flags = htole16(VRING_DESC_F_NEXT);
		seg[0].next = htole16(head + 1);
		seg[1].addr = htole64(vmdev_iova(d, buf + VMDEV_TX_SPLIT_OFF));
		seg[1].len = htole32(len);
	} else {
		head = slot;
		memcpy(buf + VMDEV_NET_HDR_LEN, frame, len);
		seg[0].addr = htole64(vmdev_iova(d, buf));
		seg[0].len = htole32(VMDEV_NET_HDR_LEN + len);
	}
	vmdev_add_chain(d, vq, seg, nseg, head);
	return kick ? vmdev_kick(d, idx) : 0;
}

int vmdev_recv(struct vmdev *d, unsigned int pair, void *frame, size_t max)
{
	struct vmdev_vq *vq = &d->vqs[2 * pair];
	uint16_t nbufs, i, id;
	size_t total = 0;
	uint32_t len;
	int ret = 0, r;

	for (i = 0, nbufs = 1; i < nbufs; i++) {
		uint32_t off = 0;
		uint8_t *buf;

		r = vmdev_next_used(d, vq, &id, &len);
		if (!r && !i)
			return -EAGAIN;
		if (r <= 0)
			return -EIO;	/* a packet's buffers come together */
		if (len > vq->buf_size)
			return -EIO;
		buf = vq->bufs + (size_t)id * vq->buf_size;
		if (!i) {
			struct virtio_net_hdr_v1 *hdr = (void *)buf;

			if (len < VMDEV_NET_HDR_LEN)
				return -EIO;
			/* Without MRG_RXBUF, num_buffers is not ours to read. */
			if (d->features & (1ULL << VIRTIO_NET_F_MRG_RXBUF))
				nbufs = le16toh(hdr->num_buffers);
			if (!nbufs)
				return -EIO;
			off = VMDEV_NET_HDR_LEN;
		}
		if (total + len - off <= max)
			memcpy((uint8_t *)frame + total, buf + off, len - off);
		else
			ret = -EMSGSIZE;
		total += len - off;
		vmdev_post_rx(d, vq, id);
	}
	if (!d->packed)
		vmdev_publish(vq);
	vmdev_kick(d, 2 * pair);
	return ret ? ret : (int)total;
}

int vmdev_recv_wait(struct vmdev *d, unsigned int pair, void *frame,
		    size_t max, int timeout_ms)
{
	int ret;

	for (;;) {
		ret = vmdev_recv(d, pair, frame, max);
		if (ret != -EAGAIN)
			return ret;
		ret = vmdev_wait_call(d, 2 * pair, timeout_ms);
		if (ret <= 0)
			return ret ? ret : -ETIMEDOUT;
	}
}

int vmdev_ctrl(struct vmdev *d, uint8_t class, uint8_t cmd, const void *data,
	       size_t len)
{
	struct vring_desc seg[3] = {};
	struct vmdev_vq *vq;
	unsigned int n = 3;
	uint32_t used_len;
	int tries, r;
	uint8_t *buf;
	uint16_t id;

	if (d->cvq == -1u || len > 32)
		return -EOPNOTSUPP;
	vq = &d->vqs[d->cvq];
	/*
	 * One command at a time: header, data, ack (descriptors 0-2 of a
	 * split ring, buffer id 0 of a packed one).
	 */
	buf = vq->bufs;
	buf[0] = class;
	buf[1] = cmd;
	memcpy(buf + 16, data, len);
	buf[63] = 0xff;
	seg[0] = (struct vring_desc) {
		.addr = htole64(vmdev_iova(d, buf)), .len = htole32(2),
		.flags = htole16(VRING_DESC_F_NEXT), .next = htole16(1),
	};
	seg[1] = (struct vring_desc) {
		.addr = htole64(vmdev_iova(d, buf + 16)), .len = htole32(len),
		.flags = htole16(VRING_DESC_F_NEXT), .next = htole16(2),
	};
	seg[2] = (struct vring_desc) {
		.addr = htole64(vmdev_iova(d, buf + 63)), .len = htole32(1),
		.flags = htole16(VRING_DESC_F_WRITE),
	};
	if (!len)
		seg[1] = seg[--n];
	vmdev_add_chain(d, vq, seg, n, 0);
	vmdev_kick(d, d->cvq);

	for (tries = 0; tries < 50; tries++) {
		r = vmdev_next_used(d, vq, &id, &used_len);
		if (r < 0)
			return r;
		if (r)
			return buf[63];
		vmdev_wait_call(d, d->cvq, 100);
	}
	return -ETIMEDOUT;
}

int vmdev_debugfs_vq(const char *node, unsigned int vq, long long *kicks,
		     long long *calls)
{
	const char *name = strrchr(node, '/') ? strrchr(node, '/') + 1 : node;
	char path[128], line[128];
	long long k, c;
	unsigned int idx;
	int ret = -ENOENT;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/kernel/debug/vhost_mdev/%s/vqs",
		 name);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%u %lld %lld", &idx, &k, &c) == 3 &&
		    idx == vq) {
			*kicks = k;
			*calls = c;
			ret = 0;
			break;
		}
	fclose(f);
	return ret;
}

long long vmdev_debugfs_stat(const char *node, const char *file,
			     const char *key)
{
	const char *name = strrchr(node, '/') ? strrchr(node, '/') + 1 : node;
	char path[128], line[128], k[64];
	long long v, ret = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/kernel/debug/vhost_mdev/%s/%s",
		 name, file);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%63s %lli", k, &v) == 2 && !strcmp(k, key)) {
			ret = v;
			break;
		}
	fclose(f);
	return ret;
}

uint64_t vmdev_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

int vmdev_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}
