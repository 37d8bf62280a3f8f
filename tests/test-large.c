/* SPDX-License-Identifier: MIT */
/*
 * White-box tests of the large tier (mm/large/): header placement and
 * registration, BigCache reuse and its byte budget, in-place resizing,
 * aligned big blocks, and zeroing by calloc.
 */
#include <stdint.h>
#include <string.h>

#include <mm/heap/heap.h>
#include <mm/large/large.h>
#include <mm/options.h>
#include <mm/policy.h>
#include <mm/os.h>
#include <mm/stats.h>
#include <mm/superslab/superslab.h>
#include "harness.h"
#include "testutil.h"

static uintptr_t base_of(void *p)
{
	return ((uintptr_t)p - 1) & ~SS_MASK;
}

START_TEST(test_header_placement)
{
	static const size_t sizes[] = { POOL_MAX_SIZE + 1, 2 * MiB - 64, 2 * MiB, 3 * MiB + 17,
					8 * MiB, 33 * MiB + 4095 };
	unsigned int k;

	for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		size_t n = sizes[k];
		char *p = hak_malloc(n);
		uintptr_t base, a, end;

		ck_assert(p);
		a = (uintptr_t)p;
		base = base_of(p);
		ck_assert_msg(a > base && a <= base + SS_SIZE, "%zu: %p outside (base, base+SS]", n, p);
		ck_assert_uint_eq(a % 16, 0);
		ck_assert_uint_eq(registry_kind(base), REG_LARGE_HEAD);
		ck_assert_uint_eq(registry_kind(a - 1), REG_LARGE_HEAD);
		end = a + n;
		for (a = base + SS_SIZE; a < end; a += SS_SIZE)
			ck_assert_uint_eq(registry_kind(a), REG_LARGE_TAIL);
		ck_assert_uint_ge(large_usable_size(p), n);
		ck_assert_uint_eq(hak_malloc_usable_size(p), large_usable_size(p));
		/* Not a big block: interior pointers and the header. */
		ck_assert_uint_eq(large_usable_size(p + 16), 0);
		ck_assert_uint_eq(hak_malloc_usable_size(p + 16), 0);
		ck_assert_uint_eq(hak_malloc_usable_size((void *)base), 0);
		p[0] = 1;
		p[n - 1] = 2;
		memset(p + n / 2, 0x3c, 4096);
		hak_free(p);
	}
}
END_TEST

START_TEST(test_freed_unregistered_without_cache)
{
	char *p;
	uintptr_t base;
	int64_t mapped;

	ck_assert_int_eq(hak_init(), 0);
	option_values[OPT_BIGCACHE_MB].num = 0;
	policy_reset();
	p = hak_malloc(5 * MiB);
	ck_assert(p);
	base = base_of(p);
	mapped = stat_now(STAT_BYTES_MAPPED);
	hak_free(p);
	ck_assert_uint_eq(registry_kind(base), REG_NONE);
	ck_assert_uint_eq(registry_kind(base + SS_SIZE), REG_NONE);
	ck_assert_int_le(stat_now(STAT_BYTES_MAPPED), mapped - (int64_t)(5 * MiB));
}
END_TEST

START_TEST(test_bigcache_reuse)
{
	char *p, *q;
	int64_t cached, in_use;
	size_t n = 3 * MiB;

	HAK_REQUIRE(IS_ENABLED(CONFIG_BIGCACHE), "needs CONFIG_BIGCACHE");
	ck_assert_int_eq(hak_init(), 0);
	option_values[OPT_DECAY_MS].num = 60000;
	option_values[OPT_BIGCACHE_MB].num = 64;
	policy_reset();
	p = hak_malloc(n);
	ck_assert(p);
	memset(p, 0xee, n);
	cached = stat_now(STAT_BIG_CACHED);
	in_use = stat_now(STAT_BIG_IN_USE);
	hak_free(p);
	ck_assert_int_eq(stat_now(STAT_BIG_CACHED), cached + 1);
	ck_assert_int_eq(stat_now(STAT_BIG_IN_USE), in_use - 1);
	/* Still registered while cached; not a live block. */
	ck_assert_uint_eq(registry_kind(base_of(p)), REG_LARGE_HEAD);
	ck_assert_uint_eq(large_usable_size(p), 0);

	/* Same mapping class: the same address comes back. */
	q = hak_malloc(n + 100);
	ck_assert_ptr_eq(q, p);
	ck_assert_int_eq(stat_now(STAT_BIG_CACHED), cached);
	ck_assert_int_eq(large_is_fresh(q), 0);
	hak_free(q);

	/* calloc of a reused (dirty) mapping is zero. */
	q = hak_calloc(1, n);
	ck_assert_ptr_eq(q, p);
	ck_assert_uint_eq(first_not(q, n, 0), n);
	hak_free(q);

	/* A different class does not take it. */
	q = hak_malloc(12 * MiB);
	ck_assert(q != p);
	hak_free(q);

	/* Decay: forced maintenance unmaps what is cached. */
	decay_run(1);
	ck_assert_int_eq(stat_now(STAT_BIG_CACHED), 0);
	ck_assert_uint_eq(registry_kind(base_of(p)), REG_NONE);
}
END_TEST

START_TEST(test_bigcache_budget)
{
	enum { N = 4 };
	char *p[N];
	uintptr_t base[N];
	int64_t mapped;
	unsigned int i;
	size_t n = 3 * MiB;   /* maps 3.5 MiB: two fit in 8 MiB, three don't */

	HAK_REQUIRE(IS_ENABLED(CONFIG_BIGCACHE), "needs CONFIG_BIGCACHE");
	ck_assert_int_eq(hak_init(), 0);
	option_values[OPT_DECAY_MS].num = 60000;
	decay_run(1);
	option_values[OPT_BIGCACHE_MB].num = 8;
	policy_reset();
	for (i = 0; i < N; i++) {
		p[i] = hak_malloc(n);
		ck_assert(p[i]);
		base[i] = base_of(p[i]);
	}
	hak_free(p[0]);
	hak_free(p[1]);
	ck_assert_int_eq(stat_now(STAT_BIG_CACHED), 2);
	ck_assert_uint_eq(registry_kind(base[0]), REG_LARGE_HEAD);
	mapped = stat_now(STAT_BYTES_MAPPED);
	hak_free(p[2]);         /* over budget: p[0], the oldest, goes */
	ck_assert_int_eq(stat_now(STAT_BIG_CACHED), 2);
	ck_assert_uint_eq(registry_kind(base[0]), REG_NONE);
	ck_assert_uint_eq(registry_kind(base[1]), REG_LARGE_HEAD);
	ck_assert_uint_eq(registry_kind(base[2]), REG_LARGE_HEAD);
	ck_assert_int_lt(stat_now(STAT_BYTES_MAPPED), mapped);
	/* The newest is reused first. */
	p[0] = hak_malloc(n);
	ck_assert_ptr_eq(p[0], p[2]);
	hak_free(p[0]);

	/* Larger than the whole budget: never cached. */
	option_values[OPT_BIGCACHE_MB].num = 2;
	policy_reset();
	hak_free(p[3]);
	ck_assert_uint_eq(registry_kind(base[3]), REG_NONE);
	decay_run(1);
	ck_assert_int_eq(stat_now(STAT_BIG_CACHED), 0);
}
END_TEST

static void fill(char *p, size_t n, unsigned int seed)
{
	size_t i;

	for (i = 0; i < n; i += 512)
		p[i] = (char)(i / 512 * 31 + seed);
}

static int check(const char *p, size_t n, unsigned int seed)
{
	size_t i;

	for (i = 0; i < n; i += 512)
		if (p[i] != (char)(i / 512 * 31 + seed))
			return 0;
	return 1;
}

START_TEST(test_resize)
{
	size_t n = 2 * MiB, big = 9 * MiB;
	char *p, *q;
	void *r;
	uintptr_t base, a;

	ck_assert_int_eq(hak_init(), 0);
	p = hak_malloc(n);
	ck_assert(p);
	fill(p, n, 7);
	base = base_of(p);
	/* Shrinking or staying within the usable size keeps the block. */
	ck_assert_ptr_eq(large_resize(p, n / 2), p);
	ck_assert_ptr_eq(large_resize(p, large_usable_size(p)), p);
	r = large_resize(p, big);
	if (IS_ENABLED(CONFIG_GUARD_BIG))
		ck_assert_msg(r == NULL, "grew over the guard page");
	if (r) {
		ck_assert_ptr_eq(r, p);
		ck_assert_uint_ge(large_usable_size(p), big);
		ck_assert_uint_eq(registry_kind(base), REG_LARGE_HEAD);
		for (a = base + SS_SIZE; a < (uintptr_t)p + big; a += SS_SIZE)
			ck_assert_uint_eq(registry_kind(a), REG_LARGE_TAIL);
		memset(p + n, 0x11, big - n);
	} else {
		ck_assert_uint_ge(large_usable_size(p), n);
		ck_assert_uint_lt(large_usable_size(p), big);
	}
	ck_assert(check(p, n, 7));

	/* hak_realloc keeps the contents, in place or moved. */
	q = hak_realloc(p, 20 * MiB);
	ck_assert(q);
	ck_assert(check(q, n, 7));
	ck_assert_uint_ge(hak_malloc_usable_size(q), 20 * MiB);
	ck_assert_uint_eq(registry_kind(base_of(q)), REG_LARGE_HEAD);
	q[20 * MiB - 1] = 1;
	/* Down to a pool size: moved into a slab, contents kept. */
	p = hak_realloc(q, 100 * KiB);
	ck_assert(p);
	ck_assert(check(p, 100 * KiB, 7));
	ck_assert_uint_eq(registry_kind((uintptr_t)p), REG_SUPERSLAB);
	hak_free(p);
}
END_TEST

START_TEST(test_aligned_big)
{
	static const size_t aligns[] = { 128 * KiB, MiB, 2 * MiB, 4 * MiB };
	static const size_t sizes[] = { 100, 64 * KiB, 3 * MiB };
	unsigned int i, j;

	ck_assert_int_eq(hak_init(), 0);
	for (i = 0; i < sizeof(aligns) / sizeof(aligns[0]); i++) {
		for (j = 0; j < sizeof(sizes) / sizeof(sizes[0]); j++) {
			size_t al = aligns[i], n = sizes[j];
			char *p = hak_memalign(al, n);
			void *q = NULL;
			uintptr_t base;

			ck_assert_msg(p != NULL, "memalign(%zu, %zu)", al, n);
			ck_assert_msg((uintptr_t)p % al == 0, "memalign(%zu, %zu) = %p", al, n, p);
			ck_assert_uint_ge(hak_malloc_usable_size(p), n);
			memset(p, 0x5a, n);
			if (al > SLAB_SIZE) {
				base = base_of(p);
				ck_assert_uint_eq(registry_kind((uintptr_t)p - 1), REG_LARGE_HEAD);
				ck_assert_uint_ge(large_usable_size(p), n);
				hak_free(p);
				/* Aligned big blocks are not cached. */
				ck_assert_uint_eq(registry_kind(base), REG_NONE);
			} else {
				hak_free(p);
			}
			ck_assert_int_eq(hak_posix_memalign(&q, al, n), 0);
			ck_assert((uintptr_t)q % al == 0);
			ck_assert_uint_ge(hak_malloc_usable_size(q), n);
			hak_free(q);
		}
	}
}
END_TEST

START_TEST(test_calloc_big)
{
	static const size_t sizes[] = { POOL_MAX_SIZE + 1, 5 * MiB, 17 * MiB + 3 };
	unsigned int k, r;

	for (r = 0; r < 2; r++) {
		for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
			char *p = hak_calloc(1, sizes[k]);

			ck_assert(p);
			ck_assert_uint_eq(first_not(p, sizes[k], 0), sizes[k]);
			memset(p, 0xff, sizes[k]);
			hak_free(p);
		}
	}
}
END_TEST

static Suite *make_suite(void)
{
	TCase *tc;
	Suite *s = one_tcase_suite("large", "core", 60, &tc);

	tcase_add_test(tc, test_header_placement);
	tcase_add_test(tc, test_freed_unregistered_without_cache);
	tcase_add_test(tc, test_bigcache_reuse);
	tcase_add_test(tc, test_bigcache_budget);
	tcase_add_test(tc, test_resize);
	tcase_add_test(tc, test_aligned_big);
	tcase_add_test(tc, test_calloc_big);
	return s;
}

HAK_TEST_MAIN(make_suite)
