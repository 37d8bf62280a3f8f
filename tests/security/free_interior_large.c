/* SPDX-License-Identifier: MIT */
/*
 * Probe: free a pointer 64 KiB into a live 4 MiB (large-tier) block.  The
 * registry says the region is a big allocation; only a check against the
 * block's recorded start tells the pointer from the real one.  If it is
 * accepted the mapping is released or cached while the program still uses
 * it: reading it back faults ("crash") or a later malloc overlaps it.
 */
#include "probe.h"

#define BIG (4u << 20)

int main(void)
{
	struct probe_region live;
	unsigned char *p;

	probe_init();
	p = malloc(BIG);
	if (!p)
		probe_setup_failed("setup: malloc(4 MiB) failed");
	probe_fill(p, BIG, 0x55);
	free(probe_launder(p + 65536)); /* the bad thing */
	if (!probe_intact(p, BIG, 0x55))
		probe_outcome("corrupted", "free(%p) changed the live block %p", p + 65536, p);
	live.lo = (uintptr_t)p;
	live.hi = (uintptr_t)p + BIG;
	probe_heap_check(BIG, 16, &live, 1, 0);
	probe_heap_check(BIG - 65536, 16, &live, 1, 0);
	if (!probe_intact(p, BIG, 0x55))
		probe_outcome("corrupted", "live block %p was overwritten", p);
	free(p);
	probe_outcome("ignored", "free of interior pointer %p (block %p) had no effect",
		      p + 65536, p);
}
