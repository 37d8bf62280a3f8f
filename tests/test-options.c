/* SPDX-License-Identifier: MIT */
/*
 * White-box tests of the run-time options (mm/options.c): options_init()
 * reads HAKMEM_* from the environment into option_values[], reports a
 * malformed or unknown entry with one "hakmem:" line on stderr and keeps
 * the default.  Each test runs in Check's forked child, so changing the
 * environment and the table here does not leak into other tests.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <mm/options.h>
#include "harness.h"

extern char **environ;

static const uint64_t defaults[OPT_COUNT] = {
#define OPT_DEF(id, env, def, lo, hi, desc) [OPT_##id] = (def),
	HAK_OPTIONS(OPT_DEF)
#undef OPT_DEF
};

static char captured[4096];

/* Removes every HAKMEM_* variable and resets the table to the defaults. */
static void reset(void)
{
	int again = 1;

	while (again) {
		char **e;

		again = 0;
		for (e = environ; e && *e; e++) {
			if (strncmp(*e, "HAKMEM_", 7) == 0) {
				char name[256];
				const char *eq = strchr(*e, '=');
				size_t len = eq ? (size_t)(eq - *e) : strlen(*e);

				if (len >= sizeof(name))
					len = sizeof(name) - 1;
				memcpy(name, *e, len);
				name[len] = '\0';
				unsetenv(name);
				again = 1;
				break;
			}
		}
	}
	memcpy(option_values, defaults, sizeof(defaults));
}

/* Runs options_init() with fd 2 sent to a file; returns the "hakmem:" lines. */
static int run_init(void)
{
	FILE *f = tmpfile();
	int saved, lines = 0;
	size_t n;
	char *p;

	ck_assert(f != NULL);
	fflush(stderr);
	saved = dup(2);
	ck_assert_int_ge(saved, 0);
	ck_assert_int_eq(dup2(fileno(f), 2), 2);
	options_init();
	dup2(saved, 2);
	close(saved);
	rewind(f);
	n = fread(captured, 1, sizeof(captured) - 1, f);
	captured[n] = '\0';
	fclose(f);
	for (p = captured; *p; ) {
		char *nl = strchr(p, '\n');

		if (strncmp(p, "hakmem:", 7) == 0)
			lines++;
		else
			ck_abort_msg("unexpected stderr output: %s", p);
		if (!nl)
			ck_abort_msg("stderr line without a newline: %s", p);
		p = nl + 1;
	}
	return lines;
}

START_TEST(test_defaults)
{
	reset();
	ck_assert_int_eq(run_init(), 0);
	ck_assert(memcmp(option_values, defaults, sizeof(defaults)) == 0);
	ck_assert_uint_eq(option_values[OPT_DECAY_MS], CONFIG_DECAY_MS);
	ck_assert_uint_eq(hak_option(OPT_STATS), 0);
}
END_TEST

START_TEST(test_decay_ms)
{
	reset();
	setenv("HAKMEM_DECAY_MS", "250", 1);
	ck_assert_int_eq(run_init(), 0);
	ck_assert_uint_eq(option_values[OPT_DECAY_MS], 250);
	ck_assert_uint_eq(hak_option(OPT_DECAY_MS), 250);
	/* Nothing else changed. */
	option_values[OPT_DECAY_MS] = defaults[OPT_DECAY_MS];
	ck_assert(memcmp(option_values, defaults, sizeof(defaults)) == 0);
}
END_TEST

START_TEST(test_several)
{
	reset();
	setenv("HAKMEM_STATS", "1", 1);
	setenv("HAKMEM_VERBOSE", "1", 1);
	setenv("HAKMEM_SS_LRU", "3", 1);
	setenv("HAKMEM_HEAP_RESERVE", "0", 1);
	ck_assert_int_eq(run_init(), 0);
	ck_assert_uint_eq(option_values[OPT_STATS], 1);
	ck_assert_uint_eq(option_values[OPT_VERBOSE], 1);
	ck_assert_uint_eq(option_values[OPT_SS_LRU_CAPACITY], 3);
	ck_assert_uint_eq(option_values[OPT_HEAP_RESERVE], 0);
	option_values[OPT_STATS] = 0;   /* no statistics at this child's exit */
}
END_TEST

static void expect_malformed(const char *name, enum option_id id, const char *value)
{
	char want[256];

	reset();
	setenv(name, value, 1);
	ck_assert_msg(run_init() == 1, "%s=%s: want one report, got: %s", name, value,
		      captured);
	ck_assert_msg(option_values[id] == defaults[id], "%s=%s: value %llu kept", name,
		      value, (unsigned long long)option_values[id]);
	snprintf(want, sizeof(want), "%s=%s", name, value);
	ck_assert_msg(strstr(captured, want) != NULL, "report lacks \"%s\": %s", want,
		      captured);
}

START_TEST(test_malformed)
{
	expect_malformed("HAKMEM_DECAY_MS", OPT_DECAY_MS, "abc");
	expect_malformed("HAKMEM_DECAY_MS", OPT_DECAY_MS, "99999999999");
	expect_malformed("HAKMEM_DECAY_MS", OPT_DECAY_MS, "-1");
	expect_malformed("HAKMEM_DECAY_MS", OPT_DECAY_MS, "");
	expect_malformed("HAKMEM_DECAY_MS", OPT_DECAY_MS, "12 ");
	expect_malformed("HAKMEM_DECAY_MS", OPT_DECAY_MS, "3600001");
	expect_malformed("HAKMEM_DECAY_MS", OPT_DECAY_MS, "4g");
	expect_malformed("HAKMEM_DECAY_MS", OPT_DECAY_MS, "99999999999999999999999");
	expect_malformed("HAKMEM_STATS", OPT_STATS, "2");
	expect_malformed("HAKMEM_STATS", OPT_STATS, "yes");
	expect_malformed("HAKMEM_SS_LRU", OPT_SS_LRU_CAPACITY, "1025");
	expect_malformed("HAKMEM_HEAP_RESERVE", OPT_HEAP_RESERVE, "1k");
}
END_TEST

START_TEST(test_bounds_inclusive)
{
	reset();
	setenv("HAKMEM_DECAY_MS", "3600000", 1);
	setenv("HAKMEM_SS_LRU", "1024", 1);
	setenv("HAKMEM_HEAP_RESERVE", "256", 1);
	ck_assert_int_eq(run_init(), 0);
	ck_assert_uint_eq(option_values[OPT_DECAY_MS], 3600000);
	ck_assert_uint_eq(option_values[OPT_SS_LRU_CAPACITY], 1024);
	ck_assert_uint_eq(option_values[OPT_HEAP_RESERVE], 256);

	reset();
	setenv("HAKMEM_DECAY_MS", "0", 1);
	ck_assert_int_eq(run_init(), 0);
	ck_assert_uint_eq(option_values[OPT_DECAY_MS], 0);
}
END_TEST

START_TEST(test_suffixes)
{
	reset();
	setenv("HAKMEM_BIGCACHE_MB", "64k", 1);
	setenv("HAKMEM_DECAY_MS", "2k", 1);
	setenv("HAKMEM_THP_MB", "1K", 1);
	ck_assert_int_eq(run_init(), 0);
	ck_assert_uint_eq(option_values[OPT_BIGCACHE_MB], 65536);
	ck_assert_uint_eq(option_values[OPT_DECAY_MS], 2048);
	ck_assert_uint_eq(option_values[OPT_THP_MB], 1024);

	reset();
	setenv("HAKMEM_BIGCACHE_MB", "1m", 1);    /* 1048576: the maximum */
	ck_assert_int_eq(run_init(), 0);
	ck_assert_uint_eq(option_values[OPT_BIGCACHE_MB], 1048576);

	expect_malformed("HAKMEM_BIGCACHE_MB", OPT_BIGCACHE_MB, "2m");
	expect_malformed("HAKMEM_BIGCACHE_MB", OPT_BIGCACHE_MB, "1g");
}
END_TEST

START_TEST(test_unknown)
{
	reset();
	setenv("HAKMEM_FOO", "1", 1);
	ck_assert_int_eq(run_init(), 1);
	ck_assert_msg(strstr(captured, "HAKMEM_FOO") != NULL, "got: %s", captured);
	ck_assert(memcmp(option_values, defaults, sizeof(defaults)) == 0);

	/* A known name with extra characters is unknown, not a match. */
	reset();
	setenv("HAKMEM_DECAY_MSX", "5", 1);
	setenv("HAKMEM_DECAY", "5", 1);
	ck_assert_int_eq(run_init(), 2);
	ck_assert_uint_eq(option_values[OPT_DECAY_MS], defaults[OPT_DECAY_MS]);

	/* Not our prefix: silently ignored. */
	reset();
	setenv("HAKMEMX", "1", 1);
	setenv("XHAKMEM_STATS", "1", 1);
	ck_assert_int_eq(run_init(), 0);
	ck_assert_uint_eq(option_values[OPT_STATS], 0);
	unsetenv("HAKMEMX");
	unsetenv("XHAKMEM_STATS");

	/* Good and bad together: each bad one reported once, good ones kept. */
	reset();
	setenv("HAKMEM_FOO", "1", 1);
	setenv("HAKMEM_DECAY_MS", "abc", 1);
	setenv("HAKMEM_SS_LRU", "5", 1);
	ck_assert_int_eq(run_init(), 2);
	ck_assert_uint_eq(option_values[OPT_SS_LRU_CAPACITY], 5);
	ck_assert_uint_eq(option_values[OPT_DECAY_MS], defaults[OPT_DECAY_MS]);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("options");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_decay_ms);
	tcase_add_test(tc, test_several);
	tcase_add_test(tc, test_malformed);
	tcase_add_test(tc, test_bounds_inclusive);
	tcase_add_test(tc, test_suffixes);
	tcase_add_test(tc, test_unknown);
	suite_add_tcase(s, tc);
	return s;
}

HAK_TEST_MAIN(make_suite)
