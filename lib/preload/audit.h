/*
 * The audit record: one JSON line per log / confirm / deny decision (and,
 * with `set audit-execs on`, per exec), appended to
 * $XDG_STATE_HOME/execguard/audit.jsonl (EXECGUARD_AUDIT_LOG overrides).
 * Hook-path code: the line is built on the stack and written with a single
 * write(2) on an O_APPEND descriptor, so concurrent writers do not
 * interleave. Where else a record goes (syslog, the alert command) and how
 * failures are reported is audit_emit.h.
 */
#ifndef EG_AUDIT_H
#define EG_AUDIT_H

#define EG_AUDIT_LINE_MAX 16384
#define EG_AUDIT_PARENTS_MAX 4

/* Who answered a confirm question. "none" for deny, log, fail and every
 * refusal where nobody could be asked (no terminal). To add a channel, add
 * the value here and its name in audit.c's table. */
enum eg_audit_channel {
	EG_CHANNEL_NONE = 0,
	EG_CHANNEL_TERMINAL,  /* the human on the controlling terminal (prompt.c) */
	EG_CHANNEL_PARENT,    /* popen's shell: the human approved it in the caller */
	EG_CHANNEL_APPROVER,  /* `set approver` / `execguard run --approver` */
	EG_CHANNEL_ELSEWHERE, /* `set approve-elsewhere`: the session's broker */
	EG_CHANNEL_MEMORY,    /* allow-once or refuse-cooldown: nobody was asked */
	EG_CHANNEL_COUNT
};

/* "none", "terminal", ... */
const char *eg_audit_channel_name(enum eg_audit_channel c);

struct eg_audit_rec {
	char *const *argv;   /* the command as passed to exec (may be NULL) */
	const char *exe;     /* resolved executable or NULL */
	const char *cwd;     /* NULL = unknown */
	const char *rule_id; /* NULL = none */
	const char *action;  /* "log", "confirm", "deny", "fail" */
	const char *outcome; /* "ran", "approved", "refused" */
	const char *why;     /* refusal reason word or NULL */
	const char *route;   /* "exec", "spawn", "system", ... */
	const char *rule_file; /* file of the deciding rule, or NULL */
	unsigned rule_line;    /* its line (0 = unknown) */
	const char *session;   /* EXECGUARD_SESSION of the `execguard run`, or NULL */
	enum eg_audit_channel channel;
	/* program names up the process tree (parent first), NULL-terminated;
	 * NULL = not gathered */
	const char *const *parents;
	/* The process that made the call, when it is not this one (strict
	 * mode's supervisor records for its targets); 0 = getpid()/getppid(). */
	int pid, ppid;
};

/* Append one record to `path` only ("" or NULL: do nothing); the guard
 * uses eg_audit_emit (audit_emit.h), which also feeds syslog and the alert.
 * errno preserved. Returns 0, or the errno of the failure (open, write,
 * short write). */
int eg_audit_write(const char *path, const struct eg_audit_rec *r);
/* Append an already formatted line (eg_audit_format) the same way. */
int eg_audit_append(const char *path, const char *line, unsigned long len);

/* Up to `max` program names of this process's ancestors, parent first
 * (/proc/PID/stat, stops at pid 1 or an unreadable entry). `store` holds the
 * names; `names` gets max + 1 pointers, NULL-terminated. Returns the count. */
unsigned eg_audit_parents(char *store, unsigned long size, const char **names, unsigned max);

/* Format the record into buf (for tests). Returns the length, newline included. */
unsigned long eg_audit_format(char *buf, unsigned long size, const struct eg_audit_rec *r);

#endif
