// SPDX-License-Identifier: MIT
/* The global statistics counters (mm/stats.h), kept in every config. */
#include <mm/stats.h>

int64_t stat_global[STAT_COUNT];
