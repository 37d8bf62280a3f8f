// SPDX-License-Identifier: MIT
/* Span invariant checks (CONFIG_DEBUG_ASSERT); see mm/heap/debug.h. */
#include <mm/heap/heap.h>

void span_check(const struct span *s)
{
	if (s->used > s->carved || s->carved > s->capacity || s->cls >= NUM_CLASSES ||
	    s->block_size != class_info[s->cls].size)
		hak_fatal("span invariant broken", s);
	span_check_free_list(s);
}
