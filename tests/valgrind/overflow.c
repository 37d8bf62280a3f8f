/* SPDX-License-Identifier: MIT */
/*
 * memcheck must see a one-byte write past a block, into what would be the
 * next block of its class: expect "Invalid write of size 1".
 */
#include <stdlib.h>
#include <string.h>

int main(void)
{
	char *a = malloc(24);
	char *b = malloc(24);
	volatile char *p = a;

	if (!a || !b)
		return 2;
	memset(a, 1, 24);
	p[24] = 7;      /* one past the end */
	free(b);
	free(a);
	return 0;
}
