// SPDX-License-Identifier: MIT
/*
 * The shared slab pool and the LRU cache of empty superslabs.  Invariants
 * and lock order are in superslab.h.  Everything here runs on slow paths
 * under pool_lock.
 */
#include <stddef.h>
#include <string.h>

#include <lib/bitops.h>
#include <mm/heap.h>
#include <mm/options.h>
#include <mm/os.h>
#include <mm/stats.h>
#include <mm/superslab/superslab.h>

struct hak_lock pool_lock = HAK_LOCK_INIT("pool");

/*
 * pool_lock: superslabs with free slabs, filed by the longest run of free
 * slabs they have (slab 0 aside): ss_by_run[r].  A span of n slabs looks
 * in ss_by_run[n], then n + 1, ...: the first superslab found has room, and
 * the shortest run that fits is taken (best fit, without a scan).
 */
static struct dlist ss_by_run[SLABS_PER_SS + 1];
static int ss_by_run_ready;
/* pool_lock: every mapped superslab. */
static struct dlist ss_all = { &ss_all, &ss_all };
/* pool_lock: empty superslabs, most recently emptied first. */
static struct dlist ss_lru = { &ss_lru, &ss_lru };
static unsigned int lru_count;
/* pool_lock: cached superslabs whose pages are still committed. */
static unsigned int lru_committed;

/* pool_lock: superslabs with dirty free slabs (see superslab.h), oldest
 * first; the dirty slabs on it; the slabs in spans. */
static struct dlist ss_dirty = { &ss_dirty, &ss_dirty };
static size_t dirty_slabs;      /* written under pool_lock, peeked without */
static size_t pool_slabs_in_use;
/*
 * Span caches: per class, a few empty spans that one heap released and the
 * next heap needing the class takes, without pool_lock.  A slot holds a
 * span or NULL and changes only by compare-and-swap: a span belongs to
 * whoever swapped it in or out, nothing reads through a slot before owning
 * what it held, so there is no ABA problem.  A cached span keeps its slabs
 * and its class, with carved 0 (no pointer into it passes as a block).
 * Classes with spans over SPAN_CACHE_BYTES have no slots.  The decay check
 * moves spans cached since the previous check to the pool, malloc_trim all.
 */
#define SPAN_CACHE_SLOTS 4
#define SPAN_CACHE_BYTES (256UL << 10)
static struct span *span_cache[NUM_CLASSES][SPAN_CACHE_SLOTS];
static uint64_t span_cache_slabs;   /* atomic: slabs of the cached spans */

/* Dirty slabs kept whatever the budget: 4 MiB. */
#define DIRTY_MIN_SLABS ((4UL << 20) / SLAB_SIZE)

#define SLAB0_BIT 1ULL
/* Cached superslabs kept committed (ready for reuse without page faults). */
#define LRU_COMMITTED 4
/* Largest class that may use the short slab 0 (keeps alignment <= 4 KiB). */
#define SLAB0_MAX_BLOCK 4096u

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

/* Marks free slabs `bits` of ss dirty (pool_lock held). */
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

/* Gives the pages of ss's dirty slabs back to the kernel (pool_lock held:
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

static void ss_decommit(struct superslab *ss);
static void span_cache_drain_locked(uint64_t now_ms);

/* Free slabs whose pages are committed, cached spans aside (pool_lock). */
static size_t committed_free_slabs(void)
{
	return dirty_slabs + (size_t)lru_committed * SLABS_PER_SS;
}

/*
 * Keeps the free but committed slabs within the budget,
 * max(DIRTY_MIN_SLABS, slabs in spans), counting the cached superslabs that
 * are still committed: decommits dirty slabs, oldest superslab first, then
 * cached superslabs, oldest first.  So a program that frees most of its
 * memory gets it back at once, and one that churns at a steady size keeps
 * its free slabs warm.  Dirty slabs older than the decay time go too, and
 * everything dirty with force (pool_lock held).
 */
static void pool_purge_dirty(uint64_t now_ms, int force)
{
	size_t cached = atomic_load_relaxed(&span_cache_slabs);
	size_t budget = pool_slabs_in_use - cached;
	uint64_t decay = hak_option(OPT_DECAY_MS);
	struct dlist *pos;

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
	for (pos = ss_lru.prev; pos != &ss_lru && committed_free_slabs() > budget; pos = pos->prev)
		ss_decommit(dlist_entry(pos, struct superslab, pool_link));
}

/* Files a superslab by its longest free run (pool_lock held). */
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

/* A new superslab, mapped and registered (pool_lock held). */
static struct superslab *ss_map_new(void)
{
	struct superslab *ss;
	void *p;

	if (registry_map(SS_SIZE, SS_SIZE, 0, REG_SUPERSLAB, &p))
		return NULL;
	ss = p;
	if (IS_ENABLED(CONFIG_GUARD_PAGES) &&
	    os_protect_none((char *)p + SS_META_BYTES, SS_GUARD_BYTES))
		hak_fatal("cannot protect superslab guard", p);
	ss_setup(ss);
	dlist_add(&ss_all, &ss->all_link);
	return ss;
}

static void ss_unmap(struct superslab *ss)
{
	dlist_del(&ss->all_link);
	registry_unmap(ss, SS_SIZE);
}

/* Gives a cached superslab's pages back, keeping its address space. */
static void ss_decommit(struct superslab *ss)
{
	if (!ss->decommitted &&
	    !os_decommit((char *)ss + SS_RESERVED_BYTES, SS_SIZE - SS_RESERVED_BYTES)) {
		ss->decommitted = 1;
		lru_committed--;
	}
}

/* Takes ss off the LRU cache and its counts (pool_lock held). */
static void ss_lru_remove(struct superslab *ss)
{
	dlist_del(&ss->pool_link);
	atomic_store_relaxed(&lru_count, lru_count - 1);
	if (!ss->decommitted)
		lru_committed--;
	stat_global_add(STAT_SUPERSLABS_CACHED, -1);
}

/* Takes a superslab from the LRU cache, most recently emptied first. */
static struct superslab *ss_from_lru(void)
{
	struct superslab *ss;

	if (dlist_empty(&ss_lru))
		return NULL;
	ss = dlist_entry(ss_lru.next, struct superslab, pool_link);
	ss_lru_remove(ss);
	ss->in_lru = 0;
	return ss;
}

static unsigned int span_cache_slots(unsigned int cls)
{
	size_t n;

	if (!IS_ENABLED(CONFIG_SPAN_CACHE))
		return 0;
	n = SPAN_CACHE_BYTES / ((size_t)class_info[cls].nslabs * SLAB_SIZE);
	return n < SPAN_CACHE_SLOTS ? (unsigned int)n : SPAN_CACHE_SLOTS;
}

/* A span from slot i of cls's cache, or NULL. */
static struct span *span_cache_take_slot(unsigned int cls, unsigned int i)
{
	struct span *s = atomic_load_relaxed(&span_cache[cls][i]);

	if (s && atomic_cas_acq_rel(&span_cache[cls][i], &s, (struct span *)NULL)) {
		atomic_fetch_add_relaxed(&span_cache_slabs, -(uint64_t)s->nslabs);
		return s;
	}
	return NULL;
}

/* Puts s, reset as CACHED, in a free slot of its class's cache; 0 if full. */
static int span_cache_put(struct span *s, unsigned int age)
{
	unsigned int i, cls = s->cls, n = span_cache_slots(cls);

	for (i = 0; i < n; i++) {
		struct span *none = NULL;

		if (atomic_load_relaxed(&span_cache[cls][i]))
			continue;
		s->cache_age = (uint8_t)age;
		atomic_store_relaxed(&s->state, (uint8_t)SPAN_CACHED);
		/* Counted first: once in the slot, s may be taken at once. */
		atomic_fetch_add_relaxed(&span_cache_slabs, (uint64_t)s->nslabs);
		if (atomic_cas_acq_rel(&span_cache[cls][i], &none, s))
			return 1;
		atomic_fetch_add_relaxed(&span_cache_slabs, -(uint64_t)s->nslabs);
	}
	return 0;
}

static void span_free_to_pool(struct span *s);
static void span_free_locked(struct span *s, uint64_t now);

/* Moves every cached span to the pool (pool_lock held). */
static void span_cache_drain_locked(uint64_t now_ms)
{
	unsigned int c, i;

	for (c = 0; c < NUM_CLASSES; c++) {
		for (i = 0; i < span_cache_slots(c); i++) {
			struct span *s = span_cache_take_slot(c, i);

			if (s)
				span_free_locked(s, now_ms);
		}
	}
}

/*
 * The decay check: spans that were cached at the previous check go to the
 * pool, the others stay one more round; all go with force.
 */
static void span_cache_decay(int force)
{
	unsigned int c, i;

	for (c = 0; c < NUM_CLASSES; c++) {
		for (i = 0; i < span_cache_slots(c); i++) {
			struct span *s = span_cache_take_slot(c, i);

			if (!s)
				continue;
			if (force || s->cache_age || !span_cache_put(s, 1))
				span_free_to_pool(s);
		}
	}
}

void pool_fork_child(void)
{
	memset(span_cache, 0, sizeof(span_cache));
	atomic_store_relaxed(&span_cache_slabs, 0);
}

uint64_t pool_span_cache_slabs(void)
{
	return atomic_load_relaxed(&span_cache_slabs);
}

struct span *pool_acquire_span(unsigned int cls, struct heap *owner)
{
	const struct class_info *ci = &class_info[cls];
	unsigned int n = ci->nslabs;
	uint64_t exclude = (n == 1 && ci->size <= SLAB0_MAX_BLOCK) ? 0 : SLAB0_BIT;
	struct superslab *ss = NULL;
	struct dlist *pos;
	unsigned int len;
	int first = -1;

	for (len = 0; len < span_cache_slots(cls); len++) {
		struct span *s = span_cache_take_slot(cls, len);

		if (s) {
			span_init(ss_of((uintptr_t)s), s->index, cls);
			atomic_store_release(&s->owner, owner);
			return s;
		}
	}

	hak_lock(&pool_lock);
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

		ss = ss_from_lru();
		if (!ss) {
			ss = ss_map_new();
			fresh = 1;
		}
		if (!ss) {
			hak_unlock(&pool_lock);
			return NULL;
		}
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
	hak_unlock(&pool_lock);

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
	dlist_init(&s->link);
	if (IS_ENABLED(CONFIG_FREELIST_HARDENED))
		s->key = heap_random() | 1;
#if IS_ENABLED(CONFIG_DOUBLE_FREE_CHECK)
	memset(ss->alloc_bits[first], 0, ((s->capacity + 63) / 64) * sizeof(uint64_t));
#endif
}

/* Detaches an empty span from its owner and its blocks. */
static void span_empty_reset(struct span *s)
{
	atomic_store_release(&s->owner, (struct heap *)NULL);
	s->free = NULL;
	span_set_carved(s, 0);
}

void pool_cache_span(struct span *s)
{
	span_empty_reset(s);
	if (!span_cache_put(s, 0))
		span_free_to_pool(s);
}

void pool_release_span(struct span *s)
{
	span_empty_reset(s);
	span_free_to_pool(s);
}

/* Gives an empty span (owner NULL, carved 0) to the pool. */
static void span_free_to_pool(struct span *s)
{
	uint64_t now = os_now_ms();

	hak_lock(&pool_lock);
	span_free_locked(s, now);
	pool_purge_dirty(now, 0);
	hak_unlock(&pool_lock);
	heap_maintenance(0);    /* rate-limited decay check */
}

/* Puts an empty span's slabs back in the pool (pool_lock held). */
static void span_free_locked(struct span *s, uint64_t now)
{
	struct superslab *ss = ss_of((uintptr_t)s);
	unsigned int first = s->index, n = s->nslabs, i;

	atomic_store_relaxed(&s->state, (uint8_t)SPAN_FREE);
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
		if (IS_ENABLED(CONFIG_SS_LRU) && lru_count < hak_option(OPT_SS_LRU_CAPACITY) &&
		    hak_option(OPT_DECAY_MS) > 0) {
			ss->in_lru = 1;
			ss->cached_since_ms = now;
			dlist_add(&ss_lru, &ss->pool_link);
			atomic_store_relaxed(&lru_count, lru_count + 1);
			lru_committed++;
			stat_global_add(STAT_SUPERSLABS_CACHED, 1);
		} else {
			ss_unmap(ss);
		}
	}
}

void pool_decay(uint64_t now_ms, int force)
{
	uint64_t decay = hak_option(OPT_DECAY_MS);
	struct dlist *pos;
	unsigned int i = 0;

	span_cache_decay(force);
	if (!atomic_load_relaxed(&lru_count) && !atomic_load_relaxed(&dirty_slabs))
		return;
	hak_lock(&pool_lock);
	pool_purge_dirty(now_ms, force);
	/* Past the first LRU_COMMITTED, cached superslabs idle for half the
	 * decay time give their pages back; older than the decay time, they
	 * are unmapped. */
	for (pos = ss_lru.next; pos != &ss_lru; pos = pos->next) {
		struct superslab *ss = dlist_entry(pos, struct superslab, pool_link);

		if (++i > LRU_COMMITTED && (force || now_ms - ss->cached_since_ms >= decay / 2))
			ss_decommit(ss);
	}
	while (!dlist_empty(&ss_lru)) {
		struct superslab *ss = dlist_entry(ss_lru.prev, struct superslab, pool_link);

		if (!force && now_ms - ss->cached_since_ms < decay)
			break;
		ss_lru_remove(ss);
		ss_unmap(ss);
	}
	hak_unlock(&pool_lock);
}

void pool_for_each_span(void (*fn)(struct span *s, void *arg), void *arg)
{
	struct dlist *pos;
	unsigned int i;

	hak_lock(&pool_lock);
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
	hak_unlock(&pool_lock);
}
