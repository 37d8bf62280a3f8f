/* SPDX-License-Identifier: MIT */
/*
 * Producer -> consumer: every block is freed by a thread other than the
 * one that allocated it.
 *
 * 2 producers allocate blocks of 64..512 B (and 1 in 16 of pool sizes,
 * 1 KiB .. 64 KiB), fill them with a pattern derived from address, size
 * and sequence number, and pass them in batches through a bounded queue
 * (mutex + condition variables) to 2 consumers, which check each block and
 * free it.  ~1M blocks natively, 100k under TEST_EMULATED.  Every block
 * must arrive intact and exactly once; afterwards remote_frees > 0
 * (CONFIG_STATS) and slabs_in_use is back near its starting value after
 * decay_run(1).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include <mm/heap/heap.h>
#include "harness.h"
#include "testutil.h"

enum {
	NPROD = 2,
	NCONS = 2,
	BATCH = 32,        /* blocks per queue entry */
	QCAP = 64,         /* queue entries */
	SLAB_SLACK = 16,   /* the calling thread's own small usage */
};

struct item {
	void *p;
	uint32_t size;
	uint32_t producer;
	uint64_t seq;
};

struct batch {
	unsigned int n;
	struct item it[BATCH];
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t not_full, not_empty;
	struct batch q[QCAP];
	unsigned int head, tail, count;
	unsigned int producers_left;
} Q = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER };

static unsigned long per_producer;
static atomic_ulong consumed;
static atomic_ulong consumed_bytes;
static atomic_int pc_failed;
static char pc_msg[256];
/* seen[producer][seq / 8]: each block arrives exactly once. */
static _Atomic(unsigned char) *seen[NPROD];

static void pc_fail(const char *what, const struct item *it, size_t off)
{
	int expected = 0;

	if (atomic_compare_exchange_strong(&pc_failed, &expected, 1))
		snprintf(pc_msg, sizeof(pc_msg),
			 "%s: block %p size %u producer %u seq %llu offset %zu", what, it->p,
			 it->size, it->producer, (unsigned long long)it->seq, off);
}

static uint64_t seed(const struct item *it)
{
	return mix((uint64_t)(uintptr_t)it->p ^ ((uint64_t)it->size << 48) ^
		   (it->seq * 0x9e3779b97f4a7c15ull) ^ it->producer);
}

/* Whole block for small sizes; pool blocks: first and last 256 B and one
 * word per KiB. */
static int pat_at(size_t size, size_t off)
{
	return size <= 1024 || off < 256 || off + 256 >= size || off % 1024 == 0;
}

static void fill(const struct item *it)
{
	uint64_t s = seed(it);
	unsigned char *b = it->p;
	size_t off;

	for (off = 0; off < it->size; off += 8) {
		uint64_t v = s + off * 0x100000001b3ull;

		if (pat_at(it->size, off))
			memcpy(b + off, &v, it->size - off < 8 ? it->size - off : 8);
	}
}

static void verify(const struct item *it)
{
	uint64_t s = seed(it);
	const unsigned char *b = it->p;
	size_t off;

	for (off = 0; off < it->size; off += 8) {
		uint64_t v = s + off * 0x100000001b3ull;

		if (pat_at(it->size, off) &&
		    memcmp(b + off, &v, it->size - off < 8 ? it->size - off : 8)) {
			pc_fail("pattern mismatch", it, off);
			return;
		}
	}
}

static void put(const struct batch *b)
{
	pthread_mutex_lock(&Q.lock);
	while (Q.count == QCAP)
		pthread_cond_wait(&Q.not_full, &Q.lock);
	Q.q[Q.tail] = *b;
	Q.tail = (Q.tail + 1) % QCAP;
	Q.count++;
	pthread_cond_signal(&Q.not_empty);
	pthread_mutex_unlock(&Q.lock);
}

/* Returns 0 when the producers are done and the queue is empty. */
static int get(struct batch *b)
{
	pthread_mutex_lock(&Q.lock);
	while (Q.count == 0 && Q.producers_left)
		pthread_cond_wait(&Q.not_empty, &Q.lock);
	if (Q.count == 0) {
		pthread_mutex_unlock(&Q.lock);
		return 0;
	}
	*b = Q.q[Q.head];
	Q.head = (Q.head + 1) % QCAP;
	Q.count--;
	pthread_cond_signal(&Q.not_full);
	pthread_mutex_unlock(&Q.lock);
	return 1;
}

static void *producer(void *arg)
{
	unsigned int id = (unsigned int)(uintptr_t)arg;
	uint64_t rs = 0x853c49e6748fea9bull + id * 0x1234567ull;
	struct batch b;
	unsigned long seq;

	b.n = 0;
	for (seq = 0; seq < per_producer && !atomic_load_explicit(&pc_failed, memory_order_relaxed);
	     seq++) {
		uint64_t r = rnd(&rs);
		struct item *it = &b.it[b.n];

		if (r % 16)
			it->size = (uint32_t)(64 + (r >> 8) % (512 - 64 + 1));
		else
			it->size = (uint32_t)(KiB + (r >> 8) % (63 * KiB + 1));
		it->p = hak_malloc(it->size);
		it->producer = id;
		it->seq = seq;
		if (!it->p) {
			pc_fail("malloc failed", it, 0);
			break;
		}
		fill(it);
		if (++b.n == BATCH) {
			put(&b);
			b.n = 0;
		}
	}
	if (b.n)
		put(&b);
	pthread_mutex_lock(&Q.lock);
	Q.producers_left--;
	pthread_cond_broadcast(&Q.not_empty);
	pthread_mutex_unlock(&Q.lock);
	return NULL;
}

static void *consumer(void *arg)
{
	struct batch b;
	unsigned long n = 0, bytes = 0;
	unsigned int i;

	while (get(&b)) {
		for (i = 0; i < b.n; i++) {
			const struct item *it = &b.it[i];
			unsigned char bit = (unsigned char)(1u << (it->seq % 8));

			if (it->producer >= NPROD || it->seq >= per_producer) {
				pc_fail("bad queue item", it, 0);
				continue;
			}
			if (atomic_fetch_or(&seen[it->producer][it->seq / 8], bit) & bit)
				pc_fail("block delivered twice", it, 0);
			verify(it);
			hak_free(it->p);
			n++;
			bytes += it->size;
		}
	}
	atomic_fetch_add(&consumed, n);
	atomic_fetch_add(&consumed_bytes, bytes);
	return arg;
}

START_TEST(test_producer_consumer)
{
	unsigned long total = getenv("TEST_EMULATED") ? 100000 : 1000000;
	pthread_t prod[NPROD], cons[NCONS];
	struct hak_stats st0, st;
	int have_stats;
	unsigned int i;
	unsigned long k;

	per_producer = total / NPROD;
	for (i = 0; i < NPROD; i++) {
		seen[i] = hak_calloc(per_producer / 8 + 1, 1);
		ck_assert(seen[i]);
	}
	run_thread(noop_thread, NULL);
	decay_run(1);
	memset(&st0, 0, sizeof(st0));
	have_stats = hak_stats_get(&st0) == 0;

	Q.producers_left = NPROD;
	for (i = 0; i < NCONS; i++)
		ck_assert_int_eq(pthread_create(&cons[i], NULL, consumer, NULL), 0);
	for (i = 0; i < NPROD; i++)
		ck_assert_int_eq(pthread_create(&prod[i], NULL, producer, (void *)(uintptr_t)i), 0);
	for (i = 0; i < NPROD; i++)
		ck_assert_int_eq(pthread_join(prod[i], NULL), 0);
	for (i = 0; i < NCONS; i++)
		ck_assert_int_eq(pthread_join(cons[i], NULL), 0);

	ck_assert_msg(!atomic_load(&pc_failed), "%s", pc_msg);
	ck_assert_uint_eq(atomic_load(&consumed), per_producer * NPROD);
	for (i = 0; i < NPROD; i++) {
		for (k = 0; k < per_producer; k++)
			if (!(atomic_load(&seen[i][k / 8]) & (1u << (k % 8))))
				ck_abort_msg("producer %u block %lu never arrived", i, k);
		hak_free((void *)seen[i]);
	}

	decay_run(1);
	memset(&st, 0, sizeof(st));
	hak_stats_get(&st);
	printf("prodcons: %lu blocks, %lu MiB; remote_frees %llu, slabs %llu -> %llu\n",
	       per_producer * NPROD, atomic_load(&consumed_bytes) >> 20,
	       st.remote_frees - st0.remote_frees, st0.slabs_in_use, st.slabs_in_use);
	ck_assert_msg(st.slabs_in_use <= st0.slabs_in_use + SLAB_SLACK,
		      "slabs_in_use %llu after the run, %llu before", st.slabs_in_use,
		      st0.slabs_in_use);
	ck_assert_msg(st.big_in_use == st0.big_in_use, "big_in_use %llu, was %llu",
		      st.big_in_use, st0.big_in_use);
	HAK_REQUIRE(IS_ENABLED(CONFIG_STATS) && have_stats, "needs CONFIG_STATS for remote_frees");
	ck_assert_msg(st.remote_frees > st0.remote_frees, "remote_frees %llu, before %llu",
		      st.remote_frees, st0.remote_frees);
	ck_assert_msg(st.frees - st0.frees >= per_producer * NPROD,
		      "frees counted %llu, expected at least %lu", st.frees - st0.frees,
		      per_producer * NPROD);
}
END_TEST

static Suite *make_suite(void)
{
	TCase *tc;
	Suite *s = one_tcase_suite("prodcons", "core", 120, &tc);

	tcase_add_test(tc, test_producer_consumer);
	return s;
}

HAK_TEST_MAIN(make_suite)
