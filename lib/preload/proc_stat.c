/* /proc/PID/stat reader. See proc_stat.h. */
#include "proc_stat.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "fmt.h"

/* A decimal after blanks at *p (sign allowed); false if there is none. */
static bool next_int(const char **p, long *out)
{
	const char *q = *p;
	while (*q == ' ')
		q++;
	bool neg = *q == '-';
	if (neg)
		q++;
	if (*q < '0' || *q > '9')
		return false;
	long v = 0;
	while (*q >= '0' && *q <= '9' && v < 0x7fffffffL)
		v = v * 10 + (*q++ - '0');
	*out = neg ? -v : v;
	*p = q;
	return true;
}

int eg_proc_stat_ids(pid_t pid, char *comm, size_t size, struct eg_proc_ids *ids)
{
	char path[64] = "/proc/";
	eg_fmt_uint(path + 6, (unsigned long)pid);
	strlcat(path, "/stat", sizeof path);
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
	/* "PID (comm) S PPID PGRP SESSION TTY_NR ...": comm may hold blanks and
	 * parentheses, so it ends at the last ") " */
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
	while (*p && *p != ' ') /* the state */
		p++;
	long v[4];
	for (int i = 0; i < 4; i++)
		if (!next_int(&p, &v[i]))
			return -1;
	ids->ppid = (pid_t)v[0];
	ids->pgrp = (pid_t)v[1];
	ids->session = (pid_t)v[2];
	ids->tty_nr = (int)v[3];
	return 0;
}

int eg_proc_stat(pid_t pid, char *comm, size_t size, pid_t *ppid)
{
	struct eg_proc_ids ids;
	if (eg_proc_stat_ids(pid, comm, size, &ids) != 0)
		return -1;
	*ppid = ids.ppid;
	return 0;
}
