// SPDX-License-Identifier: MIT
/* The heap engine's locks for the lock statistics (CONFIG_LOCK_STATS). */
#include <mm/heap/internal.h>

void heaps_for_each_lock(void (*fn)(const struct hak_lock *))
{
	struct hak_lock sum = HAK_LOCK_INIT("abandoned");
	unsigned int i;

	fn(&shared_lock);
	fn(&heaps_lock);
	for (i = 0; i < ABANDONED_LOCKS; i++) {
		sum.acquired += atomic_load_relaxed(&abandoned_locks[i].lock.acquired);
		sum.contended += atomic_load_relaxed(&abandoned_locks[i].lock.contended);
	}
	fn(&sum);
}
