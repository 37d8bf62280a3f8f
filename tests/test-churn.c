/* SPDX-License-Identifier: MIT */
/*
 * Thread churn must not grow memory.
 *
 * 10,000 short-lived threads (batches of 8 running at once) each allocate
 * and free tiny and pool sizes, and leave a few objects behind that a
 * thread of the next batch checks and frees (frees into the spans of a
 * dead heap; a live thread adopts such a span).  RSS and bytes_mapped are
 * measured after the first 1,000 threads and at the end, both after
 * malloc_trim(0): the end must be within a constant of the first
 * measurement, not grow with the number of threads.  Once every thread is
 * joined and every object freed, slabs_in_use is back to where it started
 * (give or take the calling thread's current spans).
 *
 * TEST_EMULATED (qemu) runs 10x fewer threads.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <mm/heap/heap.h>
#include "harness.h"
#include "testutil.h"

enum {
	BATCH = 8,          /* threads running at once */
	OPS = 200,          /* allocations per thread */
	LEAVE = 4,          /* objects a thread leaves for the next batch */
};

/* Slack for the calling thread's own heap (current spans; reserve in
 * test_churn_slabs_exact). */
#define SLAB_SLACK 16

/* Tiny mostly, pool sometimes (up to 64 KiB). */
static size_t churn_size(uint64_t *s)
{
	uint64_t r = rnd(s);

	if (r % 8)
		return 1 + (r >> 8) % 1024;
	return 1025 + (r >> 8) % (63 * KiB);
}

struct left {
	void *p;
	size_t n;
};

/* Objects left by batch b live in leftover[b % 2]. */
static struct left leftover[2][BATCH][LEAVE];
static atomic_int churn_failed;
static char churn_msg[256];

static void churn_fail(const char *what, const void *p, size_t n)
{
	int expected = 0;

	if (atomic_compare_exchange_strong(&churn_failed, &expected, 1))
		snprintf(churn_msg, sizeof(churn_msg), "%s: %p size %zu", what, p, n);
}

struct targ {
	unsigned int batch, slot;
};

static void *churn_thread(void *arg)
{
	const struct targ *a = arg;
	struct left *prev = leftover[(a->batch + 1) % 2][a->slot];
	struct left *mine = leftover[a->batch % 2][a->slot];
	uint64_t rs = mix(a->batch * 131 + a->slot + 1);
	void *p[32];
	size_t sz[32];
	unsigned int i, k;

	/* Free what a thread of the previous batch left (it is dead now). */
	if (a->batch > 0)
		for (i = 0; i < LEAVE; i++) {
			if (pattern_check(prev[i].p, prev[i].n, (uintptr_t)prev[i].p) != prev[i].n)
				churn_fail("leftover clobbered", prev[i].p, prev[i].n);
			hak_free(prev[i].p);
			prev[i].p = NULL;
		}
	for (k = 0; k < OPS / 32; k++) {
		for (i = 0; i < 32; i++) {
			sz[i] = churn_size(&rs);
			p[i] = hak_malloc(sz[i]);
			if (!p[i]) {
				churn_fail("malloc failed", NULL, sz[i]);
				return NULL;
			}
			pattern_fill(p[i], sz[i] < 64 ? sz[i] : 64, (uintptr_t)p[i] ^ k);
		}
		for (i = 0; i < 32; i++) {
			unsigned int j = (i * 7 + k) % 32;
			size_t n = sz[j] < 64 ? sz[j] : 64;

			if (pattern_check(p[j], n, (uintptr_t)p[j] ^ k) != n)
				churn_fail("block clobbered", p[j], sz[j]);
			hak_free(p[j]);
		}
	}
	for (i = 0; i < LEAVE; i++) {
		mine[i].n = churn_size(&rs);
		mine[i].p = hak_malloc(mine[i].n);
		if (!mine[i].p) {
			churn_fail("malloc failed", NULL, mine[i].n);
			return NULL;
		}
		pattern_fill(mine[i].p, mine[i].n, (uintptr_t)mine[i].p);
	}
	return NULL;
}

static void run_batch(unsigned int b)
{
	pthread_t t[BATCH];
	struct targ a[BATCH];
	unsigned int i;

	for (i = 0; i < BATCH; i++) {
		a[i].batch = b;
		a[i].slot = i;
		ck_assert_int_eq(pthread_create(&t[i], NULL, churn_thread, &a[i]), 0);
	}
	for (i = 0; i < BATCH; i++)
		ck_assert_int_eq(pthread_join(t[i], NULL), 0);
	ck_assert_msg(!atomic_load(&churn_failed), "batch %u: %s", b, churn_msg);
}

START_TEST(test_thread_churn)
{
	unsigned int nthreads = getenv("TEST_EMULATED") ? 1000 : 10000;
	unsigned int nbatches = nthreads / BATCH, b, i;
	struct hak_stats st0, st1k = { 0 }, st_end;
	size_t rss1k = 0, rss_end;

	run_thread(noop_thread, NULL);
	hak_malloc_trim(0);
	st0 = stats_now();

	for (b = 0; b < nbatches; b++) {
		run_batch(b);
		if (b + 1 == nbatches / 10) {
			hak_malloc_trim(0);
			rss1k = rss_bytes();
			st1k = stats_now();
		}
	}
	/* The last batch's leftovers: freed here, into dead heaps' spans,
	 * which this thread adopts (malloc_trim gives them back). */
	for (i = 0; i < BATCH; i++) {
		unsigned int k;

		for (k = 0; k < LEAVE; k++) {
			struct left *l = &leftover[(nbatches - 1) % 2][i][k];

			ck_assert(pattern_check(l->p, l->n, (uintptr_t)l->p) == l->n);
			hak_free(l->p);
			l->p = NULL;
		}
	}
	hak_malloc_trim(0);
	rss_end = rss_bytes();
	st_end = stats_now();

	printf("churn: %u threads: rss %zu KiB -> %zu KiB, mapped %llu KiB -> %llu KiB, "
	       "slabs %llu (start %llu, @10%% %llu)\n", nthreads, rss1k / 1024, rss_end / 1024,
	       st1k.bytes_mapped / 1024, st_end.bytes_mapped / 1024, st_end.slabs_in_use,
	       st0.slabs_in_use, st1k.slabs_in_use);
	/* Under qemu-user, RSS is the emulator's, which keeps per-thread
	 * state of its own, and a sanitizer's runtime keeps its own per-thread
	 * memory: only bytes_mapped is ours there. */
	ck_assert_msg(getenv("TEST_EMULATED") || (UNDER_ASAN || UNDER_TSAN) || rss_end <= rss1k + 16 * MiB,
		      "RSS grew with thread churn: %zu KiB after %u threads, %zu KiB after %u",
		      rss1k / 1024, nthreads / 10, rss_end / 1024, nthreads);
	/* Linear growth would be 9x the first tenth's; allow a constant. */
	ck_assert_msg(st_end.bytes_mapped <= st1k.bytes_mapped + 16 * MiB,
		      "bytes_mapped grew with thread churn: %llu KiB -> %llu KiB",
		      st1k.bytes_mapped / 1024, st_end.bytes_mapped / 1024);
	ck_assert_msg(st_end.slabs_in_use <= st0.slabs_in_use + SLAB_SLACK,
		      "slabs_in_use %llu after churn, %llu before: spans leaked by dead threads",
		      st_end.slabs_in_use, st0.slabs_in_use);
	ck_assert_msg(st_end.big_in_use == st0.big_in_use, "big_in_use %llu, was %llu",
		      st_end.big_in_use, st0.big_in_use);
}
END_TEST

/* Same in one batch after another, each one leaving nothing: exact. */
static void *alloc_free_exit(void *arg)
{
	uint64_t rs = (uintptr_t)arg | 1;
	void *p[64];
	unsigned int i;

	for (i = 0; i < 64; i++) {
		p[i] = hak_malloc(churn_size(&rs));
		if (!p[i])
			churn_fail("malloc failed", NULL, 0);
	}
	for (i = 0; i < 64; i++)
		hak_free(p[63 - i]);
	return NULL;
}

START_TEST(test_churn_slabs_exact)
{
	unsigned int rounds = getenv("TEST_EMULATED") ? 20 : 200, r, i;
	struct hak_stats st0, st;
	pthread_t t[BATCH];

	run_thread(noop_thread, NULL);
	decay_run(1);
	st0 = stats_now();
	for (r = 0; r < rounds; r++) {
		for (i = 0; i < BATCH; i++)
			ck_assert_int_eq(pthread_create(&t[i], NULL, alloc_free_exit,
							(void *)(uintptr_t)(r * BATCH + i)), 0);
		for (i = 0; i < BATCH; i++)
			ck_assert_int_eq(pthread_join(t[i], NULL), 0);
		ck_assert_msg(!atomic_load(&churn_failed), "%s", churn_msg);
	}
	decay_run(1);
	st = stats_now();
	ck_assert_msg(st.slabs_in_use <= st0.slabs_in_use + SLAB_SLACK,
		      "slabs_in_use %llu after %u threads, %llu before", st.slabs_in_use,
		      rounds * BATCH, st0.slabs_in_use);
	ck_assert_msg(st.superslabs_in_use <= st0.superslabs_in_use + 1,
		      "superslabs_in_use %llu, was %llu", st.superslabs_in_use,
		      st0.superslabs_in_use);
}
END_TEST

static Suite *make_suite(void)
{
	TCase *tc;
	Suite *s = one_tcase_suite("churn", "core", 120, &tc);

	tcase_add_test(tc, test_thread_churn);
	tcase_add_test(tc, test_churn_slabs_exact);
	return s;
}

HAK_TEST_MAIN(make_suite)
