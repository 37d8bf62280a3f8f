// SPDX-License-Identifier: MIT
/*
 * The bandit (CONFIG_ACE_BANDIT): an experiment box over the adaptive
 * engine, off by default.  Each maintenance window (one decision of the
 * engine, mm/ace.c) it scores the candidate policy that was in force, then
 * picks the next one by sliding-window UCB1: the phases of a program are
 * not stationary, so only the last BANDIT_WINDOW plays count.
 *
 * Candidates (arms): the reserve bound at HAKMEM_HEAP_RESERVE or at
 * HAKMEM_HEAP_RESERVE_MAX, times the superslab LRU at a quarter of
 * HAKMEM_SS_LRU (at least 1) or at all of it.  The engine's rule still sets
 * the BigCache budget and the span cache slots.
 *
 * Reward of a window, in nanoseconds (higher is better):
 *
 *   -( 20,000 x superslabs mapped new
 *    +  2,000 x superslabs taken from the LRU
 *    +  1,000 x heaps that wanted a bigger reserve than the bound
 *    +  5,000 x resident MiB at the window's end )
 *
 * the first three the slow paths' cost of refills (an mmap and its page
 * faults, an LRU reuse, a span more through the pool), the last the price
 * of holding memory for one window.  UCB1 wants rewards in [0, 1]: each is
 * scaled between the lowest and highest reward in the window.
 */
#include <mm/options.h>
#include <mm/os.h>
#include <mm/policy.h>

#define COST_SS_FRESH_NS   20000
#define COST_LRU_HIT_NS     2000
#define COST_CAPPED_NS      1000
#define PRICE_MIB_NS        5000
/* UCB1's exploration weight (sqrt(2)). */
#define BANDIT_C            1.41421356

static struct bandit_play plays[BANDIT_WINDOW];   /* decay pass only */
static uint64_t nplays;
static unsigned int cur_arm;

int64_t bandit_reward(const struct ace_counts *w, uint64_t rss_mib)
{
	uint64_t cost = w->ss_fresh * COST_SS_FRESH_NS + w->lru_hits * COST_LRU_HIT_NS +
			w->reserve_capped * COST_CAPPED_NS + rss_mib * PRICE_MIB_NS;

	return -(int64_t)cost;
}

static double sqrt_newton(double x)
{
	double r = x > 1 ? x : 1;
	int i;

	if (x <= 0)
		return 0;
	for (i = 0; i < 40; i++)
		r = 0.5 * (r + x / r);
	return r;
}

/* ln(n) for 1 <= n <= BANDIT_WINDOW, without libm. */
static double ln_small(unsigned int n)
{
	static const double ln_table[BANDIT_WINDOW + 1] = {
		0, 0, 0.693147, 1.098612, 1.386294, 1.609438, 1.791759, 1.945910,
		2.079442, 2.197225, 2.302585, 2.397895, 2.484907, 2.564949, 2.639057,
		2.708050, 2.772589, 2.833213, 2.890372, 2.944439, 2.995732, 3.044522,
		3.091042, 3.135494, 3.178054, 3.218876, 3.258097, 3.295837, 3.332205,
		3.367296, 3.401197, 3.433987, 3.465736,
	};

	return ln_table[n < 1 ? 1 : n > BANDIT_WINDOW ? BANDIT_WINDOW : n];
}

unsigned int bandit_choose(const struct bandit_play *p, unsigned int n)
{
	unsigned int count[BANDIT_ARMS] = { 0 }, a, i, best = 0;
	double sum[BANDIT_ARMS] = { 0 }, best_ucb = -1;
	int64_t lo = 0, hi = 0;

	for (i = 0; i < n; i++) {
		if (!i || p[i].reward < lo)
			lo = p[i].reward;
		if (!i || p[i].reward > hi)
			hi = p[i].reward;
	}
	for (i = 0; i < n; i++) {
		double r = hi > lo ? (double)(p[i].reward - lo) / (double)(hi - lo) : 0.5;

		count[p[i].arm]++;
		sum[p[i].arm] += r;
	}
	for (a = 0; a < BANDIT_ARMS; a++) {
		double ucb;

		/* An arm the window has not seen is tried first. */
		if (!count[a])
			return a;
		ucb = sum[a] / count[a] + BANDIT_C * sqrt_newton(ln_small(n) / count[a]);
		if (ucb > best_ucb) {
			best_ucb = ucb;
			best = a;
		}
	}
	return best;
}

void bandit_arm_policy(unsigned int arm, struct hak_policy *p)
{
	uint32_t lru = (uint32_t)hak_option(OPT_SS_LRU_CAPACITY);

	p->reserve_max = (uint32_t)hak_option(arm & 1 ? OPT_HEAP_RESERVE_MAX : OPT_HEAP_RESERVE);
	if (p->reserve_max < hak_option(OPT_HEAP_RESERVE))
		p->reserve_max = (uint32_t)hak_option(OPT_HEAP_RESERVE);
	p->lru_capacity = arm & 2 ? lru : (lru / 4 ? lru / 4 : (lru ? 1 : 0));
}

void ace_bandit_step(const struct ace_counts *w, struct hak_policy *next)
{
	struct bandit_play window[BANDIT_WINDOW];
	unsigned int n, i;

	plays[nplays % BANDIT_WINDOW] =
		(struct bandit_play){ cur_arm, bandit_reward(w, os_rss_bytes() >> 20) };
	nplays++;
	n = nplays < BANDIT_WINDOW ? (unsigned int)nplays : BANDIT_WINDOW;
	for (i = 0; i < n; i++)
		window[i] = plays[i];
	cur_arm = bandit_choose(window, n);
	bandit_arm_policy(cur_arm, next);
}
