/*
 * Test driver for the integration tests: make one exec-family call and
 * report what came back, so the same output can be compared with and
 * without libexecguard.so.
 *
 *   eg_exec_variants MODE PROG [ARG...]
 *
 * MODE: execve execve-null-env execv execvp execvpe execl execlp execle
 *       execveat execveat-fd fexecve posix_spawn posix_spawnp system popen
 *       wordexp
 * Success of an exec replaces the process; any failure prints
 * "MODE: rc=R errno=NAME" and exits 20. Spawns wait for the child and print
 * its status.
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <wordexp.h>

extern char **environ;

static const char *ename(int e)
{
	switch (e) {
	case 0: return "0";
	case EACCES: return "EACCES";
	case ENOENT: return "ENOENT";
	case ENOEXEC: return "ENOEXEC";
	case ENOTDIR: return "ENOTDIR";
	case E2BIG: return "E2BIG";
	case EINVAL: return "EINVAL";
	case ENOSYS: return "ENOSYS";
	case EPERM: return "EPERM";
	}
	return "other";
}

static int fail(const char *mode, int rc, int e)
{
	printf("%s: rc=%d errno=%s\n", mode, rc, ename(e));
	fflush(stdout);
	return 20;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: eg_exec_variants MODE PROG [ARG...]\n");
		return 64;
	}
	const char *mode = argv[1];
	const char *prog = argv[2];
	char **args = argv + 2;
	const char *a1 = argc > 3 ? argv[3] : NULL;
	const char *a2 = argc > 4 ? argv[4] : NULL;
	int rc;
	fflush(stdout);
	errno = 0;

	if (!strcmp(mode, "execve")) {
		rc = execve(prog, args, environ);
	} else if (!strcmp(mode, "execve-null-env")) {
		rc = execve(prog, args, NULL); /* the kernel takes NULL as empty */
	} else if (!strcmp(mode, "execv")) {
		rc = execv(prog, args);
	} else if (!strcmp(mode, "execvp")) {
		rc = execvp(prog, args);
	} else if (!strcmp(mode, "execvpe")) {
		rc = execvpe(prog, args, environ);
	} else if (!strcmp(mode, "execl")) {
		rc = execl(prog, prog, a1, a2, (char *)NULL);
	} else if (!strcmp(mode, "execlp")) {
		rc = execlp(prog, prog, a1, a2, (char *)NULL);
	} else if (!strcmp(mode, "execle")) {
		rc = execle(prog, prog, a1, a2, (char *)NULL, environ);
	} else if (!strcmp(mode, "execveat")) {
		rc = execveat(AT_FDCWD, prog, args, environ, 0);
	} else if (!strcmp(mode, "execveat-fd")) {
		/* directory fd + relative name */
		char dir[4096];
		snprintf(dir, sizeof dir, "%s", prog);
		char *slash = strrchr(dir, '/');
		if (!slash)
			return fail(mode, -1, EINVAL);
		*slash = '\0';
		/* no O_CLOEXEC: a #! script is run through /dev/fd/N */
		int dfd = open(dir[0] ? dir : "/", O_RDONLY | O_DIRECTORY);
		rc = execveat(dfd, slash + 1, args, environ, 0);
	} else if (!strcmp(mode, "fexecve")) {
		int fd = open(prog, O_RDONLY); /* no O_CLOEXEC: scripts */
		if (fd < 0)
			return fail(mode, -1, errno);
		rc = fexecve(fd, args, environ);
	} else if (!strcmp(mode, "posix_spawn") || !strcmp(mode, "posix_spawnp")) {
		pid_t pid;
		int r = !strcmp(mode, "posix_spawn") ? posix_spawn(&pid, prog, NULL, NULL, args, environ)
						     : posix_spawnp(&pid, prog, NULL, NULL, args, environ);
		if (r != 0)
			return fail(mode, r, r);
		int st;
		waitpid(pid, &st, 0);
		printf("%s: child status %d\n", mode, WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
		return 0;
	} else if (!strcmp(mode, "system")) {
		char cmd[8192] = "";
		for (int i = 2; i < argc; i++) {
			strncat(cmd, argv[i], sizeof cmd - strlen(cmd) - 2);
			strcat(cmd, " ");
		}
		int st = system(cmd);
		printf("system: status exited=%d code=%d\n", WIFEXITED(st), WEXITSTATUS(st));
		return 0;
	} else if (!strcmp(mode, "popen")) {
		char cmd[8192] = "";
		for (int i = 2; i < argc; i++) {
			strncat(cmd, argv[i], sizeof cmd - strlen(cmd) - 2);
			strcat(cmd, " ");
		}
		FILE *f = popen(cmd, "r");
		if (!f)
			return fail(mode, 0, errno);
		char buf[256];
		while (fgets(buf, sizeof buf, f))
			fputs(buf, stdout);
		int st = pclose(f);
		printf("popen: status exited=%d code=%d\n", WIFEXITED(st), WEXITSTATUS(st));
		return 0;
	} else if (!strcmp(mode, "wordexp")) {
		wordexp_t we;
		int r = wordexp(prog, &we, 0);
		if (r != 0) {
			printf("wordexp: rc=%s\n", r == WRDE_CMDSUB ? "WRDE_CMDSUB" : "other");
			return 20;
		}
		printf("wordexp: %zu words\n", we.we_wordc);
		wordfree(&we);
		return 0;
	} else {
		fprintf(stderr, "unknown mode %s\n", mode);
		return 64;
	}
	return fail(mode, rc, errno);
}
