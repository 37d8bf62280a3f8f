// SPDX-License-Identifier: MIT
/* Lock statistics (CONFIG_LOCK_STATS), counted in lib/lock.h. */
#include <lib/fmt.h>
#include <lib/lock.h>
#include <mm/heap/heap.h>
#include <mm/report.h>
#include <mm/os.h>
#include <mm/superslab/superslab.h>

static void print_lock(const struct hak_lock *l)
{
	char buf[160];
	struct fmt_buf b = { buf, sizeof(buf), 0 };

	fmt_str(&b, "hakmem: lock ");
	fmt_str(&b, l->name);
	fmt_str(&b, " acquired ");
	fmt_u64(&b, atomic_load_relaxed(&l->acquired));
	fmt_str(&b, " contended ");
	fmt_u64(&b, atomic_load_relaxed(&l->contended));
	fmt_char(&b, '\n');
	os_write_report(buf, b.len);
}

void lock_stats_print(void)
{
	print_lock(&slabpool_lock);
	print_lock(&registry_lock);
	heaps_for_each_lock(print_lock);
}
