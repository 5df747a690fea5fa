/*
 * How an answer reaches a process that waits in execve: the seccomp
 * response, the message on its standard error (where a refused call under
 * the preload library writes it), the audit record, and the short memory of
 * refusals that keeps a PATH search from asking again. Part of the
 * supervisor (strict_sup.h).
 */
#include "strict_sup.h"

#include "audit_emit.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "guard.h"

#define ROUTE "strict"
#define RECENT_NS (2ull * 1000000000ull)
#define MESSAGE_WAIT_MS 1000

uint64_t sup_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t sup_argv_key(const struct strict_exec *x)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < x->arg_len; i++) {
		h ^= (unsigned char)x->arg_blob[i];
		h *= 1099511628211ull;
	}
	return h;
}

bool sup_recently_refused(const struct sup *s, pid_t pid, uint64_t key)
{
	uint64_t now = sup_now_ns();
	for (int i = 0; i < RECENT_SLOTS; i++)
		if (s->recent[i].pid == pid && s->recent[i].key == key && now - s->recent[i].when < RECENT_NS)
			return true;
	return false;
}

static void remember_refusal(struct sup *s, pid_t pid, uint64_t key)
{
	struct recent *r = &s->recent[s->recent_next++ % RECENT_SLOTS];
	r->pid = pid;
	r->key = key;
	r->when = sup_now_ns();
}

int sup_pidfd(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	(void)pid;
	errno = ENOSYS;
	return -1;
#endif
}

void sup_respond(const struct sup *s, uint64_t id, int error, bool go_on)
{
	struct seccomp_notif_resp r;
	memset(&r, 0, sizeof r);
	r.id = id;
	if (go_on)
		r.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
	else
		r.error = -error;
	/* ENOENT: the caller died meanwhile; nothing else can go wrong here. */
	(void)ioctl(s->cfg->listener, SECCOMP_IOCTL_NOTIF_SEND, &r);
}

bool sup_still_waiting(const struct sup *s, uint64_t id)
{
	return ioctl(s->cfg->listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0;
}

/* ------------------------------------------------------------ messages */

struct refusal_text {
	const struct decision *d;
	enum eg_refuse_why why;
	const char *detail;
	const char *custom; /* a strict-mode situation refuse.c has no words for */
};

static void write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

static void print_refusal(const struct refusal_text *t)
{
	const struct decision *d = t->d;
	if (t->custom == NULL) {
		eg_refuse_message(d->cmdline, d->rule_id, d->where[0] ? d->where : NULL, d->reason,
		    t->why, t->detail);
		return;
	}
	char msg[8192];
	int n = snprintf(msg, sizeof msg,
	    "execguard: blocked: %s\n"
	    "  %s\n"
	    "  Do not retry or work around this; ask the user to run the command themselves if it is really needed.\n",
	    d->cmdline[0] ? d->cmdline : "(empty command)", t->custom);
	if (n > 0)
		write_all(2, msg, (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1);
}

/*
 * Write a refusal on the standard error of process `tgid` (where a refused
 * call under the preload library writes it), before it learns the answer.
 * Written by a short-lived child: a pipe the caller does not read must not
 * stall the supervisor, and with it every exec of the tree.
 */
static void tell(const struct sup *s, pid_t tgid, const struct refusal_text *t)
{
	int fd = strict_target_stderr(tgid);
	if (fd < 0)
		return;
	fflush(NULL);
	pid_t w = fork();
	if (w == 0) {
		/* whoever holds the listener can answer: only the supervisor */
		close(s->cfg->listener);
		close(s->sigfd);
		/* a terminal with `stty tostop` must not stop the writer when
		 * execguard's group is in the background (an interactive shell
		 * under it runs its jobs in groups of their own) */
		signal(SIGTTOU, SIG_IGN);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		alarm(10);
		if (dup2(fd, 2) == 2)
			print_refusal(t);
		_exit(0);
	}
	close(fd);
	if (w < 0)
		return;
	int pfd = sup_pidfd(w);
	if (pfd >= 0) {
		struct pollfd p = { .fd = pfd, .events = POLLIN };
		(void)poll(&p, 1, MESSAGE_WAIT_MS);
		close(pfd);
	}
	/* reaped here if done, else by the SIGCHLD loop (an unknown pid) */
	(void)waitpid(w, NULL, WNOHANG);
}

void sup_audit(const struct strict_exec *x, const struct decision *d, const char *outcome,
    const char *why)
{
	struct strict_proc pi;
	int ppid = strict_proc_info(x->tgid, &pi) == 0 ? (int)pi.ppid : 0;
	struct eg_audit_rec r = {
		.argv = x->argv,
		.exe = x->exe[0] ? x->exe : NULL,
		.cwd = x->cwd[0] ? x->cwd : NULL,
		.rule_id = d->rule_id,
		.action = d->action,
		.outcome = outcome,
		.why = why,
		.route = ROUTE,
		.pid = (int)x->tgid,
		.ppid = ppid,
		.rule_file = d->rule_file,
		.rule_line = d->rule_line,
		/* the channel the settings choose (the helper that asked reports
		 * only yes or no: an allow-once answer is recorded as that channel) */
		.channel = strcmp(outcome, "approved") != 0 ? EG_CHANNEL_NONE
		    : strict_asks_on_terminal()             ? EG_CHANNEL_TERMINAL
							     : EG_CHANNEL_APPROVER,
	};
	/* the file, syslog and the alert hook, as the library's records */
	eg_audit_emit(eg_guard_cfg.audit_path, &r);
}

/* The first process of the tree (before it runs CMD) learns that its exec
 * was refused, so that it exits 126 without a second message. */
void sup_mark_child_refused(struct sup *s, const struct strict_exec *x)
{
	if (x->tgid == s->child && !s->child_execd && s->cfg->child_sock >= 0)
		(void)send(s->cfg->child_sock, "R", 1, MSG_DONTWAIT | MSG_NOSIGNAL);
}

void sup_refuse(struct sup *s, const struct strict_exec *x, const struct decision *d,
    enum eg_refuse_why why, const char *custom, const char *audit_why)
{
	struct refusal_text t = { .d = d, .why = why, .custom = custom };
	if (why == EG_WHY_NO_POLICY && eg_guard_cfg.load_error[0])
		t.detail = eg_guard_cfg.load_error;
	tell(s, x->tgid, &t);
	sup_audit(x, d, "refused", audit_why ? audit_why : eg_refuse_why_word(why));
	remember_refusal(s, x->tgid, sup_argv_key(x));
	sup_mark_child_refused(s, x);
	sup_respond(s, x->id, EACCES, false);
}

void sup_tell_killed(const struct sup *s, pid_t pid, const struct decision *d, const char *why)
{
	char text[512];
	snprintf(text, sizeof text,
	    "The program that started is not the command that was checked (%s): it was changed "
	    "during the exec, so it was killed before it ran.", why);
	struct refusal_text rt = { .d = d, .custom = text };
	tell(s, pid, &rt);
}
