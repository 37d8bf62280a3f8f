// SPDX-License-Identifier: MIT
/*
 * Abandoned spans (live blocks, owner thread exited) wait on their class's
 * list, owner NULL, until a heap needing the class adopts one, a live heap
 * frees into one, or the decay check finds one whose blocks all came back.
 * Class c's list is under abandoned_locks[c % ABANDONED_LOCKS]: threads
 * adopting different classes seldom meet, and the fork handler, which
 * takes them all, holds few locks.
 */
#include <mm/heap/internal.h>

struct abandoned_lock abandoned_locks[ABANDONED_LOCKS] = {
	[0 ... ABANDONED_LOCKS - 1] = { HAK_LOCK_INIT("abandoned") },
};

struct abandoned_class {
	struct dlist spans;    /* its lock */
	/* Spans on the list (relaxed peek): adoption and the reclaim scan
	 * look at it before taking the lock. */
	uint32_t count;
} cacheline_aligned;

static struct abandoned_class abandoned[NUM_CLASSES];

/* Class cls's abandoned spans, with its lock taken. */
static struct abandoned_class *abandoned_lock_class(unsigned int cls)
{
	hak_lock(&abandoned_locks[cls % ABANDONED_LOCKS].lock);
	return &abandoned[cls];
}

static void abandoned_unlock_class(unsigned int cls)
{
	hak_unlock(&abandoned_locks[cls % ABANDONED_LOCKS].lock);
}

void abandoned_init(void)
{
	unsigned int c;

	for (c = 0; c < NUM_CLASSES; c++)
		dlist_init(&abandoned[c].spans);
}

/* Takes abandoned span s (its class's lock held) for heap h. */
static void abandoned_take(struct abandoned_class *a, struct span *s, struct heap *h)
{
	dlist_del(&s->link);
	atomic_fetch_add_relaxed(&a->count, (uint32_t)-1);
	atomic_store_relaxed(&s->state, (uint8_t)SPAN_ACTIVE);
	atomic_store_release(&s->owner, h);
}

struct span *abandoned_adopt(struct heap *h, unsigned int cls)
{
	struct abandoned_class *a;
	struct span *s = NULL;

	if (!atomic_load_relaxed(&abandoned[cls].count))
		return NULL;
	a = abandoned_lock_class(cls);
	if (!dlist_empty(&a->spans)) {
		s = dlist_entry(a->spans.next, struct span, link);
		abandoned_take(a, s, h);
	}
	abandoned_unlock_class(cls);
	/* Its remote frees are collected when its free list runs dry. */
	if (s)
		span_check(s);
	return s;
}

int abandoned_adopt_span(struct heap *h, struct span *s)
{
	struct abandoned_class *a = abandoned_lock_class(s->cls);
	int adopted = atomic_load_relaxed(&s->state) == SPAN_ABANDONED;

	if (adopted)
		abandoned_take(a, s, h);
	abandoned_unlock_class(s->cls);
	return adopted;
}

/*
 * Pushes a chain onto abandoned span s under its class's lock: one block p
 * freed by `me` (a suspect confirmed first, the free counted and keyed),
 * or (me NULL) a chain from a remote batch, counted and keyed when
 * batched.  A span whose blocks all came back leaves the list and goes
 * back to the pool, outside the lock (releasing may run the decay check,
 * whose reclaim takes the other classes' locks).  0 when s is no longer
 * abandoned.
 */
static int abandoned_push(struct heap *me, struct span *s, void *head, void *tail, uint32_t n)
{
	unsigned int cls = s->cls;
	struct abandoned_class *a = abandoned_lock_class(cls);
	int ours = atomic_load_relaxed(&s->state) == SPAN_ABANDONED, empty = 0;

	if (ours) {
		if (!me) {
			span_push_remote(s, head, tail, n);
		} else {
			if (BLOCK_KEY(head) == free_key && span_holds_free(s, head))
				hak_fatal("double free", head);
			heap_push_remote(me, s, head);
		}
		atomic_store_relaxed(&s->abandoned_used, s->used);
		empty = span_all_remote(s);
		if (empty) {
			/* Off the list and no longer ABANDONED: no one adopts it. */
			dlist_del(&s->link);
			atomic_fetch_add_relaxed(&a->count, (uint32_t)-1);
			atomic_store_relaxed(&s->state, (uint8_t)SPAN_ACTIVE);
		}
	}
	abandoned_unlock_class(cls);
	if (empty)
		slabpool_release_span(s);
	return ours;
}

int abandoned_free(struct heap *me, struct span *s, void *p)
{
	return abandoned_push(me, s, p, p, 1);
}

int abandoned_send(struct span *s, void *head, void *tail, uint32_t n)
{
	return abandoned_push(NULL, s, head, tail, n);
}

/* Taking a class's lock once per run of spans of that class (a heap's list
 * comes grouped by class). */
void abandon_spans(struct dlist *spans)
{
	struct abandoned_class *a = NULL;
	unsigned int cls = 0;

	while (!dlist_empty(spans)) {
		struct span *s = dlist_entry(spans->next, struct span, link);

		if (!a || s->cls != cls) {
			if (a)
				abandoned_unlock_class(cls);
			cls = s->cls;
			a = abandoned_lock_class(cls);
		}
		dlist_del(&s->link);
		atomic_store_relaxed(&s->abandoned_used, s->used);
		atomic_store_relaxed(&s->state, (uint8_t)SPAN_ABANDONED);
		atomic_store_release(&s->owner, (struct heap *)NULL);
		dlist_add_tail(&a->spans, &s->link);
		atomic_fetch_add_relaxed(&a->count, 1);
	}
	if (a)
		abandoned_unlock_class(cls);
}

void abandoned_reclaim(void)
{
	unsigned int c;

	for (c = 0; c < NUM_CLASSES; c++) {
		struct abandoned_class *a;
		unsigned int n;

		if (!atomic_load_relaxed(&abandoned[c].count))
			continue;
		a = abandoned_lock_class(c);
		n = spans_release_all_remote(&a->spans);
		atomic_fetch_add_relaxed(&a->count, -n);
		abandoned_unlock_class(c);
	}
}

void abandoned_fork_prepare(void)
{
	unsigned int i;

	for (i = 0; i < ABANDONED_LOCKS; i++)
		hak_lock(&abandoned_locks[i].lock);
}

void abandoned_fork_parent(void)
{
	unsigned int i;

	for (i = 0; i < ABANDONED_LOCKS; i++)
		hak_unlock(&abandoned_locks[i].lock);
}
