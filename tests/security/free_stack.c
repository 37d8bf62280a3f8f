/* SPDX-License-Identifier: MIT */
/*
 * Probe: free a pointer into the caller's stack frame.  It is foreign: it
 * must never be dereferenced or put on a free list, or a later malloc would
 * return stack memory.
 */
#include "probe.h"

int main(void)
{
	unsigned char buf[512] __attribute__((aligned(64)));
	struct probe_region stack;

	probe_init();
	probe_fill(buf, sizeof(buf), 0x66);
	free(probe_launder(buf + 64)); /* the bad thing */
	if (!probe_intact(buf, sizeof(buf), 0x66))
		probe_outcome("corrupted", "free(%p) wrote into the stack", buf + 64);
	/* Anything within a page of the buffer counts as the stack. */
	stack.lo = ((uintptr_t)buf & ~(uintptr_t)4095) - 65536;
	stack.hi = (uintptr_t)buf + sizeof(buf) + 65536;
	probe_heap_check_sizes(&stack, 1);
	if (!probe_intact(buf, sizeof(buf), 0x66))
		probe_outcome("corrupted", "stack buffer %p was overwritten", buf);
	probe_outcome("ignored", "free of stack pointer %p had no effect", buf + 64);
}
