// SPDX-License-Identifier: MIT
/* The statistics report (CONFIG_STATS); see report.h. */
#include <lib/fmt.h>
#include <mm/heap/heap.h>
#include <mm/report.h>
#include <mm/options.h>
#include <mm/os.h>
#include <mm/policy.h>
#include <mm/stats.h>

static const char *const stat_names[STAT_COUNT] = {
#define STAT_NAME(id, name, kind, desc) [STAT_##id] = #name,
	HAK_STATS(STAT_NAME)
#undef STAT_NAME
};

static void policy_print(void);

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
	policy_print();
	lock_stats_print();
}

/* The cache policy in force and the knobs that are options only. */
static void policy_print(void)
{
	const struct hak_policy *p = policy_get();
	char buf[256];
	struct fmt_buf b = { buf, sizeof(buf), 0 };

	fmt_str(&b, "hakmem: policy epoch ");
	fmt_u64(&b, p->epoch);
	fmt_str(&b, hak_option(OPT_ACE) ? " (adaptive engine)" : " (options)");
	fmt_str(&b, " reserve_max ");
	fmt_u64(&b, p->reserve_max);
	fmt_str(&b, " lru_capacity ");
	fmt_u64(&b, p->lru_capacity);
	fmt_str(&b, " bigcache_bytes ");
	fmt_u64(&b, p->bigcache_bytes);
	fmt_str(&b, " span_cache_slots ");
	fmt_u64(&b, p->span_cache_slots);
	fmt_str(&b, " decay_ms ");
	fmt_u64(&b, hak_option(OPT_DECAY_MS));
	fmt_char(&b, '\n');
	os_write_report(buf, b.len);
}
