/*
 * A helper command started from the hook path. fork() would run the host's
 * atfork handlers and glibc's own locking; posix_spawn file actions
 * allocate. A raw clone(SIGCHLD) copies the address space like fork does but
 * runs nothing else, and the child only makes system calls before exec.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "subprocess.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

static pid_t raw_fork(void)
{
	return (pid_t)syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
}

/* In the child: stdin from `in`, stdout to /dev/null, nothing else open but
 * stderr; then the shell. Never returns. */
static void child_exec(const char *cmd, int in, char *const *envp)
{
	if (in != 0) {
		if (dup2(in, 0) < 0)
			_exit(127);
	}
	int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (null < 0 || dup2(null, 1) < 0)
		_exit(127);
	syscall(SYS_close_range, 3u, ~0u, 0u);
	/* default dispositions and an empty mask, as a fresh process expects */
	sigset_t none;
	sigemptyset(&none);
	syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL, sizeof(long));
	char *const argv[] = { (char *)"sh", (char *)"-c", (char *)cmd, NULL };
	char *const empty[] = { NULL };
	syscall(SYS_execve, "/bin/sh", argv, envp ? envp : empty);
	_exit(127);
}

/* A pipe with `data` already in it (the pipe grows to hold up to 1 MiB;
 * a longer record is cut). Returns the read end, or -1. */
static int pipe_with(const void *data, size_t len)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	if (len > 65536)
		(void)fcntl(p[1], F_SETPIPE_SZ, len < (1u << 20) ? (int)len : 1 << 20);
	(void)fcntl(p[1], F_SETFL, O_NONBLOCK);
	const char *s = data;
	while (len > 0) {
		ssize_t w = write(p[1], s, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		s += w;
		len -= (size_t)w;
	}
	close(p[1]);
	return p[0];
}

static int wait_exact(pid_t pid, int *status)
{
	for (;;) {
		pid_t r = (pid_t)syscall(SYS_wait4, pid, status, __WALL, NULL);
		if (r == pid)
			return 0;
		if (r < 0 && errno == EINTR)
			continue;
		return -1;
	}
}

int eg_subprocess_detached(const char *cmd, const void *data, size_t len, char *const *envp)
{
	int saved = errno;
	int in = pipe_with(data, len);
	if (in < 0)
		return -1;
	pid_t mid = raw_fork();
	if (mid < 0) {
		close(in);
		return -1;
	}
	if (mid == 0) {
		/* the middle process: start the real child and leave at once */
		(void)setsid();
		pid_t c = raw_fork();
		if (c == 0)
			child_exec(cmd, in, envp);
		_exit(c < 0 ? 1 : 0);
	}
	close(in);
	int st = 0;
	int r = wait_exact(mid, &st) == 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
	errno = r == 0 ? saved : ECHILD;
	return r;
}

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

int eg_subprocess_wait(const char *cmd, const void *data, size_t len, char *const *envp,
    unsigned timeout_ms)
{
	int saved = errno;
	int in = pipe_with(data, len);
	if (in < 0)
		return -1;
	pid_t pid = raw_fork();
	if (pid < 0) {
		close(in);
		return -1;
	}
	if (pid == 0) {
		(void)setpgid(0, 0); /* so a timeout can kill what it started */
		child_exec(cmd, in, envp);
	}
	close(in);
	(void)setpgid(pid, pid); /* both sides, whoever runs first */

	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	long deadline = timeout_ms ? now_ms() + (long)timeout_ms : 0;
	int st = 0;
	bool done = false;
	while (!done) {
		pid_t r = (pid_t)syscall(SYS_wait4, pid, &st, __WALL | WNOHANG, NULL);
		if (r == pid) {
			done = true;
			break;
		}
		if (r < 0 && errno != EINTR)
			break; /* reaped by someone else (a host's SIGCHLD handler) */
		long left = deadline ? deadline - now_ms() : 1000;
		if (left <= 0)
			break;
		if (pidfd >= 0) {
			struct pollfd pfd = { .fd = pidfd, .events = POLLIN };
			(void)poll(&pfd, 1, left > 1000 ? 1000 : (int)left);
		} else {
			struct timespec ts = { 0, 20 * 1000000L };
			nanosleep(&ts, NULL);
		}
	}
	if (pidfd >= 0)
		close(pidfd);
	if (!done) {
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
		(void)wait_exact(pid, &st);
		errno = saved;
		return -1;
	}
	errno = saved;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}
