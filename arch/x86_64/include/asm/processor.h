/* SPDX-License-Identifier: MIT */
/* CPU primitives on x86_64. */
#ifndef HAKMEM_ASM_PROCESSOR_H
#define HAKMEM_ASM_PROCESSOR_H

#include <generated/autoconf.h>

#define CACHE_LINE_SHIFT CONFIG_ARCH_CACHE_LINE_SHIFT
#define CACHE_LINE_SIZE  (1 << CACHE_LINE_SHIFT)

/* Spin-wait hint: lets the sibling hyperthread run. */
static inline void cpu_relax(void)
{
	__asm__ __volatile__("pause" ::: "memory");
}
#define cpu_relax cpu_relax

/*
 * Makes the compiler forget what it knows of x's value (emits no code), so
 * a computation stays in the form written: free derives a superslab's
 * address from its registry index with one shift, where the compiler
 * would rebuild it from the pointer with a copy and a mask.
 */
#define opaque_value(x) __asm__("" : "+r"(x))

/*
 * Frame records (the profiler's stack walk, CONFIG_PROFILER): the frame
 * pointer of a frame that has one points at two words, the caller's frame
 * pointer and the return address; rbp points at the saved rbp, the return address above it; 16-byte aligned in
 * code that keeps the ABI's stack alignment, 8 at least.
 */
#define ARCH_FRAME_ALIGN 8

#include <asm-generic/processor.h>

#endif
