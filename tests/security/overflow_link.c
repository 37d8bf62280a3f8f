/* SPDX-License-Identifier: MIT */
/*
 * Probe: a heap overflow into a free neighbour.  Find two adjacent live
 * 64-byte blocks a < b, free eight other blocks and then b (so that b's
 * link leads to more free blocks), then write past the end of a: filler bytes
 * up to b, then the address of an attacker target over b's first 8 bytes
 * (its free-list link).  Then malloc until b's link is followed.  A malloc
 * returning the target (or near it) is "attacker-address".
 */
#include "probe.h"

#define SIZE 64
#define N 512

static unsigned char target[16384] __attribute__((aligned(4096)));
static unsigned char *blocks[N];
static uintptr_t order[N];
static struct probe_region live[N];

int main(void)
{
	uintptr_t chosen = (uintptr_t)(target + 8192), stride = UINTPTR_MAX;
	unsigned char *a = NULL, *b = NULL;
	size_t i, nlive = 0;

	probe_init();
	for (i = 0; i < N; i++) {
		blocks[i] = malloc(SIZE);
		if (!blocks[i])
			probe_setup_failed("setup: malloc(%d) failed", SIZE);
		order[i] = (uintptr_t)blocks[i];
	}
	qsort(order, N, sizeof(order[0]), probe_cmp);
	/* The smallest gap between blocks is the class stride (plus any header). */
	for (i = 1; i < N; i++)
		if (order[i] - order[i - 1] >= SIZE && order[i] - order[i - 1] < stride)
			stride = order[i] - order[i - 1];
	for (i = 1; i < N && !a; i++)
		if (order[i] - order[i - 1] == stride) {
			a = (unsigned char *)order[i - 1];
			b = (unsigned char *)order[i];
		}
	if (!a || stride > 4 * SIZE)
		probe_setup_failed("setup: no two adjacent %d-byte blocks among %d", SIZE, N);
	for (i = 0, nlive = 0; i < N && nlive < 8; i++)
		if (blocks[i] != a && blocks[i] != b) {
			free(blocks[i]);
			blocks[i] = NULL;
			nlive++;
		}
	free(b);
	nlive = 0;
	/* the bad thing: an overflow of a that runs 8 bytes into b */
	a = probe_launder(a);
	memset(a + SIZE, 'A', (size_t)(b - a) - SIZE);
	memcpy(b, &chosen, sizeof(chosen));
	for (i = 0; i < N; i++)
		if (blocks[i] && blocks[i] != b) {
			live[nlive].lo = (uintptr_t)blocks[i];
			live[nlive++].hi = (uintptr_t)blocks[i] + SIZE;
		}
	probe_heap_check(SIZE, PROBE_MAX_BATCH, live, nlive, chosen);
	probe_outcome("ignored", "overflow of %p into free %p had no effect", a, b);
}
