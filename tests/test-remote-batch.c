/* SPDX-License-Identifier: MIT */
/*
 * Remote frees in batches (CONFIG_REMOTE_BATCH, mm/heap/remote_batch.c):
 * a batch is never lost, and a double free is caught through it.
 *
 * Blocks of several classes are allocated by one thread and freed by
 * another, which keeps them in its outgoing batch.  Then the freeing
 * thread exits, calls malloc_trim, or stays alive while the process forks
 * (the child sends the batch of a thread that did not survive).  Every
 * block must arrive: once the owner's spans are collected, the slabs in
 * use are back to what they were before, and malloc_trim returns every
 * superslab the blocks took (a lost block would keep its span, and its
 * superslab, in use forever).  With the box off the same tests check the
 * direct pushes.
 *
 * test_fork_while_appending forks again and again while a thread appends
 * to its batch; each child checks that no block is handed out twice and
 * that the heap still works.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <mm/heap/heap.h>
#include "harness.h"
#include "testutil.h"

enum { NBLOCKS = 6000 };
static const size_t sizes[] = { 16, 48, 64, 256, 1024, 4096 };
#define NSIZES (sizeof(sizes) / sizeof(sizes[0]))

static void *blocks[NBLOCKS];

static size_t size_of(int i)
{
	return sizes[(size_t)i % NSIZES];
}

static atomic_int phase;

static void wait_phase(int want)
{
	while (atomic_load(&phase) < want)
		usleep(100);
}

/*
 * The owner: allocates the blocks (filled), says so (phase 1), and stays
 * alive until phase 3, so that frees into its spans are plain remote
 * frees (a live heap adopts an exited owner's span instead); its exit
 * then releases the spans whose blocks all came back.
 */
static void *owner_thread(void *arg)
{
	for (int i = 0; i < NBLOCKS; i++) {
		blocks[i] = hak_malloc(size_of(i));
		ck_assert(blocks[i] != NULL);
		pattern_fill(blocks[i], size_of(i), (uint64_t)i + 1);
	}
	atomic_store(&phase, 1);
	wait_phase(3);
	return arg;
}

static pthread_t owner;

static void start_owner(void)
{
	atomic_store(&phase, 0);
	ck_assert_int_eq(pthread_create(&owner, NULL, owner_thread, NULL), 0);
	wait_phase(1);
}

static void end_owner(void)
{
	atomic_store(&phase, 3);
	ck_assert_int_eq(pthread_join(owner, NULL), 0);
}

/* Checks and frees every block; true when some block was corrupt. */
static int free_blocks(void)
{
	int bad = 0;

	for (int i = 0; i < NBLOCKS; i++) {
		bad |= pattern_check(blocks[i], size_of(i), (uint64_t)i + 1) != size_of(i);
		hak_free(blocks[i]);
	}
	return bad;
}

struct gauges {
	unsigned long long slabs, superslabs;
};

static struct gauges gauges_now(void)
{
	struct hak_stats st = stats_now();

	return (struct gauges){ st.slabs_in_use, st.superslabs_in_use };
}

static void count_abandoned(struct span *s, void *arg)
{
	*(int *)arg += atomic_load(&s->state) == SPAN_ABANDONED;
}

/*
 * After the freeing thread's batch was sent and the owner exited: no span
 * is left abandoned (a lost block would keep its span so for good); and
 * (strict: once the freeing thread is gone too, as a live thread keeps its
 * current spans) once the process trims, the slabs and superslabs the
 * blocks took are back.
 */
static const char *all_back(struct gauges before, int strict)
{
	struct gauges after;
	int abandoned = 0;

	hak_malloc_trim(0);
	slabpool_for_each_span(count_abandoned, &abandoned);
	after = gauges_now();
	if (abandoned)
		return "a span is left abandoned";
	if (!strict)
		return NULL;
	if (after.superslabs > before.superslabs)
		return "more superslabs in use than before";
	if (after.slabs > before.slabs)
		return "more slabs in use than before";
	return NULL;
}

static void assert_all_back(struct gauges before, int strict)
{
	const char *why = all_back(before, strict);

	ck_assert_msg(!why, "%s", why);
}

static void *free_and_exit(void *arg)
{
	struct hak_stats st0 = stats_now(), st;

	ck_assert(!free_blocks());
	st = stats_now();
	/* Most blocks are tiny, one in six a pool block: with TINY or POOL
	 * off those are the shared heap's, whose frees are never batched
	 * (with POOL off: 1,000 single sends, and the batched ones on top
	 * came to just over half the frees). */
	if (IS_ENABLED(CONFIG_STATS) && IS_ENABLED(CONFIG_REMOTE_BATCH) && IS_ENABLED(CONFIG_TINY) &&
	    IS_ENABLED(CONFIG_POOL))
		ck_assert_msg(st.remote_sends - st0.remote_sends < (st.remote_frees - st0.remote_frees) / 2,
			      "%llu sends for %llu remote frees: not batched",
			      st.remote_sends - st0.remote_sends, st.remote_frees - st0.remote_frees);
	return arg;
}

/* Freed into a batch by a thread that exits: sent at thread exit. */
static void round_exit(struct gauges *before)
{
	start_owner();
	run_thread(free_and_exit, NULL);
	end_owner();
	if (before)
		assert_all_back(*before, 1);
}

/* The freeing thread: frees the blocks, trims when asked (arg), says so
 * (phase 2), and stays alive, its batch unsent otherwise, until phase 4. */
static void *free_and_wait(void *arg)
{
	ck_assert(!free_blocks());
	if (arg)
		hak_malloc_trim(0);
	atomic_store(&phase, 2);
	wait_phase(4);
	return NULL;
}

/* Freed into a batch by a thread that stays alive and calls malloc_trim. */
static void round_trim(struct gauges *before)
{
	pthread_t t;

	start_owner();
	ck_assert_int_eq(pthread_create(&t, NULL, free_and_wait, (void *)1), 0);
	wait_phase(2);
	end_owner();
	if (before)
		assert_all_back(*before, 0);
	atomic_store(&phase, 4);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	if (before)
		assert_all_back(*before, 1);
}

/* Freed into a batch by a thread that is alive when the process forks:
 * the child sends it (and abandons the owner's spans). */
static void round_fork(struct gauges *before)
{
	pthread_t t;
	pid_t pid;
	int st;

	start_owner();
	ck_assert_int_eq(pthread_create(&t, NULL, free_and_wait, NULL), 0);
	wait_phase(2);
	pid = before ? fork() : 1;
	ck_assert(pid >= 0);
	if (pid == 0) {
		const char *why;

		fork_child_setup();
		why = all_back(*before, 1);
		if (why)
			fprintf(stderr, "child: %s\n", why);
		_exit(why != NULL);
	}
	if (before) {
		ck_assert_int_eq(waitpid(pid, &st, 0), pid);
		ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status %#x", st);
	}
	atomic_store(&phase, 4);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	end_owner();
	if (before)
		assert_all_back(*before, 1);
}

/*
 * A round of the scenario first, so that what its first run keeps for
 * good (the caches, the reserves of the heaps that the next threads
 * reuse) is in the baseline; the second round is checked.
 */
#define BATCH_TEST(name, round)                                                \
	START_TEST(name)                                                       \
	{                                                                      \
		struct gauges before;                                          \
		round(NULL);                                                   \
		hak_malloc_trim(0);                                            \
		before = gauges_now();                                         \
		round(&before);                                                \
	}                                                                      \
	END_TEST

BATCH_TEST(test_batch_thread_exit, round_exit)
BATCH_TEST(test_batch_trim, round_trim)
BATCH_TEST(test_batch_fork, round_fork)

/* ---- forks while a thread appends to its batch */

enum { RING = 100000, FORKS = 8, CHILD_BLOCKS = 5000 };
static void **ring;

static void *free_slowly(void *arg)
{
	for (int i = 0; i < RING; i++) {
		if (*(uint64_t *)ring[i] != (uint64_t)i)
			return (void *)1;
		hak_free(ring[i]);
	}
	return arg;
}

static int cmp_ptr(const void *a, const void *b)
{
	uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;

	return x < y ? -1 : x > y;
}

/* The child: the heap still works, and hands no block out twice. */
static int child_check(void)
{
	static void *got[CHILD_BLOCKS];

	hak_malloc_trim(0);
	for (int i = 0; i < CHILD_BLOCKS; i++) {
		got[i] = hak_malloc(64);
		if (!got[i])
			return 1;
		*(uint64_t *)got[i] = (uint64_t)i;
	}
	for (int i = 0; i < CHILD_BLOCKS; i++)
		if (*(uint64_t *)got[i] != (uint64_t)i)
			return 2;
	qsort(got, CHILD_BLOCKS, sizeof(void *), cmp_ptr);
	for (int i = 1; i < CHILD_BLOCKS; i++)
		if (got[i] == got[i - 1])
			return 3;
	for (int i = 0; i < CHILD_BLOCKS; i++)
		hak_free(got[i]);
	return 0;
}

START_TEST(test_fork_while_appending)
{
	pthread_t t;
	void *ret;

	ring = malloc(RING * sizeof(void *));
	ck_assert(ring != NULL);
	for (int i = 0; i < RING; i++) {
		ring[i] = hak_malloc(64);
		ck_assert(ring[i] != NULL);
		*(uint64_t *)ring[i] = (uint64_t)i;
	}
	ck_assert_int_eq(pthread_create(&t, NULL, free_slowly, NULL), 0);
	for (int f = 0; f < FORKS; f++) {
		int st;
		pid_t pid = fork();

		ck_assert(pid >= 0);
		if (pid == 0) {
			fork_child_setup();
			alarm(20);
			_exit(child_check());
		}
		ck_assert_int_eq(waitpid(pid, &st, 0), pid);
		ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "fork %d: child status %#x", f, st);
	}
	ck_assert_int_eq(pthread_join(t, &ret), 0);
	ck_assert_msg(ret == NULL, "a block was corrupted before its free");
	free(ring);
}
END_TEST

/* ---- double frees through a batch */

static void *victim;

static void *free_victim_twice(void *arg)
{
	hak_free(victim);
	hak_free(victim);   /* still in this thread's batch: caught at once */
	return arg;
}

START_TEST(test_double_free_own_batch)
{
	void *keeper = hak_malloc(64);

	victim = hak_malloc(64);
	ck_assert(keeper && victim);
	run_thread(free_victim_twice, NULL);
	hak_malloc_trim(0);
}
END_TEST

static void *free_victim(void *arg)
{
	hak_free(victim);
	return arg;
}

/*
 * The holder frees the victim (into its batch, and says phase 1), waits
 * for phase 2, then frees the other blocks (more: chains started, so whole
 * sends go out while it lives), says phase 3 and waits for phase 4.
 */
static void *hold_victim(void *more)
{
	hak_free(victim);
	atomic_store(&phase, 1);
	wait_phase(2);
	if (more)
		ck_assert(!free_blocks());
	atomic_store(&phase, 3);
	wait_phase(4);
	return NULL;
}

/*
 * Freed by a thread that keeps the block in its batch, freed again by
 * another: the second free waits until the batch is sent, and the owner's
 * trim then finds the block freed twice.  The batch is sent when the
 * holder exits, or (more) by the holder's later frees while it lives.
 */
static void double_free_through_batch(int more)
{
	void *keeper = hak_malloc(128);
	pthread_t t;

	victim = hak_malloc(128);
	ck_assert(keeper && victim);
	for (int i = 0; more && i < NBLOCKS; i++) {
		blocks[i] = hak_malloc(size_of(i));
		ck_assert(blocks[i] != NULL);
		pattern_fill(blocks[i], size_of(i), (uint64_t)i + 1);
	}
	atomic_store(&phase, 0);
	ck_assert_int_eq(pthread_create(&t, NULL, hold_victim, (void *)(intptr_t)more), 0);
	wait_phase(1);
	run_thread(free_victim, NULL);
	atomic_store(&phase, 2);
	wait_phase(3);
	if (!more) {
		atomic_store(&phase, 4);
		ck_assert_int_eq(pthread_join(t, NULL), 0);
	}
	hak_malloc_trim(0);   /* the deferred suspect is confirmed here */
	hak_malloc_trim(0);   /* and the owner's check of a handed-over one */
	if (more) {
		atomic_store(&phase, 4);
		ck_assert_int_eq(pthread_join(t, NULL), 0);
	}
}

START_TEST(test_double_free_other_batch)
{
	double_free_through_batch(0);
}
END_TEST

START_TEST(test_double_free_free_only_thread)
{
	double_free_through_batch(1);
}
END_TEST

static Suite *make_suite(void)
{
	TCase *tc;
	Suite *s = one_tcase_suite("remote_batch", "remote_batch", 120, &tc);

	tcase_add_test(tc, test_batch_thread_exit);
	tcase_add_test(tc, test_batch_trim);
	tcase_add_test(tc, test_batch_fork);
	tcase_add_test(tc, test_fork_while_appending);
	tcase_add_test_raise_signal(tc, test_double_free_own_batch, SIGABRT);
	tcase_add_test_raise_signal(tc, test_double_free_other_batch, SIGABRT);
	tcase_add_test_raise_signal(tc, test_double_free_free_only_thread, SIGABRT);
	return s;
}

HAK_TEST_MAIN(make_suite)
