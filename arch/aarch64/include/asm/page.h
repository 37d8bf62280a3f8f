/* SPDX-License-Identifier: MIT */
/*
 * Page sizes on aarch64.  The real page size is read from the kernel at run
 * time (see mm/os.c); this is only the largest one the build supports,
 * which sizes the superslab metadata and bounds the run-time value.
 */
#ifndef HAKMEM_ASM_PAGE_H
#define HAKMEM_ASM_PAGE_H

#include <generated/autoconf.h>

#define ARCH_MAX_PAGE_SHIFT CONFIG_ARCH_MAX_PAGE_SHIFT
#define ARCH_MAX_PAGE_SIZE  (1UL << ARCH_MAX_PAGE_SHIFT)
#define ARCH_MIN_PAGE_SIZE  4096UL

#endif
