/* SPDX-License-Identifier: MIT */
/*
 * Statistics, declared once: HAK_STATS (the process-wide rows) and
 * HAK_CLASS_STATS (the rows of each size class).  Names, the snapshot
 * struct, hak_ctl's names and both printers (mm/report.c) come from them.
 *
 * Where each figure is kept, so that no fast path pays for one more:
 *   - a class's allocations and its owner's frees: two counters in each
 *     span (span->allocs, span->frees, CONFIG_STATS), in place of the
 *     per-heap pair that the fast paths incremented before.  A span that
 *     goes back to the pool adds them to stat_class[] (stat_class_fold,
 *     under slabpool_lock) and starts from zero.
 *   - a class's remote frees: per freeing heap (heap->class_remote),
 *     merged into stat_class[] when the heap dies.
 *   - EVENT rows: per live heap (heap->stats), merged when it dies.
 *   - COUNTER and GAUGE rows: relaxed atomics in stat_global, changed on
 *     slow paths only.  A GAUGE also keeps its peak (stat_peak), raised by
 *     stat_global_add; the gauges are kept in every config because
 *     mallinfo2() reports them.
 *   - TOTAL and DERIVED rows: computed by a snapshot (stats_collect,
 *     mm/heap/heap.h) from the rest and a walk of the spans in use.  A
 *     TOTAL only grows; a DERIVED row's peak is the highest value a
 *     snapshot computed (no slow path sees these change).
 *
 * Lock order: a snapshot takes heaps_lock, then slabpool_lock, one after
 * the other (never nested); the fold runs under slabpool_lock.
 */
#ifndef HAKMEM_MM_STATS_H
#define HAKMEM_MM_STATS_H

#include <stdint.h>
#include <mm/internal.h>
#include <mm/sizeclass.h>

/* X(ID, name, kind, description); the EVENT rows come first. */
#define HAK_STATS(X)                                                              \
	X(REMOTE_SENDS, remote_sends, EVENT, "atomic pushes of remote frees, one block or a batch") \
	X(BIG_ALLOCS, big_allocs, COUNTER, "allocations served by the large tier") \
	X(BIG_FREES, big_frees, COUNTER, "frees of big blocks")                    \
	X(FOREIGN_FREES, foreign_frees, COUNTER, "ignored frees of non-hakmem pointers") \
	X(SIZE_MISMATCHES, size_mismatches, COUNTER, "sized frees whose size does not fit") \
	X(SPANS_PURGED, spans_purged, COUNTER, "empty spans of live heaps whose pages were decommitted") \
	X(SLABS_IN_USE, slabs_in_use, GAUGE, "slabs in spans owned by heaps or cached") \
	X(SUPERSLABS_IN_USE, superslabs_in_use, GAUGE, "superslabs with a slab in use") \
	X(SUPERSLABS_CACHED, superslabs_cached, GAUGE, "empty superslabs in the LRU") \
	X(BIG_IN_USE, big_in_use, GAUGE, "live big blocks")                        \
	X(BIG_BYTES, big_bytes, GAUGE, "bytes mapped by live big blocks")          \
	X(BIG_CACHED, big_cached, GAUGE, "big mappings in BigCache")               \
	X(BIG_CACHED_BYTES, big_cached_bytes, GAUGE, "bytes of the mappings in BigCache") \
	X(BYTES_MAPPED, bytes_mapped, GAUGE, "bytes mapped from the OS")          \
	X(ALLOCS, allocs, TOTAL, "successful allocations, all tiers")           \
	X(FREES, frees, TOTAL, "frees of hakmem blocks, all tiers")             \
	X(REMOTE_FREES, remote_frees, TOTAL, "frees by a thread other than the owner") \
	X(LIVE, live, DERIVED, "blocks allocated and not yet freed, all tiers")  \
	X(LIVE_BYTES, live_bytes, DERIVED, "bytes of live blocks (block sizes; big: their mappings)") \
	X(LRU_BYTES, lru_bytes, DERIVED, "bytes of the superslabs in the LRU")    \
	X(RESERVE_BYTES, reserve_bytes, DERIVED, "bytes of empty spans kept by heaps and span caches") \
	X(CACHED_BYTES, cached_bytes, DERIVED, "BigCache, LRU and reserve bytes together") \
	X(RESIDENT_ESTIMATE, resident_estimate, DERIVED, "bytes committed: mapped less what was given back, carved-to pages only")

/* X(ID, name, description): the rows of each size class. */
#define HAK_CLASS_STATS(X)                                                        \
	X(ALLOCS, allocs, "allocations")                                          \
	X(FREES, frees, "frees, by the owner and by other threads")               \
	X(REMOTE_FREES, remote_frees, "frees by a thread other than the owner")   \
	X(LIVE, live, "blocks allocated and not yet freed")                       \
	X(LIVE_BYTES, live_bytes, "live times the block size")                   \
	X(SPANS, spans, "spans of the class owned by heaps, abandoned or cached") \
	X(SLABS, slabs, "slabs in those spans")                                   \
	X(BYTES, bytes, "bytes those spans can hold (blocks times block size)")

enum stat_kind {
	STAT_KIND_EVENT, STAT_KIND_COUNTER, STAT_KIND_GAUGE,
	STAT_KIND_TOTAL,     /* computed by a snapshot, only grows: no peak */
	STAT_KIND_DERIVED,   /* computed by a snapshot, with a peak */
};

enum stat_id {
#define STAT_ENUM(id, name, kind, desc) STAT_##id,
	HAK_STATS(STAT_ENUM)
#undef STAT_ENUM
	STAT_COUNT
};

enum class_stat_id {
#define CSTAT_ENUM(id, name, desc) CSTAT_##id,
	HAK_CLASS_STATS(CSTAT_ENUM)
#undef CSTAT_ENUM
	CSTAT_COUNT
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

static always_inline enum stat_kind stat_kind(enum stat_id id)
{
	switch (id) {
#define STAT_KIND_CASE(id, name, kind, desc) case STAT_##id: return STAT_KIND_##kind;
	HAK_STATS(STAT_KIND_CASE)
#undef STAT_KIND_CASE
	default: return STAT_KIND_COUNTER;
	}
}

/* The rows' names, as hak_ctl and the reports spell them. */
extern hak_hidden const char *const stat_names[STAT_COUNT];
extern hak_hidden const char *const class_stat_names[CSTAT_COUNT];

extern hak_hidden int64_t stat_global[STAT_COUNT];
extern hak_hidden int64_t stat_peak[STAT_COUNT];

/* Raises the peak of row id to at least v. */
static inline void stat_peak_raise(enum stat_id id, int64_t v)
{
	int64_t old = atomic_load_relaxed(&stat_peak[id]);

	while (old < v && !atomic_cas_release(&stat_peak[id], &old, v))
		;
}

static inline void stat_global_add(enum stat_id id, int64_t delta)
{
	int64_t v = atomic_fetch_add_relaxed(&stat_global[id], delta) + delta;

	if (stat_kind(id) == STAT_KIND_GAUGE && delta > 0)
		stat_peak_raise(id, v);
}

/*
 * The folded counts of each class (CONFIG_STATS): spans that went back to
 * the pool and heaps that died.  Only allocs, frees and remote_frees are
 * kept here; the other class rows are computed by a snapshot.
 */
extern hak_hidden int64_t stat_class[NUM_CLASSES][3];

/* Adds a span's or a heap's counts of class cls to stat_class. */
static inline void stat_class_fold(unsigned int cls, uint64_t allocs, uint64_t frees,
				   uint64_t remote_frees)
{
	if (allocs)
		atomic_fetch_add_relaxed(&stat_class[cls][CSTAT_ALLOCS], (int64_t)allocs);
	if (frees)
		atomic_fetch_add_relaxed(&stat_class[cls][CSTAT_FREES], (int64_t)frees);
	if (remote_frees)
		atomic_fetch_add_relaxed(&stat_class[cls][CSTAT_REMOTE_FREES],
					 (int64_t)remote_frees);
}

/* A snapshot: every row, the peaks, and every class's rows. */
struct stats_snapshot {
	int64_t v[STAT_COUNT];
	int64_t peak[STAT_COUNT];       /* GAUGE and DERIVED rows */
	int64_t cls[NUM_CLASSES][CSTAT_COUNT];
};

/* Whether row id keeps a peak. */
static inline int stat_has_peak(enum stat_id id)
{
	return stat_kind(id) == STAT_KIND_GAUGE || stat_kind(id) == STAT_KIND_DERIVED;
}

/* Every peak back to the row's present value (hak_ctl "stats.peak.reset"). */
void stats_peak_reset(const struct stats_snapshot *now);

#endif
