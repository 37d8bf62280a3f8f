// SPDX-License-Identifier: MIT
/* The statistics report (CONFIG_STATS); see report.h. */
#include <lib/fmt.h>
#include <mm/heap/heap.h>
#include <mm/report.h>
#include <mm/os.h>
#include <mm/stats.h>

static const char *const stat_names[STAT_COUNT] = {
#define STAT_NAME(id, name, kind, desc) [STAT_##id] = #name,
	HAK_STATS(STAT_NAME)
#undef STAT_NAME
};

void stats_print(void)
{
	int64_t v[STAT_COUNT];
	unsigned int i;

	stats_snapshot(v);
	for (i = 0; i < STAT_COUNT; i++) {
		char buf[128];
		struct fmt_buf b = { buf, sizeof(buf), 0 };

		fmt_str(&b, "hakmem: stat ");
		fmt_str(&b, stat_names[i]);
		fmt_char(&b, ' ');
		fmt_u64(&b, (uint64_t)v[i]);
		fmt_char(&b, '\n');
		os_write_report(buf, b.len);
	}
	lock_stats_print();
}
