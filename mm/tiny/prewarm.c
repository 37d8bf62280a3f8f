// SPDX-License-Identifier: MIT
/*
 * Tiny prewarm (CONFIG_TINY_PREWARM): a new heap takes a span for each of
 * the most used tiny classes up front.
 */
#include <mm/tiny/tiny.h>

/* Classes up to 256 B. */
#define PREWARM_CLASSES 12

void heap_prewarm(struct heap *h)
{
	unsigned int c;

	for (c = 0; c < PREWARM_CLASSES; c++) {
		struct span *s;

		if (h->current[c] != &empty_span)
			continue;
		s = pool_acquire_span(c, h);
		if (!s)
			return;
		heap_set_current(h, c, s);
	}
}
