/*
 * The refusal message. See refuse.h. It states what was blocked, by which
 * rule, why, and what to do instead; it never says how to get around the
 * guard (no variable, flag or file to set), since the reader may be the
 * agent that made the call.
 */
#include "refuse.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#define MSG_MAX 8192

struct buf {
	char *p;
	size_t len, cap;
};

static void put_raw(struct buf *b, const char *s)
{
	for (; *s && b->len + 1 < b->cap; s++)
		b->p[b->len++] = *s;
}

/* Copy text from outside (argv, rule files): control bytes become '?', so
 * nothing written here can move the cursor or recolour a terminal. */
static void put_text(struct buf *b, const char *s, size_t max)
{
	size_t n = 0;
	for (; *s && b->len + 1 < b->cap; s++, n++) {
		if (n == max) {
			put_raw(b, "...");
			return;
		}
		unsigned char c = (unsigned char)*s;
		b->p[b->len++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
}

const char *eg_refuse_why_word(enum eg_refuse_why why)
{
	switch (why) {
	case EG_WHY_SAID_NO: return "said-no";
	case EG_WHY_TIMEOUT: return "timeout";
	case EG_WHY_NO_TTY: return "no-terminal";
	case EG_WHY_BACKGROUND: return "background";
	case EG_WHY_PROMPT_ERROR: return "prompt-error";
	case EG_WHY_DENY: return "denied";
	case EG_WHY_TOO_BIG: return "too-big";
	case EG_WHY_REGEX: return "regex-error";
	case EG_WHY_NO_POLICY: return "no-policy";
	case EG_WHY_APPROVER_NO: return "approver-said-no";
	case EG_WHY_APPROVER_FAILED: return "approver-failed";
	case EG_WHY_COOLDOWN: return "refused-recently";
	case EG_WHY_NO_BROKER: return "no-broker";
	case EG_WHY_BAD_CODES: return "wrong-codes";
	case EG_WHY_ENV: return "environment";
	}
	return "refused";
}

static const char *what_happened(enum eg_refuse_why why)
{
	switch (why) {
	case EG_WHY_SAID_NO:
		return "The human at the terminal said no.";
	case EG_WHY_TIMEOUT:
		return "The human at the terminal did not answer in time, which counts as no.";
	case EG_WHY_NO_TTY:
		return "This command needs a human's approval and there is no terminal to ask a human on, so it is refused.";
	case EG_WHY_BACKGROUND:
		return "This command needs a human's approval and the terminal belongs to another job, so no human could be asked; it is refused.";
	case EG_WHY_PROMPT_ERROR:
		return "This command needs a human's approval and the question could not be asked (terminal error), so it is refused.";
	case EG_WHY_DENY:
		return "Denied by policy: this command is never run under execguard.";
	case EG_WHY_TOO_BIG:
		return "It could not be checked: too large for the checker, so it is refused.";
	case EG_WHY_REGEX:
		return "It could not be checked: a rule's pattern failed while matching, so it is refused.";
	case EG_WHY_NO_POLICY:
		return "It could not be checked: the execguard rules could not be loaded, so every command is refused.";
	case EG_WHY_APPROVER_NO:
		return "The human's approver said no.";
	case EG_WHY_APPROVER_FAILED:
		return "The human's approver gave no answer (it failed, was stopped or timed out), which counts as no.";
	case EG_WHY_COOLDOWN:
		return "The human refused this same command a moment ago, so it is refused again without asking. Stop retrying it, in this or any other form.";
	case EG_WHY_NO_BROKER:
		return "This command needs a human's approval from another terminal and the approval service of this session is not running, so it is refused.";
	case EG_WHY_BAD_CODES:
		return "Wrong approval codes were tried in this session, so every waiting request was refused.";
	case EG_WHY_ENV:
		return "Its environment could not be rebuilt with the guard in it, so it is refused.";
	}
	return "Refused.";
}

void eg_refuse_message(const char *cmdline, const char *rule_id, const char *where,
    const char *reason, enum eg_refuse_why why, const char *detail)
{
	int saved = errno;
	char mem[MSG_MAX];
	struct buf b = { mem, 0, sizeof mem };

	put_raw(&b, "execguard: blocked: ");
	put_text(&b, cmdline && *cmdline ? cmdline : "(empty command)", 2048);
	put_raw(&b, "\n");
	if (rule_id && *rule_id) {
		put_raw(&b, "  rule: ");
		put_text(&b, rule_id, 256);
		if (where && *where) {
			put_raw(&b, " (");
			put_text(&b, where, 1024);
			put_raw(&b, ")");
		}
		put_raw(&b, "\n");
	}
	if (reason && *reason) {
		put_raw(&b, "  why: ");
		put_text(&b, reason, 2048);
		put_raw(&b, "\n");
	}
	put_raw(&b, "  ");
	put_raw(&b, what_happened(why));
	if (detail && *detail) {
		put_raw(&b, " (");
		put_text(&b, detail, 1024);
		put_raw(&b, ")");
	}
	put_raw(&b, "\n");
	if (why == EG_WHY_NO_POLICY)
		put_raw(&b, "  The user can see what is wrong with `execguard lint` and must fix it.\n");
	if (why == EG_WHY_COOLDOWN)
		put_raw(&b, "  Tell the user what you wanted to run and why, and let them decide.\n");
	put_raw(&b, "  Do not retry or work around this; ask the user to run the command themselves if it is really needed.\n");

	/* Always end on a newline even when truncated. */
	if (b.len > 0 && b.p[b.len - 1] != '\n')
		b.p[b.len - 1] = '\n';

	size_t off = 0;
	while (off < b.len) {
		ssize_t w = write(2, b.p + off, b.len - off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		off += (size_t)w;
	}
	errno = saved;
}
