/*
 * Is strict mode available? (For `execguard doctor` and for the tests.)
 *
 * Rather than guess from the kernel version, run the machinery once on a
 * harmless exec: a child installs the filter and executes this binary with
 * --version; the parent receives the notification, reads the path out of
 * the child's memory, attaches, lets the exec through, and must see the
 * ptrace stop at the new image. Each step that fails names the missing
 * feature. Bounded by a few seconds in the worst case.
 */
#include "strict.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define STEP_MS 3000

static int fail(char *why, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(char *why, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, n, fmt, ap);
	va_end(ap);
	return 0;
}

/* waitpid with a deadline (the child is ours, or attached). */
static pid_t wait_for(pid_t pid, int *st, int ms)
{
	for (int waited = 0; waited <= ms; waited++) {
		pid_t r = waitpid(pid, st, __WALL | WNOHANG);
		if (r != 0)
			return r;
		struct timespec ts = { 0, 1000000 };
		nanosleep(&ts, NULL);
	}
	return 0;
}

static void finish(pid_t child)
{
	kill(child, SIGKILL);
	int st;
	(void)wait_for(child, &st, STEP_MS);
}

int eg_strict_probe(char *why, size_t n)
{
	if (!strict_arch_supported())
		return fail(why, n, "strict mode does not know this CPU architecture's system calls");
	unsigned action = SECCOMP_RET_USER_NOTIF;
	if (syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) != 0)
		return fail(why, n, "the kernel has no seccomp user notification (Linux 5.0 or later "
		    "with CONFIG_SECCOMP_FILTER is needed; strict mode is tested on 5.19 and later)");
	if (strict_already_supervised())
		return fail(why, n, "this process already runs under `execguard run --strict`: the "
		    "session around it checks every exec");

	char self[PATH_MAX];
	ssize_t l = readlink("/proc/self/exe", self, sizeof self - 1);
	if (l <= 0)
		return fail(why, n, "cannot find the execguard binary (/proc not mounted?)");
	self[l] = '\0';

	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		return fail(why, n, "socketpair failed: %s", strerror(errno));
	struct sigaction dfl = { .sa_handler = SIG_DFL }, old_chld;
	sigaction(SIGCHLD, &dfl, &old_chld);
	fflush(NULL);
	pid_t child = fork();
	if (child < 0) {
		sigaction(SIGCHLD, &old_chld, NULL);
		return fail(why, n, "fork failed: %s", strerror(errno));
	}
	if (child == 0) {
		close(sv[0]);
		int devnull = open("/dev/null", O_RDWR);
		if (devnull >= 0) {
			dup2(devnull, 1);
			dup2(devnull, 2);
		}
		struct strict_kernel k;
		char w[400];
		if (strict_filter_install(sv[1], &k, w + 1, sizeof w - 1) != 0) {
			w[0] = '!'; /* taken by the parent's receive, which then fails */
			(void)!write(sv[1], w, strlen(w));
			_exit(1);
		}
		(void)!write(sv[1], k.killable_wait ? "K" : "k", 1);
		char *argv[] = { self, (char *)"--version", NULL };
		char *envp[] = { NULL };
		syscall(SYS_execve, self, argv, envp);
		_exit(2);
	}
	close(sv[1]);
	int ok = 0;
	int listener = strict_filter_receive(sv[0], STEP_MS);
	if (listener < 0) {
		char w[400] = "";
		ssize_t r = read(sv[0], w, sizeof w - 1);
		w[r > 0 ? r : 0] = '\0';
		fail(why, n, "%s", w[0] ? w : "the filter could not be installed");
		goto out;
	}
	char kw = 0;
	if (read(sv[0], &kw, 1) != 1)
		kw = 0;
	struct pollfd p = { .fd = listener, .events = POLLIN };
	if (poll(&p, 1, STEP_MS) != 1) {
		fail(why, n, "no notification arrived for the probe's exec");
		goto out;
	}
	struct seccomp_notif nt;
	memset(&nt, 0, sizeof nt);
	if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &nt) != 0) {
		fail(why, n, "receiving a notification failed: %s", strerror(errno));
		goto out;
	}
	bool at;
	if (!strict_native_exec(&nt, &at)) {
		fail(why, n, "the probe's exec arrived for an unexpected system call");
		goto out;
	}
	char path[PATH_MAX];
	struct iovec lo = { .iov_base = path, .iov_len = (size_t)l + 1 };
	struct iovec re = { .iov_base = (void *)(uintptr_t)nt.data.args[0], .iov_len = (size_t)l + 1 };
	if (process_vm_readv((pid_t)nt.pid, &lo, 1, &re, 1, 0) != l + 1 || memcmp(path, self, (size_t)l + 1)) {
		fail(why, n, "reading the calling process's memory failed (process_vm_readv: %s); "
		    "a container's seccomp profile may forbid it", strerror(errno));
		goto out;
	}
	if (strict_trace_exec((pid_t)nt.pid) != 0) {
		fail(why, n, "attaching to the calling process failed (ptrace: %s); Yama's "
		    "kernel.yama.ptrace_scope must be 0 or 1, and a container must allow ptrace",
		    strerror(errno));
		goto out;
	}
	uint64_t id = nt.id;
	if (ioctl(listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) != 0) {
		fail(why, n, "the notification was lost: %s", strerror(errno));
		goto out;
	}
	struct seccomp_notif_resp resp;
	memset(&resp, 0, sizeof resp);
	resp.id = nt.id;
	resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
	if (ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp) != 0) {
		fail(why, n, "letting the exec continue failed (SECCOMP_USER_NOTIF_FLAG_CONTINUE "
		    "needs Linux 5.5): %s", strerror(errno));
		goto out;
	}
	int st = 0;
	if (wait_for(child, &st, STEP_MS) != child || !WIFSTOPPED(st) ||
	    ((unsigned)st >> 16) != PTRACE_EVENT_EXEC) {
		fail(why, n, "the stop after the exec did not come (PTRACE_O_TRACEEXEC)");
		goto out;
	}
	char exe[PATH_MAX], link[64];
	snprintf(link, sizeof link, "/proc/%d/exe", (int)child);
	ssize_t el = readlink(link, exe, sizeof exe - 1);
	if (el <= 0) {
		fail(why, n, "the new program's /proc/PID/exe cannot be read");
		goto out;
	}
	(void)ptrace(PTRACE_DETACH, child, NULL, NULL);
	if (wait_for(child, &st, STEP_MS) != child || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fail(why, n, "the probe's program did not finish normally");
		goto out;
	}
	child = 0;
	ok = 1;
	/* The one kernel feature that changes how questions behave. */
	snprintf(why, n, "seccomp user notification, memory reads and the ptrace stop after exec work; %s",
	    kw == 'K' ? "a waiting exec is interrupted only by a fatal signal (Linux 5.19+)"
		      : "without killable waits (Linux < 5.19) a signal to a process that waits for an "
			"answer restarts its exec, which rejoins the open question");
out:
	if (child > 0)
		finish(child);
	if (listener >= 0)
		close(listener);
	close(sv[0]);
	sigaction(SIGCHLD, &old_chld, NULL);
	return ok;
}
