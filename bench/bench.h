/* SPDX-License-Identifier: MIT */
/*
 * bench.h - shared helpers for the hakmem benchmark programs.
 *
 * Every program in bench/ uses the standard malloc/free/realloc, so it runs
 * under any allocator through LD_PRELOAD. Each one:
 *  - takes key=value arguments (unknown keys are an error, quick=1 picks the
 *    short variant), numbers take a suffix: k/m/g = 10^3/10^6/10^9,
 *    K/M/G = 2^10/2^20/2^30;
 *  - tags every block it allocates with a pattern derived from its address
 *    and size, and checks the tag before freeing it;
 *  - exits 3 with "CHECK FAILED" on stderr when a check fails, 2 on bad
 *    arguments, and 0 otherwise;
 *  - prints exactly one line on stdout:
 *      RESULT bench=<name> <params...> ops=<n> secs=<s> mops=<Mops/s> [metrics]
 *    where an op is one malloc+free pair unless the program says otherwise.
 */
#ifndef HAKMEM_BENCH_H
#define HAKMEM_BENCH_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BENCH_PAGE 4096

static inline uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline double bench_secs(uint64_t t0, uint64_t t1)
{
	return (double)(t1 - t0) / 1e9;
}

static inline double bench_mops(double ops, double secs)
{
	return secs > 0 ? ops / secs / 1e6 : 0.0;
}

/* xorshift64*: fast, deterministic, good enough for picking sizes and slots. */
static inline uint64_t rng_next(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1DULL;
}

static inline uint64_t rng_seed(uint64_t seed)
{
	return seed ? seed * 0x9E3779B97F4A7C15ULL | 1 : 0x853c49e6748fea9bULL;
}

/* Uniform in [lo, hi] without a division (span below 2^32). */
static inline uint64_t rng_range(uint64_t *s, uint64_t lo, uint64_t hi)
{
	uint64_t span = hi - lo + 1;

	return lo + (((rng_next(s) >> 32) * span) >> 32);
}

/* ---- failure reporting --------------------------------------------------- */

__attribute__((noreturn, format(printf, 1, 2), unused))
static void bench_fail(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "bench: CHECK FAILED: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(3);
}

static inline void *bench_nonnull(void *p, size_t n)
{
	if (__builtin_expect(p == NULL && n != 0, 0))
		bench_fail("allocation of %zu bytes returned NULL", n);
	return p;
}

/* ---- arguments ----------------------------------------------------------- */

static int bench_argc;
static char **bench_argv;
static unsigned char bench_used[256];

__attribute__((unused))
static void bench_args_init(int argc, char **argv)
{
	bench_argc = argc < 256 ? argc : 256;
	bench_argv = argv;
	memset(bench_used, 0, sizeof(bench_used));
}

__attribute__((unused))
static const char *bench_arg_str(const char *key, const char *def)
{
	size_t kl = strlen(key);

	for (int i = 1; i < bench_argc; i++) {
		if (strncmp(bench_argv[i], key, kl) == 0 && bench_argv[i][kl] == '=') {
			bench_used[i] = 1;
			return bench_argv[i] + kl + 1;
		}
	}
	return def;
}

__attribute__((unused))
static long bench_arg(const char *key, long def)
{
	const char *v = bench_arg_str(key, NULL);
	char *end;
	long x;

	if (!v)
		return def;
	x = strtol(v, &end, 0);
	switch (*end) {
	case 'k': x *= 1000L; end++; break;
	case 'm': x *= 1000000L; end++; break;
	case 'g': x *= 1000000000L; end++; break;
	case 'K': x <<= 10; end++; break;
	case 'M': x <<= 20; end++; break;
	case 'G': x <<= 30; end++; break;
	default: break;
	}
	if (end == v || *end || x < 0) {
		fprintf(stderr, "bench: bad value for %s: '%s'\n", key, v);
		exit(2);
	}
	return x;
}

/* Call after the last bench_arg*(): rejects arguments nobody asked for. */
__attribute__((unused))
static void bench_args_done(void)
{
	int bad = 0;

	for (int i = 1; i < bench_argc; i++) {
		if (!bench_used[i]) {
			fprintf(stderr, "bench: unknown argument '%s'\n", bench_argv[i]);
			bad = 1;
		}
	}
	if (bad)
		exit(2);
}

/* ---- block tags ------------------------------------------------------------ */

static inline uint64_t bench_tag(const void *p, size_t n)
{
	return ((uint64_t)(uintptr_t)p * 0x9E3779B97F4A7C15ULL) ^ (n * 0xC2B2AE3D27D4EB4FULL);
}

/*
 * Tag the first and last word of the block (only the first below 16 bytes) (or its first byte when it is
 * smaller than a word). With every_page, also one word at the start of every
 * page of the block, so the pages become resident and RSS reflects real use.
 */
static inline void bench_fill_salt(void *p, size_t n, int every_page, uint64_t salt)
{
	unsigned char *b = p;
	uint64_t t = bench_tag(p, n) ^ salt;

	if (n < 8) {
		if (n)
			b[0] = (unsigned char)t;
		return;
	}
	memcpy(b, &t, 8);
	if (n < 16)
		return;
	memcpy(b + n - 8, &t, 8);
	if (every_page) {
		uintptr_t a = ((uintptr_t)b + 8 + BENCH_PAGE - 1) & ~(uintptr_t)(BENCH_PAGE - 1);
		for (; a + 8 <= (uintptr_t)b + n - 8; a += BENCH_PAGE)
			memcpy((void *)a, &t, 8);
	}
}

static inline void bench_check_salt(const void *p, size_t n, int every_page, uint64_t salt)
{
	const unsigned char *b = p;
	uint64_t t = bench_tag(p, n) ^ salt, h, e;

	if (n < 8) {
		if (n && b[0] != (unsigned char)t)
			bench_fail("block %p size %zu: tag byte overwritten", p, n);
		return;
	}
	memcpy(&h, b, 8);
	if (n < 16)
		e = t;
	else
		memcpy(&e, b + n - 8, 8);
	if (__builtin_expect(h != t || e != t, 0))
		bench_fail("block %p size %zu: %s tag overwritten (0x%016llx, expected 0x%016llx)",
			   p, n, h != t ? "head" : "tail",
			   (unsigned long long)(h != t ? h : e), (unsigned long long)t);
	if (every_page) {
		uintptr_t a = ((uintptr_t)b + 8 + BENCH_PAGE - 1) & ~(uintptr_t)(BENCH_PAGE - 1);
		for (; a + 8 <= (uintptr_t)b + n - 8; a += BENCH_PAGE) {
			memcpy(&h, (const void *)a, 8);
			if (h != t)
				bench_fail("block %p size %zu: page tag at +%zu overwritten",
					   p, n, (size_t)(a - (uintptr_t)b));
		}
	}
}

/*
 * The salt tells apart live blocks that an allocator wrongly hands out twice
 * at the same address (same address and size give the same tag): programs
 * that keep blocks in slots pass salt = slot index + 1.
 */
#define bench_fill(p, n, every_page) bench_fill_salt(p, n, every_page, 0)
#define bench_check(p, n, every_page) bench_check_salt(p, n, every_page, 0)

/* ---- memory use ------------------------------------------------------------ */

/* Resident set size in KiB, from /proc/self/statm (no malloc involved). */
__attribute__((unused))
static long bench_rss_kib(void)
{
	char buf[128];
	long size = 0, res = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (!f)
		return -1;
	if (!fgets(buf, sizeof(buf), f) || sscanf(buf, "%ld %ld", &size, &res) != 2)
		res = -1;
	fclose(f);
	return res < 0 ? -1 : res * (sysconf(_SC_PAGESIZE) / 1024);
}

/* ---- result line ------------------------------------------------------------ */

__attribute__((format(printf, 1, 2), unused))
static void bench_result(const char *fmt, ...)
{
	va_list ap;

	fputs("RESULT ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

/* ---- allocation entry points for the instruction-count loops --------------

 * tiny.c and random.c allocate through B_MALLOC/B_FREE. Normally these are
 * malloc/free. scripts/bench-instr.sh also builds them with
 * -DBENCH_STANDIN=1 or 2 to measure the loop's own cost:
 *  1: a trivial inline LIFO free list of fixed cells stands in for the
 *     allocator: cost per pair = loop + C, where C is one pop and one push;
 *  2: the same, but every malloc does pop, push, pop: loop + 2C.
 * So loop = 2 * cost(1) - cost(2), with no guess about C.
 */
#ifdef BENCH_STANDIN
static void *standin_head;

#define BENCH_BARRIER() __atomic_signal_fence(__ATOMIC_SEQ_CST)

static inline void *standin_pop(void)
{
	void *p = standin_head;

	standin_head = *(void **)p;
	BENCH_BARRIER();
	return p;
}

static inline void standin_push(void *p)
{
	*(void **)p = standin_head;
	standin_head = p;
	BENCH_BARRIER();
}

static inline void *standin_malloc(size_t n)
{
	void *p;

	(void)n;
	p = standin_pop();
#if BENCH_STANDIN == 2
	standin_push(p);
	p = standin_pop();
#endif
	return p;
}

__attribute__((unused))
static void standin_init(size_t cells, size_t cell_size)
{
	char *a = malloc(cells * cell_size);

	bench_nonnull(a, cells * cell_size);
	for (size_t i = 0; i < cells; i++)
		standin_push(a + i * cell_size);
}

#define B_MALLOC(n) standin_malloc(n)
#define B_FREE(p) standin_push(p)
#define B_INIT(cells, cell_size) standin_init(cells, cell_size)
#else
#define B_MALLOC(n) malloc(n)
#define B_FREE(p) free(p)
#define B_INIT(cells, cell_size) ((void)0)
#endif

#endif /* HAKMEM_BENCH_H */
