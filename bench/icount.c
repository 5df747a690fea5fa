/*
 * The user-space instructions a program runs, by mapping, counted exactly:
 *
 *   build/bench/icount [-s LIB] PROGRAM [ARGS...]
 *
 * Runs PROGRAM (searched in PATH, with this environment: give it the
 * LD_PRELOAD and EXECGUARD_* of the setup to count) single-stepped under
 * ptrace, and prints on stderr, for each file mapped where it ran, the
 * instructions it ran there, then the total. With -s, also prints on stdout
 * "OFFSET COUNT" for each instruction address in the mappings of the file
 * whose path contains LIB, OFFSET from the first one's start: the library's
 * own addresses, which `nm -n` names.
 *
 * Counts what the machine does not blur: the same binary, environment and
 * files give the same count to within a few dozen (address randomization
 * moves where the strings start, and so the steps of the string functions'
 * alignment loops), under any load, on a machine without hardware
 * counters (perf stat) and without valgrind's own preload objects in the
 * loader's scope (callgrind counts the loader looking through them, and the
 * constructor's search of LD_PRELOAD meeting them). A string instruction
 * with a rep prefix counts once, not once per byte: the CPU stops it at each
 * byte for a single step, but runs it as one. Instructions are not time:
 * in a short process under a hypervisor most of the time goes to the first
 * touch of each page, which this does not see (bench/overhead measures
 * time).
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

/* Instruction addresses seen, with their counts: open addressing. */
#define SLOTS (1u << 20)
static uint64_t slot_addr[SLOTS];
static uint64_t slot_count[SLOTS];

static void count_at(uint64_t addr)
{
	uint32_t h = (uint32_t)((addr * 0x9E3779B97F4A7C15ull) >> 44);
	while (slot_addr[h] != 0 && slot_addr[h] != addr)
		h = (h + 1) & (SLOTS - 1);
	slot_addr[h] = addr;
	slot_count[h]++;
}

struct mapping {
	uint64_t lo, hi, count;
	char name[256];
};

#define MAX_MAPPINGS 512

static size_t read_mappings(pid_t pid, struct mapping *m)
{
	char path[64], line[512];
	snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
	FILE *f = fopen(path, "r");
	size_t n = 0;
	while (f && n < MAX_MAPPINGS && fgets(line, sizeof line, f)) {
		unsigned long lo, hi;
		m[n].name[0] = '\0';
		if (sscanf(line, "%lx-%lx %*s %*s %*s %*s %255[^\n]", &lo, &hi, m[n].name) < 2)
			continue;
		m[n].lo = lo;
		m[n].hi = hi;
		m[n].count = 0;
		n++;
	}
	if (f)
		fclose(f);
	return n;
}

int main(int argc, char **argv)
{
	const char *lib = NULL;
	int first = 1;
	if (argc > 2 && strcmp(argv[1], "-s") == 0) {
		lib = argv[2];
		first = 3;
	}
	if (first >= argc) {
		fprintf(stderr, "usage: icount [-s LIB] PROGRAM [ARGS...]\n");
		return 2;
	}
	pid_t pid = fork();
	if (pid < 0) {
		perror("icount: fork");
		return 1;
	}
	if (pid == 0) {
		ptrace(PTRACE_TRACEME, 0, 0, 0);
		execvp(argv[first], argv + first);
		fprintf(stderr, "icount: %s: %s\n", argv[first], strerror(errno));
		_exit(127);
	}
	int status;
	if (waitpid(pid, &status, 0) < 0 || !WIFSTOPPED(status)) {
		fprintf(stderr, "icount: the program did not start\n");
		return 1;
	}
	/* stop at its exit, its mappings still there to name the addresses */
	ptrace(PTRACE_SETOPTIONS, pid, 0, PTRACE_O_TRACEEXIT | PTRACE_O_EXITKILL);
	uint64_t total = 0, last = 0;
	for (;;) {
		if (ptrace(PTRACE_SINGLESTEP, pid, 0, 0) != 0 || waitpid(pid, &status, 0) < 0 ||
		    !WIFSTOPPED(status))
			break;
		if (status >> 8 == (SIGTRAP | (PTRACE_EVENT_EXIT << 8)))
			break;
		struct user_regs_struct regs;
		ptrace(PTRACE_GETREGS, pid, 0, &regs);
		if (regs.rip != last) { /* a rep-prefixed instruction steps in place */
			count_at(regs.rip);
			total++;
		}
		last = regs.rip;
	}
	static struct mapping map[MAX_MAPPINGS];
	size_t n_map = read_mappings(pid, map);
	uint64_t unmapped = 0, lib_lo = 0, lib_hi = 0;
	for (size_t k = 0; lib && k < n_map; k++)
		if (strstr(map[k].name, lib)) {
			if (lib_hi == 0)
				lib_lo = map[k].lo;
			lib_hi = map[k].hi;
		}
	for (uint32_t i = 0; i < SLOTS; i++) {
		if (slot_addr[i] == 0)
			continue;
		size_t k = 0;
		while (k < n_map && !(slot_addr[i] >= map[k].lo && slot_addr[i] < map[k].hi))
			k++;
		if (k < n_map)
			map[k].count += slot_count[i];
		else
			unmapped += slot_count[i];
		if (slot_addr[i] >= lib_lo && slot_addr[i] < lib_hi)
			printf("%lx %lu\n", (unsigned long)(slot_addr[i] - lib_lo),
			    (unsigned long)slot_count[i]);
	}
	/* one line a file: its mappings summed */
	for (size_t k = 0; k < n_map; k++) {
		if (map[k].count == 0)
			continue;
		for (size_t j = k + 1; j < n_map; j++)
			if (strcmp(map[j].name, map[k].name) == 0) {
				map[k].count += map[j].count;
				map[j].count = 0;
			}
		fprintf(stderr, "%9lu  %s\n", (unsigned long)map[k].count,
		    map[k].name[0] ? map[k].name : "(anonymous)");
	}
	if (unmapped)
		fprintf(stderr, "%9lu  (unmapped by its exit)\n", (unsigned long)unmapped);
	fprintf(stderr, "%9lu  total\n", (unsigned long)total);
	ptrace(PTRACE_CONT, pid, 0, 0);
	waitpid(pid, &status, 0);
	return 0;
}
