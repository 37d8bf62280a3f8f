// SPDX-License-Identifier: MIT
/*
 * The registry: one byte per SS_SIZE piece of the user address space
 * (2^(VA_BITS - SS_SHIFT) entries, 128 MiB of reserved, lazily backed
 * address space for 48 bits and 2 MiB superslabs).  Lookups are a bounds
 * check and one byte load; updates hold registry_lock.  A region is
 * registered before it is published and unregistered only after it is
 * unmapped, so a racing mmap of the same range by another path cannot be
 * clobbered.
 */
#include <errno.h>
#include <mm/os.h>
#include <mm/stats.h>
#include <mm/superslab/superslab.h>

uintptr_t registry_entries;
uint8_t *registry_bytes;
struct hak_lock registry_lock = HAK_LOCK_INIT("registry");

int registry_init(void)
{
	size_t entries = 1UL << (VA_BITS - SS_SHIFT);
	void *map;
	int err;

	if (registry_entries)
		return 0;
	err = os_reserve(entries, &map);
	if (err)
		return err;
	registry_bytes = map;
	atomic_store_release(&registry_entries, entries);
	return 0;
}

static void registry_set_locked(uintptr_t addr, size_t size, unsigned int kind)
{
	uintptr_t first = addr >> SS_SHIFT;
	uintptr_t last = (addr + size - 1) >> SS_SHIFT;
	uintptr_t i;

	for (i = first; i <= last && i < registry_entries; i++) {
		unsigned int k = kind;

		if (kind == REG_LARGE_HEAD && i != first)
			k = REG_LARGE_TAIL;
		atomic_store_release(&registry_bytes[i], (uint8_t)k);
	}
}

int registry_map(size_t size, size_t align, size_t skew, unsigned int kind,
		 void **out)
{
	void *p;
	int err;

	hak_lock(&registry_lock);
	err = os_map_aligned(size, align, skew, &p);
	if (!err) {
		if (((uintptr_t)p + size - 1) >> SS_SHIFT >= registry_entries) {
			/* Above the address range the registry covers. */
			os_unmap(p, size);
			err = ENOMEM;
		} else {
			registry_set_locked((uintptr_t)p, size, kind);
			stat_global_add(STAT_BYTES_MAPPED, size);
			*out = p;
		}
	}
	hak_unlock(&registry_lock);
	return err;
}

void registry_unmap(void *addr, size_t size)
{
	hak_lock(&registry_lock);
	if (os_unmap(addr, size))
		hak_fatal("munmap failed", addr);
	registry_set_locked((uintptr_t)addr, size, REG_NONE);
	stat_global_add(STAT_BYTES_MAPPED, -(int64_t)size);
	hak_unlock(&registry_lock);
}

int registry_resize(void *addr, size_t old_size, size_t new_size)
{
	uintptr_t a = (uintptr_t)addr;
	int err;

	hak_lock(&registry_lock);
	if ((a + new_size - 1) >> SS_SHIFT >= registry_entries) {
		hak_unlock(&registry_lock);
		return ENOMEM;
	}
	err = os_resize_in_place(addr, old_size, new_size);
	if (!err) {
		uintptr_t old_last = (a + old_size - 1) >> SS_SHIFT;
		uintptr_t new_last = (a + new_size - 1) >> SS_SHIFT;
		uintptr_t i;

		for (i = old_last + 1; i <= new_last; i++)
			atomic_store_release(&registry_bytes[i], (uint8_t)REG_LARGE_TAIL);
		for (i = new_last + 1; i <= old_last; i++)
			atomic_store_release(&registry_bytes[i], (uint8_t)REG_NONE);
		stat_global_add(STAT_BYTES_MAPPED, (int64_t)new_size - (int64_t)old_size);
	}
	hak_unlock(&registry_lock);
	return err;
}
