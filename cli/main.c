/* execguard: the command-line tool. One verb a file; this one dispatches. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "eg_config.h"

static const char usage[] =
    "usage: execguard [--help | --version] VERB [ARGS...]\n"
    "\n"
    "Ask a human before an AI agent (or anything) runs a destructive command.\n"
    "\n"
    "verbs:\n"
    "  run [--strict] [--approver CMD | --approve-elsewhere] [--] CMD...\n"
    "                             run CMD with the guard on (LD_PRELOAD;\n"
    "                             --strict: every exec, through seccomp)\n"
    "  check [-c STRING | [--] CMD...]\n"
    "                             print the decision for CMD, run nothing;\n"
    "                             exit 0 allow/log, 1 confirm, 2 deny\n"
    "  lint [FILE...]             validate rule files and their examples;\n"
    "                             exit 0 clean, 1 problems\n"
    "  rules                      list the rules in effect, with their files\n"
    "  shell-init bash|zsh|fish   print the snippet that guards an interactive shell\n"
    "  cache [--check]            compile the rules for a library loaded without\n"
    "                             `run` (bare LD_PRELOAD, /etc/ld.so.preload)\n"
    "  log [--since WHEN] [-n N] [--json]\n"
    "                             show the audit log\n"
    "  doctor                     is the guard on here, and is everything in order\n"
    "  status                     one line for a shell prompt: on, off or broken\n"
    "  hook claude-code           answer an agent's pre-tool hook (JSON on stdin)\n"
    "  pending                    list commands waiting for approval from another terminal\n"
    "  approve CODE | deny ID     answer one (sessions run with --approve-elsewhere)\n"
    "\n"
    "Usage errors exit 64, configuration errors 78. See execguard(1).\n";

/* Output that could not be written (a full disk, /dev/full, a closed pipe
 * reader) is an error, not a silent success; a check decision (1, 2) or an
 * error status is kept. */
static int flush_stdout(const char *verb, int rc)
{
	if (fflush(stdout) == 0 && !ferror(stdout))
		return rc;
	cli_error(verb, "cannot write the output: %s", strerror(errno));
	return rc == 0 ? EX_IOERR : rc;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fputs(usage, stderr);
		return EX_USAGE;
	}
	const char *verb = argv[1];
	if (strcmp(verb, "--help") == 0 || strcmp(verb, "-h") == 0 || strcmp(verb, "help") == 0) {
		fputs(usage, stdout);
		return flush_stdout(NULL, 0);
	}
	if (strcmp(verb, "--version") == 0 || strcmp(verb, "-V") == 0) {
		printf("execguard %s\n", EG_VERSION);
		return flush_stdout(NULL, 0);
	}
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} verbs[] = {
		{ "run", cmd_run },
		{ "check", cmd_check },
		{ "lint", cmd_lint },
		{ "rules", cmd_rules },
		{ "shell-init", cmd_shell_init },
		{ "cache", cmd_cache },
		{ "log", cmd_log },
		{ "doctor", cmd_doctor },
		{ "status", cmd_status },
		{ "hook", cmd_hook },
		{ "pending", cmd_approve },
		{ "approve", cmd_approve },
		{ "deny", cmd_approve },
	};
	for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
		if (strcmp(verb, verbs[i].name) == 0)
			return flush_stdout(verb, verbs[i].fn(argc - 1, argv + 1));
	cli_error(NULL, "unknown verb '%s'", verb);
	fputs(usage, stderr);
	return EX_USAGE;
}
