// SPDX-License-Identifier: MIT
/*
 * The shared heap, under shared_lock: for the tiers turned off (TINY, POOL)
 * and allocations re-entered while a thread builds its heap.  No reserve;
 * every free into it is a remote one, which shared_heap_trim collects.
 */
#include <errno.h>

#include <mm/heap/internal.h>

struct heap shared_heap = HEAP_STATIC_INIT(HEAP_SHARED);
struct hak_lock shared_lock = HAK_LOCK_INIT("shared-heap");
int shared_ready;
static uint64_t shared_calls;    /* shared_lock */

void *shared_heap_alloc(unsigned int cls)
{
	uint64_t calls;
	void *p;

	if (hak_init() != 0) {
		errno = ENOMEM;
		return NULL;
	}
	hak_lock(&shared_lock);
	if (!shared_ready) {
		heap_init_lists(&shared_heap);
		shared_heap.reserve_limit = 0;
		atomic_store_release(&shared_ready, 1);
	}
	p = heap_alloc(&shared_heap, cls);
	calls = ++shared_calls;
	hak_unlock(&shared_lock);
	/* Every call here is a locked call: check the decay now and then. */
	if (calls % MAINTENANCE_EVERY == 0)
		decay_run(0);
	return p;
}

/* Skipped when the lock is busy (or held by this thread, inside the shared
 * heap's own slow path). */
void shared_heap_trim(void)
{
	unsigned int c;

	if (!atomic_load_acquire(&shared_ready) || !hak_trylock(&shared_lock))
		return;
	heap_drain_notified(&shared_heap);
	for (c = 0; c < NUM_CLASSES; c++) {
		struct span *cur = shared_heap.current[c];

		spans_release_all_remote(&shared_heap.partial[c]);
		if (cur != &empty_span && span_release_if_all_remote(cur))
			heap_set_current(&shared_heap, c, &empty_span);
	}
	hak_unlock(&shared_lock);
}

int shared_heap_free_suspect(struct heap *me, struct span *s, void *p)
{
	int ours;

	hak_lock(&shared_lock);
	ours = owner_heap(s) == &shared_heap;
	if (ours) {
		if (span_holds_free(s, p))
			hak_fatal("double free", p);
		heap_push_remote(me, s, p);
	}
	hak_unlock(&shared_lock);
	return ours;
}
