/*
 * The approval step of strict mode. See strict.h.
 *
 * It runs in a helper process the supervisor forks for one question, so the
 * supervisor goes on answering every other exec of the tree while a human
 * reads this one (a `make -j` keeps building). The channel today is the
 * terminal prompt the preload library uses (lib/preload/prompt.c, linked
 * into the execguard tool): same text, same keys, same timeout, same lock
 * that keeps two questions from sharing the screen.
 *
 * The prompt decides "can a human be asked?" from the asking process's point
 * of view: a controlling terminal, and its process group in the foreground.
 * The supervisor's own group is not the one that matters (a shell run under
 * `execguard run --strict` puts each job in a group of its own), so the
 * helper first moves into the asking process's group; that is allowed only
 * within one session, which is exactly the condition for the terminal being
 * the one the human started execguard on. A process in another session (a
 * daemon, or a terminal the agent opened for itself) is never asked on the
 * human's terminal: no terminal, refused.
 */
#include "strict.h"

#include <unistd.h>

#include "approve.h"
#include "guard.h"

bool strict_asks_on_terminal(void)
{
	const struct eg_policy *p = eg_guard_cfg.policy;
	return !eg_policy_setting(p, "approver") && !eg_policy_setting_bool(p, "approve-elsewhere", false);
}

/* The channels of approve.c answer with a reason; the supervisor takes a
 * prompt outcome (the helper's exit status). Every refusal stays one. */
static enum eg_prompt_outcome outcome_of(const struct eg_approval *a)
{
	if (a->approved)
		return EG_PROMPT_YES;
	switch (a->why) {
	case EG_WHY_TIMEOUT: return EG_PROMPT_TIMEOUT;
	case EG_WHY_NO_TTY: return EG_PROMPT_NO_TTY;
	case EG_WHY_BACKGROUND: return EG_PROMPT_BACKGROUND;
	case EG_WHY_SAID_NO:
	case EG_WHY_APPROVER_NO:
	case EG_WHY_COOLDOWN: return EG_PROMPT_NO;
	default: return EG_PROMPT_ERROR;
	}
}

enum eg_prompt_outcome strict_approve(const struct strict_question *q)
{
	/* The terminal is asked from the asking process's group; an approver
	 * program or the broker needs no terminal of its own. */
	if (strict_asks_on_terminal()) {
		if (q->session <= 0 || q->session != getsid(0))
			return EG_PROMPT_NO_TTY;
		if (getpgrp() != q->pgrp && setpgid(0, q->pgrp) != 0)
			return EG_PROMPT_NO_TTY;
	}
	struct eg_approval_req ar = {
		.q = &q->prompt,
		.argv = q->argv,
		.envp = q->envp,
		.policy = eg_guard_cfg.policy,
	};
	struct eg_approval a;
	eg_approval_ask(&ar, &a);
	return outcome_of(&a);
}
