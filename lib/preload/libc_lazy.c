/*
 * libc functions the library needs only off the common path (asking the
 * human, reading rule files, writing the audit log, error messages), bound
 * on their first call instead of by the loader in every guarded process.
 * With -z now every import is a symbol lookup (~700 instructions) when the
 * library is loaded, in each process, whether it ever asks a question or
 * not; most processes never do. Each function here is a hidden stub that,
 * the first time, finds the definition the loader would have bound (the
 * first one in the list of loaded objects, next_sym.c: a few reads, no
 * lock, safe in a vfork child) and then calls it. The GOT stays read-only:
 * the pointers live in .bss, written once.
 *
 * The allocator is bound the same way: the lookup finds the definition the
 * loader would bind (a malloc of the program's own, or of a library
 * preloaded before us, comes first), so memory from libc functions and
 * from these stubs is the same allocator's. The variadic functions go
 * through their va_list forms.
 *
 * Kept as ordinary imports: errno, environ and _r_debug (the constructor
 * reads them), and the stack protector's failure call.
 */
#undef _FORTIFY_SOURCE /* these are the out-of-line definitions */
#include <ctype.h>
#include <dirent.h>
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

#include "hot_text.h"
#include "next_sym.h"
#include "preload.h"

#if defined(__x86_64__)

extern EG_HIDDEN const struct link_map *eg_self_map;

/* Where the loader would have bound `name`; dlsym when the symbol tables
 * cannot tell (an IFUNC, an object without a GNU hash table, the
 * constructor not run yet). */
EG_HOT_TEXT static void *lazy_sym(const char *name)
{
	void *p = eg_scope_sym(eg_self_map, name);
	if (p == NULL)
		p = dlsym(RTLD_DEFAULT, name);
	if (p == NULL)
		__builtin_trap(); /* libc without it: nothing sane to call */
	return p;
}

/* For the dl* functions themselves: no dlsym to fall back on. */
static void *lazy_sym_dl(const char *name)
{
	void *p = eg_scope_sym(eg_self_map, name);
	if (p == NULL)
		__builtin_trap();
	return p;
}

/* The address of `name`, found by `resolve` once (a race resolves twice,
 * to the same address) and kept in a static of the stub's own. */
#define LAZY_FN(resolve, name)                                                 \
	({                                                                     \
		static void *fn_;                                              \
		void *f_ = __atomic_load_n(&fn_, __ATOMIC_RELAXED);            \
		if (f_ == NULL) {                                              \
			f_ = resolve(#name);                                   \
			__atomic_store_n(&fn_, f_, __ATOMIC_RELAXED);          \
		}                                                              \
		(__typeof__(&name))f_;                                         \
	})

/* The body of a stub: resolve once, then call. */
#define LAZY_CALL(name, ...) return LAZY_FN(lazy_sym, name)(__VA_ARGS__)
#define LAZY_CALL_DL(name, ...) return LAZY_FN(lazy_sym_dl, name)(__VA_ARGS__)

#define EG_LAZY __attribute__((visibility("hidden")))
/* The ones a check uses */
#define EG_LAZY_HOT EG_LAZY EG_HOT_TEXT

/* the allocator, and what returns its memory */
EG_LAZY void *malloc(size_t n) { LAZY_CALL(malloc, n); }
EG_LAZY void *calloc(size_t n, size_t size) { LAZY_CALL(calloc, n, size); }
EG_LAZY void *realloc(void *p, size_t n) { LAZY_CALL(realloc, p, n); }
EG_LAZY void free(void *p) { LAZY_CALL(free, p); }
EG_LAZY char *strdup(const char *s) { LAZY_CALL(strdup, s); }
EG_LAZY char *strndup(const char *s, size_t n) { LAZY_CALL(strndup, s, n); }
EG_LAZY char *realpath(const char *path, char *resolved) { LAZY_CALL(realpath, path, resolved); }

/* the printf family (messages, the audit record, the load error) */
EG_LAZY int vsnprintf(char *s, size_t n, const char *fmt, va_list ap) { LAZY_CALL(vsnprintf, s, n, fmt, ap); }
EG_LAZY int vasprintf(char **out, const char *fmt, va_list ap) { LAZY_CALL(vasprintf, out, fmt, ap); }
EG_LAZY int snprintf(char *s, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = vsnprintf(s, n, fmt, ap);
	va_end(ap);
	return r;
}
EG_LAZY int asprintf(char **out, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = vasprintf(out, fmt, ap);
	va_end(ap);
	return r;
}

/* ctype (PCRE2's pattern compiler, the rule parser) */
EG_LAZY const unsigned short **__ctype_b_loc(void) { LAZY_CALL(__ctype_b_loc); }
EG_LAZY const int32_t **__ctype_tolower_loc(void) { LAZY_CALL(__ctype_tolower_loc); }

/* system calls without a wrapper: syscall(2) takes up to six arguments
 * after the number, and passes on six whatever the caller gave, as here */
EG_LAZY long syscall(long nr, ...)
{
	va_list ap;
	va_start(ap, nr);
	long a = va_arg(ap, long), b = va_arg(ap, long), c = va_arg(ap, long);
	long d = va_arg(ap, long), e = va_arg(ap, long), f = va_arg(ap, long);
	va_end(ap);
	LAZY_CALL(syscall, nr, a, b, c, d, e, f);
}
EG_LAZY void _exit(int status)
{
	LAZY_FN(lazy_sym, _exit)(status);
	__builtin_unreachable();
}

/* the loader's own functions, for the fallbacks of next_sym.h */
EG_LAZY int dladdr1(const void *addr, Dl_info *info, void **extra, int flags)
{
	LAZY_CALL_DL(dladdr1, addr, info, extra, flags);
}
EG_LAZY void *dlsym(void *handle, const char *name) { LAZY_CALL_DL(dlsym, handle, name); }
EG_LAZY void *dlvsym(void *handle, const char *name, const char *version)
{
	LAZY_CALL_DL(dlvsym, handle, name, version);
}

/* the terminal (the question) */
EG_LAZY int tcgetattr(int fd, struct termios *t) { LAZY_CALL(tcgetattr, fd, t); }
EG_LAZY int tcsetattr(int fd, int act, const struct termios *t) { LAZY_CALL(tcsetattr, fd, act, t); }
EG_LAZY int tcflush(int fd, int q) { LAZY_CALL(tcflush, fd, q); }
EG_LAZY pid_t tcgetpgrp(int fd) { LAZY_CALL(tcgetpgrp, fd); }
EG_LAZY int isatty(int fd) { LAZY_CALL(isatty, fd); }

/* signals (the question, the approver) */
EG_LAZY int signalfd(int fd, const sigset_t *mask, int flags) { LAZY_CALL(signalfd, fd, mask, flags); }
EG_LAZY int sigpending(sigset_t *set) { LAZY_CALL(sigpending, set); }
EG_LAZY int sigprocmask(int how, const sigset_t *set, sigset_t *old) { LAZY_CALL(sigprocmask, how, set, old); }
EG_LAZY int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	LAZY_CALL(sigaction, sig, act, old);
}
EG_LAZY int sigemptyset(sigset_t *set) { LAZY_CALL(sigemptyset, set); }
EG_LAZY int sigaddset(sigset_t *set, int sig) { LAZY_CALL(sigaddset, set, sig); }
EG_LAZY int sigismember(const sigset_t *set, int sig) { LAZY_CALL(sigismember, set, sig); }

/* rule files, paths, users */
EG_LAZY DIR *opendir(const char *path) { LAZY_CALL(opendir, path); }
EG_LAZY struct dirent64 *readdir64(DIR *d) { LAZY_CALL(readdir64, d); }
EG_LAZY int closedir(DIR *d) { LAZY_CALL(closedir, d); }
EG_LAZY void qsort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	LAZY_CALL(qsort, base, n, size, cmp);
}
EG_LAZY int getpwuid_r(uid_t uid, struct passwd *pw, char *buf, size_t len, struct passwd **out)
{
	LAZY_CALL(getpwuid_r, uid, pw, buf, len, out);
}
EG_LAZY_HOT int faccessat(int dirfd, const char *path, int mode, int flags)
{
	LAZY_CALL(faccessat, dirfd, path, mode, flags);
}

/* messages, clocks, memory advice */
EG_LAZY char *strerror(int err) { LAZY_CALL(strerror, err); }
EG_LAZY const char *strerrorname_np(int err) { LAZY_CALL(strerrorname_np, err); }
EG_LAZY int clock_gettime(clockid_t clk, struct timespec *ts) { LAZY_CALL(clock_gettime, clk, ts); }
EG_LAZY long sysconf(int name) { LAZY_CALL(sysconf, name); }
EG_LAZY int posix_madvise(void *addr, size_t len, int advice) { LAZY_CALL(posix_madvise, addr, len, advice); }
EG_LAZY int posix_fadvise64(int fd, off64_t off, off64_t len, int advice)
{
	LAZY_CALL(posix_fadvise64, fd, off, len, advice);
}
EG_LAZY int pthread_mutex_lock(pthread_mutex_t *m) { LAZY_CALL(pthread_mutex_lock, m); }
EG_LAZY int pthread_mutex_unlock(pthread_mutex_t *m) { LAZY_CALL(pthread_mutex_unlock, m); }

#endif
