/*
 * execguard hook AGENT: answer an agent's own pre-tool hook, so the agent's
 * UI asks the human before a command our rules would confirm, and refuses
 * one they deny. It decides the command *string* the agent is about to run
 * (as `execguard check -c` does); the preload guard still decides every
 * program that string finally executes, including what a string check
 * cannot see (scripts, Makefiles, subprocess calls).
 *
 *   claude-code   Claude Code's PreToolUse hook: a JSON request on stdin
 *                 (tool_name, tool_input.command, cwd); for a confirm rule
 *                 {"hookSpecificOutput":{"hookEventName":"PreToolUse",
 *                 "permissionDecision":"ask","permissionDecisionReason":…}},
 *                 "deny" for a deny rule or a failure, nothing for allow.
 *
 * Fail closed: a request that is not valid JSON, a Bash request without a
 * command, or rules that cannot be loaded answer "deny" with the reason.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "json_read.h"

#define REQUEST_MAX (16u << 20)

static const char hook_usage[] =
    "usage: execguard hook claude-code\n"
    "\n"
    "Answer an agent's pre-tool hook with the decision for the shell command it\n"
    "is about to run: the hook request comes on stdin, the answer goes to\n"
    "stdout in the agent's format. Nothing is run.\n"
    "\n"
    "  claude-code   Claude Code PreToolUse hook (matcher \"Bash\"): 'ask' for a\n"
    "                command a rule confirms, 'deny' for one a rule denies,\n"
    "                no output for anything else\n"
    "\n"
    "In ~/.claude/settings.json:\n"
    "  {\"hooks\": {\"PreToolUse\": [{\"matcher\": \"Bash\", \"hooks\":\n"
    "    [{\"type\": \"command\", \"command\": \"execguard hook claude-code\"}]}]}}\n"
    "\n"
    "Exit status: 0 (the answer is in the output), 64 usage, 74 unreadable input.\n";

/* A JSON string (UTF-8 in, control characters escaped). */
static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

static void answer(const char *decision, const char *reason)
{
	fputs("{\"hookSpecificOutput\":{\"hookEventName\":\"PreToolUse\",\"permissionDecision\":",
	    stdout);
	json_str(stdout, decision);
	fputs(",\"permissionDecisionReason\":", stdout);
	json_str(stdout, reason);
	fputs("}}\n", stdout);
}

static char *read_all(FILE *f, size_t *len)
{
	size_t cap = 65536, n = 0;
	char *b = malloc(cap);
	while (b) {
		size_t r = fread(b + n, 1, cap - n, f);
		n += r;
		if (r == 0)
			break;
		if (n == cap) {
			if (cap >= REQUEST_MAX) {
				free(b);
				errno = EFBIG;
				return NULL;
			}
			char *g = realloc(b, cap * 2);
			if (!g)
				free(b);
			b = g;
			cap *= 2;
		}
	}
	if (b && ferror(f)) {
		free(b);
		return NULL;
	}
	*len = n;
	return b;
}

static int claude_code(void)
{
	size_t len = 0;
	char *doc = read_all(stdin, &len);
	if (!doc) {
		cli_error("hook", "cannot read the hook request: %s", strerror(errno));
		answer("deny", "execguard: the hook request could not be read, so the command is refused.");
		return 0;
	}
	static const char *const tool_path[] = { "tool_name" };
	static const char *const cmd_path[] = { "tool_input", "command" };
	static const char *const cwd_path[] = { "cwd" };
	char *tool = NULL, *command = NULL, *cwd = NULL;
	enum json_get g = json_get_string(doc, len, tool_path, 1, &tool);
	if (g == JSON_INVALID || g == JSON_NOMEM) {
		free(doc);
		answer("deny", "execguard: the hook request is not valid JSON, so the command is refused.");
		return 0;
	}
	if (g == JSON_ABSENT || strcmp(tool, "Bash") != 0) {
		/* not a shell command: not ours to judge (the guard still is) */
		free(tool);
		free(doc);
		return 0;
	}
	g = json_get_string(doc, len, cmd_path, 2, &command);
	if (g != JSON_FOUND) {
		free(tool);
		free(doc);
		answer("deny", "execguard: a Bash request without a command string, so it is refused.");
		return 0;
	}
	if (json_get_string(doc, len, cwd_path, 1, &cwd) != JSON_FOUND || cwd[0] != '/') {
		free(cwd);
		cwd = NULL; /* judged in our own directory: Claude Code starts hooks there */
	}
	free(doc);

	struct eg_ruleset rs = { 0 };
	struct eg_policy *p = cli_load_policy(&rs, NULL, 0, false, NULL);
	eg_ruleset_free(&rs);
	struct eg_check_result *res = malloc(sizeof *res);
	if (!p || !res) {
		answer("deny", p ? "execguard: out of memory, so the command is refused."
				 : "execguard: the rules could not be loaded, so the command is refused; "
				   "the user can see why with `execguard lint`.");
		eg_policy_free(p);
		free(res);
		free(tool);
		free(command);
		free(cwd);
		return 0;
	}
	char *sh_argv[] = { "sh", "-c", command, NULL };
	enum eg_action act = cli_check_command(p, sh_argv, cwd, res);
	struct eg_rule_info ri = { 0 };
	bool have_rule = res->rule != EG_NO_RULE && eg_policy_rule_info(p, res->rule, &ri) == 0;
	char *reason = NULL;
	int n = -1;
	if (res->fail != EG_FAIL_NONE) {
		n = asprintf(&reason, "execguard: the command could not be checked (%s), so it is "
		    "refused. Ask the user to run it themselves if it is really needed.",
		    res->fail == EG_FAIL_REGEX ? "a rule's pattern failed" : "too large to check");
		act = EG_ACT_DENY;
	} else if (act == EG_ACT_DENY) {
		n = asprintf(&reason, "execguard: denied by rule %s: %s Do not retry or work around "
		    "this; ask the user to run the command themselves if it is really needed.",
		    have_rule ? ri.id : "?", have_rule ? ri.reason : "");
	} else if (act == EG_ACT_CONFIRM) {
		n = asprintf(&reason, "execguard rule %s: %s%s%s%s", have_rule ? ri.id : "?",
		    have_rule ? ri.reason : "", res->unwrapped && res->cmdline[0] ? " (runs: " : "",
		    res->unwrapped && res->cmdline[0] ? res->cmdline : "",
		    res->unwrapped && res->cmdline[0] ? ")" : "");
	}
	if (act == EG_ACT_DENY || act == EG_ACT_CONFIRM)
		answer(act == EG_ACT_DENY ? "deny" : "ask",
		    n >= 0 ? reason : "execguard: a rule decides this command.");
	free(reason);
	free(res);
	eg_policy_free(p);
	free(tool);
	free(command);
	free(cwd);
	return 0;
}

int cmd_hook(int argc, char **argv)
{
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(hook_usage, stdout);
		return 0;
	}
	if (argc != 2) {
		cli_error("hook", argc < 2 ? "which agent? (claude-code)" : "too many arguments");
		fputs(hook_usage, stderr);
		return EX_USAGE;
	}
	if (strcmp(argv[1], "claude-code") == 0)
		return claude_code();
	cli_error("hook", "unknown agent '%s' (known: claude-code)", argv[1]);
	fputs(hook_usage, stderr);
	return EX_USAGE;
}
