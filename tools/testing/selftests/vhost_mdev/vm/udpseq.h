/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The datagrams of the migration scenario's stream (udpseq, netpeer): 1024
 * bytes, the datagram's number (u64, host order), the pattern that number
 * gives, and a 32-bit FNV-1a of all that at the end.
 */
#ifndef UDPSEQ_H
#define UDPSEQ_H

#include <stdint.h>
#include <string.h>

#define UDPSEQ_LEN	1024

static inline uint32_t udpseq_fnv(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;

	while (n--)
		h = (h ^ *p++) * 16777619u;
	return h;
}

/* Datagram @seq into @d (UDPSEQ_LEN bytes). */
static inline void udpseq_fill(uint8_t *d, uint64_t seq)
{
	uint32_t h;
	size_t i;

	memcpy(d, &seq, sizeof(seq));
	for (i = sizeof(seq); i < UDPSEQ_LEN - 4; i++)
		d[i] = (uint8_t)(seq * 131 + i * 7);
	h = udpseq_fnv(d, UDPSEQ_LEN - 4);
	memcpy(d + UDPSEQ_LEN - 4, &h, 4);
}

#endif /* UDPSEQ_H */
