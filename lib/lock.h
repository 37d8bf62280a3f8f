/* SPDX-License-Identifier: MIT */
/*
 * Global locks.  A thin layer over pthread mutexes (which never allocate)
 * that counts acquisitions, contended acquisitions and the cycles they
 * waited with CONFIG_LOCK_STATS, and that the fork handlers take in order before
 * fork and release after it, in the parent and in the child alike.
 * The order in which they may be taken is in mm/heap/heap.h; a lock
 * carries no rank of its own.
 */
#ifndef HAKMEM_LIB_LOCK_H
#define HAKMEM_LIB_LOCK_H

#include <pthread.h>
#include <stdint.h>
#include <hakmem/kconfig.h>
#include <asm/atomic.h>
#include <asm/cycles.h>

struct hak_lock {
	pthread_mutex_t mutex;
	const char *name;
	uint64_t acquired;   /* CONFIG_LOCK_STATS: acquisitions */
	uint64_t contended;  /* CONFIG_LOCK_STATS: ... that had to wait */
	uint64_t wait_cycles; /* CONFIG_LOCK_STATS: cycles those waited (asm/cycles.h) */
};

#define HAK_LOCK_INIT(lock_name) \
	{ PTHREAD_MUTEX_INITIALIZER, lock_name, 0, 0, 0 }

static inline void hak_lock(struct hak_lock *l)
{
	if (IS_ENABLED(CONFIG_LOCK_STATS)) {
		if (pthread_mutex_trylock(&l->mutex) != 0) {
			uint64_t t = get_cycles();

			pthread_mutex_lock(&l->mutex);
			l->wait_cycles += get_cycles() - t;
			l->contended++;
		}
		l->acquired++;
		return;
	}
	pthread_mutex_lock(&l->mutex);
}

static inline int hak_trylock(struct hak_lock *l)
{
	if (pthread_mutex_trylock(&l->mutex) != 0)
		return 0;
	if (IS_ENABLED(CONFIG_LOCK_STATS))
		l->acquired++;
	return 1;
}

static inline void hak_unlock(struct hak_lock *l)
{
	pthread_mutex_unlock(&l->mutex);
}


#endif
