/*
 * The one message a refused call writes to the caller's stderr, written for
 * the agent that made the call to read. Hook-path code: one write(2) of a
 * stack buffer, no stdio, no allocation; errno preserved.
 */
#ifndef EG_REFUSE_H
#define EG_REFUSE_H

enum eg_refuse_why {
	EG_WHY_SAID_NO = 0, /* the human answered something other than the word */
	EG_WHY_TIMEOUT,
	EG_WHY_NO_TTY,
	EG_WHY_BACKGROUND,
	EG_WHY_PROMPT_ERROR,
	EG_WHY_DENY,
	EG_WHY_TOO_BIG,
	EG_WHY_REGEX,
	EG_WHY_NO_POLICY,
	/* approval channels (approve.c) */
	EG_WHY_APPROVER_NO,     /* the approver program exited non-zero */
	EG_WHY_APPROVER_FAILED, /* it could not start, was killed or timed out */
	EG_WHY_COOLDOWN,        /* the same request was refused a moment ago */
	EG_WHY_NO_BROKER,       /* approve-elsewhere, and no broker answers */
	EG_WHY_BAD_CODES,       /* the broker refused all: too many wrong codes */
	EG_WHY_ENV,             /* the child's environment could not be rebuilt */
};

/* Short machine word for the audit log ("said-no", "deny", ...). */
const char *eg_refuse_why_word(enum eg_refuse_why why);

/*
 * Write the message to fd 2:
 *   execguard: blocked: <cmdline>
 *     rule: <id> (<file:line>)
 *     why: <reason>
 *     <what happened>
 *     Do not retry or work around this; ask the user to run the command
 *     themselves if it is really needed.
 * `rule_id`, `where` and `reason` may be NULL (fail-closed refusals);
 * `detail` (may be NULL) is appended to the what-happened line.
 * Control characters are replaced so the text cannot drive a terminal.
 */
void eg_refuse_message(const char *cmdline, const char *rule_id, const char *where,
    const char *reason, enum eg_refuse_why why, const char *detail);

#endif
