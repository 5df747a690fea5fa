/*
 * Another library's execve hook, preloaded after libexecguard.so
 * (test_exec_fast.py): it appends "execve PATH" to the file $EG_SHIM_LOG,
 * then calls the next execve. The guard's fast way must not make the
 * system call itself past it.
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef int (*execve_fn)(const char *, char *const[], char *const[]);
static execve_fn next_execve;

__attribute__((constructor)) static void find_next(void)
{
	next_execve = (execve_fn)dlsym(RTLD_NEXT, "execve");
}

__attribute__((visibility("default"))) int execve(const char *path, char *const argv[],
    char *const envp[])
{
	const char *log = getenv("EG_SHIM_LOG");
	if (log != NULL) {
		int fd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
		if (fd >= 0) {
			(void)!write(fd, "execve ", 7);
			(void)!write(fd, path, strlen(path));
			(void)!write(fd, "\n", 1);
			close(fd);
		}
	}
	return next_execve(path, argv, envp);
}
