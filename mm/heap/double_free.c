// SPDX-License-Identifier: MIT
/*
 * The double-free bitmap (CONFIG_DOUBLE_FREE_CHECK): one "allocated" bit
 * per block, set and cleared atomically; see mm/heap/debug.h.
 */
#include <mm/heap/heap.h>

void double_free_alloc_twice(void *b)
{
	hak_fatal("free list holds an allocated block", b);
}

void double_free_free_twice(void *p)
{
	hak_fatal("double free", p);
}

void double_free_mark_remote(struct span *s, void *p)
{
	long idx = span_block_index(s, (uintptr_t)p);

	if (idx < 0 || !test_and_clear_bit_atomic(span_alloc_bits(s), (uint64_t)idx))
		double_free_free_twice(p);
}
