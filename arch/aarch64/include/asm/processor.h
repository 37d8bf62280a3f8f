/* SPDX-License-Identifier: MIT */
/* CPU primitives on aarch64. */
#ifndef HAKMEM_ASM_PROCESSOR_H
#define HAKMEM_ASM_PROCESSOR_H

#include <generated/autoconf.h>

#define CACHE_LINE_SHIFT CONFIG_ARCH_CACHE_LINE_SHIFT
#define CACHE_LINE_SIZE  (1 << CACHE_LINE_SHIFT)

/* Spin-wait hint. */
static inline void cpu_relax(void)
{
	__asm__ __volatile__("yield" ::: "memory");
}
#define cpu_relax cpu_relax

#include <asm-generic/processor.h>

#endif
