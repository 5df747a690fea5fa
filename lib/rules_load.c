/* Loading rule files from disk: one file, or every source in order. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "execguard.h"
#include "load_internal.h"

#define RULE_FILE_MAX (4u * 1024u * 1024u)

/* Root-owned and writable by nobody else: a file or directory the user can
 * neither change nor replace. Owner and mode, not access(2): a user can make
 * a file of their own read-only to themselves (chmod a-w), and it is still
 * theirs to change back. */
static bool root_only(const struct stat *st)
{
	return st->st_uid == 0 && (st->st_mode & (S_IWGRP | S_IWOTH)) == 0;
}

/* Is the directory of `path` root_only? 1 yes, 0 no. */
static int dir_root_only(const char *path)
{
	const char *slash = strrchr(path, '/');
	char dir[4096];
	if (!slash)
		memcpy(dir, ".", 2);
	else if (slash == path)
		memcpy(dir, "/", 2);
	else if ((size_t)(slash - path) < sizeof dir) {
		memcpy(dir, path, (size_t)(slash - path));
		dir[slash - path] = '\0';
	} else
		return 0;
	struct stat st;
	return stat(dir, &st) == 0 && S_ISDIR(st.st_mode) && root_only(&st);
}

/*
 * Protected: the file (as opened: `st`) and its directory are owned by root
 * and not group- or world-writable, so the user running execguard cannot
 * have written them (installed packs, /etc/execguard). Only protected files
 * may weaken a protected rule. For root every file is the user's own, so
 * nothing is protected and every file is equally trusted (unless flags has
 * EG_LOAD_TRUST_AS_USER: the system rule cache is built by root for others).
 * *dir_ok caches the directory's answer across the files of one directory
 * (-1 = not known yet); dir_ok may be NULL.
 */
static bool is_protected(const char *path, const struct stat *st, int *dir_ok, unsigned flags)
{
	if ((getuid() == 0 && !(flags & EG_LOAD_TRUST_AS_USER)) || !root_only(st))
		return false;
	int ok = dir_ok && *dir_ok >= 0 ? *dir_ok : dir_root_only(path);
	if (dir_ok)
		*dir_ok = ok;
	return ok == 1;
}

static int load_file(struct eg_ruleset *rs, const char *path, unsigned flags, int *dir_ok,
    struct eg_diags *d)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	struct stat lst;
	if (fd < 0 && errno == ENOENT && dir_ok != NULL && lstat(path, &lst) != 0 && errno == ENOENT)
		return 0; /* listed, then removed before we got to it (a rules update) */
	if (fd < 0) {
		eg_diags_add(d, path, 0, 0, "cannot open rule file: %s", strerror(errno));
		return -1;
	}
	struct stat st;
	if (fstat(fd, &st) != 0) {
		eg_diags_add(d, path, 0, 0, "cannot stat rule file: %s", strerror(errno));
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		eg_diags_add(d, path, 0, 0, "not a regular file");
		close(fd);
		return -1;
	}
	if (st.st_size > (off_t)RULE_FILE_MAX) {
		eg_diags_add(d, path, 0, 0, "rule file is too large (%lld bytes, at most %u)",
		    (long long)st.st_size, RULE_FILE_MAX);
		close(fd);
		return -1;
	}

	size_t cap = (size_t)st.st_size + 1, len = 0;
	char *buf = malloc(cap);
	if (!buf) {
		eg_diags_add(d, path, 0, 0, "out of memory");
		close(fd);
		return -1;
	}
	for (;;) {
		if (len == cap) {
			if (cap > RULE_FILE_MAX) {
				eg_diags_add(d, path, 0, 0, "rule file is too large (at most %u bytes)",
				    RULE_FILE_MAX);
				goto fail;
			}
			size_t ncap = cap * 2 > RULE_FILE_MAX + 1 ? RULE_FILE_MAX + 1 : cap * 2;
			char *nb = realloc(buf, ncap);
			if (!nb) {
				eg_diags_add(d, path, 0, 0, "out of memory");
				goto fail;
			}
			buf = nb;
			cap = ncap;
		}
		ssize_t r = read(fd, buf + len, cap - len);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			eg_diags_add(d, path, 0, 0, "cannot read rule file: %s", strerror(errno));
			goto fail;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	if (len > RULE_FILE_MAX) {
		eg_diags_add(d, path, 0, 0, "rule file is too large (at most %u bytes)", RULE_FILE_MAX);
		goto fail;
	}
	close(fd);
	int rc = eg_ruleset_parse_text_ex(rs, path, buf, len, is_protected(path, &st, dir_ok, flags), flags, d);
	free(buf);
	return rc;
fail:
	free(buf);
	close(fd);
	return -1;
}

int eg_ruleset_load_file_ex(struct eg_ruleset *rs, const char *path, unsigned flags,
    struct eg_diags *d)
{
	return load_file(rs, path, flags, NULL, d);
}

int eg_ruleset_load_file(struct eg_ruleset *rs, const char *path, struct eg_diags *d)
{
	return load_file(rs, path, 0, NULL, d);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_rules_name(const char *n)
{
	size_t l = strlen(n);
	return n[0] != '.' && l > 6 && strcmp(n + l - 6, ".rules") == 0;
}

static int load_dir(struct eg_ruleset *rs, const char *dir, unsigned flags, struct eg_diags *d)
{
	DIR *dh = opendir(dir);
	if (!dh) {
		if (errno == ENOENT)
			return 0; /* a missing directory is fine */
		eg_diags_add(d, dir, 0, 0, "cannot open rule directory: %s", strerror(errno));
		return -1;
	}
	char **names = NULL;
	size_t n = 0;
	int rc = 0;
	struct dirent *de;
	errno = 0;
	while ((de = readdir(dh))) {
		if (!is_rules_name(de->d_name))
			continue;
		char **nv = reallocarray(names, n + 1, sizeof(*names));
		char *full = NULL;
		if (!nv || asprintf(&full, "%s%s%s", dir,
			       dir[0] && dir[strlen(dir) - 1] == '/' ? "" : "/", de->d_name) < 0) {
			if (nv)
				names = nv;
			eg_diags_add(d, dir, 0, 0, "out of memory");
			rc = -1;
			goto out;
		}
		names = nv;
		names[n++] = full;
		errno = 0;
	}
	if (errno) {
		eg_diags_add(d, dir, 0, 0, "cannot read rule directory: %s", strerror(errno));
		rc = -1;
		goto out;
	}
	if (n > 1)
		qsort(names, n, sizeof(*names), cmp_str);
	int dir_ok = -1; /* every file here is in the same directory */
	for (size_t i = 0; i < n; i++)
		if (load_file(rs, names[i], flags, &dir_ok, d) != 0)
			rc = -1;
out:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(dh);
	return rc;
}

int eg_ruleset_load_ex(struct eg_ruleset *rs, const struct eg_sources *src, unsigned flags,
    struct eg_diags *d)
{
	int rc = 0;
	const char *dirs[] = { src->packs_dir, src->system_dir, src->user_dir };
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		if (dirs[i] && load_dir(rs, dirs[i], flags, d) != 0)
			rc = -1;
	for (size_t i = 0; i < src->n_files; i++)
		if (load_file(rs, src->files[i], flags, NULL, d) != 0)
			rc = -1;
	return rc;
}

int eg_ruleset_load(struct eg_ruleset *rs, const struct eg_sources *src, struct eg_diags *d)
{
	return eg_ruleset_load_ex(rs, src, 0, d);
}
