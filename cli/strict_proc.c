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

static int read_stat(pid_t pid, char *comm, size_t csize, pid_t *ppid, pid_t *pgrp, pid_t *sid,
    int *tty)
{
	char p[64], buf[1024];
	snprintf(p, sizeof p, "/proc/%d/stat", (int)pid);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	char *o = strchr(buf, '('), *c = strrchr(buf, ')');
	if (!o || !c || c < o)
		return -1;
	size_t cl = (size_t)(c - o - 1);
	if (cl >= csize)
		cl = csize - 1;
	memcpy(comm, o + 1, cl);
	comm[cl] = '\0';
	char state;
	int pp, pg, s, t;
	if (sscanf(c + 1, " %c %d %d %d %d", &state, &pp, &pg, &s, &t) != 5)
		return -1;
	*ppid = pp;
	*pgrp = pg;
	*sid = s;
	*tty = t;
	return 0;
}

int strict_proc_info(pid_t pid, struct strict_proc *out)
{
	memset(out, 0, sizeof *out);
	if (read_stat(pid, out->comm, sizeof out->comm, &out->ppid, &out->pgrp, &out->session,
	    &out->tty_nr) != 0)
		return -1;
	size_t len = 0;
	pid_t p = out->ppid;
	for (int depth = 0; depth < 3 && p > 1; depth++) {
		char comm[64];
		pid_t pp, pg, s;
		int t;
		if (read_stat(p, comm, sizeof comm, &pp, &pg, &s, &t) != 0)
			break;
		int w = snprintf(out->parents + len, sizeof out->parents - len, "%s%s(%d)",
		    len ? " < " : "", comm, (int)p);
		if (w < 0 || (size_t)w >= sizeof out->parents - len) {
			out->parents[len] = '\0';
			break;
		}
		len += (size_t)w;
		p = pp;
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
