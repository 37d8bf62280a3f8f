/* SPDX-License-Identifier: MIT */
/*
 * Intrusive doubly linked list, owner-private: every user holds the lock
 * (or the ownership) that protects the list.  Never allocates.
 */
#ifndef HAKMEM_LIB_LIST_H
#define HAKMEM_LIB_LIST_H

struct dlist {
	struct dlist *next, *prev;
};

static inline void dlist_init(struct dlist *h)
{
	h->next = h->prev = h;
}

static inline int dlist_empty(const struct dlist *h)
{
	return h->next == h;
}

static inline void dlist_add(struct dlist *h, struct dlist *n)
{
	n->next = h->next;
	n->prev = h;
	h->next->prev = n;
	h->next = n;
}

static inline void dlist_add_tail(struct dlist *h, struct dlist *n)
{
	dlist_add(h->prev, n);
}

static inline void dlist_del(struct dlist *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->next = n->prev = n;
}

#define dlist_entry(ptr, type, member) \
	((type *)((char *)(ptr) - __builtin_offsetof(type, member)))

#endif
