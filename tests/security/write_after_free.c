/* SPDX-License-Identifier: MIT */
/*
 * Probe: write a whole freed block (all 64 bytes, its free-list link
 * included) with a byte pattern, as a use-after-free bug would, then malloc
 * until the block is reused.  Sixteen blocks are freed and the last one
 * freed is written, so the block's link points at more free blocks and a
 * list bounded by a count still follows it.  An unchecked free list follows the garbage
 * link and hands out 0x5a5a5a5a5a5a5a5a ("corrupted") or faults ("crash").
 */
#include "probe.h"

int main(void)
{
	unsigned char *p;

	probe_init();
	p = probe_free_sixteen(64);
	memset(probe_launder(p), 0x5a, 64); /* the bad thing */
	probe_heap_check(64, PROBE_MAX_BATCH, NULL, 0, 0x5a5a5a5a5a5a5a5aull);
	probe_outcome("ignored", "write after free of %p had no effect", p);
}
