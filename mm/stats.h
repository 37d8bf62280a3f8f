/* SPDX-License-Identifier: MIT */
/*
 * Statistics, declared once (HAK_STATS below).
 *
 * Event counters (allocs, frees, remote frees) are kept per thread heap and
 * per class, with plain increments (CONFIG_STATS only), and merged into
 * the global totals when a heap dies; readers add the live heaps.  Gauges
 * (slabs, superslabs, big blocks, bytes mapped) change on slow paths only
 * and are global relaxed atomics, kept in every config because mallinfo2()
 * reports them.
 */
#ifndef HAKMEM_MM_STATS_H
#define HAKMEM_MM_STATS_H

#include <stdint.h>
#include <mm/internal.h>

/* X(ID, name, description) */
#define HAK_STATS(X)                                                              \
	X(ALLOCS, allocs, "successful allocations, all tiers")                     \
	X(FREES, frees, "frees of hakmem blocks, all tiers")                       \
	X(REMOTE_FREES, remote_frees, "frees by a thread other than the owner")    \
	X(FOREIGN_FREES, foreign_frees, "ignored frees of non-hakmem pointers")    \
	X(SLABS_IN_USE, slabs_in_use, "slabs in spans owned by heaps")             \
	X(SUPERSLABS_IN_USE, superslabs_in_use, "superslabs with a slab in use")   \
	X(SUPERSLABS_CACHED, superslabs_cached, "empty superslabs in the LRU")     \
	X(BIG_IN_USE, big_in_use, "live big blocks")                               \
	X(BIG_BYTES, big_bytes, "bytes mapped by live big blocks")                 \
	X(BIG_CACHED, big_cached, "big mappings in BigCache")                      \
	X(BYTES_MAPPED, bytes_mapped, "bytes mapped from the OS")

enum stat_id {
#define STAT_ENUM(id, name, desc) STAT_##id,
	HAK_STATS(STAT_ENUM)
#undef STAT_ENUM
	STAT_COUNT
};

extern hak_hidden int64_t stat_global[STAT_COUNT];

static inline void stat_global_add(enum stat_id id, int64_t delta)
{
	atomic_fetch_add_relaxed(&stat_global[id], delta);
}

/* Snapshot of every counter, live heaps included. */
void stats_snapshot(int64_t out[STAT_COUNT]);
/* Prints "hakmem: stat <name> <value>" lines (and lock statistics). */
void stats_print(void);

#endif
