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
 * in the hook's own frame. On storage overflow (an environment of more than
 * EG_ENV_STACK_MAX bytes of pointers) `out` is NULL: fail closed.
 */
#define EG_INJECT_ENV(envp_in, out) do { \
	struct eg_env_need _need; \
	eg_env_measure(&eg_ours, (envp_in), &_need); \
	if (_need.unchanged) { \
		(out) = (envp_in); \
	} else if (_need.n_ptrs * sizeof(char *) + _need.n_bytes > EG_ENV_STACK_MAX || \
	    eg_ours.overflow) { \
		(out) = NULL; \
	} else { \
		char **_ptrs = __builtin_alloca(_need.n_ptrs * sizeof(char *)); \
		char *_bytes = __builtin_alloca(_need.n_bytes + 1); \
		(out) = eg_env_build(&eg_ours, (envp_in), &_need, _ptrs, _bytes); \
	} \
} while (0)

/* Refuse because the environment could not be built (fail closed). */
EG_HIDDEN void eg_refuse_env_too_big(char *const argv[]);

#endif
