/* SPDX-License-Identifier: MIT */
/*
 * Probe: does malloc hand out an earlier owner's data?  A 64 B block and
 * a 4 MiB one are filled with a secret and freed; malloc of the same sizes
 * is repeated until each block comes back (a big block whose mapping went
 * back to the kernel is fresh memory), and its bytes past the first 16
 * (where the allocator keeps its own words while the block is free) are
 * read.  "stale-data" when the secret is still there; "clean" when it is
 * gone (CONFIG_ZERO_FREE zeroes, CONFIG_DEBUG_FILL fills with a pattern).
 * Reading fresh malloc memory is legal C; only its contents are in question.
 */
#include "probe.h"

static const unsigned char secret = 0xc3;

/* 1 when block p of n bytes, handed out again, still holds the secret. */
static int reused_holds_secret(size_t n)
{
	unsigned char *p = malloc(n), *q = NULL;
	size_t i, seen = 0;
	int k;

	if (!p)
		probe_setup_failed("setup: malloc(%zu) failed", n);
	memset(p, secret, n);
	free(p);
	for (k = 0; k < 4096 && (q = malloc(n)) != p; k++)
		;
	if (q != p && n <= 4096)
		probe_setup_failed("setup: the %zu B block did not come back", n);
	if (q != p)
		return 0;   /* a big block's mapping went back: fresh memory */
	for (i = 16; i < n; i++)
		seen += q[i] == secret;
	return seen > (n - 16) / 2;
}

int main(void)
{
	int small, big;

	probe_init();
	small = reused_holds_secret(64);
	big = reused_holds_secret(4 << 20);
	if (small || big)
		probe_outcome("stale-data", "the secret came back (64 B: %s, 4 MiB: %s)",
			      small ? "yes" : "no", big ? "yes" : "no");
	probe_outcome("clean", "no earlier owner's data in either block");
}
