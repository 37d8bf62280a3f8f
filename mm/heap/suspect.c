// SPDX-License-Identifier: MIT
/*
 * Suspected double frees.  A free writes free_key into the freed block's
 * second word and malloc clears it (heap.h), so a free that finds the key
 * is a double free, or a live block whose data happens to hold the key.
 * Nothing writes to such a block before knowing which:
 *   - the owner confirms at once: it collects the span's remote frees and
 *     looks for the block on the free list (heap_free_suspect);
 *   - another thread hands the pointer to the owner through the owner's
 *     suspect queue (OS memory, under notify_lock); the owner confirms
 *     them on its slow path, in malloc_trim and at thread exit, where a
 *     block whose key malloc has cleared since was free when handed over;
 *   - the shared heap's suspects are confirmed under shared_lock, an
 *     abandoned span's under its class's lock, by the freeing thread.
 * A block found on a list aborts ("hakmem: double free <p>"); one not found
 * is freed normally, so there are no false positives.  A suspect counts as
 * used until it is confirmed.  Two frees of one block that race, with
 * nothing ordering them, are out of scope.
 */
#include <mm/heap/internal.h>
#include <mm/os.h>

uint64_t free_key;

int span_holds_free(struct span *s, void *p)
{
	uint64_t n = 0;
	void *b;

	span_collect(s);
	for (b = heap_free_head(s); b && n <= s->carved; b = link_next(s, b), n++)
		if (b == p)
			return 1;
	return 0;
}

void heap_free_suspect(struct heap *h, struct span *s, void *p)
{
	if (remote_batch_defer(h, s, p))
		return;
	if (span_holds_free(s, p))
		hak_fatal("double free", p);
	heap_push_local(h, s, p, free_key);
}

int os_array_grow(void **buf, uint32_t *cap, uint32_t used, size_t size)
{
	size_t n = *cap ? 2 * (size_t)*cap : os_page_size() / size;
	void *b;

	if (used < *cap)
		return 1;
	if (os_map(n * size, &b))
		return 0;
	stat_global_add(STAT_BYTES_MAPPED, (int64_t)(n * size));
	if (used)
		memcpy(b, *buf, used * size);
	if (*cap && !os_unmap(*buf, *cap * size))
		stat_global_add(STAT_BYTES_MAPPED, -(int64_t)(*cap * size));
	*buf = b;
	*cap = (uint32_t)n;
	return 1;
}

int suspect_hand_over(struct heap *owner, struct span *s, void *p)
{
	int done = 0;

	hak_lock(&owner->notify_lock);
	if (owner_heap(s) == owner && owner->kind == HEAP_LIVE) {
		if (!os_array_grow((void **)&owner->suspect_buf, &owner->suspect_cap,
				   owner->suspects, sizeof(void *)))
			hak_fatal("out of memory holding a suspected double free", p);
		owner->suspect_buf[owner->suspects] = p;
		atomic_store_relaxed(&owner->suspects, owner->suspects + 1);
		done = 1;
	}
	hak_unlock(&owner->notify_lock);
	return done;
}

/*
 * Frees a block that was handed over with the key in it.  If the key is
 * gone, the block was free when it was handed over and malloc has handed
 * it out since (nothing else writes to a block freed by its rightful
 * owner): a double free.  Otherwise the free, as any free that finds the
 * key, confirms on the span's lists (heap_free_block).
 */
static void suspect_free(void *p)
{
	if (BLOCK_KEY(p) != free_key)
		hak_fatal("double free", p);
	/* Checked against the remote batches when it was handed over. */
	remote_batch_free_checked(p);
}

void heap_drain_suspects(struct heap *h)
{
	while (atomic_load_relaxed(&h->suspects)) {
		void *p;

		hak_lock(&h->notify_lock);
		p = h->suspect_buf[--h->suspects];
		hak_unlock(&h->notify_lock);
		suspect_free(p);
	}
}

void heap_free_suspects_left(struct heap *h)
{
	while (h->suspects)
		suspect_free(h->suspect_buf[--h->suspects]);
}
