// SPDX-License-Identifier: MIT
/*
 * Remote frees: one CAS push onto span->remote, or a place in the freeing
 * heap's outgoing batch (remote_batch.c), whose chains are pushed the same
 * way; a push into a FULL span also queues it on its owner's notified list
 * (notify_lock).  See heap.h.
 */
#include <mm/heap/internal.h>
#include <mm/options.h>

/* Under the owner's notify_lock: push a chain onto a FULL span and queue it. */
static int notify_and_push(struct span *s, void *head, void *tail, uint32_t n)
{
	struct heap *h = owner_heap(s);
	int done = 0;

	if (!h)
		return 0;
	hak_lock(&h->notify_lock);
	if (owner_heap(s) == h && atomic_load_relaxed(&s->state) == SPAN_FULL) {
		uintptr_t old = atomic_load_acquire(&s->remote);

		/* The owner may clear DETACHED meanwhile (it freed into the
		 * span itself): then this is a plain push after all. */
		while (old & SPAN_REMOTE_DETACHED) {
			uintptr_t r = (remote_spliced(old, head, n) & ~SPAN_REMOTE_DETACHED) |
				      SPAN_REMOTE_NOTIFIED;

			*(void **)tail = link_encode(s, tail, remote_list(old));
			if (atomic_cas_release(&s->remote, &old, r)) {
				atomic_store_relaxed(&s->state, SPAN_NOTIFIED);
				s->notify_next = h->notified;
				atomic_store_relaxed(&h->notified, s);
				done = 1;
				break;
			}
		}
	}
	hak_unlock(&h->notify_lock);
	if (done)
		purge_notify();
	return done;
}

/*
 * Owner: a free into one of its own FULL or NOTIFIED spans.  Takes the span
 * back (ACTIVE, on its partial list) so that this free, and the ones after
 * it, stay local.
 */
static void span_reattach(struct heap *h, struct span *s, void *p)
{
	hak_lock(&h->notify_lock);
	/* Purged: every block had come back, so p is free already (the
	 * purge came between the free's block test and here). */
	if (span_take_remote_flags(s))
		hak_fatal("double free", p);
	if (atomic_load_relaxed(&s->state) == SPAN_NOTIFIED) {
		struct span **pp = &h->notified;

		while (*pp && *pp != s)
			pp = &(*pp)->notify_next;
		if (*pp)
			atomic_store_relaxed(pp, s->notify_next);
		s->notify_next = NULL;
	}
	span_attach_partial(h, s, 1);
	hak_unlock(&h->notify_lock);
}

/*
 * Owner, no lock: takes back its own FULL span by clearing DETACHED.  If a
 * remote freer cleared it first (the span is being notified), returns 0
 * and span_reattach does it under the lock.
 */
static int span_reattach_fast(struct heap *h, struct span *s)
{
	uintptr_t r;

	if (atomic_load_relaxed(&s->state) != SPAN_FULL)
		return 0;
	r = atomic_load_relaxed(&s->remote);
	while (r & SPAN_REMOTE_DETACHED) {
		if (atomic_cas_acq_rel(&s->remote, &r, r & ~SPAN_REMOTE_DETACHED)) {
			span_attach_partial(h, s, 1);
			return 1;
		}
	}
	return 0;
}

/*
 * Owner frees in a row into one partial span that make it current: with
 * two, frees in a scattered order (larson) switched spans often enough to
 * cost instructions; three keep most of the gain on rings of blocks bigger
 * than a span (docs/design.md).  "In a row": no other free leaves the fast
 * path between them, and the class's current span handed out at most one
 * block meanwhile (its used grew by 0 or 1: a free-then-malloc loop, or a
 * burst of frees).
 */
#define PARTIAL_RUN 3
/* Owner frees into a partial span, each the first of a run, after which
 * its OWNER_PARTIAL flag is dropped: frees in a scattered order stay on
 * the fast path until the span is displaced or detached again. */
#define PARTIAL_FREES_MAX 2

/*
 * The owner's free into one of its spans that is not current: a partial
 * span, or a FULL or NOTIFIED one, which it takes back first.  PARTIAL_RUN
 * frees in a row into the same span make it the current one (the current
 * span goes to the head of the partial list), so that malloc hands out
 * the blocks just freed, still in cache, rather than the current span's
 * older ones.
 */
static noinline void heap_free_own_partial(struct heap *h, struct span *s, void *p)
{
	uint64_t key = free_key;
	struct span *cur;

	if (atomic_load_relaxed(&s->state) != SPAN_ACTIVE && !span_reattach_fast(h, s))
		span_reattach(h, s, p);
	cur = h->current[s->cls];
	if (cur == s) {
		/* Made current since the caller read its owner. */
	} else if (h->last_partial_free != s || cur->used - h->partial_cur_used > 1) {
		h->partial_run = 1;
		if (++s->partial_frees >= PARTIAL_FREES_MAX)
			atomic_store_release(&s->owner, h);
	} else if (++h->partial_run >= PARTIAL_RUN) {
		unsigned int cls = s->cls;

		dlist_del(&s->link);
		span_unkeep(h, s);
		if (cur != &empty_span)
			span_attach_partial(h, cur, 0);
		heap_set_current(h, cls, s);
		cur = s;
	}
	h->last_partial_free = s;
	h->partial_cur_used = cur->used;
	if (unlikely(BLOCK_KEY(p) == key)) {
		heap_free_suspect(h, s, p);
		return;
	}
	heap_push_local(h, s, p, key);
}

void span_push_remote(struct span *s, void *head, void *tail, uint32_t n)
{
	uintptr_t old = atomic_load_relaxed(&s->remote);

	for (;;) {
		if (old & SPAN_REMOTE_DETACHED) {
			if (notify_and_push(s, head, tail, n))
				return;
			old = atomic_load_relaxed(&s->remote);
			if (old & SPAN_REMOTE_DETACHED)
				continue;
		}
		/* Under memcheck the freed block is no-access (mm/valgrind.h). */
		if (vg_on())
			vg_quiet_begin();
		*(void **)tail = link_encode(s, tail, remote_list(old));
		if (vg_on())
			vg_quiet_end();
		if (atomic_cas_release(&s->remote, &old, remote_spliced(old, head, n))) {
			/* Its owner has not taken it back yet: these may be
			 * its last blocks. */
			if (old & SPAN_REMOTE_NOTIFIED)
				purge_notify();
			return;
		}
	}
}

/* Counts a remote free, and marks the block free in the debug bitmap. */
static always_inline void heap_account_remote_free(struct heap *me, struct span *s, void *p)
{
	double_free_mark_remote(s, p);
	if (!IS_ENABLED(CONFIG_STATS))
		return;
	if (me->kind == HEAP_LIVE)
		me->class_remote[s->cls]++;
	else
		stat_class_fold(s->cls, 0, 0, 1);
}

void heap_push_remote(struct heap *me, struct span *s, void *p)
{
	heap_account_remote_free(me, s, p);
	BLOCK_KEY(p) = free_key;
	span_push_remote(s, p, p, 1);
	heap_stat_any(me, STAT_REMOTE_SENDS);
}

void span_send_remote(struct span *s, void *head, void *tail, uint32_t n)
{
	/* An abandoned span's last blocks send it back (abandoned_send);
	 * one adopted meanwhile takes a plain push. */
	while (!owner_heap(s) && remote_count(atomic_load_acquire(&s->remote)) + n >=
					 atomic_load_relaxed(&s->abandoned_used)) {
		if (abandoned_send(s, head, tail, n))
			return;
	}
	span_push_remote(s, head, tail, n);
}

/*
 * A free by a thread that is not the span's owner, the cases other than a
 * plain push: a span with no owner, and a block that holds the key.  A live
 * heap adopts an ABANDONED span, so that this and later frees into it are
 * local (and the owner's free checks the key).  A suspected double free
 * goes to the owner, or is confirmed under the lock that stands for the
 * owner (the shared heap's, an abandoned span's class lock).
 */
static noinline void heap_free_remote_slow(struct heap *me, struct span *s, void *p)
{
	if (BLOCK_KEY(p) == free_key && remote_batch_defer(me, s, p))
		return;
	for (;;) {
		struct heap *owner = owner_heap(s);
		int suspect = BLOCK_KEY(p) == free_key;

		if (owner == me && me->kind == HEAP_LIVE) {
			heap_free_own_partial(me, s, p);
			return;
		}
		if (!owner && me->kind == HEAP_LIVE && abandoned_adopt_span(me, s)) {
			/* Take what others freed while it was abandoned, so that
			 * it empties when its last live block comes back. */
			span_collect(s);
			span_check(s);
			dlist_add(&me->partial[s->cls], &s->link);
			heap_free_block(s, p);
			return;
		}
		/* Until this push, used > |remote|: s is still there.  A
		 * suspect, or the last block of an abandoned span (which sends
		 * the span back), goes under the class's lock. */
		if (!owner && (suspect || remote_count(atomic_load_acquire(&s->remote)) + 1 >=
					  atomic_load_relaxed(&s->abandoned_used))) {
			if (abandoned_free(me, s, p)) {
				/* It may have sent the span back. */
				heap_purge_start_if_wanted();
				return;
			}
			continue;
		}
		if (!suspect) {
			heap_push_remote(me, s, p);
			heap_purge_start_if_wanted();
			return;
		}
		if (owner == &shared_heap ? shared_heap_free_suspect(me, s, p) :
		    suspect_hand_over(owner, s, p))
			return;
		/* The owner is exiting, or another heap adopted the span. */
		cpu_relax();
	}
}

/*
 * A free by a thread that does not own the span (or of an owner's FULL
 * span): a place in a live heap's batch, or one CAS push onto the remote
 * list.  The other cases are kept out of line.
 */
void heap_free_remote(struct span *s, void *p)
{
	struct heap *me = tls_heap;
	struct heap *owner = owner_heap(s);
	uint64_t key = free_key;
	uintptr_t old;

	if (unlikely(owner == me && me->kind == HEAP_LIVE)) {
		heap_free_own_partial(me, s, p);
		return;
	}
	if (unlikely(!owner || BLOCK_KEY(p) == key)) {
		heap_free_remote_slow(me, s, p);
		return;
	}
	heap_account_remote_free(me, s, p);
	BLOCK_KEY(p) = key;
	/* Blocks of thread heaps only: every free into the shared heap is a
	 * remote one, collected under its lock, and is not held back. */
	if (IS_ENABLED(CONFIG_REMOTE_BATCH) && likely(owner != &shared_heap)) {
		if (likely(me->kind == HEAP_LIVE)) {
			remote_batch_add(me, s, p);
			return;
		}
		/* A thread that only frees gets a heap for its batch. */
		if (me->kind == HEAP_EMPTY && (me = heap_create_for_thread())) {
			remote_batch_add(me, s, p);
			return;
		}
		me = tls_heap;
	}
	heap_stat_any(me, STAT_REMOTE_SENDS);
	old = atomic_load_relaxed(&s->remote);
	do {
		if (unlikely(old & (SPAN_REMOTE_DETACHED | SPAN_REMOTE_NOTIFIED))) {
			span_push_remote(s, p, p, 1);
			return;
		}
		*(void **)p = link_encode(s, p, remote_list(old));
	} while (!atomic_cas_release(&s->remote, &old, remote_pushed(old, p)));
}

void heap_drain_notified(struct heap *h)
{
	struct span *s, *purged = NULL;

	if (!atomic_load_relaxed(&h->notified))
		return;
	hak_lock(&h->notify_lock);
	s = h->notified;
	atomic_store_relaxed(&h->notified, (struct span *)NULL);
	while (s) {
		struct span *next = s->notify_next;

		s->notify_next = NULL;
		if (span_take_remote_flags(s)) {
			/* Empty, its pages gone: back to the pool, unlocked. */
			dlist_del(&s->link);
			s->notify_next = purged;
			purged = s;
		} else {
			span_attach_partial(h, s, 1);
		}
		s = next;
	}
	hak_unlock(&h->notify_lock);
	while (purged) {
		s = purged;
		purged = s->notify_next;
		s->notify_next = NULL;
		slabpool_release_span(s);
	}
}

int span_detach(struct heap *h, struct span *s)
{
	uintptr_t expect = 0;

	/* FULL is published before the DETACHED bit (the CAS releases it): a
	 * remote freer that sees the bit finds the span FULL under the lock.
	 * No lock is needed here. */
	atomic_store_relaxed(&s->state, SPAN_FULL);
	atomic_store_release(&s->owner, (struct heap *)((uintptr_t)h | OWNER_DETACHED));
	if (!atomic_cas_acq_rel(&s->remote, &expect, SPAN_REMOTE_DETACHED)) {
		atomic_store_relaxed(&s->state, SPAN_ACTIVE);
		atomic_store_release(&s->owner, h);
		return -1;
	}
	dlist_add(&h->full, &s->link);
	return 0;
}

/* Nothing else collects partial spans emptied by remote frees while the
 * owner allocates no more of their class. */
void heap_sweep_remote(struct heap *h)
{
	unsigned int c;

	heap_drain_notified(h);
	for (c = 0; c < NUM_CLASSES; c++) {
		struct dlist *pos = h->partial[c].next;

		while (pos != &h->partial[c]) {
			struct span *s = dlist_entry(pos, struct span, link);

			pos = pos->next;
			if (s->used && span_all_remote(s)) {
				span_collect(s);
				/* Not heap_free_local_slow: no thread starts
				 * in the middle of this walk. */
				heap_noncurrent_emptied(h, s);
			}
		}
	}
}
