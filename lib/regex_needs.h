/*
 * What a regex needs of its subject: a few literal strings, one of which
 * is in every subject the regex matches. A check tests them with a plain
 * search before it touches PCRE2: most rules of a program (git's push,
 * reset --hard, clean, ...) then cost a guarded `git status` no PCRE2 code,
 * no regex memory and no decoded code (check.c, run_regex).
 *
 * Worked out once, when the policy block is built, from the pattern's
 * text, for the options every regex is compiled with (EG_COMPILE_FLAGS: no
 * caseless, no extended syntax). Soundness is the whole point, so it is
 * conservative: anything in the pattern it does not understand exactly
 * (an inline option, a backreference, \Q, a non-ASCII character, a brace
 * that may not be a quantifier, a verb, a comment, after which a
 * quantifier applies to what came before it) gives no literals at all, and
 * the regex always runs. Internal to lib/.
 */
#ifndef EG_REGEX_NEEDS_H
#define EG_REGEX_NEEDS_H

#include <stddef.h>

/* At most this many literals (a larger set is no help), each cut to at
 * most this many bytes (a part of a needed string is needed too). */
#define EG_NEEDS_MAX 8u
#define EG_NEED_LEN_MAX 32u

struct eg_needs {
	unsigned n; /* 0: nothing is known, the regex must run */
	unsigned char len[EG_NEEDS_MAX];
	char lit[EG_NEEDS_MAX][EG_NEED_LEN_MAX];
};

/* The literals pattern[0..len) needs (out->n 0: none known). Literals
 * hold no NUL. */
void eg_regex_needs(const char *pattern, size_t len, struct eg_needs *out);

#endif
