// SPDX-License-Identifier: MIT
/*
 * OS layer implementation; the contract is in mm/os.h.  The only file that
 * calls mmap, munmap, madvise, mprotect, mremap, write, futex or reads
 * /proc, and that starts a thread (the purge thread's).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <sched.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <linux/futex.h>
#include <time.h>
#include <unistd.h>

#include <asm/cycles.h>
#include <asm/page.h>
#include <hakmem/kconfig.h>
#include <lib/fmt.h>
#include <mm/internal.h>
#include <mm/os.h>

static size_t page_size = ARCH_MIN_PAGE_SIZE;

int os_init(void)
{
	unsigned long ps = getauxval(AT_PAGESZ);

	if (ps == 0) {
		long v = sysconf(_SC_PAGESIZE);

		ps = v > 0 ? (unsigned long)v : ARCH_MIN_PAGE_SIZE;
	}
	if (ps > ARCH_MAX_PAGE_SIZE || (ps & (ps - 1)) != 0) {
		char buf[160];
		struct fmt_buf b = { buf, sizeof(buf), 0 };

		fmt_str(&b, "hakmem: kernel page size ");
		fmt_u64(&b, ps);
		fmt_str(&b, " is larger than this build supports (");
		fmt_u64(&b, ARCH_MAX_PAGE_SIZE);
		fmt_str(&b, "); rebuild with a larger ARM64 page size\n");
		os_write_stderr(buf, b.len);
		return EINVAL;
	}
	page_size = ps;
	return 0;
}

size_t os_page_size(void)
{
	return page_size;
}

static void check_aligned(const void *addr, size_t size)
{
	if (unlikely(((uintptr_t)addr | size) & (page_size - 1)))
		hak_fatal("misaligned os call", addr);
}

int os_map(size_t size, void **out)
{
	void *p;

	check_aligned(0, size);
	p = mmap(0, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return errno ? errno : ENOMEM;
	*out = p;
	return 0;
}

int os_map_aligned(size_t size, size_t align, size_t skew, void **out)
{
	size_t over = size + align;
	uintptr_t raw, base, end;
	void *p;
	int err;

	check_aligned(0, size);
	check_aligned(0, skew);
	if (over < size)
		return ENOMEM;
	err = os_map(over, &p);
	if (err)
		return err;
	raw = (uintptr_t)p;
	/* Smallest base >= raw with (base + skew) % align == 0. */
	base = ((raw + skew + align - 1) & ~(align - 1)) - skew;
	if (base < raw)
		base += align;
	end = base + size;
	if (base > raw)
		munmap(p, base - raw);
	if (raw + over > end)
		munmap((void *)end, raw + over - end);
	*out = (void *)base;
	return 0;
}

int os_reserve(size_t size, void **out)
{
	void *p;

	check_aligned(0, size);
	p = mmap(0, size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return errno ? errno : ENOMEM;
	*out = p;
	return 0;
}

int os_unmap(void *addr, size_t size)
{
	check_aligned(addr, size);
	return munmap(addr, size) ? errno : 0;
}

int os_decommit(void *addr, size_t size)
{
	check_aligned(addr, size);
	return madvise(addr, size, MADV_DONTNEED) ? errno : 0;
}

int os_hugepage(void *addr, size_t size)
{
	check_aligned(addr, size);
#ifdef MADV_HUGEPAGE
	return madvise(addr, size, MADV_HUGEPAGE) ? errno : 0;
#else
	return ENOSYS;
#endif
}

int os_protect_none(void *addr, size_t size)
{
	check_aligned(addr, size);
	return mprotect(addr, size, PROT_NONE) ? errno : 0;
}

int os_resize_in_place(void *addr, size_t old_size, size_t new_size)
{
	void *p;

	check_aligned(addr, old_size);
	check_aligned(0, new_size);
	p = mremap(addr, old_size, new_size, 0);
	if (p == MAP_FAILED)
		return errno ? errno : ENOMEM;
	return 0;
}

/* Where end-of-run reports go: stderr, or a copy of it (os_keep_stderr). */
static int report_fd = 2;

void os_keep_stderr(void)
{
	int fd = fcntl(2, F_DUPFD_CLOEXEC, 3);

	if (fd >= 0)
		report_fd = fd;
}

static void write_all(int fd, const char *msg, size_t len)
{
	while (len) {
		ssize_t n = write(fd, msg, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		msg += n;
		len -= (size_t)n;
	}
}

void os_write_stderr(const char *msg, size_t len)
{
	write_all(2, msg, len);
}

void os_write_report(const char *msg, size_t len)
{
	write_all(report_fd, msg, len);
}

int os_open_report(const char *path)
{
	int fd;

	do
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	while (fd < 0 && errno == EINTR);
	return fd < 0 ? -errno : fd;
}

void os_write_fd(int fd, const char *msg, size_t len)
{
	write_all(fd, msg, len);
}

void os_close(int fd)
{
	close(fd);
}

uint64_t os_pid(void)
{
	return (uint64_t)getpid();
}

uint64_t os_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void os_sleep_ms(uint64_t ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

void os_yield(void)
{
	sched_yield();
}

void os_wait(uint32_t *word, uint32_t val, uint64_t timeout_ms)
{
	struct timespec ts = { (time_t)(timeout_ms / 1000), (long)(timeout_ms % 1000) * 1000000L };

	/* EINTR, EAGAIN (the word changed) and ETIMEDOUT all just return. */
	syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, val, timeout_ms ? &ts : NULL, NULL, 0);
}

void os_wake(uint32_t *word)
{
	syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

int os_thread_start(void *(*fn)(void *), size_t stack_bytes)
{
	pthread_attr_t attr;
	sigset_t all, old;
	pthread_t t;
	int err;

	err = pthread_attr_init(&attr);
	if (err)
		return err;
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (stack_bytes >= (size_t)PTHREAD_STACK_MIN)
		pthread_attr_setstacksize(&attr, stack_bytes);
	/* The new thread inherits the mask in force at its creation. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&t, &attr, fn, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	return err;
}

int os_secure(void)
{
	return getauxval(AT_SECURE) != 0;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

uint64_t os_random(void)
{
	/* splitmix64 over a shared state seeded from the cycle counter;
	 * races only mix the sequence further. */
	uint64_t z = atomic_fetch_add_relaxed(&rng_state, 0x9e3779b97f4a7c15ULL) ^ get_cycles();

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

size_t os_rss_bytes(void)
{
	char buf[128];
	uint64_t pages = 0;
	ssize_t n;
	char *s;
	int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	s = strchr(buf, ' ');
	if (!s)
		return 0;
	for (s++; *s >= '0' && *s <= '9'; s++)
		pages = pages * 10 + (uint64_t)(*s - '0');
	return (size_t)pages * page_size;
}

#if IS_ENABLED(CONFIG_PROFILER)
/* The heap profiler's (mm/prof/): compiled out with it. */
int os_open_read(const char *path)
{
	int fd;

	do
		fd = open(path, O_RDONLY | O_CLOEXEC);
	while (fd < 0 && errno == EINTR);
	return fd < 0 ? -errno : fd;
}

long os_read(int fd, void *buf, size_t len)
{
	ssize_t n;

	do
		n = read(fd, buf, len);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : (long)n;
}

/* glibc's: the stack pointer the program started with (ld.so, or libc.a). */
extern void *__libc_stack_end;

/* A thread stack bigger than this is taken for a stack the thread is not on. */
#define STACK_TOP_MAX_DISTANCE ((uintptr_t)1 << 30)

uintptr_t os_stack_top(void)
{
	uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
	uintptr_t self = (uintptr_t)pthread_self();
	uintptr_t main_top = (uintptr_t)__libc_stack_end;

	/* A thread's struct pthread sits just above its stack; the main
	 * thread's lies elsewhere (ld.so's memory), below its stack. */
	if (self > sp && self - sp < STACK_TOP_MAX_DISTANCE)
		return self;
	if (main_top > sp && main_top - sp < STACK_TOP_MAX_DISTANCE)
		return main_top;
	return 0;
}
#endif
