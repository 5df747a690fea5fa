/*
 * The strict-mode supervisor: one event loop in the execguard process.
 *
 *   notification (an execve/execveat waits in the kernel)
 *     read it (strict_target.c); cannot run anyway -> that errno
 *     eg_check, as the hooks do, but knowing that every exec is seen
 *       none/allow/log   -> let it through, verified (below)
 *       deny, a failure  -> refuse: message on the caller's stderr, audit,
 *                           EACCES
 *       confirm          -> a helper process asks (strict_approve.c); the
 *                           loop goes on serving other execs meanwhile
 *   let through = attach with ptrace, answer "continue", and at the stop
 *     that ends the exec compare what runs with what was checked
 *     (strict_verify.c): equal -> detach; different -> SIGKILL
 *   SIGCHLD: helpers' answers, ptrace stops, the command's exit, orphans
 *     (execguard is their subreaper, so they stay its descendants)
 *
 * One question per command: in strict mode the preload library stays out of
 * the way (guard.c returns "go" when the supervisor is in charge), because
 * only the supervisor can be trusted with a decision: a program that makes
 * raw system calls could claim anything about what the library decided. So
 * every question, refusal and audit record of the tree comes from here.
 */
#include "strict.h"

#include "audit_emit.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/ptrace.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "guard.h"
#include "refuse.h"
#include "strict_ping.h"

#define ROUTE "strict"
#define RECENT_SLOTS 8
#define RECENT_NS (2ull * 1000000000ull)
#define ANSWER_KEEP_NS (5ull * 1000000000ull) /* see question.answered */
#define DRAIN_NS (1000ull * 1000000ull)       /* after the command exits */
#define MESSAGE_WAIT_MS 1000

/* What decided one exec, kept for the message, the prompt and the audit. */
struct decision {
	struct eg_check_result res;
	const char *rule_id, *reason, *rule_file;
	unsigned rule_line;
	char where[4096 + 16];
	const char *action; /* for the audit */
	char cmdline[EG_CMDLINE_MAX];
};

struct question {
	struct question *next;
	struct strict_exec x;
	struct decision d;
	uint64_t key;     /* argv hash */
	pid_t helper;     /* asking; 0 once answered */
	int pidfd;        /* the asking process: its death withdraws the question */
	bool x_live;      /* x's notification still waits for an answer */
	/* Answered while no notification was waiting: without killable waits
	 * (Linux < 5.19) a signal restarts the exec, which comes back as a new
	 * notification and gets this answer (for ANSWER_KEEP_NS). */
	bool answered;
	enum eg_prompt_outcome outcome;
	uint64_t answered_at;
};

struct traced {
	struct traced *next;
	struct strict_exec x;
	struct decision d;
	struct strict_expect e;
};

struct recent {
	uint64_t key, when;
	pid_t pid;
};

struct sup {
	const struct strict_supervisor_cfg *cfg;
	struct eg_check_scratch *scratch;
	struct question *questions;
	struct traced *traced;
	struct recent recent[RECENT_SLOTS];
	unsigned recent_next;
	pid_t child;
	bool child_done, child_execd;
	int child_status;
	int sigfd;
};

/* ------------------------------------------------------------ small helpers */

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t argv_key(const struct strict_exec *x)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < x->arg_len; i++) {
		h ^= (unsigned char)x->arg_blob[i];
		h *= 1099511628211ull;
	}
	return h;
}

static bool recently_refused(struct sup *s, pid_t pid, uint64_t key)
{
	uint64_t now = now_ns();
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
	r->when = now_ns();
}

static int pidfd_of(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	(void)pid;
	errno = ENOSYS;
	return -1;
#endif
}

static void respond(const struct sup *s, uint64_t id, int error, bool go_on)
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

static bool still_waiting(const struct sup *s, uint64_t id)
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
	int pfd = pidfd_of(w);
	if (pfd >= 0) {
		struct pollfd p = { .fd = pfd, .events = POLLIN };
		(void)poll(&p, 1, MESSAGE_WAIT_MS);
		close(pfd);
	}
	/* reaped here if done, else by the SIGCHLD loop (an unknown pid) */
	(void)waitpid(w, NULL, WNOHANG);
}

static void audit(const struct strict_exec *x, const struct decision *d, const char *outcome,
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
static void mark_child_refused(struct sup *s, const struct strict_exec *x)
{
	if (x->tgid == s->child && !s->child_execd && s->cfg->child_sock >= 0)
		(void)send(s->cfg->child_sock, "R", 1, MSG_DONTWAIT | MSG_NOSIGNAL);
}

static void refuse(struct sup *s, const struct strict_exec *x, const struct decision *d,
    enum eg_refuse_why why, const char *custom, const char *audit_why)
{
	struct refusal_text t = { .d = d, .why = why, .custom = custom };
	if (why == EG_WHY_NO_POLICY && eg_guard_cfg.load_error[0])
		t.detail = eg_guard_cfg.load_error;
	tell(s, x->tgid, &t);
	audit(x, d, "refused", audit_why ? audit_why : eg_refuse_why_word(why));
	remember_refusal(s, x->tgid, argv_key(x));
	mark_child_refused(s, x);
	respond(s, x->id, EACCES, false);
}

/* ------------------------------------------------------------ decisions */

static void decide(struct sup *s, const struct strict_exec *x, struct decision *d)
{
	memset(d, 0, sizeof *d);
	struct eg_check_input in = {
		.argv = x->argc ? x->argv : NULL,
		.envp = x->envp,
		.exe_path = x->exe,
		.cwd = x->cwd[0] ? x->cwd : NULL,
		.flags = EG_CHECK_SEES_EVERY_EXEC,
	};
	eg_check(s->cfg->policy, &in, s->scratch, &d->res);
	if (d->res.fail == EG_FAIL_NONE && d->res.cmdline[0])
		snprintf(d->cmdline, sizeof d->cmdline, "%s", d->res.cmdline);
	else
		eg_quote_argv(d->cmdline, sizeof d->cmdline, (const char *const *)x->argv, x->argc);
	struct eg_rule_info info;
	if (d->res.rule != EG_NO_RULE && eg_policy_rule_info(s->cfg->policy, d->res.rule, &info) == 0) {
		d->rule_id = info.id;
		d->reason = info.reason;
		d->rule_file = info.file;
		d->rule_line = info.line;
		if (info.file)
			snprintf(d->where, sizeof d->where, "%s:%u", info.file, info.line);
	}
	d->action = d->res.fail != EG_FAIL_NONE ? "fail" : eg_action_name(d->res.action);
}

static enum eg_refuse_why why_of_fail(enum eg_fail f)
{
	switch (f) {
	case EG_FAIL_REGEX: return EG_WHY_REGEX;
	case EG_FAIL_NO_POLICY: return EG_WHY_NO_POLICY;
	case EG_FAIL_TOO_BIG:
	case EG_FAIL_NONE: break;
	}
	return EG_WHY_TOO_BIG;
}

static enum eg_refuse_why why_of_prompt(enum eg_prompt_outcome o)
{
	switch (o) {
	case EG_PROMPT_TIMEOUT: return EG_WHY_TIMEOUT;
	case EG_PROMPT_NO_TTY: return EG_WHY_NO_TTY;
	case EG_PROMPT_BACKGROUND: return EG_WHY_BACKGROUND;
	case EG_PROMPT_ERROR: return EG_WHY_PROMPT_ERROR;
	case EG_PROMPT_YES:
	case EG_PROMPT_NO: break;
	}
	return EG_WHY_SAID_NO;
}

/* ------------------------------------------------------------ letting through */

static void traced_free(struct traced *t)
{
	strict_exec_free(&t->x);
	strict_expect_free(&t->e);
	free(t);
}

/* Let the exec in `x` happen, verified at its end. Takes ownership of x. */
static void let_through(struct sup *s, struct strict_exec *x, const struct decision *d)
{
	struct traced *t = calloc(1, sizeof *t);
	if (t == NULL || strict_expect_build(x, &t->e) != 0) {
		free(t);
		refuse(s, x, d, EG_WHY_TOO_BIG, NULL, NULL);
		strict_exec_free(x);
		return;
	}
	if (strict_trace_exec(x->tid) != 0) {
		if (errno == EPERM)
			refuse(s, x, d, EG_WHY_TOO_BIG,
			    "Strict mode could not watch this exec: the process is traced by another "
			    "program (a debugger or strace), which could change the command after the "
			    "check, so it is refused.", "traced");
		/* ESRCH: it died meanwhile; nobody waits for an answer */
		strict_expect_free(&t->e);
		free(t);
		strict_exec_free(x);
		return;
	}
	t->x = *x;
	t->d = *d;
	memset(x, 0, sizeof *x);
	x->exe_fd = -1;
	t->next = s->traced;
	s->traced = t;
	/* If it died after the attach, its exit reaches us as its tracer and
	 * removes the entry. */
	respond(s, t->x.id, 0, true);
}

static struct traced **find_traced(struct sup *s, pid_t tid)
{
	for (struct traced **pp = &s->traced; *pp; pp = &(*pp)->next)
		if ((*pp)->x.tid == tid)
			return pp;
	return NULL;
}

static void drop_traced(struct sup *s, pid_t tid)
{
	struct traced **pp = find_traced(s, tid);
	if (pp) {
		struct traced *t = *pp;
		*pp = t->next;
		traced_free(t);
	}
}

/* A traced process stopped (waitpid). */
static void on_stop(struct sup *s, pid_t pid, int st)
{
	int event = (unsigned)st >> 16;
	if (event == PTRACE_EVENT_EXEC) {
		unsigned long former = 0;
		(void)ptrace(PTRACE_GETEVENTMSG, pid, NULL, &former);
		struct traced **pp = find_traced(s, (pid_t)former);
		if (pp == NULL)
			pp = find_traced(s, pid);
		if (pp == NULL) {
			(void)ptrace(PTRACE_DETACH, pid, NULL, NULL);
			return;
		}
		struct traced *t = *pp;
		*pp = t->next;
		char why[160];
		if (strict_expect_matches(pid, &t->e, why, sizeof why)) {
			if (pid == s->child)
				s->child_execd = true;
			(void)ptrace(PTRACE_DETACH, pid, NULL, NULL);
		} else {
			char text[512];
			snprintf(text, sizeof text,
			    "The program that started is not the command that was checked (%s): it "
			    "was changed during the exec, so it was killed before it ran.", why);
			struct refusal_text rt = { .d = &t->d, .custom = text };
			tell(s, pid, &rt);
			kill(pid, SIGKILL);
			audit(&t->x, &t->d, "killed", "exec-mismatch");
		}
		traced_free(t);
		drop_traced(s, pid); /* the old leader, replaced by the exec */
		return;
	}
	/* The exec failed (the queued interrupt), a group-stop, or a signal on
	 * the way back: detach, passing a delivered signal on. */
	int sig = (event == 0) ? WSTOPSIG(st) : 0;
	if (sig == SIGTRAP)
		sig = 0;
	(void)ptrace(PTRACE_DETACH, pid, NULL, (void *)(long)sig);
	drop_traced(s, pid);
}

/* ------------------------------------------------------------ questions */

static void question_free(struct question *q)
{
	strict_exec_free(&q->x);
	if (q->pidfd >= 0)
		close(q->pidfd);
	free(q);
}

/* An open question (or a kept answer) for this command of this live process. */
static struct question *find_question(struct sup *s, pid_t tgid, uint64_t key)
{
	for (struct question *q = s->questions; q; q = q->next)
		if (q->pidfd >= 0 && q->x.tgid == tgid && q->key == key)
			return q;
	return NULL;
}

static void unlink_question(struct sup *s, struct question *q)
{
	for (struct question **pp = &s->questions; *pp; pp = &(*pp)->next)
		if (*pp == q) {
			*pp = q->next;
			return;
		}
}

/* The answer for the exec waiting in q->x. Takes q->x. */
static void conclude(struct sup *s, struct question *q, enum eg_prompt_outcome o)
{
	if (o == EG_PROMPT_YES) {
		audit(&q->x, &q->d, "approved", NULL);
		let_through(s, &q->x, &q->d);
	} else {
		refuse(s, &q->x, &q->d, why_of_prompt(o), NULL, NULL);
	}
}

static void start_question(struct sup *s, struct strict_exec *x, const struct decision *d, uint64_t key)
{
	struct strict_proc pi;
	if (strict_proc_info(x->tgid, &pi) != 0) {
		strict_exec_free(x);
		return; /* gone */
	}
	if (pi.tty_nr == 0 && strict_asks_on_terminal()) {
		refuse(s, x, d, EG_WHY_NO_TTY, NULL, NULL);
		strict_exec_free(x);
		return;
	}
	struct question *q = calloc(1, sizeof *q);
	if (q == NULL) {
		refuse(s, x, d, EG_WHY_PROMPT_ERROR, NULL, NULL);
		strict_exec_free(x);
		return;
	}
	q->x = *x;
	memset(x, 0, sizeof *x);
	x->exe_fd = -1;
	q->d = *d;
	q->key = key;
	q->x_live = true;
	q->pidfd = pidfd_of(q->x.tgid);

	struct strict_question sq = {
		.prompt = {
			.cmdline = q->d.cmdline,
			.cwd = q->x.cwd[0] ? q->x.cwd : "?",
			.rule_id = q->d.rule_id ? q->d.rule_id : "?",
			.reason = q->d.reason ? q->d.reason : "",
			.rule_file = q->d.rule_file,
			.rule_line = q->d.rule_line,
			.required = (q->d.res.severity == EG_SEV_CRITICAL && q->d.res.confirm_word[0])
			    ? q->d.res.confirm_word : "yes",
			.timeout_sec = eg_guard_cfg.prompt_timeout ? eg_guard_cfg.prompt_timeout
								     : EG_GUARD_DEFAULT_TIMEOUT,
			.pid = q->x.tgid,
			.progname = pi.comm,
			.parents = pi.parents,
		},
		.pgrp = pi.pgrp,
		.session = pi.session,
		.argv = q->x.argv,
		.envp = q->x.envp,
	};
	fflush(NULL);
	pid_t h = fork();
	if (h == 0) {
		/* the helper: default signals, nothing blocked (the prompt watches
		 * the ones a human can send), none of the supervisor's descriptors */
		close(s->cfg->listener);
		close(s->sigfd);
		static const int sigs[] = { SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGCHLD, SIGTSTP };
		for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
			signal(sigs[i], SIG_DFL);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		_exit((int)strict_approve(&sq));
	}
	if (h < 0) {
		conclude(s, q, EG_PROMPT_ERROR);
		question_free(q);
		return;
	}
	q->helper = h;
	q->next = s->questions;
	s->questions = q;
}

/* A helper exited with its answer. */
static bool on_helper_exit(struct sup *s, pid_t pid, int st)
{
	struct question *q = s->questions;
	while (q && q->helper != pid)
		q = q->next;
	if (q == NULL)
		return false;
	q->helper = 0;
	enum eg_prompt_outcome o = EG_PROMPT_ERROR;
	if (WIFEXITED(st) && WEXITSTATUS(st) <= EG_PROMPT_ERROR)
		o = (enum eg_prompt_outcome)WEXITSTATUS(st);
	if (q->x_live && still_waiting(s, q->x.id)) {
		unlink_question(s, q);
		conclude(s, q, o);
		question_free(q);
		return true;
	}
	/* Nobody waits right now: keep the answer for the restarted exec. */
	q->x_live = false;
	q->answered = true;
	q->outcome = o;
	q->answered_at = now_ns();
	return true;
}

/* The asking process exited: withdraw its questions. */
static void withdraw_dead(struct sup *s, const struct pollfd *pfds, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!(pfds[i].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		for (struct question *q = s->questions; q; q = q->next) {
			if (q->pidfd != pfds[i].fd)
				continue;
			if (q->helper > 0)
				kill(q->helper, SIGTERM); /* the prompt restores the terminal */
			close(q->pidfd);
			q->pidfd = -1;
			q->x_live = false;
			q->answered = true; /* dropped by expire_answers */
			q->outcome = EG_PROMPT_NO;
			q->answered_at = 0;
		}
	}
}

static void expire_answers(struct sup *s)
{
	uint64_t now = now_ns();
	struct question **pp = &s->questions;
	while (*pp) {
		struct question *q = *pp;
		if (q->answered && q->helper == 0 && now - q->answered_at >= ANSWER_KEEP_NS) {
			*pp = q->next;
			question_free(q);
		} else {
			pp = &q->next;
		}
	}
}

/* ------------------------------------------------------------ notifications */

static void refuse_foreign(struct sup *s, const struct seccomp_notif *n)
{
	struct strict_exec x;
	memset(&x, 0, sizeof x);
	x.exe_fd = -1;
	x.id = n->id;
	x.tid = (pid_t)n->pid;
	struct strict_proc pi;
	x.tgid = x.tid;
	char status[64];
	snprintf(status, sizeof status, "/proc/%d/status", (int)x.tid);
	FILE *f = fopen(status, "re");
	if (f) {
		char line[256];
		while (fgets(line, sizeof line, f))
			if (strncmp(line, "Tgid:", 5) == 0)
				x.tgid = (pid_t)strtol(line + 5, NULL, 10);
		fclose(f);
	}
	struct decision d;
	memset(&d, 0, sizeof d);
	snprintf(d.cmdline, sizeof d.cmdline, "(a %s program's exec)",
	    strict_proc_info(x.tgid, &pi) == 0 ? pi.comm : "32-bit");
	d.action = "fail";
	if (!still_waiting(s, n->id))
		return;
	refuse(s, &x, &d, EG_WHY_TOO_BIG,
	    "Strict mode checks the execs of 64-bit programs only; this one was made through a "
	    "32-bit (or x32) system call, so it is refused.", "foreign-abi");
}

static void on_notification(struct sup *s)
{
	struct seccomp_notif n;
	memset(&n, 0, sizeof n);
	if (ioctl(s->cfg->listener, SECCOMP_IOCTL_NOTIF_RECV, &n) != 0)
		return; /* ENOENT: the caller died between poll and here */
	bool is_execveat;
	if (!strict_native_exec(&n, &is_execveat)) {
		refuse_foreign(s, &n);
		return;
	}
	if (is_execveat && (int)n.data.args[0] == EG_STRICT_PING_FD) {
		respond(s, n.id, EG_STRICT_PING_ERRNO, false); /* "yes, supervised" */
		return;
	}
	struct strict_exec x;
	int r = strict_exec_read(s->cfg->listener, &n, &x);
	if (r == STRICT_UNREADABLE || (r < 0 && still_waiting(s, n.id))) {
		/* it waits, but what it asks for cannot be known: fail closed */
		struct decision d;
		memset(&d, 0, sizeof d);
		d.action = "fail";
		snprintf(d.cmdline, sizeof d.cmdline, "(an exec by process %d)", (int)x.tgid);
		refuse(s, &x, &d, EG_WHY_TOO_BIG,
		    "Strict mode could not read this exec's arguments out of the process (it may "
		    "have made itself non-dumpable), so it is refused.", "unreadable");
		strict_exec_free(&x);
		return;
	}
	if (r != 0) {
		if (r > 0)
			respond(s, x.id, r, false);
		strict_exec_free(&x);
		return;
	}
	uint64_t key = argv_key(&x);
	struct decision d;
	decide(s, &x, &d);
	if (d.res.fail == EG_FAIL_NONE &&
	    (d.res.action == EG_ACT_NONE || d.res.action == EG_ACT_ALLOW || d.res.action == EG_ACT_LOG)) {
		if (d.res.action == EG_ACT_LOG)
			audit(&x, &d, "ran", NULL);
		let_through(s, &x, &d);
		return;
	}
	if (recently_refused(s, x.tgid, key)) {
		mark_child_refused(s, &x);
		respond(s, x.id, EACCES, false);
		strict_exec_free(&x);
		return;
	}
	if (d.res.fail != EG_FAIL_NONE || d.res.action == EG_ACT_DENY) {
		refuse(s, &x, &d, d.res.fail != EG_FAIL_NONE ? why_of_fail(d.res.fail) : EG_WHY_DENY, NULL,
		    NULL);
		strict_exec_free(&x);
		return;
	}
	/* confirm: the same command of the same process already being asked
	 * about (an exec restarted by a signal) rejoins its question */
	struct question *q = find_question(s, x.tgid, key);
	if (q) {
		strict_exec_free(&q->x);
		q->x = x;
		q->x_live = true;
		if (q->answered) {
			unlink_question(s, q);
			conclude(s, q, q->outcome);
			question_free(q);
		}
		return;
	}
	start_question(s, &x, &d, key);
}

/* ------------------------------------------------------------ children */

static void reap(struct sup *s)
{
	for (;;) {
		int st;
		pid_t pid = waitpid(-1, &st, __WALL | WNOHANG);
		if (pid <= 0)
			return;
		if (WIFSTOPPED(st)) {
			on_stop(s, pid, st);
			continue;
		}
		if (pid == s->child) {
			s->child_done = true;
			s->child_status = WIFEXITED(st) ? WEXITSTATUS(st)
			    : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : 1;
		}
		if (on_helper_exit(s, pid, st))
			continue;
		drop_traced(s, pid);
		/* else: an orphan of the tree, or a message writer */
	}
}

static void on_signals(struct sup *s)
{
	struct signalfd_siginfo si;
	while (read(s->sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
		switch (si.ssi_signo) {
		case SIGCHLD:
			reap(s);
			break;
		case SIGTERM:
		case SIGHUP:
			if (!s->child_done)
				kill(s->child, (int)si.ssi_signo);
			break;
		default:
			/* SIGINT, SIGQUIT from the terminal reach the command's
			 * group directly; the supervisor stays up for it */
			break;
		}
	}
}

int strict_supervise(const struct strict_supervisor_cfg *cfg)
{
	struct sup s;
	memset(&s, 0, sizeof s);
	s.cfg = cfg;
	s.child = cfg->child;
	s.scratch = malloc(sizeof *s.scratch);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGQUIT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	s.sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (s.scratch == NULL || s.sigfd < 0) {
		/* cannot supervise: the tree's execs fail once the listener
		 * closes (fail closed); stop the command */
		kill(cfg->child, SIGKILL);
		waitpid(cfg->child, NULL, 0);
		return 126;
	}
	reap(&s); /* anything that happened before the signal was blocked */

	bool listener_open = true;
	uint64_t drain_until = 0;
	struct pollfd *pfds = NULL;
	size_t pcap = 0;
	for (;;) {
		if (s.child_done) {
			if (drain_until == 0) {
				drain_until = now_ns() + DRAIN_NS;
				for (struct question *q = s.questions; q; q = q->next)
					if (q->helper > 0)
						kill(q->helper, SIGTERM);
			}
			bool asking = false;
			for (struct question *q = s.questions; q; q = q->next)
				asking |= q->helper > 0;
			if ((!asking && s.traced == NULL) || now_ns() >= drain_until)
				break;
		}
		size_t nq = 0;
		for (struct question *q = s.questions; q; q = q->next)
			nq++;
		if (nq + 2 > pcap) {
			pcap = nq + 2;
			struct pollfd *np = realloc(pfds, pcap * sizeof *np);
			if (np == NULL)
				break;
			pfds = np;
		}
		size_t n = 0;
		pfds[n++] = (struct pollfd){ .fd = s.sigfd, .events = POLLIN };
		pfds[n++] = (struct pollfd){ .fd = listener_open && !s.child_done ? cfg->listener : -1,
			.events = POLLIN };
		for (struct question *q = s.questions; q; q = q->next)
			if (q->pidfd >= 0)
				pfds[n++] = (struct pollfd){ .fd = q->pidfd, .events = POLLIN };
		int timeout = s.child_done ? 50 : (s.questions ? 1000 : -1);
		int r = poll(pfds, n, timeout);
		if (r < 0 && errno != EINTR)
			break;
		if (r > 0) {
			if (pfds[0].revents & POLLIN)
				on_signals(&s);
			if (pfds[1].revents & POLLIN)
				on_notification(&s);
			else if (pfds[1].revents & (POLLHUP | POLLERR))
				listener_open = false; /* no process uses the filter any more */
			withdraw_dead(&s, pfds + 2, n - 2);
		}
		expire_answers(&s);
	}
	free(pfds);
	/* Whatever still waits gets ENOSYS once the listener closes; a process
	 * still attached dies with us (PTRACE_O_EXITKILL). */
	while (s.questions) {
		struct question *q = s.questions;
		s.questions = q->next;
		if (q->helper > 0) {
			kill(q->helper, SIGTERM);
			waitpid(q->helper, NULL, 0);
		}
		question_free(q);
	}
	while (s.traced) {
		struct traced *t = s.traced;
		s.traced = t->next;
		traced_free(t);
	}
	close(s.sigfd);
	free(s.scratch);
	return s.child_done ? s.child_status : 126;
}
