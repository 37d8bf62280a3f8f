/* SPDX-License-Identifier: MIT */
/*
 * Statistics counters, declared once (HAK_STATS below).
 *
 * EVENT counters (allocations, frees, remote frees) are kept per thread
 * heap with plain increments (CONFIG_STATS only): heap->stats[] holds the
 * first STAT_EVENTS entries of this table, and a dying heap adds them to
 * stat_global.  GLOBAL counters change on slow paths only and are relaxed
 * atomics in stat_global; the gauges among them (slabs, superslabs, big
 * blocks, bytes mapped) are kept in every config because mallinfo2()
 * reports them.  A snapshot is stat_global plus the live heaps' events
 * (stats_snapshot, mm/heap/heap.h).
 */
#ifndef HAKMEM_MM_STATS_H
#define HAKMEM_MM_STATS_H

#include <stdint.h>
#include <mm/internal.h>

/* X(ID, name, kind, description); the EVENT rows come first. */
#define HAK_STATS(X)                                                              \
	X(ALLOCS, allocs, EVENT, "successful allocations, all tiers")              \
	X(FREES, frees, EVENT, "frees of hakmem blocks, all tiers")                \
	X(REMOTE_FREES, remote_frees, EVENT, "frees by a thread other than the owner") \
	X(REMOTE_SENDS, remote_sends, EVENT, "atomic pushes of remote frees, one block or a batch") \
	X(FOREIGN_FREES, foreign_frees, GLOBAL, "ignored frees of non-hakmem pointers") \
	X(SIZE_MISMATCHES, size_mismatches, GLOBAL, "sized frees whose size does not fit") \
	X(SLABS_IN_USE, slabs_in_use, GLOBAL, "slabs in spans owned by heaps")     \
	X(SUPERSLABS_IN_USE, superslabs_in_use, GLOBAL, "superslabs with a slab in use") \
	X(SUPERSLABS_CACHED, superslabs_cached, GLOBAL, "empty superslabs in the LRU") \
	X(BIG_IN_USE, big_in_use, GLOBAL, "live big blocks")                       \
	X(BIG_BYTES, big_bytes, GLOBAL, "bytes mapped by live big blocks")         \
	X(BIG_CACHED, big_cached, GLOBAL, "big mappings in BigCache")              \
	X(BYTES_MAPPED, bytes_mapped, GLOBAL, "bytes mapped from the OS")         \
	X(SPANS_PURGED, spans_purged, GLOBAL, "empty spans of live heaps whose pages were decommitted")

enum stat_kind { STAT_KIND_EVENT, STAT_KIND_GLOBAL };

enum stat_id {
#define STAT_ENUM(id, name, kind, desc) STAT_##id,
	HAK_STATS(STAT_ENUM)
#undef STAT_ENUM
	STAT_COUNT
};

/* The number of EVENT rows, which must come first. */
enum {
#define STAT_IS_EVENT(id, name, kind, desc) + (STAT_KIND_##kind == STAT_KIND_EVENT)
	STAT_EVENTS = 0 HAK_STATS(STAT_IS_EVENT)
#undef STAT_IS_EVENT
};
#define STAT_CHECK(id, name, kind, desc) _Static_assert((STAT_KIND_##kind == \
	STAT_KIND_EVENT) == ((int)STAT_##id < (int)STAT_EVENTS), "EVENT rows first");
HAK_STATS(STAT_CHECK)
#undef STAT_CHECK

extern hak_hidden int64_t stat_global[STAT_COUNT];

static inline void stat_global_add(enum stat_id id, int64_t delta)
{
	atomic_fetch_add_relaxed(&stat_global[id], delta);
}

#endif
