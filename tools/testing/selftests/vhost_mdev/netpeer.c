// SPDX-License-Identifier: GPL-2.0-only
/*
 * netpeer NODE: a host on a simulator hub, in L1, driven by libvmdev over
 * vhost-mdev device NODE: the peer of the migration scenario
 * (vm/l2/migrate.sh), so that only the migrating guest runs under KVM. It
 * answers ARP for its address and ICMP echo requests, and sends the
 * numbered, checksummed UDP stream of udpseq.h to the guest, until killed.
 *
 *   netpeer NODE MY_IP MY_MAC GUEST_IP GUEST_MAC PORT PPS
 *
 * Prints "netpeer: ready" once the device runs, then once a second and on
 * SIGTERM "netpeer: sent=N received=N arp=N echo=N ringfull=N" (datagrams
 * sent, frames received, ARP and echo requests answered, frames lost to a
 * full transmit ring).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "vmdev.h"
#include "vm/udpseq.h"

#define ETH_HLEN	14
#define IP_HLEN		20
#define UDP_HLEN	8

static int stop;	/* __atomic: the signal handler sets it */

static void on_term(int sig)
{
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
}

static uint16_t csum(const uint8_t *p, size_t n)
{
	uint32_t s = 0;

	for (; n > 1; p += 2, n -= 2)
		s += p[0] << 8 | p[1];
	if (n)
		s += p[0] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return ~s;
}

struct peer {
	struct vmdev d;
	uint8_t mac[6], guest_mac[6];
	struct in_addr ip, guest_ip;
	uint16_t port;
	unsigned long sent, received, arp, echo, ringfull;
};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}

/* An IPv4 header for @len bytes of payload, protocol @proto, to @dst. */
static void ip_header(struct peer *p, uint8_t *ip, size_t len, uint8_t proto,
		      struct in_addr dst)
{
	memset(ip, 0, IP_HLEN);
	ip[0] = 0x45;
	put16(ip + 2, IP_HLEN + len);
	ip[6] = 0x40;	/* don't fragment */
	ip[8] = 64;
	ip[9] = proto;
	memcpy(ip + 12, &p->ip, 4);
	memcpy(ip + 16, &dst, 4);
	put16(ip + 10, csum(ip, IP_HLEN));
}

static void send_frame(struct peer *p, const uint8_t *f, size_t len)
{
	vmdev_tx_reclaim(&p->d, 0);
	/* A full ring: the frame is lost, as on a wire. */
	if (vmdev_send(&p->d, 0, f, len, true))
		p->ringfull++;
}

static void handle(struct peer *p, uint8_t *f, int len)
{
	uint8_t out[2048];
	uint16_t type = f[12] << 8 | f[13];
	uint8_t *ip = f + ETH_HLEN, *icmp;
	size_t iplen;

	if (type == 0x0806 && len >= ETH_HLEN + 28 && f[ETH_HLEN + 7] == 1 &&
	    !memcmp(f + ETH_HLEN + 24, &p->ip, 4)) {
		/* An ARP request for us: the reply. */
		memcpy(out, f + 6, 6);
		memcpy(out + 6, p->mac, 6);
		/* Type, hardware and protocol type and lengths; a reply. */
		memcpy(out + 12, f + 12, 2 + 6);
		put16(out + ETH_HLEN + 6, 2);
		memcpy(out + ETH_HLEN + 8, p->mac, 6);
		memcpy(out + ETH_HLEN + 14, &p->ip, 4);
		memcpy(out + ETH_HLEN + 18, f + ETH_HLEN + 8, 10);
		send_frame(p, out, ETH_HLEN + 28);
		p->arp++;
		return;
	}
	if (type != 0x0800 || len < ETH_HLEN + IP_HLEN + 8 || ip[0] != 0x45 ||
	    ip[9] != 1 || memcmp(ip + 16, &p->ip, 4))
		return;
	iplen = ip[2] << 8 | ip[3];
	if (iplen < IP_HLEN + 8 || iplen > (size_t)len - ETH_HLEN ||
	    ip[IP_HLEN] != 8)
		return;
	/* An echo request: the same back, as a reply. */
	memcpy(out, f + 6, 6);
	memcpy(out + 6, p->mac, 6);
	memcpy(out + 12, f + 12, 2);
	icmp = out + ETH_HLEN + IP_HLEN;
	memcpy(icmp, ip + IP_HLEN, iplen - IP_HLEN);
	icmp[0] = 0;
	put16(icmp + 2, 0);
	put16(icmp + 2, csum(icmp, iplen - IP_HLEN));
	memcpy(&p->guest_ip, ip + 12, 4);
	ip_header(p, out + ETH_HLEN, iplen - IP_HLEN, 1, p->guest_ip);
	send_frame(p, out, ETH_HLEN + iplen);
	p->echo++;
}

/* Datagram @seq of the stream, to the guest. */
static void send_datagram(struct peer *p, uint64_t seq)
{
	uint8_t out[ETH_HLEN + IP_HLEN + UDP_HLEN + UDPSEQ_LEN];
	uint8_t *udp = out + ETH_HLEN + IP_HLEN;

	memcpy(out, p->guest_mac, 6);
	memcpy(out + 6, p->mac, 6);
	put16(out + 12, 0x0800);
	ip_header(p, out + ETH_HLEN, UDP_HLEN + UDPSEQ_LEN, 17, p->guest_ip);
	put16(udp, p->port);
	put16(udp + 2, p->port);
	put16(udp + 4, UDP_HLEN + UDPSEQ_LEN);
	put16(udp + 6, 0);	/* no checksum: udpseq has its own */
	udpseq_fill(udp + UDP_HLEN, seq);
	send_frame(p, out, sizeof(out));
	p->sent++;
}

static void report_counts(const struct peer *p)
{
	printf("netpeer: sent=%lu received=%lu arp=%lu echo=%lu ringfull=%lu\n",
	       p->sent, p->received, p->arp, p->echo, p->ringfull);
	fflush(stdout);
}

static int parse_mac(const char *s, uint8_t *mac)
{
	return sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1],
		      &mac[2], &mac[3], &mac[4], &mac[5]) == 6 ? 0 : -1;
}

int main(int argc, char **argv)
{
	struct vmdev_opts o = { .iova = 0x100000 };
	static struct peer p;
	uint64_t next, gap, seq = 0, report = 0;
	uint8_t f[2048];
	struct pollfd pfd;
	int len, ret, pps;

	pps = argc == 8 ? atoi(argv[7]) : 0;
	if (pps <= 0 || inet_pton(AF_INET, argv[2], &p.ip) != 1 ||
	    parse_mac(argv[3], p.mac) ||
	    inet_pton(AF_INET, argv[4], &p.guest_ip) != 1 ||
	    parse_mac(argv[5], p.guest_mac)) {
		fprintf(stderr, "usage: netpeer NODE MY_IP MY_MAC GUEST_IP GUEST_MAC PORT PPS\n");
		return 2;
	}
	p.port = atoi(argv[6]);
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	ret = vmdev_open(&p.d, argv[1], &o);
	if (ret) {
		fprintf(stderr, "netpeer: %s: %s\n", argv[1], strerror(-ret));
		return 1;
	}
	printf("netpeer: ready\n");
	fflush(stdout);

	gap = 1000000 / pps;
	next = vmdev_now_ns() / 1000;
	pfd.fd = p.d.vqs[0].call_fd;
	pfd.events = POLLIN;
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		while ((len = vmdev_recv(&p.d, 0, f, sizeof(f))) > 0 ||
		       len == -EIO) {
			p.received++;
			if (len > ETH_HLEN)
				handle(&p, f, len);
		}
		if (vmdev_now_ns() / 1000 - report >= 1000000) {
			report = vmdev_now_ns() / 1000;
			report_counts(&p);
		}
		if (vmdev_now_ns() / 1000 >= next) {
			send_datagram(&p, seq++);
			next += gap;
			/* Far behind (the VM was slow): no burst to catch up. */
			if (vmdev_now_ns() / 1000 > next + 100000)
				next = vmdev_now_ns() / 1000;
			continue;
		}
		poll(&pfd, 1, (next - vmdev_now_ns() / 1000) / 1000 + 1);
		vmdev_wait_call(&p.d, 0, 0);
	}
	report_counts(&p);
	vmdev_close(&p.d);
	return 0;
}
