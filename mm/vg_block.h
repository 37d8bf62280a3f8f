/* SPDX-License-Identifier: MIT */
/* Block sizes under memcheck (mm/vg_block.c, CONFIG_VALGRIND). */
#ifndef HAKMEM_MM_VG_BLOCK_H
#define HAKMEM_MM_VG_BLOCK_H

#include <stddef.h>

struct span;
/* The size asked for live block p of span s (NULL: a large block). */
size_t vg_size(struct span *s, void *p);
/* Block p (of span s, NULL: large) holds n bytes: its bytes past n become
 * no-access; returns the size to announce. */
size_t vg_set_size(struct span *s, void *p, size_t n);
/* Says on stderr how to keep hakmem when Valgrind replaced malloc. */
void vg_check_replaced(void);

#endif
