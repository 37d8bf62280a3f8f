/* SPDX-License-Identifier: MIT */
/*
 * cscratch: allocator-induced false sharing, in the manner of cache-scratch
 * (passive) and cache-thrash (active) from the Hoard suite.
 *
 *   cscratch [mode=passive|active] [threads=2] [size=8] [rounds=10000]
 *            [reps=5000] [quick=1]
 *
 * passive: the main thread allocates one small block per thread, likely on
 *   one cache line, and hands them out. Each thread frees its block and then
 *   repeatedly allocates a block, writes every byte `reps` times, checks it
 *   and frees it. An allocator that hands a freed neighbour's memory to
 *   another thread makes the threads share a cache line.
 * active: the same loop without the initial hand-out: an allocator that
 *   serves different threads from one cache line causes the sharing itself.
 * An op is one malloc+free pair (each with size*reps writes).
 */
#include "bench.h"
#include <pthread.h>

struct worker {
	void *first;
	size_t size;
	long rounds, reps;
};

static void *work(void *arg)
{
	struct worker *w = arg;

	if (w->first) {
		bench_check(w->first, w->size, 0);
		free(w->first);
	}
	for (long r = 0; r < w->rounds; r++) {
		volatile unsigned char *p = bench_nonnull(malloc(w->size), w->size);
		for (size_t k = 0; k < w->size; k++)
			p[k] = (unsigned char)k;
		for (long i = 0; i < w->reps; i++)
			for (size_t k = 0; k < w->size; k++)
				p[k]++;
		for (size_t k = 0; k < w->size; k++)
			if (p[k] != (unsigned char)(k + (size_t)w->reps))
				bench_fail("block %p byte %zu: got %u, expected %u", (void *)p, k,
					   p[k], (unsigned char)(k + (size_t)w->reps));
		free((void *)p);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	bench_args_init(argc, argv);
	long quick = bench_arg("quick", 0);
	const char *mode = bench_arg_str("mode", "passive");
	long nthreads = bench_arg("threads", 2);
	size_t size = (size_t)bench_arg("size", 8);
	long rounds = bench_arg("rounds", quick ? 2000 : 10000);
	long reps = bench_arg("reps", 5000);
	bench_args_done();
	int passive;
	if (!strcmp(mode, "passive"))
		passive = 1;
	else if (!strcmp(mode, "active"))
		passive = 0;
	else {
		fprintf(stderr, "bench: mode must be passive or active\n");
		return 2;
	}
	if (nthreads < 1)
		nthreads = 1;
	if (size < 1)
		size = 1;

	struct worker *w = bench_nonnull(calloc((size_t)nthreads, sizeof(*w)), 1);
	pthread_t *th = bench_nonnull(malloc((size_t)nthreads * sizeof(pthread_t)), 1);
	for (long i = 0; i < nthreads; i++) {
		w[i].size = size;
		w[i].rounds = rounds;
		w[i].reps = reps;
		if (passive) {
			w[i].first = bench_nonnull(malloc(size), size);
			bench_fill(w[i].first, size, 0);
		}
	}

	uint64_t t0 = bench_now_ns();
	for (long i = 0; i < nthreads; i++)
		if (pthread_create(&th[i], NULL, work, &w[i]))
			bench_fail("pthread_create failed");
	for (long i = 0; i < nthreads; i++)
		pthread_join(th[i], NULL);
	uint64_t t1 = bench_now_ns();

	free(th);
	free(w);
	double secs = bench_secs(t0, t1);
	long ops = nthreads * rounds;
	bench_result("bench=cscratch-%s threads=%ld size=%zu rounds=%ld reps=%ld ops=%ld secs=%.4f mops=%.4g",
		     mode, nthreads, size, rounds, reps, ops, secs, bench_mops((double)ops, secs));
	return 0;
}
