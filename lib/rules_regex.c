/* Compile every pattern once at load time, so errors carry file:line:col. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>

#include "execguard.h"

static int check_one(const struct eg_rule *r, const struct eg_pattern *pat, struct eg_diags *d)
{
	int err = 0;
	PCRE2_SIZE off = 0;
	pcre2_code *code = pcre2_compile((PCRE2_SPTR)pat->re, PCRE2_ZERO_TERMINATED,
	    PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &err, &off, NULL);
	if (code) {
		pcre2_code_free(code);
		return 0;
	}
	PCRE2_UCHAR msg[512];
	if (pcre2_get_error_message(err, msg, sizeof(msg)) == PCRE2_ERROR_BADDATA)
		snprintf((char *)msg, sizeof(msg), "PCRE2 error %d", err);
	eg_diags_add(d, r->file, pat->line, pat->col + (unsigned)off, "regex: %s (at offset %zu)",
	    (const char *)msg, (size_t)off);
	return -1;
}

int eg_ruleset_validate_regex(const struct eg_ruleset *rs, struct eg_diags *d)
{
	int rc = 0;
	for (size_t i = 0; i < rs->n_rules; i++) {
		const struct eg_rule *r = &rs->rules[i];
		for (size_t j = 0; j < r->n_match; j++)
			rc |= check_one(r, &r->match[j], d);
		for (size_t j = 0; j < r->n_unless; j++)
			rc |= check_one(r, &r->unless[j], d);
		for (size_t j = 0; j < r->n_env; j++)
			rc |= check_one(r, &r->env[j].re, d);
		for (size_t j = 0; j < r->n_cwd; j++)
			rc |= check_one(r, &r->cwd[j], d);
	}
	return rc ? -1 : 0;
}
