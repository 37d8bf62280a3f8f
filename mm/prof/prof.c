// SPDX-License-Identifier: MIT
/* The profiler's sampling and accounting; see prof.h. */
#include <errno.h>
#include <string.h>

#include <asm/atomic.h>
#include <lib/lock.h>
#include <mm/large/large.h>
#include <mm/options.h>
#include <mm/os.h>
#include <mm/prof/prof.h>

/* The interval when sampling; 0 while it is off. */
static uint64_t prof_interval;
static uint64_t prof_seed;
static uint64_t prof_heaps;   /* heaps armed so far (seeds with HAKMEM_PROF_SEED) */

int prof_active(void)
{
	return atomic_load_relaxed(&prof_interval) != 0;
}

void prof_init(void)
{
	if (!hak_option_str(OPT_PROF)[0])
		return;
	prof_seed = hak_option(OPT_PROF_SEED);
	atomic_store_relaxed(&prof_interval, hak_option(OPT_PROF_SAMPLE));
}

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* A draw of the exponential distribution of mean `interval`, in bytes. */
static int64_t next_interval(struct heap *h, uint64_t interval)
{
	/* u in (0, 1]: 53 random bits. */
	double u = (double)((splitmix(&h->prof_rng) >> 11) + 1) * (1.0 / 9007199254740992.0);
	double d = prof_neg_log(u) * (double)interval;

	if (d > (double)(INT64_MAX / 4))
		return INT64_MAX / 4;
	return (int64_t)d;
}

/* Arms heap h: its generator, then its first countdown. */
static void arm(struct heap *h, uint64_t interval)
{
	uint64_t k = atomic_fetch_add_relaxed(&prof_heaps, 1);

	h->prof_rng = prof_seed ? prof_seed + k * 0x632be59bd9b4e019ULL : os_random();
	if (!h->prof_rng)
		h->prof_rng = 1;
	h->prof_left = next_interval(h, interval);
}

/*
 * Whether the allocation of n bytes whose countdown went below 0 is
 * sampled; sets the next countdown.  A thread's first malloc builds its
 * heap here (as the tiers' slow paths would), so that it counts too, in
 * every config.
 */
static int due(struct heap **hp, size_t n, uint64_t interval)
{
	struct heap *h = *hp;

	if (h->kind == HEAP_EMPTY) {
		h = heap_create_for_thread();
		if (!h)
			return 0;
		*hp = h;
	}
	if (h->kind != HEAP_LIVE) {
		h->prof_left = PROF_LEFT_STATIC;
		return 0;
	}
	if (!interval) {
		h->prof_left = INT64_MAX;
		return 0;
	}
	if (!h->prof_rng) {
		/* The heap's first malloc: this one counts from a first draw. */
		arm(h, interval);
		h->prof_left = (int64_t)((uint64_t)h->prof_left - n);
		if (h->prof_left >= 0)
			return 0;
	}
	h->prof_left = next_interval(h, interval);
	return 1;
}

/* The estimates a sampled block of n bytes stands for. */
static void estimate(struct prof_block *b, size_t n, uint64_t interval)
{
	double s = n ? (double)n : 1.0;
	double w = 1.0 / prof_one_minus_exp_neg(s / (double)interval);

	b->est_objs = (uint64_t)(w + 0.5);
	if (!b->est_objs)
		b->est_objs = 1;
	b->est_bytes = (uint64_t)(w * s + 0.5);
	b->size = n;
}

void *prof_malloc(size_t n, size_t align, void *ra, uintptr_t fp)
{
	uint64_t interval = atomic_load_relaxed(&prof_interval);
	struct heap *h = tls_heap;
	uintptr_t pc[PROF_DEPTH];
	struct prof_block *b;
	unsigned int depth;
	int saved;
	void *p;

	if (!due(&h, n, interval))
		return NULL;
	saved = errno;
	p = large_alloc_prof(n, align);
	if (!p) {
		errno = saved;
		return NULL;
	}
	depth = 0;
	if (h->prof_stack_top && os_stack_top() == h->prof_stack_top)
		depth = prof_walk(fp, h->prof_stack_top, (uintptr_t)ra, pc, PROF_DEPTH);
	else
		pc[depth++] = (uintptr_t)ra;
	b = large_prof_area(p);
	estimate(b, n, interval);
	hak_lock(&prof_lock);
	b->site = prof_site_find(pc, depth);
	if (b->site < PROF_SITES) {
		struct prof_site *s = &prof_sites[b->site];

		s->live_bytes += b->est_bytes;
		s->live_objs += b->est_objs;
		s->total_bytes += b->est_bytes;
		s->total_objs += b->est_objs;
		s->samples++;
	} else {
		prof_dropped++;
	}
	hak_unlock(&prof_lock);
	b->magic = PROF_BLOCK_MAGIC;
	return p;
}

void prof_free(void *p)
{
	struct prof_block *b = large_prof_area(p);

	if (!b || b->magic != PROF_BLOCK_MAGIC)
		return;
	b->magic = 0;
	if (b->site >= PROF_SITES)
		return;
	hak_lock(&prof_lock);
	prof_sites[b->site].live_bytes -= b->est_bytes;
	prof_sites[b->site].live_objs -= b->est_objs;
	hak_unlock(&prof_lock);
}

void prof_test_setup(uint64_t sample, uint64_t seed)
{
	struct heap *h = tls_heap;

	prof_seed = seed;
	atomic_store_relaxed(&prof_heaps, 0);   /* the same draws whatever ran before */
	atomic_store_relaxed(&prof_interval, sample);
	if (h->kind == HEAP_LIVE) {
		h->prof_rng = 0;
		h->prof_left = 0;
	}
}

void prof_fork_prepare(void)
{
	hak_lock(&prof_lock);
}

void prof_fork_release(void)
{
	hak_unlock(&prof_lock);
}

/* ---- No libm: the two functions the sampling needs. */

/* exp(-x) for 0 <= x <= 0.25: its series. */
static double exp_neg_small(double x)
{
	double term = 1.0, sum = 1.0;
	int k;

	for (k = 1; k < 16; k++) {
		term *= -x / k;
		sum += term;
	}
	return sum;
}

double prof_one_minus_exp_neg(double x)
{
	double term, sum, e;
	int k, m = 0;

	if (x > 40.0)
		return 1.0;
	if (x < 0.25) {
		/* x - x^2/2 + x^3/6 ...: no cancellation for small x; the
		 * terms fall by x/k at least: stop below 1e-13 of x. */
		term = x;
		sum = x;
		for (k = 2; k < 18; k++) {
			term *= -x / k;
			sum += term;
			if (term < x * 1e-13 && term > -x * 1e-13)
				break;
		}
		return sum;
	}
	while (x > 0.25) {
		x *= 0.5;
		m++;
	}
	e = exp_neg_small(x);
	while (m--)
		e *= e;
	return 1.0 - e;
}

double prof_neg_log(double u)
{
	union { double d; uint64_t b; } v = { .d = u };
	int e = (int)((v.b >> 52) & 0x7ff) - 1023;
	double m, z, z2, term, sum;
	int k;

	/* u = m * 2^e with m in [sqrt(1/2), sqrt(2)); ln m = 2 atanh(z),
	 * z = (m - 1) / (m + 1), |z| < 0.172: its series to 1e-13 of z
	 * (the draws need far less). */
	v.b = (v.b & ((1ULL << 52) - 1)) | (1023ULL << 52);
	m = v.d;
	if (m > 1.4142135623730951) {
		m *= 0.5;
		e++;
	}
	z = (m - 1.0) / (m + 1.0);
	z2 = z * z;
	term = z;
	sum = z;
	for (k = 3; k < 40; k += 2) {
		term *= z2;
		sum += term / k;
		if (term * term < z2 * 1e-26)
			break;
	}
	return -(2.0 * sum + e * 0.69314718055994530942);
}
