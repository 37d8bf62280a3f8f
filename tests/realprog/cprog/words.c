#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "list.h"

char *make_word(unsigned seed)
{
	static char buf[64];
	unsigned len = 3 + seed % 20;
	for (unsigned i = 0; i < len; i++) {
		seed = seed * 1103515245u + 12345u;
		buf[i] = (char)('a' + (seed >> 16) % 26);
	}
	buf[len] = 0;
	return buf;
}

unsigned long list_hash(const struct node *head)
{
	unsigned long h = 5381;
	for (; head; head = head->next) {
		h = h * 33 + head->key;
		for (const char *c = head->word; *c; c++)
			h = h * 33 + (unsigned char)*c;
	}
	return h;
}
