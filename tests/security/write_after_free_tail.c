/* SPDX-License-Identifier: MIT */
/*
 * Probe: write into a freed 64 B block past its first 16 bytes (the free
 * list's link and the double-free key stay intact), as a use-after-free
 * bug that writes a field of the object would, then malloc until the
 * block is handed out again.  Nothing the free list reads is touched, so
 * only a check of the freed block's contents (CONFIG_FREE_CHECK,
 * CONFIG_DEBUG_FILL) can see it: "detected" there, "ignored" elsewhere (the
 * heap stays sound; the new owner finds the write).
 */
#include "probe.h"

int main(void)
{
	unsigned char *p;

	probe_init();
	p = probe_free_sixteen(64);
	memset((unsigned char *)probe_launder(p) + 32, 0x5a, 32); /* the bad thing */
	probe_heap_check(64, PROBE_MAX_BATCH, NULL, 0, 0);
	probe_outcome("ignored", "write after free into %p + 32 went unseen", p);
}
