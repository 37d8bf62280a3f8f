// SPDX-License-Identifier: MIT
/* The statistics report; see report.h. */
#include <errno.h>
#include <string.h>

#include <generated/config_string.h>
#include <hakmem.h>
#include <lib/fmt.h>
#include <lib/lock.h>
#include <mm/heap/heap.h>
#include <mm/options.h>
#include <mm/os.h>
#include <mm/policy.h>
#include <mm/report.h>
#include <mm/stats.h>

/* The report's output: a sink's buffer, and which form it writes. */
struct emit {
	struct fmt_out out;
	int json;
};

static void emit_mem(struct emit *e, const char *s, size_t n)
{
	fmt_out_mem(&e->out, s, n);
}

static void emit_str(struct emit *e, const char *s)
{
	fmt_out_str(&e->out, s);
}

static void emit_u64(struct emit *e, uint64_t v)
{
	fmt_out_u64(&e->out, v);
}

/* A count or a gauge: a negative sum (a racy snapshot) reads 0. */
static void emit_count(struct emit *e, int64_t v)
{
	emit_u64(e, v > 0 ? (uint64_t)v : 0);
}

/* A JSON string: quotes, backslashes and control bytes escaped. */
static void emit_json_str(struct emit *e, const char *s)
{
	emit_mem(e, "\"", 1);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\') {
			emit_mem(e, "\\", 1);
			emit_mem(e, s, 1);
		} else if ((unsigned char)*s < 0x20) {
			emit_str(e, "\\u00");
			emit_mem(e, &"0123456789abcdef"[(unsigned char)*s >> 4], 1);
			emit_mem(e, &"0123456789abcdef"[*s & 15], 1);
		} else {
			emit_mem(e, s, 1);
		}
	}
	emit_mem(e, "\"", 1);
}

/* A member of a JSON object ("name": ) or a text field (" name "). */
static void emit_key(struct emit *e, const char *name, int first)
{
	if (e->json) {
		if (!first)
			emit_str(e, ", ");
		emit_json_str(e, name);
		emit_str(e, ": ");
	} else {
		emit_mem(e, " ", 1);
		emit_str(e, name);
		emit_mem(e, " ", 1);
	}
}

static void emit_field(struct emit *e, const char *name, int64_t v, int first)
{
	emit_key(e, name, first);
	emit_count(e, v);
}

static void report_rows(struct emit *e, const struct stats_snapshot *st)
{
	unsigned int i, first = 1;

	if (e->json)
		emit_str(e, ",\n\"stats\": {");
	for (i = 0; i < STAT_COUNT; i++) {
		if (e->json) {
			emit_field(e, stat_names[i], st->v[i], i == 0);
			continue;
		}
		emit_str(e, "hakmem: stat");
		emit_field(e, stat_names[i], st->v[i], 0);
		if (stat_has_peak((enum stat_id)i))
			emit_field(e, "peak", st->peak[i], 0);
		emit_mem(e, "\n", 1);
	}
	if (!e->json)
		return;
	emit_str(e, "},\n\"peak\": {");
	for (i = 0; i < STAT_COUNT; i++) {
		if (!stat_has_peak((enum stat_id)i))
			continue;
		emit_field(e, stat_names[i], st->peak[i], first);
		first = 0;
	}
	emit_str(e, "}");
}

/* The classes that hold a span or saw an allocation. */
static void report_classes(struct emit *e, const struct stats_snapshot *st)
{
	unsigned int i, k, first = 1;

	if (e->json)
		emit_str(e, ",\n\"classes\": [");
	for (i = 0; i < NUM_CLASSES; i++) {
		const int64_t *c = st->cls[i];

		if (!c[CSTAT_SPANS] && !c[CSTAT_ALLOCS])
			continue;
		if (e->json) {
			emit_str(e, first ? "\n  {" : ",\n  {");
			emit_field(e, "class", i, 1);
			first = 0;
		} else {
			emit_str(e, "hakmem: class ");
			emit_u64(e, i);
		}
		emit_field(e, "size", class_info[i].size, 0);
		for (k = 0; k < CSTAT_COUNT; k++)
			emit_field(e, class_stat_names[k], c[k], 0);
		emit_str(e, e->json ? "}" : "\n");
	}
	if (e->json)
		emit_str(e, "]");
}

struct lock_walk {
	struct emit *e;
	int first;
};

static void report_lock(const struct hak_lock *l, void *arg)
{
	struct lock_walk *w = arg;
	struct emit *e = w->e;

	if (e->json) {
		emit_str(e, w->first ? "\n  {" : ",\n  {");
		emit_key(e, "name", 1);
		emit_json_str(e, l->name);
	} else {
		emit_str(e, "hakmem: lock ");
		emit_str(e, l->name);
	}
	w->first = 0;
	emit_field(e, "acquired", (int64_t)atomic_load_relaxed(&l->acquired), 0);
	emit_field(e, "contended", (int64_t)atomic_load_relaxed(&l->contended), 0);
	emit_field(e, "wait_cycles", (int64_t)atomic_load_relaxed(&l->wait_cycles), 0);
	emit_str(e, e->json ? "}" : "\n");
}

static void report_locks(struct emit *e)
{
	struct lock_walk w = { e, 1 };

	if (e->json)
		emit_str(e, ",\n\"locks\": [");
	locks_for_each(report_lock, &w);
	if (e->json)
		emit_str(e, "]");
}

/* The cache policy in force and the knobs that are options only. */
static void report_policy(struct emit *e)
{
	const struct hak_policy *p = policy_get();

	emit_str(e, e->json ? ",\n\"policy\": {" : "hakmem: policy");
	emit_field(e, "epoch", (int64_t)p->epoch, 1);
	emit_key(e, "engine", 0);
	emit_str(e, hak_option(OPT_ACE) ? "1" : "0");
	emit_field(e, "reserve_max", p->reserve_max, 0);
	emit_field(e, "lru_capacity", p->lru_capacity, 0);
	emit_field(e, "bigcache_bytes", (int64_t)p->bigcache_bytes, 0);
	emit_field(e, "span_cache_slots", p->span_cache_slots, 0);
	emit_field(e, "decay_ms", (int64_t)hak_option(OPT_DECAY_MS), 0);
	emit_str(e, e->json ? "}" : "\n");
}

static void report_head(struct emit *e)
{
	if (e->json) {
		emit_str(e, "{\"version\": ");
		emit_json_str(e, HAKMEM_VERSION);
		emit_str(e, ", \"config\": ");
		emit_json_str(e, HAKMEM_CONFIG_STRING);
		return;
	}
	emit_str(e, "hakmem: version " HAKMEM_VERSION "\nhakmem: config "
		 HAKMEM_CONFIG_STRING "\n");
}

int stats_report(report_sink sink, void *ctx, enum report_format format)
{
	struct stats_snapshot st;
	struct emit e;

	stats_collect(&st);
	e.out.sink = sink;
	e.out.ctx = ctx;
	e.out.failed = 0;
	e.out.len = 0;
	e.json = format == REPORT_JSON;
	report_head(&e);
	report_rows(&e, &st);
	report_classes(&e, &st);
	report_locks(&e);
	report_policy(&e);
	if (e.json)
		emit_str(&e, "\n}\n");
	fmt_out_flush(&e.out);
	return e.out.failed ? -1 : 0;
}

int report_sink_fd(void *ctx, const char *s, size_t n)
{
	os_write_fd(*(int *)ctx, s, n);
	return 0;
}

static int sink_report(void *ctx, const char *s, size_t n)
{
	(void)ctx;
	os_write_report(s, n);
	return 0;
}

int report_open_option(const char *option, const char *path)
{
	char name[512];
	struct fmt_buf b = { name, sizeof(name), 0 };
	const char *s;
	int fd;

	for (s = path; *s; s++) {
		if (s[0] == '%' && s[1] == 'p') {
			fmt_u64(&b, os_pid());
			s++;
		} else if (s[0] == '%' && s[1] == '%') {
			fmt_char(&b, '%');
			s++;
		} else {
			fmt_char(&b, *s);
		}
	}
	fd = b.len + 1 < sizeof(name) ? os_open_report(name) : -ENAMETOOLONG;
	if (fd < 0) {
		char msg[640];
		struct fmt_buf m = { msg, sizeof(msg), 0 };

		fmt_str(&m, "hakmem: ");
		fmt_str(&m, option);
		fmt_str(&m, ": cannot open ");
		fmt_str(&m, name);
		fmt_str(&m, " (errno ");
		fmt_u64(&m, (uint64_t)-fd);
		fmt_str(&m, ")\n");
		os_write_stderr(msg, m.len);
	}
	return fd;
}

void stats_at_exit(void)
{
	uint64_t mode = hak_option(OPT_STATS);
	const char *path = hak_option_str(OPT_STATS_FILE);
	enum report_format format = mode == STATS_JSON ? REPORT_JSON : REPORT_TEXT;
	int fd;

	if (mode == STATS_OFF)
		return;
	if (!path[0]) {
		stats_report(sink_report, NULL, format);
		return;
	}
	fd = report_open_option("HAKMEM_STATS_FILE", path);
	if (fd < 0)
		return;
	stats_report(report_sink_fd, &fd, format);
	os_close(fd);
}

void trace_at_exit(void)
{
#if IS_ENABLED(CONFIG_DEBUG_TRACE)
	int fd = report_open_option("HAKMEM_TRACE_DUMP", hak_option_str(OPT_TRACE_DUMP));

	if (fd < 0)
		return;
	heap_trace_dump(fd);
	os_close(fd);
#endif
}

void report_identity(void)
{
	static const char line[] = "hakmem: version " HAKMEM_VERSION "\nhakmem: config "
		HAKMEM_CONFIG_STRING "\n";

	os_write_stderr(line, sizeof(line) - 1);
}
