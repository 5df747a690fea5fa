/*
 * `execguard run --strict [--] CMD...`
 *
 *   execguard (supervisor, subreaper)
 *     └─ child: no_new_privs, seccomp filter, listener sent up and closed,
 *               then execve(CMD) - the first exec the supervisor decides
 *
 * CMD is not checked before the fork the way plain `execguard run` checks it:
 * its own exec is the first notification, decided like every later one.
 * execguard stays the parent (the supervisor must outlive every exec of the
 * tree) and exits with CMD's status; it forwards SIGTERM and SIGHUP to CMD,
 * and leaves SIGINT and SIGQUIT to CMD (the terminal sends them to the
 * whole foreground group). When CMD exits, execguard exits: processes CMD
 * left behind keep running, but any exec they try then fails (ENOSYS: the
 * kernel's answer when the listener is gone).
 *
 * The child executes CMD with the raw system call, not through the C
 * library: when execguard itself runs under the preload library (a guarded
 * shell), the library's exec hook would otherwise ask about CMD as well, and
 * replace the environment prepared here with its own.
 */
#include "strict.h"

#include "audit_emit.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include "cli.h"
#include "guard.h"
#include "path_search.h"

extern char **environ;

static void raw_exec(const char *path, char **argv)
{
	syscall(SYS_execve, path, argv, environ);
}

/* In the child: the filter, then CMD. Never returns. */
static void child_main(int sock, const char *exe, char **cmd, struct sigaction *old_chld)
{
	sigaction(SIGCHLD, old_chld, NULL);
	struct strict_kernel k;
	char why[512];
	if (strict_filter_install(sock, &k, why, sizeof why) != 0) {
		cli_error("run", "strict mode is not available here: %s; not starting '%s' "
		    "(`execguard run` without --strict still guards dynamically linked programs)",
		    why, cmd[0]);
		_exit(EX_CONFIG);
	}
	raw_exec(exe, cmd);
	int e = errno;
	if (e == ENOEXEC) {
		/* as execvp does: a file without "#!" is a shell script */
		size_t n = 0;
		while (cmd[n])
			n++;
		char **sh = calloc(n + 2, sizeof *sh);
		if (sh) {
			sh[0] = (char *)"sh";
			sh[1] = (char *)exe;
			memcpy(sh + 2, cmd + 1, n * sizeof *sh);
			raw_exec("/bin/sh", sh);
			e = errno;
		}
	}
	char c;
	if (recv(sock, &c, 1, MSG_DONTWAIT) == 1 && c == 'R')
		_exit(126); /* refused: the supervisor has said why */
	cli_error("run", "%s: %s", cmd[0], e == ENOENT ? "command not found" : strerror(e));
	_exit(e == ENOENT ? 127 : 126);
}

int strict_run(char **cmd, const struct eg_policy *policy)
{
	if (strict_already_supervised()) {
		/* A strict session around us already decides every exec; a second
		 * filter with a listener is refused by the kernel (EBUSY). */
		fflush(NULL);
		execvp(cmd[0], cmd);
		int e = errno;
		if (e != EACCES) /* a refusal has been explained by the supervisor */
			cli_error("run", "%s: %s", cmd[0], e == ENOENT ? "command not found" : strerror(e));
		return e == ENOENT ? 127 : 126;
	}
	if (!strict_arch_supported()) {
		cli_error("run", "strict mode does not know this CPU architecture's system calls; "
		    "not starting '%s'", cmd[0]);
		return EX_CONFIG;
	}
	eg_guard_config_from_env(environ);
	eg_guard_cfg.policy = policy;
	eg_guard_cfg.load_fail = EG_FAIL_NONE;
	unsigned timeout = eg_policy_setting_seconds(policy, "prompt-timeout", 0);
	if (timeout && !getenv("EXECGUARD_PROMPT_TIMEOUT"))
		eg_guard_cfg.prompt_timeout = timeout;
	eg_audit_configure(policy, environ, false, NULL);
	if (setenv(EG_STRICT_VAR, "1", 1) != 0) {
		cli_error("run", "cannot set up the environment: %s", strerror(errno));
		return EX_OSERR;
	}

	char exe[PATH_MAX];
	if (eg_path_search(cmd[0], getenv("PATH"), exe, sizeof exe) != 0) {
		int e = errno;
		cli_error("run", "%s: %s", cmd[0], e == ENOENT ? "command not found" : strerror(e));
		return e == ENOENT ? 127 : 126;
	}

	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		cli_error("run", "socketpair: %s", strerror(errno));
		return EX_OSERR;
	}
	/* Orphans of the tree stay our descendants (reading their memory and
	 * attaching need that where Yama's ptrace_scope is 1), and are reaped. */
	(void)prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	struct sigaction dfl = { .sa_handler = SIG_DFL }, old_chld;
	sigaction(SIGCHLD, &dfl, &old_chld);
	fflush(NULL);
	pid_t child = fork();
	if (child < 0) {
		cli_error("run", "fork: %s", strerror(errno));
		return EX_OSERR;
	}
	if (child == 0) {
		close(sv[0]);
		child_main(sv[1], exe, cmd, &old_chld);
	}
	close(sv[1]);
	int listener = strict_filter_receive(sv[0], -1);
	if (listener < 0) {
		/* the child said why and exited */
		int st;
		while (waitpid(child, &st, 0) < 0 && errno == EINTR)
			;
		close(sv[0]);
		return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	}
	struct strict_supervisor_cfg cfg = {
		.policy = policy,
		.listener = listener,
		.child = child,
		.child_sock = sv[0],
	};
	int rc = strict_supervise(&cfg);
	close(listener);
	close(sv[0]);
	return rc;
}
