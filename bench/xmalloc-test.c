/* SPDX-License-Identifier: MIT */
/*
 * xmalloc-test: threads that only allocate against threads that only free,
 * shaped like Lever and Boreham's xmalloc-test as mimalloc-bench runs it
 * (`xmalloc-test -w N -t 5 -s 64`).
 *
 *   xmalloc-test [threads=4] [size=64] [batch=4096] [depth=100] [time=2]
 *                [quick=1]
 *
 * threads/2 allocating threads each fill a batch of `batch` blocks of `size`
 * bytes (every byte written), then push the batch onto one shared LIFO list
 * under a mutex, waiting while `depth` batches are queued. threads/2 freeing
 * threads pop a batch, check and free its blocks in the order they were
 * allocated, then free the batch itself (a 32 KiB block with the defaults).
 * The run lasts `time` seconds; then the threads stop, and what is still
 * queued is checked and freed untimed. An op is one block freed by a freeing
 * thread: mops is frees per second, the original's figure.
 */
#include "bench.h"
#include <pthread.h>
#include <stdatomic.h>

struct batch {
	struct batch *next;
	void *p[];
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv_full = PTHREAD_COND_INITIALIZER;	/* room for a batch */
static pthread_cond_t cv_empty = PTHREAD_COND_INITIALIZER;	/* a batch to take */
static struct batch *stack;
static long queued, g_depth, g_batch;
static size_t g_size;
static atomic_int done;

struct worker {
	_Alignas(64) long freed;
	long allocated;
	pthread_t th;
};

static void fill_block(void *p, long i)
{
	memset(p, (int)(i & 255), g_size);
	bench_fill_salt(p, g_size, 0, (uint64_t)i + 1);
}

static void check_block(void *p, long i)
{
	bench_check_salt(p, g_size, 0, (uint64_t)i + 1);
	if (g_size > 16 && ((unsigned char *)p)[8] != (unsigned char)(i & 255))
		bench_fail("block %p (batch index %ld): body overwritten", p, i);
}

static void free_batch(struct batch *b)
{
	for (long i = 0; i < g_batch; i++) {
		check_block(b->p[i], i);
		free(b->p[i]);
	}
	free(b);
}

static void *allocator(void *arg)
{
	struct worker *w = arg;
	size_t bsz = sizeof(struct batch) + (size_t)g_batch * sizeof(void *);

	while (!atomic_load_explicit(&done, memory_order_relaxed)) {
		struct batch *b = bench_nonnull(malloc(bsz), bsz);
		for (long i = 0; i < g_batch; i++) {
			b->p[i] = bench_nonnull(malloc(g_size), g_size);
			fill_block(b->p[i], i);
		}
		w->allocated += g_batch;
		pthread_mutex_lock(&mu);
		while (queued >= g_depth && !atomic_load(&done))
			pthread_cond_wait(&cv_full, &mu);
		b->next = stack;
		stack = b;
		queued++;
		pthread_cond_signal(&cv_empty);
		pthread_mutex_unlock(&mu);
	}
	return NULL;
}

static void *releaser(void *arg)
{
	struct worker *w = arg;

	while (!atomic_load_explicit(&done, memory_order_relaxed)) {
		pthread_mutex_lock(&mu);
		while (!stack && !atomic_load(&done))
			pthread_cond_wait(&cv_empty, &mu);
		struct batch *b = stack;
		if (b) {
			stack = b->next;
			queued--;
			pthread_cond_signal(&cv_full);
		}
		pthread_mutex_unlock(&mu);
		if (!b)
			break;
		free_batch(b);
		w->freed += g_batch;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	bench_args_init(argc, argv);
	long quick = bench_arg("quick", 0);
	long nthreads = bench_arg("threads", 4);
	g_size = (size_t)bench_arg("size", 64);
	g_batch = bench_arg("batch", 4096);
	g_depth = bench_arg("depth", 100);
	long time_ms = bench_arg("time_ms", quick ? 300 : 2000);
	bench_args_done();
	long half = nthreads / 2 > 0 ? nthreads / 2 : 1;
	if (g_size < 1)
		g_size = 1;
	if (g_batch < 1)
		g_batch = 1;
	if (g_depth < 1)
		g_depth = 1;

	struct worker *w = bench_nonnull(aligned_alloc(64, (size_t)half * 2 * sizeof(*w)), 1);
	memset(w, 0, (size_t)half * 2 * sizeof(*w));

	uint64_t t0 = bench_now_ns();
	for (long i = 0; i < half; i++) {
		if (pthread_create(&w[2 * i].th, NULL, releaser, &w[2 * i]) ||
		    pthread_create(&w[2 * i + 1].th, NULL, allocator, &w[2 * i + 1]))
			bench_fail("pthread_create failed");
	}
	struct timespec nap = { time_ms / 1000, (time_ms % 1000) * 1000000L };
	while (nanosleep(&nap, &nap) != 0)
		;
	pthread_mutex_lock(&mu);
	atomic_store(&done, 1);
	pthread_cond_broadcast(&cv_full);
	pthread_cond_broadcast(&cv_empty);
	pthread_mutex_unlock(&mu);
	for (long i = 0; i < 2 * half; i++)
		pthread_join(w[i].th, NULL);
	uint64_t t1 = bench_now_ns();

	long freed = 0, allocated = 0, left = 0;
	for (long i = 0; i < 2 * half; i++) {
		freed += w[i].freed;
		allocated += w[i].allocated;
	}
	while (stack) {
		struct batch *b = stack;
		stack = b->next;
		free_batch(b);
		left += g_batch;
	}
	free(w);
	if (freed + left != allocated)
		bench_fail("allocated %ld blocks, freed %ld + %ld left queued", allocated, freed, left);
	double secs = bench_secs(t0, t1);
	bench_result("bench=xmalloc-test threads=%ld size=%zu batch=%ld depth=%ld ops=%ld secs=%.4f mops=%.4g",
		     half * 2, g_size, g_batch, g_depth, freed, secs, bench_mops((double)freed, secs));
	return 0;
}
