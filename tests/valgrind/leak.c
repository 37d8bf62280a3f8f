/* SPDX-License-Identifier: MIT */
/*
 * A lost block: the first (block 0 of a fresh span: the span's descriptor
 * holds its address) of a class nothing else uses, and its pointer
 * overwritten.  Expect "definitely lost: 1,000 bytes in 1 blocks".
 */
#include <stdlib.h>
#include <string.h>

int main(void)
{
	void *volatile p = malloc(1000);

	if (!p)
		return 2;
	memset(p, 0, 1000);
	p = NULL;
	return 0;
}
