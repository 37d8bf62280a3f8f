// SPDX-License-Identifier: MIT
/* The heap engine's locks for the lock statistics (CONFIG_LOCK_STATS). */
#include <mm/heap/internal.h>

static void lock_add(struct hak_lock *sum, const struct hak_lock *l)
{
	sum->acquired += atomic_load_relaxed(&l->acquired);
	sum->contended += atomic_load_relaxed(&l->contended);
	sum->wait_cycles += atomic_load_relaxed(&l->wait_cycles);
}

void heaps_for_each_lock(void (*fn)(const struct hak_lock *l, void *arg), void *arg)
{
	struct hak_lock abandoned = HAK_LOCK_INIT("abandoned");
	struct hak_lock notify = HAK_LOCK_INIT("heap-notify");
	struct heap *h;
	unsigned int i;

	fn(&shared_lock, arg);
	fn(&heaps_lock, arg);
	for (i = 0; i < ABANDONED_LOCKS; i++)
		lock_add(&abandoned, &abandoned_locks[i].lock);
	fn(&abandoned, arg);
	/* Every heap's and the shared heap's, summed. */
	hak_lock(&heaps_lock);
	for (h = all_heaps; h; h = h->all_next)
		lock_add(&notify, &h->notify_lock);
	hak_unlock(&heaps_lock);
	lock_add(&notify, &shared_heap.notify_lock);
	fn(&notify, arg);
#if IS_ENABLED(CONFIG_REMOTE_BATCH)
	fn(&deferred_lock, arg);
#endif
}
