// SPDX-License-Identifier: MIT
/*
 * The allocation slow path: collect remote frees, carve fresh blocks,
 * switch spans; and the owner's end of a local free that empties a span
 * (the empty reserve).  See mm/heap/heap.h.
 */
#include <errno.h>

#include <mm/heap/internal.h>
#include <mm/options.h>
#include <mm/os.h>

void heap_corrupt(const struct span *s, void *at)
{
	hak_fatal("corrupted free list at", at);
}

void *heap_free_head(const struct span *s)
{
	void *b = s->free;

	if (b && unlikely(!span_head_in_span(s, b)))
		hak_fatal("corrupted free list: link", b);
	return b;
}

void heap_set_current(struct heap *h, unsigned int cls, struct span *s)
{
	h->current[cls] = s;
	/* Drops OWNER_PARTIAL; stores only a change (other threads' frees
	 * read the line). */
	if (s != &empty_span && load_relaxed_foldable(&s->owner) != h)
		atomic_store_release(&s->owner, h);
	if (cls < NUM_TINY_CLASSES) {
		/* The entries tiny_class_lut maps to cls: the run past the
		 * previous class's size up to this one's (sizes are multiples
		 * of 16 B, mm/sizeclass.h). */
		size_t i = cls ? tiny_index(class_info[cls - 1].size) + 1 : 0;
		size_t end = tiny_index(class_info[cls].size);

		if (end >= TINY_INDEX_ENTRIES)
			end = TINY_INDEX_ENTRIES - 1;
		for (; i <= end; i++)
			h->tiny_direct[i] = s;
	}
}

void heap_init_lists(struct heap *h)
{
	unsigned int c;

	for (c = 0; c < NUM_CLASSES; c++) {
		heap_set_current(h, c, &empty_span);
		dlist_init(&h->partial[c]);
	}
	dlist_init(&h->full);
}

void span_attach_partial(struct heap *h, struct span *s, int at_tail)
{
	atomic_store_relaxed(&s->state, (uint8_t)SPAN_ACTIVE);
	s->partial_frees = 0;
	atomic_store_release(&s->owner, (struct heap *)((uintptr_t)h | OWNER_PARTIAL));
	dlist_del(&s->link);
	if (at_tail)
		dlist_add_tail(&h->partial[s->cls], &s->link);
	else
		dlist_add(&h->partial[s->cls], &s->link);
}

int span_take_remote_flags(struct span *s)
{
	uintptr_t flags = SPAN_REMOTE_DETACHED | SPAN_REMOTE_NOTIFIED | SPAN_REMOTE_PURGED;
	uintptr_t r = atomic_load_relaxed(&s->remote);

	while (!atomic_cas_acq_rel(&s->remote, &r, r & ~flags))
		;
	if (!(r & SPAN_REMOTE_PURGED))
		return 0;
	/* The purge pass took every block (remote count 0, carved 0). */
	s->used = 0;
	s->free = NULL;
	return 1;
}

int span_release_if_all_remote(struct span *s)
{
	if (!span_all_remote(s))
		return 0;
	dlist_del(&s->link);
	slabpool_release_span(s);
	return 1;
}

unsigned int spans_release_all_remote(struct dlist *list)
{
	struct dlist *pos = list->next;
	unsigned int n = 0;

	while (pos != list) {
		struct span *s = dlist_entry(pos, struct span, link);

		pos = pos->next;
		n += (unsigned int)span_release_if_all_remote(s);
	}
	return n;
}

static uint32_t gcd32(uint32_t a, uint32_t b)
{
	while (b) {
		uint32_t t = a % b;

		a = b;
		b = t;
	}
	return a;
}

/* Links up to CARVE_BYTES of fresh blocks into the free list. */
static void span_carve(struct span *s)
{
	uint32_t size = s->block_size;
	uint32_t n = CARVE_BYTES / size, i;
	uintptr_t base;
	void *head = s->free;

	if (n == 0)
		n = 1;
	if (n > s->capacity - s->carved)
		n = s->capacity - s->carved;
	base = s->start + (uintptr_t)s->carved * size;
	/* Remote frees read the limit (span_is_block) while it grows. */
	span_set_carved(s, s->carved + n);
	/* Under memcheck the span's blocks of an earlier life are no-access. */
	if (vg_on())
		vg_mem_undefined((void *)base, (size_t)n * size);
	if (IS_ENABLED(CONFIG_RANDOM_CARVE) && n > 2) {
		/* Link the batch in a random order: a random start and a
		 * stride coprime with n visit every block once. */
		uint64_t r = os_random();
		uint32_t start = (uint32_t)(r % n);
		uint32_t stride = 1 + (uint32_t)((r >> 32) % (n - 1));

		while (gcd32(stride, n) != 1)
			stride = stride % (n - 1) + 1;
		for (i = 0; i < n; i++) {
			void *b = (void *)(base + (uintptr_t)((start + (uint64_t)i * stride) % n) * size);

			fill_free_raw(b, size);
			*(void **)b = link_encode(s, b, head);
			head = b;
		}
	} else {
		for (i = n; i-- > 0;) {
			void *b = (void *)(base + (uintptr_t)i * size);

			fill_free_raw(b, size);
			*(void **)b = link_encode(s, b, head);
			head = b;
		}
	}
	s->free = head;
	/* Under memcheck free blocks are no-access (an overflow into one is
	 * seen; their links are no pointers to the leak scan). */
	if (vg_on())
		vg_mem_noaccess((void *)base, (size_t)n * size);
}

/*
 * The remote word carries the list's length, so when the free list is
 * empty (the usual case: the owner collects when it runs dry) the list
 * simply becomes the free list, without touching its blocks.
 */
uint32_t span_collect(struct span *s)
{
	uintptr_t r = atomic_load_relaxed(&s->remote);
	uint32_t n;
	void *list;

	if (!(r & REMOTE_PTR_MASK))
		return 0;
	/* Keep the flag bits, take the list and its count. */
	while (!atomic_cas_acq_rel(&s->remote, &r, r & SPAN_REMOTE_FLAGS))
		;
	list = remote_list(r);
	n = remote_count(r);
	if (n > s->used || n == 0)
		hak_fatal("remote free list longer than the blocks in use", s);
	s->used -= n;
	if (!IS_ENABLED(CONFIG_BLOCK_FILL) && !IS_ENABLED(CONFIG_VALGRIND)) {
		/* The free list holds carved - used blocks (before the
		 * subtraction above: carved - used - n now): put the remote
		 * list after it, walking the free list to its tail, which is
		 * this thread's own memory, or take it as it is. */
		void *tail = heap_free_head(s);

		if (!tail) {
			s->free = list;
			return n;
		}
		if (s->carved - s->used - n <= n) {
			void *next;

			while ((next = link_next(s, tail)))
				tail = next;
			*(void **)tail = link_encode(s, tail, list);
			return n;
		}
	}
	while (list) {
		void *next = link_next(s, list);

		fill_free_raw(list, s->block_size);
		*(void **)list = link_encode(s, list, s->free);
		/* Under memcheck the freed block stays no-access: only its
		 * link was made defined, to be read (link_next). */
		if (vg_on())
			vg_mem_noaccess(list, sizeof(void *));
		s->free = list;
		list = next;
	}
	return n;
}

/* ------------------------------------------------------------------ */
/* Getting a span for a class */

void span_unkeep(struct heap *h, struct span *s)
{
	if (s->kept_empty) {
		s->kept_empty = 0;
		h->empty_kept -= s->nslabs;
		if (IS_ENABLED(CONFIG_ADAPTIVE)) {
			h->reacquired++;
			atomic_store_relaxed(&h->ace_reserve_hits, h->ace_reserve_hits + 1);
		}
	}
}

static struct span *heap_next_span(struct heap *h, unsigned int cls)
{
	struct span *s;

	heap_drain_notified(h);
	if (!dlist_empty(&h->partial[cls])) {
		s = dlist_entry(h->partial[cls].next, struct span, link);
		dlist_del(&s->link);
		span_unkeep(h, s);
		return s;
	}
	s = abandoned_adopt(h, cls);
	if (s)
		return s;
	return slabpool_acquire_span(cls, h);
}

/* Every MAINTENANCE_EVERY slow paths: the heap's remote batch sent, the
 * deferred suspects looked at, its own sweep once per decay time, and the
 * decay check (rate-limited there). */
static noinline void heap_periodic(struct heap *h)
{
	uint64_t now = os_now_ms();

	if (h->kind == HEAP_LIVE) {
		remote_batch_send(h);
		remote_batch_drain(h);
		if (now - h->swept_ms >= hak_option(OPT_DECAY_MS)) {
			h->swept_ms = now;
			heap_sweep_remote(h);
			if (hak_option(OPT_ACE))
				heap_reserve_shrink(h);
		}
	}
	decay_run(0);
	/* Not under the shared heap's lock: pthread_create allocates. */
	if (h->kind == HEAP_LIVE)
		heap_purge_start_if_wanted();
}

void *heap_alloc_slow(struct heap *h, unsigned int cls)
{
	struct span *s;
	void *b;

	if (unlikely(h->kind != HEAP_LIVE && h->kind != HEAP_SHARED)) {
		/* First malloc of this thread, or after its teardown, or a
		 * re-entrant call while its heap is being built. */
		if (h->kind == HEAP_CREATING)
			return shared_heap_alloc(cls);
		h = heap_create_for_thread();
		if (!h)
			return shared_heap_alloc(cls);
		return heap_alloc(h, cls);
	}
	if (unlikely(++h->slow_calls % MAINTENANCE_EVERY == 0))
		heap_periodic(h);
	if (unlikely(atomic_load_relaxed(&h->suspects)))
		heap_drain_suspects(h);
	heap_integrity_walk(h);

	s = h->current[cls];
	for (;;) {
		if (s != &empty_span) {
			if (!heap_free_head(s))
				span_collect(s);
			if (!s->free && s->carved < s->capacity) {
				/* Its pages may have been offered. */
				span_reclaim_pages(s);
				span_carve(s);
			}
			if (s->free)
				break;
			/* Exhausted: detach unless a remote free just came. */
			span_check(s);
			if (span_detach(h, s) < 0)
				continue;
		}
		s = heap_next_span(h, cls);
		heap_set_current(h, cls, s ? s : &empty_span);
		if (!s) {
			errno = ENOMEM;
			return NULL;
		}
	}
	b = s->free;
	vg_mem_defined(b, 2 * sizeof(void *));
	s->free = link_next(s, b);
	s->used++;
	heap_account_alloc(h, s, b);
	return b;
}

void *heap_alloc_slow_direct(struct heap *h, size_t i)
{
	return heap_alloc_slow(h, tiny_class_lut[i]);
}

/*
 * A span that stays with its heap while empty (current, or in the reserve)
 * keeps its first block carved and free, and offers the pages after it to
 * the purge pass (superslab.h): an idle owner's memory can go back without
 * the owner.  The block kept lets a malloc/free loop of one block stay on
 * the fast paths; only a span whose carved blocks reach past the first
 * block's pages is truncated, so a class with a few blocks in use that
 * empties often (they fit in the first carve) does not pay for it.
 */
static noinline void span_truncate(struct span *s)
{
	uintptr_t keep_end = round_up_pow2(s->start + s->block_size, os_page_size());
	void *b = (void *)s->start;

	if (s->start + s->carved * s->block_size <= keep_end ||
	    atomic_load_relaxed(&s->purge) != SPAN_PAGES_KEPT)
		return;
	/* Every carved block is free, the first one too. */
	vg_mem_defined(b, 2 * sizeof(void *));
	BLOCK_KEY(b) = free_key;
	*(void **)b = link_encode(s, b, NULL);
	if (vg_on())
		vg_mem_noaccess(b, 2 * sizeof(void *));
	s->free = b;
	span_set_carved(s, 1);
	span_offer_pages(s);
}

/* Whether the blocks s carved after its first reach past a first carve
 * (which a page holds, for blocks of up to a page), so that truncating it
 * may give pages back: one multiply, for the one-block malloc/free loop
 * that empties s each time (a truncated span, carved 1, says no). */
static always_inline int span_carved_past_first(const struct span *s)
{
	return (s->carved - 1) * s->block_size >= CARVE_BYTES;
}

/* The current span emptied, past its first carve: truncated (a live heap's). */
static noinline void heap_current_emptied(struct heap *h, struct span *s)
{
	if (h->kind != HEAP_LIVE)
		return;
	span_truncate(s);
	/* The caller returns to the program next: a thread may start. */
	heap_purge_start_if_wanted();
}

void heap_noncurrent_emptied(struct heap *h, struct span *s)
{
	span_check(s);
	if (atomic_load_relaxed(&s->state) != SPAN_ACTIVE || s->kept_empty)
		return;
	/* The reserve (in slabs, RESERVE_SLABS per unit of reserve_limit)
	 * keeps spans of small blocks, for which a trip to the pool costs
	 * much more than their use; bigger blocks pay for the trip, and kept,
	 * they would be memory only their class can use. */
	if (h->kind == HEAP_LIVE && s->block_size <= RESERVE_MAX_BLOCK &&
	    h->empty_kept + s->nslabs <= h->reserve_limit * RESERVE_SLABS) {
		s->kept_empty = 1;
		h->empty_kept += s->nslabs;
		if (span_carved_past_first(s))
			span_truncate(s);
		return;
	}
	dlist_del(&s->link);
	slabpool_cache_span(s);
	heap_reserve_adapt(h);
}

/*
 * A local free left span s with no block in use.  The current span is
 * the case of a one-block malloc/free loop, which comes here every time:
 * one compare and one multiply.
 */
void heap_free_local_slow(struct heap *h, struct span *s)
{
	heap_integrity_walk(h);
	if (s == h->current[s->cls]) {
		span_check(s);
		if (unlikely(span_carved_past_first(s)))
			heap_current_emptied(h, s);
		return;
	}
	heap_noncurrent_emptied(h, s);
	/* The caller returns to the program next: a thread may start. */
	heap_purge_start_if_wanted();
}
