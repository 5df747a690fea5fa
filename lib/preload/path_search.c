/* PATH search. See path_search.h; mirrors glibc 2.36 posix/execvpe.c. */
#include "path_search.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "fmt.h"
#include "hot_str.h"
#include "hot_text.h"
#include "sys_direct.h"

/* glibc's _CS_PATH on Linux */
#define DEFAULT_PATH "/bin:/usr/bin"

/* Would execve(path) get past the file lookup? 0, or -1 with the errno
 * execve would give for the lookup itself. */
static int probe(const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return -1;
	if (!S_ISREG(st.st_mode)) {
		errno = EACCES;
		return -1;
	}
	if (faccessat(AT_FDCWD, path, X_OK, AT_EACCESS) != 0)
		return -1; /* EACCES (or ENOENT in a race) */
	return 0;
}

EG_HOT_TEXT int eg_path_search(const char *file, const char *path, char *buf, size_t size)
{
	if (!file || !*file) {
		errno = ENOENT;
		return -1;
	}
	if (strchr(file, '/')) {
		size_t n = strlen(file);
		if (n >= size) {
			errno = ENAMETOOLONG;
			return -1;
		}
		memcpy(buf, file, n + 1);
		return 0;
	}
	if (!path)
		path = DEFAULT_PATH;

	size_t file_len = strnlen(file, NAME_MAX) + 1;
	size_t path_len = strnlen(path, PATH_MAX - 1) + 1;
	if (file_len > NAME_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}

	bool got_eacces = false;
	const char *p = path, *subp;
	for (;; p = subp) {
		subp = strchrnul(p, ':');
		size_t dlen = (size_t)(subp - p);
		/* glibc skips an element too long for its buffer */
		if (dlen < path_len && dlen + 1 + file_len <= size) {
			memcpy(buf, p, dlen);
			size_t off = dlen;
			if (dlen)
				buf[off++] = '/';
			memcpy(buf + off, file, file_len);
			if (probe(buf) == 0)
				return 0;
			switch (errno) {
			case EACCES:
				got_eacces = true;
				/* fall through */
			case ENOENT:
			case ESTALE:
			case ENOTDIR:
			case ENODEV:
			case ETIMEDOUT:
				break;
			default:
				return -1;
			}
		}
		if (*subp++ == '\0')
			break;
	}
	errno = got_eacces ? EACCES : ENOENT;
	return -1;
}

/* System calls made directly and strings kept in the hot text: a fork
 * child running a program through a symlink (python3 -> python3.11) comes
 * here, and each libc wrapper, errno write or .rodata string would be a
 * page of its own to fault in. */
EG_HOT_TEXT const char *eg_exe_resolve(const char *path, char *buf, size_t size, unsigned *check_flags)
{
	if (!path || !*path || size < 2)
		return path;
	struct stat st;
	if (eg_sys_lstat(path, &st) != 0)
		return path;
	if (!S_ISLNK(st.st_mode)) {
		*check_flags |= EG_CHECK_EXE_RESOLVED;
		return path;
	}
	return eg_link_resolve(path, buf, size, check_flags);
}

EG_HOT_TEXT const char *eg_link_resolve(const char *path, char *buf, size_t size, unsigned *check_flags)
{
	long fd = eg_sys_open(path, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return path;
	bool resolved = eg_fd_path((int)fd, buf, size);
	eg_sys_close((int)fd);
	if (!resolved)
		return path;
	*check_flags |= EG_CHECK_EXE_RESOLVED;
	return buf;
}

EG_HOT_TEXT bool eg_fd_path(int fd, char *buf, size_t size)
{
	if (fd < 0 || size < 2)
		return false;
	const char *prefix = EG_HOT_STR("/proc/self/fd/");
	char proc[16 + EG_FMT_UINT_MAX];
	size_t n = eg_hs_len(prefix);
	eg_hs_copy(proc, prefix, n);
	eg_fmt_uint(proc + n, (unsigned)fd);
	long r = eg_sys4(SYS_readlinkat, AT_FDCWD, (long)proc, (long)buf, (long)(size - 1));
	if (r <= 0)
		return false;
	buf[r] = '\0';
	return true;
}
