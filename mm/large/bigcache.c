// SPDX-License-Identifier: MIT
/* BigCache (CONFIG_BIGCACHE), see large.h.  Its decay hook is registered
 * with the first cached mapping. */
#include <mm/large/internal.h>
#include <mm/policy.h>
#include <mm/stats.h>

static struct hak_lock big_lock = HAK_LOCK_INIT("bigcache");
/* big_lock: every cached mapping, newest first. */
static struct dlist big_cache = { &big_cache, &big_cache };
static size_t cached_bytes;   /* big_lock; relaxed peek */
static int decay_hooked;
/* What the adaptive engine counts (mm/policy.h): hits and the evictions
 * under big_lock, read relaxed; misses atomic (some without the lock). */
static uint64_t count_hits, count_misses, count_over_budget, count_aged;

void bigcache_ace_counts(struct ace_counts *c)
{
	c->big_hits = atomic_load_relaxed(&count_hits);
	c->big_misses = atomic_load_relaxed(&count_misses);
	c->big_over_budget = atomic_load_relaxed(&count_over_budget);
	c->big_aged = atomic_load_relaxed(&count_aged);
}

/* Unlinks a cached mapping (big_lock held). */
static void cache_take(struct large_header *h)
{
	dlist_del(&h->link);
	atomic_store_relaxed(&cached_bytes, cached_bytes - h->map_size);
	stat_global_add(STAT_BIG_CACHED, -1);
	stat_global_add(STAT_BIG_CACHED_BYTES, -(int64_t)h->map_size);
}

/* Unlinks and unmaps a cached mapping (big_lock held). */
static void cache_evict(struct large_header *h)
{
	cache_take(h);
	h->magic = 0;
	large_unmap(h);
}

/*
 * The smallest cached mapping that holds map_size bytes and is at most
 * twice that: a reused mapping may be a size class or a few larger.
 */
struct large_header *bigcache_get(size_t map_size)
{
	struct large_header *best = NULL;
	struct dlist *pos;

	if (!atomic_load_relaxed(&cached_bytes)) {
		atomic_fetch_add_relaxed(&count_misses, 1);
		return NULL;
	}
	hak_lock(&big_lock);
	for (pos = big_cache.next; pos != &big_cache; pos = pos->next) {
		struct large_header *h = dlist_entry(pos, struct large_header, link);

		if (h->map_size >= map_size && h->map_size / 2 <= map_size &&
		    (!best || h->map_size < best->map_size))
			best = h;
	}
	if (best) {
		cache_take(best);
		atomic_store_relaxed(&count_hits, count_hits + 1);
	}
	hak_unlock(&big_lock);
	if (!best)
		atomic_fetch_add_relaxed(&count_misses, 1);
	return best;
}

static int bigcache_decay(uint64_t now_ms, int force)
{
	uint64_t decay = hak_option(OPT_DECAY_MS);

	if (!atomic_load_relaxed(&cached_bytes))
		return 0;
	hak_lock(&big_lock);
	while (!dlist_empty(&big_cache)) {
		struct large_header *old = dlist_entry(big_cache.prev, struct large_header, link);

		if (!force && now_ms - old->cached_ms < decay)
			break;
		if (!force)
			atomic_store_relaxed(&count_aged, count_aged + 1);
		cache_evict(old);
	}
	hak_unlock(&big_lock);
	return atomic_load_relaxed(&cached_bytes) != 0;
}

int bigcache_put(struct large_header *h)
{
	size_t budget = (size_t)policy_get()->bigcache_bytes;

	if (h->user != (uintptr_t)h + LARGE_HEADER_BYTES || h->map_size > budget ||
	    hak_option(OPT_DECAY_MS) == 0)
		return 0;
	if (!atomic_load_acquire(&decay_hooked) && !atomic_exchange_acq_rel(&decay_hooked, 1))
		decay_add_hook(bigcache_decay);
	hak_lock(&big_lock);
	/* Over budget: the oldest go first. */
	while (cached_bytes + h->map_size > budget) {
		atomic_store_relaxed(&count_over_budget, count_over_budget + 1);
		cache_evict(dlist_entry(big_cache.prev, struct large_header, link));
	}
	h->magic = LARGE_CACHED;
	h->cached_ms = os_now_ms();
	dlist_add(&big_cache, &h->link);
	atomic_store_relaxed(&cached_bytes, cached_bytes + h->map_size);
	stat_global_add(STAT_BIG_CACHED, 1);
	stat_global_add(STAT_BIG_CACHED_BYTES, (int64_t)h->map_size);
	hak_unlock(&big_lock);
	purge_notify();
	return 1;
}

void bigcache_for_each_lock(void (*fn)(const struct hak_lock *l, void *arg), void *arg)
{
	fn(&big_lock, arg);
}

void bigcache_fork_prepare(void)
{
	hak_lock(&big_lock);
}

void bigcache_fork_parent(void)
{
	hak_unlock(&big_lock);
}
