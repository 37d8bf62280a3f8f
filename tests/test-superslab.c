/* SPDX-License-Identifier: MIT */
/*
 * White-box tests of the superslab layer (mm/superslab/): the registry's
 * view of our blocks and of foreign addresses, the geometry of spans taken
 * from the pool for every class, the descriptors' head pointers, span_block_index, and the
 * LRU cache of empty superslabs with its decay.
 */
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include <lib/bitops.h>
#include <mm/heap/heap.h>
#include <mm/options.h>
#include <mm/policy.h>
#include <mm/os.h>
#include <mm/stats.h>
#include <mm/superslab/superslab.h>
#include "harness.h"
#include "testutil.h"

static int global_var;

START_TEST(test_registry_kinds)
{
	int local = 0;
	void *tiny, *mid, *big;
	uintptr_t b;

	ck_assert_int_eq(hak_init(), 0);
	tiny = hak_malloc(24);
	mid = hak_malloc(5000);
	big = hak_malloc(3 * MiB);
	ck_assert(tiny && mid && big);
	ck_assert_uint_eq(registry_kind((uintptr_t)tiny), REG_SUPERSLAB);
	ck_assert_uint_eq(registry_kind((uintptr_t)mid), REG_SUPERSLAB);
	ck_assert_uint_eq(registry_kind((uintptr_t)ss_of((uintptr_t)tiny)), REG_SUPERSLAB);
	ck_assert_uint_eq(registry_kind((uintptr_t)tiny + 8), REG_SUPERSLAB);

	b = (uintptr_t)big;
	ck_assert_uint_eq(registry_kind(b - 1), REG_LARGE_HEAD);
	ck_assert_uint_eq(registry_kind((b - 1) & ~SS_MASK), REG_LARGE_HEAD);
	ck_assert_uint_ne(registry_kind(b), REG_NONE);
	/* A 3 MiB block spans two SS_SIZE pieces at least (with 2 MiB ones). */
	if (SS_SIZE < 3 * MiB)
		ck_assert_uint_eq(registry_kind(((b - 1) & ~SS_MASK) + SS_SIZE), REG_LARGE_TAIL);

	/* Foreign addresses. */
	ck_assert_uint_eq(registry_kind((uintptr_t)&local), REG_NONE);
	ck_assert_uint_eq(registry_kind((uintptr_t)&global_var), REG_NONE);
	ck_assert_uint_eq(registry_kind((uintptr_t)&test_registry_kinds), REG_NONE);
	ck_assert_uint_eq(registry_kind(0), REG_NONE);
	ck_assert_uint_eq(registry_kind(4096), REG_NONE);
	ck_assert_uint_eq(registry_kind((uintptr_t)1 << VA_BITS), REG_NONE);
	ck_assert_uint_eq(registry_kind(((uintptr_t)1 << VA_BITS) + (uintptr_t)tiny), REG_NONE);
	ck_assert_uint_eq(registry_kind(UINTPTR_MAX), REG_NONE);
	ck_assert_uint_eq(registry_kind(UINTPTR_MAX - 15), REG_NONE);
	ck_assert_uint_eq(registry_kind((uintptr_t)tiny | (0x5aULL << 56)), REG_NONE);
	ck_assert_uint_eq(registry_kind((uintptr_t)tiny | (0xffULL << 56)), REG_NONE);
	ck_assert_uint_eq(registry_kind((uintptr_t)tiny | (1ULL << 63)), REG_NONE);
	ck_assert_uint_eq(registry_kind(b | (0x01ULL << 56)), REG_NONE);

	/* Foreign and tagged pointers are not ours for the API either. */
	ck_assert_uint_eq(hak_malloc_usable_size(&local), 0);
	ck_assert_uint_eq(hak_malloc_usable_size((void *)((uintptr_t)tiny | (0x5aULL << 56))), 0);

	hak_free(tiny);
	hak_free(mid);
	hak_free(big);
}
END_TEST

static void check_span_geometry(unsigned int cls, struct span *s)
{
	const struct class_info *ci = &class_info[cls];
	struct superslab *ss = ss_of((uintptr_t)s);
	uintptr_t base = (uintptr_t)ss, end, slabs_end;
	unsigned int i, first = s->index;
	size_t align;

	ck_assert_uint_eq(registry_kind(base), REG_SUPERSLAB);
	ck_assert(s == &ss->spans[first]);
	ck_assert_uint_eq(s->cls, cls);
	ck_assert_uint_eq(s->nslabs, ci->nslabs);
	ck_assert_uint_eq(s->block_size, ci->size);
	ck_assert_uint_eq(s->div_inv, ci->div_inv);
	ck_assert_uint_eq(s->div_shift, ci->div_shift);
	ck_assert_uint_eq(s->block_mul, ci->block_mul);
	ck_assert_uint_eq(s->state, SPAN_ACTIVE);
	ck_assert_uint_eq(s->used, 0);
	ck_assert_uint_eq(s->carved, 0);
	ck_assert_uint_eq(s->carved_limit, 0);
	ck_assert(s->free == NULL);
	ck_assert_uint_le(first + ci->nslabs, SLABS_PER_SS);
	ck_assert_uint_ge(ss->first_offset, SS_META_BYTES);
	ck_assert_uint_eq(ss->first_offset % ARCH_MAX_PAGE_SIZE, 0);
	ck_assert_uint_ge(ss->first_offset, sizeof(struct superslab));

	/* Inside its slabs, after the metadata, inside the superslab. */
	ck_assert_msg(s->start >= base + ss->first_offset,
		      "class %u: span at %#lx inside the metadata (%u bytes)", cls,
		      (unsigned long)(s->start - base), ss->first_offset);
	ck_assert_uint_ge(s->start, base + (uintptr_t)first * SLAB_SIZE);
	/* The end of its slabs, or the end guard (CONFIG_GUARD_PAGES). */
	slabs_end = base + (uintptr_t)(first + ci->nslabs) * SLAB_SIZE;
	if (IS_ENABLED(CONFIG_GUARD_PAGES) && first + ci->nslabs == SLABS_PER_SS)
		slabs_end -= SS_GUARD_BYTES;
	end = s->start + (uintptr_t)s->capacity * s->block_size;
	ck_assert_uint_le(end, slabs_end);
	ck_assert_uint_le(end, base + SS_SIZE);
	ck_assert_uint_ge(s->capacity, 1);
	/* The span holds all the blocks its slabs can. */
	ck_assert_uint_eq(s->capacity, (slabs_end - s->start) / ci->size);
	if (s->start == base + (uintptr_t)first * SLAB_SIZE &&
	    slabs_end == base + (uintptr_t)(first + ci->nslabs) * SLAB_SIZE)
		ck_assert_uint_eq(s->capacity, ci->blocks);
	/* Only single-slab spans of classes <= 4 KiB use the short slab 0. */
	if (s->start != base + (uintptr_t)first * SLAB_SIZE)
		ck_assert(first == 0 && ci->nslabs == 1 && ci->size <= 4096);

	/* Block alignment: a class that is a multiple of A <= 64 KiB starts
	 * A-aligned. */
	align = ci->size & -ci->size;
	if (align > 65536)
		align = 65536;
	ck_assert_msg(s->start % align == 0, "class %u (%u B): start %#lx not %zu-aligned",
		      cls, ci->size, (unsigned long)s->start, align);
	if (ci->size % 4096 == 0)
		ck_assert_uint_eq(s->start % 4096, 0);

	/* Every slab's descriptor points at the span's first slab. */
	for (i = first; i < first + ci->nslabs; i++) {
		ck_assert_ptr_eq(ss->spans[i].head, s);
		ck_assert(span_of(ss, base + (uintptr_t)i * SLAB_SIZE) == s);
		ck_assert(span_of(ss, base + (uintptr_t)i * SLAB_SIZE + SLAB_SIZE - 1) == s);
	}
	ck_assert(span_of(ss, s->start) == s);
	ck_assert(span_of(ss, end - 1) == s);
	/* The slabs are no longer free. */
	ck_assert_uint_eq(ss->free_mask & bit_run_mask(first, ci->nslabs), 0);
	ck_assert_uint_eq(ss->usable_mask & bit_run_mask(first, ci->nslabs),
			  bit_run_mask(first, ci->nslabs));
}

START_TEST(test_pool_spans_every_class)
{
	unsigned int c, k;

	ck_assert_int_eq(hak_init(), 0);
	/* Spans in the span caches count as in use until a decay check (the
	 * purge thread's, with CONFIG_PURGE_THREAD) moves them: none now. */
	decay_run(1);
	for (c = 0; c < NUM_CLASSES; c++) {
		struct span *s[3];
		int64_t before = stat_now(STAT_SLABS_IN_USE);

		for (k = 0; k < 3; k++) {
			s[k] = slabpool_acquire_span(c, NULL);
			ck_assert_msg(s[k] != NULL, "class %u: no span", c);
			check_span_geometry(c, s[k]);
		}
		ck_assert_int_eq(stat_now(STAT_SLABS_IN_USE), before + 3 * class_info[c].nslabs);
		/* Distinct and non-overlapping. */
		ck_assert(s[0] != s[1] && s[1] != s[2] && s[0] != s[2]);
		for (k = 0; k < 3; k++) {
			struct superslab *ss = ss_of((uintptr_t)s[k]);
			unsigned int first = s[k]->index, n = s[k]->nslabs, i;

			slabpool_release_span(s[k]);
			/* heads reset; slabs free again (unless the superslab
			 * went away entirely: no LRU). */
			if (registry_kind((uintptr_t)ss) != REG_SUPERSLAB)
				continue;
			ck_assert_uint_eq(s[k]->state, SPAN_FREE);
			for (i = first; i < first + n; i++)
				ck_assert_ptr_eq(ss->spans[i].head, &ss->spans[i]);
			ck_assert_uint_eq(ss->free_mask & bit_run_mask(first, n),
					  bit_run_mask(first, n));
		}
		ck_assert_int_eq(stat_now(STAT_SLABS_IN_USE), before);
	}
}
END_TEST

/* Slab 0 is short: spans of small classes may use it, blocks start after
 * the metadata (and guard). */
START_TEST(test_slab0_usage)
{
	struct span *s[SLABS_PER_SS * 2 + 2];
	unsigned int n = 0, k, saw_slab0 = 0;
	unsigned int cls = 0;   /* 16 B */

	ck_assert_int_eq(hak_init(), 0);
	for (n = 0; n < SLABS_PER_SS * 2 + 2; n++) {
		s[n] = slabpool_acquire_span(cls, NULL);
		ck_assert(s[n]);
		check_span_geometry(cls, s[n]);
		if (s[n]->index == 0) {
			struct superslab *ss = ss_of((uintptr_t)s[n]);

			saw_slab0 = 1;
			ck_assert_uint_eq(s[n]->start, (uintptr_t)ss + ss->first_offset);
			ck_assert_uint_lt(s[n]->capacity, class_info[cls].blocks);
		}
	}
	for (k = 0; k < n; k++)
		slabpool_release_span(s[k]);
	if (SS_RESERVED_BYTES < SLAB_SIZE)
		ck_assert_msg(saw_slab0, "slab 0 never used although %lu bytes of it are free",
			      (unsigned long)(SLAB_SIZE - SS_RESERVED_BYTES));
}
END_TEST

START_TEST(test_span_block_index_live)
{
	void *p[64];
	struct span *s;
	uintptr_t a;
	unsigned int i;
	long idx;

	ck_assert_int_eq(hak_init(), 0);
	for (i = 0; i < 64; i++)
		p[i] = hak_malloc(200);
	a = (uintptr_t)p[0];
	ck_assert_uint_eq(registry_kind(a), REG_SUPERSLAB);
	s = span_of(ss_of(a), a);
	ck_assert_uint_eq(s->block_size, class_info[size_to_class(200)].size);
	idx = span_block_index(s, a);
	ck_assert_int_ge(idx, 0);
	ck_assert_uint_eq(s->start + (uintptr_t)idx * s->block_size, a);
	ck_assert_int_lt(idx, s->carved);
	/* Interior pointers. */
	ck_assert_int_eq(span_block_index(s, a + 1), -1);
	ck_assert_int_eq(span_block_index(s, a + 16), -1);
	ck_assert_int_eq(span_block_index(s, a + s->block_size - 1), -1);
	ck_assert_int_eq(span_block_index(s, s->start - 16), -1);
	/* Blocks not carved yet. */
	if (s->carved < s->capacity) {
		ck_assert_int_eq(span_block_index(s, s->start + (uintptr_t)s->carved * s->block_size), -1);
		ck_assert_int_eq(span_block_index(s, s->start + (uintptr_t)(s->capacity - 1) * s->block_size), -1);
	}
	ck_assert_int_eq(span_block_index(s, s->start + (uintptr_t)s->capacity * s->block_size), -1);
	/* The API rejects the same pointers. */
	ck_assert_uint_eq(hak_malloc_usable_size((char *)p[0] + 16), 0);
	ck_assert_uint_eq(hak_malloc_usable_size(p[0]), s->block_size);
	for (i = 0; i < 64; i++) {
		struct span *t = span_of(ss_of((uintptr_t)p[i]), (uintptr_t)p[i]);

		ck_assert_int_ge(span_block_index(t, (uintptr_t)p[i]), 0);
		hak_free(p[i]);
	}
}
END_TEST

/* Takes spans of one single-slab class until some superslab is wholly
 * ours; returns it, with the spans in s[0..*n). */
/* The slabs of ss that spans of class cls may use: with the end guard
 * taking the whole last slab (64 KiB pages), small classes skip it. */
static uint64_t class_usable_slabs(const struct superslab *ss, unsigned int cls)
{
	const struct class_info *ci = &class_info[cls];
	uint64_t usable = ss->usable_mask;

	if (IS_ENABLED(CONFIG_GUARD_PAGES) && ci->nslabs * SLAB_SIZE - SS_GUARD_BYTES < ci->size)
		usable &= ~(1ULL << (SLABS_PER_SS - 1));
	return usable;
}

static struct superslab *own_whole_superslab(unsigned int cls, struct span **s,
					     unsigned int max, unsigned int *n)
{
	unsigned int k, j;

	for (k = 0; k < max; k++) {
		struct superslab *ss;
		unsigned int mine = 0;

		s[k] = slabpool_acquire_span(cls, NULL);
		ck_assert(s[k]);
		ss = ss_of((uintptr_t)s[k]);
		for (j = 0; j <= k; j++)
			if (ss_of((uintptr_t)s[j]) == ss)
				mine += s[j]->nslabs;
		if (mine == popcount64(class_usable_slabs(ss, cls))) {
			*n = k + 1;
			return ss;
		}
	}
	*n = max;
	return NULL;
}

START_TEST(test_lru_and_decay)
{
	struct span *s[3 * SLABS_PER_SS];
	struct superslab *ss;
	unsigned int n, k;
	int64_t cached, mapped, in_use;

	HAK_REQUIRE(IS_ENABLED(CONFIG_SS_LRU), "needs CONFIG_SS_LRU");
	ck_assert_int_eq(hak_init(), 0);
	option_values[OPT_DECAY_MS].num = 60000;    /* no decay behind our back */
	ck_assert_uint_ge(hak_option(OPT_SS_LRU_CAPACITY), 1);

	ss = own_whole_superslab(0, s, 3 * SLABS_PER_SS, &n);
	ck_assert_msg(ss != NULL, "no superslab became wholly ours");
	/* Release the others first. */
	for (k = 0; k < n; k++)
		if (ss_of((uintptr_t)s[k]) != ss) {
			slabpool_release_span(s[k]);
			s[k] = NULL;
		}
	/* The others may have filled an LRU of one superslab. */
	slabpool_decay(os_now_ms(), 1);
	cached = stat_now(STAT_SUPERSLABS_CACHED);
	in_use = stat_now(STAT_SUPERSLABS_IN_USE);
	mapped = stat_now(STAT_BYTES_MAPPED);
	for (k = 0; k < n; k++) {
		if (!s[k])
			continue;
		ck_assert_int_eq(ss->in_lru, 0);
		slabpool_release_span(s[k]);
	}
	ck_assert_int_eq(ss->in_lru, 1);
	ck_assert_uint_eq(ss->free_mask, ss->usable_mask);
	ck_assert_int_eq(stat_now(STAT_SUPERSLABS_CACHED), cached + 1);
	ck_assert_int_eq(stat_now(STAT_SUPERSLABS_IN_USE), in_use - 1);
	ck_assert_int_eq(stat_now(STAT_BYTES_MAPPED), mapped);
	ck_assert_uint_eq(registry_kind((uintptr_t)ss), REG_SUPERSLAB);

	/* Not old enough: a non-forced decay keeps it. */
	slabpool_decay(os_now_ms(), 0);
	ck_assert_uint_eq(registry_kind((uintptr_t)ss), REG_SUPERSLAB);
	ck_assert_int_eq(stat_now(STAT_SUPERSLABS_CACHED), cached + 1);

	/* Forced: every cached superslab is unmapped and unregistered. */
	slabpool_decay(os_now_ms(), 1);
	ck_assert_int_eq(stat_now(STAT_SUPERSLABS_CACHED), 0);
	ck_assert_int_le(stat_now(STAT_BYTES_MAPPED), mapped - (int64_t)SS_SIZE);
	ck_assert_uint_eq(registry_kind((uintptr_t)ss), REG_NONE);
}
END_TEST

START_TEST(test_lru_reuse)
{
	struct span *s[3 * SLABS_PER_SS];
	struct superslab *ss;
	unsigned int n, k;
	int64_t mapped;

	HAK_REQUIRE(IS_ENABLED(CONFIG_SS_LRU), "needs CONFIG_SS_LRU");
	ck_assert_int_eq(hak_init(), 0);
	option_values[OPT_DECAY_MS].num = 60000;
	slabpool_decay(os_now_ms(), 1);    /* empty LRU */
	ss = own_whole_superslab(0, s, 3 * SLABS_PER_SS, &n);
	ck_assert(ss);
	for (k = 0; k < n; k++)
		if (ss_of((uintptr_t)s[k]) != ss)
			slabpool_release_span(s[k]);
	/* The others may have filled an LRU of one superslab. */
	slabpool_decay(os_now_ms(), 1);
	for (k = 0; k < n; k++)
		if (ss_of((uintptr_t)s[k]) == ss)
			slabpool_release_span(s[k]);
	ck_assert_int_eq(ss->in_lru, 1);
	mapped = stat_now(STAT_BYTES_MAPPED);
	/* Once the partial superslabs are full, the next span comes from the
	 * LRU (most recently emptied first), not from a new mapping. */
	for (k = 0; k < 3 * SLABS_PER_SS; k++) {
		s[k] = slabpool_acquire_span(0, NULL);
		ck_assert(s[k]);
		if (ss_of((uintptr_t)s[k]) == ss)
			break;
		ck_assert_int_eq(stat_now(STAT_BYTES_MAPPED), mapped);
	}
	ck_assert_msg(k < 3 * SLABS_PER_SS, "LRU superslab not reused");
	ck_assert_int_eq(stat_now(STAT_BYTES_MAPPED), mapped);
	ck_assert_int_eq(ss->in_lru, 0);
	check_span_geometry(0, s[k]);
	n = k + 1;
	for (k = 0; k < n; k++)
		slabpool_release_span(s[k]);
}
END_TEST

START_TEST(test_no_lru_when_disabled)
{
	struct span *s[3 * SLABS_PER_SS];
	struct superslab *ss;
	unsigned int n, k;
	int64_t mapped;

	ck_assert_int_eq(hak_init(), 0);
	option_values[OPT_SS_LRU_CAPACITY].num = 0;
	policy_reset();
	ss = own_whole_superslab(0, s, 3 * SLABS_PER_SS, &n);
	ck_assert(ss);
	for (k = 0; k < n; k++)
		if (ss_of((uintptr_t)s[k]) != ss)
			slabpool_release_span(s[k]);
	mapped = stat_now(STAT_BYTES_MAPPED);
	for (k = 0; k < n; k++)
		if (ss_of((uintptr_t)s[k]) == ss)
			slabpool_release_span(s[k]);
	/* Unmapped at once. */
	ck_assert_uint_eq(registry_kind((uintptr_t)ss), REG_NONE);
	ck_assert_int_eq(stat_now(STAT_BYTES_MAPPED), mapped - (int64_t)SS_SIZE);
}
END_TEST

/* The span cache: a released span goes to the next acquirer of its class
 * without slabpool_lock, holds no blocks while cached, and drains on decay. */
START_TEST(test_span_cache)
{
	struct span *s, *t;
	uint64_t acq;

	HAK_REQUIRE(IS_ENABLED(CONFIG_SPAN_CACHE), "needs CONFIG_SPAN_CACHE");
	ck_assert_int_eq(hak_init(), 0);
	decay_run(1);
	ck_assert_uint_eq(span_cache_slabs(), 0);
	s = slabpool_acquire_span(0, NULL);
	ck_assert(s != NULL);
	slabpool_cache_span(s);
	ck_assert_uint_eq(s->state, SPAN_CACHED);
	ck_assert_uint_eq(span_cache_slabs(), s->nslabs);
	ck_assert_int_lt(span_block_index(s, s->start), 0);
	acq = slabpool_lock.acquired;
	t = slabpool_acquire_span(0, NULL);
	ck_assert_ptr_eq(t, s);
	ck_assert_uint_eq(t->state, SPAN_ACTIVE);
	ck_assert_uint_eq(t->carved, 0);
	ck_assert_uint_eq(span_cache_slabs(), 0);
	if (IS_ENABLED(CONFIG_LOCK_STATS))
		ck_assert_uint_eq(slabpool_lock.acquired, acq);
	/* Cached at one decay check, in the pool after the next one. */
	slabpool_cache_span(t);
	decay_run(1);
	ck_assert_uint_eq(span_cache_slabs(), 0);
	if (registry_kind((uintptr_t)t) == REG_SUPERSLAB)
		ck_assert_uint_eq(t->state, SPAN_FREE);
}
END_TEST

/* Two threads trade spans of one class through the cache: each span has
 * one holder at a time (the holder's mark survives a pause). */
static void *span_cache_trader(void *arg)
{
	struct heap *mark = arg;
	int i, k;

	for (i = 0; i < 20000; i++) {
		struct span *s = slabpool_acquire_span(1, mark);

		if (!s)
			return (void *)1;
		for (k = 0; k < 20; k++)
			if (atomic_load_acquire(&s->owner) != mark)
				return (void *)2;
		slabpool_cache_span(s);
	}
	return NULL;
}

START_TEST(test_span_cache_threads)
{
	pthread_t t[2];
	void *r[2];
	static char marks[2];
	int i;

	ck_assert_int_eq(hak_init(), 0);
	for (i = 0; i < 2; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, span_cache_trader,
						(struct heap *)&marks[i]), 0);
	for (i = 0; i < 2; i++) {
		ck_assert_int_eq(pthread_join(t[i], &r[i]), 0);
		ck_assert_msg(r[i] == NULL, "thread %d: %s", i,
			      r[i] == (void *)1 ? "no span" : "span held by both threads");
	}
	decay_run(1);
	ck_assert_uint_eq(span_cache_slabs(), 0);
}
END_TEST

static Suite *make_suite(void)
{
	TCase *tc;
	Suite *s = one_tcase_suite("superslab", "core", 0, &tc);

	tcase_add_test(tc, test_registry_kinds);
	tcase_add_test(tc, test_pool_spans_every_class);
	tcase_add_test(tc, test_slab0_usage);
	tcase_add_test(tc, test_span_block_index_live);
	tcase_add_test(tc, test_lru_and_decay);
	tcase_add_test(tc, test_lru_reuse);
	tcase_add_test(tc, test_no_lru_when_disabled);
	tcase_add_test(tc, test_span_cache);
	tcase_add_test(tc, test_span_cache_threads);
	return s;
}

HAK_TEST_MAIN(make_suite)
