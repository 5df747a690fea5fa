/*
 * Is the guard on in this process, and how was it switched on? Read by
 * `execguard doctor` and `execguard status`, which run as a child of the
 * shell or agent they report on: what holds for them holds for every other
 * program that shell starts.
 */
#ifndef EG_CLI_GUARD_STATE_H
#define EG_CLI_GUARD_STATE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "execguard.h"

enum guard_mode {
	GUARD_OFF,        /* the library is not loaded */
	GUARD_SYSTEM,     /* /etc/ld.so.preload names it: every process of this system */
	GUARD_RUN,        /* LD_PRELOAD + EXECGUARD_POLICY from `execguard run` */
	GUARD_SHELL_INIT, /* the same from `execguard shell-init` */
	GUARD_SESSION,    /* LD_PRELOAD + EXECGUARD_POLICY, origin not recorded */
	GUARD_PRELOAD,    /* LD_PRELOAD alone: the library reads the rule files itself */
};

struct guard_state {
	enum guard_mode mode;
	bool loaded;              /* libexecguard's execve hook is in this process */
	char library[PATH_MAX];   /* the loaded library ("" if none) */
	bool in_env;              /* LD_PRELOAD names a libexecguard */
	char env_entry[PATH_MAX]; /* ... this one */
	bool in_system;           /* /etc/ld.so.preload names a libexecguard */
	const char *policy_path;  /* EXECGUARD_POLICY, or NULL */
	struct eg_policy *policy; /* it, mapped (NULL if unset or unusable) */
	char problem[PATH_MAX + 256]; /* why a guard that should be on is not working, or "" */
};

/* The name `EXECGUARD_MODE` carries in a guarded session (set by `run` and
 * the shell-init snippet, re-injected by the library like every
 * EXECGUARD_ variable). Informational: it switches nothing. */
#define GUARD_MODE_VAR "EXECGUARD_MODE"

void guard_state_read(struct guard_state *st);
void guard_state_free(struct guard_state *st);
/* "execguard run", "/etc/ld.so.preload", ... */
const char *guard_mode_name(enum guard_mode m);

/* Is the exec family hooked by a libexecguard in this process? Its path
 * into lib (may be NULL). */
bool guard_library_loaded(char *lib, size_t size);

#endif
