/* execguard log: the audit log the library writes, filtered, as a table
 * for humans or the raw JSON records, once or following the file. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "guard.h"
#include "log_record.h"

extern char **environ;

static const char log_usage[] =
    "usage: execguard log [--since WHEN] [--decision WORD[,WORD...]] [--rule PATTERN]\n"
    "                     [--session ID] [-n N] [-f] [--json]\n"
    "\n"
    "Show the audit log: every log, confirm and deny decision of the guard\n"
    "(and every exec, with `set audit-execs on`), newest last.\n"
    "\n"
    "  --since WHEN     only records from WHEN on: 90s, 30m, 2h, 7d, 2w ago, or a\n"
    "                   UTC date and time such as 2026-11-26 or 2026-11-26T09:30\n"
    "  --decision WORD  only records whose action (confirm, deny, log, exec, fail),\n"
    "                   outcome (approved, refused, ran) or reason (said-no,\n"
    "                   timeout, no-terminal, ...) is one of the WORDs\n"
    "  --rule PATTERN   only records of rules matching PATTERN ('terraform.*')\n"
    "  --session ID     only records of the `execguard run` session ID (or a prefix)\n"
    "  -n N             only the last N records (with -f: default 10)\n"
    "  -f, --follow     keep printing records as they are written (Ctrl-C stops)\n"
    "  --json           print the records as stored, one JSON object a line\n"
    "\n"
    "Colour when standard output is a terminal and NO_COLOR is not set.\n"
    "The log is $EXECGUARD_AUDIT_LOG, else $XDG_STATE_HOME/execguard/audit.jsonl\n"
    "(default ~/.local/state/execguard/audit.jsonl).\n";

/* Records carry UTC times as "YYYY-MM-DDTHH:MM:SS.mmmZ", which sort as text:
 * the cutoff is a string of the same form (or a prefix of it). */
static bool parse_since(const char *when, char *cutoff, size_t size)
{
	char *end;
	errno = 0;
	long long n = strtoll(when, &end, 10);
	if (end != when && n >= 0 && errno == 0 && end[0] != '\0' && end[1] == '\0' &&
	    strchr("smhdw", end[0]) != NULL) {
		static const long long unit[] = { ['s' - 'a'] = 1, ['m' - 'a'] = 60,
			['h' - 'a'] = 3600, ['d' - 'a'] = 86400, ['w' - 'a'] = 604800 };
		long long secs = n * unit[end[0] - 'a'];
		time_t t = time(NULL) - (time_t)secs;
		struct tm tm;
		if (secs / unit[end[0] - 'a'] != n || gmtime_r(&t, &tm) == NULL)
			return false;
		return strftime(cutoff, size, "%Y-%m-%dT%H:%M:%S", &tm) > 0;
	}
	/* A date, optionally with a time: digits and separators in ISO order. */
	static const char shape[] = "0000-00-00T00:00:00";
	size_t len = strlen(when);
	if (len < 10 || len > strlen(shape) || len >= size)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = when[i] == ' ' ? 'T' : when[i];
		if (shape[i] == '0' ? (c < '0' || c > '9') : c != shape[i])
			return false;
		cutoff[i] = c;
	}
	cutoff[len] = '\0';
	return true;
}

/* Lines kept by the first pass (the last N of them are printed). */
struct kept {
	char **v;
	size_t n, cap;
};

static bool keep_line(struct kept *k, const char *line)
{
	if (k->n == k->cap) {
		size_t cap = k->cap ? k->cap * 2 : 256;
		char **nv = reallocarray(k->v, cap, sizeof *nv);
		if (nv == NULL)
			return false;
		k->v = nv;
		k->cap = cap;
	}
	char *copy = strdup(line);
	if (copy == NULL)
		return false;
	k->v[k->n++] = copy;
	return true;
}

struct printer {
	bool json;
	struct log_style style;
	struct log_filter filter;
};

static void print_line(const struct printer *pr, const char *line)
{
	if (pr->json) {
		fputs(line, stdout);
		if (line[0] && line[strlen(line) - 1] != '\n')
			putchar('\n');
	} else {
		log_print_row(stdout, &pr->style, line);
	}
}

/* The records already in the file: filtered, the last `last` of them (all
 * when negative). Leaves *offset at the end of what was read. */
static int print_existing(const struct printer *pr, FILE *f, long last, off_t *offset,
    const char *path)
{
	struct kept k = { 0 };
	char *line = NULL;
	size_t linecap = 0;
	ssize_t len;
	int rc = 0;
	*offset = 0;
	while ((len = getline(&line, &linecap, f)) > 0) {
		if (line[len - 1] != '\n')
			break; /* a record being written: -f reads it whole later */
		*offset += len;
		if (!log_keep(&pr->filter, line))
			continue;
		if (!keep_line(&k, line)) {
			cli_error("log", "out of memory");
			rc = EX_OSERR;
			break;
		}
	}
	if (ferror(f)) {
		cli_error("log", "error reading %s", path);
		rc = EX_IOERR;
	}
	free(line);
	size_t from = (last >= 0 && (size_t)last < k.n) ? k.n - (size_t)last : 0;
	for (size_t i = 0; i < k.n; i++) {
		if (i >= from && rc == 0)
			print_line(pr, k.v[i]);
		free(k.v[i]);
	}
	free(k.v);
	fflush(stdout);
	return rc;
}

static void nap(void)
{
	struct timespec ts = { 0, 200 * 1000000L };
	nanosleep(&ts, NULL);
}

/*
 * -f: like `tail -F`. Waits for the file to appear, prints complete lines
 * as they are appended, starts over when the file is replaced or truncated
 * (log rotation). Runs until killed (Ctrl-C, or the reader of a pipe going
 * away).
 */
static int follow(const struct printer *pr, const char *path, off_t offset, bool have_file)
{
	int fd = -1;
	struct stat seen = { 0 };
	char *pending = NULL; /* an incomplete last line */
	size_t plen = 0, pcap = 0;
	if (have_file) {
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
		if (fd >= 0 && (fstat(fd, &seen) != 0 || lseek(fd, offset, SEEK_SET) < 0)) {
			close(fd);
			fd = -1;
		}
	}
	for (;;) {
		struct stat now;
		if (fd < 0) {
			fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
			if (fd < 0 || fstat(fd, &seen) != 0) {
				if (fd >= 0)
					close(fd);
				fd = -1;
				nap();
				continue;
			}
			plen = 0;
		} else if (stat(path, &now) == 0 && (now.st_ino != seen.st_ino ||
		    now.st_dev != seen.st_dev || now.st_size < lseek(fd, 0, SEEK_CUR))) {
			/* rotated or truncated: read the new file from its start */
			close(fd);
			fd = -1;
			continue;
		}
		char buf[65536];
		ssize_t n = read(fd, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fflush(stdout);
			nap();
			continue;
		}
		if (plen + (size_t)n + 1 > pcap) {
			size_t cap = (plen + (size_t)n + 1) * 2;
			char *np = realloc(pending, cap);
			if (np == NULL) {
				cli_error("log", "out of memory");
				free(pending);
				close(fd);
				return EX_OSERR;
			}
			pending = np;
			pcap = cap;
		}
		memcpy(pending + plen, buf, (size_t)n);
		plen += (size_t)n;
		pending[plen] = '\0';
		char *start = pending, *nl;
		while ((nl = memchr(start, '\n', plen - (size_t)(start - pending))) != NULL) {
			char save = nl[1];
			nl[1] = '\0';
			if (log_keep(&pr->filter, start))
				print_line(pr, start);
			nl[1] = save;
			start = nl + 1;
		}
		plen -= (size_t)(start - pending);
		memmove(pending, start, plen);
		fflush(stdout);
	}
}

static bool colour_wanted(void)
{
	const char *nc = getenv("NO_COLOR");
	return isatty(STDOUT_FILENO) && !(nc && nc[0]);
}

static int terminal_width(void)
{
	struct winsize ws;
	if (!isatty(STDOUT_FILENO) || ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) != 0 || ws.ws_col == 0)
		return 0;
	return ws.ws_col;
}

int cmd_log(int argc, char **argv)
{
	struct printer pr = { 0 };
	bool follow_on = false;
	long last = -1;
	static const struct option longopts[] = {
		{ "since", required_argument, NULL, 's' },
		{ "decision", required_argument, NULL, 'd' },
		{ "rule", required_argument, NULL, 'r' },
		{ "session", required_argument, NULL, 'S' },
		{ "follow", no_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+n:fh", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (!parse_since(optarg, pr.filter.since, sizeof pr.filter.since)) {
				cli_error("log", "cannot read --since '%s' (try 2h, 7d or 2026-11-26)",
				    optarg);
				return EX_USAGE;
			}
			break;
		case 'd':
			if (!optarg[0]) {
				cli_error("log", "--decision needs a word (refused, approved, confirm, ...)");
				return EX_USAGE;
			}
			pr.filter.decisions = optarg;
			break;
		case 'r':
			pr.filter.rule = optarg;
			break;
		case 'S':
			if (!optarg[0]) {
				cli_error("log", "--session needs a session id");
				return EX_USAGE;
			}
			pr.filter.session = optarg;
			break;
		case 'n': {
			char *end;
			errno = 0;
			last = strtol(optarg, &end, 10);
			if (*end != '\0' || end == optarg || last < 0 || errno != 0) {
				cli_error("log", "-n needs a count, not '%s'", optarg);
				return EX_USAGE;
			}
			break;
		}
		case 'f':
			follow_on = true;
			break;
		case 'j':
			pr.json = true;
			break;
		case 'h':
			fputs(log_usage, stdout);
			return 0;
		default:
			cli_error("log", "unknown option '%s'", argv[optind - 1]);
			fputs(log_usage, stderr);
			return EX_USAGE;
		}
	}
	if (optind < argc) {
		cli_error("log", "unexpected argument '%s'", argv[optind]);
		return EX_USAGE;
	}
	if (follow_on && last < 0)
		last = 10;
	pr.style.colour = !pr.json && colour_wanted();
	pr.style.width = pr.json ? 0 : terminal_width();

	eg_guard_config_from_env(environ);
	const char *path = eg_guard_cfg.audit_path;
	if (path[0] == '\0') {
		cli_error("log", "no audit log path (set HOME, XDG_STATE_HOME or EXECGUARD_AUDIT_LOG)");
		return follow_on ? EX_USAGE : 0;
	}
	FILE *f = fopen(path, "re");
	int open_errno = errno;
	bool have_file = f != NULL;
	if (!pr.json && isatty(STDOUT_FILENO) && (have_file || follow_on))
		log_print_header(stdout, &pr.style);
	off_t offset = 0;
	if (f == NULL) {
		if (open_errno != ENOENT) {
			cli_error("log", "cannot read %s: %s", path, strerror(open_errno));
			return EX_NOINPUT;
		}
		if (!follow_on) {
			cli_error("log", "nothing recorded yet (%s does not exist)", path);
			return 0;
		}
	} else {
		int rc = print_existing(&pr, f, last, &offset, path);
		fclose(f);
		if (rc != 0)
			return rc;
	}
	if (!follow_on)
		return 0;
	return follow(&pr, path, offset, have_file);
}
