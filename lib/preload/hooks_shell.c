/*
 * system(3), popen(3) and wordexp(3) (command substitution).
 *
 * glibc 2.36 starts the shell for all three inside libc: system and popen
 * call the internal __posix_spawn of /bin/sh with __environ, wordexp forks
 * and calls the internal __execve. None of those pass through our hooks.
 * /bin/sh is dynamic, so when it gets our LD_PRELOAD the library sees every
 * command the shell then execs, exactly once. Hence the design:
 *
 * 1. The shell must be guarded: if the process's environ lacks our
 *    LD_PRELOAD entry or carries other EXECGUARD_* values than ours (the
 *    program unset or changed them), the real function is called with
 *    `environ` pointing, for the duration of the call, to a re-injected copy
 *    on our stack. (Another thread calling getenv at that moment sees the
 *    copy, whose strings are the same; only that tampered case pays.)
 *
 * 2. Before the shell starts, the string is checked in the parent as
 *    `sh -c STRING` with every wrapper and shell unwrapped, but without
 *    asking anyone (EG_GUARD_NO_ASK): refusals that need no human (a deny
 *    rule, fail-closed, or a confirm when no human can be asked: no
 *    terminal, background job) are reported here, so the contract's return
 *    values hold: system returns a status as if the shell exited 126,
 *    popen returns NULL with errno EACCES, wordexp returns WRDE_CMDSUB.
 *
 * 3. A confirm a human can answer is asked exactly once:
 *    - system, wordexp: by the guarded shell, when it execs the command
 *      (one question per command; every command of the string and of any
 *      script it runs stays guarded). A "no" makes the shell report exit
 *      126 ("Permission denied"), so system still returns 126.
 *    - popen: here, in the caller, showing the whole shell command, because
 *      popen must return NULL with EACCES when refused and the stream
 *      already exists once the shell runs. After "yes" the shell is still
 *      started guarded, with a marker (EG_APPROVED_VAR: our pid and the
 *      command's hash) that its library honours for that one process only:
 *      its confirm rules do not ask again, its deny rules still refuse, and
 *      every program it execs gets no marker and is guarded as usual.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guard.h"
#include "preload.h"

extern char **environ;

#define SHELL_PATH "/bin/sh"

/* Call `stmt` with environ replaced by `env` when it differs. */
#define WITH_ENVIRON(env, stmt) do { \
	if ((env) == environ) { \
		stmt; \
	} else { \
		char **_old = environ; \
		environ = (char **)(env); \
		stmt; \
		environ = _old; \
	} \
} while (0)

static enum eg_guard_verdict precheck(const char *str, enum eg_guard_route route, unsigned flags,
    bool *approved)
{
	char *argv[] = { (char *)"sh", (char *)"-c", (char *)str, NULL };
	struct eg_guard_req req = {
		.argv = argv,
		.envp = environ,
		.exe_path = SHELL_PATH,
		.check_flags = EG_CHECK_UNWRAP_ALL,
		.flags = flags | EG_GUARD_PRECHECK,
		.route = route,
		.check_dirfd = AT_FDCWD,
		.approved = approved,
	};
	return eg_guard_decide(&req);
}

EG_EXPORT int system(const char *line)
{
	eg_preload_ensure_init();
	if (!eg_real.system) {
		errno = ENOSYS;
		return -1;
	}
	if (!line)
		return eg_real.system(line); /* "is there a shell?" runs nothing */
	int saved = errno;
	if (precheck(line, EG_ROUTE_SYSTEM, EG_GUARD_NO_ASK, NULL) == EG_GUARD_REFUSED) {
		errno = saved;
		return W_EXITCODE(126, 0);
	}
	char *const *env;
	EG_INJECT_ENV(environ, env);
	if (!env) {
		char *argv[] = { (char *)"sh", (char *)"-c", (char *)line, NULL };
		eg_refuse_env_not_built(argv);
		return W_EXITCODE(126, 0);
	}
	eg_preload_before_spawn();
	int r;
	WITH_ENVIRON(env, r = eg_real.system(line));
	return r;
}

EG_EXPORT FILE *popen(const char *command, const char *mode)
{
	eg_preload_ensure_init();
	if (!eg_real.popen) {
		errno = ENOSYS;
		return NULL;
	}
	if (!command)
		return eg_real.popen(command, mode);
	bool approved = false;
	if (precheck(command, EG_ROUTE_POPEN, EG_GUARD_SHOW_TOP, &approved) == EG_GUARD_REFUSED) {
		errno = EACCES;
		return NULL;
	}
	char *const *env;
	EG_INJECT_ENV(environ, env);
	size_t n = eg_env_count(env, SIZE_MAX - 1);
	if (!env || (approved && (n + 2) * sizeof(char *) > EG_ENV_STACK_MAX)) {
		char *argv[] = { (char *)"sh", (char *)"-c", (char *)command, NULL };
		eg_refuse_env_not_built(argv);
		errno = EACCES;
		return NULL;
	}
	if (approved) {
		/* The shell stays guarded; the marker (first, so it is the one
		 * found) only keeps it from asking again what was just approved. */
		char marker[sizeof EG_APPROVED_VAR + 64];
		eg_approved_format(marker, (long)getpid(),
		    eg_approved_hash(EG_APPROVED_HASH_INIT, command, strlen(command)));
		char **with = __builtin_alloca((n + 2) * sizeof(char *));
		with[0] = marker;
		memcpy(with + 1, env, (n + 1) * sizeof(char *));
		env = with;
	}
	eg_preload_before_spawn();
	FILE *fp;
	WITH_ENVIRON(env, fp = eg_real.popen(command, mode));
	return fp;
}

EG_EXPORT int wordexp(const char *words, wordexp_t *we, int flags)
{
	eg_preload_ensure_init();
	if (!eg_real.wordexp)
		return WRDE_NOSPACE;
	if (!words || (flags & WRDE_NOCMD) || (!strstr(words, "$(") && !strchr(words, '`')))
		return eg_real.wordexp(words, we, flags);
	int saved = errno;
	if (precheck(words, EG_ROUTE_WORDEXP, EG_GUARD_NO_ASK, NULL) == EG_GUARD_REFUSED) {
		errno = saved;
		return WRDE_CMDSUB;
	}
	char *const *env;
	EG_INJECT_ENV(environ, env);
	if (!env) {
		char *argv[] = { (char *)"sh", (char *)"-c", (char *)words, NULL };
		eg_refuse_env_not_built(argv);
		return WRDE_CMDSUB;
	}
	int r;
	WITH_ENVIRON(env, r = eg_real.wordexp(words, we, flags));
	return r;
}
