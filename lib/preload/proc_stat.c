/* /proc/PID/stat reader. See proc_stat.h. */
#include "proc_stat.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "fmt.h"

int eg_proc_stat(pid_t pid, char *comm, size_t size, pid_t *ppid)
{
	char path[64] = "/proc/";
	eg_fmt_uint(path + 6, (unsigned long)pid);
	strcat(path, "/stat");
	char st[512];
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -1;
	ssize_t n;
	do {
		n = read(fd, st, sizeof st - 1);
	} while (n < 0 && errno == EINTR);
	close(fd);
	if (n <= 0)
		return -1;
	st[n] = '\0';
	/* "PID (comm) S PPID ...": comm may hold blanks and parentheses, so it
	 * ends at the last ") " */
	char *open_p = strchr(st, '(');
	char *close_p = strrchr(st, ')');
	if (!open_p || !close_p || close_p < open_p || close_p[1] != ' ' || size == 0)
		return -1;
	size_t clen = (size_t)(close_p - open_p - 1);
	if (clen >= size)
		clen = size - 1;
	memcpy(comm, open_p + 1, clen);
	comm[clen] = '\0';
	const char *p = close_p + 2;
	while (*p && *p != ' ')
		p++;
	while (*p == ' ')
		p++;
	long v = 0;
	while (*p >= '0' && *p <= '9' && v < 0x7fffffffL)
		v = v * 10 + (*p++ - '0');
	*ppid = (pid_t)v;
	return 0;
}
