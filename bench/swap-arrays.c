/* SPDX-License-Identifier: MIT */
/*
 * swap-arrays: two long-lived threads that trade their whole arrays of
 * blocks at fixed intervals, so that a steady share of frees is remote
 * without any thread exiting.
 *
 *   swap-arrays [slots=1000] [min=16] [max=1024] [every=1000] [ops=..]
 *               [seed=1] [quick=1]
 *
 * Each of 2 threads holds an array of `slots` live blocks and replaces
 * randomly chosen slots (check and free the old block, allocate one of a
 * random size in [min, max], tag it). Every `every` ops the two threads meet
 * and swap arrays, so each one frees blocks the other allocated until it has
 * replaced them. With every = slots, a slot is replaced in a period with
 * chance 1 - 1/e, and in steady state 1 / (1 + 1/e) = 73% of a received
 * array belongs to the sender: (1 - 1/e) * 0.73 = 46% of frees are remote
 * (reported as remote_pct).
 *
 * The meeting makes the faster thread wait on a condition variable, and on
 * a loaded machine a thread waits for a partner that is not running: wall
 * time then measures the scheduler. So secs is the CPU
 * time the two threads spent in their op loops (CLOCK_THREAD_CPUTIME_ID,
 * read at both ends of every period), and mops is ops per thread-CPU-second,
 * as rptest reports it; wall_secs and wall_mops are there too. An op is one
 * malloc+free pair; ops counts both threads together.
 */
#include "bench.h"
#include <pthread.h>
#include <stdatomic.h>

struct arr {
	void **blk;
	uint32_t *len;
	uint8_t *owner;
};

struct thr {
	int id;
	uint64_t rng;
	long ops, remote;
	uint64_t cpu_ns;
	struct arr *mine;
	pthread_t th;
};

static long g_slots, g_every, g_periods;
static size_t g_min, g_max;
static struct arr *g_post[2][2];	/* [period parity][thread] */
static _Alignas(64) atomic_long g_arrived;
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cv = PTHREAD_COND_INITIALIZER;

static uint64_t cpu_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * Hand over `a` and take the partner's array of the same period. The post
 * slots alternate by period, so a partner that runs ahead into the next
 * period cannot overwrite the array not yet taken.
 */
static struct arr *swap_with_partner(int id, long period, struct arr *a)
{
	long target = 2 * (period + 1);

	g_post[period & 1][id] = a;
	pthread_mutex_lock(&g_mu);
	if (atomic_fetch_add_explicit(&g_arrived, 1, memory_order_acq_rel) + 1 == target)
		pthread_cond_signal(&g_cv);
	while (atomic_load_explicit(&g_arrived, memory_order_acquire) < target)
		pthread_cond_wait(&g_cv, &g_mu);
	pthread_mutex_unlock(&g_mu);
	return g_post[period & 1][id ^ 1];
}

static void *worker(void *arg)
{
	struct thr *t = arg;
	struct arr *a = t->mine;
	long remote = 0;
	uint64_t cpu = 0;

	for (long period = 0; period < g_periods; period++) {
		uint64_t c0 = cpu_now_ns();
		for (long i = 0; i < g_every; i++) {
			size_t j = rng_range(&t->rng, 0, (uint64_t)g_slots - 1);
			size_t sz = rng_range(&t->rng, g_min, g_max);
			bench_check_salt(a->blk[j], a->len[j], 0, (uint64_t)j + 1);
			remote += a->owner[j] != t->id;
			free(a->blk[j]);
			void *p = bench_nonnull(malloc(sz), sz);
			bench_fill_salt(p, sz, 0, (uint64_t)j + 1);
			a->blk[j] = p;
			a->len[j] = (uint32_t)sz;
			a->owner[j] = (uint8_t)t->id;
		}
		cpu += cpu_now_ns() - c0;
		a = swap_with_partner(t->id, period, a);
	}
	t->mine = a;
	t->ops = g_periods * g_every;
	t->remote = remote;
	t->cpu_ns = cpu;
	return NULL;
}

int main(int argc, char **argv)
{
	bench_args_init(argc, argv);
	long quick = bench_arg("quick", 0);
	g_slots = bench_arg("slots", 1000);
	g_min = (size_t)bench_arg("min", 16);
	g_max = (size_t)bench_arg("max", 1024);
	g_every = bench_arg("every", 1000);
	long ops = bench_arg("ops", quick ? 2000000 : 20000000);
	uint64_t seed = (uint64_t)bench_arg("seed", 1);
	bench_args_done();
	if (g_slots < 1)
		g_slots = 1;
	if (g_every < 1)
		g_every = 1;
	if (g_max < g_min)
		g_max = g_min;
	if (g_max > UINT32_MAX)
		g_max = UINT32_MAX;
	g_periods = (ops / 2 + g_every - 1) / g_every;

	struct arr arrs[2];
	struct thr thr[2];
	uint64_t rng = rng_seed(seed + 2);
	for (int t = 0; t < 2; t++) {
		struct arr *a = &arrs[t];
		a->blk = bench_nonnull(malloc((size_t)g_slots * sizeof(void *)), 1);
		a->len = bench_nonnull(malloc((size_t)g_slots * sizeof(uint32_t)), 1);
		a->owner = bench_nonnull(malloc((size_t)g_slots), 1);
		thr[t] = (struct thr){ .id = t, .rng = rng_seed(seed + (uint64_t)t), .mine = a };
		/* filled by the main thread: the first frees count as remote */
		for (long i = 0; i < g_slots; i++) {
			size_t sz = rng_range(&rng, g_min, g_max);
			a->blk[i] = bench_nonnull(malloc(sz), sz);
			a->len[i] = (uint32_t)sz;
			a->owner[i] = 2;
			bench_fill_salt(a->blk[i], sz, 0, (uint64_t)i + 1);
		}
	}

	uint64_t t0 = bench_now_ns();
	for (int t = 0; t < 2; t++)
		if (pthread_create(&thr[t].th, NULL, worker, &thr[t]))
			bench_fail("pthread_create failed");
	for (int t = 0; t < 2; t++)
		pthread_join(thr[t].th, NULL);
	uint64_t t1 = bench_now_ns();

	long done = 0, remote = 0;
	uint64_t cpu = 0;
	for (int t = 0; t < 2; t++) {
		done += thr[t].ops;
		remote += thr[t].remote;
		cpu += thr[t].cpu_ns;
	}
	if (thr[0].mine == thr[1].mine)
		bench_fail("both threads ended with the same array");
	for (int t = 0; t < 2; t++) {
		struct arr *a = &arrs[t];
		for (long i = 0; i < g_slots; i++) {
			bench_check_salt(a->blk[i], a->len[i], 0, (uint64_t)i + 1);
			free(a->blk[i]);
		}
		free(a->blk);
		free(a->len);
		free(a->owner);
	}
	double secs = (double)cpu / 1e9, wall = bench_secs(t0, t1);
	bench_result("bench=swap-arrays threads=2 slots=%ld min=%zu max=%zu every=%ld ops=%ld secs=%.4f mops=%.4g remote_pct=%.1f wall_secs=%.4f wall_mops=%.4g",
		     g_slots, g_min, g_max, g_every, done, secs, bench_mops((double)done, secs),
		     done ? 100.0 * (double)remote / (double)done : 0.0, wall,
		     bench_mops((double)done, wall));
	return 0;
}
