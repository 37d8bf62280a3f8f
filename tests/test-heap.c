/* SPDX-License-Identifier: MIT */
/*
 * White-box tests of the thread heaps (mm/heap.c): the accounting
 * equation, no slab churn in a malloc/free loop, abandonment and reclaim
 * of a dead thread's spans, remote frees, the notification of FULL spans,
 * a clean thread exit, and a corrupt free-list link caught before use.
 */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>

#include <mm/heap/internal.h>
#include <mm/options.h>
#include <mm/stats.h>
#include <mm/superslab/superslab.h>
#include "harness.h"
#include "testutil.h"

static struct span *span_at(void *p)
{
	uintptr_t a = (uintptr_t)p;

	ck_assert_uint_eq(registry_kind(a), REG_SUPERSLAB);
	return span_of(ss_of(a), a);
}

static uint32_t free_list_len(struct span *s)
{
	uint32_t n = 0;
	void *b;

	for (b = s->free; b; b = link_next(s, b)) {
		ck_assert_int_ge(span_block_index(s, (uintptr_t)b), 0);
		ck_assert_uint_le(++n, s->carved);
	}
	return n;
}

/* Length of the remote list, walked; it must match the count the remote
 * word carries. */
static uint32_t remote_len(struct span *s)
{
	uint32_t n = 0;
	uintptr_t r = atomic_load_acquire(&s->remote);
	void *b = remote_list(r);

	for (; b; b = link_next(s, b))
		ck_assert_uint_le(++n, s->carved);
	ck_assert_uint_eq(n, remote_count(r));
	return n;
}

/*
 * The owner's equation.  Blocks other threads pushed onto the remote list
 * stay counted in `used` until the owner collects them (span_collect
 * subtracts them), so used == carved - |free|, and the blocks really in
 * use are used - |remote|.
 */
static void check_equation(struct span *s)
{
	uint32_t f = free_list_len(s), r = remote_len(s);

	ck_assert_msg(s->used == s->carved - f,
		      "span %p: used %u != carved %llu - free %u (remote %u)", (void *)s,
		      s->used, (unsigned long long)s->carved, f, r);
	ck_assert_uint_le(r, s->used);
}

static uint64_t rng = 88172645463325252ULL;

START_TEST(test_accounting_equation)
{
	enum { LIVE = 300, OPS = 4000 };
	static void *live[LIVE];
	static const size_t sizes[] = { 16, 64, 200, 1024 };
	unsigned int i, k;

	HAK_REQUIRE(IS_ENABLED(CONFIG_TINY), "needs CONFIG_TINY (thread heaps for tiny sizes)");
	for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		size_t n = sizes[k];
		unsigned int cls = size_to_class(n);

		memset(live, 0, sizeof(live));
		for (i = 0; i < OPS; i++) {
			unsigned int j = (unsigned int)(rnd(&rng) % LIVE);
			struct span *s;

			if (live[j]) {
				s = span_at(live[j]);
				hak_free(live[j]);
				live[j] = NULL;
				if (s->state == SPAN_ACTIVE && s->cls == cls)
					check_equation(s);
			} else {
				live[j] = hak_malloc(n);
				ck_assert(live[j]);
				s = span_at(live[j]);
				ck_assert_uint_eq(s->cls, cls);
				ck_assert(tls_heap->current[cls] == s);
				ck_assert(s->owner == tls_heap);
				check_equation(s);
			}
			check_equation(tls_heap->current[cls]);
		}
		for (i = 0; i < LIVE; i++)
			if (live[i]) {
				struct span *s = span_at(live[i]);

				hak_free(live[i]);
				if (s->state == SPAN_ACTIVE)
					check_equation(s);
			}
		check_equation(tls_heap->current[cls]);
	}
}
END_TEST

START_TEST(test_no_churn)
{
	static const size_t sizes[] = { 32, 512, 2000, 40000 };
	unsigned int k;

	HAK_REQUIRE(IS_ENABLED(CONFIG_TINY) && IS_ENABLED(CONFIG_POOL),
		    "needs CONFIG_TINY and CONFIG_POOL");
	for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		void *p = hak_malloc(sizes[k]), *q;
		int64_t slabs, mapped;
		uint64_t pool_acq = slabpool_lock.acquired;
		struct span *s;
		int i;

		hak_free(p);
		p = hak_malloc(sizes[k]);
		s = span_at(p);
		hak_free(p);
		slabs = stat_now(STAT_SLABS_IN_USE);
		mapped = stat_now(STAT_BYTES_MAPPED);
		pool_acq = slabpool_lock.acquired;
		/* 100000 rounds; fewer for big blocks (debug fill writes them). */
		for (i = 0; i < (sizes[k] > 4096 ? 10000 : 100000); i++) {
			q = hak_malloc(sizes[k]);
			ck_assert(q);
			if (span_at(q) != s)
				ck_abort_msg("size %zu: iteration %d left the span", sizes[k], i);
			hak_free(q);
		}
		/* Read before stat_now, whose walk of the spans takes the lock. */
		pool_acq = slabpool_lock.acquired - pool_acq;
		ck_assert_int_eq(stat_now(STAT_SLABS_IN_USE), slabs);
		ck_assert_int_eq(stat_now(STAT_BYTES_MAPPED), mapped);
		ck_assert_uint_eq(s->state, SPAN_ACTIVE);
		ck_assert(s->owner == tls_heap);
		if (IS_ENABLED(CONFIG_LOCK_STATS))
			ck_assert_msg(pool_acq == 0, "size %zu: pool lock taken %llu times",
				      sizes[k], (unsigned long long)pool_acq);
	}
}
END_TEST

/*
 * Allocates blocks of `size` into blocks[] until the nspans-th span of
 * them starts: s[k] is the k-th span, at[k] the index of its first block
 * (s[0] the span of blocks[0]).  Returns the number of blocks.
 */
static unsigned int alloc_spans(void **blocks, unsigned int max, size_t size,
				struct span **s, unsigned int *at, unsigned int nspans)
{
	unsigned int n = 0, k = 0;

	blocks[n++] = hak_malloc(size);
	ck_assert(blocks[0]);
	s[0] = span_at(blocks[0]);
	at[0] = 0;
	while (k + 1 < nspans) {
		ck_assert_uint_lt(n, max);
		blocks[n] = hak_malloc(size);
		ck_assert(blocks[n]);
		if (span_at(blocks[n]) != s[k]) {
			s[++k] = span_at(blocks[n]);
			at[k] = n;
		}
		n++;
	}
	return n;
}

/*
 * The owner's frees into one of its spans that is not current: the first
 * two leave the current span alone, the third in a row (PARTIAL_RUN) makes
 * that span current, so malloc hands out the blocks just freed, newest
 * first (working sets bigger than a span).  A span that gets two frees
 * that start no run loses its flag: frees into it stay on the fast path.
 */
START_TEST(test_free_run_switches_span)
{
	enum { MAX_BLOCKS = 4096 };
	static void *blocks[MAX_BLOCKS];
	struct span *s[2], *first, *cur;
	unsigned int at[2], n, i;

	HAK_REQUIRE(IS_ENABLED(CONFIG_TINY), "needs CONFIG_TINY");
	n = alloc_spans(blocks, MAX_BLOCKS, 256, s, at, 2);
	first = s[0];
	cur = s[1];
	ck_assert(tls_heap->current[cur->cls] == cur);
	ck_assert_uint_ge(n, 8);
	for (i = 0; i < 6; i++)
		ck_assert(span_at(blocks[i]) == first);
	hak_free(blocks[0]);
	ck_assert(tls_heap->current[cur->cls] == cur);
	ck_assert_uint_eq(first->state, SPAN_ACTIVE);
	ck_assert((uintptr_t)first->owner == ((uintptr_t)tls_heap | OWNER_PARTIAL));
	hak_free(blocks[1]);
	ck_assert(tls_heap->current[cur->cls] == cur);
	hak_free(blocks[2]);
	ck_assert(tls_heap->current[cur->cls] == first);
	ck_assert(first->owner == tls_heap);
	ck_assert((uintptr_t)cur->owner == ((uintptr_t)tls_heap | OWNER_PARTIAL));
	ck_assert_uint_eq(cur->state, SPAN_ACTIVE);
	ck_assert_ptr_eq(hak_malloc(256), blocks[2]);
	ck_assert_ptr_eq(hak_malloc(256), blocks[1]);
	ck_assert_ptr_eq(hak_malloc(256), blocks[0]);
	while (n--)
		hak_free(blocks[n]);
	hak_malloc_trim(0);
}
END_TEST

/*
 * Frees in a scattered order: a partial span that gets two frees that each
 * start no run loses its OWNER_PARTIAL flag (later frees into it take the
 * fast path) and does not become current.  Three spans: s[0] and s[1]
 * full, s[2] current.
 */
START_TEST(test_scattered_frees_drop_flag)
{
	enum { MAX_BLOCKS = 4096 };
	static void *blocks[MAX_BLOCKS];
	struct span *s[3];
	unsigned int at[3], n, k;

	HAK_REQUIRE(IS_ENABLED(CONFIG_TINY), "needs CONFIG_TINY");
	n = alloc_spans(blocks, MAX_BLOCKS, 256, s, at, 3);
	ck_assert(tls_heap->current[s[2]->cls] == s[2]);
	ck_assert_uint_ge(at[1], 4);
	ck_assert_uint_ge(at[2] - at[1], 4);
	hak_free(blocks[0]);            /* s[0]: taken back, a run of 1 */
	hak_free(blocks[at[1]]);        /* s[1]: taken back, a run of 1 */
	ck_assert((uintptr_t)s[0]->owner == ((uintptr_t)tls_heap | OWNER_PARTIAL));
	hak_free(blocks[1]);            /* s[0] again, no run: flag dropped */
	ck_assert(s[0]->owner == tls_heap);
	ck_assert((uintptr_t)s[1]->owner == ((uintptr_t)tls_heap | OWNER_PARTIAL));
	hak_free(blocks[2]);            /* fast path now: no switch */
	hak_free(blocks[3]);
	ck_assert(tls_heap->current[s[2]->cls] == s[2]);
	ck_assert_uint_eq(s[0]->state, SPAN_ACTIVE);
	for (k = 4; k < n; k++)
		if (k != at[1])
			hak_free(blocks[k]);
	hak_malloc_trim(0);
}
END_TEST

/*
 * A span that empties while it is not current stays in the reserve if its
 * blocks are of at most 4 KiB (RESERVE_MAX_BLOCK; _i 0: 32 B blocks), and
 * goes back to the pool if they are bigger (_i 1: 327680 B blocks, one per
 * five-slab span in the default geometry, too big for the span caches,
 * which count as slabs in use).  The test allocates until a block starts a
 * fresh span, fills that span, takes one block of the next, and frees the
 * fresh span's blocks: three or more of them in a row make the fresh span
 * current again, and then the next span is the one that empties.
 */
START_TEST(test_reserve_small_spans)
{
	enum { MAX_BLOCKS = 8192 };
	static void *blocks[MAX_BLOCKS];
	size_t size = _i ? 327680 : 32;
	struct span *fresh = NULL, *s, *victim;
	unsigned int n = 0, start = 0, i, nslabs;
	int64_t slabs;

	HAK_REQUIRE(IS_ENABLED(CONFIG_TINY) && IS_ENABLED(CONFIG_POOL),
		    "needs CONFIG_TINY and CONFIG_POOL");
	hak_free(hak_malloc(16));        /* a live heap (CONFIG_OVERRIDE off) */
	hak_malloc_trim(0);              /* an empty reserve */
	ck_assert_uint_eq(tls_heap->empty_kept, 0);
	for (;;) {
		ck_assert_uint_lt(n, MAX_BLOCKS);
		blocks[n] = hak_malloc(size);
		ck_assert(blocks[n]);
		s = span_at(blocks[n++]);
		if (!fresh) {
			if (s->used == 1) {
				fresh = s;
				start = n - 1;
			}
		} else if (s != fresh) {
			break;
		}
	}
	nslabs = fresh->nslabs;
	ck_assert_uint_eq(fresh->block_size > 4096, _i);
	ck_assert(tls_heap->current[fresh->cls] != fresh);
	slabs = stat_now(STAT_SLABS_IN_USE);
	for (i = start; i + 1 < n; i++)
		hak_free(blocks[i]);
	victim = fresh;
	if (n - 1 - start >= 3) {
		/* Three frees in a row into it (PARTIAL_RUN, mm/heap/remote.c)
		 * made the fresh span current again; the one it displaced
		 * empties with its one block. */
		victim = span_at(blocks[n - 1]);
		ck_assert(tls_heap->current[fresh->cls] == fresh);
		ck_assert(victim != fresh);
		hak_free(blocks[--n]);
	}
	if (_i) {
		ck_assert_int_eq(stat_now(STAT_SLABS_IN_USE), slabs - nslabs);
	} else if (tls_heap->reserve_limit > 0) {
		ck_assert_int_eq(stat_now(STAT_SLABS_IN_USE), slabs);
		ck_assert(victim->kept_empty);
		ck_assert_uint_eq(victim->state, SPAN_ACTIVE);
		ck_assert(owner_heap(victim) == tls_heap);
	}
	for (i = 0; i < start; i++)
		hak_free(blocks[i]);
	if (victim == fresh)
		hak_free(blocks[n - 1]);
	hak_malloc_trim(0);
}
END_TEST

/* ---- Abandoned spans */

#define ABANDON_N 2000
#define ABANDON_SIZE 896
static void *abandoned_blocks[ABANDON_N];

static void *alloc_and_exit(void *arg)
{
	unsigned int i;

	(void)arg;
	for (i = 0; i < ABANDON_N; i++) {
		abandoned_blocks[i] = hak_malloc(ABANDON_SIZE);
		ck_assert(abandoned_blocks[i]);
		memset(abandoned_blocks[i], (int)i, ABANDON_SIZE);
	}
	return NULL;
}

/* Blocks for free_blocks to free, in a thread that never allocates: its
 * heap is not live, so each free is a remote push and adopts nothing. */
struct block_list {
	void **p;
	unsigned int n;
};

static void *free_blocks(void *arg)
{
	const struct block_list *l = arg;
	unsigned int i;

	for (i = 0; i < l->n; i++)
		hak_free(l->p[i]);
	return NULL;
}

/*
 * A thread allocates ABANDON_N blocks and exits: checks that their spans
 * are abandoned and the blocks intact.  Returns the slabs in use before.
 */
static int64_t abandon_blocks(void)
{
	int64_t before;
	unsigned int i;

	ck_assert_int_eq(hak_init(), 0);
	/* Creating a thread allocates (its TLS) in this thread's heap once;
	 * with CONFIG_OVERRIDE off this thread's heap is live only once it
	 * has called hak_malloc. */
	run_thread(noop_thread, NULL);
	hak_free(hak_malloc(16));
	hak_malloc_trim(0);
	before = stat_now(STAT_SLABS_IN_USE);
	run_thread(alloc_and_exit, NULL);
	ck_assert_int_gt(stat_now(STAT_SLABS_IN_USE), before);
	for (i = 0; i < ABANDON_N; i++) {
		struct span *s = span_at(abandoned_blocks[i]);

		ck_assert_uint_eq(s->state, SPAN_ABANDONED);
		ck_assert(s->owner == NULL);
		ck_assert_uint_eq(((unsigned char *)abandoned_blocks[i])[ABANDON_SIZE - 1],
				  (unsigned char)i);
	}
	return before;
}

START_TEST(test_abandon_reclaim)
{
	int64_t before, during;

	HAK_REQUIRE(IS_ENABLED(CONFIG_TINY), "needs CONFIG_TINY");
	before = abandon_blocks();
	during = stat_now(STAT_SLABS_IN_USE);
	ck_assert_int_gt(during, before);
	/* All remote, from a thread with no heap: the free of a span's last
	 * block sends the span back at once, with no decay check. */
	run_thread(free_blocks, &(struct block_list){ abandoned_blocks, ABANDON_N });
	ck_assert_int_eq(stat_now(STAT_SLABS_IN_USE), before);
	decay_run(1);
	ck_assert_int_eq(stat_now(STAT_SLABS_IN_USE), before);
}
END_TEST

/* A live thread's free into an abandoned span adopts it: the free is local
 * and the span goes back when its last block does. */
START_TEST(test_abandon_adopt_on_free)
{
	int64_t before;
	unsigned int i;
	struct span *s;

	HAK_REQUIRE(IS_ENABLED(CONFIG_TINY), "needs CONFIG_TINY");
	before = abandon_blocks();
	s = span_at(abandoned_blocks[0]);
	hak_free(abandoned_blocks[0]);
	ck_assert(s->owner == tls_heap);
	ck_assert_uint_eq(s->state, SPAN_ACTIVE);
	/* The block is on the local free list: the next malloc of the class
	 * from this span returns it. */
	ck_assert_ptr_eq(s->free, abandoned_blocks[0]);
	for (i = 1; i < ABANDON_N; i++) {
		/* A live block's span is mapped: one that the previous free
		 * went into was adopted by it. */
		struct span *next = span_at(abandoned_blocks[i]);

		if (next == s) {
			ck_assert(s->owner == tls_heap);
			ck_assert_uint_eq(s->state, SPAN_ACTIVE);
		}
		s = next;
		hak_free(abandoned_blocks[i]);
	}
	hak_malloc_trim(0);
	ck_assert_int_eq(stat_now(STAT_SLABS_IN_USE), before);
}
END_TEST

START_TEST(test_abandon_adopt)
{
	unsigned int i, j;
	void *p[ABANDON_N];
	int adopted = 0;

	HAK_REQUIRE(IS_ENABLED(CONFIG_TINY), "needs CONFIG_TINY");
	ck_assert_int_eq(hak_init(), 0);
	run_thread(alloc_and_exit, NULL);
	/* Free every other block from here, then allocate the class: the
	 * spans are adopted (by the frees if this thread's heap is live
	 * already, else by the mallocs) and the freed blocks reused. */
	for (i = 0; i < ABANDON_N; i += 2)
		hak_free(abandoned_blocks[i]);
	for (i = 0; i < ABANDON_N / 2; i++) {
		struct span *s;

		p[i] = hak_malloc(ABANDON_SIZE);
		ck_assert(p[i]);
		s = span_at(p[i]);
		ck_assert(s->owner == tls_heap);
		ck_assert_uint_eq(s->state, SPAN_ACTIVE);
		for (j = 0; j < ABANDON_N; j += 2)
			if (abandoned_blocks[j] == p[i]) {
				adopted++;
				break;
			}
	}
	ck_assert_msg(adopted > 0, "no freed block of the dead thread was reused");
	/* Everything left of the dead thread is now freed remotely or
	 * locally; after that the slabs go back. */
	for (i = 1; i < ABANDON_N; i += 2)
		hak_free(abandoned_blocks[i]);
	for (i = 0; i < ABANDON_N / 2; i++)
		hak_free(p[i]);
	decay_run(1);
	for (i = 0; i < ABANDON_N; i++) {
		uintptr_t a = (uintptr_t)abandoned_blocks[i];

		if (registry_kind(a) == REG_SUPERSLAB) {
			struct span *s = span_of(ss_of(a), a);

			ck_assert_msg(s->state != SPAN_ABANDONED || s->used != 0,
				      "empty abandoned span not reclaimed");
		}
	}
}
END_TEST

/* ---- Remote frees */

#define REMOTE_MAX 256
static void *remote_blocks[REMOTE_MAX];
static unsigned int remote_seen;

/*
 * A span this thread no longer allocates from, whose blocks another thread
 * frees: no malloc of the class comes to collect them, so the heap's sweep
 * does, and the span goes back: in malloc_trim (_i 0) or, once per decay
 * time, on the slow path (_i 1), where the span may stay in the reserve.
 */
START_TEST(test_remote_sweep)
{
	enum { SIZE = 768, MAX = 512 };
	void *p[MAX];
	unsigned int n = 0;
	int64_t before;
	struct span *first, *second;

	HAK_REQUIRE(IS_ENABLED(CONFIG_TINY), "needs CONFIG_TINY");
	ck_assert_int_eq(hak_init(), 0);
	run_thread(noop_thread, NULL);
	/* The 16 B class's span, which the periodic case below uses. */
	hak_free(hak_malloc(16));
	hak_malloc_trim(0);
	before = stat_now(STAT_SLABS_IN_USE);
	/* Fill one span and take the first block of the next. */
	p[n++] = hak_malloc(SIZE);
	first = span_at(p[0]);
	do {
		ck_assert_uint_lt(n, MAX);
		p[n] = hak_malloc(SIZE);
		ck_assert(p[n]);
	} while (span_at(p[n++]) == first);
	second = span_at(p[n - 1]);
	ck_assert_int_eq(stat_now(STAT_SLABS_IN_USE), before + first->nslabs + second->nslabs);
	run_thread(free_blocks, &(struct block_list){ p, n - 1 });
	/* Freed but not collected: the first span still counts. */
	ck_assert_int_eq(stat_now(STAT_SLABS_IN_USE), before + first->nslabs + second->nslabs);
	if (_i == 0) {
		hak_malloc_trim(0);
	} else {
		/* Without malloc_trim: the slow paths sweep once per decay
		 * time (0 here), every MAINTENANCE_EVERY (64) of them. */
		unsigned int i;

		option_values[OPT_DECAY_MS].num = 0;
		for (i = 0; i < 64; i++)
			hak_free(heap_alloc_slow(tls_heap, size_to_class(16)));
		/* Collected and empty: in the reserve or given back. */
		ck_assert_uint_eq(first->used, 0);
		ck_assert(first->kept_empty || first->state != SPAN_ACTIVE);
		hak_malloc_trim(0);
	}
	ck_assert_int_eq(stat_now(STAT_SLABS_IN_USE), before + second->nslabs);
	ck_assert(second->owner == tls_heap);
	hak_free(p[n - 1]);
}
END_TEST

START_TEST(test_remote_collect)
{
	enum { N = 200, SIZE = 512 };
	void *p[N], *filler[REMOTE_MAX * 2];
	unsigned int i, j, nfill = 0, cls = size_to_class(SIZE);
	struct span *s;
	uint32_t used_before;

	HAK_REQUIRE(IS_ENABLED(CONFIG_TINY), "needs CONFIG_TINY");
	for (i = 0; i < N; i++)
		p[i] = hak_malloc(SIZE);
	s = tls_heap->current[cls];
	remote_seen = 0;
	for (i = 0; i < N; i++)
		if (span_at(p[i]) == s && remote_seen < REMOTE_MAX)
			remote_blocks[remote_seen++] = p[i];
	ck_assert_uint_ge(remote_seen, 8);
	used_before = s->used;
	run_thread(free_blocks, &(struct block_list){ remote_blocks, remote_seen });
	/* Pushed onto the remote list, not yet subtracted from used. */
	ck_assert_uint_eq(remote_len(s), remote_seen);
	ck_assert_uint_eq(s->used, used_before);
	check_equation(s);
	/* Use up the local free list, then the next mallocs collect. */
	while (s->free && nfill < REMOTE_MAX * 2) {
		filler[nfill] = hak_malloc(SIZE);
		ck_assert(span_at(filler[nfill]) == s);
		nfill++;
	}
	ck_assert(!s->free);
	for (i = 0; i < remote_seen; i++) {
		void *q = hak_malloc(SIZE);
		int found = 0;

		ck_assert(span_at(q) == s);
		for (j = 0; j < remote_seen; j++)
			if (remote_blocks[j] == q) {
				found = 1;
				remote_blocks[j] = NULL;   /* each once */
				break;
			}
		ck_assert_msg(found, "block %p is not one of the remote-freed ones", q);
	}
	ck_assert_uint_eq(remote_len(s), 0);
	check_equation(s);
	for (i = 0; i < nfill; i++)
		hak_free(filler[i]);
	for (i = 0; i < N; i++)
		hak_free(p[i]);   /* the ones in s were handed out again: */
	/* (they are the same addresses, so each is freed exactly once) */
	check_equation(s);
}
END_TEST

START_TEST(test_full_span_notified)
{
	enum { SIZE = 1024, MAXN = 4096 };
	static void *p[MAXN];
	unsigned int n = 0, i, got_back = 0, cls = size_to_class(SIZE);
	struct span *s = NULL, *t;
	struct heap *h;

	HAK_REQUIRE(IS_ENABLED(CONFIG_TINY), "needs CONFIG_TINY");
	/* Allocate until the span of the first block is full and another
	 * one is current. */
	for (n = 0; n < MAXN; n++) {
		p[n] = hak_malloc(SIZE);
		ck_assert(p[n]);
		if (!s)
			s = span_at(p[n]);
		else if (span_at(p[n]) != s)
			break;
	}
	ck_assert_uint_lt(n, MAXN);
	n++;
	h = tls_heap;
	ck_assert_uint_eq(s->state, SPAN_FULL);
	ck_assert((uintptr_t)s->owner == ((uintptr_t)h | OWNER_DETACHED));
	ck_assert(atomic_load_relaxed(&s->remote) & SPAN_REMOTE_DETACHED);
	ck_assert(h->current[cls] != s);
	ck_assert_uint_eq(s->used, s->capacity);

	remote_seen = 0;
	for (i = 0; i < n; i++)
		if (span_at(p[i]) == s && remote_seen < REMOTE_MAX) {
			remote_blocks[remote_seen++] = p[i];
			p[i] = NULL;
		}
	ck_assert_uint_ge(remote_seen, 1);
	run_thread(free_blocks, &(struct block_list){ remote_blocks, remote_seen });
	ck_assert_uint_eq(s->state, SPAN_NOTIFIED);
	ck_assert(h->notified == s);
	ck_assert_uint_eq(remote_len(s), remote_seen);

	/* The owner takes it back once its current span runs dry. */
	t = h->current[cls];
	for (i = 0; i < MAXN && n < MAXN; i++) {
		p[n] = hak_malloc(SIZE);
		if (span_at(p[n++]) == s) {
			got_back = 1;
			break;
		}
	}
	ck_assert_msg(got_back, "notified span never reused");
	ck_assert(t != s);
	ck_assert_uint_eq(s->state, SPAN_ACTIVE);
	ck_assert(s->owner == h);
	ck_assert(h->current[cls] == s);
	check_equation(s);
	for (i = 0; i < n; i++)
		if (p[i])
			hak_free(p[i]);
}
END_TEST

static void *alloc_free_all(void *arg)
{
	static const size_t sizes[] = { 8, 16, 48, 100, 256, 640, 1024, 1500, 5000,
					20000, 70000, 300000, 1000000 };
	void *p[500];
	unsigned int i, k;

	(void)arg;
	for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		unsigned int n = sizes[k] > 100000 ? 4 : 500;

		for (i = 0; i < n; i++) {
			p[i] = hak_malloc(sizes[k]);
			ck_assert(p[i]);
		}
		for (i = 0; i < n; i++)
			hak_free(p[i]);
	}
	return NULL;
}

START_TEST(test_thread_exit_clean)
{
	int64_t before;
	int r;

	ck_assert_int_eq(hak_init(), 0);
	/* Creating a thread allocates (its TLS) in this thread's heap once. */
	run_thread(noop_thread, NULL);
	decay_run(1);
	before = stat_now(STAT_SLABS_IN_USE);
	for (r = 0; r < 3; r++) {
		run_thread(alloc_free_all, NULL);
		/* With a tier off, its sizes live in the process-wide shared
		 * heap, which gives empty spans back on maintenance instead. */
		if (!IS_ENABLED(CONFIG_TINY) || !IS_ENABLED(CONFIG_POOL))
			decay_run(1);
		/* Nothing left but what the span caches hold for the next
		 * thread (bounded; the decay check empties them). */
		ck_assert_msg(stat_now(STAT_SLABS_IN_USE) - (int64_t)span_cache_slabs() == before,
			      "round %d: slabs_in_use %lld (span caches %llu), before %lld", r,
			      (long long)stat_now(STAT_SLABS_IN_USE),
			      (unsigned long long)span_cache_slabs(), (long long)before);
	}
}
END_TEST

/*
 * A link overwritten in a free block (a write after free) becomes the
 * list's head when malloc takes that block, unread; the next malloc finds
 * the head outside the span and aborts instead of handing it out.  (With
 * FREELIST_HARDENED or DEBUG_FILL the first malloc already aborts.)
 */
START_TEST(test_corrupt_link_aborts)
{
	void *a, *b, *c;

	a = hak_malloc(64);
	b = hak_malloc(64);
	ck_assert(a && b);
	hak_free(a);
	hak_free(b);
	ck_assert_ptr_eq(span_at(b)->free, b);
	*(volatile uintptr_t *)b = (uintptr_t)0x5a5a5a5a5a5a5a50ULL;
	c = hak_malloc(64);
	ck_assert_ptr_eq(c, b);
	ck_assert_ptr_eq(span_at(b)->free, (void *)(uintptr_t)0x5a5a5a5a5a5a5a50ULL);
	(void)hak_malloc(64);
	ck_abort_msg("a malloc handed out the block after a corrupt link");
}
END_TEST

/*
 * These tests count slabs and look at spans between calls: no purge thread
 * (it would start in the middle of a test, its own allocations taking a
 * span, and decay caches while the test counts them).  tests/test-idle.c
 * tests it.
 */
static void no_purge_thread(void)
{
	hak_free(hak_malloc(16));        /* the options are read */
	option_values[OPT_PURGE_THREAD].num = 0;
}

static Suite *make_suite(void)
{
	TCase *tc;
	Suite *s = one_tcase_suite("heap", "core", 60, &tc);

	tcase_add_checked_fixture(tc, no_purge_thread, NULL);

	tcase_add_test(tc, test_accounting_equation);
	tcase_add_test(tc, test_no_churn);
	tcase_add_test(tc, test_free_run_switches_span);
	tcase_add_test(tc, test_scattered_frees_drop_flag);
	tcase_add_loop_test(tc, test_reserve_small_spans, 0, 2);
	tcase_add_test(tc, test_abandon_reclaim);
	tcase_add_test(tc, test_abandon_adopt_on_free);
	tcase_add_test(tc, test_abandon_adopt);
	tcase_add_test(tc, test_remote_collect);
	tcase_add_loop_test(tc, test_remote_sweep, 0, 2);
	tcase_add_test(tc, test_full_span_notified);
	tcase_add_test(tc, test_thread_exit_clean);
	/* With TINY off, 64 B blocks come from the locked shared heap, which
	 * this thread does not own: its frees go to the remote list. */
	if (IS_ENABLED(CONFIG_TINY))
		tcase_add_test_raise_signal(tc, test_corrupt_link_aborts, SIGABRT);
	return s;
}

HAK_TEST_MAIN(make_suite)
