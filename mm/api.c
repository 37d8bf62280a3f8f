// SPDX-License-Identifier: MIT
/*
 * The front gate: every public entry point.  malloc picks the tier with
 * one size test and a table lookup; free asks the registry whose pointer
 * it is.  The hak_* names always exist; with CONFIG_OVERRIDE the standard
 * names (and glibc's __libc_* set) are aliases of them, so nothing here
 * calls through the PLT.
 */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hakmem.h>
#include <lib/bitops.h>
#include <lib/fmt.h>
#include <mm/fork.h>
#include <mm/heap/heap.h>
#include <mm/report.h>
#include <mm/large/large.h>
#include <mm/options.h>
#include <mm/policy.h>
#include <mm/os.h>
#include <mm/pool/pool.h>
#include <mm/prof/prof.h>
#include <mm/sizeclass.h>
#include <mm/stats.h>
#include <mm/superslab/superslab.h>
#include <mm/tiny/tiny.h>
#include <mm/valgrind.h>
#include <mm/vg_block.h>

/* Requests above this fail with ENOMEM (glibc uses PTRDIFF_MAX). */
#define MAX_REQUEST ((size_t)PTRDIFF_MAX)

/* ------------------------------------------------------------------ */
/* Allocation */

static noinline void *large_alloc_entry(size_t n, size_t align)
{
	void *p;

	if (n > MAX_REQUEST) {
		errno = ENOMEM;
		return NULL;
	}
	if (hak_init()) {
		errno = ENOMEM;
		return NULL;
	}
	p = large_alloc(n, align);
	if (IS_ENABLED(CONFIG_STATS) && p)
		stat_global_add(STAT_BIG_ALLOCS, 1);
	return p;
}

static always_inline void *malloc_raw(size_t n)
{
	if (likely(n <= TINY_MAX_SIZE))
		return tiny_alloc(n);
	if (likely(n <= POOL_MAX_SIZE))
		return pool_alloc(n);
	return large_alloc_entry(n, 0);
}

/* Every block handed out passes here (valgrind announcement). */
static always_inline void *handed_out(void *p, size_t n, int zeroed)
{
	if (IS_ENABLED(CONFIG_VALGRIND) && p)
		vg_block_alloc(p, n, zeroed);
	heap_trace(p, n, 0);
	return p;
}

static void *memalign_raw(size_t align, size_t n);

static struct span *block_span(uintptr_t a);
/*
 * Under memcheck, n bytes come from a block of the class of n + VG_REDZONE
 * (the same block start), announced with n bytes and no red zone of
 * memcheck's: the bytes before p are the previous block's.
 */
static noinline void *vg_alloc(size_t n, size_t align, int zeroed)
{
	size_t m = n <= MAX_REQUEST - VG_REDZONE ? n + VG_REDZONE : n;
	void *p = align ? memalign_raw(align, m) : malloc_raw(m);

	if (!p)
		return NULL;
	heap_trace(p, n, 0);
	vg_block_alloc(p, vg_set_size(block_span((uintptr_t)p), p, n), zeroed);
	if (zeroed && !large_is_fresh(p))
		memset(p, 0, n);
	return p;
}

/*
 * CONFIG_PROFILER: the countdown of malloc, calloc and the aligned
 * allocations; below 0 the whole allocation goes to prof_slow, with the
 * public entry point's return address (ra).
 */
#define PROF_DUE(n) (IS_ENABLED(CONFIG_PROFILER) && unlikely(prof_tick(n)))
#define PROF_RA __builtin_return_address(0)

/*
 * The profiler's slow path: a sampled block if prof_malloc takes this
 * allocation (align 0: a plain one; zero: calloc's), else the usual one.
 * Its frame record (__builtin_frame_address) starts the stack walk; the
 * entry points reach it with a jump, so it returns to their caller.
 */
static noinline void *prof_slow(size_t n, size_t align, int zero, void *ra)
{
	uintptr_t fp = (uintptr_t)__builtin_frame_address(0);
	void *p = NULL;

	if (!align || is_power_of_two(align))
		p = prof_malloc(n, align > MIN_ALIGN ? align : 0, ra, fp);
	if (p) {
		if (zero && !large_is_fresh(p))
			memset(p, 0, n);
		return handed_out(p, n, zero);
	}
	p = align ? memalign_raw(align, n) : malloc_raw(n);
	if (zero && p && !(n > POOL_MAX_SIZE && large_is_fresh(p)))
		memset(p, 0, n);
	return handed_out(p, n, zero);
}

static always_inline void *malloc_impl(size_t n)
{
	if (vg_on())
		return vg_alloc(n, 0, 0);
	if (PROF_DUE(n))
		return prof_slow(n, 0, 0, PROF_RA);
	return handed_out(malloc_raw(n), n, 0);
}

/* A block of class cls (tiny or pool), through the tier that serves it. */
static always_inline void *class_alloc(unsigned int cls)
{
	if (cls < NUM_TINY_CLASSES)
		return tiny_alloc_class(cls);
	return pool_alloc_class(cls);
}

static void *memalign_raw(size_t align, size_t n)
{
	unsigned int c;

	if (align <= MIN_ALIGN)
		return malloc_raw(n);
	if (!is_power_of_two(align)) {
		if (align > MAX_REQUEST) {
			errno = EINVAL;
			return NULL;
		}
		align = (size_t)1 << (fls64_index(align) + 1);
	}
	if (n > MAX_REQUEST) {
		errno = ENOMEM;
		return NULL;
	}
	if (align <= SLAB_SIZE && n <= POOL_MAX_SIZE) {
		c = aligned_class(n, align);
		if (c < NUM_CLASSES)
			return class_alloc(c);
	}
	return large_alloc_entry(n, align);
}

/* Inlined with the profiler: its ra is that of the public entry point. */
#if IS_ENABLED(CONFIG_PROFILER)
static always_inline void *memalign_impl(size_t align, size_t n)
#else
static void *memalign_impl(size_t align, size_t n)
#endif
{
	if (vg_on())
		return vg_alloc(n, align, 0);
	if (PROF_DUE(n))
		return prof_slow(n, align ? align : 1, 0, PROF_RA);
	return handed_out(memalign_raw(align, n), n, 0);
}

/* ------------------------------------------------------------------ */
/* Free */

/*
 * Span of a live-looking block start, or NULL.  The pointer's slab
 * descriptor leads to its span's (span->head), so a block in any slab of a
 * multi-slab span takes the same path.
 */
static always_inline struct span *block_span(uintptr_t a)
{
	uintptr_t idx = a >> SS_SHIFT;
	struct span *s;

	if (unlikely(registry_kind_at(idx) != REG_SUPERSLAB))
		return NULL;
	/* The superslab's address from its registry index: one shift. */
	opaque_value(idx);
	s = span_of((struct superslab *)(idx << SS_SHIFT), a);
	if (unlikely(!span_is_block(s, a)))
		return NULL;
	return s;
}

static noinline void free_slow(void *p)
{
	uintptr_t a = (uintptr_t)p;
	unsigned int kind;
	int saved = errno;

	if (!p)
		return;
	/* free_impl found no block of a superslab here (metadata, an
	 * interior pointer, a free slab or blocks not carved yet are
	 * invalid); a large block starts inside its head piece, past the
	 * header (large_free checks it). */
	kind = registry_kind(a);
	if (kind != REG_SUPERSLAB && registry_kind(a - 1) == REG_LARGE_HEAD) {
		if (IS_ENABLED(CONFIG_STATS))
			stat_global_add(STAT_BIG_FREES, 1);
		if (IS_ENABLED(CONFIG_PROFILER))
			prof_free(p);
		large_free(p);
		if (IS_ENABLED(CONFIG_VALGRIND))
			vg_block_free(p);
	} else if (kind == REG_SUPERSLAB && span_truncated_block(span_of(ss_of(a), a), a)) {
		/* A block start past the bump pointer of a span in use: a
		 * free of a block that was freed already, its empty span
		 * truncated since (mm/heap/alloc.c), or never handed out. */
		hak_fatal("double free", p);
	} else if (kind != REG_NONE) {
		hak_bad_free(BAD_INVALID_FREE, p);
	} else {
		hak_bad_free(BAD_FOREIGN_FREE, p);
	}
	errno = saved;
}

/* Under memcheck the block is no-access from the start of its free on
 * (an invalid free is memcheck's to report first); the allocator writes
 * its link and key into it with error reports off. */
static noinline void vg_free_block(struct span *s, void *p)
{
	vg_block_free(p);
	vg_quiet_begin();
	heap_free_block(s, p);
	vg_quiet_end();
}

static always_inline void free_impl(void *p)
{
	struct span *s = block_span((uintptr_t)p);

	heap_trace(p, 0, TRACE_FREE);
	if (likely(s)) {
		if (vg_on()) {
			vg_free_block(s, p);
			return;
		}
		heap_free_block(s, p);
		if (IS_ENABLED(CONFIG_VALGRIND))
			vg_block_free(p);
		return;
	}
	free_slow(p);
}

/* Usable size of a block, 0 for NULL and foreign pointers. */
static size_t usable_size_impl(void *p)
{
	struct span *s;

	if (!p)
		return 0;
	s = block_span((uintptr_t)p);
	if (s)
		return vg_on() ? vg_size(s, p) : s->block_size;
	if (registry_kind((uintptr_t)p - 1) == REG_LARGE_HEAD) {
		size_t u = large_usable_size(p);

		return u && vg_on() ? vg_size(NULL, p) : u;
	}
	return 0;
}

/*
 * Whether n (with alignment align; 0 for a plain allocation) could be the
 * size block p was asked for: at most its usable size, and no smaller than
 * a size that could leave a block in its class.  realloc shrinks a block
 * in place down to half; memalign(S, 1) takes a block of a power-of-two
 * class S (or a large one); blocks up to 64 B take any size.  A pointer
 * that is no live block is left to free to judge.
 */
static int sized_free_fits(void *p, size_t n, size_t align)
{
	struct span *s = block_span((uintptr_t)p);
	size_t usable;

	if (align && (!is_power_of_two(align) || ((uintptr_t)p & (align - 1))))
		return 0;
	if (s) {
		usable = s->block_size;
		return n <= usable && (usable <= 64 || is_power_of_two(usable) || n > usable / 2);
	}
	if (registry_kind((uintptr_t)p - 1) == REG_LARGE_HEAD && large_usable_size(p))
		return large_size_fits(p, n);
	return 1;
}

/* A sized free: a size that does not fit is counted, or aborts in hardened
 * and debug (hak_bad_free); the block is freed as by free(). */
static void free_sized_impl(void *p, size_t n, size_t align)
{
	if (p && unlikely(!sized_free_fits(p, n, align)))
		hak_bad_free(BAD_SIZE_MISMATCH, p);
	free_impl(p);
}

/* ------------------------------------------------------------------ */
/* Public API */

HAKMEM_API void *hak_malloc(size_t size)
{
	return malloc_impl(size);
}

HAKMEM_API void hak_free(void *ptr)
{
	free_impl(ptr);
}

HAKMEM_API void *hak_calloc(size_t nmemb, size_t size)
{
	size_t total;
	void *p;

	if (__builtin_mul_overflow(nmemb, size, &total) || total > MAX_REQUEST) {
		errno = ENOMEM;
		return NULL;
	}
	if (vg_on())
		return vg_alloc(total, 0, 1);
	if (PROF_DUE(total))
		return prof_slow(total, 0, 1, PROF_RA);
	p = malloc_raw(total);
	if (p && !(total > POOL_MAX_SIZE && large_is_fresh(p)))
		memset(p, 0, total);
	return handed_out(p, total, 1);
}

/*
 * Whether live block ptr can take `fit` bytes where it is: a small block
 * while the size still fits its class well, a big one while the size uses
 * more than half of its mapping (grown in place by mremap, no move, when
 * it can).  Its usable size goes to *cap and its span (NULL: big) to *sp;
 * -1, reported, when ptr is no live block.
 */
static int realloc_fits(void *ptr, size_t fit, struct span **sp, size_t *cap)
{
	struct span *s = block_span((uintptr_t)ptr);

	*sp = s;
	if (s) {
		*cap = s->block_size;
		return fit <= *cap && (fit > *cap / 2 || *cap <= 64);
	}
	if (registry_kind((uintptr_t)ptr - 1) == REG_LARGE_HEAD &&
	    (*cap = large_usable_size(ptr)) != 0)
		return fit > POOL_MAX_SIZE && fit > *cap / 2 &&
		       (fit <= *cap || large_resize(ptr, fit));
	hak_bad_free(registry_kind((uintptr_t)ptr) == REG_NONE ? BAD_FOREIGN_REALLOC
		     : BAD_INVALID_REALLOC, ptr);
	errno = EINVAL;
	return -1;
}

/* A new block of size bytes holding the first `old` of ptr's, which goes. */
static void *realloc_move(void *ptr, size_t size, size_t old)
{
	void *q = malloc_impl(size);

	if (!q)
		return NULL;
	memcpy(q, ptr, old < size ? old : size);
	free_impl(ptr);
	return q;
}

/*
 * realloc under memcheck: the size asked for is the old size, and
 * size + VG_REDZONE must fit in place; an in-place realloc, growing or
 * shrinking, is announced (RESIZEINPLACE) and the bytes past the new size
 * made no-access.
 */
static noinline void *vg_realloc(void *ptr, size_t size)
{
	struct span *s;
	size_t cap, old;
	int fits = realloc_fits(ptr, size + VG_REDZONE, &s, &cap);

	if (fits < 0)
		return NULL;
	old = vg_size(s, ptr);
	if (!fits)
		return realloc_move(ptr, size, old);
	vg_block_resize(ptr, old, size);
	vg_set_size(s, ptr, size);
	return ptr;
}

HAKMEM_API void *hak_realloc(void *ptr, size_t size)
{
	struct span *s;
	size_t old;
	int fits;

	if (!ptr)
		return malloc_impl(size);
	if (size == 0) {
		free_impl(ptr);
		return NULL;
	}
	if (size > MAX_REQUEST) {
		errno = ENOMEM;
		return NULL;
	}
	if (vg_on())
		return vg_realloc(ptr, size);
	fits = realloc_fits(ptr, size, &s, &old);
	if (fits < 0)
		return NULL;
	return fits ? ptr : realloc_move(ptr, size, old);
}

HAKMEM_API void *hak_reallocarray(void *ptr, size_t nmemb, size_t size)
{
	size_t total;

	if (__builtin_mul_overflow(nmemb, size, &total)) {
		errno = ENOMEM;
		return NULL;
	}
	return hak_realloc(ptr, total);
}

HAKMEM_API int hak_posix_memalign(void **memptr, size_t alignment, size_t size)
{
	int saved = errno;
	void *p;

	if (!is_power_of_two(alignment) || alignment % sizeof(void *))
		return EINVAL;
	p = memalign_impl(alignment, size);
	if (!p) {
		errno = saved;
		return ENOMEM;
	}
	*memptr = p;
	return 0;
}

HAKMEM_API void *hak_aligned_alloc(size_t alignment, size_t size)
{
	if (!is_power_of_two(alignment)) {
		errno = EINVAL;
		return NULL;
	}
	return memalign_impl(alignment, size);
}

HAKMEM_API void *hak_memalign(size_t alignment, size_t size)
{
	return memalign_impl(alignment, size);
}

static size_t page_size(void)
{
	if (hak_init())
		return ARCH_MIN_PAGE_SIZE;
	return os_page_size();
}

HAKMEM_API void *hak_valloc(size_t size)
{
	return memalign_impl(page_size(), size);
}

HAKMEM_API void *hak_pvalloc(size_t size)
{
	size_t ps = page_size();
	size_t rounded = round_up_pow2(size ? size : 1, ps);

	if (rounded < size) {
		errno = ENOMEM;
		return NULL;
	}
	return memalign_impl(ps, rounded);
}

HAKMEM_API size_t hak_malloc_usable_size(void *ptr)
{
	return usable_size_impl(ptr);
}

HAKMEM_API void hak_free_sized(void *ptr, size_t size)
{
	free_sized_impl(ptr, size, 0);
}

HAKMEM_API void hak_free_aligned_sized(void *ptr, size_t alignment, size_t size)
{
	free_sized_impl(ptr, size, alignment ? alignment : 1);
}

HAKMEM_API void hak_cfree(void *ptr)
{
	free_impl(ptr);
}

/* ------------------------------------------------------------------ */
/*
 * Process setup: the fork handlers (mm/fork.c), the reports at exit.
 * Here, beside the entry points, so that a static link that pulls in
 * malloc pulls this in too (and mm/fork.o with it).
 */

/*
 * Registered from a constructor, not lazily: prepare handlers run in
 * reverse order of registration, so a late registration would let another
 * library's prepare handler call malloc while we hold every lock.
 */
__attribute__((constructor(101))) static void hak_constructor(void)
{
	if (hak_init())
		return;
	if (vg_on())
		vg_check_replaced();
	pthread_atfork(hak_fork_prepare, hak_fork_parent, hak_fork_child);
	if (hak_option(OPT_VERBOSE))
		report_identity();
	if (!IS_ENABLED(CONFIG_DEBUG_INTEGRITY) && hak_option(OPT_INTEGRITY))
		hak_warn("HAKMEM_INTEGRITY ignored: built without CONFIG_DEBUG_INTEGRITY", NULL);
	if (hak_option(OPT_STATS))
		atexit(stats_at_exit);
	if (IS_ENABLED(CONFIG_DEBUG_TRACE) && hak_option_str(OPT_TRACE_DUMP)[0])
		atexit(trace_at_exit);
	if (IS_ENABLED(CONFIG_PROFILER)) {
		prof_init();
		if (prof_active())
			atexit(prof_at_exit);
	}
	if (IS_ENABLED(CONFIG_ADAPTIVE))
		decay_add_hook(ace_update);
}

/* ------------------------------------------------------------------ */
/* The standard names (CONFIG_OVERRIDE) */

#if IS_ENABLED(CONFIG_OVERRIDE)
HAK_ALIAS(malloc, hak_malloc);
HAK_ALIAS(free, hak_free);
HAK_ALIAS(calloc, hak_calloc);
HAK_ALIAS(realloc, hak_realloc);
HAK_ALIAS(reallocarray, hak_reallocarray);
HAK_ALIAS(posix_memalign, hak_posix_memalign);
HAK_ALIAS(aligned_alloc, hak_aligned_alloc);
HAK_ALIAS(memalign, hak_memalign);
HAK_ALIAS(valloc, hak_valloc);
HAK_ALIAS(pvalloc, hak_pvalloc);
HAK_ALIAS(malloc_usable_size, hak_malloc_usable_size);
HAK_ALIAS(free_sized, hak_free_sized);
HAK_ALIAS(free_aligned_sized, hak_free_aligned_sized);
HAK_ALIAS(cfree, hak_cfree);
/* glibc's internal entry points: a static link that references one of
 * them must find it here, or it pulls in glibc's malloc.o as well. */
HAK_ALIAS(__libc_malloc, hak_malloc);
HAK_ALIAS(__libc_free, hak_free);
HAK_ALIAS(__libc_calloc, hak_calloc);
HAK_ALIAS(__libc_realloc, hak_realloc);
HAK_ALIAS(__libc_memalign, hak_memalign);
HAK_ALIAS(__libc_valloc, hak_valloc);
HAK_ALIAS(__libc_pvalloc, hak_pvalloc);
HAK_ALIAS(__posix_memalign, hak_posix_memalign);
#endif
