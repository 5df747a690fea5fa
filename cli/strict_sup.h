/*
 * Internal to the strict-mode supervisor (strict_supervisor.c: the event
 * loop and the checks after exec; strict_answer.c: how an answer reaches
 * the caller; strict_question.c: questions in helper processes).
 */
#ifndef EG_STRICT_SUP_H
#define EG_STRICT_SUP_H

#include <poll.h>
#include <stdint.h>

#include "strict.h"
#include "refuse.h"

#define RECENT_SLOTS 8

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

/* strict_answer.c */
uint64_t sup_now_ns(void);
int sup_pidfd(pid_t pid);
uint64_t sup_argv_key(const struct strict_exec *x);
bool sup_recently_refused(const struct sup *s, pid_t pid, uint64_t key);
void sup_respond(const struct sup *s, uint64_t id, int error, bool go_on);
bool sup_still_waiting(const struct sup *s, uint64_t id);
void sup_audit(const struct strict_exec *x, const struct decision *d, const char *outcome,
    const char *why);
/* The caller learns that its exec was refused: the message on its stderr
 * (`custom` replaces refuse.c's words for strict-mode situations), the audit
 * record (`audit_why` or the reason's word), then EACCES. */
void sup_refuse(struct sup *s, const struct strict_exec *x, const struct decision *d,
    enum eg_refuse_why why, const char *custom, const char *audit_why);
/* Process `pid`, stopped at the end of an exec that is not what was checked:
 * the message on its stderr (before the caller kills it). */
void sup_tell_killed(const struct sup *s, pid_t pid, const struct decision *d, const char *why);
/* The first process reports EACCES itself: tell it that it was refused. */
void sup_mark_child_refused(struct sup *s, const struct strict_exec *x);

/* strict_question.c */
/* Ask about a confirm (or rejoin the open question for the same command of
 * the same process). Takes x. */
void sup_ask(struct sup *s, struct strict_exec *x, const struct decision *d, uint64_t key);
bool sup_on_helper_exit(struct sup *s, pid_t pid, int st);
/* pidfds of asking processes that became readable: they exited. */
void sup_withdraw_dead(struct sup *s, const struct pollfd *pfds, size_t n);
void sup_expire_answers(struct sup *s);
void sup_stop_asking(struct sup *s); /* SIGTERM to every helper */
bool sup_asking(const struct sup *s);
size_t sup_question_count(const struct sup *s);
/* the asking processes' pidfds, for poll */
size_t sup_question_fds(const struct sup *s, struct pollfd *out, size_t max);
void sup_questions_free(struct sup *s); /* at exit: helpers ended and reaped */

/* strict_supervisor.c */
/* Let the exec in x happen, verified at its end. Takes x. */
void sup_let_through(struct sup *s, struct strict_exec *x, const struct decision *d);

#endif
