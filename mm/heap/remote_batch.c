// SPDX-License-Identifier: MIT
/*
 * Remote frees in batches (CONFIG_REMOTE_BATCH).  A live heap's free of a
 * block another heap owns appends it to the chain of its span in the
 * freeing heap's batch (heap.h); a chain is sent with one CAS that splices
 * it onto the span's remote list and adds its length to the remote word's
 * count.  Grouping by span, not by owner, needs no name for the owner that
 * outlives heap reuse: the span itself is the address, and whatever state
 * it reached meanwhile (FULL, abandoned, adopted by the freeing heap
 * itself) is handled when the chain is sent (span_send_remote).
 *
 * Bounds and flushes: a chain is sent when it holds REMOTE_CHAIN_BLOCKS
 * blocks or REMOTE_CHAIN_BYTES bytes (a block of more than half that is
 * sent alone, at once), and when another span needs its slot, so a batch
 * holds at most REMOTE_BATCH_SLOTS times that; everything is sent by the heap's
 * periodic check (every MAINTENANCE_EVERY slow paths: the decay pass),
 * every MAINTENANCE_EVERY chains started (a thread that only frees), by
 * malloc_trim, at thread exit before the heap becomes the dead stand-in,
 * and, for threads that did not survive a fork, by the child.  Frees by
 * anything but a live heap (the dead stand-in after thread exit, the
 * bootstrap and shared heaps), and frees into the shared heap's spans,
 * push directly.  Until a chain is sent its
 * blocks count as used by their span, which therefore stays.
 *
 * Double frees (suspect.c): a batched block carries the key.  A block
 * holding the key is never batched; the freeing thread looks for it in its
 * own batch first (there: a double free).  Another thread's batch may hold
 * it too, and then neither the owner's lists nor the key can tell a double
 * free from a live block whose data holds the key.  Such a suspect waits,
 * counted as used, on a deferred list with a new epoch E; it is confirmed
 * as usual once every heap whose batch was not empty has sent its whole
 * batch at an epoch >= E, so that a first free still held then is on a
 * list by the time it is looked for.
 */
#include <mm/heap/internal.h>

/* Advanced by each deferral; a whole send records the value it began at. */
static uint64_t batch_epoch;

/* The suspect this thread is freeing after the check (remote_batch_free_checked). */
static __thread void *suspect_checked __attribute__((tls_model("initial-exec")));

struct deferred {
	void *p;
	uint64_t epoch;
};

/* Lock order: a leaf, taken with no other lock held (heaps_lock is taken
 * after it is released), except by the fork handler, last. */
struct hak_lock deferred_lock = HAK_LOCK_INIT("suspect-deferred");
static struct deferred *deferred_buf;   /* deferred_lock; OS memory */
static uint32_t deferred_cap;           /* deferred_lock */
static uint32_t deferred_n;             /* deferred_lock; relaxed peek */

/* Sends slot i's chain.  The slot is freed before the CAS (a fork caught
 * in between loses the chain instead of sending it twice); its bit drops
 * after it, so that a suspect check never misses a chain in flight. */
static void remote_slot_send(struct heap *h, unsigned int i)
{
	struct remote_batch *rb = &h->batch;
	struct remote_slot *sl = &rb->slot[i];
	struct span *s = sl->span;

	atomic_store_release(&sl->span, (struct span *)NULL);
	span_send_remote(s, sl->head, sl->tail, sl->n);
	heap_stat_inc(h, STAT_REMOTE_SENDS);
	atomic_store_release(&rb->slots_used, rb->slots_used & ~(1ULL << i));
}

void remote_batch_start(struct heap *h, struct span *s, void *p)
{
	struct remote_batch *rb = &h->batch;
	struct remote_slot *sl = remote_slot_of(h, s);
	unsigned int i = (unsigned int)(sl - rb->slot);
	uint32_t limit = REMOTE_CHAIN_BLOCKS;

	if (s->block_size > REMOTE_CHAIN_BYTES / REMOTE_CHAIN_BLOCKS)
		limit = REMOTE_CHAIN_BYTES / s->block_size;
	if (limit <= 1) {
		/* Over half a chain's bytes: sent alone, at once. */
		span_send_remote(s, p, p, 1);
		heap_stat_inc(h, STAT_REMOTE_SENDS);
		return;
	}
	if (sl->span)
		remote_slot_send(h, i);
	sl->head = p;
	sl->tail = p;
	sl->n = 1;
	sl->limit = limit;
	atomic_store_release(&sl->span, s);
	atomic_store_release(&rb->slots_used, rb->slots_used | 1ULL << i);
	/* A thread that only frees takes no slow path of malloc: its chains
	 * that fill slowly go out here, and its whole sends let deferred
	 * suspects be confirmed. */
	if (++rb->starts % MAINTENANCE_EVERY == 0)
		remote_batch_send(h);
	/* The free returns next: a thread may start (a sent chain may have
	 * emptied a span). */
	heap_purge_start_if_wanted();
}

void remote_batch_send_chain(struct heap *h, struct span *s)
{
	remote_slot_send(h, (unsigned int)(remote_slot_of(h, s) - h->batch.slot));
	heap_purge_start_if_wanted();
}

void remote_batch_send(struct heap *h)
{
	struct remote_batch *rb = &h->batch;
	uint64_t epoch = atomic_load_acquire(&batch_epoch);

	while (rb->slots_used)
		remote_slot_send(h, (unsigned int)__builtin_ctzll(rb->slots_used));
	atomic_store_release(&rb->sent_epoch, epoch);
}

/* Whether p, a block of s, waits in h's batch. */
static int remote_batch_holds(struct heap *h, struct span *s, void *p)
{
	struct remote_slot *sl = remote_slot_of(h, s);
	void *b = sl->head;
	uint32_t i;

	if (sl->span != s)
		return 0;
	for (i = 0; i < sl->n; i++) {
		if (b == p)
			return 1;
		if (i + 1 < sl->n)
			b = link_next(s, b);
	}
	return 0;
}

/*
 * Whether a heap other than me may hold a block in its batch that it held
 * when epoch `since` began: its batch is not empty and it has not sent it
 * whole since (since == 0: whether any other batch is not empty).
 */
static int batches_may_hold(struct heap *me, uint64_t since)
{
	struct heap *h;
	int may = 0;

	hak_lock(&heaps_lock);
	for (h = all_heaps; h && !may; h = h->all_next)
		may = h != me && atomic_load_acquire(&h->batch.slots_used) &&
		      (!since || atomic_load_acquire(&h->batch.sent_epoch) < since);
	hak_unlock(&heaps_lock);
	return may;
}

int remote_batch_defer(struct heap *me, struct span *s, void *p)
{
	uint64_t epoch;

	if (suspect_checked == p)
		return 0;
	if (me->kind == HEAP_LIVE && remote_batch_holds(me, s, p))
		hak_fatal("double free", p);
	if (!batches_may_hold(me, 0))
		return 0;
	epoch = atomic_fetch_add_acq_rel(&batch_epoch, 1) + 1;
	hak_lock(&deferred_lock);
	if (!os_array_grow((void **)&deferred_buf, &deferred_cap, deferred_n, sizeof(*deferred_buf)))
		hak_fatal("out of memory holding a suspected double free", p);
	deferred_buf[deferred_n] = (struct deferred){ p, epoch };
	atomic_store_relaxed(&deferred_n, deferred_n + 1);
	hak_unlock(&deferred_lock);
	return 1;
}

void remote_batch_free_checked(void *p)
{
	suspect_checked = p;
	heap_free_block(span_of(ss_of((uintptr_t)p), (uintptr_t)p), p);
	suspect_checked = NULL;
}

/* The newest deferred suspect first: when it must still wait, so may the
 * others (their batches are checked again on the next call). */
void remote_batch_drain(struct heap *me)
{
	while (atomic_load_relaxed(&deferred_n)) {
		struct deferred d;
		int taken = 0;

		hak_lock(&deferred_lock);
		d = deferred_n ? deferred_buf[deferred_n - 1] : (struct deferred){ NULL, 0 };
		hak_unlock(&deferred_lock);
		if (!d.p || batches_may_hold(me, d.epoch))
			return;
		hak_lock(&deferred_lock);
		if (deferred_n && deferred_buf[deferred_n - 1].p == d.p &&
		    deferred_buf[deferred_n - 1].epoch == d.epoch) {
			atomic_store_relaxed(&deferred_n, deferred_n - 1);
			taken = 1;
		}
		hak_unlock(&deferred_lock);
		if (taken)
			remote_batch_free_checked(d.p);
	}
}

void remote_batch_fork_prepare(void)
{
	hak_lock(&deferred_lock);
}

void remote_batch_fork_parent(void)
{
	hak_unlock(&deferred_lock);
}

/*
 * Fork child, h's thread gone: it may have stopped while adding a block
 * (the block linked, head or count not yet stored) or while sending (the
 * slot freed, the CAS not made).  The chain is recounted from its head to
 * its tail; a block caught in flight is lost, never sent twice.
 */
void remote_batch_fork_child(struct heap *h)
{
	struct remote_batch *rb = &h->batch;
	unsigned int i;

	for (i = 0; i < REMOTE_BATCH_SLOTS; i++) {
		struct remote_slot *sl = &rb->slot[i];
		struct span *s = atomic_load_acquire(&sl->span);
		void *head = atomic_load_acquire(&sl->head), *b = head;
		uint32_t n = 1, most = atomic_load_acquire(&sl->n) + 1;

		atomic_store_relaxed(&sl->span, (struct span *)NULL);
		if (!s || !b)
			continue;
		while (b && b != sl->tail && n <= most) {
			b = link_next(s, b);
			n++;
		}
		if (b == sl->tail)
			span_send_remote(s, head, sl->tail, n);
	}
	atomic_store_relaxed(&rb->slots_used, 0);
}
