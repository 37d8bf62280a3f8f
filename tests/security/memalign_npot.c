/* SPDX-License-Identifier: MIT */
/*
 * Probe: memalign with alignments that are not powers of two.  glibc (2.36)
 * rounds such an alignment up to the next power of two and returns a block
 * aligned to it; hakmem does the same (DESIGN.md).  NULL with EINVAL is also
 * accepted.  A block that is not aligned to the rounded-up alignment, or
 * whose usable size is short, is "wrong-result".
 *
 * posix_memalign with the same alignments must fail with EINVAL and leave
 * *memptr alone (POSIX; glibc does).  aligned_alloc is checked like
 * memalign: glibc 2.36 rounds up, glibc 2.38 and later return NULL/EINVAL.
 */
#include "probe.h"

struct call {
	size_t align, size;
};

static const struct call calls[] = {
	{ 24, 100 },  { 48, 1 },          { 96, 1000 },      { 100, 5000 },
	{ 3000, 64 }, { 12288, 100000 }, { 65537, 2 << 20 }, { (1 << 20) + 16, 64 },
};

static size_t next_pow2(size_t x)
{
	size_t p = 1;

	while (p < x)
		p <<= 1;
	return p;
}

/* Returns 1 when p is a correct rounded-up block, 0 for NULL+EINVAL. */
static int check(const char *fn, void *p, int err, size_t align, size_t size)
{
	size_t want = next_pow2(align);

	if (!p) {
		if (err != EINVAL && err != ENOMEM)
			probe_outcome("wrong-result", "%s(%zu, %zu): NULL with errno %d", fn, align,
				      size, err);
		if (err == ENOMEM)
			probe_outcome("wrong-result", "%s(%zu, %zu): out of memory", fn, align, size);
		return 0;
	}
	if ((uintptr_t)p % want)
		probe_outcome("wrong-result", "%s(%zu, %zu) = %p is not %zu-aligned", fn, align,
			      size, p, want);
	if (malloc_usable_size(p) < size)
		probe_outcome("wrong-result", "%s(%zu, %zu) = %p has usable size %zu", fn, align,
			      size, p, malloc_usable_size(p));
	memset(p, 0xab, size);
	free(p);
	return 1;
}

int main(void)
{
	size_t i, n = sizeof(calls) / sizeof(calls[0]), rounded = 0;

	probe_init();
	for (i = 0; i < n; i++) {
		void *p, *keep = (void *)0x1234;
		int err, rc;

		errno = 0;
		p = memalign(calls[i].align, calls[i].size); /* the bad thing */
		err = errno;
		rounded += check("memalign", p, err, calls[i].align, calls[i].size);

		errno = 0;
		p = aligned_alloc(calls[i].align, calls[i].size);
		check("aligned_alloc", p, errno, calls[i].align, calls[i].size);

		p = keep;
		rc = posix_memalign(&p, calls[i].align, calls[i].size);
		if (rc != EINVAL || p != keep)
			probe_outcome("wrong-result", "posix_memalign(%zu, %zu) = %d, *memptr %p",
				      calls[i].align, calls[i].size, rc, p);
	}
	probe_heap_check(64, 256, NULL, 0, 0);
	if (rounded)
		probe_outcome("rounded-up", "%zu of %zu memalign calls rounded up, rest EINVAL",
			      rounded, n);
	probe_outcome("error-returned", "all %zu memalign calls returned NULL/EINVAL", n);
}
