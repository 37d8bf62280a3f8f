// SPDX-License-Identifier: MIT
/*
 * The cache of empty superslabs (CONFIG_SS_LRU), up to the policy's
 * lru_capacity (at most HAKMEM_SS_LRU, mm/policy.h), most recently emptied
 * first.  Past the first LRU_COMMITTED, those idle for
 * half the decay time are decommitted; older than that, unmapped.
 */
#include <mm/options.h>
#include <mm/os.h>
#include <mm/policy.h>
#include <mm/stats.h>
#include <mm/superslab/superslab.h>

/* Cached superslabs kept committed (ready for reuse without page faults). */
#define LRU_COMMITTED 4

static struct dlist ss_lru = { &ss_lru, &ss_lru };
static unsigned int lru_count;        /* written under the lock, peeked without */
static unsigned int committed_count;
static uint64_t aged_count;           /* unmapped by the decay; read relaxed */

unsigned int lru_committed(void)
{
	return committed_count;
}

unsigned int lru_cached(void)
{
	return atomic_load_relaxed(&lru_count);
}

/* Gives a cached superslab's pages back, keeping its address space. */
static void ss_decommit(struct superslab *ss)
{
	if (!ss->decommitted &&
	    !os_decommit((char *)ss + SS_RESERVED_BYTES, SS_SIZE - SS_RESERVED_BYTES)) {
		ss->decommitted = 1;
		committed_count--;
	}
}

/* Takes ss off the cache and its counts. */
static void lru_remove(struct superslab *ss)
{
	dlist_del(&ss->pool_link);
	atomic_store_relaxed(&lru_count, lru_count - 1);
	if (!ss->decommitted)
		committed_count--;
	ss->in_lru = 0;
	stat_global_add(STAT_SUPERSLABS_CACHED, -1);
}

struct superslab *lru_take(void)
{
	struct superslab *ss;

	if (dlist_empty(&ss_lru))
		return NULL;
	ss = dlist_entry(ss_lru.next, struct superslab, pool_link);
	lru_remove(ss);
	return ss;
}

uint64_t lru_aged_count(void)
{
	return atomic_load_relaxed(&aged_count);
}

int lru_put(struct superslab *ss, uint64_t now_ms)
{
	if (lru_count >= policy_get()->lru_capacity || hak_option(OPT_DECAY_MS) == 0)
		return 0;
	ss->in_lru = 1;
	ss->cached_since_ms = now_ms;
	dlist_add(&ss_lru, &ss->pool_link);
	atomic_store_relaxed(&lru_count, lru_count + 1);
	committed_count++;
	stat_global_add(STAT_SUPERSLABS_CACHED, 1);
	return 1;
}

void lru_decommit_to(unsigned int keep)
{
	struct dlist *pos;

	for (pos = ss_lru.prev; pos != &ss_lru && committed_count > keep; pos = pos->prev)
		ss_decommit(dlist_entry(pos, struct superslab, pool_link));
}

void lru_decay(uint64_t now_ms, int force)
{
	uint64_t decay = hak_option(OPT_DECAY_MS);
	struct dlist *pos;
	unsigned int i = 0;

	for (pos = ss_lru.next; pos != &ss_lru; pos = pos->next) {
		struct superslab *ss = dlist_entry(pos, struct superslab, pool_link);

		if (++i > LRU_COMMITTED && (force || now_ms - ss->cached_since_ms >= decay / 2))
			ss_decommit(ss);
	}
	while (!dlist_empty(&ss_lru)) {
		struct superslab *ss = dlist_entry(ss_lru.prev, struct superslab, pool_link);

		if (!force && now_ms - ss->cached_since_ms < decay)
			break;
		lru_remove(ss);
		ss_unmap(ss);
		atomic_store_relaxed(&aged_count, aged_count + 1);
	}
}
