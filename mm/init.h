/* SPDX-License-Identifier: MIT */
/*
 * Process-wide initialisation, thread registration and fork handling.
 *
 * Init is lazy, thread-safe and allocation-free: the OS layer's page size,
 * the options table, the registry and the thread key.  It runs before
 * main (constructor) or from whichever allocation comes first, and may be
 * entered from another library's constructor.
 */
#ifndef HAKMEM_MM_INIT_H
#define HAKMEM_MM_INIT_H

#include <mm/internal.h>

struct heap;

extern hak_hidden int hak_init_state;   /* 2 when done */
int hak_init_slow(void);

/* 0 when the allocator is ready; an errno value when it cannot run. */
static always_inline int hak_init(void)
{
	if (likely(atomic_load_acquire(&hak_init_state) == 2))
		return 0;
	return hak_init_slow();
}

/* Builds the calling thread's heap; NULL when out of memory. */
struct heap *heap_create_for_thread(void);
/* Arms the thread-exit destructor for the calling thread's heap. */
void hak_register_thread_heap(struct heap *h);

#endif
