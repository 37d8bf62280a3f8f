/* SPDX-License-Identifier: MIT */
/*
 * Bad input (DESIGN.md, "Bad input"): nothing may corrupt the heap silently.
 *
 *  - Foreign pointers (stack, private mmap, top-byte-tagged, above 2^48,
 *    static data): release ignores them (process continues, the memory is
 *    untouched, and with CONFIG_STATS foreign_frees grows by one);
 *    CONFIG_FOREIGN_ABORT aborts.  realloc of one returns NULL and leaves
 *    it alone, or aborts with CONFIG_FOREIGN_ABORT.
 *  - Interior pointers (p+16 of 64 B, p+8 of a pool block, p+4096 of a big
 *    block, the superslab base under a tiny block) are rejected in every
 *    config: the block stays valid and is never handed out twice.  Without
 *    CONFIG_DOUBLE_FREE_CHECK / CONFIG_FOREIGN_ABORT the process must go
 *    on; with either, an abort is also accepted.
 *  - Double free of a currently free block aborts with SIGABRT in every
 *    config, within a thread and across threads, in every order; a live
 *    block whose data holds the double-free key is freed normally.
 *  - Abort messages are one line on stderr: "hakmem: <what> <pointer>".
 *
 * Which tests must raise SIGABRT is decided from the config when the suite
 * is built; a test that only makes sense with an option skips without it.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <mm/heap/heap.h>
#include "harness.h"
#include "testutil.h"

/*
 * Free a foreign pointer.  When CONFIG_FOREIGN_ABORT is on the test is
 * registered to expect SIGABRT, so returning from here fails it.
 */
static void free_foreign(void *p)
{
	struct hak_stats a = stats_now();
	hak_free(p);
	struct hak_stats b = stats_now();
	if (IS_ENABLED(CONFIG_STATS))
		ck_assert_msg(b.foreign_frees == a.foreign_frees + 1,
			      "free(%p): foreign_frees %llu -> %llu", p,
			      a.foreign_frees, b.foreign_frees);
}

/* Every byte of [p, p+n) is still c. */
static void assert_filled(const void *p, size_t n, unsigned char c)
{
	size_t i = first_not(p, n, c);
	ck_assert_msg(i == n, "%p: byte %zu of %zu is no longer 0x%02x", p, i, n, c);
}

/* A private anonymous mapping of len bytes, all c. */
static unsigned char *map_filled(size_t len, unsigned char c)
{
	unsigned char *m = mmap(NULL, len, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert(m != MAP_FAILED);
	memset(m, c, len);
	return m;
}

/* The allocator still works after bad input. */
static void heap_still_works(void)
{
	static const size_t sizes[] = { 16, 64, 1000, 5000, 300000, 3 * MiB };
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		void *p = hak_malloc(sizes[i]);
		ck_assert(p != NULL);
		memset(p, 0x42, sizes[i]);
		assert_filled(p, sizes[i], 0x42);
		hak_free(p);
	}
}

/* ------------------------- foreign pointers ------------------------ */

START_TEST(test_foreign_stack)
{
	char buf[256];
	memset(buf, 0x61, sizeof(buf));
	free_foreign(buf);
	free_foreign(buf + 64);
	assert_filled(buf, sizeof(buf), 0x61);
	heap_still_works();
}
END_TEST

START_TEST(test_foreign_static)
{
	static char data[4096];
	memset(data, 0x62, sizeof(data));
	free_foreign(data);
	assert_filled(data, sizeof(data), 0x62);
	heap_still_works();
}
END_TEST

START_TEST(test_foreign_mmap)
{
	/* 4 MiB so that a 2 MiB-aligned address (a superslab lookalike) is inside */
	const size_t len = 4 * MiB;
	unsigned char *m = map_filled(len, 0x63);
	uintptr_t al = ((uintptr_t)m + 2 * MiB - 1) & ~(uintptr_t)(2 * MiB - 1);

	free_foreign(m);
	free_foreign(m + 4096);
	free_foreign((void *)al);
	free_foreign((void *)(al + 64));
	/* still mapped and untouched */
	assert_filled(m, len, 0x63);
	ck_assert_int_eq(munmap(m, len), 0);
	heap_still_works();
}
END_TEST

START_TEST(test_foreign_tagged)
{
	unsigned char *p = hak_malloc(64);
	ck_assert(p != NULL);
	memset(p, 0x64, 64);
	/* a live block of ours with a top-byte tag (arm64 TBI style) */
	void *tagged = (void *)((uintptr_t)p | ((uintptr_t)0x5a << 56));
	free_foreign(tagged);
	assert_filled(p, 64, 0x64);
	/* the untagged block was not freed: it is never handed out again */
	enum { N = 2000 };
	static void *q[N];
	for (int i = 0; i < N; i++) {
		q[i] = hak_malloc(64);
		ck_assert_msg(q[i] != (void *)p,
			      "freeing tagged %p freed %p", tagged, (void *)p);
	}
	for (int i = 0; i < N; i++)
		hak_free(q[i]);
	assert_filled(p, 64, 0x64);
	hak_free(p);
}
END_TEST

START_TEST(test_foreign_high)
{
	/* above 2^48 (beyond a 4-level user address space) and kernel space */
	free_foreign((void *)(((uintptr_t)1 << 48) + 4096));
	free_foreign((void *)(((uintptr_t)1 << 56) + 2 * MiB));
	free_foreign((void *)(uintptr_t)0xffff800000000000ull);
	free_foreign((void *)(uintptr_t)0xfffffffffffff000ull);
	heap_still_works();
}
END_TEST

START_TEST(test_realloc_foreign)
{
	char buf[128];
	memset(buf, 0x65, sizeof(buf));
	void *r = hak_realloc(buf, 1000);
	ck_assert_msg(r == NULL, "realloc(stack %p) = %p", (void *)buf, r);
	assert_filled(buf, sizeof(buf), 0x65);

	const size_t len = 2 * MiB;
	unsigned char *m = map_filled(len, 0x66);
	r = hak_realloc(m, 10);
	ck_assert_msg(r == NULL, "realloc(mmap %p) = %p", (void *)m, r);
	r = hak_realloc(m, 5 * MiB);
	ck_assert(r == NULL);
	assert_filled(m, len, 0x66);
	ck_assert_int_eq(munmap(m, len), 0);
	heap_still_works();
}
END_TEST

/* ------------------------- interior pointers ----------------------- */

/*
 * Run fn(arg) in a child with stderr captured.  Returns the wait status;
 * the child's stderr (NUL-terminated) goes to err.
 */
static int run_child(int (*fn)(void *), void *arg, char *err, size_t errlen)
{
	int pfd[2];
	ck_assert(pipe(pfd) == 0);
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	ck_assert(pid >= 0);
	if (pid == 0) {
		close(pfd[0]);
		dup2(pfd[1], 2);
		_exit(fn(arg));
	}
	close(pfd[1]);
	size_t got = 0;
	ssize_t r;
	char drain[4096];
	/* Keep the first errlen - 1 bytes and drain the rest (a debug build's
	 * trace dump follows the abort line), so the child never blocks. */
	while ((r = got < errlen - 1 ? read(pfd[0], err + got, errlen - 1 - got)
				     : read(pfd[0], drain, sizeof(drain))) > 0 ||
	       (r < 0 && errno == EINTR))
		if (r > 0 && got < errlen - 1)
			got += (size_t)r;
	err[got] = 0;
	close(pfd[0]);
	int st;
	while (waitpid(pid, &st, 0) < 0)
		ck_assert(errno == EINTR);
	return st;
}

/* "hakmem: <what> <pointer>" on a line of its own, pointer in hex. */
static int has_abort_line(const char *err, const void *p)
{
	char hex[32];
	snprintf(hex, sizeof(hex), "%lx", (unsigned long)(uintptr_t)p);
	for (const char *l = err; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		const char *e = strchr(l, '\n');
		size_t n = e ? (size_t)(e - l) : strlen(l);
		if (n > 8 && !strncmp(l, "hakmem: ", 8)) {
			char line[512];
			snprintf(line, sizeof(line), "%.*s", (int)n, l);
			if (strstr(line, hex))
				return 1;
		}
	}
	return 0;
}

struct interior_case {
	size_t size;   /* block size */
	size_t off;    /* offset of the bad pointer; SIZE_MAX: superslab base */
	int others;    /* same-size blocks to allocate afterwards */
	void *bad;     /* out: the pointer freed */
};

/* Child: exit 0 when the block survived; a code > 0 says what broke. */
static int interior_child(void *arg)
{
	struct interior_case *c = arg;
	unsigned char *p = hak_malloc(c->size);
	if (!p)
		return 10;
	memset(p, 0x71, c->size);
	void *bad = c->off == SIZE_MAX
			    ? (void *)((uintptr_t)p & ~(uintptr_t)(2 * MiB - 1))
			    : (void *)(p + c->off);
	if (bad == (void *)p)
		return 0; /* not interior: nothing to test */
	/* tell the parent the address before the free can abort */
	fprintf(stderr, "bad %p\n", bad);
	fflush(stderr);

	hak_free(bad);

	if (first_not(p, c->size, 0x71) != c->size)
		return 11; /* contents clobbered */
	if (hak_malloc_usable_size(p) < c->size)
		return 12; /* block no longer ours */
	/* nothing handed out may overlap the still-live block */
	void **q = mmap(NULL, (size_t)c->others * sizeof(void *),
			PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			-1, 0);
	if (q == MAP_FAILED)
		return 13;
	for (int i = 0; i < c->others; i++) {
		q[i] = hak_malloc(c->size);
		if (!q[i])
			return 14;
		if ((unsigned char *)q[i] < p + c->size &&
		    p < (unsigned char *)q[i] + c->size)
			return 15; /* overlap: the interior free was accepted */
		memset(q[i], 0x72, c->size);
	}
	if (first_not(p, c->size, 0x71) != c->size)
		return 16;
	for (int i = 0; i < c->others; i++)
		hak_free(q[i]);
	struct hak_stats a = stats_now();
	hak_free(p);
	struct hak_stats b = stats_now();
	if (IS_ENABLED(CONFIG_STATS) && b.frees != a.frees + 1)
		return 17; /* the real free was not taken */
	return 0;
}

static void check_interior(size_t size, size_t off, int others)
{
	struct interior_case c = { size, off, others, NULL };
	static char err[8192];
	int st = run_child(interior_child, &c, err, sizeof(err));
	void *bad = NULL;
	const char *b = strstr(err, "bad ");
	if (b)
		sscanf(b, "bad %p", &bad);

	if (WIFEXITED(st)) {
		ck_assert_msg(WEXITSTATUS(st) == 0,
			      "free(interior %p of a %zu B block): failure %d "
			      "(11 clobbered, 12 lost, 15 handed out twice, "
			      "17 real free not taken); stderr: %.600s",
			      bad, size, WEXITSTATUS(st), err);
		return;
	}
	ck_assert_msg(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT,
		      "free(interior %p of a %zu B block) killed by signal %d; "
		      "stderr: %.600s", bad, size,
		      WIFSIGNALED(st) ? WTERMSIG(st) : -1, err);
	/* Interior pointers abort in debug (DEBUG_ASSERT) and hardened
	 * (FOREIGN_ABORT) configs; DESIGN.md "Bad input". */
	ck_assert_msg(IS_ENABLED(CONFIG_DOUBLE_FREE_CHECK) ||
			      IS_ENABLED(CONFIG_FOREIGN_ABORT) ||
			      IS_ENABLED(CONFIG_DEBUG_ASSERT),
		      "free(interior %p of a %zu B block) aborted in a config "
		      "without CONFIG_DOUBLE_FREE_CHECK/CONFIG_FOREIGN_ABORT/"
		      "CONFIG_DEBUG_ASSERT; stderr: %.600s", bad, size, err);
	ck_assert_msg(has_abort_line(err, bad),
		      "abort without a 'hakmem: <what> %p' line; stderr: %.600s",
		      bad, err);
}

START_TEST(test_interior_tiny)
{
	check_interior(64, 16, 3000);
	check_interior(64, 8, 3000);
	check_interior(64, 63, 3000);
	check_interior(16, 8, 3000);
	check_interior(1024, 512, 500);
}
END_TEST

START_TEST(test_interior_pool)
{
	check_interior(4096, 8, 200);
	check_interior(2000, 16, 200);
	check_interior(100000, 8, 20);
	check_interior(100000, 65536, 20);
	check_interior(MiB, 4096, 8);
}
END_TEST

START_TEST(test_interior_big)
{
	check_interior(4 * MiB, 4096, 4);
	check_interior(4 * MiB, 16, 4);
	check_interior(3 * MiB + 100, 2 * MiB, 4);
}
END_TEST

START_TEST(test_interior_superslab_base)
{
	/* the base of the 2 MiB region holding a tiny block is metadata */
	check_interior(64, SIZE_MAX, 1000);
	check_interior(5000, SIZE_MAX, 100);
}
END_TEST

/* --------------------------- double free --------------------------- */
/*
 * Every config catches a double free of a block that is currently free
 * (mm/heap/suspect.c): at once when the owner makes the second free or
 * finds the block on its lists, at the owner's next slow path (here
 * malloc_trim) when another thread hands it over.
 */
static void *keeper; /* keeps the slab of the victim populated */

static void *thread_free(void *arg)
{
	hak_free(arg);
	return NULL;
}

static void free_in_thread(void *p)
{
	run_thread(thread_free, p);
}

enum { OWNER, REMOTE };

static void free_by(int who, void *p)
{
	if (who == REMOTE)
		free_in_thread(p);
	else
		hak_free(p);
}

/*
 * Allocates a keeper and a victim of `size`, then frees the victim twice,
 * by its owner or by another thread; the second free must abort, by the
 * owner's next slow path at the latest.
 */
static void double_free(size_t size, int first, int second)
{
	keeper = hak_malloc(size);
	void *p = hak_malloc(size);
	ck_assert(keeper && p);
	free_by(first, p);
	free_by(second, p);
	hak_malloc_trim(0);
}

#define DOUBLE_FREE_TEST(name, size, first, second)                            \
	START_TEST(name)                                                       \
	{                                                                      \
		double_free(size, first, second);                              \
	}                                                                      \
	END_TEST

DOUBLE_FREE_TEST(test_double_free_tiny, 64, OWNER, OWNER)
DOUBLE_FREE_TEST(test_double_free_pool, 4096, OWNER, OWNER)
DOUBLE_FREE_TEST(test_double_free_l25, 300000, OWNER, OWNER)

/* The block is one of thousands freed (slabs emptied) when it recurs. */
START_TEST(test_double_free_after_churn)
{
	enum { N = 5000 };
	static void *q[N];
	keeper = hak_malloc(48);
	ck_assert(keeper != NULL);
	for (int i = 0; i < N; i++) {
		q[i] = hak_malloc(48);
		ck_assert(q[i] != NULL);
	}
	for (int i = 0; i < N; i++)
		hak_free(q[i]);
	hak_free(q[N / 2]);
}
END_TEST

/* free(A), other frees, free(A) */
START_TEST(test_double_free_delayed)
{
	void *a = hak_malloc(80), *o[16];
	ck_assert(a != NULL);
	for (int i = 0; i < 16; i++)
		ck_assert((o[i] = hak_malloc(80)) != NULL);
	hak_free(a);
	for (int i = 0; i < 16; i++)
		hak_free(o[i]);
	hak_free(a);
}
END_TEST

/* free(A), free(B), malloc (which takes B back), free(A) */
START_TEST(test_double_free_after_reuse_of_other)
{
	void *a = hak_malloc(96), *b = hak_malloc(96), *c;
	ck_assert(a && b);
	hak_free(a);
	hak_free(b);
	c = hak_malloc(96);
	ck_assert(c != NULL);
	hak_free(a);
}
END_TEST

/* free(A), free(B), free(A), free(B) */
START_TEST(test_double_free_interleaved)
{
	void *a = hak_malloc(112), *b = hak_malloc(112);
	ck_assert(a && b);
	hak_free(a);
	hak_free(b);
	hak_free(a);
	hak_free(b);
}
END_TEST

/* freed by its owner, freed again by another thread */
DOUBLE_FREE_TEST(test_double_free_owner_then_remote, 64, OWNER, REMOTE)

/* freed by its owner, freed again by another thread (handed to the owner),
 * then handed out again by the owner's malloc before the owner confirms:
 * still a double free, never a second copy of the block on the free list */
START_TEST(test_double_free_handed_over_reused)
{
	void *k = hak_malloc(64), *p = hak_malloc(64), *q;
	ck_assert(k && p);
	hak_free(p);
	free_in_thread(p);
	q = hak_malloc(64);
	ck_assert_ptr_eq(q, p);
	hak_malloc_trim(0);
}
END_TEST

/* freed remotely (sits on the remote list), then freed again by the owner */
DOUBLE_FREE_TEST(test_double_free_remote_then_owner, 128, REMOTE, OWNER)

/* freed remotely twice, by two different threads */
DOUBLE_FREE_TEST(test_double_free_remote_twice, 8192, REMOTE, REMOTE)

/* Blocks of a thread that has exited (abandoned spans), freed twice by
 * other threads. */
static void *alloc_in_thread(void *arg)
{
	return hak_malloc((size_t)(uintptr_t)arg);
}

START_TEST(test_double_free_abandoned)
{
	void *k = run_thread(alloc_in_thread, (void *)(uintptr_t)256);
	void *p = run_thread(alloc_in_thread, (void *)(uintptr_t)256);
	ck_assert(k && p);
	(void)k;
	free_in_thread(p);
	free_in_thread(p);
}
END_TEST

/* A live block whose second word happens to hold the key is freed
 * normally: the check has no false positive.  The thread heap then hands
 * the block out again (the shared heap of a TINY=n build keeps no such
 * order), with the key cleared. */
START_TEST(test_key_in_live_block)
{
	void *k = hak_malloc(64), *p = hak_malloc(64), *q;
	ck_assert(k && p);
	((uint64_t *)p)[1] = free_key;
	hak_free(p);
	q = hak_malloc(64);
	ck_assert(q != NULL && ((uint64_t *)q)[1] != free_key);
	if (IS_ENABLED(CONFIG_TINY))
		ck_assert_ptr_eq(q, p);
	((uint64_t *)q)[1] = free_key;
	free_in_thread(q);    /* handed over to the owner, which frees it */
	hak_malloc_trim(0);
	q = hak_malloc(64);
	ck_assert(q != NULL);
	if (IS_ENABLED(CONFIG_TINY))
		ck_assert_ptr_eq(q, p);
	hak_free(q);
	hak_free(k);
}
END_TEST

/* ---------------------------- sized frees --------------------------- */
/*
 * free_sized / free_aligned_sized check the size against the block: more
 * than its usable size, or less than any size that could leave a block in
 * its class (realloc shrinks in place down to half; memalign(S, 1) takes a
 * power-of-two class S), or a misaligned pointer, is a mismatch: counted and freed normally in release, an abort with
 * CONFIG_FOREIGN_ABORT (hardened) or the debug checks.
 */
static const int size_aborts = IS_ENABLED(CONFIG_FOREIGN_ABORT) ||
			       IS_ENABLED(CONFIG_DEBUG_ASSERT) ||
			       IS_ENABLED(CONFIG_DOUBLE_FREE_CHECK);

struct sized_case {
	size_t size, align, realloc_to; /* how the block is made */
	size_t freed, freed_align;      /* how it is freed (align 0: free_sized) */
	int fits;
};

static int child_sized(void *arg)
{
	const struct sized_case *c = arg;
	struct hak_stats a, b;
	void *p = c->align ? hak_aligned_alloc(c->align, c->size) : hak_malloc(c->size);

	if (!p)
		return 20;
	if (c->realloc_to && hak_realloc(p, c->realloc_to) != p)
		return 21;
	a = stats_now();
	if (c->freed_align)
		hak_free_aligned_sized(p, c->freed_align, c->freed);
	else
		hak_free_sized(p, c->freed);
	b = stats_now();
	if (IS_ENABLED(CONFIG_STATS) && (b.size_mismatches != a.size_mismatches + !c->fits ||
					 b.frees != a.frees + 1))
		return 22;
	return 0;
}

START_TEST(test_sized_free)
{
	static const struct sized_case cases[] = {
		{ 100, 0, 0, 100, 0, 1 },
		{ 100, 0, 0, 112, 0, 1 },          /* the usable size */
		{ 0, 0, 0, 0, 0, 1 },
		{ 1000, 0, 600, 600, 0, 1 },       /* shrunk in place */
		{ 4096 + 1, 0, 0, 4096 + 1, 0, 1 },
		{ 100, 4096, 0, 100, 4096, 1 },
		{ 5u << 20, 0, 0, 5u << 20, 0, 1 },
		{ 100, 64, 0, 100, 64, 1 },
		{ 100, 0, 0, 200, 0, 0 },          /* more than the block */
		{ 1000, 0, 0, 100, 0, 0 },         /* a size of a much smaller class */
		{ 100, 4096, 0, 100, 0, 1 },       /* memalign(4096, 100) could have made it */
		{ 4500, 0, 0, 100, 0, 0 },         /* a 5056 B block: no call leaves 100 there */
		{ 100, 4096, 0, 100, 3, 0 },       /* not a power of two */
		{ 5u << 20, 0, 0, 100, 0, 0 },
		{ 5u << 20, 0, 0, 6u << 20, 0, 0 },
	};
	static char err[4096];
	unsigned int i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct sized_case *c = &cases[i];
		int st = run_child(child_sized, (void *)c, err, sizeof(err));

		if (!c->fits && size_aborts) {
			ck_assert_msg(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT,
				      "case %u: no abort (status %#x), stderr: %.600s", i, st, err);
			ck_assert_msg(strstr(err, "hakmem: sized free of the wrong size"),
				      "case %u: stderr: %.600s", i, err);
		} else {
			ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
				      "case %u: status %#x, stderr: %.600s", i, st, err);
		}
	}
}
END_TEST

/* ------------------------- abort messages -------------------------- */

static int child_foreign_free(void *arg)
{
	hak_free(arg);
	return 0;
}

static int child_double_free(void *arg)
{
	(void)arg;
	void *k = hak_malloc(32);
	void *p = hak_malloc(32);
	fprintf(stderr, "bad %p\n", p);
	fflush(stderr);
	hak_free(p);
	hak_free(p);
	hak_free(k);
	return 0;
}

START_TEST(test_abort_message)
{
	static char err[8192];
	int st;

	if (IS_ENABLED(CONFIG_FOREIGN_ABORT)) {
		char buf[64];
		st = run_child(child_foreign_free, buf, err, sizeof(err));
		ck_assert_msg(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT,
			      "foreign free did not abort; stderr: %.600s", err);
		ck_assert_msg(has_abort_line(err, buf),
			      "no 'hakmem: <what> %p' line; stderr: %.600s",
			      (void *)buf, err);
	}
	{
		void *p = NULL;
		st = run_child(child_double_free, NULL, err, sizeof(err));
		ck_assert_msg(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT,
			      "double free did not abort; stderr: %.600s", err);
		const char *b = strstr(err, "bad ");
		ck_assert(b && sscanf(b, "bad %p", &p) == 1);
		ck_assert_msg(has_abort_line(err, p),
			      "no 'hakmem: <what> %p' line; stderr: %.600s", p, err);
	}
}
END_TEST

/* Free, reuse and free again by the rightful owner: legal, never aborts. */
START_TEST(test_no_false_double_free)
{
	/* free, reuse, free again: legal and must never abort */
	for (int i = 0; i < 10000; i++) {
		void *p = hak_malloc((size_t)(i % 2000) + 1);
		ck_assert(p != NULL);
		hak_free(p);
	}
	enum { N = 64 };
	void *p[N];
	for (int r = 0; r < 50; r++) {
		for (int i = 0; i < N; i++)
			p[i] = hak_malloc(64);
		for (int i = 0; i < N; i += 2)
			free_in_thread(p[i]);
		for (int i = 1; i < N; i += 2)
			hak_free(p[i]);
	}
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("badinput");
	TCase *tf = tcase_create("foreign");
	TCase *ti = tcase_create("interior");
	TCase *td = tcase_create("double_free");
	const int fa = IS_ENABLED(CONFIG_FOREIGN_ABORT) ? SIGABRT : 0;

	/* signal 0 = must exit normally */
	tcase_add_test_raise_signal(tf, test_foreign_stack, fa);
	tcase_add_test_raise_signal(tf, test_foreign_static, fa);
	tcase_add_test_raise_signal(tf, test_foreign_mmap, fa);
	tcase_add_test_raise_signal(tf, test_foreign_tagged, fa);
	tcase_add_test_raise_signal(tf, test_foreign_high, fa);
	tcase_add_test_raise_signal(tf, test_realloc_foreign, fa);
	suite_add_tcase(s, tf);

	tcase_set_timeout(ti, 60);
	tcase_add_test(ti, test_interior_tiny);
	tcase_add_test(ti, test_interior_pool);
	tcase_add_test(ti, test_interior_big);
	tcase_add_test(ti, test_interior_superslab_base);
	suite_add_tcase(s, ti);

	tcase_add_test_raise_signal(td, test_double_free_tiny, SIGABRT);
	tcase_add_test_raise_signal(td, test_double_free_pool, SIGABRT);
	tcase_add_test_raise_signal(td, test_double_free_l25, SIGABRT);
	tcase_add_test_raise_signal(td, test_double_free_after_churn, SIGABRT);
	tcase_add_test_raise_signal(td, test_double_free_delayed, SIGABRT);
	tcase_add_test_raise_signal(td, test_double_free_after_reuse_of_other, SIGABRT);
	tcase_add_test_raise_signal(td, test_double_free_interleaved, SIGABRT);
	tcase_add_test_raise_signal(td, test_double_free_owner_then_remote, SIGABRT);
	tcase_add_test_raise_signal(td, test_double_free_handed_over_reused, SIGABRT);
	tcase_add_test_raise_signal(td, test_double_free_remote_then_owner, SIGABRT);
	tcase_add_test_raise_signal(td, test_double_free_remote_twice, SIGABRT);
	tcase_add_test_raise_signal(td, test_double_free_abandoned, SIGABRT);
	tcase_add_test(td, test_key_in_live_block);
	tcase_add_test(td, test_abort_message);
	tcase_add_test(td, test_no_false_double_free);
	tcase_add_test(td, test_sized_free);
	suite_add_tcase(s, td);
	return s;
}

HAK_TEST_MAIN(make_suite)
