/*
 * PATH resolution as glibc's execvp/execvpe/posix_spawnp do it, without
 * executing anything, so the engine sees the real executable. The real call
 * still does its own search (and ENOEXEC script handling); this only tells
 * the guard which file that search will find. Hook-path code.
 */
#ifndef EG_PATH_SEARCH_H
#define EG_PATH_SEARCH_H

#include <stdbool.h>
#include <stddef.h>

#include "execguard.h"

/*
 * Resolve `file` with the search path `path` (the PATH value, NULL when
 * unset: glibc then uses confstr(_CS_PATH), "/bin:/usr/bin"). A name with a
 * '/' is taken as is; an empty PATH element means the current directory.
 * Candidates that exist but cannot be executed (EACCES) are skipped and
 * remembered, as glibc does. Returns 0 with the path in buf, or -1 with
 * errno as the real search would leave it (ENOENT, EACCES, ENAMETOOLONG...).
 */
int eg_path_search(const char *file, const char *path, char *buf, size_t size);

/*
 * When the last component of `path` is a symbolic link, its fully resolved
 * target (open O_PATH + readlink of /proc/self/fd/N, no allocation) in buf,
 * so that `tf -> terraform` is checked as terraform. Otherwise, or when it
 * cannot be resolved, `path` itself. When what it returns has no symlink
 * left to follow (a target, or a path that is none), EG_CHECK_EXE_RESOLVED
 * is added to *check_flags, so that eg_check does not read it again.
 * Leaves errno alone.
 */
const char *eg_exe_resolve(const char *path, char *buf, size_t size, unsigned *check_flags);

/* eg_exe_resolve of a path its caller knows is a symlink (no lstat). */
const char *eg_link_resolve(const char *path, char *buf, size_t size, unsigned *check_flags);

/* The path an open descriptor refers to (readlink of /proc/self/fd/N),
 * into buf; false if unknown. Hook-path safe; leaves errno alone. */
bool eg_fd_path(int fd, char *buf, size_t size);

#endif
