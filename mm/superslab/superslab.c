// SPDX-License-Identifier: MIT
/*
 * The slab pool: superslabs filed by their free runs, best fit, and the
 * budget of free slabs that stay committed.  Invariants and locks are in
 * superslab.h.  Everything here runs on slow paths under slabpool_lock.
 */
#include <stddef.h>
#include <string.h>

#include <lib/bitops.h>
#include <mm/options.h>
#include <mm/os.h>
#include <mm/policy.h>
#include <mm/stats.h>
#include <mm/superslab/superslab.h>

struct hak_lock slabpool_lock = HAK_LOCK_INIT("pool");

/*
 * slabpool_lock: superslabs with free slabs, filed by the longest run of free
 * slabs they have (slab 0 aside): ss_by_run[r].  A span of n slabs looks
 * in ss_by_run[n], then n + 1, ...: the first superslab found has room, and
 * the shortest run that fits is taken (best fit, without a scan).
 */
static struct dlist ss_by_run[SLABS_PER_SS + 1];
static int ss_by_run_ready;
/* slabpool_lock: every mapped superslab (walk.c reads it too). */
struct dlist ss_all = { &ss_all, &ss_all };
/* slabpool_lock: superslabs with dirty free slabs (see superslab.h), oldest
 * first; the dirty slabs on it; the slabs in spans. */
static struct dlist ss_dirty = { &ss_dirty, &ss_dirty };
static size_t dirty_slabs;      /* written under slabpool_lock, peeked without */
static size_t pool_slabs_in_use;
/* What the adaptive engine counts (mm/policy.h): written under
 * slabpool_lock, read relaxed. */
static uint64_t count_ss_fresh, count_lru_hits, count_lru_full;
/* Dirty slabs kept whatever the budget: 4 MiB. */
#define DIRTY_MIN_SLABS ((4UL << 20) / SLAB_SIZE)

#define SLAB0_BIT 1ULL
/* Largest class that may use the short slab 0 (keeps alignment <= 4 KiB). */
#define SLAB0_MAX_BLOCK 4096u
/* CONFIG_GUARD_PAGES: the last slab ends at the superslab's end guard (all
 * of it with 64 KiB pages): a span that covers it holds fewer blocks, and
 * one that would hold none does not use it. */
#define SLAB_LAST_BIT (1ULL << (SLABS_PER_SS - 1))

/* The slabs a span of class ci may not start in or cover. */
static uint64_t span_excluded_slabs(const struct class_info *ci)
{
	uint64_t x = 0;

	if (ci->nslabs != 1 || ci->size > SLAB0_MAX_BLOCK)
		x |= SLAB0_BIT;
	if (IS_ENABLED(CONFIG_GUARD_PAGES) &&
	    ci->nslabs * SLAB_SIZE - SS_GUARD_BYTES < ci->size)
		x |= SLAB_LAST_BIT;
	return x;
}

/* Longest run of set bits in map. */
static unsigned int longest_run(uint64_t map)
{
	unsigned int best = 0;

	while (map) {
		unsigned int run, start = first_bit_run(map, &run);

		if (run > best)
			best = run;
		map &= ~bit_run_mask(start, run);
	}
	return best;
}

/* Marks free slabs `bits` of ss dirty (slabpool_lock held). */
static void ss_dirty_add(struct superslab *ss, uint64_t bits, uint64_t now_ms)
{
	bits &= ~ss->dirty_mask;
	if (!bits)
		return;
	if (!ss->dirty_mask) {
		ss->dirty_since_ms = now_ms;
		dlist_add_tail(&ss_dirty, &ss->dirty_link);
	}
	ss->dirty_mask |= bits;
	atomic_store_relaxed(&dirty_slabs, dirty_slabs + popcount64(bits));
}

/* Slabs `bits` of ss are no longer dirty: taken, or decommitted. */
static void ss_dirty_clear(struct superslab *ss, uint64_t bits)
{
	bits &= ss->dirty_mask;
	if (!bits)
		return;
	ss->dirty_mask &= ~bits;
	atomic_store_relaxed(&dirty_slabs, dirty_slabs - popcount64(bits));
	if (!ss->dirty_mask)
		dlist_del(&ss->dirty_link);
}

/* Gives the pages of ss's dirty slabs back to the kernel (slabpool_lock held:
 * no one can take the slabs meanwhile). */
static void ss_purge_dirty(struct superslab *ss)
{
	uint64_t map = ss->dirty_mask;
	uintptr_t first = (uintptr_t)ss + ss->first_offset;

	while (map) {
		unsigned int run, start = first_bit_run(map, &run);
		uintptr_t from = (uintptr_t)ss + (uintptr_t)start * SLAB_SIZE;
		uintptr_t to = from + (uintptr_t)run * SLAB_SIZE;

		if (from < first)
			from = first;
		/* A failed madvise leaves the pages committed: no harm. */
		if (from < to)
			os_decommit((void *)from, to - from);
		map &= ~bit_run_mask(start, run);
	}
	ss_dirty_clear(ss, ss->dirty_mask);
}

/* ---- Pages of live heaps' empty spans (superslab.h). */

/* Set when a span offers its pages; the purge pass takes it and looks at
 * the superslabs' purgeable masks. */
static uint32_t spans_offered;
/* Spans decommitted per pass, at most (their madvise calls run unlocked). */
#define PURGE_SPANS_PER_PASS 64

void span_offer_pages(struct span *s)
{
	struct superslab *ss = ss_of((uintptr_t)s);
	uint64_t bit = 1ULL << s->index;

	atomic_store_release(&s->purge, (uint8_t)SPAN_PAGES_PURGEABLE);
	if (!(atomic_load_relaxed(&ss->purgeable_mask) & bit))
		atomic_fetch_or_acq_rel(&ss->purgeable_mask, bit);
	if (!atomic_load_relaxed(&spans_offered))
		atomic_store_release(&spans_offered, 1);
	purge_notify();
}

void span_reclaim_pages_slow(struct span *s)
{
	uint8_t st = atomic_load_acquire(&s->purge);

	for (;;) {
		if (st == SPAN_PAGES_KEPT)
			return;
		if (st == SPAN_PAGES_PURGING) {
			/* One madvise: short. */
			os_yield();
			st = atomic_load_acquire(&s->purge);
			continue;
		}
		/* PURGEABLE (the pass may take it now) or PURGED (the pass
		 * is done with it). */
		if (atomic_cas_acq_rel(&s->purge, &st, (uint8_t)SPAN_PAGES_KEPT))
			return;
	}
}

void span_decommit(struct span *s, int keep_first)
{
	uintptr_t page = os_page_size();
	uintptr_t from = keep_first ? round_up_pow2(s->start + s->block_size, page) : s->start;
	uintptr_t to = (uintptr_t)ss_of((uintptr_t)s) + (uintptr_t)(s->index + s->nslabs) * SLAB_SIZE;

	/* A failed madvise leaves the pages committed: no harm. */
	if (from < to)
		os_decommit((void *)from, to - from);
}

/* The purge pass: decommits offered spans; whether some were left over. */
static int slabpool_purge_offered(void)
{
	struct span *batch[PURGE_SPANS_PER_PASS];
	unsigned int n = 0, i;
	struct dlist *pos;
	int left = 0;

	if (!atomic_load_relaxed(&spans_offered) || !atomic_exchange_acq_rel(&spans_offered, 0))
		return 0;
	hak_lock(&slabpool_lock);
	for (pos = ss_all.next; pos != &ss_all && !left; pos = pos->next) {
		struct superslab *ss = dlist_entry(pos, struct superslab, all_link);
		uint64_t map;

		if (!atomic_load_relaxed(&ss->purgeable_mask))
			continue;
		map = atomic_exchange_acq_rel(&ss->purgeable_mask, 0);
		while (map) {
			struct span *s = &ss->spans[ffs64_index(map)];
			uint8_t st = SPAN_PAGES_PURGEABLE;

			if (n == PURGE_SPANS_PER_PASS) {
				/* The rest next time. */
				atomic_fetch_or_acq_rel(&ss->purgeable_mask, map);
				left = 1;
				break;
			}
			map &= map - 1;
			/* The owner may have taken it back already. */
			if (atomic_cas_acq_rel(&s->purge, &st, (uint8_t)SPAN_PAGES_PURGING))
				batch[n++] = s;
		}
	}
	hak_unlock(&slabpool_lock);
	/* A PURGING span stays where it is: its owner waits before it
	 * carves or lets it go. */
	for (i = 0; i < n; i++) {
		span_decommit(batch[i], 1);
		atomic_store_release(&batch[i]->purge, (uint8_t)SPAN_PAGES_PURGED);
	}
	stat_global_add(STAT_SPANS_PURGED, (int64_t)n);
	if (left)
		atomic_store_release(&spans_offered, 1);
	return left;
}

/* Free slabs whose pages are committed, cached spans aside (slabpool_lock). */
static size_t committed_free_slabs(void)
{
	return dirty_slabs + (size_t)lru_committed() * SLABS_PER_SS;
}

/*
 * Keeps the free but committed slabs within the budget,
 * max(DIRTY_MIN_SLABS, slabs in spans), counting the cached superslabs that
 * are still committed: decommits dirty slabs, oldest superslab first, then
 * cached superslabs, oldest first.  So a program that frees most of its
 * memory gets it back at once, and one that churns at a steady size keeps
 * its free slabs warm.  Dirty slabs older than the decay time go too, and
 * everything dirty with force (slabpool_lock held).
 */
static void slabpool_purge_dirty(uint64_t now_ms, int force)
{
	size_t cached = span_cache_slabs();
	size_t budget = pool_slabs_in_use - cached;
	uint64_t decay = hak_option(OPT_DECAY_MS);

	if (budget < DIRTY_MIN_SLABS)
		budget = DIRTY_MIN_SLABS;
	/* Cached spans count too: over the budget, they go first to the pool
	 * (as dirty slabs, purged below, oldest first). */
	if (cached && committed_free_slabs() + cached > budget)
		span_cache_drain_locked(now_ms);
	while (!dlist_empty(&ss_dirty)) {
		struct superslab *ss = dlist_entry(ss_dirty.next, struct superslab, dirty_link);

		if (!force && committed_free_slabs() <= budget &&
		    now_ms - ss->dirty_since_ms < decay)
			break;
		ss_purge_dirty(ss);
	}
	/* Then cached superslabs, oldest first. */
	lru_decommit_to(budget > dirty_slabs ? (budget - dirty_slabs) / SLABS_PER_SS : 0);
}

/* Files a superslab by its longest free run (slabpool_lock held). */
static void ss_file(struct superslab *ss)
{
	unsigned int r = longest_run(ss->free_mask & ss->usable_mask & ~SLAB0_BIT);

	if (!r && (ss->free_mask & ss->usable_mask & SLAB0_BIT))
		r = 1;
	dlist_del(&ss->pool_link);
	if (r)
		dlist_add(&ss_by_run[r], &ss->pool_link);
}

_Static_assert(offsetof(struct span, head) == 0, "ss_setup clears everything after head");

static void ss_setup(struct superslab *ss)
{
	unsigned int i;

	ss->first_offset = (uint32_t)SS_RESERVED_BYTES;
	ss->usable_mask = 0;
	for (i = 0; i < SLABS_PER_SS; i++) {
		struct span *s = &ss->spans[i];

		/* A reused superslab is registered: a stray free may read
		 * its descriptors now, so head is never anything but a
		 * descriptor of this superslab (every slab of a cached
		 * superslab is free: head == s already). */
		atomic_store_relaxed(&s->head, s);
		memset((char *)s + sizeof(s->head), 0, sizeof(*s) - sizeof(s->head));
		s->index = (uint8_t)i;
		atomic_store_relaxed(&s->state, (uint8_t)SPAN_FREE);
		dlist_init(&s->link);
		/* A slab is usable when some of it lies past the metadata. */
		if ((i + 1) * SLAB_SIZE > SS_RESERVED_BYTES)
			ss->usable_mask |= 1ULL << i;
	}
	ss->free_mask = ss->usable_mask;
	ss->in_lru = 0;
	ss->decommitted = 0;
	ss->dirty_mask = 0;
	dlist_init(&ss->pool_link);
	dlist_init(&ss->dirty_link);
}

/* A new superslab, mapped and registered (slabpool_lock held). */
static struct superslab *ss_map_new(void)
{
	struct superslab *ss;
	void *p;

	if (registry_map(SS_SIZE, SS_SIZE, 0, REG_SUPERSLAB, &p))
		return NULL;
	ss = p;
	ss_guard_install(ss);
	ss_vg_setup(ss);
	ss_setup(ss);
	dlist_add(&ss_all, &ss->all_link);
	return ss;
}

void ss_unmap(struct superslab *ss)
{
	dlist_del(&ss->all_link);
	ss_vg_teardown(ss);
	registry_unmap(ss, SS_SIZE);
}

struct span *slabpool_acquire_span(unsigned int cls, struct heap *owner)
{
	const struct class_info *ci = &class_info[cls];
	unsigned int n = ci->nslabs;
	uint64_t exclude = span_excluded_slabs(ci);
	struct superslab *ss = NULL;
	struct dlist *pos;
	unsigned int len;
	int first = -1;

	struct span *cached = span_cache_take(cls);

	if (cached) {
		span_init(ss_of((uintptr_t)cached), cached->index, cls);
		atomic_store_release(&cached->owner, owner);
		return cached;
	}

	hak_lock(&slabpool_lock);
	if (!ss_by_run_ready) {
		for (len = 0; len <= SLABS_PER_SS; len++)
			dlist_init(&ss_by_run[len]);
		ss_by_run_ready = 1;
	}
	for (len = n; len <= SLABS_PER_SS && !ss; len++) {
		for (pos = ss_by_run[len].next; pos != &ss_by_run[len]; pos = pos->next) {
			struct superslab *cand = dlist_entry(pos, struct superslab, pool_link);
			unsigned int got;
			int at = find_best_bit_run(cand->free_mask & ~exclude, n, &got);

			if (at >= 0) {
				ss = cand;
				first = at;
				break;
			}
		}
	}
	if (!ss) {
		int fresh = 0;

		ss = lru_take();
		if (!ss) {
			ss = ss_map_new();
			fresh = 1;
		}
		if (!ss) {
			hak_unlock(&slabpool_lock);
			return NULL;
		}
		if (fresh)
			atomic_store_relaxed(&count_ss_fresh, count_ss_fresh + 1);
		else
			atomic_store_relaxed(&count_lru_hits, count_lru_hits + 1);
		if (!fresh) {
			int committed = !ss->decommitted;

			ss_setup(ss);
			/* Its pages are still there: dirty from now on. */
			if (committed)
				ss_dirty_add(ss, ss->free_mask, os_now_ms());
		}
		stat_global_add(STAT_SUPERSLABS_IN_USE, 1);
		first = find_bit_run(ss->free_mask & ~exclude, n);
		if (first < 0)
			hak_fatal("class span does not fit a superslab", ss);
	}
	ss->free_mask &= ~bit_run_mask((unsigned int)first, n);
	ss_dirty_clear(ss, bit_run_mask((unsigned int)first, n));
	pool_slabs_in_use += n;
	ss_file(ss);
	hak_unlock(&slabpool_lock);

	stat_global_add(STAT_SLABS_IN_USE, n);
	span_init(ss, (unsigned int)first, cls);
	atomic_store_release(&ss->spans[first].owner, owner);
	return &ss->spans[first];
}

void span_init(struct superslab *ss, unsigned int first, unsigned int cls)
{
	const struct class_info *ci = &class_info[cls];
	struct span *s = &ss->spans[first];
	uintptr_t base = (uintptr_t)ss;
	uintptr_t start = base + (uintptr_t)first * SLAB_SIZE;
	uintptr_t end = start + (uintptr_t)ci->nslabs * SLAB_SIZE;
	unsigned int i;

	if (start < base + ss->first_offset)
		start = base + ss->first_offset;
	if (IS_ENABLED(CONFIG_GUARD_PAGES) && first + ci->nslabs == SLABS_PER_SS)
		end -= SS_GUARD_BYTES;
	for (i = first; i < first + ci->nslabs; i++)
		atomic_store_relaxed(&ss->spans[i].head, s);
	s->free = NULL;
	s->used = 0;
	s->cls = (uint8_t)cls;
	span_set_carved(s, 0);
	s->start = start;
	s->block_mul = ci->block_mul;
	s->div_inv = ci->div_inv;
	s->div_shift = (uint8_t)ci->div_shift;
	s->block_size = ci->size;
	s->capacity = (uint32_t)((end - start) / ci->size);
	s->span_bytes = (uintptr_t)s->capacity * ci->size;
	s->remote = 0;
	s->nslabs = (uint8_t)ci->nslabs;
	atomic_store_relaxed(&s->state, (uint8_t)SPAN_ACTIVE);
	s->notify_next = NULL;
	s->kept_empty = 0;
	atomic_store_relaxed(&s->purge, (uint8_t)SPAN_PAGES_KEPT);
	s->purge_seen = 0;
	dlist_init(&s->link);
	if (IS_ENABLED(CONFIG_FREELIST_HARDENED))
		s->key = os_random() | 1;
#if IS_ENABLED(CONFIG_DOUBLE_FREE_CHECK)
	memset(ss->alloc_bits[first], 0, DIV_ROUND_UP(s->capacity, 64) * sizeof(uint64_t));
#endif
}

/* Detaches an empty span from its owner and its blocks. */
static void span_empty_reset(struct span *s)
{
	span_reclaim_pages(s);
	atomic_store_release(&s->owner, (struct heap *)NULL);
	s->free = NULL;
	span_set_carved(s, 0);
}

void slabpool_cache_span(struct span *s)
{
	span_empty_reset(s);
	if (!span_cache_put(s, 0))
		slabpool_free(s);
	else
		purge_notify();
}

void slabpool_release_span(struct span *s)
{
	span_empty_reset(s);
	slabpool_free(s);
}

void slabpool_free(struct span *s)
{
	uint64_t now = os_now_ms();

	hak_lock(&slabpool_lock);
	slabpool_free_locked(s, now);
	slabpool_purge_dirty(now, 0);
	hak_unlock(&slabpool_lock);
	/* Dirty slabs, or a cached superslab, for the purge thread. */
	purge_notify();
	decay_run(0);    /* rate-limited */
}

void slabpool_free_locked(struct span *s, uint64_t now)
{
	struct superslab *ss = ss_of((uintptr_t)s);
	unsigned int first = s->index, n = s->nslabs, i;

	atomic_store_relaxed(&s->state, (uint8_t)SPAN_FREE);
	if (IS_ENABLED(CONFIG_STATS)) {
		stat_class_fold(s->cls, s->allocs, s->frees, 0);
		atomic_store_relaxed(&s->allocs, 0);
		atomic_store_relaxed(&s->frees, 0);
	}
	s->capacity = 0;
	s->span_bytes = 0;
	s->block_size = 0;
	s->div_inv = 0;
	s->free = NULL;
	stat_global_add(STAT_SLABS_IN_USE, -(int64_t)n);
	for (i = first; i < first + n; i++)
		atomic_store_relaxed(&ss->spans[i].head, &ss->spans[i]);
	ss->free_mask |= bit_run_mask(first, n);
	pool_slabs_in_use -= n;
	ss_file(ss);
	if (ss->free_mask != ss->usable_mask) {
		ss_dirty_add(ss, bit_run_mask(first, n), now);
	} else {
		/* Every slab is free: the superslab goes to the LRU cache (or
		 * is unmapped), as a whole. */
		ss_dirty_clear(ss, ss->dirty_mask);
		dlist_del(&ss->pool_link);
		stat_global_add(STAT_SUPERSLABS_IN_USE, -1);
		if (!lru_put(ss, now)) {
			if (IS_ENABLED(CONFIG_SS_LRU))
				atomic_store_relaxed(&count_lru_full, count_lru_full + 1);
			ss_unmap(ss);
		}
	}
}

int slabpool_decay(uint64_t now_ms, int force)
{
	int left = slabpool_purge_offered();

	span_cache_decay(force);
	if (lru_cached() || atomic_load_relaxed(&dirty_slabs)) {
		hak_lock(&slabpool_lock);
		slabpool_purge_dirty(now_ms, force);
		lru_decay(now_ms, force);
		hak_unlock(&slabpool_lock);
	}
	return left || span_cache_slabs() || lru_cached() || atomic_load_relaxed(&dirty_slabs);
}

void slabpool_ace_counts(struct ace_counts *c)
{
	c->ss_fresh = atomic_load_relaxed(&count_ss_fresh);
	c->lru_hits = atomic_load_relaxed(&count_lru_hits);
	c->lru_full = atomic_load_relaxed(&count_lru_full);
	c->lru_aged = lru_aged_count();
	span_cache_ace_counts(c);
}
