/*
 * Ask the human about one confirm, through the channel the settings choose:
 *
 *   set approver CMD          CMD is run with a JSON request on stdin
 *                             (approval_request.h); exit 0 = yes
 *   set approve-elsewhere on  the session's broker (`execguard run`, see
 *                             broker_proto.h): the human approves with a
 *                             one-time code from another terminal; no
 *                             broker = refused
 * (an approver wins over approve-elsewhere when both are set)
 *   (neither)                 the controlling terminal (prompt.c)
 *
 * Around the channel, the session's memory (approval_memory.h): a request
 * refused a moment ago is refused again without a question
 * (`refuse-cooldown`, default 60 s), and with `allow-once N` an approved argv
 * in the same cwd runs again without a question for N seconds.
 *
 * This is the one entry point for "ask the human": the exec hooks
 * (guard.c) and any other caller (strict mode) use it. Hook-path code: no
 * malloc, no stdio, no locks; errno preserved.
 */
#ifndef EG_APPROVE_H
#define EG_APPROVE_H

#include <stdbool.h>

#include "audit.h"
#include "execguard.h"
#include "preload.h"
#include "prompt.h"
#include "refuse.h"

#define EG_REFUSE_COOLDOWN_DEFAULT 60u


struct eg_approval_req {
	const struct eg_prompt_req *q; /* what the human is shown (command, rule, asker) */
	char *const *argv;             /* the command as executed (approver JSON, memory key) */
	char *const *envp;             /* the host's environment (session, runtime dir, display) */
	const struct eg_policy *policy; /* its settings choose the channel */
};

struct eg_approval {
	bool approved;
	enum eg_audit_channel channel; /* who answered (audit.h) */
	enum eg_refuse_why why; /* when not approved */
	unsigned age_sec;       /* EG_CHANNEL_MEMORY: how long ago the human answered */
};

/* Ask; fills *out. Never approves on an error. */
EG_HIDDEN void eg_approval_ask(const struct eg_approval_req *r, struct eg_approval *out);

/* Could the configured channel reach a human right now? EG_PROMPT_YES, or
 * why not (for the callers that defer the question to a child). */
EG_HIDDEN enum eg_prompt_outcome eg_approval_reachable(const struct eg_policy *p);

/* The variables an approver gets besides PATH (HOME, DISPLAY, ...): what
 * `execguard run` records in EXECGUARD_APPROVER_ENV at the session's start. */
EG_HIDDEN const char *const *eg_approver_env_names(size_t *n);


#endif
