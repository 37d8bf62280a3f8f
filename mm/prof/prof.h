/* SPDX-License-Identifier: MIT */
/*
 * The sampling heap profiler (CONFIG_PROFILER).
 *
 * Job: sample about one allocation per HAKMEM_PROF_SAMPLE bytes allocated
 * (geometric sampling: each byte starts a sample with probability 1/T, so
 * an allocation of s bytes is sampled with probability 1 - exp(-s/T)),
 * record its call stack, and account the estimate of the bytes it stands
 * for, s / (1 - exp(-s/T)), to that call site until the block is freed;
 * write the sites' live and total estimates (HAKMEM_PROF, hak_prof_dump).
 *
 * The fast path: malloc subtracts the request from the heap's countdown
 * (prof_tick) and leaves for prof_malloc() when it goes below 0.  A live
 * heap starts at 0 (its first malloc arms it); the static heaps hold
 * PROF_LEFT_STATIC; with the profiler off the countdown is INT64_MAX and
 * never fires.  free pays nothing: a sampled block comes from the large
 * tier (large_alloc_prof: a mapping of its own, registry kind
 * REG_LARGE_HEAD), whose frees already take free's slow path, where
 * prof_free() takes it off its site.
 *
 * The stack walk (stack.c) reads frame records only between its own frame
 * and the top of the thread's stack recorded when the heap was made,
 * aligned, strictly increasing, at most PROF_DEPTH deep; it never calls
 * an unwinder.
 *
 * Sites (site.c): an open-addressing table of PROF_SITES stacks in memory
 * from the OS layer, under prof_lock, a leaf lock taken on the sampling
 * slow path, by a sampled block's free and by the dump.
 */
#ifndef HAKMEM_MM_PROF_H
#define HAKMEM_MM_PROF_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <mm/heap/heap.h>
#include <mm/large/large.h>

#define PROF_DEPTH 48        /* frames kept per stack */
#define PROF_SITES 8192      /* the table's slots (a power of two) */

#if IS_ENABLED(CONFIG_PROFILER)
/* Counts n bytes down on the calling thread's heap: 1 when the profiler's
 * slow path is due (about 2 instructions). */
static always_inline int prof_tick(size_t n)
{
	struct heap *h = tls_heap;
	int64_t left = (int64_t)((uint64_t)h->prof_left - n);

	h->prof_left = left;
	return left < 0;
}
#else
static always_inline int prof_tick(size_t n)
{
	(void)n;
	return 0;
}
#endif

#if IS_ENABLED(CONFIG_PROFILER)
/*
 * The slow path of a countdown below 0: a sampled block of n bytes
 * aligned to align (a power of two; 0: MIN_ALIGN), from the large tier,
 * with its stack recorded (ra: the return address of the public entry
 * point; fp: the caller's frame, where the walk starts); NULL when this allocation is not sampled, or its block could not
 * be had: the caller serves it as usual.  errno is left as it was.
 */
void *prof_malloc(size_t n, size_t align, void *ra, uintptr_t fp);
/* Takes a sampled block off its site; any other pointer is ignored.  Call
 * before the block is freed. */
void prof_free(void *p);
/* Whether the profiler samples (HAKMEM_PROF was set). */
int prof_active(void);
/* Reads the options (the constructor); the exit dump (atexit). */
void prof_init(void);
void prof_at_exit(void);
/* hak_prof_dump: 0, ENOTSUP when off (no HAKMEM_PROF), or an errno value. */
int prof_dump(void);
/* prof_lock around fork: a leaf lock, taken last. */
void prof_fork_prepare(void);
void prof_fork_release(void);
#else
static inline void *prof_malloc(size_t n, size_t align, void *ra, uintptr_t fp)
{
	(void)n; (void)align; (void)ra; (void)fp;
	return NULL;
}
static inline void prof_free(void *p) { (void)p; }
static inline int prof_active(void) { return 0; }
static inline void prof_init(void) { }
static inline void prof_at_exit(void) { }
static inline int prof_dump(void) { return ENOTSUP; }
static inline void prof_fork_prepare(void) { }
static inline void prof_fork_release(void) { }
#endif

/* ---- Internal (prof.c, stack.c, site.c, dump.c) and the tests. */

/* What a sampled block keeps in the large tier's LARGE_PROF_BYTES. */
#define PROF_BLOCK_MAGIC 0x70726f66u
struct prof_block {
	uint32_t magic;
	uint32_t site;                /* PROF_SITES: counted nowhere */
	uint64_t est_bytes;           /* the estimates it stands for */
	uint64_t est_objs;
	uint64_t size;                /* the request */
};

_Static_assert(sizeof(struct prof_block) <= LARGE_PROF_BYTES, "prof block");

struct prof_site {
	uint64_t hash;
	uint32_t depth;               /* 0: a free slot */
	uint32_t pad;
	uint64_t live_bytes;          /* estimates of the true bytes and blocks */
	uint64_t live_objs;
	uint64_t total_bytes;
	uint64_t total_objs;
	uint64_t samples;             /* sampled blocks, ever */
	uintptr_t pc[PROF_DEPTH];     /* return addresses, innermost first */
};

/*
 * The return addresses of the calling code, innermost first: ra (the
 * public entry point's), then the frame records from frame fp (the slow
 * path's) up to top; at most max.  The count.
 */
unsigned int prof_walk(uintptr_t fp, uintptr_t top, uintptr_t ra, uintptr_t *pc,
		       unsigned int max);
/* The site of a stack, added if new (prof_lock held): its index, or
 * PROF_SITES when the table is full. */
uint32_t prof_site_find(const uintptr_t *pc, unsigned int depth);
extern hak_hidden struct prof_site *prof_sites;
extern hak_hidden struct hak_lock prof_lock;
extern hak_hidden uint64_t prof_dropped;
extern hak_hidden uint32_t prof_sites_used;
extern hak_hidden uint16_t *prof_site_list;
_Static_assert(PROF_SITES <= 65536, "site indices in 16 bits");
/* Calls fn for every site in use, under prof_lock (not held). */
void prof_for_each_site(void (*fn)(const struct prof_site *s, void *arg), void *arg);
/* 1 - exp(-x) for x >= 0, and -ln(u) for u in (0, 1] (no libm). */
double prof_one_minus_exp_neg(double x);
double prof_neg_log(double u);
/* Tests: (re)starts sampling with mean interval `sample` and `seed` on
 * the calling thread (0 sample: stops it). */
void prof_test_setup(uint64_t sample, uint64_t seed);
/* Writes the two files of a dump to path (and path.collapsed). */
int prof_dump_to(const char *path);

#endif
