/* SPDX-License-Identifier: MIT */
/*
 * Probe: realloc a block that was already freed.  An allocator that treats
 * it as live copies from it and frees it a second time (a hidden double
 * free).  Refusing with NULL is "error-returned".
 */
#include "probe.h"

int main(void)
{
	struct probe_region live;
	void *p, *q;
	int err;

	probe_init();
	p = malloc(64);
	if (!p)
		probe_setup_failed("setup: malloc(64) failed");
	memset(p, 0x88, 64);
	free(p);
	errno = 0;
	q = realloc(probe_launder(p), 200); /* the bad thing */
	err = errno;
	if (!q)
		probe_outcome("error-returned", "realloc of freed %p returned NULL, errno %d (%s)",
			      p, err, strerror(err));
	memset(q, 0x99, 200);
	live.lo = (uintptr_t)q;
	live.hi = (uintptr_t)q + 200;
	probe_heap_check(64, PROBE_MAX_BATCH, &live, 1, 0);
	probe_heap_check(200, PROBE_MAX_BATCH, &live, 1, 0);
	probe_outcome("ignored", "realloc of freed %p returned %p, heap sound", p, q);
}
