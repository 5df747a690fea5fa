/* Writing files atomically enough for the policy files and rule caches:
 * the shared pieces of policy_file.c and rule_cache.c. Not the hook path. */
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "load_internal.h"

int eg_mkdir_p(char *path, mode_t mode)
{
	for (char *s = path + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		int rc = mkdir(path, mode);
		*s = '/';
		if (rc < 0 && errno != EEXIST)
			return -1;
	}
	if (mkdir(path, mode) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

int eg_write_all(int fd, const void *data, size_t left)
{
	const unsigned char *b = data;
	while (left > 0) {
		ssize_t w = write(fd, b, left);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		b += w;
		left -= (size_t)w;
	}
	return 0;
}
