/*
 * Hook-path stress: THREADS threads, each starting N children (alternating
 * posix_spawn and fork+execv) of PROG and waiting for them. Exits 0 when
 * every child ran and exited 0. A deadlock shows as the test's timeout.
 *   eg_stress THREADS N PROG [ARG...]
 */
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static int n_iter;
static char **child_argv;
static int failures;

static void *worker(void *arg)
{
	(void)arg;
	for (int i = 0; i < n_iter; i++) {
		pid_t pid;
		if (i % 2 == 0) {
			if (posix_spawn(&pid, child_argv[0], NULL, NULL, child_argv, environ) != 0) {
				__atomic_add_fetch(&failures, 1, __ATOMIC_RELAXED);
				continue;
			}
		} else {
			pid = fork();
			if (pid == 0) {
				execv(child_argv[0], child_argv);
				_exit(127);
			}
			if (pid < 0) {
				__atomic_add_fetch(&failures, 1, __ATOMIC_RELAXED);
				continue;
			}
		}
		int st;
		if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			__atomic_add_fetch(&failures, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 4)
		return 64;
	int threads = atoi(argv[1]);
	n_iter = atoi(argv[2]);
	child_argv = argv + 3;
	pthread_t t[64];
	if (threads > 64)
		threads = 64;
	for (int i = 0; i < threads; i++)
		pthread_create(&t[i], NULL, worker, NULL);
	for (int i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	printf("children=%d failures=%d\n", threads * n_iter, failures);
	return failures ? 1 : 0;
}
