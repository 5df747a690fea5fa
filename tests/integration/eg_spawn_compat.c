/*
 * Calls posix_spawn through a chosen glibc symbol version:
 *   eg_spawn_compat old|new PROG [ARG...]
 * old = posix_spawn@GLIBC_2.2.5 (runs a file without #! through /bin/sh),
 * new = posix_spawn@@GLIBC_2.15 (returns ENOEXEC for it).
 * Prints "rc=NAME status=N".
 */
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

extern char **environ;

typedef int spawn_fn(pid_t *, const char *, const posix_spawn_file_actions_t *,
    const posix_spawnattr_t *, char *const[], char *const[]);
spawn_fn spawn_old, spawn_new;
__asm__(".symver spawn_old, posix_spawn@GLIBC_2.2.5");
__asm__(".symver spawn_new, posix_spawn@GLIBC_2.15");

int main(int argc, char **argv)
{
	if (argc < 3)
		return 64;
	spawn_fn *fn = !strcmp(argv[1], "old") ? spawn_old : spawn_new;
	pid_t pid;
	int r = fn(&pid, argv[2], NULL, NULL, argv + 2, environ);
	const char *name = r == 0 ? "0" : r == EACCES ? "EACCES" : r == ENOEXEC ? "ENOEXEC"
	    : r == ENOENT ? "ENOENT" : "other";
	int code = -1;
	if (r == 0) {
		int st;
		waitpid(pid, &st, 0);
		code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	}
	printf("rc=%s status=%d\n", name, code);
	return 0;
}
