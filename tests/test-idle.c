/* SPDX-License-Identifier: MIT */
/*
 * Idle after a peak: memory goes back to the kernel while every thread
 * sleeps.
 *
 * Each test allocates a burst of 256 MiB (64 MiB under TEST_EMULATED) in
 * blocks of 16 B .. 32 KiB (half up to 1 KiB, half above), fills every
 * block with a pattern of its address and index (so every page is
 * touched), checks the pattern before freeing it, and frees everything.
 * Then no thread calls the allocator: the threads that took part block on
 * a condition variable and the main thread sleeps 1 s.  RSS above the
 * baseline must then be at most 10% of the peak's.  Whatever the frees
 * themselves did not give back, only the purge thread (CONFIG_PURGE_THREAD)
 * can in that second: the check needs it, and a DECAY_MS of at most 500.
 *
 * test_idle_owner: one thread allocates and frees the burst, then idles.
 *
 * test_idle_owner_exited: a thread allocates the burst and exits; a second
 * thread frees every block (into abandoned spans), then idles.
 *
 * test_idle_owner_alive: a thread allocates the burst and idles; a second
 * thread frees every block (remote frees into a live heap), then idles.
 *
 * test_idle_many_threads: 8 threads each allocate an eighth of the burst,
 * churn small blocks (so their heaps keep a reserve of empty spans), free
 * their own blocks, then idle.
 *
 * Each test prints "idle <name>: base, peak, after (KiB), ratio".  RSS is
 * read from /proc/self/statm with open/read, not stdio, so that the
 * reading itself does not call malloc (the test links the library with
 * CONFIG_OVERRIDE).  The workloads run in every build; the RSS check is
 * skipped where it cannot mean anything: under ASan or TSan (shadow
 * memory), under emulation (RSS is qemu's), without the purge thread,
 * with DECAY_MS above 500, or with TINY or POOL off.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <mm/heap/heap.h>
#include <mm/options.h>
#include "harness.h"
#include "testutil.h"

enum { NW_MAX = 8 };

/* Churn of test_idle_many_threads: rounds of blocks of 16 B .. 1 KiB. */
enum { CHURN_ROUNDS = 1000, CHURN_BLOCKS = 64 };

/* ---- RSS without the allocator */

/* Resident bytes, from /proc/self/statm through open/read only. */
static size_t rss_raw(void)
{
	char buf[128], *p;
	size_t resident;
	ssize_t n;
	int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);

	ck_assert(fd >= 0);
	do
		n = read(fd, buf, sizeof(buf) - 1);
	while (n < 0 && errno == EINTR);
	close(fd);
	ck_assert(n > 0);
	buf[n] = '\0';
	p = strchr(buf, ' ');             /* skip the total size */
	ck_assert(p);
	resident = strtoul(p + 1, NULL, 10);
	return resident * (size_t)sysconf(_SC_PAGESIZE);
}

static void sleep_1s(void)
{
	struct timespec ts = { 1, 0 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* ---- blocks */

/* Half the blocks small (16 B .. 1 KiB), half mid (1 KiB .. 32 KiB). */
static size_t block_size(uint64_t *s)
{
	uint64_t r = rnd(s);

	if (r & 1)
		return 16 + (r >> 8) % (KiB - 16 + 1);
	return KiB + 1 + (r >> 8) % (31 * KiB);
}

static uint64_t block_seed(const void *p, size_t i)
{
	return mix((uint64_t)(uintptr_t)p ^ (i << 48)) + i;
}

struct blk {
	void *p;
	size_t n;
};

/* The blocks one thread allocates: mmap'ed, outside the allocator. */
struct table {
	struct blk *b;
	size_t cap, count;
};

static void table_init(struct table *t, size_t target)
{
	/* The smallest average block is ~8 KiB for the mid half. */
	t->cap = target / 4000 + 1024;
	t->count = 0;
	t->b = mmap(NULL, t->cap * sizeof(*t->b), PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert(t->b != MAP_FAILED);
	/* Resident before the baseline is read. */
	memset(t->b, 0, t->cap * sizeof(*t->b));
}

static void table_destroy(struct table *t)
{
	munmap(t->b, t->cap * sizeof(*t->b));
}

/* ---- thread stages */

/*
 * Threads report each point they reach (arrived counts them all, over the
 * whole test) and wait there for the main thread to open the next stage.
 * A blocked thread sleeps in the kernel and calls nothing.
 */
enum { STAGE_ALLOC, STAGE_FREE, STAGE_RELEASE };

struct gate {
	pthread_mutex_t m;
	pthread_cond_t c;
	unsigned int arrived;
	unsigned int stage;
};

static struct gate gate;

static void gate_init(void)
{
	ck_assert_int_eq(pthread_mutex_init(&gate.m, NULL), 0);
	ck_assert_int_eq(pthread_cond_init(&gate.c, NULL), 0);
	gate.arrived = 0;
	gate.stage = STAGE_ALLOC;
}

static void gate_destroy(void)
{
	pthread_cond_destroy(&gate.c);
	pthread_mutex_destroy(&gate.m);
}

static void gate_arrive(void)
{
	pthread_mutex_lock(&gate.m);
	gate.arrived++;
	pthread_cond_broadcast(&gate.c);
	pthread_mutex_unlock(&gate.m);
}

static void gate_wait_stage(unsigned int stage)
{
	pthread_mutex_lock(&gate.m);
	while (gate.stage < stage)
		pthread_cond_wait(&gate.c, &gate.m);
	pthread_mutex_unlock(&gate.m);
}

/* Main thread: waits until `n` arrivals in all. */
static void gate_await(unsigned int n)
{
	pthread_mutex_lock(&gate.m);
	while (gate.arrived < n)
		pthread_cond_wait(&gate.c, &gate.m);
	pthread_mutex_unlock(&gate.m);
}

static void gate_open(unsigned int stage)
{
	pthread_mutex_lock(&gate.m);
	gate.stage = stage;
	pthread_cond_broadcast(&gate.c);
	pthread_mutex_unlock(&gate.m);
}

/* ---- workers */

enum { FAIL_NOMEM = 1, FAIL_PATTERN = 2 };

struct worker {
	pthread_t tid;
	unsigned int id;
	struct table *tab;   /* the blocks it allocates, or frees */
	size_t target;       /* bytes to allocate; 0: allocates nothing */
	int churn;           /* small-block churn after allocating */
	int frees;           /* frees tab's blocks (at STAGE_FREE) */
	int lingers;         /* stays until STAGE_RELEASE (else exits) */
	int failed;
	size_t bad_block, bad_off;
};

static struct worker w[NW_MAX];

static void burst_alloc(struct worker *me)
{
	uint64_t rs = 0x243f6a8885a308d3ull + me->id;
	struct table *t = me->tab;
	size_t bytes = 0;

	while (bytes < me->target && t->count < t->cap) {
		size_t n = block_size(&rs);
		void *p = hak_malloc(n);

		if (!p) {
			me->failed = FAIL_NOMEM;
			return;
		}
		pattern_fill(p, n, block_seed(p, t->count));
		t->b[t->count].p = p;
		t->b[t->count].n = n;
		t->count++;
		bytes += n;
	}
}

/* Alloc/free rounds of small blocks: the heap ends with empty spans. */
static void churn_small(struct worker *me)
{
	uint64_t rs = 0x13198a2e03707344ull + me->id;
	struct blk b[CHURN_BLOCKS];
	unsigned int r, i;

	for (r = 0; r < CHURN_ROUNDS && !me->failed; r++) {
		for (i = 0; i < CHURN_BLOCKS; i++) {
			b[i].n = 16 + rnd(&rs) % (KiB - 16 + 1);
			b[i].p = hak_malloc(b[i].n);
			if (!b[i].p) {
				me->failed = FAIL_NOMEM;
				break;
			}
			pattern_fill(b[i].p, b[i].n, block_seed(b[i].p, i));
		}
		while (i--) {
			size_t off = pattern_check(b[i].p, b[i].n, block_seed(b[i].p, i));

			if (off != b[i].n && !me->failed) {
				me->failed = FAIL_PATTERN;
				me->bad_block = i;
				me->bad_off = off;
			}
			hak_free(b[i].p);
		}
	}
}

static void burst_free(struct worker *me)
{
	struct table *t = me->tab;
	size_t i;

	for (i = 0; i < t->count; i++) {
		struct blk *b = &t->b[i];
		size_t off = pattern_check(b->p, b->n, block_seed(b->p, i));

		if (off != b->n && !me->failed) {
			me->failed = FAIL_PATTERN;
			me->bad_block = i;
			me->bad_off = off;
		}
		hak_free(b->p);
		b->p = NULL;
	}
}

/*
 * A worker arrives once after allocating (if it allocates) and once after
 * freeing (if it frees), so the main thread knows how many arrivals to
 * wait for.
 */
static void *worker_main(void *arg)
{
	struct worker *me = arg;

	if (me->target) {
		burst_alloc(me);
		if (me->churn)
			churn_small(me);
		gate_arrive();
	}
	if (me->frees) {
		gate_wait_stage(STAGE_FREE);
		burst_free(me);
		gate_arrive();
	}
	if (me->lingers)
		gate_wait_stage(STAGE_RELEASE);
	return NULL;
}

static void worker_start(struct worker *me)
{
	ck_assert_int_eq(pthread_create(&me->tid, NULL, worker_main, me), 0);
}

static void worker_join(struct worker *me)
{
	ck_assert_int_eq(pthread_join(me->tid, NULL), 0);
	me->tid = 0;
}

static void worker_check(const struct worker *me)
{
	ck_assert_msg(me->failed != FAIL_NOMEM, "worker %u: malloc returned NULL", me->id);
	ck_assert_msg(me->failed != FAIL_PATTERN,
		      "worker %u: block %zu corrupted at offset %zu", me->id, me->bad_block,
		      me->bad_off);
}

/* ---- the measurement */

struct idle_rss {
	size_t total;        /* the burst's bytes */
	size_t base, peak, after;
	const char *skip;    /* why RSS is not checked, or NULL */
};

static size_t burst_bytes(void)
{
	return getenv("TEST_EMULATED") ? 64 * MiB : 256 * MiB;
}

/* The reason the RSS check would mean nothing here, or NULL. */
static const char *idle_skip_reason(void)
{
	if (UNDER_ASAN)
		return "under ASan, RSS holds the shadow of the freed memory";
	if (UNDER_TSAN)
		return "under TSan, RSS holds the shadow of the freed memory";
	if (getenv("TEST_EMULATED"))
		return "under emulation, RSS is the emulator's";
#if !IS_ENABLED(CONFIG_PURGE_THREAD)
	return "without CONFIG_PURGE_THREAD nothing runs while every thread is idle";
#endif
	if (option_values[OPT_DECAY_MS].num > 500)
		return "needs DECAY_MS <= 500 to return memory within 1 s";
	if (!IS_ENABLED(CONFIG_TINY) || !IS_ENABLED(CONFIG_POOL))
		return "with TINY or POOL off, the shared heap gives spans back only on a decay "
		       "check";
	return NULL;
}

/* Warm-up; r ready, with the reason its RSS check is skipped (if any). */
static void idle_prepare(struct idle_rss *r)
{
	unsigned int i;

	/* Warm up: the main heap, a thread (TLS, stack cache), stdio. */
	run_thread(noop_thread, NULL);
	decay_run(1);
	memset(w, 0, sizeof(w));
	for (i = 0; i < NW_MAX; i++)
		w[i].id = i;
	gate_init();
	memset(r, 0, sizeof(*r));
	r->total = burst_bytes();
	r->skip = idle_skip_reason();
}

/* Every thread that took part is idle: wait 1 s (if it means anything). */
static void idle_measure(struct idle_rss *r)
{
	if (r->skip)
		return;
	sleep_1s();
	r->after = rss_raw();
}

/* After the threads are joined: the peak must have touched the burst. */
static void idle_check_peak(const struct idle_rss *r)
{
	ck_assert_msg(r->peak >= r->base + r->total * 9 / 10,
		      "peak RSS %zu KiB, base %zu KiB: pages not touched?", r->peak / 1024,
		      r->base / 1024);
}

/* Prints the figures, then checks that RSS above the base is <= 10% of the peak's. */
static void idle_check_rss(const char *name, const struct idle_rss *r)
{
	size_t grown = r->peak - r->base;
	size_t kept = r->after > r->base ? r->after - r->base : 0;

	printf("idle %s: base %zu KiB, peak %zu KiB, after 1 s idle %zu KiB, ratio %.3f\n", name,
	       r->base / 1024, r->peak / 1024, r->after / 1024, (double)kept / (double)grown);
	fflush(stdout);
	ck_assert_msg(kept * 10 <= grown,
		      "%s: RSS 1 s after the frees %zu KiB, base %zu KiB, peak %zu KiB: "
		      "kept %zu KiB of %zu KiB (%.1f%%, limit 10%%)",
		      name, r->after / 1024, r->base / 1024, r->peak / 1024, kept / 1024,
		      grown / 1024, 100.0 * (double)kept / (double)grown);
}

/* The end of every test: the gate gone, the peak checked, then the RSS
 * check, or the reason it is skipped. */
static void idle_verdict(const char *name, const struct idle_rss *r)
{
	gate_destroy();
	idle_check_peak(r);
	if (r->skip) {
		printf("SKIP %s: %s\n", name, r->skip);
		fflush(stdout);
		return;
	}
	idle_check_rss(name, r);
}

/* ---- the tests */

static void worker_finish(struct worker *me)
{
	worker_join(me);
	worker_check(me);
}

/* Who frees one owner's burst (worker 0's), and what becomes of the owner. */
enum freeing {
	OWNER_FREES,         /* the owner, which then idles */
	OTHER_OWNER_EXITED,  /* worker 1, after the owner exited */
	OTHER_OWNER_IDLE,    /* worker 1, while the owner idles */
};

static void one_owner(const char *name, enum freeing how)
{
	struct idle_rss r;
	struct table t;

	idle_prepare(&r);
	table_init(&t, r.total);
	w[0].tab = &t;
	w[0].target = r.total;
	w[0].frees = how == OWNER_FREES;
	w[0].lingers = how != OTHER_OWNER_EXITED;
	w[1].tab = &t;
	w[1].frees = 1;
	w[1].lingers = 1;
	r.base = rss_raw();
	worker_start(&w[0]);
	gate_await(1);
	r.peak = rss_raw();
	if (how == OTHER_OWNER_EXITED)
		worker_finish(&w[0]);
	gate_open(STAGE_FREE);
	if (how != OWNER_FREES)
		worker_start(&w[1]);
	gate_await(2);
	idle_measure(&r);
	gate_open(STAGE_RELEASE);
	if (how != OTHER_OWNER_EXITED)
		worker_finish(&w[0]);
	if (how != OWNER_FREES)
		worker_finish(&w[1]);
	table_destroy(&t);
	idle_verdict(name, &r);
}

START_TEST(test_idle_owner)
{
	one_owner("owner", OWNER_FREES);
}
END_TEST

START_TEST(test_idle_owner_exited)
{
	one_owner("owner_exited", OTHER_OWNER_EXITED);
}
END_TEST

START_TEST(test_idle_owner_alive)
{
	one_owner("owner_alive", OTHER_OWNER_IDLE);
}
END_TEST

START_TEST(test_idle_many_threads)
{
	struct idle_rss r;
	struct table t[NW_MAX];
	unsigned int i;

	idle_prepare(&r);
	for (i = 0; i < NW_MAX; i++) {
		table_init(&t[i], r.total / NW_MAX);
		w[i].tab = &t[i];
		w[i].target = r.total / NW_MAX;
		w[i].churn = 1;
		w[i].frees = 1;
		w[i].lingers = 1;
	}
	r.base = rss_raw();
	for (i = 0; i < NW_MAX; i++)
		worker_start(&w[i]);
	gate_await(NW_MAX);
	r.peak = rss_raw();
	gate_open(STAGE_FREE);
	gate_await(2 * NW_MAX);
	idle_measure(&r);
	gate_open(STAGE_RELEASE);
	for (i = 0; i < NW_MAX; i++)
		worker_join(&w[i]);
	for (i = 0; i < NW_MAX; i++) {
		worker_check(&w[i]);
		table_destroy(&t[i]);
	}
	idle_verdict("many_threads", &r);
}
END_TEST

static Suite *make_suite(void)
{
	TCase *tc;
	Suite *s = one_tcase_suite("idle", "core", 120, &tc);

	tcase_add_test(tc, test_idle_owner);
	tcase_add_test(tc, test_idle_owner_exited);
	tcase_add_test(tc, test_idle_owner_alive);
	tcase_add_test(tc, test_idle_many_threads);
	return s;
}

HAK_TEST_MAIN(make_suite)
