/* execguard lint: every rule file in effect (and any named), their regexes
 * and their example/safe lines. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char lint_usage[] =
    "usage: execguard lint [FILE...]\n"
    "\n"
    "Validate the rule files in effect, and FILEs, with their regexes and\n"
    "every example and safe line. Problems are printed as file:line:column.\n"
    "Exit status: 0 clean, 1 problems.\n";

int cmd_lint(int argc, char **argv)
{
	int first = 1;
	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(lint_usage, stdout);
		return 0;
	}
	if (argc > 1 && strcmp(argv[1], "--") == 0)
		first = 2;
	else if (argc > 1 && argv[1][0] == '-') {
		cli_error("lint", "unknown option '%s'", argv[1]);
		fputs(lint_usage, stderr);
		return EX_USAGE;
	}
	struct eg_ruleset rs = { 0 };
	size_t problems = 0;
	struct eg_policy *p = cli_load_policy(&rs, argv + first, (size_t)(argc - first), true,
	    &problems);
	int rc = 1;
	if (p != NULL) {
		size_t n_ex = 0;
		for (size_t i = 0; i < rs.n_rules; i++)
			n_ex += rs.rules[i].n_examples + rs.rules[i].n_safes;
		printf("%zu rules in %zu files, %zu example and safe lines: no problems\n", rs.n_rules,
		    rs.n_files, n_ex);
		rc = 0;
	} else {
		cli_error("lint", "%zu problem%s found", problems ? problems : 1,
		    problems == 1 ? "" : "s");
	}
	eg_policy_free(p);
	eg_ruleset_free(&rs);
	return rc;
}
