/* SPDX-License-Identifier: MIT */
/*
 * Atomics on aarch64.  The compiler's __atomic builtins generate the right
 * instructions for the Kconfig choice (outline atomics, LSE or LL/SC,
 * selected by compiler flags in the Makefile); see <asm-generic/atomic.h>.
 */
#ifndef HAKMEM_ASM_ATOMIC_H
#define HAKMEM_ASM_ATOMIC_H

#include <asm-generic/atomic.h>

#endif
