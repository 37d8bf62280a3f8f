// SPDX-License-Identifier: MIT
/*
 * Adaptive reserve (CONFIG_ADAPTIVE): a heap whose released spans keep
 * being taken again soon after (h->reacquired, counted in alloc.c) keeps
 * more empty spans, one at a time, up to the policy's reserve_max
 * (mm/policy.h, which the adaptive engine, mm/ace.c, moves between
 * HAKMEM_HEAP_RESERVE and HAKMEM_HEAP_RESERVE_MAX); with the engine on
 * (HAKMEM_ACE=1), a heap that took nothing from its reserve for a decay
 * time halves it, down to HAKMEM_HEAP_RESERVE.  The counts the engine
 * reads are kept here too.
 */
#include <mm/heap/internal.h>
#include <mm/options.h>
#include <mm/policy.h>

/* Reacquisitions since the last growth that make the reserve grow. */
#define REACQUIRED_TO_GROW 4

static void count(uint64_t *c)
{
	atomic_store_relaxed(c, *c + 1);
}

void heap_reserve_adapt(struct heap *h)
{
	if (h->kind != HEAP_LIVE || h->reacquired <= REACQUIRED_TO_GROW)
		return;
	if (h->reserve_limit < policy_get()->reserve_max) {
		h->reserve_limit++;
		h->reacquired = 0;
	} else {
		count(&h->ace_reserve_capped);
	}
}

void heap_reserve_shrink(struct heap *h)
{
	uint32_t base = (uint32_t)hak_option(OPT_HEAP_RESERVE);
	uint32_t max = policy_get()->reserve_max, limit = h->reserve_limit;

	if (h->ace_hits_seen == h->ace_reserve_hits && limit > base) {
		limit = limit / 2 > base ? limit / 2 : base;
		count(&h->ace_reserve_idle);
	}
	if (limit > max)
		limit = max > base ? max : base;
	h->ace_hits_seen = h->ace_reserve_hits;
	if (limit == h->reserve_limit)
		return;
	h->reserve_limit = limit;
	heap_release_kept(h, limit * RESERVE_SLABS);
}

void heaps_ace_counts(struct ace_counts *c)
{
	struct heap *h;

	hak_lock(&heaps_lock);
	for (h = all_heaps; h; h = h->all_next) {
		c->reserve_hits += atomic_load_relaxed(&h->ace_reserve_hits);
		c->reserve_capped += atomic_load_relaxed(&h->ace_reserve_capped);
		c->reserve_idle += atomic_load_relaxed(&h->ace_reserve_idle);
	}
	hak_unlock(&heaps_lock);
}
