/* SPDX-License-Identifier: MIT */
/*
 * The heap engine's debug boxes: inline parts, and stubs when a box is off.
 * Out of line: span_check.c (DEBUG_ASSERT), integrity.c (DEBUG_INTEGRITY),
 * fill.c (DEBUG_FILL, FREE_CHECK, ZERO_FREE), double_free.c (DOUBLE_FREE_CHECK), trace.c
 * (DEBUG_TRACE); verify.c, in every config, checks for them all.  Included by
 * mm/heap/heap.h, after struct heap.
 */
#ifndef HAKMEM_MM_HEAP_DEBUG_H
#define HAKMEM_MM_HEAP_DEBUG_H

/*
 * CONFIG_DEBUG_TRACE: records one call in the calling thread's ring, with
 * the cycle counter (the one clock read allowed on a hot path, in this box
 * only: docs/design.md).
 */
static always_inline void heap_trace(void *p, size_t size, uint64_t op)
{
#if IS_ENABLED(CONFIG_DEBUG_TRACE)
	struct heap *h = tls_heap;

	if (h->kind == HEAP_LIVE) {
		struct trace_event *e = &h->trace[h->trace_pos & (TRACE_ENTRIES - 1)];

		e->ptr = (uintptr_t)p;
		e->size = size | op;
		e->cycles = get_cycles();
		/* Published last: a dump from a signal handler or the fatal
		 * path reads whole events only. */
		atomic_store_release(&h->trace_pos, h->trace_pos + 1);
	}
#else
	(void)p;
	(void)size;
	(void)op;
#endif
}

#if IS_ENABLED(CONFIG_DEBUG_TRACE)
/*
 * Writes the calling thread's ring to fd: the last events, oldest first,
 * one "hakmem: trace ..." line each (trace.c).  Allocation-free, so the
 * fatal path can call it.
 */
void heap_trace_dump(int fd);
/* The fatal path's dump, to stderr (hak_fatal_hook). */
void heap_trace_dump_fatal(void);
#endif

#if IS_ENABLED(CONFIG_DEBUG_ASSERT)
/* Checks a span's invariants (used <= carved <= capacity, its class), and
 * with CONFIG_DEBUG_INTEGRITY its free list; aborts when one fails. */
void span_check(const struct span *s);
#else
static inline void span_check(const struct span *s) { (void)s; }
#endif
#if IS_ENABLED(CONFIG_DEBUG_INTEGRITY)
/* The run-time level, 0 to 3 (HAKMEM_INTEGRITY; integrity.c). */
extern hak_hidden uint32_t integrity_level;
void integrity_init(void);
/* Level 1: walks s's free list and checks used == carved - |free|. */
void span_check_free_list(const struct span *s);
/* Level 2, on slow paths: every span of h, free and remote lists. */
void heap_integrity_walk_slow(struct heap *h);
static always_inline void heap_integrity_walk(struct heap *h)
{
	if (unlikely(integrity_level >= 2))
		heap_integrity_walk_slow(h);
}
/* Level 3: block b (handed out or being freed) is a carved block of s and
 * on no list of its free list. */
noinline void integrity_check_block(const struct span *s, const void *b);
static always_inline void heap_integrity_block(const struct span *s, const void *b)
{
	if (unlikely(integrity_level >= 3))
		integrity_check_block(s, b);
}
#else
static inline void integrity_init(void) { }
static inline void span_check_free_list(const struct span *s) { (void)s; }
static always_inline void heap_integrity_walk(struct heap *h) { (void)h; }
static always_inline void heap_integrity_block(const struct span *s, const void *b)
{
	(void)s;
	(void)b;
}
#endif

/*
 * CONFIG_BLOCK_FILL (DEBUG_FILL, FREE_CHECK or ZERO_FREE): a free block is
 * filled past its link and its double-free key, with 0xdf (DEBUG_FILL) or
 * zeros; FREE_CHECK and DEBUG_FILL check the fill when malloc hands the
 * block out again, DEBUG_FILL then fills it with 0xa5, the others clear
 * its link (the rest is zero already).
 */
#define FILL_FREE  (IS_ENABLED(CONFIG_DEBUG_FILL) ? 0xdf : 0)
#define FILL_ALLOC 0xa5
/* A free block's fill starts past its link and its double-free key. */
#define FILL_SKIP  (2 * sizeof(void *))
#if IS_ENABLED(CONFIG_BLOCK_FILL)
/* Checks a block's free fill and prepares it for use; fills a freed block
 * (on the way to a list: fill_free_raw). */
void fill_check_alloc(struct span *s, void *b);
void fill_free(struct span *s, void *b);
static inline void fill_free_raw(void *b, size_t size)
{
	/* Under memcheck free blocks are no-access: memcheck does the job. */
	if (vg_on())
		return;
	memset((char *)b + FILL_SKIP, FILL_FREE, size - FILL_SKIP);
}
#else
static always_inline void fill_check_alloc(struct span *s, void *b) { (void)s; (void)b; }
static always_inline void fill_free(struct span *s, void *b) { (void)s; (void)b; }
static inline void fill_free_raw(void *b, size_t size) { (void)b; (void)size; }
#endif

#if IS_ENABLED(CONFIG_DOUBLE_FREE_CHECK)
cold __attribute__((noreturn)) void double_free_alloc_twice(void *b);
cold __attribute__((noreturn)) void double_free_free_twice(void *p);
/* A remote free marks block p free; aborts if it already is. */
void double_free_mark_remote(struct span *s, void *p);
/* The span's "block is allocated" bits (by the descriptor's address). */
static always_inline uint64_t *span_alloc_bits(const struct span *s)
{
	return ss_of((uintptr_t)s)->alloc_bits[((uintptr_t)s & SS_MASK) / sizeof(struct span)];
}

/* Block b is handed out: sets its bit; a bit already set means the free
 * list was corrupted. */
static always_inline void double_free_mark_alloc(struct span *s, void *b)
{
	uint64_t q = span_block_quotient(s, (uintptr_t)b);

	if (unlikely(q >= s->carved))
		heap_corrupt(s, b);
	if (unlikely(test_and_set_bit_atomic(span_alloc_bits(s), q)))
		double_free_alloc_twice(b);
}

/* The owner frees p: clears its bit; a bit already clear is a double free. */
static always_inline void double_free_mark_free(struct span *s, void *p)
{
	if (unlikely(!test_and_clear_bit_atomic(span_alloc_bits(s),
						span_block_quotient(s, (uintptr_t)p))))
		double_free_free_twice(p);
}
#else
static always_inline void double_free_mark_alloc(struct span *s, void *b) { (void)s; (void)b; }
static always_inline void double_free_mark_free(struct span *s, void *p) { (void)s; (void)p; }
static inline void double_free_mark_remote(struct span *s, void *p) { (void)s; (void)p; }
#endif

#endif
