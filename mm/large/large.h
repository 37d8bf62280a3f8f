/* SPDX-License-Identifier: MIT */
/*
 * Large tier: blocks above 1 MiB (and allocations aligned beyond 64 KiB).
 *
 * Each block is its own mapping, superslab-aligned and registered
 * (REG_LARGE_HEAD for its first SS_SIZE piece, REG_LARGE_TAIL after).  The
 * mapping starts with struct large_header; the user pointer lies in
 * (base, base + SS_SIZE], so base == (ptr - 1) & ~SS_MASK.  The header
 * records the offset, which is how aligned large blocks keep their start.
 *
 * Mapping sizes are rounded to 4 classes per doubling.  BigCache
 * (bigcache.c, CONFIG_BIGCACHE) keeps freed mappings on one list, newest
 * first, up to a byte budget (the oldest are evicted), and hands back the
 * smallest one that holds a request within a factor of two; cached
 * mappings stay registered and marked, so a double free of a cached block
 * is caught.  Mappings older than the decay time are unmapped.  Mappings
 * from HAKMEM_THP_MB up get MADV_HUGEPAGE (CONFIG_THP).
 *
 * Invariants: a header's magic is LARGE_LIVE while the block is handed out
 * and LARGE_CACHED while in BigCache; cached_bytes == sum of cached map
 * sizes <= budget.  Lock: big_lock (BigCache's; before the heap engine's
 * locks and the superslab layer's: mm/heap/heap.h).
 */
#ifndef HAKMEM_MM_LARGE_H
#define HAKMEM_MM_LARGE_H

#include <stddef.h>
#include <stdint.h>
#include <mm/internal.h>

void *large_alloc(size_t size, size_t align);
/*
 * CONFIG_PROFILER: a block of any size (align as for large_alloc) whose
 * mapping keeps LARGE_PROF_BYTES for the profiler between the header and
 * the user pointer (zeroed); large_prof_area() finds them again while the
 * block is live (NULL for any other pointer).  The block is otherwise a
 * large block like any other: free, realloc and malloc_usable_size treat
 * it alike, and a sized free accepts any size up to its usable size.
 */
#define LARGE_PROF_BYTES 64u
void *large_alloc_prof(size_t size, size_t align);
void *large_prof_area(void *p);
/* p must be a pointer whose registry kind (of p - 1) is REG_LARGE_HEAD. */
void large_free(void *p);
/* Usable size of a live large block, or 0 if p is not one. */
size_t large_usable_size(void *p);
/* Whether n could be the size live large block p was asked for (sized
 * frees): at most its usable size; for a block that is not aligned beyond
 * the header, more than 1 MiB and at least a quarter of the mapping
 * (BigCache may hand out up to twice the size class, realloc keeps down
 * to half). */
int large_size_fits(void *p, size_t n);
/* Tries to resize in place; returns p on success, NULL otherwise. */
void *large_resize(void *p, size_t size);
/* 1 if the block's memory is known to be zero (fresh from mmap). */
int large_is_fresh(void *p);
#if IS_ENABLED(CONFIG_VALGRIND)
/*
 * Under memcheck (mm/valgrind.h): the size asked for live block p; setting
 * it (n <= its usable size) returns the size to announce (n, unless the
 * slack is over 4 GiB) and hides the header, which holds the user pointer,
 * from the leak scan.
 */
size_t large_vg_size(void *p);
size_t large_vg_set_size(void *p, size_t n);
#endif

struct ace_counts;
struct hak_lock;
#if IS_ENABLED(CONFIG_BIGCACHE)
void bigcache_fork_prepare(void);
void bigcache_fork_parent(void);
/* Calls fn for BigCache's lock (lock statistics). */
void bigcache_for_each_lock(void (*fn)(const struct hak_lock *l, void *arg), void *arg);
/* Fills BigCache's ace_counts (mm/policy.h). */
void bigcache_ace_counts(struct ace_counts *c);
#else
static inline void bigcache_fork_prepare(void) { }
static inline void bigcache_fork_parent(void) { }
static inline void bigcache_for_each_lock(void (*fn)(const struct hak_lock *l, void *arg),
					  void *arg) { (void)fn; (void)arg; }
static inline void bigcache_ace_counts(struct ace_counts *c) { (void)c; }
#endif

#endif
