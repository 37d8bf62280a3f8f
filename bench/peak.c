/* SPDX-License-Identifier: MIT */
/*
 * peak: allocate a lot in small and mid blocks, free it all, and see how much
 * memory goes back to the OS.
 *
 *   peak [total=256M] [small_max=512] [mid_max=32K] [delay_ms=1000]
 *        [seed=1] [quick=1]
 *
 * Blocks are 75% small (16..small_max) and 25% mid (small_max..mid_max), with
 * every page touched, until `total` bytes are live. They are then freed in
 * two passes (odd indices, then even) so that no allocator gets an easy
 * reverse-order release. RSS comes from /proc/self/statm: before, at the
 * peak, right after the frees, and again after delay_ms with no malloc call
 * (no malloc_trim). An op is one block (one malloc+free pair).
 */
#include "bench.h"

int main(int argc, char **argv)
{
	bench_args_init(argc, argv);
	long quick = bench_arg("quick", 0);
	size_t total = (size_t)bench_arg("total", quick ? 64L << 20 : 256L << 20);
	size_t small_max = (size_t)bench_arg("small_max", 512);
	size_t mid_max = (size_t)bench_arg("mid_max", 32 << 10);
	long delay_ms = bench_arg("delay_ms", quick ? 250 : 1000);
	uint64_t rng = rng_seed((uint64_t)bench_arg("seed", 1));
	bench_args_done();
	if (small_max < 16)
		small_max = 16;
	if (mid_max < small_max)
		mid_max = small_max;

	size_t cap = total / 256 + 1024, count = 0, bytes = 0;
	void **blk = bench_nonnull(malloc(cap * sizeof(void *)), 1);
	size_t *len = bench_nonnull(malloc(cap * sizeof(size_t)), 1);
	/* make the index arrays resident before the baseline is taken */
	memset(blk, 0, cap * sizeof(void *));
	memset(len, 0, cap * sizeof(size_t));
	long rss_base = bench_rss_kib();

	uint64_t t0 = bench_now_ns();
	while (bytes < total && count < cap) {
		size_t n = (rng_next(&rng) & 3) ? rng_range(&rng, 16, small_max)
						: rng_range(&rng, small_max, mid_max);
		blk[count] = bench_nonnull(malloc(n), n);
		len[count] = n;
		bench_fill(blk[count], n, 1);
		bytes += n;
		count++;
	}
	uint64_t t1 = bench_now_ns();
	long rss_peak = bench_rss_kib();

	uint64_t t2 = bench_now_ns();
	for (int pass = 1; pass >= 0; pass--)
		for (size_t i = (size_t)pass; i < count; i += 2) {
			bench_check(blk[i], len[i], 1);
			free(blk[i]);
		}
	uint64_t t3 = bench_now_ns();
	long rss_free = bench_rss_kib();

	struct timespec d = { delay_ms / 1000, (delay_ms % 1000) * 1000000L };
	nanosleep(&d, NULL);
	long rss_later = bench_rss_kib();

	double secs = bench_secs(t0, t1) + bench_secs(t2, t3);
	bench_result("bench=peak total=%zu small_max=%zu mid_max=%zu ops=%zu secs=%.4f mops=%.4g "
		     "rss_live_kib=%zu rss_peak_kib=%ld rss_free_kib=%ld rss_later_kib=%ld delay_ms=%ld",
		     total, small_max, mid_max, count, secs, bench_mops((double)count, secs),
		     bytes >> 10, rss_peak - rss_base, rss_free - rss_base, rss_later - rss_base,
		     delay_ms);
	free(len);
	free(blk);
	return 0;
}
