/* See exe_probe.h. No malloc, no stdio; errno is preserved. */
#include "exe_probe.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#define PT_INTERP_ 3u
#define KERNEL_ST_VALID 0x0020 /* statfs f_flags are meaningful (Linux 2.6.36+) */
#define PHDR_MAX 4096u /* program headers we are willing to look through */

static uint64_t rd(const unsigned char *p, unsigned size, bool big)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < size; i++) {
		unsigned idx = big ? i : size - 1 - i;
		v = (v << 8) | p[idx];
	}
	return v;
}

static bool pread_full(int fd, void *buf, size_t n, off_t off)
{
	unsigned char *b = buf;
	while (n > 0) {
		ssize_t r = pread(fd, b, n, off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		b += r;
		n -= (size_t)r;
		off += r;
	}
	return true;
}

/* EG_EXE_STATIC / EG_EXE_DYNAMIC / EG_EXE_SCRIPT / EG_EXE_OTHER for an open file. */
static unsigned probe_fd(int fd)
{
	unsigned char eh[64];
	ssize_t got;
	do
		got = pread(fd, eh, sizeof eh, 0);
	while (got < 0 && errno == EINTR);
	if (got < 0)
		return EG_EXE_UNREADABLE;
	if (got >= 2 && eh[0] == '#' && eh[1] == '!')
		return EG_EXE_SCRIPT;
	if (got < 52 || memcmp(eh, "\177ELF", 4) != 0)
		return EG_EXE_OTHER;
	bool is64 = eh[4] == 2;
	bool big = eh[5] == 2;
	if ((eh[4] != 1 && eh[4] != 2) || (eh[5] != 1 && eh[5] != 2))
		return EG_EXE_OTHER;
	if (is64 && got < 64)
		return EG_EXE_OTHER;
	uint64_t phoff = is64 ? rd(eh + 32, 8, big) : rd(eh + 28, 4, big);
	unsigned phentsize = (unsigned)(is64 ? rd(eh + 54, 2, big) : rd(eh + 42, 2, big));
	unsigned phnum = (unsigned)(is64 ? rd(eh + 56, 2, big) : rd(eh + 44, 2, big));
	unsigned need = is64 ? 56u : 32u;
	if (phnum == 0 || phnum > PHDR_MAX || phentsize < need || phentsize > 1024
	    || phoff > (uint64_t)INT64_MAX / 2)
		return EG_EXE_STATIC; /* no usable program headers: no interpreter */
	unsigned char buf[1024];
	unsigned per = (unsigned)sizeof buf / phentsize;
	for (unsigned i = 0; i < phnum; i += per) {
		unsigned cnt = phnum - i < per ? phnum - i : per;
		if (!pread_full(fd, buf, (size_t)cnt * phentsize, (off_t)(phoff + (uint64_t)i * phentsize)))
			return EG_EXE_STATIC; /* truncated: the kernel would refuse it anyway */
		for (unsigned j = 0; j < cnt; j++)
			if (rd(buf + (size_t)j * phentsize, 4, big) == PT_INTERP_)
				return EG_EXE_DYNAMIC;
	}
	return EG_EXE_STATIC;
}

/*
 * Would exec'ing a file with these set-id bits change this process's ids
 * (the kernel's is_setid test: the new euid against the old real uid, the
 * new egid against the old real gid)? Only then is the exec secure and
 * LD_PRELOAD dropped; root running a setuid-root sudo keeps the library.
 * `fd` (may be -1) is the open file, for the nosuid mount test.
 */
static bool setid_is_secure(const struct stat *st, int fd)
{
	uid_t ruid = getuid();
	gid_t rgid = getgid();
	if (geteuid() != ruid || getegid() != rgid)
		return true; /* ids differ already: every exec is secure */
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1)
		return false; /* set-id bits are ignored */
	struct statfs sf;
	if (fd >= 0 && fstatfs(fd, &sf) == 0 && (sf.f_flags & KERNEL_ST_VALID) && (sf.f_flags & ST_NOSUID))
		return false; /* likewise */
	if ((st->st_mode & S_ISUID) && st->st_uid != ruid)
		return true;
	if ((st->st_mode & S_ISGID) && st->st_gid != rgid)
		return true;
	return false;
}

unsigned eg_exe_probe(const char *path)
{
	int saved = errno;
	unsigned r = 0;
	struct stat st;
	if (!path || stat(path, &st) != 0) {
		errno = saved;
		return EG_EXE_MISSING;
	}
	if (S_ISREG(st.st_mode) && (st.st_mode & (S_ISUID | S_ISGID)))
		r |= EG_EXE_SETID;
	ssize_t x = getxattr(path, "security.capability", NULL, 0);
	if (x > 0)
		r |= EG_EXE_CAPS;
	if (!S_ISREG(st.st_mode)) {
		errno = saved;
		return r | EG_EXE_OTHER;
	}
	int fd;
	do
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	while (fd < 0 && errno == EINTR);
	if ((r & EG_EXE_SETID) && setid_is_secure(&st, fd))
		r |= EG_EXE_SETID_SECURE;
	if (fd < 0) {
		errno = saved;
		return r | EG_EXE_UNREADABLE;
	}
	r |= probe_fd(fd);
	close(fd);
	errno = saved;
	return r;
}

bool eg_exe_unseen(const char *path)
{
	unsigned r = eg_exe_probe(path);
	if (r & EG_EXE_SCRIPT)
		return false; /* the kernel ignores set-id bits and caps on scripts */
	return (r & (EG_EXE_SETID_SECURE | EG_EXE_CAPS | EG_EXE_STATIC | EG_EXE_UNREADABLE)) != 0;
}
