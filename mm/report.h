/* SPDX-License-Identifier: MIT */
/*
 * The statistics report (report.c, CONFIG_STATS; lock_stats.c,
 * CONFIG_LOCK_STATS), printed at exit with HAKMEM_STATS=1 and by
 * malloc_stats().  Top layer, beside mm/api.c.
 */
#ifndef HAKMEM_MM_REPORT_H
#define HAKMEM_MM_REPORT_H

#include <mm/internal.h>

#if IS_ENABLED(CONFIG_STATS)
/* Prints "hakmem: stat <name> <value>" lines (and the lock statistics). */
void stats_print(void);
#else
static inline void stats_print(void) { }
#endif
#if IS_ENABLED(CONFIG_LOCK_STATS)
/* Prints "hakmem: lock <name> acquired <n> contended <n>" lines. */
void lock_stats_print(void);
#else
static inline void lock_stats_print(void) { }
#endif

#endif
