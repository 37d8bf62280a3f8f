/* SPDX-License-Identifier: MIT */
/*
 * Probe: free a block, free 16 others of its size, then free the first one
 * again.  Accepted, it would sit on the free list twice.
 */
#include "probe.h"

int main(void)
{
	void *p, *o[16];
	int i;

	probe_init();
	p = malloc(80);
	for (i = 0; i < 16; i++)
		if (!(o[i] = malloc(80)))
			probe_setup_failed("setup: malloc(80) failed");
	if (!p)
		probe_setup_failed("setup: malloc(80) failed");
	free(p);
	for (i = 0; i < 16; i++)
		free(o[i]);
	free(probe_launder(p)); /* the bad thing */
	probe_heap_check(80, PROBE_MAX_BATCH, NULL, 0, 0);
	probe_outcome("ignored", "delayed second free of %p had no effect", p);
}
