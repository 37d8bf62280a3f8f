/* SPDX-License-Identifier: MIT */
/*
 * larson: server-style churn with cross-thread frees, after Larson & Krishnan.
 *
 *   larson [threads=2] [slots=5000] [min=8] [max=1000] [ops=..] [life=..]
 *          [seed=1] [quick=1]
 *
 * Each of `threads` chains owns an array of `slots` live blocks. A worker
 * thread replaces randomly chosen slots (free the old block, allocate a new
 * one of a random size) for `life` ops, then starts a fresh thread, hands it
 * the slot array and exits. Blocks the new thread frees that its predecessor
 * allocated are remote frees. With life = 1.82 * slots (the default) about
 * 46% of all frees are remote; the exact share is reported as remote_pct.
 * An op is one malloc+free pair; ops counts all chains together.
 */
#include "bench.h"
#include <pthread.h>
#include <stdatomic.h>

struct chain {
	void **blk;
	uint32_t *len;
	uint32_t *owner;
	long slots, life, ops_left;
	size_t min, max;
	uint64_t rng;
	long frees, remote, threads;
	pthread_t prev, last;
	int has_prev;
};

static atomic_uint owner_seq;
static pthread_mutex_t done_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done_cv = PTHREAD_COND_INITIALIZER;
static long chains_done;

static void *worker(void *arg)
{
	struct chain *c = arg;
	uint32_t me = atomic_fetch_add(&owner_seq, 1) + 1;
	long n = c->ops_left < c->life ? c->ops_left : c->life;
	long remote = 0;

	if (c->has_prev)
		pthread_join(c->prev, NULL);
	c->threads++;
	for (long i = 0; i < n; i++) {
		size_t j = rng_range(&c->rng, 0, (uint64_t)c->slots - 1);
		size_t sz = rng_range(&c->rng, c->min, c->max);
		bench_check_salt(c->blk[j], c->len[j], 0, (uint64_t)j + 1);
		remote += c->owner[j] != me;
		free(c->blk[j]);
		void *p = bench_nonnull(malloc(sz), sz);
		bench_fill_salt(p, sz, 0, (uint64_t)j + 1);
		c->blk[j] = p;
		c->len[j] = (uint32_t)sz;
		c->owner[j] = me;
	}
	c->frees += n;
	c->remote += remote;
	c->ops_left -= n;
	if (c->ops_left > 0) {
		pthread_t t;
		c->prev = pthread_self();
		c->has_prev = 1;
		if (pthread_create(&t, NULL, worker, c) != 0)
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

int main(int argc, char **argv)
{
	bench_args_init(argc, argv);
	long quick = bench_arg("quick", 0);
	long nthreads = bench_arg("threads", 2);
	long slots = bench_arg("slots", 5000);
	size_t min = (size_t)bench_arg("min", 8);
	size_t max = (size_t)bench_arg("max", 1000);
	long ops = bench_arg("ops", quick ? 2000000 : 20000000);
	long life = bench_arg("life", slots * 182 / 100);
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

	struct chain *ch = bench_nonnull(calloc((size_t)nthreads, sizeof(*ch)), 1);
	for (long t = 0; t < nthreads; t++) {
		struct chain *c = &ch[t];
		c->blk = bench_nonnull(malloc((size_t)slots * sizeof(void *)), 1);
		c->len = bench_nonnull(malloc((size_t)slots * sizeof(uint32_t)), 1);
		c->owner = bench_nonnull(calloc((size_t)slots, sizeof(uint32_t)), 1);
		c->slots = slots;
		c->life = life;
		c->ops_left = ops / nthreads + (t < ops % nthreads);
		c->min = min;
		c->max = max;
		c->rng = rng_seed(seed + (uint64_t)t);
		for (long i = 0; i < slots; i++) {
			size_t sz = rng_range(&c->rng, min, max);
			c->blk[i] = bench_nonnull(malloc(sz), sz);
			c->len[i] = (uint32_t)sz;
			bench_fill_salt(c->blk[i], sz, 0, (uint64_t)i + 1);
		}
	}

	uint64_t t0 = bench_now_ns();
	for (long t = 0; t < nthreads; t++) {
		pthread_t th;
		if (ch[t].ops_left == 0) {
			pthread_mutex_lock(&done_mu);
			chains_done++;
			pthread_mutex_unlock(&done_mu);
			continue;
		}
		if (pthread_create(&th, NULL, worker, &ch[t]) != 0)
			bench_fail("pthread_create failed");
	}
	pthread_mutex_lock(&done_mu);
	while (chains_done < nthreads)
		pthread_cond_wait(&done_cv, &done_mu);
	pthread_mutex_unlock(&done_mu);
	uint64_t t1 = bench_now_ns();

	long frees = 0, remote = 0, created = 0;
	for (long t = 0; t < nthreads; t++) {
		struct chain *c = &ch[t];
		if (c->threads)
			pthread_join(c->last, NULL);
		frees += c->frees;
		remote += c->remote;
		created += c->threads;
		for (long i = 0; i < slots; i++) {
			bench_check_salt(c->blk[i], c->len[i], 0, (uint64_t)i + 1);
			free(c->blk[i]);
		}
		free(c->blk);
		free(c->len);
		free(c->owner);
	}
	free(ch);
	if (frees != ops)
		bench_fail("did %ld ops, expected %ld", frees, ops);
	double secs = bench_secs(t0, t1);
	bench_result("bench=larson threads=%ld slots=%ld min=%zu max=%zu life=%ld ops=%ld secs=%.4f mops=%.4g remote_pct=%.1f threads_created=%ld",
		     nthreads, slots, min, max, life, ops, secs, bench_mops((double)ops, secs),
		     frees ? 100.0 * (double)remote / (double)frees : 0.0, created);
	return 0;
}
