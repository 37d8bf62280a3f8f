/* SPDX-License-Identifier: MIT */
/* The large tier's private interface (large.c, bigcache.c); see large.h. */
#ifndef HAKMEM_MM_LARGE_INTERNAL_H
#define HAKMEM_MM_LARGE_INTERNAL_H

#include <lib/list.h>
#include <mm/large/large.h>
#include <mm/options.h>
#include <mm/os.h>
#include <mm/superslab/superslab.h>

#define LARGE_LIVE   0x6869676c6976650aULL
#define LARGE_CACHED 0x686967636163680aULL
#define LARGE_HEADER_BYTES 64u

struct large_header {
	uint64_t magic;
	size_t map_size;      /* bytes mapped, guard included */
	size_t usable;        /* bytes from the user pointer to the end (no guard) */
	uintptr_t user;       /* user pointer */
	struct dlist link;    /* big_lock: BigCache's list */
	uint64_t cached_ms;
#if IS_ENABLED(CONFIG_VALGRIND)
	uint32_t vg_slack;    /* under memcheck: usable - the size asked */
#endif
	uint8_t fresh;        /* never handed out before: zero-filled */
	uint8_t prof;         /* a profiler's block: LARGE_PROF_BYTES for it after the header */
};
_Static_assert(sizeof(struct large_header) <= LARGE_HEADER_BYTES, "large header");

void large_unmap(struct large_header *h);

#if IS_ENABLED(CONFIG_BIGCACHE)
/* The smallest cached mapping that holds map_size bytes, or NULL; caching
 * a freed mapping (0: it does not fit, unmap it). */
struct large_header *bigcache_get(size_t map_size);
int bigcache_put(struct large_header *h);
#else
static inline struct large_header *bigcache_get(size_t map_size) { (void)map_size; return NULL; }
static inline int bigcache_put(struct large_header *h) { (void)h; return 0; }
#endif

/* CONFIG_THP: huge pages for the mappings from HAKMEM_THP_MB up. */
static inline void large_thp_advise(void *p, size_t size)
{
	if (IS_ENABLED(CONFIG_THP) && hak_option(OPT_THP_MB) &&
	    size >= (hak_option(OPT_THP_MB) << 20))
		os_hugepage(p, size);
}

#endif
