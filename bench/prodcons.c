/* SPDX-License-Identifier: MIT */
/*
 * prodcons: producer -> consumer through a queue; every free is remote.
 *
 *   prodcons [threads=2] [min=64] [max=512] [queue=1024] [ops=..] [seed=1]
 *            [quick=1]
 *
 * threads/2 producer/consumer pairs. The producer allocates a block of a
 * random size, tags it and pushes it into a bounded single-producer,
 * single-consumer ring; the consumer pops it, checks it and frees it. An op
 * is one block (one malloc+free pair); ops counts all pairs together.
 */
#include "bench.h"
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

struct item {
	void *p;
	size_t n;
};

struct queue {
	_Alignas(64) atomic_ulong head;	/* next slot the consumer reads */
	_Alignas(64) atomic_ulong tail;	/* next slot the producer writes */
	_Alignas(64) struct item *ring;
	unsigned long mask;
	long ops;
	size_t min, max;
	uint64_t rng;
};

static void spin_wait(unsigned *spins)
{
	if (++*spins > 64) {
		sched_yield();
		*spins = 0;
	} else {
		__builtin_ia32_pause();
	}
}

static void *producer(void *arg)
{
	struct queue *q = arg;
	unsigned long tail = 0;
	unsigned spins = 0;

	for (long i = 0; i < q->ops; i++) {
		size_t n = rng_range(&q->rng, q->min, q->max);
		void *p = bench_nonnull(malloc(n), n);
		bench_fill(p, n, 0);
		while (tail - atomic_load_explicit(&q->head, memory_order_acquire) > q->mask)
			spin_wait(&spins);
		q->ring[tail & q->mask] = (struct item){ p, n };
		atomic_store_explicit(&q->tail, ++tail, memory_order_release);
	}
	return NULL;
}

static void *consumer(void *arg)
{
	struct queue *q = arg;
	unsigned long head = 0;
	unsigned spins = 0;

	for (long i = 0; i < q->ops; i++) {
		while (atomic_load_explicit(&q->tail, memory_order_acquire) == head)
			spin_wait(&spins);
		struct item it = q->ring[head & q->mask];
		atomic_store_explicit(&q->head, ++head, memory_order_release);
		bench_check(it.p, it.n, 0);
		free(it.p);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	bench_args_init(argc, argv);
	long quick = bench_arg("quick", 0);
	long nthreads = bench_arg("threads", 2);
	size_t min = (size_t)bench_arg("min", 64);
	size_t max = (size_t)bench_arg("max", 512);
	long qlen = bench_arg("queue", 1024);
	long ops = bench_arg("ops", quick ? 500000 : 5000000);
	uint64_t seed = (uint64_t)bench_arg("seed", 1);
	bench_args_done();
	long pairs = nthreads / 2 > 0 ? nthreads / 2 : 1;
	unsigned long cap = 2;
	while ((long)cap < qlen)
		cap <<= 1;
	if (max < min)
		max = min;

	struct queue *q = bench_nonnull(aligned_alloc(64, (size_t)pairs * sizeof(*q)), 1);
	pthread_t *th = bench_nonnull(malloc((size_t)pairs * 2 * sizeof(pthread_t)), 1);
	for (long i = 0; i < pairs; i++) {
		atomic_init(&q[i].head, 0);
		atomic_init(&q[i].tail, 0);
		q[i].ring = bench_nonnull(malloc(cap * sizeof(struct item)), 1);
		q[i].mask = cap - 1;
		q[i].ops = ops / pairs + (i < ops % pairs);
		q[i].min = min;
		q[i].max = max;
		q[i].rng = rng_seed(seed + (uint64_t)i);
	}

	uint64_t t0 = bench_now_ns();
	for (long i = 0; i < pairs; i++) {
		if (pthread_create(&th[2 * i], NULL, consumer, &q[i]) ||
		    pthread_create(&th[2 * i + 1], NULL, producer, &q[i]))
			bench_fail("pthread_create failed");
	}
	for (long i = 0; i < 2 * pairs; i++)
		pthread_join(th[i], NULL);
	uint64_t t1 = bench_now_ns();

	for (long i = 0; i < pairs; i++) {
		if (atomic_load(&q[i].head) != (unsigned long)q[i].ops)
			bench_fail("queue %ld: consumed %lu of %ld", i,
				   (unsigned long)atomic_load(&q[i].head), q[i].ops);
		free(q[i].ring);
	}
	free(th);
	free(q);
	double secs = bench_secs(t0, t1);
	bench_result("bench=prodcons threads=%ld min=%zu max=%zu queue=%lu ops=%ld secs=%.4f mops=%.4g",
		     pairs * 2, min, max, cap, ops, secs, bench_mops((double)ops, secs));
	return 0;
}
