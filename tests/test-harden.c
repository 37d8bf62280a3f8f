/* SPDX-License-Identifier: MIT */
/*
 * The hardened-full boxes that cost per byte: CONFIG_FREE_CHECK (a write
 * into a freed block is found when malloc hands it out again) and
 * CONFIG_ZERO_FREE (malloc never returns an earlier owner's data, small
 * blocks and big blocks from BigCache alike).  Each test skips when its box
 * is off.
 */
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>

#include "harness.h"
#include "testutil.h"

/* Frees a block, writes past its first 16 bytes (its link and key), then
 * asks for the same size until the block comes back. */
static void write_after_free(size_t size)
{
	unsigned char *p = hak_malloc(size), *q;
	int i;

	ck_assert(p);
	hak_free(p);
	p[size - 1] = 0x77;   /* the bad thing */
	for (i = 0; i < 100000; i++) {
		q = hak_malloc(size);
		if (q == p)
			return;
	}
}

START_TEST(test_free_check)
{
	static const size_t sizes[] = { 32, 1000, 20000 };
	unsigned int k;

	HAK_REQUIRE(IS_ENABLED(CONFIG_FREE_CHECK) || IS_ENABLED(CONFIG_DEBUG_FILL),
		    "needs CONFIG_FREE_CHECK or CONFIG_DEBUG_FILL");
	HAK_REQUIRE(IS_ENABLED(CONFIG_TINY) && IS_ENABLED(CONFIG_POOL), "needs the heap tiers");
	for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		int fd[2], status;
		char err[256] = "";
		ssize_t n;
		pid_t pid;

		ck_assert_int_eq(pipe(fd), 0);
		pid = fork();
		ck_assert(pid >= 0);
		if (pid == 0) {
			fork_child_setup();
			dup2(fd[1], 2);
			write_after_free(sizes[k]);
			_exit(0);
		}
		close(fd[1]);
		n = read(fd[0], err, sizeof(err) - 1);
		err[n > 0 ? n : 0] = 0;
		close(fd[0]);
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
			      "%zu B: no abort; stderr: %s", sizes[k], err);
		ck_assert_msg(strstr(err, "hakmem: write after free 0x"), "%zu B: %s", sizes[k], err);
	}
}
END_TEST

/* The first non-zero byte of [p, p + n), or n. */
static size_t first_nonzero(const unsigned char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i])
			return i;
	return n;
}

START_TEST(test_zero_free_small)
{
	static const size_t sizes[] = { 16, 64, 1000, 20000, 500000 };
	unsigned int k;

	HAK_REQUIRE(IS_ENABLED(CONFIG_ZERO_FREE), "needs CONFIG_ZERO_FREE");
	HAK_REQUIRE(!IS_ENABLED(CONFIG_DEBUG_FILL), "DEBUG_FILL hands out 0xa5 on purpose");
	for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		size_t n = sizes[k];
		unsigned char *p = hak_malloc(n), *q;
		int i;

		ck_assert(p);
		memset(p, 0xc3, n);   /* the earlier owner's secret */
		hak_free(p);
		for (i = 0; i < 1000 && (q = hak_malloc(n)) != p; i++)
			;
		ck_assert_ptr_eq(q, p);
		ck_assert_msg(first_nonzero(q, n) == n, "%zu B: byte %zu of the reused block is %#x",
			      n, first_nonzero(q, n), q[first_nonzero(q, n)]);
		hak_free(q);
	}
}
END_TEST

/* Another thread frees the block: the owner zeroes it when it collects. */
static void *remote_victim;

static void *free_victim(void *arg)
{
	hak_free(remote_victim);
	return arg;
}

START_TEST(test_zero_free_remote)
{
	const size_t n = 200;
	unsigned char *q = NULL;
	int i;

	HAK_REQUIRE(IS_ENABLED(CONFIG_ZERO_FREE), "needs CONFIG_ZERO_FREE");
	HAK_REQUIRE(!IS_ENABLED(CONFIG_DEBUG_FILL), "DEBUG_FILL hands out 0xa5 on purpose");
	remote_victim = hak_malloc(n);
	ck_assert(remote_victim);
	memset(remote_victim, 0xc3, n);
	run_thread(free_victim, NULL);
	for (i = 0; i < 100000 && (q = hak_malloc(n)) != remote_victim; i++)
		;
	ck_assert_ptr_eq(q, remote_victim);
	ck_assert_uint_eq(first_nonzero(q, n), n);
}
END_TEST

START_TEST(test_zero_free_big)
{
	const size_t n = 4 * MiB;
	unsigned char *p, *q;

	HAK_REQUIRE(IS_ENABLED(CONFIG_ZERO_FREE), "needs CONFIG_ZERO_FREE");
	HAK_REQUIRE(IS_ENABLED(CONFIG_BIGCACHE), "needs BigCache (else every big block is fresh)");
	p = hak_malloc(n);
	ck_assert(p);
	memset(p, 0xc3, n);
	hak_free(p);
	q = hak_malloc(n);   /* BigCache's mapping again */
	ck_assert_ptr_eq(q, p);
	ck_assert_uint_eq(first_nonzero(q, n), n);
	hak_free(q);
}
END_TEST

static Suite *make_suite(void)
{
	TCase *tc;
	Suite *s = one_tcase_suite("harden", "boxes", 60, &tc);

	tcase_add_test(tc, test_free_check);
	tcase_add_test(tc, test_zero_free_small);
	tcase_add_test(tc, test_zero_free_remote);
	tcase_add_test(tc, test_zero_free_big);
	return s;
}

HAK_TEST_MAIN(make_suite)
