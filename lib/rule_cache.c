/* The compiled rule cache: reading (no malloc, no stdio) and writing. See
 * rule_cache.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "eg_config.h"
#include "hot_text.h"
#include "load_internal.h"
#include "policy_block.h"
#include "rule_cache.h"

extern char **environ;

/* Value of NAME in envp, NULL if unset or empty (as sources.c). */
EG_CTOR_TEXT static const char *env_get(char *const *envp, const char *name)
{
	size_t n = strlen(name);
	for (char *const *e = envp ? envp : environ; e && *e; e++)
		if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
			return (*e)[n + 1] ? *e + n + 1 : NULL;
	return NULL;
}

EG_CTOR_TEXT const char *eg_rule_cache_system_dir(char *const *envp)
{
	const char *v = env_get(envp, "EXECGUARD_SYSTEM_CACHE_DIR");
	return v && v[0] == '/' ? v : EG_SYSTEM_CACHE_DIR;
}

EG_CTOR_TEXT static bool is_rules_name(const char *n)
{
	size_t l = strlen(n);
	return n[0] != '.' && l > 6 && strcmp(n + l - 6, ".rules") == 0;
}

/* Owned by `uid` and writable by nobody else. */
EG_CTOR_TEXT static bool owned_only_by(const struct stat *st, uid_t uid)
{
	return st->st_uid == uid && (st->st_mode & (S_IWGRP | S_IWOTH)) == 0;
}

EG_CTOR_TEXT static void ident_from_stat(struct eg_cache_entry *e, const struct stat *st)
{
	e->dev = (uint64_t)st->st_dev;
	e->ino = (uint64_t)st->st_ino;
	e->size = (uint64_t)st->st_size;
	e->mtime_sec = (int64_t)st->st_mtim.tv_sec;
	e->mtime_nsec = (uint32_t)st->st_mtim.tv_nsec;
	e->ctime_sec = (int64_t)st->st_ctim.tv_sec;
	e->ctime_nsec = (uint32_t)st->st_ctim.tv_nsec;
	e->mode = (uint32_t)st->st_mode;
	e->uid = (uint32_t)st->st_uid;
	e->gid = (uint32_t)st->st_gid;
}

EG_CTOR_TEXT static bool ident_same(const struct eg_cache_entry *e, const struct stat *st)
{
	struct eg_cache_entry now = { 0 };
	ident_from_stat(&now, st);
	return e->dev == now.dev && e->ino == now.ino && e->size == now.size &&
	    e->mtime_sec == now.mtime_sec && e->mtime_nsec == now.mtime_nsec &&
	    e->ctime_sec == now.ctime_sec && e->ctime_nsec == now.ctime_nsec &&
	    e->mode == now.mode && e->uid == now.uid && e->gid == now.gid;
}

/* The cache file's name: which reader, which directories. */
EG_CTOR_TEXT static uint64_t name_hash(uint32_t reader, const char *packs, const char *system,
    const char *user)
{
	uint64_t h = eg_fnv64(&reader, sizeof reader, 0);
	h = eg_fnv64(packs, strlen(packs) + 1, h);
	h = eg_fnv64(system, strlen(system) + 1, h);
	return eg_fnv64(user, strlen(user) + 1, h);
}

/* out = dir + "/rules-<hex>.bin"; false if too long. */
EG_CTOR_TEXT static bool cache_path(char *out, size_t size, const char *dir, uint64_t h)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = strlen(dir);
	if (n + 32 > size)
		return false;
	memmove(out, dir, n); /* out may be dir */
	memcpy(out + n, "/rules-", 7);
	n += 7;
	for (int i = 15; i >= 0; i--)
		out[n++] = hex[(h >> (4 * i)) & 15];
	memcpy(out + n, ".bin", 5);
	return true;
}

/* The user's cache directory into out; false if unknown or too long. */
EG_CTOR_TEXT static bool user_cache_dir(char *const *envp, char *out, size_t size)
{
	const char *cache = env_get(envp, "XDG_CACHE_HOME");
	const char *home = env_get(envp, "HOME");
	const char *a, *b;
	if (cache && cache[0] == '/')
		a = cache, b = "/execguard";
	else if (home && home[0] == '/')
		a = home, b = "/.cache/execguard";
	else
		return false;
	size_t la = strlen(a), lb = strlen(b);
	if (la + lb + 1 > size)
		return false;
	memcpy(out, a, la);
	memcpy(out + la, b, lb + 1);
	return true;
}

/* ------------------------------------------------------------------ reading */

struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

/* Does the user directory hold no *.rules file (missing counts as empty)?
 * Anything unclear (unreadable, not a directory) is "no": the rule files
 * are then parsed, and their errors reported, as without a cache. */
EG_CTOR_TEXT static bool no_user_rules(const char *dir)
{
	struct stat st;
	if (stat(dir, &st) != 0)
		return errno == ENOENT;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return false;
	char buf[1024] __attribute__((aligned(8)));
	bool none = true;
	for (;;) {
		long n = syscall(SYS_getdents64, fd, buf, sizeof buf);
		if (n < 0)
			none = false;
		if (n <= 0)
			break;
		for (long off = 0; off < n && none;) {
			const struct linux_dirent64 *de = (const void *)(buf + off);
			if (is_rules_name(de->d_name))
				none = false;
			off += de->d_reclen;
		}
		if (!none)
			break;
	}
	close(fd);
	return none;
}

/* Can this (non-root) process read the file, or list the directory, by its
 * mode? Supplementary groups are not looked at: such a source is parsed. */
EG_CTOR_TEXT static bool readable(const struct stat *st, bool dir, uid_t uid, gid_t gid)
{
	mode_t u = dir ? (S_IRUSR | S_IXUSR) : S_IRUSR;
	mode_t g = dir ? (S_IRGRP | S_IXGRP) : S_IRGRP;
	mode_t o = dir ? (S_IROTH | S_IXOTH) : S_IROTH;
	if (st->st_uid == uid)
		return (st->st_mode & u) == u;
	if (st->st_gid == gid)
		return (st->st_mode & g) == g;
	return (st->st_mode & o) == o;
}

EG_CTOR_TEXT static bool root_only(const struct stat *st)
{
	return owned_only_by(st, 0);
}

EG_CTOR_TEXT static bool str_in(const struct eg_cache_header *h, uint32_t off)
{
	return off < h->strings_len;
}

struct want {
	uid_t uid; /* of this process (getuid, asked once) */
	gid_t gid;
	uint32_t reader, scope;
	const char *dirs[3]; /* user "" for EG_CACHE_NO_USER_RULES */
	bool system_file;    /* trust: root-owned, else the caller's own */
};

/* Is the mapped file (size bytes) a sound cache for `w`, whose sources are
 * all unchanged? The reason for "no" in *why. */
EG_CTOR_TEXT static bool cache_ok(const unsigned char *m, size_t size, const struct want *w,
    const char *self_path, const char **why)
{
	const struct eg_cache_header *h = (const void *)m;
	*why = "damaged (bad header or bounds)";
	if (size < sizeof *h || memcmp(h->magic, EG_CACHE_MAGIC, sizeof h->magic) != 0)
		return false;
	if (h->version != EG_CACHE_VERSION || h->block_version != EG_BLOCK_VERSION ||
	    strncmp(h->eg_version, EG_VERSION, sizeof h->eg_version) != 0) {
		*why = "written by another version of execguard";
		return false;
	}
	if ((uint64_t)h->entries_off + (uint64_t)h->n_entries * sizeof(struct eg_cache_entry) >
		h->strings_off ||
	    h->entries_off % 8 != 0 || h->entries_off < sizeof *h ||
	    (uint64_t)h->strings_off + h->strings_len > h->block_off || h->strings_len == 0 ||
	    h->block_off % 8 != 0 || (uint64_t)h->block_off + h->block_size != size)
		return false;
	const char *strings = (const char *)m + h->strings_off;
	if (strings[h->strings_len - 1] != '\0')
		return false;
	struct eg_cache_header copy;
	memcpy(&copy, h, sizeof copy);
	copy.key_sum = 0;
	uint64_t sum = eg_fnv64(&copy, sizeof copy, 0);
	sum = eg_fnv64(m + sizeof copy, h->block_off - sizeof copy, sum);
	if (sum != h->key_sum)
		return false;
	if (h->reader != w->reader || h->scope != w->scope ||
	    (!w->system_file && h->uid != (uint32_t)w->uid)) {
		*why = "written for another user";
		return false;
	}
	for (int i = 0; i < 3; i++)
		if (!str_in(h, h->dir_path[i]) || strcmp(strings + h->dir_path[i], w->dirs[i]) != 0) {
			*why = "written for other rule directories";
			return false;
		}
	const struct eg_cache_entry *e = (const void *)(m + h->entries_off);
	bool root = w->uid == 0;
	/* A user's own cache could list anything (or leave entries out): that
	 * no rule file is protected is decided from the directories this
	 * process finds itself. A protected file lies in a root-owned
	 * directory nobody else can write; such a directory makes the user's
	 * cache unusable, whatever the cache says is in it. */
	for (int i = 0; i < 3 && !root && !w->system_file; i++) {
		struct stat st;
		if (w->dirs[i][0] && stat(w->dirs[i], &st) == 0 && S_ISDIR(st.st_mode) &&
		    root_only(&st)) {
			*why = "a rule directory is root-owned (its rules are protected); only a "
			       "system cache (root runs `execguard cache`) may hold them";
			return false;
		}
	}
	for (uint32_t i = 0; i < h->n_entries; i++) {
		struct stat st;
		*why = "damaged (bad entry)";
		if (!str_in(h, e[i].path) || (e[i].kind == EG_CE_FILE && e[i].dir >= i))
			return false;
		const char *path = e[i].kind == EG_CE_LIBRARY ? self_path : strings + e[i].path;
		*why = "stale: a rule file or directory changed";
		if (e[i].kind == EG_CE_ABSENT) {
			if (stat(path, &st) == 0 || errno != ENOENT)
				return false;
			continue;
		}
		if (path == NULL || stat(path, &st) != 0 || !ident_same(&e[i], &st))
			return false;
		if (root || e[i].kind == EG_CE_LIBRARY)
			continue;
		if (!readable(&st, e[i].kind == EG_CE_DIR, w->uid, w->gid)) {
			*why = "a rule file or directory is not readable here";
			return false;
		}
		/* A protected file: rules the user cannot change, which the
		 * user's own cache must not carry. */
		if (!w->system_file && e[i].kind == EG_CE_FILE && root_only(&st) &&
		    e[i].dir < h->n_entries && e[e[i].dir].uid == 0 &&
		    (e[e[i].dir].mode & (S_IWGRP | S_IWOTH)) == 0) {
			*why = "holds rules from a protected (root-owned) file; only a system cache "
			       "(root runs `execguard cache`) may";
			return false;
		}
	}
	*why = NULL;
	return true;
}

/* Open, check the file's trust, map, check the key, adopt the block. */
EG_CTOR_TEXT static int try_cache(struct eg_policy *p, char *path, const struct want *w,
    const char *self_path, const char **why)
{
	uid_t uid = w->system_file ? 0 : w->uid;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		*why = "none written";
		return -1;
	}
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || !owned_only_by(&st, uid) ||
	    st.st_size < (off_t)sizeof(struct eg_cache_header) ||
	    st.st_size > (off_t)EG_BLOCK_MAX_SIZE * 2) {
		*why = "not trusted (owner or mode) or not a cache file";
		close(fd);
		return -1;
	}
	/* its directory: someone else's could swap the file */
	char *slash = strrchr(path, '/');
	struct stat dst;
	int drc = -1;
	if (slash && slash != path) {
		*slash = '\0';
		drc = stat(path, &dst);
		*slash = '/';
	}
	if (drc != 0 || !S_ISDIR(dst.st_mode) || !owned_only_by(&dst, uid)) {
		*why = "not trusted (the directory's owner or mode)";
		close(fd);
		return -1;
	}
	size_t size = (size_t)st.st_size;
	void *m = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (m == MAP_FAILED) {
		*why = "cannot be mapped";
		return -1;
	}
	(void)madvise(m, size, MADV_RANDOM);
	if (cache_ok(m, size, w, self_path, why)) {
		const struct eg_cache_header *h = m;
		if (eg_policy_init_block(p, (const unsigned char *)m + h->block_off, h->block_size,
			false) == 0)
			return 0;
		*why = "damaged (the policy block)";
	}
	munmap(m, size);
	return -1;
}

EG_CTOR_TEXT int eg_rule_cache_load(struct eg_policy *p, const char *self_path, char *const *envp,
    struct eg_cache_probe *probe)
{
	int saved = errno;
	const char *why = "the rule directories are not known (HOME unset)";
	/* small buffers: every stack page the constructor touches is a page
	 * fault in every process (longer paths: no cache, the files are parsed) */
	char path[1024], dbuf[1536];
	path[0] = '\0';
	struct eg_source_dirs dirs = { .buf = dbuf, .size = sizeof dbuf };
	int rc = -1;
	if (self_path == NULL || self_path[0] != '/' || eg_source_dirs(self_path, envp, &dirs) != 0)
		goto out;
	uid_t uid = getuid();
	gid_t gid = getgid();
	uint32_t reader = uid == 0 ? EG_CACHE_FOR_ROOT : EG_CACHE_FOR_USER;
	/* the system cache, for a user without rule files of their own */
	struct want w = { .uid = uid, .gid = gid, .reader = reader, .scope = EG_CACHE_NO_USER_RULES,
		.dirs = { dirs.packs, dirs.system, "" }, .system_file = true };
	if (no_user_rules(dirs.user) &&
	    cache_path(path, sizeof path, eg_rule_cache_system_dir(envp),
		name_hash(reader, dirs.packs, dirs.system, "")) &&
	    try_cache(p, path, &w, self_path, &why) == 0) {
		rc = 0;
		goto out;
	}
	/* the user's own */
	w = (struct want){ .uid = uid, .gid = gid, .reader = reader, .scope = EG_CACHE_ALL,
		.dirs = { dirs.packs, dirs.system, dirs.user }, .system_file = false };
	if (user_cache_dir(envp, path, sizeof path) &&
	    cache_path(path, sizeof path, path, name_hash(reader, dirs.packs, dirs.system, dirs.user)) &&
	    try_cache(p, path, &w, self_path, &why) == 0)
		rc = 0;
out:
	if (probe) {
		strlcpy(probe->path, path, sizeof probe->path);
		probe->why = rc == 0 ? NULL : why;
	}
	errno = saved;
	return rc;
}

/* ------------------------------------------------------------------ writing */

struct key {
	struct eg_cache_entry *v;
	char **paths;
	size_t n;
	bool oom;
};

static void key_free(struct key *k)
{
	for (size_t i = 0; i < k->n; i++)
		free(k->paths[i]);
	free(k->v);
	free(k->paths);
	memset(k, 0, sizeof *k);
}

static size_t key_add(struct key *k, uint16_t kind, const char *path, const struct stat *st,
    uint16_t dir)
{
	struct eg_cache_entry *nv = reallocarray(k->v, k->n + 1, sizeof *nv);
	if (nv)
		k->v = nv;
	char **np = reallocarray(k->paths, k->n + 1, sizeof *np);
	if (np)
		k->paths = np;
	char *copy = strdup(path);
	if (!nv || !np || !copy) {
		free(copy);
		k->oom = true;
		return 0;
	}
	struct eg_cache_entry *e = &k->v[k->n];
	memset(e, 0, sizeof *e);
	e->kind = kind;
	e->dir = dir;
	if (st)
		ident_from_stat(e, st);
	k->paths[k->n] = copy;
	return k->n++;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The directory and its *.rules files. 0, or -1 (the loader will say why). */
static int key_dir(struct key *k, const char *dir)
{
	struct stat st;
	if (stat(dir, &st) != 0) {
		if (errno != ENOENT)
			return -1;
		key_add(k, EG_CE_ABSENT, dir, NULL, 0);
		return 0;
	}
	size_t di = key_add(k, EG_CE_DIR, dir, &st, 0);
	DIR *dh = opendir(dir);
	if (!dh)
		return -1;
	char **names = NULL;
	size_t n = 0;
	struct dirent *de;
	int rc = 0;
	while ((de = readdir(dh))) {
		if (!is_rules_name(de->d_name))
			continue;
		char **nv = reallocarray(names, n + 1, sizeof *nv);
		char *full = NULL;
		if (nv)
			names = nv;
		if (!nv || asprintf(&full, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/",
			       de->d_name) < 0) {
			k->oom = true;
			break;
		}
		names[n++] = full;
	}
	closedir(dh);
	if (n > 1)
		qsort(names, n, sizeof *names, cmp_str);
	for (size_t i = 0; i < n; i++) {
		struct stat fst;
		if (stat(names[i], &fst) != 0)
			rc = -1;
		else
			key_add(k, EG_CE_FILE, names[i], &fst, (uint16_t)di);
		free(names[i]);
	}
	free(names);
	if (di > UINT16_MAX)
		rc = -1;
	return rc;
}

static int key_collect(struct key *k, const char *lib_path, const char *const dirs[3])
{
	struct stat st;
	if (stat(lib_path, &st) != 0)
		return -1;
	key_add(k, EG_CE_LIBRARY, lib_path, &st, 0);
	for (int i = 0; i < 3; i++)
		if (dirs[i] && dirs[i][0] && key_dir(k, dirs[i]) != 0)
			return -1;
	return k->oom ? -1 : 0;
}

static bool key_equal(const struct key *a, const struct key *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (memcmp(&a->v[i], &b->v[i], sizeof a->v[i]) != 0 ||
		    strcmp(a->paths[i], b->paths[i]) != 0)
			return false;
	return true;
}

/* How long until every source is older than the margin: a change made in
 * the same tick of the file system's clock as the one recorded could leave
 * the times as they are (git's "racy clean" problem). Timestamps without
 * nanoseconds come from a coarser file system: a wider margin. */
static double racy_wait(const struct key *k)
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	double t_now = (double)now.tv_sec + now.tv_nsec / 1e9, wait = 0;
	for (size_t i = 0; i < k->n; i++) {
		const struct eg_cache_entry *e = &k->v[i];
		if (e->kind == EG_CE_ABSENT)
			continue;
		double margin = e->ctime_nsec == 0 && e->mtime_nsec == 0 ? 2.0 : 1.0;
		double newest = (double)e->ctime_sec + e->ctime_nsec / 1e9;
		double m = (double)e->mtime_sec + e->mtime_nsec / 1e9;
		if (m > newest)
			newest = m;
		if (newest + margin - t_now > wait)
			wait = newest + margin - t_now;
	}
	return wait > 3.0 ? 3.0 : wait; /* a time in the future: wait, then compare */
}

struct sbuf {
	char *v;
	size_t n, cap;
	bool oom;
};

static uint32_t sbuf_add(struct sbuf *s, const char *str)
{
	size_t l = strlen(str) + 1;
	if (s->n + l > s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 1024;
		while (cap < s->n + l)
			cap *= 2;
		char *nv = realloc(s->v, cap);
		if (!nv) {
			s->oom = true;
			return 0;
		}
		s->v = nv;
		s->cap = cap;
	}
	memcpy(s->v + s->n, str, l);
	uint32_t off = (uint32_t)s->n;
	s->n += l;
	return off;
}

/* The file: header, entries, strings, padding, block. Temp file + rename. */
static int write_cache(const char *dir, const char *final, mode_t mode, struct eg_cache_header *h,
    const struct key *k, const struct eg_policy *p, const char *const kdirs[3])
{
	char dirbuf[PATH_MAX];
	if (snprintf(dirbuf, sizeof dirbuf, "%s", dir) >= (int)sizeof dirbuf) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (eg_mkdir_p(dirbuf, mode & 0044 ? 0755 : 0700) < 0)
		return -1;
	struct stat st;
	if (stat(dirbuf, &st) < 0 || !S_ISDIR(st.st_mode) || !owned_only_by(&st, getuid())) {
		errno = EPERM; /* the reader would not trust it */
		return -1;
	}
	struct sbuf s = { 0 };
	sbuf_add(&s, "");
	struct eg_cache_entry *e = calloc(k->n ? k->n : 1, sizeof *e);
	if (!e)
		return -1;
	for (size_t i = 0; i < k->n; i++) {
		e[i] = k->v[i];
		e[i].path = sbuf_add(&s, k->paths[i]);
	}
	for (int i = 0; i < 3; i++)
		h->dir_path[i] = sbuf_add(&s, kdirs[i]);
	size_t block_size;
	const void *block = eg_policy_block(p, &block_size);
	h->n_entries = (uint32_t)k->n;
	h->entries_off = (uint32_t)((sizeof *h + 7) & ~(size_t)7);
	h->strings_off = h->entries_off + (uint32_t)(k->n * sizeof *e);
	h->strings_len = (uint32_t)s.n;
	h->block_off = (uint32_t)((h->strings_off + s.n + 7) & ~(size_t)7);
	h->block_size = (uint32_t)block_size;
	if (s.oom) {
		free(e);
		free(s.v);
		errno = ENOMEM;
		return -1;
	}
	size_t head_len = h->block_off;
	unsigned char *head = calloc(1, head_len);
	if (!head) {
		free(e);
		free(s.v);
		return -1;
	}
	h->key_sum = 0;
	memcpy(head, h, sizeof *h);
	memcpy(head + h->entries_off, e, k->n * sizeof *e);
	memcpy(head + h->strings_off, s.v, s.n);
	h->key_sum = eg_fnv64(head, head_len, 0);
	memcpy(head, h, sizeof *h);
	free(e);
	free(s.v);

	const struct eg_file_part parts[] = { { head, head_len }, { block, block_size } };
	int rc = eg_write_file_whole(final, mode, EG_WRITE_EXACT_MODE, parts, 2);
	int err = errno;
	free(head);
	errno = err;
	return rc;
}

enum eg_cache_write_result eg_rule_cache_write(const char *lib_path, char *const *envp,
    enum eg_cache_kind kind, char *path_out, size_t size, struct eg_diags *d)
{
	if (path_out && size)
		path_out[0] = '\0';
	struct eg_source_dirs *dirs = malloc(sizeof *dirs + 3 * PATH_MAX + 64);
	if (!dirs)
		return EG_CACHE_IO;
	dirs->buf = (char *)(dirs + 1);
	dirs->size = 3 * PATH_MAX + 64;
	enum eg_cache_write_result res = EG_CACHE_IO;
	int drc = eg_source_dirs(lib_path, envp, dirs);
	if (drc < 0 || (drc == 1 && kind == EG_CACHE_OWN)) {
		eg_diags_add(d, NULL, 0, 0, "cannot determine where the rule files are (HOME unset?)");
		free(dirs);
		return EG_CACHE_BAD_RULES;
	}
	bool own = kind == EG_CACHE_OWN;
	uint32_t reader = kind == EG_CACHE_SYSTEM_FOR_USER ? EG_CACHE_FOR_USER
	    : kind == EG_CACHE_SYSTEM_FOR_ROOT              ? EG_CACHE_FOR_ROOT
	    : getuid() == 0                                 ? EG_CACHE_FOR_ROOT
							    : EG_CACHE_FOR_USER;
	if (!own && getuid() != 0) {
		free(dirs);
		errno = EPERM;
		return EG_CACHE_IO;
	}
	const char *user = own ? dirs->user : "";
	const char *kdirs[3] = { dirs->packs, dirs->system, user };
	char dir[PATH_MAX], final[PATH_MAX];
	if (own ? !user_cache_dir(envp, dir, sizeof dir)
		: strlcpy(dir, eg_rule_cache_system_dir(envp), sizeof dir) >= sizeof dir) {
		free(dirs);
		errno = ENOENT;
		return EG_CACHE_IO;
	}
	if (!cache_path(final, sizeof final, dir, name_hash(reader, dirs->packs, dirs->system, user))) {
		free(dirs);
		errno = ENAMETOOLONG;
		return EG_CACHE_IO;
	}
	struct eg_sources src = { .packs_dir = (char *)dirs->packs, .system_dir = (char *)dirs->system,
		.user_dir = own ? (char *)dirs->user : NULL };
	unsigned flags = EG_LOAD_NO_EXAMPLES |
	    (reader == EG_CACHE_FOR_USER ? EG_LOAD_TRUST_AS_USER : 0);
	res = EG_CACHE_UNSTABLE;
	for (int attempt = 0; attempt < 5; attempt++) {
		struct key k1 = { 0 }, k2 = { 0 };
		struct eg_ruleset rs = { 0 };
		struct eg_policy *p = NULL;
		if (key_collect(&k1, lib_path, kdirs) < 0) {
			/* let the loader say what is wrong, if anything */
			if (eg_ruleset_load_ex(&rs, &src, flags, d) < 0)
				res = EG_CACHE_BAD_RULES;
			eg_ruleset_free(&rs);
			key_free(&k1);
			if (res == EG_CACHE_BAD_RULES)
				break;
			continue;
		}
		double wait = racy_wait(&k1);
		if (wait > 0) {
			struct timespec ts = { (time_t)wait, (long)((wait - (double)(time_t)wait) * 1e9) };
			nanosleep(&ts, NULL);
			key_free(&k1);
			attempt--; /* not a change seen */
			if (attempt < -3)
				break;
			continue;
		}
		if (eg_ruleset_load_ex(&rs, &src, flags, d) < 0) {
			res = EG_CACHE_BAD_RULES;
		} else if (own && reader == EG_CACHE_FOR_USER) {
			/* as the reader decides (cache_ok): a root-owned rule
			 * directory makes a user's own cache unusable */
			for (int i = 0; i < 3 && res != EG_CACHE_UNTRUSTED; i++) {
				struct stat st;
				if (kdirs[i][0] && stat(kdirs[i], &st) == 0 && S_ISDIR(st.st_mode) &&
				    root_only(&st)) {
					eg_diags_add(d, kdirs[i], 0, 0,
					    "root-owned: its rules are protected, and a cache you can "
					    "write is not used for them; root can write the system "
					    "cache (`sudo execguard cache`)");
					res = EG_CACHE_UNTRUSTED;
				}
			}
		}
		if (res != EG_CACHE_BAD_RULES && res != EG_CACHE_UNTRUSTED) {
			/* with stored compiled regexes (unlike a block parsed
			 * in the process that uses it): built once here, decoded
			 * instead of compiled by every process's first match */
			p = eg_policy_build_ex(&rs, EG_BUILD_NO_HASH, d);
			if (!p)
				res = EG_CACHE_BAD_RULES;
		}
		if (p && key_collect(&k2, lib_path, kdirs) == 0 && key_equal(&k1, &k2)) {
			struct eg_cache_header h = { .magic = EG_CACHE_MAGIC };
			h.version = EG_CACHE_VERSION;
			h.block_version = EG_BLOCK_VERSION;
			h.reader = reader;
			h.scope = own ? EG_CACHE_ALL : EG_CACHE_NO_USER_RULES;
			h.uid = (uint32_t)getuid();
			strlcpy(h.eg_version, EG_VERSION, sizeof h.eg_version);
			res = write_cache(dir, final, own ? 0600 : 0644, &h, &k1, p, kdirs) == 0
			    ? EG_CACHE_WRITTEN : EG_CACHE_IO;
		}
		eg_policy_free(p);
		eg_ruleset_free(&rs);
		key_free(&k1);
		key_free(&k2);
		if (res != EG_CACHE_UNSTABLE)
			break;
	}
	if (res == EG_CACHE_WRITTEN && path_out)
		strlcpy(path_out, final, size);
	free(dirs);
	return res;
}
