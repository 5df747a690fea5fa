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
#include "strict_sup.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/ptrace.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guard.h"
#include "strict_ping.h"

#define DRAIN_NS (1000ull * 1000000ull) /* after the command exits */

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

/* ------------------------------------------------------------ letting through */

static void traced_free(struct traced *t)
{
	strict_exec_free(&t->x);
	strict_expect_free(&t->e);
	free(t);
}

/* Let the exec in `x` happen, verified at its end. Takes ownership of x. */
void sup_let_through(struct sup *s, struct strict_exec *x, const struct decision *d)
{
	struct traced *t = calloc(1, sizeof *t);
	if (t == NULL || strict_expect_build(x, &t->e) != 0) {
		free(t);
		sup_refuse(s, x, d, EG_WHY_TOO_BIG, NULL, NULL);
		strict_exec_free(x);
		return;
	}
	if (strict_trace_exec(x->tid) != 0) {
		if (errno == EPERM)
			sup_refuse(s, x, d, EG_WHY_TOO_BIG,
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
	sup_respond(s, t->x.id, 0, true);
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
			sup_tell_killed(s, pid, &t->d, why);
			kill(pid, SIGKILL);
			sup_audit(&t->x, &t->d, "killed", "exec-mismatch");
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
	if (!sup_still_waiting(s, n->id))
		return;
	sup_refuse(s, &x, &d, EG_WHY_TOO_BIG,
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
		sup_respond(s, n.id, EG_STRICT_PING_ERRNO, false); /* "yes, supervised" */
		return;
	}
	struct strict_exec x;
	int r = strict_exec_read(s->cfg->listener, &n, &x);
	if (r == STRICT_UNREADABLE || (r < 0 && sup_still_waiting(s, n.id))) {
		/* it waits, but what it asks for cannot be known: fail closed */
		struct decision d;
		memset(&d, 0, sizeof d);
		d.action = "fail";
		snprintf(d.cmdline, sizeof d.cmdline, "(an exec by process %d)", (int)x.tgid);
		sup_refuse(s, &x, &d, EG_WHY_TOO_BIG,
		    "Strict mode could not read this exec's arguments out of the process (it may "
		    "have made itself non-dumpable), so it is refused.", "unreadable");
		strict_exec_free(&x);
		return;
	}
	if (r != 0) {
		if (r > 0)
			sup_respond(s, x.id, r, false);
		strict_exec_free(&x);
		return;
	}
	uint64_t key = sup_argv_key(&x);
	struct decision d;
	decide(s, &x, &d);
	if (d.res.fail == EG_FAIL_NONE &&
	    (d.res.action == EG_ACT_NONE || d.res.action == EG_ACT_ALLOW || d.res.action == EG_ACT_LOG)) {
		if (d.res.action == EG_ACT_LOG)
			sup_audit(&x, &d, "ran", NULL);
		sup_let_through(s, &x, &d);
		return;
	}
	if (sup_recently_refused(s, x.tgid, key)) {
		sup_mark_child_refused(s, &x);
		sup_respond(s, x.id, EACCES, false);
		strict_exec_free(&x);
		return;
	}
	if (d.res.fail != EG_FAIL_NONE || d.res.action == EG_ACT_DENY) {
		sup_refuse(s, &x, &d, d.res.fail != EG_FAIL_NONE ? why_of_fail(d.res.fail) : EG_WHY_DENY, NULL,
		    NULL);
		strict_exec_free(&x);
		return;
	}
	sup_ask(s, &x, &d, key); /* confirm */
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
		if (sup_on_helper_exit(s, pid, st))
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
				drain_until = sup_now_ns() + DRAIN_NS;
				sup_stop_asking(&s);
			}
			if ((!sup_asking(&s) && s.traced == NULL) || sup_now_ns() >= drain_until)
				break;
		}
		size_t nq = sup_question_count(&s);
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
		n += sup_question_fds(&s, pfds + n, nq);
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
			sup_withdraw_dead(&s, pfds + 2, n - 2);
		}
		sup_expire_answers(&s);
	}
	free(pfds);
	/* Whatever still waits gets ENOSYS once the listener closes; a process
	 * still attached dies with us (PTRACE_O_EXITKILL). */
	sup_questions_free(&s);
	while (s.traced) {
		struct traced *t = s.traced;
		s.traced = t->next;
		traced_free(t);
	}
	close(s.sigfd);
	free(s.scratch);
	return s.child_done ? s.child_status : 126;
}
