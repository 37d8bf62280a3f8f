/* SPDX-License-Identifier: MIT */
/*
 * Probe: calloc (and reallocarray) with a count whose product with the size
 * overflows size_t.  Each must return NULL with errno ENOMEM.  Some products
 * wrap to a small value (0 or 8 GiB + 1), which a naive multiplication would
 * happily allocate: a block far smaller than the caller believes
 * ("corrupted").
 */
#include "probe.h"

struct call {
	size_t n, size;
};

static const struct call calls[] = {
	{ SIZE_MAX, 2 },
	{ 2, SIZE_MAX },
	{ (SIZE_MAX >> 1) + 1, 2 },            /* wraps to 0 */
	{ (size_t)1 << 32, (size_t)1 << 32 },  /* wraps to 0 */
	{ 0x100000001ull, 0x100000001ull },    /* wraps to 0x200000001 */
	{ (SIZE_MAX >> 4) + 2, 16 },           /* wraps to 16 */
	{ 65537, (SIZE_MAX >> 16) },           /* wraps just below SIZE_MAX */
};

int main(void)
{
	size_t i;

	probe_init();
	for (i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		void *p;
		int err;

		errno = 0;
		p = calloc(calls[i].n, calls[i].size); /* the bad thing */
		err = errno;
		if (p)
			probe_outcome("corrupted", "calloc(%#zx, %#zx) returned %p",
				      calls[i].n, calls[i].size, p);
		if (err != ENOMEM)
			probe_outcome("wrong-result", "calloc(%#zx, %#zx): NULL with errno %d, not ENOMEM",
				      calls[i].n, calls[i].size, err);
		errno = 0;
		p = reallocarray(NULL, calls[i].n, calls[i].size);
		err = errno;
		if (p)
			probe_outcome("corrupted", "reallocarray(NULL, %#zx, %#zx) returned %p",
				      calls[i].n, calls[i].size, p);
		if (err != ENOMEM)
			probe_outcome("wrong-result",
				      "reallocarray(NULL, %#zx, %#zx): NULL with errno %d, not ENOMEM",
				      calls[i].n, calls[i].size, err);
	}
	probe_heap_check(64, 256, NULL, 0, 0);
	probe_outcome("error-returned", "%zu overflowing calloc/reallocarray calls refused with ENOMEM",
		      i);
}
