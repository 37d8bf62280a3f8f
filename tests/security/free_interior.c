/* SPDX-License-Identifier: MIT */
/*
 * Probe: free a pointer 16 bytes into a live 200-byte block.  The pointer is
 * 16-aligned and lies in one of our slabs, so only the block-boundary check
 * tells it from a real block.  If it is accepted, a later malloc returns
 * memory that overlaps the live block.
 */
#include "probe.h"

#define SIZE 200

int main(void)
{
	struct probe_region live;
	unsigned char *p;

	probe_init();
	p = malloc(SIZE);
	if (!p)
		probe_setup_failed("setup: malloc(%d) failed", SIZE);
	probe_fill(p, SIZE, 0x44);
	free(probe_launder(p + 16)); /* the bad thing */
	if (!probe_intact(p, SIZE, 0x44))
		probe_outcome("corrupted", "free(%p) wrote into the live block %p", p + 16, p);
	live.lo = (uintptr_t)p;
	live.hi = (uintptr_t)p + SIZE;
	probe_heap_check(SIZE, PROBE_MAX_BATCH, &live, 1, 0);
	probe_heap_check(SIZE - 16, PROBE_MAX_BATCH, &live, 1, 0);
	if (!probe_intact(p, SIZE, 0x44))
		probe_outcome("corrupted", "live block %p was overwritten", p);
	free(p); /* the real free must still work */
	probe_outcome("ignored", "free of interior pointer %p (block %p) had no effect", p + 16, p);
}
