/* SPDX-License-Identifier: MIT */
/*
 * Atomics on x86_64.  The compiler's __atomic builtins generate the right
 * instructions; see <asm-generic/atomic.h>.
 */
#ifndef HAKMEM_ASM_ATOMIC_H
#define HAKMEM_ASM_ATOMIC_H

#include <asm-generic/atomic.h>

#endif
