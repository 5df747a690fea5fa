/*
 * Reading an exec request out of the process that made it.
 *
 * The notification carries only the system call's registers: the path, argv
 * and envp are pointers into the caller's memory, read here with
 * process_vm_readv (or /proc/PID/mem where that is not allowed). What is
 * read can change after this (another thread, shared memory, a debugger):
 * strict_verify.c compares what the kernel really executed.
 *
 * The executable is opened (O_PATH) the way the kernel will look it up: an
 * absolute path from the caller's root (openat2 RESOLVE_IN_ROOT, so a
 * chroot or a sandbox's own mounts resolve as they do for the caller), a
 * relative one from its working directory or from the execveat descriptor,
 * /proc/self and /dev/fd as the caller's own. A path that does not lead to
 * something executable fails here with the errno the kernel would give, and
 * nobody is asked about a program that cannot run (PATH searches in Python
 * and libuv try every directory).
 *
 * Every /proc lookup names the calling thread; the notification is checked
 * to be still pending afterwards, so a thread id reused by a new process
 * cannot be mistaken for the caller.
 */
#include "strict.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

/* More than the kernel accepts for argv and envp together (a quarter of
 * the stack limit, at most 6 MiB); beyond this the exec fails with E2BIG. */
#define ARG_BYTES_MAX (8u << 20)
#define ARG_COUNT_MAX (1u << 21)
#define PAGE 4096u

/* Reads go through a window of the caller's memory, so that the strings of
 * an environment (usually one after the other) cost one system call for
 * many, not one each. */
#define WINDOW (64u * 1024u)

struct mem {
	pid_t tid;
	int fd; /* /proc/TID/mem, opened only when process_vm_readv is refused */
	bool denied; /* neither way is allowed: not a bad pointer */
	uint64_t base; /* the window: len bytes of the caller's memory at base */
	size_t len;
	unsigned char win[WINDOW];
};

/* Read up to len bytes at addr; fewer when a page on the way cannot be read
 * (one remote iovec per page: process_vm_readv never splits an iovec). */
static ssize_t mem_read(struct mem *m, uint64_t addr, void *buf, size_t len)
{
	struct iovec remote[WINDOW / PAGE + 1];
	size_t nr = 0, got = 0;
	while (got < len && nr < sizeof remote / sizeof remote[0]) {
		uint64_t a = addr + got;
		size_t chunk = PAGE - (size_t)(a % PAGE);
		if (chunk > len - got)
			chunk = len - got;
		remote[nr].iov_base = (void *)(uintptr_t)a;
		remote[nr].iov_len = chunk;
		nr++;
		got += chunk;
	}
	struct iovec local = { .iov_base = buf, .iov_len = got };
	ssize_t n = process_vm_readv(m->tid, &local, 1, remote, nr, 0);
	if (n >= 0 || (errno != ENOSYS && errno != EPERM))
		return n;
	if (m->fd < 0) {
		char p[64];
		snprintf(p, sizeof p, "/proc/%d/mem", (int)m->tid);
		m->fd = open(p, O_RDONLY | O_CLOEXEC);
		if (m->fd < 0) {
			m->denied = true;
			return -1;
		}
	}
	do
		n = pread(m->fd, buf, got, (off_t)addr);
	while (n < 0 && errno == EINTR);
	return n;
}

/* The caller's bytes from addr on, at least `need` of them: a pointer into
 * the window and how many follow; NULL when they cannot be read. */
static const unsigned char *mem_at(struct mem *m, uint64_t addr, size_t need, size_t *avail)
{
	if (m->len && addr >= m->base && addr - m->base < m->len &&
	    m->len - (size_t)(addr - m->base) >= need) {
		*avail = m->len - (size_t)(addr - m->base);
		return m->win + (addr - m->base);
	}
	size_t want = WINDOW;
	if (addr > UINT64_MAX - want)
		want = (size_t)(UINT64_MAX - addr);
	ssize_t n = mem_read(m, addr, m->win, want);
	if (n < (ssize_t)need || n <= 0) {
		m->len = 0;
		return NULL;
	}
	m->base = addr;
	m->len = (size_t)n;
	*avail = (size_t)n;
	return m->win;
}

/* A growing byte buffer for strings read from the caller. */
struct blob {
	char *p;
	size_t len, cap;
};

static int blob_reserve(struct blob *b, size_t more)
{
	if (b->len + more <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 4096;
	while (cap < b->len + more)
		cap *= 2;
	char *np = realloc(b->p, cap);
	if (np == NULL)
		return -1;
	b->p = np;
	b->cap = cap;
	return 0;
}

/* Append the NUL-terminated string at addr (NUL included). Returns 0, or an
 * errno: EFAULT (unreadable), E2BIG (over `budget` bytes), ENOMEM. */
static int read_string(struct mem *m, uint64_t addr, struct blob *b, size_t *budget)
{
	for (;;) {
		size_t avail;
		const unsigned char *p = mem_at(m, addr, 1, &avail);
		if (p == NULL)
			return EFAULT;
		const unsigned char *nul = memchr(p, '\0', avail);
		size_t take = nul ? (size_t)(nul - p) + 1 : avail;
		if (take > *budget)
			return E2BIG;
		if (blob_reserve(b, take) != 0)
			return ENOMEM;
		memcpy(b->p + b->len, p, take);
		*budget -= take;
		b->len += take;
		if (nul)
			return 0;
		addr += (uint64_t)take;
	}
}

/* Read a NULL-terminated pointer array at addr (NULL addr: empty) and the
 * strings it points to, into `b` (strings) and *offs (their offsets). */
static int read_vector(struct mem *m, uint64_t addr, struct blob *b, size_t **offs, size_t *count,
    size_t *budget)
{
	*offs = NULL;
	*count = 0;
	if (addr == 0)
		return 0;
	size_t cap = 0;
	for (;; addr += sizeof(uint64_t)) {
		size_t avail;
		const unsigned char *p = mem_at(m, addr, sizeof(uint64_t), &avail);
		if (p == NULL)
			return EFAULT;
		uint64_t ptr;
		memcpy(&ptr, p, sizeof ptr);
		if (ptr == 0)
			return 0;
		if (*count >= ARG_COUNT_MAX)
			return E2BIG;
		if (*count == cap) {
			cap = cap ? cap * 2 : 64;
			size_t *no = realloc(*offs, cap * sizeof *no);
			if (no == NULL)
				return ENOMEM;
			*offs = no;
		}
		(*offs)[(*count)++] = b->len;
		int e = read_string(m, ptr, b, budget);
		if (e)
			return e;
	}
}

static char **to_pointers(struct blob *b, const size_t *offs, size_t count)
{
	char **v = calloc(count + 1, sizeof *v);
	if (v == NULL)
		return NULL;
	for (size_t i = 0; i < count; i++)
		v[i] = b->p + offs[i];
	return v;
}

/* ------------------------------------------------------------ the file */

static int open_beneath_root(pid_t tid, const char *path, bool nofollow)
{
	char root[64];
	snprintf(root, sizeof root, "/proc/%d/root", (int)tid);
	int rfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rfd < 0)
		return -1;
	struct open_how how = {
		.flags = O_PATH | O_CLOEXEC | (nofollow ? O_NOFOLLOW : 0),
		.resolve = RESOLVE_IN_ROOT,
	};
	long fd = syscall(SYS_openat2, rfd, path, &how, sizeof how);
	int e = errno;
	close(rfd);
	if (fd < 0 && (e == ENOSYS || e == EXDEV || e == ELOOP || e == EINVAL || e == E2BIG)) {
		/* No openat2, or a magic link on the way (RESOLVE_IN_ROOT does not
		 * follow them): walk from the root link instead, which is exact
		 * when the caller shares our root. */
		char p[PATH_MAX + 64];
		if ((size_t)snprintf(p, sizeof p, "/proc/%d/root%s", (int)tid, path) >= sizeof p) {
			errno = ENAMETOOLONG;
			return -1;
		}
		return open(p, O_PATH | O_CLOEXEC | (nofollow ? O_NOFOLLOW : 0));
	}
	errno = e;
	return (int)fd;
}

/* /proc/self/..., /proc/thread-self/... and /dev/fd/N name the caller's own
 * files: rewrite them to its /proc directory (as seen from here). Returns
 * true with the new path in out. */
static bool self_path(pid_t tid, pid_t tgid, const char *path, char *out, size_t size)
{
	static const char *const prefixes[] = { "/proc/self/", "/proc/thread-self/", "/dev/fd/" };
	for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
		size_t l = strlen(prefixes[i]);
		if (strncmp(path, prefixes[i], l) != 0)
			continue;
		int w;
		if (i == 0)
			w = snprintf(out, size, "/proc/%d/%s", (int)tgid, path + l);
		else if (i == 1)
			w = snprintf(out, size, "/proc/%d/task/%d/%s", (int)tgid, (int)tid, path + l);
		else
			w = snprintf(out, size, "/proc/%d/fd/%s", (int)tgid, path + l);
		return w > 0 && (size_t)w < size;
	}
	return false;
}

int strict_target_open(pid_t tid, pid_t tgid, int dirfd, const char *path, bool nofollow)
{
	char p[PATH_MAX + 128];
	int oflags = O_PATH | O_CLOEXEC | (nofollow ? O_NOFOLLOW : 0);
	if (path[0] == '\0') {
		errno = ENOENT;
		return -1;
	}
	if (self_path(tid, tgid, path, p, sizeof p))
		return open(p, oflags);
	if (path[0] == '/')
		return open_beneath_root(tid, path, nofollow);
	if (dirfd != AT_FDCWD) {
		/* the kernel's EBADF for a descriptor that is not open */
		snprintf(p, sizeof p, "/proc/%d/fd/%d", (int)tid, dirfd);
		struct stat st;
		if (dirfd < 0 || lstat(p, &st) != 0) {
			errno = EBADF;
			return -1;
		}
	}
	int w = dirfd == AT_FDCWD ? snprintf(p, sizeof p, "/proc/%d/cwd/%s", (int)tid, path)
				  : snprintf(p, sizeof p, "/proc/%d/fd/%d/%s", (int)tid, dirfd, path);
	if (w < 0 || (size_t)w >= sizeof p) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return open(p, oflags);
}

/* Open the executable as the kernel will find it. Returns 0 or an errno. */
static int open_exe(struct strict_exec *x)
{
	bool nofollow = x->is_execveat && (x->at_flags & AT_SYMLINK_NOFOLLOW);
	int fd;

	if (x->is_execveat && (x->at_flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)))
		return EINVAL;
	if (x->path[0] == '\0') {
		if (!(x->is_execveat && (x->at_flags & AT_EMPTY_PATH)))
			return ENOENT;
		if (x->dirfd == AT_FDCWD)
			return EACCES; /* the working directory itself */
		char p[64];
		snprintf(p, sizeof p, "/proc/%d/fd/%d", (int)x->tid, x->dirfd);
		fd = x->dirfd < 0 ? -1 : open(p, O_PATH | O_CLOEXEC);
		if (fd < 0)
			return EBADF;
	} else {
		fd = strict_target_open(x->tid, x->tgid, x->dirfd, x->path, nofollow);
		if (fd < 0)
			return errno;
	}
	x->exe_fd = fd;
	if (fstat(fd, &x->exe_st) != 0)
		return errno;
	/* What the kernel refuses before reading a byte: not a file, no
	 * execute bit for anyone, a noexec mount. (Finer permission checks
	 * are left to the kernel: the exec is verified either way.) */
	if (!S_ISREG(x->exe_st.st_mode) || !(x->exe_st.st_mode & 0111))
		return EACCES;
	struct statvfs sv;
	if (fstatvfs(fd, &sv) == 0 && (sv.f_flag & ST_NOEXEC))
		return EACCES;
	char link[64];
	snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, x->exe, sizeof x->exe - 1);
	if (n <= 0)
		return EACCES;
	x->exe[n] = '\0';
	return 0;
}

static void kernel_name(struct strict_exec *x)
{
	/* fs/exec.c: bprm->filename */
	if (!x->is_execveat || x->dirfd == AT_FDCWD || x->path[0] == '/')
		snprintf(x->kernel_name, sizeof x->kernel_name, "%s", x->path);
	else if (x->path[0] == '\0')
		snprintf(x->kernel_name, sizeof x->kernel_name, "/dev/fd/%d", x->dirfd);
	else
		snprintf(x->kernel_name, sizeof x->kernel_name, "/dev/fd/%d/%s", x->dirfd, x->path);
}

static pid_t tgid_of(pid_t tid)
{
	char p[64], buf[4096];
	snprintf(p, sizeof p, "/proc/%d/status", (int)tid);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	const char *t = strstr(buf, "\nTgid:");
	return t ? (pid_t)strtol(t + 6, NULL, 10) : -1;
}

int strict_exec_read(int listener, const struct seccomp_notif *n, struct strict_exec *x)
{
	memset(x, 0, sizeof *x);
	x->exe_fd = -1;
	x->id = n->id;
	x->tid = (pid_t)n->pid;
	x->tgid = tgid_of(x->tid);
	if (x->tgid <= 0)
		return -1;
	if (!strict_native_exec(n, &x->is_execveat))
		return -1; /* not for this reader; the caller checks first */

	const __u64 *a = n->data.args;
	uint64_t path_p = x->is_execveat ? a[1] : a[0];
	uint64_t argv_p = x->is_execveat ? a[2] : a[1];
	uint64_t envp_p = x->is_execveat ? a[3] : a[2];
	x->dirfd = x->is_execveat ? (int)a[0] : AT_FDCWD;
	x->at_flags = x->is_execveat ? (int)a[4] : 0;

	struct mem *m = malloc(sizeof *m); /* the window is too big for a stack frame */
	if (m == NULL)
		return ENOMEM;
	m->tid = x->tid;
	m->fd = -1;
	m->denied = false;
	m->base = 0;
	m->len = 0;
	struct blob pb = { 0 }, ab = { 0 }, eb = { 0 };
	size_t *aoffs = NULL, *eoffs = NULL;
	size_t budget = PATH_MAX;
	int e = read_string(m, path_p, &pb, &budget);
	if (e == E2BIG)
		e = ENAMETOOLONG;
	budget = ARG_BYTES_MAX;
	if (!e)
		e = read_vector(m, argv_p, &ab, &aoffs, &x->argc, &budget);
	if (!e)
		e = read_vector(m, envp_p, &eb, &eoffs, &x->envc, &budget);
	if (m->fd >= 0)
		close(m->fd);
	bool unreadable = m->denied;
	free(m);
	if (!e) {
		x->path = pb.p;
		pb.p = NULL;
		x->arg_blob = ab.p;
		x->arg_len = ab.len;
		x->env_blob = eb.p;
		x->env_len = eb.len;
		x->argv = to_pointers(&ab, aoffs, x->argc);
		x->envp = to_pointers(&eb, eoffs, x->envc);
		ab.p = eb.p = NULL;
		if (!x->argv || !x->envp)
			e = ENOMEM;
	}
	free(pb.p);
	free(ab.p);
	free(eb.p);
	free(aoffs);
	free(eoffs);

	if (!e) {
		kernel_name(x);
		e = open_exe(x);
	}
	if (!e) {
		char p[64];
		snprintf(p, sizeof p, "/proc/%d/cwd", (int)x->tid);
		ssize_t l = readlink(p, x->cwd, sizeof x->cwd - 1);
		x->cwd[l > 0 ? l : 0] = '\0';
	}
	/* Everything above named the thread by number: only now is it known
	 * to have been the one waiting (a waiting thread cannot exit, so its
	 * number was not reused meanwhile). */
	uint64_t id = x->id;
	if (ioctl(listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) != 0)
		return -1;
	return unreadable ? STRICT_UNREADABLE : e;
}

void strict_exec_free(struct strict_exec *x)
{
	if (x->exe_fd >= 0)
		close(x->exe_fd);
	x->exe_fd = -1;
	if (x->argv)
		free(x->argv);
	if (x->envp)
		free(x->envp);
	free(x->arg_blob);
	free(x->env_blob);
	free(x->path);
	x->argv = x->envp = NULL;
	x->arg_blob = x->env_blob = x->path = NULL;
}
