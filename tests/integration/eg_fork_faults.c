/*
 * The page faults fork() costs the parent, for test_forkchild.py: run bare
 * and under the library, the counts must be equal.
 *
 * Every fork write-protects all of the parent's private pages (the child
 * shares them copy-on-write), so each page the parent writes between two
 * forks is a fault. The stack pages the calls reach are written first;
 * between getrusage and getrusage there is only fork, whose child exits at
 * once. The loop runs with its stack pointer in the middle of a page: the
 * few hundred bytes of frames fork writes after the clone (libc's, and the
 * hook's where the build does not make its call a jump) then stay on that
 * one page wherever the kernel put the stack, instead of reaching the page
 * below in some layouts. The first fork is left out (the library maps what
 * its exec hooks need then, eg_guard_scratch_prepare); printed: each later
 * count, then the least. The counts are printed after the last fork: a
 * write between two forks (stdio's, errno's) would hide one that fork's
 * wrapper makes.
 */
#include <alloca.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define FORKS 6

__attribute__((noinline)) static void write_stack(void)
{
	volatile char deep[32768];
	for (size_t i = 0; i < sizeof deep; i += 512)
		deep[i] = 0;
}

static long faults(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt;
}

__attribute__((noinline)) static int count_forks(void)
{
	long seen[FORKS], least = -1;
	for (int i = 0; i < FORKS; i++) {
		write_stack();
		long before = faults();
		pid_t pid = fork();
		if (pid == 0)
			_exit(0);
		seen[i] = faults() - before;
		int st;
		if (pid < 0 || waitpid(pid, &st, 0) != pid)
			return 1;
		if (i > 0 && (least < 0 || seen[i] < least))
			least = seen[i];
	}
	for (int i = 1; i < FORKS; i++)
		printf("%ld ", seen[i]);
	printf("least %ld\n", least);
	return 0;
}

int main(void)
{
	/* down to 2 KiB above the start of a page */
	uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
	volatile char *pad = alloca((sp & 4095) + 4096 - 2048);
	pad[0] = 0;
	return count_forks();
}
