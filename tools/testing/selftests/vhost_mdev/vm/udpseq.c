// SPDX-License-Identifier: GPL-2.0-only
/*
 * udpseq PORT STATFILE: receive the numbered, checksummed UDP stream that
 * netpeer sends the L2 guest of the migration scenario (the L2 initramfs
 * has only busybox), until killed; once a second rewrite STATFILE with one
 * line:
 *     udp_got=N udp_bad=N udp_dup=N udp_lost=N udp_maxgap_ms=N
 *   bad: the checksum or the pattern did not match (a corrupted datagram);
 *   dup: a number seen before; lost: numbers below the highest seen that
 *   never came; maxgap: the longest time between two datagrams after the
 *   first.
 *
 * The datagrams are udpseq.h's.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "udpseq.h"

#define MAX_SEQ		4194304	/* about 6 hours at 200 a second */

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

static int do_recv(int port, const char *statfile)
{
	struct sockaddr_in me = { .sin_family = AF_INET };
	struct timeval tv = { .tv_sec = 0, .tv_usec = 200000 };
	uint64_t got = 0, bad = 0, dup = 0, high = 0, maxgap = 0;
	uint64_t last = 0, report = 0, t, seq;
	static uint8_t seen[MAX_SEQ / 8];
	uint8_t d[UDPSEQ_LEN + 1], want[UDPSEQ_LEN];
	char tmp[256];
	FILE *f;
	ssize_t n;
	int fd;

	me.sin_port = htons(port);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&me, sizeof(me)) ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)))
		return 1;
	for (;;) {
		n = recv(fd, d, sizeof(d), 0);
		t = now_ms();
		if (n > 0) {
			memcpy(&seq, d, sizeof(seq));
			if (n != UDPSEQ_LEN || seq >= MAX_SEQ ||
			    (udpseq_fill(want, seq),
			     memcmp(d, want, UDPSEQ_LEN))) {
				bad++;
			} else if (seen[seq / 8] & (1u << (seq % 8))) {
				dup++;
			} else {
				seen[seq / 8] |= 1u << (seq % 8);
				if (got && t - last > maxgap)
					maxgap = t - last;
				got++;
				last = t;
				if (seq + 1 > high)
					high = seq + 1;
			}
		}
		if (t - report >= 1000) {
			report = t;
			snprintf(tmp, sizeof(tmp), "%s.tmp", statfile);
			f = fopen(tmp, "w");
			if (!f)
				return 1;
			fprintf(f, "udp_got=%llu udp_bad=%llu udp_dup=%llu ",
				(unsigned long long)got,
				(unsigned long long)bad,
				(unsigned long long)dup);
			fprintf(f, "udp_lost=%llu udp_maxgap_ms=%llu\n",
				(unsigned long long)(high - got),
				(unsigned long long)maxgap);
			fclose(f);
			rename(tmp, statfile);
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3)
		return do_recv(atoi(argv[1]), argv[2]);
	fprintf(stderr, "usage: udpseq PORT STATFILE\n");
	return 2;
}
