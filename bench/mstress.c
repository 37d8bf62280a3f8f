/* SPDX-License-Identifier: MIT */
/*
 * mstress: thread churn with objects that outlive their thread, shaped like
 * mimalloc's stress test (mimalloc-bench's mstress) with its own defaults:
 * 32 threads, scale 50, 10 iterations.
 *
 *   mstress [threads=32] [scale=50] [iter=10] [seed=1] [quick=1]
 *
 * Every iteration starts `threads` threads and joins them. Thread i makes
 * 100 * scale * (i % 8 + 1) working objects and half as many retained ones,
 * choosing at random between the two (working first while both are left).
 * After each one it frees a random working object (66%) and swaps a random
 * working object with a random slot of a shared array of 1000 (25%, an
 * atomic exchange): objects pass between threads this way. At its end a
 * thread frees what it holds; what sits in the shared array stays. After the
 * join the main thread frees each shared slot with a chance of one half (all
 * of them after the last iteration), so the rest outlives its thread and is
 * freed by a thread of a later iteration or by main.
 * Sizes are powers of two: working objects 1..16 words, retained ones 1..64
 * words; about 2% of objects are 100 times larger, of those about 11% are
 * 1,000 times and 2% 10,000 times larger (up to 5 MiB). Every word of an
 * object is written, and checked before it is freed. The list of working
 * objects grows by realloc in steps of 100,000 pointers.
 * An op is one object (one malloc and its free); secs is the wall time of
 * all iterations. The runner records peak RSS, the figure to watch here.
 */
#include "bench.h"
#include <pthread.h>
#include <stdatomic.h>

#define TRANSFERS 1000

static _Atomic(uintptr_t *) transfer[TRANSFERS];
static long g_scale;
static atomic_long g_objs;

/* true with probability (perc + 1) / 100, as in the original */
static int chance(int perc, uint64_t *r)
{
	return (int)(rng_next(r) % 100) <= perc;
}

static uintptr_t *alloc_words(size_t words, uint64_t *r)
{
	if (chance(1, r)) {
		if (chance(1, r))
			words *= 10000;
		else if (chance(10, r))
			words *= 1000;
		else
			words *= 100;
	}
	uintptr_t *p = bench_nonnull(malloc(words * sizeof(uintptr_t)), words * sizeof(uintptr_t));
	uintptr_t cookie = (uintptr_t)bench_tag(p, 0);
	for (size_t i = 0; i < words; i++)
		p[i] = (words - i) ^ cookie;
	return p;
}

static void free_words(uintptr_t *p)
{
	if (!p)
		return;
	uintptr_t cookie = (uintptr_t)bench_tag(p, 0);
	size_t words = p[0] ^ cookie;
	if (words == 0 || words > 64 * 10000)
		bench_fail("block %p: length word overwritten", (void *)p);
	for (size_t i = 1; i < words; i++)
		if ((p[i] ^ cookie) != words - i)
			bench_fail("block %p (%zu words): word %zu overwritten", (void *)p, words, i);
	free(p);
}

struct worker {
	long tid;
	uint64_t rng;
	pthread_t th;
};

static void *stress(void *arg)
{
	struct worker *w = arg;
	uint64_t *r = &w->rng;
	size_t allocs = (size_t)(100 * g_scale * (w->tid % 8 + 1));
	size_t retain = allocs / 2, made = allocs + retain;
	uintptr_t **data = NULL, **kept;
	size_t data_size = 0, data_top = 0, kept_top = 0;

	kept = bench_nonnull(malloc(retain * sizeof(*kept) + 1), 1);
	while (allocs > 0 || retain > 0) {
		if (retain == 0 || (chance(50, r) && allocs > 0)) {
			allocs--;
			if (data_top >= data_size) {
				data_size += 100000;
				data = bench_nonnull(realloc(data, data_size * sizeof(*data)), 1);
			}
			data[data_top++] = alloc_words((size_t)1 << (rng_next(r) % 5), r);
		} else {
			retain--;
			kept[kept_top++] = alloc_words((size_t)1 << (rng_next(r) % 7), r);
		}
		if (chance(66, r) && data_top > 0) {
			size_t i = rng_next(r) % data_top;
			free_words(data[i]);
			data[i] = NULL;
		}
		if (chance(25, r) && data_top > 0) {
			size_t i = rng_next(r) % data_top;
			size_t k = rng_next(r) % TRANSFERS;
			data[i] = atomic_exchange_explicit(&transfer[k], data[i], memory_order_acq_rel);
		}
	}
	for (size_t i = 0; i < kept_top; i++)
		free_words(kept[i]);
	for (size_t i = 0; i < data_top; i++)
		free_words(data[i]);
	free(kept);
	free(data);
	atomic_fetch_add(&g_objs, (long)made);
	return NULL;
}

int main(int argc, char **argv)
{
	bench_args_init(argc, argv);
	long quick = bench_arg("quick", 0);
	long nthreads = bench_arg("threads", 32);
	g_scale = bench_arg("scale", quick ? 3 : 50);
	long iter = bench_arg("iter", quick ? 2 : 10);
	uint64_t seed = (uint64_t)bench_arg("seed", 1);
	bench_args_done();
	if (nthreads < 1)
		nthreads = 1;

	struct worker *w = bench_nonnull(calloc((size_t)nthreads, sizeof(*w)), 1);
	uint64_t rng = rng_seed(seed);

	uint64_t t0 = bench_now_ns();
	for (long n = 0; n < iter; n++) {
		for (long i = 0; i < nthreads; i++) {
			w[i].tid = i;
			w[i].rng = rng_seed(rng_next(&rng));
			if (pthread_create(&w[i].th, NULL, stress, &w[i]))
				bench_fail("pthread_create failed");
		}
		for (long i = 0; i < nthreads; i++)
			pthread_join(w[i].th, NULL);
		for (long k = 0; k < TRANSFERS; k++)
			if (chance(50, &rng) || n + 1 == iter)
				free_words(atomic_exchange(&transfer[k], NULL));
	}
	uint64_t t1 = bench_now_ns();

	free(w);
	long ops = atomic_load(&g_objs);
	double secs = bench_secs(t0, t1);
	bench_result("bench=mstress threads=%ld scale=%ld iter=%ld ops=%ld secs=%.4f mops=%.4g",
		     nthreads, g_scale, iter, ops, secs, bench_mops((double)ops, secs));
	return 0;
}
