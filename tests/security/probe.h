/* SPDX-License-Identifier: MIT */
/*
 * Shared code of the security probes (the .c files of tests/security/).
 *
 * A probe is one small program that does ONE bad thing through the standard
 * malloc API and is run with LD_PRELOAD=<config>/libhakmem.so by
 * scripts/security-probes.sh.  When it survives, it prints exactly one line
 *
 *	OUTCOME <class> [detail]
 *
 * on stdout and exits 0.  The classes a probe can print:
 *	ignored         the bad call was tolerated and the heap is still sound
 *	error-returned  the call refused with NULL / an error number, as specified
 *	rounded-up      (memalign_npot only) the bad alignment was rounded up to
 *	                the next power of two and the result is aligned to it
 *	attacker-address  a malloc returned the address the probe planted
 *	corrupted       the heap handed out the same memory twice, or memory
 *	                that overlaps a live region, or an impossible pointer
 *	wrong-result    an API contract was broken (wrong errno, misaligned)
 * A probe killed by SIGABRT after a "hakmem: <what> <pointer>" line on
 * stderr is classified "detected" by the runner; any other death is "crash".
 *
 * The probes do their own bookkeeping in static arrays and print with
 * write(2), so that nothing but the probed calls goes through malloc after
 * the bad thing has been done.
 */
#ifndef HAKMEM_SECURITY_PROBE_H
#define HAKMEM_SECURITY_PROBE_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Not every probe uses every helper. */
#define PROBE_FN static __attribute__((unused))

/* Keeps the compiler from reasoning about a pointer's provenance. */
static inline void *probe_launder(void *p)
{
	void *volatile slot = p;

	return slot;
}

PROBE_FN void probe_vprint(const char *fmt, va_list ap)
{
	char line[512];
	int n = vsnprintf(line, sizeof(line) - 1, fmt, ap);

	if (n < 0)
		return;
	if (n > (int)sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	if (write(STDOUT_FILENO, line, n) < 0)
		_exit(3);
}

/* Prints the classification line and exits 0. */
__attribute__((noreturn, format(printf, 2, 3)))
PROBE_FN void probe_outcome(const char *class, const char *fmt, ...)
{
	char detail[400], line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	snprintf(line, sizeof(line), "OUTCOME %s %s\n", class, detail);
	if (write(STDOUT_FILENO, line, strlen(line)) < 0)
		_exit(3);
	_exit(0);
}

/* The probe itself could not set up the bad thing: a test bug, not a result. */
__attribute__((noreturn, format(printf, 1, 2)))
PROBE_FN void probe_setup_failed(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	probe_vprint(fmt, ap);
	va_end(ap);
	_exit(2);
}

/*
 * Called first.  With PROBE_REQUIRE_HAKMEM=1 (set by the runner) the probe
 * refuses to run unless hakmem really is the allocator in this process:
 * otherwise a missing LD_PRELOAD would silently test glibc.
 */
PROBE_FN void probe_init(void)
{
	const char *req = getenv("PROBE_REQUIRE_HAKMEM");

	if (req && req[0] == '1') {
		void *hak = dlsym(RTLD_DEFAULT, "hak_malloc");
		void *std = dlsym(RTLD_DEFAULT, "malloc");
		Dl_info a, b;

		if (!hak || !std)
			probe_setup_failed("setup: hakmem is not loaded (no hak_malloc)");
		if (!dladdr(hak, &a) || !dladdr(std, &b) ||
		    a.dli_fbase != b.dli_fbase)
			probe_setup_failed("setup: malloc is not hakmem's (CONFIG_OVERRIDE off?)");
	}
}

/* A live range the allocator must not hand out while the probe holds it. */
struct probe_region {
	uintptr_t lo, hi; /* [lo, hi) */
};

#define PROBE_MAX_BATCH 4096
static void *probe_batch[PROBE_MAX_BATCH];
static uintptr_t probe_sorted[PROBE_MAX_BATCH];

PROBE_FN int probe_cmp(const void *a, const void *b)
{
	uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;

	return x < y ? -1 : x > y;
}

PROBE_FN unsigned char probe_tag(size_t i, size_t off)
{
	return (unsigned char)(i * 131u + off * 7u + 0x5b);
}

/*
 * Mallocs n blocks of `size` and checks them before and after writing a
 * pattern into each: no NULL, no impossible or misaligned pointer, no block
 * at or near `target` (when non-zero), no duplicate or overlapping blocks,
 * no block overlapping a sentinel region, and every pattern intact after all
 * blocks were written.  Any finding prints its OUTCOME and exits; on success
 * it returns and the blocks stay allocated.
 */
PROBE_FN void probe_heap_check(size_t size, size_t n, const struct probe_region *sent,
			     size_t nsent, uintptr_t target)
{
	size_t i, j, span = size ? size : 1;

	if (n > PROBE_MAX_BATCH)
		n = PROBE_MAX_BATCH;
	for (i = 0; i < n; i++) {
		void *p = malloc(size);
		uintptr_t u = (uintptr_t)p;

		probe_batch[i] = p;
		if (!p)
			probe_outcome("corrupted", "malloc(%zu) #%zu returned NULL", size, i);
		if (target && u + 4096 > target && u < target + 4096)
			probe_outcome("attacker-address",
				      "malloc(%zu) #%zu returned %p, planted address %p",
				      size, i, p, (void *)target);
		if (u < 4096 || u >= ((uintptr_t)1 << 47) || u + span < u)
			probe_outcome("corrupted", "malloc(%zu) #%zu returned impossible %p",
				      size, i, p);
		if (u % (size >= 16 ? 16 : 8))
			probe_outcome("corrupted", "malloc(%zu) #%zu returned misaligned %p",
				      size, i, p);
		for (j = 0; j < nsent; j++)
			if (u < sent[j].hi && u + span > sent[j].lo)
				probe_outcome("corrupted",
					      "malloc(%zu) #%zu returned %p inside live region [%p,%p)",
					      size, i, p, (void *)sent[j].lo, (void *)sent[j].hi);
		probe_sorted[i] = u;
	}
	qsort(probe_sorted, n, sizeof(probe_sorted[0]), probe_cmp);
	for (i = 1; i < n; i++)
		if (probe_sorted[i] - probe_sorted[i - 1] < span)
			probe_outcome("corrupted", "two live blocks of %zu bytes at %p and %p",
				      size, (void *)probe_sorted[i - 1], (void *)probe_sorted[i]);
	for (i = 0; i < n; i++)
		memset(probe_batch[i], probe_tag(i, 0), span);
	for (i = 0; i < n; i++) {
		const unsigned char *c = probe_batch[i];

		for (j = 0; j < span; j++)
			if (c[j] != probe_tag(i, 0))
				probe_outcome("corrupted", "block %p changed under its owner",
					      probe_batch[i]);
	}
}

/* The heap check over one size of each tier's range of small classes. */
PROBE_FN void probe_heap_check_sizes(const struct probe_region *sent, size_t nsent)
{
	static const size_t sizes[] = { 16, 64, 256, 1024, 4096, 65536 };
	size_t k;

	for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		size_t n = (32u << 20) / sizes[k];

		probe_heap_check(sizes[k], n > 1024 ? 1024 : n, sent, nsent, 0);
	}
}

/*
 * Mallocs 16 blocks of `size` and frees them all; returns the last one
 * freed, whose link points at more free blocks (a list bounded by a count
 * still follows it).
 */
static void *probe_freed[16];
PROBE_FN unsigned char *probe_free_sixteen(size_t size)
{
	int i;

	for (i = 0; i < 16; i++)
		if (!(probe_freed[i] = malloc(size)))
			probe_setup_failed("setup: malloc(%zu) failed", size);
	for (i = 0; i < 16; i++)
		free(probe_freed[i]);
	return probe_freed[15];
}

/* Fills a live block with a recognisable pattern; probe_intact() checks it. */
PROBE_FN void probe_fill(void *p, size_t n, unsigned char seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		((unsigned char *)p)[i] = (unsigned char)(seed + i * 13u);
}

PROBE_FN int probe_intact(const void *p, size_t n, unsigned char seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (((const unsigned char *)p)[i] != (unsigned char)(seed + i * 13u))
			return 0;
	return 1;
}

#endif
