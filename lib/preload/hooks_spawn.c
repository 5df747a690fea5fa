/*
 * posix_spawn and posix_spawnp, in both of glibc's symbol versions:
 *   posix_spawn@GLIBC_2.2.5  (compat: retries a ENOEXEC file through
 *                             /bin/sh, reports some errors differently)
 *   posix_spawn@@GLIBC_2.15  (current)
 * A binary linked against the old version calls our old-version hook, which
 * calls the real old version, so it keeps its old behaviour. The two hooks
 * of each function get their versions with .symver; libexecguard.map
 * defines the GLIBC_2.2.5 and GLIBC_2.15 nodes.
 *
 * posix_spawnp searches the PATH of the calling process's environment (as
 * glibc does), not the PATH in envp. A refusal returns EACCES and starts
 * nothing. The spawned child's own exec is done inside glibc and is not
 * hooked again, so each command is decided exactly once, here.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdbool.h>

#include "errno_fast.h"
#include "exec_fast.h"
#include "guard.h"
#include "path_search.h"
#include "preload.h"
#include "hot_text.h"

extern char **environ;

EG_HOT_TEXT static int guarded_spawn(bool use_path, bool compat, pid_t *pid, const char *path,
    const posix_spawn_file_actions_t *fa, const posix_spawnattr_t *attr, char *const argv[],
    char *const envp[])
{
	eg_preload_ensure_init();
	int *err = eg_errno_loc(), saved = *err;
	eg_posix_spawn_fn real = use_path ? (compat ? eg_real.posix_spawnp_compat : eg_real.posix_spawnp)
					  : (compat ? eg_real.posix_spawn_compat : eg_real.posix_spawn);
	char exe_buf[PATH_MAX + NAME_MAX + 2];
	bool unnamed = false;
	struct eg_guard_req req = {
		.unnamed = &unnamed,
		.argv = argv,
		.envp = envp,
		.route = EG_ROUTE_SPAWN,
		.check_dirfd = AT_FDCWD,
	};
	if (!use_path) {
		req.exe_path = path;
		req.flags |= EG_GUARD_CHECK_EXE;
	} else if (eg_path_search(path, eg_env_get(environ, "PATH"), exe_buf, sizeof exe_buf) == 0) {
		req.exe_path = exe_buf;
		req.flags |= EG_GUARD_CHECK_EXE;
	} else {
		req.missing_errno = errno ? errno : ENOENT;
	}
	/* the usual spawn: a program no rule names, not a symlink, with the
	 * environment as ours would make it (exec_fast.h) */
	if (real && req.exe_path && eg_exec_fast_may(req.exe_path, argv, envp)) {
		eg_preload_before_spawn();
		eg_errno_restore(err, saved);
		return real(pid, path, fa, attr, argv, envp);
	}
	char real_buf[PATH_MAX];
	if (req.exe_path)
		req.exe_path = eg_exe_resolve(req.exe_path, real_buf, sizeof real_buf, &req.check_flags);
	eg_errno_restore(err, saved);

	switch (eg_guard_decide(&req)) {
	case EG_GUARD_GO:
		/* the fast way for the next spawns of this process, prepared
		 * after one of a program no rule names: a process that spawns
		 * only named ones never reads what that takes */
		if (unnamed)
			eg_exec_fast_prepare();
		break;
	case EG_GUARD_DEFER:
		break;
	case EG_GUARD_REFUSED:
		eg_errno_restore(err, saved);
		return EACCES;
	case EG_GUARD_NOEXEC: {
		int e = *err;
		eg_errno_restore(err, saved);
		return e;
	}
	}

	char *const *env;
	EG_INJECT_ENV(envp, env);
	if (!env) {
		eg_refuse_env_not_built(argv);
		return EACCES;
	}
	if (!real)
		return ENOSYS;
	eg_preload_before_spawn();
	return real(pid, path, fa, attr, argv, env);
}

EG_EXPORT EG_HOT_TEXT int eg_posix_spawn_2_15(pid_t *pid, const char *path,
    const posix_spawn_file_actions_t *fa, const posix_spawnattr_t *attr, char *const argv[],
    char *const envp[]);
EG_EXPORT EG_HOT_TEXT int eg_posix_spawn_2_2_5(pid_t *pid, const char *path,
    const posix_spawn_file_actions_t *fa, const posix_spawnattr_t *attr, char *const argv[],
    char *const envp[]);
EG_EXPORT EG_HOT_TEXT int eg_posix_spawnp_2_15(pid_t *pid, const char *file,
    const posix_spawn_file_actions_t *fa, const posix_spawnattr_t *attr, char *const argv[],
    char *const envp[]);
EG_EXPORT EG_HOT_TEXT int eg_posix_spawnp_2_2_5(pid_t *pid, const char *file,
    const posix_spawn_file_actions_t *fa, const posix_spawnattr_t *attr, char *const argv[],
    char *const envp[]);

__asm__(".symver eg_posix_spawn_2_15, posix_spawn@@GLIBC_2.15");
__asm__(".symver eg_posix_spawn_2_2_5, posix_spawn@GLIBC_2.2.5");
__asm__(".symver eg_posix_spawnp_2_15, posix_spawnp@@GLIBC_2.15");
__asm__(".symver eg_posix_spawnp_2_2_5, posix_spawnp@GLIBC_2.2.5");

EG_EXPORT EG_HOT_TEXT int eg_posix_spawn_2_15(pid_t *pid, const char *path,
    const posix_spawn_file_actions_t *fa, const posix_spawnattr_t *attr, char *const argv[],
    char *const envp[])
{
	return guarded_spawn(false, false, pid, path, fa, attr, argv, envp);
}

EG_EXPORT EG_HOT_TEXT int eg_posix_spawn_2_2_5(pid_t *pid, const char *path,
    const posix_spawn_file_actions_t *fa, const posix_spawnattr_t *attr, char *const argv[],
    char *const envp[])
{
	return guarded_spawn(false, true, pid, path, fa, attr, argv, envp);
}

EG_EXPORT EG_HOT_TEXT int eg_posix_spawnp_2_15(pid_t *pid, const char *file,
    const posix_spawn_file_actions_t *fa, const posix_spawnattr_t *attr, char *const argv[],
    char *const envp[])
{
	return guarded_spawn(true, false, pid, file, fa, attr, argv, envp);
}

EG_EXPORT EG_HOT_TEXT int eg_posix_spawnp_2_2_5(pid_t *pid, const char *file,
    const posix_spawn_file_actions_t *fa, const posix_spawnattr_t *attr, char *const argv[],
    char *const envp[])
{
	return guarded_spawn(true, true, pid, file, fa, attr, argv, envp);
}
