/* SPDX-License-Identifier: MIT */
/*
 * Probe: free(A), free(B), free(A), free(B): double frees interleaved
 * across two blocks.
 */
#include "probe.h"

int main(void)
{
	void *a, *b;

	probe_init();
	a = malloc(112);
	b = malloc(112);
	if (!a || !b)
		probe_setup_failed("setup: malloc(112) failed");
	free(a);
	free(b);
	free(probe_launder(a)); /* the bad things */
	free(probe_launder(b));
	probe_heap_check(112, PROBE_MAX_BATCH, NULL, 0, 0);
	probe_outcome("ignored", "second frees of %p and %p had no effect", a, b);
}
