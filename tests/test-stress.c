/* SPDX-License-Identifier: MIT */
/*
 * Multi-threaded stress of the hak_* API.
 *
 * Rounds of 4 worker threads share an array of slots.  Each operation takes
 * a random slot (atomic exchange), checks the object found there (it was
 * likely allocated by another thread, maybe by one that has exited), then
 * frees it or reallocs it, and puts a new object of a random size in.
 * Sizes: mostly tiny, some pool, a few large.  Every object is filled with
 * a pattern derived from its address and size and checked before it is
 * freed or after it is realloc'ed (the kept prefix); a mismatch fails the
 * test with the address.  Workers exit with live objects in the slots and
 * in a per-thread "leftover" list that the next round frees, so frees reach
 * slabs whose owner is gone.  Each worker also churns a private batch
 * (same-thread frees).
 *
 * Runtime: a few seconds on 2 cores; TEST_STRESS_ITERS sets the
 * operations per thread and round (default 20000), e.g. lower under
 * qemu-aarch64.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include "harness.h"
#include "testutil.h"

enum {
	NTHREADS = 4,
	NROUNDS = 3,
	NSLOTS = 1024,
	NLEFT = 64,     /* objects a worker leaves behind when it exits */
	BATCH = 32,     /* private same-thread batch */
};

/* An object: header with its size, then the pattern. */
struct obj {
	size_t size;    /* requested size, >= sizeof(struct obj) */
	uint64_t magic; /* = hash(address, size) */
};

static _Atomic(struct obj *) slots[NSLOTS];
static struct obj *leftovers[NROUNDS][NTHREADS][NLEFT];
static atomic_int stress_failed;
static char fail_msg[512];
static unsigned long iters = 20000;

static uint64_t seed_of(const void *p, size_t size)
{
	return mix((uint64_t)(uintptr_t)p * 31 + size);
}

static void stress_fail(const char *what, const void *p, size_t size, size_t at)
{
	int expected = 0;
	if (atomic_compare_exchange_strong(&stress_failed, &expected, 1))
		snprintf(fail_msg, sizeof(fail_msg),
			 "%s: object %p size %zu, bad at offset %zu", what, p,
			 size, at);
}

/* Header, then testutil.h's pattern from seed_of(address, size). */
static void fill(struct obj *o, size_t size)
{
	o->size = size;
	o->magic = seed_of(o, size);
	pattern_fill(o + 1, size - sizeof(*o), o->magic);
}

/*
 * Check the pattern of o (which was filled for address `was` and size
 * `size`) over its first `len` bytes.  Returns 0 when intact.
 */
static int check(const struct obj *o, const void *was, size_t size, size_t len)
{
	uint64_t s = seed_of(was, size);
	size_t off;

	if (len >= sizeof(*o) && (o->size != size || o->magic != s)) {
		stress_fail("header clobbered", o, size, 0);
		return -1;
	}
	if (len <= sizeof(*o))
		return 0;
	off = pattern_check(o + 1, len - sizeof(*o), s);
	if (off != len - sizeof(*o)) {
		stress_fail("pattern mismatch", o, size, sizeof(*o) + off);
		return -1;
	}
	return 0;
}

/* mostly tiny, some pool, a few large */
static size_t rand_size(uint64_t *s)
{
	uint64_t r = rnd(s);
	unsigned pick = (unsigned)(r % 1000);
	r >>= 10;
	if (pick < 880)
		return sizeof(struct obj) + r % (1024 - sizeof(struct obj) + 1);
	if (pick < 995) { /* pool: log-uniform 1 KiB .. 1 MiB */
		size_t base = (size_t)1024 << (r % 10);
		return base + 1 + (r >> 4) % base;
	}
	return MiB + 1 + (r >> 4) % (3 * MiB); /* large */
}

static struct obj *new_obj(size_t size)
{
	struct obj *o = hak_malloc(size);
	if (!o) {
		stress_fail("malloc failed", NULL, size, 0);
		return NULL;
	}
	if (((uintptr_t)o & 15) != 0)
		stress_fail("misaligned", o, size, 0);
	if (hak_malloc_usable_size(o) < size)
		stress_fail("usable size too small", o, size, 0);
	fill(o, size);
	return o;
}

static void check_and_free(struct obj *o)
{
	size_t size = o->size;
	check(o, o, size, size);
	hak_free(o);
}

/* realloc o to a new size; the kept prefix must survive */
static struct obj *grow_or_shrink(struct obj *o, uint64_t *s)
{
	size_t size = o->size, nsize = rand_size(s);
	if (check(o, o, size, size))
		return o;
	struct obj *was = o;
	struct obj *n = hak_realloc(o, nsize);
	if (!n) {
		stress_fail("realloc failed", o, nsize, 0);
		return NULL;
	}
	size_t keep = size < nsize ? size : nsize;
	if (check(n, was, size, keep) == 0)
		fill(n, nsize);
	return n;
}

struct worker {
	int round, id;
	uint64_t seed;
	unsigned long remote_seen;
};

static void *worker(void *arg)
{
	struct worker *w = arg;
	uint64_t s = w->seed;
	struct obj *batch[BATCH];

	/* free what a thread of the previous round left behind */
	if (w->round > 0)
		for (int i = 0; i < NLEFT; i++) {
			struct obj *o = leftovers[w->round - 1][w->id ^ 1][i];
			if (o)
				check_and_free(o);
		}

	for (unsigned long it = 0; it < iters && !atomic_load(&stress_failed); it++) {
		unsigned slot = (unsigned)(rnd(&s) % NSLOTS);
		struct obj *o = atomic_exchange(&slots[slot], NULL);
		if (o) {
			if (rnd(&s) % 8 == 0)
				o = grow_or_shrink(o, &s);
			else {
				check_and_free(o);
				o = NULL;
			}
		}
		if (!o)
			o = new_obj(rand_size(&s));
		if (!o)
			break;
		struct obj *old = atomic_exchange(&slots[slot], o);
		if (old)
			check_and_free(old);

		if (it % 512 == 0) { /* private same-thread churn */
			for (int i = 0; i < BATCH; i++)
				batch[i] = new_obj(sizeof(struct obj) + rnd(&s) % 300);
			for (int i = 0; i < BATCH; i += 2)
				if (batch[i])
					check_and_free(batch[i]);
			for (int i = 1; i < BATCH; i += 2)
				if (batch[i])
					check_and_free(batch[i]);
			void *z = hak_malloc(0); /* malloc(0) in the mix */
			if (!z)
				stress_fail("malloc(0) failed", NULL, 0, 0);
			hak_free(z);
		}
	}
	/* exit with live objects for the next round to free */
	for (int i = 0; i < NLEFT; i++)
		leftovers[w->round][w->id][i] =
			atomic_load(&stress_failed) ? NULL : new_obj(rand_size(&s) % 4096 + sizeof(struct obj));
	return NULL;
}

START_TEST(test_stress)
{
	const char *env = getenv("TEST_STRESS_ITERS");
	if (env && *env)
		iters = strtoul(env, NULL, 10);
	struct hak_stats a, b;
	hak_stats_get(&a);

	for (int r = 0; r < NROUNDS && !atomic_load(&stress_failed); r++) {
		pthread_t t[NTHREADS];
		struct worker w[NTHREADS];
		for (int i = 0; i < NTHREADS; i++) {
			w[i] = (struct worker){ .round = r, .id = i,
				.seed = mix((uint64_t)(r * NTHREADS + i + 1)) | 1 };
			ck_assert(pthread_create(&t[i], NULL, worker, &w[i]) == 0);
		}
		for (int i = 0; i < NTHREADS; i++)
			ck_assert(pthread_join(t[i], NULL) == 0);
	}
	/* main drains what is left: objects of exited threads */
	for (int i = 0; i < NTHREADS; i++)
		for (int k = 0; k < NLEFT; k++)
			if (leftovers[NROUNDS - 1][i][k])
				check_and_free(leftovers[NROUNDS - 1][i][k]);
	for (int i = 0; i < NSLOTS; i++) {
		struct obj *o = atomic_exchange(&slots[i], NULL);
		if (o)
			check_and_free(o);
	}
	hak_stats_get(&b);

	ck_assert_msg(!atomic_load(&stress_failed), "%s", fail_msg);
	if (IS_ENABLED(CONFIG_STATS)) {
		ck_assert_msg(b.remote_frees > a.remote_frees,
			      "no remote frees counted (%llu -> %llu)",
			      a.remote_frees, b.remote_frees);
		ck_assert(b.foreign_frees == a.foreign_frees);
		ck_assert(b.allocs - a.allocs >= iters);
	}
	/* everything is free again: a fresh burst must work */
	void *p = hak_malloc(100);
	ck_assert(p != NULL);
	hak_free(p);
}
END_TEST

static Suite *make_suite(void)
{
	TCase *tc;
	Suite *s = one_tcase_suite("stress", "stress", 120, &tc);

	tcase_add_test(tc, test_stress);
	return s;
}

HAK_TEST_MAIN(make_suite)
