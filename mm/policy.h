/* SPDX-License-Identifier: MIT */
/*
 * The cache policy: the sizes the caches of every layer may keep, read by
 * their slow paths with one load.
 *
 * A snapshot is never edited once published: the adaptive engine
 * (CONFIG_ADAPTIVE, mm/heap/ace.c) writes a new one into the next slot of
 * a fixed ring in OS memory, then publishes its address (release); readers
 * load the address (acquire) and read that snapshot.  A slot is written
 * again only POLICY_RING publications later, at least that many decay
 * periods on: a reader holds a snapshot for one slow path, far less.  The
 * ring is never freed.  Before init, and in builds without the adaptive
 * engine, the snapshot holds the options' values.
 *
 * Bounds, from the options (docs/api.md): the reserve limit between
 * HAKMEM_HEAP_RESERVE and HAKMEM_HEAP_RESERVE_MAX; the superslab LRU between
 * 1 and HAKMEM_SS_LRU; BigCache between an eighth of HAKMEM_BIGCACHE_MB and
 * all of it; span cache slots between 1 and SPAN_CACHE_SLOTS.  The decay
 * time is not in it: HAKMEM_DECAY_MS, fixed.
 */
#ifndef HAKMEM_MM_POLICY_H
#define HAKMEM_MM_POLICY_H

#include <stdint.h>
#include <mm/internal.h>

/* Span cache slots per class, at most. */
#define SPAN_CACHE_SLOTS 4
#define POLICY_RING 8

struct hak_policy {
	uint64_t epoch;            /* publications so far */
	uint64_t bigcache_bytes;   /* BigCache budget */
	uint32_t reserve_max;      /* a heap's reserve limit, at most (units) */
	uint32_t lru_capacity;     /* empty superslabs cached */
	uint32_t span_cache_slots; /* per class */
};

/*
 * What the caches saw, counted since the start on their slow paths (each
 * layer fills its part; the adaptive engine takes differences between two
 * decisions).  A miss says a bigger cache would have served a request; a
 * hit that the cache served one; "aged" that the decay check released
 * something the cache had kept unused for a decay time.
 */
struct ace_counts {
	uint64_t reserve_hits;     /* a heap took a span back from its reserve */
	uint64_t reserve_capped;   /* a heap would have grown its reserve past reserve_max */
	uint64_t reserve_idle;     /* heaps whose reserve went unused for a decay time */
	uint64_t lru_hits;         /* a superslab taken from the LRU */
	uint64_t lru_full;         /* an empty superslab unmapped: the LRU was full */
	uint64_t ss_fresh;         /* superslabs mapped new */
	uint64_t lru_aged;         /* cached superslabs unmapped by the decay */
	uint64_t span_cache_hits;
	uint64_t span_cache_full;  /* an empty span to the pool: its class's slots were full */
	uint64_t span_cache_aged;  /* cached spans moved to the pool by the decay */
	uint64_t big_hits;
	uint64_t big_misses;       /* a big block mapped new */
	uint64_t big_over_budget;  /* cached mappings unmapped to stay within the budget */
	uint64_t big_aged;         /* cached mappings unmapped by the decay */
};

extern hak_hidden struct hak_policy *policy_current;

static inline const struct hak_policy *policy_get(void)
{
	return atomic_load_acquire(&policy_current);
}

/* At init, after the options: the first snapshot (the options' values). */
void policy_init(void);
/* The snapshot the options give: each knob at its upper bound. */
void policy_defaults(struct hak_policy *p);
/* Publishes a copy of *p as the next snapshot (one writer at a time: the
 * decay pass). */
void policy_publish(const struct hak_policy *p);
/* Publishes the options' snapshot again (the tests, after they change an
 * option that a knob's bound comes from). */
void policy_reset(void);

/*
 * The adaptive engine (mm/ace.c, CONFIG_ADAPTIVE): ace_update is the decay
 * hook; ace_decide is its rule, one window's counts to the next snapshot
 * (pure: the tests call it).
 */
void ace_decide(const struct ace_counts *window, const struct hak_policy *cur,
		struct hak_policy *next);
int ace_update(uint64_t now_ms, int force);

/*
 * The bandit (mm/ace_bandit.c, CONFIG_ACE_BANDIT, an experiment): sliding
 * window UCB1 over BANDIT_ARMS candidate policies, one play per engine
 * decision.  bandit_reward scores a window; bandit_choose picks the next
 * arm from the last plays (pure: the tests call them); bandit_arm_policy
 * writes an arm's knobs; ace_bandit_step does one play.
 */
#define BANDIT_ARMS 4
#define BANDIT_WINDOW 32
struct bandit_play {
	unsigned int arm;
	int64_t reward;
};
int64_t bandit_reward(const struct ace_counts *w, uint64_t rss_mib);
unsigned int bandit_choose(const struct bandit_play *plays, unsigned int n);
void bandit_arm_policy(unsigned int arm, struct hak_policy *p);
void ace_bandit_step(const struct ace_counts *w, struct hak_policy *next);

#endif