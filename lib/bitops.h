/* SPDX-License-Identifier: MIT */
/* Bit operations on machine words.  Header-only; never allocates. */
#ifndef HAKMEM_LIB_BITOPS_H
#define HAKMEM_LIB_BITOPS_H

#include <stdint.h>

/* Index of the highest set bit; x must be non-zero. */
static inline unsigned int fls64_index(uint64_t x)
{
	return 63u - (unsigned int)__builtin_clzll(x);
}

/* Index of the lowest set bit; x must be non-zero. */
static inline unsigned int ffs64_index(uint64_t x)
{
	return (unsigned int)__builtin_ctzll(x);
}

static inline unsigned int popcount64(uint64_t x)
{
	return (unsigned int)__builtin_popcountll(x);
}

static inline int is_power_of_two(uint64_t x)
{
	return x != 0 && (x & (x - 1)) == 0;
}

#define DIV_ROUND_UP(n, d) (((n) + (d) - 1) / (d))

static inline uint64_t round_up_pow2(uint64_t x, uint64_t align)
{
	return (x + align - 1) & ~(align - 1);
}

/*
 * Atomic test-and-set / test-and-clear of bit nr of the bit string at
 * words; they return the bit's old value.  GCC turns these into one
 * lock bts / lock btr on x86_64 and one ldset / ldclr on arm64 with LSE.
 */
static inline int test_and_set_bit_atomic(uint64_t *words, uint64_t nr)
{
	uint64_t bit = 1ULL << (nr & 63);

	return (__atomic_fetch_or(&words[nr >> 6], bit, __ATOMIC_ACQ_REL) & bit) != 0;
}

static inline int test_and_clear_bit_atomic(uint64_t *words, uint64_t nr)
{
	uint64_t bit = 1ULL << (nr & 63);

	return (__atomic_fetch_and(&words[nr >> 6], ~bit, __ATOMIC_ACQ_REL) & bit) != 0;
}

/* Mask of n consecutive bits starting at bit `at` (n in 1..64). */
static inline uint64_t bit_run_mask(unsigned int at, unsigned int n)
{
	uint64_t run = n >= 64 ? ~0ULL : ((1ULL << n) - 1);

	return run << at;
}

/*
 * Lowest index of a run of n set bits in map, or -1.  Used to find n
 * contiguous free slabs in a superslab's free mask.
 */
static inline int find_bit_run(uint64_t map, unsigned int n)
{
	uint64_t m = map;
	unsigned int i;

	/* After the loop, bit i of m is set when bits i..i+n-1 of map are. */
	for (i = 1; i < n && m; i++)
		m &= map >> i;
	return m ? (int)ffs64_index(m) : -1;
}

/* Start of the lowest run of set bits in map (map != 0); *len receives
 * its length.  Clear bit_run_mask(start, *len) to go on to the next. */
static inline unsigned int first_bit_run(uint64_t map, unsigned int *len)
{
	unsigned int start = ffs64_index(map);
	uint64_t rest = map >> start;

	*len = ~rest ? ffs64_index(~rest) : 64 - start;
	return start;
}

/*
 * Start of the shortest run of set bits in map that is at least n long
 * (the first such on a tie), or -1; *len receives its length.  Best fit
 * keeps long runs of free slabs for spans that need them.
 */
static inline int find_best_bit_run(uint64_t map, unsigned int n, unsigned int *len)
{
	int best = -1;
	unsigned int best_len = 65;

	while (map) {
		unsigned int run, start = first_bit_run(map, &run);

		if (run >= n && run < best_len) {
			best = (int)start;
			best_len = run;
			if (run == n)
				break;
		}
		map &= ~bit_run_mask(start, run);
	}
	*len = best_len;
	return best;
}

#endif
