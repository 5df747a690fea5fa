/* Every shipped rule proves itself: each example is caught by its rule and
 * each safe line is not, through the same engine the hooks use. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "execguard.h"

#ifndef EG_SOURCE_DIR
#error "EG_SOURCE_DIR must be defined by the build"
#endif

Test(packs, every_example_and_safe_line)
{
	struct eg_sources src = { .packs_dir = EG_SOURCE_DIR "/patterns" };
	struct eg_ruleset rs = { 0 };
	struct eg_diags d = { 0 };
	int rc = eg_ruleset_load(&rs, &src, &d);
	if (rc == 0)
		rc = eg_ruleset_validate_regex(&rs, &d);
	struct eg_policy *p = rc == 0 ? eg_policy_build(&rs, &d) : NULL;
	if (p != NULL)
		eg_lint_examples(&rs, p, &d);
	for (size_t i = 0; i < d.n; i++)
		fprintf(stderr, "%s:%u:%u: %s\n", d.v[i].file ? d.v[i].file : "", d.v[i].line,
		    d.v[i].col, d.v[i].msg);
	cr_expect_eq(d.n, 0, "%zu problems in the shipped packs (listed above)", d.n);
	cr_assert_not_null(p);
	cr_expect_gt(rs.n_rules, 0);
	size_t examples = 0, safes = 0;
	for (size_t i = 0; i < rs.n_rules; i++) {
		cr_expect_gt(rs.rules[i].n_examples, 0, "rule %s has no example", rs.rules[i].id);
		examples += rs.rules[i].n_examples;
		safes += rs.rules[i].n_safes;
	}
	fprintf(stderr, "packs: %zu rules, %zu examples and %zu safe lines checked\n", rs.n_rules,
	    examples, safes);
	eg_policy_free(p);
	eg_ruleset_free(&rs);
	eg_diags_free(&d);
}
