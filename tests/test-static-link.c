/* SPDX-License-Identifier: MIT */
/*
 * Linking libhakmem.a with CONFIG_OVERRIDE: this program references every
 * standard and glibc-internal allocation name (malloc ... __libc_malloc ...
 * __posix_memalign) strongly, so in a fully static link (-static) a name
 * hakmem lacks pulls glibc's malloc.o in and fails the link with duplicate
 * symbols.  At run time it checks that each name, and libc's own internal
 * callers (strdup, asprintf, getline, open_memstream), are served by
 * hakmem: hak_malloc_usable_size() of a foreign pointer is 0, of ours >=
 * the size.  Blocks cross freely between the standard and hak_ names.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include "harness.h"
#include "testutil.h"

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
extern void *__libc_memalign(size_t, size_t);
extern void *__libc_valloc(size_t);
extern void *__libc_pvalloc(size_t);
extern int __posix_memalign(void **, size_t, size_t);
/* C23 names, absent from older glibc: weak, checked only when present */
extern void free_sized(void *, size_t) __attribute__((weak));
extern void free_aligned_sized(void *, size_t, size_t) __attribute__((weak));
/* gone from glibc's headers and from new links since 2.26 */
extern void cfree(void *) __attribute__((weak));

static void ours(const char *what, void *p, size_t n)
{
	ck_assert_msg(p != NULL, "%s(%zu) returned NULL", what, n);
	size_t us = hak_malloc_usable_size(p);
	ck_assert_msg(us >= n && us > 0,
		      "%s(%zu) = %p is not a hakmem block (usable size %zu)",
		      what, n, p, us);
	memset(p, 0x3c, n);
}

START_TEST(test_standard_names)
{
	HAK_REQUIRE(IS_ENABLED(CONFIG_OVERRIDE), "needs CONFIG_OVERRIDE");
	void *p;

	p = malloc(100);
	ours("malloc", p, 100);
	hak_free(p);
	p = calloc(10, 10);
	ours("calloc", p, 100);
	p = realloc(p, 5000);
	ours("realloc", p, 5000);
	free(p);
	p = reallocarray(NULL, 3, 1000);
	ours("reallocarray", p, 3000);
	free(p);
	ck_assert(posix_memalign(&p, 4096, 100) == 0);
	ours("posix_memalign", p, 100);
	free(p);
	p = aligned_alloc(64, 128);
	ours("aligned_alloc", p, 128);
	free(p);
	p = memalign(256, 1000);
	ours("memalign", p, 1000);
	free(p);
	p = valloc(10);
	ours("valloc", p, 10);
	free(p);
	p = pvalloc(10);
	ours("pvalloc", p, 10);
	if (cfree)
		cfree(p);
	else
		free(p);
	p = hak_malloc(3 << 20);
	ck_assert_uint_ge(malloc_usable_size(p), 3 << 20);
	free(p);
	ck_assert_uint_eq(malloc_usable_size(NULL), 0);
	if (free_sized) {
		p = malloc(50);
		ours("malloc", p, 50);
		free_sized(p, 50);
	}
	if (free_aligned_sized) {
		p = aligned_alloc(128, 256);
		ours("aligned_alloc", p, 256);
		free_aligned_sized(p, 128, 256);
	}
	int r = malloc_trim(0);
	ck_assert(r == 0 || r == 1);
	struct mallinfo2 mi = mallinfo2();
	(void)mi;
}
END_TEST

START_TEST(test_libc_internal_names)
{
	HAK_REQUIRE(IS_ENABLED(CONFIG_OVERRIDE), "needs CONFIG_OVERRIDE");
	void *p;

	p = __libc_malloc(200);
	ours("__libc_malloc", p, 200);
	p = __libc_realloc(p, 70000);
	ours("__libc_realloc", p, 70000);
	__libc_free(p);
	p = __libc_calloc(4, 50);
	ours("__libc_calloc", p, 200);
	hak_free(p);
	p = __libc_memalign(1024, 10);
	ours("__libc_memalign", p, 10);
	ck_assert(((uintptr_t)p & 1023) == 0);
	free(p);
	p = __libc_valloc(10);
	ours("__libc_valloc", p, 10);
	free(p);
	p = __libc_pvalloc(10);
	ours("__libc_pvalloc", p, 10);
	free(p);
	ck_assert(__posix_memalign(&p, 64, 10) == 0);
	ours("__posix_memalign", p, 10);
	free(p);
}
END_TEST

/* libc's own callers of malloc are linked to hakmem's too */
START_TEST(test_libc_callers)
{
	HAK_REQUIRE(IS_ENABLED(CONFIG_OVERRIDE), "needs CONFIG_OVERRIDE");

	char *s = strdup("hello, hakmem");
	ours("strdup", s, 14);
	hak_free(s);

	char *a = NULL;
	ck_assert(asprintf(&a, "%0500d", 7) == 500);
	ours("asprintf", a, 501);
	hak_free(a);

	/* getline grows a buffer we allocated */
	int fd[2];
	ck_assert(pipe(fd) == 0);
	FILE *w = fdopen(fd[1], "w"), *rd = fdopen(fd[0], "r");
	ck_assert(w && rd);
	for (int i = 0; i < 3000; i++)
		fputc('x', w);
	fputc('\n', w);
	fclose(w);
	size_t cap = 8;
	char *line = hak_malloc(cap);
	ck_assert(getline(&line, &cap, rd) == 3001);
	ours("getline", line, 3001);
	free(line);
	fclose(rd);

	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	ck_assert(m != NULL);
	for (int i = 0; i < 10000; i++)
		fprintf(m, "%d,", i);
	fclose(m);
	ours("open_memstream", buf, len);
	hak_free(buf);
}
END_TEST

static Suite *make_suite(void)
{
	TCase *tc;
	Suite *s = one_tcase_suite("static-link", "static-link", 0, &tc);

	tcase_add_test(tc, test_standard_names);
	tcase_add_test(tc, test_libc_internal_names);
	tcase_add_test(tc, test_libc_callers);
	return s;
}

HAK_TEST_MAIN(make_suite)
