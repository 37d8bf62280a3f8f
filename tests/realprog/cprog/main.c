#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "list.h"

int main(void)
{
	struct node *l = NULL;
	for (unsigned i = 0; i < 50000; i++)
		l = list_push(l, (i * 2654435761u) % 1000, make_word(i));
	l = list_sort(l);
	printf("len %zu hash %lu\n", list_len(l), list_hash(l));
	for (struct node *n = l; n && n->key < 1; n = n->next)
		printf("%u %s\n", n->key, n->word);
	char *big = NULL;
	size_t cap = 0;
	for (unsigned i = 0; i < 1000; i++) {
		big = realloc(big, cap + 4096);
		memset(big + cap, 'a' + i % 26, 4096);
		cap += 4096;
	}
	unsigned long s = 0;
	for (size_t i = 0; i < cap; i += 97)
		s += (unsigned char)big[i];
	printf("big %zu sum %lu\n", cap, s);
	free(big);
	list_free(l);
	return 0;
}
