/* SPDX-License-Identifier: MIT */
/*
 * A branch on bytes malloc handed out without initialising them (a block
 * that was freed before, full of old data to the allocator): expect
 * "Conditional jump or move depends on uninitialised value".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
	char *p = malloc(64);

	if (!p)
		return 2;
	memset(p, 'x', 64);
	free(p);
	p = malloc(64);     /* the same block, most likely */
	if (!p)
		return 2;
	if (p[10] == 'x')
		puts("old data");
	free(p);
	return 0;
}
