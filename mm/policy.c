// SPDX-License-Identifier: MIT
/* The cache policy snapshots (mm/policy.h). */
#include <lib/bitops.h>
#include <mm/options.h>
#include <mm/os.h>
#include <mm/policy.h>
#include <mm/stats.h>

/* Before init: the options' defaults as built. */
static struct hak_policy policy_static = {
	.reserve_max = CONFIG_HEAP_RESERVE,
	.lru_capacity = 16,
	.span_cache_slots = SPAN_CACHE_SLOTS,
};
struct hak_policy *policy_current = &policy_static;
static struct hak_policy *policy_ring;   /* POLICY_RING slots, OS memory */

void policy_defaults(struct hak_policy *p)
{
	p->epoch = 0;
	p->bigcache_bytes = hak_option(OPT_BIGCACHE_MB) << 20;
	/* A reserve bound below the reserve a heap starts with is that. */
	p->reserve_max = (uint32_t)(hak_option(OPT_HEAP_RESERVE_MAX) > hak_option(OPT_HEAP_RESERVE) ?
				    hak_option(OPT_HEAP_RESERVE_MAX) : hak_option(OPT_HEAP_RESERVE));
	p->lru_capacity = (uint32_t)hak_option(OPT_SS_LRU_CAPACITY);
	p->span_cache_slots = SPAN_CACHE_SLOTS;
}

void policy_publish(const struct hak_policy *p)
{
	const struct hak_policy *cur = policy_get();
	struct hak_policy *next;

	if (!policy_ring)
		return;
	next = &policy_ring[(cur->epoch + 1) % POLICY_RING];
	*next = *p;
	next->epoch = cur->epoch + 1;
	atomic_store_release(&policy_current, next);
}

void policy_reset(void)
{
	struct hak_policy p;

	policy_defaults(&p);
	policy_publish(&p);
}

void policy_init(void)
{
	size_t sz = round_up_pow2(sizeof(struct hak_policy) * POLICY_RING, os_page_size());
	struct hak_policy p;
	void *mem;

	policy_defaults(&p);
	policy_static = p;
	if (os_map(sz, &mem))
		return;     /* the static snapshot stays, and never changes */
	stat_global_add(STAT_BYTES_MAPPED, (int64_t)sz);
	policy_ring = mem;
	policy_ring[0] = p;
	atomic_store_release(&policy_current, &policy_ring[0]);
}
