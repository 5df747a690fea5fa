/*
 * Fuzz target: what a regex needs of its subject (lib/regex_needs.c), the
 * literals a check looks for before it runs PCRE2. The input is a pattern,
 * a NUL, then a subject (no NUL: the subject is empty). When PCRE2 compiles
 * the pattern (with the flags every rule's regex gets) and matches the
 * subject, the subject must hold one of the literals: anything else would
 * let a dangerous command through unasked. The literals' own bounds are
 * checked too (at most EG_NEEDS_MAX, each 1..EG_NEED_LEN_MAX bytes, no NUL).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy_block.h"
#include "regex_needs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool holds(const char *hay, size_t hay_len, const char *needle, size_t len)
{
	return memmem(hay, hay_len, needle, len) != NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	size_t pat_len = nul ? (size_t)(nul - data) : size;
	/* exact-size copies: ASan catches any read past either */
	char *pattern = malloc(pat_len ? pat_len : 1);
	size_t subj_len = nul ? size - pat_len - 1 : 0;
	char *subject = malloc(subj_len ? subj_len : 1);
	if (pattern == NULL || subject == NULL) {
		free(pattern);
		free(subject);
		return 0;
	}
	memcpy(pattern, data, pat_len);
	if (subj_len)
		memcpy(subject, nul + 1, subj_len);

	struct eg_needs needs;
	eg_regex_needs(pattern, pat_len, &needs);
	if (needs.n > EG_NEEDS_MAX)
		__builtin_trap();
	for (unsigned i = 0; i < needs.n; i++)
		if (needs.len[i] == 0 || needs.len[i] > EG_NEED_LEN_MAX ||
		    memchr(needs.lit[i], '\0', needs.len[i]) != NULL)
			__builtin_trap();

	int err;
	PCRE2_SIZE off;
	pcre2_code *code = pcre2_compile((PCRE2_SPTR)pattern, pat_len, EG_COMPILE_FLAGS, &err, &off, NULL);
	if (code != NULL) {
		pcre2_match_data *md = pcre2_match_data_create_from_pattern(code, NULL);
		pcre2_match_context *mc = pcre2_match_context_create(NULL);
		if (md != NULL && mc != NULL) {
			pcre2_set_match_limit(mc, 100000);
			int rc = pcre2_match(code, (PCRE2_SPTR)subject, subj_len, 0, 0, md, mc);
			bool met = needs.n == 0;
			for (unsigned i = 0; i < needs.n && !met; i++)
				met = holds(subject, subj_len, needs.lit[i], needs.len[i]);
			if (rc >= 0 && !met)
				__builtin_trap(); /* a match without any of its literals */
		}
		pcre2_match_context_free(mc);
		pcre2_match_data_free(md);
		pcre2_code_free(code);
	}
	free(pattern);
	free(subject);
	return 0;
}
