/* SPDX-License-Identifier: MIT */
/*
 * Probe: free the same block twice in one thread, with nothing in between.
 * If the second free is accepted, the block sits in the free list twice and
 * two later mallocs return it: the heap check reports "corrupted".
 */
#include "probe.h"

int main(void)
{
	void *p;

	probe_init();
	p = malloc(64);
	if (!p)
		probe_setup_failed("setup: malloc(64) failed");
	memset(p, 0x11, 64);
	free(p);
	free(probe_launder(p)); /* the bad thing */
	probe_heap_check(64, PROBE_MAX_BATCH, NULL, 0, 0);
	probe_outcome("ignored", "second free of %p had no effect", p);
}
