/*
 * Test driver for strict mode: programs the preload library cannot see, and
 * attacks on the check. Never runs anything by itself: every program it is
 * given is a fake from the test's temporary directory.
 *
 *   eg_raw_exec [--libc] PATH ARG0 ARGS...
 *       execve(PATH, ARG0 ARGS...) as the raw system call (how Go's os/exec
 *       and other runtimes without the C library do it), or with --libc
 *       through the C library (built with -static by the test: a static
 *       binary has no loader, so no preload library either).
 *   eg_raw_exec --at DIR NAME ARG0 ARGS...     execveat(open(DIR), NAME, ...)
 *   eg_raw_exec --fd PATH ARG0 ARGS...         execveat(open(PATH), "", AT_EMPTY_PATH)
 *   eg_raw_exec --race N PATH ARG0 ARG1 ALT1
 *       N children, each execs PATH ARG0 ARG1 while a second thread keeps
 *       rewriting ARG1 to ALT1 and back (time of check, time of use);
 *       prints "ran=R refused=F killed=K other=O".
 *   eg_raw_exec --flip-when FILE PATH ARG0 ARG1 ALT1
 *       execs PATH ARG0 ARG1; a second thread waits for FILE to exist, then
 *       rewrites ARG1 to ALT1 and creates FILE.done (the exec is then
 *       waiting for a human's answer: the rewrite lands between the check
 *       and the exec, deterministically).
 *   eg_raw_exec --traced PATH ARG0 ARGS...
 *       the exec is made by a child that this process traces (as strace
 *       would); exits with the child's status.
 *   eg_raw_exec --seccomp-allow PROG ARGS...
 *       no_new_privs and a seccomp filter that allows everything (what a
 *       container's default profile looks like from inside), then execvp
 *       PROG through the C library.
 *
 * A failed exec prints "eg_raw_exec: exec failed: errno=NAME" on stderr and
 * exits 126 (127 for ENOENT).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* O_PATH, AT_EMPTY_PATH when built by the test with plain cc */
#endif
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static const char *errno_name(int e)
{
	switch (e) {
	case EACCES: return "EACCES";
	case ENOENT: return "ENOENT";
	case ENOSYS: return "ENOSYS";
	case EPERM: return "EPERM";
	case ENOEXEC: return "ENOEXEC";
	case EFAULT: return "EFAULT";
	default: return "OTHER";
	}
}

static int failed(void)
{
	int e = errno;
	fprintf(stderr, "eg_raw_exec: exec failed: errno=%s (%s)\n", errno_name(e), strerror(e));
	return e == ENOENT ? 127 : 126;
}

static long raw_execve(const char *path, char *const *argv)
{
	return syscall(SYS_execve, path, argv, environ);
}

/* ------------------------------------------------------------ races */

static char flip_buf[64];
static const char *flip_a, *flip_b;
static const char *flip_file;

static void *flipper(void *arg)
{
	(void)arg;
	for (;;) {
		memcpy(flip_buf, flip_b, strlen(flip_b) + 1);
		memcpy(flip_buf, flip_a, strlen(flip_a) + 1);
	}
	return NULL;
}

static void *flip_when(void *arg)
{
	(void)arg;
	struct stat st;
	while (stat(flip_file, &st) != 0) {
		struct timespec ts = { 0, 5 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	memcpy(flip_buf, flip_b, strlen(flip_b) + 1);
	char done[4096];
	snprintf(done, sizeof done, "%s.done", flip_file);
	int fd = open(done, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd >= 0)
		close(fd);
	return NULL;
}

static int race(int n, char **a)
{
	const char *path = a[0];
	flip_a = a[2];
	flip_b = a[3];
	if (strlen(flip_a) >= sizeof flip_buf || strlen(flip_b) >= sizeof flip_buf)
		return 64;
	int ran = 0, refused = 0, killed = 0, other = 0;
	for (int i = 0; i < n; i++) {
		pid_t pid = fork();
		if (pid == 0) {
			int devnull = open("/dev/null", O_WRONLY);
			dup2(devnull, 2);
			strcpy(flip_buf, flip_a);
			char *argv[] = { a[1], flip_buf, NULL };
			pthread_t t;
			pthread_create(&t, NULL, flipper, NULL);
			raw_execve(path, argv);
			_exit(errno == EACCES ? 126 : 125);
		}
		int st;
		waitpid(pid, &st, 0);
		if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
			ran++;
		else if (WIFEXITED(st) && WEXITSTATUS(st) == 126)
			refused++;
		else if (WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL)
			killed++;
		else
			other++;
	}
	printf("ran=%d refused=%d killed=%d other=%d\n", ran, refused, killed, other);
	return 0;
}

static int flip_on_file(char **a)
{
	flip_file = a[0];
	flip_a = a[3];
	flip_b = a[4];
	if (strlen(flip_a) >= sizeof flip_buf || strlen(flip_b) >= sizeof flip_buf)
		return 64;
	strcpy(flip_buf, flip_a);
	char *argv[] = { a[2], flip_buf, NULL };
	pthread_t t;
	pthread_create(&t, NULL, flip_when, NULL);
	raw_execve(a[1], argv);
	return failed();
}

/* ------------------------------------------------------------ traced */

static int traced(char **a)
{
	pid_t pid = fork();
	if (pid == 0) {
		ptrace(PTRACE_TRACEME, 0, NULL, NULL);
		raise(SIGSTOP);
		raw_execve(a[0], a + 1);
		_exit(failed());
	}
	for (;;) {
		int st;
		if (waitpid(pid, &st, 0) < 0)
			return 125;
		if (WIFEXITED(st))
			return WEXITSTATUS(st);
		if (WIFSIGNALED(st))
			return 128 + WTERMSIG(st);
		int sig = WSTOPSIG(st);
		ptrace(PTRACE_CONT, pid, NULL, (void *)(long)(sig == SIGSTOP || sig == SIGTRAP ? 0 : sig));
	}
}

static int seccomp_allow(char **a)
{
	struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	struct sock_fprog prog = { .len = 1, .filter = &allow };
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
	    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) {
		perror("eg_raw_exec: seccomp");
		return 125;
	}
	execvp(a[0], a);
	return failed();
}

int main(int argc, char **argv)
{
	if (argc >= 4 && strcmp(argv[1], "--libc") == 0) {
		execve(argv[2], argv + 3, environ);
		return failed();
	}
	if (argc >= 5 && strcmp(argv[1], "--at") == 0) {
		int d = open(argv[2], O_PATH | O_DIRECTORY);
		syscall(SYS_execveat, d, argv[3], argv + 4, environ, 0);
		return failed();
	}
	if (argc >= 4 && strcmp(argv[1], "--fd") == 0) {
		int fd = open(argv[2], O_PATH);
		syscall(SYS_execveat, fd, "", argv + 3, environ, AT_EMPTY_PATH);
		return failed();
	}
	if (argc == 7 && strcmp(argv[1], "--race") == 0)
		return race(atoi(argv[2]), argv + 3);
	if (argc == 7 && strcmp(argv[1], "--flip-when") == 0)
		return flip_on_file(argv + 2);
	if (argc >= 4 && strcmp(argv[1], "--traced") == 0)
		return traced(argv + 2);
	if (argc >= 3 && strcmp(argv[1], "--seccomp-allow") == 0)
		return seccomp_allow(argv + 2);
	if (argc >= 3 && argv[1][0] != '-') {
		raw_execve(argv[1], argv + 2);
		return failed();
	}
	fprintf(stderr, "usage: see the comment at the top of eg_raw_exec.c\n");
	return 64;
}
