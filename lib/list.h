/* SPDX-License-Identifier: MIT */
/*
 * Lock-free intrusive LIFO (Treiber stack) for many producers and a single
 * consumer that takes everything at once: push is one CAS, pop_all one
 * exchange, so there is no ABA problem.  The link lives in the first word
 * of each node.  Never allocates.
 */
#ifndef HAKMEM_LIB_LIST_H
#define HAKMEM_LIB_LIST_H

#include <stdint.h>
#include <asm/atomic.h>

struct mpsc_node {
	struct mpsc_node *next;
};

struct mpsc_stack {
	struct mpsc_node *head;
};

static inline void mpsc_push(struct mpsc_stack *s, struct mpsc_node *n)
{
	struct mpsc_node *old = atomic_load_relaxed(&s->head);

	do {
		n->next = old;
	} while (!atomic_cas_weak_release(&s->head, &old, n));
}

static inline struct mpsc_node *mpsc_pop_all(struct mpsc_stack *s)
{
	if (!atomic_load_relaxed(&s->head))
		return 0;
	return atomic_exchange_acquire(&s->head, (struct mpsc_node *)0);
}

/* Doubly linked list, owner-private (no atomics). */
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
