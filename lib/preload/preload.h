/*
 * State of the preload library, filled once by its constructor and
 * read-only afterwards: the real libc functions, our own path, the
 * environment values to re-inject. Internal to libexecguard.so.
 */
#ifndef EG_PRELOAD_H
#define EG_PRELOAD_H

#include <spawn.h>
#include <stdio.h>
#include <wordexp.h>

#include "env_inject.h"

#define EG_HIDDEN __attribute__((visibility("hidden")))
#define EG_EXPORT __attribute__((visibility("default")))

typedef int (*eg_posix_spawn_fn)(pid_t *, const char *, const posix_spawn_file_actions_t *,
    const posix_spawnattr_t *, char *const[], char *const[]);

struct eg_real {
	int (*execve)(const char *, char *const[], char *const[]);
	int (*execveat)(int, const char *, char *const[], char *const[], int);
	int (*fexecve)(int, char *const[], char *const[]);
	int (*execvpe)(const char *, char *const[], char *const[]);
	eg_posix_spawn_fn posix_spawn;        /* posix_spawn@@GLIBC_2.15 */
	eg_posix_spawn_fn posix_spawn_compat; /* posix_spawn@GLIBC_2.2.5 */
	eg_posix_spawn_fn posix_spawnp;
	eg_posix_spawn_fn posix_spawnp_compat;
	int (*system)(const char *);
	FILE *(*popen)(const char *, const char *);
	int (*wordexp)(const char *, wordexp_t *, int);
	pid_t (*fork)(void);
};

extern EG_HIDDEN struct eg_real eg_real;
extern EG_HIDDEN struct eg_env_ours eg_ours;

/* Run the constructor now if it has not run yet (a hook called from an
 * earlier constructor). Idempotent. */
EG_HIDDEN void eg_preload_ensure_init(void);
/* fork's hook, after eg_preload_ensure_init: see preload_init.c. */
EG_HIDDEN void eg_preload_before_fork(void);
/* The spawning hooks', after their check: see preload_init.c. */
EG_HIDDEN void eg_preload_before_spawn(void);

/*
 * The environment to pass: the caller's envp, or a copy on the caller's
 * stack with our values re-injected. A macro because the storage must live
 * in the hook's own frame.
 *
 * envp is often the live environ of a process whose other threads may call
 * setenv meanwhile, which swaps entries' pointers (never the strings glibc
 * made: it keeps them all). So the pointers are taken once, into a
 * snapshot, and both passes read the snapshot: a child given a rebuilt
 * environment gets that of one moment, with the guard in it. (One given
 * envp as it is, nothing to change, gets what the kernel reads then, as on
 * the fast way: exec_fast.h. A NULL envp with nothing to add is passed as
 * an empty one, which is what the kernel makes of NULL.) A string
 * rewritten in place (putenv of a buffer the program changes) can still
 * differ between the passes; eg_env_build then says so and the passes are
 * tried again, EG_ENV_BUILD_TRIES times in all.
 *
 * `out` is NULL (fail closed) when the storage, all tries counted, would
 * pass EG_ENV_STACK_MAX bytes (an environment of more than that in
 * pointers), or when no try fitted.
 */
#define EG_INJECT_ENV(envp_in, out) do { \
	char *const *_in = (envp_in); \
	(out) = NULL; \
	size_t _n = eg_env_count(_in, EG_ENV_STACK_MAX / sizeof(char *)); \
	size_t _used = (_n + 1) * sizeof(char *); \
	if (_used > EG_ENV_STACK_MAX || eg_ours.overflow) \
		break; \
	char **_snap = __builtin_alloca(_used); \
	eg_env_snapshot(_in, _snap, _n); \
	for (int _try = 0; _try < EG_ENV_BUILD_TRIES; _try++) { \
		struct eg_env_need _need; \
		eg_env_measure(&eg_ours, _snap, &_need); \
		if (_need.unchanged) { \
			(out) = _in ? _in : _snap; \
			break; \
		} \
		_used += _need.n_ptrs * sizeof(char *) + _need.n_bytes; \
		if (_used > EG_ENV_STACK_MAX) \
			break; \
		char **_ptrs = __builtin_alloca(_need.n_ptrs * sizeof(char *)); \
		char *_bytes = __builtin_alloca(_need.n_bytes + 1); \
		(out) = eg_env_build(&eg_ours, _snap, &_need, _ptrs, _bytes); \
		if ((out) != NULL) \
			break; \
	} \
} while (0)

/* Refuse because the environment could not be built (EG_INJECT_ENV gave
 * NULL): fail closed, with a message that says why. */
EG_HIDDEN void eg_refuse_env_not_built(char *const argv[]);

#endif
