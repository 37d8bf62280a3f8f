/* SPDX-License-Identifier: MIT */
/*
 * Probe: free(A), free(B), a malloc that takes B back, free(A) again.  A is
 * no longer the head of its free list when it is freed the second time.
 */
#include "probe.h"

int main(void)
{
	void *a, *b, *c;
	struct probe_region live;

	probe_init();
	a = malloc(96);
	b = malloc(96);
	if (!a || !b)
		probe_setup_failed("setup: malloc(96) failed");
	free(a);
	free(b);
	c = malloc(96);
	if (!c)
		probe_setup_failed("setup: malloc(96) failed");
	memset(c, 0x33, 96);
	free(probe_launder(a)); /* the bad thing */
	live.lo = (uintptr_t)c;
	live.hi = (uintptr_t)c + 96;
	probe_heap_check(96, PROBE_MAX_BATCH, &live, 1, 0);
	probe_outcome("ignored", "second free of %p after a reuse had no effect", a);
}
