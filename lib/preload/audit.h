/*
 * The audit log: one JSON line per log / confirm / deny decision, appended
 * to $XDG_STATE_HOME/execguard/audit.jsonl (EXECGUARD_AUDIT_LOG overrides).
 * Hook-path code: the line is built on the stack and written with a single
 * write(2) on an O_APPEND descriptor, so concurrent writers do not
 * interleave. Every failure is silent: the log never breaks the host.
 */
#ifndef EG_AUDIT_H
#define EG_AUDIT_H

#define EG_AUDIT_LINE_MAX 16384

struct eg_audit_rec {
	char *const *argv;   /* the command as passed to exec (may be NULL) */
	const char *exe;     /* resolved executable or NULL */
	const char *cwd;     /* NULL = unknown */
	const char *rule_id; /* NULL = none */
	const char *action;  /* "log", "confirm", "deny", "fail" */
	const char *outcome; /* "ran", "approved", "refused" */
	const char *why;     /* refusal reason word or NULL */
	const char *route;   /* "exec", "spawn", "system", ... */
	/* The process that made the call, when it is not this one (strict
	 * mode's supervisor records for its targets); 0 = getpid()/getppid(). */
	int pid, ppid;
};

/* Append one record to `path` ("" or NULL: do nothing). errno preserved. */
void eg_audit_write(const char *path, const struct eg_audit_rec *r);

/* Format the record into buf (for tests). Returns the length, newline included. */
unsigned long eg_audit_format(char *buf, unsigned long size, const struct eg_audit_rec *r);

#endif
