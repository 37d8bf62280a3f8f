/* SPDX-License-Identifier: MIT */
/*
 * White-box tests of the arch layer (arch/<arch>/include/asm/ and
 * include/asm-generic/): the cycle counter, cpu_relax, the cache-line and
 * page-size constants against the run-time page size, and the atomics.
 */
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <asm/atomic.h>
#include <asm/cycles.h>
#include <asm/page.h>
#include <asm/processor.h>
/* Included again after the arch header: must keep the arch's get_cycles. */
#include <asm-generic/cycles.h>
#include <asm-generic/processor.h>
#include <mm/internal.h>
#include <mm/os.h>
#include "harness.h"
#include "testutil.h"

#ifndef get_cycles
#error "get_cycles must be a macro so that <asm-generic/cycles.h> can test for it"
#endif
#ifndef cpu_relax
#error "cpu_relax must be a macro so that <asm-generic/processor.h> can test for it"
#endif

START_TEST(test_cycles_monotonic)
{
	uint64_t first = get_cycles(), prev = first, now;
	volatile uint64_t sink = 0;
	int i, j;

	for (i = 0; i < 2000; i++) {
		for (j = 0; j < 200; j++)
			sink += (uint64_t)j * (uint64_t)i;
		now = get_cycles();
		ck_assert_msg(now >= prev, "get_cycles went back: %llu after %llu",
			      (unsigned long long)now, (unsigned long long)prev);
		prev = now;
	}
	ck_assert_msg(prev > first, "get_cycles did not advance over a busy loop");
	(void)sink;
}
END_TEST

START_TEST(test_cycles_advance_with_time)
{
	uint64_t a = get_cycles(), b;

	usleep(20000);
	b = get_cycles();
	ck_assert_msg(b > a, "get_cycles did not advance over 20 ms");
}
END_TEST

START_TEST(test_cpu_relax)
{
	uint64_t a = get_cycles();
	int i;

	for (i = 0; i < 10000; i++)
		cpu_relax();
	ck_assert(get_cycles() >= a);
}
END_TEST

START_TEST(test_constants)
{
	size_t ps;

	ck_assert_int_eq(os_init(), 0);
	ps = os_page_size();
	ck_assert_uint_eq(ps, (size_t)sysconf(_SC_PAGESIZE));
	ck_assert_msg((ps & (ps - 1)) == 0, "page size %zu not a power of two", ps);
	ck_assert_uint_ge(ps, ARCH_MIN_PAGE_SIZE);
	ck_assert_uint_le(ps, ARCH_MAX_PAGE_SIZE);
	ck_assert_uint_eq(ARCH_MAX_PAGE_SIZE, 1UL << ARCH_MAX_PAGE_SHIFT);
	ck_assert((ARCH_MAX_PAGE_SIZE & (ARCH_MAX_PAGE_SIZE - 1)) == 0);
	ck_assert_uint_ge(ARCH_MAX_PAGE_SIZE, ARCH_MIN_PAGE_SIZE);
	ck_assert_uint_le(ARCH_MAX_PAGE_SIZE, 65536);

	ck_assert_int_eq(CACHE_LINE_SIZE, 1 << CACHE_LINE_SHIFT);
	ck_assert_int_ge(CACHE_LINE_SIZE, 32);
	ck_assert_int_le(CACHE_LINE_SIZE, 256);
	ck_assert_uint_lt((unsigned long)CACHE_LINE_SIZE, ps);

	/* Geometry built on top: slabs and superslabs hold whole pages. */
	ck_assert_uint_eq(SLAB_SIZE % ARCH_MAX_PAGE_SIZE, 0);
	ck_assert_uint_eq(SS_SIZE % SLAB_SIZE, 0);
	ck_assert_uint_eq(SLAB_SIZE % ps, 0);
}
END_TEST

START_TEST(test_cacheline_aligned)
{
	static struct { char c; cacheline_aligned int x; } s;

	ck_assert_uint_eq((uintptr_t)&s.x % CACHE_LINE_SIZE, 0);
}
END_TEST

START_TEST(test_cas)
{
	uint64_t v = 5, expected = 5;
	int ok;

	ok = atomic_cas_acq_rel(&v, &expected, 9);
	ck_assert(ok);
	ck_assert_uint_eq(v, 9);
	ck_assert_uint_eq(expected, 5);

	expected = 5;
	ok = atomic_cas_acq_rel(&v, &expected, 11);
	ck_assert(!ok);
	ck_assert_uint_eq(v, 9);
	ck_assert_uint_eq(expected, 9);   /* updated to the current value */

	expected = 9;
	ok = atomic_cas_release(&v, &expected, 1);
	ck_assert(ok);
	ck_assert_uint_eq(v, 1);
	expected = 7;
	ck_assert(!atomic_cas_release(&v, &expected, 2));
	ck_assert_uint_eq(expected, 1);

	/* Weak CAS may fail spuriously, but eventually succeeds. */
	expected = 1;
	while (!atomic_cas_weak_release(&v, &expected, 3))
		ck_assert_uint_eq(expected, 1);
	ck_assert_uint_eq(v, 3);
	expected = 0;
	ck_assert(!atomic_cas_weak_release(&v, &expected, 4));
	ck_assert_uint_eq(expected, 3);
}
END_TEST

START_TEST(test_exchange_load_store)
{
	uint64_t v = 0;
	void *p = NULL;
	uint8_t b = 0;

	atomic_store_relaxed(&v, 42);
	ck_assert_uint_eq(atomic_load_relaxed(&v), 42);
	atomic_store_release(&v, 43);
	ck_assert_uint_eq(atomic_load_acquire(&v), 43);
	ck_assert_uint_eq(atomic_exchange_acquire(&v, 7), 43);
	ck_assert_uint_eq(v, 7);
	ck_assert_uint_eq(atomic_exchange_acq_rel(&v, 8), 7);
	ck_assert_uint_eq(v, 8);
	ck_assert(atomic_exchange_acquire(&p, (void *)&v) == NULL);
	ck_assert(p == &v);
	atomic_store_release(&b, 200);
	ck_assert_uint_eq(atomic_load_relaxed(&b), 200);

	ck_assert_uint_eq(atomic_fetch_add_relaxed(&v, 2), 8);
	ck_assert_uint_eq(atomic_fetch_add_acq_rel(&v, 10), 10);
	ck_assert_uint_eq(atomic_fetch_sub_acq_rel(&v, 4), 20);
	ck_assert_uint_eq(v, 16);
	ck_assert_uint_eq(atomic_fetch_or_acq_rel(&v, 0x101), 16);
	ck_assert_uint_eq(v, 0x111);
	ck_assert_uint_eq(atomic_fetch_and_acq_rel(&v, 0x0f0), 0x111);
	ck_assert_uint_eq(v, 0x010);
	atomic_thread_fence_seq_cst();
}
END_TEST

#define ADDS 200000
static uint64_t counter;
static uint64_t cas_counter;
static int start_flag;

static void *adder(void *arg)
{
	int i;

	(void)arg;
	while (!atomic_load_acquire(&start_flag))
		cpu_relax();
	for (i = 0; i < ADDS; i++) {
		uint64_t old = atomic_load_relaxed(&cas_counter);

		atomic_fetch_add_relaxed(&counter, 1);
		while (!atomic_cas_acq_rel(&cas_counter, &old, old + 1))
			;
	}
	return NULL;
}

START_TEST(test_fetch_add_threads)
{
	pthread_t t[2];
	int i;

	counter = cas_counter = 0;
	for (i = 0; i < 2; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, adder, NULL), 0);
	atomic_store_release(&start_flag, 1);
	for (i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	ck_assert_uint_eq(counter, 2 * ADDS);
	ck_assert_uint_eq(cas_counter, 2 * ADDS);
}
END_TEST

static Suite *make_suite(void)
{
	TCase *tc;
	Suite *s = one_tcase_suite("arch", "core", 0, &tc);

	tcase_add_test(tc, test_cycles_monotonic);
	tcase_add_test(tc, test_cycles_advance_with_time);
	tcase_add_test(tc, test_cpu_relax);
	tcase_add_test(tc, test_constants);
	tcase_add_test(tc, test_cacheline_aligned);
	tcase_add_test(tc, test_cas);
	tcase_add_test(tc, test_exchange_load_store);
	tcase_add_test(tc, test_fetch_add_threads);
	return s;
}

HAK_TEST_MAIN(make_suite)
