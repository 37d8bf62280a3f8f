/* SPDX-License-Identifier: MIT */
/*
 * Size classes: 16 B steps to 128 B, then 4 per doubling to 1 MiB, so the
 * worst internal waste is at most 20% from 64 B up.  The table rows come
 * from scripts/gen-classes.py (include/generated/classes.h) and every row
 * is checked here by the compiler.
 *
 * Cache colouring: mid classes (above 1 KiB, to 32 KiB) that are not a
 * power of two are 64 B short of their nominal size (5056 for 5120, 12224
 * for 12288, ...), and the 1 KiB class is 1040 B: blocks that would all
 * start on a page boundary (or on four offsets in it), so on one or a few
 * L1 cache sets, step through the sets instead.  The mid power-of-two
 * classes stay exact and naturally aligned for aligned requests.
 *
 * Lookup is branch-free within a tier: a 65-entry table for sizes up to
 * 1 KiB, a 496-entry table at 64 B steps to 32 KiB, a bit-scan formula
 * above.
 */
#ifndef HAKMEM_MM_SIZECLASS_H
#define HAKMEM_MM_SIZECLASS_H

#include <generated/classes.h>
#include <lib/bitops.h>
#include <mm/internal.h>

#define NUM_CLASSES       HAK_NUM_CLASSES
#define NUM_TINY_CLASSES  HAK_NUM_TINY_CLASSES
#define TINY_MAX_SIZE     1024u
#define MID_MAX_SIZE      (32u << 10)
#define POOL_MAX_SIZE     (1u << 20)

/* Tiny sizes are looked up by 16 B step: tiny_class_lut[tiny_index(n)]. */
#define TINY_STEP_SHIFT    4
#define TINY_INDEX_ENTRIES ((TINY_MAX_SIZE >> TINY_STEP_SHIFT) + 1)
static always_inline size_t tiny_index(size_t n)
{
	return (n + (1u << TINY_STEP_SHIFT) - 1) >> TINY_STEP_SHIFT;
}

/* class_info[].tier */
enum class_tier { TIER_TINY, TIER_MID, TIER_L25 };

_Static_assert(HAK_GEN_SUPERSLAB_SHIFT == SS_SHIFT, "classes.h is stale");
_Static_assert(HAK_GEN_SLAB_SHIFT == SLAB_SHIFT, "classes.h is stale");

/*
 * A mid span may take every slab of a superslab but the two its metadata
 * may cover (scripts/gen-classes.py; mm/superslab/superslab.h asserts that
 * the metadata fits), so the largest mid classes hold 60 or more blocks in
 * one span.
 */
#define MID_SPAN_MAX_SLABS HAK_MID_SPAN_MAX_SLABS
/* A heap's empty reserve keeps spans of blocks up to this size only. */
#define RESERVE_MAX_BLOCK HAK_RESERVE_MAX_BLOCK

#define HAK_CHECK_CLASS(i, size, prev, nslabs, blocks, tier)                     \
	_Static_assert((size) % MIN_ALIGN == 0, "class sizes keep 16 B alignment"); \
	_Static_assert((size) > (prev), "classes increase");                     \
	_Static_assert((size) <= 64 || ((size) - (prev) - 1) * 100 <= 20 * (size), \
		       "internal waste over 20% from 64 B up");                   \
	_Static_assert((blocks) >= 1 && (blocks) * (size) <= (nslabs) * SLAB_SIZE, \
		       "span holds its blocks");                                  \
	_Static_assert((blocks) >= 8 ||                                          \
		       8ULL * (size) > (SLABS_PER_SS / 2) * SLAB_SIZE,            \
		       "a span holds 8 blocks wherever half a superslab allows");  \
	_Static_assert(((nslabs) * SLAB_SIZE - (blocks) * (size)) * 100 <=        \
		       7 * (nslabs) * SLAB_SIZE, "span waste over 7%");           \
	_Static_assert((nslabs) <= ((tier) == TIER_MID ? MID_SPAN_MAX_SLABS : SLABS_PER_SS / 2), \
		       "span fits half a superslab (mid: all but two slabs)");   \
	_Static_assert((tier) != TIER_MID || (size) % (1 << HAK_MID_LUT_SHIFT) == 0, \
		       "mid_class_lut is exact");
HAK_CLASS_TABLE(HAK_CHECK_CLASS)
#undef HAK_CHECK_CLASS

/*
 * Division by the block size without a divide: size = odd << div_shift, and
 * div_inv is the inverse of odd modulo 2^64.  rotr64(off * div_inv,
 * div_shift) is off / size when size divides off (Granlund and Montgomery).
 *
 * Block starts without a divide or a rotate (Lemire, Kaser and Kurz): with
 * block_mul = floor(2^64 / size) + 1 and block_step = block_mul * size mod
 * 2^64 (1 <= block_step <= size), an offset off = q * size + r inside a
 * superslab (|off| < SS_SIZE) gives off * block_mul mod 2^64 = q * block_step
 * < SS_SIZE when r == 0, and more than 2^64 / size - size - SS_SIZE >= 2^40
 * otherwise, a negative off too (the assert below).  So "off * block_mul <
 * carved * block_step" is one multiply and one compare, true exactly for the
 * starts of the first `carved` blocks.
 */
_Static_assert(((unsigned __int128)1 << 64) / POOL_MAX_SIZE - POOL_MAX_SIZE - SS_SIZE >=
	       ((unsigned __int128)1 << 40), "block_mul tells block starts apart");
struct class_info {
	uint32_t size;       /* block size */
	uint32_t nslabs;     /* slabs in a span of this class */
	uint32_t blocks;     /* blocks in a span that starts on a slab boundary */
	uint32_t tier;       /* enum class_tier */
	uint64_t div_inv;    /* inverse of the odd part of size, mod 2^64 */
	uint64_t block_mul;  /* floor(2^64 / size) + 1 */
	uint64_t block_step; /* block_mul * size mod 2^64 */
	uint32_t div_shift;  /* trailing zero bits of size */
};

/* Newton's iteration for the inverse of an odd d modulo 2^64: d is its own
 * inverse modulo 8, and each step doubles the correct bits (3 -> 96). */
#define INV_STEP(d, x) ((x) * (2ULL - (d) * (x)))
#define INV64(d) INV_STEP(d, INV_STEP(d, INV_STEP(d, INV_STEP(d, INV_STEP(d, (d))))))
#define ODD_PART(n) ((unsigned long long)(n) >> __builtin_ctzll(n))
#define BLOCK_MUL(n) ((uint64_t)(((unsigned __int128)1 << 64) / (n)) + 1)

static always_inline uint64_t rotr64(uint64_t x, unsigned int k)
{
	return (x >> k) | (x << ((64 - k) & 63));
}
extern hak_hidden const struct class_info class_info[NUM_CLASSES];
extern hak_hidden const uint8_t tiny_class_lut[TINY_INDEX_ENTRIES];
/* mid_class_lut[(n - 1) / 64 - TINY_MAX_SIZE / 64] for 1 KiB < n <= 32 KiB. */
extern hak_hidden const uint8_t mid_class_lut[HAK_MID_LUT_ENTRIES];
_Static_assert(HAK_MID_LUT_ENTRIES == (MID_MAX_SIZE - TINY_MAX_SIZE) >> HAK_MID_LUT_SHIFT,
	       "mid_class_lut covers the mid tier");

/*
 * Class of n > 128 among exact 4-per-doubling classes: the tiny ones above
 * 128 B and the L2.5 ones (the mid ones are shifted: mid_class_lut).
 */
static always_inline unsigned int size_to_class_doubling(size_t n)
{
	unsigned int b = fls64_index((uint64_t)n - 1);

	return 8 + (b - 7) * 4 + (unsigned int)(((n - 1) >> (b - 2)) & 3);
}

/* Class of TINY_MAX_SIZE < n <= POOL_MAX_SIZE. */
static always_inline unsigned int size_to_class_pool(size_t n)
{
	if (n <= MID_MAX_SIZE)
		return mid_class_lut[((n - 1) >> HAK_MID_LUT_SHIFT) -
				     (TINY_MAX_SIZE >> HAK_MID_LUT_SHIFT)];
	return size_to_class_doubling(n);
}

/* Class of any size up to POOL_MAX_SIZE. */
static always_inline unsigned int size_to_class(size_t n)
{
	if (n <= TINY_MAX_SIZE)
		return tiny_class_lut[tiny_index(n)];
	return size_to_class_pool(n);
}

#endif
