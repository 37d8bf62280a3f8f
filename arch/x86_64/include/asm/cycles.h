/* SPDX-License-Identifier: MIT */
/* Cycle counter on x86_64: the time-stamp counter. */
#ifndef HAKMEM_ASM_CYCLES_H
#define HAKMEM_ASM_CYCLES_H

#include <stdint.h>

static inline uint64_t get_cycles(void)
{
	uint32_t lo, hi;

	__asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}
#define get_cycles get_cycles

#include <asm-generic/cycles.h>

#endif
