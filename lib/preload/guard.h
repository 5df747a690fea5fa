/*
 * The guard: decide one exec, ask the human when a rule says confirm, write
 * the refusal message and the audit record. Shared by the preload library's
 * hooks and by `execguard run` (which checks the command it starts itself).
 *
 * Hook-path code: no malloc, no stdio, no locks; small stack buffers (the
 * check's 192 KiB scratch space is mmap'd, and only when a rule may apply,
 * so a thread with a small stack is safe); errno is preserved by
 * eg_guard_decide.
 */
#ifndef EG_GUARD_H
#define EG_GUARD_H

#include <stdbool.h>
#include <stddef.h>

#include "execguard.h"

#define EG_GUARD_PATH_MAX 4096
#define EG_GUARD_DEFAULT_TIMEOUT 120u

/* Process-wide configuration, filled once (preload constructor or CLI) and
 * read-only afterwards. The strings point into one capture buffer
 * (eg_capture_keep) filled front to back, so that a constructor which
 * keeps a few short values writes a few hundred bytes, not one page per
 * field: every page written there is a page fault in every guarded process.
 * They are "" when unset, and never NULL once eg_guard_config_from_env (or
 * eg_guard_config_from_scan) has run. */
struct eg_guard_config {
	const struct eg_policy *policy; /* NULL: every exec is refused (fail closed) */
	enum eg_fail load_fail;         /* EG_FAIL_NO_POLICY when policy is NULL */
	unsigned prompt_timeout;        /* seconds; EXECGUARD_PROMPT_TIMEOUT, default 120 */
	/* This process is the shell our popen started after the human approved
	 * its whole command in the caller (EG_APPROVED_VAR): confirm rules do
	 * not ask again here. Deny rules and failures still refuse. */
	bool approved_by_parent;
	/* approver_env holds what EXECGUARD_APPROVER_ENV recorded */
	bool approver_env_set;
	/* A strict-mode supervisor (`execguard run --strict`) decides every
	 * exec of this process tree from outside, through seccomp: the hooks
	 * then only pass calls on (with the environment re-injected), so that
	 * no command is asked about twice. Set by the preload constructor only
	 * when the supervisor itself says so (strict_ping.h). */
	bool strict_supervised;
	const char *audit_path; /* "" = no audit log */
	/* The approval session, as the process started (EXECGUARD_SESSION,
	 * EXECGUARD_BROKER, XDG_RUNTIME_DIR): read once, so a process that
	 * changes its own environment later cannot point its hooks at another
	 * session's memory or at a broker of its own. "" = none. */
	const char *session;
	const char *broker; /* "PID:SOCKET-PATH" */
	const char *runtime_dir;
	/* The desktop and locale variables an approver gets, as the session
	 * started (EXECGUARD_APPROVER_ENV, set by `execguard run`): "NAME=value"
	 * strings one after the other, each NUL-terminated, "" at the end. An
	 * agent that points DISPLAY at a screen of its own later does not move
	 * the approver's dialog there. approver_env_set false: none recorded. */
	const char *approver_env;
	/* why the policy could not be loaded ("" if none); last: written only
	 * when loading fails */
	char load_error[512];
};

/* Longest value kept for each string above (longer: kept as ""). */
#define EG_GUARD_SESSION_MAX 71
#define EG_GUARD_APPROVER_ENV_MAX 2046

/* Copy s (n bytes, NUL added) into the capture buffer; NULL when it is
 * full. Not for the hook path (not thread-safe: constructor and CLI only). */
const char *eg_capture_keep(const char *s, size_t n);

/* The variables read when a process starts, found in one pass over the
 * environment (the first occurrence of each, as getenv): values, or NULL. */
struct eg_env_scan {
	const char *ld_preload, *policy, *strict, *approved, *prompt_timeout, *audit_log,
	    *session, *broker, *approver_env, *home, *state_home, *runtime_dir;
};
void eg_env_scan(char *const *envp, struct eg_env_scan *out);

extern struct eg_guard_config eg_guard_cfg;

/* Set to "1" by `execguard run --strict` for the whole tree it supervises. */
#define EG_STRICT_VAR "EXECGUARD_STRICT"

/*
 * Fill prompt_timeout, audit_path and the session fields of eg_guard_cfg
 * from `envp` (EXECGUARD_PROMPT_TIMEOUT, EXECGUARD_AUDIT_LOG, XDG_STATE_HOME,
 * HOME, EXECGUARD_SESSION, EXECGUARD_BROKER, XDG_RUNTIME_DIR,
 * EXECGUARD_APPROVER_ENV).
 * A garbage timeout is ignored (default 120). Not for the hook path.
 */
void eg_guard_config_from_env(char *const *envp);
/* The same from a scan already made. */
void eg_guard_config_from_scan(const struct eg_env_scan *v);

/* Which route a command arrived by: message wording and audit record. */
enum eg_guard_route {
	EG_ROUTE_EXEC = 0, /* execve and friends */
	EG_ROUTE_SPAWN,    /* posix_spawn, posix_spawnp */
	EG_ROUTE_SYSTEM,   /* system(3) */
	EG_ROUTE_POPEN,    /* popen(3) */
	EG_ROUTE_WORDEXP,  /* wordexp(3) command substitution */
	EG_ROUTE_RUN,      /* execguard run */
};

enum {
	/* A confirm that a human could be asked about is not asked here: the
	 * verdict is EG_GUARD_DEFER (the command's own exec, in a guarded child,
	 * will ask). Refusals that need no human (deny, fail-closed, no
	 * terminal) are still decided and reported here. */
	EG_GUARD_NO_ASK = 1u << 0,
	/* Before refusing or asking, test that exe_path exists and is
	 * executable (faccessat X_OK, AT_EACCESS). If not, the verdict is
	 * EG_GUARD_NOEXEC with errno set as execve would set it, and nothing is
	 * printed: no question is asked for a program that cannot run (PATH
	 * loops in python and libuv try every directory with execve). */
	EG_GUARD_CHECK_EXE = 1u << 1,
	/* Show the whole top-level command in the question and the message, not
	 * only the inner command that decided (popen's shell string). */
	EG_GUARD_SHOW_TOP = 1u << 2,
	/* A pre-check in the parent of a shell it is about to start (system,
	 * popen, wordexp): a `log` decision is not recorded here, the shell's
	 * own exec of the command records it. */
	EG_GUARD_PRECHECK = 1u << 3,
};

struct eg_guard_req {
	char *const *argv;    /* may be NULL or empty */
	char *const *envp;    /* environment the program gets (env conditions) */
	const char *exe_path; /* resolved executable, NULL if unknown */
	unsigned check_flags; /* EG_CHECK_* passed to eg_check */
	unsigned flags;       /* EG_GUARD_* */
	enum eg_guard_route route;
	/* Set when the command could not even be represented (execl with too
	 * many arguments): refuse with this failure, no check. */
	enum eg_fail pre_fail;
	/* EG_GUARD_CHECK_EXE: test this path relative to check_dirfd instead of
	 * exe_path (execveat with a directory fd). NULL = use exe_path. */
	const char *check_path;
	int check_dirfd;
	/* Nonzero: the program could not be found (PATH search failed with this
	 * errno). A rule that decides then gets EG_GUARD_NOEXEC with this errno,
	 * as the real call would fail the same way. */
	int missing_errno;
	/* Set on return: the human was asked and approved (confirm + yes). */
	bool *approved;
	/* Set on return: no rule names the program (eg_check_may_apply). */
	bool *unnamed;
};

enum eg_guard_verdict {
	EG_GUARD_GO = 0,  /* proceed with the real call (errno untouched) */
	EG_GUARD_REFUSED, /* refused: message written, audited; caller fails with EACCES */
	EG_GUARD_DEFER,   /* EG_GUARD_NO_ASK: a human must decide; let the child ask */
	EG_GUARD_NOEXEC,  /* EG_GUARD_CHECK_EXE: not executable; errno says why */
};

/*
 * Decide one command. Cheap when no rule can apply (a hash lookup through
 * eg_check_may_apply). Preserves errno except for EG_GUARD_NOEXEC.
 */
enum eg_guard_verdict eg_guard_decide(const struct eg_guard_req *req);

/* Before a fork: map the scratch checks use, kept for the process's life,
 * so that the children inherit it instead of mapping and unmapping their
 * own for the check of a program the rules name (guard.c). Once per
 * process. */
void eg_guard_scratch_prepare(void);

/* Helpers the hooks share (hook-path safe). */

/* Value of NAME in envp (NULL if unset); no locks, no allocation. */
const char *eg_env_get(char *const *envp, const char *name);

#endif
