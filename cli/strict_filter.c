/*
 * The seccomp filter of strict mode and its listener descriptor.
 *
 * The BPF program sends every execve and execveat to the supervisor
 * (SECCOMP_RET_USER_NOTIF) and lets every other system call through
 * untouched, so a program that never executes anything cannot tell it is
 * there. The execs of the other ABIs the kernel accepts on this machine
 * (i386 and x32 on x86_64, arm32 on aarch64) are notified too: the
 * supervisor refuses them rather than read 32-bit pointers it was never
 * tested with. An architecture the filter does not know kills the process
 * (it cannot happen on a kernel of this build's architecture).
 *
 * A filter is inherited by every child (fork, clone, vfork) and kept across
 * every exec; it cannot be removed. no_new_privs is required to install one
 * without CAP_SYS_ADMIN and is set unconditionally, so set-uid and
 * file-capability programs run without their privileges in strict mode
 * (sudo refuses to start, for example).
 */
#include "strict.h"

#include "guard.h"
#include "strict_ping.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

#if defined(__x86_64__)
#define NATIVE_ARCH AUDIT_ARCH_X86_64
#define COMPAT_ARCH AUDIT_ARCH_I386
#define COMPAT_EXECVE 11u
#define COMPAT_EXECVEAT 358u
#define X32_BIT 0x40000000u
#define X32_EXECVE (X32_BIT | 520u)
#define X32_EXECVEAT (X32_BIT | 545u)
#elif defined(__aarch64__)
#define NATIVE_ARCH AUDIT_ARCH_AARCH64
#define COMPAT_ARCH AUDIT_ARCH_ARM
#define COMPAT_EXECVE 11u
#define COMPAT_EXECVEAT 387u
#endif

bool strict_arch_supported(void)
{
#ifdef NATIVE_ARCH
	return true;
#else
	return false;
#endif
}

bool strict_native_exec(const struct seccomp_notif *n, bool *is_execveat)
{
#ifdef NATIVE_ARCH
	if (n->data.arch != NATIVE_ARCH)
		return false;
	if (n->data.nr == SYS_execve) {
		*is_execveat = false;
		return true;
	}
	if (n->data.nr == SYS_execveat) {
		*is_execveat = true;
		return true;
	}
#else
	(void)n;
	(void)is_execveat;
#endif
	return false;
}

#define LD_ARCH BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch))
#define LD_NR BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr))
#define RET(v) BPF_STMT(BPF_RET | BPF_K, (v))
#define JEQ(k, t, f) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (k), (t), (f))
#define JGE(k, t, f) BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, (k), (t), (f))

#ifdef NATIVE_ARCH
#ifndef X32_BIT
#define X32_BIT 0xffffffffu /* no such ABI: the jump below is never taken */
#define X32_EXECVE 0xffffffffu
#define X32_EXECVEAT 0xffffffffu
#endif
/* Jump offsets count the instructions skipped; the index of each target is
 * in the comment. tests/integration/eg_strict_unit.c runs the program. */
static const struct sock_filter exec_filter[] = {
	/*  0 */ LD_ARCH,
	/*  1 */ JEQ(NATIVE_ARCH, 0, 8),       /* no: -> 10 */
	/*  2 */ LD_NR,
	/*  3 */ JGE(X32_BIT, 3, 0),           /* x32: -> 7 */
	/*  4 */ JEQ(SYS_execve, 11, 0),       /* -> 16 */
	/*  5 */ JEQ(SYS_execveat, 10, 0),     /* -> 16 */
	/*  6 */ RET(SECCOMP_RET_ALLOW),
	/*  7 */ JEQ(X32_EXECVE, 8, 0),        /* -> 16 */
	/*  8 */ JEQ(X32_EXECVEAT, 7, 0),      /* -> 16 */
	/*  9 */ RET(SECCOMP_RET_ALLOW),
	/* 10 */ JEQ(COMPAT_ARCH, 0, 4),       /* no: -> 15 */
	/* 11 */ LD_NR,
	/* 12 */ JEQ(COMPAT_EXECVE, 3, 0),     /* -> 16 */
	/* 13 */ JEQ(COMPAT_EXECVEAT, 2, 0),   /* -> 16 */
	/* 14 */ RET(SECCOMP_RET_ALLOW),
	/* 15 */ RET(SECCOMP_RET_KILL_PROCESS),
	/* 16 */ RET(SECCOMP_RET_USER_NOTIF),
};

const struct sock_filter *strict_filter_program(size_t *n)
{
	*n = sizeof exec_filter / sizeof exec_filter[0];
	return exec_filter;
}
#else
const struct sock_filter *strict_filter_program(size_t *n)
{
	*n = 0;
	return NULL;
}
#endif

static void say(char *why, size_t n, const char *msg)
{
	if (why && n)
		snprintf(why, n, "%s", msg);
}

static int send_fd(int sock, int fd)
{
	char byte = 'L';
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	memset(&ctl, 0, sizeof ctl);
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
		.msg_controllen = sizeof ctl.buf };
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof fd);
	ssize_t r;
	do
		r = sendmsg(sock, &msg, MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	return r == 1 ? 0 : -1;
}

int strict_filter_receive(int sock, int timeout_ms)
{
	if (timeout_ms >= 0) {
		struct pollfd p = { .fd = sock, .events = POLLIN };
		int r;
		do
			r = poll(&p, 1, timeout_ms);
		while (r < 0 && errno == EINTR);
		if (r == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (r < 0)
			return -1;
	}
	char byte;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
		.msg_controllen = sizeof ctl.buf };
	ssize_t r;
	do
		r = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	while (r < 0 && errno == EINTR);
	if (r != 1) {
		if (r == 0)
			errno = EPIPE;
		return -1;
	}
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	if (c == NULL || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
	    c->cmsg_len != CMSG_LEN(sizeof(int))) {
		errno = EPROTO;
		return -1;
	}
	int fd;
	memcpy(&fd, CMSG_DATA(c), sizeof fd);
	return fd;
}

int strict_filter_install(int sock, struct strict_kernel *k, char *why, size_t n)
{
#ifndef NATIVE_ARCH
	(void)sock;
	(void)k;
	say(why, n, "strict mode does not know this CPU architecture's system calls");
	errno = ENOSYS;
	return -1;
#else
	struct sock_fprog prog = {
		.len = (unsigned short)(sizeof exec_filter / sizeof exec_filter[0]),
		.filter = (struct sock_filter *)exec_filter,
	};
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		say(why, n, "no_new_privs could not be set");
		return -1;
	}
	unsigned long flags = SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
	long fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
	k->killable_wait = fd >= 0;
	if (fd < 0 && errno == EINVAL) {
		/* Before Linux 5.19: a signal can interrupt a waiting exec (the
		 * supervisor then keeps the question open and the restarted exec
		 * rejoins it). */
		flags &= ~(unsigned long)SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
		fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
	}
	if (fd < 0) {
		int e = errno;
		switch (e) {
		case EBUSY:
			say(why, n, "this process is already under a seccomp supervisor "
			    "(another `execguard run --strict` or a container runtime's)");
			break;
		case EINVAL:
		case ENOSYS:
			say(why, n, "the kernel has no seccomp user notification "
			    "(SECCOMP_FILTER_FLAG_NEW_LISTENER needs Linux 5.0; strict mode needs 5.9)");
			break;
		case EACCES:
		case EPERM:
			say(why, n, "installing a seccomp filter was refused (a container's own "
			    "seccomp profile or a security module may forbid it)");
			break;
		default:
			snprintf(why, n, "installing the seccomp filter failed: %s", strerror(e));
		}
		errno = e;
		return -1;
	}
	if (send_fd(sock, (int)fd) != 0) {
		int e = errno;
		close((int)fd);
		snprintf(why, n, "passing the listener to the supervisor failed: %s", strerror(e));
		errno = e;
		return -1;
	}
	/* Only the supervisor may hold it: whoever holds it answers. */
	close((int)fd);
	return 0;
#endif
}

bool strict_already_supervised(void)
{
	const char *v = getenv(EG_STRICT_VAR);
	return v != NULL && strcmp(v, "1") == 0 && eg_strict_ping();
}
