/* SPDX-License-Identifier: MIT */
/* Fallbacks for <asm/processor.h>. */
#ifndef HAKMEM_ASM_GENERIC_PROCESSOR_H
#define HAKMEM_ASM_GENERIC_PROCESSOR_H

#ifndef cpu_relax
static inline void cpu_relax(void)
{
	__atomic_signal_fence(__ATOMIC_SEQ_CST);   /* compiler barrier only */
}
#define cpu_relax cpu_relax
#endif

/* Hides x's value from the optimizer (see arch/x86_64); nothing here. */
#ifndef opaque_value
#define opaque_value(x) ((void)(x))
#endif

#endif
