/* SPDX-License-Identifier: MIT */
/*
 * realloc: growth chains, as when a buffer or a vector is appended to.
 *
 *   realloc [chains=64] [start_max=64] [max=256K] [ops=..] [seed=1] [quick=1]
 *
 * Each of `chains` live buffers starts at 16..start_max bytes and grows by
 * realloc to old + random(1..old) bytes until it exceeds `max`; then it is
 * freed and the chain restarts. Every buffer carries a tag at its start and
 * at its end; after each realloc both tags of the old size must be intact.
 * An op is one realloc call (the frees and restarts are included in the time).
 */
#include "bench.h"

int main(int argc, char **argv)
{
	bench_args_init(argc, argv);
	long quick = bench_arg("quick", 0);
	long chains = bench_arg("chains", 64);
	size_t start_max = (size_t)bench_arg("start_max", 64);
	size_t max = (size_t)bench_arg("max", 256 << 10);
	long ops = bench_arg("ops", quick ? 100000 : 1000000);
	uint64_t rng = rng_seed((uint64_t)bench_arg("seed", 1));
	bench_args_done();
	if (chains < 1)
		chains = 1;
	if (start_max < 16)
		start_max = 16;
	if (max < start_max)
		max = start_max;

	void **buf = bench_nonnull(malloc((size_t)chains * sizeof(void *)), 1);
	size_t *len = bench_nonnull(malloc((size_t)chains * sizeof(size_t)), 1);
	uint64_t *tag = bench_nonnull(malloc((size_t)chains * sizeof(uint64_t)), 1);
	long restarts = 0;

	for (long c = 0; c < chains; c++) {
		len[c] = rng_range(&rng, 16, start_max);
		buf[c] = bench_nonnull(malloc(len[c]), len[c]);
		tag[c] = rng_next(&rng);
		memcpy(buf[c], &tag[c], 8);
		memcpy((char *)buf[c] + len[c] - 8, &tag[c], 8);
	}

	uint64_t t0 = bench_now_ns();
	for (long i = 0; i < ops; i++) {
		long c = (long)rng_range(&rng, 0, (uint64_t)chains - 1);
		size_t old = len[c], n = old + rng_range(&rng, 1, old);
		uint64_t h, e;
		char *p;

		if (n > max) {
			free(buf[c]);
			restarts++;
			n = rng_range(&rng, 16, start_max);
			p = bench_nonnull(malloc(n), n);
			tag[c] = rng_next(&rng);
		} else {
			p = bench_nonnull(realloc(buf[c], n), n);
			memcpy(&h, p, 8);
			memcpy(&e, p + old - 8, 8);
			if (h != tag[c] || e != tag[c])
				bench_fail("realloc %zu -> %zu moved to %p: %s tag lost", old, n,
					   (void *)p, h != tag[c] ? "head" : "tail");
		}
		memcpy(p, &tag[c], 8);
		memcpy(p + n - 8, &tag[c], 8);
		buf[c] = p;
		len[c] = n;
	}
	uint64_t t1 = bench_now_ns();

	for (long c = 0; c < chains; c++)
		free(buf[c]);
	free(tag);
	free(len);
	free(buf);
	double secs = bench_secs(t0, t1);
	bench_result("bench=realloc chains=%ld start_max=%zu max=%zu ops=%ld secs=%.4f mops=%.4g restarts=%ld",
		     chains, start_max, max, ops, secs, bench_mops((double)ops, secs), restarts);
	return 0;
}
