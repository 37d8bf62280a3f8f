/* SPDX-License-Identifier: MIT */
/*
 * The statistics report (report.c): every row of mm/stats.h, the classes
 * in use, the lock statistics (lock_stats.c, CONFIG_LOCK_STATS) and the
 * cache policy, as "hakmem: ..." text lines or one JSON object, written
 * through a sink: an fd at exit (HAKMEM_STATS, HAKMEM_STATS_FILE), a FILE
 * for hak_stats_print() and malloc_stats().  Top layer, beside mm/api.c.
 * A report takes a snapshot first (stats_collect) and writes with no lock
 * held, so a sink may allocate.
 */
#ifndef HAKMEM_MM_REPORT_H
#define HAKMEM_MM_REPORT_H

#include <stddef.h>
#include <mm/internal.h>

struct hak_lock;

enum report_format { REPORT_TEXT, REPORT_JSON };

/* Where report text goes; returns 0, or -1 when the sink failed. */
typedef int (*report_sink)(void *ctx, const char *s, size_t n);

/* A sink that writes to the fd *ctx points at (os_write_fd). */
int report_sink_fd(void *ctx, const char *s, size_t n);

/* Writes the whole report; 0, or -1 when the sink failed. */
int stats_report(report_sink sink, void *ctx, enum report_format format);

/* The exit report (HAKMEM_STATS, HAKMEM_STATS_FILE); registered with atexit. */
void stats_at_exit(void);

/*
 * Opens the file an option names for writing (os_open_report): "%p" in
 * the path becomes the process id, "%%" a "%".  The fd, or a negative
 * errno value; reports a failure on stderr, naming the option.
 */
int report_open_option(const char *option, const char *path);

/* HAKMEM_TRACE_DUMP: the exiting thread's trace ring to the file it names
 * (CONFIG_DEBUG_TRACE); registered with atexit. */
void trace_at_exit(void);

/* The identity lines (HAKMEM_VERBOSE=1 at start-up). */
void report_identity(void);

#if IS_ENABLED(CONFIG_LOCK_STATS)
/* Calls fn for every lock (those of a kind summed, as "heap-notify"). */
void locks_for_each(void (*fn)(const struct hak_lock *l, void *arg), void *arg);
#else
static inline void locks_for_each(void (*fn)(const struct hak_lock *l, void *arg), void *arg)
{
	(void)fn;
	(void)arg;
}
#endif

#endif
