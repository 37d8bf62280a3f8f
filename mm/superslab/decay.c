// SPDX-License-Identifier: MIT
/*
 * The decay check: run, rate-limited, from the slow paths of every layer
 * and by malloc_trim (force); it calls the hooks of the upper layers (the
 * heap engine's reclaim, BigCache's decay), then the slab pool's decay.
 */
#include <mm/options.h>
#include <mm/os.h>
#include <mm/superslab/superslab.h>

#define DECAY_HOOKS 4
/* The check runs at most this many times per decay time. */
#define DECAY_CHECKS_PER_PERIOD 4

typedef void (*decay_hook_fn)(uint64_t now_ms, int force);
/* Slots are taken by fetch-and-add and published by a release store; the
 * check skips slots not yet published. */
static decay_hook_fn decay_hooks[DECAY_HOOKS];
static unsigned int decay_hooks_taken;
static uint64_t last_run_ms;
static uint32_t running;

void decay_add_hook(decay_hook_fn fn)
{
	unsigned int n = atomic_fetch_add_relaxed(&decay_hooks_taken, 1);

	if (n >= DECAY_HOOKS)
		hak_fatal("too many decay hooks", NULL);
	atomic_store_release(&decay_hooks[n], fn);
}

void decay_run(int force)
{
	uint64_t now = os_now_ms();
	uint64_t last = atomic_load_relaxed(&last_run_ms);
	uint64_t period = hak_option(OPT_DECAY_MS) / DECAY_CHECKS_PER_PERIOD;
	unsigned int i;
	uint32_t idle = 0;

	if (!force && now - last < (period ? period : 1))
		return;
	if (!force && !atomic_cas_acq_rel(&last_run_ms, &last, now))
		return;
	if (force)
		atomic_store_relaxed(&last_run_ms, now);
	/*
	 * One pass at a time; releasing spans below may ask for another.  A
	 * forced pass (malloc_trim) waits for a running one to end (the purge
	 * thread's, say) instead of returning with nothing done.
	 */
	while (!atomic_cas_acq_rel(&running, &idle, 1)) {
		if (!force)
			return;
		idle = 0;
		os_sleep_ms(1);
	}
	for (i = 0; i < DECAY_HOOKS; i++) {
		decay_hook_fn fn = atomic_load_acquire(&decay_hooks[i]);

		if (fn)
			fn(now, force);
	}
	slabpool_decay(now, force);
	atomic_store_release(&running, 0);
}

void decay_fork_child(void)
{
	/* A pass another thread was running did not survive. */
	atomic_store_relaxed(&running, 0);
}
