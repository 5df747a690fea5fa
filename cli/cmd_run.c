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
 * Exit: 64 usage, 78 configuration error, 126 refused or not executable,
 * 127 not found; otherwise CMD replaces us.
 */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "guard.h"
#include "path_search.h"
#include "strict.h"

extern char **environ;

static const char run_usage[] =
    "usage: execguard run [--strict] [--] CMD [ARG...]\n"
    "\n"
    "Run CMD with the guard on: CMD and every program it starts are checked\n"
    "against the rules before they run; a dangerous command waits for a human\n"
    "to type 'yes' on the terminal. CMD itself is checked before it starts.\n"
    "\n"
    "--strict  also guard what the preload library cannot see (static binaries,\n"
    "          Go programs, raw execve system calls): the kernel hands every exec\n"
    "          to execguard (seccomp user notification, Linux 5.9+).\n"
    "\n"
    "Example: execguard run -- claude\n"
    "\n"
    "Exit status: CMD's own, or 64 usage error, 78 rule files broken,\n"
    "126 refused or not executable, 127 not found.\n";

/* Is the exec family already hooked by libexecguard in this process
 * (LD_PRELOAD or /etc/ld.so.preload)? */
static bool library_loaded_here(void)
{
	void *sym = dlsym(RTLD_DEFAULT, "execve");
	Dl_info info;
	if (sym == NULL || dladdr(sym, &info) == 0 || info.dli_fname == NULL)
		return false;
	const char *base = strrchr(info.dli_fname, '/');
	base = base ? base + 1 : info.dli_fname;
	return strncmp(base, "libexecguard", 12) == 0;
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
	for (const char *p = old; p && *p;) {
		while (*p == ':' || *p == ' ' || *p == '\t' || *p == '\n')
			p++;
		const char *t = p;
		while (*p && *p != ':' && *p != ' ' && *p != '\t' && *p != '\n')
			p++;
		size_t len = (size_t)(p - t);
		if (len == 0)
			continue;
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

int cmd_run(int argc, char **argv)
{
	int i = 1;
	if (i < argc && (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)) {
		fputs(run_usage, stdout);
		return 0;
	}
	bool strict = false;
	while (i < argc && strcmp(argv[i], "--strict") == 0) {
		strict = true;
		i++;
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
	struct eg_policy *p = cli_load_policy(&rs, NULL, 0, false, NULL);
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
	if (set_preload(lib) != 0 || setenv("EXECGUARD_POLICY", policy_path, 1) != 0) {
		cli_error("run", "cannot set up the environment: %s", strerror(errno));
		eg_policy_free(p);
		return EX_OSERR;
	}

	if (strict) { /* CMD and every exec after it: see strict_run.c */
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
	const char *exe_real = eg_exe_resolve(exe, resolved, sizeof resolved);
	bool hooked = library_loaded_here();
	if (!hooked) {
		eg_guard_config_from_env(environ);
		eg_guard_cfg.policy = p;
		eg_guard_cfg.load_fail = EG_FAIL_NONE;
		eg_guard_cfg.load_error[0] = '\0';
		struct eg_guard_req req = {
			.argv = cmd,
			.envp = environ,
			.exe_path = exe_real, /* symlinks resolved, as the hooks pass it */
			.check_flags = 0, /* hook mode: what the library will see again is left to it */
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
