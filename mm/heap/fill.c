// SPDX-License-Identifier: MIT
/* Fill patterns on allocation and free (CONFIG_DEBUG_FILL); see
 * mm/heap/debug.h. */
#include <mm/heap/heap.h>

void fill_check_alloc(struct span *s, void *b)
{
	const unsigned char *p = b;
	size_t i;

	if (span_block_index(s, (uintptr_t)b) < 0)
		heap_corrupt(s, b);
	if (vg_on())
		return;	/* no fill under memcheck (fill_free_raw) */
	vg_mem_defined(b, s->block_size);
	for (i = FILL_SKIP; i < s->block_size; i++)
		if (p[i] != FILL_FREE)
			hak_fatal("write after free", b);
	memset(b, FILL_ALLOC, s->block_size);
}

void fill_free(struct span *s, void *p)
{
	fill_free_raw(p, s->block_size);
}
