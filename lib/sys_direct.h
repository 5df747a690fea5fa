/*
 * System calls made without libc's wrappers, for the few the exec hooks
 * make on every exec. In a fork child each libc text page a hook touches is
 * a page fault (fork does not copy the page tables of file mappings), which
 * costs more than the call itself; these touch no page but the hook's own.
 * They return the raw result (-errno on failure) and leave errno alone.
 * Internal to lib/.
 */
#ifndef EG_SYS_DIRECT_H
#define EG_SYS_DIRECT_H

#include <fcntl.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "hot_text.h"

#if defined(__x86_64__)
EG_HOT_INLINE long eg_sys6(long n, long a, long b, long c, long d, long e, long f)
{
	long ret;
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}
#else
#include <errno.h>
EG_HOT_INLINE long eg_sys6(long n, long a, long b, long c, long d, long e, long f)
{
	int saved = errno;
	long r = syscall(n, a, b, c, d, e, f);
	if (r < 0)
		r = -errno;
	errno = saved;
	return r;
}
#endif

EG_HOT_INLINE long eg_sys4(long n, long a, long b, long c, long d)
{
	return eg_sys6(n, a, b, c, d, 0, 0);
}

/* lstat(path, st): 0 or -errno */
EG_HOT_INLINE long eg_sys_lstat(const char *path, struct stat *st)
{
	return eg_sys4(SYS_newfstatat, AT_FDCWD, (long)path, (long)st, AT_SYMLINK_NOFOLLOW);
}

/* open(path, flags): fd or -errno */
EG_HOT_INLINE long eg_sys_open(const char *path, int flags)
{
	return eg_sys4(SYS_openat, AT_FDCWD, (long)path, flags, 0);
}

EG_HOT_INLINE long eg_sys_fstat(int fd, struct stat *st)
{
	return eg_sys4(SYS_fstat, fd, (long)st, 0, 0);
}

EG_HOT_INLINE long eg_sys_close(int fd)
{
	return eg_sys4(SYS_close, fd, 0, 0, 0);
}

/* mmap: the address, or -errno (a value in [-4095, -1]) */
EG_HOT_INLINE long eg_sys_mmap(void *addr, size_t len, int prot, int flags, int fd, long off)
{
	return eg_sys6(SYS_mmap, (long)addr, (long)len, prot, flags, fd, off);
}

EG_HOT_INLINE long eg_sys_madvise(void *addr, size_t len, int advice)
{
	return eg_sys4(SYS_madvise, (long)addr, (long)len, advice, 0);
}

#endif
