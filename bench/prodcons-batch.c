/* SPDX-License-Identifier: MIT */
/*
 * prodcons-batch: threads that only allocate against threads that only free,
 * passing small batches: one of each with the runner's threads=2. xmalloc-test.c
 * has the shape of the original xmalloc-test (2 + 2 threads, batches of 4096
 * blocks of 64 B, a queue 100 batches deep).
 *
 *   prodcons-batch [threads=2] [min=16] [max=256] [batch=64] [ops=..]
 *                  [seed=1] [quick=1]
 *
 * threads/2 allocating threads fill batches of `batch` blocks of random
 * sizes and push them onto a shared, bounded (64 batches), mutex-protected
 * stack; threads/2 freeing threads pop batches, check and free every block.
 * The run ends after `ops` blocks. An op is one block.
 */
#include "bench.h"
#include <pthread.h>

#define MAX_QUEUED 64

struct batch {
	struct batch *next;
	long n;
	void *p[];
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv_put = PTHREAD_COND_INITIALIZER;
static pthread_cond_t cv_get = PTHREAD_COND_INITIALIZER;
static struct batch *stack;
static long queued, producers_left, freed;
static long g_batch;
static size_t g_min, g_max;

struct producer {
	long ops;
	uint64_t rng;
};

static void *alloc_thread(void *arg)
{
	struct producer *pr = arg;
	long left = pr->ops;

	while (left > 0) {
		long n = left < g_batch ? left : g_batch;
		size_t bsz = sizeof(struct batch) + (size_t)n * sizeof(void *);
		struct batch *b = bench_nonnull(malloc(bsz), bsz);
		b->n = n;
		for (long i = 0; i < n; i++) {
			size_t sz = rng_range(&pr->rng, g_min, g_max);
			b->p[i] = bench_nonnull(malloc(sz), sz);
			bench_fill(b->p[i], sz, 0);
			/* the size lives in the block's first bytes after the tag */
			if (sz >= 16)
				memcpy((char *)b->p[i] + 8, &sz, sizeof(sz) < 8 ? sizeof(sz) : 8);
		}
		left -= n;
		pthread_mutex_lock(&mu);
		while (queued >= MAX_QUEUED)
			pthread_cond_wait(&cv_put, &mu);
		b->next = stack;
		stack = b;
		queued++;
		pthread_cond_signal(&cv_get);
		pthread_mutex_unlock(&mu);
	}
	pthread_mutex_lock(&mu);
	producers_left--;
	pthread_cond_broadcast(&cv_get);
	pthread_mutex_unlock(&mu);
	return NULL;
}

static void *free_thread(void *arg)
{
	long mine = 0;

	(void)arg;
	for (;;) {
		pthread_mutex_lock(&mu);
		while (!stack && producers_left > 0)
			pthread_cond_wait(&cv_get, &mu);
		struct batch *b = stack;
		if (!b) {
			freed += mine;
			pthread_mutex_unlock(&mu);
			return NULL;
		}
		stack = b->next;
		queued--;
		pthread_cond_signal(&cv_put);
		pthread_mutex_unlock(&mu);
		for (long i = 0; i < b->n; i++) {
			size_t sz;
			memcpy(&sz, (char *)b->p[i] + 8, sizeof(sz));
			if (sz < g_min || sz > g_max)
				bench_fail("block %p: size field overwritten", b->p[i]);
			/* the size field replaced part of the body, not the tags */
			bench_check(b->p[i], sz, 0);
			free(b->p[i]);
		}
		mine += b->n;
		free(b);
	}
}

int main(int argc, char **argv)
{
	bench_args_init(argc, argv);
	long quick = bench_arg("quick", 0);
	long nthreads = bench_arg("threads", 2);
	g_min = (size_t)bench_arg("min", 16);
	g_max = (size_t)bench_arg("max", 256);
	g_batch = bench_arg("batch", 64);
	long ops = bench_arg("ops", quick ? 1000000 : 10000000);
	uint64_t seed = (uint64_t)bench_arg("seed", 1);
	bench_args_done();
	long half = nthreads / 2 > 0 ? nthreads / 2 : 1;
	if (g_min < 24)
		g_min = 24;	/* room for head tag, size field, tail tag */
	if (g_max < g_min)
		g_max = g_min;
	if (g_batch < 1)
		g_batch = 1;

	struct producer *pr = bench_nonnull(calloc((size_t)half, sizeof(*pr)), 1);
	pthread_t *th = bench_nonnull(malloc((size_t)half * 2 * sizeof(pthread_t)), 1);
	producers_left = half;
	for (long i = 0; i < half; i++) {
		pr[i].ops = ops / half + (i < ops % half);
		pr[i].rng = rng_seed(seed + (uint64_t)i);
	}

	uint64_t t0 = bench_now_ns();
	for (long i = 0; i < half; i++) {
		if (pthread_create(&th[2 * i], NULL, free_thread, NULL) ||
		    pthread_create(&th[2 * i + 1], NULL, alloc_thread, &pr[i]))
			bench_fail("pthread_create failed");
	}
	for (long i = 0; i < 2 * half; i++)
		pthread_join(th[i], NULL);
	uint64_t t1 = bench_now_ns();

	if (freed != ops)
		bench_fail("freed %ld blocks, allocated %ld", freed, ops);
	free(th);
	free(pr);
	double secs = bench_secs(t0, t1);
	bench_result("bench=prodcons-batch threads=%ld min=%zu max=%zu batch=%ld ops=%ld secs=%.4f mops=%.4g",
		     half * 2, g_min, g_max, g_batch, ops, secs, bench_mops((double)ops, secs));
	return 0;
}
