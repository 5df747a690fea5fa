/* The audit log. See audit.h. */
#include "audit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "fmt.h"
#include "proc_stat.h"
#include "utf8.h"

static const char *const channel_names[EG_CHANNEL_COUNT] = {
	[EG_CHANNEL_NONE] = "none",
	[EG_CHANNEL_TERMINAL] = "terminal",
	[EG_CHANNEL_PARENT] = "parent",
	[EG_CHANNEL_APPROVER] = "approver",
	[EG_CHANNEL_ELSEWHERE] = "elsewhere",
	[EG_CHANNEL_MEMORY] = "memory",
};

const char *eg_audit_channel_name(enum eg_audit_channel c)
{
	if ((unsigned)c < EG_CHANNEL_COUNT && channel_names[c])
		return channel_names[c];
	return "none";
}

struct out {
	char *p;
	size_t len, cap;
	bool full;
};

static void put_c(struct out *o, char c)
{
	/* keep room for the closing of the record: `"}\n` plus a marker */
	if (o->len + 64 >= o->cap) {
		o->full = true;
		return;
	}
	o->p[o->len++] = c;
}

static void put_s(struct out *o, const char *s)
{
	while (*s && !o->full)
		put_c(o, *s++);
}

static void put_u(struct out *o, uint64_t v)
{
	char digits[EG_FMT_UINT_MAX];
	eg_fmt_uint(digits, (unsigned long)v);
	put_s(o, digits);
}

static void put_i(struct out *o, int64_t v)
{
	if (v < 0) {
		put_c(o, '-');
		put_u(o, (uint64_t)(-(v + 1)) + 1);
	} else {
		put_u(o, (uint64_t)v);
	}
}

static void put_2(struct out *o, unsigned v)
{
	put_c(o, (char)('0' + v / 10 % 10));
	put_c(o, (char)('0' + v % 10));
}

/* A JSON string. Invalid UTF-8 bytes are written as \u00XX (lossy, but the
 * line stays valid JSON). */
static void put_json(struct out *o, const char *str)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)str;
	if (o->full)
		return; /* nothing opened, nothing to close */
	put_c(o, '"');
	while (*s && !o->full) {
		/* An escape is written whole or not at all: stop while there is
		 * room for the longest one (\u00XX) above put_c's reserve. */
		if (o->len + 8 + 64 >= o->cap) {
			o->full = true;
			break;
		}
		unsigned char c = *s;
		if (c == '"' || c == '\\') {
			put_c(o, '\\');
			put_c(o, (char)c);
			s++;
		} else if (c == '\n') {
			put_s(o, "\\n");
			s++;
		} else if (c == '\t') {
			put_s(o, "\\t");
			s++;
		} else if (c < 0x20 || c == 0x7f) {
			put_s(o, "\\u00");
			put_c(o, hex[c >> 4]);
			put_c(o, hex[c & 15]);
			s++;
		} else if (c < 0x80) {
			put_c(o, (char)c);
			s++;
		} else {
			int n = (int)eg_utf8_decode(s, SIZE_MAX, NULL);
			if (n == 0) {
				put_s(o, "\\u00");
				put_c(o, hex[c >> 4]);
				put_c(o, hex[c & 15]);
				s++;
			} else {
				if (o->len + (size_t)n + 64 >= o->cap) {
					o->full = true;
					break;
				}
				for (int i = 0; i < n; i++)
					put_c(o, (char)s[i]);
				s += n;
			}
		}
	}
	/* a truncated string is still closed */
	o->p[o->len++] = '"';
}

static void put_field(struct out *o, const char *key, const char *val)
{
	put_s(o, ",\"");
	put_s(o, key);
	put_s(o, "\":");
	if (val)
		put_json(o, val);
	else
		put_s(o, "null");
}

/* UTC civil date from days since the epoch (H. Hinnant's algorithm): gmtime_r
 * takes glibc's timezone lock, which the hook path must not. */
static void put_time(struct out *o, const struct timespec *ts)
{
	int64_t secs = ts->tv_sec;
	int64_t days = secs / 86400, rem = secs % 86400;
	if (rem < 0) {
		rem += 86400;
		days--;
	}
	int64_t z = days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t y = yoe + era * 400;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int64_t d = doy - (153 * mp + 2) / 5 + 1;
	int64_t m = mp < 10 ? mp + 3 : mp - 9;
	if (m <= 2)
		y++;
	put_c(o, '"');
	put_i(o, y);
	put_c(o, '-');
	put_2(o, (unsigned)m);
	put_c(o, '-');
	put_2(o, (unsigned)d);
	put_c(o, 'T');
	put_2(o, (unsigned)(rem / 3600));
	put_c(o, ':');
	put_2(o, (unsigned)(rem / 60 % 60));
	put_c(o, ':');
	put_2(o, (unsigned)(rem % 60));
	put_c(o, '.');
	/* RFC 3339 with microseconds: six digits, zero-padded */
	unsigned us = (unsigned)(ts->tv_nsec / 1000);
	for (unsigned div = 100000; div > 0; div /= 10)
		put_c(o, (char)('0' + us / div % 10));
	put_s(o, "Z\"");
}

unsigned long eg_audit_format(char *buf, unsigned long size, const struct eg_audit_rec *r)
{
	struct out o = { buf, 0, size, false };
	if (size < 128)
		return 0;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);

	put_s(&o, "{\"time\":");
	put_time(&o, &ts);
	put_s(&o, ",\"pid\":");
	put_i(&o, r->pid ? r->pid : getpid());
	put_s(&o, ",\"ppid\":");
	put_i(&o, r->pid ? r->ppid : getppid());
	put_s(&o, ",\"uid\":");
	put_u(&o, getuid());
	put_field(&o, "route", r->route);
	put_field(&o, "action", r->action);
	put_field(&o, "outcome", r->outcome);
	if (r->why)
		put_field(&o, "why", r->why);
	put_field(&o, "rule", r->rule_id);
	if (r->rule_file) {
		put_field(&o, "rule_file", r->rule_file);
		put_s(&o, ",\"rule_line\":");
		put_u(&o, r->rule_line);
	}
	put_field(&o, "channel", eg_audit_channel_name(r->channel));
	put_field(&o, "session", r->session);
	if (r->parents) {
		put_s(&o, ",\"parents\":[");
		for (size_t i = 0; r->parents[i] && !o.full; i++) {
			if (i)
				put_c(&o, ',');
			put_json(&o, r->parents[i]);
		}
		/* room for it was kept by put_c */
		o.p[o.len++] = ']';
	}
	put_field(&o, "cwd", r->cwd);
	put_field(&o, "exe", r->exe);
	put_s(&o, ",\"argv\":[");
	if (r->argv) {
		for (size_t i = 0; r->argv[i] && !o.full; i++) {
			if (i)
				put_c(&o, ',');
			put_json(&o, r->argv[i]);
		}
	}
	/* room for these was kept by put_c */
	o.p[o.len++] = ']';
	if (o.full) {
		const char *t = ",\"truncated\":true";
		while (*t)
			o.p[o.len++] = *t++;
	}
	o.p[o.len++] = '}';
	o.p[o.len++] = '\n';
	return o.len;
}

/* mkdir -p for the directory part of path (mode 0700). */
static void make_parents(const char *path)
{
	char dir[4096];
	size_t n = strlen(path);
	if (n >= sizeof dir)
		return;
	memcpy(dir, path, n + 1);
	char *slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return;
	*slash = '\0';
	for (char *p = dir + 1; *p; p++) {
		if (*p == '/') {
			*p = '\0';
			(void)mkdir(dir, 0700);
			*p = '/';
		}
	}
	(void)mkdir(dir, 0700);
}

static int open_log(const char *path)
{
	/* O_NONBLOCK: a FIFO planted as the log must not hang the host */
	int flags = O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
	int fd = open(path, flags, 0600);
	if (fd < 0 && errno == ENOENT) {
		make_parents(path);
		fd = open(path, flags, 0600);
	}
	return fd;
}

int eg_audit_append(const char *path, const char *line, unsigned long len)
{
	if (!path || !*path || len == 0)
		return 0;
	int saved = errno;
	int err = 0;
	int fd = open_log(path);
	if (fd < 0) {
		err = errno;
		goto out;
	}
	/* one write(2) on O_APPEND: the record lands whole, after every other */
	ssize_t w;
	do {
		w = write(fd, line, len);
	} while (w < 0 && errno == EINTR);
	if (w < 0)
		err = errno;
	else if ((unsigned long)w != len)
		err = ENOSPC; /* a short write: the disk filled up under it */
	close(fd);
out:
	errno = saved;
	return err;
}

int eg_audit_write(const char *path, const struct eg_audit_rec *r)
{
	if (!path || !*path)
		return 0;
	int saved = errno;
	char line[EG_AUDIT_LINE_MAX];
	unsigned long len = eg_audit_format(line, sizeof line, r);
	int err = eg_audit_append(path, line, len);
	errno = saved;
	return err;
}

unsigned eg_audit_parents(char *store, unsigned long size, const char **names, unsigned max)
{
	unsigned n = 0;
	unsigned long used = 0;
	pid_t pid = getppid();
	while (n < max && pid > 1 && used + 2 < size) {
		pid_t ppid = 0;
		if (eg_proc_stat(pid, store + used, size - used, &ppid) != 0)
			break;
		names[n++] = store + used;
		used += strlen(store + used) + 1;
		pid = ppid;
	}
	names[n] = NULL;
	return n;
}
