// SPDX-License-Identifier: MIT
/* The heap engine's statistics (CONFIG_STATS): mm/stats.h's EVENT rows,
 * per heap, merged into stat_global when a heap dies. */
#include <mm/heap/internal.h>

void heap_merge_stats(struct heap *h)
{
	unsigned int i;

	for (i = 0; i < STAT_EVENTS; i++) {
		stat_global_add((enum stat_id)i, (int64_t)h->stats[i]);
		h->stats[i] = 0;
	}
}

static void add_events(int64_t out[STAT_COUNT], const struct heap *h)
{
	unsigned int i;

	for (i = 0; i < STAT_EVENTS; i++)
		out[i] += (int64_t)atomic_load_relaxed(&h->stats[i]);
}

void heaps_add_live_stats(int64_t out[STAT_COUNT])
{
	struct heap *h;

	hak_lock(&heaps_lock);
	for (h = all_heaps; h; h = h->all_next)
		if (atomic_load_acquire(&h->kind) == HEAP_LIVE)
			add_events(out, h);
	hak_unlock(&heaps_lock);
	if (atomic_load_acquire(&shared_ready))
		add_events(out, &shared_heap);
}
