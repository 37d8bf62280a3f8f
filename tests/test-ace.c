/* SPDX-License-Identifier: MIT */
/*
 * The cache policy and the adaptive engine (mm/policy.h, mm/ace.c,
 * mm/heap/adaptive.c).
 *
 * test_decide_*: the engine's rule, one window of counts to the next
 * snapshot: each knob doubles on misses up to its bound, halves when what
 * it kept went unused, and stays within its bounds however many windows
 * push it.
 *
 * test_publish_ring: a published snapshot is a copy in the next slot of
 * the ring; the one before stays as it was.
 *
 * test_reserve_shrinks: a heap whose reserve went unused for a decay time
 * halves it and gives back the spans beyond it; one that took a span from
 * it keeps it.
 *
 * test_engine_publishes: ace_update, fed a window where cached superslabs
 * aged out unused, publishes a smaller LRU; with HAKMEM_ACE=0 it
 * publishes nothing.
 */
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mm/heap/internal.h>
#include <mm/options.h>
#include <mm/policy.h>
#include "harness.h"
#include "testutil.h"

static void setup(void)
{
	hak_free(hak_malloc(16));        /* init: the options are read */
	/* The engine and the purge thread would act between the test's
	 * steps; the tests call them. */
	option_values[OPT_PURGE_THREAD].num = 0;
	option_values[OPT_ACE].num = 1;
}

#if IS_ENABLED(CONFIG_ADAPTIVE)
static struct hak_policy defaults(void)
{
	struct hak_policy p;

	memset(&p, 0, sizeof(p));
	policy_defaults(&p);
	return p;
}

START_TEST(test_decide_lru)
{
	struct hak_policy cur = defaults(), next;
	struct ace_counts w;
	uint32_t hi = (uint32_t)hak_option(OPT_SS_LRU_CAPACITY);
	int i;

	ck_assert_uint_eq(cur.lru_capacity, hi);
	memset(&w, 0, sizeof(w));
	w.lru_aged = 3;
	ace_decide(&w, &cur, &next);
	ck_assert_uint_eq(next.lru_capacity, hi > 1 ? hi / 2 : hi);
	for (i = 0; i < 40; i++) {
		cur = next;
		ace_decide(&w, &cur, &next);
	}
	ck_assert_uint_eq(next.lru_capacity, hi ? 1 : 0);
	/* A hit in the window: what was kept was used, no shrink. */
	w.lru_hits = 1;
	cur = next;
	ace_decide(&w, &cur, &next);
	ck_assert_uint_eq(next.lru_capacity, cur.lru_capacity);
	/* Misses: one unmapped for want of room, one mapped new. */
	memset(&w, 0, sizeof(w));
	w.lru_full = 1;
	w.ss_fresh = 2;
	ace_decide(&w, &cur, &next);
	if (hi > 1)
		ck_assert(next.lru_capacity > cur.lru_capacity && next.lru_capacity <= hi);
	else
		ck_assert_uint_eq(next.lru_capacity, hi);
	for (i = 0; i < 40; i++) {
		cur = next;
		ace_decide(&w, &cur, &next);
	}
	ck_assert_uint_eq(next.lru_capacity, hi);
	/* Unmapped for want of room, but nothing mapped new: no growth. */
	w.ss_fresh = 0;
	cur.lru_capacity = 1;
	ace_decide(&w, &cur, &next);
	ck_assert_uint_eq(next.lru_capacity, 1);
}
END_TEST

START_TEST(test_decide_bigcache)
{
	struct hak_policy cur = defaults(), next;
	struct ace_counts w;
	uint64_t hi = hak_option(OPT_BIGCACHE_MB) << 20;
	int i;

	ck_assert_uint_eq(cur.bigcache_bytes, hi);
	memset(&w, 0, sizeof(w));
	w.big_aged = 1;
	for (i = 0; i < 40; i++) {
		ace_decide(&w, &cur, &next);
		ck_assert(next.bigcache_bytes <= cur.bigcache_bytes);
		cur = next;
	}
	ck_assert_uint_eq(cur.bigcache_bytes, hi / 8);
	memset(&w, 0, sizeof(w));
	w.big_over_budget = 2;
	w.big_misses = 2;
	ace_decide(&w, &cur, &next);
	ck_assert_uint_eq(next.bigcache_bytes, hi / 8 >= hi / 2 ? hi : hi / 4);
	for (i = 0; i < 40; i++) {
		cur = next;
		ace_decide(&w, &cur, &next);
	}
	ck_assert_uint_eq(next.bigcache_bytes, hi);
}
END_TEST

START_TEST(test_decide_reserve_and_slots)
{
	struct hak_policy cur = defaults(), next;
	struct ace_counts w;
	uint32_t lo = (uint32_t)hak_option(OPT_HEAP_RESERVE);
	uint32_t hi = (uint32_t)hak_option(OPT_HEAP_RESERVE_MAX);
	int i;

	memset(&w, 0, sizeof(w));
	w.reserve_idle = 2;
	w.span_cache_aged = 5;
	for (i = 0; i < 40; i++) {
		ace_decide(&w, &cur, &next);
		cur = next;
	}
	ck_assert_uint_eq(cur.reserve_max, lo);
	ck_assert_uint_eq(cur.span_cache_slots, 1);
	/* A reserve hit in the window: the reserve was used, no shrink. */
	w.reserve_hits = 1;
	w.span_cache_hits = 1;
	cur.reserve_max = hi;
	cur.span_cache_slots = 2;
	ace_decide(&w, &cur, &next);
	ck_assert_uint_eq(next.reserve_max, hi);
	ck_assert_uint_eq(next.span_cache_slots, 2);
	memset(&w, 0, sizeof(w));
	w.reserve_capped = 1;
	w.span_cache_full = 3;
	w.ss_fresh = 1;
	cur.reserve_max = lo;
	cur.span_cache_slots = 1;
	for (i = 0; i < 40; i++) {
		ace_decide(&w, &cur, &next);
		ck_assert(next.reserve_max <= hi || next.reserve_max == lo);
		cur = next;
	}
	ck_assert_uint_eq(cur.reserve_max, hi > lo ? hi : lo);
	ck_assert_uint_eq(cur.span_cache_slots, SPAN_CACHE_SLOTS);
}
END_TEST

#endif

START_TEST(test_publish_ring)
{
	const struct hak_policy *first, *p;
	struct hak_policy want;
	uint64_t epoch;
	int i;

	/* Only this test publishes: Check's asserts allocate, and a decay
	 * check on their slow paths would run the engine. */
	option_values[OPT_ACE].num = 0;
	first = policy_get();
	want = *first;
	epoch = first->epoch;

	want.lru_capacity = first->lru_capacity + 7;
	policy_publish(&want);
	p = policy_get();
	ck_assert_ptr_ne(p, first);
	ck_assert_uint_eq(p->epoch, epoch + 1);
	ck_assert_uint_eq(p->lru_capacity, want.lru_capacity);
	/* The snapshot before is untouched for the rest of the ring. */
	for (i = 2; i < POLICY_RING; i++) {
		struct hak_policy again = *policy_get();

		policy_publish(&again);
		ck_assert_uint_eq(first->lru_capacity, want.lru_capacity - 7);
		ck_assert_uint_eq(first->epoch, epoch);
	}
	ck_assert_uint_eq(policy_get()->epoch, epoch + POLICY_RING - 1);
}
END_TEST

/* Fills h's reserve with empty spans of a small class: frees in an order
 * that goes from span to span, so that none of them becomes current
 * (mm/heap/remote.c's run rule) and each empties into the reserve. */
static void fill_reserve(struct heap *h, uint32_t limit)
{
	enum { SPANS = 40, PER = 1024, N = SPANS * PER };
	static void *p[N];
	int i, j;

	h->reserve_limit = limit;
	for (i = 0; i < N; i++)
		ck_assert((p[i] = hak_malloc(64)) != NULL);
	for (j = 0; j < PER; j++)
		for (i = 0; i < SPANS; i++)
			hak_free(p[i * PER + j]);
}

START_TEST(test_reserve_shrinks)
{
	struct heap *h = tls_heap;
	uint32_t base = (uint32_t)hak_option(OPT_HEAP_RESERVE);
	struct hak_policy pol = *policy_get();

	HAK_REQUIRE(IS_ENABLED(CONFIG_ADAPTIVE) && IS_ENABLED(CONFIG_TINY),
		    "needs the adaptive engine and thread heaps for tiny blocks");
	HAK_REQUIRE(base <= 4, "needs a HAKMEM_HEAP_RESERVE of at most 4 (the test fills 8)");

	/* A bound that lets the reserve be 8, whatever the options say. */
	pol.reserve_max = 8;
	policy_publish(&pol);
	/* No shrink by the heap's own periodic check (Check's asserts
	 * allocate): the test calls it. */
	option_values[OPT_ACE].num = 0;
	fill_reserve(h, 8);
	ck_assert_uint_gt(h->empty_kept, 4 * RESERVE_SLABS);
	/* Taken from the reserve since the last look: kept as it is. */
	h->ace_hits_seen = h->ace_reserve_hits - 1;
	heap_reserve_shrink(h);
	ck_assert_uint_eq(h->reserve_limit, 8);
	/* Unused for a decay time: halved, the spans past it released. */
	heap_reserve_shrink(h);
	ck_assert_uint_eq(h->reserve_limit, 4 > base ? 4 : base);
	ck_assert_uint_le(h->empty_kept, h->reserve_limit * RESERVE_SLABS);
	while (h->reserve_limit > base)
		heap_reserve_shrink(h);
	ck_assert_uint_le(h->empty_kept, base * RESERVE_SLABS);
	heap_reserve_shrink(h);
	ck_assert_uint_eq(h->reserve_limit, base);
}
END_TEST

#if IS_ENABLED(CONFIG_ADAPTIVE)
static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Decay passes (not forced) for `ms`: the engine's hook runs in them. */
static void decay_for(uint64_t ms)
{
	uint64_t t0 = now_ms();

	while (now_ms() - t0 < ms) {
		usleep(5000);
		decay_run(0);
	}
}

/*
 * Empty superslabs that age out of the LRU unused: the engine halves the
 * LRU's capacity.  With HAKMEM_ACE=0 it publishes nothing.
 */
START_TEST(test_engine_publishes)
{
	enum { N = 24 };
	uint64_t decay = hak_option(OPT_DECAY_MS);
	uint32_t cap = policy_get()->lru_capacity;
	uint64_t epoch;
	void *p[N];
	int i;

	HAK_REQUIRE(IS_ENABLED(CONFIG_SS_LRU) && IS_ENABLED(CONFIG_POOL),
		    "needs the superslab LRU, and the pool tier for its 1 MiB blocks (the shared heap "
		    "keeps its spans until a decay check)");
	HAK_REQUIRE(decay >= 10 && decay <= 1000, "needs a DECAY_MS between 10 and 1000");
	HAK_REQUIRE(cap > 1, "the LRU holds one superslab at most");
	/* Blocks of 1 MiB: a superslab each, or nearly. */
	for (i = 0; i < N; i++)
		ck_assert((p[i] = hak_malloc(1 << 20)) != NULL);
	for (i = 0; i < N; i++)
		hak_free(p[i]);
	ck_assert_uint_gt(lru_cached(), 0);
	/* Aged out in one window, seen by the engine in the next. */
	decay_for(3 * decay + 50);
	ck_assert_uint_eq(lru_cached(), 0);
	if (IS_ENABLED(CONFIG_ACE_BANDIT)) {
		/* The bandit sets the LRU to one of its arms' values. */
		uint32_t small = cap / 4 ? cap / 4 : 1;

		ck_assert(policy_get()->lru_capacity == small || policy_get()->lru_capacity == cap);
		ck_assert_uint_gt(policy_get()->epoch, 0);
	} else {
		ck_assert_uint_lt(policy_get()->lru_capacity, cap);
		ck_assert_uint_ge(policy_get()->lru_capacity, 1);
	}

	option_values[OPT_ACE].num = 0;
	epoch = policy_get()->epoch;
	for (i = 0; i < N; i++)
		ck_assert((p[i] = hak_malloc(1 << 20)) != NULL);
	for (i = 0; i < N; i++)
		hak_free(p[i]);
	decay_for(3 * decay + 50);
	ck_assert_uint_eq(policy_get()->epoch, epoch);
}
END_TEST
#endif

#if IS_ENABLED(CONFIG_ACE_BANDIT)
/*
 * The bandit's choice (CONFIG_ACE_BANDIT): every arm is tried before any is
 * played again; then the arm with the best rewards is played most, and an
 * arm that turned bad leaves the window's favour (sliding window).
 */
START_TEST(test_bandit_choose)
{
	struct bandit_play w[BANDIT_WINDOW];
	unsigned int n = 0, a, played[BANDIT_ARMS] = { 0 };
	int i;

	/* Exploration: the arms the window has not seen, in order. */
	for (a = 0; a < BANDIT_ARMS; a++) {
		ck_assert_uint_eq(bandit_choose(w, n), a);
		w[n++] = (struct bandit_play){ a, a == 2 ? -1000 : -5000 };
	}
	/* Arm 2 pays best: over the rest of the window it is played most. */
	while (n < BANDIT_WINDOW) {
		a = bandit_choose(w, n);
		played[a]++;
		w[n++] = (struct bandit_play){ a, a == 2 ? -1000 : -5000 };
	}
	for (a = 0; a < BANDIT_ARMS; a++)
		if (a != 2)
			ck_assert_uint_gt(played[2], played[a]);
	/* Arm 2 turns bad and arm 0 good: a window of fresh plays moves the
	 * favour to arm 0. */
	memset(played, 0, sizeof(played));
	for (i = 0; i < 4 * BANDIT_WINDOW; i++) {
		a = bandit_choose(w, BANDIT_WINDOW);
		played[a] += i >= 3 * BANDIT_WINDOW;
		memmove(w, w + 1, sizeof(w) - sizeof(w[0]));
		w[BANDIT_WINDOW - 1] = (struct bandit_play){ a, a == 0 ? -1000 : -5000 };
	}
	for (a = 1; a < BANDIT_ARMS; a++)
		ck_assert_uint_gt(played[0], played[a]);
}
END_TEST

/* The reward charges refills and resident memory; each arm's knobs. */
START_TEST(test_bandit_reward_and_arms)
{
	struct ace_counts w;
	struct hak_policy p = defaults();
	uint32_t lru = (uint32_t)hak_option(OPT_SS_LRU_CAPACITY);

	memset(&w, 0, sizeof(w));
	ck_assert_int_eq(bandit_reward(&w, 0), 0);
	ck_assert_int_lt(bandit_reward(&w, 10), bandit_reward(&w, 1));
	w.ss_fresh = 1;
	ck_assert_int_lt(bandit_reward(&w, 1), 0);
	ck_assert_int_lt(bandit_reward(&w, 0), bandit_reward(&(struct ace_counts){ .lru_hits = 1 }, 0));
	bandit_arm_policy(0, &p);
	ck_assert_uint_eq(p.reserve_max, hak_option(OPT_HEAP_RESERVE));
	ck_assert_uint_eq(p.lru_capacity, lru / 4 ? lru / 4 : (lru ? 1 : 0));
	bandit_arm_policy(3, &p);
	ck_assert_uint_eq(p.reserve_max, hak_option(OPT_HEAP_RESERVE_MAX) > hak_option(OPT_HEAP_RESERVE) ?
			  hak_option(OPT_HEAP_RESERVE_MAX) : hak_option(OPT_HEAP_RESERVE));
	ck_assert_uint_eq(p.lru_capacity, lru);
}
END_TEST

#endif

static Suite *make_suite(void)
{
	TCase *tc;
	Suite *s = one_tcase_suite("ace", "core", 60, &tc);

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_publish_ring);
	tcase_add_test(tc, test_reserve_shrinks);
#if IS_ENABLED(CONFIG_ADAPTIVE)
	/* The engine's rule and the engine (built with CONFIG_ADAPTIVE). */
	tcase_add_test(tc, test_decide_lru);
	tcase_add_test(tc, test_decide_bigcache);
	tcase_add_test(tc, test_decide_reserve_and_slots);
	tcase_add_test(tc, test_engine_publishes);
#endif
#if IS_ENABLED(CONFIG_ACE_BANDIT)
	tcase_add_test(tc, test_bandit_choose);
	tcase_add_test(tc, test_bandit_reward_and_arms);
#endif
	return s;
}

HAK_TEST_MAIN(make_suite)
