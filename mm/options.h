/* SPDX-License-Identifier: MIT */
/*
 * Run-time options: one table, read once at init from HAKMEM_* environment
 * variables, defaults from Kconfig.  A malformed or unknown HAKMEM_* value
 * is reported once on stderr and the default kept.  In a setuid or setgid
 * program (AT_SECURE) every HAKMEM_* variable is ignored, silently.
 */
#ifndef HAKMEM_MM_OPTIONS_H
#define HAKMEM_MM_OPTIONS_H

#include <stdint.h>
#include <mm/internal.h>

#if IS_ENABLED(CONFIG_SS_LRU)
#define OPT_DEFAULT_SS_LRU CONFIG_SS_LRU_CAPACITY
#else
#define OPT_DEFAULT_SS_LRU 0
#endif
#if IS_ENABLED(CONFIG_BIGCACHE)
#define OPT_DEFAULT_BIGCACHE_MB CONFIG_BIGCACHE_MB
#else
#define OPT_DEFAULT_BIGCACHE_MB 0
#endif
#if IS_ENABLED(CONFIG_ADAPTIVE)
#define OPT_DEFAULT_RESERVE_MAX CONFIG_HEAP_RESERVE_MAX
#else
#define OPT_DEFAULT_RESERVE_MAX CONFIG_HEAP_RESERVE
#endif
#if IS_ENABLED(CONFIG_THP)
#define OPT_DEFAULT_THP_MB CONFIG_THP_THRESHOLD_MB
#else
#define OPT_DEFAULT_THP_MB 0
#endif

/*
 * X(ID, environment name, type, default, min, max, description).  NUM: a
 * number in [min, max]; STR: a string of min to max bytes (printable
 * ASCII), copied at init into memory from the OS layer.
 */
#define HAK_OPTIONS(X)                                                          \
	X(STATS, "HAKMEM_STATS", NUM, 0, 0, 1,                                    \
	  "print statistics at exit: 1 or text, json (0: no)")                   \
	X(STATS_FILE, "HAKMEM_STATS_FILE", STR, "", 0, 255,                       \
	  "write the exit statistics to this file (%p: the process id), not stderr") \
	X(DECAY_MS, "HAKMEM_DECAY_MS", NUM, CONFIG_DECAY_MS, 0, 3600000,          \
	  "age (ms) after which cached memory goes back to the kernel")          \
	X(BIGCACHE_MB, "HAKMEM_BIGCACHE_MB", NUM, OPT_DEFAULT_BIGCACHE_MB, 0,     \
	  1048576, "BigCache budget in MiB (0: off)")                             \
	X(SS_LRU_CAPACITY, "HAKMEM_SS_LRU", NUM, OPT_DEFAULT_SS_LRU, 0, 1024,     \
	  "empty superslabs kept in the LRU cache")                               \
	X(HEAP_RESERVE, "HAKMEM_HEAP_RESERVE", NUM, CONFIG_HEAP_RESERVE, 0, 256,  \
	  "empty spans a thread heap keeps")                                      \
	X(HEAP_RESERVE_MAX, "HAKMEM_HEAP_RESERVE_MAX", NUM, OPT_DEFAULT_RESERVE_MAX, \
	  0, 256, "largest reserve the adaptive layer may grow to")               \
	X(THP_MB, "HAKMEM_THP_MB", NUM, OPT_DEFAULT_THP_MB, 0, 1048576,           \
	  "big blocks from this size (MiB) get MADV_HUGEPAGE (0: never)")         \
	X(ACE, "HAKMEM_ACE", NUM, 0, 0, 1,                                        \
	  "run the adaptive engine (CONFIG_ADAPTIVE): cache sizes from what they see") \
	X(PURGE_THREAD, "HAKMEM_PURGE_THREAD", NUM, IS_ENABLED(CONFIG_PURGE_THREAD), 0, 1, \
	  "run the purge thread when the build has it (0: slow paths only)")     \
	X(INTEGRITY, "HAKMEM_INTEGRITY", NUM, IS_ENABLED(CONFIG_DEBUG_INTEGRITY), 0, 3, \
	  "CONFIG_DEBUG_INTEGRITY: 0 none, 1 spans that change hands, 2 every slow path, 3 every call") \
	X(TRACE_DUMP, "HAKMEM_TRACE_DUMP", STR, "", 0, 255,                       \
	  "CONFIG_DEBUG_TRACE: write the exiting thread's trace ring to this file (%p)") \
	X(VERBOSE, "HAKMEM_VERBOSE", NUM, 0, 0, 1,                                \
	  "print the version and build config at start-up, report foreign frees") \
	X(PROF, "HAKMEM_PROF", STR, "", 0, 255,                                   \
	  "CONFIG_PROFILER: sample allocations, write the heap profile here at exit (%p: the process id)") \
	X(PROF_SAMPLE, "HAKMEM_PROF_SAMPLE", NUM, 524288, 1, (1ULL << 40),        \
	  "CONFIG_PROFILER: mean bytes allocated between samples")                \
	X(PROF_SEED, "HAKMEM_PROF_SEED", NUM, 0, 0, (1ULL << 62),                 \
	  "CONFIG_PROFILER: seed of the sampling (0: random)")                    \
	X(TEST_STRING, "HAKMEM_TEST_STRING", STR, "", 0, 64,                      \
	  "a string option for the tests; no effect")

/*
 * Words a NUM option takes besides its numbers: X(ID, word, value).  The
 * value may lie past the option's max, which bounds the numbers only.
 */
#define HAK_OPTION_WORDS(X)                                                     \
	X(STATS, "text", 1)                                                     \
	X(STATS, "json", 2)

/* HAKMEM_STATS's values. */
enum { STATS_OFF, STATS_TEXT, STATS_JSON };

enum option_type { OPT_TYPE_NUM, OPT_TYPE_STR };

enum option_id {
#define OPT_ENUM(id, env, type, def, lo, hi, desc) OPT_##id,
	HAK_OPTIONS(OPT_ENUM)
#undef OPT_ENUM
	OPT_COUNT
};

union option_value {
	uint64_t num;
	const char *str;
};

extern hak_hidden union option_value option_values[OPT_COUNT];

static inline uint64_t hak_option(enum option_id id)
{
	return option_values[id].num;
}

static inline const char *hak_option_str(enum option_id id)
{
	return option_values[id].str;
}

/* Reads the environment (once, at init; nothing under AT_SECURE). */
void options_init(void);

/* The option's environment name ("HAKMEM_DECAY_MS") and type. */
const char *option_env(enum option_id id);
enum option_type option_type(enum option_id id);
/* Sets a number option at run time (hak_ctl): 0, or EINVAL when v lies
 * outside the option's bounds. */
int option_set_num(enum option_id id, uint64_t v);

#endif
