// SPDX-License-Identifier: MIT
/* Large tier and BigCache; see large.h. */
#include <errno.h>
#include <string.h>

#include <lib/bitops.h>
#include <lib/list.h>
#include <lib/lock.h>
#include <mm/heap.h>
#include <mm/large/large.h>
#include <mm/options.h>
#include <mm/os.h>
#include <mm/stats.h>
#include <mm/superslab/superslab.h>

#define BIG_LIVE   0x6869676c6976650aULL
#define BIG_CACHED 0x686967636163680aULL
#define BIG_HEADER_BYTES 64u
#define BIG_CLASSES 64

struct big_header {
	uint64_t magic;
	size_t map_size;      /* bytes mapped, guard included */
	size_t usable;        /* bytes from the user pointer to the end (no guard) */
	uintptr_t user;       /* user pointer */
	struct dlist link;    /* big_lock: BigCache lists */
	uint64_t cached_ms;
	uint32_t fresh;       /* never handed out before: zero-filled */
};
_Static_assert(sizeof(struct big_header) <= BIG_HEADER_BYTES, "big header");

static struct hak_lock big_lock = HAK_LOCK_INIT("bigcache");
/* big_lock: every cached mapping, newest first. */
static struct dlist big_cache = { &big_cache, &big_cache };
static size_t cached_bytes;   /* big_lock; relaxed peek */

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

static struct big_header *header_of(void *p)
{
	uintptr_t a = (uintptr_t)p;
	struct big_header *h;

	if (registry_kind(a - 1) != REG_BIG_HEAD)
		return NULL;
	h = (struct big_header *)((a - 1) & ~SS_MASK);
	if (h->user != a)
		return NULL;
	return h;
}

/* Unlinks a cached mapping (big_lock held). */
static void cache_take(struct big_header *h)
{
	dlist_del(&h->link);
	atomic_store_relaxed(&cached_bytes, cached_bytes - h->map_size);
	stat_global_add(STAT_BIG_CACHED, -1);
}

/*
 * The smallest cached mapping that holds map_size bytes and is at most
 * twice that: a reused mapping may be a size class or a few larger.
 */
static struct big_header *cache_get(size_t map_size)
{
	struct big_header *best = NULL;
	struct dlist *pos;

	if (!IS_ENABLED(CONFIG_BIGCACHE) || !atomic_load_relaxed(&cached_bytes))
		return NULL;
	hak_lock(&big_lock);
	for (pos = big_cache.next; pos != &big_cache; pos = pos->next) {
		struct big_header *h = dlist_entry(pos, struct big_header, link);

		if (h->map_size >= map_size && h->map_size / 2 <= map_size &&
		    (!best || h->map_size < best->map_size))
			best = h;
	}
	if (best)
		cache_take(best);
	hak_unlock(&big_lock);
	return best;
}

static void big_unmap(struct big_header *h)
{
	registry_unmap(h, h->map_size);
}

void *big_alloc(size_t size, size_t align)
{
	size_t offset = align > BIG_HEADER_BYTES ? align : BIG_HEADER_BYTES;
	size_t skew = 0, map_size, guard = guard_bytes();
	struct big_header *h;
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
	if (offset == BIG_HEADER_BYTES)
		h = cache_get(map_size);
	if (!h) {
		if (registry_map(map_size, skew ? (align > SS_SIZE ? align : SS_SIZE) : SS_SIZE,
				 skew, REG_BIG_HEAD, &p)) {
			errno = ENOMEM;
			return NULL;
		}
		h = p;
		h->fresh = 1;
		h->map_size = map_size;
		if (guard && os_protect_none((char *)p + map_size - guard, guard))
			hak_fatal("cannot protect big-block guard", p);
		if (hak_option(OPT_THP_MB) && map_size >= (hak_option(OPT_THP_MB) << 20))
			os_hugepage(p, map_size - guard);
	} else {
		h->fresh = 0;
	}
	h->magic = BIG_LIVE;
	h->user = (uintptr_t)h + offset;
	h->usable = h->map_size - guard - offset;
	dlist_init(&h->link);
	stat_global_add(STAT_BIG_IN_USE, 1);
	stat_global_add(STAT_BIG_BYTES, (int64_t)h->map_size);
	heap_maintenance(0);    /* rate-limited decay check */
	return (void *)h->user;
}

int big_is_fresh(void *p)
{
	struct big_header *h = header_of(p);

	return h && h->fresh;
}

size_t big_usable_size(void *p)
{
	struct big_header *h = header_of(p);

	return h && h->magic == BIG_LIVE ? h->usable : 0;
}

void big_free(void *p)
{
	struct big_header *h = header_of(p);
	size_t budget;

	if (!h) {
		hak_bad_free(BAD_INVALID_FREE, p);
		return;
	}
	if (h->magic != BIG_LIVE) {
		if (h->magic == BIG_CACHED &&
		    (IS_ENABLED(CONFIG_DOUBLE_FREE_CHECK) || IS_ENABLED(CONFIG_FOREIGN_ABORT)))
			hak_fatal("double free", p);
		hak_bad_free(BAD_INVALID_FREE, p);
		return;
	}
	stat_global_add(STAT_BIG_IN_USE, -1);
	stat_global_add(STAT_BIG_BYTES, -(int64_t)h->map_size);
	heap_maintenance(0);    /* rate-limited decay check */
	budget = (size_t)hak_option(OPT_BIGCACHE_MB) << 20;
	if (!IS_ENABLED(CONFIG_BIGCACHE) || h->user != (uintptr_t)h + BIG_HEADER_BYTES ||
	    h->map_size > budget || hak_option(OPT_DECAY_MS) == 0) {
		h->magic = 0;
		big_unmap(h);
		return;
	}
	hak_lock(&big_lock);
	/* Over budget: the oldest go first. */
	while (cached_bytes + h->map_size > budget) {
		struct big_header *old = dlist_entry(big_cache.prev, struct big_header, link);

		cache_take(old);
		old->magic = 0;
		big_unmap(old);
	}
	h->magic = BIG_CACHED;
	h->cached_ms = os_now_ms();
	dlist_add(&big_cache, &h->link);
	atomic_store_relaxed(&cached_bytes, cached_bytes + h->map_size);
	stat_global_add(STAT_BIG_CACHED, 1);
	hak_unlock(&big_lock);
}

void *big_resize(void *p, size_t size)
{
	struct big_header *h = header_of(p);
	size_t guard = guard_bytes(), offset, new_map;

	if (!h || h->magic != BIG_LIVE)
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

void big_decay(uint64_t now_ms, int force)
{
	uint64_t decay = hak_option(OPT_DECAY_MS);

	if (!atomic_load_relaxed(&cached_bytes))
		return;
	hak_lock(&big_lock);
	while (!dlist_empty(&big_cache)) {
		struct big_header *old = dlist_entry(big_cache.prev, struct big_header, link);

		if (!force && now_ms - old->cached_ms < decay)
			break;
		cache_take(old);
		old->magic = 0;
		big_unmap(old);
	}
	hak_unlock(&big_lock);
}

void big_fork_prepare(void)
{
	hak_lock(&big_lock);
}

void big_fork_parent(void)
{
	hak_unlock(&big_lock);
}
