/* SPDX-License-Identifier: MIT */
/*
 * The heap engine: thread heaps over the slab engine, shared by the tiny
 * and pool tiers.  The one header the rest of the code includes.
 *
 * A heap has, per size class, a current span (never NULL: the static
 * empty_span stands in) and a list of partial spans.  malloc pops the
 * current span's free list; an empty list sends it to the noinline slow
 * path (alloc.c), which collects remote frees, carves fresh blocks, or
 * moves to another span (partial list, notified full spans, abandoned
 * spans, the shared pool, in that order).
 *
 * A thread's heap pointer lives in initial-exec TLS and starts at
 * &empty_heap, whose current spans have no free blocks, so the first
 * malloc takes the slow path and nothing on the fast path tests for
 * initialisation.  At thread exit the heap returns its empty spans,
 * abandons spans that still hold live blocks (abandon.c), and the thread's
 * pointer becomes &dead_heap: later frees take the remote path and a later
 * malloc builds a new heap (lifecycle.c).
 *
 * Ownership: span->owner == heap for a current span; heap | OWNER_PARTIAL
 * for the other ACTIVE spans (one adopted by a free, or whose frees came
 * scattered, carries no flag); heap | OWNER_DETACHED for FULL and NOTIFIED
 * spans.  A free into a span whose owner is not plainly the freeing heap
 * fails the fast path's owner test and takes heap_free_remote (remote.c):
 * another thread's free pushes (and notifies the owner of a FULL span);
 * the owner's own free takes a FULL span back first, and a run of its
 * frees into the same partial span makes that span current, so malloc
 * hands out the blocks just freed when a class's live blocks fill more
 * than a span.  An ABANDONED span has
 * owner NULL: a live heap's free into it adopts it.  Owners are stored
 * with release and read with acquire (owner_heap masks the flags).
 *
 * Invariants (owner-private fields, no atomics):
 *   - h->current[c] is &empty_span or an ACTIVE span of class c, and
 *     h->tiny_direct[i] == h->current[tiny_class_lut[i]];
 *   - every other ACTIVE span of h is on h->partial[c], its owner h or
 *     h | OWNER_PARTIAL, never a current span's;
 *   - every FULL/NOTIFIED span of h is on h->full;
 *   - h->empty_kept == slabs of the spans on partial lists with kept_empty,
 *     at most reserve_limit * RESERVE_SLABS; kept spans hold blocks of at
 *     most RESERVE_MAX_BLOCK;
 *   - a current or kept span that emptied past its first carve was
 *     truncated to its first block (carved 1, that block free) and offered
 *     its other pages to the purge pass (span->purge); the owner takes
 *     them back (span_reclaim_pages) before it carves or lets it go;
 *   - for every span, used == carved - |free| and |remote| <= used
 *     (mm/superslab/superslab.h).
 *
 * Lock order (take only in this order; none is taken on a fast path).  A
 * layer's locks come before those of the layers below it: big_lock
 * (BigCache, mm/large), then
 *   1. shared_lock         the locked heap (shared.c): TINY or POOL off,
 *                          re-entrant bootstrap allocations
 *   2. heaps_lock          every heap, and the unused ones (lifecycle.c);
 *                          taken alone, except by the fork handler, which
 *                          then takes the shared heap's notify_lock and
 *                          every other in list order, and by the purge
 *                          pass, which takes one at a time
 *   3. heap->notify_lock   per heap: FULL->NOTIFIED->ACTIVE changes, the
 *                          notified list, heap teardown (remote.c); two at
 *                          once only the shared heap's first (the fork
 *                          handler, hak_heap_check)
 *   4. abandoned_locks[i]  abandoned spans of the classes c with
 *                          c % ABANDONED_LOCKS == i (abandon.c); at most
 *                          one held at a time, except by the fork handler,
 *                          which takes them in index order
 *   5. deferred_lock       suspects waiting for remote batches
 *                          (remote_batch.c); taken alone, except by the
 *                          fork handler
 *   then slabpool_lock and registry_lock (mm/superslab).
 */
#ifndef HAKMEM_MM_HEAP_H
#define HAKMEM_MM_HEAP_H

#include <string.h>
#include <lib/list.h>
#include <lib/lock.h>
#include <mm/internal.h>
#include <mm/sizeclass.h>
#include <mm/stats.h>
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
/* An ACTIVE span of the heap that is not its class's current one: the
 * owner's free into it leaves the fast path (heap_free_own_partial). */
#define OWNER_PARTIAL 2UL
#define OWNER_FLAGS (OWNER_DETACHED | OWNER_PARTIAL)

/* CONFIG_DEBUG_TRACE: the last TRACE_ENTRIES calls of a thread. */
#define TRACE_ENTRIES 4096
#define TRACE_FREE (1ULL << 63)
struct trace_event {
	uintptr_t ptr;
	uint64_t size;     /* request size; TRACE_FREE set for a free */
	uint64_t cycles;   /* the arch cycle counter (asm/cycles.h) */
};

/*
 * CONFIG_REMOTE_BATCH: a live heap's outgoing remote frees (remote_batch.c).
 * Slot i holds a chain of blocks of one span, linked as on a remote list
 * from head to tail, whose link is written when the chain is sent.  The
 * owner thread alone touches the slots; its stores are ordered (release)
 * so that a fork child finds a dead thread's chains whole but for the
 * block being added.
 */
#define REMOTE_BATCH_SLOTS  32
/* A chain is sent when it reaches either bound: at most 32 blocks and
 * 16 KiB in a chain, 1,024 blocks and 512 KiB in a batch. */
#define REMOTE_CHAIN_BLOCKS 32
#define REMOTE_CHAIN_BYTES  (16u << 10)
struct remote_slot {
	struct span *span;            /* NULL: the slot is free */
	void *head;                   /* the newest block */
	void *tail;                   /* the oldest */
	uint32_t n;                   /* blocks on the chain */
	uint32_t limit;               /* n that sends it */
};
struct remote_batch {
	uint64_t slots_used;          /* bit i: slot i holds a chain (release
	                                 stores: other threads read it) */
	uint64_t sent_epoch;          /* release: batch_epoch at the last whole send */
	uint32_t starts;              /* chains started: every 64th sends the batch */
	struct remote_slot slot[REMOTE_BATCH_SLOTS];
};

struct heap {
	/*
	 * tiny_direct[tiny_index(n)] == current[tiny_class_lut[tiny_index(n)]]
	 * at all times: the tiny fast path indexes it by size and skips the
	 * class lookup (heap_set_current keeps the two in step).
	 */
	struct span *tiny_direct[TINY_INDEX_ENTRIES];
	struct span *current[NUM_CLASSES];
#if IS_ENABLED(CONFIG_PROFILER)
	/* Bytes until the next sample (mm/prof/prof.h): malloc subtracts
	 * the request and takes the profiler's slow path below 0. */
	int64_t prof_left;
#endif
	uint64_t stats[STAT_EVENTS];  /* CONFIG_STATS: mm/stats.h's EVENT rows */
	uint64_t class_remote[NUM_CLASSES]; /* CONFIG_STATS: remote frees by class */
	struct dlist partial[NUM_CLASSES];
	struct dlist full;
	struct span *notified;        /* notify_lock; relaxed peek by the owner */
	uint32_t kind;                /* enum heap_kind */
	uint32_t empty_kept;
	uint32_t reserve_limit;       /* empty spans kept (adaptive) */
	uint32_t reacquired;          /* adaptive: spans taken soon after a release */
	uint64_t slow_calls;
	struct span *last_partial_free; /* the partial span of the last own free into one */
	uint32_t partial_run;         /* own frees in a row into last_partial_free */
	uint32_t partial_cur_used;    /* then, used of its class's current span */
	uint64_t swept_ms;            /* last heap_sweep_remote (os_now_ms) */
	uint32_t suspects;            /* notify_lock; relaxed peek by the owner */
	uint64_t rng;
#if IS_ENABLED(CONFIG_PROFILER)
	uint64_t prof_rng;            /* the sampling's; 0: not armed yet */
	uintptr_t prof_stack_top;     /* where the stack walk stops (0: no walk) */
#endif
#if IS_ENABLED(CONFIG_DEBUG_TRACE)
	uint64_t trace_pos;           /* events recorded so far */
	struct trace_event trace[TRACE_ENTRIES];  /* a ring (trace.c dumps it) */
#endif
	/*
	 * Kept when a heap is reused by a new thread (everything above is
	 * reset): a remote freer of the heap's previous life may still be
	 * taking or releasing notify_lock, and a suspect check may be reading
	 * the batch's counters.
	 */
	struct hak_lock notify_lock;
#if IS_ENABLED(CONFIG_REMOTE_BATCH)
	struct remote_batch batch;    /* empty whenever the heap is not live */
#endif
	/* CONFIG_ADAPTIVE, what the adaptive engine counts (mm/policy.h):
	 * written by the owner with relaxed stores, summed by the decay pass
	 * under heaps_lock; kept across reuse, so they only grow. */
	uint64_t ace_reserve_hits;
	uint64_t ace_reserve_capped;
	uint64_t ace_reserve_idle;
	uint64_t ace_hits_seen;       /* owner: reserve hits at its last shrink check */
	void **suspect_buf;           /* notify_lock: suspected double frees */
	uint32_t suspect_cap;         /* notify_lock: suspect_buf's size */
	struct heap *all_next;        /* heaps_lock: every heap ever made */
	struct heap *free_next;       /* heaps_lock: unused heaps */
};

/*
 * CONFIG_PROFILER: the countdown of the static heaps (the one before a
 * thread's first malloc, the bootstrap's, the dead one): far below 0, so
 * every malloc on them leaves the countdown to the profiler's slow path,
 * which samples on live heaps only.
 */
#define PROF_LEFT_STATIC (INT64_MIN / 4)
#if IS_ENABLED(CONFIG_PROFILER)
#define HEAP_PROF_INIT .prof_left = PROF_LEFT_STATIC,
#else
#define HEAP_PROF_INIT
#endif

extern __thread struct heap *tls_heap __attribute__((tls_model("initial-exec")));
extern hak_hidden struct heap empty_heap;
extern hak_hidden struct span empty_span;

/* Counts an EVENT statistic on heap h (CONFIG_STATS). */
static always_inline void heap_stat_inc(struct heap *h, enum stat_id id)
{
	if (IS_ENABLED(CONFIG_STATS))
		h->stats[id]++;
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
		/* A carved block start (span_is_block: what span_block_index
		 * tests, without the index). */
		if (next && unlikely(!span_is_block(s, next)))
			heap_corrupt(s, at);
	} else if (unlikely(next - s->start >= s->span_bytes) && next) {
		heap_corrupt(s, at);
	}
	return (void *)next;
}

/* The debug boxes' inline parts and stubs. */
#include <mm/heap/debug.h>

/*
 * The double-free key (suspect.c): a free writes it into the freed block's
 * second word, malloc clears it.  A free that finds it there suspects a
 * double free and confirms it on a slow path, never writing to the block
 * first.  Random per process, set at init before any block exists.
 */
extern hak_hidden uint64_t free_key;
#define BLOCK_KEY(p) (((uint64_t *)(p))[1])

/*
 * Owner: block b, popped from s, is handed out: its key is cleared.
 * CONFIG_DOUBLE_FREE_CHECK sets its bit (atomically: remote frees clear
 * bits of the same words), and a bit already set means the free list was
 * corrupted.
 */
static always_inline void heap_account_alloc(struct heap *h, struct span *s, void *b)
{
	heap_integrity_block(s, b);
	BLOCK_KEY(b) = 0;
	double_free_mark_alloc(s, b);
	fill_check_alloc(s, b);
	(void)h;
	if (IS_ENABLED(CONFIG_STATS))
		s->allocs++;
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
		vg_mem_defined(b, 2 * sizeof(void *));   /* link and key */
		s->free = link_next(s, b);
	} else {
		if (unlikely(!span_head_in_span(s, b)))
			return NULL;
		vg_mem_defined(b, 2 * sizeof(void *));
		s->free = *(void **)b;
	}
	s->used++;
	heap_account_alloc(h, s, b);
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
noinline void heap_free_remote(struct span *s, void *p);
/* A free by the owner that found the key in the block (suspect.c). */
noinline void heap_free_suspect(struct heap *h, struct span *s, void *p);

/* Owner: pushes block p (no key in it) onto s's free list. */
static always_inline void heap_push_local(struct heap *h, struct span *s, void *p, uint64_t key)
{
	heap_integrity_block(s, p);
	double_free_mark_free(s, p);
	fill_free(s, p);
	BLOCK_KEY(p) = key;
	*(void **)p = link_encode(s, p, s->free);
	s->free = p;
	if (IS_ENABLED(CONFIG_STATS))
		s->frees++;
	if (unlikely(--s->used == 0))
		heap_free_local_slow(h, s);
}

/*
 * Frees block p of span s (already validated as a block start).  A block
 * that holds the key is a suspected double free: heap_free_suspect
 * confirms it.  CONFIG_DOUBLE_FREE_CHECK also clears the block's bit,
 * atomically, whoever frees it: a bit already clear is a double free.
 */
static always_inline void heap_free_block(struct span *s, void *p)
{
	struct heap *h = tls_heap;

	if (likely(load_relaxed_foldable(&s->owner) == h)) {
		uint64_t key = free_key;

		if (unlikely(BLOCK_KEY(p) == key)) {
			heap_free_suspect(h, s, p);
			return;
		}
		heap_push_local(h, s, p, key);
		return;
	}
	heap_free_remote(s, p);
}

/* ---- Process and thread lifecycle (lifecycle.c). */
extern hak_hidden int hak_init_state;   /* enum hak_init_state */
enum hak_init_state { INIT_NOT_STARTED, INIT_RUNNING, INIT_DONE, INIT_FAILED };
/*
 * Brings up everything under the tier fronts: the OS layer, the options,
 * the registry, the heaps' shared state and the thread-exit key.  Lazy,
 * thread-safe and allocation-free; an errno value when it cannot run.
 */
int hak_init_slow(void);
static always_inline int hak_init(void)
{
	if (likely(atomic_load_acquire(&hak_init_state) == INIT_DONE))
		return 0;
	return hak_init_slow();
}
/* The calling thread's new heap (its tls_heap from then on), or NULL; for
 * a thread on &empty_heap or &dead_heap (the tiers' slow paths, a first
 * remote free, the heap profiler). */
struct heap *heap_create_for_thread(void);
/* Allocation through the locked shared heap (TINY/POOL off, bootstrap). */
void *shared_heap_alloc(unsigned int cls);
/* Gives the calling thread's empty-span reserve back to the pool and
 * releases spans emptied by remote frees (malloc_trim). */
void heap_trim_thread(void);
void heaps_fork_prepare(void);
void heaps_fork_parent(void);
void heaps_fork_child(void);

/*
 * Starts the purge thread if it is wanted (mm/superslab/superslab.h), from
 * a slow path about to return to the program: no lock held, the heap
 * consistent.  What pthread_create allocates comes from the shared heap: a
 * block that lives as long as the process would otherwise keep the calling
 * thread's span after that thread exits.
 */
void heap_purge_start(void);
static always_inline void heap_purge_start_if_wanted(void)
{
	if (unlikely(purge_wanted()))
		heap_purge_start();
}

/* ---- The adaptive engine's counts (adaptive.c, CONFIG_ADAPTIVE; mm/policy.h). */
struct ace_counts;
#if IS_ENABLED(CONFIG_ADAPTIVE)
void heaps_ace_counts(struct ace_counts *c);
#else
static inline void heaps_ace_counts(struct ace_counts *c) { (void)c; }
#endif

/* ---- Verification (verify.c, every config). */
enum span_verify_depth {
	VERIFY_DESCRIPTOR,   /* class, geometry, slab heads: any span */
	VERIFY_FREE_LIST,    /* and the free list and accounting: its owner */
	VERIFY_ALL_LISTS,    /* and the remote list: its owner, notify_lock held */
};
/* The problems found in s, each reported on stderr ("hakmem: heap check"). */
unsigned int span_verify(const struct span *s, enum span_verify_depth depth);
/* hak_heap_check(): every span's descriptor, the caller's spans in full. */
int heap_check_all(void);
/* hak_heap_visit(): the caller's live blocks, or (all) every heap's. */
int heap_visit(int all, int (*fn)(void *block, size_t size, void *arg), void *arg);

/* ---- Statistics (stats.c; lock_stats.c, CONFIG_LOCK_STATS). */
/* Calls fn for each lock the heap engine owns (the abandoned ones summed). */
void heaps_for_each_lock(void (*fn)(const struct hak_lock *l, void *arg), void *arg);
/*
 * A snapshot of every statistic (mm/stats.h): the global rows, the live
 * heaps' counters and a walk of the spans in use.  Takes heaps_lock, then
 * slabpool_lock (not nested): call it with no lock held.
 */
void stats_collect(struct stats_snapshot *st);

/* The process-wide rows of a snapshot. */
static inline void stats_snapshot(int64_t out[STAT_COUNT])
{
	struct stats_snapshot st;

	stats_collect(&st);
	memcpy(out, st.v, sizeof(st.v));
}

#endif
