/* SPDX-License-Identifier: MIT */
/*
 * In-place reallocs: after a shrink, a read past the new size is invalid;
 * after a grow in place, the new bytes are addressable (no error for the
 * write), and a read past the new size is invalid again: expect two
 * "Invalid read of size 1" and nothing else.
 */
#include <stdlib.h>
#include <string.h>

int main(void)
{
	char *p = malloc(200);
	char *q;
	volatile char sink;

	if (!p)
		return 2;
	memset(p, 3, 200);
	q = realloc(p, 150);     /* shrinks in place */
	if (q != p)
		return 3;
	sink = ((volatile char *)q)[160];   /* past the new size */
	p = realloc(q, 180);     /* grows in place */
	if (p != q)
		return 3;
	memset(p + 150, 4, 30);  /* valid */
	sink = ((volatile char *)p)[190];   /* past the new size */
	(void)sink;
	free(p);
	return 0;
}
