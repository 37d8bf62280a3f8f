// SPDX-License-Identifier: MIT
/*
 * Error reporting and the fatal path (declared in mm/internal.h).  The
 * bottom of the tree: every layer may call it, and it calls only the OS
 * layer and the statistics counters.
 */
#include <stdlib.h>

#include <lib/fmt.h>
#include <mm/options.h>
#include <mm/os.h>
#include <mm/stats.h>

static void print_line(const char *what, const void *ptr)
{
	char buf[160];
	struct fmt_buf b = { buf, sizeof(buf), 0 };

	fmt_str(&b, "hakmem: ");
	fmt_str(&b, what);
	fmt_char(&b, ' ');
	if (ptr)
		fmt_hex(&b, (uintptr_t)ptr);
	else
		fmt_str(&b, "(nil)");
	fmt_char(&b, '\n');
	os_write_stderr(buf, b.len);
}

void (*hak_fatal_hook)(void);

void hak_fatal(const char *what, const void *ptr)
{
	void (*hook)(void) = atomic_exchange_acquire(&hak_fatal_hook, NULL);

	print_line(what, ptr);
	if (hook)
		hook();
	abort();
}

void hak_warn(const char *what, const void *ptr)
{
	print_line(what, ptr);
}

void hak_bad_free(enum bad_free kind, const void *ptr)
{
	static const char *const what_of[] = {
		[BAD_FOREIGN_FREE] = "foreign free",
		[BAD_FOREIGN_REALLOC] = "foreign realloc",
		[BAD_INVALID_FREE] = "invalid free",
		[BAD_INVALID_REALLOC] = "invalid realloc",
		[BAD_SIZE_MISMATCH] = "sized free of the wrong size",
	};
	static unsigned int reported;
	const char *what = what_of[kind];
	/* Interior pointers and wrong sizes: memory that is ours. */
	int ours = kind != BAD_FOREIGN_FREE && kind != BAD_FOREIGN_REALLOC;

	if (IS_ENABLED(CONFIG_STATS))
		stat_global_add(kind == BAD_SIZE_MISMATCH ? STAT_SIZE_MISMATCHES
				: STAT_FOREIGN_FREES, 1);
	/* A config that checks double frees also stops at a free of our
	 * memory that is no live block (its slab may have been released). */
	if (IS_ENABLED(CONFIG_FOREIGN_ABORT) ||
	    (ours && (IS_ENABLED(CONFIG_DEBUG_ASSERT) || IS_ENABLED(CONFIG_DOUBLE_FREE_CHECK))))
		hak_fatal(what, ptr);
	if ((IS_ENABLED(CONFIG_DEBUG_ASSERT) || hak_option(OPT_VERBOSE)) &&
	    atomic_fetch_add_relaxed(&reported, 1) < 8)
		hak_warn(what, ptr);
}
