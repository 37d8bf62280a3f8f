/* SPDX-License-Identifier: MIT */
/*
 * Shared scaffolding for hakmem's Check tests.
 *
 * Each tests/test-*.c file is one test program: it builds a Suite and ends
 * with HAK_TEST_MAIN(make_suite).  Tests fork (Check's default), so a test
 * that aborts is reported as an error without killing the others.
 *
 * A test that needs a config option declares it with HAK_REQUIRE: when the
 * option is off the test prints "SKIP <test>: <reason>" and passes.
 */
#ifndef HAKMEM_TEST_HARNESS_H
#define HAKMEM_TEST_HARNESS_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <hakmem.h>
#include <hakmem/kconfig.h>

#define HAK_REQUIRE(cond, reason)                                              \
	do {                                                                   \
		if (!(cond)) {                                                 \
			printf("SKIP %s: %s\n", __func__, (reason));           \
			fflush(stdout);                                        \
			return;                                                \
		}                                                              \
	} while (0)

#define HAK_TEST_MAIN(make_suite)                                              \
	int main(void)                                                         \
	{                                                                      \
		SRunner *sr = srunner_create(make_suite());                    \
		int failed;                                                    \
		srunner_run_all(sr, CK_NORMAL);                                \
		failed = srunner_ntests_failed(sr);                            \
		srunner_free(sr);                                              \
		return failed ? EXIT_FAILURE : EXIT_SUCCESS;                   \
	}

#endif
