/* execguard rules: what is in effect, and where each rule comes from. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

int cmd_rules(int argc, char **argv)
{
	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		puts("usage: execguard rules\n\nList the rules in effect, grouped by file, in load order.");
		return 0;
	}
	if (argc > 1) {
		cli_error("rules", "unexpected argument '%s'", argv[1]);
		return EX_USAGE;
	}
	struct eg_ruleset rs = { 0 };
	struct eg_policy *p = cli_load_policy(&rs, NULL, 0, false, NULL);
	if (p == NULL) {
		eg_ruleset_free(&rs);
		return EX_CONFIG;
	}
	for (size_t f = 0; f < rs.n_files; f++) {
		printf("%s%s\n", rs.files[f], rs.files_protected && rs.files_protected[f] ? "" : " (writable by you)");
		for (size_t i = 0; i < rs.n_rules; i++) {
			const struct eg_rule *r = &rs.rules[i];
			if (strcmp(r->file, rs.files[f]) != 0)
				continue;
			printf("  %-40s %-8s%s line %-5u", r->id, eg_action_name(r->action),
			    r->severity == EG_SEV_CRITICAL ? "!" : " ", r->line);
			for (size_t k = 0; k < r->n_programs; k++)
				printf(" %s", r->programs[k]);
			putchar('\n');
		}
		for (size_t i = 0; i < rs.n_settings; i++) {
			const struct eg_setting *st = &rs.settings[i];
			if (strcmp(st->file, rs.files[f]) == 0)
				printf("  set %-36s %s (line %u)\n", st->key, st->value, st->line);
		}
	}
	printf("%zu rules and %zu settings in %zu files ('!' = critical: the human types a word "
	       "from the command)\n",
	    rs.n_rules, rs.n_settings, rs.n_files);
	eg_policy_free(p);
	eg_ruleset_free(&rs);
	return 0;
}
