/*
 * Where an audit record goes, once it is decided: the JSONL file, syslog
 * (facility authpriv) when switched on, and the alert command when a rule
 * refuses or a human approves. Configured once (library constructor or
 * `execguard run`) from the settings of the policy, never from the
 * environment, except the session id and the syslog socket path, which
 * approve nothing.
 *
 * Hook-path code: no malloc, no stdio, no locks. A sink that fails (disk
 * full, unwritable directory, no syslog socket, the alert cannot start) is
 * reported once per process on stderr and otherwise ignored: the decision
 * that was recorded stands, a refusal stays a refusal.
 */
#ifndef EG_AUDIT_EMIT_H
#define EG_AUDIT_EMIT_H

#include <stdbool.h>

#include "audit.h"
#include "env_inject.h"
#include "execguard.h"

#define EG_SESSION_VAR "EXECGUARD_SESSION"
#define EG_SESSION_MAX 64
/* Set in the environment of an alert command: the library in it and in its
 * descendants records as usual but starts no alert (a refusal inside an
 * alert must not start another alert, and so on). */
#define EG_IN_ALERT_VAR "EXECGUARD_IN_ALERT"
/* The syslog socket (default /dev/log). For tests and containers whose
 * syslog listens elsewhere; it only redirects records, never switches
 * syslog on. */
#define EG_SYSLOG_SOCKET_VAR "EXECGUARD_SYSLOG_SOCKET"
#define EG_SYSLOG_DEFAULT_SOCKET "/dev/log"

struct eg_audit_cfg {
	bool syslog;       /* `set syslog`; default on when loaded from /etc/ld.so.preload */
	/* No `set syslog`, loaded by LD_PRELOAD: whether /etc/ld.so.preload
	 * names the library too (then syslog is on) is looked up at the first
	 * record, so that a process that records nothing pays nothing. */
	bool syslog_probe;
	bool system_wide;  /* loaded from /etc/ld.so.preload */
	bool execs;        /* `set audit-execs`: every exec is recorded */
	const char *alert; /* `set alert` command (points into the policy), or NULL */
	bool in_alert;     /* EG_IN_ALERT_VAR was set: no alerts from here */
	char session[EG_SESSION_MAX + 1];   /* "" = none */
	char syslog_socket[108];            /* sun_path */
	/* The library's values, to build the alert command's environment (so
	 * the alert runs guarded); NULL: use `environ` as it is (the CLI, which
	 * has just set LD_PRELOAD and EXECGUARD_POLICY itself). */
	const struct eg_env_ours *ours;
};

extern struct eg_audit_cfg eg_audit_cfg;

/*
 * Fill eg_audit_cfg from the policy's settings and `envp`. `system_wide`:
 * the library was loaded from /etc/ld.so.preload (syslog's default is then
 * on). `ours`: the library's values (NULL in the CLI); with them and without
 * `set syslog`, a library not known to be system-wide looks at
 * /etc/ld.so.preload when it first records. Not for the hook path.
 */
/* The settings part again, for a policy mapped after eg_audit_configure
 * (the library maps EXECGUARD_POLICY on its first hook call). Hook-path
 * safe. */
void eg_audit_apply_settings(const struct eg_policy *p);
void eg_audit_configure(const struct eg_policy *p, char *const *envp, bool system_wide,
    const struct eg_env_ours *ours);

/* Is `s` a usable session id: 1..64 of [A-Za-z0-9._:-]? */
bool eg_session_id_ok(const char *s);

/*
 * Send the record everywhere it goes: the file at `path` ("" = none), syslog,
 * and the alert command (outcome "refused", or "approved" by a channel other
 * than the parent's). Fills in the session. errno preserved.
 */
void eg_audit_emit(const char *path, const struct eg_audit_rec *r);

/* The syslog header of a record, "<PRI>execguard[PID]: " (RFC 3164 without
 * the timestamp, which the receiver adds), into buf (at least 48 bytes). PRI
 * is facility authpriv with severity warning for a refusal, notice for an
 * approval, info otherwise. Returns its length. */
unsigned long eg_syslog_header(char *buf, const struct eg_audit_rec *r);

/* One datagram, header + the formatted line without its newline, to the
 * AF_UNIX socket at `socket_path`, without waiting (a backed-up syslog drops
 * the record rather than stall the host). Returns 0 or an errno. */
int eg_syslog_send(const char *socket_path, const struct eg_audit_rec *r, const char *line,
    unsigned long len);

#endif
