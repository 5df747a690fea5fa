/*
 * Fuzz target: the subject builder. An argv (and, by flag, the same bytes
 * as one shell string) goes through wrapper unwrapping and shell splitting,
 * in both modes, and the result is walked and quoted. The builder runs on the
 * exec hook path with fixed-size buffers: every index it produces must stay
 * inside them, and overflow must be reported, never ignored.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "execguard.h"
#include "fuzz_input.h"
#include "subject.h"

enum {
	F_UNWRAP_ALL = 1u << 0, /* check/lint mode instead of hook mode */
	F_SHELL = 1u << 1,      /* also split the first word as one shell string */
};

static struct eg_subject S;
static char quoted[EG_CMDLINE_MAX];

/* Every command's words and assignments are inside the subject, each word is
 * a terminated string, parents come before children. */
static void walk(const struct eg_subject *s)
{
	if (s->n_cmds > EG_SUBJ_MAX_CMDS || s->n_words > EG_SUBJ_MAX_WORDS ||
	    s->text_used > EG_SUBJ_TEXT)
		__builtin_trap();
	for (uint32_t i = 0; i < s->n_cmds; i++) {
		const struct eg_cmd *c = &s->cmds[i];
		if (c->parent >= (int32_t)i || c->depth > EG_SUBJ_MAX_DEPTH + 1)
			__builtin_trap();
		if (c->argv == NULL &&
		    ((uint64_t)c->first_word + c->n_words > s->n_words))
			__builtin_trap();
		if ((uint64_t)c->first_assign + c->n_assign > s->n_words)
			__builtin_trap();
		size_t total = 0;
		for (uint32_t j = 0; j < c->n_words; j++)
			total += strlen(eg_cmd_word(s, c, j));
		for (uint32_t j = 0; j < c->n_assign; j++)
			total += strlen(s->words[c->first_assign + j]);
		if (c->prog)
			total += strlen(c->prog);
		if (c->prog_exe)
			total += strlen(c->prog_exe);
		(void)total;
		if (c->argv == NULL && c->n_words > 0) {
			size_t len = eg_quote_argv(quoted, sizeof quoted,
			    (const char *const *)&s->words[c->first_word], c->n_words);
			if (len >= sizeof quoted || quoted[len] != '\0')
				__builtin_trap();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in;
	if (fuzz_input_split(&in, data, size) < 0)
		return 0;
	unsigned flags = (in.flags & F_UNWRAP_ALL) ? EG_SUBJ_UNWRAP_ALL : 0;

	int rc = eg_subject_build(&S, in.argv, NULL, flags);
	if (rc < 0 && !S.overflow)
		__builtin_trap();
	walk(&S);
	(void)eg_subject_is_wrapper(in.argc ? in.argv[0] : "");

	if (in.flags & F_SHELL) {
		/* The first word as one shell string (as in sh -c WORD). */
		memset(&S, 0, offsetof(struct eg_subject, words));
		S.n_cmds = S.n_words = S.text_used = 0;
		S.overflow = false;
		const char *str = in.argc ? in.argv[0] : "";
		rc = eg_subject_add_shell(&S, str, strlen(str), -1, EG_VIA_TOP, EG_SUBJ_UNWRAP_ALL);
		if (rc < 0 && !S.overflow)
			__builtin_trap();
		walk(&S);
	}

	char buf[256];
	(void)eg_quote_argv(buf, sizeof buf, (const char *const *)in.argv, in.argc);
	fuzz_input_free(&in);
	return 0;
}
