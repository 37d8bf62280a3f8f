/* SPDX-License-Identifier: MIT */
/*
 * hakmem public API.
 *
 * The hak_* names always exist.  With CONFIG_OVERRIDE=y the library also
 * exports the standard malloc family (malloc, free, ..., __libc_malloc, ...)
 * so that LD_PRELOAD=libhakmem.so or linking libhakmem.a replaces the
 * system allocator.  Semantics follow glibc; see docs/api.md.
 */
#ifndef HAKMEM_H
#define HAKMEM_H

#include <stddef.h>
#include <stdio.h>
#include <malloc.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HAKMEM_API __attribute__((visibility("default")))

/* The version of these headers; hak_version() gives the library's. */
#define HAKMEM_VERSION_MAJOR 0
#define HAKMEM_VERSION_MINOR 1
#define HAKMEM_VERSION_PATCH 0
#define HAKMEM_VERSION "0.1.0"
#define HAKMEM_VERSION_NUMBER \
	(HAKMEM_VERSION_MAJOR * 10000 + HAKMEM_VERSION_MINOR * 100 + HAKMEM_VERSION_PATCH)

HAKMEM_API void *hak_malloc(size_t size);
HAKMEM_API void hak_free(void *ptr);
HAKMEM_API void *hak_calloc(size_t nmemb, size_t size);
HAKMEM_API void *hak_realloc(void *ptr, size_t size);
HAKMEM_API void *hak_reallocarray(void *ptr, size_t nmemb, size_t size);
HAKMEM_API int hak_posix_memalign(void **memptr, size_t alignment, size_t size);
HAKMEM_API void *hak_aligned_alloc(size_t alignment, size_t size);
HAKMEM_API void *hak_memalign(size_t alignment, size_t size);
HAKMEM_API void *hak_valloc(size_t size);
HAKMEM_API void *hak_pvalloc(size_t size);
HAKMEM_API size_t hak_malloc_usable_size(void *ptr);
HAKMEM_API void hak_free_sized(void *ptr, size_t size);
HAKMEM_API void hak_free_aligned_sized(void *ptr, size_t alignment, size_t size);
HAKMEM_API void hak_cfree(void *ptr);
HAKMEM_API int hak_malloc_trim(size_t pad);
HAKMEM_API struct mallinfo2 hak_mallinfo2(void);
HAKMEM_API struct mallinfo hak_mallinfo(void);
HAKMEM_API void hak_malloc_stats(void);
HAKMEM_API int hak_malloc_info(int options, FILE *stream);
HAKMEM_API int hak_mallopt(int param, int value);

/*
 * Statistics snapshot (all threads merged).  Counters are exact only when
 * CONFIG_STATS=y; otherwise the counters read 0 and hak_stats_get()
 * returns -1.  bytes_mapped is always maintained.
 */
struct hak_stats {
	unsigned long long allocs;        /* successful allocations, all tiers */
	unsigned long long frees;         /* frees of hakmem blocks, all tiers */
	unsigned long long remote_frees;  /* frees by a thread other than the owner */
	unsigned long long foreign_frees; /* ignored frees of non-hakmem pointers */
	unsigned long long slabs_in_use;
	unsigned long long superslabs_in_use;
	unsigned long long superslabs_cached;
	unsigned long long big_in_use;
	unsigned long long big_cached;
	unsigned long long bytes_mapped;
	unsigned long long size_mismatches; /* ignored sized frees of the wrong size */
	unsigned long long remote_sends;  /* atomic pushes of remote frees (one block or a batch) */
};
HAKMEM_API int hak_stats_get(struct hak_stats *out);

/* The library's version ("0.1.0") and build configuration: the
 * architecture and the options that differ from their defaults. */
HAKMEM_API const char *hak_version(void);
HAKMEM_API const char *hak_config(void);

/*
 * Statistics and settings by name, in the spirit of jemalloc's mallctl
 * (docs/api.md lists the names).  Reads the value into *oldp when oldp is
 * not NULL (*oldlenp must be its size: 8 for numbers, which are uint64_t,
 * sizeof(const char *) for strings), then writes newp (newlen bytes) for
 * the few writable names.  An action name ("stats.peak.reset") takes all
 * NULL.  Returns 0, or ENOENT (no such name), EINVAL (a wrong length or
 * value), EPERM (the name is read-only).
 */
HAKMEM_API int hak_ctl(const char *name, void *oldp, size_t *oldlenp,
		       const void *newp, size_t newlen);
/*
 * Every name hak_ctl knows, one per line, into buf (size bytes, always
 * NUL-terminated when size > 0).  Returns the length of the whole list
 * (like snprintf): call with NULL, 0 to size the buffer.
 */
HAKMEM_API size_t hak_ctl_list(char *buf, size_t size);
/*
 * Prints every statistic to f: opts NULL, "" or "text" for lines of
 * "hakmem: ..." text, "json" for one JSON object.  Returns 0, or -1 with
 * errno EINVAL for other opts (EIO when f fails).
 */
HAKMEM_API int hak_stats_print(FILE *f, const char *opts);

/*
 * Writes the calling thread's trace ring (CONFIG_DEBUG_TRACE) to fd: its
 * last calls, oldest first, one "hakmem: trace <seq> malloc|free <pointer>
 * <size> <cycles>" line each.  Returns 0, EBADF for a negative fd, or
 * ENOTSUP when the build has no trace ring.
 */
HAKMEM_API int hak_trace_dump(int fd);

/*
 * Checks the heap now: every span's descriptor (class, geometry, slab
 * heads) and, for the calling thread's spans, every block: the free and
 * remote lists hold carved block starts, none twice, and the accounting
 * equation holds (used == carved - free).  Other threads' spans change
 * under it, so their lists are not walked.  Each problem is reported on
 * stderr ("hakmem: heap check: ..."); returns their number (0: clean).
 */
HAKMEM_API int hak_heap_check(void);

/*
 * Calls fn(block, usable size, arg) for each live block of the calling
 * thread's heap (blocks of 1 MiB and less; big blocks belong to no
 * thread), until fn returns non-zero, which hak_heap_visit returns (0
 * after the last block).  fn must not call malloc, free or any hakmem
 * function: the walk holds the heap's locks.  A block another thread
 * freed may still be visited until that thread sends its remote batch.
 *
 * hak_heap_visit_all visits every heap's blocks.  There is no safe point
 * at which to stop other threads: call it only where no other thread
 * allocates or frees (a fork child, or a program that promises it).
 */
HAKMEM_API int hak_heap_visit(int (*fn)(void *block, size_t size, void *arg), void *arg);
HAKMEM_API int hak_heap_visit_all(int (*fn)(void *block, size_t size, void *arg), void *arg);

/*
 * The heap profiler (CONFIG_PROFILER, docs/api.md): writes the profile
 * now to the files HAKMEM_PROF names (PATH and PATH.collapsed, "%p" the
 * process id).  Returns 0, ENOTSUP when the profiler is compiled out or
 * HAKMEM_PROF is not set, or the errno value of a file that could not be
 * opened.
 */
HAKMEM_API int hak_prof_dump(void);

#ifdef __cplusplus
}
#endif

#endif /* HAKMEM_H */
