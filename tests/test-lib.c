/* SPDX-License-Identifier: MIT */
/*
 * White-box tests of lib/: number parsing and bounded formatting (fmt),
 * bit operations (bitops, find_bit_run against a naive search), and the
 * doubly linked list.
 */
#include <stdint.h>
#include <string.h>

#include <lib/bitops.h>
#include <lib/fmt.h>
#include <lib/list.h>
#include "harness.h"

/* ---- fmt_parse_u64 */

static void parse_ok(const char *s, uint64_t want)
{
	uint64_t v = 0xdeadbeef;

	ck_assert_msg(fmt_parse_u64(s, &v) == 0, "\"%s\" rejected", s);
	ck_assert_msg(v == want, "\"%s\" -> %llu, want %llu", s,
		      (unsigned long long)v, (unsigned long long)want);
}

static void parse_bad(const char *s)
{
	uint64_t v = 0x1234;

	ck_assert_msg(fmt_parse_u64(s, &v) == -1, "\"%s\" accepted", s ? s : "(null)");
	ck_assert_msg(v == 0x1234, "\"%s\": output written on failure", s ? s : "(null)");
}

START_TEST(test_parse)
{
	parse_ok("0", 0);
	parse_ok("7", 7);
	parse_ok("250", 250);
	parse_ok("00012", 12);
	parse_ok("1k", 1024);
	parse_ok("64k", 65536);
	parse_ok("64K", 65536);
	parse_ok("3m", 3ULL << 20);
	parse_ok("3M", 3ULL << 20);
	parse_ok("2g", 2ULL << 30);
	parse_ok("2G", 2ULL << 30);
	parse_ok("0k", 0);
	parse_ok("18446744073709551615", UINT64_MAX);
	parse_ok("17179869183g", 17179869183ULL << 30);
	parse_ok("17592186044415m", 17592186044415ULL << 20);

	parse_bad(NULL);
	parse_bad("");
	parse_bad("abc");
	parse_bad("k");
	parse_bad("-1");
	parse_bad("+1");
	parse_bad(" 1");
	parse_bad("1 ");
	parse_bad("12x");
	parse_bad("12kk");
	parse_bad("12kb");
	parse_bad("1t");
	parse_bad("0x10");
	parse_bad("1.5");
	parse_bad("18446744073709551616");       /* 2^64 */
	parse_bad("99999999999999999999");
	parse_bad("184467440737095516150");
	parse_bad("17179869184g");               /* 2^34 g = 2^64 */
	parse_bad("17592186044416m");
	parse_bad("18014398509481984k");
}
END_TEST

/* ---- fmt_buf */

START_TEST(test_fmt_basic)
{
	char buf[64];
	struct fmt_buf b = { buf, sizeof(buf), 0 };

	fmt_str(&b, "x=");
	fmt_u64(&b, 0);
	fmt_char(&b, ' ');
	fmt_u64(&b, 1234567890);
	fmt_char(&b, ' ');
	fmt_u64(&b, UINT64_MAX);
	fmt_char(&b, ' ');
	fmt_hex(&b, 0);
	fmt_char(&b, ' ');
	fmt_hex(&b, 0xdeadbeefULL);
	ck_assert_str_eq(buf, "x=0 1234567890 18446744073709551615 0x0 0xdeadbeef");
	ck_assert_uint_eq(b.len, strlen(buf));

	b.len = 0;
	fmt_hex(&b, UINT64_MAX);
	ck_assert_str_eq(buf, "0xffffffffffffffff");
}
END_TEST

START_TEST(test_fmt_truncation)
{
	char buf[16];
	struct fmt_buf b;
	size_t size;

	for (size = 1; size <= 12; size++) {
		memset(buf, 'Z', sizeof(buf));
		b = (struct fmt_buf){ buf, size, 0 };
		fmt_str(&b, "hello world, long");
		ck_assert_uint_eq(b.len, size - 1);
		ck_assert_int_eq(buf[size - 1], '\0');
		ck_assert(strncmp(buf, "hello world, long", size - 1) == 0);
		ck_assert_msg(buf[size] == 'Z', "wrote past the buffer (size %zu)", size);

		memset(buf, 'Z', sizeof(buf));
		b = (struct fmt_buf){ buf, size, 0 };
		fmt_u64(&b, 18446744073709551615ULL);
		ck_assert_uint_eq(b.len, size - 1);
		ck_assert_int_eq(buf[size - 1], '\0');
		ck_assert(strncmp(buf, "18446744073709551615", size - 1) == 0);
		ck_assert(buf[size] == 'Z');

		memset(buf, 'Z', sizeof(buf));
		b = (struct fmt_buf){ buf, size, 0 };
		fmt_hex(&b, 0x123456789abcdefULL);
		ck_assert_uint_eq(b.len, size - 1);
		ck_assert_int_eq(buf[size - 1], '\0');
		ck_assert(strncmp(buf, "0x123456789abcdef", size - 1) == 0);
		ck_assert(buf[size] == 'Z');
	}

	/* A zero-sized buffer is never written. */
	memset(buf, 'Z', sizeof(buf));
	b = (struct fmt_buf){ buf, 0, 0 };
	fmt_str(&b, "abc");
	fmt_u64(&b, 5);
	fmt_hex(&b, 5);
	fmt_char(&b, 'q');
	ck_assert_uint_eq(b.len, 0);
	ck_assert(buf[0] == 'Z');

	/* Appending after truncation keeps it terminated and bounded. */
	memset(buf, 'Z', sizeof(buf));
	b = (struct fmt_buf){ buf, 4, 0 };
	fmt_str(&b, "ab");
	fmt_u64(&b, 98765);
	fmt_char(&b, '!');
	ck_assert_str_eq(buf, "ab9");
	ck_assert(buf[4] == 'Z');
}
END_TEST

/* ---- bitops */

static uint64_t rng_state = 0x1234567887654321ULL;

static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

START_TEST(test_bitops_scalar)
{
	unsigned int i;

	for (i = 0; i < 64; i++) {
		uint64_t bit = 1ULL << i;

		ck_assert_uint_eq(fls64_index(bit), i);
		ck_assert_uint_eq(ffs64_index(bit), i);
		ck_assert_uint_eq(fls64_index(bit | 1), i);
		ck_assert_uint_eq(ffs64_index(bit | (1ULL << 63)), i);
		ck_assert_uint_eq(popcount64(bit), 1);
		ck_assert_uint_eq(popcount64(bit - 1), i);
		ck_assert(is_power_of_two(bit));
		if (i > 1)
			ck_assert(!is_power_of_two(bit + 1));
		if (i > 0)
			ck_assert(!is_power_of_two(bit | 1));
		ck_assert_uint_eq(round_up_pow2(bit, bit), bit);
	}
	ck_assert(!is_power_of_two(0));
	ck_assert_uint_eq(popcount64(0), 0);
	ck_assert_uint_eq(popcount64(~0ULL), 64);
	ck_assert_uint_eq(round_up_pow2(0, 16), 0);
	ck_assert_uint_eq(round_up_pow2(1, 16), 16);
	ck_assert_uint_eq(round_up_pow2(16, 16), 16);
	ck_assert_uint_eq(round_up_pow2(17, 16), 32);
	ck_assert_uint_eq(round_up_pow2(4097, 4096), 8192);
	ck_assert_uint_eq(round_up_pow2(65535, 65536), 65536);

	for (i = 0; i < 10000; i++) {
		uint64_t x = rnd(), a = 1ULL << (rnd() % 40);
		uint64_t r;
		unsigned int naive = 0, b;

		if (!x)
			continue;
		for (b = 0; b < 64; b++)
			naive += (unsigned int)((x >> b) & 1);
		ck_assert_uint_eq(popcount64(x), naive);
		ck_assert(x >> fls64_index(x) == 1);
		ck_assert(((x >> ffs64_index(x)) & 1) && !(x & ((1ULL << ffs64_index(x)) - 1)));
		x >>= 2;
		r = round_up_pow2(x, a);
		ck_assert(r >= x && r - x < a && r % a == 0);
	}
}
END_TEST

START_TEST(test_bit_run_mask)
{
	unsigned int at, n;

	for (n = 1; n <= 64; n++) {
		for (at = 0; at + n <= 64; at++) {
			uint64_t m = bit_run_mask(at, n);

			ck_assert_uint_eq(popcount64(m), n);
			ck_assert_uint_eq(ffs64_index(m), at);
			ck_assert_uint_eq(fls64_index(m), at + n - 1);
		}
	}
	ck_assert_uint_eq(bit_run_mask(0, 64), ~0ULL);
}
END_TEST

static int naive_run(uint64_t map, unsigned int n)
{
	unsigned int i, j;

	for (i = 0; i + n <= 64; i++) {
		for (j = 0; j < n; j++)
			if (!((map >> (i + j)) & 1))
				break;
		if (j == n)
			return (int)i;
	}
	return -1;
}

START_TEST(test_find_bit_run)
{
	static const uint64_t fixed[] = {
		0, ~0ULL, 1, 1ULL << 63, 0x8000000000000001ULL, 0xffff000000000000ULL,
		0x000000000000ffffULL, 0x00ff00ff00ff00ffULL, 0x5555555555555555ULL,
		0xfffffffeffffffffULL, 0x7fffffffffffffffULL, 0xfffffffffffffffeULL,
		0xc000000000000003ULL, 0x00000000fffe0000ULL,
	};
	unsigned int n, i;

	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		for (n = 1; n <= 64; n++)
			ck_assert_msg(find_bit_run(fixed[i], n) == naive_run(fixed[i], n),
				      "map %#llx n %u: %d, naive %d",
				      (unsigned long long)fixed[i], n,
				      find_bit_run(fixed[i], n), naive_run(fixed[i], n));
	for (i = 0; i < 20000; i++) {
		uint64_t map = rnd();

		/* Denser maps for long runs: OR in more random words. */
		if (i % 3 == 1)
			map |= rnd();
		if (i % 3 == 2)
			map |= rnd() | rnd() | rnd();
		for (n = 1; n <= 16; n++) {
			int got = find_bit_run(map, n), want = naive_run(map, n);

			if (got != want)
				ck_abort_msg("map %#llx n %u: %d, naive %d",
					     (unsigned long long)map, n, got, want);
		}
	}
}
END_TEST

/* ---- lists */

struct item {
	int v;
	struct dlist link;
};

START_TEST(test_dlist)
{
	struct dlist h;
	struct item it[4];
	struct dlist *pos;
	int order[4], k = 0, i;

	dlist_init(&h);
	ck_assert(dlist_empty(&h));
	for (i = 0; i < 4; i++)
		it[i].v = i;
	dlist_add(&h, &it[1].link);       /* 1 */
	dlist_add(&h, &it[0].link);       /* 0 1 */
	dlist_add_tail(&h, &it[2].link);  /* 0 1 2 */
	dlist_add_tail(&h, &it[3].link);  /* 0 1 2 3 */
	ck_assert(!dlist_empty(&h));
	for (pos = h.next; pos != &h; pos = pos->next)
		order[k++] = dlist_entry(pos, struct item, link)->v;
	ck_assert_int_eq(k, 4);
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(order[i], i);
	/* backwards too */
	k = 3;
	for (pos = h.prev; pos != &h; pos = pos->prev)
		ck_assert_int_eq(dlist_entry(pos, struct item, link)->v, k--);

	dlist_del(&it[1].link);
	ck_assert(it[1].link.next == &it[1].link && it[1].link.prev == &it[1].link);
	ck_assert(it[0].link.next == &it[2].link && it[2].link.prev == &it[0].link);
	dlist_del(&it[0].link);
	dlist_del(&it[3].link);
	ck_assert(h.next == &it[2].link && h.prev == &it[2].link);
	dlist_del(&it[2].link);
	ck_assert(dlist_empty(&h));
	ck_assert(h.prev == &h);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("lib");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_parse);
	tcase_add_test(tc, test_fmt_basic);
	tcase_add_test(tc, test_fmt_truncation);
	tcase_add_test(tc, test_bitops_scalar);
	tcase_add_test(tc, test_bit_run_mask);
	tcase_add_test(tc, test_find_bit_run);
	tcase_add_test(tc, test_dlist);
	suite_add_tcase(s, tc);
	return s;
}

HAK_TEST_MAIN(make_suite)
