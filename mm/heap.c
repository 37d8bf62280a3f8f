// SPDX-License-Identifier: MIT
/*
 * Thread heaps: slow paths, remote frees, teardown and adoption.  The
 * design and invariants are in mm/heap.h and mm/superslab/superslab.h.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include <asm/cycles.h>
#include <lib/bitops.h>
#include <mm/heap.h>
#include <mm/init.h>
#include <mm/large/large.h>
#include <mm/options.h>
#include <mm/os.h>
#include <mm/stats.h>

__thread struct heap *tls_heap __attribute__((tls_model("initial-exec"))) = &empty_heap;

/* The stand-in span: no free blocks, never owned. */
struct span empty_span;

#define HEAP_STATIC_INIT(k) { .current = { [0 ... NUM_CLASSES - 1] = &empty_span }, \
	.tiny_direct = { [0 ... TINY_DIRECT_ENTRIES - 1] = &empty_span }, \
	.kind = (k), .notify_lock = HAK_LOCK_INIT("heap-notify") }
struct heap empty_heap = HEAP_STATIC_INIT(HEAP_EMPTY);
static struct heap dead_heap = HEAP_STATIC_INIT(HEAP_DEAD);
static struct heap creating_heap = HEAP_STATIC_INIT(HEAP_CREATING);
static struct heap shared_heap = HEAP_STATIC_INIT(HEAP_SHARED);
static struct hak_lock shared_lock = HAK_LOCK_INIT("shared-heap");
static int shared_ready;
static uint64_t shared_calls;    /* shared_lock */

static struct hak_lock heaps_lock = HAK_LOCK_INIT("heaps");
static struct heap *all_heaps;    /* heaps_lock */
static struct heap *free_heaps;   /* heaps_lock */

/*
 * Abandoned spans, per class.  Class c's list is under lock c %
 * ABANDONED_LOCKS, so that threads adopting spans of different classes
 * seldom meet (and the fork handler, which takes them all, holds few
 * locks).  The lists are set up by heaps_init, at init.
 */
#define ABANDONED_LOCKS 8

struct abandoned_lock {
	struct hak_lock lock;
} __attribute__((aligned(CACHE_LINE_SIZE)));

static struct abandoned_lock abandoned_locks[ABANDONED_LOCKS] = {
	[0 ... ABANDONED_LOCKS - 1] = { HAK_LOCK_INIT("abandoned") },
};

struct abandoned_class {
	struct dlist spans;    /* its lock */
	/* Spans on the list (relaxed peek): adoption and the reclaim scan
	 * look at it before taking the lock. */
	uint32_t count;
} __attribute__((aligned(CACHE_LINE_SIZE)));

static struct abandoned_class abandoned[NUM_CLASSES];

#if IS_ENABLED(CONFIG_STATS)
/* Merged counters of dead heaps, and counts of threads without a heap. */
static uint64_t dead_class_allocs[NUM_CLASSES];
static uint64_t dead_class_frees[NUM_CLASSES];
static int64_t dead_remote_frees, dead_foreign_frees;
#endif

static uint64_t last_maintenance_ms;
static uint32_t maintenance_running;

/* Slabs of empty reserve per unit of HAKMEM_HEAP_RESERVE. */
#define RESERVE_SLABS 4
/* The reserve keeps spans of blocks up to this size only. */
#define RESERVE_MAX_BLOCK 4096u
/* Carve at most this many bytes' worth of blocks per slow-path trip. */
#define CARVE_BYTES 4096u
#define MAINTENANCE_EVERY 64u

/* ------------------------------------------------------------------ */
/* Small helpers */

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

uint64_t heap_random(void)
{
	/* splitmix64 over a shared state seeded from the cycle counter;
	 * races only mix the sequence further. */
	uint64_t z = atomic_fetch_add_relaxed(&rng_state, 0x9e3779b97f4a7c15ULL) ^ get_cycles();

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void heap_corrupt(const struct span *s, void *at)
{
	hak_fatal("corrupted free list at", at);
}

/*
 * s->free, checked: the fast pop leaves the link it read there unchecked
 * (heap_pop), so the slow paths check it before reading through it.
 */
static void *heap_free_head(const struct span *s)
{
	void *b = s->free;

	if (b && unlikely(!span_head_in_span(s, b)))
		hak_fatal("corrupted free list: link", b);
	return b;
}

/* A free of the block freed last: ignored and counted (release). */
void heap_double_free(void *p)
{
	hak_bad_free(BAD_DOUBLE_FREE, p);
}

void heap_set_current(struct heap *h, unsigned int cls, struct span *s)
{
	h->current[cls] = s;
	if (cls < NUM_TINY_CLASSES) {
		/* The entries tiny_class_lut maps to cls: a run, as the table
		 * grows with the size; it starts past the previous class. */
		unsigned int i = cls ? class_info[cls - 1].size / 16 + 1 : 0;

		for (; i < TINY_DIRECT_ENTRIES && tiny_class_lut[i] == cls; i++)
			h->tiny_direct[i] = s;
	}
}

static void init_lists(struct heap *h)
{
	unsigned int c;

	for (c = 0; c < NUM_CLASSES; c++) {
		heap_set_current(h, c, &empty_span);
		dlist_init(&h->partial[c]);
	}
	dlist_init(&h->full);
}

/* Class cls's abandoned spans, with its lock taken. */
static struct abandoned_class *abandoned_lock_class(unsigned int cls)
{
	struct hak_lock *l = &abandoned_locks[cls % ABANDONED_LOCKS].lock;

	hak_lock(l);
	return &abandoned[cls];
}

static void abandoned_unlock_class(unsigned int cls)
{
	hak_unlock(&abandoned_locks[cls % ABANDONED_LOCKS].lock);
}

void heaps_init(void)
{
	unsigned int c;

	for (c = 0; c < NUM_CLASSES; c++)
		dlist_init(&abandoned[c].spans);
}

/* Takes span s off its class's abandoned list (the class's lock held). */
static void abandoned_remove(struct abandoned_class *a, struct span *s)
{
	dlist_del(&s->link);
	atomic_fetch_add_relaxed(&a->count, (uint32_t)-1);
}

/* Takes abandoned span s (its class's lock held) for heap h. */
static void abandoned_take(struct abandoned_class *a, struct span *s, struct heap *h)
{
	abandoned_remove(a, s);
	atomic_store_relaxed(&s->state, (uint8_t)SPAN_ACTIVE);
	atomic_store_release(&s->owner, h);
}

/*
 * The owner is published with release stores after its heap (and its
 * notify_lock) is set up; a remote freer reads it with acquire before it
 * takes that lock.
 */
static inline struct heap *owner_heap(const struct span *s)
{
	return (struct heap *)((uintptr_t)atomic_load_acquire(&s->owner) & ~OWNER_DETACHED);
}

/* ------------------------------------------------------------------ */
/* Debug boxes */

void heap_alloc_twice(void *b)
{
	hak_fatal("free list holds an allocated block", b);
}

void heap_free_twice(void *p)
{
	hak_fatal("double free", p);
}

void heap_debug_alloc(struct span *s, void *b)
{
	const unsigned char *p = b;
	size_t i;

	if (span_block_index(s, (uintptr_t)b) < 0)
		heap_corrupt(s, b);
	vg_mem_defined(b, s->block_size);
	for (i = sizeof(void *); i < s->block_size; i++)
		if (p[i] != FILL_FREE)
			hak_fatal("write after free", b);
	memset(b, FILL_ALLOC, s->block_size);
}

/*
 * A remote free marks block p free; aborts if it already is (the owner's
 * free does the same in heap_free_block).
 */
static void debug_mark_free(struct span *s, void *p)
{
#if IS_ENABLED(CONFIG_DOUBLE_FREE_CHECK)
	long idx = span_block_index(s, (uintptr_t)p);

	if (idx < 0 || !test_and_clear_bit_atomic(span_alloc_bits(s), (uint64_t)idx))
		heap_free_twice(p);
#else
	(void)s;
	(void)p;
#endif
}

void heap_debug_free(struct span *s, void *p)
{
	memset(p, FILL_FREE, s->block_size);
}

void span_check(const struct span *s)
{
	if (!IS_ENABLED(CONFIG_DEBUG_ASSERT))
		return;
	if (s->used > s->carved || s->carved > s->capacity || s->cls >= NUM_CLASSES ||
	    s->block_size != class_info[s->cls].size)
		hak_fatal("span invariant broken", s);
	if (IS_ENABLED(CONFIG_DEBUG_INTEGRITY)) {
		uint32_t n = 0;
		void *b = s->free;

		while (b) {
			if (span_block_index(s, (uintptr_t)b) < 0 || ++n > s->carved)
				hak_fatal("free list corrupt at", b);
			vg_mem_defined(b, sizeof(void *));
			b = link_encode(s, b, *(void **)b);
		}
		if (s->used != s->carved - n)
			hak_fatal("span accounting broken", s);
	}
}

/* ------------------------------------------------------------------ */
/* Span operations (owner) */

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
	if (IS_ENABLED(CONFIG_RANDOM_CARVE) && n > 2) {
		/* Link the batch in a random order: a random start and a
		 * stride coprime with n visit every block once. */
		uint64_t r = heap_random();
		uint32_t start = (uint32_t)(r % n);
		uint32_t stride = 1 + (uint32_t)((r >> 32) % (n - 1));

		while (gcd32(stride, n) != 1)
			stride = stride % (n - 1) + 1;
		for (i = 0; i < n; i++) {
			void *b = (void *)(base + (uintptr_t)((start + (uint64_t)i * stride) % n) * size);

			if (IS_ENABLED(CONFIG_DEBUG_FILL))
				memset(b, FILL_FREE, size);
			*(void **)b = link_encode(s, b, head);
			head = b;
		}
	} else {
		for (i = n; i-- > 0;) {
			void *b = (void *)(base + (uintptr_t)i * size);

			if (IS_ENABLED(CONFIG_DEBUG_FILL))
				memset(b, FILL_FREE, size);
			*(void **)b = link_encode(s, b, head);
			head = b;
		}
	}
	s->free = head;
}

/*
 * True when every block the span has handed out sits on its remote list
 * (or none is out): nothing more can be freed into it, and it can go back
 * to the pool whole, lists and all, without walking them.
 */
static int span_all_remote(const struct span *s)
{
	return s->used == remote_count(atomic_load_acquire(&s->remote));
}

/*
 * Moves the span's remote frees onto its free list.  Returns the count.
 * The remote word carries the list's length, so when the free list is
 * empty (the usual case: the owner collects when it runs dry) the list
 * simply becomes the free list, without touching its blocks.
 */
static uint32_t span_collect(struct span *s)
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
	if (!IS_ENABLED(CONFIG_DEBUG_FILL) && !IS_ENABLED(CONFIG_VALGRIND)) {
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

		vg_mem_defined(list, s->block_size);
		if (IS_ENABLED(CONFIG_DEBUG_FILL))
			memset(list, FILL_FREE, s->block_size);
		*(void **)list = link_encode(s, list, s->free);
		s->free = list;
		list = next;
	}
	return n;
}

/* ------------------------------------------------------------------ */
/* Remote frees and the notification of detached spans */

/* Under the owner's notify_lock: push p onto a FULL span and queue it. */
static int notify_and_push(struct span *s, void *p)
{
	struct heap *h = owner_heap(s);
	int done = 0;

	if (!h)
		return 0;
	hak_lock(&h->notify_lock);
	if (owner_heap(s) == h && atomic_load_relaxed(&s->state) == SPAN_FULL) {
		uintptr_t old = atomic_load_acquire(&s->remote);

		/* The owner may clear DETACHED meanwhile (it freed into the
		 * span itself): then this is a plain push after all. */
		while (old & SPAN_REMOTE_DETACHED) {
			*(void **)p = link_encode(s, p, remote_list(old));
			if (atomic_cas_release(&s->remote, &old,
					       remote_pushed(old, p) & ~SPAN_REMOTE_DETACHED)) {
				atomic_store_relaxed(&s->state, SPAN_NOTIFIED);
				s->notify_next = h->notified;
				atomic_store_relaxed(&h->notified, s);
				done = 1;
				break;
			}
		}
	}
	hak_unlock(&h->notify_lock);
	return done;
}

/*
 * Owner: a free into one of its own FULL or NOTIFIED spans.  Takes the span
 * back (ACTIVE, on its partial list) so that this free, and the ones after
 * it, stay local.
 */
static void span_reattach(struct heap *h, struct span *s)
{
	hak_lock(&h->notify_lock);
	if (atomic_load_relaxed(&s->state) == SPAN_FULL) {
		uintptr_t r = atomic_load_relaxed(&s->remote);

		while (!atomic_cas_acq_rel(&s->remote, &r, r & ~SPAN_REMOTE_DETACHED))
			;
	} else if (atomic_load_relaxed(&s->state) == SPAN_NOTIFIED) {
		struct span **pp = &h->notified;

		while (*pp && *pp != s)
			pp = &(*pp)->notify_next;
		if (*pp)
			atomic_store_relaxed(pp, s->notify_next);
		s->notify_next = NULL;
	}
	atomic_store_relaxed(&s->state, (uint8_t)SPAN_ACTIVE);
	atomic_store_release(&s->owner, h);
	dlist_del(&s->link);
	dlist_add_tail(&h->partial[s->cls], &s->link);
	hak_unlock(&h->notify_lock);
}

/*
 * Owner, no lock: takes back its own FULL span by clearing DETACHED.  If a
 * remote freer cleared it first (the span is being notified), returns 0
 * and span_reattach does it under the lock.
 */
static int span_reattach_fast(struct heap *h, struct span *s)
{
	uintptr_t r;

	if (atomic_load_relaxed(&s->state) != SPAN_FULL)
		return 0;
	r = atomic_load_relaxed(&s->remote);
	while (r & SPAN_REMOTE_DETACHED) {
		if (atomic_cas_acq_rel(&s->remote, &r, r & ~SPAN_REMOTE_DETACHED)) {
			atomic_store_relaxed(&s->state, SPAN_ACTIVE);
			atomic_store_release(&s->owner, h);
			dlist_del(&s->link);
			dlist_add_tail(&h->partial[s->cls], &s->link);
			return 1;
		}
	}
	return 0;
}

/* The owner's free into one of its FULL or NOTIFIED spans. */
static noinline void heap_free_own_detached(struct heap *h, struct span *s, void *p)
{
	if (!span_reattach_fast(h, s))
		span_reattach(h, s);
	heap_free_block(s, p);
}

/* A remote free into a span that may be DETACHED: notify its owner. */
static noinline void heap_free_remote_detached(struct span *s, void *p)
{
	uintptr_t old = atomic_load_relaxed(&s->remote);

	for (;;) {
		if (old & SPAN_REMOTE_DETACHED) {
			if (notify_and_push(s, p))
				return;
			old = atomic_load_relaxed(&s->remote);
			if (old & SPAN_REMOTE_DETACHED)
				continue;
		}
		*(void **)p = link_encode(s, p, remote_list(old));
		if (atomic_cas_release(&s->remote, &old, remote_pushed(old, p)))
			return;
	}
}

/* Counts a remote free, and marks the block free in the debug bitmap. */
static always_inline void heap_account_remote_free(struct heap *me, struct span *s, void *p)
{
	if (IS_ENABLED(CONFIG_DOUBLE_FREE_CHECK))
		debug_mark_free(s, p);
#if IS_ENABLED(CONFIG_STATS)
	if (me->kind == HEAP_LIVE) {
		me->remote_frees++;
		me->class_frees[s->cls]++;
	} else {
		atomic_fetch_add_relaxed(&dead_remote_frees, 1);
		atomic_fetch_add_relaxed(&dead_class_frees[s->cls], 1);
	}
#else
	(void)me;
#endif
}

/*
 * A free into a span with no owner.  A live heap adopts the span if it is
 * still ABANDONED, so that this and later frees into it are local and its
 * blocks are reused while still in this thread's cache.  Otherwise (no
 * live heap, or another thread adopted it first) a plain remote push.
 */
static noinline void heap_free_ownerless(struct heap *h, struct span *s, void *p)
{
	int adopted = 0;

	if (h->kind == HEAP_LIVE) {
		struct abandoned_class *a = abandoned_lock_class(s->cls);

		if (atomic_load_relaxed(&s->state) == SPAN_ABANDONED) {
			abandoned_take(a, s, h);
			adopted = 1;
		}
		abandoned_unlock_class(s->cls);
	}
	if (!adopted) {
		heap_account_remote_free(h, s, p);
		heap_free_remote_detached(s, p);
		return;
	}
	/* Take what others freed while it was abandoned, so that the span
	 * empties (and is released) when its last live block comes back. */
	span_collect(s);
	span_check(s);
	dlist_add(&h->partial[s->cls], &s->link);
	heap_free_block(s, p);
}

/*
 * A free by a thread that does not own the span (or of an owner's FULL
 * span): one CAS push onto the remote list.  The other cases are kept out
 * of line so that this one needs no stack frame.
 */
void heap_free_remote(struct span *s, void *p)
{
	struct heap *me = tls_heap;
	struct heap *owner = owner_heap(s);
	uintptr_t old;

	if (unlikely(owner == me && me->kind == HEAP_LIVE)) {
		heap_free_own_detached(me, s, p);
		return;
	}
	if (unlikely(!owner)) {
		heap_free_ownerless(me, s, p);
		return;
	}
	heap_account_remote_free(me, s, p);
	old = atomic_load_relaxed(&s->remote);
	do {
		if (unlikely(old & SPAN_REMOTE_DETACHED)) {
			heap_free_remote_detached(s, p);
			return;
		}
		*(void **)p = link_encode(s, p, remote_list(old));
	} while (!atomic_cas_release(&s->remote, &old, remote_pushed(old, p)));
}

/* Owner: takes the notified spans back onto their partial lists. */
static void heap_drain_notified(struct heap *h)
{
	struct span *s;

	if (!atomic_load_relaxed(&h->notified))
		return;
	hak_lock(&h->notify_lock);
	s = h->notified;
	atomic_store_relaxed(&h->notified, (struct span *)NULL);
	while (s) {
		struct span *next = s->notify_next;

		s->notify_next = NULL;
		atomic_store_relaxed(&s->state, (uint8_t)SPAN_ACTIVE);
		atomic_store_release(&s->owner, h);
		dlist_del(&s->link);
		dlist_add_tail(&h->partial[s->cls], &s->link);
		s = next;
	}
	hak_unlock(&h->notify_lock);
}

/*
 * Owner: the current span has nothing left to hand out.  Detach it (FULL)
 * unless remote frees arrived meanwhile; returns 0 if it was detached.
 */
static int span_detach(struct heap *h, struct span *s)
{
	uintptr_t expect = 0;

	/* FULL is published before the DETACHED bit (the CAS releases it): a
	 * remote freer that sees the bit finds the span FULL under the lock.
	 * No lock is needed here. */
	atomic_store_relaxed(&s->state, SPAN_FULL);
	atomic_store_release(&s->owner, (struct heap *)((uintptr_t)h | OWNER_DETACHED));
	if (!atomic_cas_acq_rel(&s->remote, &expect, SPAN_REMOTE_DETACHED)) {
		atomic_store_relaxed(&s->state, SPAN_ACTIVE);
		atomic_store_release(&s->owner, h);
		return -1;
	}
	dlist_add(&h->full, &s->link);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Getting a span for a class */

static void span_unkeep(struct heap *h, struct span *s)
{
	if (s->kept_empty) {
		s->kept_empty = 0;
		h->empty_kept -= s->nslabs;
		if (IS_ENABLED(CONFIG_ADAPTIVE))
			h->reacquired++;
	}
}

static struct span *adopt_abandoned(struct heap *h, unsigned int cls)
{
	struct abandoned_class *a;
	struct span *s = NULL;

	if (!atomic_load_relaxed(&abandoned[cls].count))
		return NULL;
	a = abandoned_lock_class(cls);
	if (!dlist_empty(&a->spans)) {
		s = dlist_entry(a->spans.next, struct span, link);
		abandoned_take(a, s, h);
	}
	abandoned_unlock_class(cls);
	/* Its remote frees are collected when its free list runs dry. */
	if (s)
		span_check(s);
	return s;
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
	s = adopt_abandoned(h, cls);
	if (s)
		return s;
	return pool_acquire_span(cls, h);
}

/*
 * Owner: releases the partial spans whose every block in use has come back
 * through the remote list.  Nothing else collects them while the owner
 * allocates no more of their class (a span it adopted by freeing into it,
 * or one whose blocks other threads free).
 */
static void heap_sweep_remote(struct heap *h)
{
	unsigned int c;

	heap_drain_notified(h);
	for (c = 0; c < NUM_CLASSES; c++) {
		struct dlist *pos = h->partial[c].next;

		while (pos != &h->partial[c]) {
			struct span *s = dlist_entry(pos, struct span, link);

			pos = pos->next;
			if (s->used && span_all_remote(s)) {
				span_collect(s);
				heap_free_local_slow(h, s);
			}
		}
	}
}

/* Every MAINTENANCE_EVERY slow paths: the heap's own sweep once per decay
 * time, and the global maintenance (rate-limited there). */
static noinline void heap_periodic(struct heap *h)
{
	uint64_t now = os_now_ms();

	if (h->kind == HEAP_LIVE && now - h->swept_ms >= hak_option(OPT_DECAY_MS)) {
		h->swept_ms = now;
		heap_sweep_remote(h);
	}
	heap_maintenance(0);
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

	s = h->current[cls];
	for (;;) {
		if (s != &empty_span) {
			if (!heap_free_head(s))
				span_collect(s);
			if (!s->free && s->carved < s->capacity)
				span_carve(s);
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
	s->free = link_next(s, b);
	s->used++;
	heap_account_alloc(h, s, cls, b);
	return b;
}

void *heap_alloc_slow_direct(struct heap *h, size_t i)
{
	return heap_alloc_slow(h, tiny_class_lut[i]);
}

/* Called when a local free left the span with no block in use. */
void heap_free_local_slow(struct heap *h, struct span *s)
{
	span_check(s);
	if (s == h->current[s->cls] || atomic_load_relaxed(&s->state) != SPAN_ACTIVE || s->kept_empty)
		return;
	/*
	 * The reserve is counted in slabs, RESERVE_SLABS per unit of
	 * reserve_limit, and holds only spans of blocks up to
	 * RESERVE_MAX_BLOCK, for which a trip to the pool would cost much more
	 * than the blocks' own use.  A span of bigger blocks goes back: they
	 * pay for the trip, and kept, it would be memory only its class can
	 * use.
	 */
	if (h->kind == HEAP_LIVE && s->block_size <= RESERVE_MAX_BLOCK &&
	    h->empty_kept + s->nslabs <= h->reserve_limit * RESERVE_SLABS) {
		s->kept_empty = 1;
		h->empty_kept += s->nslabs;
		return;
	}
	dlist_del(&s->link);
	pool_cache_span(s);
	if (IS_ENABLED(CONFIG_ADAPTIVE) && h->kind == HEAP_LIVE && h->reacquired > 4 &&
	    h->reserve_limit < (uint32_t)hak_option(OPT_HEAP_RESERVE_MAX)) {
		/* Spans keep coming back soon after release: keep more. */
		h->reserve_limit++;
		h->reacquired = 0;
	}
}

/* ------------------------------------------------------------------ */
/* The shared (locked) heap */

void *shared_heap_alloc(unsigned int cls)
{
	uint64_t calls;
	void *p;

	if (hak_init() != 0) {
		errno = ENOMEM;
		return NULL;
	}
	hak_lock(&shared_lock);
	if (!shared_ready) {
		init_lists(&shared_heap);
		shared_heap.reserve_limit = 0;
		atomic_store_release(&shared_ready, 1);
	}
	p = heap_alloc(&shared_heap, cls);
	calls = ++shared_calls;
	hak_unlock(&shared_lock);
	/* Every call here is a locked call: check the decay now and then. */
	if (calls % MAINTENANCE_EVERY == 0)
		heap_maintenance(0);
	return p;
}

/* ------------------------------------------------------------------ */
/* Creating and destroying thread heaps */

static struct heap *heap_get_unused(void)
{
	static char *chunk;
	static size_t chunk_left;
	struct heap *h;
	size_t sz = round_up_pow2(sizeof(struct heap), CACHE_LINE_SIZE);

	hak_lock(&heaps_lock);
	h = free_heaps;
	if (h) {
		free_heaps = h->free_next;
	} else {
		if (chunk_left < sz) {
			void *p;
			size_t csz = round_up_pow2(sz * 16, os_page_size());

			if (os_map(csz, &p)) {
				hak_unlock(&heaps_lock);
				return NULL;
			}
			chunk = p;
			chunk_left = csz;
			stat_global_add(STAT_BYTES_MAPPED, (int64_t)csz);
		}
		h = (struct heap *)chunk;
		chunk += sz;
		chunk_left -= sz;
		h->all_next = all_heaps;
		all_heaps = h;
		h->notify_lock = (struct hak_lock)HAK_LOCK_INIT("heap-notify");
	}
	hak_unlock(&heaps_lock);
	return h;
}

struct heap *heap_create_for_thread(void)
{
	struct heap *h;

	if (hak_init() != 0)
		return NULL;
	tls_heap = &creating_heap;
	h = heap_get_unused();
	if (!h) {
		tls_heap = &empty_heap;
		return NULL;
	}
	/* Everything before notify_lock; the lock may be in use. */
	memset(h, 0, offsetof(struct heap, notify_lock));
	init_lists(h);
	h->reserve_limit = (uint32_t)hak_option(OPT_HEAP_RESERVE);
	h->swept_ms = os_now_ms();   /* nothing to sweep for a decay time */
	h->rng = heap_random();
	atomic_store_release(&h->kind, (uint32_t)HEAP_LIVE);
	/* From here on a re-entrant calloc (pthread_setspecific with a key
	 * index of 32 or more) is served by the new heap itself. */
	tls_heap = h;
	hak_register_thread_heap(h);
	if (IS_ENABLED(CONFIG_TINY_PREWARM))
		heap_prewarm(h);
	return h;
}

/*
 * Abandons every span on `spans` (linked by their link), taking a class's
 * lock once per run of spans of that class (a heap's list comes grouped by
 * class).
 */
static void abandon_spans(struct dlist *spans)
{
	struct abandoned_class *a = NULL;
	unsigned int cls = 0;

	while (!dlist_empty(spans)) {
		struct span *s = dlist_entry(spans->next, struct span, link);

		if (!a || s->cls != cls) {
			if (a)
				abandoned_unlock_class(cls);
			cls = s->cls;
			a = abandoned_lock_class(cls);
		}
		dlist_del(&s->link);
		atomic_store_relaxed(&s->state, (uint8_t)SPAN_ABANDONED);
		atomic_store_release(&s->owner, (struct heap *)NULL);
		dlist_add_tail(&a->spans, &s->link);
		atomic_fetch_add_relaxed(&a->count, 1);
	}
	if (a)
		abandoned_unlock_class(cls);
}

/*
 * A fork child's copy of a span whose owner thread did not survive: that
 * thread may have stopped inside a fast path, between popping or pushing a
 * block and updating `used`.  Recount `used` from the free list (the block
 * such a malloc was taking is never handed out in the child).
 */
static void span_recount(struct span *s)
{
	uint32_t n = 0;
	void *b = heap_free_head(s);

	while (b && n < s->carved) {
		n++;
		b = link_next(s, b);
	}
	s->used = s->carved - n;
}

/*
 * Owner: gives back a span it no longer wants: an empty one to the pool, one
 * with live blocks onto `abandon` (s->link free), for abandon_spans.
 */
static void span_retire(struct span *s, int orphaned, struct dlist *abandon)
{
	if (orphaned)
		span_recount(s);
	span_check(s);
	if (span_all_remote(s))
		pool_release_span(s);
	else
		dlist_add_tail(abandon, &s->link);
}

static void heap_merge_stats(struct heap *h)
{
#if IS_ENABLED(CONFIG_STATS)
	unsigned int c;

	for (c = 0; c < NUM_CLASSES; c++) {
		atomic_fetch_add_relaxed(&dead_class_allocs[c], h->class_allocs[c]);
		atomic_fetch_add_relaxed(&dead_class_frees[c], h->class_frees[c]);
		h->class_allocs[c] = h->class_frees[c] = 0;
	}
	atomic_fetch_add_relaxed(&dead_remote_frees, (int64_t)h->remote_frees);
	atomic_fetch_add_relaxed(&dead_foreign_frees, (int64_t)h->foreign_frees);
	h->remote_frees = h->foreign_frees = 0;
#endif
}

/* Releases everything a heap holds; h must not be in use by any thread. */
static void heap_release_all(struct heap *h)
{
	struct dlist *pos, abandon;
	unsigned int c;

	/* Full spans: re-attach them under the lock so that no notifier can
	 * queue them on this heap afterwards. */
	hak_lock(&h->notify_lock);
	while (!dlist_empty(&h->full)) {
		struct span *s = dlist_entry(h->full.next, struct span, link);
		uintptr_t r = atomic_load_relaxed(&s->remote);

		if (atomic_load_relaxed(&s->state) == SPAN_FULL)
			while (!atomic_cas_acq_rel(&s->remote, &r, r & ~SPAN_REMOTE_DETACHED))
				;
		atomic_store_relaxed(&s->state, (uint8_t)SPAN_ACTIVE);
		s->notify_next = NULL;
		atomic_store_release(&s->owner, h);
		dlist_del(&s->link);
		dlist_add(&h->partial[s->cls], &s->link);
	}
	atomic_store_relaxed(&h->notified, (struct span *)NULL);
	h->kind = HEAP_DEAD;
	hak_unlock(&h->notify_lock);

	dlist_init(&abandon);
	for (c = 0; c < NUM_CLASSES; c++) {
		struct span *s = h->current[c];

		heap_set_current(h, c, &empty_span);
		if (s != &empty_span)
			span_retire(s, 0, &abandon);
		while ((pos = h->partial[c].next) != &h->partial[c]) {
			s = dlist_entry(pos, struct span, link);
			dlist_del(&s->link);
			s->kept_empty = 0;
			span_retire(s, 0, &abandon);
		}
	}
	abandon_spans(&abandon);
	h->empty_kept = 0;
	heap_merge_stats(h);
}

void heap_thread_exit(void *arg)
{
	struct heap *h = arg;

	if (!h || h->kind != HEAP_LIVE)
		return;
	tls_heap = &dead_heap;
	heap_release_all(h);
	hak_lock(&heaps_lock);
	h->kind = HEAP_UNUSED;
	h->free_next = free_heaps;
	free_heaps = h;
	hak_unlock(&heaps_lock);
}

/* ------------------------------------------------------------------ */
/* Maintenance: decay of cached memory, reclaim of abandoned spans */

static void abandoned_reclaim(void)
{
	unsigned int c;

	for (c = 0; c < NUM_CLASSES; c++) {
		struct abandoned_class *a;
		struct dlist *list, *pos;

		if (!atomic_load_relaxed(&abandoned[c].count))
			continue;
		a = abandoned_lock_class(c);
		list = &a->spans;
		pos = list->next;
		while (pos != list) {
			struct span *s = dlist_entry(pos, struct span, link);

			pos = pos->next;
			if (span_all_remote(s)) {
				abandoned_remove(a, s);
				pool_release_span(s);
			}
		}
		abandoned_unlock_class(c);
	}
}

/*
 * The shared heap sees its frees only as remote frees: collect them and
 * give empty spans back.  Skipped when the lock is busy (or held by this
 * thread, inside the shared heap's own slow path).
 */
static void shared_heap_trim(void)
{
	unsigned int c;

	if (!atomic_load_acquire(&shared_ready) || !hak_trylock(&shared_lock))
		return;
	heap_drain_notified(&shared_heap);
	for (c = 0; c < NUM_CLASSES; c++) {
		struct dlist *pos = shared_heap.partial[c].next;
		struct span *cur = shared_heap.current[c];

		while (pos != &shared_heap.partial[c]) {
			struct span *s = dlist_entry(pos, struct span, link);

			pos = pos->next;
			if (span_all_remote(s)) {
				dlist_del(&s->link);
				pool_release_span(s);
			}
		}
		if (cur != &empty_span) {
			if (span_all_remote(cur)) {
				heap_set_current(&shared_heap, c, &empty_span);
				pool_release_span(cur);
			}
		}
	}
	hak_unlock(&shared_lock);
}

void heap_maintenance(int force)
{
	uint64_t now = os_now_ms();
	uint64_t last = atomic_load_relaxed(&last_maintenance_ms);
	uint64_t decay = hak_option(OPT_DECAY_MS);

	uint32_t idle = 0;

	if (!force && now - last < (decay / 4 ? decay / 4 : 1))
		return;
	if (!force && !atomic_cas_acq_rel(&last_maintenance_ms, &last, now))
		return;
	if (force)
		atomic_store_relaxed(&last_maintenance_ms, now);
	/*
	 * One pass at a time; releasing spans below may ask for another.  A
	 * forced pass (malloc_trim) waits for a running one to end (the purge
	 * thread's, say) instead of returning with nothing done.
	 */
	while (!atomic_cas_acq_rel(&maintenance_running, &idle, 1)) {
		if (!force)
			return;
		idle = 0;
		os_sleep_ms(1);
	}
	abandoned_reclaim();
	shared_heap_trim();
	pool_decay(now, force);
	big_decay(now, force);
	atomic_store_release(&maintenance_running, 0);
}

#if IS_ENABLED(CONFIG_PURGE_THREAD)
static void *purge_thread(void *arg)
{
	for (;;) {
		uint64_t decay = hak_option(OPT_DECAY_MS);

		os_sleep_ms(decay / 2 ? decay / 2 : 1);
		heap_maintenance(0);
	}
	return arg;
}
#endif

void heap_start_purge_thread(void)
{
#if IS_ENABLED(CONFIG_PURGE_THREAD)
	pthread_t t;
	pthread_attr_t attr;

	if (pthread_attr_init(&attr))
		return;
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	pthread_create(&t, &attr, purge_thread, NULL);
	pthread_attr_destroy(&attr);
#endif
}

/* ------------------------------------------------------------------ */
/* Statistics and fork */

void heaps_collect_stats(int64_t *allocs, int64_t *frees, int64_t *remote, int64_t *foreign)
{
	int64_t a = 0, f = 0, r = 0, x = 0;
	unsigned int c;

#if IS_ENABLED(CONFIG_STATS)
	struct heap *h;

	for (c = 0; c < NUM_CLASSES; c++) {
		a += (int64_t)atomic_load_relaxed(&dead_class_allocs[c]);
		f += (int64_t)atomic_load_relaxed(&dead_class_frees[c]);
	}
	r = atomic_load_relaxed(&dead_remote_frees);
	x = atomic_load_relaxed(&dead_foreign_frees);
	hak_lock(&heaps_lock);
	for (h = all_heaps; h; h = h->all_next) {
		if (atomic_load_acquire(&h->kind) != HEAP_LIVE)
			continue;
		for (c = 0; c < NUM_CLASSES; c++) {
			a += (int64_t)atomic_load_relaxed(&h->class_allocs[c]);
			f += (int64_t)atomic_load_relaxed(&h->class_frees[c]);
		}
		r += (int64_t)atomic_load_relaxed(&h->remote_frees);
		x += (int64_t)atomic_load_relaxed(&h->foreign_frees);
	}
	hak_unlock(&heaps_lock);
	if (shared_ready) {
		for (c = 0; c < NUM_CLASSES; c++) {
			a += (int64_t)atomic_load_relaxed(&shared_heap.class_allocs[c]);
			f += (int64_t)atomic_load_relaxed(&shared_heap.class_frees[c]);
		}
	}
#else
	(void)c;
#endif
	*allocs = a;
	*frees = f;
	*remote = r;
	*foreign = x;
}

void heap_count_foreign(void)
{
#if IS_ENABLED(CONFIG_STATS)
	struct heap *h = tls_heap;

	if (h->kind == HEAP_LIVE)
		h->foreign_frees++;
	else
		atomic_fetch_add_relaxed(&dead_foreign_frees, 1);
#endif
}

/* Gives the calling thread's reserve of empty spans back (malloc_trim). */
void heap_trim_thread(void)
{
	struct heap *h = tls_heap;
	unsigned int c;

	if (h->kind != HEAP_LIVE)
		return;
	heap_sweep_remote(h);
	for (c = 0; c < NUM_CLASSES && h->empty_kept; c++) {
		struct dlist *pos = h->partial[c].next;

		while (pos != &h->partial[c]) {
			struct span *s = dlist_entry(pos, struct span, link);

			pos = pos->next;
			if (s->kept_empty) {
				s->kept_empty = 0;
				h->empty_kept -= s->nslabs;
				dlist_del(&s->link);
				pool_release_span(s);
			}
		}
	}
}

void heaps_print_lock_stats(void (*print)(const struct hak_lock *))
{
	struct hak_lock sum = HAK_LOCK_INIT("abandoned");
	unsigned int c;

	print(&shared_lock);
	print(&heaps_lock);
	/* The abandoned locks, summed. */
	for (c = 0; c < ABANDONED_LOCKS; c++) {
		sum.acquired += atomic_load_relaxed(&abandoned_locks[c].lock.acquired);
		sum.contended += atomic_load_relaxed(&abandoned_locks[c].lock.contended);
	}
	print(&sum);
}

void heaps_fork_prepare(void)
{
	struct heap *h;
	unsigned int c;

	hak_lock(&shared_lock);
	hak_lock(&heaps_lock);
	for (h = all_heaps; h; h = h->all_next)
		hak_lock(&h->notify_lock);
	for (c = 0; c < ABANDONED_LOCKS; c++)
		hak_lock(&abandoned_locks[c].lock);
}

void heaps_fork_parent(void)
{
	struct heap *h;
	unsigned int c;

	for (c = 0; c < ABANDONED_LOCKS; c++)
		hak_unlock(&abandoned_locks[c].lock);
	for (h = all_heaps; h; h = h->all_next)
		hak_unlock(&h->notify_lock);
	hak_unlock(&heaps_lock);
	hak_unlock(&shared_lock);
}

struct orphans {
	struct heap *me;
	struct dlist list;
};

/*
 * Fork child: a span whose owner thread did not survive.  The dead
 * thread's own lists may have been caught mid-update, so they are not
 * walked; the spans are found from the superslabs instead.
 */
static void collect_orphan(struct span *s, void *arg)
{
	struct orphans *o = arg;
	struct heap *h = owner_heap(s);

	if (atomic_load_relaxed(&s->state) == SPAN_ABANDONED || atomic_load_relaxed(&s->state) == SPAN_FREE)
		return;
	if (h == o->me || h == &shared_heap)
		return;
	if (h && h->kind != HEAP_LIVE)
		return;
	atomic_store_relaxed(&s->remote, atomic_load_relaxed(&s->remote) & ~SPAN_REMOTE_DETACHED);
	atomic_store_release(&s->owner, (struct heap *)NULL);
	atomic_store_relaxed(&s->state, (uint8_t)SPAN_ACTIVE);
	s->notify_next = NULL;
	s->kept_empty = 0;
	dlist_init(&s->link);
	dlist_add_tail(&o->list, &s->link);
}

void heaps_fork_child(void)
{
	struct heap *h, *me = tls_heap;
	struct dlist abandon;
	struct orphans o;

	/* The forking thread took every lock in prepare and is the one
	 * thread of the child, so it releases them as the parent does. */
	heaps_fork_parent();
	/* A maintenance pass another thread was running did not survive. */
	atomic_store_relaxed(&maintenance_running, 0);

	/* Threads other than the forking one did not survive: their spans
	 * are recounted and abandoned, so this process can adopt them. */
	o.me = me;
	dlist_init(&o.list);
	pool_fork_child();
	pool_for_each_span(collect_orphan, &o);
	dlist_init(&abandon);
	while (!dlist_empty(&o.list)) {
		struct span *s = dlist_entry(o.list.next, struct span, link);

		dlist_del(&s->link);
		span_retire(s, 1, &abandon);
	}
	abandon_spans(&abandon);
	for (h = all_heaps; h; h = h->all_next) {
		if (h == me || h->kind != HEAP_LIVE)
			continue;
		init_lists(h);
		atomic_store_relaxed(&h->notified, (struct span *)NULL);
		h->empty_kept = 0;
		heap_merge_stats(h);
		h->kind = HEAP_UNUSED;
		h->free_next = free_heaps;
		free_heaps = h;
	}
}
