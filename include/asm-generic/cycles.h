/* SPDX-License-Identifier: MIT */
/*
 * Fallback cycle counter for architectures whose <asm/cycles.h> does not
 * define get_cycles: the monotonic clock in nanoseconds (a vDSO call).
 */
#ifndef HAKMEM_ASM_GENERIC_CYCLES_H
#define HAKMEM_ASM_GENERIC_CYCLES_H

#include <stdint.h>
#include <time.h>

#ifndef get_cycles
static inline uint64_t get_cycles(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
#define get_cycles get_cycles
#endif

#endif
