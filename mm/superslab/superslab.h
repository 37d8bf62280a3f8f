/* SPDX-License-Identifier: MIT */
/*
 * Superslabs: the slab engine under every tier, the shared slab pool, the
 * LRU cache of empty superslabs, and the address registry.
 *
 * Geometry
 *   A superslab is an SS_SIZE-aligned region (2 MiB by default) of
 *   SLABS_PER_SS slabs (64 KiB each).  struct superslab, the descriptors of
 *   all its slabs, sits at the start (SS_META_BYTES, a multiple of the
 *   largest supported page), optionally followed by a PROT_NONE guard, so
 *   the usable part of slab 0 is shorter than the others (or empty on a
 *   64 KiB-page build).  CONFIG_GUARD_PAGES also ends the superslab with
 *   a guard: a span that covers the last slab holds the blocks that end
 *   before it, and a class none of whose blocks would fit does not use it.  Metadata never lives inside user blocks.
 *
 *   A span is a run of nslabs contiguous slabs holding blocks of one size
 *   class.  It is described by the descriptor of its first slab, and
 *   every slab's descriptor points at that one (span->head), so free
 *   finds the span from the slab a block starts in.  Only single-slab
 *   spans use the short slab 0, and only for classes of at most 4 KiB, so
 *   a block of a class that is a multiple of an alignment A <= 64 KiB
 *   always starts A-aligned.
 *
 * Span states and who may change them
 *   FREE       bit set in ss->free_mask; slabpool_lock.  A free slab is
 *              "dirty" (ss->dirty_mask) until its pages are given back.
 *              Dirty slabs and committed cached superslabs together stay
 *              within max(4 MiB, slabs in spans): past that the oldest
 *              are decommitted at once (MADV_DONTNEED), and dirty slabs
 *              older than the decay time on the next decay check.
 *   ACTIVE     owned by one heap: its current span, or on its partial list.
 *   FULL       owned, on the heap's full list, remote word DETACHED: the
 *              owner no longer looks at it.  The first remote free clears
 *              DETACHED and queues the span on the owner's notified list
 *              (heap->notify_lock), the owner moves it back to partial on
 *              its next slow path ("delayed free", as in mimalloc).  The
 *              owner sets and clears DETACHED by CAS without the lock
 *              (ACTIVE<->FULL); whoever clears the bit first wins.
 *   NOTIFIED   FULL span queued on the owner's notified list.
 *   ABANDONED  owner NULL, on the abandoned list of its class (under
 *              that class's abandoned lock); adopted by the next heap
 *              needing the class or by the first live heap that frees
 *              into it, or reclaimed by the decay scan once empty.
 *   CACHED     empty, owner NULL, carved 0, in a slot of its class's span
 *              cache (lock-free, see superslab.c): the next heap that needs
 *              the class takes it without slabpool_lock.  The decay check moves
 *              spans cached since the previous check to the pool.
 *
 * Accounting (owner-private, so no atomics on same-thread paths)
 *   used == carved - |free|
 *   |remote| <= used, and the live blocks are used - |remote|: a remote
 *   free counts once the owner collects it (span_collect subtracts it).
 *   A span is empty when used == 0, which implies remote is empty; no block
 *   is ever hidden from its span.

 * Remote frees
 *   One CAS push onto span->remote (low bits: SPAN_REMOTE_DETACHED).  The
 *   freer touches the span only up to that CAS: after it the owner may
 *   collect the block and release the span.
 *
 * Pages of live spans
 *   A live heap's empty current or reserve span may offer the pages after
 *   its first block (span->purge: KEPT, PURGEABLE, PURGING, PURGED; the
 *   span's bit in ss->purgeable_mask); the purge pass decommits them by
 *   CAS, the owner takes them back by CAS (span_reclaim_pages).  A
 *   NOTIFIED span whose blocks all came back is decommitted whole under its
 *   owner's notify_lock (SPAN_REMOTE_PURGED).
 *
 * Files: superslab.c the slab pool (slabpool_*) and the offered pages,
 * span_cache.c the span caches (CONFIG_SPAN_CACHE), lru.c the cache of
 * empty superslabs (CONFIG_SS_LRU), registry.c the address registry,
 * decay.c the decay check and its hooks, purge.c the purge thread
 * (CONFIG_PURGE_THREAD), walk.c the walks of every span in use.
 *
 * Locks (after big_lock and the heap engine's: mm/heap/heap.h has the
 * whole order; none is taken on a fast path)
 *   1. slabpool_lock   superslab lists, free and dirty masks, LRU cache
 *   2. registry_lock   map+register and unmap+unregister pairs
 *   Registry lookups and the span caches are lock-free.
 */
#ifndef HAKMEM_MM_SUPERSLAB_H
#define HAKMEM_MM_SUPERSLAB_H

#include <stdint.h>
#include <lib/list.h>
#include <lib/lock.h>
#include <mm/internal.h>
#include <mm/os.h>
#include <mm/sizeclass.h>
#include <mm/valgrind.h>

struct heap;
struct ace_counts;

enum span_state {
	SPAN_FREE = 0,
	SPAN_ACTIVE,
	SPAN_FULL,
	SPAN_NOTIFIED,
	SPAN_ABANDONED,
	SPAN_CACHED,
};

/*
 * The remote word: [count:16][list head:48, low 4 bits flags].  The count
 * of blocks on the list travels with it, so the owner can take a whole
 * list without walking it (user pointers fit in 48 bits; tagged ones are
 * rejected as foreign before they get here).
 */
#define SPAN_REMOTE_DETACHED 1UL
/* A NOTIFIED span (until its owner takes it off the notified list): a push
 * wakes the purge thread, which looks for spans whose blocks all came back. */
#define SPAN_REMOTE_NOTIFIED 2UL
/* Set with NOTIFIED by the purge pass, under the owner's notify_lock, on a
 * span whose blocks were all on its remote list: it took the list (count
 * 0), set carved to 0 and decommitted the span; the owner finds it empty. */
#define SPAN_REMOTE_PURGED   4UL
#define SPAN_REMOTE_FLAGS    (MIN_ALIGN - 1)
#define REMOTE_COUNT_SHIFT   VA_BITS
#define REMOTE_PTR_MASK      ((((uintptr_t)1 << VA_BITS) - 1) & ~(uintptr_t)SPAN_REMOTE_FLAGS)

static inline void *remote_list(uintptr_t r)
{
	return (void *)(r & REMOTE_PTR_MASK);
}

static inline uint32_t remote_count(uintptr_t r)
{
	return (uint32_t)(r >> REMOTE_COUNT_SHIFT);
}

/* The remote word after splicing a chain of n blocks from head (whose
 * last link already points at the old head) onto `old`, flags kept. */
static inline uintptr_t remote_spliced(uintptr_t old, void *head, uint32_t n)
{
	/* The count cannot carry out: it stays below SPAN_MAX_BLOCKS. */
	return ((old & ~REMOTE_PTR_MASK) + ((uintptr_t)n << REMOTE_COUNT_SHIFT)) |
	       (uintptr_t)head;
}

/* The same for one block p. */
static inline uintptr_t remote_pushed(uintptr_t old, void *p)
{
	return remote_spliced(old, p, 1);
}

/* Blocks a span can hold at most (16 B blocks in one slab). */
#define SPAN_MAX_BLOCKS   (SLAB_SIZE / MIN_ALIGN)
#define SPAN_BITMAP_WORDS (SPAN_MAX_BLOCKS / 64)
_Static_assert(SPAN_MAX_BLOCKS < (1UL << (64 - VA_BITS)), "remote count fits its bits");

struct span {
	/*
	 * Line 0, read by every free (a remote one too) and written only on
	 * slow paths: a remote freer reads it without taking it from the
	 * owner's cache, as it would if the owner's free and used were here.
	 *
	 * head: every slab's descriptor points at its span's (the span's
	 * first slab's; itself for a first or a free slab).  free reads it
	 * from the slab a block starts in.  Written under slabpool_lock, read
	 * relaxed; always points into the same superslab.
	 */
	struct span *head;
	uintptr_t start;       /* address of block 0 */
	uint64_t block_mul;    /* class_info[cls].block_mul */
	/* carved * class_info[cls].block_step: free's block-start test
	 * (span_is_block), one compare.  Relaxed atomic, owner-written. */
	uint64_t carved_limit;
	struct heap *owner;    /* relaxed atomic: read by every free */
	uint64_t div_inv;      /* class_info[cls].div_inv */
	uint64_t key;          /* FREELIST_HARDENED: per-span random key */
	uint32_t block_size;
	uint8_t div_shift;     /* class_info[cls].div_shift */
	uint8_t cls;
	uint8_t nslabs;
	uint8_t index;         /* slab index within the superslab */
	/* Line 1, owner-private: written by every malloc and local free. */
	void *free cacheline_aligned; /* free list (links encoded with FREELIST_HARDENED) */
	uint32_t used;         /* see the accounting equation above */
	uint8_t state;         /* enum span_state */
	uint8_t kept_empty;    /* counted in the heap's empty reserve */
	uint8_t cache_age;     /* CACHED: decay checks seen in the cache */
	uint8_t partial_frees; /* ACTIVE, OWNER_PARTIAL: owner frees that did
	                          not make it current (mm/heap/remote.c) */
	uint64_t carved;       /* blocks carved so far (bump pointer); 0: none */
	uintptr_t span_bytes;  /* capacity * block_size: links must point below */
	struct dlist link;     /* partial/full/abandoned list (by its lock) */
	/* CONFIG_STATS: the class's allocations and owner frees from this
	 * span, counted where the fast paths touch the span anyway; folded
	 * into stat_class[] when it goes back to the pool (mm/stats.h). */
	uint64_t allocs;
	uint64_t frees;
	/* Line 2, written by remote freers. */
	uintptr_t remote cacheline_aligned; /* atomic: remote list | flags */
	uint32_t capacity;     /* blocks in this span */
	/* ABANDONED: its used, for remote freers to see (relaxed atomic;
	 * written under its class's abandoned lock, mm/heap/abandon.c). */
	uint32_t abandoned_used;
	uint8_t purge;         /* enum span_purge: owner and purge pass, by CAS */
	/* NOTIFIED: the remote count the last purge pass saw (notify_lock). */
	uint32_t purge_seen;
	struct span *notify_next; /* notified list (owner's notify_lock) */
} __attribute__((aligned(256)));

_Static_assert(sizeof(struct span) == 256, "span descriptors index by shift");
_Static_assert(__builtin_offsetof(struct span, frees) < 128, "the counters share the owner's line");

struct superslab {
	struct span spans[SLABS_PER_SS];
	uint64_t free_mask;           /* slabpool_lock: bit i = slab i is free */
	uint64_t usable_mask;         /* slabs that may hold blocks */
	struct dlist pool_link;       /* slabpool_lock: partial or LRU list */
	struct dlist all_link;        /* slabpool_lock: every mapped superslab */
	/* slabpool_lock: free slabs whose pages may still be committed, and the
	 * superslab's place on the dirty list (oldest first) while any. */
	uint64_t dirty_mask;
	struct dlist dirty_link;
	uint64_t dirty_since_ms;      /* slabpool_lock: when dirty_mask became non-zero */
	uint64_t cached_since_ms;     /* slabpool_lock: when it entered the LRU */
	uint32_t first_offset;        /* bytes of metadata (+ guard) */
	uint8_t in_lru;               /* lru.c */
	uint8_t decommitted;
	/* Slabs (first of a span) whose span offered its pages: set by the
	 * owner, taken by the purge pass (atomic). */
	uint64_t purgeable_mask;
#if IS_ENABLED(CONFIG_DOUBLE_FREE_CHECK)
	/* Owner-private "block is allocated" bits of each span (by first slab). */
	uint64_t alloc_bits[SLABS_PER_SS][SPAN_BITMAP_WORDS];
#endif
#if IS_ENABLED(CONFIG_VALGRIND)
	/* Under memcheck (vg_running): the size asked for each live block,
	 * by (address & SS_MASK) / MIN_ALIGN (mm/api.c); NULL otherwise. */
	uint32_t *vg_sizes;
#endif
};

#define SS_META_BYTES  round_up_pow2(sizeof(struct superslab), ARCH_MAX_PAGE_SIZE)
#define SS_GUARD_BYTES (IS_ENABLED(CONFIG_GUARD_PAGES) ? ARCH_MAX_PAGE_SIZE : 0)
#define SS_RESERVED_BYTES (SS_META_BYTES + SS_GUARD_BYTES)

_Static_assert(sizeof(struct superslab) + ARCH_MAX_PAGE_SIZE * 2 <= SS_SIZE / 4,
	       "superslab metadata must leave room for blocks");
/* SS_RESERVED_BYTES, in a constant expression. */
_Static_assert((sizeof(struct superslab) + ARCH_MAX_PAGE_SIZE - 1) / ARCH_MAX_PAGE_SIZE *
	       ARCH_MAX_PAGE_SIZE + SS_GUARD_BYTES <=
	       (SLABS_PER_SS - MID_SPAN_MAX_SLABS) * SLAB_SIZE,
	       "the largest mid span fits beside the metadata");

/*
 * CONFIG_GUARD_PAGES: an inaccessible page after a new superslab's
 * metadata, so an underflow out of the first span faults, and one at its
 * end, so a linear overflow out of its last span faults before it reaches
 * the next superslab's metadata.  A span that covers the last slab holds
 * the blocks that end before the guard (superslab.c).
 */
static inline void ss_guard_install(struct superslab *ss)
{
	if (IS_ENABLED(CONFIG_GUARD_PAGES) &&
	    (os_protect_none((char *)ss + SS_META_BYTES, SS_GUARD_BYTES) ||
	     os_protect_none((char *)ss + SS_SIZE - SS_GUARD_BYTES, SS_GUARD_BYTES)))
		hak_fatal("cannot protect superslab guard", ss);
}

#define VG_SIZES_BYTES (SS_SIZE / MIN_ALIGN * sizeof(uint32_t))

/*
 * Under memcheck, a new superslab's metadata (span descriptors: block
 * addresses) is hidden from the leak scan, and it gets its side table of
 * requested sizes; both go when it is unmapped.
 */
static inline void ss_vg_setup(struct superslab *ss)
{
#if IS_ENABLED(CONFIG_VALGRIND)
	void *t;

	ss->vg_sizes = NULL;
	if (!vg_on())
		return;
	vg_hide(ss, SS_META_BYTES);
	if (!os_map(VG_SIZES_BYTES, &t))
		ss->vg_sizes = t;
#else
	(void)ss;
#endif
}

static inline void ss_vg_teardown(struct superslab *ss)
{
#if IS_ENABLED(CONFIG_VALGRIND)
	if (!vg_on())
		return;
	if (ss->vg_sizes)
		os_unmap(ss->vg_sizes, VG_SIZES_BYTES);
	vg_unhide(ss, SS_META_BYTES);
#else
	(void)ss;
#endif
}

static always_inline struct superslab *ss_of(uintptr_t addr)
{
	return (struct superslab *)(addr & ~SS_MASK);
}

/* The descriptor of the slab holding addr. */
static always_inline struct span *slab_of(struct superslab *ss, uintptr_t addr)
{
	return &ss->spans[(addr & SS_MASK) >> SLAB_SHIFT];
}

/* The span holding addr (the descriptor of its first slab). */
static always_inline struct span *span_of(struct superslab *ss, uintptr_t addr)
{
	return load_relaxed_foldable(&slab_of(ss, addr)->head);
}

/* (addr - start) / block_size when the block size divides it, else at
 * least 2^44 (Granlund and Montgomery; struct class_info): the double-free
 * bitmap's pop check (heap_account_alloc) relies on that. */
static always_inline uint64_t span_block_quotient(const struct span *s, uintptr_t addr)
{
	return rotr64((uint64_t)(addr - s->start) * s->div_inv, s->div_shift);
}

/*
 * Whether addr is the start of a block that has been carved (not an
 * interior pointer, metadata, a free slab, or the descriptor of a span's
 * tail slab): one multiply and one compare (struct class_info).
 * carved_limit only grows while the span holds blocks: any value another
 * thread reads covers the block it is freeing.
 */
static always_inline int span_is_block(const struct span *s, uintptr_t addr)
{
	return (uint64_t)(addr - s->start) * s->block_mul <
	       load_relaxed_foldable(&s->carved_limit);
}

/* Block index of addr within its span, or -1 when it is no block start
 * (span_is_block). */
static always_inline long span_block_index(const struct span *s, uintptr_t addr)
{
	if (unlikely(!span_is_block(s, addr)))
		return -1;
	return (long)span_block_quotient(s, addr);
}

/*
 * Whether addr is the start of a block that is not carved, in a span a heap
 * owns (read racily: for the report of a bad free only).
 */
static inline int span_truncated_block(const struct span *s, uintptr_t addr)
{
	uint8_t st = atomic_load_relaxed(&s->state);

	return (st == SPAN_ACTIVE || st == SPAN_FULL || st == SPAN_NOTIFIED) &&
	       addr >= s->start && span_block_quotient(s, addr) < atomic_load_relaxed(&s->capacity);
}

/* Sets the number of carved blocks (owner; remote freers read the limit). */
static always_inline void span_set_carved(struct span *s, uint64_t carved)
{
	s->carved = carved;
	atomic_store_relaxed(&s->carved_limit, carved * class_info[s->cls].block_step);
}

/* carved as another thread may read it (the snapshot, the heap check):
 * from carved_limit, the atomic copy, while the owner or the purge pass
 * moves carved. */
static inline uint64_t span_carved_seen(const struct span *s)
{
	return atomic_load_relaxed(&s->carved_limit) / class_info[s->cls].block_step;
}

/* ---- Registry: superslab-aligned address -> kind.  Lock-free lookups. */
enum reg_kind {
	REG_NONE = 0,
	REG_SUPERSLAB = 1,
	REG_LARGE_HEAD = 2,   /* first SS_SIZE piece of a large mapping */
	REG_LARGE_TAIL = 3,   /* later pieces */
};

/* 0 until the map is reserved; then 2^(VA_BITS - SS_SHIFT). */
extern hak_hidden uintptr_t registry_entries;
/* One enum reg_kind per SS_SIZE of address space. */
extern hak_hidden uint8_t *registry_bytes;

/*
 * The map pointer and its size are written once, at init, before any
 * pointer they describe exists; entries change under registry_lock and are
 * read with relaxed loads.  This is two loads and a compare on the fast
 * path.
 */
static always_inline unsigned int registry_kind_at(uintptr_t idx)
{
	if (unlikely(idx >= load_relaxed_foldable(&registry_entries)))
		return REG_NONE;
	return load_relaxed_foldable(&load_relaxed_foldable(&registry_bytes)[idx]);
}

static always_inline unsigned int registry_kind(uintptr_t addr)
{
	return registry_kind_at(addr >> SS_SHIFT);
}

int registry_init(void);
/*
 * Maps `size` bytes with (addr + skew) % align == 0 and registers it as
 * `kind` (a large mapping: head, then tail pieces) before returning it.
 */
int registry_map(size_t size, size_t align, size_t skew, unsigned int kind,
		 void **out);
/* Unmaps, then unregisters, under registry_lock. */
void registry_unmap(void *addr, size_t size);
/* Grows or shrinks a registered large mapping in place (no move). */
int registry_resize(void *addr, size_t old_size, size_t new_size);

/* ---- The slab pool (superslab.c). */
extern hak_hidden struct hak_lock slabpool_lock;
extern hak_hidden struct hak_lock registry_lock;

/* A span of class cls, owned by `owner`, carving lazily; NULL when out of
 * memory.  An empty span back to the pool, or to its class's span cache
 * first (slabpool_cache_span). */
struct span *slabpool_acquire_span(unsigned int cls, struct heap *owner);
void slabpool_release_span(struct span *s);
void slabpool_cache_span(struct span *s);
/* slabpool_lock: every mapped superslab, by all_link (superslab.c; the
 * walks in walk.c read it). */
extern hak_hidden struct dlist ss_all;
/*
 * Calls fn for every span whose slabs are not free (in span caches too),
 * under slabpool_lock (walk.c); fn must take no lock.  For the fork
 * child's scan, the heap checks and the heap visitor.
 */
void slabpool_for_each_span(void (*fn)(struct span *s, void *arg), void *arg);
/* What the statistics read of the pool: the same walk, and the bytes
 * likely committed (metadata, dirty free slabs, the carved part of each
 * span, committed LRU superslabs) and the bytes in the LRU. */
struct slabpool_usage {
	uint64_t resident;
	uint64_t lru_bytes;
};
void slabpool_usage(struct slabpool_usage *u, void (*fn)(struct span *s, void *arg), void *arg);
/* Fills the slab pool's, the LRU's and the span caches' ace_counts. */
void slabpool_ace_counts(struct ace_counts *c);
/* Releases cached memory older than the decay time (all with force) and
 * decommits offered span pages; whether anything is left to release. */
int slabpool_decay(uint64_t now_ms, int force);
/* Initialises the descriptors of a span taken from the pool. */
void span_init(struct superslab *ss, unsigned int first, unsigned int cls);
/* An empty span (owner NULL, carved 0) to the pool (_locked: lock held). */
void slabpool_free_locked(struct span *s, uint64_t now_ms);
void slabpool_free(struct span *s);

/*
 * Span caches (span_cache.c, CONFIG_SPAN_CACHE): take a cached span of
 * class cls; put an empty span in (0: the cache is full); the slabs they
 * hold (counted in STAT_SLABS_IN_USE); move them all to the pool
 * (slabpool_lock held); the decay check; fork child: forget them (the
 * orphan scan finds their spans, as CACHED spans without owner).
 */
#if IS_ENABLED(CONFIG_SPAN_CACHE)
void span_cache_ace_counts(struct ace_counts *c);
struct span *span_cache_take(unsigned int cls);
int span_cache_put(struct span *s, unsigned int age);
uint64_t span_cache_slabs(void);
void span_cache_drain_locked(uint64_t now_ms);
void span_cache_decay(int force);
void span_cache_fork_child(void);
#else
static inline void span_cache_ace_counts(struct ace_counts *c) { (void)c; }
static inline struct span *span_cache_take(unsigned int cls) { return NULL; }
static inline int span_cache_put(struct span *s, unsigned int age) { return 0; }
static inline uint64_t span_cache_slabs(void) { return 0; }
static inline void span_cache_drain_locked(uint64_t now_ms) { }
static inline void span_cache_decay(int force) { }
static inline void span_cache_fork_child(void) { }
#endif

/*
 * The cache of empty superslabs (lru.c, CONFIG_SS_LRU), slabpool_lock held:
 * take the most recently emptied one; cache one (0: full, unmap it); how
 * many are cached, and how many of those still committed; decommit the
 * oldest until at most `keep` stay committed; decommit and unmap them as
 * they age.
 */
#if IS_ENABLED(CONFIG_SS_LRU)
uint64_t lru_aged_count(void);
struct superslab *lru_take(void);
int lru_put(struct superslab *ss, uint64_t now_ms);
unsigned int lru_cached(void);
unsigned int lru_committed(void);
void lru_decommit_to(unsigned int keep);
void lru_decay(uint64_t now_ms, int force);
#else
static inline uint64_t lru_aged_count(void) { return 0; }
static inline struct superslab *lru_take(void) { return NULL; }
static inline int lru_put(struct superslab *ss, uint64_t now_ms) { return 0; }
static inline unsigned int lru_cached(void) { return 0; }
static inline unsigned int lru_committed(void) { return 0; }
static inline void lru_decommit_to(unsigned int keep) { }
static inline void lru_decay(uint64_t now_ms, int force) { }
#endif
/* Unmaps a superslab (slabpool_lock held). */
void ss_unmap(struct superslab *ss);

/*
 * The decay check (decay.c): rate-limited to a few per decay time; force
 * (malloc_trim) runs it now and releases everything cached.  Upper layers
 * add their caches' hooks; each returns whether it still holds memory a
 * later check would release.  decay_run returns the same for the whole
 * pass, or -1 when it did not run (too soon, or another pass was running).
 * The fork handlers hold off passes: prepare waits for a running one.
 */
typedef int (*decay_hook_fn)(uint64_t now_ms, int force);
void decay_add_hook(decay_hook_fn fn);
int decay_run(int force);
/* The time between two checks (a quarter of the decay time, at least 1). */
uint64_t decay_period_ms(void);
void decay_fork_prepare(void);
void decay_fork_parent(void);
void decay_fork_child(void);

/*
 * The purge thread (purge.c, CONFIG_PURGE_THREAD).  purge_notify: memory
 * became purgeable (a slow path; any lock may be held): wakes the thread,
 * or marks it wanted.  purge_wanted: whether it is wanted and not started;
 * purge_start starts it then.  Only the heap engine starts it
 * (heap_purge_start_if_wanted, mm/heap/heap.h): where a thread may start,
 * no lock held and the caller's heap consistent (pthread_create allocates).
 */
#if IS_ENABLED(CONFIG_PURGE_THREAD)
extern hak_hidden uint32_t purge_state;
#define PURGE_STATE_WANTED 1
static always_inline int purge_wanted(void)
{
	/* Not under memcheck: a thread of its own that outlives main leaves
	 * its TLS block possibly lost in every report. */
	return !vg_on() && atomic_load_relaxed(&purge_state) == PURGE_STATE_WANTED;
}
void purge_notify(void);
void purge_start(void);
void purge_fork_child(void);
#else
static inline int purge_wanted(void) { return 0; }
static inline void purge_notify(void) { }
static inline void purge_start(void) { }
static inline void purge_fork_child(void) { }
#endif

/*
 * Pages of a live heap's empty spans (span->purge).  A heap whose span
 * empties, and whose span stays with it (current, or in its reserve),
 * truncates it to its first block (carved 1, that block free: the fast
 * path still hands it out) and offers the pages after that block with
 * span_offer_pages.  The purge pass decommits an offered span's pages by
 * CAS (PURGEABLE -> PURGING -> PURGED) without touching the heap's lists
 * or the span's free list; the owner takes them back by CAS
 * (span_reclaim_pages) before it carves again or lets the span go, and
 * waits while a decommit is under way.
 */
enum span_purge {
	SPAN_PAGES_KEPT = 0,
	SPAN_PAGES_PURGEABLE,
	SPAN_PAGES_PURGING,
	SPAN_PAGES_PURGED,
};
void span_offer_pages(struct span *s);
/* Decommits the span's pages (after its first block with keep_first). */
void span_decommit(struct span *s, int keep_first);
void span_reclaim_pages_slow(struct span *s);
static always_inline void span_reclaim_pages(struct span *s)
{
	if (unlikely(atomic_load_relaxed(&s->purge) != SPAN_PAGES_KEPT))
		span_reclaim_pages_slow(s);
}

#endif
