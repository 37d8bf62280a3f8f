// SPDX-License-Identifier: MIT
/*
 * The blocks' sizes under memcheck (CONFIG_VALGRIND, vg_running; see
 * mm/valgrind.h), and the start-up check that hakmem is the allocator in
 * use.  mm/api.c serves the blocks.
 */
#include <stdint.h>

#include <hakmem.h>
#include <mm/heap/heap.h>
#include <mm/large/large.h>
#include <mm/os.h>
#include <mm/superslab/superslab.h>
#include <mm/valgrind.h>
#include <mm/vg_block.h>

/*
 * Under memcheck (mm/valgrind.h): the side-table slot of small block p, the
 * size asked for live block p of span s (NULL: a large block), and setting
 * it, which makes the block's bytes past n no-access and returns the size
 * to announce.
 */
static uint32_t *vg_size_slot(void *p)
{
	uint32_t *t = ss_of((uintptr_t)p)->vg_sizes;

	return t ? &t[((uintptr_t)p & SS_MASK) / MIN_ALIGN] : NULL;
}

size_t vg_size(struct span *s, void *p)
{
	uint32_t *slot;

	if (!s)
		return large_vg_size(p);
	slot = vg_size_slot(p);
	return slot ? *slot : s->block_size;
}

size_t vg_set_size(struct span *s, void *p, size_t n)
{
	uint32_t *slot;
	size_t end;

	if (s) {
		slot = vg_size_slot(p);
		if (!slot)
			return s->block_size;
		*slot = (uint32_t)n;
		end = s->block_size;
	} else {
		end = large_usable_size(p);
		n = large_vg_set_size(p, n);
	}
	vg_mem_noaccess((char *)p + n, end - n);
	return n;
}

/*
 * Under Valgrind, whether memcheck replaced malloc (as it does by default
 * in any library that defines it): then hakmem's malloc, called at its
 * own address, returns a block that is none of hakmem's.
 */
void vg_check_replaced(void)
{
	static const char msg[] = "hakmem: running under Valgrind, which replaced malloc; "
		"keep hakmem with --soname-synonyms=somalloc=nouserintercepts\n";
	void *(*volatile alloc)(size_t) = hak_malloc;
	void (*volatile release)(void *) = hak_free;
	void *p = alloc(1);

	if (p && registry_kind((uintptr_t)p) == REG_NONE &&
	    registry_kind((uintptr_t)p - 1) != REG_LARGE_HEAD)
		os_write_stderr(msg, sizeof(msg) - 1);
	release(p);
}
