/*
 * Stress and fault drivers for test_hardening.sh. Each mode starts children
 * of a benign program (/bin/true) and of a blocked one (a fake destructive
 * tool the rules refuse), and counts what happened to each:
 *
 *   eg_harden spawn-setenv THREADS N BLOCKED...
 *       THREADS threads, each starting N children (posix_spawn, fork+execv,
 *       vfork+execv in turn; benign and blocked in turn) while another
 *       thread keeps rewriting LD_PRELOAD, EXECGUARD_* and other variables
 *       with setenv.
 *   eg_harden signal-fork N BLOCKED...
 *       A SIGALRM handler, fired every millisecond, forks and execs (benign
 *       and blocked in turn) while the main thread posix_spawns N benign
 *       children.
 *   eg_harden spawn-loop N PROG...
 *       N children of PROG one after the other (posix_spawn); prints how
 *       many ran (exit 0), were refused (EACCES) or ended otherwise.
 *   eg_harden emfile PROG...
 *       Use up every file descriptor (RLIMIT_NOFILE 64), then execv PROG.
 *
 * "Blocked ran" (the fake tool started) and "benign refused" are the
 * failures; the exit status is 1 when any is counted. A deadlock shows as
 * the test's timeout.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static char *benign_argv[] = { "/bin/true", NULL };
static char **blocked_argv;

static int counts[4]; /* benign ran, benign refused, blocked ran, blocked refused */
enum { BENIGN_RAN, BENIGN_REFUSED, BLOCKED_RAN, BLOCKED_REFUSED };
static int odd; /* children that neither ran nor were refused */
static int retried; /* starts tried again after EAGAIN or ENOMEM */

static void count(int what)
{
	__atomic_add_fetch(&counts[what], 1, __ATOMIC_RELAXED);
}

/* Something neither "ran" nor "refused": say what (the first few), count it
 * as a failure. Called from threads; one write per line. */
static void note_odd(int blocked, const char *how, const char *what, int value)
{
	if (__atomic_add_fetch(&odd, 1, __ATOMIC_RELAXED) > 20)
		return;
	char line[160];
	int n = snprintf(line, sizeof line, "odd: %s child, %s: %s %d\n", blocked ? "blocked" : "benign",
	    how, what, value);
	if (n > 0)
		(void)!write(1, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

/* A child's exit status: 0 ran, 126 its exec was refused (EACCES); any
 * other is odd (an exec that failed otherwise, a signal). */
static void count_status(int st, int blocked, const char *how)
{
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		count(blocked ? BLOCKED_RAN : BENIGN_RAN);
	else if (WIFEXITED(st) && WEXITSTATUS(st) == 126)
		count(blocked ? BLOCKED_REFUSED : BENIGN_REFUSED);
	else if (WIFEXITED(st))
		note_odd(blocked, how, "exit status", WEXITSTATUS(st));
	else
		note_odd(blocked, how, "killed by signal", WIFSIGNALED(st) ? WTERMSIG(st) : -1);
}

/* waitpid for pid through EINTR: pid, or -1 with errno. */
static pid_t wait_child(pid_t pid, int *st)
{
	pid_t r;
	while ((r = waitpid(pid, st, 0)) < 0 && errno == EINTR)
		;
	return r;
}

/* Wait for a child started by `how`, and count what became of it. */
static void wait_and_count(pid_t pid, int blocked, const char *how)
{
	int st;
	if (wait_child(pid, &st) < 0)
		note_odd(blocked, how, "waitpid failed, errno", errno);
	else
		count_status(st, blocked, how);
}

static void child_exec(char **argv)
{
	execv(argv[0], argv);
	_exit(errno == EACCES ? 126 : 127);
}

/* Start a child of argv by method m (0 posix_spawn, 1 fork, 2 vfork): 0, or
 * the error. The vfork child never returns from here (child_exec). */
static int start_child(int m, char **argv, pid_t *pid)
{
	if (m == 0)
		return posix_spawn(pid, argv[0], NULL, NULL, argv, environ);
	pid_t p = m == 1 ? fork() : vfork();
	if (p == 0)
		child_exec(argv);
	if (p < 0)
		return errno;
	*pid = p;
	return 0;
}

/* Start one child by method m, wait. */
static void start_one(int m, int blocked)
{
	static const char *const how[] = { "posix_spawn", "fork", "vfork" };
	char **argv = blocked ? blocked_argv : benign_argv;
	pid_t pid;
	for (int attempt = 1;; attempt++) {
		int e = start_child(m, argv, &pid);
		if (e == 0)
			break;
		if (e == EACCES && m == 0) { /* posix_spawn refused */
			count(blocked ? BLOCKED_REFUSED : BENIGN_REFUSED);
			return;
		}
		/* The kernel out of processes or memory for a moment (a busy CI
		 * machine): not a decision of the library's, which refuses with
		 * EACCES. Tried again a few times, and said. */
		if ((e == EAGAIN || e == ENOMEM) && attempt < 5) {
			__atomic_add_fetch(&retried, 1, __ATOMIC_RELAXED);
			struct timespec ts = { 0, 10 * 1000000L };
			nanosleep(&ts, NULL);
			continue;
		}
		note_odd(blocked, how[m], "could not start it, errno", e);
		return;
	}
	wait_and_count(pid, blocked, how[m]);
}

static int report(void)
{
	printf("benign ran=%d refused=%d; blocked ran=%d refused=%d\n", counts[BENIGN_RAN],
	    counts[BENIGN_REFUSED], counts[BLOCKED_RAN], counts[BLOCKED_REFUSED]);
	if (odd)
		printf("odd=%d (neither ran nor refused)\n", odd);
	if (retried)
		printf("retried=%d (starts that failed with EAGAIN or ENOMEM, tried again)\n", retried);
	return counts[BENIGN_REFUSED] || counts[BLOCKED_RAN] || odd ? 1 : 0;
}

/* ------------------------------------------------------------ spawn-setenv */

static int n_iter;
static volatile int done;

static void *spawner(void *arg)
{
	int t = (int)(long)arg;
	for (int i = 0; i < n_iter; i++)
		start_one((i + t) % 3, (i / 3 + t) % 2);
	return NULL;
}

/* Only variables that exist already are rewritten: adding one makes glibc
 * reallocate environ under the other threads' feet, a race in glibc itself
 * with or without the library. Values short and long: a hook that measured
 * the environment with a short LD_PRELOAD and then built it with a long one
 * would write past what it measured. */
static void *churner(void *arg)
{
	(void)arg;
	static const char *const names[] = { "LD_PRELOAD", "EXECGUARD_POLICY",
		"EXECGUARD_PACKS_DIR", "EXECGUARD_PROMPT_TIMEOUT", "EG_CHURN_A", "EG_CHURN_B" };
	static char long_value[2048];
	for (size_t i = 0; i + 16 < sizeof long_value; i += 15)
		memcpy(long_value + i, "/nonexistent/x:", 15);
	const char *const values[] = { "", "/nonexistent", "0", "x", long_value };
	const size_t n_values = sizeof values / sizeof values[0];
	unsigned long n = 0;
	while (!__atomic_load_n(&done, __ATOMIC_RELAXED)) {
		for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
			setenv(names[i], values[(n + i) % n_values], 1);
		n++;
	}
	printf("setenv rounds=%lu\n", n);
	return NULL;
}

static int spawn_setenv(int threads, int n)
{
	pthread_t t[64], c;
	if (threads > 64)
		threads = 64;
	n_iter = n;
	setenv("LD_PRELOAD", getenv("LD_PRELOAD") ? getenv("LD_PRELOAD") : "", 1);
	setenv("EXECGUARD_POLICY", getenv("EXECGUARD_POLICY") ? getenv("EXECGUARD_POLICY") : "", 1);
	setenv("EXECGUARD_PACKS_DIR", getenv("EXECGUARD_PACKS_DIR") ? getenv("EXECGUARD_PACKS_DIR") : "", 1);
	setenv("EXECGUARD_PROMPT_TIMEOUT", "5", 1);
	setenv("EG_CHURN_A", "1", 1);
	setenv("EG_CHURN_B", "1", 1);
	int e = pthread_create(&c, NULL, churner, NULL);
	if (e != 0) {
		fprintf(stderr, "eg_harden: pthread_create: %s\n", strerror(e));
		return 2;
	}
	int started = 0;
	for (; started < threads; started++)
		if ((e = pthread_create(&t[started], NULL, spawner, (void *)(long)started)) != 0)
			break;
	for (int i = 0; i < started; i++)
		pthread_join(t[i], NULL);
	__atomic_store_n(&done, 1, __ATOMIC_RELAXED);
	pthread_join(c, NULL);
	if (started < threads) { /* the counts would be too low: not a pass */
		printf("only %d of %d threads started: %s\n", started, threads, strerror(e));
		report();
		return 1;
	}
	return report();
}

/* ------------------------------------------------------------ signal-fork */

#define MAX_SIG_CHILDREN 400
static pid_t sig_pids[MAX_SIG_CHILDREN];
static int sig_blocked[MAX_SIG_CHILDREN];
static volatile sig_atomic_t n_sig;

static void on_alarm(int sig)
{
	(void)sig;
	int saved = errno;
	int i = n_sig;
	if (i < MAX_SIG_CHILDREN) {
		int blocked = i % 2;
		pid_t pid = fork();
		if (pid == 0) {
			char **argv = blocked ? blocked_argv : benign_argv;
			execve(argv[0], argv, environ);
			_exit(errno == EACCES ? 126 : 127);
		}
		if (pid > 0) {
			sig_pids[i] = pid;
			sig_blocked[i] = blocked;
			n_sig = i + 1;
		}
	}
	errno = saved;
}

static int signal_fork(int n)
{
	struct sigaction sa = { .sa_handler = on_alarm, .sa_flags = SA_RESTART };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	struct itimerval it = { .it_interval = { 0, 1000 }, .it_value = { 0, 1000 } };
	setitimer(ITIMER_REAL, &it, NULL);
	for (int i = 0; i < n; i++)
		start_one(0, 0);
	struct itimerval off = { { 0, 0 }, { 0, 0 } };
	setitimer(ITIMER_REAL, &off, NULL);
	signal(SIGALRM, SIG_IGN);
	for (int i = 0; i < n_sig; i++)
		wait_and_count(sig_pids[i], sig_blocked[i], "fork in a signal handler");
	printf("forked in the handler: %d\n", (int)n_sig);
	return report();
}

/* ------------------------------------------------------------ spawn-loop */

static int spawn_loop(int n, char **argv)
{
	int ran = 0, refused = 0, other = 0;
	for (int i = 0; i < n; i++) {
		pid_t pid;
		int rc = posix_spawn(&pid, argv[0], NULL, NULL, argv, environ);
		if (rc == EACCES) {
			refused++;
			continue;
		}
		if (rc != 0) {
			other++;
			continue;
		}
		int st;
		if (wait_child(pid, &st) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0)
			ran++;
		else
			other++;
	}
	printf("ran=%d refused=%d other=%d\n", ran, refused, other);
	return 0;
}

/* ------------------------------------------------------------ emfile */

static int emfile(char **argv)
{
	struct rlimit rl = { 64, 64 };
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
		return 2;
	int n = 0;
	while (open("/dev/null", O_RDONLY) >= 0)
		n++;
	if (errno != EMFILE)
		return 3;
	dprintf(1, "descriptors used up (%d opened, then EMFILE)\n", n);
	execv(argv[0], argv);
	dprintf(1, "exec failed: errno=%s\n", errno == EACCES ? "EACCES" : strerror(errno));
	return 20;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 5 && strcmp(argv[1], "spawn-setenv") == 0) {
		blocked_argv = argv + 4;
		return spawn_setenv(atoi(argv[2]), atoi(argv[3]));
	}
	if (argc >= 4 && strcmp(argv[1], "signal-fork") == 0) {
		blocked_argv = argv + 3;
		return signal_fork(atoi(argv[2]));
	}
	if (argc >= 4 && strcmp(argv[1], "spawn-loop") == 0)
		return spawn_loop(atoi(argv[2]), argv + 3);
	if (argc >= 3 && strcmp(argv[1], "emfile") == 0)
		return emfile(argv + 2);
	fprintf(stderr, "usage: eg_harden spawn-setenv|signal-fork|spawn-loop|emfile ...\n");
	return 64;
}
