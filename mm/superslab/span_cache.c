// SPDX-License-Identifier: MIT
/*
 * Span caches (CONFIG_SPAN_CACHE): per class, a few empty spans that the
 * next heap needing the class takes without slabpool_lock.  A slot changes
 * only by compare-and-swap, and nothing reads through a slot before owning
 * what it held: no ABA problem.  A cached span keeps its slabs and class,
 * carved 0.  Classes with spans over SPAN_CACHE_BYTES have no slots.
 */
#include <string.h>

#include <mm/policy.h>
#include <mm/superslab/superslab.h>

#define SPAN_CACHE_BYTES (256UL << 10)
static struct span *span_cache[NUM_CLASSES][SPAN_CACHE_SLOTS];
static uint64_t cached_slabs;   /* atomic: slabs of the cached spans */
/* What the adaptive engine counts (mm/policy.h), atomic. */
static uint64_t count_hits, count_full, count_aged;

/* The slots of cls's cache that may hold a span (SPAN_CACHE_SLOTS at
 * most, mm/policy.h). */
static unsigned int span_cache_slots(unsigned int cls)
{
	size_t n = SPAN_CACHE_BYTES / ((size_t)class_info[cls].nslabs * SLAB_SIZE);

	return n < SPAN_CACHE_SLOTS ? (unsigned int)n : SPAN_CACHE_SLOTS;
}

/* The slots a put may fill now: the policy's share of them. */
static unsigned int span_cache_slots_now(unsigned int cls)
{
	unsigned int n = span_cache_slots(cls), p = policy_get()->span_cache_slots;

	return p < n ? p : n;
}

void span_cache_ace_counts(struct ace_counts *c)
{
	c->span_cache_hits = atomic_load_relaxed(&count_hits);
	c->span_cache_full = atomic_load_relaxed(&count_full);
	c->span_cache_aged = atomic_load_relaxed(&count_aged);
}

/* A span from slot i of cls's cache, or NULL. */
static struct span *span_cache_take_slot(unsigned int cls, unsigned int i)
{
	struct span *s = atomic_load_relaxed(&span_cache[cls][i]);

	if (s && atomic_cas_acq_rel(&span_cache[cls][i], &s, (struct span *)NULL)) {
		atomic_fetch_add_relaxed(&cached_slabs, -(uint64_t)s->nslabs);
		return s;
	}
	return NULL;
}

struct span *span_cache_take(unsigned int cls)
{
	unsigned int i;

	for (i = 0; i < span_cache_slots(cls); i++) {
		struct span *s = span_cache_take_slot(cls, i);

		if (s) {
			atomic_fetch_add_relaxed(&count_hits, 1);
			return s;
		}
	}
	return NULL;
}

int span_cache_put(struct span *s, unsigned int age)
{
	unsigned int i, cls = s->cls, n = span_cache_slots_now(cls);

	for (i = 0; i < n; i++) {
		struct span *none = NULL;

		if (atomic_load_relaxed(&span_cache[cls][i]))
			continue;
		s->cache_age = (uint8_t)age;
		atomic_store_relaxed(&s->state, (uint8_t)SPAN_CACHED);
		/* Counted first: once in the slot, s may be taken at once. */
		atomic_fetch_add_relaxed(&cached_slabs, (uint64_t)s->nslabs);
		if (atomic_cas_acq_rel(&span_cache[cls][i], &none, s))
			return 1;
		atomic_fetch_add_relaxed(&cached_slabs, -(uint64_t)s->nslabs);
	}
	/* A span released by a heap (age 0) that a slot more would have kept. */
	if (!age && span_cache_slots(cls))
		atomic_fetch_add_relaxed(&count_full, 1);
	return 0;
}

void span_cache_drain_locked(uint64_t now_ms)
{
	unsigned int c, i;

	for (c = 0; c < NUM_CLASSES; c++) {
		for (i = 0; i < span_cache_slots(c); i++) {
			struct span *s = span_cache_take_slot(c, i);

			if (s)
				slabpool_free_locked(s, now_ms);
		}
	}
}

void span_cache_decay(int force)
{
	unsigned int c, i;

	for (c = 0; c < NUM_CLASSES; c++) {
		for (i = 0; i < span_cache_slots(c); i++) {
			struct span *s = span_cache_take_slot(c, i);

			if (!s)
				continue;
			if (!force && s->cache_age)
				atomic_fetch_add_relaxed(&count_aged, 1);
			if (force || s->cache_age || !span_cache_put(s, 1))
				slabpool_free(s);
		}
	}
}

void span_cache_fork_child(void)
{
	memset(span_cache, 0, sizeof(span_cache));
	atomic_store_relaxed(&cached_slabs, 0);
}

uint64_t span_cache_slabs(void)
{
	return atomic_load_relaxed(&cached_slabs);
}
