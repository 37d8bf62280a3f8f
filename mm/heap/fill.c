// SPDX-License-Identifier: MIT
/* Fills of free blocks (CONFIG_BLOCK_FILL: DEBUG_FILL, FREE_CHECK,
 * ZERO_FREE); see mm/heap/debug.h. */
#include <mm/heap/heap.h>

void fill_check_alloc(struct span *s, void *b)
{
	if (span_block_index(s, (uintptr_t)b) < 0)
		heap_corrupt(s, b);
	if (vg_on())
		return;	/* no fill under memcheck (fill_free_raw) */
	if (IS_ENABLED(CONFIG_DEBUG_FILL) || IS_ENABLED(CONFIG_FREE_CHECK)) {
		const uint64_t *w = (const uint64_t *)((char *)b + FILL_SKIP);
		const uint64_t *end = (const uint64_t *)((char *)b + s->block_size);
		const uint64_t fill = 0x0101010101010101ULL * FILL_FREE;

		vg_mem_defined(b, s->block_size);
		for (; w < end; w++)
			if (*w != fill)
				hak_fatal("write after free", b);
	}
	if (IS_ENABLED(CONFIG_DEBUG_FILL))
		memset(b, FILL_ALLOC, s->block_size);
	else
		*(void **)b = NULL;   /* the link; the key is cleared, the rest zero */
}

void fill_free(struct span *s, void *p)
{
	fill_free_raw(p, s->block_size);
}
