/* SPDX-License-Identifier: MIT */
/*
 * fork() with the allocator busy.
 *
 * test_fork_busy_threads: 3 worker threads allocate and free (all tiers,
 * mostly tiny) in a loop while the main thread forks several times.  Each
 * child checks and frees the blocks the workers held at the fork (their
 * heaps are abandoned in the child and must be adoptable), allocates and
 * frees heavily with a pattern, runs threads that allocate/free and exit,
 * then _exit(0).  The parent asserts a clean exit and its workers keep
 * going; their blocks are checked before every free and at the end.
 *
 * test_fork_live_blocks: the main thread holds many live blocks of every
 * tier (tiny, pool, large, aligned, calloc) and forks; the child checks
 * them all, frees them all, allocates again and exits.  The parent checks
 * and frees its copies.
 *
 * A child reports a failure on stderr and exits non-zero; alarm() bounds
 * a deadlock.  TEST_EMULATED (qemu) scales the loops down.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "testutil.h"

static int emulated;

/*
 * Pattern: 8-byte words seed + k * K, the tail from the next word.  Big
 * blocks get the pattern on their first and last 4 KiB and one word per
 * 4 KiB in between (every page touched, checks stay cheap).  PAT_K is
 * testutil.h's.
 */
static uint64_t pat_word(uint64_t seed, size_t off)
{
	return seed + (off / 8) * PAT_K;
}

static int pat_needed(size_t size, size_t off)
{
	return size <= 16 * KiB || off < 4 * KiB || off + 4 * KiB >= size || off % 4096 == 0;
}

static void pat_fill(void *p, size_t size, uint64_t seed)
{
	unsigned char *b = p;
	size_t off;

	for (off = 0; off < size; off += 8) {
		uint64_t w = pat_word(seed, off);

		if (!pat_needed(size, off)) {
			off = (off | 4095) - 7; /* next 4 KiB boundary */
			continue;
		}
		memcpy(b + off, &w, size - off < 8 ? size - off : 8);
	}
}

/* Returns the offset of the first bad byte, or -1 when intact. */
static long pat_check(const void *p, size_t size, uint64_t seed)
{
	const unsigned char *b = p;
	size_t off;

	for (off = 0; off < size; off += 8) {
		uint64_t w = pat_word(seed, off);
		size_t n = size - off < 8 ? size - off : 8;

		if (!pat_needed(size, off)) {
			off = (off | 4095) - 7;
			continue;
		}
		if (memcmp(b + off, &w, n))
			return (long)off;
	}
	return -1;
}

static uint64_t seed_of(const void *p, size_t size, uint64_t tag)
{
	return mix((uint64_t)(uintptr_t)p * 31 + size * 7 + tag);
}

/* Mostly tiny, some pool, rarely large. */
static size_t rand_size(uint64_t *s)
{
	uint64_t r = rnd(s);
	unsigned int pick = (unsigned int)(r % 1000);

	r >>= 10;
	if (pick < 900)
		return 1 + r % 1024;
	if (pick < 998) {
		size_t base = KiB << (r % 8);   /* 1 KiB .. 256 KiB */

		return base + 1 + (r >> 4) % base;
	}
	return MiB + 1 + (r >> 4) % (2 * MiB);
}

/* ---- Failure reporting in a child (no Check there). */
static void child_fail(const char *what, const void *p, size_t size, long off)
{
	char buf[256];
	int n = snprintf(buf, sizeof(buf), "fork child %d: %s: block %p size %zu offset %ld\n",
			 (int)getpid(), what, p, size, off);

	if (n > 0)
		(void)!write(2, buf, (size_t)n);
	_exit(3);
}

/* ---- Workers of the busy-threads test */

enum { NWORKERS = 3, WSLOTS = 512, WSTABLE = 64 };

struct wblock {
	_Atomic(void *) p;   /* published after the fill, taken before the free */
	size_t size;         /* written before p is published */
};

struct worker {
	pthread_t tid;
	unsigned int id;
	struct wblock slot[WSLOTS];
	void *stable[WSTABLE];        /* live for the whole test */
	size_t stable_size[WSTABLE];
	unsigned long ops;
	char err[256];
	int failed;
};

static struct worker workers[NWORKERS];
static atomic_int workers_stop;
static atomic_int workers_ready;

static void worker_fail(struct worker *w, const char *what, const void *p, size_t size, long off)
{
	if (!w->failed) {
		w->failed = 1;
		snprintf(w->err, sizeof(w->err), "worker %u: %s: block %p size %zu offset %ld",
			 w->id, what, p, size, off);
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	uint64_t rs = 0x1234567ull + w->id * 0x9876543ull;
	unsigned int i;

	for (i = 0; i < WSTABLE; i++) {
		size_t n = rand_size(&rs);

		w->stable[i] = hak_malloc(n);
		if (!w->stable[i]) {
			worker_fail(w, "malloc failed", NULL, n, 0);
			break;
		}
		w->stable_size[i] = n;
		pat_fill(w->stable[i], n, seed_of(w->stable[i], n, 1));
	}
	atomic_fetch_add(&workers_ready, 1);
	while (!atomic_load_explicit(&workers_stop, memory_order_relaxed) && !w->failed) {
		unsigned int k = (unsigned int)(rnd(&rs) % WSLOTS);
		struct wblock *b = &w->slot[k];
		void *p = atomic_exchange(&b->p, NULL);
		size_t n;
		long off;

		if (p) {
			off = pat_check(p, b->size, seed_of(p, b->size, 2));
			if (off >= 0)
				worker_fail(w, "pattern mismatch", p, b->size, off);
			hak_free(p);
		}
		n = rand_size(&rs);
		p = hak_malloc(n);
		if (!p) {
			worker_fail(w, "malloc failed", NULL, n, 0);
			break;
		}
		pat_fill(p, n, seed_of(p, n, 2));
		b->size = n;
		atomic_store_explicit(&b->p, p, memory_order_release);
		w->ops++;
	}
	return NULL;
}

/* ---- Child-side work */

struct cthread_arg {
	unsigned int id;
	unsigned int rounds;
	void *out;        /* a block left for the child's main thread to free */
	size_t out_size;
	int failed;
};

static void churn(uint64_t *rs, unsigned int rounds, int *failed)
{
	enum { N = 128 };
	void *p[N];
	size_t sz[N];
	unsigned int r, i;

	for (r = 0; r < rounds; r++) {
		for (i = 0; i < N; i++) {
			sz[i] = rand_size(rs);
			if (sz[i] > MiB && (i % 4))
				sz[i] = 64 + sz[i] % 4000;   /* fewer large ones */
			p[i] = hak_malloc(sz[i]);
			if (!p[i]) {
				*failed = 1;
				return;
			}
			pat_fill(p[i], sz[i], seed_of(p[i], sz[i], 3));
		}
		for (i = 0; i < N; i++) {
			unsigned int j = (i * 37 + r) % N;   /* free out of order */

			if (pat_check(p[j], sz[j], seed_of(p[j], sz[j], 3)) >= 0) {
				*failed = 2;
				return;
			}
		}
		for (i = 0; i < N; i++)
			hak_free(p[(i * 37 + r) % N]);
	}
}

static void *child_thread(void *arg)
{
	struct cthread_arg *a = arg;
	uint64_t rs = 0xabcdefull + a->id;

	churn(&rs, a->rounds, &a->failed);
	a->out_size = 100 + a->id * 300;
	a->out = hak_malloc(a->out_size);
	if (a->out)
		pat_fill(a->out, a->out_size, seed_of(a->out, a->out_size, 4));
	return NULL;
}

static void child_busy(unsigned int fork_no)
{
	enum { NCT = 4 };
	struct cthread_arg ca[NCT];
	pthread_t t[NCT];
	uint64_t rs = 0x5555ull + fork_no;
	unsigned int w, i, rounds = emulated ? 20 : 200;
	int failed = 0;

	alarm(emulated ? 50 : 10);
	/* The parent's workers did not survive: check and free what they
	 * held at the fork.  Slots are published only after the fill. */
	for (w = 0; w < NWORKERS; w++) {
		struct worker *wk = &workers[w];

		for (i = 0; i < WSLOTS; i++) {
			void *p = atomic_load(&wk->slot[i].p);
			size_t n = wk->slot[i].size;
			long off;

			if (!p)
				continue;
			off = pat_check(p, n, seed_of(p, n, 2));
			if (off >= 0)
				child_fail("worker block clobbered", p, n, off);
			hak_free(p);
			if (i % 2)   /* allocate in between: adopts abandoned spans */
				hak_free(hak_malloc(n));
		}
		for (i = 0; i < WSTABLE; i++) {
			void *p = wk->stable[i];
			size_t n = wk->stable_size[i];
			long off;

			if (!p)
				continue;
			off = pat_check(p, n, seed_of(p, n, 1));
			if (off >= 0)
				child_fail("worker stable block clobbered", p, n, off);
			hak_free(p);
		}
	}
	churn(&rs, rounds, &failed);
	if (failed)
		child_fail(failed == 1 ? "malloc failed" : "churn pattern mismatch", NULL, 0, 0);
	/*
	 * Threads that allocate, free and exit, twice over.  Not under
	 * qemu-user (TEST_EMULATED): qemu 7.2 keeps the parent's vCPUs in its
	 * plugin table after a fork, and the child's first new thread aborts
	 * qemu ("qemu_plugin_vcpu_init_hook: assertion failed").
	 */
	for (w = 0; w < (emulated ? 0u : 2u); w++) {
		memset(ca, 0, sizeof(ca));
		for (i = 0; i < NCT; i++) {
			ca[i].id = i + w * NCT;
			ca[i].rounds = rounds / 4;
			if (pthread_create(&t[i], NULL, child_thread, &ca[i]))
				child_fail("pthread_create failed", NULL, 0, i);
		}
		for (i = 0; i < NCT; i++) {
			if (pthread_join(t[i], NULL))
				child_fail("pthread_join failed", NULL, 0, i);
			if (ca[i].failed || !ca[i].out)
				child_fail("child thread failed", NULL, 0, ca[i].failed);
		}
		for (i = 0; i < NCT; i++) {
			long off = pat_check(ca[i].out, ca[i].out_size,
					     seed_of(ca[i].out, ca[i].out_size, 4));

			if (off >= 0)
				child_fail("dead thread's block clobbered", ca[i].out, ca[i].out_size, off);
			hak_free(ca[i].out);
		}
	}
	churn(&rs, rounds / 4, &failed);
	if (failed)
		child_fail("second churn failed", NULL, 0, failed);
	_exit(0);
}

static void wait_child(pid_t pid, const char *what)
{
	int status;
	pid_t r;

	do
		r = waitpid(pid, &status, 0);
	while (r < 0 && errno == EINTR);
	ck_assert_int_eq(r, pid);
	if (WIFSIGNALED(status))
		ck_abort_msg("%s: child killed by signal %d%s", what, WTERMSIG(status),
			     WTERMSIG(status) == SIGALRM ? " (deadlock? alarm fired)" : "");
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "%s: child exit status %d", what, WEXITSTATUS(status));
}

START_TEST(test_fork_busy_threads)
{
	unsigned int nforks, f, w, i;
	unsigned long ops_before[NWORKERS];

#ifdef __SANITIZE_THREAD__
	/* TSan cannot follow threads started in the child of a fork taken
	 * while other threads run ("dup thread with used id"). */
	HAK_REQUIRE(0, "TSan does not support threads after a multi-threaded fork");
#endif

	emulated = getenv("TEST_EMULATED") != NULL;
	nforks = emulated ? 3 : 8;
	memset(workers, 0, sizeof(workers));
	atomic_store(&workers_stop, 0);
	atomic_store(&workers_ready, 0);
	for (w = 0; w < NWORKERS; w++) {
		workers[w].id = w;
		ck_assert_int_eq(pthread_create(&workers[w].tid, NULL, worker_main, &workers[w]), 0);
	}
	while (atomic_load(&workers_ready) < NWORKERS)
		usleep(1000);
	for (f = 0; f < nforks; f++) {
		pid_t pid;

		usleep(emulated ? 20000 : 5000);   /* let the workers run */
		pid = fork();
		ck_assert_int_ge(pid, 0);
		if (pid == 0) {
			fork_child_setup();
			child_busy(f);
		}
		wait_child(pid, "busy fork");
		for (w = 0; w < NWORKERS; w++)
			ck_assert_msg(!workers[w].failed, "fork %u: %s", f, workers[w].err);
	}
	/* The parent's workers keep running after the forks. */
	for (w = 0; w < NWORKERS; w++)
		ops_before[w] = workers[w].ops;
	usleep(emulated ? 100000 : 20000);
	atomic_store(&workers_stop, 1);
	for (w = 0; w < NWORKERS; w++) {
		ck_assert_int_eq(pthread_join(workers[w].tid, NULL), 0);
		ck_assert_msg(!workers[w].failed, "%s", workers[w].err);
		ck_assert_msg(workers[w].ops > ops_before[w], "worker %u stalled after the forks", w);
	}
	/* Verify and free what the (dead) workers left. */
	for (w = 0; w < NWORKERS; w++) {
		for (i = 0; i < WSLOTS; i++) {
			void *p = atomic_load(&workers[w].slot[i].p);
			size_t n = workers[w].slot[i].size;

			if (!p)
				continue;
			ck_assert_msg(pat_check(p, n, seed_of(p, n, 2)) < 0,
				      "worker %u slot %u: block %p size %zu clobbered", w, i, p, n);
			hak_free(p);
		}
		for (i = 0; i < WSTABLE; i++) {
			void *p = workers[w].stable[i];
			size_t n = workers[w].stable_size[i];

			ck_assert_msg(pat_check(p, n, seed_of(p, n, 1)) < 0,
				      "worker %u stable %u: block %p size %zu clobbered", w, i, p, n);
			hak_free(p);
		}
	}
}
END_TEST

/* ---- Live blocks of every tier across a fork */

enum { LIVE_N = 3000 };

struct live {
	void *p;
	size_t size;
};

static struct live live[LIVE_N];

static size_t tier_size(unsigned int i, uint64_t *rs)
{
	uint64_t r = rnd(rs);

	switch (i % 10) {
	case 0: case 1: case 2: case 3:
		return 1 + r % 256;                    /* tiny, small */
	case 4: case 5:
		return 257 + r % 768;                  /* tiny, up to 1 KiB */
	case 6:
		return 1025 + r % (31 * KiB);          /* mid */
	case 7:
		return 32 * KiB + r % (224 * KiB);     /* pool */
	case 8:
		if (i % 200 == 8)
			return MiB + 1 + r % (3 * MiB);        /* large */
		if (i % 50 == 8)
			return 256 * KiB + r % (768 * KiB);    /* L2.5 */
		return 4 * KiB + r % (60 * KiB);               /* pool */
	default:
		return 16 + r % 2048;
	}
}

static void *tier_alloc(unsigned int i, size_t n)
{
	void *p = NULL;

	switch (i % 7) {
	case 0:
		p = hak_calloc(1, n);
		if (p) {
			const unsigned char *b = p;
			size_t k;

			for (k = 0; k < n; k += 512)
				if (b[k])
					ck_abort_msg("calloc(%zu) not zeroed at %zu", n, k);
		}
		return p;
	case 1:
		return hak_aligned_alloc(64, (n + 63) & ~(size_t)63);
	case 2:
		return hak_memalign(4096, n);
	default:
		return hak_malloc(n);
	}
}

static size_t tier_len(unsigned int i, size_t n)
{
	return i % 7 == 1 ? (n + 63) & ~(size_t)63 : n;
}

START_TEST(test_fork_live_blocks)
{
	uint64_t rs = 0xfeedull;
	unsigned int i, n = LIVE_N;
	pid_t pid;

	emulated = getenv("TEST_EMULATED") != NULL;
	if (emulated)
		n = LIVE_N / 3;
	for (i = 0; i < n; i++) {
		size_t sz = tier_len(i, tier_size(i, &rs));

		live[i].size = sz;
		live[i].p = tier_alloc(i, sz);
		ck_assert_msg(live[i].p, "alloc %u size %zu failed", i, sz);
		pat_fill(live[i].p, sz, seed_of(live[i].p, sz, 5));
	}
	/* Free a third, so that partially free spans cross the fork too. */
	for (i = 0; i < n; i += 3) {
		hak_free(live[i].p);
		live[i].p = NULL;
	}
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		uint64_t crs = 0x77ull;
		int failed = 0;

		fork_child_setup();
		alarm(emulated ? 50 : 10);
		for (i = 0; i < n; i++) {
			long off;

			if (!live[i].p)
				continue;
			off = pat_check(live[i].p, live[i].size, seed_of(live[i].p, live[i].size, 5));
			if (off >= 0)
				child_fail("live block clobbered across fork", live[i].p,
					   live[i].size, off);
		}
		for (i = 0; i < n; i++)
			hak_free(live[i].p);
		/* Reuse everything again, in the same order. */
		for (i = 0; i < n; i++) {
			size_t sz = live[i].size;
			void *p = tier_alloc(i, sz);

			if (!p)
				child_fail("alloc after fork failed", NULL, sz, i);
			pat_fill(p, sz, seed_of(p, sz, 6));
			live[i].p = p;
		}
		for (i = 0; i < n; i++) {
			long off = pat_check(live[i].p, live[i].size, seed_of(live[i].p, live[i].size, 6));

			if (off >= 0)
				child_fail("block allocated in child clobbered", live[i].p,
					   live[i].size, off);
			hak_free(live[i].p);
		}
		churn(&crs, emulated ? 10 : 100, &failed);
		if (failed)
			child_fail("churn failed", NULL, 0, failed);
		_exit(0);
	}
	wait_child(pid, "live-blocks fork");
	for (i = 0; i < n; i++) {
		if (!live[i].p)
			continue;
		ck_assert_msg(pat_check(live[i].p, live[i].size, seed_of(live[i].p, live[i].size, 5)) < 0,
			      "parent block %u (%p, %zu) clobbered", i, live[i].p, live[i].size);
		hak_free(live[i].p);
	}
}
END_TEST

/* A fork from a thread other than main, while main holds blocks. */
static void *fork_from_thread(void *arg)
{
	pid_t pid = fork();

	if (pid == 0) {
		void *blk = arg;
		long off;

		fork_child_setup();
		alarm(emulated ? 50 : 10);
		off = pat_check(blk, 5000, seed_of(blk, 5000, 7));
		if (off >= 0)
			child_fail("main's block clobbered", blk, 5000, off);
		hak_free(blk);   /* main's heap is abandoned in the child */
		blk = hak_malloc(5000);
		if (!blk)
			child_fail("malloc failed", NULL, 5000, 0);
		hak_free(blk);
		_exit(0);
	}
	return (void *)(intptr_t)pid;
}

START_TEST(test_fork_from_thread)
{
	void *blk = hak_malloc(5000), *ret;

	emulated = getenv("TEST_EMULATED") != NULL;
	ck_assert(blk);
	pat_fill(blk, 5000, seed_of(blk, 5000, 7));
	ret = run_thread(fork_from_thread, blk);
	ck_assert_int_gt((intptr_t)ret, 0);
	wait_child((pid_t)(intptr_t)ret, "fork from thread");
	ck_assert(pat_check(blk, 5000, seed_of(blk, 5000, 7)) < 0);
	hak_free(blk);
}
END_TEST

static Suite *make_suite(void)
{
	TCase *tc;
	Suite *s = one_tcase_suite("fork", "core", 120, &tc);

	tcase_add_test(tc, test_fork_busy_threads);
	tcase_add_test(tc, test_fork_live_blocks);
	tcase_add_test(tc, test_fork_from_thread);
	return s;
}

HAK_TEST_MAIN(make_suite)
