/* SPDX-License-Identifier: MIT */
/*
 * The statistics API: per-class counters (allocations, frees, remote
 * frees, live blocks, spans), peaks and their reset, hak_ctl's names,
 * types and errors, the listing, hak_stats_print's two forms, malloc_info's
 * per-class XML, and the identity (hak_version, hak_config).  What the
 * options do at exit (HAKMEM_STATS=json, HAKMEM_STATS_FILE) is checked by
 * scripts/stats-check.sh on real programs.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "testutil.h"

static uint64_t ctl_u64(const char *name)
{
	uint64_t v = UINT64_MAX;
	size_t len = sizeof(v);
	int r = hak_ctl(name, &v, &len, NULL, 0);

	ck_assert_msg(r == 0, "hak_ctl(%s) = %d", name, r);
	return v;
}

static uint64_t class_stat(unsigned int cls, const char *row)
{
	char name[64];

	snprintf(name, sizeof(name), "stats.class.%u.%s", cls, row);
	return ctl_u64(name);
}

/* The class that serves n bytes: the first whose size holds n. */
static unsigned int class_of(size_t n)
{
	unsigned int i, count = (unsigned int)ctl_u64("stats.classes");

	for (i = 0; i < count; i++)
		if (class_stat(i, "size") >= n)
			return i;
	ck_abort_msg("no class holds %zu bytes", n);
	return 0;
}

#define NBLK 3000
static void *blocks[NBLK];

static void *free_second_half(void *arg)
{
	unsigned int i;

	(void)arg;
	for (i = NBLK / 2; i < NBLK; i++)
		hak_free(blocks[i]);
	return NULL;
}

START_TEST(test_class_counters)
{
	const size_t size = 200;
	unsigned int cls, i;
	uint64_t allocs, frees, remote, live, total_remote;

	HAK_REQUIRE(IS_ENABLED(CONFIG_STATS), "needs CONFIG_STATS");
	/* Without thread heaps every free is remote (the shared heap's). */
	HAK_REQUIRE(IS_ENABLED(CONFIG_TINY) && IS_ENABLED(CONFIG_POOL), "needs the heap tiers");
	cls = class_of(size);
	allocs = class_stat(cls, "allocs");
	frees = class_stat(cls, "frees");
	remote = class_stat(cls, "remote_frees");
	live = class_stat(cls, "live");
	total_remote = ctl_u64("stats.remote_frees");
	for (i = 0; i < NBLK; i++) {
		blocks[i] = hak_malloc(size);
		ck_assert(blocks[i]);
		memset(blocks[i], 0x5a, size);
	}
	ck_assert_uint_eq(class_stat(cls, "allocs"), allocs + NBLK);
	ck_assert_uint_eq(class_stat(cls, "live"), live + NBLK);
	ck_assert_uint_ge(class_stat(cls, "spans"), 1);
	ck_assert_uint_ge(class_stat(cls, "live_bytes"), (live + NBLK) * class_stat(cls, "size"));
	ck_assert_uint_ge(class_stat(cls, "bytes"), class_stat(cls, "live_bytes"));
	run_thread(free_second_half, NULL);
	ck_assert_uint_eq(class_stat(cls, "remote_frees"), remote + NBLK / 2);
	ck_assert_uint_eq(ctl_u64("stats.remote_frees"), total_remote + NBLK / 2);
	ck_assert_uint_eq(class_stat(cls, "live"), live + NBLK / 2);
	for (i = 0; i < NBLK / 2; i++)
		hak_free(blocks[i]);
	ck_assert_uint_eq(class_stat(cls, "frees"), frees + NBLK);
	ck_assert_uint_eq(class_stat(cls, "live"), live);
	ck_assert_uint_eq(class_stat(cls, "allocs"), allocs + NBLK);
}
END_TEST

/* The totals are the classes' sums and the large tier's. */
START_TEST(test_totals)
{
	uint64_t allocs, big_allocs, sum = 0;
	size_t len = sizeof(allocs);
	unsigned int i, count;
	void *big;

	HAK_REQUIRE(IS_ENABLED(CONFIG_STATS), "needs CONFIG_STATS");
	big_allocs = ctl_u64("stats.big_allocs");
	big = hak_malloc(4 * MiB);
	ck_assert(big);
	ck_assert_uint_eq(ctl_u64("stats.big_allocs"), big_allocs + 1);
	ck_assert_uint_ge(ctl_u64("stats.live_bytes"), 4 * MiB);
	count = (unsigned int)ctl_u64("stats.classes");
	/* No Check assertion in between: they allocate. */
	hak_ctl("stats.allocs", &allocs, &len, NULL, 0);
	hak_ctl("stats.big_allocs", &big_allocs, &len, NULL, 0);
	for (i = 0; i < count; i++) {
		char name[64];
		uint64_t v = 0;

		snprintf(name, sizeof(name), "stats.class.%u.allocs", i);
		hak_ctl(name, &v, &len, NULL, 0);
		sum += v;
	}
	ck_assert_uint_eq(allocs, sum + big_allocs);
	hak_free(big);
	ck_assert_uint_eq(ctl_u64("stats.big_frees"), ctl_u64("stats.big_allocs") -
			  ctl_u64("stats.big_in_use"));
}
END_TEST

START_TEST(test_peaks)
{
	uint64_t mapped, peak;
	void *big;

	peak = ctl_u64("stats.peak.bytes_mapped");
	mapped = ctl_u64("stats.bytes_mapped");
	ck_assert_uint_ge(peak, mapped);
	big = hak_malloc(64 * MiB);
	ck_assert(big);
	ck_assert_uint_ge(ctl_u64("stats.peak.bytes_mapped"), mapped + 64 * MiB);
	ck_assert_uint_ge(ctl_u64("stats.peak.big_bytes"), 64 * MiB);
	hak_free(big);
	hak_malloc_trim(0);   /* BigCache empties: the mapping goes */
	ck_assert_uint_ge(ctl_u64("stats.peak.bytes_mapped"), mapped + 64 * MiB);
	ck_assert_uint_lt(ctl_u64("stats.bytes_mapped"), mapped + 64 * MiB);
	/* The reset brings every peak down to the present value. */
	ck_assert_int_eq(hak_ctl("stats.peak.reset", NULL, NULL, NULL, 0), 0);
	ck_assert_uint_lt(ctl_u64("stats.peak.bytes_mapped"), mapped + 64 * MiB);
	ck_assert_uint_ge(ctl_u64("stats.peak.bytes_mapped"), ctl_u64("stats.bytes_mapped"));
	ck_assert_uint_ge(ctl_u64("stats.peak.resident_estimate"),
			  ctl_u64("stats.resident_estimate"));
}
END_TEST

START_TEST(test_ctl_errors)
{
	uint64_t v = 0, old;
	uint32_t small;
	size_t len = sizeof(v), slen = sizeof(small);
	const char *s = NULL;
	size_t plen = sizeof(s);

	ck_assert_int_eq(hak_ctl("stats.no_such_row", &v, &len, NULL, 0), ENOENT);
	ck_assert_int_eq(hak_ctl("stats.class.99999.allocs", &v, &len, NULL, 0), ENOENT);
	ck_assert_int_eq(hak_ctl(NULL, &v, &len, NULL, 0), EINVAL);
	ck_assert_int_eq(hak_ctl("stats.allocs", &small, &slen, NULL, 0), EINVAL);
	ck_assert_int_eq(hak_ctl("stats.allocs", &v, NULL, NULL, 0), EINVAL);
	ck_assert_int_eq(hak_ctl("stats.allocs", NULL, NULL, &v, sizeof(v)), EPERM);
	ck_assert_int_eq(hak_ctl("opt.heap_reserve", NULL, NULL, &v, sizeof(v)), EPERM);
	ck_assert_int_eq(hak_ctl("version", &v, &len, NULL, 0), 0);   /* 8 == sizeof(char *) */
	ck_assert_int_eq(hak_ctl("version", &s, &plen, NULL, 0), 0);
	ck_assert_str_eq(s, HAKMEM_VERSION);
	ck_assert_int_eq(hak_ctl("stats.peak.reset", &v, &len, NULL, 0), EINVAL);
	/* opt.decay_ms: read, write within bounds, refuse outside them. */
	old = ctl_u64("opt.decay_ms");
	v = 1234;
	ck_assert_int_eq(hak_ctl("opt.decay_ms", NULL, NULL, &v, sizeof(v)), 0);
	ck_assert_uint_eq(ctl_u64("opt.decay_ms"), 1234);
	v = 3600001;
	ck_assert_int_eq(hak_ctl("opt.decay_ms", NULL, NULL, &v, sizeof(v)), EINVAL);
	ck_assert_int_eq(hak_ctl("opt.decay_ms", NULL, NULL, &small, sizeof(small)), EINVAL);
	ck_assert_uint_eq(ctl_u64("opt.decay_ms"), 1234);
	/* Old value and new one in one call. */
	v = old;
	len = sizeof(old);
	ck_assert_int_eq(hak_ctl("opt.decay_ms", &old, &len, &v, sizeof(v)), 0);
	ck_assert_uint_eq(old, 1234);
	ck_assert_uint_eq(ctl_u64("opt.decay_ms"), v);
}
END_TEST

/* Every listed name reads, as a number or as a string. */
START_TEST(test_ctl_list)
{
	size_t n = hak_ctl_list(NULL, 0), m, names = 0;
	char *buf = malloc(n + 1), *line, *save = NULL;
	char small[24];

	ck_assert(buf);
	ck_assert_uint_eq(hak_ctl_list(buf, n + 1), n);
	ck_assert_uint_eq(strlen(buf), n);
	ck_assert(strstr(buf, "\nstats.class.0.allocs\n"));
	ck_assert(strstr(buf, "\nstats.peak.bytes_mapped\n"));
	ck_assert(strstr(buf, "\nopt.decay_ms\n"));
	ck_assert(strstr(buf, "\nstats.resident_estimate\n"));
	if (IS_ENABLED(CONFIG_LOCK_STATS)) {
		ck_assert(strstr(buf, "\nstats.lock.bigcache.wait_cycles\n") ||
			  !IS_ENABLED(CONFIG_BIGCACHE));
		ck_assert(strstr(buf, "\nstats.lock.heap-notify.contended\n"));
	}
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		uint64_t v;
		size_t len = sizeof(v);
		int r = hak_ctl(line, &v, &len, NULL, 0);

		names++;
		ck_assert_msg(r == 0 || (r == EINVAL && !strcmp(line, "stats.peak.reset")),
			      "%s: %d", line, r);
	}
	ck_assert_uint_gt(names, 100);
	/* A short buffer holds whole names only, and the length is the whole. */
	m = hak_ctl_list(small, sizeof(small));
	ck_assert_uint_eq(m, n);
	ck_assert_str_eq(small, "version\nconfig\n");
	free(buf);
}
END_TEST

static char *print_to_string(const char *opts, int *ret)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ck_assert(f);
	*ret = hak_stats_print(f, opts);
	fclose(f);
	return buf;
}

START_TEST(test_stats_print)
{
	void *p = hak_malloc(100);
	char *text, *json;
	int r, depth = 0;
	const char *c;

	text = print_to_string(NULL, &r);
	ck_assert_int_eq(r, 0);
	ck_assert(strstr(text, "hakmem: version " HAKMEM_VERSION "\n"));
	ck_assert(strstr(text, "hakmem: stat bytes_mapped "));
	ck_assert(strstr(text, "hakmem: stat allocs "));
	ck_assert(strstr(text, "hakmem: class "));
	ck_assert(strstr(text, "hakmem: policy "));
	free(text);
	json = print_to_string("json", &r);
	ck_assert_int_eq(r, 0);
	ck_assert(json[0] == '{');
	ck_assert(strstr(json, "\"stats\": {"));
	ck_assert(strstr(json, "\"classes\": ["));
	ck_assert(strstr(json, "\"peak\": {"));
	/* Balanced outside strings (the full parse is in stats-check.sh). */
	for (c = json; *c; c++) {
		if (*c == '"') {
			for (c++; *c && *c != '"'; c++)
				if (*c == '\\')
					c++;
			continue;
		}
		depth += (*c == '{' || *c == '[') - (*c == '}' || *c == ']');
		ck_assert_int_ge(depth, 0);
	}
	ck_assert_int_eq(depth, 0);
	free(json);
	errno = 0;
	ck_assert_int_eq(hak_stats_print(stdout, "xml"), -1);
	ck_assert_int_eq(errno, EINVAL);
	hak_free(p);
}
END_TEST

START_TEST(test_malloc_info_classes)
{
	char *buf = NULL, want[96];
	size_t len = 0;
	void *p = hak_malloc(700);
	FILE *f = open_memstream(&buf, &len);
	unsigned int cls = class_of(700);

	ck_assert(f && p);
	ck_assert_int_eq(hak_malloc_info(0, f), 0);
	fclose(f);
	ck_assert(strstr(buf, "<malloc version=\"1\">\n<heap nr=\"0\">\n<sizes>\n"));
	snprintf(want, sizeof(want), " to=\"%llu\" total=\"",
		 (unsigned long long)class_stat(cls, "size"));
	ck_assert_msg(strstr(buf, want), "no <size ... %s in %s", want, buf);
	ck_assert(strstr(buf, "<total type=\"mmap\" count=\""));
	ck_assert(strstr(buf, "<system type=\"max\" size=\""));
	ck_assert(strstr(buf, "</malloc>\n"));
	free(buf);
	hak_free(p);
}
END_TEST

START_TEST(test_identity)
{
	ck_assert_str_eq(hak_version(), HAKMEM_VERSION);
	ck_assert_int_eq(HAKMEM_VERSION_NUMBER, HAKMEM_VERSION_MAJOR * 10000 +
			 HAKMEM_VERSION_MINOR * 100 + HAKMEM_VERSION_PATCH);
	ck_assert(!strncmp(hak_config(), "ARCH=", 5));
	/* Options that differ from their defaults are named, one way or the other. */
	if (!IS_ENABLED(CONFIG_STATS))
		ck_assert(strstr(hak_config(), "CONFIG_STATS=n"));
	if (IS_ENABLED(CONFIG_DEBUG_TRACE))
		ck_assert(strstr(hak_config(), "CONFIG_DEBUG_TRACE=y"));
	if (IS_ENABLED(CONFIG_FREELIST_HARDENED))
		ck_assert(strstr(hak_config(), "CONFIG_FREELIST_HARDENED=y"));
}
END_TEST

static Suite *make_suite(void)
{
	TCase *tc;
	Suite *s = one_tcase_suite("stats", "api", 60, &tc);

	tcase_add_test(tc, test_class_counters);
	tcase_add_test(tc, test_totals);
	tcase_add_test(tc, test_peaks);
	tcase_add_test(tc, test_ctl_errors);
	tcase_add_test(tc, test_ctl_list);
	tcase_add_test(tc, test_stats_print);
	tcase_add_test(tc, test_malloc_info_classes);
	tcase_add_test(tc, test_identity);
	return s;
}

HAK_TEST_MAIN(make_suite)
