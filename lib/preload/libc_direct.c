/*
 * The system-call wrappers the library uses, defined here (hidden) instead
 * of imported from libc. With -z now the loader binds every imported symbol
 * when the library is loaded, in every guarded process, whether the process
 * ever execs or not: each import is a symbol lookup through the global
 * scope (~700 instructions, and half the library's start-up work was
 * binding). These calls are plain system calls on Linux x86_64, so the
 * library's own code (and the PCRE2 and libbsd objects linked into it) is
 * bound to these at link time and the loader has fewer symbols to look up.
 *
 * Only the library's internal references bind here: nothing is exported
 * (hidden visibility, version script), so the host program and libc keep
 * libc's own functions. Semantics are libc's for our uses: -1 and errno on
 * failure. Not cancellation points (the hooks must not be cancelled half
 * way anyway). Left to libc: anything with more than a system call behind
 * it (signals, the vDSO clock, faccessat's fallbacks, the
 * posix_* calls that return an error number).
 */
#undef _FORTIFY_SOURCE /* these are the out-of-line definitions */
#undef _FILE_OFFSET_BITS /* define the *64 names themselves, as libc does */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "hot_text.h"
#include "sys_direct.h"

#if defined(__x86_64__)

#define EG_DIRECT __attribute__((visibility("hidden")))
/* The ones the constructor and a check use */
#define EG_DIRECT_HOT EG_DIRECT EG_HOT_TEXT

EG_HOT_TEXT static long ret(long r)
{
	if (r < 0 && r > -4096) {
		errno = (int)-r;
		return -1;
	}
	return r;
}

#define S0(n) ret(eg_sys6((n), 0, 0, 0, 0, 0, 0))
#define S1(n, a) ret(eg_sys6((n), (long)(a), 0, 0, 0, 0, 0))
#define S2(n, a, b) ret(eg_sys6((n), (long)(a), (long)(b), 0, 0, 0, 0))
#define S3(n, a, b, c) ret(eg_sys6((n), (long)(a), (long)(b), (long)(c), 0, 0, 0))
#define S4(n, a, b, c, d) ret(eg_sys6((n), (long)(a), (long)(b), (long)(c), (long)(d), 0, 0))
#define S5(n, a, b, c, d, e) ret(eg_sys6((n), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), 0))
#define S6(n, a, b, c, d, e, f) \
	ret(eg_sys6((n), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), (long)(f)))

EG_DIRECT_HOT ssize_t read(int fd, void *buf, size_t n) { return S3(SYS_read, fd, buf, n); }
EG_DIRECT ssize_t write(int fd, const void *buf, size_t n) { return S3(SYS_write, fd, buf, n); }
EG_DIRECT_HOT ssize_t pread64(int fd, void *buf, size_t n, off64_t off)
{
	return S4(SYS_pread64, fd, buf, n, off);
}
EG_DIRECT off64_t lseek64(int fd, off64_t off, int whence) { return S3(SYS_lseek, fd, off, whence); }
EG_DIRECT_HOT int close(int fd) { return (int)ret(eg_sys_close(fd)); }

EG_DIRECT_HOT int open64(const char *path, int flags, ...)
{
	mode_t mode = 0;
	if (flags & (O_CREAT | __O_TMPFILE)) {
		va_list ap;
		va_start(ap, flags);
		mode = va_arg(ap, mode_t);
		va_end(ap);
	}
	return (int)ret(eg_sys4(SYS_openat, AT_FDCWD, (long)path, flags | O_LARGEFILE, mode));
}

EG_DIRECT int fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	va_start(ap, cmd);
	long arg = va_arg(ap, long);
	va_end(ap);
	return (int)S3(SYS_fcntl, fd, cmd, arg);
}

EG_DIRECT int ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	va_start(ap, req);
	void *arg = va_arg(ap, void *);
	va_end(ap);
	return (int)S3(SYS_ioctl, fd, req, arg);
}

EG_DIRECT int prctl(int option, ...)
{
	va_list ap;
	va_start(ap, option);
	unsigned long a = va_arg(ap, unsigned long), b = va_arg(ap, unsigned long),
		      c = va_arg(ap, unsigned long), d = va_arg(ap, unsigned long);
	va_end(ap);
	return (int)S5(SYS_prctl, option, a, b, c, d);
}

EG_DIRECT_HOT int fstat64(int fd, struct stat64 *st) { return (int)ret(eg_sys_fstat(fd, (struct stat *)st)); }
EG_DIRECT_HOT int stat64(const char *path, struct stat64 *st)
{
	return (int)S4(SYS_newfstatat, AT_FDCWD, path, st, 0);
}
EG_DIRECT int lstat64(const char *path, struct stat64 *st)
{
	return (int)ret(eg_sys_lstat(path, (struct stat *)st));
}
EG_DIRECT int fstatfs64(int fd, struct statfs64 *st) { return (int)S2(SYS_fstatfs, fd, st); }
EG_DIRECT int ftruncate64(int fd, off64_t len) { return (int)S2(SYS_ftruncate, fd, len); }
EG_DIRECT int fdatasync(int fd) { return (int)S1(SYS_fdatasync, fd); }
EG_DIRECT int flock(int fd, int op) { return (int)S2(SYS_flock, fd, op); }
EG_DIRECT int fchmod(int fd, mode_t mode) { return (int)S2(SYS_fchmod, fd, mode); }

EG_HOT_TEXT static void *map(void *addr, size_t len, int prot, int flags, int fd, long off)
{
	long r = eg_sys_mmap(addr, len, prot, flags, fd, off);
	if (r < 0 && r > -4096) {
		errno = (int)-r;
		return MAP_FAILED;
	}
	return (void *)r;
}
EG_DIRECT_HOT void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	return map(addr, len, prot, flags, fd, off);
}
EG_DIRECT_HOT void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off64_t off)
{
	return map(addr, len, prot, flags, fd, off);
}
EG_DIRECT_HOT int munmap(void *addr, size_t len) { return (int)S2(SYS_munmap, addr, len); }
EG_DIRECT_HOT int madvise(void *addr, size_t len, int advice)
{
	return (int)ret(eg_sys_madvise(addr, len, advice));
}

EG_DIRECT int mkdir(const char *path, mode_t mode) { return (int)S3(SYS_mkdirat, AT_FDCWD, path, mode); }
EG_DIRECT int unlink(const char *path) { return (int)S3(SYS_unlinkat, AT_FDCWD, path, 0); }
EG_DIRECT int rename(const char *from, const char *to)
{
	return (int)S4(SYS_renameat, AT_FDCWD, from, AT_FDCWD, to);
}
/* With the caller's buffer, as glibc's: NULL and ERANGE when it is too
 * small, ENOENT for a directory outside the process's root (the kernel's
 * "(unreachable)"). Every full check asks (the rules' cwd conditions); a
 * lazy stub would look libc's getcwd up in a fork child, three pages of
 * libc's symbol tables and its code, a page fault each. Allocating (a NULL
 * buffer) is not ours to use: EINVAL. */
EG_DIRECT_HOT char *getcwd(char *buf, size_t size)
{
	if (buf == NULL) {
		errno = EINVAL;
		return NULL;
	}
	long r = S2(SYS_getcwd, buf, size);
	if (r < 0)
		return NULL;
	if (r == 0 || buf[0] != '/') {
		errno = ENOENT;
		return NULL;
	}
	return buf;
}

EG_DIRECT_HOT ssize_t readlink(const char *path, char *buf, size_t n)
{
	return S4(SYS_readlinkat, AT_FDCWD, path, buf, n);
}
EG_DIRECT ssize_t getxattr(const char *path, const char *name, void *val, size_t n)
{
	return S4(SYS_getxattr, path, name, val, n);
}

EG_DIRECT int pipe2(int fds[2], int flags) { return (int)S2(SYS_pipe2, fds, flags); }
EG_DIRECT int dup2(int from, int to) { return (int)S2(SYS_dup2, from, to); }
EG_DIRECT int poll(struct pollfd *fds, nfds_t n, int timeout) { return (int)S3(SYS_poll, fds, n, timeout); }
EG_DIRECT int nanosleep(const struct timespec *req, struct timespec *rem)
{
	return (int)S2(SYS_nanosleep, req, rem);
}

EG_DIRECT int socket(int domain, int type, int proto) { return (int)S3(SYS_socket, domain, type, proto); }
EG_DIRECT int connect(int fd, const struct sockaddr *a, socklen_t n) { return (int)S3(SYS_connect, fd, a, n); }
EG_DIRECT ssize_t send(int fd, const void *buf, size_t n, int flags)
{
	return S6(SYS_sendto, fd, buf, n, flags, 0, 0);
}
EG_DIRECT ssize_t sendmsg(int fd, const struct msghdr *m, int flags) { return S3(SYS_sendmsg, fd, m, flags); }
EG_DIRECT int getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	return (int)S5(SYS_getsockopt, fd, level, name, val, len);
}

EG_DIRECT_HOT pid_t getpid(void) { return (pid_t)S0(SYS_getpid); }
EG_DIRECT pid_t getppid(void) { return (pid_t)S0(SYS_getppid); }
EG_DIRECT_HOT uid_t getuid(void) { return (uid_t)S0(SYS_getuid); }
EG_DIRECT_HOT uid_t geteuid(void) { return (uid_t)S0(SYS_geteuid); }
EG_DIRECT_HOT gid_t getgid(void) { return (gid_t)S0(SYS_getgid); }
EG_DIRECT_HOT gid_t getegid(void) { return (gid_t)S0(SYS_getegid); }
EG_DIRECT pid_t getpgrp(void) { return (pid_t)S0(SYS_getpgrp); }
EG_DIRECT int setpgid(pid_t pid, pid_t pgid) { return (int)S2(SYS_setpgid, pid, pgid); }
EG_DIRECT pid_t setsid(void) { return (pid_t)S0(SYS_setsid); }
EG_DIRECT int kill(pid_t pid, int sig) { return (int)S2(SYS_kill, pid, sig); }

/* Where the PCRE2 objects' stack protector lands, as in glibc: say so and
 * abort, with SIGABRT unblocked; a handler that returns does not resume. */
EG_DIRECT __attribute__((noreturn)) void __stack_chk_fail(void);
EG_DIRECT __attribute__((noreturn)) void __stack_chk_fail(void)
{
	static const char msg[] = "*** stack smashing detected ***: terminated\n";
	(void)eg_sys6(SYS_write, 2, (long)msg, sizeof msg - 1, 0, 0, 0);
	unsigned long abrt = 1ul << (SIGABRT - 1);
	(void)eg_sys6(SYS_rt_sigprocmask, SIG_UNBLOCK, (long)&abrt, 0, sizeof abrt, 0, 0);
	(void)eg_sys6(SYS_tgkill, eg_sys6(SYS_getpid, 0, 0, 0, 0, 0, 0),
	    eg_sys6(SYS_gettid, 0, 0, 0, 0, 0, 0), SIGABRT, 0, 0, 0);
	for (;;)
		(void)eg_sys6(SYS_exit_group, 127, 0, 0, 0, 0, 0);
}

#endif
