/*
 * Time of check, time of use: between the supervisor reading an exec's
 * arguments and the kernel copying them, another thread of the process (or
 * another process sharing the memory, or a debugger) can change them, and a
 * symbolic link on the path can be switched. The answer "go on" cannot carry
 * the arguments that were checked: the kernel reads them again from the
 * caller's memory.
 *
 * So every exec that is let through is verified where sudo's ptrace
 * intercept mode verifies it (ptrace_verify_post_exec): the supervisor
 * attaches to the calling thread just before answering (PTRACE_SEIZE with
 * PTRACE_O_TRACEEXEC), and the kernel stops the process at
 * PTRACE_EVENT_EXEC, after the new image is in place and before it has run
 * a single instruction. There /proc/PID/cmdline, /proc/PID/environ and the
 * file behind /proc/PID/exe must be what was checked; otherwise the process
 * is killed (SIGKILL) there. Unlike sudo, the process is not traced for the
 * rest of its life: it is detached at once, so debuggers and strace keep
 * working inside the session, and attaching costs only the execs themselves.
 *
 * A PTRACE_INTERRUPT queued at the same time stops the thread when the exec
 * fails instead (it returns to the old program), so the supervisor always
 * gets a stop to detach at. PTRACE_O_EXITKILL: should execguard die while a
 * process is attached, the process is killed too (fail closed).
 *
 * The kernel rewrites argv for "#!" scripts: the interpreter line's words,
 * then the script's name as the kernel has it (kernel_name), then argv[1..];
 * and /proc/PID/exe is then the interpreter. Both are predicted here by
 * reading the first line the way fs/binfmt_script.c does, level by level.
 * For other formats (binfmt_misc) only argv[1..] is compared.
 *
 * What remains (README "Strict mode"): a script's interpreter opens the
 * script again by name after the exec, so the file at that name can be
 * swapped between this check and that open; and the new program itself may
 * rewrite its arguments afterwards (that is not an exec and is not checked).
 */
#include "strict.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <unistd.h>

#define BINPRM_BUF 256    /* the kernel reads this much of a file's start */
#define SCRIPT_DEPTH 5    /* the kernel's limit on nested interpreters */

/* ------------------------------------------------------------ bytes */

struct bytes {
	char *p;
	size_t len, cap;
};

static int put(struct bytes *b, const void *s, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n)
			cap *= 2;
		char *np = realloc(b->p, cap);
		if (np == NULL)
			return -1;
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	return 0;
}

static int put_word(struct bytes *b, const char *w, size_t n)
{
	return put(b, w, n) || put(b, "", 1) ? -1 : 0;
}

/* ------------------------------------------------------------ #! lines */

/* Read the first BINPRM_BUF bytes of an O_PATH descriptor's file into buf
 * (BINPRM_BUF + 1 bytes, zero-filled past the end of the file, as the
 * kernel's buffer is). Returns the count, or -1 (unreadable to us:
 * execute-only files). */
static ssize_t head_of(int opath_fd, char *buf)
{
	memset(buf, 0, BINPRM_BUF + 1);
	char link[64];
	snprintf(link, sizeof link, "/proc/self/fd/%d", opath_fd);
	int fd = open(link, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -1;
	ssize_t n;
	do
		n = pread(fd, buf, BINPRM_BUF, 0);
	while (n < 0 && errno == EINTR);
	close(fd);
	return n;
}

static bool is_elf(const char *buf, ssize_t n)
{
	return n >= 4 && memcmp(buf, "\177ELF", 4) == 0;
}

static bool is_script(const char *buf)
{
	return buf[0] == '#' && buf[1] == '!';
}

static bool spacetab(char c)
{
	return c == ' ' || c == '\t';
}

/* The kernel's helpers, with the same inclusive upper bound. */
static char *next_non_spacetab(char *first, const char *last)
{
	for (; first <= last; first++)
		if (!spacetab(*first))
			return first;
	return NULL;
}

static char *next_terminator(char *first, const char *last)
{
	for (; first <= last; first++)
		if (spacetab(*first) || !*first)
			return first;
	return NULL;
}

/*
 * fs/binfmt_script.c, load_script(), line for line: the interpreter's name
 * and optional argument from the (zero-padded) first BINPRM_BUF bytes, cut
 * in place. Returns false where the kernel fails with ENOEXEC.
 */
static bool parse_shebang(char *buf, const char **name, const char **arg)
{
	if (!is_script(buf))
		return false;
	char *buf_end = buf + BINPRM_BUF - 1;
	char *i_end = NULL;
	for (size_t k = 0; k < BINPRM_BUF && buf[k]; k++) { /* strnchr stops at NUL */
		if (buf[k] == '\n') {
			i_end = buf + k;
			break;
		}
	}
	if (i_end == NULL) {
		char *p = next_non_spacetab(buf + 2, buf_end);
		if (p == NULL)
			return false; /* all blanks */
		if (next_terminator(p, buf_end) == NULL)
			return false; /* the interpreter's name is cut off */
		i_end = buf_end;
	}
	while (spacetab(i_end[-1]))
		i_end--;
	char *i_name = next_non_spacetab(buf + 2, i_end);
	if (i_name == NULL || i_name == i_end)
		return false;
	char *i_arg = NULL;
	char *i_sep = next_terminator(i_name, i_end);
	if (i_sep && *i_sep != '\0')
		i_arg = next_non_spacetab(i_sep, i_end);
	*i_end = '\0';
	if (i_arg)
		*i_sep = '\0';
	*name = i_name;
	*arg = i_arg;
	return true;
}

/* ------------------------------------------------------------ expectation */

int strict_expect_build(const struct strict_exec *x, struct strict_expect *e)
{
	memset(e, 0, sizeof *e);
	struct bytes env = { 0 }, tail = { 0 }, cmd = { 0 };

	if (x->env_len && put(&env, x->env_blob, x->env_len) != 0)
		goto fail;
	/* argv[1..]: what follows argv[0] in the blob */
	size_t a0 = x->argc ? strlen(x->argv[0]) + 1 : 0;
	if (x->arg_len > a0 && put(&tail, x->arg_blob + a0, x->arg_len - a0) != 0)
		goto fail;

	char buf[BINPRM_BUF + 1];
	ssize_t n = head_of(x->exe_fd, buf);
	if (n < 0 || is_elf(buf, n)) {
		/* A binary (or a file only the kernel can read: it is a binary or
		 * it fails). The arguments are taken as they are; since Linux
		 * 5.18 an empty argv becomes one empty string. */
		if (x->argc ? put(&cmd, x->arg_blob, x->arg_len) : put(&cmd, "", 1))
			goto fail;
		e->check_exe = true;
		e->exe_dev = x->exe_st.st_dev;
		e->exe_ino = x->exe_st.st_ino;
		goto done;
	}
	if (!is_script(buf))
		goto tail_only; /* binfmt_misc, or ENOEXEC (then there is no stop) */

	/* Scripts, level by level: each level puts its interpreter's name and
	 * argument in front of what the level below produced, whose first
	 * word is the script's name as the kernel has it. */
	struct bytes prefix = { 0 };
	int fd = -1;
	struct stat st;
	for (int depth = 0;; depth++) {
		const char *name, *arg;
		if (depth == SCRIPT_DEPTH || !parse_shebang(buf, &name, &arg))
			break; /* the kernel fails it: no stop to verify at */
		struct bytes level = { 0 };
		if (put_word(&level, name, strlen(name)) || (arg && put_word(&level, arg, strlen(arg))) ||
		    put(&level, prefix.p, prefix.len)) {
			free(level.p);
			free(prefix.p);
			if (fd >= 0)
				close(fd);
			goto fail;
		}
		free(prefix.p);
		prefix = level;
		if (fd >= 0)
			close(fd);
		fd = strict_target_open(x->tid, x->tgid, AT_FDCWD, name, false);
		if (fd < 0 || fstat(fd, &st) != 0)
			break; /* the kernel fails it: ENOENT */
		n = head_of(fd, buf);
		if (n < 0 || is_elf(buf, n)) {
			close(fd);
			if (put(&cmd, prefix.p, prefix.len) ||
			    put_word(&cmd, x->kernel_name, strlen(x->kernel_name)) ||
			    put(&cmd, tail.p, tail.len)) {
				free(prefix.p);
				goto fail;
			}
			free(prefix.p);
			e->check_exe = true;
			e->exe_dev = st.st_dev;
			e->exe_ino = st.st_ino;
			goto done;
		}
		if (!is_script(buf))
			break; /* an interpreter handled by binfmt_misc */
	}
	free(prefix.p);
	if (fd >= 0)
		close(fd);
	goto tail_only;

tail_only:
	free(cmd.p);
	cmd.p = NULL;
	cmd.len = 0;
done:
	e->cmdline = cmd.p;
	e->cmdline_len = cmd.len;
	e->tail = tail.p;
	e->tail_len = tail.len;
	e->environ = env.p;
	e->environ_len = env.len;
	return 0;
fail:
	free(env.p);
	free(tail.p);
	free(cmd.p);
	return -1;
}

void strict_expect_free(struct strict_expect *e)
{
	free(e->cmdline);
	free(e->tail);
	free(e->environ);
	memset(e, 0, sizeof *e);
}

/* ------------------------------------------------------------ the stop */

int strict_trace_exec(pid_t tid)
{
	if (ptrace(PTRACE_SEIZE, tid, NULL, (void *)(long)(PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL)) != 0)
		return -1;
	if (ptrace(PTRACE_INTERRUPT, tid, NULL, NULL) != 0)
		return -1; /* only if it died meanwhile */
	return 0;
}

/* All of /proc/PID/<what>, malloc'd. */
static char *slurp(pid_t pid, const char *what, size_t *len)
{
	char p[64];
	snprintf(p, sizeof p, "/proc/%d/%s", (int)pid, what);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	struct bytes b = { 0 };
	char chunk[65536];
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(b.p);
			close(fd);
			return NULL;
		}
		if (n == 0)
			break;
		if (put(&b, chunk, (size_t)n) != 0) {
			free(b.p);
			close(fd);
			return NULL;
		}
	}
	close(fd);
	if (b.p == NULL)
		b.p = malloc(1);
	*len = b.len;
	return b.p;
}

bool strict_expect_matches(pid_t pid, const struct strict_expect *e, char *why, size_t n)
{
	size_t clen = 0, elen = 0;
	char *cmd = slurp(pid, "cmdline", &clen);
	char *env = slurp(pid, "environ", &elen);
	bool ok = false;
	if (cmd == NULL || env == NULL) {
		snprintf(why, n, "its new arguments could not be read");
		goto out;
	}
	if (e->cmdline) {
		if (clen != e->cmdline_len || memcmp(cmd, e->cmdline, clen) != 0) {
			snprintf(why, n, "its arguments are not the ones that were checked");
			goto out;
		}
	} else if (clen < e->tail_len || memcmp(cmd + clen - e->tail_len, e->tail, e->tail_len) != 0) {
		snprintf(why, n, "its arguments are not the ones that were checked");
		goto out;
	}
	if (elen != e->environ_len || memcmp(env, e->environ, elen) != 0) {
		snprintf(why, n, "its environment is not the one that was checked");
		goto out;
	}
	if (e->check_exe) {
		char p[64];
		struct stat st;
		snprintf(p, sizeof p, "/proc/%d/exe", (int)pid);
		if (stat(p, &st) != 0 || st.st_dev != e->exe_dev || st.st_ino != e->exe_ino) {
			snprintf(why, n, "the program file is not the one that was checked");
			goto out;
		}
	}
	ok = true;
out:
	free(cmd);
	free(env);
	return ok;
}
