/* SPDX-License-Identifier: MIT */
/*
 * OS layer: the only code that talks to the kernel about memory.
 *
 * Contract:
 *  - Every address and length passed in is a multiple of the run-time page
 *    size; each function checks this itself and aborts with
 *    "hakmem: misaligned os call <addr>" otherwise (emulators accept
 *    misaligned calls that a real 64 KiB-page kernel rejects).
 *  - Functions return an int: 0 on success, else an errno value.  They
 *    never set errno for the caller's benefit and never allocate.
 *  - Memory from os_map*() is zero-filled.  Memory after os_decommit() is
 *    *not* assumed to be zero by callers (calloc zeroes it again).
 *  - os_now_ms() is the only clock read; it is called on slow paths only.
 *    (The arch cycle counter, asm/cycles.h, is no syscall: CONFIG_DEBUG_TRACE
 *    reads it on the hot path, the one box allowed to, and
 *    CONFIG_LOCK_STATS around a contended lock wait.)
 */
#ifndef HAKMEM_MM_OS_H
#define HAKMEM_MM_OS_H

#include <stddef.h>
#include <stdint.h>

/* Reads the page size; fails (with a message) when the kernel's page is
 * larger than this build supports. */
int os_init(void);
size_t os_page_size(void);

int os_map(size_t size, void **out);
/* A mapping of `size` bytes whose address plus `skew` is a multiple of
 * `align` (a power of two, at least the page size). */
int os_map_aligned(size_t size, size_t align, size_t skew, void **out);
/* Address space only: reserved, lazily backed, not counted against
 * overcommit (the registry). */
int os_reserve(size_t size, void **out);
int os_unmap(void *addr, size_t size);
int os_decommit(void *addr, size_t size);
int os_hugepage(void *addr, size_t size);
int os_protect_none(void *addr, size_t size);
/* Grows or shrinks a mapping in place (no MREMAP_MAYMOVE); ENOMEM when
 * the address space after it is taken. */
int os_resize_in_place(void *addr, size_t old_size, size_t new_size);

void os_write_stderr(const char *msg, size_t len);
/*
 * Keeps a copy of stderr for the statistics printed at exit: some programs
 * (coreutils among them) close fd 2 before exit handlers run.
 */
void os_keep_stderr(void);
void os_write_report(const char *msg, size_t len);
/*
 * A file an option names, for writing: created with mode 0600 or
 * truncated, never through a symbolic link (O_NOFOLLOW), closed on exec.
 * The fd, or a negative errno value.
 */
int os_open_report(const char *path);
void os_write_fd(int fd, const char *msg, size_t len);
void os_close(int fd);
uint64_t os_pid(void);
uint64_t os_now_ms(void);
void os_sleep_ms(uint64_t ms);
/* Gives up the CPU (sched_yield). */
void os_yield(void);
/*
 * Futex wait and wake on a 32-bit word: os_wait sleeps while *word == val,
 * until os_wake(word) or `timeout_ms` (0: no timeout) passes; it returns at
 * once when the word differs, and may return early (callers loop).
 */
void os_wait(uint32_t *word, uint32_t val, uint64_t timeout_ms);
void os_wake(uint32_t *word);
/*
 * Starts a detached thread running fn(NULL) on a stack of `stack_bytes`,
 * with every signal blocked (a signal meant for the program never lands
 * on it); the caller's signal mask is left as it was.
 */
int os_thread_start(void *(*fn)(void *), size_t stack_bytes);
/* Whether the program runs with privileges its caller lacks (setuid,
 * setgid, capabilities: AT_SECURE), so the environment is not to be
 * trusted. */
int os_secure(void);
/* 64 random bits, for keys and carve orders (no syscall, no lock). */
uint64_t os_random(void);
/*
 * The top of the calling thread's stack (above its frames), found without
 * allocating: the main thread's from __libc_stack_end, another thread's
 * from its thread descriptor, which glibc keeps at the top of the thread's
 * stack block.  0 when the current stack lies in neither (a stack the
 * program switched to).
 */
uintptr_t os_stack_top(void);
/* A file for reading (O_RDONLY, O_CLOEXEC): the fd, or a negative errno
 * value; os_read reads up to len bytes: the count, 0 at the end, or a
 * negative errno value. */
int os_open_read(const char *path);
long os_read(int fd, void *buf, size_t len);
/* Resident set size of the process in bytes, or 0 if unknown. */
size_t os_rss_bytes(void);

#endif
