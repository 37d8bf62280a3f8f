/* SPDX-License-Identifier: MIT */
/*
 * Probe: free a large-tier block (4 MiB, its own mapping) twice.  After the
 * first free the mapping is either cached (BigCache) or unmapped; a cache
 * that accepts it twice hands the same mapping to two later mallocs.
 */
#include "probe.h"

#define BIG (4u << 20)

int main(void)
{
	void *p;

	probe_init();
	p = malloc(BIG);
	if (!p)
		probe_setup_failed("setup: malloc(4 MiB) failed");
	memset(p, 0x33, BIG);
	free(p);
	free(probe_launder(p)); /* the bad thing */
	probe_heap_check(BIG, 16, NULL, 0, 0);
	probe_outcome("ignored", "second free of large %p had no effect", p);
}
