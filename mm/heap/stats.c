// SPDX-License-Identifier: MIT
/*
 * The heap engine's part of the statistics (mm/stats.h): a snapshot
 * (every config: the gauges and the walk of the spans), and with
 * CONFIG_STATS the per-heap counters, merged into the global ones when a
 * heap dies.
 */
#include <mm/heap/internal.h>

#if IS_ENABLED(CONFIG_STATS)
void heap_merge_stats(struct heap *h)
{
	unsigned int i;

	for (i = 0; i < STAT_EVENTS; i++) {
		stat_global_add((enum stat_id)i, (int64_t)h->stats[i]);
		h->stats[i] = 0;
	}
	for (i = 0; i < NUM_CLASSES; i++) {
		stat_class_fold(i, 0, 0, h->class_remote[i]);
		atomic_store_relaxed(&h->class_remote[i], 0);
	}
}

static void add_events(struct stats_snapshot *st, const struct heap *h)
{
	unsigned int i;

	for (i = 0; i < STAT_EVENTS; i++)
		st->v[i] += (int64_t)atomic_load_relaxed(&h->stats[i]);
	for (i = 0; i < NUM_CLASSES; i++)
		st->cls[i][CSTAT_REMOTE_FREES] += (int64_t)atomic_load_relaxed(&h->class_remote[i]);
}

/* Adds the live heaps' counters. */
static void add_live_heaps(struct stats_snapshot *st)
{
	struct heap *h;

	hak_lock(&heaps_lock);
	for (h = all_heaps; h; h = h->all_next)
		if (atomic_load_acquire(&h->kind) == HEAP_LIVE)
			add_events(st, h);
	hak_unlock(&heaps_lock);
	if (atomic_load_acquire(&shared_ready))
		add_events(st, &shared_heap);
}
#else
static void add_live_heaps(struct stats_snapshot *st) { (void)st; }
#endif

struct walk {
	struct stats_snapshot *st;
	int64_t reserve_bytes;
};

static void walk_span(struct span *s, void *arg)
{
	struct walk *w = arg;
	int64_t *c = w->st->cls[s->cls];
	unsigned int state = atomic_load_relaxed(&s->state);

	c[CSTAT_ALLOCS] += (int64_t)atomic_load_relaxed(&s->allocs);
	c[CSTAT_FREES] += (int64_t)atomic_load_relaxed(&s->frees);
	c[CSTAT_SPANS]++;
	c[CSTAT_SLABS] += s->nslabs;
	c[CSTAT_BYTES] += (int64_t)s->span_bytes;
	if (state == SPAN_CACHED || atomic_load_relaxed(&s->kept_empty))
		w->reserve_bytes += (int64_t)s->nslabs * (int64_t)SLAB_SIZE;
}

void stats_collect(struct stats_snapshot *st)
{
	struct walk w = { st, 0 };
	struct slabpool_usage u;
	unsigned int i, k;
	int64_t *v = st->v;

	memset(st, 0, sizeof(*st));
	for (i = 0; i < STAT_COUNT; i++) {
		v[i] = atomic_load_relaxed(&stat_global[i]);
		st->peak[i] = atomic_load_relaxed(&stat_peak[i]);
	}
	if (IS_ENABLED(CONFIG_STATS))
		for (i = 0; i < NUM_CLASSES; i++)
			for (k = 0; k < 3; k++)
				st->cls[i][k] = atomic_load_relaxed(&stat_class[i][k]);
	add_live_heaps(st);
	slabpool_usage(&u, walk_span, &w);

	v[STAT_ALLOCS] = v[STAT_BIG_ALLOCS];
	v[STAT_FREES] = v[STAT_BIG_FREES];
	v[STAT_LIVE_BYTES] = v[STAT_BIG_BYTES];
	for (i = 0; i < NUM_CLASSES; i++) {
		int64_t *c = st->cls[i];

		/* A remote free is counted by its freer, before the owner
		 * sees it: the sum may lead allocs by a block in flight. */
		c[CSTAT_FREES] += c[CSTAT_REMOTE_FREES];
		c[CSTAT_LIVE] = c[CSTAT_ALLOCS] > c[CSTAT_FREES] ? c[CSTAT_ALLOCS] - c[CSTAT_FREES] : 0;
		c[CSTAT_LIVE_BYTES] = c[CSTAT_LIVE] * (int64_t)class_info[i].size;
		v[STAT_ALLOCS] += c[CSTAT_ALLOCS];
		v[STAT_FREES] += c[CSTAT_FREES];
		v[STAT_REMOTE_FREES] += c[CSTAT_REMOTE_FREES];
		v[STAT_LIVE_BYTES] += c[CSTAT_LIVE_BYTES];
	}
	v[STAT_LIVE] = v[STAT_ALLOCS] > v[STAT_FREES] ? v[STAT_ALLOCS] - v[STAT_FREES] : 0;
	v[STAT_LRU_BYTES] = (int64_t)u.lru_bytes;
	v[STAT_RESERVE_BYTES] = w.reserve_bytes;
	v[STAT_CACHED_BYTES] = v[STAT_BIG_CACHED_BYTES] + v[STAT_LRU_BYTES] + v[STAT_RESERVE_BYTES];
	v[STAT_RESIDENT_ESTIMATE] = (int64_t)u.resident + v[STAT_BIG_BYTES] + v[STAT_BIG_CACHED_BYTES];
	for (i = 0; i < STAT_COUNT; i++) {
		if (stat_kind((enum stat_id)i) != STAT_KIND_DERIVED)
			continue;
		stat_peak_raise((enum stat_id)i, v[i]);
		if (st->peak[i] < v[i])
			st->peak[i] = v[i];
	}
}
