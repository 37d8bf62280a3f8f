/* SPDX-License-Identifier: MIT */
/*
 * Valgrind client requests (CONFIG_VALGRIND).  Blocks are announced to
 * memcheck as they are handed out and taken back, so leaks and accesses to
 * freed memory are reported as they are with glibc.  The allocator's own
 * reads of free-list links in freed blocks are announced as defined first.
 * Without valgrind each request is a short no-op sequence; with the option
 * off they compile to nothing.
 *
 * vg_running is set once, at init, when the process runs under Valgrind
 * (RUNNING_ON_VALGRIND).  Only then does the allocator serve blocks with a
 * red zone (mm/api.c): a request of n bytes takes a block of the class of
 * n + VG_REDZONE, announced with n bytes and no red zone (memcheck's own
 * red zone would cover the tail of the block before, which is live), and
 * [p + n, block end) is made no-access; n is kept in the superslab's side
 * table (struct superslab, vg_sizes).  Freed blocks stay no-access: the
 * allocator works on them with memcheck's error reports off
 * (vg_quiet_begin/end), and marks again no-access the links it had to make
 * defined.  Allocator metadata that holds block addresses (superslab
 * descriptors, heaps, large headers) is hidden from the leak scan
 * (vg_hide), so a lost block is "definitely lost".
 */
#ifndef HAKMEM_MM_VALGRIND_H
#define HAKMEM_MM_VALGRIND_H

#include <mm/internal.h>

/* Bytes past the requested size that stay no-access under memcheck. */
#define VG_REDZONE MIN_ALIGN

#if IS_ENABLED(CONFIG_VALGRIND)
#include <valgrind/memcheck.h>
extern hak_hidden int vg_running;
/* Sets vg_running (once, at init). */
void vg_detect(void);
#define vg_on()                         unlikely(vg_running)
#define vg_block_alloc(p, size, zeroed) VALGRIND_MALLOCLIKE_BLOCK((p), (size), 0, (zeroed))
#define vg_block_free(p)                VALGRIND_FREELIKE_BLOCK((p), 0)
#define vg_block_resize(p, old, size)   VALGRIND_RESIZEINPLACE_BLOCK((p), (old), (size), 0)
#define vg_mem_defined(p, size)         VALGRIND_MAKE_MEM_DEFINED((p), (size))
#define vg_mem_noaccess(p, size)        VALGRIND_MAKE_MEM_NOACCESS((p), (size))
#define vg_mem_undefined(p, size)       VALGRIND_MAKE_MEM_UNDEFINED((p), (size))
/* Out of the leak scan (and no address errors reported in it). */
#define vg_hide(p, size)                VALGRIND_DISABLE_ADDR_ERROR_REPORTING_IN_RANGE((p), (size))
#define vg_unhide(p, size)              VALGRIND_ENABLE_ADDR_ERROR_REPORTING_IN_RANGE((p), (size))
/* The calling thread's error reports off and on again (nested). */
#define vg_quiet_begin()                VALGRIND_DISABLE_ERROR_REPORTING
#define vg_quiet_end()                  VALGRIND_ENABLE_ERROR_REPORTING
#else
/* A constant the front end folds: the code it guards leaves no trace. */
#define vg_on()                         0
static inline void vg_detect(void) { }
#define vg_block_alloc(p, size, zeroed) do { (void)(p); (void)(size); (void)(zeroed); } while (0)
#define vg_block_free(p)                do { (void)(p); } while (0)
#define vg_block_resize(p, old, size)   do { (void)(p); (void)(old); (void)(size); } while (0)
#define vg_mem_defined(p, size)         do { (void)(p); (void)(size); } while (0)
#define vg_mem_noaccess(p, size)        do { (void)(p); (void)(size); } while (0)
#define vg_mem_undefined(p, size)       do { (void)(p); (void)(size); } while (0)
#define vg_hide(p, size)                do { (void)(p); (void)(size); } while (0)
#define vg_unhide(p, size)              do { (void)(p); (void)(size); } while (0)
#define vg_quiet_begin()                do { } while (0)
#define vg_quiet_end()                  do { } while (0)
#endif

#endif
