/* SPDX-License-Identifier: MIT */
/*
 * Black-box tests of the malloc API semantics (DESIGN.md, "The malloc API,
 * exactly"), through the hak_* names so they run in every config:
 *  - alignment (16 B for size >= 16, 8 B below) over sizes in all tiers;
 *  - malloc(0) unique; ENOMEM + NULL for sizes the address space can't hold;
 *  - calloc overflow and zeroing (also of reused dirty blocks, big blocks);
 *  - free preserves errno, free(NULL);
 *  - posix_memalign / aligned_alloc / memalign / valloc / pvalloc;
 *  - realloc corner cases and content preservation across tiers;
 *  - reallocarray, malloc_usable_size, free_sized, free_aligned_sized, cfree;
 *  - malloc_trim, mallinfo2, mallinfo, malloc_stats, malloc_info, mallopt;
 *  - hak_stats_get.
 *
 * Tiers: tiny <= 1 KiB < pool <= 1 MiB < large.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <mm/heap/heap.h>
#include "harness.h"
#include "testutil.h"

/* Sizes across the three tiers, with class edges and odd values. */
static const size_t tier_sizes[] = {
	1, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33, 48, 63, 64, 65, 100, 127, 128,
	129, 160, 200, 255, 256, 257, 500, 512, 513, 768, 1000, 1023, 1024,
	/* pool */
	1025, 1100, 1536, 2047, 2048, 2049, 3000, 4095, 4096, 4097, 8191, 8192,
	10000, 16384, 30000, 65535, 65536, 65537, 100000, 131072, 200000,
	262144, 400000, 524288, 524289, 800000, 1048575, 1048576,
	/* large */
	1048577, 1200000, 2 * 1048576 - 1, 2 * 1048576, 2 * 1048576 + 1,
	3 * 1048576 + 17, 5 * 1048576, 16 * 1048576 + 4095,
};
#define NSIZES (sizeof(tier_sizes) / sizeof(tier_sizes[0]))

static int is_aligned(const void *p, size_t a)
{
	return ((uintptr_t)p & (a - 1)) == 0;
}

static size_t min_align(size_t n)
{
	return n >= 16 ? 16 : 8;
}

static unsigned char pat(size_t i, unsigned seed)
{
	return (unsigned char)((i * 131u + (i >> 8) * 7u + seed) ^ 0x5a);
}

static void fill(void *p, size_t n, unsigned seed)
{
	unsigned char *c = p;
	for (size_t i = 0; i < n; i++)
		c[i] = pat(i, seed);
}

/* Returns the first index that does not match, or n. */
static size_t check_fill(const void *p, size_t n, unsigned seed)
{
	const unsigned char *c = p;
	for (size_t i = 0; i < n; i++)
		if (c[i] != pat(i, seed))
			return i;
	return n;
}

static size_t page_size(void)
{
	return (size_t)sysconf(_SC_PAGESIZE);
}

/* ---------------------------------------------------------------- */

START_TEST(test_alignment)
{
	enum { BATCH = 8 };
	void *keep[BATCH];

	/* every size up to 2 KiB, several live at once */
	for (size_t n = 0; n <= 2048; n++) {
		for (int k = 0; k < BATCH; k++) {
			keep[k] = hak_malloc(n);
			ck_assert_msg(keep[k] != NULL, "malloc(%zu) failed", n);
			ck_assert_msg(is_aligned(keep[k], min_align(n)),
				      "malloc(%zu) = %p not %zu-aligned", n,
				      keep[k], min_align(n));
			memset(keep[k], 0xa5, n);
		}
		for (int k = 0; k < BATCH; k++)
			hak_free(keep[k]);
	}
	/* then the tier list */
	for (size_t i = 0; i < NSIZES; i++) {
		size_t n = tier_sizes[i];
		for (int k = 0; k < 3; k++) {
			keep[k] = hak_malloc(n);
			ck_assert_msg(keep[k] != NULL, "malloc(%zu) failed", n);
			ck_assert_msg(is_aligned(keep[k], min_align(n)),
				      "malloc(%zu) = %p misaligned", n, keep[k]);
			memset(keep[k], 0x5a, n);
		}
		void *c = hak_calloc(1, n);
		ck_assert_msg(c && is_aligned(c, min_align(n)),
			      "calloc(1, %zu) = %p misaligned", n, c);
		void *r = hak_realloc(NULL, n);
		ck_assert_msg(r && is_aligned(r, min_align(n)),
			      "realloc(NULL, %zu) = %p misaligned", n, r);
		r = hak_realloc(r, n + 1 + n / 2);
		ck_assert_msg(r && is_aligned(r, min_align(n + 1 + n / 2)),
			      "realloc grow to %zu = %p misaligned",
			      n + 1 + n / 2, r);
		for (int k = 0; k < 3; k++)
			hak_free(keep[k]);
		hak_free(c);
		hak_free(r);
	}
}
END_TEST

START_TEST(test_malloc_zero_unique)
{
	enum { N = 200 };
	void *p[N];

	for (int i = 0; i < N; i++) {
		p[i] = hak_malloc(0);
		ck_assert_msg(p[i] != NULL, "malloc(0) returned NULL");
		ck_assert(is_aligned(p[i], 8));
		for (int j = 0; j < i; j++)
			ck_assert_msg(p[i] != p[j],
				      "malloc(0) returned %p twice", p[i]);
	}
	for (int i = 0; i < N; i++)
		hak_free(p[i]);
	/* realloc(NULL, 0) behaves as malloc(0); calloc(0, n) too */
	void *a = hak_realloc(NULL, 0);
	void *b = hak_calloc(0, 100);
	void *c = hak_calloc(100, 0);
	ck_assert(a != NULL && b != NULL && c != NULL);
	ck_assert(a != b && b != c && a != c);
	hak_free(a);
	hak_free(b);
	hak_free(c);
}
END_TEST

START_TEST(test_huge_enomem)
{
	const size_t huge[] = {
		SIZE_MAX, SIZE_MAX - 1, SIZE_MAX - 4096, SIZE_MAX / 2,
		(size_t)PTRDIFF_MAX + 1, (size_t)PTRDIFF_MAX,
		(size_t)1 << 62, (size_t)1 << 56,
	};
	void *keep = hak_malloc(100);
	ck_assert(keep != NULL);
	fill(keep, 100, 3);

	for (size_t i = 0; i < sizeof(huge) / sizeof(huge[0]); i++) {
		size_t n = huge[i];
		void *p;

		errno = 0;
		p = hak_malloc(n);
		ck_assert_msg(p == NULL && errno == ENOMEM,
			      "malloc(%zu) = %p errno %d", n, p, errno);
		errno = 0;
		p = hak_calloc(1, n);
		ck_assert_msg(p == NULL && errno == ENOMEM,
			      "calloc(1, %zu) = %p errno %d", n, p, errno);
		errno = 0;
		p = hak_realloc(NULL, n);
		ck_assert_msg(p == NULL && errno == ENOMEM,
			      "realloc(NULL, %zu) = %p errno %d", n, p, errno);
		/* a failed realloc leaves the old block alone */
		errno = 0;
		p = hak_realloc(keep, n);
		ck_assert_msg(p == NULL && errno == ENOMEM,
			      "realloc(p, %zu) = %p errno %d", n, p, errno);
		ck_assert(check_fill(keep, 100, 3) == 100);
		errno = 0;
		p = hak_aligned_alloc(64, n);
		ck_assert_msg(p == NULL && errno == ENOMEM,
			      "aligned_alloc(64, %zu) = %p errno %d", n, p,
			      errno);
		errno = 0;
		p = hak_memalign(4096, n);
		ck_assert_msg(p == NULL && errno == ENOMEM,
			      "memalign(4096, %zu) = %p errno %d", n, p, errno);
		errno = 0;
		p = hak_valloc(n);
		ck_assert_msg(p == NULL && errno == ENOMEM,
			      "valloc(%zu) = %p errno %d", n, p, errno);
		errno = 0;
		p = hak_pvalloc(n); /* rounding up must not wrap */
		ck_assert_msg(p == NULL && errno == ENOMEM,
			      "pvalloc(%zu) = %p errno %d", n, p, errno);
		p = NULL;
		int r = hak_posix_memalign(&p, 64, n);
		ck_assert_msg(r == ENOMEM,
			      "posix_memalign(64, %zu) returned %d", n, r);
	}
	/* alignment padding must not wrap either */
	errno = 0;
	void *p = hak_memalign((size_t)1 << 21, SIZE_MAX - 4096);
	ck_assert(p == NULL && errno == ENOMEM);
	/* and the allocator still works */
	p = hak_malloc(1000);
	ck_assert(p != NULL);
	hak_free(p);
	ck_assert(check_fill(keep, 100, 3) == 100);
	hak_free(keep);
}
END_TEST

START_TEST(test_calloc_overflow)
{
	const size_t pairs[][2] = {
		{ SIZE_MAX, SIZE_MAX },
		{ SIZE_MAX / 2 + 1, 2 },
		{ 2, SIZE_MAX / 2 + 1 },
		{ (size_t)1 << 32, (size_t)1 << 32 },
		{ ((size_t)1 << 32) + 1, ((size_t)1 << 32) - 1 },
		{ SIZE_MAX / 16 + 1, 16 },
		{ 3, SIZE_MAX / 3 + 1 },
		{ (size_t)PTRDIFF_MAX, 2 },
	};
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		errno = 0;
		void *p = hak_calloc(pairs[i][0], pairs[i][1]);
		ck_assert_msg(p == NULL && errno == ENOMEM,
			      "calloc(%zu, %zu) = %p errno %d", pairs[i][0],
			      pairs[i][1], p, errno);
	}
}
END_TEST

START_TEST(test_calloc_zeroes)
{
	enum { N = 64 };
	void *p[N];
	size_t sizes[NSIZES + 3];
	size_t ns = 0;

	for (size_t i = 0; i < NSIZES; i++)
		sizes[ns++] = tier_sizes[i];
	sizes[ns++] = 33 * MiB;
	sizes[ns++] = 64 * MiB + 1;
	sizes[ns++] = 7;

	for (size_t s = 0; s < ns; s++) {
		size_t n = sizes[s];
		int cnt = n > MiB ? 2 : n > 64 * KiB ? 8 : N;

		/* dirty a batch of blocks, free them, calloc them back */
		for (int round = 0; round < 2; round++) {
			for (int i = 0; i < cnt; i++) {
				p[i] = hak_malloc(n);
				ck_assert(p[i] != NULL);
				memset(p[i], 0xff, hak_malloc_usable_size(p[i]));
			}
			for (int i = 0; i < cnt; i++)
				hak_free(p[i]);
			for (int i = 0; i < cnt; i++) {
				p[i] = hak_calloc(1, n);
				ck_assert_msg(p[i] != NULL, "calloc(1, %zu)", n);
				size_t k = first_not(p[i], n, 0);
				ck_assert_msg(k == n,
					      "calloc(1, %zu) = %p: byte %zu not zero",
					      n, p[i], k);
				memset(p[i], 0xee, n);
			}
			for (int i = 0; i < cnt; i++)
				hak_free(p[i]);
		}
	}
	/* nmemb * size forms */
	unsigned char *c = hak_calloc(1000, 1000);
	ck_assert(c != NULL);
	ck_assert(first_not(c, 1000 * 1000, 0) == 1000 * 1000);
	hak_free(c);
	c = hak_calloc(3, 5 * MiB);
	ck_assert(c != NULL);
	ck_assert(first_not(c, 15 * MiB, 0) == 15 * MiB);
	hak_free(c);
}
END_TEST

START_TEST(test_free_preserves_errno)
{
	enum { N = 300 };
	void *p[N];
	const int magic[] = { 0, EDOM, ENOMEM, EINVAL, 12345 };

	for (size_t m = 0; m < sizeof(magic) / sizeof(magic[0]); m++) {
		for (int i = 0; i < N; i++) {
			size_t n = tier_sizes[(i * 7 + m) % NSIZES];
			p[i] = hak_malloc(n);
			ck_assert(p[i] != NULL);
		}
		/* frees that empty slabs / unmap big blocks included */
		for (int i = 0; i < N; i++) {
			errno = magic[m];
			hak_free(p[i]);
			ck_assert_msg(errno == magic[m],
				      "free changed errno %d -> %d", magic[m],
				      errno);
		}
		errno = magic[m];
		hak_free(NULL);
		ck_assert(errno == magic[m]);
		void *q = hak_malloc(50);
		errno = magic[m];
		hak_cfree(q);
		ck_assert(errno == magic[m]);
		q = hak_malloc(5000);
		errno = magic[m];
		hak_free_sized(q, 5000);
		ck_assert(errno == magic[m]);
	}
	hak_malloc_trim(0);
}
END_TEST

START_TEST(test_free_null)
{
	hak_free(NULL);
	hak_cfree(NULL);
	hak_free_sized(NULL, 0);
	hak_free_aligned_sized(NULL, 64, 0);
	void *p = hak_malloc(10);
	ck_assert(p != NULL);
	hak_free(p);
}
END_TEST

START_TEST(test_posix_memalign_einval)
{
	const size_t bad[] = {
		0, 1, 2, 4, sizeof(void *) / 2, 3, 12, 24, 48, 100, 4097,
		65536 + 16, SIZE_MAX, SIZE_MAX / 2, ((size_t)1 << 20) * 3,
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		void *p = (void *)0x1;
		int r = hak_posix_memalign(&p, bad[i], 64);
		ck_assert_msg(r == EINVAL,
			      "posix_memalign(align %zu) returned %d", bad[i],
			      r);
	}
	/* sizeof(void *) itself is a valid alignment */
	void *p = NULL;
	ck_assert_int_eq(hak_posix_memalign(&p, sizeof(void *), 1), 0);
	ck_assert(p != NULL && is_aligned(p, sizeof(void *)));
	hak_free(p);
	p = NULL;
	ck_assert_int_eq(hak_posix_memalign(&p, 64, 0), 0);
	hak_free(p);
}
END_TEST

/*
 * One aligned block: aligned, usable >= size, writable, and the start of
 * a block: usable_size sees it (an interior pointer has none), and its
 * free counts as a free and not as a foreign free.
 */
static void check_aligned_block(const char *fn, void *p, size_t align,
				size_t n, int how_free)
{
	ck_assert_msg(p != NULL, "%s(%zu, %zu) failed", fn, align, n);
	ck_assert_msg(is_aligned(p, align), "%s(%zu, %zu) = %p misaligned",
		      fn, align, n, p);
	size_t us = hak_malloc_usable_size(p);
	ck_assert_msg(us >= n, "%s(%zu, %zu) = %p: usable size %zu", fn,
		      align, n, p, us);
	fill(p, n, (unsigned)align);
	ck_assert(check_fill(p, n, (unsigned)align) == n);

	struct hak_stats a = stats_now();
	if (how_free == 0)
		hak_free(p);
	else if (how_free == 1)
		hak_free_aligned_sized(p, align, n);
	else
		hak_free_sized(p, n);
	struct hak_stats b = stats_now();
	if (IS_ENABLED(CONFIG_STATS)) {
		ck_assert_msg(b.frees == a.frees + 1 &&
				      b.foreign_frees == a.foreign_frees,
			      "%s(%zu, %zu) = %p: free not counted as a block "
			      "free (frees +%llu, foreign +%llu)",
			      fn, align, n, p, b.frees - a.frees,
			      b.foreign_frees - a.foreign_frees);
	}
}

static const size_t align_sizes[] = { 1, 8, 16, 17, 100, 1000, 1025, 5000,
				      70000, 1048577 };

START_TEST(test_aligned_family)
{
	for (size_t align = 16; align <= 4 * MiB; align <<= 1) {
		for (size_t i = 0; i < sizeof(align_sizes) / sizeof(align_sizes[0]); i++) {
			size_t sz[3] = { align_sizes[i], align, align + 1 };
			for (int k = 0; k < 3; k++) {
				size_t n = sz[k];
				void *p = NULL;
				int r = hak_posix_memalign(&p, align, n);
				ck_assert_msg(r == 0, "posix_memalign(%zu, %zu) = %d",
					      align, n, r);
				check_aligned_block("posix_memalign", p, align, n, 0);
				/* C11 wants size to be a multiple; glibc does not */
				size_t an = (n + align - 1) & ~(align - 1);
				p = hak_aligned_alloc(align, an);
				check_aligned_block("aligned_alloc", p, align, an, 1);
				p = hak_memalign(align, n);
				check_aligned_block("memalign", p, align, n, 2);
			}
		}
	}
}
END_TEST

/* Freeing aligned blocks gives the memory back: no growth over many rounds. */
START_TEST(test_aligned_reuse)
{
	const size_t cases[][2] = {
		{ 64, 3 * MiB }, { MiB, MiB }, { 2 * MiB, 2 * MiB },
		{ 4 * MiB, 4 * MiB }, { 4 * MiB, 5 * MiB }, { 4096, 2 * MiB + 1 },
		{ 512 * KiB, 512 * KiB }, { 64 * KiB, 100 * KiB },
	};
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		size_t align = cases[c][0], n = cases[c][1];
		struct hak_stats a, b;
		void *p = NULL;

		for (int i = 0; i < 3; i++) { /* warm up */
			ck_assert(hak_posix_memalign(&p, align, n) == 0);
			memset(p, 1, n);
			hak_free(p);
		}
		hak_stats_get(&a);
		for (int i = 0; i < 64; i++) {
			ck_assert(hak_posix_memalign(&p, align, n) == 0);
			ck_assert(is_aligned(p, align));
			memset(p, 1, n); /* commit it */
			hak_free(p);
			p = hak_memalign(align, n);
			ck_assert(p && is_aligned(p, align));
			memset(p, 2, n);
			hak_free(p);
		}
		hak_stats_get(&b);
		size_t growth = b.bytes_mapped > a.bytes_mapped
					? b.bytes_mapped - a.bytes_mapped : 0;
		ck_assert_msg(growth <= 4 * (n + align) + 16 * MiB,
			      "aligned %zu/%zu: bytes_mapped grew by %zu over 128 "
			      "alloc/free pairs", align, n, growth);
	}
}
END_TEST

START_TEST(test_memalign_rounds_up)
{
	const size_t cases[][2] = {
		/* requested, expected power of two */
		{ 3, 4 }, { 24, 32 }, { 48, 64 }, { 100, 128 }, { 1000, 1024 },
		{ 4097, 8192 }, { 65537, 131072 }, { 3 * MiB / 2, 2 * MiB },
		{ MiB + 1, 2 * MiB }, { 3 * MiB, 4 * MiB },
	};
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		for (size_t n = 1; n <= 100001; n += 50000) {
			void *p = hak_memalign(cases[c][0], n);
			ck_assert_msg(p != NULL, "memalign(%zu, %zu)", cases[c][0], n);
			ck_assert_msg(is_aligned(p, cases[c][1]),
				      "memalign(%zu, %zu) = %p not %zu-aligned",
				      cases[c][0], n, p, cases[c][1]);
			ck_assert(hak_malloc_usable_size(p) >= n);
			memset(p, 3, n);
			hak_free(p);
		}
	}
	/* memalign(0 or 1, n) is malloc(n) */
	void *p = hak_memalign(0, 100);
	ck_assert(p && is_aligned(p, 16));
	hak_free(p);
	p = hak_memalign(1, 100);
	ck_assert(p && is_aligned(p, 16));
	hak_free(p);
}
END_TEST

START_TEST(test_valloc_pvalloc)
{
	const size_t pg = page_size();
	const size_t sizes[] = { 1, 100, pg - 1, pg, pg + 1, 3 * pg, 70000,
				 MiB, MiB + 1, 3 * MiB + 5 };
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t n = sizes[i];
		void *p = hak_valloc(n);
		ck_assert_msg(p && is_aligned(p, pg), "valloc(%zu) = %p", n, p);
		ck_assert(hak_malloc_usable_size(p) >= n);
		memset(p, 4, n);

		size_t rn = (n + pg - 1) & ~(pg - 1);
		void *q = hak_pvalloc(n);
		ck_assert_msg(q && is_aligned(q, pg), "pvalloc(%zu) = %p", n, q);
		ck_assert_msg(hak_malloc_usable_size(q) >= rn,
			      "pvalloc(%zu): usable %zu < %zu", n,
			      hak_malloc_usable_size(q), rn);
		memset(q, 5, rn); /* the whole rounded size is ours */
		hak_free(p);
		hak_free(q);
	}
	void *p = hak_pvalloc(0);
	ck_assert(p && is_aligned(p, pg));
	hak_free(p);
	p = hak_valloc(0);
	ck_assert(p && is_aligned(p, pg));
	hak_free(p);
}
END_TEST

START_TEST(test_realloc_null_and_zero)
{
	for (size_t i = 0; i < NSIZES; i++) {
		size_t n = tier_sizes[i];
		void *p = hak_realloc(NULL, n);
		ck_assert_msg(p != NULL, "realloc(NULL, %zu)", n);
		ck_assert(hak_malloc_usable_size(p) >= n);
		fill(p, n, 9);

		struct hak_stats a = stats_now();
		void *q = hak_realloc(p, 0);
		struct hak_stats b = stats_now();
		ck_assert_msg(q == NULL, "realloc(p, 0) returned %p", q);
		if (IS_ENABLED(CONFIG_STATS))
			ck_assert_msg(b.frees > a.frees,
				      "realloc(%p of %zu, 0) did not free it",
				      p, n);
	}
	/* the freed memory is reusable: do it a lot without growth */
	struct hak_stats a = stats_now();
	for (int i = 0; i < 200; i++) {
		void *p = hak_realloc(NULL, 3 * MiB);
		ck_assert(p != NULL);
		memset(p, 1, 3 * MiB);
		ck_assert(hak_realloc(p, 0) == NULL);
	}
	struct hak_stats b = stats_now();
	ck_assert_msg(b.bytes_mapped < a.bytes_mapped + 64 * MiB,
		      "realloc(p, 0) leaks: bytes_mapped %llu -> %llu",
		      a.bytes_mapped, b.bytes_mapped);
}
END_TEST

/* Walk one block through a list of sizes; contents must follow it. */
static void realloc_walk(const size_t *sizes, size_t n, unsigned seed)
{
	size_t cur = sizes[0];
	unsigned char *p = hak_malloc(cur);
	ck_assert(p != NULL);
	fill(p, cur, seed);
	for (size_t i = 1; i < n; i++) {
		size_t nn = sizes[i];
		unsigned char *q = hak_realloc(p, nn);
		ck_assert_msg(q != NULL, "realloc(%zu -> %zu)", cur, nn);
		ck_assert_msg(is_aligned(q, min_align(nn)),
			      "realloc(%zu -> %zu) = %p misaligned", cur, nn, q);
		ck_assert(hak_malloc_usable_size(q) >= nn);
		size_t keep = cur < nn ? cur : nn;
		size_t bad = check_fill(q, keep, seed);
		ck_assert_msg(bad == keep,
			      "realloc(%zu -> %zu): byte %zu lost (%p -> %p)",
			      cur, nn, bad, (void *)p, (void *)q);
		fill(q, nn, seed);
		p = q;
		cur = nn;
	}
	hak_free(p);
}

START_TEST(test_realloc_preserves)
{
	static const size_t up_down[] = {
		1, 8, 15, 16, 40, 100, 128, 129, 500, 1024, 1025, 3000, 4096,
		20000, 65536, 65537, 300000, 1048576, 1048577, 2 * 1048576,
		3 * 1048576 + 1, 12 * 1048576, 3 * 1048576, 1048577, 1048576,
		200000, 5000, 1025, 1024, 700, 64, 17, 16, 3, 1,
		/* jumps straight across tiers */
		5 * 1048576, 10, 2 * 1048576 + 3, 2000, 100, 9 * 1048576, 1,
	};
	realloc_walk(up_down, sizeof(up_down) / sizeof(up_down[0]), 11);

	/* same size, +-1 around class edges */
	for (size_t i = 0; i < NSIZES; i++) {
		size_t n = tier_sizes[i];
		size_t w[] = { n, n, n + 1, n, n > 1 ? n - 1 : 1, n };
		realloc_walk(w, 6, (unsigned)i);
	}
}
END_TEST

/* A big block grown (and shrunk) many times keeps its contents. */
START_TEST(test_realloc_big_many)
{
	size_t cur = MiB + MiB / 2;
	unsigned char *p = hak_malloc(cur);
	ck_assert(p != NULL);
	fill(p, cur, 77);
	for (int i = 0; i < 120; i++) {
		size_t nn = cur + 256 * KiB + 4096 * (size_t)(i % 7) + (size_t)i;
		unsigned char *q = hak_realloc(p, nn);
		ck_assert_msg(q != NULL, "grow %zu -> %zu", cur, nn);
		ck_assert(is_aligned(q, 16));
		/* sparse check of the old part, full fill of the new part */
		size_t bad = cur;
		for (size_t k = 0; k < cur; k += 4093)
			if (q[k] != pat(k, 77)) {
				bad = k;
				break;
			}
		if (q[cur - 1] != pat(cur - 1, 77))
			bad = cur - 1;
		ck_assert_msg(bad == cur,
			      "grow step %d (%zu -> %zu): byte %zu lost", i,
			      cur, nn, bad);
		for (size_t k = cur; k < nn; k++)
			q[k] = pat(k, 77);
		p = q;
		cur = nn;
	}
	ck_assert(check_fill(p, cur, 77) == cur);
	while (cur > 100) {
		size_t nn = cur / 3 * 2;
		unsigned char *q = hak_realloc(p, nn);
		ck_assert(q != NULL);
		ck_assert_msg(check_fill(q, nn, 77) == nn,
			      "shrink %zu -> %zu lost data", cur, nn);
		p = q;
		cur = nn;
	}
	hak_free(p);

	/* an aligned big block (offset inside its mapping) reallocs too */
	for (size_t align = 64 * KiB; align <= 4 * MiB; align <<= 1) {
		p = hak_memalign(align, 3 * MiB);
		ck_assert(p && is_aligned(p, align));
		fill(p, 3 * MiB, 5);
		unsigned char *q = hak_realloc(p, 7 * MiB);
		ck_assert(q != NULL);
		ck_assert(check_fill(q, 3 * MiB, 5) == 3 * MiB);
		q = hak_realloc(q, 1000);
		ck_assert(q != NULL);
		ck_assert(check_fill(q, 1000, 5) == 1000);
		hak_free(q);
	}
}
END_TEST

START_TEST(test_reallocarray)
{
	unsigned char *p = hak_reallocarray(NULL, 10, 100);
	ck_assert(p != NULL && hak_malloc_usable_size(p) >= 1000);
	fill(p, 1000, 21);
	p = hak_reallocarray(p, 1000, 1000);
	ck_assert(p != NULL && hak_malloc_usable_size(p) >= 1000000);
	ck_assert(check_fill(p, 1000, 21) == 1000);
	fill(p, 1000000, 22);

	const size_t ovf[][2] = {
		{ SIZE_MAX / 2 + 1, 2 }, { SIZE_MAX, SIZE_MAX },
		{ (size_t)1 << 33, (size_t)1 << 33 }, { 3, SIZE_MAX / 2 },
	};
	for (size_t i = 0; i < sizeof(ovf) / sizeof(ovf[0]); i++) {
		errno = 0;
		void *q = hak_reallocarray(p, ovf[i][0], ovf[i][1]);
		ck_assert_msg(q == NULL && errno == ENOMEM,
			      "reallocarray(p, %zu, %zu) = %p errno %d",
			      ovf[i][0], ovf[i][1], q, errno);
		ck_assert(check_fill(p, 1000000, 22) == 1000000);
		errno = 0;
		q = hak_reallocarray(NULL, ovf[i][0], ovf[i][1]);
		ck_assert(q == NULL && errno == ENOMEM);
	}
	p = hak_reallocarray(p, 7, 3);
	ck_assert(p != NULL);
	ck_assert(check_fill(p, 21, 22) == 21);
	hak_free(p);
}
END_TEST

START_TEST(test_usable_size)
{
	ck_assert_uint_eq(hak_malloc_usable_size(NULL), 0);
	for (size_t i = 0; i < NSIZES; i++) {
		size_t n = tier_sizes[i];
		unsigned char *a = hak_malloc(n);
		unsigned char *b = hak_malloc(n);
		unsigned char *c = hak_malloc(n);
		ck_assert(a && b && c);
		size_t ua = hak_malloc_usable_size(a);
		size_t ub = hak_malloc_usable_size(b);
		size_t uc = hak_malloc_usable_size(c);
		ck_assert_msg(ua >= n && ub >= n && uc >= n,
			      "usable size of malloc(%zu): %zu %zu %zu", n, ua,
			      ub, uc);
		/* all of the usable size may be written without harm */
		memset(a, 0x11, ua);
		memset(c, 0x33, uc);
		memset(b, 0x22, ub);
		size_t ka = first_not(a, ua, 0x11), kc = first_not(c, uc, 0x33);
		ck_assert_msg(ka == ua, "writing the usable size of a "
			      "neighbour clobbered %p+%zu", (void *)a, ka);
		ck_assert_msg(kc == uc, "writing the usable size of a "
			      "neighbour clobbered %p+%zu", (void *)c, kc);
		/* the usable size does not change while the block lives */
		ck_assert_uint_eq(hak_malloc_usable_size(b), ub);
		hak_free(a);
		hak_free(b);
		hak_free(c);
	}
	void *z = hak_malloc(0);
	ck_assert(z != NULL);
	(void)hak_malloc_usable_size(z);
	hak_free(z);
}
END_TEST

/* DESIGN: classes at 16 B steps to 128 B then 4 per doubling: waste <= 20%. */
START_TEST(test_usable_size_waste)
{
	for (size_t n = 64; n <= MiB; n = n + 1 + n / 7) {
		void *p = hak_malloc(n);
		ck_assert(p != NULL);
		size_t us = hak_malloc_usable_size(p);
		ck_assert_msg(us <= n + n / 4 + 16,
			      "malloc(%zu): usable size %zu wastes > 20%%", n, us);
		hak_free(p);
	}
}
END_TEST

START_TEST(test_usable_size_foreign)
{
	char stack_buf[256];
	ck_assert_uint_eq(hak_malloc_usable_size(stack_buf), 0);
	ck_assert_uint_eq(hak_malloc_usable_size(stack_buf + 16), 0);

	const size_t len = 4 * MiB;
	unsigned char *m = mmap(NULL, len, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert(m != MAP_FAILED);
	memset(m, 0x77, len);
	ck_assert_uint_eq(hak_malloc_usable_size(m), 0);
	ck_assert_uint_eq(hak_malloc_usable_size(m + 4096), 0);
	ck_assert_uint_eq(hak_malloc_usable_size(m + 2 * MiB), 0);
	/* 2 MiB aligned inside the mapping, like a superslab base */
	uintptr_t al = ((uintptr_t)m + 2 * MiB - 1) & ~(uintptr_t)(2 * MiB - 1);
	ck_assert_uint_eq(hak_malloc_usable_size((void *)al), 0);
	ck_assert_uint_eq(hak_malloc_usable_size((void *)(al + 64)), 0);
	ck_assert(first_not(m, len, 0x77) == len);
	munmap(m, len);

	/* static data, an address above 2^48, a top-byte-tagged pointer */
	static char data_buf[64];
	ck_assert_uint_eq(hak_malloc_usable_size(data_buf), 0);
	ck_assert_uint_eq(hak_malloc_usable_size((void *)(((uintptr_t)1 << 48) + 4096)), 0);
	ck_assert_uint_eq(hak_malloc_usable_size((void *)(uintptr_t)0xfffffffffffff000ull), 0);
	void *p = hak_malloc(64);
	ck_assert(p != NULL);
	void *tagged = (void *)((uintptr_t)p | ((uintptr_t)0x5a << 56));
	ck_assert_uint_eq(hak_malloc_usable_size(tagged), 0);
	hak_free(p);
}
END_TEST

START_TEST(test_free_sized_cfree)
{
	for (size_t i = 0; i < NSIZES; i++) {
		size_t n = tier_sizes[i];
		struct hak_stats a, b;

		void *p = hak_malloc(n);
		void *q = hak_calloc(1, n);
		void *r = hak_aligned_alloc(256, (n + 255) & ~(size_t)255);
		void *s = hak_malloc(n);
		ck_assert(p && q && r && s);
		memset(p, 1, n);
		memset(q, 2, n);
		memset(s, 4, n);
		a = stats_now();
		hak_free_sized(p, n);
		hak_free_sized(q, n);
		hak_free_aligned_sized(r, 256, (n + 255) & ~(size_t)255);
		hak_cfree(s);
		b = stats_now();
		if (IS_ENABLED(CONFIG_STATS))
			ck_assert_msg(b.frees == a.frees + 4 &&
					      b.foreign_frees == a.foreign_frees,
				      "size %zu: frees +%llu foreign +%llu", n,
				      b.frees - a.frees,
				      b.foreign_frees - a.foreign_frees);
	}
	/* released memory is reused: no growth over many big rounds */
	struct hak_stats a = stats_now();
	for (int i = 0; i < 100; i++) {
		void *p = hak_malloc(4 * MiB);
		ck_assert(p != NULL);
		memset(p, 1, 4 * MiB);
		hak_free_sized(p, 4 * MiB);
		p = hak_aligned_alloc(MiB, 4 * MiB);
		ck_assert(p && is_aligned(p, MiB));
		memset(p, 1, 4 * MiB);
		hak_free_aligned_sized(p, MiB, 4 * MiB);
		p = hak_malloc(3 * MiB);
		ck_assert(p != NULL);
		memset(p, 1, 3 * MiB);
		hak_cfree(p);
	}
	struct hak_stats b = stats_now();
	ck_assert_msg(b.bytes_mapped < a.bytes_mapped + 64 * MiB,
		      "free_sized/cfree leak: bytes_mapped %llu -> %llu",
		      a.bytes_mapped, b.bytes_mapped);
}
END_TEST

START_TEST(test_malloc_trim)
{
	enum { N = 2000 };
	static void *p[N];
	for (int i = 0; i < N; i++) {
		p[i] = hak_malloc(tier_sizes[i % (NSIZES - 8)]);
		ck_assert(p[i] != NULL);
	}
	for (int i = 0; i < N; i++)
		hak_free(p[i]);
	int r = hak_malloc_trim(0);
	ck_assert_msg(r == 0 || r == 1, "malloc_trim(0) = %d", r);
	r = hak_malloc_trim(1 * MiB);
	ck_assert_msg(r == 0 || r == 1, "malloc_trim(1 MiB) = %d", r);
	/* still works after a trim */
	void *q = hak_malloc(100);
	ck_assert(q != NULL);
	memset(q, 1, 100);
	hak_free(q);
}
END_TEST

START_TEST(test_mallinfo)
{
	enum { N = 1000 };
	static void *p[N];
	for (int i = 0; i < N; i++) {
		p[i] = hak_malloc(i % 2 ? 100 : 3000);
		ck_assert(p[i] != NULL);
		memset(p[i], 1, i % 2 ? 100 : 3000);
	}
	void *big = hak_malloc(8 * MiB);
	ck_assert(big != NULL);
	memset(big, 1, 8 * MiB);

	struct mallinfo2 mi = hak_mallinfo2();
	ck_assert_msg(mi.arena > 0, "mallinfo2.arena is 0");
	ck_assert_msg(mi.uordblks > 0, "mallinfo2.uordblks is 0");
	struct mallinfo mo = hak_mallinfo();
	ck_assert_msg(mo.arena != 0 && mo.uordblks != 0,
		      "mallinfo: arena %d uordblks %d", mo.arena, mo.uordblks);
	for (int i = 0; i < N; i++)
		hak_free(p[i]);
	hak_free(big);
	hak_malloc_stats(); /* prints to stderr; must not crash */
}
END_TEST

START_TEST(test_malloc_info)
{
	char *buf = NULL;
	size_t len = 0;
	void *p = hak_malloc(1000);
	FILE *f = open_memstream(&buf, &len);
	ck_assert(f != NULL);
	int r = hak_malloc_info(0, f);
	fclose(f);
	ck_assert_msg(r == 0, "malloc_info returned %d", r);
	ck_assert(buf != NULL && len > 0);
	ck_assert_msg(strstr(buf, "<malloc") != NULL, "no <malloc in: %s", buf);
	ck_assert_msg(strstr(buf, "</malloc>") != NULL, "no </malloc> in: %s", buf);
	free(buf); /* open_memstream's buffer: libc's malloc (hakmem's with override) */
	hak_free(p);
}
END_TEST

START_TEST(test_mallopt)
{
	int r = hak_mallopt(M_TRIM_THRESHOLD, 256 * 1024);
	ck_assert_msg(r == 0 || r == 1, "mallopt(M_TRIM_THRESHOLD) = %d", r);
	r = hak_mallopt(M_MMAP_THRESHOLD, 1024 * 1024);
	ck_assert_msg(r == 0 || r == 1, "mallopt(M_MMAP_THRESHOLD) = %d", r);
	r = hak_mallopt(-12345, 1);
	ck_assert_msg(r == 0 || r == 1, "mallopt(bogus) = %d", r);
	void *p = hak_malloc(2 * MiB);
	ck_assert(p != NULL);
	hak_free(p);
}
END_TEST

START_TEST(test_stats_get)
{
	enum { N = 1000 };
	static void *p[N];
	struct hak_stats a, b, c;
	int ra, rb, rc;

	/* The purge thread's start allocates (pthread_create): started now,
	 * so that it does not start between the snapshots. */
	purge_notify();
	heap_purge_start_if_wanted();
	/* no Check calls between snapshots: they may allocate */
	ra = hak_stats_get(&a);
	for (int i = 0; i < N; i++)
		p[i] = hak_malloc(tier_sizes[i % NSIZES]);
	rb = hak_stats_get(&b);
	for (int i = 0; i < N; i++)
		hak_free(p[i]);
	rc = hak_stats_get(&c);

	for (int i = 0; i < N; i++)
		ck_assert(p[i] != NULL);
	if (!IS_ENABLED(CONFIG_STATS)) {
		ck_assert_int_eq(ra, -1);
		ck_assert_int_eq(rb, -1);
		ck_assert(a.allocs == 0 && b.allocs == 0 && c.frees == 0);
		return;
	}
	ck_assert_int_eq(ra, 0);
	ck_assert_int_eq(rb, 0);
	ck_assert_int_eq(rc, 0);
	ck_assert_msg(b.allocs - a.allocs == N, "allocs +%llu, expected %d",
		      b.allocs - a.allocs, N);
	ck_assert_msg(c.frees - b.frees == N, "frees +%llu, expected %d",
		      c.frees - b.frees, N);
	ck_assert(c.allocs == b.allocs);
	ck_assert(b.foreign_frees == a.foreign_frees &&
		  c.foreign_frees == a.foreign_frees);
	ck_assert_msg(b.bytes_mapped > 0, "bytes_mapped is 0 with blocks live");
	ck_assert(b.superslabs_in_use > 0 || b.slabs_in_use > 0);
}
END_TEST

static Suite *make_suite(void)
{
	TCase *tc;
	Suite *s = one_tcase_suite("api", "api", 60, &tc);

	tcase_add_test(tc, test_alignment);
	tcase_add_test(tc, test_malloc_zero_unique);
	tcase_add_test(tc, test_huge_enomem);
	tcase_add_test(tc, test_calloc_overflow);
	tcase_add_test(tc, test_calloc_zeroes);
	tcase_add_test(tc, test_free_preserves_errno);
	tcase_add_test(tc, test_free_null);
	tcase_add_test(tc, test_posix_memalign_einval);
	tcase_add_test(tc, test_aligned_family);
	tcase_add_test(tc, test_aligned_reuse);
	tcase_add_test(tc, test_memalign_rounds_up);
	tcase_add_test(tc, test_valloc_pvalloc);
	tcase_add_test(tc, test_realloc_null_and_zero);
	tcase_add_test(tc, test_realloc_preserves);
	tcase_add_test(tc, test_realloc_big_many);
	tcase_add_test(tc, test_reallocarray);
	tcase_add_test(tc, test_usable_size);
	tcase_add_test(tc, test_usable_size_waste);
	tcase_add_test(tc, test_usable_size_foreign);
	tcase_add_test(tc, test_free_sized_cfree);
	tcase_add_test(tc, test_malloc_trim);
	tcase_add_test(tc, test_mallinfo);
	tcase_add_test(tc, test_malloc_info);
	tcase_add_test(tc, test_mallopt);
	tcase_add_test(tc, test_stats_get);
	return s;
}

HAK_TEST_MAIN(make_suite)
