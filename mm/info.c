// SPDX-License-Identifier: MIT
/*
 * The information and tuning entry points: malloc_trim, mallinfo2,
 * mallinfo, malloc_stats, malloc_info, mallopt, hak_stats_get,
 * hak_stats_print, hak_version and hak_config (with
 * CONFIG_OVERRIDE, the standard names are aliases of the hak_* ones, as in
 * mm/api.c).
 */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <string.h>

#include <generated/config_string.h>
#include <hakmem.h>
#include <lib/fmt.h>
#include <mm/heap/heap.h>
#include <mm/os.h>
#include <mm/report.h>
#include <mm/stats.h>
#include <mm/superslab/superslab.h>

HAKMEM_API int hak_malloc_trim(size_t pad)
{
	int64_t before, after;

	if (hak_init())
		return 0;
	before = atomic_load_relaxed(&stat_global[STAT_BYTES_MAPPED]);
	heap_trim_thread();
	decay_run(1);
	after = atomic_load_relaxed(&stat_global[STAT_BYTES_MAPPED]);
	return after < before;
}

/*
 * arena: bytes mapped from the OS; in_use: bytes in slabs that spans own
 * plus bytes of live big blocks' mappings; big: the latter alone.
 */
static void mallinfo_figures(size_t *arena, size_t *in_use, size_t *big, size_t *nbig)
{
	int64_t v[STAT_COUNT];

	stats_snapshot(v);
	*arena = (size_t)v[STAT_BYTES_MAPPED];
	*big = (size_t)v[STAT_BIG_BYTES];
	*in_use = (size_t)v[STAT_SLABS_IN_USE] * SLAB_SIZE + *big;
	*nbig = (size_t)v[STAT_BIG_IN_USE];
}

HAKMEM_API struct mallinfo2 hak_mallinfo2(void)
{
	struct mallinfo2 mi;
	size_t arena, in_use, big, nbig;

	memset(&mi, 0, sizeof(mi));
	mallinfo_figures(&arena, &in_use, &big, &nbig);
	mi.arena = arena;
	mi.uordblks = in_use;
	mi.fordblks = arena > in_use ? arena - in_use : 0;
	mi.hblks = nbig;
	mi.hblkhd = big;
	return mi;
}

HAKMEM_API struct mallinfo hak_mallinfo(void)
{
	struct mallinfo2 m2 = hak_mallinfo2();
	struct mallinfo mi;

	memset(&mi, 0, sizeof(mi));
	mi.arena = (int)m2.arena;
	mi.uordblks = (int)m2.uordblks;
	mi.fordblks = (int)m2.fordblks;
	mi.hblks = (int)m2.hblks;
	mi.hblkhd = (int)m2.hblkhd;
	return mi;
}

static int sink_stderr(void *ctx, const char *s, size_t n)
{
	(void)ctx;
	os_write_stderr(s, n);
	return 0;
}

static int sink_file(void *ctx, const char *s, size_t n)
{
	return fwrite(s, 1, n, ctx) == n ? 0 : -1;
}

HAKMEM_API void hak_malloc_stats(void)
{
	size_t arena, in_use, big, nbig;
	char buf[256];
	struct fmt_buf b = { buf, sizeof(buf), 0 };

	mallinfo_figures(&arena, &in_use, &big, &nbig);
	fmt_str(&b, "Arena 0:\nsystem bytes     = ");
	fmt_u64(&b, arena);
	fmt_str(&b, "\nin use bytes     = ");
	fmt_u64(&b, in_use);
	fmt_str(&b, "\nmax mmap regions = ");
	fmt_u64(&b, nbig);
	fmt_char(&b, '\n');
	os_write_stderr(buf, b.len);
	stats_report(sink_stderr, NULL, REPORT_TEXT);
}

HAKMEM_API int hak_stats_print(FILE *f, const char *opts)
{
	enum report_format format;

	if (!opts || !*opts || !strcmp(opts, "text")) {
		format = REPORT_TEXT;
	} else if (!strcmp(opts, "json")) {
		format = REPORT_JSON;
	} else {
		errno = EINVAL;
		return -1;
	}
	if (!f) {
		errno = EINVAL;
		return -1;
	}
	if (hak_init()) {
		errno = ENOMEM;
		return -1;
	}
	if (stats_report(sink_file, f, format) || fflush(f)) {
		errno = EIO;
		return -1;
	}
	return 0;
}

/* One <size> element per class in use: its free blocks (glibc counts the
 * free chunks of each bin), and the totals. */
static void info_sizes(FILE *stream, const struct stats_snapshot *st, uint64_t *count,
		       uint64_t *bytes)
{
	unsigned int i;
	uint64_t from = 1;

	*count = 0;
	*bytes = 0;
	fputs("<sizes>\n", stream);
	for (i = 0; i < NUM_CLASSES; i++) {
		const int64_t *c = st->cls[i];
		uint64_t size = class_info[i].size;
		int64_t held = c[CSTAT_BYTES] / (int64_t)size;
		uint64_t free_blocks = held > c[CSTAT_LIVE] ? (uint64_t)(held - c[CSTAT_LIVE]) : 0;

		if (c[CSTAT_SPANS]) {
			fprintf(stream, "  <size from=\"%llu\" to=\"%llu\" total=\"%llu\" count=\"%llu\"/>\n",
				(unsigned long long)from, (unsigned long long)size,
				(unsigned long long)(free_blocks * size),
				(unsigned long long)free_blocks);
			*count += free_blocks;
			*bytes += free_blocks * size;
		}
		from = size + 1;
	}
	fputs("</sizes>\n", stream);
}

HAKMEM_API int hak_malloc_info(int options, FILE *stream)
{
	struct stats_snapshot st;
	uint64_t count, bytes;
	unsigned long long mapped, peak;

	if (options != 0 || !stream) {
		errno = EINVAL;
		return -1;
	}
	if (hak_init()) {
		errno = ENOMEM;
		return -1;
	}
	stats_collect(&st);
	mapped = (unsigned long long)st.v[STAT_BYTES_MAPPED];
	peak = (unsigned long long)st.peak[STAT_BYTES_MAPPED];
	fputs("<malloc version=\"1\">\n<heap nr=\"0\">\n", stream);
	info_sizes(stream, &st, &count, &bytes);
	fprintf(stream, "<total type=\"fast\" count=\"0\" size=\"0\"/>\n"
		"<total type=\"rest\" count=\"%llu\" size=\"%llu\"/>\n"
		"<system type=\"current\" size=\"%llu\"/>\n"
		"<system type=\"max\" size=\"%llu\"/>\n"
		"<aspace type=\"total\" size=\"%llu\"/>\n"
		"<aspace type=\"mprotect\" size=\"%llu\"/>\n</heap>\n",
		(unsigned long long)count, (unsigned long long)bytes, mapped, peak, mapped, mapped);
	fprintf(stream, "<total type=\"fast\" count=\"0\" size=\"0\"/>\n"
		"<total type=\"rest\" count=\"%llu\" size=\"%llu\"/>\n"
		"<total type=\"mmap\" count=\"%llu\" size=\"%llu\"/>\n"
		"<system type=\"current\" size=\"%llu\"/>\n"
		"<system type=\"max\" size=\"%llu\"/>\n"
		"<aspace type=\"total\" size=\"%llu\"/>\n"
		"<aspace type=\"mprotect\" size=\"%llu\"/>\n</malloc>\n",
		(unsigned long long)count, (unsigned long long)bytes,
		(unsigned long long)st.v[STAT_BIG_IN_USE], (unsigned long long)st.v[STAT_BIG_BYTES],
		mapped, peak, mapped, mapped);
	return ferror(stream) ? -1 : 0;
}

HAKMEM_API int hak_trace_dump(int fd)
{
	if (fd < 0)
		return EBADF;
#if IS_ENABLED(CONFIG_DEBUG_TRACE)
	heap_trace_dump(fd);
	return 0;
#else
	return ENOTSUP;
#endif
}

HAKMEM_API int hak_heap_check(void)
{
	if (hak_init())
		return 0;
	return heap_check_all();
}

HAKMEM_API int hak_heap_visit(int (*fn)(void *block, size_t size, void *arg), void *arg)
{
	if (!fn || hak_init())
		return 0;
	return heap_visit(0, fn, arg);
}

HAKMEM_API int hak_heap_visit_all(int (*fn)(void *block, size_t size, void *arg), void *arg)
{
	if (!fn || hak_init())
		return 0;
	return heap_visit(1, fn, arg);
}

HAKMEM_API const char *hak_version(void)
{
	return HAKMEM_VERSION;
}

HAKMEM_API const char *hak_config(void)
{
	return HAKMEM_CONFIG_STRING;
}

HAKMEM_API int hak_mallopt(int param, int value)
{
	switch (param) {
	case M_TRIM_THRESHOLD:
	case M_TOP_PAD:
	case M_MMAP_THRESHOLD:
	case M_MMAP_MAX:
	case M_ARENA_MAX:
	case M_ARENA_TEST:
	case M_PERTURB:
	case M_CHECK_ACTION:
	case M_MXFAST:
		return 1;   /* accepted; hakmem sizes its caches itself */
	default:
		return 0;
	}
}

HAKMEM_API int hak_stats_get(struct hak_stats *out)
{
	int64_t v[STAT_COUNT];

	memset(out, 0, sizeof(*out));
	stats_snapshot(v);
	out->slabs_in_use = (unsigned long long)v[STAT_SLABS_IN_USE];
	out->superslabs_in_use = (unsigned long long)v[STAT_SUPERSLABS_IN_USE];
	out->superslabs_cached = (unsigned long long)v[STAT_SUPERSLABS_CACHED];
	out->big_in_use = (unsigned long long)v[STAT_BIG_IN_USE];
	out->big_cached = (unsigned long long)v[STAT_BIG_CACHED];
	out->bytes_mapped = (unsigned long long)v[STAT_BYTES_MAPPED];
	if (!IS_ENABLED(CONFIG_STATS))
		return -1;
	out->allocs = (unsigned long long)v[STAT_ALLOCS];
	out->frees = (unsigned long long)v[STAT_FREES];
	out->remote_frees = (unsigned long long)v[STAT_REMOTE_FREES];
	out->foreign_frees = (unsigned long long)v[STAT_FOREIGN_FREES];
	out->size_mismatches = (unsigned long long)v[STAT_SIZE_MISMATCHES];
	out->remote_sends = (unsigned long long)v[STAT_REMOTE_SENDS];
	return 0;
}

#if IS_ENABLED(CONFIG_OVERRIDE)
HAK_ALIAS(malloc_trim, hak_malloc_trim);
HAK_ALIAS(mallinfo2, hak_mallinfo2);
HAK_ALIAS(mallinfo, hak_mallinfo);
HAK_ALIAS(malloc_stats, hak_malloc_stats);
HAK_ALIAS(malloc_info, hak_malloc_info);
HAK_ALIAS(mallopt, hak_mallopt);
#endif
