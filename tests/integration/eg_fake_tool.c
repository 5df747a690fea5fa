/*
 * A fake destructive tool as an ELF program (for routes a script cannot
 * take, such as running it through the dynamic loader): appends
 * "FAKE-ELF ARGS..." to the file named by EG_FAKE_LOG and exits 0.
 * Does nothing else.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
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
