/* SPDX-License-Identifier: MIT */
/*
 * Use after free of a block that another thread freed: main allocates
 * victim and other, a thread frees other then victim (remote frees: they
 * wait on the span's remote list), then main allocates from the class
 * until it gets other back, which means it collected the remote list
 * (span_collect) and victim sits on its free list.  Reading victim must be
 * invalid: expect one "Invalid read of size 8".
 */
#include <pthread.h>
#include <stdlib.h>

#define SIZE 48
#define MAX_TRIES 100000

static void *victim, *other;

static void *freer(void *arg)
{
	(void)arg;
	free(other);
	free(victim);
	return NULL;
}

int main(void)
{
	static void *keep[MAX_TRIES];
	pthread_t t;
	volatile long sink;
	int i, n = 0;

	victim = malloc(SIZE);
	other = malloc(SIZE);
	if (!victim || !other)
		return 2;
	((long *)victim)[3] = 2;
	if (pthread_create(&t, NULL, freer, NULL) || pthread_join(t, NULL))
		return 2;
	while (n < MAX_TRIES) {
		void *p = malloc(SIZE);

		keep[n++] = p;
		if (p == other)
			break;
		if (p == victim)
			return 3;    /* handed out again: the test proves nothing */
	}
	if (n == MAX_TRIES)
		return 3;
	sink = ((volatile long *)victim)[3];   /* use after free */
	(void)sink;
	for (i = 0; i < n; i++)
		free(keep[i]);
	return 0;
}
