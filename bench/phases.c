/* SPDX-License-Identifier: MIT */
/*
 * phases: a worker pool whose work changes, for the adaptive engine.
 *
 *   phases [threads=4] [small_live=20000] [small_ops=4000000] [mid_threads=2]
 *          [mid_live=200] [mid_ops=100000] [idle_ms=1000] [trace=PATH] [quick=1]
 *
 * The same `threads` workers live through four phases:
 *   1 burst  every worker churns small blocks (16..256 B): it fills a ring
 *            of small_live blocks, replaces random ones small_ops times,
 *            and frees them all;
 *   2 mid    mid_threads workers churn mid and L2.5 blocks (1 KiB..1 MiB,
 *            log-uniform, the first page touched), mid_live live, mid_ops
 *            replacements, then free them; the others wait;
 *   3 idle   nobody calls the allocator for idle_ms;
 *   4 burst  phase 1 again.
 * Every block is filled on malloc and checked before its free.  A sampler
 * thread reads RSS (/proc/self/statm, open and read: no allocation) every
 * 5 ms.  An op is one malloc+free pair; phase N's throughput is its ops
 * over its wall time.
 *
 * RESULT: mops over the busy phases; phase1_mops, phase2_mops, phase4_mops;
 * rss_avg_kib and rss_peak_kib over the whole run (relative to the RSS
 * before phase 1), rss_idle_kib at the end of phase 3, and
 * rss_time_mibs = average RSS (MiB) times the run's wall time (s): the
 * product the adaptive engine is judged on.  trace=PATH writes every
 * sample as "ms kib phase" lines.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>

#include "bench.h"

#define MAX_THREADS 64
#define MAX_SAMPLES 20000

struct worker {
	pthread_t tid;
	unsigned int id;
	uint64_t rng;
	void **slot;
	size_t *len;
};

static long nthreads, small_live, small_ops, mid_threads, mid_live, mid_ops;
static struct worker workers[MAX_THREADS];
static pthread_barrier_t bar;
static atomic_int phase;           /* for the sampler */
static atomic_int stop_sampler;
static long base_kib;
static uint32_t sample_ms[MAX_SAMPLES], sample_kib[MAX_SAMPLES];
static uint8_t sample_phase[MAX_SAMPLES];
static size_t nsamples;

/* RSS in KiB without stdio (fopen allocates). */
static long rss_kib_raw(void)
{
	char buf[128];
	long size = 0, res = 0;
	int fd = open("/proc/self/statm", O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	if (sscanf(buf, "%ld %ld", &size, &res) != 2)
		return -1;
	return res * (sysconf(_SC_PAGESIZE) / 1024);
}

static void *sampler(void *arg)
{
	uint64_t t0 = bench_now_ns();

	(void)arg;
	while (!atomic_load(&stop_sampler)) {
		if (nsamples < MAX_SAMPLES) {
			sample_ms[nsamples] = (uint32_t)((bench_now_ns() - t0) / 1000000);
			sample_kib[nsamples] = (uint32_t)rss_kib_raw();
			sample_phase[nsamples] = (uint8_t)atomic_load(&phase);
			nsamples++;
		}
		struct timespec d = { 0, 5000000 };
		nanosleep(&d, NULL);
	}
	return NULL;
}

static size_t mid_size(uint64_t *rng)
{
	/* log-uniform in [1 KiB, 1 MiB]: a power of two, then a fraction */
	unsigned int e = 10 + (unsigned int)rng_range(rng, 0, 9);
	size_t lo = (size_t)1 << e;

	return (size_t)rng_range(rng, lo, 2 * lo);
}

static void churn(struct worker *w, long live, long ops, int mid)
{
	long i;

	for (i = 0; i < live; i++) {
		size_t n = mid ? mid_size(&w->rng) : (size_t)rng_range(&w->rng, 16, 256);

		w->slot[i] = bench_nonnull(malloc(n), n);
		w->len[i] = n;
		bench_fill_salt(w->slot[i], n, 0, (uint64_t)i + 1);
	}
	for (long k = 0; k < ops; k++) {
		long j = (long)rng_range(&w->rng, 0, (uint64_t)live - 1);
		size_t n = mid ? mid_size(&w->rng) : (size_t)rng_range(&w->rng, 16, 256);

		bench_check_salt(w->slot[j], w->len[j], 0, (uint64_t)j + 1);
		free(w->slot[j]);
		w->slot[j] = bench_nonnull(malloc(n), n);
		w->len[j] = n;
		bench_fill_salt(w->slot[j], n, 0, (uint64_t)j + 1);
	}
	for (i = 0; i < live; i++) {
		bench_check_salt(w->slot[i], w->len[i], 0, (uint64_t)i + 1);
		free(w->slot[i]);
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	pthread_barrier_wait(&bar);             /* phase 1 */
	churn(w, small_live, small_ops, 0);
	pthread_barrier_wait(&bar);
	pthread_barrier_wait(&bar);             /* phase 2 */
	if (w->id < (unsigned long)mid_threads)
		churn(w, mid_live, mid_ops, 1);
	pthread_barrier_wait(&bar);
	pthread_barrier_wait(&bar);             /* phase 4 */
	churn(w, small_live, small_ops, 0);
	pthread_barrier_wait(&bar);
	return NULL;
}

/* Starts phase p in the workers and times it to its end. */
static double run_phase(int p)
{
	uint64_t t0;

	atomic_store(&phase, p);
	t0 = bench_now_ns();
	pthread_barrier_wait(&bar);
	pthread_barrier_wait(&bar);
	return bench_secs(t0, bench_now_ns());
}

int main(int argc, char **argv)
{
	bench_args_init(argc, argv);
	long quick = bench_arg("quick", 0);
	nthreads = bench_arg("threads", 4);
	small_live = bench_arg("small_live", 20000);
	small_ops = bench_arg("small_ops", quick ? 500000 : 4000000);
	mid_threads = bench_arg("mid_threads", 2);
	mid_live = bench_arg("mid_live", 200);
	mid_ops = bench_arg("mid_ops", quick ? 20000 : 100000);
	long idle_ms = bench_arg("idle_ms", quick ? 300 : 1000);
	const char *trace = bench_arg_str("trace", "");
	bench_args_done();
	if (nthreads < 1 || nthreads > MAX_THREADS)
		bench_fail("phases: threads must be 1..%d", MAX_THREADS);
	if (mid_threads > nthreads)
		mid_threads = nthreads;
	if (small_live < 1 || mid_live < 1)
		bench_fail("phases: small_live and mid_live must be positive");

	long cap = small_live > mid_live ? small_live : mid_live;
	for (long t = 0; t < nthreads; t++) {
		workers[t].id = (unsigned int)t;
		workers[t].rng = rng_seed((uint64_t)t + 11);
		workers[t].slot = bench_nonnull(calloc((size_t)cap, sizeof(void *)), 1);
		workers[t].len = bench_nonnull(calloc((size_t)cap, sizeof(size_t)), 1);
	}
	pthread_barrier_init(&bar, NULL, (unsigned int)nthreads + 1);
	for (long t = 0; t < nthreads; t++)
		if (pthread_create(&workers[t].tid, NULL, worker_main, &workers[t]))
			bench_fail("phases: pthread_create failed");
	base_kib = rss_kib_raw();
	pthread_t samp;
	if (pthread_create(&samp, NULL, sampler, NULL))
		bench_fail("phases: pthread_create failed");

	uint64_t t0 = bench_now_ns();
	double s1 = run_phase(1);
	double s2 = run_phase(2);
	atomic_store(&phase, 3);
	struct timespec d = { idle_ms / 1000, (idle_ms % 1000) * 1000000L };
	nanosleep(&d, NULL);
	long idle_kib = rss_kib_raw() - base_kib;
	double s4 = run_phase(4);
	double total = bench_secs(t0, bench_now_ns());
	atomic_store(&stop_sampler, 1);
	pthread_join(samp, NULL);
	for (long t = 0; t < nthreads; t++)
		pthread_join(workers[t].tid, NULL);

	double sum = 0, peak = 0;
	for (size_t i = 0; i < nsamples; i++) {
		double k = (double)sample_kib[i] - (double)base_kib;

		sum += k;
		if (k > peak)
			peak = k;
	}
	double avg = nsamples ? sum / (double)nsamples : 0;
	if (*trace) {
		FILE *f = fopen(trace, "w");

		if (!f)
			bench_fail("phases: cannot write %s", trace);
		for (size_t i = 0; i < nsamples; i++)
			fprintf(f, "%u %ld %u\n", sample_ms[i], (long)sample_kib[i] - base_kib,
				sample_phase[i]);
		fclose(f);
	}
	double small = (double)nthreads * (double)small_ops;
	double mid = (double)mid_threads * (double)mid_ops;
	bench_result("bench=phases threads=%ld ops=%.0f secs=%.4f mops=%.4g phase1_mops=%.4g "
		     "phase2_mops=%.4g phase4_mops=%.4g rss_avg_kib=%.0f rss_peak_kib=%.0f "
		     "rss_idle_kib=%ld rss_time_mibs=%.4g",
		     nthreads, 2 * small + mid, s1 + s2 + s4,
		     bench_mops(2 * small + mid, s1 + s2 + s4), bench_mops(small, s1),
		     bench_mops(mid, s2), bench_mops(small, s4), avg, peak, idle_kib,
		     avg / 1024 * total);
	for (long t = 0; t < nthreads; t++) {
		free(workers[t].slot);
		free(workers[t].len);
	}
	return 0;
}
