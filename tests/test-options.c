/* SPDX-License-Identifier: MIT */
/*
 * White-box tests of the run-time options (mm/options.c): options_init()
 * reads HAKMEM_* from the environment into option_values[], reports a
 * malformed or unknown entry with one "hakmem:" line on stderr and keeps
 * the default.  Each test runs in Check's forked child, so changing the
 * environment and the table here does not leak into other tests.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <mm/options.h>
#include "harness.h"
#include "testutil.h"

extern char **environ;

#define OPT_DEF_NUM(def) { .num = (def) }
#define OPT_DEF_STR(def) { .str = (def) }
static const union option_value defaults[OPT_COUNT] = {
#define OPT_DEF(id, env, type, def, lo, hi, desc) [OPT_##id] = OPT_DEF_##type(def),
	HAK_OPTIONS(OPT_DEF)
#undef OPT_DEF
};
static const enum option_type types[OPT_COUNT] = {
#define OPT_TYPE(id, env, type, def, lo, hi, desc) [OPT_##id] = OPT_TYPE_##type,
	HAK_OPTIONS(OPT_TYPE)
#undef OPT_TYPE
};

/* Whether every option has its default value. */
static int all_defaults(void)
{
	unsigned int i;

	for (i = 0; i < OPT_COUNT; i++)
		if (types[i] == OPT_TYPE_STR ? strcmp(option_values[i].str, defaults[i].str)
		    : option_values[i].num != defaults[i].num)
			return 0;
	return 1;
}

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

/*
 * reset(), then sets the NULL-terminated name, value pairs and runs
 * options_init(); returns its "hakmem:" lines.
 */
static int init_with(const char *name, ...)
{
	va_list ap;

	reset();
	va_start(ap, name);
	for (; name; name = va_arg(ap, const char *))
		setenv(name, va_arg(ap, const char *), 1);
	va_end(ap);
	return run_init();
}

/* name=value alone is accepted silently and sets option id to want. */
static void expect_value(const char *name, enum option_id id, const char *value,
			 uint64_t want)
{
	ck_assert_msg(init_with(name, value, NULL) == 0, "%s=%s: reported: %s", name,
		      value, captured);
	ck_assert_msg(option_values[id].num == want, "%s=%s: value %llu, want %llu", name, value,
		      (unsigned long long)option_values[id].num, (unsigned long long)want);
}

/* name=value alone is reported once and option id keeps its default. */
static void expect_malformed(const char *name, enum option_id id, const char *value)
{
	char want[256];

	ck_assert_msg(init_with(name, value, NULL) == 1, "%s=%s: want one report, got: %s",
		      name, value, captured);
	ck_assert_msg(option_values[id].num == defaults[id].num, "%s=%s: value %llu kept", name,
		      value, (unsigned long long)option_values[id].num);
	snprintf(want, sizeof(want), "%s=%s", name, value);
	ck_assert_msg(strstr(captured, want) != NULL, "report lacks \"%s\": %s", want,
		      captured);
}

START_TEST(test_defaults)
{
	ck_assert_int_eq(init_with(NULL), 0);
	ck_assert(all_defaults());
	ck_assert_uint_eq(option_values[OPT_DECAY_MS].num, CONFIG_DECAY_MS);
	ck_assert_uint_eq(hak_option(OPT_STATS), 0);
}
END_TEST

START_TEST(test_decay_ms)
{
	expect_value("HAKMEM_DECAY_MS", OPT_DECAY_MS, "250", 250);
	ck_assert_uint_eq(hak_option(OPT_DECAY_MS), 250);
	/* Nothing else changed. */
	option_values[OPT_DECAY_MS].num = defaults[OPT_DECAY_MS].num;
	ck_assert(all_defaults());
}
END_TEST

START_TEST(test_several)
{
	ck_assert_int_eq(init_with("HAKMEM_STATS", "1", "HAKMEM_VERBOSE", "1", "HAKMEM_SS_LRU", "3",
				   "HAKMEM_HEAP_RESERVE", "0", NULL), 0);
	ck_assert_uint_eq(option_values[OPT_STATS].num, 1);
	ck_assert_uint_eq(option_values[OPT_VERBOSE].num, 1);
	ck_assert_uint_eq(option_values[OPT_SS_LRU_CAPACITY].num, 3);
	ck_assert_uint_eq(option_values[OPT_HEAP_RESERVE].num, 0);
	option_values[OPT_STATS].num = 0;   /* no statistics at this child's exit */
}
END_TEST

START_TEST(test_malformed)
{
	static const char *const decay[] = { "abc", "99999999999", "-1", "", "12 ", "3600001",
					     "4g", "99999999999999999999999" };
	unsigned int i;

	for (i = 0; i < sizeof(decay) / sizeof(decay[0]); i++)
		expect_malformed("HAKMEM_DECAY_MS", OPT_DECAY_MS, decay[i]);
	expect_malformed("HAKMEM_STATS", OPT_STATS, "2");
	expect_malformed("HAKMEM_STATS", OPT_STATS, "yes");
	expect_malformed("HAKMEM_SS_LRU", OPT_SS_LRU_CAPACITY, "1025");
	expect_malformed("HAKMEM_HEAP_RESERVE", OPT_HEAP_RESERVE, "1k");
}
END_TEST

START_TEST(test_bounds_inclusive)
{
	ck_assert_int_eq(init_with("HAKMEM_DECAY_MS", "3600000", "HAKMEM_SS_LRU", "1024",
				   "HAKMEM_HEAP_RESERVE", "256", NULL), 0);
	ck_assert_uint_eq(option_values[OPT_DECAY_MS].num, 3600000);
	ck_assert_uint_eq(option_values[OPT_SS_LRU_CAPACITY].num, 1024);
	ck_assert_uint_eq(option_values[OPT_HEAP_RESERVE].num, 256);
	expect_value("HAKMEM_DECAY_MS", OPT_DECAY_MS, "0", 0);
}
END_TEST

START_TEST(test_suffixes)
{
	ck_assert_int_eq(init_with("HAKMEM_BIGCACHE_MB", "64k", "HAKMEM_DECAY_MS", "2k",
				   "HAKMEM_THP_MB", "1K", NULL), 0);
	ck_assert_uint_eq(option_values[OPT_BIGCACHE_MB].num, 65536);
	ck_assert_uint_eq(option_values[OPT_DECAY_MS].num, 2048);
	ck_assert_uint_eq(option_values[OPT_THP_MB].num, 1024);
	expect_value("HAKMEM_BIGCACHE_MB", OPT_BIGCACHE_MB, "1m", 1048576);   /* the maximum */
	expect_malformed("HAKMEM_BIGCACHE_MB", OPT_BIGCACHE_MB, "2m");
	expect_malformed("HAKMEM_BIGCACHE_MB", OPT_BIGCACHE_MB, "1g");
}
END_TEST

START_TEST(test_unknown)
{
	ck_assert_int_eq(init_with("HAKMEM_FOO", "1", NULL), 1);
	ck_assert_msg(strstr(captured, "HAKMEM_FOO") != NULL, "got: %s", captured);
	ck_assert(all_defaults());

	/* A known name with extra characters is unknown, not a match. */
	ck_assert_int_eq(init_with("HAKMEM_DECAY_MSX", "5", "HAKMEM_DECAY", "5", NULL), 2);
	ck_assert_uint_eq(option_values[OPT_DECAY_MS].num, defaults[OPT_DECAY_MS].num);

	/* Not our prefix: silently ignored. */
	ck_assert_int_eq(init_with("HAKMEMX", "1", "XHAKMEM_STATS", "1", NULL), 0);
	ck_assert_uint_eq(option_values[OPT_STATS].num, 0);
	unsetenv("HAKMEMX");
	unsetenv("XHAKMEM_STATS");

	/* Good and bad together: each bad one reported once, good ones kept. */
	ck_assert_int_eq(init_with("HAKMEM_FOO", "1", "HAKMEM_DECAY_MS", "abc", "HAKMEM_SS_LRU",
				   "5", NULL), 2);
	ck_assert_uint_eq(option_values[OPT_SS_LRU_CAPACITY].num, 5);
	ck_assert_uint_eq(option_values[OPT_DECAY_MS].num, defaults[OPT_DECAY_MS].num);
}
END_TEST

/* String options: copied out of the environment, length and characters
 * checked; a malformed one is reported and keeps its default. */
START_TEST(test_string)
{
	char longv[80];
	const char *v;

	ck_assert_int_eq(init_with("HAKMEM_TEST_STRING", "/tmp/hakmem-%p.json", NULL), 0);
	v = hak_option_str(OPT_TEST_STRING);
	ck_assert_str_eq(v, "/tmp/hakmem-%p.json");
	ck_assert_ptr_ne(v, getenv("HAKMEM_TEST_STRING"));   /* a copy */
	setenv("HAKMEM_TEST_STRING", "changed", 1);
	ck_assert_str_eq(v, "/tmp/hakmem-%p.json");

	memset(longv, 'x', 64);
	longv[64] = '\0';
	ck_assert_int_eq(init_with("HAKMEM_TEST_STRING", longv, NULL), 0);   /* the maximum */
	ck_assert_uint_eq(strlen(hak_option_str(OPT_TEST_STRING)), 64);
	longv[64] = 'x';
	longv[65] = '\0';
	ck_assert_int_eq(init_with("HAKMEM_TEST_STRING", longv, NULL), 1);
	ck_assert(all_defaults());
	ck_assert_int_eq(init_with("HAKMEM_TEST_STRING", "a\tb", NULL), 1);
	ck_assert(all_defaults());
	ck_assert_msg(strstr(captured, "malformed") != NULL, "got: %s", captured);
}
END_TEST

static Suite *make_suite(void)
{
	TCase *tc;
	Suite *s = one_tcase_suite("options", "core", 0, &tc);

	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_decay_ms);
	tcase_add_test(tc, test_several);
	tcase_add_test(tc, test_malformed);
	tcase_add_test(tc, test_bounds_inclusive);
	tcase_add_test(tc, test_suffixes);
	tcase_add_test(tc, test_unknown);
	tcase_add_test(tc, test_string);
	return s;
}

HAK_TEST_MAIN(make_suite)
