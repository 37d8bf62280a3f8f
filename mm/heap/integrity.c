// SPDX-License-Identifier: MIT
/*
 * Integrity levels (CONFIG_DEBUG_INTEGRITY), chosen at run time by
 * HAKMEM_INTEGRITY; see mm/heap/debug.h.  Every failed check reports what
 * it found (verify.c) and aborts.
 *   1  a span's free list and accounting when it changes hands (span_check)
 *   2  also every span of the heap, free and remote lists, on each slow path
 *   3  also the block's span on every malloc and free: the block is no
 *      link of the free list it leaves or joins
 */
#include <mm/heap/internal.h>
#include <mm/options.h>

uint32_t integrity_level;

void integrity_init(void)
{
	integrity_level = (uint32_t)hak_option(OPT_INTEGRITY);
}

static cold __attribute__((noreturn)) void integrity_failed(const struct span *s)
{
	hak_fatal("heap integrity check failed (details above); span", s);
}

void span_check_free_list(const struct span *s)
{
	if (integrity_level >= 1 && span_verify(s, VERIFY_FREE_LIST))
		integrity_failed(s);
}

static void walk_list(struct dlist *list)
{
	struct dlist *pos;

	for (pos = list->next; pos != list; pos = pos->next) {
		struct span *s = dlist_entry(pos, struct span, link);

		if (span_verify(s, VERIFY_ALL_LISTS))
			integrity_failed(s);
	}
}

void heap_integrity_walk_slow(struct heap *h)
{
	unsigned int c;

	hak_lock(&h->notify_lock);
	for (c = 0; c < NUM_CLASSES; c++) {
		if (h->current[c] != &empty_span && span_verify(h->current[c], VERIFY_ALL_LISTS))
			integrity_failed(h->current[c]);
		walk_list(&h->partial[c]);
	}
	walk_list(&h->full);
	hak_unlock(&h->notify_lock);
}

void integrity_check_block(const struct span *s, const void *b)
{
	uintptr_t at = (uintptr_t)s->free;
	uint64_t n = 0;

	long i = span_block_index(s, (uintptr_t)b);

	if (i < 0 || (uint64_t)i >= s->carved)
		hak_fatal("integrity: no carved block of its span", b);
	/* Free blocks stay no-access to memcheck: read their links quietly. */
	vg_quiet_begin();
	for (; at; at = (uintptr_t)link_encode(s, (void *)at, *(void **)at)) {
		if (at == (uintptr_t)b)
			hak_fatal("integrity: block is on its span's free list (double free?)", b);
		if (span_block_index(s, at) < 0 || ++n > s->carved)
			integrity_failed(s);
	}
	vg_quiet_end();
}
