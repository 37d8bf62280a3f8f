// SPDX-License-Identifier: MIT
/*
 * Walks of the slab pool (slabpool_lock held): every span in use, for the
 * orphan scan, the heap checks and the statistics, and what the statistics
 * read of the pool's pages.  See superslab.h.
 */
#include <lib/bitops.h>
#include <mm/os.h>
#include <mm/superslab/superslab.h>

/* The pages of span s that are likely committed: those its carving
 * reached, less what the purge gave back. */
static uint64_t span_resident(const struct span *s)
{
	uint64_t page = os_page_size();
	uint64_t touched = span_carved_seen(s) * s->block_size;

	if (atomic_load_relaxed(&s->remote) & SPAN_REMOTE_PURGED)
		return 0;
	if (atomic_load_relaxed(&s->purge) == SPAN_PAGES_PURGED)
		touched = s->block_size;
	if (touched > s->span_bytes)
		touched = s->span_bytes;
	return (touched + page - 1) / page * page;
}

void slabpool_usage(struct slabpool_usage *u, void (*fn)(struct span *s, void *arg), void *arg)
{
	struct dlist *pos;
	unsigned int i;

	u->resident = 0;
	u->lru_bytes = 0;
	hak_lock(&slabpool_lock);
	for (pos = ss_all.next; pos != &ss_all; pos = pos->next) {
		struct superslab *ss = dlist_entry(pos, struct superslab, all_link);

		u->resident += SS_META_BYTES;
		if (ss->in_lru) {
			u->lru_bytes += SS_SIZE;
			if (!ss->decommitted)
				u->resident += SS_SIZE - SS_RESERVED_BYTES;
			continue;
		}
		u->resident += (uint64_t)popcount64(ss->dirty_mask) * SLAB_SIZE;
		for (i = 0; i < SLABS_PER_SS; i++) {
			uint64_t bit = 1ULL << i;
			struct span *s = &ss->spans[i];

			if (!(ss->usable_mask & bit) || (ss->free_mask & bit) || s->head != s)
				continue;
			u->resident += span_resident(s);
			fn(s, arg);
		}
	}
	hak_unlock(&slabpool_lock);
}

void slabpool_for_each_span(void (*fn)(struct span *s, void *arg), void *arg)
{
	struct dlist *pos;
	unsigned int i;

	hak_lock(&slabpool_lock);
	for (pos = ss_all.next; pos != &ss_all; pos = pos->next) {
		struct superslab *ss = dlist_entry(pos, struct superslab, all_link);

		if (ss->in_lru)
			continue;
		for (i = 0; i < SLABS_PER_SS; i++) {
			uint64_t bit = 1ULL << i;

			if ((ss->usable_mask & bit) && !(ss->free_mask & bit) && ss->spans[i].head == &ss->spans[i])
				fn(&ss->spans[i], arg);
		}
	}
	hak_unlock(&slabpool_lock);
}
