// SPDX-License-Identifier: MIT
/*
 * The purge thread (CONFIG_PURGE_THREAD): runs the decay check while the
 * program's threads call nothing, so that memory freed before a program
 * goes idle returns within the decay time.
 *
 * It exists only once there was something to purge: purge_notify (from a
 * slow path that made memory purgeable) marks it wanted, and the next
 * heap_purge_start_if_wanted, called where a slow path may start a thread
 * (the heap is consistent and no lock is held: pthread_create may
 * allocate), starts it.  It runs a pass every quarter decay time while a pass says
 * that something is still cached, and otherwise sleeps on a futex with no
 * timeout until purge_notify wakes it.  A failed pthread_create leaves it
 * absent for good: the slow paths' decay checks still run.  A fork child
 * marks it wanted (its parent's did not survive) and starts its own on
 * demand; the prepare handler waits for a running pass to end (decay.c).
 */
#include <mm/options.h>
#include <mm/os.h>
#include <mm/superslab/superslab.h>

#define PURGE_STACK_BYTES (64 * 1024)
/* Polling while something waits that no call announces (notified spans
 * filling up): no faster than this even with HAKMEM_DECAY_MS=0. */
#define PURGE_MIN_POLL_MS 10

enum purge_state {
	PURGE_ABSENT = 0,   /* nothing purgeable yet */
	PURGE_WANTED,       /* something is: start at the next chance */
	PURGE_STARTING,
	PURGE_RUNNING,
	PURGE_FAILED,       /* pthread_create failed: slow paths only */
};

_Static_assert(PURGE_WANTED == PURGE_STATE_WANTED, "superslab.h tests the value");

uint32_t purge_state;
static uint32_t purge_seq;      /* futex word: bumped by every wake-up */
static uint32_t purge_asleep;   /* 1 while it waits with no timeout */
/* Set in the purge thread: what its own pass frees needs no wake-up. */
static __thread int in_purge_thread __attribute__((tls_model("initial-exec")));

/*
 * purge_asleep is set before each pass and cleared when the pass leaves
 * something cached; purge_notify publishes its memory before it reads the
 * flag.  With a full fence on both sides, either the pass sees the new
 * memory or the notifier sees the flag and wakes the thread.
 */
static void *purge_thread(void *arg)
{
	in_purge_thread = 1;
	for (;;) {
		uint32_t seq = atomic_load_acquire(&purge_seq);
		uint64_t poll = decay_period_ms();
		int pending;

		atomic_store_relaxed(&purge_asleep, 1);
		atomic_thread_fence_seq_cst();
		/* -1: another pass ran just now; look again later. */
		pending = decay_run(0);
		if (pending)
			atomic_store_relaxed(&purge_asleep, 0);
		os_wait(&purge_seq, seq, !pending ? 0 :
			poll < PURGE_MIN_POLL_MS ? PURGE_MIN_POLL_MS : poll);
	}
	return arg;
}

void purge_notify(void)
{
	uint32_t st;

	if (in_purge_thread)
		return;
	atomic_thread_fence_seq_cst();
	st = atomic_load_relaxed(&purge_state);
	if (st == PURGE_RUNNING) {
		if (atomic_load_relaxed(&purge_asleep) &&
		    atomic_exchange_acq_rel(&purge_asleep, 0)) {
			atomic_fetch_add_relaxed(&purge_seq, 1);
			os_wake(&purge_seq);
		}
		return;
	}
	if (st == PURGE_ABSENT && hak_option(OPT_PURGE_THREAD))
		atomic_cas_acq_rel(&purge_state, &st, PURGE_WANTED);
}

void purge_start(void)
{
	uint32_t st = PURGE_WANTED;

	if (!hak_option(OPT_PURGE_THREAD) ||
	    !atomic_cas_acq_rel(&purge_state, &st, PURGE_STARTING))
		return;
	atomic_store_release(&purge_state,
			     os_thread_start(purge_thread, PURGE_STACK_BYTES) ?
			     PURGE_FAILED : PURGE_RUNNING);
}

void purge_fork_child(void)
{
	atomic_store_relaxed(&purge_asleep, 0);
	if (atomic_load_relaxed(&purge_state) != PURGE_FAILED && hak_option(OPT_PURGE_THREAD))
		atomic_store_relaxed(&purge_state, PURGE_WANTED);
}
