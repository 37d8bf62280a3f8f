/* SPDX-License-Identifier: MIT */
/*
 * The heap profiler (CONFIG_PROFILER): sampled blocks behave as any other
 * (contents, realloc, usable size, calloc, aligned, sized frees, a free by
 * another thread); the estimates per site with a fixed seed are within
 * 10% of the truth where a site holds 400 times the interval or more; live
 * bytes go down as blocks are freed; the stack walk gives the frames of a
 * known call chain, and on made-up frame chains and code without frame
 * pointers stops without a wild read.  The dump's parse by google-pprof
 * is scripts/prof-check.sh's.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "harness.h"
#include "testutil.h"
#include <mm/prof/prof.h>

#define REQUIRE_PROF() HAK_REQUIRE(IS_ENABLED(CONFIG_PROFILER), "needs CONFIG_PROFILER")

#if IS_ENABLED(CONFIG_PROFILER)

static struct prof_block *block_of(void *p)
{
	struct prof_block *b = large_prof_area(p);

	return b && b->magic == PROF_BLOCK_MAGIC ? b : NULL;
}

static const struct prof_site *site_of(void *p)
{
	struct prof_block *b = block_of(p);

	ck_assert_msg(b, "%p is not a sampled block", p);
	ck_assert_uint_lt(b->site, PROF_SITES);
	return &prof_sites[b->site];
}

static void *volatile sink;

/* ---- Sampled blocks behave like normal ones. */

static void check_block(void *p, size_t n, uint64_t seed)
{
	ck_assert_msg(block_of(p), "%zu bytes: not sampled", n);
	ck_assert_uint_ge(hak_malloc_usable_size(p), n);
	pattern_fill(p, n, seed);
	ck_assert_uint_eq(pattern_check(p, n, seed), n);
}

static void *free_in_thread(void *arg)
{
	hak_free(arg);
	return NULL;
}

START_TEST(test_sampled_blocks)
{
	static const size_t sizes[] = { 1, 16, 100, 1000, 4096, 5000, 70000, 1 << 20, 3 << 20 };
	unsigned int i;

	REQUIRE_PROF();
	prof_test_setup(1, 7);      /* every allocation of 16 B or more */
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t n = sizes[i];
		const struct prof_site *s;
		uint64_t live, est;
		char *p, *q;
		void *a;

		p = hak_malloc(n < 16 ? 16 : n);
		n = n < 16 ? 16 : n;
		check_block(p, n, i);
		/* realloc: bigger, then smaller, keeps the contents. */
		q = hak_realloc(p, 2 * n);
		ck_assert(q);
		ck_assert_uint_eq(pattern_check(q, n, i), n);
		p = hak_realloc(q, n / 2 + 1);
		ck_assert(p);
		ck_assert_uint_eq(pattern_check(p, n / 2 + 1, i), n / 2 + 1);
		ck_assert_uint_ge(hak_malloc_usable_size(p), n / 2 + 1);
		hak_free_sized(p, n / 2 + 1);
		/* calloc: zeroed. */
		p = hak_calloc(1, n);
		check_block(p, 0, 0);
		ck_assert_uint_eq(first_not(p, n, 0), n);
		hak_free(p);
		/* Aligned. */
		ck_assert_int_eq(hak_posix_memalign(&a, 4096, n), 0);
		ck_assert_uint_eq((uintptr_t)a & 4095, 0);
		check_block(a, n, i + 100);
		hak_free_aligned_sized(a, 4096, n);
		a = hak_aligned_alloc(64, n);
		ck_assert(a && !((uintptr_t)a & 63));
		check_block(a, n, i + 200);
		hak_free(a);
		/* Freed by another thread: its site's live bytes go down. */
		p = hak_malloc(n);
		check_block(p, n, i + 300);
		s = site_of(p);
		live = s->live_bytes;
		est = block_of(p)->est_bytes;
		ck_assert_uint_ge(est, n);
		ck_assert_uint_ge(live, est);
		run_thread(free_in_thread, p);
		ck_assert_uint_eq(s->live_bytes, live - est);
	}
	/* Foreign-looking uses keep working: malloc(0), free(NULL). */
	hak_free(hak_malloc(0));
	hak_free(NULL);
	prof_test_setup(0, 0);
	/* Off: nothing is sampled. */
	for (i = 0; i < 1000; i++) {
		void *p = hak_malloc(100);

		ck_assert(!block_of(p));
		hak_free(p);
	}
}
END_TEST

/* ---- Accuracy and the live bytes. */

#define INTERVAL (16u << 10)
#define NSITES 4

static noinline void *site0(size_t n) { void *p = hak_malloc(n); sink = p; return p; }
static noinline void *site1(size_t n) { void *p = hak_malloc(n); sink = p; return p; }
static noinline void *site2(size_t n) { void *p = hak_calloc(1, n); sink = p; return p; }
static noinline void *site3(size_t n) { void *p = hak_malloc(n); sink = p; return p; }

static void *(*const sites[NSITES])(size_t) = { site0, site1, site2, site3 };

struct acc {
	uintptr_t start;           /* the site function */
	uint64_t live, total;      /* its estimates, summed over its stacks */
};

/* The function of a return address: the nearest start below it. */
static void add_site(const struct prof_site *s, void *arg)
{
	struct acc *a = arg;
	uintptr_t pc = s->pc[0];
	int i, best = -1;

	for (i = 0; i < NSITES; i++)
		if (pc > a[i].start && pc - a[i].start < 512 &&
		    (best < 0 || a[i].start > a[best].start))
			best = i;
	if (best >= 0) {
		a[best].live += s->live_bytes;
		a[best].total += s->total_bytes;
	}
}

static void collect(struct acc *a)
{
	int i;

	for (i = 0; i < NSITES; i++) {
		a[i].start = (uintptr_t)sites[i];
		a[i].live = a[i].total = 0;
	}
	prof_for_each_site(add_site, a);
}

static void expect_near(const char *what, int site, uint64_t est, uint64_t truth, double tol)
{
	double err = ((double)est - (double)truth) / (double)truth;

	printf("prof: site %d %s: estimate %llu, truth %llu, error %+.1f%%\n", site, what,
	       (unsigned long long)est, (unsigned long long)truth, 100 * err);
	ck_assert_msg(err < tol && err > -tol, "site %d %s: estimate %llu, truth %llu", site,
		      what, (unsigned long long)est, (unsigned long long)truth);
}

START_TEST(test_accuracy)
{
	/* Bytes held per site: 400, 500, 600 and 1000 times the interval,
	 * in blocks of 64 B, 1000 B, 200 B (calloc), and 16 B to 4 KiB. */
	static const uint64_t held[NSITES] = { 400ull * INTERVAL, 500ull * INTERVAL,
					       600ull * INTERVAL, 1000ull * INTERVAL };
	static const size_t size[NSITES] = { 64, 1000, 200, 0 };
	static void **blocks[NSITES];
	static size_t count[NSITES], bytes[NSITES][2];
	uint64_t rng = 12345, freed, total[NSITES];
	struct acc a[NSITES];
	size_t i, k;

	REQUIRE_PROF();
	prof_test_setup(INTERVAL, 1);
	for (k = 0; k < NSITES; k++) {
		size_t cap = held[k] / 16 + 1;

		blocks[k] = malloc(cap * sizeof(void *));
		ck_assert(blocks[k]);
		bytes[k][0] = bytes[k][1] = 0;
		for (i = 0; bytes[k][0] + bytes[k][1] < held[k]; i++) {
			size_t n = size[k] ? size[k] : 16 + rnd(&rng) % 4081;

			blocks[k][i] = sites[k](n);
			ck_assert(blocks[k][i]);
			bytes[k][i & 1] += n;
		}
		count[k] = i;
	}
	collect(a);
	for (k = 0; k < NSITES; k++) {
		total[k] = a[k].total;
		expect_near("live", (int)k, a[k].live, bytes[k][0] + bytes[k][1], 0.10);
		expect_near("total", (int)k, a[k].total, bytes[k][0] + bytes[k][1], 0.10);
	}
	/* Free the odd blocks: the live estimates follow (200 times the
	 * interval and more: within 15%); total stays. */
	for (k = 0; k < NSITES; k++)
		for (i = 1; i < count[k]; i += 2)
			hak_free(blocks[k][i]);
	collect(a);
	for (k = 0; k < NSITES; k++) {
		expect_near("live after half", (int)k, a[k].live, bytes[k][0], 0.15);
		ck_assert_uint_eq(a[k].total, total[k]);
	}
	for (k = 0; k < NSITES; k++) {
		for (i = 0; i < count[k]; i += 2)
			hak_free(blocks[k][i]);
		free(blocks[k]);
	}
	collect(a);
	freed = 0;
	for (k = 0; k < NSITES; k++)
		freed += a[k].live;
	ck_assert_uint_eq(freed, 0);     /* exactly what was added */
}
END_TEST

/* ---- The stack walk. */

#define FP_FN __attribute__((__noinline__, optimize("no-omit-frame-pointer")))
#define NOFP_FN __attribute__((__noinline__, optimize("omit-frame-pointer")))

FP_FN static void *chain_c(void) { void *p = hak_malloc(100); sink = p; return p; }
FP_FN static void *chain_b(void) { void *p = chain_c(); sink = p; return p; }
FP_FN static void *chain_a(void) { void *p = chain_b(); sink = p; return p; }

NOFP_FN static void *nofp_c(void) { void *p = hak_malloc(100); sink = p; return p; }
NOFP_FN static void *nofp_b(void) { void *p = nofp_c(); sink = p; return p; }

FP_FN static void *deep(int n)
{
	void *p = n ? deep(n - 1) : hak_malloc(100);

	sink = p;
	return p;
}

static int in_fn(uintptr_t pc, void *fn)
{
	return pc > (uintptr_t)fn && pc - (uintptr_t)fn < 256;
}

static void *walk_known_chain(void *arg)
{
	const struct prof_site *s;
	void *p;

	(void)arg;
	p = chain_a();       /* in a new thread, its first malloc: sampled too */
	s = site_of(p);
	ck_assert_uint_ge(s->depth, 3);
	ck_assert_msg(in_fn(s->pc[0], chain_c), "frame 0 %#lx not in chain_c %p",
		      (unsigned long)s->pc[0], (void *)chain_c);
	ck_assert_msg(in_fn(s->pc[1], chain_b), "frame 1 %#lx not in chain_b",
		      (unsigned long)s->pc[1]);
	ck_assert_msg(in_fn(s->pc[2], chain_a), "frame 2 %#lx not in chain_a",
		      (unsigned long)s->pc[2]);
	hak_free(p);
	/* Without frame pointers: the caller still, the rest whatever the
	 * frame pointer register held, read inside the stack only. */
	p = nofp_b();
	s = site_of(p);
	ck_assert_uint_ge(s->depth, 1);
	ck_assert(in_fn(s->pc[0], nofp_c));
	hak_free(p);
	/* The depth limit. */
	p = deep(200);
	ck_assert_uint_eq(site_of(p)->depth, PROF_DEPTH);
	hak_free(p);
	return NULL;
}

START_TEST(test_walk_known_chain)
{
	REQUIRE_PROF();
	prof_test_setup(1, 3);
	walk_known_chain(NULL);
	/* And on a thread's stack (its top from the thread descriptor). */
	run_thread(walk_known_chain, NULL);
}
END_TEST

/* Made-up frame chains in a buffer standing for the stack. */
START_TEST(test_walk_bad_chains)
{
	long page = sysconf(_SC_PAGESIZE);
	char *map = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uintptr_t *stack, base, top, pc[PROF_DEPTH];
	uint64_t rng = 99;
	unsigned int n, i, round;

	REQUIRE_PROF();
	/* 512 bytes standing for a stack, an inaccessible page above. */
	ck_assert(map != MAP_FAILED);
	ck_assert_int_eq(mprotect(map + page, page, PROT_NONE), 0);
	stack = (uintptr_t *)(map + page - 512);
	base = (uintptr_t)stack;
	top = (uintptr_t)(map + page);
	/* A good chain of 4 records, the last pointing far outside. */
	for (i = 0; i < 4; i++) {
		stack[i * 8] = base + (i + 1) * 64;
		stack[i * 8 + 1] = 0x400000 + i;
	}
	stack[3 * 8] = 0x10;    /* below: ends the walk */
	n = prof_walk(base, top, 0x1234, pc, PROF_DEPTH);
	ck_assert_uint_eq(n, 4);   /* ra, then records 1..3 (record 0 is the slow path's) */
	ck_assert_uint_eq(pc[0], 0x1234);
	ck_assert_uint_eq(pc[1], 0x400001);
	/* ra found among the first records: taken from there. */
	n = prof_walk(base, top, 0x400001, pc, PROF_DEPTH);
	ck_assert_uint_eq(n, 3);
	ck_assert_uint_eq(pc[0], 0x400001);
	/* A loop, a step down, a misaligned frame, a frame at the top, a
	 * record past the top: each ends the walk, reading nothing past it. */
	stack[8] = base + 64;                 /* record 1 points at itself */
	ck_assert_uint_le(prof_walk(base, top, 1 << 20, pc, PROF_DEPTH), 3);
	stack[8] = base;                      /* back down */
	ck_assert_uint_le(prof_walk(base, top, 1 << 20, pc, PROF_DEPTH), 3);
	stack[8] = base + 64 + 4;             /* misaligned */
	ck_assert_uint_le(prof_walk(base, top, 1 << 20, pc, PROF_DEPTH), 3);
	stack[8] = top - 8;                   /* a record would cross the top */
	ck_assert_uint_le(prof_walk(base, top, 1 << 20, pc, PROF_DEPTH), 3);
	ck_assert_uint_eq(prof_walk(base + 4, top, 7, pc, PROF_DEPTH), 1);
	ck_assert_uint_eq(prof_walk(top, top, 7, pc, PROF_DEPTH), 1);
	ck_assert_uint_eq(prof_walk(0, top, 7, pc, PROF_DEPTH), 1);
	/* Random words, addresses anywhere: the walk stays in the buffer. */
	for (round = 0; round < 2000; round++) {
		for (i = 0; i < 64; i++) {
			uint64_t r = rnd(&rng);

			stack[i] = (r & 3) ? base + (r >> 8) % (512 + 4096) - 2048 : (uintptr_t)r;
		}
		n = prof_walk(base, top, 7, pc, PROF_DEPTH);
		ck_assert_uint_ge(n, 1);
		ck_assert_uint_le(n, PROF_DEPTH);
	}
	/* The depth limit. */
	for (i = 0; i < 31; i++) {
		stack[i * 2] = base + (i + 1) * 16;
		stack[i * 2 + 1] = 0x500000 + i;
	}
	stack[62] = 0;
	stack[63] = 0x500000 + 31;
	ck_assert_uint_eq(prof_walk(base, top, 7, pc, 5), 5);
	munmap(map, 2 * page);
}
END_TEST

/* ---- The numbers behind the estimates (no libm in the library). */
START_TEST(test_math)
{
	static const double x[] = { 1e-9, 1e-4, 0.01, 0.2, 0.25, 0.3, 1, 2.5, 10, 39, 50 };
	static const double want_ome[] = { 1e-9, 9.9995000166661e-05, 0.00995016625083195,
		0.181269246922018, 0.221199216928595, 0.259181779318282, 0.632120558828558,
		0.917915001376101, 0.999954600070238, 1.0, 1.0 };
	static const double u[] = { 1.0, 0.5, 0.1, 1e-6, 1.0 / 9007199254740992.0, 0.999999 };
	static const double want_log[] = { 0.0, 0.693147180559945, 2.30258509299405,
		13.8155105579643, 36.7368005696771, 1.00000050000033e-06 };
	unsigned int i;

	REQUIRE_PROF();
	for (i = 0; i < sizeof(x) / sizeof(x[0]); i++) {
		double got = prof_one_minus_exp_neg(x[i]);

		ck_assert_msg(got > want_ome[i] * (1 - 1e-9) && got < want_ome[i] * (1 + 1e-9),
			      "1 - exp(-%g) = %.15g, want %.15g", x[i], got, want_ome[i]);
	}
	for (i = 0; i < sizeof(u) / sizeof(u[0]); i++) {
		double got = prof_neg_log(u[i]);

		ck_assert_msg(got >= want_log[i] * (1 - 1e-9) - 1e-15 &&
			      got <= want_log[i] * (1 + 1e-9) + 1e-15,
			      "-ln(%g) = %.15g, want %.15g", u[i], got, want_log[i]);
	}
}
END_TEST

/* ---- hak_prof_dump and the file. */
START_TEST(test_dump)
{
	char path[64], line[256];
	unsigned long long lo, lb, to, tb;
	FILE *f;
	void *p;

	REQUIRE_PROF();
	ck_assert_int_eq(hak_prof_dump(), ENOTSUP);     /* HAKMEM_PROF not set */
	prof_test_setup(1, 5);
	p = chain_a();
	snprintf(path, sizeof(path), "/tmp/hakmem-test-prof.%d", (int)getpid());
	ck_assert_int_eq(prof_dump_to(path), 0);
	f = fopen(path, "r");
	ck_assert(f);
	ck_assert(fgets(line, sizeof(line), f));
	ck_assert_int_eq(sscanf(line, "heap profile: %llu: %llu [%llu: %llu] @ heapprofile",
				&lo, &lb, &to, &tb), 4);
	ck_assert_uint_ge(lb, 100);
	ck_assert_uint_ge(tb, lb);
	while (fgets(line, sizeof(line), f) && strcmp(line, "MAPPED_LIBRARIES:\n"))
		;
	ck_assert_str_eq(line, "MAPPED_LIBRARIES:\n");
	ck_assert(fgets(line, sizeof(line), f));      /* the maps follow */
	fclose(f);
	unlink(path);
	strcat(path, ".collapsed");
	f = fopen(path, "r");
	ck_assert(f);
	/* chain_a's stack among them: three frames at least. */
	while (fgets(line, sizeof(line), f) && !(strchr(line, ';') && strchr(strchr(line, ';') + 1, ';')))
		;
	ck_assert_msg(strchr(line, ';') && strchr(line, ' '), "no collapsed stack of chain_a");
	fclose(f);
	unlink(path);
	hak_free(p);
}
END_TEST

#else
START_TEST(test_sampled_blocks) { REQUIRE_PROF(); } END_TEST
START_TEST(test_accuracy) { REQUIRE_PROF(); } END_TEST
START_TEST(test_walk_known_chain) { REQUIRE_PROF(); } END_TEST
START_TEST(test_walk_bad_chains) { REQUIRE_PROF(); } END_TEST
START_TEST(test_math) { REQUIRE_PROF(); } END_TEST
START_TEST(test_dump)
{
	ck_assert_int_eq(hak_prof_dump(), ENOTSUP);
	REQUIRE_PROF();
}
END_TEST
#endif

static Suite *make_suite(void)
{
	TCase *tc;
	Suite *s = one_tcase_suite("prof", "core", 120, &tc);

	tcase_add_test(tc, test_sampled_blocks);
	tcase_add_test(tc, test_accuracy);
	tcase_add_test(tc, test_walk_known_chain);
	tcase_add_test(tc, test_walk_bad_chains);
	tcase_add_test(tc, test_math);
	tcase_add_test(tc, test_dump);
	return s;
}

HAK_TEST_MAIN(make_suite)
