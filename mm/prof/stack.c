// SPDX-License-Identifier: MIT
/*
 * The profiler's stack walk: frame records only, never an unwinder
 * (backtrace(), _Unwind_Backtrace and libunwind allocate or take locks).
 *
 * A record is read only when it lies in [fp, top - 2 words], at most
 * PROF_MAX_STACK below top, aligned to ARCH_FRAME_ALIGN, above the one
 * before it by at most PROF_MAX_FRAME: the
 * memory between the walk's own frame and the top of the thread's stack is
 * mapped, so a chain broken by code built without frame pointers (its
 * frame pointer register holding anything) ends the walk early or gives a
 * wrong frame, never a read outside the stack.
 */
#include <asm/processor.h>
#include <mm/prof/prof.h>

/* The largest step between two records taken for a frame, and the
 * deepest stack taken for one. */
#define PROF_MAX_FRAME ((uintptr_t)1 << 20)
#define PROF_MAX_STACK ((uintptr_t)1 << 30)
/* The ra of the entry point is looked for among the first records. */
#define PROF_RA_SEARCH 3

unsigned int prof_walk(uintptr_t fp, uintptr_t top, uintptr_t ra, uintptr_t *pc,
		       unsigned int max)
{
	uintptr_t walk[PROF_DEPTH + PROF_RA_SEARCH];
	unsigned int n = 0, k, from, i;

	while (n < max + PROF_RA_SEARCH && n < PROF_DEPTH + PROF_RA_SEARCH) {
		const uintptr_t *rec = (const uintptr_t *)fp;
		uintptr_t next, ret;

		if (fp & (ARCH_FRAME_ALIGN - 1) || fp >= top || top - fp < 2 * sizeof(uintptr_t) ||
		    top - fp > PROF_MAX_STACK)
			break;
		next = rec[0];
		ret = rec[1];
		if (ret < 4096)
			break;
		walk[n++] = ret;
		if (next <= fp || next - fp > PROF_MAX_FRAME)
			break;
		fp = next;
	}
	/*
	 * walk[0] returns into the entry point (or into its caller when the
	 * entry point tail-called the slow path).  An entry point with a
	 * frame record gives ra as walk[1]; one without gives none, and the
	 * record after walk[0] is its caller's: ra goes first, then.
	 */
	from = n;
	for (i = 0; i < n && i < PROF_RA_SEARCH; i++) {
		if (walk[i] == ra) {
			from = i;
			break;
		}
	}
	k = 0;
	if (from == n) {
		pc[k++] = ra;
		from = 1;
	}
	for (i = from; i < n && k < max; i++)
		pc[k++] = walk[i];
	return k;
}
