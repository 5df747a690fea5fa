/*
 * Questions of the strict-mode supervisor (strict_sup.h). Each confirm is
 * asked by a helper process (strict_approve() in it), so the event loop
 * keeps answering every other exec of the tree while a human reads one.
 * The helper's exit status is the answer. A question is withdrawn when the
 * asking process exits (its pidfd becomes readable): the helper gets
 * SIGTERM, and the prompt restores the terminal.
 */
#include "strict_sup.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guard.h"

#define ANSWER_KEEP_NS (5ull * 1000000000ull) /* see question.answered */

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
		sup_audit(&q->x, &q->d, "approved", NULL);
		sup_let_through(s, &q->x, &q->d);
	} else {
		sup_refuse(s, &q->x, &q->d, why_of_prompt(o), NULL, NULL);
	}
}

static void start_question(struct sup *s, struct strict_exec *x, const struct decision *d,
    uint64_t key)
{
	struct strict_proc pi;
	if (strict_proc_info(x->tgid, &pi) != 0) {
		strict_exec_free(x);
		return; /* gone */
	}
	if (pi.tty_nr == 0 && strict_asks_on_terminal()) {
		sup_refuse(s, x, d, EG_WHY_NO_TTY, NULL, NULL);
		strict_exec_free(x);
		return;
	}
	struct question *q = calloc(1, sizeof *q);
	if (q == NULL) {
		sup_refuse(s, x, d, EG_WHY_PROMPT_ERROR, NULL, NULL);
		strict_exec_free(x);
		return;
	}
	q->x = *x;
	memset(x, 0, sizeof *x);
	x->exe_fd = -1;
	q->d = *d;
	q->key = key;
	q->x_live = true;
	q->pidfd = sup_pidfd(q->x.tgid);

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
bool sup_on_helper_exit(struct sup *s, pid_t pid, int st)
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
	if (q->x_live && sup_still_waiting(s, q->x.id)) {
		unlink_question(s, q);
		conclude(s, q, o);
		question_free(q);
		return true;
	}
	/* Nobody waits right now: keep the answer for the restarted exec. */
	q->x_live = false;
	q->answered = true;
	q->outcome = o;
	q->answered_at = sup_now_ns();
	return true;
}

/* The asking process exited: withdraw its questions. */
void sup_withdraw_dead(struct sup *s, const struct pollfd *pfds, size_t n)
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

void sup_expire_answers(struct sup *s)
{
	uint64_t now = sup_now_ns();
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

void sup_ask(struct sup *s, struct strict_exec *x, const struct decision *d, uint64_t key)
{
	/* the same command of the same process already being asked about (an
	 * exec restarted by a signal) rejoins its question, or gets its kept
	 * answer */
	struct question *q = find_question(s, x->tgid, key);
	if (q == NULL) {
		start_question(s, x, d, key);
		return;
	}
	strict_exec_free(&q->x);
	q->x = *x;
	memset(x, 0, sizeof *x);
	x->exe_fd = -1;
	q->x_live = true;
	if (q->answered) {
		unlink_question(s, q);
		conclude(s, q, q->outcome);
		question_free(q);
	}
}

size_t sup_question_fds(const struct sup *s, struct pollfd *out, size_t max)
{
	size_t n = 0;
	for (const struct question *q = s->questions; q && n < max; q = q->next)
		if (q->pidfd >= 0)
			out[n++] = (struct pollfd){ .fd = q->pidfd, .events = POLLIN };
	return n;
}

size_t sup_question_count(const struct sup *s)
{
	size_t n = 0;
	for (const struct question *q = s->questions; q; q = q->next)
		n++;
	return n;
}

void sup_stop_asking(struct sup *s)
{
	for (struct question *q = s->questions; q; q = q->next)
		if (q->helper > 0)
			kill(q->helper, SIGTERM); /* the prompt answers no and restores the terminal */
}

bool sup_asking(const struct sup *s)
{
	for (const struct question *q = s->questions; q; q = q->next)
		if (q->helper > 0)
			return true;
	return false;
}

void sup_questions_free(struct sup *s)
{
	while (s->questions) {
		struct question *q = s->questions;
		s->questions = q->next;
		if (q->helper > 0) {
			kill(q->helper, SIGTERM);
			waitpid(q->helper, NULL, 0);
		}
		question_free(q);
	}
}
