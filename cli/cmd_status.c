/*
 * execguard status: one line for a shell prompt, e.g.
 *
 *     PS1='$(execguard status) \$ '
 *
 *   execguard: on (execguard run, 121 rules)
 *   execguard: off
 *   execguard: BROKEN (the policy file ... is missing or damaged: ...)
 *
 * Cheap enough for every prompt: no rule file is linted, no regex compiled.
 * Exit status: 0 on, 1 off, 2 broken (on paper, but refusing every command
 * or not loaded).
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "guard_state.h"

extern char **environ;

static const char status_usage[] =
    "usage: execguard status\n"
    "\n"
    "Print one line saying whether the guard is on in this shell, for a prompt:\n"
    "  PS1='$(execguard status) \\$ '\n"
    "\n"
    "Exit status: 0 on, 1 off, 2 broken (switched on but not working).\n";

int cmd_status(int argc, char **argv)
{
	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(status_usage, stdout);
		return 0;
	}
	if (argc > 1) {
		cli_error("status", "unexpected argument '%s'", argv[1]);
		fputs(status_usage, stderr);
		return EX_USAGE;
	}
	struct guard_state st;
	guard_state_read(&st);
	int rc;
	if (st.problem[0] != '\0') {
		printf("execguard: BROKEN (%s)\n", st.problem);
		rc = 2;
	} else if (!st.loaded) {
		printf("execguard: off\n");
		rc = 1;
	} else if (st.policy != NULL) {
		printf("execguard: on (%s, %zu rules)\n", guard_mode_name(st.mode),
		    eg_policy_rule_count(st.policy));
		rc = 0;
	} else {
		/* The library read the rule files itself; so do we, the same way
		 * (parsing only), to count them and to see that they load. */
		struct eg_diags d = { 0 };
		struct eg_policy *p = eg_policy_load_default(st.library, environ, &d);
		if (p != NULL) {
			printf("execguard: on (%s, %zu rules)\n", guard_mode_name(st.mode),
			    eg_policy_rule_count(p));
			rc = 0;
		} else {
			printf("execguard: BROKEN (%s: the rule files do not load, every command "
			       "is refused; see execguard doctor)\n", guard_mode_name(st.mode));
			rc = 2;
		}
		eg_policy_free(p);
		eg_diags_free(&d);
	}
	guard_state_free(&st);
	return rc;
}
