// SPDX-License-Identifier: MIT
/* Large tier: a mapping per block; see large.h. */
#include <errno.h>
#include <string.h>

#include <lib/bitops.h>
#include <mm/heap/heap.h>
#include <mm/large/internal.h>
#include <mm/sizeclass.h>
#include <mm/stats.h>

static size_t guard_bytes(void)
{
	return IS_ENABLED(CONFIG_GUARD_BIG) ? os_page_size() : 0;
}

/* Rounds a mapping size up to its class (4 per doubling, whole pages). */
static void map_round(size_t *size)
{
	size_t s = *size;
	unsigned int b = fls64_index(s - 1);
	size_t step = (size_t)1 << (b >= 2 ? b - 2 : 0);

	s = (s + step - 1) & ~(step - 1);
	*size = round_up_pow2(s, os_page_size());
}

static struct large_header *header_of(void *p)
{
	uintptr_t a = (uintptr_t)p;
	struct large_header *h;

	if (registry_kind(a - 1) != REG_LARGE_HEAD)
		return NULL;
	h = (struct large_header *)((a - 1) & ~SS_MASK);
	if (h->user != a)
		return NULL;
	return h;
}

void large_unmap(struct large_header *h)
{
	if (vg_on())
		vg_unhide(h, LARGE_HEADER_BYTES);
	registry_unmap(h, h->map_size);
}

#if IS_ENABLED(CONFIG_VALGRIND)
size_t large_vg_size(void *p)
{
	struct large_header *h = header_of(p);

	return h->usable - h->vg_slack;
}

size_t large_vg_set_size(void *p, size_t n)
{
	struct large_header *h = header_of(p);
	size_t slack = h->usable - n;

	if (slack > UINT32_MAX)
		slack = UINT32_MAX;
	h->vg_slack = (uint32_t)slack;
	vg_hide(h, LARGE_HEADER_BYTES);
	return h->usable - slack;
}
#endif

static void *alloc_block(size_t size, size_t align, uint32_t prof)
{
	size_t head = LARGE_HEADER_BYTES + (prof ? LARGE_PROF_BYTES : 0);
	size_t offset = align > head ? align : head;
	size_t skew = 0, map_size, guard = guard_bytes();
	struct large_header *h;
	void *p;

	if (offset >= SS_SIZE) {
		/* base + SS_SIZE is the user pointer, aligned to `align`. */
		skew = SS_SIZE;
		offset = SS_SIZE;
	}
	map_size = offset + size;
	if (map_size < size || map_size > ((size_t)1 << (VA_BITS - 1))) {
		errno = ENOMEM;
		return NULL;
	}
	map_round(&map_size);
	map_size += guard;
	h = NULL;
	if (offset == LARGE_HEADER_BYTES)
		h = bigcache_get(map_size);
	if (!h) {
		if (registry_map(map_size, skew ? (align > SS_SIZE ? align : SS_SIZE) : SS_SIZE,
				 skew, REG_LARGE_HEAD, &p)) {
			errno = ENOMEM;
			return NULL;
		}
		h = p;
		h->fresh = 1;
		h->map_size = map_size;
		if (guard && os_protect_none((char *)p + map_size - guard, guard))
			hak_fatal("cannot protect big-block guard", p);
		large_thp_advise(p, map_size - guard);
	} else {
		h->fresh = 0;
	}
	h->magic = LARGE_LIVE;
	/* CONFIG_ZERO_FREE: no data of its earlier owner (a fresh mapping
	 * is zero already). */
	if (IS_ENABLED(CONFIG_ZERO_FREE) && !h->fresh)
		memset((char *)h + offset, 0, h->map_size - guard - offset);
	h->prof = prof;
	if (prof)
		memset((char *)h + LARGE_HEADER_BYTES, 0, LARGE_PROF_BYTES);
	h->user = (uintptr_t)h + offset;
	h->usable = h->map_size - guard - offset;
	dlist_init(&h->link);
	stat_global_add(STAT_BIG_IN_USE, 1);
	stat_global_add(STAT_BIG_BYTES, (int64_t)h->map_size);
	decay_run(0);    /* rate-limited */
	return (void *)h->user;
}

void *large_alloc(size_t size, size_t align)
{
	return alloc_block(size, align, 0);
}

void *large_alloc_prof(size_t size, size_t align)
{
	return alloc_block(size, align, 1);
}

void *large_prof_area(void *p)
{
	struct large_header *h = header_of(p);

	if (!h || h->magic != LARGE_LIVE || !h->prof)
		return NULL;
	return (char *)h + LARGE_HEADER_BYTES;
}

int large_is_fresh(void *p)
{
	struct large_header *h = header_of(p);

	return h && h->fresh;
}

size_t large_usable_size(void *p)
{
	struct large_header *h = header_of(p);

	return h && h->magic == LARGE_LIVE ? h->usable : 0;
}

int large_size_fits(void *p, size_t n)
{
	struct large_header *h = header_of(p);

	if (!h || n > h->usable)
		return 0;
	return h->user != (uintptr_t)h + LARGE_HEADER_BYTES ||
	       (n > POOL_MAX_SIZE && n >= h->usable / 4);
}

void large_free(void *p)
{
	struct large_header *h = header_of(p);

	if (!h) {
		hak_bad_free(BAD_INVALID_FREE, p);
		return;
	}
	if (h->magic != LARGE_LIVE) {
		/* A block in BigCache: a confirmed double free. */
		if (h->magic == LARGE_CACHED)
			hak_fatal("double free", p);
		hak_bad_free(BAD_INVALID_FREE, p);
		return;
	}
	stat_global_add(STAT_BIG_IN_USE, -1);
	stat_global_add(STAT_BIG_BYTES, -(int64_t)h->map_size);
	decay_run(0);    /* rate-limited */
	if (!bigcache_put(h)) {
		h->magic = 0;
		large_unmap(h);
	}
	heap_purge_start_if_wanted();
}

void *large_resize(void *p, size_t size)
{
	struct large_header *h = header_of(p);
	size_t guard = guard_bytes(), offset, new_map;

	if (!h || h->magic != LARGE_LIVE)
		return NULL;
	if (size <= h->usable)
		return p;
	if (guard)
		return NULL;    /* the guard page sits where it would grow */
	offset = h->user - (uintptr_t)h;
	new_map = offset + size;
	if (new_map < size)
		return NULL;
	map_round(&new_map);
	if (registry_resize(h, h->map_size, new_map))
		return NULL;
	stat_global_add(STAT_BIG_BYTES, (int64_t)new_map - (int64_t)h->map_size);
	h->map_size = new_map;
	h->usable = new_map - offset;
	return p;
}
