/* Tiny multi-file C program compiled by gcc, and by make -j2 with
 * tests/realprog/mkprog.mk, in scripts/realprog.sh. */
#ifndef LIST_H
#define LIST_H
#include <stddef.h>
struct node { struct node *next; unsigned key; char *word; };
struct node *list_push(struct node *head, unsigned key, const char *word);
struct node *list_sort(struct node *head);
size_t list_len(const struct node *head);
unsigned long list_hash(const struct node *head);
void list_free(struct node *head);
char *make_word(unsigned seed);
#endif
