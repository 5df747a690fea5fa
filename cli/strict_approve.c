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

enum eg_prompt_outcome strict_approve(const struct strict_question *q)
{
	if (q->session <= 0 || q->session != getsid(0))
		return EG_PROMPT_NO_TTY;
	if (getpgrp() != q->pgrp && setpgid(0, q->pgrp) != 0)
		return EG_PROMPT_NO_TTY;
	return eg_prompt_ask(&q->prompt);
}
