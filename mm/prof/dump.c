// SPDX-License-Identifier: MIT
/*
 * The profiler's dump (HAKMEM_PROF at exit, hak_prof_dump): two files.
 *
 * PATH: the text heap profile that google-pprof reads, "@ heapprofile"
 * (pprof scales nothing: the numbers are already the estimates of the
 * true bytes and blocks), a line per site, innermost frame first, then
 * MAPPED_LIBRARIES: and /proc/self/maps.
 *
 * PATH.collapsed: a line per site with live bytes, "0xroot;...;0xleaf
 * <live bytes>", for flame graphs (scripts/hakmem-prof symbolizes them).
 *
 * Written under prof_lock, through buffers on the stack: nothing here
 * allocates.
 */
#include <errno.h>
#include <string.h>

#include <lib/fmt.h>
#include <lib/lock.h>
#include <mm/options.h>
#include <mm/os.h>
#include <mm/prof/prof.h>
#include <mm/report.h>

static void out_num(struct fmt_out *o, uint64_t v, int hex)
{
	if (hex)
		fmt_out_hex(o, v);
	else
		fmt_out_u64(o, v);
}

/* "<objs>: <bytes> [<objs>: <bytes>]" */
static void out_counts(struct fmt_out *o, uint64_t lo, uint64_t lb, uint64_t to, uint64_t tb)
{
	out_num(o, lo, 0);
	fmt_out_str(o, ": ");
	out_num(o, lb, 0);
	fmt_out_str(o, " [");
	out_num(o, to, 0);
	fmt_out_str(o, ": ");
	out_num(o, tb, 0);
	fmt_out_str(o, "]");
}

static void write_pprof(struct fmt_out *o)
{
	uint64_t lo = 0, lb = 0, to = 0, tb = 0;
	char buf[4096];
	uint32_t i, k;
	long n;
	int fd;

	for (i = 0; i < prof_sites_used; i++) {
		const struct prof_site *s = &prof_sites[prof_site_list[i]];

		lo += s->live_objs;
		lb += s->live_bytes;
		to += s->total_objs;
		tb += s->total_bytes;
	}
	fmt_out_str(o, "heap profile: ");
	out_counts(o, lo, lb, to, tb);
	fmt_out_str(o, " @ heapprofile\n");
	for (i = 0; i < prof_sites_used; i++) {
		const struct prof_site *s = &prof_sites[prof_site_list[i]];

		out_counts(o, s->live_objs, s->live_bytes, s->total_objs, s->total_bytes);
		fmt_out_str(o, " @");
		for (k = 0; k < s->depth; k++) {
			fmt_out_str(o, " ");
			out_num(o, s->pc[k], 1);
		}
		fmt_out_str(o, "\n");
	}
	fmt_out_str(o, "\nMAPPED_LIBRARIES:\n");
	fd = os_open_read("/proc/self/maps");
	if (fd >= 0) {
		while ((n = os_read(fd, buf, sizeof(buf))) > 0)
			fmt_out_mem(o, buf, (size_t)n);
		os_close(fd);
	}
	fmt_out_flush(o);
}

static void write_collapsed(struct fmt_out *o)
{
	uint32_t i, k;

	for (i = 0; i < prof_sites_used; i++) {
		const struct prof_site *s = &prof_sites[prof_site_list[i]];

		if (!s->live_bytes)
			continue;
		for (k = s->depth; k-- > 0;) {
			out_num(o, s->pc[k], 1);
			fmt_out_str(o, k ? ";" : " ");
		}
		out_num(o, s->live_bytes, 0);
		fmt_out_str(o, "\n");
	}
	fmt_out_flush(o);
}

int prof_dump_to(const char *path)
{
	static const char suffix[] = ".collapsed";
	char cpath[256 + sizeof(suffix)];
	size_t len = strlen(path);
	struct fmt_out o;
	int fd, cfd;

	if (!path[0] || len >= 256)
		return EINVAL;
	memcpy(cpath, path, len);
	memcpy(cpath + len, suffix, sizeof(suffix));
	fd = report_open_option("HAKMEM_PROF", path);
	if (fd < 0)
		return -fd;
	cfd = report_open_option("HAKMEM_PROF", cpath);
	if (cfd < 0) {
		os_close(fd);
		return -cfd;
	}
	hak_lock(&prof_lock);
	o.sink = report_sink_fd;
	o.failed = 0;
	o.len = 0;
	o.ctx = &fd;
	write_pprof(&o);
	o.ctx = &cfd;
	write_collapsed(&o);
	hak_unlock(&prof_lock);
	os_close(fd);
	os_close(cfd);
	return 0;
}

void prof_at_exit(void)
{
	prof_dump_to(hak_option_str(OPT_PROF));
}

int prof_dump(void)
{
	if (!prof_active() || !hak_option_str(OPT_PROF)[0])
		return ENOTSUP;
	return prof_dump_to(hak_option_str(OPT_PROF));
}
