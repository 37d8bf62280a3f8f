// SPDX-License-Identifier: MIT
/*
 * Heap verification, in every config: the checks behind hak_heap_check(),
 * the integrity levels (integrity.c, CONFIG_DEBUG_INTEGRITY) and the heap
 * visitor.  A span is verified in full (its free list, its remote list,
 * the accounting equation) only by its owner, whose private state it
 * reads, or, for the shared heap's spans, under shared_lock; anyone may
 * check a descriptor (class, geometry, slab heads).
 */
#include <lib/fmt.h>
#include <mm/heap/internal.h>

/* Blocks of a span, one bit each: free (on the free or the remote list). */
struct block_bits {
	uint64_t w[SPAN_BITMAP_WORDS];
};

/* Reports one problem: "hakmem: heap check: span <s> class <c>: <what> <at>". */
static void report(const struct span *s, const char *what, uintptr_t at)
{
	char buf[192];
	struct fmt_buf b = { buf, sizeof(buf), 0 };

	fmt_str(&b, "hakmem: heap check: span ");
	fmt_hex(&b, (uintptr_t)s);
	fmt_str(&b, " class ");
	fmt_u64(&b, s->cls);
	fmt_str(&b, ": ");
	fmt_str(&b, what);
	if (at) {
		fmt_char(&b, ' ');
		fmt_hex(&b, at);
	}
	fmt_char(&b, '\n');
	os_write_stderr(buf, b.len);
}

/* The checks of a descriptor that hold whoever owns the span. */
static unsigned int verify_descriptor(const struct span *s)
{
	struct superslab *ss = ss_of((uintptr_t)s);
	unsigned int i, bad = 0;

	if (s->cls >= NUM_CLASSES || s->block_size != class_info[s->cls].size) {
		report(s, "class and block size disagree", s->block_size);
		return 1;
	}
	if ((uintptr_t)s->capacity * s->block_size != s->span_bytes) {
		report(s, "capacity times block size is not span_bytes", s->span_bytes);
		bad++;
	}
	if (span_carved_seen(s) > s->capacity) {
		report(s, "carved past the capacity", span_carved_seen(s));
		bad++;
	}
	for (i = s->index; i < s->index + s->nslabs && i < SLABS_PER_SS; i++) {
		if (atomic_load_relaxed(&ss->spans[i].head) != s) {
			report(s, "a slab of the span points elsewhere", (uintptr_t)&ss->spans[i]);
			bad++;
		}
	}
	return bad;
}

/* Marks block b free in bits; 0 when b is no block of s below the bump
 * pointer or is already marked (a list that holds it twice, or a loop). */
static int mark_free(const struct span *s, struct block_bits *bits, uintptr_t b)
{
	long i = span_block_index(s, b);

	if (i < 0 || (uint64_t)i >= s->carved)
		return 0;
	if (bits->w[i / 64] & (1ULL << (i % 64)))
		return 0;
	bits->w[i / 64] |= 1ULL << (i % 64);
	return 1;
}

/*
 * Walks the free list of s, one of the caller's spans, and with `remote`
 * its remote list (the caller holds its notify_lock, so the purge pass
 * does not take the list meanwhile): fills bits (when not NULL) with its
 * free blocks and returns the problems found, each reported.  Checks that
 * every link is a block start below the bump pointer, that no block is on
 * the lists twice, and the accounting: used == carved - |free|, and
 * |remote| == the remote count <= used.
 */
static unsigned int verify_lists_quiet(const struct span *s, struct block_bits *bits, int remote,
				       uintptr_t r);

static unsigned int verify_lists(const struct span *s, struct block_bits *bits, int remote)
{
	struct block_bits local;
	uintptr_t r = atomic_load_acquire(&s->remote);
	unsigned int bad;

	if (!bits)
		bits = &local;
	memset(bits, 0, sizeof(*bits));
	if (r & SPAN_REMOTE_PURGED)
		return 0;     /* decommitted whole: carved 0, nothing to walk */
	/* Free blocks stay no-access to memcheck: read their links quietly. */
	vg_quiet_begin();
	bad = verify_lists_quiet(s, bits, remote, r);
	vg_quiet_end();
	return bad;
}

static unsigned int verify_lists_quiet(const struct span *s, struct block_bits *bits, int remote,
				       uintptr_t r)
{
	uintptr_t b;
	uint64_t nfree = 0, nremote = 0;
	unsigned int bad = 0;

	for (b = (uintptr_t)s->free; b; nfree++) {
		if (!mark_free(s, bits, b)) {
			report(s, "free list holds a bad or repeated link", b);
			return bad + 1;
		}
		b = (uintptr_t)link_encode(s, (void *)b, *(void **)b);
	}
	if (s->used != s->carved - nfree) {
		report(s, "used != carved - free blocks", s->used);
		bad++;
	}
	if (!remote)
		return bad;
	/* The remote list only grows at its head while its owner looks. */
	for (b = (uintptr_t)remote_list(r); b; nremote++) {
		if (!mark_free(s, bits, b)) {
			report(s, "remote list holds a bad or repeated link", b);
			return bad + 1;
		}
		b = (uintptr_t)link_encode(s, (void *)b, *(void **)b);
	}
	if (nremote != remote_count(r) || nremote > s->used) {
		report(s, "remote count disagrees with its list", nremote);
		bad++;
	}
	return bad;
}

unsigned int span_verify(const struct span *s, enum span_verify_depth depth)
{
	unsigned int bad = verify_descriptor(s);

	if (!bad && depth != VERIFY_DESCRIPTOR)
		bad += verify_lists(s, NULL, depth == VERIFY_ALL_LISTS);
	return bad;
}

struct check_walk {
	struct heap *me;
	int shared;           /* shared_lock held: the shared heap's spans too */
	unsigned int bad;
};

static void check_span(struct span *s, void *arg)
{
	struct check_walk *w = arg;
	struct heap *owner = owner_heap(s);
	int full = owner == w->me || (w->shared && owner == &shared_heap);

	w->bad += span_verify(s, full ? VERIFY_ALL_LISTS : VERIFY_DESCRIPTOR);
}

int heap_check_all(void)
{
	struct check_walk w = { tls_heap, atomic_load_acquire(&shared_ready), 0 };

	/* shared_lock, then the notify locks, then slabpool_lock, as
	 * everywhere. */
	if (w.shared) {
		hak_lock(&shared_lock);
		hak_lock(&shared_heap.notify_lock);
	}
	if (w.me != &shared_heap)
		hak_lock(&w.me->notify_lock);
	slabpool_for_each_span(check_span, &w);
	if (w.me != &shared_heap)
		hak_unlock(&w.me->notify_lock);
	if (w.shared) {
		hak_unlock(&shared_heap.notify_lock);
		hak_unlock(&shared_lock);
	}
	return (int)w.bad;
}

struct visit_walk {
	struct heap *me;      /* NULL: every span */
	int (*fn)(void *block, size_t size, void *arg);
	void *arg;
	int ret;
};

static void visit_span(struct span *s, void *arg)
{
	struct visit_walk *w = arg;
	struct block_bits bits;
	uint64_t i;

	if (w->ret || (w->me && owner_heap(s) != w->me))
		return;
	if (atomic_load_relaxed(&s->state) == SPAN_CACHED || verify_lists(s, &bits, 1))
		return;
	for (i = 0; i < s->carved && !w->ret; i++)
		if (!(bits.w[i / 64] & (1ULL << (i % 64))))
			w->ret = w->fn((void *)(s->start + i * s->block_size), s->block_size, w->arg);
}

int heap_visit(int all, int (*fn)(void *block, size_t size, void *arg), void *arg)
{
	struct visit_walk w = { all ? NULL : tls_heap, fn, arg, 0 };

	struct hak_lock *l = &tls_heap->notify_lock;

	if (!all && tls_heap->kind != HEAP_LIVE)
		return 0;
	hak_lock(l);
	slabpool_for_each_span(visit_span, &w);
	hak_unlock(l);
	return w.ret;
}
