/*
 * Fork+exec loop timing harness: starts PROGRAM (default /bin/true) N times
 * with posix_spawn or fork+execv and prints nanoseconds per child. Run it
 * with and without the library in one session (bench/run.sh) and compare.
 */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: forkexec spawn|fork N [PROGRAM ARGS...]\n");
		return 64;
	}
	int use_fork = strcmp(argv[1], "fork") == 0;
	long n = atol(argv[2]);
	char *def[] = { "/bin/true", NULL };
	char **child = argc > 3 ? argv + 3 : def;
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (long i = 0; i < n; i++) {
		pid_t pid;
		if (use_fork) {
			pid = fork();
			if (pid == 0) {
				execv(child[0], child);
				_exit(127);
			}
		} else if (posix_spawn(&pid, child[0], NULL, NULL, child, environ) != 0) {
			perror("posix_spawn");
			return 1;
		}
		int st;
		waitpid(pid, &st, 0);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			fprintf(stderr, "child failed\n");
			return 1;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	double ns = (double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec);
	printf("%.0f\n", ns / (double)n);
	return 0;
}
