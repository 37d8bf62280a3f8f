// SPDX-License-Identifier: MIT
/* The global statistics counters and peaks (mm/stats.h), kept in every
 * config; the class counts with CONFIG_STATS. */
#include <mm/stats.h>

int64_t stat_global[STAT_COUNT];
int64_t stat_peak[STAT_COUNT];
int64_t stat_class[NUM_CLASSES][3];

const char *const stat_names[STAT_COUNT] = {
#define STAT_NAME(id, name, kind, desc) [STAT_##id] = #name,
	HAK_STATS(STAT_NAME)
#undef STAT_NAME
};

const char *const class_stat_names[CSTAT_COUNT] = {
#define CSTAT_NAME(id, name, desc) [CSTAT_##id] = #name,
	HAK_CLASS_STATS(CSTAT_NAME)
#undef CSTAT_NAME
};

void stats_peak_reset(const struct stats_snapshot *now)
{
	unsigned int i;

	for (i = 0; i < STAT_COUNT; i++)
		atomic_store_relaxed(&stat_peak[i], now->v[i]);
}
