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
 * Under its class's lock, s ABANDONED, after a push onto s's remote list:
 * takes s off the list when its blocks all came back (1: the caller
 * releases it, outside the lock: releasing may run the decay check, whose
 * reclaim takes the other classes' locks).
 */
static int abandoned_pushed(struct abandoned_class *a, struct span *s)
{
	atomic_store_relaxed(&s->abandoned_used, s->used);
	if (!span_all_remote(s))
		return 0;
	/* Off the list and no longer ABANDONED: no one adopts it. */
	dlist_del(&s->link);
	atomic_fetch_add_relaxed(&a->count, (uint32_t)-1);
	atomic_store_relaxed(&s->state, (uint8_t)SPAN_ACTIVE);
	return 1;
}

int abandoned_free(struct heap *me, struct span *s, void *p)
{
	unsigned int cls = s->cls;
	struct abandoned_class *a = abandoned_lock_class(cls);
	int ours = atomic_load_relaxed(&s->state) == SPAN_ABANDONED, empty = 0;

	if (ours) {
		if (BLOCK_KEY(p) == free_key && span_holds_free(s, p))
			hak_fatal("double free", p);
		heap_push_remote(me, s, p);
		empty = abandoned_pushed(a, s);
	}
	abandoned_unlock_class(cls);
	if (empty)
		slabpool_release_span(s);
	return ours;
}

int abandoned_send(struct span *s, void *head, void *tail, uint32_t n)
{
	unsigned int cls = s->cls;
	struct abandoned_class *a = abandoned_lock_class(cls);
	int ours = atomic_load_relaxed(&s->state) == SPAN_ABANDONED, empty = 0;

	if (ours) {
		span_push_remote(s, head, tail, n);
		empty = abandoned_pushed(a, s);
	}
	abandoned_unlock_class(cls);
	if (empty)
		slabpool_release_span(s);
	return ours;
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
