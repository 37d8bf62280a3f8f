/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by hakmem's Check tests (tests/test-*.c).  Everything is
 * static inline, so a test pays only for what it calls and an unused
 * helper does not warn.  Include it after harness.h.
 *
 * Sizes
 *   KiB, MiB                 size_t constants.
 *
 * Random numbers (deterministic, per-caller state)
 *   mix(x)                   64-bit finalizer (murmur3 fmix64): spreads a
 *                            seed, an address or a counter over all bits.
 *   rnd(&s)                  xorshift64 step; s must not be 0.
 *
 * Block contents
 *   pattern_fill(p, n, seed) fill n bytes with 8-byte words seed + k * PAT_K
 *                            (word k at offset 8k, native byte order); a
 *                            tail shorter than a word takes the low-address
 *                            bytes of the next word.
 *   pattern_check(p, n, seed) offset of the first word (or tail) of [p, p+n)
 *                            that differs from pattern_fill's, or n when
 *                            intact.  Checking a prefix of a filled block
 *                            is valid (realloc keeps a prefix).
 *   first_not(p, n, c)       first index in [0, n) whose byte is not c, or n
 *                            (no Check call per byte).
 *
 * Process state
 *   rss_bytes()              resident set size, from /proc/self/statm.
 *   stats_now()              hak_stats_get() into a zeroed struct: without
 *                            CONFIG_STATS the event counters stay 0 and the
 *                            gauges (slabs_in_use, big_in_use, ...) are kept.
 *   stat_now(id)             one entry of stats_snapshot(); white-box tests
 *                            only: defined when <mm/stats.h> is included
 *                            before this header.
 *
 * Threads
 *   run_thread(fn, arg)      start fn(arg) in a new thread, join it and
 *                            return its result (asserts on failure).
 *   noop_thread(arg)         a thread body that allocates and frees 16 B
 *                            (creates, then retires, one thread heap).
 *
 * Suites
 *   one_tcase_suite(name, tcname, timeout, &tc)
 *                            a Suite with one TCase (timeout in seconds; 0
 *                            keeps Check's default); add the tests to tc.
 */
#ifndef HAKMEM_TEST_TESTUTIL_H
#define HAKMEM_TEST_TESTUTIL_H

#include <check.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <hakmem.h>
#include <mm/options.h>

#define KiB ((size_t)1024)
#define MiB (1024 * KiB)

/* ---- random numbers */

static inline uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

static inline uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* ---- block contents */

#define PAT_K 0x9e3779b97f4a7c15ull

static inline void pattern_fill(void *p, size_t n, uint64_t seed)
{
	unsigned char *b = p;
	size_t off = 0;
	uint64_t w;

	for (; off + 8 <= n; off += 8) {
		w = seed + (off / 8) * PAT_K;
		memcpy(b + off, &w, 8);
	}
	w = seed + (off / 8) * PAT_K;
	memcpy(b + off, &w, n - off);
}

static inline size_t pattern_check(const void *p, size_t n, uint64_t seed)
{
	const unsigned char *b = p;
	size_t off = 0;
	uint64_t w;

	for (; off + 8 <= n; off += 8) {
		w = seed + (off / 8) * PAT_K;
		if (memcmp(b + off, &w, 8))
			return off;
	}
	w = seed + (off / 8) * PAT_K;
	if (memcmp(b + off, &w, n - off))
		return off;
	return n;
}

static inline size_t first_not(const void *p, size_t n, unsigned char c)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i] != c)
			return i;
	return n;
}

/* ---- process state */

static inline size_t rss_bytes(void)
{
	long pages = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	ck_assert(f);
	ck_assert_int_eq(fscanf(f, "%ld %ld", &pages, &resident), 2);
	fclose(f);
	return (size_t)resident * (size_t)sysconf(_SC_PAGESIZE);
}

static inline struct hak_stats stats_now(void)
{
	struct hak_stats st;

	memset(&st, 0, sizeof(st));
	hak_stats_get(&st);   /* -1 without CONFIG_STATS; the gauges are kept */
	return st;
}

#ifdef HAKMEM_MM_STATS_H
static inline int64_t stat_now(enum stat_id id)
{
	int64_t v[STAT_COUNT];

	stats_snapshot(v);
	return v[id];
}
#endif

/* ---- threads */

static inline void *run_thread(void *(*fn)(void *), void *arg)
{
	pthread_t t;
	void *ret = NULL;

	ck_assert_int_eq(pthread_create(&t, NULL, fn, arg), 0);
	ck_assert_int_eq(pthread_join(t, &ret), 0);
	return ret;
}

static inline void *noop_thread(void *arg)
{
	hak_free(hak_malloc(16));
	return arg;
}

/*
 * Call first thing in a fork child that runs allocator code: under
 * qemu-user (TEST_EMULATED) a fork child's first new thread aborts qemu
 * 7.2 (it keeps the parent's vCPUs in its plugin table), so the child gets
 * no purge thread there.  Natively the child starts its own on demand.
 */
static inline void fork_child_setup(void)
{
	if (getenv("TEST_EMULATED"))
		option_values[OPT_PURGE_THREAD].num = 0;
}

/* Built with a sanitizer: RSS holds its shadow memory, not the program's. */
#ifdef __SANITIZE_ADDRESS__
#define UNDER_ASAN 1
#else
#define UNDER_ASAN 0
#endif
#ifdef __SANITIZE_THREAD__
#define UNDER_TSAN 1
#else
#define UNDER_TSAN 0
#endif

/* ---- suites */

static inline Suite *one_tcase_suite(const char *name, const char *tcname, double timeout,
				     TCase **tc)
{
	Suite *s = suite_create(name);

	*tc = tcase_create(tcname);
	if (timeout > 0)
		tcase_set_timeout(*tc, timeout);
	suite_add_tcase(s, *tc);
	return s;
}

#endif
