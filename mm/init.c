// SPDX-License-Identifier: MIT
/* Initialisation, thread registration, fork handlers, fatal errors. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include <lib/fmt.h>
#include <mm/heap.h>
#include <mm/init.h>
#include <mm/large/large.h>
#include <mm/options.h>
#include <mm/os.h>
#include <mm/stats.h>
#include <mm/superslab/superslab.h>

int hak_init_state;     /* 0 not started, 1 running, 2 done, 3 failed */
static int init_error;
static pthread_mutex_t init_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_key_t heap_key;

int hak_init_slow(void)
{
	int err;

	if (atomic_load_acquire(&hak_init_state) == 3)
		return init_error;
	pthread_mutex_lock(&init_mutex);
	if (hak_init_state == 0) {
		hak_init_state = 1;
		err = os_init();
		if (!err) {
			options_init();
			if (IS_ENABLED(CONFIG_STATS) && hak_option(OPT_STATS))
				os_keep_stderr();
		}
		if (!err)
			err = registry_init();
		if (!err)
			heaps_init();
		if (!err)
			err = pthread_key_create(&heap_key, heap_thread_exit);
		init_error = err ? ENOMEM : 0;
		atomic_store_release(&hak_init_state, err ? 3 : 2);
	}
	pthread_mutex_unlock(&init_mutex);
	return hak_init_state == 2 ? 0 : (init_error ? init_error : ENOMEM);
}

void hak_register_thread_heap(struct heap *h)
{
	pthread_setspecific(heap_key, h);
}

/* ---- fork: take every global lock in the documented order. */
static void fork_prepare(void)
{
	if (hak_init_state != 2)
		return;
	heaps_fork_prepare();          /* shared heap, heaps, notify, abandoned */
	hak_lock(&pool_lock);
	big_fork_prepare();
	hak_lock(&registry_lock);
}

static void fork_parent(void)
{
	if (hak_init_state != 2)
		return;
	hak_unlock(&registry_lock);
	big_fork_parent();
	hak_unlock(&pool_lock);
	heaps_fork_parent();
}

static void fork_child(void)
{
	if (hak_init_state != 2)
		return;
	/* This thread took the locks in prepare: it releases them, then
	 * abandons the heaps of the threads that did not survive. */
	hak_unlock(&registry_lock);
	big_fork_parent();
	hak_unlock(&pool_lock);
	heaps_fork_child();
	/* Threads do not survive fork: the child needs its own purge thread. */
	if (IS_ENABLED(CONFIG_PURGE_THREAD))
		heap_start_purge_thread();
}

static void stats_at_exit(void)
{
	if (hak_option(OPT_STATS))
		stats_print();
}

/*
 * Registered from a constructor, not lazily: prepare handlers run in
 * reverse order of registration, so a late registration would let another
 * library's prepare handler call malloc while we hold every lock.
 */
__attribute__((constructor(101))) static void hak_constructor(void)
{
	if (hak_init())
		return;
	pthread_atfork(fork_prepare, fork_parent, fork_child);
	if (IS_ENABLED(CONFIG_STATS))
		atexit(stats_at_exit);
	if (IS_ENABLED(CONFIG_PURGE_THREAD))
		heap_start_purge_thread();
}

/* ---- Errors. */
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

void hak_fatal(const char *what, const void *ptr)
{
	print_line(what, ptr);
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
		[BAD_DOUBLE_FREE] = "double free",
	};
	static unsigned int reported;
	const char *what = what_of[kind];
	/* Interior pointers and double frees: memory that is ours. */
	int ours = kind != BAD_FOREIGN_FREE && kind != BAD_FOREIGN_REALLOC;

	heap_count_foreign();
	/* A config that checks double frees also stops at a free of our
	 * memory that is no live block (its slab may have been released). */
	if (IS_ENABLED(CONFIG_FOREIGN_ABORT) ||
	    (ours && (IS_ENABLED(CONFIG_DEBUG_ASSERT) || IS_ENABLED(CONFIG_DOUBLE_FREE_CHECK))))
		hak_fatal(what, ptr);
	if ((IS_ENABLED(CONFIG_DEBUG_ASSERT) || hak_option(OPT_VERBOSE)) &&
	    atomic_fetch_add_relaxed(&reported, 1) < 8)
		hak_warn(what, ptr);
}
