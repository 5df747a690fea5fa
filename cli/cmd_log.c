/* execguard log: the audit log the library writes, filtered by time, as
 * readable lines or the raw JSON records. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "guard.h"

extern char **environ;

static const char log_usage[] =
    "usage: execguard log [--since WHEN] [-n N] [--json]\n"
    "\n"
    "Show the audit log: every log, confirm and deny decision of the guard,\n"
    "oldest first.\n"
    "\n"
    "  --since WHEN  only records from WHEN on: 90s, 30m, 2h, 7d, 2w ago, or a\n"
    "                UTC date and time such as 2026-11-26 or 2026-11-26T09:30\n"
    "  -n N          only the last N records\n"
    "  --json        print the records as stored, one JSON object a line\n"
    "\n"
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

/* Decode the JSON string starting at p (just past its opening quote) into
 * out; returns the position after the closing quote, NULL if malformed. */
static const char *json_string(const char *p, char *out, size_t size)
{
	size_t n = 0;
	while (*p && *p != '"') {
		char c = *p++;
		if (c == '\\') {
			char e = *p++;
			switch (e) {
			case 'n':
				c = '\n';
				break;
			case 't':
				c = '\t';
				break;
			case 'r':
				c = '\r';
				break;
			case 'u': {
				unsigned v;
				if (sscanf(p, "%4x", &v) != 1 || v > 0xff)
					return NULL; /* the library escapes only bytes */
				c = (char)v;
				p += 4;
				break;
			}
			case '"':
			case '\\':
			case '/':
				c = e;
				break;
			default:
				return NULL;
			}
		}
		if (n + 1 < size)
			out[n++] = c;
	}
	if (*p != '"')
		return NULL;
	out[n] = '\0';
	return p + 1;
}

static bool field(const char *line, const char *name, char *out, size_t size)
{
	char key[32];
	snprintf(key, sizeof key, "\"%s\":\"", name);
	const char *p = strstr(line, key);
	out[0] = '\0';
	return p != NULL && json_string(p + strlen(key), out, size) != NULL;
}

/* The argv array, shell-quoted. */
static void command_of(const char *line, char *out, size_t size)
{
	const char *p = strstr(line, "\"argv\":[");
	char *words[256];
	char store[8192];
	size_t n = 0, used = 0;
	out[0] = '\0';
	if (p == NULL)
		return;
	p += strlen("\"argv\":[");
	while (*p == '"' && n < sizeof words / sizeof words[0] && used < sizeof store) {
		words[n] = store + used;
		p = json_string(p + 1, words[n], sizeof store - used);
		if (p == NULL)
			return;
		used += strlen(words[n]) + 1;
		n++;
		if (*p == ',')
			p++;
	}
	eg_quote_argv(out, size, (const char *const *)words, n);
}

static void print_record(const char *line)
{
	char when[40], outcome[32], action[16], rule[160], cwd[512], cmd[EG_CMDLINE_MAX];
	field(line, "time", when, sizeof when);
	field(line, "outcome", outcome, sizeof outcome);
	field(line, "action", action, sizeof action);
	if (!field(line, "rule", rule, sizeof rule) || rule[0] == '\0')
		strlcpy(rule, "-", sizeof rule);
	field(line, "cwd", cwd, sizeof cwd);
	command_of(line, cmd, sizeof cmd);
	printf("%s  %-9s %-8s %-34s %s\n", when, outcome, action, rule, cmd);
	if (cwd[0] != '\0')
		printf("%26s in %s\n", "", cwd);
}

int cmd_log(int argc, char **argv)
{
	char cutoff[32] = "";
	bool json = false;
	long last = -1;
	static const struct option longopts[] = {
		{ "since", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+n:h", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (!parse_since(optarg, cutoff, sizeof cutoff)) {
				cli_error("log", "cannot read --since '%s' (try 2h, 7d or 2026-11-26)",
				    optarg);
				return EX_USAGE;
			}
			break;
		case 'n': {
			char *end;
			last = strtol(optarg, &end, 10);
			if (*end != '\0' || last < 0) {
				cli_error("log", "-n needs a count, not '%s'", optarg);
				return EX_USAGE;
			}
			break;
		}
		case 'j':
			json = true;
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

	eg_guard_config_from_env(environ);
	const char *path = eg_guard_cfg.audit_path;
	FILE *f = path[0] ? fopen(path, "re") : NULL;
	if (f == NULL) {
		if (path[0] == '\0' || errno == ENOENT) {
			cli_error("log", "nothing recorded yet (%s does not exist)",
			    path[0] ? path : "no audit log path");
			return 0;
		}
		cli_error("log", "cannot read %s: %s", path, strerror(errno));
		return EX_NOINPUT;
	}
	char **keep = NULL;
	size_t n_keep = 0, cap = 0;
	char *line = NULL;
	size_t linecap = 0;
	ssize_t len;
	while ((len = getline(&line, &linecap, f)) > 0) {
		char when[40];
		if (!field(line, "time", when, sizeof when))
			continue; /* not a record of ours (a torn write, say) */
		if (cutoff[0] != '\0' && strncmp(when, cutoff, strlen(cutoff)) < 0)
			continue;
		if (n_keep == cap) {
			cap = cap ? cap * 2 : 256;
			char **nk = reallocarray(keep, cap, sizeof *nk);
			if (nk == NULL) {
				cli_error("log", "out of memory");
				return EX_OSERR;
			}
			keep = nk;
		}
		keep[n_keep++] = strdup(line);
	}
	bool read_error = ferror(f);
	fclose(f);
	free(line);
	size_t from = (last >= 0 && (size_t)last < n_keep) ? n_keep - (size_t)last : 0;
	for (size_t i = 0; i < n_keep; i++) {
		if (i >= from && keep[i] != NULL) {
			if (json)
				fputs(keep[i], stdout);
			else
				print_record(keep[i]);
		}
		free(keep[i]);
	}
	free(keep);
	if (read_error) {
		cli_error("log", "error reading %s", path);
		return EX_IOERR;
	}
	return 0;
}
