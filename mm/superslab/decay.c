// SPDX-License-Identifier: MIT
/*
 * The decay check: run, rate-limited, from the slow paths of every layer,
 * by the purge thread (purge.c) and by malloc_trim (force); it calls the
 * hooks of the upper layers (the heap engine's reclaim, BigCache's decay),
 * then the slab pool's decay.  Each says whether it still holds memory a
 * later check would give back: the purge thread sleeps when none does.
 */
#include <mm/options.h>
#include <mm/os.h>
#include <mm/superslab/superslab.h>

#define DECAY_HOOKS 4
/* The check runs at most this many times per decay time. */
#define DECAY_CHECKS_PER_PERIOD 4

/* Slots are taken by fetch-and-add and published by a release store; the
 * check skips slots not yet published. */
static decay_hook_fn decay_hooks[DECAY_HOOKS];
static unsigned int decay_hooks_taken;
static uint64_t last_run_ms;
/* 1 while a pass runs (or the fork handlers hold it: no pass starts). */
static uint32_t running;

void decay_add_hook(decay_hook_fn fn)
{
	unsigned int n = atomic_fetch_add_relaxed(&decay_hooks_taken, 1);

	if (n >= DECAY_HOOKS)
		hak_fatal("too many decay hooks", NULL);
	atomic_store_release(&decay_hooks[n], fn);
}

uint64_t decay_period_ms(void)
{
	uint64_t period = hak_option(OPT_DECAY_MS) / DECAY_CHECKS_PER_PERIOD;

	return period ? period : 1;
}

/* Takes the pass; with `wait`, waits for a running one to end. */
static int decay_begin(int wait)
{
	uint32_t idle = 0;

	while (!atomic_cas_acq_rel(&running, &idle, 1)) {
		if (!wait)
			return 0;
		idle = 0;
		os_sleep_ms(1);
	}
	return 1;
}

int decay_run(int force)
{
	uint64_t now = os_now_ms();
	uint64_t last = atomic_load_relaxed(&last_run_ms);
	unsigned int i;
	int pending = 0;

	if (!force && now - last < decay_period_ms())
		return -1;
	if (!force && !atomic_cas_acq_rel(&last_run_ms, &last, now))
		return -1;
	if (force)
		atomic_store_relaxed(&last_run_ms, now);
	/*
	 * One pass at a time; releasing spans below may ask for another.  A
	 * forced pass (malloc_trim) waits for a running one to end (the purge
	 * thread's, say) instead of returning with nothing done.
	 */
	if (!decay_begin(force))
		return -1;
	for (i = 0; i < DECAY_HOOKS; i++) {
		decay_hook_fn fn = atomic_load_acquire(&decay_hooks[i]);

		if (fn)
			pending |= fn(now, force);
	}
	pending |= slabpool_decay(now, force);
	atomic_store_release(&running, 0);
	return pending;
}

void decay_fork_prepare(void)
{
	/* A purge pass in progress ends first (its decommits with it). */
	decay_begin(1);
}

void decay_fork_parent(void)
{
	atomic_store_release(&running, 0);
}

void decay_fork_child(void)
{
	atomic_store_relaxed(&running, 0);
	purge_fork_child();
}
