// SPDX-License-Identifier: MIT
/*
 * Adaptive reserve (CONFIG_ADAPTIVE): a heap whose released spans keep
 * being taken again soon after (h->reacquired, counted in alloc.c) keeps
 * more empty spans, one at a time, up to HAKMEM_HEAP_RESERVE_MAX.
 */
#include <mm/heap/internal.h>
#include <mm/options.h>

/* Reacquisitions since the last growth that make the reserve grow. */
#define REACQUIRED_TO_GROW 4

void heap_reserve_adapt(struct heap *h)
{
	if (h->kind == HEAP_LIVE && h->reacquired > REACQUIRED_TO_GROW &&
	    h->reserve_limit < (uint32_t)hak_option(OPT_HEAP_RESERVE_MAX)) {
		h->reserve_limit++;
		h->reacquired = 0;
	}
}
