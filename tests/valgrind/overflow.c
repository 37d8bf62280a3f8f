/* SPDX-License-Identifier: MIT */
/*
 * memcheck must see a one-byte write past a block of exactly a class size
 * (32 B), into what would be the next block of its class, live here (b):
 * expect "Invalid write of size 1".
 */
#include <stdlib.h>
#include <string.h>

int main(void)
{
	char *a = malloc(32);
	char *b = malloc(32);
	volatile char *p = a;

	if (!a || !b)
		return 2;
	memset(a, 1, 32);
	p[32] = 7;      /* one past the end */
	free(b);
	free(a);
	return 0;
}
