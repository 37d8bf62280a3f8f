/* SPDX-License-Identifier: MIT */
/*
 * Pool tier: requests above 1 KiB up to 1 MiB, in mid classes (to 32 KiB)
 * and L2.5 classes (to 1 MiB), 4 per doubling.
 *
 * Job: map the size to its class with a bit scan, and take a block from
 * the calling thread's heap (CONFIG_POOL) or, with the box off, from the
 * locked shared heap.  Blocks live in spans of one or more contiguous slabs
 * (the geometry is generated: docs/size-classes.md); also picks the class
 * for aligned requests up to SLAB_SIZE alignment.
 *
 * Invariants:
 *   class_info[pool_class(n)].size >= n, and it is the smallest such;
 *   a span holds >= 8 blocks wherever half a superslab allows (mid
 *   classes: 64 within all but two slabs, scripts/gen-classes.py), else 1..4
 *   blocks in ceil(k * size / slab) slabs (checked by _Static_assert in
 *   mm/sizeclass.h);
 *   sizes up to 1 MiB never fall back to one mapping per block.
 *
 * Locks: none on the fast path; the shared heap takes shared_lock, span
 * acquisition slabpool_lock (mm/heap/heap.h has the order).
 */
#ifndef HAKMEM_MM_POOL_H
#define HAKMEM_MM_POOL_H

#include <mm/heap/heap.h>
#include <mm/sizeclass.h>

static always_inline unsigned int pool_class(size_t n)
{
	return size_to_class_pool(n);
}

/* A block of pool class cls. */
static always_inline void *pool_alloc_class(unsigned int cls)
{
	if (IS_ENABLED(CONFIG_POOL))
		return heap_alloc(tls_heap, cls);
	return shared_heap_alloc(cls);
}

/* A block of at least TINY_MAX_SIZE < n <= POOL_MAX_SIZE bytes. */
static always_inline void *pool_alloc(size_t n)
{
	return pool_alloc_class(pool_class(n));
}

/*
 * The smallest class that holds n bytes and whose size is a multiple of
 * align (a power of two up to SLAB_SIZE), or NUM_CLASSES if none: its
 * blocks start align-aligned, since spans start on slab boundaries (only
 * classes of at most 4 KiB use the short slab 0, whose start is 4 KiB
 * aligned).
 */
static inline unsigned int aligned_class(size_t n, size_t align)
{
	unsigned int c = size_to_class(n > align ? n : align);

	while (c < NUM_CLASSES && (class_info[c].size & (align - 1)))
		c++;
	return c;
}

#endif
