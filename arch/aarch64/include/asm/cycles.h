/* SPDX-License-Identifier: MIT */
/*
 * Cycle counter on aarch64: the virtual count register, readable from user
 * space on Linux (pmccntr_el0 traps, so it is not used).
 */
#ifndef HAKMEM_ASM_CYCLES_H
#define HAKMEM_ASM_CYCLES_H

#include <stdint.h>

static inline uint64_t get_cycles(void)
{
	uint64_t val;

	__asm__ __volatile__("isb; mrs %0, cntvct_el0" : "=r"(val) :: "memory");
	return val;
}
#define get_cycles get_cycles

#include <asm-generic/cycles.h>

#endif
