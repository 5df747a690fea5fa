/*
 * Fuzz target: the rule-file parser, and what is built from what it accepts.
 * The input is one rule file's text. When it parses, its regexes are
 * validated, the policy block is built, adopted again from a copy (as a
 * guarded process maps it from disk) and every example/safe line is run
 * through the matcher, which exercises the matcher on fuzzed patterns too.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "execguard.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void from_block_copy(const struct eg_policy *p)
{
	size_t bsize;
	const void *block = eg_policy_block(p, &bsize);
	/* Exactly bsize bytes, 8-aligned as an mmap is: a read past the end is
	 * an ASan report. */
	void *copy = aligned_alloc(8, (bsize + 7) & ~(size_t)7);
	if (copy == NULL)
		return;
	memcpy(copy, block, bsize);
	struct eg_policy *q = eg_policy_from_block(copy, bsize, false);
	if (q == NULL || eg_policy_hash(q) != eg_policy_hash(p) ||
	    eg_policy_rule_count(q) != eg_policy_rule_count(p))
		__builtin_trap();
	static struct eg_check_scratch scratch;
	struct eg_check_result res;
	char *argv[] = { "terraform", "destroy", NULL };
	struct eg_check_input in = { .argv = argv, .flags = EG_CHECK_UNWRAP_ALL };
	(void)eg_check(q, &in, &scratch, &res);
	for (uint32_t i = 0; i < eg_policy_rule_count(q); i++) {
		struct eg_rule_info ri;
		if (eg_policy_rule_info(q, i, &ri) < 0)
			__builtin_trap();
	}
	eg_policy_free(q);
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The first byte picks protected (root-owned) or user-writable source. */
	bool protected_src = size > 0 && (data[0] & 1);
	struct eg_ruleset rs = { 0 };
	struct eg_diags d = { 0 };
	int rc = eg_ruleset_parse_text(&rs, "fuzz.rules", (const char *)data, size, protected_src, &d);
	if (rc < 0 && d.n == 0)
		__builtin_trap(); /* an error always says what is wrong */
	if (rc == 0 && eg_ruleset_validate_regex(&rs, &d) == 0) {
		struct eg_policy *p = eg_policy_build(&rs, &d);
		if (p != NULL) {
			from_block_copy(p);
			(void)eg_lint_examples(&rs, p, &d);
			eg_policy_free(p);
		}
	}
	for (size_t i = 0; i < d.n; i++)
		if (d.v[i].msg == NULL)
			__builtin_trap();
	eg_diags_free(&d);
	eg_ruleset_free(&rs);
	return 0;
}
