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
	.kind = (k), .notify_lock = HAK_LOCK_INIT("heap-notify") }

extern hak_hidden struct heap shared_heap;
extern hak_hidden struct hak_lock shared_lock;
extern hak_hidden int shared_ready;
extern hak_hidden struct hak_lock heaps_lock;
extern hak_hidden struct heap *all_heaps;    /* heaps_lock */

/* The owner, published with release stores once its heap (and its
 * notify_lock) is set up; a remote freer reads it before taking the lock. */
static inline struct heap *owner_heap(const struct span *s)
{
	return (struct heap *)((uintptr_t)atomic_load_acquire(&s->owner) & ~OWNER_DETACHED);
}

/* Every block the span handed out sits on its remote list (or none is
 * out): it can go back to the pool whole, without walking its lists. */
static inline int span_all_remote(const struct span *s)
{
	return s->used == remote_count(atomic_load_acquire(&s->remote));
}

/* s->free, checked (heap_pop leaves the link it stores unchecked). */
void *heap_free_head(const struct span *s);
/* Sets every class's current span to empty_span and empties the lists. */
void heap_init_lists(struct heap *h);
/* Moves the span's remote frees onto its free list; returns the count. */
uint32_t span_collect(struct span *s);
/* Makes s an ACTIVE span of h, on h's partial list (tail with at_tail). */
void span_attach_partial(struct heap *h, struct span *s, int at_tail);
/* Clears s's DETACHED remote flag (a CAS loop: remote freers push). */
void span_clear_detached(struct span *s);
/* Gives s back to the pool, unlinked, if span_all_remote(s); 1 if it did. */
int span_release_if_all_remote(struct span *s);
/* The same for every span on `list`; returns how many went back. */
unsigned int spans_release_all_remote(struct dlist *list);

/* remote.c: a remote free's push (counted, keyed, notifying a FULL span). */
void heap_push_remote(struct heap *me, struct span *s, void *p);
/* Owner: takes the notified spans back onto their partial lists. */
void heap_drain_notified(struct heap *h);
/* Owner: detaches its exhausted current span (FULL); -1 if frees came. */
int span_detach(struct heap *h, struct span *s);
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
/* Abandons every span on `spans` (linked by their link). */
void abandon_spans(struct dlist *spans);
/* Releases abandoned spans whose blocks all came back. */
void abandoned_reclaim(void);
void abandoned_fork_prepare(void);
void abandoned_fork_parent(void);

/* lifecycle.c: the calling thread's new heap; NULL when out of memory. */
struct heap *heap_create_for_thread(void);

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

#if IS_ENABLED(CONFIG_STATS)
/* stats.c: adds a dying heap's counters to the global ones, zeroes them. */
void heap_merge_stats(struct heap *h);
#else
static inline void heap_merge_stats(struct heap *h) { (void)h; }
#endif

#if IS_ENABLED(CONFIG_ADAPTIVE)
/* adaptive.c: a span went back to the pool; grows the reserve of a heap
 * whose released spans keep being taken again soon. */
void heap_reserve_adapt(struct heap *h);
#else
static inline void heap_reserve_adapt(struct heap *h) { (void)h; }
#endif

#endif
