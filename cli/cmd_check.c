/* execguard check: the decision for a command, and the rule that makes it. */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

extern char **environ;

static const char check_usage[] =
    "usage: execguard check [-f RULES]... [-C DIR] [-q] [--] CMD [ARGS...]\n"
    "       execguard check [-f RULES]... [-C DIR] [-q] -c 'SHELL COMMAND LINE'\n"
    "\n"
    "Print the decision the guard would take for CMD and the rule that decides\n"
    "it. Nothing is run. Wrappers (sudo, env, timeout, ...), shells (bash -c)\n"
    "and remote runners (ssh, docker exec, kubectl exec) are unwrapped.\n"
    "\n"
    "  -c STRING   check a shell command line, as `sh -c STRING` would run it\n"
    "  -f FILE     also load this rule file (after the rules in effect)\n"
    "  -C DIR      judge as if run in DIR (for cwd conditions)\n"
    "  -q          print nothing, only exit\n"
    "\n"
    "Exit status: 0 allow or log, 1 confirm, 2 deny, 64 usage, 78 configuration.\n";

/* PATH search as execvp does it, for the name the engine sees. */
static bool find_in_path(const char *name, char *out, size_t size)
{
	if (strchr(name, '/') != NULL)
		return strlcpy(out, name, size) < size;
	const char *path = getenv("PATH");
	if (path == NULL)
		path = "/bin:/usr/bin";
	while (1) {
		const char *end = strchrnul(path, ':');
		int n = (int)(end - path);
		int w = snprintf(out, size, "%.*s%s%s", n, path, n ? "/" : "", name);
		struct stat st;
		if (w > 0 && (size_t)w < size && stat(out, &st) == 0 && S_ISREG(st.st_mode) &&
		    access(out, X_OK) == 0)
			return true;
		if (*end == '\0')
			return false;
		path = end + 1;
	}
}

static void print_rule(const struct eg_policy *p, uint32_t rule, const char *label)
{
	struct eg_rule_info ri;
	if (eg_policy_rule_info(p, rule, &ri) < 0)
		return;
	printf("  %-8s %s (%s:%u)\n", label, ri.id, ri.file, ri.line);
	if (strcmp(label, "rule:") == 0)
		printf("  reason:  %s\n", ri.reason);
}

static const char *fail_text(enum eg_fail f)
{
	switch (f) {
	case EG_FAIL_TOO_BIG:
		return "the command is too large to check, so it is refused";
	case EG_FAIL_REGEX:
		return "a rule's pattern failed while matching, so the command is refused";
	case EG_FAIL_NO_POLICY:
		return "no rules could be loaded, so everything is refused";
	case EG_FAIL_NONE:
		break;
	}
	return "";
}

enum eg_action cli_check_command(const struct eg_policy *p, char **cmd, const char *cwd_arg,
    struct eg_check_result *res)
{
	char exe[PATH_MAX], cwd[PATH_MAX];
	struct eg_check_input in = {
		.argv = cmd,
		.envp = environ,
		.exe_path = find_in_path(cmd[0], exe, sizeof exe) ? exe : NULL,
		.cwd = cwd_arg ? cwd_arg : getcwd(cwd, sizeof cwd),
		.flags = EG_CHECK_UNWRAP_ALL,
	};
	struct eg_check_scratch *scratch = malloc(sizeof *scratch);
	if (scratch == NULL) {
		memset(res, 0, sizeof *res);
		res->rule = EG_NO_RULE;
		res->fail = EG_FAIL_TOO_BIG; /* no room to check in: refused */
		return EG_ACT_DENY;
	}
	enum eg_action act = eg_check(p, &in, scratch, res);
	free(scratch);
	return act;
}

int cmd_check(int argc, char **argv)
{
	char **extra = NULL;
	size_t n_extra = 0;
	const char *shell_line = NULL, *cwd_arg = NULL;
	bool quiet = false;
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	optind = 1;
	opterr = 0; /* our own messages, "execguard: check: ..." */
	while ((c = getopt_long(argc, argv, "+:c:f:C:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			shell_line = optarg;
			break;
		case 'f':
			extra = reallocarray(extra, n_extra + 1, sizeof *extra);
			if (extra == NULL)
				return EX_OSERR;
			extra[n_extra++] = optarg;
			break;
		case 'C':
			cwd_arg = optarg;
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			fputs(check_usage, stdout);
			return 0;
		case ':':
			cli_error("check", "option '-%c' needs an argument", optopt);
			fputs(check_usage, stderr);
			free(extra);
			return EX_USAGE;
		default:
			if (optopt != 0)
				cli_error("check", "unknown option '-%c'", optopt);
			else
				cli_error("check", "unknown option '%s'", argv[optind - 1]);
			fputs(check_usage, stderr);
			free(extra);
			return EX_USAGE;
		}
	}
	char *sh_argv[] = { "sh", "-c", (char *)shell_line, NULL };
	char **cmd = argv + optind;
	if (shell_line != NULL) {
		if (optind != argc) {
			cli_error("check", "give either -c STRING or a command, not both");
			return EX_USAGE;
		}
		cmd = sh_argv;
	} else if (optind >= argc) {
		cli_error("check", "no command to check");
		fputs(check_usage, stderr);
		return EX_USAGE;
	}

	struct eg_ruleset rs = { 0 };
	struct eg_policy *p = cli_load_policy(&rs, extra, n_extra, false, NULL);
	free(extra);
	if (p == NULL) {
		eg_ruleset_free(&rs);
		return EX_CONFIG;
	}

	struct eg_check_result *res = malloc(sizeof *res);
	if (res == NULL) {
		cli_error("check", "out of memory");
		return EX_OSERR;
	}
	enum eg_action act = cli_check_command(p, cmd, cwd_arg, res);

	if (!quiet) {
		char whole[EG_CMDLINE_MAX];
		size_t n = 0;
		while (cmd[n] != NULL)
			n++;
		eg_quote_argv(whole, sizeof whole, (const char *const *)cmd, n);
		printf("%s: %s\n", eg_action_name(act == EG_ACT_NONE ? EG_ACT_ALLOW : act), whole);
		if (res->fail != EG_FAIL_NONE)
			printf("  why:     %s\n", fail_text(res->fail));
		if (res->rule != EG_NO_RULE)
			print_rule(p, res->rule, "rule:");
		if (act == EG_ACT_NONE)
			printf("  no rule matches\n");
		if (act == EG_ACT_ALLOW)
			print_rule(p, res->allow_rule, "allowed by:");
		if (res->unwrapped && res->cmdline[0] != '\0')
			printf("  inner command: %s\n", res->cmdline);
		if (act >= EG_ACT_CONFIRM && res->confirm_word[0] != '\0' && res->fail == EG_FAIL_NONE)
			printf("  critical: the human must type '%s' to approve\n", res->confirm_word);
	}
	free(res);
	eg_policy_free(p);
	eg_ruleset_free(&rs);
	switch (act) {
	case EG_ACT_CONFIRM:
		return 1;
	case EG_ACT_DENY:
		return 2;
	default:
		return 0;
	}
}
