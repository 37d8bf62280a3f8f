// SPDX-License-Identifier: MIT
/* Full free-list walks (CONFIG_DEBUG_INTEGRITY); see mm/heap/debug.h. */
#include <mm/heap/heap.h>

void span_check_free_list(const struct span *s)
{
	uint32_t n = 0;
	void *b = s->free;

	while (b) {
		if (span_block_index(s, (uintptr_t)b) < 0 || ++n > s->carved)
			hak_fatal("free list corrupt at", b);
		vg_mem_defined(b, sizeof(void *));
		b = link_encode(s, b, *(void **)b);
	}
	if (s->used != s->carved - n)
		hak_fatal("span accounting broken", s);
}
