/* Writing files atomically enough for the policy files, rule caches and
 * session copies of the library: the shared pieces of policy_file.c,
 * rule_cache.c and library_copy.c. Not the hook path. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
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

/* The page cache's folios for a buffered write are as large as the write
 * allows, and one of 2 MiB at a 2 MiB boundary of a mapping is mapped
 * whole (one page table entry for 2 MiB) by the first read of any of its
 * pages: 2 MiB of resident memory in every process that reads one page of
 * the file. Written at most 64 KiB at a time, each piece ending at a
 * multiple of 64 KiB in the file, the folios are at most 64 KiB: the
 * kernel's window of fault-around, which it maps in one go. */
#define KEPT_FOLIO_MAX ((off_t)64 << 10)

static int write_in_pieces(int fd, const unsigned char *data, size_t len, off_t at)
{
	while (len > 0) {
		size_t piece = (size_t)(KEPT_FOLIO_MAX - at % KEPT_FOLIO_MAX);
		if (piece > len)
			piece = len;
		if (eg_write_all(fd, data, piece) < 0)
			return -1;
		data += piece;
		len -= piece;
		at += (off_t)piece;
	}
	return 0;
}

int eg_write_file_whole(const char *final, mode_t mode, unsigned flags, const struct eg_file_part *parts,
    size_t n_parts)
{
	char tmp[PATH_MAX];
	if (snprintf(tmp, sizeof tmp, "%s.%ld.tmp", final, (long)getpid()) >= (int)sizeof tmp) {
		errno = ENAMETOOLONG;
		return -1;
	}
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return -1;
	int rc = (flags & EG_WRITE_EXACT_MODE) && fchmod(fd, mode) < 0 ? -1 : 0;
	off_t end = 0;
	for (size_t i = 0; rc == 0 && i < n_parts; i++) {
		if (parts[i].data != NULL && (flags & EG_WRITE_KEEP_CACHED))
			rc = write_in_pieces(fd, parts[i].data, parts[i].len, end);
		else if (parts[i].data != NULL)
			rc = eg_write_all(fd, parts[i].data, parts[i].len) < 0 ? -1 : 0;
		else /* zeros: a hole */
			rc = lseek(fd, (off_t)parts[i].len, SEEK_CUR) < 0 ? -1 : 0;
		end += (off_t)parts[i].len;
	}
	if (rc == 0 && ftruncate(fd, end) < 0) /* a hole last */
		rc = -1;
	/* Written back and dropped from the page cache, so that the processes
	 * that map the file read in the few pages they use: the large folios a
	 * buffered write leaves would each be mapped whole, up to megabytes of
	 * resident memory in every process. Best effort. Not a session copy
	 * of the library, whose large folios are what makes it cheap to map
	 * (library_copy.c); written back all the same, so that no process
	 * maps a page of it that is dirty in the page cache (smaps counts
	 * those as the process's own writes). */
	if (rc == 0 && fdatasync(fd) == 0 && !(flags & EG_WRITE_KEEP_CACHED))
		(void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	if (close(fd) < 0)
		rc = -1;
	if (rc == 0 && rename(tmp, final) < 0)
		rc = -1;
	if (rc < 0) {
		int e = errno ? errno : EIO;
		unlink(tmp);
		errno = e;
	}
	return rc;
}
