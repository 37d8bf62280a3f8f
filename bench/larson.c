/* SPDX-License-Identifier: MIT */
/*
 * larson: server-style churn with threads that hand their blocks on, after
 * Larson & Krishnan, in the shape mimalloc-bench runs the original
 * (`larson 5 8 1000 5000 100 4141 N`).
 *
 *   larson [threads=2] [slots=5000] [min=8] [max=1000] [rounds=100] [life=..]
 *          [warmup=1] [time_ms=2000] [join=0] [ops=..] [seed=1] [quick=1]
 *
 * Each of `threads` chains owns an array of `slots` live blocks. A worker
 * thread replaces randomly chosen slots (free the old block, allocate a new
 * one of a random size in [min, max]) for `life` ops (rounds * slots by
 * default), then starts a fresh thread, hands it the slot array and exits.
 * Blocks the new thread frees that its predecessor allocated are remote
 * frees.
 *
 * join=0 (the original's): threads are detached and the successor starts
 * at once, while its predecessor is still on its way out (thread-exit
 * handlers, the allocator's heap teardown). join=1: the successor first
 * joins its predecessor, so it starts after the predecessor is gone.
 *
 * warmup=1 (the original's): before the workers start, the main thread
 * allocates every chain's blocks, shuffles them across the chains and churns
 * the whole set 4 times over, so the first workers free blocks of the main
 * thread.
 * time_ms > 0 (the original's): the run lasts that long; every worker checks
 * a stop flag after each op, and ops is what they did by then. time_ms=0
 * runs exactly `ops` ops instead (all chains together).
 *
 * With the defaults a thread lives 500,000 ops and about 1% of frees are
 * remote. larson-short in scripts/bench.sh is
 * `life=9100 warmup=0 time_ms=0 join=1`: threads live 1.82 * slots ops and
 * about 46% of frees are remote. The exact share is reported as
 * remote_pct. An op is one malloc+free pair.
 */
#include "bench.h"
#include <pthread.h>
#include <stdatomic.h>

struct chain {
	void **blk;
	uint32_t *len;
	uint32_t *owner;
	long base;		/* index of blk[0] in the global arrays: salt base */
	long slots, life, ops_left;
	size_t min, max;
	uint64_t rng;
	long frees, remote, threads;
	pthread_t prev, last;
	int has_prev;
};

static atomic_uint owner_seq;
static atomic_int stop;
static int timed, join;
static pthread_attr_t detached;
static pthread_mutex_t done_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done_cv = PTHREAD_COND_INITIALIZER;
static long chains_done;

static void *worker(void *arg)
{
	struct chain *c = arg;
	uint32_t me = atomic_fetch_add(&owner_seq, 1) + 1;
	long n = timed || c->ops_left > c->life ? c->life : c->ops_left;
	long remote = 0, i;

	if (join && c->has_prev)
		pthread_join(c->prev, NULL);
	c->threads++;
	for (i = 0; i < n; i++) {
		size_t j = rng_range(&c->rng, 0, (uint64_t)c->slots - 1);
		size_t sz = rng_range(&c->rng, c->min, c->max);
		uint64_t salt = (uint64_t)(c->base + (long)j) + 1;
		bench_check_salt(c->blk[j], c->len[j], 0, salt);
		remote += c->owner[j] != me;
		free(c->blk[j]);
		void *p = bench_nonnull(malloc(sz), sz);
		bench_fill_salt(p, sz, 0, salt);
		c->blk[j] = p;
		c->len[j] = (uint32_t)sz;
		c->owner[j] = me;
		if (timed && atomic_load_explicit(&stop, memory_order_relaxed)) {
			i++;
			break;
		}
	}
	c->frees += i;
	c->remote += remote;
	c->ops_left -= i;
	if (timed ? !atomic_load(&stop) : c->ops_left > 0) {
		pthread_t t;
		c->prev = pthread_self();
		c->has_prev = 1;
		if (pthread_create(&t, join ? NULL : &detached, worker, c) != 0)
			bench_fail("pthread_create failed");
	} else {
		c->last = pthread_self();
		pthread_mutex_lock(&done_mu);
		chains_done++;
		pthread_cond_signal(&done_cv);
		pthread_mutex_unlock(&done_mu);
	}
	return NULL;
}

/* The original's warm-up, in the main thread: shuffle, then churn 4x. */
static void warm_up(void **blk, uint32_t *len, long total, size_t min, size_t max,
		    uint64_t *rng)
{
	for (long i = total - 1; i > 0; i--) {
		long j = (long)rng_range(rng, 0, (uint64_t)i);
		void *p = blk[j];
		uint32_t n = len[j];
		bench_check_salt(blk[i], len[i], 0, (uint64_t)i + 1);
		bench_check_salt(p, n, 0, (uint64_t)j + 1);
		blk[j] = blk[i];
		len[j] = len[i];
		blk[i] = p;
		len[i] = n;
		bench_fill_salt(blk[i], len[i], 0, (uint64_t)i + 1);
		bench_fill_salt(blk[j], len[j], 0, (uint64_t)j + 1);
	}
	for (long k = 0; k < 4 * total; k++) {
		long j = (long)rng_range(rng, 0, (uint64_t)total - 1);
		size_t sz = rng_range(rng, min, max);
		bench_check_salt(blk[j], len[j], 0, (uint64_t)j + 1);
		free(blk[j]);
		blk[j] = bench_nonnull(malloc(sz), sz);
		len[j] = (uint32_t)sz;
		bench_fill_salt(blk[j], sz, 0, (uint64_t)j + 1);
	}
}

int main(int argc, char **argv)
{
	bench_args_init(argc, argv);
	long quick = bench_arg("quick", 0);
	long nthreads = bench_arg("threads", 2);
	long slots = bench_arg("slots", 5000);
	size_t min = (size_t)bench_arg("min", 8);
	size_t max = (size_t)bench_arg("max", 1000);
	long rounds = bench_arg("rounds", 100);
	long life = bench_arg("life", slots * rounds);
	long warmup = bench_arg("warmup", 1);
	long time_ms = bench_arg("time_ms", quick ? 300 : 2000);
	join = (int)bench_arg("join", 0);
	long ops = bench_arg("ops", quick ? 2000000 : 20000000);
	uint64_t seed = (uint64_t)bench_arg("seed", 1);
	bench_args_done();
	if (nthreads < 1)
		nthreads = 1;
	if (slots < 1)
		slots = 1;
	if (life < 1)
		life = 1;
	if (max < min)
		max = min;
	if (max > UINT32_MAX)
		max = UINT32_MAX;
	timed = time_ms > 0;
	pthread_attr_init(&detached);
	pthread_attr_setdetachstate(&detached, PTHREAD_CREATE_DETACHED);

	long total = nthreads * slots;
	void **blk = bench_nonnull(malloc((size_t)total * sizeof(void *)), 1);
	uint32_t *len = bench_nonnull(malloc((size_t)total * sizeof(uint32_t)), 1);
	uint32_t *owner = bench_nonnull(calloc((size_t)total, sizeof(uint32_t)), 1);
	struct chain *ch = bench_nonnull(calloc((size_t)nthreads, sizeof(*ch)), 1);
	for (long t = 0; t < nthreads; t++) {
		struct chain *c = &ch[t];
		c->base = t * slots;
		c->blk = blk + c->base;
		c->len = len + c->base;
		c->owner = owner + c->base;
		c->slots = slots;
		c->life = life;
		c->ops_left = timed ? 0 : ops / nthreads + (t < ops % nthreads);
		c->min = min;
		c->max = max;
		c->rng = rng_seed(seed + (uint64_t)t);
		for (long i = 0; i < slots; i++) {
			size_t sz = rng_range(&c->rng, min, max);
			c->blk[i] = bench_nonnull(malloc(sz), sz);
			c->len[i] = (uint32_t)sz;
			bench_fill_salt(c->blk[i], sz, 0, (uint64_t)(c->base + i) + 1);
		}
	}
	if (warmup) {
		uint64_t rng = rng_seed(seed + 0x5eed);
		warm_up(blk, len, total, min, max, &rng);
	}

	uint64_t t0 = bench_now_ns();
	for (long t = 0; t < nthreads; t++) {
		pthread_t th;
		if (!timed && ch[t].ops_left == 0) {
			pthread_mutex_lock(&done_mu);
			chains_done++;
			pthread_mutex_unlock(&done_mu);
			continue;
		}
		if (pthread_create(&th, join ? NULL : &detached, worker, &ch[t]) != 0)
			bench_fail("pthread_create failed");
	}
	if (timed) {
		struct timespec nap = { time_ms / 1000, (time_ms % 1000) * 1000000L };
		while (nanosleep(&nap, &nap) != 0)
			;
		atomic_store(&stop, 1);
	}
	pthread_mutex_lock(&done_mu);
	while (chains_done < nthreads)
		pthread_cond_wait(&done_cv, &done_mu);
	pthread_mutex_unlock(&done_mu);
	uint64_t t1 = bench_now_ns();

	long frees = 0, remote = 0, created = 0;
	for (long t = 0; t < nthreads; t++) {
		struct chain *c = &ch[t];
		if (join && c->threads)
			pthread_join(c->last, NULL);
		frees += c->frees;
		remote += c->remote;
		created += c->threads;
	}
	for (long i = 0; i < total; i++) {
		bench_check_salt(blk[i], len[i], 0, (uint64_t)i + 1);
		free(blk[i]);
	}
	free(blk);
	free(len);
	free(owner);
	free(ch);
	if (!timed && frees != ops)
		bench_fail("did %ld ops, expected %ld", frees, ops);
	double secs = bench_secs(t0, t1);
	bench_result("bench=larson threads=%ld slots=%ld min=%zu max=%zu life=%ld warmup=%ld time_ms=%ld join=%d ops=%ld secs=%.4f mops=%.4g remote_pct=%.1f threads_created=%ld",
		     nthreads, slots, min, max, life, warmup, time_ms, join, frees, secs,
		     bench_mops((double)frees, secs),
		     frees ? 100.0 * (double)remote / (double)frees : 0.0, created);
	return 0;
}
