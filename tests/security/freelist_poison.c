/* SPDX-License-Identifier: MIT */
/*
 * Probe: the classic free-list poisoning attack.  Overwrite the first
 * 8 bytes (the link) of a freed block with the address of a target the
 * attacker controls (here a static buffer), then malloc the block's size
 * repeatedly.  If any malloc returns the target or a pointer within a page
 * of it, the attacker has an arbitrary-write primitive: "attacker-address".
 * Sixteen blocks are freed and the last one freed is poisoned, so a free
 * list bounded by a count still has entries to pop after it.
 */
#include "probe.h"

static unsigned char target[16384] __attribute__((aligned(4096)));
int main(void)
{
	uintptr_t chosen = (uintptr_t)(target + 8192);
	unsigned char *p;

	probe_init();
	p = probe_free_sixteen(64);
	memcpy(probe_launder(p), &chosen, sizeof(chosen)); /* the bad thing */
	probe_heap_check(64, PROBE_MAX_BATCH, NULL, 0, chosen);
	probe_outcome("ignored", "poisoned link in %p was never followed", p);
}
