#include <stdlib.h>
#include <string.h>
#include "list.h"

struct node *list_push(struct node *head, unsigned key, const char *word)
{
	struct node *n = malloc(sizeof(*n));
	n->key = key;
	n->word = strdup(word);
	n->next = head;
	return n;
}

static struct node *merge(struct node *a, struct node *b)
{
	struct node head = { 0 }, *t = &head;
	while (a && b) {
		if (a->key < b->key || (a->key == b->key && strcmp(a->word, b->word) <= 0)) {
			t->next = a; a = a->next;
		} else {
			t->next = b; b = b->next;
		}
		t = t->next;
	}
	t->next = a ? a : b;
	return head.next;
}

struct node *list_sort(struct node *head)
{
	if (!head || !head->next)
		return head;
	struct node *slow = head, *fast = head->next;
	while (fast && fast->next) {
		slow = slow->next;
		fast = fast->next->next;
	}
	struct node *second = slow->next;
	slow->next = NULL;
	return merge(list_sort(head), list_sort(second));
}

size_t list_len(const struct node *head)
{
	size_t n = 0;
	for (; head; head = head->next)
		n++;
	return n;
}

void list_free(struct node *head)
{
	while (head) {
		struct node *n = head->next;
		free(head->word);
		free(head);
		head = n;
	}
}
