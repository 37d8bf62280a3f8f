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

#ifdef __cplusplus
}
#endif

#endif /* HAKMEM_H */
