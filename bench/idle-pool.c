/* SPDX-License-Identifier: MIT */
/*
 * idle-pool: a worker pool that goes quiet after a burst.  How much of the
 * burst's memory is still resident 1 s after the last free, while every
 * thread is alive and calls nothing?
 *
 *   idle-pool [threads=8] [mb=32] [mode=own] [delay_ms=1000] [quick=1]
 *
 * Each worker allocates `mb` MiB in blocks of 16 B .. 32 KiB (half up to
 * 1 KiB, half above), filling every block; then, with mode=own, frees its
 * own blocks, and with mode=other, the main thread frees every worker's
 * blocks while the workers stay alive (remote frees into idle owners).
 * Every block is checked before its free.  The workers then block on a
 * condition variable and the main thread sleeps delay_ms without calling
 * the allocator (no malloc_trim); RSS is read from /proc/self/statm
 * before the burst, at the peak and after the sleep.  An op is one
 * malloc+free pair; secs is the burst and the frees.
 *
 * RESULT: rss_peak_kib and rss_idle_kib are relative to the RSS before
 * the burst; idle_permille = 1000 * rss_idle / rss_peak.
 */
#include <pthread.h>

#include "bench.h"

struct worker {
	pthread_t tid;
	void **blk;
	size_t *len;
	size_t count, cap, bytes;
	uint64_t rng;
};

static size_t per_worker;
static int free_own;
static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static int phase;       /* 1: burst done (all), 2: frees done, 3: go home */
static int arrived;

static void wait_phase(int want)
{
	pthread_mutex_lock(&gate_mu);
	while (phase < want)
		pthread_cond_wait(&gate_cv, &gate_mu);
	pthread_mutex_unlock(&gate_mu);
}

static void set_phase(int p)
{
	pthread_mutex_lock(&gate_mu);
	phase = p;
	pthread_cond_broadcast(&gate_cv);
	pthread_mutex_unlock(&gate_mu);
}

static void arrive(void)
{
	pthread_mutex_lock(&gate_mu);
	arrived++;
	pthread_cond_broadcast(&gate_cv);
	pthread_mutex_unlock(&gate_mu);
}

static void wait_arrived(int n)
{
	pthread_mutex_lock(&gate_mu);
	while (arrived < n)
		pthread_cond_wait(&gate_cv, &gate_mu);
	arrived = 0;
	pthread_mutex_unlock(&gate_mu);
}

static void free_all(struct worker *w)
{
	for (size_t i = 0; i < w->count; i++) {
		bench_check_salt(w->blk[i], w->len[i], 1, i + 1);
		free(w->blk[i]);
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	while (w->bytes < per_worker && w->count < w->cap) {
		size_t n = (rng_next(&w->rng) & 1) ? rng_range(&w->rng, 16, 1024)
						   : rng_range(&w->rng, 1024, 32 << 10);
		void *p = bench_nonnull(malloc(n), n);

		bench_fill_salt(p, n, 1, w->count + 1);
		w->blk[w->count] = p;
		w->len[w->count++] = n;
		w->bytes += n;
	}
	arrive();
	wait_phase(1);
	if (free_own)
		free_all(w);
	arrive();
	wait_phase(3);
	return NULL;
}

int main(int argc, char **argv)
{
	bench_args_init(argc, argv);
	long quick = bench_arg("quick", 0);
	long threads = bench_arg("threads", 8);
	long mb = bench_arg("mb", quick ? 8 : 32);
	const char *mode = bench_arg_str("mode", "own");
	long delay_ms = bench_arg("delay_ms", 1000);
	bench_args_done();
	if (threads < 1)
		threads = 1;
	if (strcmp(mode, "own") && strcmp(mode, "other"))
		bench_fail("idle-pool: mode must be own or other, not %s", mode);
	free_own = !strcmp(mode, "own");
	per_worker = (size_t)mb << 20;

	struct worker *w = bench_nonnull(calloc((size_t)threads, sizeof(*w)), 1);
	size_t count = 0;

	for (long t = 0; t < threads; t++) {
		/* Smallest average block: about 512 B for the small half. */
		w[t].cap = per_worker / 256 + 1024;
		w[t].blk = bench_nonnull(calloc(w[t].cap, sizeof(void *)), 1);
		w[t].len = bench_nonnull(calloc(w[t].cap, sizeof(size_t)), 1);
		w[t].rng = rng_seed((uint64_t)t + 1);
		/* The index arrays resident before the baseline. */
		memset(w[t].blk, 0, w[t].cap * sizeof(void *));
		memset(w[t].len, 0, w[t].cap * sizeof(size_t));
	}
	long rss_base = bench_rss_kib();
	uint64_t t0 = bench_now_ns();

	for (long t = 0; t < threads; t++)
		if (pthread_create(&w[t].tid, NULL, worker_main, &w[t]))
			bench_fail("idle-pool: pthread_create failed");
	wait_arrived((int)threads);
	long rss_peak = bench_rss_kib();
	set_phase(1);
	if (!free_own)
		for (long t = 0; t < threads; t++)
			free_all(&w[t]);
	wait_arrived((int)threads);
	uint64_t t1 = bench_now_ns();
	set_phase(2);

	struct timespec d = { delay_ms / 1000, (delay_ms % 1000) * 1000000L };
	nanosleep(&d, NULL);
	long rss_idle = bench_rss_kib();

	set_phase(3);
	for (long t = 0; t < threads; t++) {
		pthread_join(w[t].tid, NULL);
		count += w[t].count;
		free(w[t].blk);
		free(w[t].len);
	}
	free(w);
	double secs = bench_secs(t0, t1);
	long peak = rss_peak - rss_base, idle = rss_idle - rss_base;
	bench_result("bench=idle-pool threads=%ld mb=%ld mode=%s ops=%zu secs=%.4f mops=%.4g "
		     "rss_peak_kib=%ld rss_idle_kib=%ld idle_permille=%ld delay_ms=%ld",
		     threads, mb, mode, count, secs, bench_mops((double)count, secs), peak, idle,
		     peak > 0 ? idle * 1000 / peak : 0, delay_ms);
	return 0;
}
