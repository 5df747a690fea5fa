/*
 * Facts about a process of the guarded tree, from /proc: its name, parent
 * chain, group, session and terminal (for the prompt and the audit), and a
 * descriptor on its standard error (for the refusal message).
 */
#include "strict.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "proc_stat.h"

int strict_proc_info(pid_t pid, struct strict_proc *out)
{
	memset(out, 0, sizeof *out);
	struct eg_proc_ids ids; /* one /proc/PID/stat reader with the library */
	if (eg_proc_stat_ids(pid, out->comm, sizeof out->comm, &ids) != 0)
		return -1;
	out->ppid = ids.ppid;
	out->pgrp = ids.pgrp;
	out->session = ids.session;
	out->tty_nr = ids.tty_nr;
	size_t len = 0;
	pid_t p = out->ppid;
	for (int depth = 0; depth < 3 && p > 1; depth++) {
		char comm[64];
		struct eg_proc_ids up;
		if (eg_proc_stat_ids(p, comm, sizeof comm, &up) != 0)
			break;
		int w = snprintf(out->parents + len, sizeof out->parents - len, "%s%s(%d)",
		    len ? " < " : "", comm, (int)p);
		if (w < 0 || (size_t)w >= sizeof out->parents - len) {
			out->parents[len] = '\0';
			break;
		}
		len += (size_t)w;
		p = up.ppid;
	}
	return 0;
}

int strict_target_stderr(pid_t tgid)
{
#if defined(SYS_pidfd_open) && defined(SYS_pidfd_getfd)
	long pfd = syscall(SYS_pidfd_open, tgid, 0);
	if (pfd >= 0) {
		long fd = syscall(SYS_pidfd_getfd, (int)pfd, 2, 0);
		close((int)pfd);
		if (fd >= 0) {
			(void)fcntl((int)fd, F_SETFD, FD_CLOEXEC);
			return (int)fd;
		}
	}
#endif
	/* A new open of the same file: O_APPEND so a log file is not
	 * overwritten from its start. */
	char p[64];
	snprintf(p, sizeof p, "/proc/%d/fd/2", (int)tgid);
	return open(p, O_WRONLY | O_APPEND | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
}
