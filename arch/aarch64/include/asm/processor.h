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

/*
 * Frame records (the profiler's stack walk, CONFIG_PROFILER): the frame
 * pointer of a frame that has one points at two words, the caller's frame
 * pointer and the return address; x29 points at the frame record {saved x29, saved x30 (the return
 * address)}, in the 16-byte aligned stack.
 */
#define ARCH_FRAME_ALIGN 16

#include <asm-generic/processor.h>

#endif
