// SPDX-License-Identifier: MIT
/*
 * The fork handlers (registered by mm/api.c's constructor).  Prepare waits
 * for a running decay pass (the purge thread's), then takes every global
 * lock in the order of mm/heap/heap.h: BigCache's, the heap engine's, then
 * the slab pool's and the registry's (and the profiler's, a leaf).
 */
#include <lib/lock.h>
#include <mm/fork.h>
#include <mm/heap/heap.h>
#include <mm/large/large.h>
#include <mm/prof/prof.h>
#include <mm/superslab/superslab.h>

void hak_fork_prepare(void)
{
	if (atomic_load_acquire(&hak_init_state) != INIT_DONE)
		return;
	decay_fork_prepare();
	bigcache_fork_prepare();
	heaps_fork_prepare();
	hak_lock(&slabpool_lock);
	hak_lock(&registry_lock);
	if (IS_ENABLED(CONFIG_PROFILER))
		prof_fork_prepare();
}

/* Releases the locks below the heap engine's; 0 if prepare took none. */
static int fork_unlock_lower(void)
{
	if (atomic_load_acquire(&hak_init_state) != INIT_DONE)
		return 0;
	if (IS_ENABLED(CONFIG_PROFILER))
		prof_fork_release();
	hak_unlock(&registry_lock);
	hak_unlock(&slabpool_lock);
	bigcache_fork_parent();
	return 1;
}

void hak_fork_parent(void)
{
	if (!fork_unlock_lower())
		return;
	heaps_fork_parent();
	decay_fork_parent();
}

/* This thread took the locks in prepare and releases them; the heaps of
 * the threads that did not survive are abandoned, and the purge thread
 * did not survive either: the child starts its own when it needs one
 * (decay_fork_child). */
void hak_fork_child(void)
{
	if (!fork_unlock_lower())
		return;
	heaps_fork_child();
}
