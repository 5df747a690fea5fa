/*
 * A fake destructive tool as an ELF program (for routes a script cannot
 * take, such as running it through the dynamic loader): appends
 * "FAKE-ELF ARGS..." to the file named by EG_FAKE_LOG and exits 0.
 * With EG_FAKE_REEXEC set, `plan` first re-executes the running program
 * through /proc/self/exe with the arguments `destroy` (argv[0] "innocent"):
 * the re-exec trick an approved process could use. Does nothing else.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (getenv("EG_FAKE_REEXEC") && argc == 2 && strcmp(argv[1], "plan") == 0) {
		char *again[] = { "innocent", "destroy", NULL };
		execv("/proc/self/exe", again);
		return 126; /* refused: the re-exec did not happen */
	}
	const char *log = getenv("EG_FAKE_LOG");
	if (log == NULL)
		return 2;
	FILE *f = fopen(log, "a");
	if (f == NULL)
		return 3;
	fputs("FAKE-ELF", f);
	for (int i = 1; i < argc; i++)
		fprintf(f, " %s", argv[i]);
	fputc('\n', f);
	return fclose(f) == 0 ? 0 : 4;
}
