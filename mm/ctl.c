// SPDX-License-Identifier: MIT
/*
 * hak_ctl and hak_ctl_list: statistics and settings by name (include/
 * hakmem.h, docs/api.md).  One walk enumerates every name with its value
 * (ctl_walk): the listing prints the names, a lookup stops at the one it
 * wants.  The names come from the tables: mm/stats.h's rows, the options,
 * the locks.
 *
 *   version, config                       strings
 *   stats.<row>, stats.peak.<row>         mm/stats.h (peaks: GAUGE, DERIVED)
 *   stats.peak.reset                      action: every peak to its value now
 *   stats.classes                         the number of size classes
 *   stats.class.<i>.size, .<row>          mm/stats.h's class rows
 *   stats.lock.<name>.acquired, ...       CONFIG_LOCK_STATS
 *   opt.<name>                            every option; opt.decay_ms writable
 */
#include <errno.h>
#include <string.h>

#include <hakmem.h>
#include <lib/fmt.h>
#include <lib/lock.h>
#include <mm/heap/heap.h>
#include <mm/options.h>
#include <mm/prof/prof.h>
#include <mm/report.h>
#include <mm/stats.h>

enum ctl_type { CTL_U64, CTL_STR, CTL_ACTION };

struct ctl_entry {
	char name[96];
	enum ctl_type type;
	uint64_t u;
	const char *str;
	int opt;                 /* the option a name reads, or -1 */
};

/* Called for each name; returns 1 to stop the walk. */
typedef int (*ctl_fn)(struct ctl_entry *e, void *arg);

struct ctl_walk {
	const struct stats_snapshot *st;
	ctl_fn fn;
	void *arg;
	int stop;
};

static void ctl_name(struct ctl_entry *e, const char *a, const char *b, const char *c)
{
	struct fmt_buf f = { e->name, sizeof(e->name), 0 };

	fmt_str(&f, a);
	fmt_str(&f, b);
	fmt_str(&f, c);
}

static void ctl_emit(struct ctl_walk *w, struct ctl_entry *e)
{
	if (!w->stop)
		w->stop = w->fn(e, w->arg);
}

static void ctl_u64(struct ctl_walk *w, const char *a, const char *b, const char *c, int64_t v)
{
	struct ctl_entry e;

	ctl_name(&e, a, b, c);
	e.type = CTL_U64;
	e.u = v > 0 ? (uint64_t)v : 0;
	e.str = NULL;
	e.opt = -1;
	ctl_emit(w, &e);
}

static void ctl_lock(const struct hak_lock *l, void *arg)
{
	struct ctl_walk *w = arg;
	char prefix[64];
	struct fmt_buf f = { prefix, sizeof(prefix), 0 };

	fmt_str(&f, "stats.lock.");
	fmt_str(&f, l->name);
	ctl_u64(w, prefix, ".", "acquired", (int64_t)atomic_load_relaxed(&l->acquired));
	ctl_u64(w, prefix, ".", "contended", (int64_t)atomic_load_relaxed(&l->contended));
	ctl_u64(w, prefix, ".", "wait_cycles", (int64_t)atomic_load_relaxed(&l->wait_cycles));
}

static void ctl_options(struct ctl_walk *w)
{
	unsigned int i, k;

	for (i = 0; i < OPT_COUNT && !w->stop; i++) {
		const char *env = option_env((enum option_id)i) + 7;   /* past HAKMEM_ */
		struct ctl_entry e;
		char lower[64];

		for (k = 0; env[k] && k + 1 < sizeof(lower); k++)
			lower[k] = (char)(env[k] >= 'A' && env[k] <= 'Z' ? env[k] - 'A' + 'a' : env[k]);
		lower[k] = 0;
		ctl_name(&e, "opt.", lower, "");
		e.opt = (int)i;
		if (option_type((enum option_id)i) == OPT_TYPE_STR) {
			e.type = CTL_STR;
			e.str = hak_option_str((enum option_id)i);
		} else {
			e.type = CTL_U64;
			e.u = hak_option((enum option_id)i);
		}
		ctl_emit(w, &e);
	}
}

static void ctl_walk(const struct stats_snapshot *st, ctl_fn fn, void *arg)
{
	struct ctl_walk w = { st, fn, arg, 0 };
	struct ctl_entry e;
	unsigned int i, k;

	ctl_name(&e, "version", "", "");
	e.type = CTL_STR;
	e.str = hak_version();
	e.opt = -1;
	ctl_emit(&w, &e);
	ctl_name(&e, "config", "", "");
	e.str = hak_config();
	ctl_emit(&w, &e);
	for (i = 0; i < STAT_COUNT; i++)
		ctl_u64(&w, "stats.", stat_names[i], "", st->v[i]);
	for (i = 0; i < STAT_COUNT; i++)
		if (stat_has_peak((enum stat_id)i))
			ctl_u64(&w, "stats.peak.", stat_names[i], "", st->peak[i]);
	ctl_name(&e, "stats.peak.reset", "", "");
	e.type = CTL_ACTION;
	ctl_emit(&w, &e);
	ctl_u64(&w, "stats.classes", "", "", NUM_CLASSES);
	for (i = 0; i < NUM_CLASSES && !w.stop; i++) {
		char prefix[32];
		struct fmt_buf f = { prefix, sizeof(prefix), 0 };

		fmt_str(&f, "stats.class.");
		fmt_u64(&f, i);
		fmt_char(&f, '.');
		ctl_u64(&w, prefix, "size", "", class_info[i].size);
		for (k = 0; k < CSTAT_COUNT; k++)
			ctl_u64(&w, prefix, class_stat_names[k], "", st->cls[i][k]);
	}
	if (!w.stop)
		locks_for_each(ctl_lock, &w);
	ctl_options(&w);
}

struct ctl_lookup {
	const char *name;
	struct ctl_entry found;
	int hit;
};

static int ctl_match(struct ctl_entry *e, void *arg)
{
	struct ctl_lookup *l = arg;

	if (strcmp(e->name, l->name))
		return 0;
	l->found = *e;
	l->hit = 1;
	return 1;
}

static int ctl_read(const struct ctl_entry *e, void *oldp, size_t *oldlenp)
{
	if (!oldp)
		return 0;
	if (e->type == CTL_ACTION)
		return EINVAL;
	if (e->type == CTL_STR) {
		if (!oldlenp || *oldlenp != sizeof(const char *))
			return EINVAL;
		memcpy(oldp, &e->str, sizeof(e->str));
		return 0;
	}
	if (!oldlenp || *oldlenp != sizeof(uint64_t))
		return EINVAL;
	memcpy(oldp, &e->u, sizeof(e->u));
	return 0;
}

static int ctl_write(const struct ctl_entry *e, const void *newp, size_t newlen)
{
	uint64_t v;

	if (e->type == CTL_ACTION) {
		struct stats_snapshot st;

		if (newp)
			return EINVAL;
		stats_collect(&st);
		stats_peak_reset(&st);
		return 0;
	}
	if (!newp)
		return 0;
	if (e->opt != OPT_DECAY_MS)
		return EPERM;
	if (newlen != sizeof(uint64_t))
		return EINVAL;
	memcpy(&v, newp, sizeof(v));
	return option_set_num(OPT_DECAY_MS, v);
}

HAKMEM_API int hak_ctl(const char *name, void *oldp, size_t *oldlenp, const void *newp,
		       size_t newlen)
{
	struct stats_snapshot st;
	struct ctl_lookup l;
	int err;

	if (!name)
		return EINVAL;
	if (hak_init())
		return ENOMEM;
	l.name = name;
	l.hit = 0;
	if (!strncmp(name, "stats.", 6))
		stats_collect(&st);
	else
		memset(&st, 0, sizeof(st));   /* no stats name is looked up */
	ctl_walk(&st, ctl_match, &l);
	if (!l.hit)
		return ENOENT;
	err = ctl_read(&l.found, oldp, oldlenp);
	return err ? err : ctl_write(&l.found, newp, newlen);
}

struct ctl_list {
	char *buf;
	size_t size;
	size_t len;          /* the whole list's length */
	size_t written;      /* whole names written: written < size */
};

static int ctl_append(struct ctl_entry *e, void *arg)
{
	struct ctl_list *l = arg;
	size_t n = strlen(e->name);

	if (l->written == l->len && l->written + n + 1 < l->size) {
		memcpy(l->buf + l->written, e->name, n);
		l->buf[l->written + n] = '\n';
		l->written += n + 1;
	}
	l->len += n + 1;
	return 0;
}

HAKMEM_API size_t hak_ctl_list(char *buf, size_t size)
{
	struct stats_snapshot st;
	struct ctl_list l = { buf, buf ? size : 0, 0, 0 };

	if (l.size)
		buf[0] = 0;
	if (hak_init())
		return 0;
	memset(&st, 0, sizeof(st));
	ctl_walk(&st, ctl_append, &l);
	if (l.size)
		buf[l.written] = 0;
	return l.len;
}

/* The heap profiler's dump (mm/prof/dump.c; ENOTSUP compiled out). */
HAKMEM_API int hak_prof_dump(void)
{
	return prof_dump();
}
