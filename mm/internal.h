/* SPDX-License-Identifier: MIT */
/*
 * Definitions shared by every part of the allocator: compiler helpers,
 * the fatal-error path, and the geometry constants.
 */
#ifndef HAKMEM_MM_INTERNAL_H
#define HAKMEM_MM_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <asm/atomic.h>
#include <asm/page.h>
#include <asm/processor.h>
#include <hakmem/kconfig.h>

#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define noinline    __attribute__((__noinline__))
#define cold        __attribute__((__cold__, __noinline__))
#define always_inline inline __attribute__((__always_inline__))
#define cacheline_aligned __attribute__((aligned(CACHE_LINE_SIZE)))
/*
 * On extern declarations of the library's own data: -fvisibility=hidden
 * covers definitions only, so without this every access to a global from
 * another file loads its address first (a GOT entry the linker turns into
 * an lea, still one instruction more than a RIP-relative operand).
 */
#define hak_hidden  __attribute__((__visibility__("hidden")))
/* Exports `name` as an alias of the API function `target` (CONFIG_OVERRIDE). */
#define HAK_ALIAS(name, target) \
	extern __typeof(target) name __attribute__((alias(#target), visibility("default")))

/* Geometry (mm/superslab/superslab.h has the full picture). */
#define SS_SHIFT      CONFIG_SUPERSLAB_SHIFT
#define SS_SIZE       (1UL << SS_SHIFT)
#define SS_MASK       (SS_SIZE - 1)
#define SLAB_SHIFT    CONFIG_SLAB_SHIFT
#define SLAB_SIZE     (1UL << SLAB_SHIFT)
#define SLABS_PER_SS  (1u << (SS_SHIFT - SLAB_SHIFT))

/* Largest user address the registry covers: 48-bit user space (x86_64
 * 4-level paging uses 47 of them; arm64 with 48-bit VA all 48). */
#define VA_BITS       48
#define MIN_ALIGN     16

_Static_assert(SLAB_SIZE >= ARCH_MAX_PAGE_SIZE, "a slab must hold whole pages");
_Static_assert(SLABS_PER_SS >= 16 && SLABS_PER_SS <= 64, "free mask is one word");

/*
 * Aborts with one line on stderr: "hakmem: <what> <ptr>", after what the
 * debug boxes have to say (hak_fatal_hook: the trace ring's dump).
 */
cold __attribute__((noreturn)) void hak_fatal(const char *what, const void *ptr);
/* Called once by hak_fatal before it aborts (set at init by a debug box). */
extern hak_hidden void (*hak_fatal_hook)(void);
/* Prints "hakmem: <what> <ptr>" and goes on. */
cold void hak_warn(const char *what, const void *ptr);
/*
 * A free (or realloc) of a pointer hakmem cannot accept.  The foreign kinds
 * are not our memory: ignored and counted; hardened aborts; debug reports
 * the first few.  The others are our memory but not a live block, or a
 * sized free whose size does not fit the block: ignored and counted in
 * release; debug, hardened and any config with CONFIG_DOUBLE_FREE_CHECK
 * abort.  (A confirmed double free aborts in every config: hak_fatal.)
 */
enum bad_free {
	BAD_FOREIGN_FREE,
	BAD_FOREIGN_REALLOC,
	BAD_INVALID_FREE,     /* interior pointer, metadata, a free slab */
	BAD_INVALID_REALLOC,
	BAD_SIZE_MISMATCH,    /* free_sized / free_aligned_sized */
};
cold void hak_bad_free(enum bad_free kind, const void *ptr);

#endif
