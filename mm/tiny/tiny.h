/* SPDX-License-Identifier: MIT */
/*
 * Tiny tier: requests of at most 1 KiB.
 *
 * Job: map the size to one of the NUM_TINY_CLASSES classes (16 B steps to
 * 128 B, then 4 per doubling) with one table lookup, and take a block of
 * that class from the calling thread's heap (CONFIG_TINY) or, with the box
 * off, from the locked shared heap.  Blocks live in spans of the slab
 * engine of 1 to 4 slabs (256 blocks where 4 slabs hold them,
 * scripts/gen-classes.py); the heap engine holds the fast path
 * (mm/heap/heap.h).
 * CONFIG_TINY_PREWARM (prewarm.c) gives a thread's new heap a span for
 * each of the most used tiny classes.
 *
 * Invariants:
 *   class_info[tiny_class(n)].size >= n, and it is the smallest such;
 *   class_info[c].nslabs <= 4 for every tiny class c;
 *   a tiny class never falls back to one mapping per block.
 *
 * Locks: none on the fast path; the shared heap takes shared_lock
 * (mm/heap/heap.h has the order).
 */
#ifndef HAKMEM_MM_TINY_H
#define HAKMEM_MM_TINY_H

#include <mm/heap/heap.h>
#include <mm/sizeclass.h>

static always_inline unsigned int tiny_class(size_t n)
{
	return tiny_class_lut[tiny_index(n)];
}

/* A block of tiny class cls. */
static always_inline void *tiny_alloc_class(unsigned int cls)
{
	if (IS_ENABLED(CONFIG_TINY))
		return heap_alloc(tls_heap, cls);
	return shared_heap_alloc(cls);
}

#if IS_ENABLED(CONFIG_TINY_PREWARM)
/* The slow path, and the prewarm of a heap it has just built. */
noinline void *tiny_alloc_slow(struct heap *h, size_t i);
#else
static always_inline void *tiny_alloc_slow(struct heap *h, size_t i)
{
	return heap_alloc_slow_direct(h, i);
}
#endif

/* A block of at least n <= TINY_MAX_SIZE bytes. */
static always_inline void *tiny_alloc(size_t n)
{
	if (IS_ENABLED(CONFIG_TINY)) {
		size_t i = tiny_index(n);
		struct heap *h = tls_heap;
		void *b = heap_pop(h, h->tiny_direct[i]);

		if (likely(b))
			return b;
		return tiny_alloc_slow(h, i);
	}
	return shared_heap_alloc(tiny_class(n));
}

#endif
