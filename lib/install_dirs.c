/* Where the installed pieces are. See install_dirs.h. */
#include "install_dirs.h"

#include <string.h>
#include <sys/stat.h>

#include "eg_config.h"
#include "hot_text.h"

EG_CTOR_TEXT bool eg_in_build_tree(const char *path)
{
	size_t n = strlen(EG_BUILD_ROOT);
	while (n > 1 && EG_BUILD_ROOT[n - 1] == '/')
		n--;
	return path != NULL && strncmp(path, EG_BUILD_ROOT, n) == 0 && path[n] == '/';
}

/* Does dir (n bytes) end with "/" rel? Then its first bytes are the prefix. */
EG_CTOR_TEXT static bool strip_suffix(const char *dir, size_t n, const char *rel, size_t *prefix_len)
{
	size_t r = strlen(rel);
	while (r > 0 && rel[r - 1] == '/')
		r--;
	if (r == 0 || n < r + 1 || dir[n - r - 1] != '/' || memcmp(dir + n - r, rel, r) != 0)
		return false;
	*prefix_len = n - r - 1;
	return true;
}

EG_CTOR_TEXT bool eg_install_prefix(const char *self_path, char *out, size_t size)
{
	if (self_path == NULL || self_path[0] != '/')
		return false;
	const char *slash = strrchr(self_path, '/');
	size_t n = (size_t)(slash - self_path), p;
	if (!strip_suffix(self_path, n, EG_BINDIR_REL, &p) &&
	    !strip_suffix(self_path, n, EG_LIBDIR_REL, &p))
		return false;
	if (p >= size)
		return false;
	memcpy(out, self_path, p);
	out[p] = '\0';
	return true;
}

/* out = a + "/" + b + "/" + c (empty parts skipped); false if too long. */
EG_CTOR_TEXT static bool join3(char *out, size_t size, const char *a, const char *b, const char *c)
{
	const char *parts[3] = { a, b, c };
	size_t n = 0;
	for (int i = 0; i < 3; i++) {
		size_t len = strlen(parts[i]);
		if (len == 0)
			continue;
		if (i > 0 && n + 1 < size)
			out[n++] = '/';
		if (n + len + 1 > size)
			return false;
		memcpy(out + n, parts[i], len);
		n += len;
	}
	out[n] = '\0';
	return true;
}

EG_CTOR_TEXT const char *eg_packs_dir_for(const char *self_path, char *buf, size_t size)
{
	char prefix[4096];
	struct stat st;
	if (eg_in_build_tree(self_path))
		return EG_SOURCE_PACKS_DIR;
	if (EG_DATADIR_REL[0] != '\0' && eg_install_prefix(self_path, prefix, sizeof prefix) &&
	    join3(buf, size, prefix, EG_DATADIR_REL, "execguard/patterns") &&
	    stat(buf, &st) == 0 && S_ISDIR(st.st_mode))
		return buf;
	return EG_PACKS_DIR;
}

const char *eg_library_for(const char *self_path, char *buf, size_t size)
{
	char prefix[4096];
	struct stat st;
	if (eg_in_build_tree(self_path))
		return EG_BUILD_LIBRARY;
	if (EG_LIBDIR_REL[0] != '\0' && eg_install_prefix(self_path, prefix, sizeof prefix) &&
	    join3(buf, size, prefix, EG_LIBDIR_REL, EG_LIBRARY_NAME) &&
	    stat(buf, &st) == 0 && S_ISREG(st.st_mode))
		return buf;
	return EG_LIBDIR "/" EG_LIBRARY_NAME;
}
