/* SPDX-License-Identifier: MIT */
/*
 * White-box tests of the size classes (mm/sizeclass.h): the lookup against
 * a naive search, the tiny table against the formula, the mid classes'
 * cache colouring, the 20% waste bound,
 * the span geometry and the division by multiplication.
 */
#include <stdint.h>
#include <string.h>

#include <mm/sizeclass.h>
#include <mm/superslab/superslab.h>
#include "harness.h"
#include "testutil.h"

/* The smallest class of n's tier that holds n (a request decides its tier:
 * the largest tiny class is a little over TINY_MAX_SIZE). */
static unsigned int naive_class(size_t n)
{
	unsigned int c = n > TINY_MAX_SIZE ? NUM_TINY_CLASSES : 0;

	for (; c < NUM_CLASSES; c++)
		if (class_info[c].size >= n)
			return c;
	return NUM_CLASSES;
}

/* The size class c stands for: 16 B steps to 128 B, then 4 per doubling. */
static uint32_t nominal_size(unsigned int c)
{
	unsigned int b = 7 + (c - 8) / 4, q = (c - 8) % 4 + 1;

	if (c < 8)
		return 16 * (c + 1);
	return (1u << b) + (q << (b - 2));
}

static void check_lookup(size_t n)
{
	unsigned int c = size_to_class(n), want = naive_class(n);

	if (c != want)
		ck_abort_msg("size_to_class(%zu) = %u (%u B), want %u (%u B)", n, c,
			     c < NUM_CLASSES ? class_info[c].size : 0, want,
			     want < NUM_CLASSES ? class_info[want].size : 0);
}

START_TEST(test_table_shape)
{
	unsigned int c;

	ck_assert_uint_eq(class_info[NUM_CLASSES - 1].size, POOL_MAX_SIZE);
	ck_assert_uint_eq(nominal_size(NUM_TINY_CLASSES - 1), TINY_MAX_SIZE);
	ck_assert_uint_eq(class_info[0].size, MIN_ALIGN);
	for (c = 0; c < NUM_CLASSES; c++) {
		const struct class_info *ci = &class_info[c];

		ck_assert_msg(ci->size % 16 == 0, "class %u size %u", c, ci->size);
		if (c)
			ck_assert_uint_gt(ci->size, class_info[c - 1].size);
		if (ci->size <= 128)
			ck_assert_uint_eq(ci->size, 16 * (c + 1));
		ck_assert_uint_eq(ci->tier, c < NUM_TINY_CLASSES ? 0 : ci->tier);
		ck_assert_uint_le(ci->tier, 2);
		if (c < NUM_TINY_CLASSES)
			ck_assert_uint_le(nominal_size(c), TINY_MAX_SIZE);
		else
			ck_assert_uint_gt(ci->size, TINY_MAX_SIZE);
		if (c)
			ck_assert_uint_ge(ci->tier, class_info[c - 1].tier);
	}
	/* Sizes are the nominal ones, except the cache colouring: the 1 KiB
	 * class 16 B over, mid classes that are not powers of two 64 B
	 * short, so consecutive blocks do not all start on a few L1 sets. */
	for (c = 0; c < NUM_CLASSES; c++) {
		uint32_t size = class_info[c].size, nominal = nominal_size(c);

		if (nominal == TINY_MAX_SIZE)
			ck_assert_uint_eq(size, nominal + 16);
		else if (nominal > TINY_MAX_SIZE && nominal <= MID_MAX_SIZE &&
			 (nominal & (nominal - 1)))
			ck_assert_uint_eq(size, nominal - 64);
		else
			ck_assert_uint_eq(size, nominal);
		ck_assert_uint_eq(class_info[c].tier, nominal <= TINY_MAX_SIZE ? 0 :
				  nominal <= MID_MAX_SIZE ? 1 : 2);
	}
	ck_assert_uint_eq(nominal_size(NUM_CLASSES - 1), POOL_MAX_SIZE);
}
END_TEST

START_TEST(test_lookup_exhaustive_small)
{
	size_t n;

	for (n = 0; n <= 4096; n++)
		check_lookup(n);
}
END_TEST

START_TEST(test_lookup_sampled_large)
{
	unsigned int c;
	size_t n;

	/* Every class boundary and its neighbours. */
	for (c = 0; c < NUM_CLASSES; c++) {
		size_t s = class_info[c].size;

		check_lookup(s - 1);
		check_lookup(s);
		if (s < POOL_MAX_SIZE)
			check_lookup(s + 1);
		if (s > 32) {
			check_lookup(s - 15);
			check_lookup(s - 16);
			check_lookup(s - 17);
		}
	}
	/* Powers of two and their neighbours. */
	for (n = 4096; n <= POOL_MAX_SIZE; n <<= 1) {
		check_lookup(n - 1);
		check_lookup(n);
		if (n < POOL_MAX_SIZE)
			check_lookup(n + 1);
	}
	/* A stride through the rest. */
	for (n = 4097; n <= POOL_MAX_SIZE; n += 97)
		check_lookup(n);
	check_lookup(POOL_MAX_SIZE);
}
END_TEST

START_TEST(test_tiny_lut_vs_formula)
{
	size_t n;

	for (n = 0; n <= TINY_MAX_SIZE; n++) {
		unsigned int lut = tiny_class_lut[(n + 15) >> 4];
		unsigned int formula;

		if (n <= 128)
			formula = n ? (unsigned int)((n + 15) / 16) - 1 : 0;
		else
			formula = size_to_class_doubling(n);
		ck_assert_msg(lut == formula, "n %zu: lut %u formula %u", n, lut, formula);
		ck_assert_uint_lt(lut, NUM_TINY_CLASSES);
	}
	/* The pool lookup continues the tiny classes. */
	ck_assert_uint_eq(size_to_class_pool(TINY_MAX_SIZE + 1), NUM_TINY_CLASSES);
	ck_assert_uint_eq(size_to_class_pool(POOL_MAX_SIZE), NUM_CLASSES - 1);
}
END_TEST

START_TEST(test_waste)
{
	size_t n;

	for (n = 64; n <= POOL_MAX_SIZE; n += (n < 65536 ? 1 : 7)) {
		unsigned int c = size_to_class(n);
		uint64_t size = class_info[c].size;

		if ((size - n) * 100 > 20 * size)
			ck_abort_msg("n %zu in class %u (%llu B): waste over 20%%", n, c,
				     (unsigned long long)size);
	}
}
END_TEST

START_TEST(test_span_geometry)
{
	unsigned int c;

	for (c = 0; c < NUM_CLASSES; c++) {
		const struct class_info *ci = &class_info[c];
		uint64_t span = (uint64_t)ci->nslabs * SLAB_SIZE;

		int mid = c >= NUM_TINY_CLASSES && ci->size <= MID_MAX_SIZE;

		ck_assert_uint_ge(ci->nslabs, 1);
		/* Mid spans take all but two slabs of a superslab at most,
		 * for 64 blocks (as many as fit, past that); the others half. */
		ck_assert_uint_le(ci->nslabs, mid ? MID_SPAN_MAX_SLABS : SLABS_PER_SS / 2);
		if (mid)
			ck_assert_msg(ci->blocks >= 64 ||
				      ci->blocks == MID_SPAN_MAX_SLABS * SLAB_SIZE / ci->size,
				      "mid class %u (%u B): %u blocks", c, ci->size, ci->blocks);
		ck_assert_msg((uint64_t)ci->blocks * ci->size <= span,
			      "class %u: %u blocks of %u in %u slabs", c, ci->blocks,
			      ci->size, ci->nslabs);
		ck_assert_uint_eq(ci->blocks, span / ci->size);
		ck_assert_uint_ge(ci->blocks, 1);
		if (8ULL * ci->size <= (uint64_t)(SLABS_PER_SS / 2) * SLAB_SIZE)
			ck_assert_msg(ci->blocks >= 8, "class %u (%u B): %u blocks", c,
				      ci->size, ci->blocks);
		/* Span waste bounded (7%, as the static asserts say). */
		ck_assert((span - (uint64_t)ci->blocks * ci->size) * 100 <= 7 * span);
		/* Tiny classes: one slab up to 256 blocks, else enough slabs
		 * for 256 blocks, at most 4 (scripts/gen-classes.py). */
		if (c < NUM_TINY_CLASSES) {
			ck_assert_uint_le(ci->nslabs, 4);
			if (ci->nslabs > 1)
				ck_assert_uint_lt((uint64_t)(ci->nslabs - 1) * SLAB_SIZE,
						  256ULL * ci->size);
			if (ci->nslabs < 4)
				ck_assert_uint_ge(ci->blocks, 256);
		}
	}
}
END_TEST

/* q(off) = rotr64(off * div_inv, div_shift), as span_block_index does it. */
static uint64_t div_q(const struct class_info *ci, uint64_t off)
{
	return rotr64(off * ci->div_inv, ci->div_shift);
}

START_TEST(test_div_inverse)
{
	unsigned int c;

	for (c = 0; c < NUM_CLASSES; c++) {
		const struct class_info *ci = &class_info[c];
		uint64_t size = ci->size, odd = size >> ci->div_shift;
		uint64_t span = (uint64_t)ci->nslabs * SLAB_SIZE, off, q;

		/* size = odd << shift, and div_inv inverts odd mod 2^64. */
		ck_assert_uint_eq(odd & 1, 1);
		ck_assert_uint_eq(odd << ci->div_shift, size);
		ck_assert_uint_eq(odd * ci->div_inv, 1);
		/* Every block offset in the span gives its index. */
		for (off = 0, q = 0; off < span; off += size, q++)
			if (div_q(ci, off) != q)
				ck_abort_msg("class %u: %llu / %llu wrong", c,
					     (unsigned long long)off, (unsigned long long)size);
		/* Non-multiples give an index past any span: sampled in every
		 * block, exhaustively in the first and last blocks. */
		for (off = 0; off < span; off += size) {
			uint64_t r, step = size > 64 ? size / 7 : 1;

			for (r = 1; r < size; r += (off == 0 || off + size >= span) ? 1 : step)
				if (div_q(ci, off + r) < SS_SIZE)
					ck_abort_msg("class %u: offset %llu taken for a block start",
						     c, (unsigned long long)(off + r));
		}
		/* Offsets below the span start (wrapped) are rejected too. */
		for (off = 1; off < 4 * size; off += 8)
			if (div_q(ci, (uint64_t)0 - off) < SS_SIZE)
				ck_abort_msg("class %u: negative offset %llu accepted", c,
					     (unsigned long long)off);
	}
}
END_TEST

/*
 * The block-start test (span_is_block): off * block_mul mod 2^64 is
 * q * block_step for off = q * size, and at least 2^40 for every other
 * offset in a superslab, negative ones too.  Exhaustive over the span and
 * the slab before it, sampled down to -SS_SIZE.
 */
START_TEST(test_block_mul)
{
	unsigned int c;

	for (c = 0; c < NUM_CLASSES; c++) {
		const struct class_info *ci = &class_info[c];
		uint64_t size = ci->size, span = (uint64_t)ci->nslabs * SLAB_SIZE;
		int64_t off;

		ck_assert_uint_eq(ci->block_mul,
				  (uint64_t)(((unsigned __int128)1 << 64) / size) + 1);
		ck_assert_uint_eq(ci->block_step, ci->block_mul * size);
		ck_assert_uint_ge(ci->block_step, 1);
		ck_assert_uint_le(ci->block_step, size);
		for (off = -(int64_t)SS_SIZE; off < (int64_t)span;
		     off += off < -(int64_t)SLAB_SIZE ? 7 : 1) {
			uint64_t key = (uint64_t)off * ci->block_mul;

			if (off >= 0 && (uint64_t)off % size == 0) {
				if (key != (uint64_t)off / size * ci->block_step)
					ck_abort_msg("class %u: block at %lld keyed %llu", c,
						     (long long)off, (unsigned long long)key);
			} else if (key < ((uint64_t)1 << 40)) {
				ck_abort_msg("class %u: offset %lld taken for a block start",
					     c, (long long)off);
			}
		}
	}
}
END_TEST

START_TEST(test_span_block_index_fake)
{
	/* span_block_index on a hand-made span descriptor of every class. */
	unsigned int c;

	for (c = 0; c < NUM_CLASSES; c++) {
		struct span s;
		uintptr_t start = (uintptr_t)1 << 30;
		long i;

		memset(&s, 0, sizeof(s));
		s.start = start;
		s.block_size = class_info[c].size;
		s.div_inv = class_info[c].div_inv;
		s.div_shift = (uint8_t)class_info[c].div_shift;
		s.block_mul = class_info[c].block_mul;
		s.cls = (uint8_t)c;
		s.capacity = class_info[c].blocks;
		span_set_carved(&s, s.capacity > 3 ? s.capacity - 2 : s.capacity);
		for (i = 0; i < (long)s.capacity; i++) {
			uintptr_t a = start + (uintptr_t)i * s.block_size;
			long want = i < (long)s.carved ? i : -1;

			ck_assert_int_eq(span_block_index(&s, a), want);
			if (s.block_size > 16) {
				ck_assert_int_eq(span_block_index(&s, a + 16), -1);
				ck_assert_int_eq(span_block_index(&s, a + s.block_size - 16), -1);
			}
			ck_assert_int_eq(span_block_index(&s, a + 1), -1);
			ck_assert_int_eq(span_block_index(&s, a + 8), -1);
		}
		ck_assert_int_eq(span_block_index(&s, start - 16), -1);
		ck_assert_int_eq(span_block_index(&s, start - s.block_size), -1);
	}
}
END_TEST

static Suite *make_suite(void)
{
	TCase *tc;
	Suite *s = one_tcase_suite("sizeclass", "core", 60, &tc);

	tcase_add_test(tc, test_table_shape);
	tcase_add_test(tc, test_lookup_exhaustive_small);
	tcase_add_test(tc, test_lookup_sampled_large);
	tcase_add_test(tc, test_tiny_lut_vs_formula);
	tcase_add_test(tc, test_waste);
	tcase_add_test(tc, test_span_geometry);
	tcase_add_test(tc, test_div_inverse);
	tcase_add_test(tc, test_block_mul);
	tcase_add_test(tc, test_span_block_index_fake);
	return s;
}

HAK_TEST_MAIN(make_suite)
