/* SPDX-License-Identifier: MIT */
/*
 * tiny: fixed-size blocks in a ring of live objects.
 *
 *   tiny [size=64] [ring=128] [wave=0] [ops=20m] [quick=1]
 *
 * The ring is filled first, then each op frees the oldest block and
 * allocates a new one in its slot: one malloc+free pair. ops=0 runs only the
 * ring fill and teardown, which bench-instr.sh subtracts.  With wave=1 the
 * ops go in waves instead: the whole ring is freed, oldest first, then
 * allocated again (ops rounded up to whole rings), so a span empties and
 * fills again every wave.
 */
#include "bench.h"

int main(int argc, char **argv)
{
	bench_args_init(argc, argv);
	long quick = bench_arg("quick", 0);
	size_t size = (size_t)bench_arg("size", 64);
	long ring = bench_arg("ring", 128);
	long ops = bench_arg("ops", quick ? 10000000 : 30000000);
	long wave = bench_arg("wave", 0);
	bench_args_done();
	if (ring < 1)
		ring = 1;
	if (wave)
		ops = (ops + ring - 1) / ring * ring;

	void **slot = bench_nonnull(malloc((size_t)ring * sizeof(void *)), 1);
	B_INIT((size_t)ring + 1, (size + 15) & ~(size_t)15);
	for (long i = 0; i < ring; i++) {
		slot[i] = bench_nonnull(B_MALLOC(size), size);
		bench_fill_salt(slot[i], size, 0, (uint64_t)i + 1);
	}

	uint64_t t0 = bench_now_ns();
	long j = 0;
	for (long i = 0; i < ops && !wave; i++) {
		void *p = slot[j];
		bench_check_salt(p, size, 0, (uint64_t)j + 1);
		B_FREE(p);
		p = bench_nonnull(B_MALLOC(size), size);
		bench_fill_salt(p, size, 0, (uint64_t)j + 1);
		slot[j] = p;
		if (++j == ring)
			j = 0;
	}
	for (long i = 0; i < ops && wave; i += ring) {
		for (j = 0; j < ring; j++) {
			bench_check_salt(slot[j], size, 0, (uint64_t)j + 1);
			B_FREE(slot[j]);
		}
		for (j = 0; j < ring; j++) {
			slot[j] = bench_nonnull(B_MALLOC(size), size);
			bench_fill_salt(slot[j], size, 0, (uint64_t)j + 1);
		}
	}
	uint64_t t1 = bench_now_ns();

	for (long i = 0; i < ring; i++) {
		bench_check_salt(slot[i], size, 0, (uint64_t)i + 1);
		B_FREE(slot[i]);
	}
	free(slot);
	double secs = bench_secs(t0, t1);
	bench_result("bench=tiny size=%zu ring=%ld wave=%ld ops=%ld secs=%.4f mops=%.4g",
		     size, ring, wave, ops, secs, bench_mops((double)ops, secs));
	return 0;
}
