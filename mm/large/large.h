/* SPDX-License-Identifier: MIT */
/*
 * Large tier: blocks above 1 MiB (and allocations aligned beyond 64 KiB).
 *
 * Each block is its own mapping, superslab-aligned and registered
 * (REG_BIG_HEAD for its first SS_SIZE piece, REG_BIG_TAIL after).  The
 * mapping starts with struct big_header; the user pointer lies in
 * (base, base + SS_SIZE], so base == (ptr - 1) & ~SS_MASK.  The header
 * records the offset, which is how aligned big blocks keep their start.
 *
 * Mapping sizes are rounded to 4 classes per doubling.  BigCache keeps
 * freed mappings on one list, newest first, up to a byte budget (the
 * oldest are evicted), and hands back the smallest one that holds a
 * request within a factor of two; cached mappings stay registered and
 * marked, so a double free of a cached block is caught.  Mappings older
 * than the decay time are unmapped.
 *
 * Invariants: a header's magic is BIG_LIVE while the block is handed out
 * and BIG_CACHED while in BigCache; cached_bytes == sum of cached map sizes
 * <= budget.  Lock: big_lock (rank 6 in superslab.h), never held on the
 * way into registry_lock's callers other than unmapping.
 */
#ifndef HAKMEM_MM_LARGE_H
#define HAKMEM_MM_LARGE_H

#include <stddef.h>
#include <stdint.h>

void *big_alloc(size_t size, size_t align);
/* p must be a pointer whose registry kind (of p - 1) is REG_BIG_HEAD. */
void big_free(void *p);
/* Usable size of a live big block, or 0 if p is not one. */
size_t big_usable_size(void *p);
/* Tries to resize in place; returns p on success, NULL otherwise. */
void *big_resize(void *p, size_t size);
/* 1 if the block's memory is known to be zero (fresh from mmap). */
int big_is_fresh(void *p);
void big_decay(uint64_t now_ms, int force);
void big_fork_prepare(void);
void big_fork_parent(void);

#endif
