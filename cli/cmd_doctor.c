/*
 * execguard doctor: is the guard on here, and is everything it needs in
 * order? One line per question, for a human:
 *
 *   guard       on or off in this shell, and how it was switched on
 *   parent      whether the shell (our parent) itself is guarded
 *   library     the library loaded here, or the one `execguard run` would use
 *   policy      in a run/shell-init session: the compiled rules, and whether
 *               the rule files changed since the session started
 *   rule files  the files in effect, and whether they lint clean
 *   rule cache  loaded without a session policy (LD_PRELOAD, ld.so.preload):
 *               whether the library maps a compiled rule cache, or why not
 *   terminal    whether a confirm question can be asked from here
 *   approval    the channel a confirm goes to
 *   strict mode (doctor_strict.c)
 *   audit log   where decisions go, and the last few of them
 *
 * Exit status: 0 when nothing is wrong (a guard that is off is not wrong:
 * it is reported), 1 when a problem was found; lint diagnostics go to stderr.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"
#include "library_copy.h"
#include "policy_block.h"
#include "rule_cache.h"
#include "doctor_strict.h"
#include "eg_config.h"
#include "guard.h"
#include "guard_state.h"

extern char **environ;

static const char doctor_usage[] =
    "usage: execguard doctor\n"
    "\n"
    "Tell whether the guard is on in this shell and through which mode, which\n"
    "library and rule files are in effect and whether they are valid, whether\n"
    "there is a terminal to ask on, the approval channel, and the last\n"
    "decisions from the audit log.\n"
    "\n"
    "Exit status: 0 no problem found, 1 problems found (see the lines marked\n"
    "'!'), 64 usage error.\n";

#define KEY_WIDTH 12
#define LAST_DECISIONS 5

static int problems;

/* "key:        text"; `bad` marks a problem ('!' before the key). */
static void say(bool bad, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void say(bool bad, const char *key, const char *fmt, ...)
{
	va_list ap;
	if (bad)
		problems++;
	printf("%c %-*s ", bad ? '!' : ' ', KEY_WIDTH, key);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* More text under the previous line. */
static void more(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void more(const char *fmt, ...)
{
	va_list ap;
	printf("  %-*s ", KEY_WIDTH, "");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static void guard_lines(const struct guard_state *st)
{
	if (st->loaded) {
		say(false, "guard:", "on in this shell, through %s", guard_mode_name(st->mode));
		if (st->mode == GUARD_SESSION)
			more("(%s is not set: which of the two started it is not recorded)",
			    GUARD_MODE_VAR);
		if (st->in_system && st->mode != GUARD_SYSTEM)
			more("/etc/ld.so.preload names the library too");
	} else {
		say(st->problem[0] != '\0', "guard:", "OFF: commands started from this shell are not checked");
		if (st->problem[0])
			more("%s", st->problem);
		more("switch it on: execguard run -- CMD, eval \"$(execguard shell-init bash)\",");
		more("or a sandbox recipe (README, \"Switching the guard on\")");
	}

	/* Our parent is (usually) the shell asking. */
	pid_t pp = getppid();
	char path[64], comm[64] = "?", line[PATH_MAX + 128];
	snprintf(path, sizeof path, "/proc/%ld/comm", (long)pp);
	FILE *f = fopen(path, "re");
	if (f != NULL) {
		if (fgets(comm, sizeof comm, f) != NULL)
			comm[strcspn(comm, "\n")] = '\0';
		fclose(f);
	}
	snprintf(path, sizeof path, "/proc/%ld/maps", (long)pp);
	f = fopen(path, "re");
	if (f == NULL) {
		say(false, "parent:", "%s (pid %ld): cannot tell (%s)", comm, (long)pp, strerror(errno));
		return;
	}
	bool guarded = false;
	while (!guarded && fgets(line, sizeof line, f) != NULL)
		guarded = strstr(line, "/libexecguard") != NULL;
	fclose(f);
	say(false, "parent:", "%s (pid %ld) %s", comm, (long)pp,
	    guarded ? "has the library loaded" : "does not have the library loaded");
}

static void library_line(const struct guard_state *st)
{
	if (st->loaded) {
		const char *from = getenv(EG_LIBRARY_VAR);
		if (from && from[0] == '/' && strcmp(from, st->library) != 0)
			say(false, "library:", "%s (loaded; the session's copy of %s, with its policy in it)",
			    st->library, from);
		else
			say(false, "library:", "%s (loaded)", st->library);
		return;
	}
	const char *lib = cli_library_path();
	if (access(lib, R_OK) == 0)
		say(false, "library:", "%s (not loaded here; execguard run would use it)", lib);
	else
		say(true, "library:", "%s cannot be read (%s): execguard run and shell-init will not start",
		    lib, strerror(errno));
}

/* The compiled rules of a run/shell-init session against the files now. */
static void policy_line(const struct guard_state *st, const struct eg_policy *now)
{
	if (st->policy_path == NULL || !st->loaded)
		return;
	if (st->policy == NULL) {
		say(true, "policy:", "%s", st->problem);
		return;
	}
	say(false, "policy:", "%s, %zu rules, compiled when the session started", st->policy_path,
	    eg_policy_rule_count(st->policy));
	if (now != NULL && eg_policy_hash(now) == eg_policy_hash(st->policy))
		more("the same as the rule files now");
	else if (now != NULL)
		more("the rule files have changed since; a new session will use them");
}

static void rule_files_lines(const struct guard_state *st, struct eg_policy **now)
{
	/* The rules a library that reads the files itself uses are found from
	 * where the library is; otherwise from where this tool is. */
	const char *from = (st->loaded && st->policy_path == NULL) ? st->library : cli_self_path();
	struct eg_ruleset rs = { 0 };
	size_t n_problems = 0;
	fflush(stdout);
	*now = cli_load_policy_from(from, &rs, NULL, 0, true, &n_problems);
	size_t n_rules = rs.n_rules;
	if (*now != NULL)
		say(false, "rule files:", "%zu files, %zu rules, lint clean", rs.n_files, n_rules);
	else
		say(true, "rule files:", "%zu files: %zu problem%s (on stderr; fix them, then "
		    "`execguard lint`)", rs.n_files, n_problems, n_problems == 1 ? "" : "s");
	for (size_t i = 0; i < rs.n_files; i++)
		more("%s%s", rs.files[i], rs.files_protected[i] ? "" : " (writable by you)");
	if (rs.n_files == 0)
		more("none: nothing is ever asked about");
	eg_ruleset_free(&rs);
}

/* A library that reads the rule files itself: does it map a cache? Not a
 * problem when it does not (the files are parsed), only slower. */
static void cache_line(const struct guard_state *st)
{
	if (!st->loaded || st->policy_path != NULL)
		return;
	struct eg_policy p;
	struct eg_cache_probe probe;
	if (eg_rule_cache_load(&p, st->library, environ, &probe) == 0) {
		say(false, "rule cache:", "%s, in use (no rule file is parsed)", probe.path);
		return;
	}
	say(false, "rule cache:", "none in use: %s", probe.why ? probe.why : "unknown");
	more("every process parses the rule files; `execguard cache` (as root for "
	     "root-owned rules) writes one");
}

static void terminal_line(void)
{
	int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		say(false, "terminal:", "none (%s): confirm rules refuse here (fail closed)",
		    strerror(errno));
		return;
	}
	const char *name = ttyname(fd);
	pid_t fg = tcgetpgrp(fd);
	if (fg == getpgrp())
		say(false, "terminal:", "%s, in the foreground: confirm questions are asked there",
		    name ? name : "/dev/tty");
	else
		say(false, "terminal:", "%s, but this is a background job: confirm rules refuse "
		    "until it is in the foreground", name ? name : "/dev/tty");
	close(fd);
}

/* Which file set `key` (for the approval line), or NULL. */
static const char *setting_file(const struct eg_policy *p, const char *key)
{
	struct eg_setting_info si;
	const char *file = NULL;
	for (size_t i = 0; i < eg_policy_setting_count(p); i++)
		if (eg_policy_setting_info(p, i, &si) == 0 && strcmp(si.key, key) == 0)
			file = si.file; /* the last one is in effect */
	return file;
}

/* Where a confirm goes: the `approver` and `approve-elsewhere` settings of
 * the rules in effect, else the terminal. */
static void approval_line(const struct eg_policy *p)
{
	const char *approver = p ? eg_policy_setting(p, "approver") : NULL;
	bool elsewhere = p && eg_policy_setting_bool(p, "approve-elsewhere", false);
	/* as the library takes it: the variable, else the setting, else 120 */
	eg_guard_config_from_env(environ);
	unsigned timeout = eg_guard_cfg.prompt_timeout;
	unsigned set = p ? eg_policy_setting_seconds(p, "prompt-timeout", 0) : 0;
	if (set && !getenv("EXECGUARD_PROMPT_TIMEOUT"))
		timeout = set;
	if (approver != NULL)
		say(false, "approval:", "the approver command %s (set in %s), instead of the terminal",
		    approver, setting_file(p, "approver"));
	else if (elsewhere)
		say(false, "approval:", "terminal (/dev/tty), or `execguard approve CODE` from "
		    "another terminal (set in %s)", setting_file(p, "approve-elsewhere"));
	else
		say(false, "approval:", "terminal (/dev/tty)");
	more("a question waits %u s for an answer", timeout);
}

static void audit_lines(void)
{
	eg_guard_config_from_env(environ);
	const char *path = eg_guard_cfg.audit_path;
	if (path[0] == '\0') {
		say(false, "audit log:", "none (neither EXECGUARD_AUDIT_LOG, XDG_STATE_HOME nor HOME is set)");
		return;
	}
	FILE *f = fopen(path, "re");
	if (f == NULL) {
		say(errno != ENOENT, "audit log:", "%s: %s", path,
		    errno == ENOENT ? "nothing recorded yet" : strerror(errno));
		return;
	}
	size_t n = 0;
	int c, prev = '\n';
	while ((c = getc(f)) != EOF) {
		if (c == '\n')
			n++;
		prev = c;
	}
	if (prev != '\n')
		n++;
	fclose(f);
	say(false, "audit log:", "%s, %zu record%s%s", path, n, n == 1 ? "" : "s",
	    n ? "; the last ones:" : "");
	if (n > 0) {
		char arg0[] = "log", arg1[] = "-n", arg2[16];
		snprintf(arg2, sizeof arg2, "%d", LAST_DECISIONS);
		char *argv[] = { arg0, arg1, arg2, NULL };
		fflush(stdout);
		cmd_log(3, argv);
	}
}

int cmd_doctor(int argc, char **argv)
{
	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(doctor_usage, stdout);
		return 0;
	}
	if (argc > 1) {
		cli_error("doctor", "unexpected argument '%s'", argv[1]);
		fputs(doctor_usage, stderr);
		return EX_USAGE;
	}
	problems = 0;
	struct guard_state st;
	guard_state_read(&st);

	printf("  %-*s %s (%s)\n", KEY_WIDTH, "execguard", EG_VERSION, cli_self_path());
	guard_lines(&st);
	library_line(&st);
	struct eg_policy *now = NULL;
	rule_files_lines(&st, &now);
	cache_line(&st);
	policy_line(&st, now);
	terminal_line();
	approval_line(st.policy ? st.policy : now);
	char strict[512];
	int bad = doctor_strict_line(strict, sizeof strict);
	say(bad != 0, "strict mode:", "%s", strict);
	audit_lines();

	if (problems == 0)
		printf("no problems found\n");
	else
		printf("%d problem%s found (marked '!')\n", problems, problems == 1 ? "" : "s");
	eg_policy_free(now);
	guard_state_free(&st);
	return problems ? 1 : 0;
}
