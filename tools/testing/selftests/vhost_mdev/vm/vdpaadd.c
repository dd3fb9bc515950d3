// SPDX-License-Identifier: GPL-2.0-only
/*
 * vdpaadd NAME BUS/DEVICE DROP: add upstream vDPA device NAME on management
 * device BUS/DEVICE (pci/0000:01:00.0) offering the features the management
 * device supports but those in DROP (a mask, 0x...): `vdpa dev add ...
 * device_features`, which Debian 12's iproute2 (6.1) lacks. Prints
 * "vdpaadd: NAME features 0x..." and exits 0, or says why and exits 1.
 *
 * The comparison of migrations on the accelerator functions (l2/migrate.sh
 * --vp-vdpa) needs it: QEMU 7.2's shadow virtqueue (x-svq=on, upstream's
 * only way to migrate a vp_vdpa device) refuses a device that offers a
 * feature it cannot shadow, and vp_vdpa offers all the function's.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/vdpa.h>

struct msg {
	struct nlmsghdr n;
	struct genlmsghdr g;
	char buf[4096];
};

static void put_attr(struct msg *m, uint16_t type, const void *data,
		     size_t len)
{
	struct nlattr *a = (void *)((char *)m + NLMSG_ALIGN(m->n.nlmsg_len));

	a->nla_type = type;
	a->nla_len = NLA_HDRLEN + len;
	memcpy((char *)a + NLA_HDRLEN, data, len);
	m->n.nlmsg_len = NLMSG_ALIGN(m->n.nlmsg_len) + NLA_ALIGN(a->nla_len);
}

static void start(struct msg *m, uint16_t family, uint8_t cmd, uint16_t flags)
{
	memset(m, 0, sizeof(*m));
	m->n.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN);
	m->n.nlmsg_type = family;
	m->n.nlmsg_flags = NLM_F_REQUEST | flags;
	m->g.cmd = cmd;
	m->g.version = 1;
}

/*
 * Send @m and read the answer into @m; its attribute @want (if not 0) into
 * @out, @len bytes. Return 0 or -errno (the kernel's, or -ENOENT for an
 * answer without @want).
 */
static int transact(int fd, struct msg *m, uint16_t want, void *out,
		    size_t len)
{
	struct nlmsghdr *n = &m->n;
	struct nlattr *a;
	int got, left;

	if (send(fd, m, m->n.nlmsg_len, 0) < 0)
		return -errno;
	got = recv(fd, m, sizeof(*m), 0);
	if (got < 0)
		return -errno;
	if (!NLMSG_OK(n, got))
		return -EPROTO;
	if (n->nlmsg_type == NLMSG_ERROR)
		return ((struct nlmsgerr *)NLMSG_DATA(n))->error;
	if (!want)
		return 0;
	a = (void *)((char *)NLMSG_DATA(n) + GENL_HDRLEN);
	left = n->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN);
	while (left >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN &&
	       a->nla_len <= left) {
		if ((a->nla_type & NLA_TYPE_MASK) == want &&
		    (size_t)a->nla_len - NLA_HDRLEN >= len) {
			memcpy(out, (char *)a + NLA_HDRLEN, len);
			return 0;
		}
		left -= NLA_ALIGN(a->nla_len);
		a = (void *)((char *)a + NLA_ALIGN(a->nla_len));
	}
	return -ENOENT;
}

int main(int argc, char **argv)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	uint64_t drop, supported, features;
	uint16_t family;
	struct msg m;
	char *bus, *dev;
	int fd, ret;

	if (argc != 4 || !strchr(argv[2], '/')) {
		fprintf(stderr, "usage: vdpaadd NAME BUS/DEVICE DROP_MASK\n");
		return 1;
	}
	drop = strtoull(argv[3], NULL, 0);
	bus = argv[2];
	dev = strchr(bus, '/');
	*dev++ = 0;

	fd = socket(AF_NETLINK, SOCK_RAW, NETLINK_GENERIC);
	if (fd < 0 || connect(fd, (struct sockaddr *)&kernel, sizeof(kernel))) {
		perror("vdpaadd: netlink");
		return 1;
	}
	start(&m, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 0);
	put_attr(&m, CTRL_ATTR_FAMILY_NAME, VDPA_GENL_NAME,
		 sizeof(VDPA_GENL_NAME));
	ret = transact(fd, &m, CTRL_ATTR_FAMILY_ID, &family, sizeof(family));
	if (ret) {
		fprintf(stderr, "vdpaadd: no vdpa netlink family: %s\n",
			strerror(-ret));
		return 1;
	}

	start(&m, family, VDPA_CMD_MGMTDEV_GET, 0);
	put_attr(&m, VDPA_ATTR_MGMTDEV_BUS_NAME, bus, strlen(bus) + 1);
	put_attr(&m, VDPA_ATTR_MGMTDEV_DEV_NAME, dev, strlen(dev) + 1);
	ret = transact(fd, &m, VDPA_ATTR_DEV_SUPPORTED_FEATURES, &supported,
		       sizeof(supported));
	if (ret) {
		fprintf(stderr, "vdpaadd: management device %s/%s: %s\n", bus,
			dev, strerror(-ret));
		return 1;
	}

	features = supported & ~drop;
	start(&m, family, VDPA_CMD_DEV_NEW, NLM_F_ACK);
	put_attr(&m, VDPA_ATTR_DEV_NAME, argv[1], strlen(argv[1]) + 1);
	put_attr(&m, VDPA_ATTR_MGMTDEV_BUS_NAME, bus, strlen(bus) + 1);
	put_attr(&m, VDPA_ATTR_MGMTDEV_DEV_NAME, dev, strlen(dev) + 1);
	put_attr(&m, VDPA_ATTR_DEV_FEATURES, &features, sizeof(features));
	ret = transact(fd, &m, 0, NULL, 0);
	if (ret) {
		fprintf(stderr, "vdpaadd: add %s on %s/%s with features 0x%llx: %s\n",
			argv[1], bus, dev, (unsigned long long)features,
			strerror(-ret));
		return 1;
	}
	printf("vdpaadd: %s features 0x%llx\n", argv[1],
	       (unsigned long long)features);
	close(fd);
	return 0;
}
