/*
 * Fault injection for test_hardening.sh: a preload library that makes memory
 * run out. Put it in LD_PRELOAD next to libexecguard.so; it interposes
 * malloc, calloc, realloc and mmap for the whole process:
 *   EG_FAIL_MALLOC_AFTER=N  the first N malloc/calloc/realloc calls succeed,
 *                           every later one fails with ENOMEM;
 *   EG_FAIL_MMAP_AFTER=N    likewise for anonymous or file mmap calls made
 *                           through the C library (the loader maps the
 *                           program and its libraries without them).
 * Counting starts with the first call, which may come before any
 * constructor runs; getenv does not allocate.
 */
/* Both mmap and mmap64 are defined below: no header renaming. */
#undef _FILE_OFFSET_BITS
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);

#define EXPORT __attribute__((visibility("default")))
EXPORT void *malloc(size_t n);
EXPORT void *calloc(size_t n, size_t m);
EXPORT void *realloc(void *p, size_t n);
EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);
EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off64_t off);

static long limit_of(const char *name)
{
	const char *v = getenv(name);
	if (v == NULL || *v == '\0')
		return -1;
	return strtol(v, NULL, 10);
}

static atomic_long n_malloc, n_mmap;

static int out_of(atomic_long *counter, const char *name)
{
	long lim = limit_of(name);
	long n = atomic_fetch_add(counter, 1);
	if (lim >= 0 && n >= lim) {
		errno = ENOMEM;
		return 1;
	}
	return 0;
}

void *malloc(size_t n)
{
	return out_of(&n_malloc, "EG_FAIL_MALLOC_AFTER") ? NULL : __libc_malloc(n);
}

void *calloc(size_t n, size_t m)
{
	return out_of(&n_malloc, "EG_FAIL_MALLOC_AFTER") ? NULL : __libc_calloc(n, m);
}

void *realloc(void *p, size_t n)
{
	return out_of(&n_malloc, "EG_FAIL_MALLOC_AFTER") ? NULL : __libc_realloc(p, n);
}

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	if (out_of(&n_mmap, "EG_FAIL_MMAP_AFTER"))
		return MAP_FAILED;
	return (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
}

void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off64_t off)
{
	return mmap(addr, len, prot, flags, fd, (off_t)off);
}
