/*
 * execguard run [--] CMD...: run CMD with the guard on.
 *
 *   1. Load the rules in effect (a broken rule file stops here, with
 *      file:line:column, exit 78, before CMD starts).
 *   2. Write the policy block (eg_policy_save) and put LD_PRELOAD (this
 *      build's or the installed library) and EXECGUARD_POLICY into the
 *      environment, so CMD and everything it starts are guarded.
 *   3. Check CMD itself, the way the exec hook would (`execguard run` is a
 *      wrapper: CMD is decided before it starts) - but only when the library
 *      is not loaded into this process. When it is (a nested `execguard run`
 *      in a guarded session), the library's exec hook checks CMD, and
 *      asking twice for one command is forbidden.
 *   4. execvp CMD.
 *
 * Every run has a session id (EXECGUARD_SESSION, 16 hex digits, kept from
 * an outer run) that the audit records of everything it starts carry, and
 * that names the session's approval memory.
 *
 * Exit: 64 usage, 78 configuration error, 126 refused or not executable,
 * 127 not found; otherwise CMD replaces us.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "preload_list.h"
#include "audit_emit.h"
#include "broker.h"
#include "cli.h"
#include "approve.h"
#include "guard.h"
#include "guard_state.h"
#include "library_copy.h"
#include "path_search.h"
#include "strict.h"

extern char **environ;

static const char run_usage[] =
    "usage: execguard run [--strict] [--approver CMD | --approve-elsewhere] [--] CMD [ARG...]\n"
    "\n"
    "Run CMD with the guard on: CMD and every program it starts are checked\n"
    "against the rules before they run; a dangerous command waits for a human\n"
    "to type 'yes' on the terminal. CMD itself is checked before it starts.\n"
    "\n"
    "  --strict        also guard what the preload library cannot see (static\n"
    "                  binaries, Go programs, raw execve system calls): the kernel\n"
    "                  hands every exec to execguard (seccomp user notification,\n"
    "                  Linux 5.9+)\n"
    "  --approver CMD  ask this program instead of the terminal: it gets the\n"
    "                  request as JSON on stdin; exit status 0 means yes\n"
    "                  (same as `set approver CMD` in a rule file)\n"
    "  --approve-elsewhere\n"
    "                  a command that needs approval waits; its one-time code is\n"
    "                  shown on this terminal, and `execguard approve CODE` in\n"
    "                  another terminal runs it (same as `set approve-elsewhere on`)\n"
    "\n"
    "Example: execguard run -- claude\n"
    "\n"
    "Exit status: CMD's own, or 64 usage error, 78 rule files broken,\n"
    "126 refused or not executable, 127 not found.\n";

/* Is the exec family already hooked by libexecguard in this process
 * (LD_PRELOAD or /etc/ld.so.preload)? */
static bool library_loaded_here(void)
{
	return guard_library_loaded(NULL, 0);
}

/* LD_PRELOAD = our library first, then the caller's other entries (ours
 * removed, so it appears once). Entries are separated by ':' or blanks. */
static int set_preload(const char *lib)
{
	const char *old = getenv("LD_PRELOAD");
	size_t size = strlen(lib) + (old ? strlen(old) : 0) + 2;
	char *v = malloc(size);
	if (v == NULL)
		return -1;
	strcpy(v, lib);
	size_t n = strlen(v);
	const char *libbase = strrchr(lib, '/');
	libbase = libbase ? libbase + 1 : lib;
	const char *p = old ? old : "", *t;
	size_t len;
	while (eg_preload_list_next(&p, EG_LIST_FILE, &t, &len)) {
		const char *tb = memrchr(t, '/', len);
		tb = tb ? tb + 1 : t;
		size_t tblen = len - (size_t)(tb - t);
		if (tblen == strlen(libbase) && memcmp(tb, libbase, tblen) == 0)
			continue; /* an execguard library: ours replaces it */
		v[n++] = ':';
		memcpy(v + n, t, len);
		n += len;
		v[n] = '\0';
	}
	int rc = setenv("LD_PRELOAD", v, 1);
	free(v);
	return rc;
}

/* EXECGUARD_APPROVER_ENV: the desktop and locale variables as the session
 * starts ("NAME=value" lines), for approver programs. The library keeps
 * every EXECGUARD_ value as its session set it, so an agent that later
 * points DISPLAY at a screen of its own does not move the dialog there. */
static int set_approver_env(void)
{
	size_t n_names, len = 0;
	const char *const *names = eg_approver_env_names(&n_names);
	char *v = NULL;
	FILE *f = open_memstream(&v, &len);
	if (f == NULL)
		return -1;
	bool first = true;
	for (size_t k = 0; k < n_names; k++) {
		const char *val = getenv(names[k]);
		/* one line: a variable with a line break in it would break every
		 * program that reads `env` output line by line (0x1f separates) */
		if (val && !strpbrk(val, "\n\x1f")) {
			fprintf(f, "%s%s=%s", first ? "" : "\x1f", names[k], val);
			first = false;
		}
	}
	if (fclose(f) != 0)
		return -1;
	int rc = setenv("EXECGUARD_APPROVER_ENV", v, 1);
	free(v);
	return rc;
}

/* EXECGUARD_SESSION: names the session's approval memory (allow-once,
 * refuse-cooldown). A nested run stays in its session; a new one starts a
 * new session. Not a secret: it only says where the memory is. */
static int set_session(bool nested)
{
	if (nested && eg_session_id_ok(getenv(EG_SESSION_VAR)))
		return 0;
	char id[17];
	return cli_new_session_id(id) == 0 ? setenv(EG_SESSION_VAR, id, 1) : -1;
}

/* The guard's configuration in this process, for the check of CMD (and the
 * broker's timeout): the policy just built and the environment CMD gets. */
static void setup_guard(const struct eg_policy *p)
{
	eg_guard_config_from_env(environ);
	eg_guard_cfg.policy = p;
	eg_guard_cfg.load_fail = EG_FAIL_NONE;
	eg_guard_cfg.load_error[0] = '\0';
	unsigned st = eg_policy_setting_seconds(p, "prompt-timeout", 0);
	if (st && !getenv("EXECGUARD_PROMPT_TIMEOUT"))
		eg_guard_cfg.prompt_timeout = st;
	eg_audit_configure(p, environ, false, NULL);
}

/* Steps 3 and 4: check CMD as the hook would (unless the library is loaded
 * here and will do it itself), then exec it. Returns only on failure. */
static int start_cmd(char **cmd, const char *exe_real, unsigned exe_flags, bool hooked)
{
	if (!hooked) {
		struct eg_guard_req req = {
			.argv = cmd,
			.envp = environ,
			.exe_path = exe_real, /* symlinks resolved, as the hooks pass it */
			/* hook mode (what the library will see again is left to it),
			 * the executable resolved as the hooks resolve it */
			.check_flags = exe_flags,
			.flags = EG_GUARD_CHECK_EXE,
			.route = EG_ROUTE_RUN,
			.pre_fail = EG_FAIL_NONE,
		};
		fflush(NULL);
		switch (eg_guard_decide(&req)) {
		case EG_GUARD_GO:
			break;
		case EG_GUARD_NOEXEC: {
			int e = errno;
			cli_error("run", "%s: %s", cmd[0], strerror(e));
			return e == ENOENT ? 127 : 126;
		}
		case EG_GUARD_REFUSED:
		case EG_GUARD_DEFER: /* not asked for: treat as refused */
		default:
			return 126; /* the guard wrote the message */
		}
	}

	/* 4. run it (the same PATH search as above) */
	fflush(NULL);
	execvp(cmd[0], cmd);
	int e = errno;
	if (!(hooked && e == EACCES)) /* a hooked refusal already said why */
		cli_error("run", "%s: %s", cmd[0], e == ENOENT ? "command not found" : strerror(e));
	return e == ENOENT ? 127 : 126;
}

int cmd_run(int argc, char **argv)
{
	int i = 1;
	if (i < argc && (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)) {
		fputs(run_usage, stdout);
		return 0;
	}
	const char *approver = NULL;
	bool elsewhere_opt = false;
	bool strict = false;
	while (i < argc) {
		if (strcmp(argv[i], "--strict") == 0) {
			strict = true;
			i++;
			continue;
		}
		if (strcmp(argv[i], "--approve-elsewhere") == 0) {
			elsewhere_opt = true;
			i++;
			continue;
		}
		if (strncmp(argv[i], "--approver", 10) != 0)
			break;
		if (argv[i][10] == '=') {
			approver = argv[i] + 11;
		} else if (argv[i][10] == '\0' && i + 1 < argc) {
			approver = argv[++i];
		} else {
			break;
		}
		i++;
		if (!*approver) {
			cli_error("run", "--approver needs a command");
			return EX_USAGE;
		}
	}
	bool hooked = library_loaded_here();
	if ((approver || elsewhere_opt) && (hooked || getenv("EXECGUARD_POLICY"))) {
		/* A program inside a guarded session would otherwise name its own
		 * approver (`--approver true`), or start a broker that shows its
		 * codes on a terminal the program reads, and approve itself. */
		cli_error("run", "%s cannot be given inside a guarded session; "
		    "the approval channel is chosen where the session starts",
		    approver ? "--approver" : "--approve-elsewhere");
		return EX_USAGE;
	}
	if (i < argc && strcmp(argv[i], "--") == 0) {
		i++;
	} else if (i < argc && argv[i][0] == '-') {
		cli_error("run", "unknown option '%s' (put '--' before a command that starts with '-')",
		    argv[i]);
		fputs(run_usage, stderr);
		return EX_USAGE;
	}
	if (i >= argc) {
		cli_error("run", "no command given");
		fputs(run_usage, stderr);
		return EX_USAGE;
	}
	char **cmd = argv + i;

	/* 1. the rules: a broken file stops everything before CMD starts */
	struct eg_ruleset rs = { 0 };
	struct cli_setting sets[2];
	size_t n_sets = 0;
	if (approver)
		sets[n_sets++] = (struct cli_setting){ "execguard run --approver", "approver", approver };
	if (elsewhere_opt)
		sets[n_sets++] = (struct cli_setting){ "execguard run --approve-elsewhere",
			"approve-elsewhere", "on" };
	struct eg_policy *p = cli_load_policy_set(&rs, NULL, 0, false, NULL, sets, n_sets);
	if (p == NULL) {
		cli_error("run", "not starting '%s': the rule files above must be fixed first", cmd[0]);
		eg_ruleset_free(&rs);
		return EX_CONFIG;
	}
	eg_ruleset_free(&rs);

	/* 2. the environment CMD gets */
	const char *lib = cli_library_path();
	if (access(lib, R_OK) != 0) {
		cli_error("run", "the preload library %s cannot be read (%s); not starting '%s' unguarded",
		    lib, strerror(errno), cmd[0]);
		eg_policy_free(p);
		return EX_CONFIG;
	}
	if (lib[0] != '/' || strpbrk(lib, ": \t\n") != NULL) {
		cli_error("run", "the preload library path '%s' cannot be used in LD_PRELOAD "
		    "(it must be absolute, without ':' or blanks)", lib);
		eg_policy_free(p);
		return EX_CONFIG;
	}
	char policy_path[PATH_MAX];
	if (eg_policy_save(p, environ, policy_path, sizeof policy_path) != 0) {
		cli_error("run", "cannot write the policy file (%s); not starting '%s'",
		    strerror(errno), cmd[0]);
		eg_policy_free(p);
		return EX_CONFIG;
	}
	const char *preload = cli_session_library(lib, policy_path, hooked);
	if (set_preload(preload) != 0 || setenv("EXECGUARD_POLICY", policy_path, 1) != 0 ||
	    (preload != lib && setenv(EG_LIBRARY_VAR, lib, 1) != 0) ||
	    setenv(GUARD_MODE_VAR, "run", 1) != 0 || set_session(hooked) != 0 || (!hooked && set_approver_env() != 0)) {
		cli_error("run", "cannot set up the environment: %s", strerror(errno));
		eg_policy_free(p);
		return EX_OSERR;
	}

	if (strict) { /* CMD and every exec after it: see strict_run.c */
		if (eg_policy_setting_bool(p, "approve-elsewhere", false)) {
			/* the broker and the supervisor would both have to be this
			 * process; not built yet */
			cli_error("run", "--strict cannot be combined with approve-elsewhere yet; "
			    "use the terminal or an approver program");
			eg_policy_free(p);
			return EX_CONFIG;
		}
		int rc = strict_run(cmd, p);
		eg_policy_free(p);
		return rc;
	}

	/* 3. CMD itself: resolved as execvp will, then checked as the hook
	 * would check it (unless the hook is here and will do it itself). */
	char exe[PATH_MAX];
	if (eg_path_search(cmd[0], getenv("PATH"), exe, sizeof exe) != 0) {
		int e = errno;
		cli_error("run", "%s: %s", cmd[0], e == ENOENT ? "command not found" : strerror(e));
		eg_policy_free(p);
		return e == ENOENT ? 127 : 126;
	}
	char resolved[PATH_MAX];
	unsigned exe_flags = 0;
	const char *exe_real = eg_exe_resolve(exe, resolved, sizeof resolved, &exe_flags);
	if (!hooked)
		setup_guard(p);

	/* approve-elsewhere: this process stays, as the session's broker, and
	 * CMD runs in a child (checked there: the broker must be up to ask). */
	if (!hooked && eg_policy_setting_bool(p, "approve-elsewhere", false)) {
		char spec[PATH_MAX + 32];
		struct broker *b = broker_open(getenv("EXECGUARD_SESSION"), eg_guard_cfg.prompt_timeout,
		    spec, sizeof spec);
		if (b == NULL || setenv("EXECGUARD_BROKER", spec, 1) != 0) {
			cli_error("run", "not starting '%s' without its approval broker", cmd[0]);
			return EX_UNAVAILABLE;
		}
		eg_guard_config_from_env(environ); /* the broker, for the check of CMD */
		fflush(NULL);
		pid_t child = fork();
		if (child < 0) {
			cli_error("run", "cannot start '%s': %s", cmd[0], strerror(errno));
			return EX_OSERR;
		}
		if (child == 0) {
			broker_forget(b);
			exit(start_cmd(cmd, exe_real, exe_flags, hooked));
		}
		int st = broker_serve(b, child);
		eg_policy_free(p);
		if (WIFSIGNALED(st)) {
			/* die the way the agent died, so the shell reports it */
			signal(WTERMSIG(st), SIG_DFL);
			raise(WTERMSIG(st));
			return 128 + WTERMSIG(st);
		}
		return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
	}
	if (!hooked)
		unsetenv("EXECGUARD_BROKER"); /* none in this session */
	return start_cmd(cmd, exe_real, exe_flags, hooked);
}
