/* SPDX-License-Identifier: MIT */
/*
 * Valgrind client requests (CONFIG_VALGRIND).  Blocks are announced to
 * memcheck as they are handed out and taken back, so leaks and accesses to
 * freed memory are reported as they are with glibc.  The allocator's own
 * reads of free-list links in freed blocks are announced as defined first.
 * Without valgrind each request is a short no-op sequence; with the option
 * off they compile to nothing.
 */
#ifndef HAKMEM_MM_VALGRIND_H
#define HAKMEM_MM_VALGRIND_H

#include <mm/internal.h>

#if IS_ENABLED(CONFIG_VALGRIND)
#include <valgrind/memcheck.h>
#define vg_block_alloc(p, size, zeroed) VALGRIND_MALLOCLIKE_BLOCK((p), (size), 0, (zeroed))
#define vg_block_free(p)                VALGRIND_FREELIKE_BLOCK((p), 0)
#define vg_mem_defined(p, size)         VALGRIND_MAKE_MEM_DEFINED((p), (size))
#else
#define vg_block_alloc(p, size, zeroed) do { (void)(p); (void)(size); (void)(zeroed); } while (0)
#define vg_block_free(p)                do { (void)(p); } while (0)
#define vg_mem_defined(p, size)         do { (void)(p); (void)(size); } while (0)
#endif

#endif
