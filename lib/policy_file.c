/* The policy block on disk: written once by `execguard run`/`shell-init`,
 * mapped by every guarded process in one open+mmap. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "load_internal.h"
#include "policy_block.h"
#include "hot_text.h"
#include "sys_direct.h"

extern char **environ;

static const char *env_get(char *const *envp, const char *name)
{
	size_t n = strlen(name);
	for (char *const *e = envp ? envp : environ; e && *e; e++)
		if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
			return *e + n + 1;
	return NULL;
}

/* open, fstat, mmap, close: the block's pages are read only when used.
 * Direct system calls: this runs in the constructor of every guarded
 * process, and libc's wrappers would each be a text page to fault in. */
EG_CTOR_TEXT static const void *map_block_raw(const char *path, size_t *size)
{
	long fd = eg_sys_open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return NULL;
	struct stat st;
	if (eg_sys_fstat((int)fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_size < (off_t)sizeof(struct eg_blk_header) || st.st_size > (off_t)EG_BLOCK_MAX_SIZE) {
		eg_sys_close((int)fd);
		return NULL;
	}
	long m = eg_sys_mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, (int)fd, 0);
	eg_sys_close((int)fd);
	if (m < 0 && m > -4096)
		return NULL;
	*size = (size_t)st.st_size;
	return (const void *)m;
}

/* On the first adoption of the block in a process (load_deferred), beside
 * the hooks' code (hot_text.h). */
EG_HOT_TEXT void eg_policy_map_advise(const void *base, size_t size)
{
	/* A process reads a handful of the block's pages (policy_block.h): no
	 * read-ahead around them when they are not in the page cache. (The
	 * fault-around of pages that are, 64 KiB around each fault, is not
	 * stopped by this advice.) */
	(void)eg_sys_madvise((void *)base, size, MADV_RANDOM);
}

static const void *map_block(const char *path, size_t *size)
{
	const void *m = map_block_raw(path, size);
	if (m)
		eg_policy_map_advise(m, *size);
	return m;
}

EG_CTOR_TEXT const void *eg_policy_map_raw(const char *path, size_t *size)
{
	if (path == NULL || path[0] == '\0')
		return NULL;
	return map_block_raw(path, size); /* errno untouched: direct calls */
}

int eg_policy_map_file_into(struct eg_policy *p, const char *path)
{
	if (path == NULL || path[0] == '\0')
		return -1;
	int saved = errno;
	size_t size = 0;
	const void *m = map_block(path, &size);
	int rc = -1;
	if (m != NULL) {
		rc = eg_policy_init_block(p, m, size, true);
		if (rc < 0)
			munmap((void *)m, size);
	}
	errno = saved;
	return rc;
}

struct eg_policy *eg_policy_map_file(const char *path)
{
	if (path == NULL || path[0] == '\0')
		return NULL;
	int saved = errno;
	size_t size = 0;
	const void *m = map_block(path, &size);
	struct eg_policy *p = m ? eg_policy_from_block(m, size, true) : NULL;
	if (m != NULL && p == NULL)
		munmap((void *)m, size);
	errno = saved;
	return p;
}

/* Is the file the block `hdr` + block[sizeof hdr ..size)? */
static bool same_content(const char *path, const struct eg_blk_header *hdr, const void *block,
    size_t size)
{
	struct eg_policy *p = eg_policy_map_file(path);
	bool same = p != NULL && p->size == size && memcmp(p->base, hdr, sizeof *hdr) == 0 &&
	    memcmp(p->base + sizeof *hdr, (const unsigned char *)block + sizeof *hdr,
		size - sizeof *hdr) == 0;
	eg_policy_free(p);
	return same;
}

static int save_in(const char *dir, const struct eg_policy *p, char *path_out, size_t size)
{
	char dirbuf[PATH_MAX];
	if (snprintf(dirbuf, sizeof dirbuf, "%s", dir) >= (int)sizeof dirbuf || eg_mkdir_p(dirbuf, 0700) < 0)
		return -1;
	struct stat st;
	/* Only our own private directory: someone else's could swap the file. */
	if (stat(dirbuf, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 022) != 0) {
		errno = EPERM;
		return -1;
	}
	/* The file always carries the hash, also for a block built without it
	 * (EG_BUILD_NO_HASH): the header is written from this copy. */
	struct eg_blk_header hdr;
	memcpy(&hdr, p->base, sizeof hdr);
	hdr.hash = eg_policy_hash(p);
	char final[PATH_MAX];
	if (snprintf(final, sizeof final, "%s/policy-%016" PRIx64 ".bin", dirbuf, hdr.hash) >=
	        (int)sizeof final) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (strlcpy(path_out, final, size) >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (same_content(final, &hdr, p->base, p->size))
		return 0;
	const struct eg_file_part parts[] = {
		{ &hdr, sizeof hdr },
		{ p->base + sizeof hdr, p->size - sizeof hdr },
	};
	return eg_write_file_whole(final, 0444, 0, parts, 2);
}

/* The cache directory first: it outlives the login session, and a guarded
 * shell in tmux or screen keeps mapping its policy long after /run/user was
 * cleaned at logout (a vanished policy file fails closed). The runtime
 * directory is the fallback for a home without a writable cache. */
int eg_policy_save(const struct eg_policy *p, char *const *envp, char *path_out, size_t size)
{
	char dir[PATH_MAX];
	const char *cache = env_get(envp, "XDG_CACHE_HOME");
	const char *home = env_get(envp, "HOME");
	const char *runtime = env_get(envp, "XDG_RUNTIME_DIR");
	if (cache && cache[0] == '/' &&
	    snprintf(dir, sizeof dir, "%s/execguard", cache) < (int)sizeof dir &&
	    save_in(dir, p, path_out, size) == 0)
		return 0;
	if ((!cache || cache[0] != '/') && home && home[0] == '/' &&
	    snprintf(dir, sizeof dir, "%s/.cache/execguard", home) < (int)sizeof dir &&
	    save_in(dir, p, path_out, size) == 0)
		return 0;
	if (runtime && runtime[0] == '/' &&
	    snprintf(dir, sizeof dir, "%s/execguard", runtime) < (int)sizeof dir)
		return save_in(dir, p, path_out, size);
	if (!(cache && cache[0] == '/') && !(home && home[0] == '/'))
		errno = ENOENT; /* nowhere to try; otherwise errno is the last failure */
	return -1;
}

struct eg_policy *eg_policy_load_default(const char *self_path, char *const *envp,
    struct eg_diags *d)
{
	struct eg_sources src = { 0 };
	struct eg_ruleset rs = { 0 };
	struct eg_policy *p = NULL;
	if (eg_sources_default(&src, self_path, envp) < 0) {
		eg_diags_add(d, NULL, 0, 0, "cannot determine where the rule files are");
		goto out;
	}
	/* Only the rules in effect: no example lines, the hash only if
	 * someone asks for it (eg_policy_hash), no stored codes. */
	if (eg_ruleset_load_ex(&rs, &src, EG_LOAD_NO_EXAMPLES, d) < 0)
		goto out;
	p = eg_policy_build_ex(&rs, EG_BUILD_NO_HASH | EG_BUILD_NO_CODES, d);
out:
	eg_ruleset_free(&rs);
	eg_sources_free(&src);
	return p;
}
