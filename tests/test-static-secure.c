/* SPDX-License-Identifier: MIT */
/*
 * Setuid and setgid programs (AT_SECURE) ignore every HAKMEM_* variable,
 * as glibc ignores its MALLOC_* tunables there.
 *
 * Root running a setuid-root file gets no AT_SECURE, and secure mode drops
 * LD_PRELOAD, so the test builds the real case: it copies itself (linked
 * statically with libhakmem.a) to a setgid-root file and runs that as the
 * unprivileged user nobody, with HAKMEM_* variables set.  The copy, run as
 * "--helper secure", asserts getauxval(AT_SECURE) == 1 itself and that the
 * options kept their defaults; stderr carries no "hakmem:" line.  The same
 * copy without the setgid bit ("--helper plain") must see the values, so
 * the check can fail.  The test skips, saying why, when it cannot build
 * the case: not root, no_new_privs set, a nosuid mount, under qemu-user, in a
 * sanitizer build.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/auxv.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>

#include <mm/options.h>
#include "harness.h"

#define NOBODY 65534

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define UNDER_SANITIZER 1
#else
#define UNDER_SANITIZER 0
#endif

/* The copy's side: exit 0 when what it sees matches `mode`. */
static int helper(const char *mode)
{
	int secure = getauxval(AT_SECURE) != 0;
	void *p = hak_malloc(64);    /* brings the allocator up */
	int defaults;

	hak_free(p);
	defaults = hak_option(OPT_DECAY_MS) == CONFIG_DECAY_MS &&
		   hak_option(OPT_VERBOSE) == 0 && hak_option_str(OPT_TEST_STRING)[0] == '\0';
	if (strcmp(mode, "secure") == 0) {
		if (!secure) {
			fprintf(stderr, "helper: AT_SECURE is 0 in the setgid copy\n");
			return 3;
		}
		return defaults ? 0 : 4;
	}
	if (secure)
		return 5;
	return !defaults && hak_option(OPT_DECAY_MS) == 12345 &&
	       strcmp(hak_option_str(OPT_TEST_STRING), "/tmp/x") == 0 ? 0 : 6;
}

static char dir[] = "/tmp/hakmem-secure-XXXXXX";
static char copy[sizeof(dir) + 16];

/* Copies this program to `copy`, root-owned, with `mode`. */
static void make_copy(mode_t mode)
{
	char buf[65536];
	int in = open("/proc/self/exe", O_RDONLY), out;
	ssize_t n;

	ck_assert_int_ge(in, 0);
	unlink(copy);
	out = open(copy, O_WRONLY | O_CREAT | O_EXCL, 0700);
	ck_assert_int_ge(out, 0);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		ck_assert_int_eq(write(out, buf, (size_t)n), n);
	close(in);
	ck_assert_int_eq(fchown(out, 0, 0), 0);
	ck_assert_int_eq(fchmod(out, mode), 0);
	close(out);
}

/* Runs the copy as nobody with HAKMEM_* set; returns its exit status and
 * its stderr in err. */
static int run_copy(const char *mode, char *err, size_t errlen)
{
	int fds[2], st;
	size_t got = 0;
	ssize_t n;
	pid_t pid;

	ck_assert_int_eq(pipe(fds), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(fds[1], 2);
		close(fds[0]);
		setenv("HAKMEM_DECAY_MS", "12345", 1);
		setenv("HAKMEM_VERBOSE", "1", 1);
		setenv("HAKMEM_TEST_STRING", "/tmp/x", 1);
		setenv("HAKMEM_NO_SUCH_OPTION", "1", 1);
		if (setgroups(0, NULL) || setgid(NOBODY) || setuid(NOBODY))
			_exit(10);
		execl(copy, copy, "--helper", mode, (char *)NULL);
		_exit(11);
	}
	close(fds[1]);
	while (got < errlen - 1 && (n = read(fds[0], err + got, errlen - 1 - got)) > 0)
		got += (size_t)n;
	err[got] = '\0';
	close(fds[0]);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	return st;
}

START_TEST(test_setgid_ignores_options)
{
	struct statvfs vfs;
	char err[4096];
	int st;

	HAK_REQUIRE(!UNDER_SANITIZER,
		    "a sanitizer's runtime does not run in a setgid program (LeakSanitizer dies)");
	HAK_REQUIRE(getenv("TEST_EMULATED") == NULL,
		    "under qemu-user the setgid bit of the copy does not apply to qemu");
	HAK_REQUIRE(geteuid() == 0, "needs root to make a setgid-root file and run it as nobody");
	HAK_REQUIRE(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 0,
		    "no_new_privs is set: exec grants no setgid");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(chmod(dir, 0755), 0);
	snprintf(copy, sizeof(copy), "%s/helper", dir);
	ck_assert_int_eq(statvfs(dir, &vfs), 0);
	if (vfs.f_flag & ST_NOSUID) {
		rmdir(dir);
		HAK_REQUIRE(0, "/tmp is mounted nosuid: exec grants no setgid");
	}

	/* Without the setgid bit the values apply: the check can fail. */
	make_copy(0755);
	st = run_copy("plain", err, sizeof(err));
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		      "plain copy: status %#x, stderr: %.600s", st, err);

	make_copy(02755);
	st = run_copy("secure", err, sizeof(err));
	unlink(copy);
	rmdir(dir);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		      "setgid copy: status %#x, stderr: %.600s", st, err);
	ck_assert_msg(strstr(err, "hakmem:") == NULL, "setgid copy reported: %s", err);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("secure");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_setgid_ignores_options);
	suite_add_tcase(s, tc);
	return s;
}

int main(int argc, char **argv)
{
	SRunner *sr;
	int failed;

	if (argc == 3 && strcmp(argv[1], "--helper") == 0)
		return helper(argv[2]);
	sr = srunner_create(make_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
