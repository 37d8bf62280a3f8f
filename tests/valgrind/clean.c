/* SPDX-License-Identifier: MIT */
/*
 * A clean program: every entry point, blocks of every tier, in-place and
 * moving reallocs, blocks freed by another thread, blocks of a thread
 * that exited (abandoned spans) freed by main, usable sizes.  Expect "ERROR SUMMARY: 0 errors"
 * and nothing lost.
 */
#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define N 2000

static void *blocks[N];

static void *freer(void *arg)
{
	int i;

	(void)arg;
	for (i = 0; i < N; i += 2) {
		free(blocks[i]);
		blocks[i] = NULL;
	}
	return NULL;
}

/* Allocates blocks and exits: its spans are abandoned with live blocks,
 * which main frees (adoptions, remote frees into abandoned spans). */
static void *leaver(void *arg)
{
	void **out = arg;
	int i;

	for (i = 0; i < N; i++) {
		out[i] = malloc((size_t)(i % 500) + 8);
		memset(out[i], 5, (size_t)(i % 500) + 8);
		if (i % 3 == 0) {
			free(out[i]);
			out[i] = NULL;
		}
	}
	return NULL;
}

static size_t size_of(int i)
{
	return (size_t)(i * 37 % 3000) + 1;
}

int main(void)
{
	pthread_t t;
	size_t sizes[] = { 1, 15, 16, 17, 100, 1000, 5000, 70000, 3u << 20 };
	unsigned int k;
	long sum = 0;
	int i;

	for (i = 0; i < N; i++) {
		blocks[i] = malloc(size_of(i));
		if (!blocks[i])
			return 2;
		memset(blocks[i], i, size_of(i));
		if (malloc_usable_size(blocks[i]) < size_of(i))
			return 4;
	}
	if (pthread_create(&t, NULL, freer, NULL) || pthread_join(t, NULL))
		return 2;
	for (i = 1; i < N; i += 2) {
		char *q = realloc(blocks[i], size_of(i) / 2 + 1);

		if (!q)
			return 2;
		sum += q[size_of(i) / 2];
		q = realloc(q, size_of(i) + 100);
		if (!q)
			return 2;
		memset(q, 1, size_of(i) + 100);
		blocks[i] = q;
	}
	for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		char *c = calloc(1, sizes[k]);
		char *m = memalign(64, sizes[k]);
		void *a = NULL;

		if (!c || !m || posix_memalign(&a, 4096, sizes[k]))
			return 2;
		sum += c[sizes[k] - 1];
		memset(m, 2, sizes[k]);
		memset(a, 3, sizes[k]);
		c = realloc(c, sizes[k] * 2);
		if (!c)
			return 2;
		memset(c, 4, sizes[k] * 2);
		free(c);
		free(m);
		free(a);
	}
	for (i = 0; i < N; i++)
		free(blocks[i]);
	if (pthread_create(&t, NULL, leaver, blocks) || pthread_join(t, NULL))
		return 2;
	for (i = 0; i < N; i++)
		free(blocks[i]);
	return (int)(sum & 0);
}
