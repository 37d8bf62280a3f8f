/* SPDX-License-Identifier: MIT */
/*
 * Thread heaps: the front of the slab engine, shared by the tiny and pool
 * tiers.
 *
 * A heap has, per size class, a current span (never NULL: the static
 * empty_span stands in) and a list of partial spans.  malloc pops the
 * current span's free list; an empty list sends it to the noinline slow
 * path, which collects remote frees, carves fresh blocks, or moves to
 * another span (partial list, notified full spans, abandoned spans, the
 * shared pool, in that order).
 *
 * A thread's heap pointer lives in initial-exec TLS and starts at
 * &empty_heap, whose current spans have no free blocks, so the first
 * malloc takes the slow path and nothing on the fast path tests for
 * initialisation.  At thread exit the heap returns its empty spans,
 * abandons spans that still hold live blocks, and the thread's pointer
 * becomes &dead_heap: later frees take the remote path and a later malloc
 * builds a new heap.
 *
 * Ownership: span->owner == heap for ACTIVE spans; heap | OWNER_DETACHED
 * for FULL and NOTIFIED spans, so a free into them fails the fast path's
 * owner test and takes heap_free_remote: another thread's free pushes (and
 * notifies the owner), the owner's own free takes the span back first.
 * An ABANDONED span has owner NULL: a live heap's free into it adopts it.
 * Owners are stored with release and read with acquire.
 *
 * Invariants (owner-private fields, no atomics):
 *   - h->current[c] is &empty_span or an ACTIVE span of class c, and
 *     h->tiny_direct[i] == h->current[tiny_class_lut[i]];
 *   - every other ACTIVE span of h is on h->partial[c];
 *   - every FULL/NOTIFIED span of h is on h->full;
 *   - h->empty_kept == slabs of the spans on partial lists with kept_empty,
 *     at most reserve_limit * RESERVE_SLABS (4); kept spans hold blocks of
 *     at most RESERVE_MAX_BLOCK (4 KiB).
 *
 * Locks: heap->notify_lock and the shared heap's lock; see the lock order
 * in mm/superslab/superslab.h.
 */
#ifndef HAKMEM_MM_HEAP_H
#define HAKMEM_MM_HEAP_H

#include <string.h>
#include <lib/list.h>
#include <lib/lock.h>
#include <mm/internal.h>
#include <mm/sizeclass.h>
#include <mm/superslab/superslab.h>
#include <mm/valgrind.h>

enum heap_kind {
	HEAP_EMPTY = 0,  /* static stand-in before a thread's first malloc */
	HEAP_CREATING,   /* this thread is building its heap: bootstrap path */
	HEAP_LIVE,
	HEAP_DEAD,       /* stand-in after the thread's heap was torn down */
	HEAP_SHARED,     /* the locked heap (TINY/POOL off, bootstrap) */
	HEAP_UNUSED,     /* on the free-heap list, waiting for a new thread */
};

#define OWNER_DETACHED 1UL

/* CONFIG_DEBUG_TRACE: the last TRACE_ENTRIES calls of a thread. */
#define TRACE_ENTRIES 4096
#define TRACE_FREE (1ULL << 63)
struct trace_event {
	uintptr_t ptr;
	uint64_t size;     /* request size; TRACE_FREE set for a free */
};

/* Entries of heap->tiny_direct: one per 16 B step of tiny request size. */
#define TINY_DIRECT_ENTRIES (TINY_MAX_SIZE / 16 + 1)

struct heap {
	/*
	 * tiny_direct[(n + 15) >> 4] == current[tiny_class_lut[(n + 15) >> 4]]
	 * at all times: the tiny fast path indexes it by size and skips the
	 * class lookup (heap_set_current keeps the two in step).
	 */
	struct span *tiny_direct[TINY_DIRECT_ENTRIES];
	struct span *current[NUM_CLASSES];
#if IS_ENABLED(CONFIG_STATS)
	uint64_t class_allocs[NUM_CLASSES];
	uint64_t class_frees[NUM_CLASSES];
	uint64_t remote_frees;
	uint64_t foreign_frees;
#endif
	struct dlist partial[NUM_CLASSES];
	struct dlist full;
	struct span *notified;        /* notify_lock; relaxed peek by the owner */
	uint32_t kind;                /* enum heap_kind */
	uint32_t empty_kept;
	uint32_t reserve_limit;       /* empty spans kept (adaptive) */
	uint32_t reacquired;          /* adaptive: spans taken soon after a release */
	uint64_t slow_calls;
	uint64_t swept_ms;            /* last heap_sweep_remote (os_now_ms) */
	uint64_t rng;
#if IS_ENABLED(CONFIG_DEBUG_TRACE)
	uint64_t trace_pos;           /* events recorded so far */
	struct trace_event trace[TRACE_ENTRIES];  /* a ring; read it in a debugger */
#endif
	/*
	 * Kept when a heap is reused by a new thread (everything above is
	 * reset): a remote freer of the heap's previous life may still be
	 * taking or releasing notify_lock.
	 */
	struct hak_lock notify_lock;
	struct heap *all_next;        /* heaps_lock: every heap ever made */
	struct heap *free_next;       /* heaps_lock: unused heaps */
};



extern __thread struct heap *tls_heap __attribute__((tls_model("initial-exec")));
extern hak_hidden struct heap empty_heap;
extern hak_hidden struct span empty_span;

/* Records one call in the calling thread's trace ring (CONFIG_DEBUG_TRACE). */
static always_inline void heap_trace(void *p, size_t size, uint64_t op)
{
#if IS_ENABLED(CONFIG_DEBUG_TRACE)
	struct heap *h = tls_heap;

	if (h->kind == HEAP_LIVE) {
		struct trace_event *e = &h->trace[h->trace_pos++ & (TRACE_ENTRIES - 1)];

		e->ptr = (uintptr_t)p;
		e->size = size | op;
	}
#endif
}

/* ---- Free-list links (encoded with CONFIG_FREELIST_HARDENED). */
static always_inline void *link_encode(const struct span *s, void *at, void *next)
{
	if (IS_ENABLED(CONFIG_FREELIST_HARDENED))
		return (void *)((uintptr_t)next ^ s->key ^ (uintptr_t)at);
	return next;
}

cold __attribute__((noreturn)) void heap_corrupt(const struct span *s, void *at);

/*
 * The link stored in free block `at`.  Every config checks that it points
 * into the span (or ends the list), so a link overwritten by a heap
 * overflow or a write after free aborts instead of handing out an
 * arbitrary address; FREELIST_HARDENED also checks it is a block start.
 */
static always_inline void *link_next(const struct span *s, void *at)
{
	uintptr_t next;

	vg_mem_defined(at, sizeof(void *));
	next = *(uintptr_t *)at;
	if (IS_ENABLED(CONFIG_FREELIST_HARDENED)) {
		next ^= s->key ^ (uintptr_t)at;
		if (next && unlikely(span_block_index(s, next) < 0))
			heap_corrupt(s, at);
	} else if (unlikely(next - s->start >= s->span_bytes) && next) {
		heap_corrupt(s, at);
	}
	return (void *)next;
}

/* ---- Debug boxes on the fast paths (compiled out unless configured). */
#define FILL_FREE  0xdf
#define FILL_ALLOC 0xa5

/* CONFIG_DEBUG_FILL: checks a block's free fill and fills it for use /
 * fills a freed block. */
void heap_debug_alloc(struct span *s, void *b);
void heap_debug_free(struct span *s, void *b);
/* CONFIG_DOUBLE_FREE_CHECK: a block handed out that was allocated. */
cold __attribute__((noreturn)) void heap_alloc_twice(void *b);
cold __attribute__((noreturn)) void heap_free_twice(void *p);

#if IS_ENABLED(CONFIG_DOUBLE_FREE_CHECK)
/* The span's "block is allocated" bits (found from the descriptor's own
 * address: superslab.h, struct superslab). */
static always_inline uint64_t *span_alloc_bits(const struct span *s)
{
	return ss_of((uintptr_t)s)->alloc_bits[((uintptr_t)s & SS_MASK) / sizeof(struct span)];
}
#endif

/*
 * Owner: block b, popped from s, is handed out.  CONFIG_DOUBLE_FREE_CHECK
 * sets its bit (atomically: remote frees clear bits of the same words),
 * and a bit already set means the free list was corrupted.
 */
static always_inline void heap_account_alloc(struct heap *h, struct span *s,
					      unsigned int cls, void *b)
{
#if IS_ENABLED(CONFIG_DOUBLE_FREE_CHECK)
	uint64_t q = span_block_quotient(s, (uintptr_t)b);

	if (unlikely(q >= s->carved))
		heap_corrupt(s, b);
	if (unlikely(test_and_set_bit_atomic(span_alloc_bits(s), q)))
		heap_alloc_twice(b);
#endif
	if (IS_ENABLED(CONFIG_DEBUG_FILL))
		heap_debug_alloc(s, b);
#if IS_ENABLED(CONFIG_STATS)
	h->class_allocs[cls]++;
#endif
}

/* ---- Fast paths. */
noinline void *heap_alloc_slow(struct heap *h, unsigned int cls);

/*
 * Whether b, the head of a free list, may be taken: it lies in the span.
 * NULL (an empty list) fails, and so does a link that a write after free
 * or an overflow left pointing elsewhere.
 */
static always_inline int span_head_in_span(const struct span *s, const void *b)
{
	return (uintptr_t)b - s->start < s->span_bytes;
}

/*
 * A block from s, one of h's current spans; NULL sends to the slow path.
 *
 * Links are checked when they become the head: FREELIST_HARDENED checks
 * each link as it is read (link_next); otherwise the pop takes the head
 * only if it lies in the span, one compare that also finds the empty list.
 * The link it stores in s->free is checked by the next pop, before anyone
 * reads through it; the slow path tells an empty list from a corrupt one
 * (heap_free_head).
 */
static always_inline void *heap_pop(struct heap *h, struct span *s)
{
	void *b = s->free;

	if (IS_ENABLED(CONFIG_FREELIST_HARDENED)) {
		if (unlikely(!b))
			return NULL;
		s->free = link_next(s, b);
	} else {
		if (unlikely(!span_head_in_span(s, b)))
			return NULL;
		vg_mem_defined(b, sizeof(void *));
		s->free = *(void **)b;
	}
	s->used++;
	heap_account_alloc(h, s, s->cls, b);
	return b;
}

/* A block of class cls from heap h. */
static always_inline void *heap_alloc(struct heap *h, unsigned long cls)
{
	void *b = heap_pop(h, h->current[cls]);

	if (likely(b))
		return b;
	return heap_alloc_slow(h, (unsigned int)cls);
}

/* heap_alloc_slow for the class of tiny_direct[i] (its class lookup is
 * kept off the fast path). */
noinline void *heap_alloc_slow_direct(struct heap *h, size_t i);

/* Sets h's current span of class cls (and the tiny direct entries). */
void heap_set_current(struct heap *h, unsigned int cls, struct span *s);

noinline void heap_free_local_slow(struct heap *h, struct span *s);
cold void heap_double_free(void *p);
noinline void heap_free_remote(struct span *s, void *p);

/*
 * Frees block p of span s (already validated as a block start).
 * CONFIG_DOUBLE_FREE_CHECK clears its bit, atomically, whoever frees it: a
 * bit already clear is a double free, whichever threads made the two frees.
 */
static always_inline void heap_free_block(struct span *s, void *p)
{
	struct heap *h = tls_heap;

	if (likely(load_relaxed_foldable(&s->owner) == h)) {
#if IS_ENABLED(CONFIG_DOUBLE_FREE_CHECK)
		if (unlikely(!test_and_clear_bit_atomic(span_alloc_bits(s),
							span_block_quotient(s, (uintptr_t)p))))
			heap_free_twice(p);
#endif
		if (IS_ENABLED(CONFIG_DEBUG_FILL))
			heap_debug_free(s, p);
		/* Without the bitmap, catch at least the block freed last. */
		if (!IS_ENABLED(CONFIG_DOUBLE_FREE_CHECK) && unlikely(p == s->free)) {
			heap_double_free(p);
			return;
		}
		*(void **)p = link_encode(s, p, s->free);
		s->free = p;
#if IS_ENABLED(CONFIG_STATS)
		h->class_frees[s->cls]++;
#endif
		if (unlikely(--s->used == 0))
			heap_free_local_slow(h, s);
		return;
	}
	heap_free_remote(s, p);
}

/* ---- Slow-path services. */
/* Sets up the heaps' shared state (hak_init, once). */
void heaps_init(void);
/* Allocation through the locked shared heap (TINY/POOL off, bootstrap). */
void *shared_heap_alloc(unsigned int cls);
/* Tears down the calling thread's heap (pthread key destructor). */
void heap_thread_exit(void *heap);
/* Runs decay and reclaim when due (force: now, everything). */
void heap_maintenance(int force);
/* CONFIG_PURGE_THREAD: starts the thread that runs maintenance when the
 * program is idle. */
void heap_start_purge_thread(void);
uint64_t heap_random(void);
void heap_prewarm(struct heap *h);
/*
 * CONFIG_DEBUG_ASSERT: checks a span's invariants (used <= carved <=
 * capacity, its class); with CONFIG_DEBUG_INTEGRITY also walks its free
 * list and checks used == carved - |free|.  Aborts when one fails.
 */
void span_check(const struct span *s);
/* Sums live heaps' counters into out (stats_snapshot). */
void heaps_collect_stats(int64_t *allocs, int64_t *frees, int64_t *remote, int64_t *foreign);
/* Counts a remote or foreign free on the calling thread. */
void heap_count_foreign(void);

/* Gives the calling thread's empty-span reserve back to the pool. */
void heap_trim_thread(void);
void heaps_print_lock_stats(void (*print)(const struct hak_lock *));

void heaps_fork_prepare(void);
void heaps_fork_parent(void);
void heaps_fork_child(void);

#endif
