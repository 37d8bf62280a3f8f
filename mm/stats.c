// SPDX-License-Identifier: MIT
/* Statistics snapshot and printing; the counters are declared in stats.h. */
#include <lib/fmt.h>
#include <lib/lock.h>
#include <mm/heap.h>
#include <mm/os.h>
#include <mm/stats.h>
#include <mm/superslab/superslab.h>

int64_t stat_global[STAT_COUNT];

static const char *const stat_names[STAT_COUNT] = {
#define STAT_NAME(id, name, desc) [STAT_##id] = #name,
	HAK_STATS(STAT_NAME)
#undef STAT_NAME
};

void stats_snapshot(int64_t out[STAT_COUNT])
{
	unsigned int i;

	for (i = 0; i < STAT_COUNT; i++)
		out[i] = atomic_load_relaxed(&stat_global[i]);
	heaps_collect_stats(&out[STAT_ALLOCS], &out[STAT_FREES],
			    &out[STAT_REMOTE_FREES], &out[STAT_FOREIGN_FREES]);
	out[STAT_ALLOCS] += atomic_load_relaxed(&stat_global[STAT_ALLOCS]);
	out[STAT_FREES] += atomic_load_relaxed(&stat_global[STAT_FREES]);
}

static void print_kv(const char *prefix, const char *name, uint64_t v)
{
	char buf[128];
	struct fmt_buf b = { buf, sizeof(buf), 0 };

	fmt_str(&b, prefix);
	fmt_str(&b, name);
	fmt_char(&b, ' ');
	fmt_u64(&b, v);
	fmt_char(&b, '\n');
	os_write_report(buf, b.len);
}

static void print_lock(const struct hak_lock *l)
{
	char buf[160];
	struct fmt_buf b = { buf, sizeof(buf), 0 };

	fmt_str(&b, "hakmem: lock ");
	fmt_str(&b, l->name);
	fmt_str(&b, " acquired ");
	fmt_u64(&b, l->acquired);
	fmt_str(&b, " contended ");
	fmt_u64(&b, l->contended);
	fmt_char(&b, '\n');
	os_write_report(buf, b.len);
}

void stats_print(void)
{
	int64_t v[STAT_COUNT];
	unsigned int i;

	stats_snapshot(v);
	for (i = 0; i < STAT_COUNT; i++)
		print_kv("hakmem: stat ", stat_names[i], (uint64_t)v[i]);
	if (IS_ENABLED(CONFIG_LOCK_STATS)) {
		print_lock(&pool_lock);
		print_lock(&registry_lock);
		heaps_print_lock_stats(print_lock);
	}
}
