// SPDX-License-Identifier: MIT
/*
 * The adaptive engine (CONFIG_ADAPTIVE): once per decay time, from the
 * decay pass (a hook), it reads what the caches of every layer counted
 * (struct ace_counts, mm/policy.h), decides each knob of the cache policy
 * from the counts of the window since its last decision, and publishes a
 * new snapshot when a knob moved.  It runs only off the hot paths; the
 * slow paths read the snapshot with one load.
 *
 * The rule for each knob is a high-water mark with bounds (mm/policy.h):
 * it doubles (span cache slots: one more) when the window shows misses a
 * bigger cache would have served, and halves (one fewer) when what the
 * cache kept went unused for a decay time; it starts at its upper bound,
 * where the options put it.  Each heap sizes its own reserve within
 * reserve_max (mm/heap/adaptive.c).
 *
 *   reserve_max       grows: a heap wanted a bigger reserve than allowed;
 *                     shrinks: no heap took a span from its reserve, and
 *                     some halved theirs for want of use
 *   lru_capacity      grows: an empty superslab was unmapped because the
 *                     LRU was full, and a superslab was mapped new;
 *                     shrinks: cached superslabs aged out, none was reused
 *   bigcache_bytes    grows: mappings were evicted to stay in the budget,
 *                     and a big block was mapped new; shrinks: cached
 *                     mappings aged out, none was reused
 *   span_cache_slots  grows: a released span found its class's slots full,
 *                     and a superslab was mapped new or a span taken from
 *                     the pool; shrinks: cached spans aged out, none reused
 */
#include <string.h>

#include <mm/heap/heap.h>
#include <mm/large/large.h>
#include <mm/options.h>
#include <mm/os.h>
#include <mm/policy.h>
#include <mm/superslab/superslab.h>

/* Decisions at most this often, whatever the decay time. */
#define ACE_MIN_WINDOW_MS 10

static struct ace_counts ace_last;       /* decay pass only */
static uint64_t ace_last_ms;

/* A knob doubled up to hi (from 0: to lo, or 1), or halved down to lo. */
static uint64_t grow(uint64_t v, uint64_t lo, uint64_t hi)
{
	return v >= hi / 2 ? hi : v ? 2 * v : lo ? lo : 1;
}

static uint64_t shrink(uint64_t v, uint64_t lo)
{
	return v / 2 <= lo ? lo : v / 2;
}

void ace_decide(const struct ace_counts *w, const struct hak_policy *cur,
		struct hak_policy *next)
{
	uint32_t res_lo = (uint32_t)hak_option(OPT_HEAP_RESERVE);
	uint32_t res_hi = (uint32_t)hak_option(OPT_HEAP_RESERVE_MAX);
	uint32_t lru_hi = (uint32_t)hak_option(OPT_SS_LRU_CAPACITY);
	uint64_t big_hi = hak_option(OPT_BIGCACHE_MB) << 20, big_lo = big_hi / 8;

	*next = *cur;
	if (res_hi < res_lo)
		res_hi = res_lo;
	if (w->reserve_capped)
		next->reserve_max = (uint32_t)grow(cur->reserve_max, res_lo, res_hi);
	else if (!w->reserve_hits && w->reserve_idle)
		next->reserve_max = (uint32_t)shrink(cur->reserve_max, res_lo);

	if (w->lru_full && w->ss_fresh)
		next->lru_capacity = (uint32_t)grow(cur->lru_capacity, 1, lru_hi);
	else if (w->lru_aged && !w->lru_hits)
		next->lru_capacity = (uint32_t)shrink(cur->lru_capacity, lru_hi ? 1 : 0);

	if (w->big_over_budget && w->big_misses)
		next->bigcache_bytes = grow(cur->bigcache_bytes, big_lo, big_hi);
	else if (w->big_aged && !w->big_hits)
		next->bigcache_bytes = shrink(cur->bigcache_bytes, big_lo);

	if (w->span_cache_full && (w->ss_fresh || w->lru_hits) &&
	    cur->span_cache_slots < SPAN_CACHE_SLOTS)
		next->span_cache_slots = cur->span_cache_slots + 1;
	else if (w->span_cache_aged && !w->span_cache_hits && cur->span_cache_slots > 1)
		next->span_cache_slots = cur->span_cache_slots - 1;
}

/* Counter by counter, a - b (struct ace_counts holds only uint64_t). */
static void ace_counts_sub(struct ace_counts *out, const struct ace_counts *a,
			   const struct ace_counts *b)
{
	const uint64_t *x = (const uint64_t *)a, *y = (const uint64_t *)b;
	uint64_t *o = (uint64_t *)out;
	size_t i;

	for (i = 0; i < sizeof(*out) / sizeof(uint64_t); i++)
		o[i] = x[i] - y[i];
}

int ace_update(uint64_t now_ms, int force)
{
	uint64_t window = hak_option(OPT_DECAY_MS);
	struct ace_counts total = { 0 }, w;
	const struct hak_policy *cur = policy_get();
	struct hak_policy next;

	(void)force;
	if (!hak_option(OPT_ACE))
		return 0;
	if (window < ACE_MIN_WINDOW_MS)
		window = ACE_MIN_WINDOW_MS;
	if (now_ms - ace_last_ms < window)
		return 0;
	heaps_ace_counts(&total);
	slabpool_ace_counts(&total);
	bigcache_ace_counts(&total);
	ace_counts_sub(&w, &total, &ace_last);
	ace_last = total;
	ace_last_ms = now_ms;
	ace_decide(&w, cur, &next);
	if (IS_ENABLED(CONFIG_ACE_BANDIT))
		ace_bandit_step(&w, &next);
	/* next is a copy of cur with the knobs decided (epoch and padding
	 * copied too): any difference is a knob that moved. */
	if (memcmp(&next, cur, sizeof(next)))
		policy_publish(&next);
	/* Nothing held: the engine never keeps the purge thread awake. */
	return 0;
}
