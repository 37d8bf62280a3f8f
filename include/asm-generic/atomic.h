/* SPDX-License-Identifier: MIT */
/*
 * Atomics with the memory order in their names, on the compiler's __atomic
 * builtins.  An architecture includes this after defining anything it
 * wants to do differently (each name is guarded by #ifndef).
 *
 * The orders used by hakmem:
 *   relaxed  - counters and hints that only need atomicity
 *   acquire  - reading a pointer published by another thread
 *   release  - publishing a pointer (its target is fully written)
 *   acq_rel  - read-modify-write that both consumes and publishes
 */
#ifndef HAKMEM_ASM_GENERIC_ATOMIC_H
#define HAKMEM_ASM_GENERIC_ATOMIC_H

#ifndef atomic_load_relaxed
#define atomic_load_relaxed(p)     __atomic_load_n((p), __ATOMIC_RELAXED)
#endif
#ifndef atomic_load_acquire
#define atomic_load_acquire(p)     __atomic_load_n((p), __ATOMIC_ACQUIRE)
#endif
#ifndef atomic_store_relaxed
#define atomic_store_relaxed(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#endif
#ifndef atomic_store_release
#define atomic_store_release(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#endif
/* Strong compare-and-swap: true when *p was *expected and is now v; else
 * *expected receives the current value. */
#ifndef atomic_cas_acq_rel
#define atomic_cas_acq_rel(p, expected, v)                                    \
	__atomic_compare_exchange_n((p), (expected), (v), 0, __ATOMIC_ACQ_REL, \
				    __ATOMIC_ACQUIRE)
#endif
#ifndef atomic_cas_release
#define atomic_cas_release(p, expected, v)                                    \
	__atomic_compare_exchange_n((p), (expected), (v), 0, __ATOMIC_RELEASE, \
				    __ATOMIC_RELAXED)
#endif
#ifndef atomic_cas_weak_release
#define atomic_cas_weak_release(p, expected, v)                               \
	__atomic_compare_exchange_n((p), (expected), (v), 1, __ATOMIC_RELEASE, \
				    __ATOMIC_RELAXED)
#endif
#ifndef atomic_exchange_acquire
#define atomic_exchange_acquire(p, v) __atomic_exchange_n((p), (v), __ATOMIC_ACQUIRE)
#endif
#ifndef atomic_exchange_acq_rel
#define atomic_exchange_acq_rel(p, v) __atomic_exchange_n((p), (v), __ATOMIC_ACQ_REL)
#endif
#ifndef atomic_fetch_add_relaxed
#define atomic_fetch_add_relaxed(p, v) __atomic_fetch_add((p), (v), __ATOMIC_RELAXED)
#endif
#ifndef atomic_fetch_add_acq_rel
#define atomic_fetch_add_acq_rel(p, v) __atomic_fetch_add((p), (v), __ATOMIC_ACQ_REL)
#endif
#ifndef atomic_fetch_sub_acq_rel
#define atomic_fetch_sub_acq_rel(p, v) __atomic_fetch_sub((p), (v), __ATOMIC_ACQ_REL)
#endif
#ifndef atomic_fetch_or_acq_rel
#define atomic_fetch_or_acq_rel(p, v) __atomic_fetch_or((p), (v), __ATOMIC_ACQ_REL)
#endif
#ifndef atomic_fetch_and_acq_rel
#define atomic_fetch_and_acq_rel(p, v) __atomic_fetch_and((p), (v), __ATOMIC_ACQ_REL)
#endif
#ifndef atomic_thread_fence_seq_cst
#define atomic_thread_fence_seq_cst() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#endif

/*
 * A relaxed load the compiler may fold into the instruction that uses it
 * (an __atomic load is always a separate instruction): for an aligned word
 * of at most 8 bytes, which no supported CPU tears, read once by a single
 * compare on a fast path.  ThreadSanitizer builds use the atomic load so
 * that it still sees an atomic access.
 */
#ifndef load_relaxed_foldable
#ifdef __SANITIZE_THREAD__
#define load_relaxed_foldable(p) atomic_load_relaxed(p)
#else
#define load_relaxed_foldable(p)					\
	({								\
		_Static_assert(sizeof(*(p)) <= 8, "one aligned access"); \
		*(p);							\
	})
#endif
#endif

#endif
