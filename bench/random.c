/* SPDX-License-Identifier: MIT */
/*
 * random: uniformly random sizes in [min, max] with a fixed number of live
 * blocks. Each op frees a randomly chosen live block and allocates a new one
 * of a random size in its place: one malloc+free pair.
 *
 *   random [name=random] [min=16] [max=1040] [live=256] [ops=..] [touch=0]
 *          [seed=1] [quick=1] [reuse=0]
 *
 * touch=1 writes one word in every page of every block, so the pages are
 * resident and peak RSS reflects real use. The runner uses this program for
 * the random (16..1040 B), mid (1..32 KiB), l25 (32 KiB..1 MiB) and large
 * (1..64 MiB) benchmarks. ops=0 runs only the fill and the teardown.
 *
 * reuse=1 (not timed: it calls malloc_usable_size twice per op) reports
 * reuse_pct, the share of mallocs that return the block freed last among
 * those of the same usable size (a size class), when there is one: how
 * often the allocator hands back the block still in cache.
 */
#include "bench.h"

#ifndef BENCH_STANDIN
#include <malloc.h>

/* Last block freed of each usable size, by an open hash on the size. */
#define REUSE_SLOTS 8192
static struct { size_t size; void *last; } reuse_tab[REUSE_SLOTS];
static long reuse_hits, reuse_tries;

static size_t reuse_slot(size_t size)
{
	size_t i = (size >> 4) % REUSE_SLOTS;

	while (reuse_tab[i].size && reuse_tab[i].size != size)
		i = (i + 1) % REUSE_SLOTS;
	reuse_tab[i].size = size;
	return i;
}

static void reuse_freeing(void *p)
{
	reuse_tab[reuse_slot(malloc_usable_size(p))].last = p;
}

static void reuse_got(void *p)
{
	size_t k = reuse_slot(malloc_usable_size(p));

	if (reuse_tab[k].last) {
		reuse_tries++;
		reuse_hits += reuse_tab[k].last == p;
		reuse_tab[k].last = NULL;
	}
}
#else
#define reuse_freeing(p) ((void)(p))
#define reuse_got(p) ((void)(p))
static long reuse_hits, reuse_tries;
#endif

/*
 * ops malloc+free pairs.  Inlined twice, with track a constant: the loop
 * that bench-instr counts (track 0) is the same in the stand-in builds,
 * whose loop cost it subtracts.
 */
static inline __attribute__((always_inline)) void
churn(void **slot, size_t *len, long live, size_t min, size_t max, int touch, long ops,
      uint64_t *rngp, int track)
{
	uint64_t rng = *rngp;

	for (long i = 0; i < ops; i++) {
		size_t j = rng_range(&rng, 0, (uint64_t)live - 1);
		size_t n = rng_range(&rng, min, max);
		bench_check_salt(slot[j], len[j], touch, (uint64_t)j + 1);
		if (track)
			reuse_freeing(slot[j]);
		B_FREE(slot[j]);
		void *p = bench_nonnull(B_MALLOC(n), n);
		if (track)
			reuse_got(p);
		bench_fill_salt(p, n, touch, (uint64_t)j + 1);
		slot[j] = p;
		len[j] = n;
	}
	*rngp = rng;
}

int main(int argc, char **argv)
{
	bench_args_init(argc, argv);
	long quick = bench_arg("quick", 0);
	const char *name = bench_arg_str("name", "random");
	size_t min = (size_t)bench_arg("min", 16);
	size_t max = (size_t)bench_arg("max", 1040);
	long live = bench_arg("live", 256);
	long touch = bench_arg("touch", 0);
	long reuse = bench_arg("reuse", 0);
	long ops = bench_arg("ops", quick ? 5000000 : 20000000);
	uint64_t rng = rng_seed((uint64_t)bench_arg("seed", 1));
	bench_args_done();
	if (live < 1)
		live = 1;
	if (max < min)
		max = min;
	if (max - min >= (1ULL << 32))
		max = min + (1ULL << 32) - 1;

	void **slot = bench_nonnull(malloc((size_t)live * sizeof(void *)), 1);
	size_t *len = bench_nonnull(malloc((size_t)live * sizeof(size_t)), 1);
	B_INIT((size_t)live + 1, (max + 15) & ~(size_t)15);
	for (long i = 0; i < live; i++) {
		len[i] = rng_range(&rng, min, max);
		slot[i] = bench_nonnull(B_MALLOC(len[i]), len[i]);
		bench_fill_salt(slot[i], len[i], (int)touch, (uint64_t)i + 1);
	}

	uint64_t t0 = bench_now_ns();
	if (reuse)
		churn(slot, len, live, min, max, (int)touch, ops, &rng, 1);
	else
		churn(slot, len, live, min, max, (int)touch, ops, &rng, 0);
	uint64_t t1 = bench_now_ns();

	long rss = bench_rss_kib();
	for (long i = 0; i < live; i++) {
		bench_check_salt(slot[i], len[i], (int)touch, (uint64_t)i + 1);
		B_FREE(slot[i]);
	}
	free(len);
	free(slot);
	double secs = bench_secs(t0, t1);
	if (reuse && reuse_tries)
		printf("reuse_pct=%.2f of %ld\n", 100.0 * (double)reuse_hits / (double)reuse_tries,
		       reuse_tries);
	bench_result("bench=%s min=%zu max=%zu live=%ld touch=%ld ops=%ld secs=%.4f mops=%.4g rss_end_kib=%ld",
		     name, min, max, live, touch, ops, secs, bench_mops((double)ops, secs), rss);
	return 0;
}
