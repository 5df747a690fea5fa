/* A thread with a small stack (as musl-sized or tuned thread pools have)
 * starts a shell through system() or posix_spawnp(): the guard must not
 * overflow it. Usage: eg_small_stack KIB system|spawn */
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

extern char **environ;

static void *run(void *arg)
{
	static int result;
	if (strcmp(arg, "system") == 0) {
		result = system("true");
	} else {
		pid_t pid;
		char *argv[] = { "sh", "-c", "true", NULL };
		int st = 0;
		result = posix_spawnp(&pid, "sh", NULL, NULL, argv, environ);
		if (result == 0 && waitpid(pid, &st, 0) == pid)
			result = st;
	}
	return &result;
}

int main(int argc, char **argv)
{
	if (argc != 3)
		return 64;
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	if (pthread_attr_setstacksize(&attr, strtoul(argv[1], NULL, 10) * 1024) != 0)
		return 65;
	pthread_t t;
	void *ret;
	if (pthread_create(&t, &attr, run, argv[2]) != 0 || pthread_join(t, &ret) != 0)
		return 66;
	printf("%s status %d\n", argv[2], *(int *)ret);
	return 0;
}
