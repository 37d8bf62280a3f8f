// SPDX-License-Identifier: MIT
/* The global statistics counters and peaks (mm/stats.h), kept in every
 * config; the class counts with CONFIG_STATS. */
#include <mm/stats.h>

int64_t stat_global[STAT_COUNT];
int64_t stat_peak[STAT_COUNT];
int64_t stat_class[NUM_CLASSES][3];

void stats_peak_reset(const struct stats_snapshot *now)
{
	unsigned int i;

	for (i = 0; i < STAT_COUNT; i++)
		atomic_store_relaxed(&stat_peak[i], now->v[i]);
}
