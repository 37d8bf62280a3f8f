/* SPDX-License-Identifier: MIT */
/*
 * Probe: another thread frees a block (the remote-free path), then its
 * owner frees it again.  Accepted, the block would be on the remote list
 * and on the owner's free list at once.
 */
#include "probe.h"
#include <pthread.h>

static void *first_free(void *p)
{
	free(p);
	return NULL;
}

int main(void)
{
	pthread_t t;
	void *p;

	probe_init();
	p = malloc(128);
	if (!p)
		probe_setup_failed("setup: malloc(128) failed");
	memset(p, 0x44, 128);
	if (pthread_create(&t, NULL, first_free, p) || pthread_join(t, NULL))
		probe_setup_failed("setup: pthread_create/join failed");
	free(probe_launder(p)); /* the bad thing, by the owner */
	probe_heap_check(128, PROBE_MAX_BATCH, NULL, 0, 0);
	probe_outcome("ignored", "owner's second free of %p had no effect", p);
}
