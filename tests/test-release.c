/* SPDX-License-Identifier: MIT */
/*
 * Peak and release: memory goes back to the kernel.
 *
 * Two threads allocate 1 GiB between them (128 MiB under TEST_EMULATED) in
 * blocks of 16 B .. 32 KiB, touching every page, then free it all, part of
 * it cross-thread, and exit.
 *
 * test_release_trim: after hak_malloc_trim(0), RSS above the baseline
 * must be below 5% of the peak's.
 *
 * test_release_decay: no trim.  The main thread keeps calling
 * hak_malloc/hak_free of a small block every 2 ms (a busy program); after a
 * little more than the decay time (option DECAY_MS) RSS above the baseline
 * must be below 10% of the peak's within 1 s, and the cache of empty
 * superslabs must have drained ("a program that frees everything while it
 * is busy gets its memory back within the decay time").
 *
 * test_release_idle: no trim and no call at all after the frees (a
 * program that goes idle): 1 s later, RSS above the baseline must be
 * below 10% of the peak's.  The free-memory budget does this, at the
 * frees themselves.
 *
 * Under ASan the workloads run but RSS is not checked (the decay test
 * still checks that the superslab cache drains): ASan keeps the shadow
 * of unmapped memory resident.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <mm/heap/heap.h>
#include <mm/options.h>
#include "harness.h"
#include "testutil.h"

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Half the blocks small (16 B .. 1 KiB), half mid (1 KiB .. 32 KiB). */
static size_t block_size(uint64_t *s)
{
	uint64_t r = rnd(s);

	if (r & 1)
		return 16 + (r >> 8) % (KiB - 16 + 1);
	return KiB + 1 + (r >> 8) % (31 * KiB);
}

struct blk {
	void *p;
	size_t n;
};

enum { NT = 2 };

struct worker {
	pthread_t tid;
	unsigned int id;
	size_t target;       /* bytes to allocate */
	struct blk *b;       /* block table (mmap'ed, outside the allocator) */
	size_t cap, count;
	int failed;
};

static struct worker w[NT];
static pthread_barrier_t bar;

static void *worker_main(void *arg)
{
	struct worker *me = arg, *other = &w[1 - me->id];
	uint64_t rs = 0x243f6a8885a308d3ull + me->id;
	size_t bytes = 0, i;

	while (bytes < me->target && me->count < me->cap) {
		size_t n = block_size(&rs);
		unsigned char *p = hak_malloc(n);

		if (!p) {
			me->failed = 1;
			break;
		}
		/* Touch every page of the block (and mark both ends). */
		memset(p, 0x5a, n);
		p[0] = (unsigned char)me->id;
		p[n - 1] = (unsigned char)(n & 0xff);
		me->b[me->count].p = p;
		me->b[me->count].n = n;
		me->count++;
		bytes += n;
	}
	pthread_barrier_wait(&bar);   /* peak */
	pthread_barrier_wait(&bar);   /* main measured it */
	/* Free the even blocks of our own table and the odd ones of the
	 * other thread's (cross-thread frees). */
	for (i = 0; i < me->count; i += 2) {
		unsigned char *p = me->b[i].p;

		if (p[0] != me->id || p[me->b[i].n - 1] != (unsigned char)(me->b[i].n & 0xff))
			me->failed = 2;
		hak_free(p);
	}
	for (i = 1; i < other->count; i += 2) {
		unsigned char *p = other->b[i].p;

		if (p[0] != other->id ||
		    p[other->b[i].n - 1] != (unsigned char)(other->b[i].n & 0xff))
			me->failed = 2;
		hak_free(p);
	}
	pthread_barrier_wait(&bar);   /* everything freed */
	return NULL;
}

struct peak {
	size_t base, peak, freed;
};

static void *small_churn_thread(void *arg)
{
	hak_free(hak_malloc(64));
	return arg;
}

/* Runs the workers; returns base / peak / right-after-free RSS. */
static struct peak run_peak(void)
{
	size_t total = getenv("TEST_EMULATED") ? 128 * MiB : 1024 * MiB;
	struct peak r;
	unsigned int i;

	/* Warm up: the main heap, a thread (TLS, stack cache), stdio. */
	run_thread(small_churn_thread, NULL);
	decay_run(1);
	ck_assert_int_eq(pthread_barrier_init(&bar, NULL, NT + 1), 0);
	for (i = 0; i < NT; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].id = i;
		w[i].target = total / NT;
		/* Smallest average block is ~8 KiB for the mid half. */
		w[i].cap = w[i].target / 4000 + 1024;
		w[i].b = mmap(NULL, w[i].cap * sizeof(struct blk), PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		ck_assert(w[i].b != MAP_FAILED);
		memset(w[i].b, 0, w[i].cap * sizeof(struct blk));
	}
	r.base = rss_bytes();
	for (i = 0; i < NT; i++)
		ck_assert_int_eq(pthread_create(&w[i].tid, NULL, worker_main, &w[i]), 0);
	pthread_barrier_wait(&bar);
	r.peak = rss_bytes();
	pthread_barrier_wait(&bar);
	pthread_barrier_wait(&bar);
	for (i = 0; i < NT; i++) {
		ck_assert_int_eq(pthread_join(w[i].tid, NULL), 0);
		ck_assert_msg(!w[i].failed, "worker %u failed (%d)", i, w[i].failed);
	}
	r.freed = rss_bytes();
	for (i = 0; i < NT; i++)
		munmap(w[i].b, w[i].cap * sizeof(struct blk));
	pthread_barrier_destroy(&bar);
	ck_assert_msg(r.peak >= r.base + total * 9 / 10,
		      "peak RSS %zu KiB, base %zu KiB: pages not touched?", r.peak / 1024,
		      r.base / 1024);
	return r;
}

/* RSS now, above the baseline, must be below `percent` of the peak's. */
static void check_rss(const struct peak *r, const char *when, size_t percent)
{
	/* ASan keeps the shadow of unmapped memory resident (an eighth of
	 * the peak, here), so RSS says nothing about the allocator. */
	HAK_REQUIRE(!UNDER_ASAN, "under ASan, RSS holds the shadow of the freed memory");
	size_t after = rss_bytes(), limit = r->base + (r->peak - r->base) * percent / 100;

	printf("release: base %zu KiB, peak %zu KiB, freed %zu KiB, %s %zu KiB\n",
	       r->base / 1024, r->peak / 1024, r->freed / 1024, when, after / 1024);
	ck_assert_msg(after < limit, "RSS %s %zu KiB, limit %zu KiB (base %zu, peak %zu)", when,
		      after / 1024, limit / 1024, r->base / 1024, r->peak / 1024);
}

START_TEST(test_release_trim)
{
	struct peak r = run_peak();

	hak_malloc_trim(0);
	check_rss(&r, "after malloc_trim", 5);
}
END_TEST

START_TEST(test_release_decay)
{
	struct peak r = run_peak();
	uint64_t decay = option_values[OPT_DECAY_MS].num, t0 = now_ms(), t;
	size_t after = 0, limit = r.base + (r.peak - r.base) / 10;
	struct hak_stats st;
	uint64_t rss_ms = 0;

	HAK_REQUIRE(decay > 0 && decay <= 500, "needs a DECAY_MS between 1 and 500");
	/* A busy program: mallocs and frees every 2 ms, for up to 1 s or
	 * until RSS is down and the superslab cache has drained. */
	memset(&st, 0, sizeof(st));
	while ((t = now_ms()) - t0 < 1000) {
		/* A small block (fast path) and a big one (a slow path, where
		 * the decay is checked, as in any program that keeps working). */
		void *p = hak_malloc(48), *big = hak_malloc(2 * MiB);

		ck_assert(p && big);
		memset(p, 1, 48);
		memset(big, 1, 4096);
		hak_free(big);
		hak_free(p);
		usleep(2000);
		if (t - t0 > decay + decay / 4) {
			after = rss_bytes();
			hak_stats_get(&st);
			/* Under ASan only the superslab cache is checked. */
			if ((after < limit || UNDER_ASAN) && !rss_ms)
				rss_ms = now_ms() - t0;
			if ((after < limit || UNDER_ASAN) && st.superslabs_cached == 0)
				break;
		}
	}
	t = now_ms() - t0;
	printf("release/decay: base %zu KiB, peak %zu KiB, freed %zu KiB, after %llu ms "
	       "%zu KiB (below the limit after %llu ms), %llu superslabs cached\n",
	       r.base / 1024, r.peak / 1024, r.freed / 1024, (unsigned long long)t,
	       after / 1024, (unsigned long long)rss_ms, st.superslabs_cached);
	ck_assert_msg(rss_ms, "RSS %zu KiB after %llu ms (decay %llu ms), limit %zu KiB "
		      "(base %zu, peak %zu, right after the frees %zu)",
		      after / 1024, (unsigned long long)t, (unsigned long long)decay,
		      limit / 1024, r.base / 1024, r.peak / 1024, r.freed / 1024);
	/* Everything cached is older than the decay time by now: the big
	 * allocations' slow paths ran the decay. */
	ck_assert_msg(st.superslabs_cached == 0,
		      "%llu empty superslabs (%llu KiB mapped) still cached %llu ms after the "
		      "frees, decay %llu ms: the decay did not run",
		      st.superslabs_cached, st.bytes_mapped / 1024, (unsigned long long)t,
		      (unsigned long long)decay);
}
END_TEST

START_TEST(test_release_idle)
{
	struct peak r;

	HAK_REQUIRE(IS_ENABLED(CONFIG_TINY) && IS_ENABLED(CONFIG_POOL),
		    "with TINY or POOL off, the shared heap gives spans back only on a decay check");
	r = run_peak();
	usleep(1000 * 1000);
	check_rss(&r, "1 s after the frees", 10);
}
END_TEST

static Suite *make_suite(void)
{
	TCase *tc;
	Suite *s = one_tcase_suite("release", "core", 120, &tc);

	tcase_add_test(tc, test_release_trim);
	tcase_add_test(tc, test_release_decay);
	tcase_add_test(tc, test_release_idle);
	return s;
}

HAK_TEST_MAIN(make_suite)
