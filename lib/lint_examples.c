/* Every rule carries its own proof: its example lines must be caught by it,
 * its safe lines must not. */
#include <stdlib.h>

#include "check_internal.h"

int eg_lint_examples(const struct eg_ruleset *rs, const struct eg_policy *p, struct eg_diags *d)
{
	if (eg_policy_rule_count(p) != rs->n_rules) {
		eg_diags_add(d, NULL, 0, 0, "internal error: policy and ruleset disagree");
		return -1;
	}
	struct eg_check_scratch *scratch = malloc(sizeof *scratch);
	if (scratch == NULL) {
		eg_diags_add(d, NULL, 0, 0, "out of memory");
		return -1;
	}
	int bad = 0;
	for (size_t i = 0; i < rs->n_rules; i++) {
		const struct eg_rule *r = &rs->rules[i];
		for (size_t k = 0; k < r->n_examples; k++) {
			const struct eg_example *e = &r->examples[k];
			int rc = eg_rule_catches_text(p, (uint32_t)i, e->text, scratch);
			if (rc == 1)
				continue;
			bad++;
			eg_diags_add(d, r->file, e->line, e->col,
			    rc < 0 ? "example could not be evaluated (regex error or too large): %s"
				   : "rule '%s' does not catch its example", rc < 0 ? e->text : r->id);
		}
		for (size_t k = 0; k < r->n_safes; k++) {
			const struct eg_example *e = &r->safes[k];
			int rc = eg_rule_catches_text(p, (uint32_t)i, e->text, scratch);
			if (rc == 0)
				continue;
			bad++;
			eg_diags_add(d, r->file, e->line, e->col,
			    rc < 0 ? "safe line could not be evaluated (regex error or too large): %s"
				   : "rule '%s' catches its safe line", rc < 0 ? e->text : r->id);
		}
	}
	free(scratch);
	return bad ? -1 : 0;
}
