/* SPDX-License-Identifier: MIT */
/*
 * Number parsing and formatting into caller buffers.  Used for options
 * and statistics, where malloc and stdio are off limits.
 */
#ifndef HAKMEM_LIB_FMT_H
#define HAKMEM_LIB_FMT_H

#include <stddef.h>
#include <stdint.h>

/*
 * Parses a decimal unsigned number, optionally followed by one of the
 * suffixes k, m, g (powers of 1024, either case).  The whole string must
 * be consumed.  Returns 0 and stores the value, or -1 on malformed input
 * or overflow.
 */
int fmt_parse_u64(const char *s, uint64_t *out);

/* Appends to a bounded buffer; output is always NUL-terminated. */
struct fmt_buf {
	char *buf;
	size_t size;
	size_t len;
};

void fmt_str(struct fmt_buf *b, const char *s);
void fmt_u64(struct fmt_buf *b, uint64_t v);
void fmt_hex(struct fmt_buf *b, uint64_t v);
void fmt_char(struct fmt_buf *b, char c);

/*
 * Buffered output through a sink (the reports, the profiler's dump), with
 * no allocation: the sink gets whole buffers and returns 0, or -1 when it
 * failed (kept in `failed`).  Flush at the end.
 */
struct fmt_out {
	int (*sink)(void *ctx, const char *s, size_t n);
	void *ctx;
	int failed;
	size_t len;
	char buf[1024];
};

void fmt_out_mem(struct fmt_out *o, const char *s, size_t n);
void fmt_out_str(struct fmt_out *o, const char *s);
void fmt_out_u64(struct fmt_out *o, uint64_t v);
void fmt_out_hex(struct fmt_out *o, uint64_t v);
void fmt_out_flush(struct fmt_out *o);

#endif
