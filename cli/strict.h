/*
 * Strict mode (`execguard run --strict`): the kernel hands every execve and
 * execveat of the guarded tree to a supervisor in the execguard process
 * through a seccomp user-notification descriptor, so static binaries, Go
 * programs and raw system calls are decided by the same engine and asked
 * about through the same prompt as what the preload library sees.
 *
 * One concern a file:
 *   strict_filter.c      the BPF program, no_new_privs, the listener descriptor
 *   strict_target.c      reading an exec request out of the calling process
 *   strict_proc.c        a process's name, parents, group, session, stderr
 *   strict_verify.c      what the process must look like once the exec is
 *                        done, and the ptrace stop where that is compared
 *   strict_approve.c     the approval step (asking the human)
 *   strict_supervisor.c  the event loop: decide, let through, verify, reap
 *   strict_answer.c      answers: response, message, audit record
 *   strict_question.c    questions, each asked by a helper process
 *                        (the three share strict_sup.h)
 *   strict_probe.c       is strict mode available on this machine?
 *   strict_run.c         `execguard run --strict`
 *
 * This is CLI code, not hook code: it runs in the execguard process, never
 * inside a guarded program, so it may allocate and print.
 */
#ifndef EG_STRICT_H
#define EG_STRICT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "execguard.h"
#include "prompt.h"
#include "strict_probe.h"

struct seccomp_notif;

/* eg_strict_probe(), for `execguard doctor`: strict_probe.h */

/* ------------------------------------------------------------ filter */

/* What the kernel gives us, found at run time. */
struct strict_kernel {
	/* SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (Linux 5.19): once a question
	 * is being asked, only a fatal signal interrupts the waiting exec. */
	bool killable_wait;
};

/*
 * In the child, before it executes anything: set no_new_privs, install the
 * filter that turns every execve/execveat into a notification, send the
 * listener descriptor over `sock` (SCM_RIGHTS) and close it here, so that no
 * program of the tree ever holds it. Returns 0, or -1 with errno (and a
 * sentence in why).
 */
int strict_filter_install(int sock, struct strict_kernel *k, char *why, size_t n);
/* In the parent: receive the listener descriptor (blocking, or until
 * timeout_ms when >= 0). -1 with errno on failure. */
int strict_filter_receive(int sock, int timeout_ms);
/* Is this notification an execve/execveat of this build's native system
 * call ABI? The others (32-bit and x32 programs on x86_64) are notified
 * too, and refused: their pointers are not read. */
bool strict_native_exec(const struct seccomp_notif *n, bool *is_execveat);
/* Does this build know the system calls of its architecture? */
bool strict_arch_supported(void);
/* The BPF program itself (for the unit test); NULL when unsupported. */
struct sock_filter;
const struct sock_filter *strict_filter_program(size_t *n);

/* ------------------------------------------------------------ the exec request */

struct strict_exec {
	uint64_t id;          /* notification id */
	pid_t tid;            /* the calling thread */
	pid_t tgid;           /* its process */
	bool is_execveat;
	int dirfd, at_flags;  /* execveat */
	char *path;           /* as passed */
	char **argv;          /* NULL-terminated, as passed (argc may be 0) */
	size_t argc;
	char **envp;
	size_t envc;
	/* argv and envp strings, NUL-terminated one after the other: what
	 * /proc/PID/cmdline and /proc/PID/environ show after the exec. */
	char *arg_blob, *env_blob;
	size_t arg_len, env_len;
	/* The executable, resolved from the caller's root, cwd or descriptor:
	 * its path as seen from here (the engine takes its basename), and an
	 * O_PATH descriptor on it (its identity for the check after exec). */
	char exe[4096];
	int exe_fd;
	struct stat exe_st;
	/* What the kernel will call the file (a script's interpreter gets it):
	 * the path, or /dev/fd/N[/path] for execveat relative to a descriptor. */
	char kernel_name[4096 + 32];
	char cwd[4096]; /* "" when unknown */
};

/*
 * Read the request behind notification `n` out of the caller. Returns 0 when
 * it is ready to be checked; a positive errno the exec is to fail with
 * without a check (EFAULT: a bad pointer, E2BIG, ENOENT...: the program
 * cannot be executed anyway, so nobody is asked about it); -1 when the
 * notification is gone (the caller died); STRICT_UNREADABLE. `listener` is used to make sure the
 * process read is still the one that asked.
 */
int strict_exec_read(int listener, const struct seccomp_notif *n, struct strict_exec *x);
/* strict_exec_read: the caller is alive and waiting, but its memory cannot
 * be read (a non-dumpable process, a security module): refuse. */
#define STRICT_UNREADABLE (-2)
void strict_exec_free(struct strict_exec *x);

/* Open (O_PATH) `path` as the kernel resolves it for thread `tid` of
 * process `tgid`: from its root, its cwd, or its descriptor `dirfd`
 * (AT_FDCWD: the cwd). -1 with errno. */
int strict_target_open(pid_t tid, pid_t tgid, int dirfd, const char *path, bool nofollow);

/* For the prompt and the audit: the process's name and its parent chain
 * ("bash(123) < claude(100)"), its parent pid, process group, session and
 * controlling terminal (0 = none), from /proc. -1 if it is gone. */
struct strict_proc {
	char comm[64];
	char parents[512];
	pid_t ppid, pgrp, session;
	int tty_nr;
};
int strict_proc_info(pid_t pid, struct strict_proc *out);

/* A descriptor on the process's standard error (pidfd_getfd, else
 * /proc/PID/fd/2), for the refusal message; -1 if none. */
int strict_target_stderr(pid_t tgid);

/* ------------------------------------------------------------ verification */

/*
 * What /proc/PID/cmdline, /proc/PID/environ and /proc/PID/exe must show at
 * the ptrace stop that ends a successful exec, computed before the exec is
 * let through (the kernel rewrites argv for #! scripts).
 */
struct strict_expect {
	char *cmdline;       /* exact bytes; NULL: only the tail is known */
	size_t cmdline_len;
	char *tail;          /* argv[1..] as bytes: binfmt_misc keeps them */
	size_t tail_len;
	char *environ;
	size_t environ_len;
	bool check_exe;      /* compare the new image's file */
	dev_t exe_dev;
	ino_t exe_ino;
};

/* Fill `e` from a request that is about to be let through. Returns 0, or -1
 * when the outcome cannot be predicted (the caller then refuses). */
int strict_expect_build(const struct strict_exec *x, struct strict_expect *e);
void strict_expect_free(struct strict_expect *e);

/*
 * Attach to the calling thread (PTRACE_SEIZE with TRACEEXEC and EXITKILL:
 * should execguard die, the process dies with it) and queue a stop
 * (PTRACE_INTERRUPT) that happens only if the exec fails. The exec itself
 * then stops at PTRACE_EVENT_EXEC, before the new program runs one
 * instruction. Returns 0 or -1 with errno (EPERM: traced by another program).
 */
int strict_trace_exec(pid_t tid);

/* At PTRACE_EVENT_EXEC of `pid`: does the new image match? true = yes; false
 * with a short reason in why (the caller kills the process). */
bool strict_expect_matches(pid_t pid, const struct strict_expect *e, char *why, size_t n);

/* ------------------------------------------------------------ approval */

/* One question about one exec, for whichever channel answers it. */
struct strict_question {
	struct eg_prompt_req prompt; /* what the terminal prompt shows */
	pid_t pgrp;                  /* the asking process's group */
	pid_t session;
	char *const *argv;           /* the command (approver request, session memory) */
	char *const *envp;           /* the asking process's environment */
};

/*
 * The approval step: one function, so that other channels (an approver
 * program, a broker) can be added here. Runs in a helper process forked by
 * the supervisor for this one question (so the supervisor keeps answering
 * every other exec meanwhile). Today: the terminal prompt of the preload
 * library (lib/preload/prompt.c), asked from the asking process's group, so
 * that "is this a foreground job?" means the same as under the library.
 */
enum eg_prompt_outcome strict_approve(const struct strict_question *q);
/* Is the terminal the channel (no approver, no approve-elsewhere)? Then a
 * process without a terminal cannot be asked at all. */
bool strict_asks_on_terminal(void);

/* ------------------------------------------------------------ supervisor */

struct strict_supervisor_cfg {
	const struct eg_policy *policy;
	int listener;
	pid_t child;       /* CMD: its exit ends the supervision */
	int child_sock;    /* tells CMD's first process that its exec was refused */
};

/* Serve until the child exits; returns its status as a shell reports it
 * (exit code, or 128 + signal). */
int strict_supervise(const struct strict_supervisor_cfg *cfg);

/* ------------------------------------------------------------ run */

/* `execguard run --strict`: `cmd` checked by the supervisor like every
 * exec after it. The policy is loaded and the environment (LD_PRELOAD,
 * EXECGUARD_POLICY) already set by cmd_run. Returns the exit status. */
int strict_run(char **cmd, const struct eg_policy *policy);

/* Is this process itself under a strict supervisor? (EXECGUARD_STRICT set,
 * and the supervisor answers: strict_ping.h.) A nested `execguard run
 * --strict` then leaves the deciding to it. */
bool strict_already_supervised(void);

#endif
