/* SPDX-License-Identifier: MIT */
/*
 * The debug boxes a user drives: hak_heap_check() and the integrity levels
 * (each planted corruption is found by its level and not by the one below,
 * at the call that trips it), the trace ring (hak_trace_dump, the dump on
 * abort, a reused ring starts empty), the heap visitor, and the lock
 * statistics through hak_ctl.  Corruption is planted in a forked child
 * whose stderr and fate the parent checks.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <mm/heap/heap.h>
#include <mm/superslab/superslab.h>
#include "harness.h"
#include "testutil.h"

static struct span *span_at(void *p)
{
	uintptr_t a = (uintptr_t)p;

	ck_assert_uint_eq(registry_kind(a), REG_SUPERSLAB);
	return span_of(ss_of(a), a);
}

/* Points the link stored in free block `at` of s to `next`. */
static void set_link(struct span *s, void *at, void *next)
{
	*(void **)at = link_encode(s, at, next);
}

/*
 * Runs fn in a forked child with stderr to a file; returns the child's
 * stderr (static) and stores how it ended: the signal, or 0 for a normal
 * exit (status in *code).
 */
static char child_err[16384];
static const char *run_child(void (*fn)(void), int *sig)
{
	char path[] = "/tmp/hakmem-test-debug-XXXXXX";
	int fd = mkstemp(path), status;
	ssize_t n;
	pid_t pid;

	ck_assert(fd >= 0);
	unlink(path);
	pid = fork();
	ck_assert(pid >= 0);
	if (pid == 0) {
		fork_child_setup();
		dup2(fd, 2);
		fn();
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	*sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
	n = pread(fd, child_err, sizeof(child_err) - 1, 0);
	close(fd);
	child_err[n > 0 ? n : 0] = 0;
	return child_err;
}

static void expect_abort(void (*fn)(void), const char *msg)
{
	int sig;
	const char *err = run_child(fn, &sig);

	ck_assert_msg(sig == SIGABRT, "no abort (signal %d); stderr: %.300s", sig, err);
	ck_assert_msg(strstr(err, msg), "stderr lacks \"%s\": %.300s", msg, err);
}

static void expect_survive(void (*fn)(void))
{
	int sig;
	const char *err = run_child(fn, &sig);

	ck_assert_msg(sig == 0, "signal %d; stderr: %.300s", sig, err);
}

/* ---- planted corruption: one per kind */

/* The accounting: the bump pointer claims a block that is neither free
 * nor in use.  Returns a block of the span, its only one in use. */
static void *plant_accounting(void)
{
	void *p = hak_malloc(720);
	struct span *s = span_at(p);

	ck_assert_uint_eq(s->used, 1);
	ck_assert_uint_lt(s->carved, s->capacity);
	s->carved++;
	return p;
}

/* A free-list link into the middle of a block, in the current span of a
 * class the trigger does not use. */
static void plant_bad_link(void)
{
	char *a = hak_malloc(1000), *b = hak_malloc(1000);
	struct span *s = span_at(a);

	hak_free(a);
	ck_assert_ptr_eq(s->free, a);
	set_link(s, a, b + 8);
}

/* A write after free that wipes the double-free key, then the same block
 * freed again: the key protocol cannot see it. */
static void *plant_wiped_key(void)
{
	uint64_t *p = hak_malloc(560);

	hak_free(p);
	p[1] = 0;
	return p;
}

static void *clean_blocks[64];

/* Frees every fourth block from another thread: remote lists to walk. */
static void *free_remote_quarter(void *arg)
{
	unsigned int i;

	for (i = 1; i < 64; i += 4)
		hak_free(clean_blocks[i]);
	return arg;
}

START_TEST(test_heap_check_clean)
{
	unsigned int i;

	for (i = 0; i < 64; i++)
		clean_blocks[i] = hak_malloc(16 + 40 * i);
	for (i = 0; i < 64; i += 2)
		hak_free(clean_blocks[i]);
	ck_assert_int_eq(hak_heap_check(), 0);
	run_thread(free_remote_quarter, NULL);
	ck_assert_int_eq(hak_heap_check(), 0);
	for (i = 3; i < 64; i += 4)
		hak_free(clean_blocks[i]);
	ck_assert_int_eq(hak_heap_check(), 0);
}
END_TEST

static void check_accounting(void)
{
	plant_accounting();
	_exit(hak_heap_check() > 0 ? 0 : 3);
}

static void check_bad_link(void)
{
	plant_bad_link();
	_exit(hak_heap_check() > 0 ? 0 : 3);
}

static void check_repeated(void)
{
	char *a = hak_malloc(1000), *b = hak_malloc(1000);
	struct span *s = span_at(a);

	hak_free(b);
	hak_free(a);          /* a -> b */
	set_link(s, b, a);    /* b -> a: a loop */
	_exit(hak_heap_check() > 0 ? 0 : 3);
}

static void check_remote_count(void)
{
	void *a = hak_malloc(1000);
	struct span *s = span_at(a);

	/* A remote word that claims a block its list does not hold. */
	atomic_store_relaxed(&s->remote, s->remote + ((uintptr_t)1 << REMOTE_COUNT_SHIFT));
	_exit(hak_heap_check() > 0 ? 0 : 3);
}

static void check_and_exit(void (*plant)(void), const char *msg)
{
	int sig;
	const char *err = run_child(plant, &sig);

	ck_assert_msg(sig == 0, "signal %d: %.300s", sig, err);
	ck_assert_msg(strstr(err, msg), "hak_heap_check did not say \"%s\": %.300s", msg, err);
}

START_TEST(test_heap_check_finds)
{
	/* The plants need a thread heap's own free lists. */
	HAK_REQUIRE(IS_ENABLED(CONFIG_TINY) && IS_ENABLED(CONFIG_POOL), "needs the heap tiers");
	check_and_exit(check_accounting, "used != carved - free blocks");
	check_and_exit(check_bad_link, "free list holds a bad or repeated link");
	check_and_exit(check_repeated, "free list holds a bad or repeated link");
	check_and_exit(check_remote_count, "remote count disagrees with its list");
}
END_TEST

/* ---- integrity levels */

static void set_level(uint32_t level)
{
#if IS_ENABLED(CONFIG_DEBUG_INTEGRITY)
	integrity_level = level;
#else
	(void)level;
#endif
}

static void level1_trip(void)
{
	void *p;

	set_level(1);
	p = plant_accounting();
	hak_free(p);   /* the span empties: span_check */
}

static void level0_trip(void)
{
	void *p;

	set_level(0);
	p = plant_accounting();
	hak_free(p);
}

static void level2_trip(void)
{
	set_level(2);
	plant_bad_link();
	hak_free(hak_malloc(3000));   /* a slow path of another class */
}

static void level1_no_trip_bad_link(void)
{
	set_level(1);
	plant_bad_link();
	hak_free(hak_malloc(3000));
}

static void level3_trip(void)
{
	void *p;

	set_level(3);
	p = plant_wiped_key();
	hak_free(p);
}

static void level2_no_trip_wiped_key(void)
{
	void *p;

	set_level(2);
	p = plant_wiped_key();
	hak_free(p);    /* the fast path: nothing walks here */
	_exit(0);
}

START_TEST(test_integrity_levels)
{
	HAK_REQUIRE(IS_ENABLED(CONFIG_DEBUG_INTEGRITY), "needs CONFIG_DEBUG_INTEGRITY");
	HAK_REQUIRE(IS_ENABLED(CONFIG_TINY) && IS_ENABLED(CONFIG_POOL), "needs the heap tiers");
	expect_abort(level1_trip, "used != carved - free blocks");
	expect_survive(level0_trip);
	expect_abort(level2_trip, "free list holds a bad or repeated link");
	expect_survive(level1_no_trip_bad_link);
	expect_abort(level3_trip, "block is on its span's free list");
	/* Below level 3 only the exact bitmap (its own box) sees it. */
	if (IS_ENABLED(CONFIG_DOUBLE_FREE_CHECK))
		expect_abort(level2_no_trip_wiped_key, "hakmem: double free");
	else
		expect_survive(level2_no_trip_wiped_key);
}
END_TEST

/* ---- the trace ring */

static char *dump_to_string(void)
{
	static char buf[TRACE_ENTRIES * 80];
	char path[] = "/tmp/hakmem-test-trace-XXXXXX";
	int fd = mkstemp(path);
	ssize_t n;

	ck_assert(fd >= 0);
	unlink(path);
	ck_assert_int_eq(hak_trace_dump(fd), 0);
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	return buf;
}

START_TEST(test_trace_dump)
{
	char want[96], *text, *line;
	void *p;
	unsigned long long seq = 0, cycles, last_cycles = 0;
	unsigned int events = 0;

	if (!IS_ENABLED(CONFIG_DEBUG_TRACE)) {
		ck_assert_int_eq(hak_trace_dump(2), ENOTSUP);
		return;
	}
	ck_assert_int_eq(hak_trace_dump(-1), EBADF);
	p = hak_malloc(123);
	hak_free(p);
	text = dump_to_string();
	ck_assert(strstr(text, "hakmem: trace: thread heap "));
	snprintf(want, sizeof(want), " malloc %#lx 123 ", (unsigned long)(uintptr_t)p);
	ck_assert_msg(strstr(text, want), "no \"%s\" in the dump", want);
	snprintf(want, sizeof(want), " free %#lx - ", (unsigned long)(uintptr_t)p);
	ck_assert_msg(strstr(text, want), "no \"%s\" in the dump", want);
	/* Oldest first: sequence numbers consecutive, cycles not decreasing. */
	for (line = strstr(text, "hakmem: trace "); line; line = strstr(line + 1, "hakmem: trace ")) {
		char op[8];
		unsigned long long prev_seq = seq;

		if (sscanf(line, "hakmem: trace %llu %7s %*s %*s %llu", &seq, op, &cycles) != 3)
			continue;
		if (events++)
			ck_assert_uint_eq(seq, prev_seq + 1);
		ck_assert_uint_ge(cycles, last_cycles);
		last_cycles = cycles;
	}
	ck_assert_uint_ge(events, 2);
}
END_TEST

static void double_free(void)
{
	void *p = hak_malloc(48);

	hak_free(p);
	hak_free(p);
}

START_TEST(test_trace_on_abort)
{
	HAK_REQUIRE(IS_ENABLED(CONFIG_DEBUG_TRACE), "needs CONFIG_DEBUG_TRACE");
	expect_abort(double_free, "hakmem: trace: thread heap ");
	ck_assert(strstr(child_err, " malloc 0x"));
	ck_assert(strstr(child_err, " free 0x"));
}
END_TEST

static struct heap *thread_heap;

static void *trace_many(void *arg)
{
	unsigned int i;

	for (i = 0; i < 100; i++)
		hak_free(hak_malloc(32));
	thread_heap = tls_heap;
	return arg;
}

static void *trace_reused(void *arg)
{
	char *text;
	unsigned long long shown, total, first = 1;

	hak_free(hak_malloc(32));
	ck_assert_ptr_eq(tls_heap, thread_heap);   /* the dead thread's heap, reused */
	text = dump_to_string();
	ck_assert(sscanf(strstr(text, ", the last "), ", the last %llu of %llu", &shown,
			 &total) == 2);
	/* Only this thread's calls (its start-up's and the two above), not
	 * the 200 of the heap's previous thread; numbered from 0. */
	ck_assert_uint_lt(total, 50);
	ck_assert_uint_eq(shown, total);
	ck_assert(sscanf(strstr(text, "hakmem: trace 0 "), "hakmem: trace %llu", &first) == 1);
	ck_assert_uint_eq(first, 0);
	return arg;
}

START_TEST(test_trace_reused_ring_empty)
{
	HAK_REQUIRE(IS_ENABLED(CONFIG_DEBUG_TRACE), "needs CONFIG_DEBUG_TRACE");
	run_thread(trace_many, NULL);
	run_thread(trace_reused, NULL);
}
END_TEST

/* ---- the heap visitor */

#define NVISIT 500
static void *visit_blocks[NVISIT];
static unsigned char visit_seen[NVISIT];
static unsigned int visit_other, visit_calls;

static int visit_count(void *block, size_t size, void *arg)
{
	unsigned int i;

	(void)arg;
	visit_calls++;
	for (i = 0; i < NVISIT; i++) {
		if (visit_blocks[i] == block) {
			if (size < 24)
				return -1;
			visit_seen[i]++;
			return 0;
		}
	}
	visit_other++;
	return 0;
}

static int visit_stop(void *block, size_t size, void *arg)
{
	(void)block;
	(void)size;
	return ++*(int *)arg == 3 ? 7 : 0;
}

START_TEST(test_heap_visit)
{
	unsigned int i;
	int n = 0;

	HAK_REQUIRE(IS_ENABLED(CONFIG_TINY) && IS_ENABLED(CONFIG_POOL), "needs the heap tiers");
	for (i = 0; i < NVISIT; i++)
		visit_blocks[i] = hak_malloc(24 + (i % 7) * 100);
	for (i = 0; i < NVISIT; i += 2) {
		hak_free(visit_blocks[i]);
		visit_blocks[i] = NULL;
	}
	memset(visit_seen, 0, sizeof(visit_seen));
	ck_assert_int_eq(hak_heap_visit(visit_count, NULL), 0);
	for (i = 1; i < NVISIT; i += 2)
		ck_assert_msg(visit_seen[i] == 1, "block %u visited %u times", i, visit_seen[i]);
	for (i = 0; i < NVISIT; i += 2)
		ck_assert_uint_eq(visit_seen[i], 0);
	ck_assert_int_eq(hak_heap_visit(visit_stop, &n), 7);
	ck_assert_int_eq(n, 3);
	for (i = 1; i < NVISIT; i += 2)
		hak_free(visit_blocks[i]);
}
END_TEST

static void *other_block;

static void *alloc_other(void *arg)
{
	other_block = hak_malloc(4000);
	return arg;
}

static void visit_all_in_child(void)
{
	int found = 0;

	visit_calls = 0;
	memset(visit_blocks, 0, sizeof(visit_blocks));
	visit_blocks[0] = other_block;
	visit_blocks[1] = hak_malloc(100);
	memset(visit_seen, 0, sizeof(visit_seen));
	hak_heap_visit(visit_count, NULL);
	found |= visit_seen[0] ? 1 : 0;     /* another heap's: not visited */
	hak_heap_visit_all(visit_count, NULL);
	_exit(found == 0 && visit_seen[0] == 1 && visit_seen[1] == 2 ? 0 : 5);
}

START_TEST(test_heap_visit_all_in_child)
{
	int sig;
	const char *err;

	HAK_REQUIRE(IS_ENABLED(CONFIG_TINY) && IS_ENABLED(CONFIG_POOL), "needs the heap tiers");
	run_thread(alloc_other, NULL);   /* a block of a heap whose thread is gone */
	err = run_child(visit_all_in_child, &sig);
	ck_assert_msg(sig == 0, "signal %d: %.300s", sig, err);
	hak_free(other_block);
}
END_TEST

/* ---- lock statistics */

static int lock_go;

static void *take_pool_lock(void *arg)
{
	hak_free(hak_malloc(64));   /* this thread's heap first */
	atomic_store_release(&lock_go, 1);
	while (atomic_load_acquire(&lock_go) != 2)
		usleep(1000);
	hak_lock(&slabpool_lock);
	hak_unlock(&slabpool_lock);
	return arg;
}

START_TEST(test_lock_stats)
{
	uint64_t acquired, contended, cycles, v;
	size_t len = sizeof(v);
	pthread_t t;

	HAK_REQUIRE(IS_ENABLED(CONFIG_LOCK_STATS), "needs CONFIG_LOCK_STATS");
	ck_assert_int_eq(hak_ctl("stats.lock.heap-notify.acquired", &v, &len, NULL, 0), 0);
	if (IS_ENABLED(CONFIG_BIGCACHE)) {
		ck_assert_int_eq(hak_ctl("stats.lock.bigcache.acquired", &acquired, &len, NULL, 0), 0);
		hak_free(hak_malloc(8 * MiB));
		ck_assert_int_eq(hak_ctl("stats.lock.bigcache.acquired", &v, &len, NULL, 0), 0);
		ck_assert_uint_gt(v, acquired);
	}
	ck_assert_int_eq(hak_ctl("stats.lock.pool.contended", &contended, &len, NULL, 0), 0);
	ck_assert_int_eq(hak_ctl("stats.lock.pool.wait_cycles", &cycles, &len, NULL, 0), 0);
	/* A thread that has to wait for the lock: counted, with its wait.
	 * It starts first (its start allocates, and this thread may not while
	 * it holds the lock). */
	ck_assert_int_eq(pthread_create(&t, NULL, take_pool_lock, NULL), 0);
	while (!atomic_load_acquire(&lock_go))
		usleep(1000);
	hak_lock(&slabpool_lock);
	atomic_store_release(&lock_go, 2);
	usleep(50000);
	hak_unlock(&slabpool_lock);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_int_eq(hak_ctl("stats.lock.pool.contended", &v, &len, NULL, 0), 0);
	ck_assert_uint_ge(v, contended + 1);   /* the purge thread may wait too */
	ck_assert_int_eq(hak_ctl("stats.lock.pool.wait_cycles", &v, &len, NULL, 0), 0);
	ck_assert_uint_gt(v, cycles);
}
END_TEST

static Suite *make_suite(void)
{
	TCase *tc;
	Suite *s = one_tcase_suite("debug", "boxes", 120, &tc);

	tcase_add_test(tc, test_heap_check_clean);
	tcase_add_test(tc, test_heap_check_finds);
	tcase_add_test(tc, test_integrity_levels);
	tcase_add_test(tc, test_trace_dump);
	tcase_add_test(tc, test_trace_on_abort);
	tcase_add_test(tc, test_trace_reused_ring_empty);
	tcase_add_test(tc, test_heap_visit);
	tcase_add_test(tc, test_heap_visit_all_in_child);
	tcase_add_test(tc, test_lock_stats);
	return s;
}

HAK_TEST_MAIN(make_suite)
