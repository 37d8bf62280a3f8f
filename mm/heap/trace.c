// SPDX-License-Identifier: MIT
/*
 * The pointer-trace ring's dump (CONFIG_DEBUG_TRACE; heap_trace in
 * debug.h records).  Each thread heap keeps its last TRACE_ENTRIES calls;
 * a heap reused by a new thread starts with an empty ring (reset with the
 * rest of the heap, lifecycle.c).  The dump writes through the OS layer
 * with no allocation and no lock: the fatal path calls it.
 */
#include <lib/fmt.h>
#include <mm/heap/internal.h>

static void dump_line(int fd, struct fmt_buf *b)
{
	fmt_char(b, '\n');
	os_write_fd(fd, b->buf, b->len);
	b->len = 0;
}

void heap_trace_dump(int fd)
{
	struct heap *h = tls_heap;
	char buf[160];
	struct fmt_buf b = { buf, sizeof(buf), 0 };
	uint64_t pos, first, i;

	if (h->kind != HEAP_LIVE) {
		fmt_str(&b, "hakmem: trace: this thread has no heap (no events)");
		dump_line(fd, &b);
		return;
	}
	pos = atomic_load_acquire(&h->trace_pos);
	first = pos > TRACE_ENTRIES ? pos - TRACE_ENTRIES : 0;
	fmt_str(&b, "hakmem: trace: thread heap ");
	fmt_hex(&b, (uintptr_t)h);
	fmt_str(&b, ", the last ");
	fmt_u64(&b, pos - first);
	fmt_str(&b, " of ");
	fmt_u64(&b, pos);
	fmt_str(&b, " events, oldest first: seq op pointer size cycles");
	dump_line(fd, &b);
	for (i = first; i < pos; i++) {
		const struct trace_event *e = &h->trace[i & (TRACE_ENTRIES - 1)];
		int is_free = (e->size & TRACE_FREE) != 0;

		fmt_str(&b, "hakmem: trace ");
		fmt_u64(&b, i);
		fmt_str(&b, is_free ? " free " : " malloc ");
		fmt_hex(&b, e->ptr);
		fmt_char(&b, ' ');
		if (is_free)
			fmt_char(&b, '-');
		else
			fmt_u64(&b, e->size);
		fmt_char(&b, ' ');
		fmt_u64(&b, e->cycles);
		dump_line(fd, &b);
	}
}

void heap_trace_dump_fatal(void)
{
	heap_trace_dump(2);
}
