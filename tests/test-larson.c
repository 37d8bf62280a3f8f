/* SPDX-License-Identifier: MIT */
/*
 * Larson: threads hand their blocks to the next thread and exit.
 *
 * A stress and hang guard for the larson pattern, which once hung the
 * allocator: a reused heap's notify_lock was overwritten while a remote
 * freer of the heap's previous life held it.  The window of that race is
 * about 100 ns and a 2 s run rarely hits it (a run with the bug put back
 * passed 21 times out of 21), so this is not a reliable regression test
 * for it; it does check contents and hangs under heavy heap reuse.
 *
 * NLINEAGES lineages of threads.  The thread of a lineage owns an array of
 * slots, each holding a block of a random size (16..1024 bytes, now and
 * then a pool size up to 32 KiB).  It replaces random slots (check and free
 * the old block, allocate a new one), then starts the next thread of its
 * lineage, hands it the array and exits: the new thread frees blocks that
 * the dead thread (and other lineages) allocated, and heaps are reused by
 * new threads all the time.  Now and then a thread swaps its array with the
 * one on an exchange shelf, so that frees also hit the spans of threads
 * that are still alive (and allocating: their full spans are detached).
 * Every block is filled with a pattern derived from its address, size and
 * a sequence number, and checked before it is freed.
 *
 * A hang fails the test: the main thread watches the lineages' progress
 * and fails when none is made for a long time, and Check's timeout (and an
 * alarm, for CK_FORK=no) ends the test if the main thread itself hangs.
 * At the end everything is freed (this thread adopts the spans it frees
 * into) and, after malloc_trim(0), slabs_in_use is back within a constant
 * of its start; with CONFIG_STATS, remote_frees went up.
 *
 * About 2 s on 2 cores; TEST_EMULATED (qemu) runs 10x fewer generations.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mm/heap/heap.h>
#include "harness.h"
#include "testutil.h"

enum {
	NLINEAGES = 4,
	NSLOTS = 2048,          /* slots in an array */
	OPS = 2000,             /* slot replacements per thread */
	GENERATIONS = 1000,     /* threads per lineage (100 under emulation) */
	SWAP_EVERY = 500,       /* ops between chances to swap arrays */
};

/* Slack for the calling thread's own heap (current spans, reserve). */
#define SLAB_SLACK 16

struct slots {
	void *p[NSLOTS];
	uint32_t size[NSLOTS];
	uint32_t seq[NSLOTS];
};

/* NLINEAGES arrays in use, one on the exchange shelf. */
static struct slots arrays[NLINEAGES + 1];
static struct slots *shelf = &arrays[NLINEAGES];
static pthread_mutex_t shelf_lock = PTHREAD_MUTEX_INITIALIZER;

struct lineage {
	unsigned int id;
	unsigned int gen;           /* generation of the running thread */
	unsigned int generations;
	struct slots *arr;
	pthread_t prev;             /* the thread that started this one */
	int has_prev;
	atomic_int done;            /* last thread finished; join prev */
};

static struct lineage lineages[NLINEAGES];
static atomic_ulong progress;       /* slot replacements, all threads */
static atomic_int larson_failed;
static char larson_msg[256];

static void larson_fail(const char *what, const void *p, size_t n, size_t at)
{
	int expected = 0;

	if (atomic_compare_exchange_strong(&larson_failed, &expected, 1))
		snprintf(larson_msg, sizeof(larson_msg), "%s: block %p size %zu, offset %zu",
			 what, p, n, at);
}

static uint64_t seed_of(const void *p, size_t n, uint32_t seq)
{
	return mix((uint64_t)(uintptr_t)p ^ ((uint64_t)n << 40) ^ ((uint64_t)seq << 20));
}

/* Checks a block before it is freed; a mismatch fails the run. */
static void check_block(const void *p, size_t n, uint32_t seq)
{
	size_t off = pattern_check(p, n, seed_of(p, n, seq));

	if (off != n)
		larson_fail("block clobbered", p, n, off);
}

/* 16..1024 bytes; one in 64 a pool size up to 32 KiB. */
static size_t larson_size(uint64_t *s)
{
	uint64_t r = rnd(s);

	if (r % 64)
		return 16 + (r >> 8) % (1024 - 16 + 1);
	return 1025 + (r >> 8) % (32 * KiB - 1024);
}

static void drop(struct slots *a, unsigned int i)
{
	if (!a->p[i])
		return;
	check_block(a->p[i], a->size[i], a->seq[i]);
	hak_free(a->p[i]);
	a->p[i] = NULL;
}

static int put(struct slots *a, unsigned int i, size_t n, uint32_t seq)
{
	void *p = hak_malloc(n);

	if (!p) {
		larson_fail("malloc failed", NULL, n, 0);
		return -1;
	}
	if (hak_malloc_usable_size(p) < n)
		larson_fail("usable size too small", p, n, 0);
	pattern_fill(p, n, seed_of(p, n, seq));
	a->p[i] = p;
	a->size[i] = (uint32_t)n;
	a->seq[i] = seq;
	return 0;
}

static void *larson_thread(void *arg);

/* Hands the array to a new thread of the lineage; 0 when it runs. */
static int pass_on(struct lineage *l)
{
	pthread_t t;

	l->gen++;
	l->prev = pthread_self();
	l->has_prev = 1;
	/* From here on the new thread owns *l. */
	if (pthread_create(&t, NULL, larson_thread, l) != 0) {
		l->gen--;
		larson_fail("pthread_create failed", NULL, 0, 0);
		return -1;
	}
	return 0;
}

static void *larson_thread(void *arg)
{
	struct lineage *l = arg;
	struct slots *a = l->arr;
	uint64_t rs = mix(((uint64_t)l->id << 32) + l->gen + 1) | 1;
	uint32_t seq = l->gen * OPS * 2;
	unsigned int i, op;

	/* The first generation fills its array. */
	if (l->gen == 0)
		for (i = 0; i < NSLOTS && !atomic_load(&larson_failed); i++)
			if (put(a, i, larson_size(&rs), seq++))
				break;

	for (op = 0; op < OPS && !atomic_load(&larson_failed); op++) {
		i = (unsigned int)(rnd(&rs) % NSLOTS);
		drop(a, i);
		if (put(a, i, larson_size(&rs), seq++))
			break;
		if (op % 64 == 63)
			atomic_fetch_add_explicit(&progress, 64, memory_order_relaxed);
		/* Now and then trade arrays with a live thread's shelf. */
		if (op % SWAP_EVERY == SWAP_EVERY - 1 && rnd(&rs) % 4 == 0) {
			struct slots *t;

			pthread_mutex_lock(&shelf_lock);
			t = shelf;
			shelf = a;
			a = t;
			pthread_mutex_unlock(&shelf_lock);
		}
	}
	l->arr = a;

	/* The thread that started this one is gone, or nearly: reap it. */
	if (l->has_prev && pthread_join(l->prev, NULL) != 0)
		larson_fail("pthread_join failed", NULL, 0, 0);
	l->has_prev = 0;

	if (l->gen + 1 < l->generations && !atomic_load(&larson_failed) && pass_on(l) == 0)
		return NULL;
	/* Last of the lineage: main joins this thread. */
	l->prev = pthread_self();
	l->has_prev = 1;
	atomic_store(&l->done, 1);
	return NULL;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

START_TEST(test_larson)
{
	int emulated = getenv("TEST_EMULATED") != NULL;
	unsigned int generations = emulated ? GENERATIONS / 10 : GENERATIONS;
	/* No progress for this long: a thread is stuck (the old hang). */
	double stall_s = emulated ? 45 : 20, t0, last_change;
	unsigned long last_progress = 0, p;
	struct hak_stats st0, st;
	unsigned int i, k, done;
	pthread_t t;

	/* Check's timeout does not apply with CK_FORK=no. */
	alarm(emulated ? 600 : 100);

	run_thread(noop_thread, NULL);
	hak_malloc_trim(0);
	st0 = stats_now();

	t0 = last_change = now_s();
	for (i = 0; i < NLINEAGES; i++) {
		lineages[i] = (struct lineage){ .id = i, .generations = generations,
						.arr = &arrays[i] };
		ck_assert_int_eq(pthread_create(&t, NULL, larson_thread, &lineages[i]), 0);
	}
	for (;;) {
		usleep(10000);
		for (i = 0, done = 0; i < NLINEAGES; i++)
			done += (unsigned int)atomic_load(&lineages[i].done);
		if (done == NLINEAGES)
			break;
		p = atomic_load(&progress);
		if (p != last_progress) {
			last_progress = p;
			last_change = now_s();
		}
		ck_assert_msg(now_s() - last_change < stall_s,
			      "larson hung: no progress for %.0f s (%lu ops, generations %u %u %u %u)",
			      stall_s, p, lineages[0].gen, lineages[1].gen, lineages[2].gen,
			      lineages[3].gen);
	}
	for (i = 0; i < NLINEAGES; i++)
		ck_assert_int_eq(pthread_join(lineages[i].prev, NULL), 0);
	ck_assert_msg(!atomic_load(&larson_failed), "%s", larson_msg);

	/* Free everything: blocks of dead threads' heaps. */
	for (i = 0; i <= NLINEAGES; i++)
		for (k = 0; k < NSLOTS; k++)
			drop(&arrays[i], k);
	ck_assert_msg(!atomic_load(&larson_failed), "%s", larson_msg);
	hak_malloc_trim(0);
	st = stats_now();

	printf("larson: %u lineages x %u threads, %lu ops in %.2f s; remote_frees %llu of %llu "
	       "frees; slabs %llu (start %llu)\n", NLINEAGES, generations,
	       atomic_load(&progress), now_s() - t0, st.remote_frees - st0.remote_frees,
	       st.frees - st0.frees, st.slabs_in_use, st0.slabs_in_use);
	ck_assert_msg(st.slabs_in_use <= st0.slabs_in_use + SLAB_SLACK,
		      "slabs_in_use %llu after larson, %llu before", st.slabs_in_use,
		      st0.slabs_in_use);
	if (IS_ENABLED(CONFIG_STATS))
		ck_assert_msg(st.remote_frees > st0.remote_frees, "remote_frees %llu, before %llu",
			      st.remote_frees, st0.remote_frees);
	alarm(0);
}
END_TEST

static Suite *make_suite(void)
{
	TCase *tc;
	Suite *s = one_tcase_suite("larson", "core", 60, &tc);

	tcase_add_test(tc, test_larson);
	return s;
}

HAK_TEST_MAIN(make_suite)
