// SPDX-License-Identifier: MIT
/*
 * The purge thread (CONFIG_PURGE_THREAD): runs the decay check every half
 * decay time, for programs that go idle after a peak and never call
 * malloc again.
 */
#include <pthread.h>

#include <mm/options.h>
#include <mm/os.h>
#include <mm/superslab/superslab.h>

#define PURGE_STACK_BYTES (64 * 1024)

static void *purge_thread(void *arg)
{
	for (;;) {
		uint64_t decay = hak_option(OPT_DECAY_MS);

		os_sleep_ms(decay / 2 ? decay / 2 : 1);
		decay_run(0);
	}
	return arg;
}

void decay_start_purge_thread(void)
{
	pthread_t t;
	pthread_attr_t attr;

	if (pthread_attr_init(&attr))
		return;
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, PURGE_STACK_BYTES);
	pthread_create(&t, &attr, purge_thread, NULL);
	pthread_attr_destroy(&attr);
}
