/* SPDX-License-Identifier: MIT */
/* The heap engine's private interface, shared by its files; see heap.h. */
#ifndef HAKMEM_MM_HEAP_INTERNAL_H
#define HAKMEM_MM_HEAP_INTERNAL_H

#include <mm/heap/heap.h>

/* Slabs of empty reserve per unit of HAKMEM_HEAP_RESERVE. */
#define RESERVE_SLABS 4
/* Carve at most this many bytes' worth of blocks per slow-path trip. */
#define CARVE_BYTES 4096u
/* Slow paths (and shared-heap calls) between two periodic checks. */
#define MAINTENANCE_EVERY 64u

/* A static heap of kind k: its current spans are all empty_span. */
#define HEAP_STATIC_INIT(k) { .current = { [0 ... NUM_CLASSES - 1] = &empty_span }, \
	.tiny_direct = { [0 ... TINY_INDEX_ENTRIES - 1] = &empty_span }, \
	HEAP_PROF_INIT .kind = (k), .notify_lock = HAK_LOCK_INIT("heap-notify") }

extern hak_hidden struct heap shared_heap;
extern hak_hidden struct hak_lock shared_lock;
extern hak_hidden int shared_ready;
extern hak_hidden struct hak_lock heaps_lock;
extern hak_hidden struct heap *all_heaps;    /* heaps_lock */

/* The owner, published with release stores once its heap (and its
 * notify_lock) is set up; a remote freer reads it before taking the lock. */
static inline struct heap *owner_heap(const struct span *s)
{
	return (struct heap *)((uintptr_t)atomic_load_acquire(&s->owner) & ~OWNER_FLAGS);
}

/* Every block the span handed out sits on its remote list (or none is
 * out): it can go back to the pool whole, without walking its lists. */
static inline int span_all_remote(const struct span *s)
{
	return s->used == remote_count(atomic_load_acquire(&s->remote));
}

/* s->free, checked (heap_pop leaves the link it stores unchecked). */
void *heap_free_head(const struct span *s);
/* Takes s, an empty span kept in the reserve, out of it. */
void span_unkeep(struct heap *h, struct span *s);
/* Sets every class's current span to empty_span and empties the lists. */
void heap_init_lists(struct heap *h);
/* Moves the span's remote frees onto its free list; returns the count. */
uint32_t span_collect(struct span *s);
/* Makes s an ACTIVE span of h, on h's partial list (tail with at_tail). */
void span_attach_partial(struct heap *h, struct span *s, int at_tail);
/*
 * Clears s's remote flags (a CAS loop: remote freers push), when its owner
 * takes a FULL or NOTIFIED span back; 1 when the purge pass had purged it
 * (SPAN_REMOTE_PURGED): it is empty now (used 0, nothing carved).
 */
int span_take_remote_flags(struct span *s);
/* Gives s back to the pool, unlinked, if span_all_remote(s); 1 if it did. */
int span_release_if_all_remote(struct span *s);
/* The same for every span on `list`; returns how many went back. */
unsigned int spans_release_all_remote(struct dlist *list);

/* Counts an EVENT statistic for heap me, or globally for a heap that is
 * not a live thread's own (the dead and shared stand-ins). */
static always_inline void heap_stat_any(struct heap *me, enum stat_id id)
{
	if (!IS_ENABLED(CONFIG_STATS))
		return;
	if (me->kind == HEAP_LIVE)
		heap_stat_inc(me, id);
	else
		stat_global_add(id, 1);
}

/* remote.c: a remote free's push (counted, keyed, notifying a FULL span). */
void heap_push_remote(struct heap *me, struct span *s, void *p);
/* Pushes a chain of n blocks, head to tail, onto s's remote list, with one
 * CAS; a FULL span is queued on its owner's notified list. */
void span_push_remote(struct span *s, void *head, void *tail, uint32_t n);
/* The same for a chain from a remote batch: the span may have been
 * abandoned since, and the chain may hold its last blocks. */
void span_send_remote(struct span *s, void *head, void *tail, uint32_t n);
/* Owner: takes the notified spans back onto their partial lists. */
void heap_drain_notified(struct heap *h);
/* Owner: detaches its exhausted current span (FULL); -1 if frees came. */
int span_detach(struct heap *h, struct span *s);
/* Owner: span s of h, not its current one, holds no block in use now: to
 * the reserve (truncated) or the pool.  Starts no thread (a caller may be
 * walking h's lists: heap_free_local_slow does that after). */
void heap_noncurrent_emptied(struct heap *h, struct span *s);
/* Owner: releases the partial spans emptied by remote frees. */
void heap_sweep_remote(struct heap *h);

/* abandon.c */
#define ABANDONED_LOCKS 8
struct abandoned_lock {
	struct hak_lock lock;
} cacheline_aligned;
extern hak_hidden struct abandoned_lock abandoned_locks[ABANDONED_LOCKS];

void abandoned_init(void);
/* A span of class cls that a dead thread left, adopted by h; or NULL. */
struct span *abandoned_adopt(struct heap *h, unsigned int cls);
/* h adopts s if it is still ABANDONED (a free into it); 1 when it did. */
int abandoned_adopt_span(struct heap *h, struct span *s);
/*
 * A free into an ABANDONED span by a thread that does not adopt it, when
 * the block holds the key or may be the span's last: under the class's
 * lock, a suspect is confirmed, the block pushed, and an empty span goes
 * back to the pool at once.  0 when the span is no longer abandoned.
 */
int abandoned_free(struct heap *me, struct span *s, void *p);
/* The same for a chain of n blocks from a remote batch (counted and keyed
 * when batched); 0 when the span is no longer abandoned. */
int abandoned_send(struct span *s, void *head, void *tail, uint32_t n);
/* Abandons every span on `spans` (linked by their link). */
void abandon_spans(struct dlist *spans);
/* Releases abandoned spans whose blocks all came back. */
void abandoned_reclaim(void);
void abandoned_fork_prepare(void);
void abandoned_fork_parent(void);

/* shared.c: releases the shared heap's spans emptied by remote frees; a
 * suspected double free into its span, confirmed under its lock (0: the
 * span is no longer the shared heap's). */
void shared_heap_trim(void);
int shared_heap_free_suspect(struct heap *me, struct span *s, void *p);

/*
 * suspect.c.  Whether p is on s's free list once its remote frees are
 * collected (the caller owns s, or holds the lock that stands for the
 * owner); hands a suspect to its owner's queue (0: the owner is exiting or
 * no longer owns s); the owner frees what was handed over (_left: the
 * queue of a heap no longer live, whoever frees them).
 */
int span_holds_free(struct span *s, void *p);
int suspect_hand_over(struct heap *owner, struct span *s, void *p);
void heap_drain_suspects(struct heap *h);
void heap_free_suspects_left(struct heap *h);

/*
 * remote_batch.c (CONFIG_REMOTE_BATCH).  A live heap's remote frees wait
 * in its batch (heap.h); remote_batch_send sends them all.  A suspected
 * double free is checked against the freeing thread's own batch, and
 * waits (deferred, counted as used) while another thread's batch may hold
 * the block: remote_batch_defer says so (1), and remote_batch_drain
 * confirms the waiting ones once every batch that was pending has been
 * sent whole.
 */
#if IS_ENABLED(CONFIG_REMOTE_BATCH)
noinline void remote_batch_start(struct heap *h, struct span *s, void *p);
noinline void remote_batch_send_chain(struct heap *h, struct span *s);
noinline void remote_batch_send(struct heap *h);
int remote_batch_defer(struct heap *me, struct span *s, void *p);
void remote_batch_drain(struct heap *me);
/* Frees suspect p, known to be in no batch: no deferral on the way. */
void remote_batch_free_checked(void *p);
void remote_batch_fork_prepare(void);
/* The lock of the deferred suspects (lock statistics). */
extern hak_hidden struct hak_lock deferred_lock;
void remote_batch_fork_parent(void);
/* Fork child: sends the batch of h, a heap whose thread did not survive. */
void remote_batch_fork_child(struct heap *h);

static always_inline struct remote_slot *remote_slot_of(struct heap *h, const struct span *s)
{
	return &h->batch.slot[((uintptr_t)s * 0x9e3779b97f4a7c15ULL) >> 59];
}
_Static_assert(REMOTE_BATCH_SLOTS == 32, "remote_slot_of takes 5 bits");

/* A remote free of p (counted and keyed) by live heap h, into s's chain. */
static always_inline void remote_batch_add(struct heap *h, struct span *s, void *p)
{
	struct remote_slot *sl = remote_slot_of(h, s);
	uint32_t n;

	if (unlikely(sl->span != s)) {
		remote_batch_start(h, s, p);
		return;
	}
	*(void **)p = link_encode(s, p, sl->head);
	atomic_store_release(&sl->head, p);
	n = sl->n + 1;
	atomic_store_release(&sl->n, n);
	if (unlikely(n >= sl->limit))
		remote_batch_send_chain(h, s);
}
#else
static inline void remote_batch_add(struct heap *h, struct span *s, void *p)
{
	(void)h, (void)s, (void)p;
}
static inline void remote_batch_send(struct heap *h) { (void)h; }
static inline int remote_batch_defer(struct heap *me, struct span *s, void *p)
{
	(void)me, (void)s, (void)p;
	return 0;
}
static inline void remote_batch_drain(struct heap *me) { (void)me; }
static inline void remote_batch_free_checked(void *p)
{
	heap_free_block(span_of(ss_of((uintptr_t)p), (uintptr_t)p), p);
}
static inline void remote_batch_fork_prepare(void) { }
static inline void remote_batch_fork_parent(void) { }
static inline void remote_batch_fork_child(struct heap *h) { (void)h; }
#endif

/* suspect.c: grows an array in OS memory to hold at least one more of
 * `used` elements of `size` bytes; 0 when out of memory. */
int os_array_grow(void **buf, uint32_t *cap, uint32_t used, size_t size);

#if IS_ENABLED(CONFIG_STATS)
/* stats.c: adds a dying heap's counters to the global ones, zeroes them. */
void heap_merge_stats(struct heap *h);
#else
static inline void heap_merge_stats(struct heap *h) { (void)h; }
#endif

/* lifecycle.c: releases h's reserve spans until it keeps at most
 * keep_slabs slabs. */
void heap_release_kept(struct heap *h, uint32_t keep_slabs);

#if IS_ENABLED(CONFIG_ADAPTIVE)
/* adaptive.c: a span went back to the pool; grows the reserve of a heap
 * whose released spans keep being taken again soon, up to the policy's
 * reserve_max.  heap_reserve_shrink, once per decay time (heap_periodic)
 * with the engine on (HAKMEM_ACE=1): halves the reserve of a heap that
 * took nothing from it since, down to HAKMEM_HEAP_RESERVE, and keeps it
 * within reserve_max. */
void heap_reserve_adapt(struct heap *h);
void heap_reserve_shrink(struct heap *h);
#else
static inline void heap_reserve_adapt(struct heap *h) { (void)h; }
static inline void heap_reserve_shrink(struct heap *h) { (void)h; }
#endif

#endif
