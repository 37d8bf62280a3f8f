// SPDX-License-Identifier: MIT
/*
 * Tiny prewarm (CONFIG_TINY_PREWARM): when a thread's first tiny malloc
 * builds its heap, the heap takes a span for each of the most used tiny
 * classes up front.
 */
#include <mm/tiny/tiny.h>

/* Classes up to 256 B. */
#define PREWARM_CLASSES 12

static void tiny_prewarm(struct heap *h)
{
	unsigned int c;

	for (c = 0; c < PREWARM_CLASSES; c++) {
		struct span *s;

		if (h->current[c] != &empty_span)
			continue;
		s = slabpool_acquire_span(c, h);
		if (!s)
			return;
		heap_set_current(h, c, s);
	}
}

void *tiny_alloc_slow(struct heap *h, size_t i)
{
	void *b = heap_alloc_slow_direct(h, i);

	/* h was a stand-in (empty or dead): the slow path built a heap. */
	if (unlikely(h->kind != HEAP_LIVE) && tls_heap->kind == HEAP_LIVE)
		tiny_prewarm(tls_heap);
	return b;
}
