/* SPDX-License-Identifier: MIT */
/*
 * Probe: the owner thread frees a block, then another thread frees it again
 * (the remote-free path).  Accepting the second free puts the block on the
 * owner's local list and on the slab's remote list at once.
 */
#include "probe.h"
#include <pthread.h>

static void *second_free(void *p)
{
	free(probe_launder(p)); /* the bad thing, from a thread that does not own p */
	return NULL;
}

int main(void)
{
	pthread_t t;
	void *p;

	probe_init();
	p = malloc(64);
	if (!p)
		probe_setup_failed("setup: malloc(64) failed");
	memset(p, 0x22, 64);
	free(p);
	if (pthread_create(&t, NULL, second_free, p) || pthread_join(t, NULL))
		probe_setup_failed("setup: pthread_create/join failed");
	/* The owner collects its remote frees while it refills. */
	probe_heap_check(64, PROBE_MAX_BATCH, NULL, 0, 0);
	probe_outcome("ignored", "remote second free of %p had no effect", p);
}
