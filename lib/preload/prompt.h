/*
 * Asking the human on the controlling terminal. Hook-path code: no malloc,
 * no stdio, no locks other than the kernel's flock on the terminal itself.
 */
#ifndef EG_PROMPT_H
#define EG_PROMPT_H

#include <errno.h>
#include <stdbool.h>
#include <sys/types.h>

enum eg_prompt_outcome {
	EG_PROMPT_YES = 0,     /* the human typed the required word */
	EG_PROMPT_NO,          /* anything else, empty line, EOF, Ctrl-C/D/Z */
	EG_PROMPT_TIMEOUT,
	EG_PROMPT_NO_TTY,      /* no controlling terminal could be opened */
	EG_PROMPT_BACKGROUND,  /* caller's process group is not the terminal's foreground */
	EG_PROMPT_ERROR,       /* I/O error, hangup */
};

struct eg_prompt_req {
	const char *cmdline;  /* shell-quoted command */
	const char *cwd;
	const char *rule_id;
	const char *reason;
	const char *rule_file; /* file:line */
	unsigned rule_line;
	const char *required;  /* "yes", or the critical rule's word */
	unsigned timeout_sec;  /* EXECGUARD_PROMPT_TIMEOUT, default 120 */
	pid_t pid;
	const char *progname;  /* the asking process */
	const char *parents;   /* "bash(123) < claude(100)", may be "" */
};

enum eg_prompt_outcome eg_prompt_ask(const struct eg_prompt_req *req);
/* Opening /dev/tty failed with `err`: no controlling terminal (ENXIO and
 * the like), or one that exists but could not be opened for lack of a
 * descriptor or memory (EMFILE, ENFILE, ENOMEM), which is an error, not
 * the absence of a human. */
static inline enum eg_prompt_outcome eg_prompt_open_failed(int err)
{
	return err == EMFILE || err == ENFILE || err == ENOMEM ? EG_PROMPT_ERROR : EG_PROMPT_NO_TTY;
}
const char *eg_prompt_outcome_text(enum eg_prompt_outcome o);

#endif
