/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: runs an operation sequence against the hak_* API and
 * checks every result against a shadow model.
 *
 * Built by scripts/fuzz.sh with clang -fsanitize=fuzzer,address,undefined
 * and linked with a libhakmem.a built with CONFIG_OVERRIDE off, so ASan's
 * own malloc stays the process allocator and hakmem is reached only here.
 *
 * Input: byte 0 holds flags (bit 0: run a second thread).  The rest is a
 * stream of 5-byte ops; with the second thread, the first half of the rest
 * is the main thread's stream and the second half the other thread's.
 *   op    = b[0] % NOPS
 *   slot  = b[1] % NSLOTS       (each thread has its own slots)
 *   r     = b[2] | b[3] << 8    (size / alignment entropy)
 *   tier  = b[4] % 8            (which size range r is mapped into)
 * Sizes cover tiny (<= 1 KiB), pool (to 1 MiB) and large (to 4 MiB), plus
 * the class boundaries.  The main thread can hand a live block over to the
 * other thread, which checks it and frees it (the remote-free path).
 *
 * Model checks, each a crash (abort) when broken:
 *   - a block keeps the pattern written into it until it is freed, and
 *     realloc keeps the common prefix;
 *   - calloc memory reads zero;
 *   - usable size >= requested size;
 *   - alignment: 16 for sizes >= 16, 8 below, the asked alignment for the
 *     aligned calls;
 *   - no two live blocks of a thread overlap, malloc(0) is unique;
 *   - errors: posix_memalign with a bad alignment returns EINVAL, and
 *     nothing in range fails with NULL.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <hakmem.h>

#define NSLOTS 32
#define NOPS 11
#define OP_BYTES 5
#define LIVE_BUDGET (48u << 20) /* per thread */

struct slot {
	unsigned char *p;
	size_t size;  /* requested */
	size_t align; /* asked alignment, 0 for none */
	unsigned seed;
	int from_calloc;
};

struct heap {
	struct slot s[NSLOTS];
	size_t live;
	const char *name;
};

#define FAIL(...)                                                              \
	do {                                                                   \
		fprintf(stderr, "fuzz_ops: " __VA_ARGS__);                     \
		fputc('\n', stderr);                                           \
		abort();                                                       \
	} while (0)

/*
 * The pattern of a block is pat[(seed + i) % 64 KiB] at offset i.  Blocks up
 * to 64 KiB carry it everywhere; bigger ones in chunks (the first and last
 * 4 KiB and 64 bytes at every 64 KiB) so that a 4 MiB op stays cheap.
 */
#define PAT_SIZE (64u << 10)
static unsigned char pat[2 * PAT_SIZE];
static pthread_once_t pat_once = PTHREAD_ONCE_INIT;

static void pat_init(void)
{
	uint32_t x = 2463534242u;
	size_t i;

	for (i = 0; i < PAT_SIZE; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		pat[i] = pat[i + PAT_SIZE] = (unsigned char)(x >> 11);
	}
}

struct chunk {
	size_t off, len;
};

/* The patterned chunks of an n-byte block, in order; returns their count. */
static int chunks(size_t n, struct chunk *c)
{
	size_t off;
	int k = 0;

	if (n <= PAT_SIZE) {
		c[k++] = (struct chunk){ 0, n };
		return k;
	}
	c[k++] = (struct chunk){ 0, 4096 };
	for (off = PAT_SIZE; off + 64 <= n - 4096; off += PAT_SIZE)
		c[k++] = (struct chunk){ off, 64 };
	c[k++] = (struct chunk){ n - 4096, 4096 };
	return k;
}

#define MAX_CHUNKS ((4u << 20) / PAT_SIZE + 8)

static const unsigned char *pattern_at(unsigned seed, size_t off)
{
	return pat + (seed + off) % PAT_SIZE;
}

static void fill(struct slot *s)
{
	struct chunk c[MAX_CHUNKS];
	int i, k = chunks(s->size, c);

	for (i = 0; i < k; i++)
		memcpy(s->p + c[i].off, pattern_at(s->seed, c[i].off), c[i].len);
}

/* Checks the pattern written for a block of `written` bytes on [0, upto). */
static void verify(const struct heap *h, const struct slot *s, size_t written, size_t upto,
		   const char *when)
{
	struct chunk c[MAX_CHUNKS];
	int i, k = chunks(written, c);

	for (i = 0; i < k && c[i].off < upto; i++) {
		size_t len = c[i].off + c[i].len > upto ? upto - c[i].off : c[i].len;

		if (memcmp(s->p + c[i].off, pattern_at(s->seed, c[i].off), len))
			FAIL("%s: block %p (%zu bytes) changed in [%zu, %zu) %s", h->name,
			     (void *)s->p, s->size, c[i].off, c[i].off + len, when);
	}
}

static void verify_zero(const struct heap *h, const struct slot *s)
{
	static const unsigned char zero[4096];
	struct chunk c[MAX_CHUNKS];
	int i, k = chunks(s->size, c);
	size_t off;

	for (i = 0; i < k; i++)
		for (off = c[i].off; off < c[i].off + c[i].len; off += sizeof(zero)) {
			size_t len = c[i].off + c[i].len - off;

			if (len > sizeof(zero))
				len = sizeof(zero);
			if (memcmp(s->p + off, zero, len))
				FAIL("%s: calloc block %p (%zu bytes) not zero in [%zu, %zu)",
				     h->name, (void *)s->p, s->size, off, off + len);
		}
}

static void check_new(struct heap *h, int idx, size_t size, size_t align, const char *fn)
{
	struct slot *s = &h->s[idx];
	uintptr_t u = (uintptr_t)s->p;
	size_t min_align = size >= 16 ? 16 : 8, usable, span = size ? size : 1;
	int j;

	if (align > min_align)
		min_align = align;
	if (u % min_align)
		FAIL("%s: %s(%zu, align %zu) = %p is not %zu-aligned", h->name, fn, size, align,
		     (void *)s->p, min_align);
	usable = hak_malloc_usable_size(s->p);
	if (usable < size)
		FAIL("%s: %s(%zu) = %p has usable size %zu", h->name, fn, size, (void *)s->p,
		     usable);
	for (j = 0; j < NSLOTS; j++) {
		const struct slot *o = &h->s[j];
		size_t ospan;

		if (j == idx || !o->p)
			continue;
		ospan = o->size ? o->size : 1;
		if (u < (uintptr_t)o->p + ospan && u + span > (uintptr_t)o->p)
			FAIL("%s: %s(%zu) = %p overlaps live %p (%zu bytes)", h->name, fn, size,
			     (void *)s->p, (void *)o->p, o->size);
	}
}

static void slot_release(struct heap *h, int idx, int how)
{
	struct slot *s = &h->s[idx];

	if (!s->p)
		return;
	verify(h, s, s->size, s->size, "before free");
	if (how == 1 && !s->align)
		hak_free_sized(s->p, s->size);
	else if (how == 1)
		hak_free_aligned_sized(s->p, s->align, s->size);
	else
		hak_free(s->p);
	h->live -= s->size;
	s->p = NULL;
}

/* ---- hand-over queue: main -> second thread (remote frees) ---- */
#define QCAP 64
static struct {
	pthread_mutex_t lock;
	struct slot q[QCAP];
	int n;
	int done;
} handoff = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void drain(struct heap *h)
{
	struct slot mine[QCAP];
	int i, n;

	pthread_mutex_lock(&handoff.lock);
	n = handoff.n;
	memcpy(mine, handoff.q, n * sizeof(mine[0]));
	handoff.n = 0;
	pthread_mutex_unlock(&handoff.lock);
	for (i = 0; i < n; i++) {
		verify(h, &mine[i], mine[i].size, mine[i].size, "in hand-over");
		hak_free(mine[i].p);
	}
}

static size_t pick_size(unsigned r, unsigned tier)
{
	static const size_t edge[] = {
		0,	 1,	    7,		8,	   15,	       16,	 17,
		127,	 128,	    129,	1023,	   1024,       1025,	 4095,
		4096,	 4097,	    65535,	65536,	   65537,      262144,	 (1 << 20) - 1,
		1 << 20, (1 << 20) + 1, (2 << 20) - 16, 2 << 20, (2 << 20) + 1, 4 << 20,
	};

	switch (tier) {
	case 0:
	case 6:
		return r % 129;
	case 1:
	case 7:
		return r % 1025;
	case 2:
		return 1025 + r % (64 * 1024 - 1024);
	case 3:
		return 1025 + (size_t)r * 16 % ((1 << 20) - 1024);
	case 4:
		return (1 << 20) + (size_t)r * 48;
	default:
		return edge[r % (sizeof(edge) / sizeof(edge[0]))];
	}
}

static void run_ops(struct heap *h, const uint8_t *d, size_t n, int can_handoff, int remote)
{
	size_t k;

	for (k = 0; k + OP_BYTES <= n; k += OP_BYTES) {
		unsigned op = d[k] % NOPS, idx = d[k + 1] % NSLOTS;
		unsigned r = d[k + 2] | d[k + 3] << 8, tier = d[k + 4] % 8;
		size_t size = pick_size(r, tier);
		size_t align = (size_t)1 << (d[k + 2] % 17);
		struct slot *s = &h->s[idx];
		unsigned seed = (unsigned)(k * 2654435761u) ^ d[k + 3];
		void *p = NULL;
		int rc;

		if (remote)
			drain(h);
		if (op <= 4 || op == 7 || op == 9) {
			/* allocating ops replace the slot's block */
			if (op != 2)
				slot_release(h, idx, 0);
			if (h->live + size > LIVE_BUDGET + (s->p ? s->size : 0))
				continue;
		}
		switch (op) {
		case 0:
			p = hak_malloc(size);
			align = 0;
			break;
		case 1: {
			size_t nm = (r & 7) + 1, each = size / nm;

			size = nm * each;
			p = hak_calloc(nm, each);
			align = 0;
			break;
		}
		case 2: {
			size_t old = s->p ? s->size : 0;

			if (!s->p) {
				p = hak_realloc(NULL, size);
				align = 0;
				break;
			}
			verify(h, s, s->size, s->size, "before realloc");
			p = hak_realloc(s->p, size);
			if (size == 0) {
				/* glibc semantics: frees and returns NULL */
				if (p)
					FAIL("%s: realloc(%p, 0) = %p, want NULL", h->name,
					     (void *)s->p, p);
				h->live -= old;
				s->p = NULL;
				continue;
			}
			if (!p)
				FAIL("%s: realloc(%p, %zu) failed", h->name, (void *)s->p, size);
			s->p = p;
			/* the prefix survives, as it was written for the old size */
			verify(h, s, old, old < size ? old : size, "by realloc");
			h->live += size;
			h->live -= old;
			s->size = size;
			s->align = 0;
			s->from_calloc = 0;
			check_new(h, idx, size, 0, "realloc");
			fill(s);
			continue;
		}
		case 3:
			p = hak_memalign(align, size);
			break;
		case 4:
			if (d[k + 3] & 0x80) {
				/* a bad alignment: not a power of two, or not a multiple
				 * of sizeof(void *) */
				size_t bad = align < 8 ? align : align * 3;
				void *keep = (void *)0x1;

				p = keep;
				rc = hak_posix_memalign(&p, bad, size);
				if (rc != EINVAL || p != keep)
					FAIL("%s: posix_memalign(%zu, %zu) = %d, want EINVAL",
					     h->name, bad, size, rc);
				continue;
			}
			if (align < sizeof(void *))
				align = sizeof(void *);
			rc = hak_posix_memalign(&p, align, size);
			if (rc)
				FAIL("%s: posix_memalign(%zu, %zu) = %d", h->name, align, size, rc);
			break;
		case 5:
		case 6:
			slot_release(h, idx, op == 6);
			continue;
		case 7:
			/* C11: size a multiple of the alignment */
			size = (size + align - 1) & ~(align - 1);
			if (h->live + size > LIVE_BUDGET)
				continue;
			p = hak_aligned_alloc(align, size);
			break;
		case 8:
			if (!s->p)
				continue;
			if (!can_handoff) {
				slot_release(h, idx, 0);
				continue;
			}
			verify(h, s, s->size, s->size, "before hand-over");
			pthread_mutex_lock(&handoff.lock);
			if (handoff.n < QCAP) {
				handoff.q[handoff.n++] = *s;
				h->live -= s->size;
				s->p = NULL;
			}
			pthread_mutex_unlock(&handoff.lock);
			continue;
		case 9:
			p = hak_reallocarray(NULL, (r & 3) + 1, size / ((r & 3) + 1));
			size = ((r & 3) + 1) * (size / ((r & 3) + 1));
			align = 0;
			break;
		case 10: {
			int j;

			for (j = 0; j < NSLOTS; j++)
				if (h->s[j].p)
					verify(h, &h->s[j], h->s[j].size, h->s[j].size, "while live");
			continue;
		}
		}
		if (!p)
			FAIL("%s: op %u size %zu align %zu returned NULL (errno %d)", h->name, op, size,
			     align, errno);
		s->p = p;
		s->size = size;
		s->align = (op == 3 || op == 4 || op == 7) ? align : 0;
		s->seed = seed;
		s->from_calloc = op == 1;
		h->live += size;
		check_new(h, idx, size, s->align, "alloc");
		if (s->from_calloc)
			verify_zero(h, s);
		fill(s);
	}
}

static void heap_clear(struct heap *h)
{
	int j;

	for (j = 0; j < NSLOTS; j++)
		slot_release(h, j, 0);
}

struct other_args {
	const uint8_t *d;
	size_t n;
};

static void *other_thread(void *arg)
{
	struct other_args *a = arg;
	static __thread struct heap h;
	int done = 0;

	memset(&h, 0, sizeof(h));
	h.name = "thread 2";
	run_ops(&h, a->d, a->n, 0, 1);
	while (!done) {
		pthread_mutex_lock(&handoff.lock);
		done = handoff.done;
		pthread_mutex_unlock(&handoff.lock);
		drain(&h);
	}
	drain(&h);
	heap_clear(&h);
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct heap h;
	struct other_args a;
	pthread_t t;
	int two;

	pthread_once(&pat_once, pat_init);
	if (size < 1)
		return 0;
	two = data[0] & 1;
	data++;
	size--;
	memset(&h, 0, sizeof(h));
	h.name = "main";
	handoff.n = 0;
	handoff.done = 0;
	if (!two) {
		run_ops(&h, data, size, 0, 0);
		heap_clear(&h);
		return 0;
	}
	a.d = data + size / 2;
	a.n = size - size / 2;
	if (pthread_create(&t, NULL, other_thread, &a))
		FAIL("pthread_create failed");
	run_ops(&h, data, size / 2, 1, 0);
	heap_clear(&h);
	pthread_mutex_lock(&handoff.lock);
	handoff.done = 1;
	pthread_mutex_unlock(&handoff.lock);
	pthread_join(t, NULL);
	return 0;
}
