/*
 * The exec family: execvp, execvpe, execl, execlp, execle, execveat,
 * fexecve, and the full way of execve and execv (exec_fast.c).
 *
 * Every hook decides through the guard, then calls the real libc function
 * (resolved once by the constructor) with the caller's argv and an
 * environment that carries our LD_PRELOAD and EXECGUARD_* values. The
 * p-variants resolve PATH as glibc does only to tell the engine the real
 * executable; the real execvpe still does the search (and its ENOEXEC
 * script fallback). On the allow path errno is untouched and the caller's
 * envp pointer is passed as is when nothing needs re-injecting.
 *
 * Hook-path rules: no malloc, no stdio, no locks; stack only (alloca for
 * the execl argument vector, bounded, as glibc itself does).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "errno_fast.h"
#include "exec_fast.h"
#include "guard.h"
#include "path_search.h"
#include "preload.h"
#include "refuse.h"
#include "hot_text.h"
#include "sys_direct.h"

extern char **environ;

/* More execl arguments than this are refused (fail closed) rather than put
 * on the stack. ARG_MAX allows about 230000 one-byte arguments. */
#define EXECL_MAX_ARGS 65536

enum kind { K_EXECVE, K_EXECVPE, K_EXECVEAT, K_FEXECVE };

struct call {
	enum kind kind;
	const char *path; /* execve, execveat: path; execvpe: file */
	int fd;           /* execveat: dirfd; fexecve: fd */
	int flags;        /* execveat */
	char *const *argv;
	char *const *envp;
};

EG_HIDDEN void eg_refuse_env_not_built(char *const argv[])
{
	char cmd[EG_CMDLINE_MAX];
	size_t n = eg_env_count(argv, 4095); /* a NULL-terminated list, up to 4096 */
	eg_quote_argv(cmd, sizeof cmd, (const char *const *)argv, n);
	eg_refuse_message(cmd, NULL, NULL, NULL, EG_WHY_ENV,
	    "it is larger than 512 KiB, or another thread kept rewriting it while the "
	    "command started");
}


EG_HOT_TEXT static int call_real(const struct call *c, char *const *envp)
{
	switch (c->kind) {
	case K_EXECVE:
		if (eg_real.execve)
			return eg_real.execve(c->path, c->argv, envp);
		break;
	case K_EXECVPE:
		if (eg_real.execvpe)
			return eg_real.execvpe(c->path, c->argv, envp);
		break;
	case K_EXECVEAT:
		if (eg_real.execveat)
			return eg_real.execveat(c->fd, c->path, c->argv, envp, c->flags);
		break;
	case K_FEXECVE:
		if (eg_real.fexecve)
			return eg_real.fexecve(c->fd, c->argv, envp);
		break;
	}
	errno = ENOSYS;
	return -1;
}

/* Decide, then run the real call with our environment. */
EG_HOT_TEXT static int decide_and_exec(const struct call *c, const struct eg_guard_req *req)
{
	switch (eg_guard_decide(req)) {
	case EG_GUARD_GO:
	case EG_GUARD_DEFER:
		break;
	case EG_GUARD_REFUSED:
		errno = EACCES;
		return -1;
	case EG_GUARD_NOEXEC:
		return -1; /* errno as the real call would set it */
	}

	char *const *envp;
	EG_INJECT_ENV(c->envp, envp);
	if (!envp) {
		eg_refuse_env_not_built(c->argv);
		errno = EACCES;
		return -1;
	}
	return call_real(c, envp);
}


/* Any exec: find the executable (PATH, a directory fd, a symlink's target)
 * with path buffers on this frame. */
__attribute__((noinline)) EG_HOT_TEXT static int guarded_exec_resolving(const struct call *c)
{
	int *err = eg_errno_loc(), saved = *err;
	char exe_buf[PATH_MAX + NAME_MAX + 2];
	struct eg_guard_req req = {
		.argv = c->argv,
		.envp = c->envp,
		.route = EG_ROUTE_EXEC,
		.check_dirfd = AT_FDCWD,
	};

	switch (c->kind) {
	case K_EXECVE:
		req.exe_path = c->path;
		req.flags |= EG_GUARD_CHECK_EXE;
		break;
	case K_EXECVPE:
		/* glibc searches the PATH of the current environment, not envp */
		if (eg_path_search(c->path, eg_env_get(environ, "PATH"), exe_buf, sizeof exe_buf) == 0) {
			req.exe_path = exe_buf;
			req.flags |= EG_GUARD_CHECK_EXE;
		} else {
			req.missing_errno = errno ? errno : ENOENT;
		}
		break;
	case K_EXECVEAT:
		if (c->path && c->path[0] == '/') {
			req.exe_path = c->path;
			req.flags |= EG_GUARD_CHECK_EXE;
		} else if (c->path && c->path[0] == '\0' && (c->flags & AT_EMPTY_PATH)) {
			if (eg_fd_path(c->fd, exe_buf, sizeof exe_buf))
				req.exe_path = exe_buf;
		} else if (c->path && c->fd == AT_FDCWD) {
			req.exe_path = c->path;
			req.flags |= EG_GUARD_CHECK_EXE;
		} else if (c->path) {
			req.check_path = c->path;
			req.check_dirfd = c->fd;
			req.flags |= EG_GUARD_CHECK_EXE;
			if (eg_fd_path(c->fd, exe_buf, sizeof exe_buf)) {
				size_t l = strlen(exe_buf), pl = strlen(c->path);
				if (l + 1 + pl < sizeof exe_buf) {
					exe_buf[l] = '/';
					memcpy(exe_buf + l + 1, c->path, pl + 1);
					req.exe_path = exe_buf;
				}
			}
			if (!req.exe_path)
				req.exe_path = c->path;
		}
		break;
	case K_FEXECVE:
		if (eg_fd_path(c->fd, exe_buf, sizeof exe_buf))
			req.exe_path = exe_buf;
		break;
	}
	/* a symlink with another name is checked by its target's name too */
	char real_buf[PATH_MAX];
	if (req.exe_path && c->kind != K_FEXECVE && !(c->kind == K_EXECVEAT && req.exe_path == exe_buf &&
	    !req.check_path))
		req.exe_path = eg_exe_resolve(req.exe_path, real_buf, sizeof real_buf, &req.check_flags);
	eg_errno_restore(err, saved);
	return decide_and_exec(c, &req);
}

/* execve of `exe`, the path with its symlink resolved (check_flags
 * EG_CHECK_EXE_RESOLVED) or not */
EG_HOT_TEXT static inline int decide_execve(const struct call *c, const char *exe, unsigned check_flags)
{
	struct eg_guard_req req = {
		.argv = c->argv,
		.envp = c->envp,
		.route = EG_ROUTE_EXEC,
		.check_dirfd = AT_FDCWD,
		.exe_path = exe,
		.check_flags = check_flags,
		.flags = EG_GUARD_CHECK_EXE,
	};
	return decide_and_exec(c, &req);
}

/* execve of a symlink (python3 -> python3.11), checked by its target's
 * name too, with one path buffer on this frame, not guarded_exec_resolving's
 * two. */
__attribute__((noinline)) EG_HOT_TEXT static int guarded_execve_link(const struct call *c)
{
	char real_buf[PATH_MAX];
	unsigned check_flags = 0;
	const char *exe = eg_link_resolve(c->path, real_buf, sizeof real_buf, &check_flags);
	return decide_execve(c, exe, check_flags);
}

EG_HOT_TEXT static int guarded_exec(const struct call *c)
{
	eg_preload_ensure_init();
	/* execve, the common case, without the path buffers of the other
	 * calls: in a fork child each stack page the hook reaches is a page
	 * fault. lstat made directly leaves errno alone. */
	struct stat st;
	if (c->kind == K_EXECVE && c->path && c->path[0] && eg_sys_lstat(c->path, &st) == 0)
		return S_ISLNK(st.st_mode) ? guarded_execve_link(c)
					   : decide_execve(c, c->path, EG_CHECK_EXE_RESOLVED);
	return guarded_exec_resolving(c);
}

/* execve and execv the full way (their fast way is exec_fast.c's) */
__attribute__((noinline)) EG_HOT_TEXT int eg_execve_guarded(const char *path, char *const argv[],
    char *const envp[])
{
	struct call c = { .kind = K_EXECVE, .path = path, .argv = argv, .envp = envp };
	return guarded_exec(&c);
}

EG_EXPORT EG_HOT_TEXT int execvpe(const char *file, char *const argv[], char *const envp[])
{
	struct call c = { .kind = K_EXECVPE, .path = file, .argv = argv, .envp = envp };
	return guarded_exec(&c);
}

EG_EXPORT EG_HOT_TEXT int execvp(const char *file, char *const argv[])
{
	struct call c = { .kind = K_EXECVPE, .path = file, .argv = argv, .envp = environ };
	return guarded_exec(&c);
}

EG_EXPORT EG_HOT_TEXT int execveat(int dirfd, const char *path, char *const argv[], char *const envp[],
    int flags)
{
	struct call c = { .kind = K_EXECVEAT, .path = path, .fd = dirfd, .flags = flags,
		.argv = argv, .envp = envp };
	return guarded_exec(&c);
}

EG_EXPORT EG_HOT_TEXT int fexecve(int fd, char *const argv[], char *const envp[])
{
	struct call c = { .kind = K_FEXECVE, .fd = fd, .argv = argv, .envp = envp };
	return guarded_exec(&c);
}

/* ------------------------------------------------------------ execl family
 *
 * Collected as glibc does (count, then an array on the stack), with a bound:
 * more than EXECL_MAX_ARGS arguments are refused, fail closed. */

static int too_many_args(const char *arg0)
{
	eg_preload_ensure_init();
	char *argv[3] = { (char *)(arg0 ? arg0 : ""), (char *)"...", NULL };
	struct eg_guard_req req = {
		.argv = argv,
		.route = EG_ROUTE_EXEC,
		.pre_fail = EG_FAIL_TOO_BIG,
		.check_dirfd = AT_FDCWD,
	};
	(void)eg_guard_decide(&req);
	errno = EACCES;
	return -1;
}

/* The execl family: count the arguments (bounded), copy them into an argv
 * on this stack frame, and take execle's envp from after the NULL. */
static int execl_common(enum kind kind, const char *path, const char *arg, va_list ap,
    bool has_envp)
{
	va_list count;
	va_copy(count, ap);
	size_t argc = 1;
	while (va_arg(count, const char *) != NULL && argc <= EXECL_MAX_ARGS)
		argc++;
	va_end(count);
	if (argc > EXECL_MAX_ARGS)
		return too_many_args(arg);
	char **argv = __builtin_alloca((argc + 1) * sizeof(char *));
	argv[0] = (char *)arg;
	for (size_t i = 1; i <= argc; i++)
		argv[i] = va_arg(ap, char *);
	char *const *envp = has_envp ? va_arg(ap, char *const *) : environ;
	struct call c = { .kind = kind, .path = path, .argv = argv, .envp = envp };
	return guarded_exec(&c);
}

EG_EXPORT int execl(const char *path, const char *arg, ...)
{
	va_list ap;
	va_start(ap, arg);
	int r = execl_common(K_EXECVE, path, arg, ap, false);
	va_end(ap);
	return r;
}

EG_EXPORT int execlp(const char *file, const char *arg, ...)
{
	va_list ap;
	va_start(ap, arg);
	int r = execl_common(K_EXECVPE, file, arg, ap, false);
	va_end(ap);
	return r;
}

EG_EXPORT int execle(const char *path, const char *arg, ...)
{
	va_list ap;
	va_start(ap, arg);
	int r = execl_common(K_EXECVE, path, arg, ap, true);
	va_end(ap);
	return r;
}
