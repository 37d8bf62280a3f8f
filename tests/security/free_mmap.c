/* SPDX-License-Identifier: MIT */
/*
 * Probe: free a pointer into another allocator's memory: a private anonymous
 * mapping.  The pointer is placed where a real block could be (64 KiB + 128
 * past a 2 MiB boundary), so an allocator that trusted alignment instead of
 * its registry would read "superslab metadata" at the 2 MiB boundary.  The
 * region is made PROT_NONE first: any dereference of it faults ("crash").
 */
#include "probe.h"
#include <sys/mman.h>

#define REGION (2u << 20)

int main(void)
{
	struct probe_region foreign;
	unsigned char *map, *a, *p;

	probe_init();
	map = mmap(NULL, 2 * REGION, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED)
		probe_setup_failed("setup: mmap failed");
	a = (unsigned char *)(((uintptr_t)map + REGION - 1) & ~(uintptr_t)(REGION - 1));
	probe_fill(a, REGION, 0x77);
	p = a + 65536 + 128;
	if (mprotect(a, REGION, PROT_NONE))
		probe_setup_failed("setup: mprotect failed");
	free(probe_launder(p)); /* the bad thing */
	if (mprotect(a, REGION, PROT_READ))
		probe_setup_failed("setup: mprotect failed");
	if (!probe_intact(a, REGION, 0x77))
		probe_outcome("corrupted", "free(%p) changed the foreign mapping", p);
	foreign.lo = (uintptr_t)map;
	foreign.hi = (uintptr_t)map + 2 * REGION;
	probe_heap_check_sizes(&foreign, 1);
	probe_outcome("ignored", "free of foreign mmap pointer %p had no effect", p);
}
