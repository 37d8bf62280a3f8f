/* SPDX-License-Identifier: MIT */
/*
 * The program scripts/prof-check.sh profiles: three call sites with known
 * live bytes when it exits (big_site 48 MiB in 256-byte blocks,
 * small_site 12 MiB in 4 KiB blocks, churn_site none: it frees all it
 * takes).  Built with frame pointers.  With an argument it also calls
 * hak_prof_dump (found with dlsym) before exiting and prints its result.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BIG_BYTES   (48u << 20)
#define SMALL_BYTES (12u << 20)

static void *volatile last;

__attribute__((noinline)) static void *big_site(size_t n)
{
	void *p = malloc(n);

	last = p;   /* keeps the call out of tail position */
	return p;
}

__attribute__((noinline)) static void *small_site(size_t n)
{
	void *p = malloc(n);

	last = p;
	return p;
}

__attribute__((noinline)) static void churn_site(size_t n)
{
	void *p = malloc(n);

	if (!p)
		exit(1);
	memset(p, 1, 16);
	free(p);
}

__attribute__((noinline)) static void **hold(void *(*site)(size_t), size_t size, size_t bytes)
{
	size_t i, n = bytes / size;
	void **v = calloc(n, sizeof(*v));

	if (!v)
		exit(1);
	for (i = 0; i < n; i++) {
		v[i] = site(size);
		if (!v[i])
			exit(1);
		memset(v[i], 0x5a, 16);
	}
	return v;
}

int main(int argc, char **argv)
{
	void **big, **small;
	size_t i;

	big = hold(big_site, 256, BIG_BYTES);
	small = hold(small_site, 4096, SMALL_BYTES);
	for (i = 0; i < 100000; i++)
		churn_site(1024);
	printf("held %u + %u bytes\n", BIG_BYTES, SMALL_BYTES);
	if (argc > 1) {
		int (*dump)(void) = (int (*)(void))dlsym(RTLD_DEFAULT, "hak_prof_dump");

		printf("hak_prof_dump: %d\n", dump ? dump() : -1);
	}
	(void)argv;
	(void)big;
	(void)small;
	return 0;
}
