/* SPDX-License-Identifier: MIT */
/*
 * threadexit: threads that exit while holding blocks, freed by other threads.
 *
 *   threadexit [threads=2] [rounds=200] [objs=2000] [min=16] [max=4096]
 *              [seed=1] [quick=1]
 *
 * In each round `threads` new threads start. Thread i first frees every block
 * that thread i+1 of the previous round allocated (those threads have exited,
 * so these are frees into an orphaned heap), then allocates `objs` blocks of
 * its own and exits holding them. The main thread frees the last round's
 * blocks. An op is one block (one malloc+free pair). rss_end_kib is the
 * resident size after everything was freed.
 */
#include "bench.h"
#include <pthread.h>

struct slotset {
	void **p;
	size_t *n;
};

struct worker {
	struct slotset *mine, *victim;
	long objs;
	size_t min, max;
	uint64_t rng;
};

static void *work(void *arg)
{
	struct worker *w = arg;

	if (w->victim) {
		for (long i = 0; i < w->objs; i++) {
			bench_check(w->victim->p[i], w->victim->n[i], 0);
			free(w->victim->p[i]);
		}
	}
	for (long i = 0; i < w->objs; i++) {
		size_t n = rng_range(&w->rng, w->min, w->max);
		w->mine->p[i] = bench_nonnull(malloc(n), n);
		w->mine->n[i] = n;
		bench_fill(w->mine->p[i], n, 0);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	bench_args_init(argc, argv);
	long quick = bench_arg("quick", 0);
	long nthreads = bench_arg("threads", 2);
	long rounds = bench_arg("rounds", quick ? 40 : 400);
	long objs = bench_arg("objs", 2000);
	size_t min = (size_t)bench_arg("min", 16);
	size_t max = (size_t)bench_arg("max", 4096);
	uint64_t seed = (uint64_t)bench_arg("seed", 1);
	bench_args_done();
	if (nthreads < 1)
		nthreads = 1;
	if (max < min)
		max = min;

	/* two generations of slot sets: the one being filled and the victims */
	struct slotset *set[2];
	for (int g = 0; g < 2; g++) {
		set[g] = bench_nonnull(calloc((size_t)nthreads, sizeof(struct slotset)), 1);
		for (long i = 0; i < nthreads; i++) {
			set[g][i].p = bench_nonnull(malloc((size_t)objs * sizeof(void *)), 1);
			set[g][i].n = bench_nonnull(malloc((size_t)objs * sizeof(size_t)), 1);
		}
	}
	struct worker *w = bench_nonnull(calloc((size_t)nthreads, sizeof(*w)), 1);
	pthread_t *th = bench_nonnull(malloc((size_t)nthreads * sizeof(pthread_t)), 1);
	uint64_t rng = rng_seed(seed);

	uint64_t t0 = bench_now_ns();
	for (long r = 0; r < rounds; r++) {
		struct slotset *cur = set[r & 1], *old = set[(r + 1) & 1];
		for (long i = 0; i < nthreads; i++) {
			w[i].mine = &cur[i];
			w[i].victim = r ? &old[(i + 1) % nthreads] : NULL;
			w[i].objs = objs;
			w[i].min = min;
			w[i].max = max;
			w[i].rng = rng_seed(rng_next(&rng));
			if (pthread_create(&th[i], NULL, work, &w[i]))
				bench_fail("pthread_create failed");
		}
		for (long i = 0; i < nthreads; i++)
			pthread_join(th[i], NULL);
	}
	if (rounds) {
		struct slotset *last = set[(rounds - 1) & 1];
		for (long i = 0; i < nthreads; i++)
			for (long k = 0; k < objs; k++) {
				bench_check(last[i].p[k], last[i].n[k], 0);
				free(last[i].p[k]);
			}
	}
	uint64_t t1 = bench_now_ns();

	long rss = bench_rss_kib();
	for (int g = 0; g < 2; g++) {
		for (long i = 0; i < nthreads; i++) {
			free(set[g][i].p);
			free(set[g][i].n);
		}
		free(set[g]);
	}
	free(th);
	free(w);
	double secs = bench_secs(t0, t1);
	long ops = rounds * nthreads * objs;
	bench_result("bench=threadexit threads=%ld rounds=%ld objs=%ld min=%zu max=%zu ops=%ld secs=%.4f mops=%.4g rss_end_kib=%ld",
		     nthreads, rounds, objs, min, max, ops, secs, bench_mops((double)ops, secs), rss);
	return 0;
}
