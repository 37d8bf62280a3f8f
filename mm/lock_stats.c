// SPDX-License-Identifier: MIT
/* Lock statistics (CONFIG_LOCK_STATS): every lock, counted in lib/lock.h. */
#include <lib/lock.h>
#include <mm/heap/heap.h>
#include <mm/large/large.h>
#include <mm/prof/prof.h>
#include <mm/report.h>
#include <mm/superslab/superslab.h>

void locks_for_each(void (*fn)(const struct hak_lock *l, void *arg), void *arg)
{
	bigcache_for_each_lock(fn, arg);
	heaps_for_each_lock(fn, arg);
	fn(&slabpool_lock, arg);
	fn(&registry_lock, arg);
#if IS_ENABLED(CONFIG_PROFILER)
	fn(&prof_lock, arg);
#endif
}
