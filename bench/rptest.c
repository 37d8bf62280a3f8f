/* SPDX-License-Identifier: MIT */
/*
 * rptest: the random cross-thread test of rpmalloc-benchmark, as
 * mimalloc-bench runs it (`rptest N 0 1 2 500 1000 100 8 16000`: random
 * sizes with a linear drop-off, a cross-thread batch every 2nd loop, 500
 * loops, 1000 slots, 100 ops per loop, 8..16000 bytes).
 *
 *   rptest [threads=2] [min=8] [max=16000] [slots=1000] [loops=500]
 *          [opcount=100] [cross=2] [iters=2] [rounds=..] [seed=1] [quick=1]
 *
 * Each of `rounds` rounds starts `threads` threads that run `iters`
 * iterations of `loops` loops. In a loop a thread
 *  1. frees 0.8 * opcount * (30..99%) of its slots (walking them with one
 *     prime stride, skipping empty ones),
 *  2. frees every batch other threads sent it,
 *  3. fills opcount * (30..99%) slots (another prime stride), freeing what a
 *     slot held first,
 *  4. every `cross`-th loop, allocates as many blocks again into a batch
 *     (itself two blocks: header and array of pointers and sizes) and sends it to the next
 *     thread, which frees it (stops once any thread has finished its loops).
 * After its loops a thread frees the batches it is still sent until every
 * thread is done, then frees all its slots. Sizes are min + (max - min) * u *
 * t with u uniform and t of density 2(1 - t) on [0, 1]: most blocks are small
 * and a few reach 16 KB. As in the original every block is written whole:
 * below 4096 bytes the allocation cycles through calloc, memalign(8) +
 * memset and memalign(16) + memset, from 4096 bytes it is calloc.
 * An op is one allocation or one free ("memory op"); secs adds up each
 * thread's timed loops (the original's ticks), so mops is memory ops per
 * thread-second, the original's "memory ops/CPU second". wall_secs is the
 * wall time of all rounds.
 */
#include "bench.h"
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

struct item {
	void *p;
	size_t n;
};

struct xbatch {
	struct xbatch *next;
	long count;
	struct item *it;
};

struct thr {
	_Alignas(64) _Atomic(struct xbatch *) inbox;
	long idx;
	uint64_t rng;
	long ops;
	uint64_t ns;
	pthread_t th;
};

static struct thr *g_thr;
static long g_threads, g_slots, g_loops, g_opcount, g_cross, g_iters;
static size_t g_min, g_max;
static long g_alloc_stride, g_free_stride;
static atomic_long g_finished;	/* threads done with this iteration's loops */
static pthread_barrier_t g_bar;

static double rng_unit(uint64_t *s)
{
	return (double)(rng_next(s) >> 11) * (1.0 / 9007199254740992.0);
}

static size_t pick_size(uint64_t *s)
{
	double u = rng_unit(s), a = rng_unit(s), b = rng_unit(s);
	double t = 1.0 - a - b;

	if (t < 0)
		t = -t;
	return g_min + (size_t)((double)(g_max - g_min) * u * t);
}

/* calloc, or memalign + memset, as the original's benchmark_malloc does. */
static void *rp_alloc(size_t n, unsigned k)
{
	void *p;

	if (n >= 4096 || k % 3 == 0) {
		p = bench_nonnull(calloc(1, n), n);
	} else {
		p = bench_nonnull(memalign(k % 3 == 1 ? 8 : 16, n), n);
		memset(p, 0xCD, n);
	}
	return p;
}

static void rp_free(void *p, size_t n, uint64_t salt)
{
	bench_check_salt(p, n, 0, salt);
	free(p);
}

static void free_batches(struct thr *t, struct xbatch *b)
{
	while (b) {
		struct xbatch *next = b->next;
		for (long i = 0; i < b->count; i++)
			rp_free(b->it[i].p, b->it[i].n, 0);
		t->ops += b->count;
		free(b->it);
		free(b);
		t->ops += 2;
		b = next;
	}
}

static void send_batch(struct thr *to, struct xbatch *b)
{
	struct xbatch *head = atomic_load_explicit(&to->inbox, memory_order_relaxed);

	do
		b->next = head;
	while (!atomic_compare_exchange_weak_explicit(&to->inbox, &head, b,
						      memory_order_release, memory_order_relaxed));
}

static struct xbatch *take_batches(struct thr *t)
{
	if (!atomic_load_explicit(&t->inbox, memory_order_relaxed))
		return NULL;
	return atomic_exchange_explicit(&t->inbox, NULL, memory_order_acquire);
}

static void *worker(void *arg)
{
	struct thr *t = arg;
	void **slot = bench_nonnull(calloc((size_t)g_slots, sizeof(void *)), 1);
	uint32_t *len = bench_nonnull(calloc((size_t)g_slots, sizeof(uint32_t)), 1);
	long alloc_idx = 0, free_idx = 0, cross_to = t->idx;
	unsigned k = 0;

	for (long it = 0; it < g_iters; it++) {
		int do_cross = g_threads > 1 && g_cross > 0;

		for (long loop = 0; loop < g_loops; loop++) {
			long nfree = (long)(0.8 * (double)g_opcount * (double)rng_range(&t->rng, 30, 99) / 100.0);
			long nalloc = (long)((double)g_opcount * (double)rng_range(&t->rng, 30, 99) / 100.0);
			uint64_t t0 = bench_now_ns();

			for (long i = 0; i < nfree; i++) {
				if (slot[free_idx]) {
					rp_free(slot[free_idx], len[free_idx], (uint64_t)free_idx + 1);
					slot[free_idx] = NULL;
					t->ops++;
				}
				free_idx = (free_idx + g_free_stride) % g_slots;
			}
			free_batches(t, take_batches(t));
			for (long i = 0; i < nalloc; i++) {
				if (slot[alloc_idx]) {
					rp_free(slot[alloc_idx], len[alloc_idx], (uint64_t)alloc_idx + 1);
					t->ops++;
				}
				size_t n = pick_size(&t->rng);
				slot[alloc_idx] = rp_alloc(n, k++);
				len[alloc_idx] = (uint32_t)n;
				bench_fill_salt(slot[alloc_idx], n, 0, (uint64_t)alloc_idx + 1);
				t->ops++;
				alloc_idx = (alloc_idx + g_alloc_stride) % g_slots;
			}
			struct xbatch *b = NULL;
			if (do_cross && loop % g_cross == 0) {
				b = rp_alloc(sizeof(*b), 2);
				b->count = nalloc;
				b->it = rp_alloc((size_t)nalloc * sizeof(struct item), 2);
				t->ops += 2;
				for (long i = 0; i < nalloc; i++) {
					size_t n = pick_size(&t->rng);
					b->it[i].p = rp_alloc(n, k++);
					b->it[i].n = n;
					bench_fill_salt(b->it[i].p, n, 0, 0);
					t->ops++;
				}
			}
			t->ns += bench_now_ns() - t0;
			if (b) {
				cross_to = (cross_to + 1) % g_threads;
				if (cross_to == t->idx)
					cross_to = (cross_to + 1) % g_threads;
				send_batch(&g_thr[cross_to], b);
			}
			if (atomic_load_explicit(&g_finished, memory_order_relaxed) > 0)
				do_cross = 0;	/* another thread is done: stop sending */
		}

		/* Free what others still send until all are done, then the slots. */
		atomic_fetch_add(&g_finished, 1);
		while (atomic_load(&g_finished) < g_threads) {
			uint64_t t0 = bench_now_ns();
			struct xbatch *b = take_batches(t);
			if (b) {
				free_batches(t, b);
				t->ns += bench_now_ns() - t0;
			} else {
				sched_yield();
			}
		}
		uint64_t t0 = bench_now_ns();
		free_batches(t, take_batches(t));
		for (long i = 0; i < g_slots; i++) {
			if (slot[i]) {
				rp_free(slot[i], len[i], (uint64_t)i + 1);
				slot[i] = NULL;
				t->ops++;
			}
		}
		t->ns += bench_now_ns() - t0;
		/* nobody sends any more: reset the count for the next iteration */
		pthread_barrier_wait(&g_bar);
		if (t->idx == 0)
			atomic_store(&g_finished, 0);
		pthread_barrier_wait(&g_bar);
	}
	free(slot);
	free(len);
	return NULL;
}

static long stride_for(long n, long after)
{
	static const long primes[] = { 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47 };

	for (size_t i = 0; i < sizeof(primes) / sizeof(primes[0]); i++)
		if (primes[i] > after && n % primes[i] != 0)
			return primes[i];
	return 1;
}

int main(int argc, char **argv)
{
	bench_args_init(argc, argv);
	long quick = bench_arg("quick", 0);
	g_threads = bench_arg("threads", 2);
	g_min = (size_t)bench_arg("min", 8);
	g_max = (size_t)bench_arg("max", 16000);
	g_slots = bench_arg("slots", 1000);
	g_loops = bench_arg("loops", 500);
	g_opcount = bench_arg("opcount", 100);
	g_cross = bench_arg("cross", 2);
	g_iters = bench_arg("iters", 2);
	long rounds = bench_arg("rounds", quick ? 1 : 20);
	uint64_t seed = (uint64_t)bench_arg("seed", 1);
	bench_args_done();
	if (g_threads < 1)
		g_threads = 1;
	if (g_slots < 1)
		g_slots = 1;
	if (g_max < g_min)
		g_max = g_min;
	if (g_max > UINT32_MAX)
		g_max = UINT32_MAX;
	g_alloc_stride = stride_for(g_slots, 0);
	g_free_stride = stride_for(g_slots, g_alloc_stride);

	g_thr = bench_nonnull(aligned_alloc(64, (size_t)g_threads * sizeof(*g_thr)), 1);
	memset(g_thr, 0, (size_t)g_threads * sizeof(*g_thr));
	if (pthread_barrier_init(&g_bar, NULL, (unsigned)g_threads))
		bench_fail("pthread_barrier_init failed");
	uint64_t rng = rng_seed(seed);
	long ops = 0;
	uint64_t ns = 0;

	uint64_t w0 = bench_now_ns();
	for (long r = 0; r < rounds; r++) {
		for (long i = 0; i < g_threads; i++) {
			struct thr *t = &g_thr[i];
			atomic_store(&t->inbox, NULL);
			t->idx = i;
			t->rng = rng_seed(rng_next(&rng));
			t->ops = 0;
			t->ns = 0;
			if (pthread_create(&t->th, NULL, worker, t))
				bench_fail("pthread_create failed");
		}
		for (long i = 0; i < g_threads; i++) {
			pthread_join(g_thr[i].th, NULL);
			if (atomic_load(&g_thr[i].inbox))
				bench_fail("thread %ld ended with batches unfreed", i);
			ops += g_thr[i].ops;
			ns += g_thr[i].ns;
		}
	}
	uint64_t w1 = bench_now_ns();

	pthread_barrier_destroy(&g_bar);
	free(g_thr);
	double secs = (double)ns / 1e9;
	bench_result("bench=rptest threads=%ld min=%zu max=%zu slots=%ld loops=%ld opcount=%ld cross=%ld iters=%ld rounds=%ld ops=%ld secs=%.4f mops=%.4g wall_secs=%.4f",
		     g_threads, g_min, g_max, g_slots, g_loops, g_opcount, g_cross, g_iters, rounds,
		     ops, secs, bench_mops((double)ops, secs), bench_secs(w0, w1));
	return 0;
}
