// SPDX-License-Identifier: MIT
/* Process init; thread heaps' creation, teardown and reuse; fork. */
#include <errno.h>
#include <pthread.h>

#include <mm/heap/internal.h>
#include <mm/options.h>
#include <mm/os.h>
#include <mm/policy.h>

__thread struct heap *tls_heap __attribute__((tls_model("initial-exec"))) = &empty_heap;

/* The stand-in span: no free blocks, never owned. */
struct span empty_span;

struct heap empty_heap = HEAP_STATIC_INIT(HEAP_EMPTY);
static struct heap dead_heap = HEAP_STATIC_INIT(HEAP_DEAD);
static struct heap creating_heap = HEAP_STATIC_INIT(HEAP_CREATING);

struct hak_lock heaps_lock = HAK_LOCK_INIT("heaps");
struct heap *all_heaps;           /* heaps_lock */
static struct heap *free_heaps;   /* heaps_lock */

/* Heaps are carved from OS chunks of this many. */
#define HEAPS_PER_CHUNK 16

int hak_init_state;
static int init_error;
static pthread_mutex_t init_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_key_t heap_key;

static void heap_thread_exit(void *arg);

/*
 * The purge pass's part in the heaps (the decay hook, under no lock): a
 * NOTIFIED span whose blocks all came back while its owner called nothing
 * (an idle thread whose blocks another thread frees).  Under the owner's
 * notify_lock, which the owner takes to take the span back, the remote
 * list is taken whole (count == used: no block is live) and the span's
 * pages decommitted; the owner finds it purged (span_take_remote_flags).
 * Returns 1 while some notified span is still filling (its count moved
 * since the last pass): the thread looks again a period later.
 */
static int heaps_purge_notified(void)
{
	struct heap *h;
	int filling = 0;

	hak_lock(&heaps_lock);
	for (h = all_heaps; h; h = h->all_next) {
		struct span *s;

		if (!atomic_load_relaxed(&h->notified))
			continue;
		hak_lock(&h->notify_lock);
		for (s = h->notified; s; s = s->notify_next) {
			uintptr_t r = atomic_load_acquire(&s->remote);

			if (r & SPAN_REMOTE_PURGED)
				continue;
			if (remote_count(r) == s->used &&
			    atomic_cas_acq_rel(&s->remote, &r,
					       SPAN_REMOTE_NOTIFIED | SPAN_REMOTE_PURGED)) {
				span_set_carved(s, 0);
				span_decommit(s, 0);
				stat_global_add(STAT_SPANS_PURGED, 1);
				continue;
			}
			if (remote_count(r) != s->purge_seen) {
				s->purge_seen = remote_count(r);
				filling = 1;
			}
		}
		hak_unlock(&h->notify_lock);
	}
	hak_unlock(&heaps_lock);
	return filling;
}

/* The decay check's hook: spans that came back whole, everywhere. */
static int heaps_reclaim(uint64_t now_ms, int force)
{
	abandoned_reclaim();
	shared_heap_trim();
	return heaps_purge_notified();
}

int hak_init_slow(void)
{
	int err;

	if (atomic_load_acquire(&hak_init_state) == INIT_FAILED)
		return init_error;
	pthread_mutex_lock(&init_mutex);
	if (hak_init_state == INIT_NOT_STARTED) {
		hak_init_state = INIT_RUNNING;
		vg_detect();
		err = os_init();
		if (!err) {
			free_key = os_random() | 1;
			options_init();
			policy_init();
			if (hak_option(OPT_STATS))
				os_keep_stderr();
			err = registry_init();
		}
		if (!err) {
			abandoned_init();
			integrity_init();
			decay_add_hook(heaps_reclaim);
#if IS_ENABLED(CONFIG_DEBUG_TRACE)
			hak_fatal_hook = heap_trace_dump_fatal;
#endif
			err = pthread_key_create(&heap_key, heap_thread_exit);
		}
		init_error = err ? ENOMEM : 0;
		atomic_store_release(&hak_init_state, err ? INIT_FAILED : INIT_DONE);
	}
	pthread_mutex_unlock(&init_mutex);
	return hak_init_state == INIT_DONE ? 0 : (init_error ? init_error : ENOMEM);
}

static struct heap *heap_get_unused(void)
{
	static char *chunk;
	static size_t chunk_left;
	struct heap *h;
	size_t sz = round_up_pow2(sizeof(struct heap), CACHE_LINE_SIZE);

	hak_lock(&heaps_lock);
	h = free_heaps;
	if (h) {
		free_heaps = h->free_next;
	} else {
		if (chunk_left < sz) {
			void *p;
			size_t csz = round_up_pow2(sz * HEAPS_PER_CHUNK, os_page_size());

			if (os_map(csz, &p)) {
				hak_unlock(&heaps_lock);
				return NULL;
			}
			/* Heaps hold block addresses (the trace ring):
			 * not pointers to the leak scan. */
			if (vg_on())
				vg_hide(p, csz);
			chunk = p;
			chunk_left = csz;
			stat_global_add(STAT_BYTES_MAPPED, (int64_t)csz);
		}
		h = (struct heap *)chunk;
		chunk += sz;
		chunk_left -= sz;
		h->all_next = all_heaps;
		all_heaps = h;
		h->notify_lock = (struct hak_lock)HAK_LOCK_INIT("heap-notify");
	}
	hak_unlock(&heaps_lock);
	return h;
}

struct heap *heap_create_for_thread(void)
{
	struct heap *h;

	if (hak_init() != 0)
		return NULL;
	tls_heap = &creating_heap;
	h = heap_get_unused();
	if (!h) {
		tls_heap = &empty_heap;
		return NULL;
	}
	/* Everything before notify_lock; the lock may be in use. */
	memset(h, 0, offsetof(struct heap, notify_lock));
	heap_init_lists(h);
	h->reserve_limit = (uint32_t)hak_option(OPT_HEAP_RESERVE);
	h->swept_ms = os_now_ms();   /* nothing to sweep for a decay time */
	h->rng = os_random();
#if IS_ENABLED(CONFIG_PROFILER)
	h->prof_stack_top = os_stack_top();
#endif
	atomic_store_release(&h->kind, (uint32_t)HEAP_LIVE);
	/* From here on a re-entrant calloc (pthread_setspecific with a key
	 * index of 32 or more) is served by the new heap itself. */
	tls_heap = h;
	pthread_setspecific(heap_key, h);
	return h;
}

void heap_purge_start(void)
{
	struct heap *h = tls_heap;

	tls_heap = &creating_heap;
	purge_start();
	tls_heap = h;
}

/*
 * A fork child's copy of a span whose owner thread did not survive: that
 * thread may have stopped inside a fast path, between popping or pushing a
 * block and updating `used`.  Recount `used` from the free list (the block
 * such a malloc was taking is never handed out in the child).
 */
static void span_recount(struct span *s)
{
	uint32_t n = 0;
	void *b = heap_free_head(s);

	while (b && n < s->carved) {
		n++;
		b = link_next(s, b);
	}
	s->used = s->carved - n;
}

/*
 * Owner: gives back a span it no longer wants: an empty one to the pool, one
 * with live blocks onto `abandon` (s->link free), for abandon_spans.
 */
static void span_retire(struct span *s, int orphaned, struct dlist *abandon)
{
	if (orphaned)
		span_recount(s);
	span_check(s);
	if (span_all_remote(s))
		slabpool_release_span(s);
	else
		dlist_add_tail(abandon, &s->link);
}

/* Releases everything a heap holds; h must not be in use by any thread. */
static void heap_release_all(struct heap *h)
{
	struct dlist *pos, abandon;
	unsigned int c;

	/* Full spans: re-attach them under the lock so that no notifier can
	 * queue them on this heap afterwards. */
	hak_lock(&h->notify_lock);
	while (!dlist_empty(&h->full)) {
		struct span *s = dlist_entry(h->full.next, struct span, link);

		span_take_remote_flags(s);
		s->notify_next = NULL;
		span_attach_partial(h, s, 0);
	}
	atomic_store_relaxed(&h->notified, (struct span *)NULL);
	h->kind = HEAP_DEAD;
	hak_unlock(&h->notify_lock);

	dlist_init(&abandon);
	for (c = 0; c < NUM_CLASSES; c++) {
		struct span *s = h->current[c];

		heap_set_current(h, c, &empty_span);
		if (s != &empty_span)
			span_retire(s, 0, &abandon);
		while ((pos = h->partial[c].next) != &h->partial[c]) {
			s = dlist_entry(pos, struct span, link);
			dlist_del(&s->link);
			s->kept_empty = 0;
			span_retire(s, 0, &abandon);
		}
	}
	abandon_spans(&abandon);
	h->empty_kept = 0;
	/* Handed over after the last drain: freed as by a dead thread. */
	heap_free_suspects_left(h);
	heap_merge_stats(h);
}

/* Puts h on the unused list for the next thread (heaps_lock held). */
static void heap_put_unused(struct heap *h)
{
	h->kind = HEAP_UNUSED;
	h->free_next = free_heaps;
	free_heaps = h;
}

/* The pthread key destructor. */
static void heap_thread_exit(void *arg)
{
	struct heap *h = arg;

	if (!h || h->kind != HEAP_LIVE)
		return;
	remote_batch_send(h);
	heap_drain_suspects(h);
	tls_heap = &dead_heap;
	heap_release_all(h);
	hak_lock(&heaps_lock);
	heap_put_unused(h);
	hak_unlock(&heaps_lock);
}

void heap_trim_thread(void)
{
	struct heap *h = tls_heap;

	if (h->kind == HEAP_LIVE)
		remote_batch_send(h);
	/* Any thread confirms the suspects that waited for batches. */
	remote_batch_drain(h);
	if (h->kind != HEAP_LIVE)
		return;
	heap_drain_suspects(h);
	heap_sweep_remote(h);
	heap_release_kept(h, 0);
}

void heap_release_kept(struct heap *h, uint32_t keep_slabs)
{
	unsigned int c;

	for (c = 0; c < NUM_CLASSES && h->empty_kept > keep_slabs; c++) {
		struct dlist *pos = h->partial[c].next;

		while (pos != &h->partial[c] && h->empty_kept > keep_slabs) {
			struct span *s = dlist_entry(pos, struct span, link);

			pos = pos->next;
			if (s->kept_empty) {
				s->kept_empty = 0;
				h->empty_kept -= s->nslabs;
				dlist_del(&s->link);
				slabpool_release_span(s);
			}
		}
	}
}

/* ------------------------------------------------------------------ */
/* fork: every lock of the engine, in the order of mm/heap/heap.h */

void heaps_fork_prepare(void)
{
	struct heap *h;

	hak_lock(&shared_lock);
	hak_lock(&heaps_lock);
	/* The shared heap is on no list: its notify_lock (a remote free into
	 * one of its FULL spans) first. */
	hak_lock(&shared_heap.notify_lock);
	for (h = all_heaps; h; h = h->all_next)
		hak_lock(&h->notify_lock);
	abandoned_fork_prepare();
	remote_batch_fork_prepare();
}

void heaps_fork_parent(void)
{
	struct heap *h;

	remote_batch_fork_parent();
	abandoned_fork_parent();
	for (h = all_heaps; h; h = h->all_next)
		hak_unlock(&h->notify_lock);
	hak_unlock(&shared_heap.notify_lock);
	hak_unlock(&heaps_lock);
	hak_unlock(&shared_lock);
}

struct orphans {
	struct heap *me;
	struct dlist list;
};

/*
 * Fork child: a span whose owner thread did not survive.  The dead
 * thread's own lists may have been caught mid-update, so they are not
 * walked; the spans are found from the superslabs instead.
 */
static void collect_orphan(struct span *s, void *arg)
{
	struct orphans *o = arg;
	struct heap *h = owner_heap(s);

	if (atomic_load_relaxed(&s->state) == SPAN_ABANDONED || atomic_load_relaxed(&s->state) == SPAN_FREE)
		return;
	if (h == o->me || h == &shared_heap)
		return;
	if (h && h->kind != HEAP_LIVE)
		return;
	/* A purged span's free list is empty and its carved 0: the recount
	 * finds it empty. */
	atomic_store_relaxed(&s->remote, atomic_load_relaxed(&s->remote) &
			     ~(SPAN_REMOTE_DETACHED | SPAN_REMOTE_NOTIFIED | SPAN_REMOTE_PURGED));
	atomic_store_release(&s->owner, (struct heap *)NULL);
	atomic_store_relaxed(&s->state, (uint8_t)SPAN_ACTIVE);
	s->notify_next = NULL;
	s->kept_empty = 0;
	dlist_init(&s->link);
	dlist_add_tail(&o->list, &s->link);
}

void heaps_fork_child(void)
{
	struct heap *h, *me = tls_heap;
	struct dlist abandon;
	struct orphans o;

	/* The forking thread took every lock in prepare and is the one
	 * thread of the child, so it releases them as the parent does. */
	heaps_fork_parent();
	decay_fork_child();

	/* Threads other than the forking one did not survive: their spans
	 * are recounted and abandoned, so this process can adopt them. */
	o.me = me;
	dlist_init(&o.list);
	span_cache_fork_child();
	slabpool_for_each_span(collect_orphan, &o);
	dlist_init(&abandon);
	while (!dlist_empty(&o.list)) {
		struct span *s = dlist_entry(o.list.next, struct span, link);

		dlist_del(&s->link);
		span_retire(s, 1, &abandon);
	}
	abandon_spans(&abandon);
	for (h = all_heaps; h; h = h->all_next) {
		if (h == me || h->kind != HEAP_LIVE)
			continue;
		remote_batch_fork_child(h);
		heap_init_lists(h);
		atomic_store_relaxed(&h->notified, (struct span *)NULL);
		h->empty_kept = 0;
		heap_merge_stats(h);
		h->kind = HEAP_DEAD;
		heap_free_suspects_left(h);
		heap_put_unused(h);
	}
}
